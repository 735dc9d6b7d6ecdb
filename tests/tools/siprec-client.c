/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-client: a small SIPREC recording client (SRC, RFC 7866) for the
 * tests and the demo. It places ONE recording call over UDP to an SRS, sends
 * each stream's audio file as RTP (SRTP with --srtp) encoded by the real
 * codec library, answers what the SRS sends in the dialog, ends the call
 * with a BYE and prints one JSON object on stdout:
 *
 *   {"call_id":..., "status":200, "bye":"sent"|"received"|null,
 *    "bye_status":200|481|...|null (the answer to our BYE),
 *    "streams":[{"label":..., "codec":..., "packets":N, "bytes":N, "lost":N,
 *                "reordered":N, "dest":"ip:port"|null, "ssrc":N, ...}],
 *    "reinvites_answered":N, "updates_answered":N, "options_answered":N,
 *    "seed":"N", "error":...}
 *
 * Example (two parties, G.722 and Opus, as fast as possible):
 *
 *   siprec-client --server 127.0.0.1:5060 --seed 7 --pace 0 \
 *     --stream label=1,codec=g722,file=goforward.raw,rate=16000,name=Alice,aor=sip:alice@example.com \
 *     --stream label=2,codec=opus,file=numbers.raw,rate=16000,name=Bob,aor=sip:bob@example.com
 *
 * What it does, in order:
 * - INVITE with Require: siprec, Contact ;+sip.src and a multipart/mixed body:
 *   the SDP offer (one sendonly m=audio per stream with a=label, its codec,
 *   a=crypto with --srtp) and RFC 7865 metadata (client/metadata.c);
 *   retransmitted per RFC 3261 until a response, then a final answer awaited
 *   for --answer-timeout; a non-2xx is ACKed and ends the run (exit 1, the
 *   status in the JSON).
 * - The 2xx is ACKed; its SDP gives each stream's destination (c= and port,
 *   a=rtcp, a=rtcp-mux) and the SRS's a=crypto.
 * - Media: every 20 ms of media (at --pace) each stream encodes a packet and
 *   sends it through --loss and --reorder, both drawn from --seed; a stream
 *   stops at its file's end. --pause-at and --resume-at re-INVITE all
 *   streams inactive, then sendonly; the media clock waits for those
 *   re-INVITEs to be answered, so a pause lands at the same audio position
 *   whatever the pace.
 * - The SRS's OPTIONS, UPDATE and re-INVITE are answered (an offer moves the
 *   streams to its address and port, inactive stops them, a metadata
 *   snapshot request is answered with an UPDATE carrying the metadata); its
 *   BYE ends the run (exit 0, "bye":"received").
 * - At the end of the audio (or --duration), a BYE; its 200 ends the run
 *   (a 481 too: the SRS had ended the call already).
 * - Through a proxy: the 2xx's Record-Route becomes the dialog's route set
 *   (RFC 3261 12.1.2), carried as Route headers by every request in the
 *   dialog (loose routing; every datagram still goes to --server, the
 *   first hop), and a target refresh (the 2xx to our re-INVITE or UPDATE,
 *   or the SRS's re-INVITE or UPDATE we accept) moves the remote target to
 *   its Contact: after a takeover, the BYE goes to the node that sent it.
 * SIGINT or SIGTERM ends the media early and hangs up the same way.
 *
 * Not done: TCP, authentication, DNS, a strict-routing proxy (a route set
 * whose first entry has no ;lr is sent as loose routing all the same). See
 * --help for every option.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CL_HAVE_SRTP
#include <srtp2/srtp.h>
#endif

#include "client/call.h"
#include "client/opts.h"
#include "client/stream.h"
#include "client/util.h"

#define TICK_MS 20.0
#define RTCP_TICKS 250 /* 5 s of media */
#define BURST 50       /* --pace 0: packets per stream between looks at the SIP socket */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
  (void)sig;
  interrupted = 1;
}

/* The BYE follows the last packet by this much: as from a real SRC, the
 * media's tail is not in a race with the BYE that ends its session (the
 * SRS may read its signalling socket before the media socket). */
#define BYE_AFTER_MEDIA_MS 40

/* The media clock: packet index `tick` is due at `due` (pace > 0). */
typedef struct media {
  int64_t tick, total, pause_tick, resume_tick;
  double due;
  int started, done, stalled;
  int64_t done_at; /* when `done` became true (ms) */
} media;

static int64_t total_ticks(const cl_opts *o, const cl_stream *s, size_t n)
{
  if (o->duration > 0)
    return (int64_t)ceil(o->duration * 1000.0 / TICK_MS);
  int64_t t = 0;
  for (size_t i = 0; i < n; i++) {
    size_t f = cl_codec_frame(s[i].codec);
    int64_t k = (int64_t)((s[i].n + f - 1) / f);
    if (k > t)
      t = k;
  }
  return t;
}

static void media_end(media *m, cl_call *c, int rtcp)
{
  m->done = 1;
  for (size_t i = 0; i < c->n; i++) {
    cl_stream_flush(&c->streams[i]);
    if (rtcp)
      cl_stream_rtcp(&c->streams[i], 1);
  }
}

/* Send whatever is due; the poll timeout until more is. */
static int media_step(media *m, cl_call *c, const cl_opts *o, int64_t now)
{
  if (c->state != CL_CALL_ESTABLISHED || m->done)
    return 1000;
  if (!m->started) {
    m->started = 1;
    m->due = (double)now;
  }
  if (interrupted || m->tick >= m->total) {
    media_end(m, c, o->rtcp);
    return 0;
  }
  int budget = BURST;
  while (m->tick < m->total && budget-- > 0) {
    int want = m->pause_tick >= 0 && m->tick >= m->pause_tick && m->tick < m->resume_tick;
    cl_call_want_paused(c, want);
    cl_call_timers(c, now); /* the re-INVITE goes now, not a poll later */
    if (cl_call_media_waits(c)) {
      m->stalled = 1;
      return 1000; /* the answer wakes us */
    }
    if (m->stalled) {
      /* After the wait, the pace starts again from now. */
      m->stalled = 0;
      if (m->due < (double)now)
        m->due = (double)now;
    }
    if (o->pace > 0 && (double)now < m->due)
      return (int)ceil(m->due - (double)now);
    int all_done = 1;
    for (size_t i = 0; i < c->n; i++) {
      cl_stream *s = &c->streams[i];
      if (c->paused)
        cl_stream_flush(s);
      cl_stream_tick(s, !c->paused);
      if (o->rtcp && m->tick % RTCP_TICKS == RTCP_TICKS - 1)
        cl_stream_rtcp(s, 0);
      all_done &= s->finished;
    }
    m->tick++;
    if (o->pace > 0)
      m->due += TICK_MS / o->pace;
    if (all_done && o->duration <= 0)
      m->tick = m->total;
  }
  return 0;
}

static json_t *stream_json(const cl_stream *s)
{
  char dest[80];
  json_t *j = json_object();
  json_object_set_new(j, "label", json_string(s->opt->label));
  json_object_set_new(j, "codec", json_string(s->codec->cli));
  json_object_set_new(j, "packets", json_integer((json_int_t)s->packets));
  json_object_set_new(j, "bytes", json_integer((json_int_t)s->bytes));
  json_object_set_new(j, "lost", json_integer((json_int_t)s->lost));
  json_object_set_new(j, "reordered", json_integer((json_int_t)s->reordered));
  json_object_set_new(j, "dest", s->have_dest ? json_string(cl_addr_text((const struct sockaddr *)&s->dest, dest, sizeof dest))
                                              : json_null());
  json_object_set_new(j, "local_port", json_integer(s->port));
  json_object_set_new(j, "ssrc", json_integer((json_int_t)s->ssrc));
  json_object_set_new(j, "rejected", json_boolean(s->rejected));
  json_object_set_new(j, "rtcp_sent", json_integer((json_int_t)s->rtcp_sent));
  json_object_set_new(j, "srtp", json_boolean(s->srtp_on));
  json_object_set_new(j, "srs_crypto", s->remote_crypto[0] ? json_string(s->remote_crypto) : json_null());
  return j;
}

static void print_json(const cl_call *c, const cl_opts *o)
{
  json_t *j = json_object();
  json_object_set_new(j, "call_id", json_string(c->call_id));
  json_object_set_new(j, "status", c->status ? json_integer(c->status) : json_null());
  json_t *arr = json_array();
  for (size_t i = 0; i < c->n; i++)
    json_array_append_new(arr, stream_json(&c->streams[i]));
  json_object_set_new(j, "streams", arr);
  json_object_set_new(j, "reinvites_answered", json_integer(c->reinvites_answered));
  json_object_set_new(j, "updates_answered", json_integer(c->updates_answered));
  json_object_set_new(j, "options_answered", json_integer(c->options_answered));
  json_object_set_new(j, "bye", c->bye ? json_string(c->bye) : json_null());
  json_object_set_new(j, "bye_status", c->bye_status ? json_integer(c->bye_status) : json_null());
  /* A string: a 64-bit seed does not survive JSON's doubles. */
  char seed[24];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
  json_object_set_new(j, "seed", json_string(seed));
  if (c->error[0])
    json_object_set_new(j, "error", json_string(c->error));
  char *text = json_dumps(j, JSON_COMPACT);
  if (text)
    printf("%s\n", text);
  free(text);
  json_decref(j);
}

int main(int argc, char **argv)
{
  static cl_opts o;
  int rc = cl_opts_parse(&o, argc, argv);
  if (rc != 0)
    return rc > 0 ? 0 : 2;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
#ifdef CL_HAVE_SRTP
  if (o.srtp && srtp_init() != srtp_err_status_ok) {
    fprintf(stderr, "siprec-client: srtp_init failed\n");
    return 1;
  }
#endif
  static cl_stream streams[CL_MAX_STREAMS];
  static cl_call call;
  size_t opened = 0;
  int ok = 1;
  for (; opened < o.n_streams && ok; opened++)
    ok = cl_stream_open(&streams[opened], &o.streams[opened], &o, (unsigned)opened) == 0;
  if (ok && cl_call_init(&call, &o, streams, o.n_streams) != 0)
    ok = 0;
  int64_t now = cl_now_ms();
  if (ok && cl_call_start(&call, now) != 0)
    ok = 0;
  media m = { 0 };
  m.total = total_ticks(&o, streams, o.n_streams);
  m.pause_tick = o.pause_at >= 0 ? (int64_t)llround(o.pause_at * 1000.0 / TICK_MS) : -1;
  m.resume_tick = o.resume_at >= 0 ? (int64_t)llround(o.resume_at * 1000.0 / TICK_MS) : -1;
  while (ok && !cl_call_over(&call)) {
    now = cl_now_ms();
    int timeout = media_step(&m, &call, &o, now);
    if (m.done && !m.done_at)
      m.done_at = now;
    if (m.done && now >= m.done_at + BYE_AFTER_MEDIA_MS)
      cl_call_hangup(&call, now);
    else if (m.done && (timeout < 0 || timeout > (int)(m.done_at + BYE_AFTER_MEDIA_MS - now)))
      timeout = (int)(m.done_at + BYE_AFTER_MEDIA_MS - now);
    if (call.state == CL_CALL_INVITING && interrupted)
      break; /* nothing to hang up yet: give up the call */
    int64_t d = cl_call_next_deadline(&call);
    if (d != INT64_MAX) {
      int64_t left = d - now;
      if (left < timeout)
        timeout = left < 0 ? 0 : (int)left;
    }
    struct pollfd p = { call.fd, POLLIN, 0 };
    int n = poll(&p, 1, timeout);
    if (n < 0 && errno != EINTR) {
      fprintf(stderr, "siprec-client: poll: %s\n", strerror(errno));
      break;
    }
    now = cl_now_ms();
    if (n > 0)
      cl_call_read(&call, now);
    cl_call_timers(&call, now);
  }
  if (ok && interrupted && call.state == CL_CALL_INVITING)
    snprintf(call.error, sizeof call.error, "interrupted before an answer");
  int success = ok && call.state == CL_CALL_DONE && call.status >= 200 && call.status < 300;
  if (ok)
    print_json(&call, &o);
  cl_call_free(&call);
  for (size_t i = 0; i < opened; i++)
    cl_stream_close(&streams[i]);
#ifdef CL_HAVE_SRTP
  if (o.srtp)
    srtp_shutdown();
#endif
  return success ? 0 : 1;
}
