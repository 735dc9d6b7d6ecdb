/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for lib/media's decoders, comfort noise, DTMF and the
 * resampler. Input: byte 0 picks the decoder (modulo the table of every
 * codec this build has); then records of [op][len][len bytes]: op's low
 * two bits pick decode (0), conceal (1), conceal with the record as the
 * next packet (2) or reset (3); op's high bits scale a concealment's
 * length and the output bound. Each record's bytes also go to the RTP
 * telephone-event reader and comfort noise parser, and every sample made
 * goes through a resampler to 16 kHz.
 * Checks: return codes are documented ones; a decode gives exactly what
 * sr_decoder_samples said, never past the bound (a guard sample after it
 * stays untouched); a concealment gives exactly n; flags are the
 * documented ones; the resampler stays within its own bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "media/cn.h"
#include "media/decoder.h"
#include "media/dtmf.h"
#include "media/resample.h"

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

#define OUT_CAP 6000 /* 125 ms at 48 kHz: above Opus's 120 ms packets */

static const sr_decoder_params params[] = {
  {.encoding = "PCMU", .payload_type = 0},
  {.encoding = "PCMA", .payload_type = 8, .channels = 2},
  {.encoding = NULL, .payload_type = 9},
  {.encoding = NULL, .payload_type = 2},
  {.encoding = "AAL2-G726-32", .payload_type = 97},
  {.encoding = "G726-24", .payload_type = 97},
  {.encoding = "G726-40", .payload_type = 97},
  {.encoding = "G726-16", .payload_type = 97},
  {.encoding = "L16", .payload_type = 96, .clock_rate = 16000},
  {.encoding = NULL, .payload_type = 10},
  {.encoding = "CN", .payload_type = 13},
  {.encoding = "opus", .payload_type = 111, .channels = 2},
  {.encoding = "opus", .payload_type = 111, .channels = 2, .opus_rate = 16000},
  {.encoding = "opus", .payload_type = 111, .channels = 2, .opus_rate = 8000},
  {.encoding = "G729", .payload_type = 18},
};
#define NPARAMS (sizeof params / sizeof params[0])

static int16_t out[OUT_CAP + 1];
static int16_t resampled[OUT_CAP * 6 + 16];

static const unsigned all_flags = SR_DEC_CONCEALED | SR_DEC_COMFORT_NOISE | SR_DEC_FEC;

static void resample(sr_resampler *r, size_t n)
{
  if (!r)
    return; /* a build without speexdsp */
  size_t cap = sr_resampler_out_max(r, n);
  CHECK(cap <= sizeof resampled / sizeof resampled[0]);
  int got = sr_resampler_process(r, out, n, resampled, cap);
  CHECK(got >= 0 && (size_t)got <= cap);
}

static void do_decode(sr_decoder *d, const uint8_t *p, size_t len, size_t cap, sr_resampler *r)
{
  unsigned flags = 0;
  int want = sr_decoder_samples(d, p, len);
  CHECK(want >= 0 || want == SIPREC_EPARSE);
  out[cap] = 0x1234;
  int got = sr_decoder_decode(d, p, len, out, cap, &flags);
  CHECK(out[cap] == 0x1234);
  if (want < 0) {
    CHECK(got == want);
    return;
  }
  if ((size_t)want > cap) {
    CHECK(got == SIPREC_ETOOBIG);
    return;
  }
  /* Opus may still refuse a packet its header parse accepted. */
  CHECK(got == want || got == SIPREC_EPARSE);
  CHECK((flags & ~all_flags) == 0);
  if (got > 0)
    resample(r, (size_t)got);
}

static void do_conceal(sr_decoder *d, const uint8_t *p, size_t len, size_t n, size_t cap,
                       int fec, sr_resampler *r)
{
  unsigned flags = 0;
  out[cap] = 0x1234;
  int got = fec ? sr_decoder_conceal_fec(d, p, len, n, out, cap, &flags)
                : sr_decoder_conceal(d, n, out, cap, &flags);
  CHECK(out[cap] == 0x1234);
  if (n > cap) {
    CHECK(got == SIPREC_ETOOBIG);
    return;
  }
  if (fec && got == SIPREC_EPARSE && n > 0) {
    CHECK(sr_decoder_samples(d, p, len) < 0);
    return;
  }
  CHECK(got == (int)n);
  CHECK((flags & ~all_flags) == 0);
  CHECK(n == 0 || flags != 0);
  if (got > 0)
    resample(r, (size_t)got);
}

static void side_readers(sr_dtmf *dtmf, uint32_t ts, const uint8_t *p, size_t len)
{
  sr_dtmf_event ev;
  int rc = sr_dtmf_feed(dtmf, ts, p, len, &ev);
  CHECK(rc == SIPREC_EPARSE || (rc >= 0 && rc <= (SR_DTMF_START | SR_DTMF_END)));
  if (rc > 0)
    CHECK(ev.code < 16 && ev.digit != '\0' && ev.timestamp == ts);
  sr_cn_info cn;
  rc = sr_cn_parse(p, len, &cn);
  CHECK(rc == (len ? 0 : SIPREC_EPARSE));
  if (rc == 0)
    CHECK(cn.level <= 127 && cn.n_coeffs == len - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  sr_decoder *d = NULL;
  int rc = sr_decoder_new(NULL, &params[data[0] % NPARAMS], &d);
  if (rc == SIPREC_ENOTFOUND)
    return 0; /* a codec this build leaves out */
  CHECK(rc == 0 && d);
  sr_resampler *r = NULL;
  rc = sr_resampler_new(NULL, sr_decoder_rate(d), 16000, data[0] & 1 ? 0 : -1, &r);
  CHECK((rc == 0 && r) || (rc == SIPREC_ENOTFOUND && !r)); /* ENOTFOUND: no speexdsp */
  sr_dtmf dtmf;
  sr_dtmf_init(&dtmf);
  uint32_t ts = 0;
  size_t i = 1;
  while (i + 2 <= size) {
    uint8_t op = data[i], len = data[i + 1];
    i += 2;
    size_t avail = size - i < len ? size - i : len;
    const uint8_t *p = data + i;
    i += avail;
    size_t cap = op & 0x80 ? (size_t)(op >> 2 & 0x1f) * 37 : OUT_CAP;
    size_t n = (size_t)(op >> 2) * 41;
    switch (op & 3) {
    case 0: do_decode(d, p, avail, cap, r); break;
    case 1: do_conceal(d, p, avail, n, cap, 0, r); break;
    case 2: do_conceal(d, p, avail, n, cap, 1, r); break;
    default: sr_decoder_reset(d); break;
    }
    side_readers(&dtmf, ts, p, avail);
    ts += (uint32_t)op * 17u;
  }
  if (r) {
    size_t fcap = sr_resampler_flush_max(r);
    CHECK(fcap <= sizeof resampled / sizeof resampled[0]);
    rc = sr_resampler_flush(r, resampled, fcap);
    CHECK(rc >= 0 && (size_t)rc <= fcap);
    sr_resampler_free(r);
  }
  sr_decoder_free(d);
  return 0;
}
