/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/media/seq: RFC 3550 A.1's sequence state (probation, wrap, restart,
 * misorder), A.8's jitter, and the discontinuities on top of them (SSRC
 * change, timestamp jumps either way), on packets built here. */
#include <check.h>
#include <stdint.h>

#include <siprec/common.h>

#include "check_main.h"
#include "media/rtp.h"
#include "media/seq.h"

#define MS 1000000ull /* ns */

static sr_seq st;

static void setup_rate(uint32_t rate, uint32_t min_seq)
{
  sr_seq_config cfg = { .clock_rate = rate, .min_sequential = min_seq };
  ck_assert_int_eq(sr_seq_init(&st, &cfg), 0);
}

static sr_seq_result feed(uint16_t seq, uint32_t ts, uint32_t ssrc, uint64_t now)
{
  sr_rtp_packet p = { .seq = seq, .ts = ts, .ssrc = ssrc };
  sr_seq_result r;
  sr_seq_update(&st, &p, now, &r);
  return r;
}

/* 20 ms G.711 packets: seq i at ts 160 i, arriving every 20 ms. */
static sr_seq_result feed_n(uint16_t seq0, uint32_t ts0, uint32_t ssrc, unsigned n,
                            uint64_t *now)
{
  sr_seq_result r = { 0 };
  for (unsigned i = 0; i < n; i++, *now += 20 * MS) {
    r = feed((uint16_t)(seq0 + i), ts0 + 160 * i, ssrc, *now);
    ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  }
  return r;
}

START_TEST(test_seq_init)
{
  sr_seq_config cfg = { 0 };
  ck_assert_int_eq(sr_seq_init(&st, &cfg), SIPREC_EINVAL);
  ck_assert_int_eq(sr_seq_init(NULL, &cfg), SIPREC_EINVAL);
  cfg.clock_rate = 8000;
  ck_assert_int_eq(sr_seq_init(&st, &cfg), 0);
  ck_assert_uint_eq(st.min_sequential, SR_SEQ_MIN_SEQUENTIAL);
  ck_assert_uint_eq(st.jump_ticks, 8000);
  ck_assert_uint_eq(sr_seq_expected(&st), 0);
}
END_TEST

START_TEST(test_seq_probation)
{
  setup_rate(8000, 0);
  sr_seq_result r = feed(100, 0, 1, 0);
  ck_assert_int_eq(r.verdict, SR_SEQ_PROBATION);
  r = feed(101, 160, 1, 20 * MS);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_FIRST);
  ck_assert_int_eq(r.ext_seq, 101);
  r = feed(102, 320, 1, 40 * MS);
  ck_assert_uint_eq(r.flags, 0);
  ck_assert_int_eq(r.ext_seq, 102);
  ck_assert_uint_eq(sr_seq_expected(&st), 2);
  ck_assert_int_eq(sr_seq_lost(&st), 0);
  ck_assert_uint_eq(st.probation_drops, 1);

  /* Out-of-sequence packets keep a source on probation. */
  setup_rate(8000, 3);
  ck_assert_int_eq(feed(10, 0, 1, 0).verdict, SR_SEQ_PROBATION);
  ck_assert_int_eq(feed(12, 0, 1, 0).verdict, SR_SEQ_PROBATION);
  ck_assert_int_eq(feed(20, 0, 1, 0).verdict, SR_SEQ_PROBATION);
  ck_assert_int_eq(feed(21, 0, 1, 0).verdict, SR_SEQ_PROBATION);
  r = feed(22, 0, 1, 0);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_FIRST);

  /* min_sequential 1: the first packet is taken. */
  setup_rate(8000, 1);
  r = feed(5, 0, 1, 0);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_FIRST);
  ck_assert_int_eq(r.ext_seq, 5);
}
END_TEST

START_TEST(test_seq_loss_counts)
{
  setup_rate(8000, 1);
  uint64_t now = 0;
  feed_n(0, 0, 7, 10, &now);
  /* 5 packets lost. */
  sr_seq_result r = feed(15, 15 * 160, 7, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, 0);
  ck_assert_int_eq(r.ext_seq, 15);
  ck_assert_uint_eq(sr_seq_expected(&st), 16);
  ck_assert_uint_eq(st.received, 11);
  ck_assert_int_eq(sr_seq_lost(&st), 5);
  /* A lost stretch of 40 packets (800 ms) moves the timestamp as far: no
   * jump. */
  r = feed(56, 56 * 160, 7, now + 820 * MS);
  ck_assert_uint_eq(r.flags, 0);
  ck_assert_int_eq(sr_seq_lost(&st), 45);
}
END_TEST

START_TEST(test_seq_wrap)
{
  setup_rate(8000, 1);
  uint64_t now = 0;
  int64_t prev = -1;
  for (unsigned i = 0; i < 20; i++, now += 20 * MS) {
    uint16_t seq = (uint16_t)(65525 + i);
    sr_seq_result r = feed(seq, 1000 + 160 * i, 9, now);
    ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
    ck_assert_uint_eq(r.flags & ~SR_SEQ_F_FIRST, 0);
    ck_assert_int_eq(r.ext_seq, 65525 + (int64_t)i);
    if (prev >= 0)
      ck_assert_int_eq(r.ext_seq, prev + 1);
    prev = r.ext_seq;
  }
  ck_assert_uint_eq(st.cycles, 65536);
  ck_assert_uint_eq(sr_seq_expected(&st), 20);
  ck_assert_int_eq(sr_seq_lost(&st), 0);
  /* 65535 again, late: reordered across the wrap, in the old cycle. */
  sr_seq_result r = feed(65535, 1000 + 160 * 10, 9, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_REORDERED);
  ck_assert_int_eq(r.ext_seq, 65535);
}
END_TEST

START_TEST(test_seq_reorder_across_wrap_at_start)
{
  /* The first packet is 0; 65535 then arrives late: its extended number is
   * -1, before the first, not 65535 after it. */
  setup_rate(8000, 1);
  feed(0, 160, 1, 0);
  feed(1, 320, 1, 20 * MS);
  sr_seq_result r = feed(65535, 0, 1, 30 * MS);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_REORDERED);
  ck_assert_int_eq(r.ext_seq, -1);
}
END_TEST

START_TEST(test_seq_misorder_and_duplicate)
{
  setup_rate(8000, 1);
  uint64_t now = 0;
  feed_n(1000, 0, 3, 200, &now);
  /* 100 behind: the edge of MAX_MISORDER (reordered, accepted). */
  sr_seq_result r = feed(1199 - 99, 99 * 160 + 0, 3, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert(r.flags & SR_SEQ_F_REORDERED);
  ck_assert_int_eq(r.ext_seq, 1100);
  /* A copy of the highest: accepted (A.1 cannot tell), counted received. */
  r = feed(1199, 199 * 160, 3, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_int_eq(r.ext_seq, 1199);
  ck_assert_int_eq(sr_seq_lost(&st), -2);
  /* 200 behind: too old, taken as a jump. */
  r = feed(999, 0, 3, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_BAD);
  ck_assert_uint_eq(st.bad, 1);
}
END_TEST

START_TEST(test_seq_restart)
{
  setup_rate(8000, 1);
  uint64_t now = 0;
  feed_n(100, 0, 3, 10, &now);
  /* A jump of 5000: dropped and remembered. */
  sr_seq_result r = feed(5109, 500000, 3, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_BAD);
  /* Another unrelated jump: dropped too. */
  r = feed(30000, 500000, 3, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_BAD);
  /* Two in sequence: the sender restarted. */
  r = feed(30001, 500160, 3, now + 20 * MS);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_RESTART);
  ck_assert_int_eq(r.ext_seq, 30001);
  ck_assert_uint_eq(sr_seq_expected(&st), 1);
  r = feed(30002, 500320, 3, now + 40 * MS);
  ck_assert_uint_eq(r.flags, 0);
  ck_assert_int_eq(r.ext_seq, 30002);
  ck_assert_uint_eq(st.restarts, 1);
  ck_assert_uint_eq(st.bad, 2);
}
END_TEST

START_TEST(test_seq_ssrc_change)
{
  setup_rate(8000, 0);
  uint64_t now = 0;
  ck_assert_int_eq(feed(1, 0, 0xAAAA, now).verdict, SR_SEQ_PROBATION);
  now += 20 * MS;
  feed_n(2, 160, 0xAAAA, 50, &now);
  /* A transfer: a new SSRC with its own numbering; probation again. */
  sr_seq_result r = feed(40000, 9999999, 0xBBBB, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_PROBATION);
  now += 20 * MS;
  r = feed(40001, 9999999 + 160, 0xBBBB, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_NEW_SSRC);
  ck_assert_int_eq(r.ext_seq, 40001);
  ck_assert_uint_eq(st.ssrc_changes, 1);
  ck_assert_uint_eq(sr_seq_expected(&st), 1);
  /* A straggler of the old SSRC shortly after: dropped, no flip back. */
  now += 20 * MS;
  r = feed(52, 160 * 51, 0xAAAA, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_STALE);
  ck_assert_uint_eq(st.stale, 1);
  ck_assert_uint_eq(st.ssrc, 0xBBBB);
  r = feed(40002, 9999999 + 320, 0xBBBB, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, 0);
  /* The old SSRC back after 2 s is a change again. */
  now += 2500 * MS;
  ck_assert_int_eq(feed(53, 0, 0xAAAA, now).verdict, SR_SEQ_PROBATION);
  r = feed(54, 160, 0xAAAA, now + 20 * MS);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_NEW_SSRC);
  ck_assert_uint_eq(st.ssrc_changes, 2);
}
END_TEST

START_TEST(test_seq_ts_jump_forward)
{
  setup_rate(8000, 1);
  uint64_t now = 0;
  feed_n(0, 0, 1, 10, &now);
  /* An SBC failover: the next packet's timestamp is an hour ahead. */
  uint32_t hour = 8000u * 3600;
  sr_seq_result r = feed(10, 1600 + hour, 1, now);
  ck_assert_int_eq(r.verdict, SR_SEQ_ACCEPT);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_TS_JUMP);
  ck_assert_int_eq(r.ts_offset, hour);
  ck_assert_uint_eq(st.ts_jumps, 1);
  /* The new timeline is the reference from now on. */
  now += 20 * MS;
  r = feed(11, 1760 + hour, 1, now);
  ck_assert_uint_eq(r.flags, 0);
  /* Just under a second off (a DTX pause of 0.9 s) is no jump... */
  r = feed(12, 1920 + hour + 7200, 1, now + 920 * MS);
  ck_assert_uint_eq(r.flags, 0);
  ck_assert_int_eq(r.ts_offset, 0);
  /* ...and just over is. */
  r = feed(13, 2080 + hour + 7200 + 8001, 1, now + 2 * 1000 * MS);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_TS_JUMP);
  ck_assert_int_eq(r.ts_offset, 8001);
}
END_TEST

START_TEST(test_seq_ts_jump_backward)
{
  setup_rate(16000, 1);
  uint64_t now = 0;
  for (unsigned i = 0; i < 10; i++, now += 20 * MS)
    feed((uint16_t)(500 + i), 1000000 + 320 * i, 1, now);
  /* Ten seconds back, across the 32-bit timestamp's wrap too. */
  sr_seq_result r = feed(510, 1000000 + 3200 - 160000, 1, now);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_TS_JUMP);
  ck_assert_int_eq(r.ts_offset, -160000);
  r = feed(511, 1000000 + 3200 - 160000 + 320, 1, now + 20 * MS);
  ck_assert_uint_eq(r.flags, 0);
  setup_rate(8000, 1);
  feed(1, 100, 1, 0);
  feed(2, 260, 1, 20 * MS);
  /* 2.5 s back from near 0: across the wrap to 0xFFFFxxxx. */
  r = feed(3, 260u - 20000u, 1, 40 * MS);
  ck_assert_uint_eq(r.flags, SR_SEQ_F_TS_JUMP);
  ck_assert_int_eq(r.ts_offset, -20160);
}
END_TEST

START_TEST(test_seq_ts_wrap_is_no_jump)
{
  setup_rate(8000, 1);
  uint64_t now = 0;
  feed_n(0, 0xFFFFFF00u - 160 * 5, 1, 10, &now);
  ck_assert_uint_eq(st.ts_jumps, 0);
}
END_TEST

START_TEST(test_seq_jitter)
{
  setup_rate(8000, 1);
  uint64_t now = 1000 * MS;
  feed_n(0, 0, 1, 100, &now);
  ck_assert_uint_eq(sr_seq_jitter(&st), 0);
  /* Every other packet 5 ms late: |D| = 40 ticks each time, so J -> 40. */
  for (unsigned i = 100; i < 400; i++) {
    uint64_t at = 1000 * MS + 20 * MS * i + (i % 2 ? 5 * MS : 0);
    feed((uint16_t)i, 160 * i, 1, at);
  }
  uint32_t j = sr_seq_jitter(&st);
  ck_assert_uint_ge(j, 36);
  ck_assert_uint_le(j, 40);
  /* A timestamp jump does not count as an arrival of hours' difference. */
  feed(400, 160 * 400 + 8000u * 3600, 1, 1000 * MS + 20 * MS * 400);
  ck_assert_uint_le(sr_seq_jitter(&st), 40);
}
END_TEST

START_TEST(test_ts_jump_helper)
{
  int64_t off;
  ck_assert(!sr_ts_jump(1, 160, 160, 8000, 8000, &off));
  ck_assert_int_eq(off, 0);
  /* Unknown packet time: 20 ms assumed. */
  ck_assert(!sr_ts_jump(3, 480, 0, 8000, 8000, &off));
  ck_assert_int_eq(off, 0);
  ck_assert(sr_ts_jump(1, 160 + 8001, 160, 8000, 8000, &off));
  ck_assert(sr_ts_jump(1, 160 - 8001, 160, 8000, 8000, &off));
  ck_assert_int_eq(off, -8001);
  ck_assert(!sr_ts_jump(-2, -320, 160, 8000, 8000, &off));
}
END_TEST

static Suite *media_seq_suite(void)
{
  Suite *s = suite_create("media_seq");
  TCase *tc = tcase_create("seq");
  tcase_add_test(tc, test_seq_init);
  tcase_add_test(tc, test_seq_probation);
  tcase_add_test(tc, test_seq_loss_counts);
  tcase_add_test(tc, test_seq_wrap);
  tcase_add_test(tc, test_seq_reorder_across_wrap_at_start);
  tcase_add_test(tc, test_seq_misorder_and_duplicate);
  tcase_add_test(tc, test_seq_restart);
  tcase_add_test(tc, test_seq_ssrc_change);
  tcase_add_test(tc, test_seq_ts_jump_forward);
  tcase_add_test(tc, test_seq_ts_jump_backward);
  tcase_add_test(tc, test_seq_ts_wrap_is_no_jump);
  tcase_add_test(tc, test_seq_jitter);
  tcase_add_test(tc, test_ts_jump_helper);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(media_seq_suite());
}
