/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/media/jitter: the recording jitter buffer on a fake clock: release in
 * order, reorder within and beyond the depth, loss declared at the deadline
 * with its length in samples, duplicates and late packets, sequence wrap,
 * SSRC change and timestamp jumps through sr_seq, the byte budget, and the
 * memory bound under a flood of random sequence numbers. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include <siprec/common.h>

#include "check_main.h"
#include "failalloc.h"
#include "media/jitter.h"
#include "media/seq.h"
#include "rtp_build.h"

#define MS 1000000ull

typedef struct got {
  unsigned n;
  sr_jb_packet p[4096];
  bool payload_ok[4096];
} got;

static got out;
static sr_jb jb;
static failalloc fa;
static siprec_allocator hook;
static uint8_t payload[2048];

static void collect(void *user, const sr_jb_packet *p)
{
  got *g = user;
  ck_assert_uint_lt(g->n, 4096);
  bool ok = true;
  for (size_t i = 0; i < p->payload_len; i++)
    ok = ok && p->payload[i] == rtpb_fill(p->seq, i);
  g->payload_ok[g->n] = ok;
  g->p[g->n] = *p;
  g->p[g->n].payload = NULL; /* not valid after the callback */
  g->n++;
}

static void setup(void)
{
  memset(&out, 0, sizeof out);
  failalloc_init(&fa, &hook);
  sr_jb_config cfg = { .clock_rate = 8000 };
  ck_assert_int_eq(sr_jb_init(&jb, &cfg, &hook), 0);
}

static void teardown(void)
{
  sr_jb_free(&jb);
  ck_assert_int_eq(fa.outstanding, 0);
  failalloc_destroy(&fa);
}

static sr_rtp_packet pkt(uint16_t seq, uint32_t ts, uint32_t ssrc, size_t len)
{
  for (size_t i = 0; i < len; i++)
    payload[i] = rtpb_fill(seq, i);
  sr_rtp_packet p = { .seq = seq, .ts = ts, .ssrc = ssrc, .payload = payload,
                      .payload_len = len };
  return p;
}

/* G.711 packet `seq` (ts 160 seq) pushed at `now` with ext = seq. */
static unsigned push(int64_t ext, uint64_t now)
{
  sr_rtp_packet p = pkt((uint16_t)ext, (uint32_t)(160 * ext), 1, 160);
  return sr_jb_push(&jb, &p, ext, 0, now, collect, &out);
}

static void check_order(void)
{
  for (unsigned i = 0; i < out.n; i++) {
    ck_assert(out.payload_ok[i]);
    if (i)
      ck_assert_int_gt(out.p[i].ext_seq, out.p[i - 1].ext_seq);
  }
}

START_TEST(test_jb_init)
{
  sr_jb b;
  sr_jb_config cfg = { 0 };
  ck_assert_int_eq(sr_jb_init(&b, &cfg, NULL), SIPREC_EINVAL);
  cfg.clock_rate = 8000;
  ck_assert_int_eq(sr_jb_init(&b, &cfg, NULL), 0);
  ck_assert_uint_eq(b.n_slots, 21); /* 200 ms at 100 packets/s, + 1 */
  ck_assert_uint_eq(b.depth_ns, 200 * MS);
  cfg.depth_ms = 1000;
  cfg.max_rate = 1000000;
  ck_assert_int_eq(sr_jb_init(&b, &cfg, NULL), 0);
  ck_assert_uint_eq(b.n_slots, SR_JB_MAX_SLOTS);
  siprec_allocator bad = { 0 };
  ck_assert_int_eq(sr_jb_init(&b, &cfg, &bad), SIPREC_EINVAL);
  sr_jb_free(&b);
  sr_jb_free(NULL);
}
END_TEST

START_TEST(test_jb_in_order)
{
  uint64_t d;
  for (int64_t i = 0; i < 100; i++) {
    ck_assert_uint_eq(push(i, (uint64_t)i * 20 * MS), 1);
    ck_assert(!sr_jb_next_deadline(&jb, &d));
  }
  ck_assert_uint_eq(out.n, 100);
  check_order();
  ck_assert_uint_eq(out.p[0].flags, 0);
  ck_assert_uint_eq(jb.stats.lost_packets, 0);
  /* In order, nothing is copied or allocated. */
  ck_assert_int_eq(fa.calls, 0);
  ck_assert_uint_eq(sr_jb_expire(&jb, 1000000 * MS, collect, &out), 0);
  ck_assert_uint_eq(sr_jb_flush(&jb, collect, &out), 0);
}
END_TEST

START_TEST(test_jb_first_flag_and_marker)
{
  sr_rtp_packet p = pkt(10, 1600, 1, 160);
  p.marker = true;
  p.pt = 8;
  ck_assert_uint_eq(sr_jb_push(&jb, &p, 10, SR_SEQ_F_FIRST, 0, collect, &out), 1);
  ck_assert_uint_eq(out.p[0].flags, SR_JB_F_FIRST);
  ck_assert(out.p[0].marker);
  ck_assert_uint_eq(out.p[0].pt, 8);
  /* A marker survives being kept. */
  p = pkt(12, 1920, 1, 160);
  p.marker = true;
  ck_assert_uint_eq(sr_jb_push(&jb, &p, 12, 0, 40 * MS, collect, &out), 0);
  p = pkt(11, 1760, 1, 160);
  ck_assert_uint_eq(sr_jb_push(&jb, &p, 11, 0, 45 * MS, collect, &out), 2);
  ck_assert(!out.p[1].marker);
  ck_assert(out.p[2].marker);
  ck_assert_uint_eq(out.p[2].arrival_ns, 40 * MS);
  check_order();
}
END_TEST

START_TEST(test_jb_reorder_within_depth)
{
  uint64_t d;
  push(1, 0);
  ck_assert_uint_eq(push(3, 20 * MS), 0);
  ck_assert(sr_jb_next_deadline(&jb, &d));
  ck_assert_uint_eq(d, 220 * MS);
  ck_assert_uint_eq(push(4, 40 * MS), 0);
  ck_assert(sr_jb_next_deadline(&jb, &d));
  ck_assert_uint_eq(d, 220 * MS);
  ck_assert_uint_eq(sr_jb_expire(&jb, 219 * MS, collect, &out), 0);
  ck_assert_uint_eq(push(2, 150 * MS), 3);
  ck_assert(!sr_jb_next_deadline(&jb, &d));
  ck_assert_uint_eq(out.n, 4);
  check_order();
  for (unsigned i = 0; i < 4; i++) {
    ck_assert_uint_eq(out.p[i].lost_packets, 0);
    ck_assert_uint_eq(out.p[i].flags, 0);
  }
  ck_assert_uint_eq(jb.stats.reordered, 1);
  ck_assert_uint_eq(jb.stats.held, 2);
  ck_assert_uint_eq(jb.held_bytes, 0);
  ck_assert_uint_eq(fa.outstanding, 1); /* the slots stay for the next hole */
}
END_TEST

START_TEST(test_jb_loss_at_deadline)
{
  uint64_t d;
  push(1, 0);
  push(2, 20 * MS);
  /* 3 is lost. */
  ck_assert_uint_eq(push(4, 60 * MS), 0);
  ck_assert_uint_eq(push(5, 80 * MS), 0);
  ck_assert(sr_jb_next_deadline(&jb, &d));
  ck_assert_uint_eq(d, 260 * MS);
  ck_assert_uint_eq(sr_jb_expire(&jb, d - 1, collect, &out), 0);
  ck_assert_uint_eq(sr_jb_expire(&jb, d, collect, &out), 2);
  ck_assert_uint_eq(out.n, 4);
  check_order();
  ck_assert_int_eq(out.p[2].ext_seq, 4);
  ck_assert_uint_eq(out.p[2].lost_packets, 1);
  ck_assert_uint_eq(out.p[2].lost_samples, 160);
  ck_assert_uint_eq(out.p[2].flags, SR_JB_F_LOSS);
  ck_assert_uint_eq(out.p[3].lost_packets, 0);
  ck_assert(!sr_jb_next_deadline(&jb, &d));
  ck_assert_uint_eq(jb.stats.lost_packets, 1);
  ck_assert_uint_eq(jb.stats.lost_samples, 160);
  ck_assert_uint_eq(jb.stats.expired, 1);
  /* In order again after the loss. */
  ck_assert_uint_eq(push(6, 100 * MS), 1);
}
END_TEST

START_TEST(test_jb_loss_lengths)
{
  /* 5 lost 20 ms packets = 800 samples; a later one kept behind a second
   * hole goes out with it. */
  push(0, 0);
  push(1, 20 * MS);
  push(7, 140 * MS);
  push(9, 180 * MS);
  ck_assert_uint_eq(sr_jb_expire(&jb, 340 * MS, collect, &out), 1);
  ck_assert_uint_eq(out.p[2].lost_packets, 5);
  ck_assert_uint_eq(out.p[2].lost_samples, 800);
  ck_assert_uint_eq(sr_jb_expire(&jb, 380 * MS, collect, &out), 1);
  ck_assert_uint_eq(out.p[3].lost_packets, 1);
  ck_assert_uint_eq(out.p[3].lost_samples, 160);
  /* Before any packet pair taught the packet time, the gap is shared out
   * evenly: 0 then 3 (2 lost) over 480 ticks is 320 lost. */
  sr_jb_free(&jb);
  sr_jb_config cfg = { .clock_rate = 8000 };
  sr_jb_init(&jb, &cfg, &hook);
  out.n = 0;
  push(0, 0);
  push(3, 60 * MS);
  sr_jb_flush(&jb, collect, &out);
  ck_assert_uint_eq(out.p[1].lost_packets, 2);
  ck_assert_uint_eq(out.p[1].lost_samples, 320);
}
END_TEST

START_TEST(test_jb_expire_later_packet_first)
{
  /* 5 arrives before 3: when 5's deadline passes, 3 goes with it. */
  push(1, 0);
  push(5, 10 * MS);
  push(3, 50 * MS);
  uint64_t d;
  ck_assert(sr_jb_next_deadline(&jb, &d));
  ck_assert_uint_eq(d, 210 * MS);
  ck_assert_uint_eq(sr_jb_expire(&jb, 210 * MS, collect, &out), 2);
  check_order();
  ck_assert_uint_eq(out.p[1].lost_packets, 1);
  ck_assert_uint_eq(out.p[2].lost_packets, 1);
  ck_assert(!sr_jb_next_deadline(&jb, &d));
}
END_TEST

START_TEST(test_jb_reorder_beyond_depth)
{
  push(1, 0);
  push(3, 20 * MS);
  ck_assert_uint_eq(sr_jb_expire(&jb, 220 * MS, collect, &out), 1);
  /* 2 arrives after its hole was declared lost: late, dropped. */
  ck_assert_uint_eq(push(2, 240 * MS), 0);
  ck_assert_uint_eq(jb.stats.late, 1);
  ck_assert_uint_eq(jb.stats.duplicates, 0);
  ck_assert_uint_eq(out.n, 2);
  /* Far older than anything: late too. */
  ck_assert_uint_eq(push(-500, 250 * MS), 0);
  ck_assert_uint_eq(jb.stats.late, 2);
}
END_TEST

START_TEST(test_jb_duplicates)
{
  push(1, 0);
  push(2, 20 * MS);
  /* A copy of one released. */
  ck_assert_uint_eq(push(2, 25 * MS), 0);
  ck_assert_uint_eq(push(1, 26 * MS), 0);
  ck_assert_uint_eq(jb.stats.duplicates, 2);
  /* A copy of one kept. */
  push(4, 60 * MS);
  ck_assert_uint_eq(push(4, 61 * MS), 0);
  ck_assert_uint_eq(jb.stats.duplicates, 3);
  ck_assert_uint_eq(push(3, 70 * MS), 2);
  /* A copy of 4, released by now. */
  ck_assert_uint_eq(push(4, 80 * MS), 0);
  ck_assert_uint_eq(jb.stats.duplicates, 4);
  ck_assert_uint_eq(jb.stats.late, 0);
  ck_assert_uint_eq(out.n, 4);
  check_order();
}
END_TEST

START_TEST(test_jb_window_overflow)
{
  /* 1, then 100: far past the 21-slot window. The holes up to 79 are
   * declared lost at once; 100 waits for 80-99. */
  push(1, 0);
  ck_assert_uint_eq(push(100, 20 * MS), 0);
  ck_assert_uint_eq(jb.stats.forced, 1);
  ck_assert_int_eq(jb.next, 80);
  for (int64_t e = 80; e < 99; e++)
    ck_assert_uint_eq(push(e, 40 * MS), 1);
  ck_assert_uint_eq(push(99, 40 * MS), 2);
  check_order();
  ck_assert_uint_eq(out.p[1].lost_packets, 78);
  ck_assert_uint_eq(out.n, 22);
  ck_assert_uint_eq(jb.held, 0);
}
END_TEST

START_TEST(test_jb_byte_budget)
{
  sr_jb_free(&jb);
  sr_jb_config cfg = { .clock_rate = 8000, .max_bytes = 400, .max_payload = 300 };
  ck_assert_int_eq(sr_jb_init(&jb, &cfg, &hook), 0);
  push(1, 0);
  ck_assert_uint_eq(push(3, 20 * MS), 0);
  ck_assert_uint_eq(push(5, 40 * MS), 0);
  ck_assert_uint_eq(jb.held_bytes, 320);
  /* A third 160-octet packet would pass 400: the holes go early and it is
   * delivered, not dropped. */
  ck_assert_uint_eq(push(7, 60 * MS), 3);
  ck_assert_uint_eq(jb.stats.forced, 1);
  ck_assert_uint_eq(jb.held, 0);
  /* Larger than max_payload: never kept, delivered after the hole. */
  sr_rtp_packet p = pkt(9, 9 * 160, 1, 301);
  ck_assert_uint_eq(sr_jb_push(&jb, &p, 9, 0, 80 * MS, collect, &out), 1);
  ck_assert_uint_eq(out.p[out.n - 1].lost_packets, 1);
  ck_assert_uint_eq(out.n, 5);
  check_order();
}
END_TEST

START_TEST(test_jb_alloc_failure)
{
  /* The slot ring cannot be had: the hole is declared lost at once. */
  failalloc_arm(&fa, 0);
  push(1, 0);
  ck_assert_uint_eq(push(3, 20 * MS), 1);
  ck_assert_uint_eq(out.p[1].lost_packets, 1);
  /* The payload copy cannot be had. */
  failalloc_arm(&fa, 1);
  ck_assert_uint_eq(push(5, 40 * MS), 1);
  ck_assert_uint_eq(jb.stats.forced, 2);
  ck_assert_uint_eq(jb.held, 0);
  failalloc_arm(&fa, -1);
  ck_assert_uint_eq(push(7, 60 * MS), 0);
  ck_assert_uint_eq(jb.held, 1);
  check_order();
}
END_TEST

/* Parse, sequence, buffer: the pipeline the media layer will run. */
static sr_seq sq;

static unsigned feed(uint16_t seq, uint32_t ts, uint32_t ssrc, uint64_t now)
{
  uint8_t buf[256];
  rtpb o = rtpb_audio(seq, ts, ssrc);
  size_t n = rtpb_build(buf, sizeof buf, &o);
  sr_rtp_packet p;
  ck_assert_int_eq(sr_rtp_parse(buf, n, &p, NULL), 0);
  sr_seq_result r;
  sr_seq_update(&sq, &p, now, &r);
  if (r.verdict != SR_SEQ_ACCEPT)
    return 0;
  return sr_jb_push(&jb, &p, r.ext_seq, r.flags, now, collect, &out);
}

static void seq_setup(void)
{
  sr_seq_config cfg = { .clock_rate = 8000, .min_sequential = 1 };
  ck_assert_int_eq(sr_seq_init(&sq, &cfg), 0);
}

START_TEST(test_jb_sequence_wrap)
{
  seq_setup();
  uint64_t now = 0;
  /* 65530..65535, 0..9 with 65535 and 0 swapped, and 2 lost. */
  static const uint16_t order[] = { 65530, 65531, 65532, 65533, 65534, 0, 65535, 1,
                                    3,     4,     5,     6,     7,     8, 9 };
  for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++, now += 20 * MS)
    feed(order[i], 160u * order[i], 1, now);
  sr_jb_flush(&jb, collect, &out);
  ck_assert_uint_eq(out.n, 15);
  check_order();
  ck_assert_uint_eq(out.p[0].flags, SR_JB_F_FIRST);
  ck_assert_uint_eq(out.p[5].seq, 65535);
  ck_assert_uint_eq(out.p[6].seq, 0);
  ck_assert_int_eq(out.p[6].ext_seq, 65536);
  ck_assert_uint_eq(out.p[8].seq, 3);
  ck_assert_uint_eq(out.p[8].lost_packets, 1);
  ck_assert_uint_eq(out.p[8].lost_samples, 160);
  ck_assert_uint_eq(jb.stats.lost_packets, 1);
}
END_TEST

START_TEST(test_jb_ssrc_change)
{
  seq_setup();
  uint64_t now = 0;
  feed(100, 16000, 0xAAAA, now);
  now += 20 * MS;
  feed(102, 16320, 0xAAAA, now); /* kept: 101 missing */
  ck_assert_uint_eq(jb.held, 1);
  /* The new SSRC's first packet: 102 goes out first, after its hole. */
  now += 20 * MS;
  ck_assert_uint_eq(feed(7, 123456789, 0xBBBB, now), 2);
  ck_assert_uint_eq(out.n, 3);
  ck_assert_uint_eq(out.p[1].seq, 102);
  ck_assert_uint_eq(out.p[1].lost_packets, 1);
  ck_assert_uint_eq(out.p[2].ssrc, 0xBBBB);
  ck_assert_uint_eq(out.p[2].flags, SR_JB_F_NEW_SOURCE);
  ck_assert_uint_eq(out.p[2].lost_packets, 0);
  ck_assert_uint_eq(out.p[2].lost_samples, 0);
  ck_assert_uint_eq(jb.stats.discontinuities, 1);
  /* The old SSRC's straggler never reaches the buffer. */
  ck_assert_uint_eq(feed(101, 16160, 0xAAAA, now + MS), 0);
  ck_assert_uint_eq(feed(8, 123456789 + 160, 0xBBBB, now + 20 * MS), 1);
  ck_assert_uint_eq(out.p[3].flags, 0);
}
END_TEST

START_TEST(test_jb_ssrc_change_before_confirmed)
{
  /* Probation 2: the first SSRC sends one packet, then another SSRC takes
   * over; the stream starts with it, flagged first, not as a new source. */
  sr_seq_config cfg = { .clock_rate = 8000 };
  ck_assert_int_eq(sr_seq_init(&sq, &cfg), 0);
  ck_assert_uint_eq(feed(1, 0, 0xAAAA, 0), 0);
  ck_assert_uint_eq(feed(500, 0, 0xBBBB, 20 * MS), 0);
  ck_assert_uint_eq(feed(501, 160, 0xBBBB, 40 * MS), 1);
  ck_assert_uint_eq(out.p[0].flags, SR_JB_F_FIRST);
  ck_assert_uint_eq(jb.stats.discontinuities, 0);
}
END_TEST

START_TEST(test_jb_restart)
{
  seq_setup();
  uint64_t now = 0;
  for (uint16_t s = 0; s < 5; s++, now += 20 * MS)
    feed(s, 160u * s, 1, now);
  ck_assert_uint_eq(feed(20000, 5000, 1, now), 0); /* bad: dropped */
  ck_assert_uint_eq(feed(20001, 5160, 1, now + 20 * MS), 1);
  ck_assert_uint_eq(out.p[5].flags, SR_JB_F_NEW_SOURCE);
  ck_assert_uint_eq(out.p[5].lost_packets, 0);
  ck_assert_uint_eq(feed(20002, 5320, 1, now + 40 * MS), 1);
  ck_assert_uint_eq(jb.stats.lost_packets, 0);
}
END_TEST

START_TEST(test_jb_ts_jump_forward)
{
  seq_setup();
  uint64_t now = 0;
  for (uint16_t s = 0; s < 5; s++, now += 20 * MS)
    feed(s, 160u * s, 1, now);
  /* An hour forward, with packet 5 lost: 1 packet lost, 160 samples (the
   * usual packet), not an hour. */
  uint32_t hour = 8000u * 3600;
  ck_assert_uint_eq(feed(6, 160u * 6 + hour, 1, now + 20 * MS), 0);
  sr_jb_expire(&jb, now + 1000 * MS, collect, &out);
  ck_assert_uint_eq(out.n, 6);
  ck_assert_uint_eq(out.p[5].flags, SR_JB_F_TS_JUMP | SR_JB_F_LOSS);
  ck_assert_uint_eq(out.p[5].lost_packets, 1);
  ck_assert_uint_eq(out.p[5].lost_samples, 160);
  ck_assert_int_eq(out.p[5].ts_offset, hour);
  ck_assert_uint_eq(jb.stats.discontinuities, 1);
  /* The new timeline holds. */
  ck_assert_uint_eq(feed(7, 160u * 7 + hour, 1, now + 1020 * MS), 1);
  ck_assert_uint_eq(out.p[6].flags, 0);
}
END_TEST

START_TEST(test_jb_ts_jump_backward_reordered)
{
  /* The jump is seen in release order: 11 (after the jump) arrives before
   * 10 (the first packet after it); 10 carries the discontinuity. */
  seq_setup();
  uint64_t now = 0;
  for (uint16_t s = 0; s < 10; s++, now += 20 * MS)
    feed(s, 100000 + 160u * s, 1, now);
  uint32_t back = 100000 + 160u * 10 - 8000u * 30;
  ck_assert_uint_eq(feed(11, back + 160, 1, now), 0);
  ck_assert_uint_eq(feed(10, back, 1, now + 5 * MS), 2);
  ck_assert_uint_eq(out.p[10].seq, 10);
  ck_assert_uint_eq(out.p[10].flags, SR_JB_F_TS_JUMP);
  ck_assert_int_eq(out.p[10].ts_offset, -240000);
  ck_assert_uint_eq(out.p[10].lost_samples, 0);
  ck_assert_uint_eq(out.p[11].flags, 0);
  ck_assert_uint_eq(jb.stats.lost_samples, 0);
}
END_TEST

/* xorshift64, so the flood is the same on every run. */
static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state;
}

START_TEST(test_jb_memory_flood)
{
  /* Random sequence numbers, random payload sizes and random SSRC changes,
   * straight into the buffer and through sr_seq: the kept packets, their
   * bytes and the allocator's bytes never pass the configured bound. */
  sr_jb_free(&jb);
  sr_jb_config cfg = { .clock_rate = 8000, .max_bytes = 8192, .max_payload = 1500 };
  ck_assert_int_eq(sr_jb_init(&jb, &cfg, &hook), 0);
  seq_setup();
  size_t bound = jb.n_slots * sizeof(sr_jb_slot) + cfg.max_bytes + jb.n_slots;
  size_t peak = 0;
  uint64_t now = 0;
  int64_t base = 0, last = INT64_MIN;
  for (unsigned i = 0; i < 200000; i++, now += (rnd() % 3) * MS) {
    uint64_t r = rnd();
    size_t len = r % 1600;
    uint16_t seq = (uint16_t)(r >> 16);
    sr_rtp_packet p = pkt(seq, (uint32_t)(r >> 32), 1 + (r >> 60 == 0), len);
    unsigned flags = 0;
    int64_t ext;
    if (i % 2) {
      ext = base + (int64_t)((r >> 20) % 4096) - 2048;
      if ((r & 0xfff) == 0) {
        flags = SR_SEQ_F_NEW_SSRC;
        base += 100000;
        ext = base;
        last = INT64_MIN;
      }
      base += (r >> 40) % 3;
    } else {
      sr_seq_result sres;
      sr_seq_update(&sq, &p, now, &sres);
      if (sres.verdict != SR_SEQ_ACCEPT)
        continue;
      /* sr_seq numbers its sources from their first packet: map them onto
       * this flood's running base. */
      ext = sres.ext_seq + base;
      flags = sres.flags & (SR_SEQ_F_NEW_SSRC | SR_SEQ_F_RESTART);
      if (flags) {
        base += 200000;
        ext = sres.ext_seq + base;
        last = INT64_MIN;
      }
    }
    unsigned before = out.n;
    if (flags)
      last = INT64_MIN;
    sr_jb_push(&jb, &p, ext, flags, now, collect, &out);
    if (rnd() % 8 == 0)
      sr_jb_expire(&jb, now, collect, &out);
    for (unsigned k = before; k < out.n; k++) {
      ck_assert(out.payload_ok[k]);
      if (!(out.p[k].flags & SR_JB_F_NEW_SOURCE))
        ck_assert_int_gt(out.p[k].ext_seq, last);
      last = out.p[k].ext_seq;
    }
    if (out.n > 3000)
      out.n = 0;
    ck_assert_uint_le(jb.held, jb.n_slots);
    ck_assert_uint_le(jb.held_bytes, cfg.max_bytes);
    ck_assert_uint_le(fa.bytes, bound);
    if (fa.bytes > peak)
      peak = fa.bytes;
  }
  ck_assert_uint_gt(peak, 0);
  ck_assert_uint_gt(jb.stats.late + jb.stats.duplicates, 0);
  ck_assert_uint_gt(jb.stats.forced, 0);
  sr_jb_flush(&jb, collect, &out);
  ck_assert_uint_eq(jb.held, 0);
  ck_assert_uint_eq(jb.held_bytes, 0);
}
END_TEST

START_TEST(test_jb_flush_and_free)
{
  push(1, 0);
  push(4, 20 * MS);
  push(3, 30 * MS);
  push(8, 40 * MS);
  ck_assert_uint_eq(jb.held, 3);
  ck_assert_uint_eq(sr_jb_flush(&jb, collect, &out), 3);
  check_order();
  ck_assert_uint_eq(out.p[1].lost_packets, 1);
  ck_assert_uint_eq(out.p[3].lost_packets, 3);
  /* Free with packets kept: teardown checks nothing leaks. */
  push(10, 60 * MS);
  push(12, 60 * MS);
  ck_assert_uint_eq(jb.held, 2);
}
END_TEST

static Suite *media_jitter_suite(void)
{
  Suite *s = suite_create("media_jitter");
  TCase *tc = tcase_create("jitter");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_jb_init);
  tcase_add_test(tc, test_jb_in_order);
  tcase_add_test(tc, test_jb_first_flag_and_marker);
  tcase_add_test(tc, test_jb_reorder_within_depth);
  tcase_add_test(tc, test_jb_loss_at_deadline);
  tcase_add_test(tc, test_jb_loss_lengths);
  tcase_add_test(tc, test_jb_expire_later_packet_first);
  tcase_add_test(tc, test_jb_reorder_beyond_depth);
  tcase_add_test(tc, test_jb_duplicates);
  tcase_add_test(tc, test_jb_window_overflow);
  tcase_add_test(tc, test_jb_byte_budget);
  tcase_add_test(tc, test_jb_alloc_failure);
  tcase_add_test(tc, test_jb_flush_and_free);
  suite_add_tcase(s, tc);

  tc = tcase_create("pipeline");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_jb_sequence_wrap);
  tcase_add_test(tc, test_jb_ssrc_change);
  tcase_add_test(tc, test_jb_ssrc_change_before_confirmed);
  tcase_add_test(tc, test_jb_restart);
  tcase_add_test(tc, test_jb_ts_jump_forward);
  tcase_add_test(tc, test_jb_ts_jump_backward_reordered);
  tcase_add_test(tc, test_jb_memory_flood);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(media_jitter_suite());
}
