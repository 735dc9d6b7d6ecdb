/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a session snapshot costs (siprec/store.h): N confirmed SIPREC
 * sessions (two streams, a metadata document of two participants) in two
 * handlers alike but for snapshots; each repetition sends every session an
 * in-dialog OPTIONS, which with snapshots on writes the session's snapshot
 * to a callback that copies it (what a host does before handing it to its
 * writer). Kinds interleave (off, on, off, on, ...); medians per
 * operation, with min and max, and the ratio of the medians. Also: the
 * snapshot's size, and a restore's cost against the same OPTIONS.
 *
 * Informational: issue 13 asks for the cost to be measured and reported
 * (docs/performance.md), not held to a number; the store's own write (a
 * file's fsync, a Redis round trip) is the host's and comes on top. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <siprec/siprec.h>

#include "../common/handler_msgs.h"
#include "../common/snapshot_host.h"

#define MS UINT64_C(1000000)
#define MAX_REPS 63

static const char metadata[] =
  "<?xml version='1.0' encoding='UTF-8'?>\r\n"
  "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode>"
  "<session session_id='cs1'><sipSessionID>ab12;remote=cd34</sipSessionID></session>"
  "<participant participant_id='pa'><nameID aor='sip:alice@example.com'><name>Alice</name>"
  "</nameID></participant>"
  "<participant participant_id='pb'><nameID aor='sip:bob@example.com'><name>Bob</name>"
  "</nameID></participant>"
  "<stream stream_id='s1' session_id='cs1'><label>1</label></stream>"
  "<stream stream_id='s2' session_id='cs1'><label>2</label></stream>"
  "<participantstreamassoc participant_id='pa'><send>s1</send><recv>s2</recv>"
  "</participantstreamassoc>"
  "<participantstreamassoc participant_id='pb'><send>s2</send><recv>s1</recv>"
  "</participantstreamassoc></recording>";

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  (void)data;
  (void)len;
  (void)path;
}

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct bench_h {
  siprec_handler *h;
  siprec_path path;
  struct sockaddr_in src, srs;
  char (*tag)[64];
  unsigned cseq;
} bench_h;

static int make(bench_h *b, int snapshots, size_t n)
{
  siprec_handler_config *cfg;
  siprec_handler_callbacks *cbs;
  if (siprec_handler_config_new(&cfg, NULL) || siprec_handler_callbacks_new(&cbs, NULL))
    return -1;
  siprec_handler_config_set_rtp_ports(cfg, 10000, 60000);
  siprec_handler_config_set_ping_interval(cfg, 0);
  if (snapshots) {
    siprec_handler_config_set_snapshots(cfg, 1, 0);
    static const uint8_t key[SIPREC_SNAPSHOT_KEY_LEN] = "bench-bench-bench-bench-bench-be";
    (void)siprec_handler_config_set_snapshot_key(cfg, key); /* sealing is part of the cost */
    siprec_handler_callbacks_set_snapshot(cbs, fx_snapshot_cb); /* copies it, as a host does */
  }
  siprec_handler_callbacks_set_send(cbs, on_send);
  int rc = siprec_handler_new(&b->h, cfg, cbs, NULL, NULL);
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);
  if (rc)
    return -1;
  b->src = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(5060) };
  b->srs = b->src;
  inet_pton(AF_INET, "192.0.2.1", &b->src.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &b->srs.sin_addr);
  b->path = (siprec_path){ SIPREC_TRANSPORT_UDP, (struct sockaddr *)&b->srs,
                           (struct sockaddr *)&b->src, 0 };
  b->tag = calloc(n, sizeof *b->tag);
  if (!b->tag)
    return -1;
  static char msg[16384], body[8192], resp[16384];
  for (size_t i = 0; i < n; i++) {
    char cid[64];
    snprintf(cid, sizeof cid, "bench-snap-%zu", i);
    int blen = snprintf(body, sizeof body,
                        "--b1\r\nContent-Type: application/sdp\r\n\r\n%s"
                        "--b1\r\nContent-Type: application/rs-metadata+xml\r\n"
                        "Content-Disposition: recording-session\r\n\r\n%s\r\n--b1--\r\n",
                        fx_sdp2, metadata);
    snprintf(msg, sizeof msg,
             "INVITE sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKi%zu\r\n"
             "From: <sip:src@192.0.2.1>;tag=src1\r\nTo: <sip:srs@192.0.2.10>\r\n"
             "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:src@192.0.2.1>;+sip.src\r\n"
             "Require: siprec\r\nContent-Type: multipart/mixed;boundary=b1\r\n"
             "Content-Length: %d\r\n\r\n%s",
             i, cid, blen, body);
    int status = 0;
    if (fx_process(b->h, &b->path, msg, 1000 * MS, resp, sizeof resp, &status) <= 0 ||
        status != 200 || fx_resp_to_tag(resp, b->tag[i], sizeof b->tag[i]) < 0)
      return -1;
    fx_request(msg, sizeof msg, "ACK", cid, b->tag[i], 1, "ack", NULL, NULL);
    fx_process(b->h, &b->path, msg, 1000 * MS, resp, sizeof resp, &status);
  }
  b->cseq = 2;
  return 0;
}

/* One OPTIONS to each session: ns per request. */
static double options_round(bench_h *b, size_t n)
{
  static char msg[4096], resp[8192];
  unsigned cseq = b->cseq++;
  uint64_t t0 = now_ns();
  for (size_t i = 0; i < n; i++) {
    char cid[64], branch[32];
    snprintf(cid, sizeof cid, "bench-snap-%zu", i);
    snprintf(branch, sizeof branch, "o%u-%zu", cseq, i);
    fx_request(msg, sizeof msg, "OPTIONS", cid, b->tag[i], cseq, branch, NULL, NULL);
    int status = 0;
    if (fx_process(b->h, &b->path, msg, 2000 * MS, resp, sizeof resp, &status) <= 0 ||
        status != 200)
      return -1;
  }
  return (double)(now_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void stats(const double *v, size_t n, double *med, double *lo, double *hi)
{
  double s[MAX_REPS];
  memcpy(s, v, n * sizeof *v);
  qsort(s, n, sizeof s[0], cmp_double);
  *med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  *lo = s[0];
  *hi = s[n - 1];
}

int main(int argc, char **argv)
{
  size_t n = 1000, reps = 15;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      n = 200;
      reps = 7;
    } else if (!strcmp(argv[i], "--sessions") && i + 1 < argc) {
      n = strtoul(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = strtoul(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "usage: bench_snapshot [--quick] [--sessions N] [--reps N]\n");
      return 2;
    }
  }
  if (n == 0 || reps == 0 || reps > MAX_REPS) {
    fprintf(stderr, "bench_snapshot: --sessions > 0, --reps 1..%d\n", MAX_REPS);
    return 2;
  }
  bench_h off, on;
  memset(&off, 0, sizeof off);
  memset(&on, 0, sizeof on);
  if (make(&off, 0, n) || make(&on, 1, n)) {
    fprintf(stderr, "bench_snapshot: setting up the sessions failed\n");
    return 1;
  }
  double t_off[MAX_REPS], t_on[MAX_REPS];
  (void)options_round(&off, n); /* warm both */
  (void)options_round(&on, n);
  fx_snap.total = 0;
  fx_snap.written = 0;
  for (size_t r = 0; r < reps; r++) {
    t_off[r] = options_round(&off, n);
    t_on[r] = options_round(&on, n);
    if (t_off[r] < 0 || t_on[r] < 0) {
      fprintf(stderr, "bench_snapshot: an OPTIONS was not answered 200\n");
      return 1;
    }
  }
  /* A restore of the last snapshot into a third handler, against the same
   * OPTIONS (restored over and over: each is ended by freeing). */
  size_t restores = n < 200 ? n : 200;
  double t_restore = 0;
  {
    siprec_handler *h3 = NULL;
    siprec_handler_config *cfg;
    siprec_handler_config_new(&cfg, NULL);
    siprec_handler_config_set_snapshots(cfg, 1, 0);
    static const uint8_t key[SIPREC_SNAPSHOT_KEY_LEN] = "bench-bench-bench-bench-bench-be";
    (void)siprec_handler_config_set_snapshot_key(cfg, key);
    siprec_handler_config_set_rtp_ports(cfg, 10000, 60000);
    static unsigned char one[sizeof fx_snap.bytes];
    size_t one_len = fx_snap.len;
    memcpy(one, fx_snap.bytes, one_len);
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < restores; i++) {
      if (siprec_handler_new(&h3, cfg, NULL, NULL, NULL) ||
          siprec_handler_restore(h3, one, one_len, 3000 * MS, NULL)) {
        fprintf(stderr, "bench_snapshot: restore failed\n");
        return 1;
      }
      siprec_handler_free(h3);
    }
    t_restore = (double)(now_ns() - t0) / (double)restores;
    siprec_handler_config_free(cfg);
  }
  double m_off, lo_off, hi_off, m_on, lo_on, hi_on;
  stats(t_off, reps, &m_off, &lo_off, &hi_off);
  stats(t_on, reps, &m_on, &lo_on, &hi_on);
  printf("# bench_snapshot: %zu sessions (2 RTP streams, metadata of 2 participants), %zu "
         "interleaved repetitions, one in-dialog OPTIONS per session\n",
         n, reps);
  printf("kind\tus/op (median)\tmin\tmax\n");
  printf("options\t%.2f\t%.2f\t%.2f\n", m_off / 1000, lo_off / 1000, hi_off / 1000);
  printf("options+snapshot\t%.2f\t%.2f\t%.2f\n", m_on / 1000, lo_on / 1000, hi_on / 1000);
  printf("restore (new handler + restore + free)\t%.2f\n", t_restore / 1000);
  printf("measure snapshot-bytes: %zu\n",
         fx_snap.written ? fx_snap.total / (size_t)fx_snap.written : 0);
  printf("measure snapshot-us: %.2f (median difference)\n", (m_on - m_off) / 1000);
  printf("measure options-with-snapshot-vs-without: %.2fx (spread %.2f-%.2fx)\n", m_on / m_off,
         lo_on / hi_off, hi_on / lo_off);
  siprec_handler_free(off.h);
  siprec_handler_free(on.h);
  free(off.tag);
  free(on.tag);
  return 0;
}
