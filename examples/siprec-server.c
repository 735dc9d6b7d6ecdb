/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server: a SIPREC Session Recording Server on libuv, a host of
 * libsiprec that uses only its public API. It listens on UDP and TCP, feeds
 * every message it is allowed to take to the handler, sends what the handler
 * answers or originates, keeps the handler's timers on the loop, logs one
 * line per session event and writes each session's last event to a file.
 * See --help; examples/server/ holds its parts.
 */
#include <siprec/siprec.h>

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <uv.h>

#include "hostport.h"
#include "server/calls.h"
#include "server/media_net.h"
#include "server/net.h"
#include "server/options.h"
#include "server/recovery.h"
#include "server/store.h"
#include "server/transcribe_pool.h"
#include "server/transcriber.h"
#ifdef SIPREC_SERVER_METRICS
#include "server/metrics_http.h"
#include "server/metrics_server.h"
#endif

#define MAX_MESSAGE 65536
/* Descriptors sessions' sockets and files always leave for short-lived
 * ones (a manifest being written, a transcript line, a completion
 * command's pipes). Connections stop at --fd-reserve below the limit, so a
 * connection flood leaves sessions the reserve; sessions may use it up to
 * this margin, and beyond it new ones get 503. */
#define SRV_FD_TRANSIENT 8
/* At shutdown, how long the BYEs may take to leave and TCP peers to answer
 * them and hang up. */
#define SHUTDOWN_GRACE_MS 1000
/* The longest a graceful shutdown waits for the SRCs to answer their BYEs. */
#define DRAIN_MAX_MS 10000

/* What a session's user pointer points to: one of these, by `kind`. */
enum { USER_DEFERRAL = 1, USER_SESSION };
/* Recordings are flushed to their files every CALLS_FLUSH_MS (calls.h)
 * and the tick looks for those due every RECORD_TICK_MS, so audio reaches
 * the files at most 225 ms late (plus the jitter depth; the bound is
 * 250 ms), and the flushes of many recordings are spread over the ticks
 * by their start times rather than all made at once (a burst of thousands
 * of writes held the loop long enough for media sockets to overflow). */
#define RECORD_TICK_MS 25

/* A session the server deferred, waiting for its (simulated) licence check. */
struct deferral {
  int kind; /* USER_DEFERRAL */
  uv_timer_t timer;
  struct server *srv;
  siprec_session *s;
  uint64_t conn_id; /* the TCP connection its INVITE came on, 0 for UDP */
  struct deferral *next, **pprev;
};

/* A started session: the TCP connection it holds open (not idle), 0 for
 * UDP, and its recording. */
struct session_use {
  int kind; /* USER_SESSION */
  uint64_t conn_id;
  struct call *call;
};

struct server {
  uv_loop_t loop;
  struct srv_opts opts;
  struct net *net;
  struct media_net *media;
  struct calls *calls;           /* NULL: nothing recorded or transcribed */
  transcriber_engine *engine;    /* --transcribe */
  transcribe_pool *pool;
  uv_timer_t record_tick;
#ifdef SIPREC_SERVER_METRICS
  struct metrics_http *metrics;
  struct metrics_server_src metrics_src;
#endif
  siprec_handler *h;
  uv_timer_t tick;
  uv_check_t after_io; /* re-arms the tick once a loop turn's datagrams are fed */
  struct held_bye *byes, **byes_tail; /* BYEs held to the end of their loop turn */
  uv_signal_t sigterm, sigint;
  struct deferral *deferrals;
  uint64_t conn_now; /* the TCP connection of the message or decision at hand */
  int draining; /* a signal came: sessions are ending (siprec_handler_shutdown) */
  int stopping;
  uv_timer_t drain_timer;
  struct recovery *rec;  /* --state: snapshots kept, restored */
};

static uint64_t now_ns(void)
{
  return uv_hrtime();
}

/* One timer for all of the handler's deadlines, re-armed after every call
 * that may have moved them. */
static void on_tick(uv_timer_t *t);
static void stop_now(struct server *srv);

static void rearm(struct server *srv)
{
  if (srv->stopping)
    return;
  uint64_t d = siprec_handler_next_deadline(srv->h);
  if (d == UINT64_MAX) {
    uv_timer_stop(&srv->tick);
    if (srv->draining)
      stop_now(srv); /* every BYE answered or given up */
    return;
  }
  uint64_t now = now_ns();
  if (d <= now && srv->media && media_net_busy(srv->media)) {
    /* Due, but its media may still wait in the sockets: the next paced
     * read meets it (on_after_io). */
    uv_timer_stop(&srv->tick);
    return;
  }
  /* Rounded up, and at least 1 ms: a timer that fires early only finds
   * nothing due, and a deadline that does not move cannot spin the loop. */
  uint64_t ms = d <= now ? 1 : (d - now + 999999) / 1000000;
  uv_update_time(&srv->loop);
  uv_timer_start(&srv->tick, on_tick, ms, 0);
}

static void on_tick(uv_timer_t *t)
{
  struct server *srv = t->data;
  /* What arrived before a deadline goes in before it is met: a packet that
   * filled a hole in time must not be taken for late. While paced reads
   * are busy the next one meets it (on_after_io); else the sockets are
   * drained now. */
  if (srv->media) {
    if (media_net_busy(srv->media))
      return;
    media_net_drain(srv->media);
  }
  siprec_handler_expire(srv->h, now_ns());
  rearm(srv);
}

/* ---------------------------------------------------------------------- */
/* Messages in and out                                                      */

static void fetch_state(struct server *srv, const char *key, size_t key_len, const char *data,
                        size_t len, siprec_transport t, const struct sockaddr *remote,
                        const struct sockaddr *local, uint64_t conn_id);

/* Feed one message; `absent`: its dialog's state is in no store (481). */
static void feed(struct server *srv, const char *data, size_t len, siprec_transport t,
                 const struct sockaddr *remote, const struct sockaddr *local, uint64_t conn_id,
                 int absent)
{
  const siprec_path path = { t, local, remote, conn_id };
  static char resp[16384];
  if (srv->media)
    media_net_catch_up(srv->media); /* the media that came before it, first */
  srv->conn_now = conn_id;
  size_t n = 0;
  int rc = absent ? siprec_handler_process_absent(srv->h, data, len, &path, now_ns(), resp,
                                                  sizeof resp, &n)
                  : siprec_handler_process(srv->h, data, len, &path, now_ns(), resp, sizeof resp,
                                           &n);
  srv->conn_now = 0;
  if (rc == SIPREC_PROCESS_RESPONSE) {
    rc = net_send(srv->net, resp, n, t, remote, local, conn_id);
    if (rc < 0)
      fprintf(stderr, "siprec-server: cannot send a response: %s\n", uv_strerror(rc));
  } else if (rc == SIPREC_PROCESS_STATE_WANTED) {
    /* A dialog of a session this process does not hold (it was restarted):
     * its snapshot is fetched, restored, and the message fed again. */
    fetch_state(srv, resp, n, data, len, t, remote, local, conn_id);
  } else if (rc < 0) {
    fprintf(stderr, "siprec-server: process: %s\n", siprec_strerror(rc));
  }
  rearm(srv);
}

static void process(struct server *srv, const char *data, size_t len, siprec_transport t,
                    const struct sockaddr *remote, const struct sockaddr *local, uint64_t conn_id)
{
  feed(srv, data, len, t, remote, local, conn_id, 0);
}

/* A BYE is handled at the end of the loop turn that read it (on_after_io,
 * the check phase), after the media datagrams this turn's poll found ready
 * with it. An SRC sends its last RTP packets and then its BYE, but when
 * both arrive within microseconds (loopback, one host, a burst after a
 * network stall) the BYE's socket was as often read first: the session
 * ended, its media sockets closed, and the packets already waiting on them
 * were lost to the recording (found by tests/integration/
 * test_server_record.py: a call's last packet missing about every other
 * run). Only BYE waits: nothing else ends a session's media on a peer's
 * word. */
struct held_bye {
  struct held_bye *next;
  siprec_transport t;
  struct sockaddr_storage remote, local;
  int has_local;
  uint64_t conn_id;
  size_t len;
  char data[];
};

static void copy_addr(struct sockaddr_storage *to, const struct sockaddr *from)
{
  memset(to, 0, sizeof *to);
  memcpy(to, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in));
}

static struct held_bye *held_new(const char *data, size_t len, siprec_transport t,
                                  const struct sockaddr *remote, const struct sockaddr *local,
                                  uint64_t conn_id)
{
  struct held_bye *b = malloc(sizeof *b + len);
  if (!b)
    return NULL;
  b->next = NULL;
  b->t = t;
  copy_addr(&b->remote, remote);
  b->has_local = local != NULL;
  if (local)
    copy_addr(&b->local, local);
  b->conn_id = conn_id;
  b->len = len;
  memcpy(b->data, data, len);
  return b;
}

static int hold_bye(struct server *srv, const char *data, size_t len, siprec_transport t,
                    const struct sockaddr *remote, const struct sockaddr *local, uint64_t conn_id)
{
  if (len < 4 || memcmp(data, "BYE ", 4) != 0 || !remote)
    return 0;
  struct held_bye *b = held_new(data, len, t, remote, local, conn_id);
  if (!b)
    return 0; /* handled now, as before */
  *srv->byes_tail = b;
  srv->byes_tail = &b->next;
  return 1;
}

/* A message waiting for its dialog's snapshot (recovery_fetch). */
struct wanted {
  struct server *srv;
  struct held_bye *msg;
};

static void on_state_fetched(void *arg, int held)
{
  struct wanted *w = arg;
  struct server *srv = w->srv;
  struct held_bye *b = w->msg;
  /* Held now: fed again (once: should it still be wanted, it is absent). */
  if (!srv->stopping) {
    const struct sockaddr *local = b->has_local ? (struct sockaddr *)&b->local : NULL;
    const siprec_path path = { b->t, local, (struct sockaddr *)&b->remote, b->conn_id };
    static char resp[16384];
    size_t n = 0;
    int rc = held ? siprec_handler_process(srv->h, b->data, b->len, &path, now_ns(), resp,
                                           sizeof resp, &n)
                  : SIPREC_PROCESS_STATE_WANTED;
    if (rc == SIPREC_PROCESS_STATE_WANTED)
      rc = siprec_handler_process_absent(srv->h, b->data, b->len, &path, now_ns(), resp,
                                         sizeof resp, &n);
    if (rc == SIPREC_PROCESS_RESPONSE &&
        (rc = net_send(srv->net, resp, n, b->t, path.remote, local, b->conn_id)) < 0)
      fprintf(stderr, "siprec-server: cannot send a response: %s\n", uv_strerror(rc));
    rearm(srv);
  }
  free(b);
  free(w);
}

static void fetch_state(struct server *srv, const char *key, size_t key_len, const char *data,
                        size_t len, siprec_transport t, const struct sockaddr *remote,
                        const struct sockaddr *local, uint64_t conn_id)
{
  struct wanted *w = srv->rec ? malloc(sizeof *w) : NULL;
  struct held_bye *b = w && remote ? held_new(data, len, t, remote, local, conn_id) : NULL;
  if (b) {
    w->srv = srv;
    w->msg = b;
    if (recovery_fetch(srv->rec, key, key_len, on_state_fetched, w) == 0)
      return;
  }
  free(b);
  free(w);
  feed(srv, data, len, t, remote, local, conn_id, 1); /* cannot ask: 481 */
}

/* The held BYEs, in order; process == 0 only frees them (stopping). */
static void release_byes(struct server *srv, int handle)
{
  struct held_bye *b = srv->byes;
  srv->byes = NULL;
  srv->byes_tail = &srv->byes;
  while (b) {
    struct held_bye *next = b->next;
    if (handle && !srv->stopping)
      process(srv, b->data, b->len, b->t, (struct sockaddr *)&b->remote,
              b->has_local ? (struct sockaddr *)&b->local : NULL, b->conn_id);
    free(b);
    b = next;
  }
}

static void on_message(void *user, const char *data, size_t len, siprec_transport t,
                       const struct sockaddr *remote, const struct sockaddr *local,
                       uint64_t conn_id)
{
  struct server *srv = user;
  if (srv->stopping)
    return;
  if (!srv_opts_allowed(&srv->opts, remote)) {
    if (srv->opts.verbose) {
      char who[64];
      fprintf(stderr, "siprec-server: dropped a message from %s (not in --allow)\n",
              net_addr_text(remote, who, sizeof who));
    }
    return;
  }
  if (!hold_bye(srv, data, len, t, remote, local, conn_id))
    process(srv, data, len, t, remote, local, conn_id);
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  struct server *srv = user;
  int rc = net_send(srv->net, data, len, path->transport, path->remote, path->local,
                    path->conn_id);
  if (rc < 0) {
    char who[64];
    fprintf(stderr, "siprec-server: cannot send to %s (connection %llu): %s\n",
            net_addr_text(path->remote, who, sizeof who), (unsigned long long)path->conn_id,
            uv_strerror(rc));
  }
}

static void on_log(void *user, siprec_log_level level, const char *message)
{
  (void)user;
  static const char *const names[] = { "error", "warning", "info", "debug" };
  fprintf(stderr, "libsiprec %s: %s\n", names[level & 3], message);
}

/* ---------------------------------------------------------------------- */
/* Media                                                                    */

static int on_port_alloc(void *user, siprec_session *s, size_t index, uint16_t *port)
{
  struct server *srv = user;
  return media_net_alloc(srv->media, s, index, port);
}

static void on_port_free(void *user, siprec_session *s, size_t index, uint16_t port)
{
  struct server *srv = user;
  (void)s;
  (void)index;
  media_net_release(srv->media, port);
}

/* Streams that took rtcp-mux need no RTCP socket. */
static void media_mux(struct server *srv, siprec_session *s)
{
  size_t n = siprec_session_stream_count(s);
  for (size_t i = 0; i < n; i++) {
    siprec_stream_info info = { .size = sizeof info };
    if (siprec_session_stream(s, i, &info) == 0 && info.port && info.rtcp_mux)
      media_net_mux(srv->media, info.port);
  }
}

/* One line per stream event on stdout, as for session events. */
/* The session's recording, from inside a media callback (which may read
 * the session's accessors). */
static struct call *call_of(const siprec_session *s)
{
  const struct session_use *u = siprec_session_user(s);
  return u && u->kind == USER_SESSION ? u->call : NULL;
}

static void on_audio(void *user, const siprec_audio_frame *f)
{
  struct server *srv = user;
  struct call *k = call_of(f->session);
  if (k)
    calls_frame(srv->calls, k, f);
}

static void on_stream_event(void *user, const siprec_stream_event *e)
{
  static const char *const names[] = { "started", "paused", "resumed", "codec_changed",
                                       "discontinuity", "gap", "no_media", "ended" };
  struct server *srv = user;
  struct call *k = call_of(e->session);
  if (k)
    calls_stream_event(srv->calls, k, e);
  const char *name = (unsigned)e->type < sizeof names / sizeof names[0] ? names[e->type] : "?";
  printf("stream_%s id=%s stream=%zu label=%s position=%llu samples=%llu rate=%u%s%s\n", name,
         siprec_session_id(e->session), e->stream, e->label ? e->label : "-",
         (unsigned long long)e->position, (unsigned long long)e->samples, e->sample_rate,
         e->codec ? " codec=" : "", e->codec ? e->codec : "");
  fflush(stdout);
}

/* The turn's datagrams are fed, then the BYEs held behind them. A jitter
 * buffer's hole or the no-media watchdog may have moved the handler's next
 * deadline: re-arm once per loop turn, not per datagram. After a paced
 * read of every socket, the deadlines up to its start are met. */
static void on_after_io(uv_check_t *c)
{
  struct server *srv = c->data;
  uint64_t upto = 0;
  int fed = media_net_fed(srv->media, &upto);
  release_byes(srv, 1);
  if ((fed & MEDIA_NET_READ_ALL) && !srv->stopping &&
      siprec_handler_next_deadline(srv->h) <= upto)
    siprec_handler_expire(srv->h, upto);
  if (fed)
    rearm(srv);
}

/* ---------------------------------------------------------------------- */
/* Session events                                                           */

static void deferral_closed(uv_handle_t *h)
{
  free(h->data);
}

static void deferral_drop(struct deferral *d)
{
  /* Once accepted, the session's pointer is its connection's (on_started). */
  if (siprec_session_user(d->s) == d)
    siprec_session_set_user(d->s, NULL);
  *d->pprev = d->next;
  if (d->next)
    d->next->pprev = d->pprev;
  siprec_session_unref(d->s);
  uv_close((uv_handle_t *)&d->timer, deferral_closed);
}

static void on_deferral_due(uv_timer_t *t)
{
  struct deferral *d = t->data;
  struct server *srv = d->srv;
  siprec_session_set_user(d->s, NULL);
  srv->conn_now = d->conn_id;
  int rc = siprec_handler_accept_session(srv->h, d->s, now_ns());
  srv->conn_now = 0;
  if (rc < 0)
    printf("session_not_accepted id=%s why=%s\n", siprec_session_id(d->s), siprec_strerror(rc));
  fflush(stdout);
  deferral_drop(d);
  rearm(srv);
}

static siprec_decision on_offered(void *user, siprec_session *s, int *status)
{
  struct server *srv = user;
  if (srv->calls && !calls_space_ok(srv->calls)) {
    *status = 503; /* a recording would have nowhere to go */
    return SIPREC_DECISION_REFUSE;
  }
  if (srv->opts.defer_ms < 0)
    return SIPREC_DECISION_ACCEPT;
  struct deferral *d = calloc(1, sizeof *d);
  if (!d) {
    *status = 503;
    return SIPREC_DECISION_REFUSE;
  }
  d->kind = USER_DEFERRAL;
  d->srv = srv;
  d->s = s;
  d->conn_id = srv->conn_now;
  siprec_session_ref(s);
  siprec_session_set_user(s, d);
  uv_timer_init(&srv->loop, &d->timer);
  d->timer.data = d;
  d->next = srv->deferrals;
  if (d->next)
    d->next->pprev = &d->next;
  d->pprev = &srv->deferrals;
  srv->deferrals = d;
  uv_timer_start(&d->timer, on_deferral_due, (uint64_t)srv->opts.defer_ms, 0);
  printf("session_deferred id=%s ms=%ld\n", siprec_session_id(s), srv->opts.defer_ms);
  fflush(stdout);
  return SIPREC_DECISION_DEFER;
}

static void on_started(void *user, siprec_session *s)
{
  struct server *srv = user;
  struct session_use *u = malloc(sizeof *u);
  if (u) {
    u->kind = USER_SESSION;
    u->conn_id = srv->conn_now;
    u->call = srv->calls ? calls_start(srv->calls, s) : NULL;
    siprec_session_set_user(s, u);
    if (u->conn_id)
      net_conn_hold(srv->net, u->conn_id, 1);
  }
  media_mux(srv, s);
  store_event(srv->opts.out_dir, "session_started", s, NULL);
}

/* A session restored from its snapshot (--state, after a restart): it
 * goes on as if started here; its recording in its next segment. Its TCP
 * connection, if it had one, died with the old process. */
static void on_restored(void *user, siprec_session *s)
{
  struct server *srv = user;
  struct session_use *u = malloc(sizeof *u);
  if (u) {
    u->kind = USER_SESSION;
    u->conn_id = 0;
    u->call = srv->calls ? calls_resume(srv->calls, s) : NULL;
    siprec_session_set_user(s, u);
  }
  media_mux(srv, s);
  store_event(srv->opts.out_dir, "session_restored", s, NULL);
  rearm(srv);
}

/* The handler's snapshots go to the store (copied there; the writes run
 * on libuv's pool). */
static void on_snapshot(void *user, siprec_session *s, const char *key, size_t key_len,
                        const void *data, size_t len)
{
  struct server *srv = user;
  (void)s;
  recovery_snapshot(srv->rec, key, key_len, data, len);
}

static void on_updated(void *user, siprec_session *s)
{
  struct server *srv = user;
  media_mux(srv, s);
  store_event(srv->opts.out_dir, "session_updated", s, NULL);
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  struct server *srv = user;
  int *kind = siprec_session_user(s);
  if (kind && *kind == USER_DEFERRAL) {
    /* Cancelled (or timed out) while deferred: nothing left to accept. */
    struct deferral *d = (struct deferral *)kind;
    uv_timer_stop(&d->timer);
    deferral_drop(d);
  } else if (kind) {
    struct session_use *u = (struct session_use *)kind;
    siprec_session_set_user(s, NULL);
    if (u->call)
      calls_end(srv->calls, u->call, s, siprec_end_reason_name(r));
    if (u->conn_id)
      net_conn_hold(srv->net, u->conn_id, -1);
    free(u);
  }
  store_event(srv->opts.out_dir, "session_ended", s, siprec_end_reason_name(r));
}

/* ---------------------------------------------------------------------- */
/* Setup and shutdown                                                       */

static int bad_flag(const char *flag, int rc)
{
  fprintf(stderr, "siprec-server: %s: the handler refused it (%s)\n", flag, siprec_strerror(rc));
  return -1;
}

/* A bound on unsettled INVITEs as the flags give it (-1 unset, 0 none) in
 * the handler's terms (0 default, SIZE_MAX none). */
static size_t pending_bound(long flag)
{
  return flag < 0 ? 0 : flag == 0 ? SIZE_MAX : (size_t)flag;
}

/* Pass on every handler setting given on the command line. */
static int configure(siprec_handler_config *cfg, const struct srv_opts *o, void *user)
{
  int rc;
  (void)user;
  siprec_handler_config_set_log_level(cfg, o->verbose ? SIPREC_LOG_DEBUG : SIPREC_LOG_WARNING);
  if (o->media_address &&
      (rc = siprec_handler_config_set_media_address(cfg, o->media_address)) < 0)
    return bad_flag("--media-address", rc);
  if (o->rtp_low >= 0 &&
      (rc = siprec_handler_config_set_rtp_ports(cfg, (uint16_t)o->rtp_low,
                                                (uint16_t)o->rtp_high)) < 0)
    return bad_flag("--rtp-ports", rc);
  if (o->max_sessions >= 0 &&
      (rc = siprec_handler_config_set_max_sessions(cfg, (size_t)o->max_sessions)) < 0)
    return bad_flag("--max-sessions", rc);
  if ((o->max_pending >= 0 || o->max_pending_ports >= 0) &&
      (rc = siprec_handler_config_set_max_pending(cfg, pending_bound(o->max_pending),
                                                  pending_bound(o->max_pending_ports))) < 0)
    return bad_flag("--max-pending", rc);
  if (o->max_pending_per_source >= 0 &&
      (rc = siprec_handler_config_set_max_pending_per_source(
         cfg, (size_t)o->max_pending_per_source)) < 0)
    return bad_flag("--max-pending-per-source", rc);
  if ((o->t1_ms >= 0 || o->t2_ms >= 0) &&
      (rc = siprec_handler_config_set_timers(cfg, o->t1_ms >= 0 ? (uint32_t)o->t1_ms : 500,
                                             o->t2_ms >= 0 ? (uint32_t)o->t2_ms : 4000)) < 0)
    return bad_flag("--t1-ms/--t2-ms", rc);
  if (o->session_expires_s >= 0 || o->min_se_s >= 0) {
    /* The handler's defaults for the one not given; a short interval alone
     * also lowers the floor, so that --session-expires 30 means just that. */
    long se = o->session_expires_s >= 0 ? o->session_expires_s : 1800;
    long min = o->min_se_s >= 0 ? o->min_se_s : se > 0 && se < 90 ? se : 90;
    if ((rc = siprec_handler_config_set_session_timer(cfg, (uint32_t)se, (uint32_t)min)) < 0)
      return bad_flag("--session-expires/--min-se", rc);
  }
  if (o->ping_interval_ms >= 0 &&
      (rc = siprec_handler_config_set_ping_interval(cfg, (uint32_t)o->ping_interval_ms)) < 0)
    return bad_flag("--ping-interval-ms", rc);
  if (o->idle_limit_ms >= 0 &&
      (rc = siprec_handler_config_set_idle_limit(cfg, (uint32_t)o->idle_limit_ms)) < 0)
    return bad_flag("--idle-limit-ms", rc);
  /* Frames at the rate the files and the recogniser take (the library
   * resamples each stream to it). */
  if ((o->record >= 0 || o->transcribe) &&
      (rc = siprec_handler_config_set_audio_rate(cfg, (uint32_t)o->record_rate)) < 0)
    return bad_flag("--record-rate", rc);
  if (o->defer_timeout_ms >= 0 &&
      (rc = siprec_handler_config_set_defer_timeout(cfg, (uint32_t)o->defer_timeout_ms)) < 0)
    return bad_flag("--defer-timeout-ms", rc);
  return 0;
}

/* Transcription: the engine (its model loaded once now, so a missing model
 * stops the start) and the pool of recogniser threads, whose utterances go
 * to the calls. */
static int make_transcription(struct server *srv)
{
  const struct srv_opts *o = &srv->opts;
#ifdef SIPREC_HAVE_POCKETSPHINX
  char err[256] = "";
  srv->engine = transcriber_pocketsphinx_new(NULL, 2, err, sizeof err);
  if (!srv->engine) {
    fprintf(stderr, "siprec-server: --transcribe pocketsphinx: %s\n", err);
    return -1;
  }
  transcribe_pool_config pc = {
    .engine = srv->engine,
    .workers = o->transcribe_workers > 0 ? (unsigned)o->transcribe_workers : 0,
    .max_streams = o->transcribe_max >= 0 ? (unsigned)o->transcribe_max : 0,
    .on_result = calls_on_result, .arg = srv->calls,
  };
  srv->pool = transcribe_pool_new(&pc);
  if (!srv->pool)
    return -1;
  calls_attach_pool(srv->calls, srv->pool);
  return 0;
#else
  (void)o;
  fprintf(stderr, "siprec-server: --transcribe pocketsphinx: not built (no libpocketsphinx)\n");
  return -1;
#endif
}

/* Recording and transcription, when asked for. */
static int make_calls(struct server *srv)
{
  const struct srv_opts *o = &srv->opts;
  if ((o->record < 0 || !o->out_dir) && !o->transcribe)
    return 0;
  /* With --state, each call's resume state (calls_resume.c) in DIR/rec. */
  static char resume_dir[4096];
  if (o->state_dir) {
    snprintf(resume_dir, sizeof resume_dir, "%s/rec", o->state_dir);
    if (mkdir(resume_dir, 0700) < 0 && errno != EEXIST) {
      fprintf(stderr, "siprec-server: --state: cannot make %s: %s\n", resume_dir,
              strerror(errno));
      return -1;
    }
  }
  struct calls_config cc = {
    .loop = &srv->loop, .now = now_ns, .dir = o->out_dir, .record = o->out_dir ? o->record : -1,
    .resume_dir = o->state_dir ? resume_dir : NULL,
    .resume_shared = srv->rec ? recovery_resume_shared : NULL, .resume_user = srv->rec,
    .rate = (uint32_t)o->record_rate, .on_complete = o->on_complete,
    .on_complete_timeout_ms = (uint32_t)o->on_complete_timeout_ms,
    .on_complete_max = (unsigned)o->on_complete_max,
    .min_free_bytes = (uint64_t)o->min_free_mb * 1024 * 1024,
    .writer_budget_bytes = o->record_queue_mb > 0 ? (size_t)o->record_queue_mb * 1024 * 1024 : 0,
  };
  srv->calls = calls_new(&cc);
  if (!srv->calls)
    return -1;
  if (o->state_dir)
    recovery_share_resume(srv->rec, resume_dir, srv->calls);
  return o->transcribe ? make_transcription(srv) : 0;
}

static void on_record_tick(uv_timer_t *t)
{
  struct server *srv = t->data;
  calls_tick(srv->calls);
}

static int make_handler(struct server *srv, const uint8_t *seal_key)
{
  siprec_handler_config *cfg = NULL;
  siprec_handler_callbacks *cbs = NULL;
  int rc = siprec_handler_config_new(&cfg, NULL);
  if (rc == 0)
    rc = siprec_handler_callbacks_new(&cbs, NULL);
  if (rc == 0 && configure(cfg, &srv->opts, srv) < 0)
    rc = SIPREC_EINVAL;
  else if (rc == 0) {
    siprec_handler_callbacks_set_send(cbs, on_send);
    siprec_handler_callbacks_set_log(cbs, on_log);
    siprec_handler_callbacks_set_session_offered(cbs, on_offered);
    siprec_handler_callbacks_set_session_started(cbs, on_started);
    siprec_handler_callbacks_set_session_updated(cbs, on_updated);
    siprec_handler_callbacks_set_session_ended(cbs, on_ended);
    siprec_handler_callbacks_set_ports(cbs, on_port_alloc, on_port_free);
    siprec_handler_callbacks_set_stream_event(cbs, on_stream_event);
    if (srv->calls)
      siprec_handler_callbacks_set_audio(cbs, on_audio);
    if (srv->rec) {
      siprec_handler_config_set_snapshots(cfg, 1, 0);
      siprec_handler_callbacks_set_snapshot(cbs, on_snapshot);
      if (siprec_handler_config_set_snapshot_key(cfg, seal_key) < 0)
        fprintf(stderr, "siprec-server: --state: this libsiprec cannot seal snapshots (no "
                        "libsodium): SRTP sessions restore without their keys\n");
    }
    rc = siprec_handler_new(&srv->h, cfg, cbs, srv, NULL);
    if (rc < 0)
      fprintf(stderr, "siprec-server: cannot create the handler: %s\n", siprec_strerror(rc));
  }
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);
  return rc;
}

/* The last step of a stop: stop taking messages, free the handler (BYEs
 * still unanswered are not repeated), and let the loop run dry once what
 * is queued has gone out. */
static void stop_now(struct server *srv)
{
  if (srv->stopping)
    return;
  srv->stopping = 1;
  uv_close((uv_handle_t *)&srv->drain_timer, NULL);
  uv_close((uv_handle_t *)&srv->sigterm, NULL);
  uv_close((uv_handle_t *)&srv->sigint, NULL);
  uv_close((uv_handle_t *)&srv->tick, NULL);
  uv_close((uv_handle_t *)&srv->after_io, NULL);
  release_byes(srv, 0);
  while (srv->deferrals) {
    uv_timer_stop(&srv->deferrals->timer);
    deferral_drop(srv->deferrals);
  }
  net_stop_receiving(srv->net);
#ifdef SIPREC_SERVER_METRICS
  metrics_http_stop(srv->metrics); /* it renders from the handler */
  srv->metrics = NULL;
#endif
  recovery_detach(srv->rec); /* a snapshot arriving from now on is not held */
  siprec_handler_free(srv->h); /* the sessions still open end: their recordings close */
  srv->h = NULL;
  media_net_set_handler(srv->media, NULL);
  media_net_close(srv->media);
  if (srv->calls) {
    uv_close((uv_handle_t *)&srv->record_tick, NULL);
    calls_close(srv->calls);
  }
  net_close(srv->net, SHUTDOWN_GRACE_MS);
  recovery_close(srv->rec); /* Redis: the last writes land, then it closes */
}

static void on_drain_timeout(uv_timer_t *t)
{
  stop_now(t->data);
}

/* SIGTERM/SIGINT: a graceful shutdown. New INVITEs get 503, every session
 * ends with a BYE that is retransmitted until answered; the server stops
 * once nothing is left to wait for, after DRAIN_MAX_MS at most, or at a
 * second signal. */
static void on_signal(uv_signal_t *sig, int signum)
{
  struct server *srv = sig->data;
  if (srv->stopping)
    return;
  if (srv->draining) {
    stop_now(srv);
    return;
  }
  size_t open = siprec_handler_sessions(srv->h, NULL, 0);
  /* --on-term handover: a planned restart. The sessions are let go without
   * a BYE, their snapshots kept for the next process. */
  int handover = signum == SIGTERM && srv->opts.on_term_handover;
  printf("stopping on signal %d, %zu sessions open%s\n", signum, open,
         handover ? ", handing them over" : "");
  fflush(stdout);
  srv->draining = 1;
  recovery_draining(srv->rec);
  while (srv->deferrals) {
    uv_timer_stop(&srv->deferrals->timer);
    deferral_drop(srv->deferrals);
  }
  int rc = siprec_handler_shutdown(srv->h, handover ? SIPREC_SHUTDOWN_HANDOVER : SIPREC_SHUTDOWN_BYE,
                                   now_ns());
  if (rc < 0)
    fprintf(stderr, "siprec-server: shutdown: %s\n", siprec_strerror(rc));
  if (rc < 0 || siprec_handler_next_deadline(srv->h) == UINT64_MAX) {
    stop_now(srv);
    return;
  }
  uv_timer_start(&srv->drain_timer, on_drain_timeout, DRAIN_MAX_MS, 0);
  rearm(srv);
}

static int allowed(void *user, const struct sockaddr *remote)
{
  struct server *srv = user;
  return srv_opts_allowed(&srv->opts, remote);
}

/* The soft descriptor limit raised to the hard one (connections may use
 * what the system grants, the reserve stays free); what it is now. */
static int descriptor_limit(void)
{
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0)
    return 0;
  if (r.rlim_cur < r.rlim_max) {
    struct rlimit raised = { r.rlim_max, r.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      r = raised;
  }
  return r.rlim_cur == RLIM_INFINITY || r.rlim_cur > 0x7fffffff ? 0x7fffffff : (int)r.rlim_cur;
}

static struct net_limits tcp_limits(const struct srv_opts *o)
{
  struct net_limits l = {
    .max_conns = (size_t)o->tcp_max_conns,
    .max_conns_per_ip = (size_t)o->tcp_max_conns_per_ip,
    .idle_ms = (uint64_t)o->tcp_idle_timeout_ms,
    .message_ms = (uint64_t)o->tcp_message_timeout_ms,
    .write_ms = (uint64_t)o->tcp_write_timeout_ms,
    .max_queue = (size_t)o->tcp_max_queue,
    .fd_limit = descriptor_limit(),
    .fd_reserve = (int)o->fd_reserve,
  };
  return l;
}

/* Where the media sockets bind: the --media-address when it is an address
 * (media_net falls back to the wildcard when it is not ours), else the
 * listen address when there is one, else the wildcard. */
static void media_bind_address(const struct srv_opts *o, struct sockaddr_storage *out)
{
  memset(out, 0, sizeof *out);
  if (o->media_address && parse_hostport(o->media_address, SRV_SIP_PORT, out) == 0)
    return;
  if (o->nlisten == 1) {
    *out = o->listen[0];
    return;
  }
  memset(out, 0, sizeof *out);
  out->ss_family = AF_INET; /* the IPv4 wildcard */
}

/* --redis, --redis-sentinel: where, and this node's name. A node that
 * takes sessions over puts its own address in their Contact: a specific
 * --listen address, not the wildcard. */
static int redis_config(const struct srv_opts *o, struct recovery_redis *r)
{
  memset(r, 0, sizeof *r);
  if (!o->redis && !o->redis_sentinel)
    return 0;
#ifdef SIPREC_SERVER_REDIS
  if (redis_where_parse(&r->where, o->redis, o->redis_sentinel,
                        o->redis_master ? o->redis_master : "mymaster") < 0) {
    fprintf(stderr, "siprec-server: --redis%s %s: want ADDR:PORT%s\n",
            o->redis ? "" : "-sentinel", o->redis ? o->redis : o->redis_sentinel,
            o->redis ? "" : "[,ADDR:PORT...] (at most 8)");
    return -1;
  }
  static char node[80];
  const struct sockaddr *la = (const struct sockaddr *)&o->listen[0];
  const void *ip = la->sa_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)la)->sin6_addr
                                             : (const void *)&((struct sockaddr_in *)la)->sin_addr;
  static const uint8_t zero[16];
  if (!memcmp(ip, zero, la->sa_family == AF_INET6 ? 16 : 4)) {
    fprintf(stderr, "siprec-server: --redis: the first --listen must be this node's own address "
                    "(the Contact of the sessions it takes over), not the wildcard\n");
    return -1;
  }
  in_port_t port = la->sa_family == AF_INET6 ? ((struct sockaddr_in6 *)la)->sin6_port
                                             : ((struct sockaddr_in *)la)->sin_port;
  if (!port) {
    fprintf(stderr, "siprec-server: --redis: the first --listen needs its port (not 0): the "
                    "node's name and the Contact of the sessions it takes over\n");
    return -1;
  }
  char text[64];
  snprintf(node, sizeof node, "%s", net_addr_text(la, text, sizeof text));
  r->node = o->node ? o->node : node;
  r->prefix = o->redis_prefix;
  r->ttl_ms = o->redis_ttl_s > 0 ? (uint64_t)o->redis_ttl_s * 1000 : 0;
  r->heartbeat_ms = o->heartbeat_ms > 0 ? (uint64_t)o->heartbeat_ms : 0;
  r->node_ttl_ms = o->node_ttl_ms > 0 ? (uint64_t)o->node_ttl_ms : 0;
  return 0;
#else
  fprintf(stderr, "siprec-server: --redis: not built (no hiredis)\n");
  return -1;
#endif
}

static int check_out_dir(const char *dir)
{
  struct stat st;
  if (stat(dir, &st) < 0 && errno == ENOENT && mkdir(dir, 0755) == 0)
    return 0;
  if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "siprec-server: --out %s: not a directory\n", dir);
    return -1;
  }
  return 0;
}

/* The recordings' buffers are allocated on the loop and freed by the
 * writer thread, thousands a second; glibc gives the arena's free top back
 * to the kernel past 128 KiB, and the loop then faults the same memory in
 * again: 510 page faults a second at 1,000 calls, 76 with this (a fault
 * costs 10-14 us on the virtual machines we measure on). Keep up to 64 MiB
 * of it. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  mallopt(M_MMAP_THRESHOLD, 1 << 20); /* fixed: the settings above stop its adjusting */
#endif
}

int main(int argc, char **argv)
{
  static struct server srv;
  tune_malloc();
  int rc = srv_opts_parse(&srv.opts, argc, argv);
  if (rc != 0)
    return rc > 0 ? 0 : 2;
  if (srv.opts.out_dir && check_out_dir(srv.opts.out_dir) < 0)
    return 2;
  /* A peer that closes its connection must not kill the server. */
  signal(SIGPIPE, SIG_IGN);
  struct net_limits limits = tcp_limits(&srv.opts);
  struct sockaddr_storage media_bind;
  media_bind_address(&srv.opts, &media_bind);
  uint16_t lo = srv.opts.rtp_low >= 0 ? (uint16_t)srv.opts.rtp_low : 20000;
  uint16_t hi = srv.opts.rtp_high >= 0 ? (uint16_t)srv.opts.rtp_high : 39999;
  if (uv_loop_init(&srv.loop) < 0 ||
      net_new(&srv.net, &srv.loop, MAX_MESSAGE, &limits, allowed, on_message, &srv) < 0 ||
      media_net_new(&srv.media, &srv.loop, (struct sockaddr *)&media_bind, lo, hi,
                    (unsigned)srv.opts.media_read_ms, now_ns,
                    limits.fd_limit > 0 ? limits.fd_limit - SRV_FD_TRANSIENT : 0,
                    srv.opts.media_epoll) < 0)
    return 1;
  uint8_t seal_key[32];
  struct recovery_redis redis;
  if (redis_config(&srv.opts, &redis) < 0)
    return 2;
  if (srv.opts.state_dir &&
      recovery_open(&srv.rec, &srv.loop, srv.opts.state_dir, srv.opts.state_key,
                    srv.opts.redis || srv.opts.redis_sentinel ? &redis : NULL, seal_key) < 0)
    return 2;
  if (make_calls(&srv) < 0 || make_handler(&srv, seal_key) < 0)
    return 2;
  memset(seal_key, 0, sizeof seal_key);
  media_net_set_handler(srv.media, srv.h);
  if (srv.calls) {
    media_net_set_fd_pending(srv.media, calls_fds_pending, srv.calls);
    uv_timer_init(&srv.loop, &srv.record_tick);
    srv.record_tick.data = &srv;
    uv_timer_start(&srv.record_tick, on_record_tick, RECORD_TICK_MS, RECORD_TICK_MS);
  }
#ifdef SIPREC_SERVER_METRICS
  if (srv.opts.has_metrics) {
    char err[256] = "";
    srv.metrics_src = (struct metrics_server_src){ srv.h, srv.media, srv.calls, srv.pool,
                                                   srv.rec ? recovery_stats : NULL, srv.rec };
    if (metrics_http_start(&srv.metrics, &srv.loop, (struct sockaddr *)&srv.opts.metrics, NULL,
                           metrics_server_render, &srv.metrics_src, err, sizeof err) < 0) {
      fprintf(stderr, "siprec-server: --metrics: %s\n", err);
      return 1;
    }
    /* The port bound, not the one asked for: with port 0 the kernel chose. */
    struct sockaddr_storage bound = srv.opts.metrics;
    uint16_t port = htons(metrics_http_port(srv.metrics));
    if (bound.ss_family == AF_INET6)
      ((struct sockaddr_in6 *)&bound)->sin6_port = port;
    else
      ((struct sockaddr_in *)&bound)->sin_port = port;
    printf("metrics http://%s/metrics\n",
           net_addr_text((struct sockaddr *)&bound, err, sizeof err));
  }
#else
  if (srv.opts.has_metrics) {
    fprintf(stderr, "siprec-server: --metrics: not built (no libmicrohttpd)\n");
    return 2;
  }
#endif
  for (size_t i = 0; i < srv.opts.nlisten; i++) {
    rc = net_listen(srv.net, (struct sockaddr *)&srv.opts.listen[i]);
    if (rc < 0) {
      char text[64];
      fprintf(stderr, "siprec-server: cannot listen on %s: %s\n",
              net_addr_text((struct sockaddr *)&srv.opts.listen[i], text, sizeof text),
              uv_strerror(rc));
      siprec_handler_free(srv.h);
      return 1;
    }
  }
  uv_timer_init(&srv.loop, &srv.tick);
  srv.tick.data = &srv;
  uv_timer_init(&srv.loop, &srv.drain_timer);
  srv.drain_timer.data = &srv;
  srv.byes_tail = &srv.byes;
  uv_check_init(&srv.loop, &srv.after_io);
  srv.after_io.data = &srv;
  uv_check_start(&srv.after_io, on_after_io);
  uv_signal_init(&srv.loop, &srv.sigterm);
  uv_signal_init(&srv.loop, &srv.sigint);
  srv.sigterm.data = srv.sigint.data = &srv;
  uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
  uv_signal_start(&srv.sigint, on_signal, SIGINT);
  /* Every session the store holds is restored (its ports bound again)
   * before the first message is read. */
  if (srv.rec) {
    recovery_attach(srv.rec, srv.h, now_ns, (struct sockaddr *)&srv.opts.listen[0], on_restored,
                    &srv);
    if (recovery_restore_all(srv.rec) < 0)
      fprintf(stderr, "siprec-server: --state: cannot scan the store\n");
  }
  if (srv.opts.verbose) {
    struct media_net_stats ms;
    media_net_stats(srv.media, &ms);
    fprintf(stderr, "siprec-server: media sockets read through %s\n", ms.uring ? "io_uring" : "epoll");
  }
  printf("ready\n");
  fflush(stdout);

  uv_run(&srv.loop, UV_RUN_DEFAULT);
  /* The recognisers finish what was queued; their last utterances are
   * written before the process goes. */
  transcribe_pool_free(srv.pool, 1);
  calls_free(srv.calls);
  if (srv.engine)
    srv.engine->free(srv.engine);
  rc = uv_loop_close(&srv.loop);
  if (rc < 0) {
    fprintf(stderr, "siprec-server: the loop did not close: %s; its handles:\n", uv_strerror(rc));
    uv_print_all_handles(&srv.loop, stderr); /* which one was left open */
  }
  recovery_free(srv.rec); /* its writes landed: the loop ran dry */
  net_free(srv.net);
  media_net_free(srv.media);
  if (rc < 0)
    return 1;
  printf("stopped\n");
  return 0;
}
