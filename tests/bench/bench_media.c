/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_media: what the media path (siprec/media.h) costs, over a generated
 * trace of N interleaved two-stream calls (full: 2,000 calls, 4,000
 * streams, 20 ms G.711 packets, 10 s; quick: 200 calls, 2 s), arrival order
 * as on a wire (each stream a fixed phase within the 20 ms tick, the
 * streams' packets merged by arrival time) with 1 % reordering (a packet
 * swapped with its stream's next one). The calls are set up through
 * siprec_handler_process() (INVITE, ACK) outside the timed part; the audio
 * callback only sums the samples.
 *   media-vs-minimal   siprec_handler_media() (and siprec_handler_expire()
 *                      once per 20 ms of trace) against a minimal receiver
 *                      in this file: per-stream state in an array indexed by
 *                      the local port, RTP header parse, sequence check,
 *                      G.711 decode (256-entry table) into the stream's
 *                      buffer.
 *   srtp-vs-unprotect  the same with AES_CM_128_HMAC_SHA1_80 (offered
 *                      RTP/SAVP with a key) against a copy, srtp_unprotect()
 *                      (a libsrtp2 context per stream) and the minimal
 *                      receiver; over all calls when the library runs
 *                      libsrtp2 on Nettle (srtp_nettle), else the first 200.
 *   media-threads      two threads feeding the two halves of the calls
 *                      against one thread feeding all: throughput ratio.
 *   media-session-kib  mallinfo2()'s uordblks added per active two-stream
 *                      G.711 session (10 packets per stream fed, default
 *                      jitter depth) above the same sessions idle (INVITE,
 *                      ACK), over 10,000 sessions (quick 1,000).
 *   opus-vs-decode     not measured (printed skipped).
 * Every ratio is the median of per-round ratios of interleaved rounds
 * (A, B, A, B, ...; a fresh handler and fresh receiver state each round),
 * printed with its spread. The packets of one sequence number are the same
 * bytes on every stream (one SSRC, one SRTP key: each stream still has its
 * own receiver state and SRTP context), so the trace is small: both sides
 * read the same hot packets. See docs/performance.md ("bench_media"). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <siprec/siprec.h>
#include <siprec/media.h>

#ifdef SR_HAVE_SRTP
#include <srtp2/srtp.h>
#endif
#ifdef SR_HAVE_SRTP_NETTLE
#include "media/srtp_kernel.h"
#endif
#ifdef SR_HAVE_OPUS
#include <opus.h>
#endif

#include "handler_msgs.h"
#include "rtp_build.h"
#include "bench_load.h"

/* ---------------------------------------------------------------------- */
/* A handler (as tests/common/handler_fixture.c makes one, without check's
 * assertions, which need a running test); its requests and feeding are the
 * fixture's Check-free half, handler_msgs.c                                */

#define MS UINT64_C(1000000)

typedef struct fixture {
  siprec_handler *h;
  struct sockaddr_in src, srs;
  char resp[16384];
  int status;
} fixture;

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  (void)data;
  (void)len;
  (void)path;
}

static void on_audio(void *user, const siprec_audio_frame *fr);

static void on_log(void *user, siprec_log_level level, const char *message)
{
  (void)user;
  if (getenv("BENCH_MEDIA_LOG"))
    fprintf(stderr, "log %d: %s\n", (int)level, message);
}

static int fx_init(fixture *f, siprec_handler_config *cfg)
{
  memset(f, 0, sizeof *f);
  siprec_handler_callbacks *cbs;
  if (siprec_handler_callbacks_new(&cbs, NULL) != 0)
    return -1;
  siprec_handler_callbacks_set_send(cbs, on_send);
  siprec_handler_callbacks_set_audio(cbs, on_audio);
  siprec_handler_callbacks_set_log(cbs, on_log);
  int rc = siprec_handler_new(&f->h, cfg, cbs, f, NULL);
  siprec_handler_callbacks_free(cbs);
  if (rc != 0)
    return -1;
  f->src = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(5060) };
  f->srs = f->src;
  inet_pton(AF_INET, "192.0.2.1", &f->src.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &f->srs.sin_addr);
  return 0;
}

static int fx_feed(fixture *f, const char *msg, uint64_t now)
{
  const siprec_path path = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&f->srs,
                             (struct sockaddr *)&f->src, 0 };
  return fx_process(f->h, &path, msg, now, f->resp, sizeof f->resp, &f->status);
}

#define PKT 160
#define MAX_REPS 31
#define SSRC 0x5e5e5e5eu
#define SEQ0 1000u
#define TS0 5000u
#define T_SETUP (1000 * MS)
#define T_MEDIA (2000 * MS)
#define SRTP_KEY_B64 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct spread {
  double med, min, max;
} spread;

static spread spread_of(const double *v, int n)
{
  double s[MAX_REPS];
  memcpy(s, v, (size_t)n * sizeof *v);
  qsort(s, (size_t)n, sizeof s[0], cmp_double);
  spread r = { n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[0], s[n - 1] };
  return r;
}

/* ---------------------------------------------------------------------- */
/* The trace                                                                */

typedef struct ev {
  uint32_t stream; /* call * 2 + index */
  uint32_t k;      /* packet (sequence SEQ0 + k) */
} ev;

static size_t n_calls, n_streams, n_pkts, n_ev;
static ev *trace;        /* arrival order */
static uint64_t *ev_time; /* arrival time of each, ns after T_MEDIA */
static uint8_t (*plain)[12 + PKT];
#ifdef SR_HAVE_SRTP
static uint8_t (*prot)[12 + PKT + SRTP_MAX_TRAILER_LEN];
static int *prot_len;
#endif

#ifdef SR_HAVE_OPUS
static uint8_t (*opkt)[12 + 1276];
static int *opkt_len;
#endif

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}

static int cmp_phase(const void *a, const void *b)
{
  const uint32_t *x = a, *y = b;
  return (x[0] > y[0]) - (x[0] < y[0]);
}

static size_t n_reordered;

static void make_trace(void)
{
  n_streams = n_calls * 2;
  n_ev = n_streams * n_pkts;
  trace = malloc(n_ev * sizeof *trace);
  ev_time = malloc(n_ev * sizeof *ev_time);
  /* Each stream's phase within the tick, streams sorted by it. */
  uint32_t (*ph)[2] = malloc(n_streams * sizeof *ph);
  for (size_t s = 0; s < n_streams; s++) {
    ph[s][0] = rnd() % 20000000u;
    ph[s][1] = (uint32_t)s;
  }
  qsort(ph, n_streams, sizeof *ph, cmp_phase);
  /* Each stream's send order: 1 % of packets swapped with the next. */
  uint32_t *order = malloc(n_streams * n_pkts * sizeof *order);
  for (size_t s = 0; s < n_streams; s++) {
    uint32_t *o = order + s * n_pkts;
    for (size_t k = 0; k < n_pkts; k++)
      o[k] = (uint32_t)k;
    for (size_t k = 1; k + 1 < n_pkts; k++)
      if (rnd() % 100 == 0) {
        uint32_t t = o[k];
        o[k] = o[k + 1];
        o[k + 1] = t;
        k++;
        n_reordered++;
      }
  }
  size_t e = 0;
  for (size_t t = 0; t < n_pkts; t++)
    for (size_t i = 0; i < n_streams; i++, e++) {
      uint32_t s = ph[i][1];
      trace[e].stream = s;
      trace[e].k = order[s * n_pkts + t];
      ev_time[e] = (uint64_t)t * 20 * MS + ph[i][0];
    }
  free(order);
  free(ph);
  /* The packets: PT 0, marker on the first, payload bytes from a generator
   * (any octet is a mu-law sample). */
  plain = malloc(n_pkts * sizeof *plain);
  for (size_t k = 0; k < n_pkts; k++) {
    uint8_t *b = plain[k];
    b[0] = 0x80;
    b[1] = k == 0 ? 0x80 : 0x00;
    rtpb_put16(b + 2, (uint16_t)(SEQ0 + k));
    rtpb_put32(b + 4, (uint32_t)(TS0 + k * PKT));
    rtpb_put32(b + 8, SSRC);
    for (size_t i = 0; i < PKT; i++)
      b[12 + i] = (uint8_t)(rnd() & 0xff);
  }
}

/* ---------------------------------------------------------------------- */
/* The minimal receiver                                                     */

static int16_t ulaw_table[256];

static int16_t ulaw_to_linear(uint8_t u)
{
  u = (uint8_t)~u;
  int t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (int16_t)((u & 0x80) ? (0x84 - t) : (t - 0x84));
}

typedef struct min_stream {
  int started;
  uint16_t expect;
  uint64_t packets, lost, reordered;
  int16_t buf[PKT];
} min_stream;

static min_stream *min_by_port; /* 65,536 of them */

static void min_receive(const uint8_t *p, size_t len, const siprec_path *path)
{
  uint16_t port = ntohs(((const struct sockaddr_in *)path->local)->sin_port);
  min_stream *m = &min_by_port[port];
  if (len < 12 || (p[0] >> 6) != 2)
    return;
  size_t off = 12 + 4u * (p[0] & 0x0f);
  if (p[0] & 0x10) {
    if (len < off + 4)
      return;
    off += 4 + 4u * (((size_t)p[off + 2] << 8) | p[off + 3]);
  }
  size_t end = len;
  if (p[0] & 0x20)
    end -= p[len - 1];
  if (off > end || (p[1] & 0x7f) != 0)
    return;
  uint16_t seq = (uint16_t)((p[2] << 8) | p[3]);
  if (!m->started) {
    m->started = 1;
    m->expect = seq;
  }
  int16_t d = (int16_t)(seq - m->expect);
  if (d < 0) {
    m->reordered++;
  } else {
    m->lost += (uint64_t)d;
    m->expect = (uint16_t)(seq + 1);
  }
  m->packets++;
  size_t n = end - off < PKT ? end - off : PKT;
  for (size_t i = 0; i < n; i++)
    m->buf[i] = ulaw_table[p[off + i]];
}

/* ---------------------------------------------------------------------- */
/* The handler and its calls                                                */

/* Per thread: a shared counter would bounce a cache line between the two
 * feeding threads and measure this file, not the library. */
static _Thread_local int64_t sink;
static _Thread_local int64_t touched_frames;
static volatile int64_t sink_all;
static _Thread_local uint32_t seen_rate;

/* Every sample of a frame read and summed: what the callback "touches".
 * Its cost lands on the handler's side of media-vs-minimal, so it is kept
 * as small as reading every sample allows: SSE2's pmaddwd adds eight
 * samples in pairs in one step (a frame of 65,536 samples cannot overflow
 * the 32-bit sums). */
static int64_t sum_samples(const int16_t *x, size_t n)
{
  size_t i = 0;
  int64_t sum = 0;
#if defined(__SSE2__)
  __m128i acc = _mm_setzero_si128(), ones = _mm_set1_epi16(1);
  for (; i + 8 <= n && i < 65536; i += 8)
    acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(x + i)), ones));
  int32_t lane[4];
  _mm_storeu_si128((__m128i *)lane, acc);
  sum = (int64_t)lane[0] + lane[1] + lane[2] + lane[3];
#endif
  for (; i < n; i++)
    sum += x[i];
  return sum;
}

static void on_audio(void *user, const siprec_audio_frame *fr)
{
  (void)user;
  sink += sum_samples(fr->samples, fr->n_samples);
  touched_frames++;
#ifdef SR_HAVE_OPUS
  seen_rate = fr->sample_rate;
#endif
}


static const char sdp_savp2[] =
  "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/SAVP 0\r\n"
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" SRTP_KEY_B64 "\r\n"
  "a=sendonly\r\na=label:1\r\n"
  "m=audio 10002 RTP/SAVP 0\r\n"
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" SRTP_KEY_B64 "\r\n"
  "a=sendonly\r\na=label:2\r\n";

typedef struct rig {
  fixture f;
  size_t calls;
  struct sockaddr_in *local, *remote; /* per stream */
  siprec_path *path;                  /* per stream */
} rig;

/* A handler with `calls` two-stream calls answered and ACKed; -1 on failure. */
static const char sdp_opus2[] =
  "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
  "a=sendonly\r\na=label:1\r\n"
  "m=audio 10002 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
  "a=sendonly\r\na=label:2\r\n";

static int rig_open(rig *r, size_t calls, int srtp)
{
  memset(r, 0, sizeof *r);
  r->calls = calls;
  siprec_handler_config *cfg;
  if (siprec_handler_config_new(&cfg, NULL) != 0)
    return -1;
  siprec_handler_config_set_rtp_ports(cfg, 10000, 60000);
  siprec_handler_config_set_max_sessions(cfg, calls + 16);
  if (getenv("BENCH_MEDIA_LOG"))
    siprec_handler_config_set_log_level(cfg, SIPREC_LOG_DEBUG);
  int rc = fx_init(&r->f, cfg);
  siprec_handler_config_free(cfg);
  if (rc < 0) {
    fprintf(stderr, "bench_media: siprec_handler_new failed\n");
    return -1;
  }
  r->local = calloc(calls * 2, sizeof *r->local);
  r->remote = calloc(calls * 2, sizeof *r->remote);
  r->path = calloc(calls * 2, sizeof *r->path);
  static char msg[16384];
  char cid[32], br[32], tag[64];
  for (size_t c = 0; c < calls; c++) {
    snprintf(cid, sizeof cid, "bm%zu", c);
    snprintf(br, sizeof br, "i%zu", c);
    fx_request(msg, sizeof msg, "INVITE", cid, NULL, 1, br, "Require: siprec\r\n",
               srtp == 2 ? sdp_opus2 : srtp ? sdp_savp2 : fx_sdp2);
    if (fx_feed(&r->f, msg, T_SETUP) <= 0 || r->f.status != 200) {
      fprintf(stderr, "bench_media: call %zu: INVITE answered %d:\n%.600s\n", c, r->f.status, r->f.resp);
      return -1;
    }
    if (fx_resp_to_tag(r->f.resp, tag, sizeof tag) < 0)
      return -1;
    snprintf(br, sizeof br, "a%zu", c);
    fx_request(msg, sizeof msg, "ACK", cid, tag, 1, br, NULL, NULL);
    fx_feed(&r->f, msg, T_SETUP);
  }
  siprec_session **ss = calloc(calls + 1, sizeof *ss);
  size_t n = siprec_handler_sessions(r->f.h, ss, calls + 1);
  if (n != calls) {
    fprintf(stderr, "bench_media: %zu sessions open, not %zu\n", n, calls);
    return -1;
  }
  /* Sessions come in no particular order: stream numbers are the list's. */
  for (size_t c = 0; c < calls; c++) {
    for (size_t i = 0; i < 2; i++) {
      siprec_stream_info info = { .size = sizeof info };
      if (siprec_session_stream(ss[c], i, &info) != 0 || info.port == 0) {
        fprintf(stderr, "bench_media: no port for a stream\n");
        return -1;
      }
      size_t s = c * 2 + i;
      r->local[s] = r->f.srs;
      r->local[s].sin_port = htons(info.port);
      r->remote[s] = r->f.src;
      r->remote[s].sin_port = htons((uint16_t)(10000 + 2 * i));
      r->path[s] = (siprec_path){ SIPREC_TRANSPORT_UDP, (struct sockaddr *)&r->local[s],
                                  (struct sockaddr *)&r->remote[s], 0 };
    }
    siprec_session_unref(ss[c]);
  }
  free(ss);
  return 0;
}

static void rig_close(rig *r)
{
  if (r->f.h)
    siprec_handler_free(r->f.h);
  free(r->local);
  free(r->remote);
  free(r->path);
}

/* ---------------------------------------------------------------------- */
/* The timed passes                                                         */

static uint64_t bad_rc;
static size_t lim_calls; /* the passes feed calls below this only */

/* The handler over the trace (from `from` to `to`, only calls with
 * call % mod == rem); expire once per tick when `expire`. Seconds. */
/* Datagrams per siprec_handler_media_batch() call in pass_handler (0: one
 * siprec_handler_media() call each). media-vs-minimal feeds batches of
 * BATCH_DEFAULT, what a server's receive loop has after one readiness of
 * its sockets at this load (siprec-server: recvmmsg over every ready
 * socket), and shows one call a datagram beside it. */
#define BATCH_MAX 64
#define BATCH_DEFAULT 32
static size_t batch_n, batch_opt = BATCH_DEFAULT;

static void feed_batch(rig *r, siprec_datagram *dg, size_t *n)
{
  int rc[BATCH_MAX];
  if (!*n)
    return;
  if (siprec_handler_media_batch(r->f.h, dg, *n, rc) != 0)
    bad_rc += *n;
  for (size_t i = 0; i < *n; i++)
    if (rc[i] != 0)
      bad_rc++;
  *n = 0;
}

static double pass_handler(rig *r, int srtp, size_t mod, size_t rem, int expire)
{
  uint64_t t0 = now_ns();
  uint64_t next_tick = 20 * MS;
  siprec_datagram dg[BATCH_MAX];
  size_t n_dg = 0;
  for (size_t e = 0; e < n_ev; e++) {
    const ev *x = &trace[e];
    if ((x->stream / 2) % mod != rem || x->stream / 2 >= lim_calls)
      continue;
    uint64_t t = T_MEDIA + ev_time[e];
    if (expire && ev_time[e] >= next_tick) {
      feed_batch(r, dg, &n_dg); /* what came before the tick, first */
      siprec_handler_expire(r->f.h, t);
      next_tick += 20 * MS;
    }
    const void *p = plain[x->k];
    size_t len = sizeof plain[0];
#ifdef SR_HAVE_OPUS
    if (srtp == 2) {
      p = opkt[x->k];
      len = (size_t)opkt_len[x->k];
    } else
#endif
#ifdef SR_HAVE_SRTP
    if (srtp) {
      p = prot[x->k];
      len = (size_t)prot_len[x->k];
    }
#else
    (void)srtp;
#endif
    if (batch_n) {
      dg[n_dg++] = (siprec_datagram){ p, len, &r->path[x->stream], t };
      if (n_dg == batch_n)
        feed_batch(r, dg, &n_dg);
    } else if (siprec_handler_media(r->f.h, p, len, &r->path[x->stream], t) != 0) {
      bad_rc++;
    }
  }
  feed_batch(r, dg, &n_dg);
  if (expire)
    siprec_handler_expire(r->f.h, T_MEDIA + (uint64_t)n_pkts * 20 * MS + 1000 * MS);
  return (double)(now_ns() - t0) * 1e-9;
}

#ifdef SR_HAVE_SRTP
static srtp_t *rx; /* per stream */
static uint8_t srtp_key[30];
#endif

/* The minimal receiver over the trace (ports as the rig's). Seconds. */
static double pass_minimal(const rig *r, int srtp)
{
  memset(min_by_port, 0, 65536 * sizeof *min_by_port);
  uint64_t t0 = now_ns();
  for (size_t e = 0; e < n_ev; e++) {
    const ev *x = &trace[e];
    if (x->stream / 2 >= lim_calls)
      continue;
#ifdef SR_HAVE_SRTP
    if (srtp) {
      uint8_t buf[sizeof prot[0]];
      int len = prot_len[x->k];
      memcpy(buf, prot[x->k], (size_t)len);
      if (srtp_unprotect(rx[x->stream], buf, &len) != srtp_err_status_ok) {
        bad_rc++;
        continue;
      }
      min_receive(buf, (size_t)len, &r->path[x->stream]);
      continue;
    }
#else
    (void)srtp;
#endif
    min_receive(plain[x->k], sizeof plain[0], &r->path[x->stream]);
  }
  return (double)(now_ns() - t0) * 1e-9;
}

#ifdef SR_HAVE_SRTP
static int srtp_setup(void)
{
  /* libsrtp2 is initialised once per process, by the library (the probe
   * call before): a second srtp_init() fails, and its failure before the
   * library's would leave the library without SRTP. */
  /* The key of SRTP_KEY_B64, decoded (30 octets: key and salt). */
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const char *in = SRTP_KEY_B64;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (; *in && o < sizeof srtp_key; in++) {
    const char *q = strchr(b64, *in);
    if (!q)
      break;
    acc = (acc << 6) | (uint32_t)(q - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      srtp_key[o++] = (uint8_t)(acc >> bits);
    }
  }
  srtp_policy_t pol;
  memset(&pol, 0, sizeof pol);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
  pol.key = srtp_key;
  pol.ssrc.type = ssrc_any_outbound;
  pol.window_size = 1024;
  srtp_t tx;
  if (srtp_create(&tx, &pol) != srtp_err_status_ok)
    return -1;
  prot = malloc(n_pkts * sizeof *prot);
  prot_len = malloc(n_pkts * sizeof *prot_len);
  for (size_t k = 0; k < n_pkts; k++) {
    memcpy(prot[k], plain[k], sizeof plain[0]);
    prot_len[k] = (int)sizeof plain[0];
    if (srtp_protect(tx, prot[k], &prot_len[k]) != srtp_err_status_ok)
      return -1;
  }
  srtp_dealloc(tx);
  rx = calloc(n_streams, sizeof *rx);
  return 0;
}

static int srtp_rx_make(void)
{
  srtp_policy_t pol;
  memset(&pol, 0, sizeof pol);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
  pol.key = srtp_key;
  pol.ssrc.type = ssrc_any_inbound;
  pol.window_size = 1024;
  for (size_t s = 0; s < lim_calls * 2; s++)
    if (srtp_create(&rx[s], &pol) != srtp_err_status_ok)
      return -1;
  return 0;
}

static void srtp_rx_free(void)
{
  for (size_t s = 0; s < lim_calls * 2; s++)
    srtp_dealloc(rx[s]);
}
#endif

#ifdef SR_HAVE_OPUS
static uint32_t opus_out_rate; /* the rate the handler's frames came at */
static OpusDecoder **odec;     /* per stream */

/* 20 ms Opus packets (48 kHz mono, VOIP, the encoder's default bitrate) of
 * a voiced synthetic signal, PT 111. */
static int opus_setup(void)
{
  int err;
  OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
  if (!enc)
    return -1;
  opkt = malloc(n_pkts * sizeof *opkt);
  opkt_len = malloc(n_pkts * sizeof *opkt_len);
  int16_t pcm[960];
  double ph = 0;
  for (size_t k = 0; k < n_pkts; k++) {
    for (int i = 0; i < 960; i++) {
      ph += 2 * 3.14159265358979 * (120.0 + 30.0 * (double)(k % 25) / 25.0) / 48000.0;
      pcm[i] = (int16_t)(6000.0 * __builtin_sin(ph) + (double)(rnd() % 512) - 256.0);
    }
    uint8_t *b = opkt[k];
    memcpy(b, plain[k], 12);
    b[1] = (uint8_t)((k == 0 ? 0x80 : 0x00) | 111);
    rtpb_put32(b + 4, (uint32_t)(TS0 + k * 960));
    int n = opus_encode(enc, pcm, 960, b + 12, 1276);
    if (n <= 0) {
      opus_encoder_destroy(enc);
      return -1;
    }
    opkt_len[k] = 12 + n;
  }
  opus_encoder_destroy(enc);
  odec = calloc(n_streams, sizeof *odec);
  return 0;
}

/* libopus alone: a decoder per stream (made before, at the handler's
 * rate), the payload after a fixed 12-octet header decoded in arrival
 * order into one buffer. Seconds. */
static double pass_opus_decode(void)
{
  static int16_t out[5760];
  uint64_t t0 = now_ns();
  for (size_t e = 0; e < n_ev; e++) {
    const ev *x = &trace[e];
    if (x->stream / 2 >= lim_calls)
      continue;
    if (opus_decode(odec[x->stream], opkt[x->k] + 12, opkt_len[x->k] - 12, out, 5760, 0) <= 0)
      bad_rc++;
  }
  return (double)(now_ns() - t0) * 1e-9;
}
#endif

/* ---------------------------------------------------------------------- */
/* The two threads                                                          */

typedef struct worker {
  rig *r;
  size_t mod, rem;
  pthread_barrier_t *bar;
  double secs;
} worker;

static void *worker_run(void *arg)
{
  worker *w = arg;
  pthread_barrier_wait(w->bar);
  w->secs = pass_handler(w->r, 0, w->mod, w->rem, 0);
  sink_all += sink;
  return NULL;
}

/* Both halves at once on two threads: wall seconds. */
static double pass_two_threads(rig *r)
{
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, 3);
  worker w[2] = { { r, 2, 0, &bar, 0 }, { r, 2, 1, &bar, 0 } };
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&th[i], NULL, worker_run, &w[i]);
  pthread_barrier_wait(&bar);
  uint64_t t0 = now_ns();
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  double s = (double)(now_ns() - t0) * 1e-9;
  pthread_barrier_destroy(&bar);
  return s;
}

/* ---------------------------------------------------------------------- */
/* Heap per active session                                                  */

static int measure_session_kib(size_t sessions, double *kib, double *idle_kib)
{
  size_t h0 = mallinfo2().uordblks;
  rig r;
  if (rig_open(&r, sessions, 0) < 0)
    return -1;
  size_t h1 = mallinfo2().uordblks;
  /* 10 packets (200 ms) per stream, interleaved, the last tick's expire. */
  for (size_t k = 0; k < 10 && k < n_pkts; k++)
    for (size_t s = 0; s < sessions * 2; s++)
      if (siprec_handler_media(r.f.h, plain[k], sizeof plain[0], &r.path[s],
                               T_MEDIA + k * 20 * MS) != 0)
        bad_rc++;
  siprec_handler_expire(r.f.h, T_MEDIA + 10 * 20 * MS);
  size_t h2 = mallinfo2().uordblks;
  *kib = ((double)h2 - (double)h1) / (double)sessions / 1024.0;
  *idle_kib = ((double)h1 - (double)h0) / (double)sessions / 1024.0;
  printf("# media-session: %zu sessions; heap (mallinfo2 uordblks) before %zu, idle %zu, "
         "active %zu bytes: idle %.2f KiB/session, media adds %.2f KiB/session\n",
         sessions, h0, h1, h2, *idle_kib, *kib);
  rig_close(&r);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* The driver                                                               */

static void verdict(const char *name, double value, const char *unit, int at_most,
                    const char *limit_s, double limit, const char *why, const char *detail)
{
  if (why) {
    printf("target %s: skipped (%s)\n", name, why);
    return;
  }
  double shown = (double)(long long)(value * 100.0 + 0.5) / 100.0;
  int met = at_most ? shown <= limit : shown >= limit;
  printf("target %s: %.2f%s (goal %s %s) %s%s%s\n", name, value, unit, at_most ? "<=" : ">=",
         limit_s, met ? "met" : "missed", detail ? "  " : "", detail ? detail : "");
  fflush(stdout);
}

/* The per-round ratios a[i] / b[i]: median and range. */
static spread ratio_spread(const double *a, const double *b, int reps)
{
  double per[MAX_REPS];
  for (int i = 0; i < reps; i++)
    per[i] = a[i] / b[i];
  return spread_of(per, reps);
}

/* A ratio target from per-round seconds a[] and b[]: per-round a/b (or b/a
 * with `inverse`, a throughput ratio), median and range. */
static void ratio_verdict(const char *name, const double *a, const double *b, int reps,
                          const char *na, const char *nb, int inverse, int at_most,
                          const char *limit_s, double limit, double pkts_a, double pkts_b)
{
  double per[MAX_REPS];
  for (int i = 0; i < reps; i++)
    per[i] = inverse ? (pkts_a / a[i]) / (pkts_b / b[i]) : a[i] / b[i];
  spread sp = spread_of(per, reps), sa = spread_of(a, reps), sb = spread_of(b, reps);
  char detail[400];
  snprintf(detail, sizeof detail,
           "[rounds %.2fx-%.2fx; %s %.1f ns/pkt (%.1f-%.1f) / %s %.1f ns/pkt (%.1f-%.1f)]",
           sp.min, sp.max, na, sa.med * 1e9 / pkts_a, sa.min * 1e9 / pkts_a,
           sa.max * 1e9 / pkts_a, nb, sb.med * 1e9 / pkts_b, sb.min * 1e9 / pkts_b,
           sb.max * 1e9 / pkts_b);
  verdict(name, sp.med, "x", at_most, limit_s, limit, NULL, detail);
}

static void usage(FILE *f)
{
  fprintf(f,
          "usage: bench_media [--quick] [--reps N] [--calls N] [--seconds N] [--sessions N]\n"
          "The media path (siprec_handler_media) over a generated trace of two-stream calls\n"
          "(20 ms G.711, 1 %% reordering): against a minimal receiver, with SRTP against\n"
          "srtp_unprotect, on two threads against one, and the heap per active session.\n"
          "Prints one verdict line per target.\n"
          "  --quick        200 calls for 2 s, 3 rounds, 1,000 sessions for the heap\n"
          "  --opus-calls N Opus over the first N calls only (default 200)\n"
#ifdef SR_HAVE_SRTP_NETTLE
          "  --srtp-calls N SRTP over the first N calls only (default all: libsrtp2\n"
          "                 runs on Nettle in this build, srtp_nettle)\n"
#else
          "  --srtp-calls N SRTP over the first N calls only (default 200: Debian's\n"
          "                 NSS-backed libsrtp2 slows down with every open context;\n"
          "                 all calls when built with srtp_nettle)\n"
#endif
          "  --only NAME    measure that target only (for profiling)\n"
          "  --batch N      media-vs-minimal feeds N datagrams a call of\n"
          "                 siprec_handler_media_batch() (default 32, at most 64; 0: one\n"
          "                 siprec_handler_media() call each)\n"
          "  (default)      2,000 calls for 10 s, 5 rounds, 10,000 sessions\n"
          "Exit status: 0 whatever the verdicts; 1 when a measurement failed; 2 usage.\n");
}

/* --only NAME: the one target to measure, NULL for all. */
static const char *only;

static int wanted(const char *name)
{
  return !only || !strcmp(only, name);
}

int main(int argc, char **argv)
{
  int quick = 0, reps = 0;
  size_t calls = 0, seconds = 0, sessions = 0, srtp_calls = 0, opus_calls = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--quick"))
      quick = 1;
    else if (!strcmp(a, "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (!strcmp(a, "--calls") && i + 1 < argc)
      calls = (size_t)atol(argv[++i]);
    else if (!strcmp(a, "--seconds") && i + 1 < argc)
      seconds = (size_t)atol(argv[++i]);
    else if (!strcmp(a, "--opus-calls") && i + 1 < argc)
      opus_calls = (size_t)atol(argv[++i]);
    else if (!strcmp(a, "--srtp-calls") && i + 1 < argc)
      srtp_calls = (size_t)atol(argv[++i]);
    else if (!strcmp(a, "--only") && i + 1 < argc)
      only = argv[++i];
    else if (!strcmp(a, "--sessions") && i + 1 < argc)
      sessions = (size_t)atol(argv[++i]);
    else if (!strcmp(a, "--batch") && i + 1 < argc)
      batch_opt = (size_t)atol(argv[++i]);
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (batch_opt > BATCH_MAX) {
    usage(stderr);
    return 2;
  }
  if (!reps)
    reps = quick ? 3 : 5;
  if (!calls)
    calls = quick ? 200 : 2000;
  if (!seconds)
    seconds = quick ? 2 : 10;
  if (!sessions)
    sessions = quick ? 1000 : 10000;
  /* Without srtp_nettle, libsrtp2 runs on NSS, whose cost per packet
   * grows with the contexts open (above 100 us at 4,000 streams): then
   * 200 calls unless asked. */
#ifdef SR_HAVE_SRTP_NETTLE
  if (!srtp_calls || srtp_calls > calls)
    srtp_calls = calls;
#else
  if (!srtp_calls || srtp_calls > calls)
    srtp_calls = calls < 200 ? calls : 200;
#endif
  if (!opus_calls || opus_calls > calls)
    opus_calls = calls < 200 ? calls : 200;
  if (reps < 1 || reps > MAX_REPS || calls < 2 || calls > 12000 || seconds < 1 ||
      sessions < 1 || sessions > 12000) {
    usage(stderr);
    return 2;
  }
  n_calls = calls;
  lim_calls = calls;
  n_pkts = seconds * 50;
  for (int i = 0; i < 256; i++)
    ulaw_table[i] = ulaw_to_linear((uint8_t)i);
  min_by_port = calloc(65536, sizeof *min_by_port);
  make_trace();
  printf("# bench_media %s: %zu calls (%zu streams), %zu s of 20 ms PCMU (%zu packets, "
         "%zu reordered), %d rounds (median, interleaved)\n",
         quick ? "quick" : "full", n_calls, n_streams, seconds, n_ev, n_reordered, reps);
  print_load("at start");
  fflush(stdout);
  double pk = (double)n_ev;
  int failed = 0;

  double ta[MAX_REPS], tb[MAX_REPS];
  if (wanted("media-vs-minimal")) {
    /* media-vs-minimal */
    double tc[MAX_REPS];
    for (int i = 0; i < reps; i++) {
      rig r;
      if (rig_open(&r, n_calls, 0) < 0)
        return 1;
      /* Batched (a), the minimal (b), one call a datagram (c): each pass
       * over the same streams, in a rotating order, on a fresh rig. */
      int fed = 0;
      for (int k = 0; k < 3; k++) {
        int which = (i + k) % 3;
        if (which == 1) {
          tb[i] = pass_minimal(&r, 0);
          continue;
        }
        if (fed) { /* the streams start again where the trace does */
          rig_close(&r);
          if (rig_open(&r, n_calls, 0) < 0)
            return 1;
        }
        batch_n = which == 0 ? batch_opt : 0;
        touched_frames = 0; /* the print below: one handler pass's */
        *(which == 0 ? &ta[i] : &tc[i]) = pass_handler(&r, 0, 1, 0, 1);
        batch_n = 0;
        fed = 1;
      }
      if (i == 0) {
        printf("# G.711: %lld frames delivered, handler packets %llu, lost %llu, reordered %llu, "
               "late %llu, non-zero returns %llu\n",
               (long long)touched_frames,
               (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA, SIPREC_MEDIA_PACKETS),
               (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA, SIPREC_MEDIA_LOST),
               (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA,
                                                       SIPREC_MEDIA_REORDERED),
               (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA, SIPREC_MEDIA_LATE),
               (unsigned long long)bad_rc);
        fflush(stdout);
      }
      rig_close(&r);
    }
    char na[64];
    snprintf(na, sizeof na, "handler (batches of %zu)", batch_opt);
    ratio_verdict(batch_opt ? "media-vs-minimal" : "media-vs-minimal (one call a datagram)", ta,
                  tb, reps, na, "minimal", 0, 1, "3.0x", 3.0, pk, pk);
    spread one = ratio_spread(tc, tb, reps);
    printf("# media-vs-minimal, one siprec_handler_media() call a datagram: %.2fx [rounds "
           "%.2fx-%.2fx; handler %.1f ns/pkt]\n",
           one.med, one.min, one.max, spread_of(tc, reps).med * 1e9 / pk);
  }

  if (wanted("opus-vs-decode")) {
    /* opus-vs-decode: over the first opus_calls calls, like SRTP. */
#ifdef SR_HAVE_OPUS
    if (opus_setup() < 0) {
      verdict("opus-vs-decode", 0, "x", 1, "1.2x", 1.2, "libopus encoding failed", NULL);
      failed = 1;
    } else {
      lim_calls = opus_calls;
      double opk = (double)(opus_calls * 2 * n_pkts);
      uint64_t bad0 = bad_rc;
      for (int i = 0; i < reps; i++) {
        rig r;
        if (rig_open(&r, opus_calls, 2) < 0)
          return 1;
        if (i % 2 == 0)
          ta[i] = pass_handler(&r, 2, 1, 0, 1);
        if (i == 0) {
          opus_out_rate = seen_rate;
          printf("# Opus over the first %zu calls (%.0f packets, %.1f kbit/s): handler packets "
                 "%llu, decode errors %llu, frames at %u Hz, non-zero returns %llu\n",
                 opus_calls, opk, (double)(opkt_len[1] - 12) * 8 * 50 / 1000.0,
                 (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA,
                                                         SIPREC_MEDIA_PACKETS),
                 (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA,
                                                         SIPREC_MEDIA_DECODE_ERRORS),
                 opus_out_rate, (unsigned long long)(bad_rc - bad0));
          fflush(stdout);
        }
        int err;
        for (size_t st = 0; st < opus_calls * 2; st++)
          odec[st] = opus_decoder_create((opus_int32)(opus_out_rate ? opus_out_rate : 48000), 1,
                                         &err);
        tb[i] = pass_opus_decode();
        for (size_t st = 0; st < opus_calls * 2; st++)
          opus_decoder_destroy(odec[st]);
        if (i % 2)
          ta[i] = pass_handler(&r, 2, 1, 0, 1);
        rig_close(&r);
      }
      ratio_verdict("opus-vs-decode", ta, tb, reps, "handler", "opus_decode", 0, 1, "1.2x", 1.2,
                    opk, opk);
      lim_calls = n_calls;
    }
#else
    verdict("opus-vs-decode", 0, "x", 1, "1.2x", 1.2, "built without libopus", NULL);
#endif
  }

  if (wanted("srtp-vs-unprotect")) {
    /* srtp-vs-unprotect */
#ifdef SR_HAVE_SRTP
    /* A first SRTP call through the handler before this file touches
     * libsrtp2: the library's own srtp_init() and suite probe come first. */
    rig probe;
    int probe_rc = rig_open(&probe, 1, 1);
    if (probe_rc == 0)
      rig_close(&probe);
    else
      failed = 1;
    if (srtp_setup() < 0) {
      verdict("srtp-vs-unprotect", 0, "x", 1, "1.5x", 1.5, "libsrtp2 setup failed", NULL);
      failed = 1;
    } else {
      uint64_t bad0 = bad_rc;
      lim_calls = srtp_calls;
      double spk = (double)(srtp_calls * 2 * n_pkts);
      printf("# SRTP over the first %zu calls of the trace (%.0f packets)\n", srtp_calls, spk);
#ifdef SR_HAVE_SRTP_NETTLE
      /* The library put Nettle's types into libsrtp2's kernel (its first
       * SRTP call above): both sides run on them. */
      printf("# libsrtp2's AES-CM and HMAC-SHA1 on Nettle: %s\n",
             sr_srtp_kernel_installed() == SR_SRTP_KERNEL_ALL ? "yes" : "NO (NSS)");
#endif
      for (int i = 0; i < reps; i++) {
        rig r;
        if (rig_open(&r, srtp_calls, 1) < 0)
          return 1;
        /* NSS (libsrtp2's crypto in Debian) slows with every open context:
         * each side runs with only its own contexts open (the minimal's made
         * and freed around its pass, the handler freed after its pass). */
        if (i % 2) {
          if (srtp_rx_make() < 0)
            return 1;
          tb[i] = pass_minimal(&r, 1);
          srtp_rx_free();
          ta[i] = pass_handler(&r, 1, 1, 0, 1);
        } else {
          ta[i] = pass_handler(&r, 1, 1, 0, 1);
        }
        if (i == 0) {
          printf("# SRTP: handler packets %llu, SRTP failures %llu, non-zero returns %llu\n",
                 (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA,
                                                         SIPREC_MEDIA_PACKETS),
                 (unsigned long long)siprec_handler_stat(r.f.h, SIPREC_STAT_MEDIA,
                                                         SIPREC_MEDIA_SRTP_FAILURES),
                 (unsigned long long)(bad_rc - bad0));
          fflush(stdout);
        }
        if (!(i % 2)) {
          siprec_handler_free(r.f.h);
          r.f.h = NULL;
          if (srtp_rx_make() < 0)
            return 1;
          tb[i] = pass_minimal(&r, 1);
          srtp_rx_free();
        }
        rig_close(&r);
      }
      ratio_verdict("srtp-vs-unprotect", ta, tb, reps, "handler", "unprotect+minimal", 0, 1,
                    "1.5x", 1.5, spk, spk);
      lim_calls = n_calls;
    }
#else
    verdict("srtp-vs-unprotect", 0, "x", 1, "1.5x", 1.5, "built without libsrtp2", NULL);
#endif
  }

  if (wanted("media-threads")) {
    /* media-threads: rounds of (one thread, all calls), (two threads). */
    for (int i = 0; i < reps; i++) {
      rig r;
      for (int j = 0; j < 2; j++) { /* odd rounds: two threads first */
        if (rig_open(&r, n_calls, 0) < 0)
          return 1;
        if ((j == 0) == (i % 2 == 0))
          tb[i] = pass_handler(&r, 0, 1, 0, 0);
        else
          ta[i] = pass_two_threads(&r);
        rig_close(&r);
      }
    }
    ratio_verdict("media-threads", ta, tb, reps, "2 threads", "1 thread", 1, 0, "1.6x", 1.6, pk,
                  pk);
  }

  if (wanted("media-session-kib")) {
    /* media-session-kib */
    double kib, idle_kib;
    if (measure_session_kib(sessions, &kib, &idle_kib) < 0) {
      verdict("media-session-kib", 0, " KiB", 1, "10 KiB", 10.0, "measurement failed", NULL);
      failed = 1;
    } else {
      char d[128];
      snprintf(d, sizeof d, "[%zu sessions; idle signalling session %.2f KiB]", sessions, idle_kib);
      verdict("media-session-kib", kib, " KiB", 1, "10 KiB", 10.0, NULL, d);
    }
  }

  print_load("at end");
  return failed;
}
