/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCMU and PCMA (G.711), concealed with spandsp's PLC, which was made for
 * 8 kHz G.711 (its history kept lazily: g711_plc.h). Several channels
 * (rare, but RFC 3551 allows them) are averaged into one. */
#include <pthread.h>
#include <stdbool.h>

#include "decoder_impl.h"
#include "g711_plc.h"

/* On x86-64 a packet is decoded 16 samples at a time with AVX2 when the
 * CPU has it (checked once at run time; the library is built for the
 * baseline ISA): the same arithmetic as spandsp's, where a table lookup a
 * sample was half the time of the 4,000-stream media path's decode
 * (docs/performance.md, "bench_media"). Elsewhere, the table. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SR_G711_AVX2 1
#include <immintrin.h>
#endif

/* Both laws as tables made once from spandsp's own functions (the same
 * values, a load per sample instead of the bit arithmetic: G.711 decoding
 * was a third of the media path's time). */
static int16_t ulaw_table[256], alaw_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static bool use_avx2, has_avx2;

static void tables_init(void)
{
  for (int i = 0; i < 256; i++) {
    ulaw_table[i] = ulaw_to_linear((uint8_t)i);
    alaw_table[i] = alaw_to_linear((uint8_t)i);
  }
#ifdef SR_G711_AVX2
  __builtin_cpu_init();
  has_avx2 = __builtin_cpu_supports("avx2");
  use_avx2 = has_avx2;
#endif
}

void sr_decoder_g711_simd(bool allow)
{
  pthread_once(&tables_once, tables_init);
  use_avx2 = allow && has_avx2;
}

#ifdef SR_G711_AVX2
/* Each code byte widened to a 16-bit lane; its segment's power of two
 * looked up with a byte shuffle (the lane's high byte index 0x80 gives 0);
 * the biased mantissa multiplied by it; the sign applied last. u-law:
 * u = ~c, t = ((u & 15) << 3 | 0x84) << seg, out = sign ? 0x84 - t : t - 0x84.
 * A-law: a = c ^ 0x55, t = ((a & 15) << 4) + (seg ? 0x108 : 8), shifted by
 * seg - 1 (seg > 0), out = sign ? t : -t. The largest t, 32,256, fits. */
/* 16 code bytes, each in a 16-bit lane, xored with `mask` (~ for u-law,
 * the AMI bits for A-law). */
__attribute__((target("avx2"))) static inline __m256i load16(const uint8_t *in, __m256i mask)
{
  return _mm256_xor_si256(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)in)), mask);
}

/* The segment (bits 4-6) of each lane. */
__attribute__((target("avx2"))) static inline __m256i seg_of(__m256i v)
{
  return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi16(7));
}

/* Each segment's entry in `pow2` (8 bytes in each half; the lane's high
 * byte index 0x80 gives 0). */
__attribute__((target("avx2"))) static inline __m256i pow2_of(__m256i seg, __m256i pow2)
{
  return _mm256_shuffle_epi8(pow2, _mm256_or_si256(seg, _mm256_set1_epi16((short)0x8000)));
}

/* -1 in the lanes whose bit 7 is set. */
__attribute__((target("avx2"))) static inline __m256i bit7(__m256i v)
{
  return _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 15);
}

/* v, negated where neg is -1. */
__attribute__((target("avx2"))) static inline __m256i negate_where(__m256i v, __m256i neg)
{
  return _mm256_sub_epi16(_mm256_xor_si256(v, neg), neg);
}

__attribute__((target("avx2"))) static size_t ulaw_avx2(const uint8_t *in, int16_t *out, size_t n)
{
  const __m256i pow2 = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0,
                                        1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i ff = _mm256_set1_epi16(0xff), bias = _mm256_set1_epi16(0x84);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i u = load16(in + i, ff);
    __m256i t = _mm256_add_epi16(_mm256_slli_epi16(_mm256_and_si256(u, _mm256_set1_epi16(15)), 3), bias);
    t = _mm256_mullo_epi16(t, pow2_of(seg_of(u), pow2));
    __m256i d = negate_where(_mm256_sub_epi16(t, bias), bit7(u));
    _mm256_storeu_si256((__m256i *)(out + i), d);
  }
  return i;
}

__attribute__((target("avx2"))) static size_t alaw_avx2(const uint8_t *in, int16_t *out, size_t n)
{
  const __m256i pow2 = _mm256_setr_epi8(1, 1, 2, 4, 8, 16, 32, 64, 0, 0, 0, 0, 0, 0, 0, 0,
                                        1, 1, 2, 4, 8, 16, 32, 64, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i ami = _mm256_set1_epi16(0x55), ones = _mm256_set1_epi16(-1);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i a = load16(in + i, ami);
    __m256i seg = seg_of(a);
    __m256i base = _mm256_add_epi16(_mm256_slli_epi16(_mm256_and_si256(a, _mm256_set1_epi16(15)), 4),
                                    _mm256_set1_epi16(8));
    base = _mm256_add_epi16(base, _mm256_and_si256(_mm256_cmpgt_epi16(seg, _mm256_setzero_si256()),
                                                   _mm256_set1_epi16(0x100)));
    __m256i t = _mm256_mullo_epi16(base, pow2_of(seg, pow2));
    /* Positive where bit 7 is set: negated where it is not. */
    __m256i d = negate_where(t, _mm256_xor_si256(bit7(a), ones));
    _mm256_storeu_si256((__m256i *)(out + i), d);
  }
  return i;
}
#endif

typedef struct g711 {
  sr_g711_plc plc;
} g711;

/* The table the concealer decodes its code bytes with: mono only (several
 * channels' samples are averages, kept by plain plc_rx). */
static const int16_t *plc_law(const sr_decoder *d)
{
  if (d->channels != 1)
    return NULL;
  return d->codec == SR_CODEC_PCMU ? ulaw_table : alaw_table;
}

static int g711d_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  (void)p;
  pthread_once(&tables_once, tables_init);
  g711 *g = sr_calloc(&d->alloc, 1, sizeof *g);
  if (!g)
    return SIPREC_ENOMEM;
  d->state = g;
  sr_g711_plc_init(&g->plc, plc_law(d));
  return 0;
}

static int g711d_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  (void)payload;
  if (d->channels == 1)
    return (int)len; /* the usual case, without a division a packet */
  if (len % d->channels)
    return SIPREC_EPARSE;
  return (int)(len / d->channels);
}

static int g711d_decode(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                       unsigned *flags)
{
  g711 *g = d->state;
  size_t n = d->channels == 1 ? len : len / d->channels;
  const int16_t *law = d->codec == SR_CODEC_PCMU ? ulaw_table : alaw_table;
  (void)flags;
  if (d->channels == 1) {
    /* Eight at a time: the loads of one group do not wait on the stores
     * of the last (out may not alias the table or the payload). */
    int16_t *restrict o = out;
    const uint8_t *restrict in = payload;
    size_t i = 0;
#ifdef SR_G711_AVX2
    if (use_avx2)
      i = d->codec == SR_CODEC_PCMU ? ulaw_avx2(in, o, n) : alaw_avx2(in, o, n);
#endif
    for (; i + 8 <= n; i += 8) {
      int16_t v[8];
      for (size_t j = 0; j < 8; j++)
        v[j] = law[in[i + j]];
      for (size_t j = 0; j < 8; j++)
        o[i + j] = v[j];
    }
    for (; i < n; i++)
      o[i] = law[in[i]];
  } else {
    for (size_t i = 0; i < n; i++) {
      int32_t sum = 0;
      for (unsigned c = 0; c < d->channels; c++)
        sum += law[payload[i * d->channels + c]];
      out[i] = (int16_t)(sum / (int32_t)d->channels);
    }
  }
  sr_g711_plc_rx(&g->plc, payload, out, n);
  return (int)n;
}

static void g711d_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  g711 *g = d->state;
  sr_g711_plc_fillin(&g->plc, out, n);
  *flags |= SR_DEC_CONCEALED;
}

static void g711d_reset(sr_decoder *d)
{
  g711 *g = d->state;
  sr_g711_plc_init(&g->plc, plc_law(d));
}

static void g711d_fini(sr_decoder *d)
{
  sr_free(&d->alloc, d->state);
}

const sr_decoder_ops sr_dec_g711_ops = {
  .init = g711d_init_state,
  .samples = g711d_samples,
  .decode = g711d_decode,
  .conceal = g711d_conceal,
  .reset = g711d_reset,
  .fini = g711d_fini,
};
