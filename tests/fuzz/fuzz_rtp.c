/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for lib/media's input path: datagrams as they would
 * arrive on a muxed RTP/RTCP port, through demux, RTP parse, sequence state
 * and jitter buffer (or RTCP parse and the wall clock), on a fake clock.
 *
 * Input: one config octet (bits 0-2 depth 20 << k ms, bits 3-4 probation
 * 1-3, bits 5-6 clock rate 8/16/48/90 kHz), one octet for the byte budget
 * (256 * (1 + b) octets), then records: op (low 2 bits: 0-1 datagram, 2
 * expire, 3 flush), time advance in ms, 16-bit big-endian length, that many
 * octets (cut at the input's end).
 *
 * Checks: spans lie inside the datagram; packets leave the buffer in
 * sequence order except where a new source starts; every packet pushed is
 * released, counted as duplicate or late, or still kept; lost counts add
 * up; kept packets, bytes and the allocator's bytes stay within the
 * configured bound; after expire(now) no deadline is at or before now. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "media/jitter.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "media/seq.h"
#include "media/wallclock.h"

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

#define MS 1000000ull

/* An allocator that counts outstanding bytes (size kept in front). */
static size_t heap_bytes;

static void *cnt_malloc(size_t n, void *user)
{
  (void)user;
  size_t *p = malloc(sizeof(size_t) * 2 + n);
  if (!p)
    return NULL;
  p[0] = n;
  heap_bytes += n;
  return p + 2;
}

static void *cnt_realloc(void *ptr, size_t n, void *user)
{
  (void)ptr;
  (void)n;
  (void)user;
  return NULL; /* the jitter buffer never grows a block */
}

static void cnt_free(void *ptr, void *user)
{
  (void)user;
  size_t *p = (size_t *)ptr - 2;
  heap_bytes -= p[0];
  free(p);
}

typedef struct run {
  sr_seq seq;
  sr_jb jb;
  sr_wallclock wc;
  uint64_t pushed, released, lost;
  bool has_last;
  int64_t last_ext;
  uint32_t last_ssrc, last_ts;
  unsigned sink;
} run;

static void on_release(void *user, const sr_jb_packet *p)
{
  run *r = user;
  if (r->has_last && !(p->flags & SR_JB_F_NEW_SOURCE))
    CHECK(p->ext_seq > r->last_ext);
  if (p->flags & SR_JB_F_NEW_SOURCE)
    CHECK(p->lost_packets == 0 && p->lost_samples == 0);
  CHECK(!(p->flags & SR_JB_F_LOSS) == !p->lost_packets);
  CHECK(p->payload_len <= SR_RTP_MAX_PACKET);
  CHECK(p->payload || !p->payload_len);
  for (size_t i = 0; i < p->payload_len; i++)
    r->sink += p->payload[i]; /* the sanitizers see every octet read */
  r->has_last = true;
  r->last_ext = p->ext_seq;
  r->released++;
  r->lost += p->lost_packets;
}

static void check_counts(const run *r)
{
  const sr_jb *jb = &r->jb;
  CHECK(r->pushed == jb->stats.released + jb->stats.duplicates + jb->stats.late + jb->held);
  CHECK(r->released == jb->stats.released);
  CHECK(r->lost == jb->stats.lost_packets);
  CHECK(jb->held <= jb->n_slots);
  CHECK(jb->held_bytes <= jb->max_bytes);
  CHECK(heap_bytes <= (size_t)jb->n_slots * sizeof(sr_jb_slot) + jb->max_bytes + jb->n_slots);
}

static void check_rtp(const uint8_t *d, size_t n, const sr_rtp_packet *p)
{
  CHECK(p->csrc_count <= SR_RTP_MAX_CSRC);
  CHECK(p->payload >= d + SR_RTP_HEADER_LEN && p->payload + p->payload_len + p->pad_len == d + n);
  if (p->has_ext)
    CHECK(p->ext >= d + 16 && p->ext + p->ext_len <= p->payload);
}

static void on_rtp(run *r, const uint8_t *d, size_t n, uint64_t now)
{
  sr_rtp_packet p;
  sr_rtp_reason why;
  int rc = sr_rtp_parse(d, n, &p, &why);
  CHECK((rc == 0) == (why == SR_RTP_OK));
  if (rc < 0)
    return;
  check_rtp(d, n, &p);
  sr_seq_result res;
  sr_seq_update(&r->seq, &p, now, &res);
  CHECK(sr_seq_lost(&r->seq) <= (int64_t)sr_seq_expected(&r->seq));
  if (res.verdict != SR_SEQ_ACCEPT)
    return;
  if (res.flags & (SR_SEQ_F_NEW_SSRC | SR_SEQ_F_RESTART))
    r->has_last = false;
  r->pushed++;
  sr_jb_push(&r->jb, &p, res.ext_seq, res.flags, now, on_release, r);
  int64_t ns;
  (void)sr_wallclock_unix_ns(&r->wc, p.ssrc, p.ts, r->seq.clock_rate, &ns);
}

static void on_rtcp(run *r, const uint8_t *d, size_t n, uint64_t now)
{
  sr_rtcp_info info;
  sr_rtcp_reason why;
  int rc = sr_rtcp_parse(d, n, &info, &why);
  CHECK((rc == 0) == (why == SR_RTCP_OK));
  if (rc < 0)
    return;
  if (info.has_cname)
    CHECK(info.cname >= d && info.cname + info.cname_len <= d + n);
  CHECK(info.has_sr || info.has_rr);
  if (info.has_sr)
    sr_wallclock_note(&r->wc, &info.sr, now);
  for (unsigned i = 0; i < info.bye_count && i < SR_RTCP_MAX_BYE; i++)
    sr_wallclock_forget(&r->wc, info.bye_ssrc[i]);
}

static void on_datagram(run *r, const uint8_t *d, size_t n, uint64_t now)
{
  switch (sr_mux_classify(d, n)) {
  case SR_MUX_RTP:
    on_rtp(r, d, n, now);
    break;
  case SR_MUX_RTCP:
    on_rtcp(r, d, n, now);
    break;
  default: {
    /* Not for us, but neither reader may misbehave on it. */
    sr_rtp_packet p;
    sr_rtcp_info info;
    CHECK(sr_rtp_parse(d, n, &p, NULL) < 0);
    (void)sr_rtcp_parse(d, n, &info, NULL);
  }
  }
}

static void setup(run *r, const uint8_t *data)
{
  static const uint32_t rates[4] = { 8000, 16000, 48000, 90000 };
  static const siprec_allocator hook = { cnt_malloc, cnt_realloc, cnt_free, NULL };
  memset(r, 0, sizeof *r);
  sr_seq_config sc = { .clock_rate = rates[(data[0] >> 5) & 3],
                       .min_sequential = 1 + ((data[0] >> 3) & 3) % 3 };
  CHECK(sr_seq_init(&r->seq, &sc) == 0);
  sr_jb_config jc = { .clock_rate = sc.clock_rate, .depth_ms = 20u << (data[0] & 7),
                      .max_bytes = 256u * (1 + data[1]) };
  CHECK(sr_jb_init(&r->jb, &jc, &hook) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  run r;
  setup(&r, data);
  uint64_t now = 1000 * MS, deadline;
  size_t off = 2;
  while (size - off >= 4) {
    uint8_t op = data[off] & 3;
    now += data[off + 1] * MS;
    size_t n = ((size_t)data[off + 2] << 8) | data[off + 3];
    off += 4;
    if (n > size - off)
      n = size - off;
    if (op < 2) {
      /* A copy, so a read past the datagram is caught. */
      uint8_t *d = malloc(n ? n : 1);
      CHECK(d);
      memcpy(d, data + off, n);
      on_datagram(&r, d, n, now);
      free(d);
      off += n;
    } else if (op == 2) {
      sr_jb_expire(&r.jb, now, on_release, &r);
      CHECK(!sr_jb_next_deadline(&r.jb, &deadline) || deadline > now);
    } else {
      sr_jb_flush(&r.jb, on_release, &r);
      CHECK(r.jb.held == 0);
    }
    CHECK(!r.jb.held == !sr_jb_next_deadline(&r.jb, &deadline));
    check_counts(&r);
  }
  sr_jb_flush(&r.jb, on_release, &r);
  check_counts(&r);
  sr_jb_free(&r.jb);
  CHECK(heap_bytes == 0);
  return 0;
}
