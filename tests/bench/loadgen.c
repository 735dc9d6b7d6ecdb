/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loadgen: places N concurrent two-stream G.711 SIPREC calls over UDP
 * against a recording server (examples/siprec-server), holds them with
 * 20 ms PCMU RTP on every stream at real-time pace, and ends them with BYE;
 * or, with --no-sip, sends the same RTP to a port range (the bare recvmmsg
 * receiver of tests/bench/recvmmsg_baseline.c). Driven by bench_server.py;
 * see docs/performance.md ("bench_server").
 *
 * One thread, pinned to its own core (--cpu): it must never be the
 * bottleneck, and when it falls behind it says so (the "late" counts and
 * pace_ok in the summary): a step whose generator could not keep pace
 * measures the generator, not the server.
 *
 * Phases, each announced on stdout so the driver can read the server's
 * counters at their edges:
 *   setup    INVITEs at --rate per second (retransmitted on T1 doubling
 *            until a final answer or --setup-timeout), ACK, and each answered
 *            call's streams start sending;
 *   "# up"   every call answered or failed: the hold starts;
 *   "# held" --hold seconds later; media goes on for --linger-ms so that a
 *            reading taken after the line still falls in a full-rate window;
 *   teardown BYEs at --rate per second (each call's media stops at its BYE),
 *            retransmitted until answered or --bye-wait;
 * then one line of JSON with every count. Exit 0 when it ran (whatever the
 * calls did), 1 on a setup error, 2 on a usage error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen_rtp.h"
#include "loadgen_sip.h"

#define LATE_NS (5 * 1000000ull)        /* a tick sent this late is a pacing miss */
#define BEHIND_NS (20 * 1000000ull)     /* ... this late is said on stderr */
#define T1_NS (500 * 1000000ull)        /* RFC 3261 T1 */
#define T2_NS (4000 * 1000000ull)       /* RFC 3261 T2 */
#define SCAN_NS (10 * 1000000ull)       /* how often retransmissions are looked for */
#define MAX_CALLS 100000
#define TO_MAX 256

enum call_state { C_IDLE, C_INVITING, C_UP, C_FAILED, C_BYEING, C_DONE, C_SERVER_ENDED };
enum phase { P_SETUP, P_HOLD, P_LINGER, P_TEARDOWN, P_DONE };

typedef struct call {
  uint8_t state, proceeding;
  uint64_t retx_ns, interval_ns, give_up_ns;
  char to[TO_MAX]; /* the 200's To, with the server's tag */
  size_t to_len;
} call;

typedef struct opts {
  const char *server, *local_ip, *dest;
  long calls, rate, hold_s, linger_ms, per_socket, cpu, rt, bye_wait_s, setup_timeout_s;
  int srtp, no_sip;
} opts;

/* The totals printed in the summary. */
typedef struct totals {
  uint64_t invites, invite_retx, answered, failed, setup_timeouts, status_class[7];
  int last_fail_status;
  uint64_t streams_started, streams_declined, bad_answers, acks, ack_repeats;
  uint64_t byes, bye_retx, bye_ok, bye_failed, bye_timeouts, server_byes, server_requests;
  uint64_t stray, unparsable;
  uint64_t late_ticks, late_pkts, max_lag_ns;
  /* At "# up" and "# held". */
  uint64_t up_sent, up_late_pkts, held_sent, held_late_pkts, hold_max_lag_ns;
  double up_cpu, held_cpu, up_wall, held_wall;
} totals;

static volatile sig_atomic_t signalled;
static void on_signal(int sig)
{
  (void)sig;
  signalled++;
}

static uint64_t now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static double cpu_s(void)
{
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 +
         (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec * 1e-6;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                  */

static void usage(FILE *f)
{
  fprintf(f,
          "usage: loadgen --server HOST:PORT --calls N [OPTION]...\n"
          "       loadgen --no-sip --dest ADDR:PORT --calls N [OPTION]...\n"
          "Places N two-stream G.711 SIPREC calls over UDP (INVITE with SDP and\n"
          "rs-metadata, ACK, BYE) and sends 20 ms PCMU RTP on every stream at real-time\n"
          "pace; prints phase lines (# up, # held) and a JSON summary on stdout.\n"
          "  --server HOST:PORT  the SIP server (IPv4, UDP)\n"
          "  --local ADDR        our signalling and media address (default 127.0.0.1)\n"
          "  --calls N           concurrent calls (1 to %d)\n"
          "  --rate R            INVITEs (and BYEs) per second (default 200)\n"
          "  --hold S            seconds the calls are held once all are up (default 60)\n"
          "  --linger-ms N       media after '# held' before the BYEs (default 1000)\n"
          "  --srtp              RTP/SAVP, AES_CM_128_HMAC_SHA1_80 keyed by SDES a=crypto%s\n"
          "  --per-socket K      streams sharing one media socket (default 1: a port per\n"
          "                      stream, as an SBC sends; K > 1 batches K per sendmmsg)\n"
          "  --cpu N             pin to core N\n"
          "  --rt PRIO           SCHED_FIFO at PRIO (1-99): other work on the core cannot\n"
          "                      delay a tick (it sleeps between ticks)\n"
          "  --setup-timeout S   give up on an unanswered INVITE after S s (default 32)\n"
          "  --bye-wait S        give up on an unanswered BYE after S s (default 10)\n"
          "  --no-sip            no signalling: stream i goes to --dest's port + i\n"
          "  --dest ADDR:PORT    with --no-sip, the first port of the range\n"
          "Exit status: 0 when it ran, 1 on a setup error, 2 on a usage error.\n",
          MAX_CALLS, lg_media_srtp_available() ? "" : " (not in this build)");
}

static int number_arg(const char *flag, const char *v, long lo, long hi, long *out)
{
  char *end;
  errno = 0;
  long n = v ? strtol(v, &end, 10) : 0;
  if (!v || errno || *v == '\0' || *end != '\0' || n < lo || n > hi) {
    fprintf(stderr, "loadgen: %s wants a number from %ld to %ld\n", flag, lo, hi);
    return -1;
  }
  *out = n;
  return 0;
}

static int parse_opts(opts *o, int argc, char **argv)
{
  *o = (opts){ .local_ip = "127.0.0.1", .rate = 200, .hold_s = 60, .linger_ms = 1000,
               .per_socket = 1, .cpu = -1, .bye_wait_s = 10, .setup_timeout_s = 32 };
  static const struct {
    const char *name;
    long lo, hi;
    size_t off;
  } nums[] = {
    { "--calls", 1, MAX_CALLS, offsetof(opts, calls) },
    { "--rate", 1, 100000, offsetof(opts, rate) },
    { "--hold", 0, 86400, offsetof(opts, hold_s) },
    { "--linger-ms", 0, 60000, offsetof(opts, linger_ms) },
    { "--per-socket", 1, 4096, offsetof(opts, per_socket) },
    { "--cpu", 0, CPU_SETSIZE - 1, offsetof(opts, cpu) },
    { "--rt", 1, 99, offsetof(opts, rt) },
    { "--bye-wait", 1, 600, offsetof(opts, bye_wait_s) },
    { "--setup-timeout", 1, 600, offsetof(opts, setup_timeout_s) },
  };
  int i = 1;
  while (i < argc) {
    const char *a = argv[i++], *v = i < argc ? argv[i] : NULL;
    if (!strcmp(a, "--help")) {
      usage(stdout);
      return 1;
    }
    if (!strcmp(a, "--srtp")) {
      o->srtp = 1;
      continue;
    }
    if (!strcmp(a, "--no-sip")) {
      o->no_sip = 1;
      continue;
    }
    size_t k = 0;
    while (k < sizeof nums / sizeof nums[0] && strcmp(a, nums[k].name))
      k++;
    if (k < sizeof nums / sizeof nums[0]) {
      if (number_arg(a, v, nums[k].lo, nums[k].hi, (long *)((char *)o + nums[k].off)) < 0)
        return -1;
    } else if (!strcmp(a, "--server") && v) {
      o->server = v;
    } else if (!strcmp(a, "--local") && v) {
      o->local_ip = v;
    } else if (!strcmp(a, "--dest") && v) {
      o->dest = v;
    } else {
      fprintf(stderr, "loadgen: unknown option or missing value: %s (see --help)\n", a);
      return -1;
    }
    i++; /* the value */
  }
  if (!o->calls || (o->no_sip ? !o->dest : !o->server)) {
    fprintf(stderr, "loadgen: --calls and --server (or --no-sip --dest) are needed\n");
    return -1;
  }
  if (o->srtp && !lg_media_srtp_available()) {
    fprintf(stderr, "loadgen: --srtp: built without libsrtp2 and Nettle\n");
    return -1;
  }
  if (o->srtp && o->no_sip) {
    fprintf(stderr, "loadgen: --srtp needs signalling to carry the keys\n");
    return -1;
  }
  return 0;
}

/* "a.b.c.d:port" into *sa. */
static int parse_v4(const char *text, struct sockaddr_in *sa)
{
  char host[INET_ADDRSTRLEN];
  const char *c = strrchr(text, ':');
  long port;
  if (!c || (size_t)(c - text) >= sizeof host || number_arg("port", c + 1, 1, 65535, &port) < 0)
    return -1;
  memcpy(host, text, (size_t)(c - text));
  host[c - text] = '\0';
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* The run                                                                  */

typedef struct gen {
  opts o;
  lg_media media;
  call *calls;
  int sip_fd, pid;
  uint16_t sip_port;
  struct sockaddr_in server;
  enum phase phase;
  long next_invite, next_bye, pending;
  uint64_t setup_t0, bye_t0, hold_end, linger_end, last_bye_ns, next_scan;
  uint64_t t0, tick, last_behind_msg;
  totals t;
} gen;

static void fill_offer(const gen *g, unsigned c, lg_offer *of)
{
  memset(of, 0, sizeof *of);
  of->local_ip = g->o.local_ip;
  of->sip_port = g->sip_port;
  of->server = g->o.server;
  of->call = c;
  of->pid = g->pid;
  for (int s = 0; s < LG_MAX_STREAMS; s++) {
    of->media_port[s] = lg_media_port(&g->media, (size_t)c * LG_MAX_STREAMS + (size_t)s);
    of->crypto[s] = lg_media_key(&g->media, (size_t)c * LG_MAX_STREAMS + (size_t)s);
  }
}

static void sip_send(gen *g, const char *buf, size_t len, const struct sockaddr_in *to)
{
  if (!len) {
    fprintf(stderr, "loadgen: a SIP message did not fit its buffer\n");
    return;
  }
  if (sendto(g->sip_fd, buf, len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
    fprintf(stderr, "loadgen: SIP send: %s\n", strerror(errno));
}

static void branch(char *b, size_t cap, const gen *g, unsigned c, char what)
{
  snprintf(b, cap, "z9hG4bKlg%d.%u.%c", g->pid, c, what);
}

static void send_invite(gen *g, unsigned c)
{
  char buf[8192], br[64];
  lg_offer of;
  fill_offer(g, c, &of);
  branch(br, sizeof br, g, c, 'i');
  sip_send(g, buf, lg_sip_invite(buf, sizeof buf, &of, br), &g->server);
}

static void send_in_dialog(gen *g, unsigned c, const char *method, unsigned long cseq, char what)
{
  char buf[2048], br[64];
  lg_offer of;
  fill_offer(g, c, &of);
  branch(br, sizeof br, g, c, what);
  lg_span to = { g->calls[c].to, g->calls[c].to_len };
  sip_send(g, buf, lg_sip_in_dialog(buf, sizeof buf, &of, method, cseq, br, &to), &g->server);
}

static void stop_media(gen *g, unsigned c)
{
  for (int s = 0; s < LG_MAX_STREAMS; s++)
    lg_media_stop(&g->media, (size_t)c * LG_MAX_STREAMS + (size_t)s);
}

static void arm(call *k, uint64_t now, uint64_t give_up_ns)
{
  k->retx_ns = now + T1_NS;
  k->interval_ns = T1_NS;
  k->give_up_ns = now + give_up_ns;
}

/* A 2xx to our INVITE: remember the dialog, start what the answer accepted. */
static void answered(gen *g, unsigned c, const lg_sip_msg *m)
{
  call *k = &g->calls[c];
  lg_answer a;
  if (m->to.n >= TO_MAX || lg_sdp_answer(&m->body, &a) < 0) {
    g->t.bad_answers++;
    fprintf(stderr, "loadgen: call %u: a 200 without a readable SDP answer\n", c);
  } else {
    for (int s = 0; s < LG_MAX_STREAMS; s++) {
      size_t i = (size_t)c * LG_MAX_STREAMS + (size_t)s;
      if (s < a.nstreams && lg_media_start(&g->media, i, &a.dest[s]) == 0)
        g->t.streams_started++;
      else
        g->t.streams_declined++;
    }
  }
  /* The dialog stands whatever its SDP said: it is ACKed and later BYEd. */
  size_t n = m->to.n < TO_MAX ? m->to.n : 0;
  memcpy(k->to, m->to.p, n);
  k->to_len = n;
  k->state = C_UP;
  g->pending--;
  g->t.answered++;
}

static void on_response(gen *g, unsigned c, const lg_sip_msg *m)
{
  call *k = &g->calls[c];
  int invite = m->cseq_method.n == 6 && !strncmp(m->cseq_method.p, "INVITE", 6);
  int bye = m->cseq_method.n == 3 && !strncmp(m->cseq_method.p, "BYE", 3);
  if (invite && m->status < 200) {
    k->proceeding = 1; /* the server has it: no more retransmissions */
  } else if (invite && m->status < 300) {
    if (k->state == C_INVITING)
      answered(g, c, m);
    else
      g->t.ack_repeats++; /* a retransmitted 200: our ACK was lost */
    if (k->state == C_UP || k->state == C_BYEING) {
      send_in_dialog(g, c, "ACK", 1, 'a');
      g->t.acks++;
    }
  } else if (invite) {
    if (k->state == C_INVITING) {
      k->state = C_FAILED;
      g->pending--;
      g->t.failed++;
      g->t.status_class[m->status / 100]++;
      g->t.last_fail_status = m->status;
    }
    /* A failure's ACK rides the INVITE's transaction (its branch). */
    size_t n = m->to.n < TO_MAX ? m->to.n : 0;
    memcpy(k->to, m->to.p, n);
    k->to_len = n;
    send_in_dialog(g, c, "ACK", 1, 'i');
  } else if (bye && m->status >= 200 && k->state == C_BYEING) {
    k->state = C_DONE;
    g->pending--;
    if (m->status < 300)
      g->t.bye_ok++;
    else
      g->t.bye_failed++;
  }
}

/* A request of the server's: its BYE ends the call; anything else but ACK
 * is answered so that it does not retransmit. */
static void on_request(gen *g, long c, const lg_sip_msg *m, const struct sockaddr_in *from)
{
  char buf[2048];
  if (m->method.n == 3 && !strncmp(m->method.p, "ACK", 3))
    return;
  g->t.server_requests++;
  int bye = m->method.n == 3 && !strncmp(m->method.p, "BYE", 3);
  int invite = m->method.n == 6 && !strncmp(m->method.p, "INVITE", 6);
  if (bye && c >= 0) {
    call *k = &g->calls[c];
    if (k->state == C_UP || k->state == C_BYEING) {
      if (k->state == C_BYEING)
        g->pending--;
      stop_media(g, (unsigned)c);
      k->state = C_SERVER_ENDED;
      g->t.server_byes++;
    }
  }
  /* A re-INVITE would need an answer this generator does not make. */
  sip_send(g, buf,
           invite ? lg_sip_response(buf, sizeof buf, m, 488, "Not Acceptable Here")
                  : lg_sip_response(buf, sizeof buf, m, 200, "OK"),
           from);
}

static void sip_receive(gen *g)
{
  char buf[65536];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(g->sip_fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        fprintf(stderr, "loadgen: SIP receive: %s\n", strerror(errno));
      return;
    }
    lg_sip_msg m;
    if (lg_sip_parse(buf, (size_t)n, &m) < 0) {
      g->t.unparsable++;
      continue;
    }
    long c = lg_sip_call_of(&m.call_id, g->pid);
    if (c >= g->o.calls)
      c = -1;
    if (!m.status)
      on_request(g, c, &m, &from);
    else if (c >= 0)
      on_response(g, (unsigned)c, &m);
    else
      g->t.stray++;
  }
}

/* INVITEs and BYEs on their ramps, retransmissions, give-ups. */
static void sip_timers(gen *g, uint64_t now)
{
  uint64_t step = 1000000000ull / (uint64_t)g->o.rate;
  if (g->phase == P_SETUP) {
    while (g->next_invite < g->o.calls &&
           g->setup_t0 + (uint64_t)g->next_invite * step <= now) {
      unsigned c = (unsigned)g->next_invite++;
      g->calls[c].state = C_INVITING;
      arm(&g->calls[c], now, (uint64_t)g->o.setup_timeout_s * 1000000000ull);
      g->pending++;
      g->t.invites++;
      send_invite(g, c);
    }
  }
  if (g->phase == P_TEARDOWN) {
    while (g->next_bye < g->o.calls && g->bye_t0 + (uint64_t)g->next_bye * step <= now) {
      unsigned c = (unsigned)g->next_bye++;
      call *k = &g->calls[c];
      if (k->state != C_UP)
        continue;
      stop_media(g, c);
      k->state = C_BYEING;
      k->proceeding = 0;
      arm(k, now, (uint64_t)g->o.bye_wait_s * 1000000000ull);
      g->pending++;
      g->t.byes++;
      g->last_bye_ns = now;
      send_in_dialog(g, c, "BYE", 2, 'b');
    }
  }
  if (!g->pending || now < g->next_scan)
    return;
  g->next_scan = now + SCAN_NS;
  for (long c = 0; c < g->o.calls; c++) {
    call *k = &g->calls[c];
    if (k->state != C_INVITING && k->state != C_BYEING)
      continue;
    if (now >= k->give_up_ns) {
      if (k->state == C_INVITING) {
        k->state = C_FAILED;
        g->t.failed++;
        g->t.setup_timeouts++;
      } else {
        k->state = C_DONE;
        g->t.bye_timeouts++;
      }
      g->pending--;
    } else if (now >= k->retx_ns && !(k->state == C_INVITING && k->proceeding)) {
      /* INVITE: T1 doubling; BYE (non-INVITE): doubling up to T2. */
      k->interval_ns *= 2;
      if (k->state == C_BYEING && k->interval_ns > T2_NS)
        k->interval_ns = T2_NS;
      k->retx_ns = now + k->interval_ns;
      if (k->state == C_INVITING) {
        g->t.invite_retx++;
        send_invite(g, (unsigned)c);
      } else {
        g->t.bye_retx++;
        send_in_dialog(g, (unsigned)c, "BYE", 2, 'b');
      }
    }
  }
}

static void phase_line(gen *g, const char *what)
{
  printf("# %s calls=%ld answered=%llu failed=%llu streams=%zu sent=%llu late_pkts=%llu\n", what,
         g->o.calls, (unsigned long long)g->t.answered, (unsigned long long)g->t.failed,
         g->media.active, (unsigned long long)g->media.sent,
         (unsigned long long)g->t.late_pkts);
  fflush(stdout);
}

static void advance(gen *g, uint64_t now)
{
  if (signalled && g->phase < P_TEARDOWN) {
    fprintf(stderr, "loadgen: signal: ending the calls\n");
    g->phase = P_LINGER;
    g->linger_end = now;
  }
  if (signalled > 1)
    g->phase = P_DONE;
  switch (g->phase) {
  case P_SETUP:
    if (g->next_invite == g->o.calls && !g->pending) {
      phase_line(g, "up");
      g->t.up_sent = g->media.sent;
      g->t.up_late_pkts = g->t.late_pkts;
      g->t.up_cpu = cpu_s();
      g->t.up_wall = (double)now * 1e-9;
      g->t.max_lag_ns = 0; /* from here on: the hold's worst */
      g->phase = P_HOLD;
      /* Nothing to hold when no call was answered. */
      g->hold_end = now + (g->t.answered || g->o.no_sip ? (uint64_t)g->o.hold_s : 0) * 1000000000ull;
    }
    break;
  case P_HOLD:
    if (now >= g->hold_end) {
      phase_line(g, "held");
      g->t.held_sent = g->media.sent;
      g->t.held_late_pkts = g->t.late_pkts;
      g->t.held_cpu = cpu_s();
      g->t.held_wall = (double)now * 1e-9;
      g->t.hold_max_lag_ns = g->t.max_lag_ns;
      g->phase = P_LINGER;
      g->linger_end = now + (uint64_t)g->o.linger_ms * 1000000ull;
    }
    break;
  case P_LINGER:
    if (now >= g->linger_end) {
      g->phase = P_TEARDOWN;
      g->bye_t0 = now;
    }
    break;
  case P_TEARDOWN:
    if (g->o.no_sip || (g->next_bye == g->o.calls && !g->pending))
      g->phase = P_DONE;
    break;
  case P_DONE:
    break;
  }
}

/* Every tick that is due, in order (a late generator catches up without
 * skipping a packet: the lateness is counted, not hidden). */
static void media_ticks(gen *g, uint64_t now)
{
  while (g->t0 + g->tick * LG_TICK_NS <= now) {
    size_t k = lg_media_tick(&g->media, g->tick);
    uint64_t due = g->t0 + g->tick * LG_TICK_NS;
    now = now_ns();
    uint64_t lag = now - due;
    if (lag > g->t.max_lag_ns)
      g->t.max_lag_ns = lag;
    if (lag > LATE_NS && k) {
      g->t.late_ticks++;
      g->t.late_pkts += k;
    }
    if (lag > BEHIND_NS && now - g->last_behind_msg > 1000000000ull) {
      g->last_behind_msg = now;
      fprintf(stderr, "loadgen: behind real time by %.1f ms (%zu streams)\n", (double)lag * 1e-6,
              g->media.active);
    }
    g->tick++;
  }
}

static int open_sip(gen *g)
{
  g->sip_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t al = sizeof a;
  if (g->sip_fd < 0 || inet_pton(AF_INET, g->o.local_ip, &a.sin_addr) != 1 ||
      bind(g->sip_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(g->sip_fd, (struct sockaddr *)&a, &al) < 0) {
    fprintf(stderr, "loadgen: SIP socket on %s: %s\n", g->o.local_ip, strerror(errno));
    return -1;
  }
  /* Room for a burst of answers while a tick is being sent. */
  int big = 4 << 20;
  if (setsockopt(g->sip_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
    setsockopt(g->sip_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  g->sip_port = ntohs(a.sin_port);
  return 0;
}

/* Descriptors for every media socket: the soft limit raised to the hard. */
static int raise_nofile(size_t need)
{
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0)
    return -1;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < need) {
    fprintf(stderr, "loadgen: %zu descriptors needed, the limit is %llu\n", need,
            (unsigned long long)r.rlim_cur);
    return -1;
  }
  return 0;
}

static void print_summary(const gen *g, double wall)
{
  const totals *t = &g->t;
  double hold_wall = t->held_wall - t->up_wall, hold_cpu = t->held_cpu - t->up_cpu;
  uint64_t hold_pkts = t->held_sent - t->up_sent, hold_late = t->held_late_pkts - t->up_late_pkts;
  /* A generator that kept pace: no packet left a whole packet interval
   * (20 ms) late, so every stream's packets left in order and at rate, and
   * at most 1 % of them more than LATE_NS late (a stall of a few ms, e.g.
   * the hypervisor's, is within any receiver's jitter buffer; falling
   * behind for good is not). */
  int held = t->held_wall > 0;
  int pace_ok = held && hold_late * 100 <= hold_pkts && t->hold_max_lag_ns < 20000000ull;
  printf("{\"mode\":\"%s\",\"calls\":%ld,\"srtp\":%s,\"per_socket\":%ld,\"sockets\":%zu,"
         "\"invites\":%llu,\"invite_retransmits\":%llu,\"answered\":%llu,\"failed\":%llu,"
         "\"setup_timeouts\":%llu,\"failed_3xx\":%llu,\"failed_4xx\":%llu,\"failed_5xx\":%llu,"
         "\"failed_6xx\":%llu,\"last_fail_status\":%d,\"bad_answers\":%llu,"
         "\"streams_started\":%llu,\"streams_declined\":%llu,\"acks\":%llu,"
         "\"ack_repeats\":%llu,\"byes\":%llu,\"bye_retransmits\":%llu,\"bye_ok\":%llu,"
         "\"bye_failed\":%llu,\"bye_timeouts\":%llu,\"server_byes\":%llu,"
         "\"server_requests\":%llu,\"stray\":%llu,\"unparsable\":%llu,",
         g->o.no_sip ? "no-sip" : "sip", g->o.calls, g->o.srtp ? "true" : "false",
         g->o.per_socket, g->media.open_fds, (unsigned long long)t->invites,
         (unsigned long long)t->invite_retx, (unsigned long long)t->answered,
         (unsigned long long)t->failed, (unsigned long long)t->setup_timeouts,
         (unsigned long long)t->status_class[3], (unsigned long long)t->status_class[4],
         (unsigned long long)t->status_class[5], (unsigned long long)t->status_class[6],
         t->last_fail_status, (unsigned long long)t->bad_answers,
         (unsigned long long)t->streams_started, (unsigned long long)t->streams_declined,
         (unsigned long long)t->acks, (unsigned long long)t->ack_repeats,
         (unsigned long long)t->byes, (unsigned long long)t->bye_retx,
         (unsigned long long)t->bye_ok, (unsigned long long)t->bye_failed,
         (unsigned long long)t->bye_timeouts, (unsigned long long)t->server_byes,
         (unsigned long long)t->server_requests, (unsigned long long)t->stray,
         (unsigned long long)t->unparsable);
  printf("\"packets_sent\":%llu,\"send_errors\":%llu,\"sendmmsg_calls\":%llu,"
         "\"late_ticks\":%llu,\"late_packets\":%llu,\"hold_s\":%.3f,\"hold_packets\":%llu,"
         "\"hold_late_packets\":%llu,\"hold_max_lag_ms\":%.3f,\"hold_cpu_s\":%.3f,"
         "\"hold_cpu_share\":%.4f,\"pace_ok\":%s,\"wall_s\":%.3f,\"cpu_s\":%.3f}\n",
         (unsigned long long)g->media.sent, (unsigned long long)g->media.send_errors,
         (unsigned long long)g->media.sendmmsg_calls, (unsigned long long)t->late_ticks,
         (unsigned long long)t->late_pkts, held ? hold_wall : 0.0,
         (unsigned long long)hold_pkts, (unsigned long long)hold_late,
         (double)t->hold_max_lag_ns * 1e-6, held ? hold_cpu : 0.0,
         held && hold_wall > 0 ? hold_cpu / hold_wall : 0.0, pace_ok ? "true" : "false", wall,
         cpu_s());
  fflush(stdout);
}

static int setup(gen *g)
{
  if (g->o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)g->o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0) {
      fprintf(stderr, "loadgen: --cpu %ld: %s\n", g->o.cpu, strerror(errno));
      return -1;
    }
  }
  if (g->o.rt) {
    struct sched_param sp = { .sched_priority = (int)g->o.rt };
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
      fprintf(stderr, "loadgen: --rt %ld: %s\n", g->o.rt, strerror(errno));
      return -1;
    }
  }
  size_t nstreams = (size_t)g->o.calls * LG_MAX_STREAMS;
  if (raise_nofile(nstreams / (size_t)g->o.per_socket + LG_SLOTS + 16) < 0)
    return -1;
  g->pid = (int)getpid();
  g->sip_fd = -1;
  if (!g->o.no_sip && (parse_v4(g->o.server, &g->server) < 0 || open_sip(g) < 0)) {
    if (g->sip_fd < 0)
      fprintf(stderr, "loadgen: --server %s: want IPv4 ADDR:PORT\n", g->o.server);
    return -1;
  }
  if (lg_media_open(&g->media, nstreams, (unsigned)g->o.per_socket, g->o.local_ip, g->o.srtp) < 0)
    return -1;
  g->calls = calloc((size_t)g->o.calls, sizeof *g->calls);
  if (!g->calls)
    return -1;
  if (g->o.no_sip) {
    struct sockaddr_in d;
    if (parse_v4(g->o.dest, &d) < 0 || ntohs(d.sin_port) + nstreams - 1 > 65535) {
      fprintf(stderr, "loadgen: --dest %s: want IPv4 ADDR:PORT with room for %zu ports\n",
              g->o.dest, nstreams);
      return -1;
    }
    uint16_t p0 = ntohs(d.sin_port);
    for (size_t i = 0; i < nstreams; i++) {
      d.sin_port = htons((uint16_t)(p0 + i));
      lg_media_start(&g->media, i, &d);
    }
    g->next_invite = g->o.calls;
  }
  return 0;
}

int main(int argc, char **argv)
{
  static gen g;
  int rc = parse_opts(&g.o, argc, argv);
  if (rc)
    return rc > 0 ? 0 : 2;
  struct sigaction sa = { .sa_handler = on_signal };
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (setup(&g) < 0) {
    lg_media_close(&g.media);
    free(g.calls);
    return 1;
  }
  uint64_t start = now_ns();
  g.t0 = g.setup_t0 = start;
  g.phase = P_SETUP;
  while (g.phase != P_DONE) {
    uint64_t now = now_ns();
    media_ticks(&g, now);
    if (g.sip_fd >= 0) {
      sip_receive(&g);
      sip_timers(&g, now_ns());
    }
    advance(&g, now_ns());
    /* Sleep to the next tick (SIP answers wake it earlier). */
    uint64_t wake = g.t0 + g.tick * LG_TICK_NS;
    now = now_ns();
    if (wake > now && g.phase != P_DONE) {
      struct timespec ts = { (time_t)((wake - now) / 1000000000ull),
                             (long)((wake - now) % 1000000000ull) };
      struct pollfd p = { g.sip_fd, POLLIN, 0 };
      ppoll(&p, g.sip_fd >= 0 ? 1 : 0, &ts, NULL);
    }
  }
  print_summary(&g, (double)(now_ns() - start) * 1e-9);
  lg_media_close(&g.media);
  free(g.calls);
  if (g.sip_fd >= 0)
    close(g.sip_fd);
  return 0;
}
