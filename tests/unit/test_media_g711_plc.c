/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/media/g711_plc.c, the lazily kept G.711 concealment history, against
 * spandsp's PLC run eagerly (plc_rx on every packet, as dec_g711 did before
 * it), sample for sample: real speech (pocketsphinx-testdata's, or the
 * speech-like signal tests/common/speech.c makes without it) in packets of
 * random lengths, under random loss patterns (single losses, bursts, fills
 * shorter than spandsp's cross-fade and longer than its fade, losses before
 * the history is full, a loss right after a concealment), for both laws,
 * alone and through the G.711 decoder (with a reset mid-stream). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "speech.h"
#include "media/decoder.h"
#include "media/g711_plc.h"
#include "media/spandsp_plc.h"

#define MAXP 600 /* longest packet or fill here (above the 280-sample history) */

static speech voice;

static void setup(void)
{
  ck_assert_int_eq(speech_load(&voice), 0);
}

static void teardown(void)
{
  speech_free(&voice);
}

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng % n);
}

/* A packet length: mostly the usual ones, sometimes anything up to MAXP. */
static size_t packet_len(void)
{
  static const size_t usual[] = { 80, 160, 160, 160, 240 };
  if (rnd(8) == 0)
    return 1 + rnd(MAXP);
  return usual[rnd(sizeof usual / sizeof usual[0])];
}

/* A fill length: a packet's, shorter than the cross-fade (30), or long
 * enough to fade to silence (400 samples at spandsp's 0.0025 a sample). */
static size_t fill_len(void)
{
  switch (rnd(4)) {
  case 0:
    return 1 + rnd(29);
  case 1:
    return 300 + rnd(MAXP - 299);
  default:
    return 160;
  }
}

static int16_t ulaw_tab[256], alaw_tab[256];

static void make_tables(void)
{
  for (int i = 0; i < 256; i++) {
    ulaw_tab[i] = ulaw_to_linear((uint8_t)i);
    alaw_tab[i] = alaw_to_linear((uint8_t)i);
  }
}

static uint8_t encode(bool ulaw, int16_t v)
{
  return ulaw ? linear_to_ulaw(v) : linear_to_alaw(v);
}

static void assert_same(const int16_t *got, const int16_t *want, size_t n, const char *what,
                        uint64_t seed, size_t at)
{
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(got[i] == want[i], "%s, seed %llu, sample %zu: %d != %d", what,
                  (unsigned long long)seed, at + i, got[i], want[i]);
}

/* What one run saw of the lazy path: that it was exercised. */
typedef struct run_counts {
  unsigned fills_from_lazy, back_to_lazy, rx_lazy;
} run_counts;

/* One pass over the speech: the module against eager spandsp. `loss` is
 * the chance (in 1/1000) that a packet is lost; `start_lost` starts with a
 * fill before any packet. */
static void run_direct(bool ulaw, uint64_t seed, unsigned loss, bool start_lost,
                       run_counts *rc)
{
  rng = seed;
  sr_g711_plc lazy;
  sr_g711_plc_init(&lazy, ulaw ? ulaw_tab : alaw_tab);
  plc_state_t ref;
  plc_init(&ref);
  uint8_t codes[MAXP];
  int16_t got[MAXP], want[MAXP];
  size_t at = 0;
  if (start_lost) {
    size_t n = fill_len();
    rc->fills_from_lazy += !lazy.eager;
    sr_g711_plc_fillin(&lazy, got, n);
    sr_spandsp_plc_fillin(&ref, want, (int)n);
    assert_same(got, want, n, "fill at start", seed, 0);
  }
  while (at + MAXP <= voice.n8) {
    size_t n = packet_len();
    if (rnd(1000) < loss) {
      /* A loss, sometimes a burst: the fill covers the lost span. */
      size_t f = fill_len();
      rc->fills_from_lazy += !lazy.eager;
      sr_g711_plc_fillin(&lazy, got, f);
      sr_spandsp_plc_fillin(&ref, want, (int)f);
      assert_same(got, want, f, "fill", seed, at);
      at += f;
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      codes[i] = encode(ulaw, voice.s8[at + i]);
      want[i] = ulaw ? ulaw_to_linear(codes[i]) : alaw_to_linear(codes[i]);
      got[i] = want[i];
    }
    bool was_eager = lazy.eager;
    rc->rx_lazy += !was_eager;
    sr_g711_plc_rx(&lazy, codes, got, n);
    plc_rx(&ref, want, (int)n);
    rc->back_to_lazy += was_eager && !lazy.eager;
    assert_same(got, want, n, "rx", seed, at);
    at += n;
  }
  /* A last fill from whatever state the pass ended in. */
  sr_g711_plc_fillin(&lazy, got, 160);
  sr_spandsp_plc_fillin(&ref, want, 160);
  assert_same(got, want, 160, "last fill", seed, at);
}

/* Under valgrind (its test setup sets SIPREC_UNDER_VALGRIND), where this
 * file was the longest test of the run, fewer seeds and transitions: there
 * the run is for memory errors; the full sweep runs in every other build. */
static bool under_valgrind(void)
{
  return getenv("SIPREC_UNDER_VALGRIND") != NULL;
}

START_TEST(test_lazy_equals_eager_random_losses)
{
  make_tables();
  static const unsigned losses[] = { 0, 10, 50, 150, 400 };
  run_counts rc = { 0 };
  uint64_t seeds = under_valgrind() ? 5 : 12;
  for (int law = 0; law < 2; law++)
    for (uint64_t seed = 1; seed <= seeds; seed++)
      run_direct(law == 0, seed * 0x9e3779b97f4a7c15ull, losses[seed % 5], seed % 3 == 0,
                 &rc);
  /* The lazy path ran: losses started from it, and it came back after. */
  ck_assert_uint_gt(rc.fills_from_lazy, 20 * seeds / 12);
  ck_assert_uint_gt(rc.back_to_lazy, 20 * seeds / 12);
  ck_assert_uint_gt(rc.rx_lazy, 1000 * seeds / 12);
}
END_TEST

/* Losses before 280 samples were received: the history's zeros (plc_init's)
 * before the first bytes, as eager plc_rx would have left them. */
START_TEST(test_lazy_short_history)
{
  make_tables();
  for (size_t first = 1; first <= 300; first += 23) {
    sr_g711_plc lazy;
    sr_g711_plc_init(&lazy, alaw_tab); /* no A-law byte decodes to 0 */
    plc_state_t ref;
    plc_init(&ref);
    uint8_t codes[MAXP];
    int16_t got[MAXP], want[MAXP];
    for (size_t i = 0; i < first; i++) {
      codes[i] = encode(false, voice.s8[4000 + i]);
      want[i] = got[i] = alaw_to_linear(codes[i]);
    }
    sr_g711_plc_rx(&lazy, codes, got, first);
    plc_rx(&ref, want, (int)first);
    sr_g711_plc_fillin(&lazy, got, 200);
    sr_spandsp_plc_fillin(&ref, want, 200);
    assert_same(got, want, 200, "short history", first, 0);
  }
}
END_TEST

/* Every way back to lazy, exhaustively: after a concealment, k packets of
 * length L, then another loss, whose fill reads the history just when the
 * module may have switched back (the cross-faded packet or synthetic
 * samples still within the last 280 would show). */
START_TEST(test_lazy_transitions)
{
  make_tables();
  static const size_t lens[] = { 1, 7, 29, 30, 80, 100, 140, 160, 279, 280, 281, 400 };
  static const size_t fills[] = { 5, 160, 500 };
  uint8_t codes[MAXP];
  int16_t got[MAXP], want[MAXP];
  for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
    for (size_t fi = 0; fi < sizeof fills / sizeof fills[0]; fi++)
      for (size_t k = 0; k <= 10; k += under_valgrind() ? 5 : 1) {
        size_t L = lens[li], at = 6000;
        sr_g711_plc lazy;
        sr_g711_plc_init(&lazy, ulaw_tab);
        plc_state_t ref;
        plc_init(&ref);
        /* 400 samples received (lazy by then), then three times: a loss,
         * k packets of L. A last loss reads what the last k left. */
        for (int round = 0; round < 4; round++) {
          size_t count = round == 0 ? 1 : k, n = round == 0 ? 400 : L;
          for (size_t j = 0; j < count; j++) {
            for (size_t i = 0; i < n; i++) {
              codes[i] = encode(true, voice.s8[(at + i) % voice.n8]);
              want[i] = got[i] = ulaw_to_linear(codes[i]);
            }
            sr_g711_plc_rx(&lazy, codes, got, n);
            plc_rx(&ref, want, (int)n);
            assert_same(got, want, n, "transition rx", L * 100 + k, at);
            at += n;
          }
          sr_g711_plc_fillin(&lazy, got, fills[fi]);
          sr_spandsp_plc_fillin(&ref, want, (int)fills[fi]);
          assert_same(got, want, fills[fi], "transition fill", L * 100 + k, at);
          at += fills[fi];
        }
      }
}
END_TEST

/* law NULL (several channels): plain plc_rx every packet, never lazy. */
START_TEST(test_no_law_is_eager)
{
  rng = 77;
  sr_g711_plc p;
  sr_g711_plc_init(&p, NULL);
  plc_state_t ref;
  plc_init(&ref);
  int16_t got[MAXP], want[MAXP];
  size_t at = 0;
  for (int k = 0; k < 200 && at + MAXP <= voice.n8; k++) {
    if (rnd(10) == 0) {
      sr_g711_plc_fillin(&p, got, 160);
      sr_spandsp_plc_fillin(&ref, want, 160);
    } else {
      memcpy(got, voice.s8 + at, 160 * sizeof *got);
      memcpy(want, got, sizeof want);
      sr_g711_plc_rx(&p, NULL, got, 160);
      plc_rx(&ref, want, 160);
    }
    ck_assert(p.eager);
    assert_same(got, want, 160, "no law", 77, at);
    at += 160;
  }
}
END_TEST

/* Through the decoder, as the stream uses it: decode and conceal of PCMU
 * and PCMA, a reset mid-stream, against spandsp's decode and eager PLC. */
START_TEST(test_decoder_lazy_equals_eager)
{
  for (int law = 0; law < 2; law++) {
    bool ulaw = law == 0;
    sr_decoder_params prm = { .encoding = ulaw ? "PCMU" : "PCMA", .payload_type = ulaw ? 0 : 8,
                              .clock_rate = 8000, .channels = 1 };
    sr_decoder *d = NULL;
    ck_assert_int_eq(sr_decoder_new(NULL, &prm, &d), 0);
    plc_state_t ref;
    plc_init(&ref);
    rng = 4242 + (uint64_t)law;
    uint8_t codes[MAXP];
    int16_t got[MAXP], want[MAXP];
    size_t at = 0;
    unsigned fills = 0;
    for (int k = 0; at + MAXP <= voice.n8; k++) {
      if (k == 60) {
        sr_decoder_reset(d);
        plc_init(&ref);
      }
      if (rnd(100) < 8) {
        size_t f = fill_len();
        unsigned flags = 0;
        ck_assert_int_eq(sr_decoder_conceal(d, f, got, MAXP, &flags), (int)f);
        ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
        sr_spandsp_plc_fillin(&ref, want, (int)f);
        assert_same(got, want, f, "decoder fill", 4242, at);
        at += f;
        fills++;
        continue;
      }
      size_t n = packet_len();
      for (size_t i = 0; i < n; i++) {
        codes[i] = encode(ulaw, voice.s8[at + i]);
        want[i] = ulaw ? ulaw_to_linear(codes[i]) : alaw_to_linear(codes[i]);
      }
      ck_assert_int_eq(sr_decoder_decode(d, codes, n, got, MAXP, NULL), (int)n);
      plc_rx(&ref, want, (int)n);
      assert_same(got, want, n, "decoder rx", 4242, at);
      at += n;
    }
    ck_assert_uint_gt(fills, 5);
    sr_decoder_free(d);
  }
}
END_TEST

static Suite *g711_plc_suite(void)
{
  Suite *s = suite_create("media_g711_plc");
  TCase *tc = tcase_create("lazy");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_lazy_equals_eager_random_losses);
  tcase_add_test(tc, test_lazy_short_history);
  tcase_add_test(tc, test_lazy_transitions);
  tcase_add_test(tc, test_no_law_is_eager);
  tcase_add_test(tc, test_decoder_lazy_equals_eager);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(g711_plc_suite());
}
