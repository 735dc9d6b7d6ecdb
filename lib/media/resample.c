/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "resample.h"

#include <string.h>

#include "../common/alloc.h"

#ifdef SR_HAVE_SPEEXDSP
#include <speex/speex_resampler.h>
#else
typedef struct SpeexResamplerState SpeexResamplerState;
#endif

struct sr_resampler {
  siprec_allocator alloc;
  uint32_t in_rate, out_rate;
  SpeexResamplerState *st; /* NULL when the rates are equal: a copy */
  uint64_t total_in, total_out;
  size_t latency; /* output samples the filter holds back */
};

#ifdef SR_HAVE_SPEEXDSP
static int speex_start(sr_resampler *r, int quality)
{
  int err = 0;
  r->st = speex_resampler_init(1, r->in_rate, r->out_rate, quality, &err);
  if (!r->st)
    return err == RESAMPLER_ERR_ALLOC_FAILED ? SIPREC_ENOMEM : SIPREC_EINVAL;
  speex_resampler_skip_zeros(r->st);
  int lat = speex_resampler_get_output_latency(r->st);
  r->latency = lat > 0 ? (size_t)lat : 0;
  return 0;
}
#else
static int speex_start(sr_resampler *r, int quality)
{
  (void)r;
  (void)quality;
  return SIPREC_ENOTFOUND;
}
#endif

int sr_resampler_new(const siprec_allocator *alloc, uint32_t in_rate, uint32_t out_rate,
                     int quality, sr_resampler **out)
{
  if (!out)
    return SIPREC_EINVAL;
  *out = NULL;
  if (quality == -1)
    quality = SR_RESAMPLE_QUALITY_DEFAULT;
  if (in_rate < 1000 || in_rate > 192000 || out_rate < 1000 || out_rate > 192000 ||
      quality < 0 || quality > 10)
    return SIPREC_EINVAL;
  siprec_allocator a;
  int rc;
  sr_resampler *r = sr_object_new(alloc, sizeof *r, &a, &rc);
  if (!r)
    return rc;
  *r = (sr_resampler){.alloc = a, .in_rate = in_rate, .out_rate = out_rate};
  if (in_rate != out_rate && (rc = speex_start(r, quality)) < 0) {
    sr_free(&a, r);
    return rc;
  }
  *out = r;
  return 0;
}

void sr_resampler_free(sr_resampler *r)
{
  if (!r)
    return;
#ifdef SR_HAVE_SPEEXDSP
  if (r->st)
    speex_resampler_destroy(r->st);
#endif
  siprec_allocator a = r->alloc;
  sr_free(&a, r);
}

size_t sr_resampler_out_max(const sr_resampler *r, size_t n)
{
  /* The phase carried between calls can add one sample; one more for
   * rounding. */
  return (size_t)((uint64_t)n * r->out_rate / r->in_rate) + 2;
}

size_t sr_resampler_flush_max(const sr_resampler *r)
{
  return r->latency + 2;
}

void sr_resampler_reset(sr_resampler *r)
{
  if (!r)
    return;
#ifdef SR_HAVE_SPEEXDSP
  if (r->st) {
    speex_resampler_reset_mem(r->st);
    speex_resampler_skip_zeros(r->st);
  }
#endif
  r->total_in = r->total_out = 0;
}

#ifdef SR_HAVE_SPEEXDSP
/* Runs in[0..n) through speexdsp; returns the samples written. Input is
 * fed in pieces that fit speexdsp's 32-bit counts. */
static size_t speex_run(sr_resampler *r, const int16_t *in, size_t n, int16_t *out,
                        size_t cap)
{
  size_t done = 0;
  while (n) {
    spx_uint32_t in_len = n > 65536 ? 65536 : (spx_uint32_t)n;
    spx_uint32_t out_len = cap - done > UINT32_MAX ? UINT32_MAX : (spx_uint32_t)(cap - done);
    speex_resampler_process_int(r->st, 0, in, &in_len, out + done, &out_len);
    done += out_len;
    in += in_len;
    n -= in_len;
    if (in_len == 0 && out_len == 0)
      break; /* no room left: cannot happen within out_max */
  }
  return done;
}
#endif

int sr_resampler_process(sr_resampler *r, const int16_t *in, size_t n, int16_t *out,
                         size_t cap)
{
  if (!r || (!in && n) || (!out && cap))
    return SIPREC_EINVAL;
  if (n > INT32_MAX / 8 || cap < sr_resampler_out_max(r, n))
    return n > INT32_MAX / 8 ? SIPREC_EINVAL : SIPREC_ETOOBIG;
  size_t got = n;
  if (!r->st)
    memcpy(out, in, n * sizeof *in);
#ifdef SR_HAVE_SPEEXDSP
  else
    got = speex_run(r, in, n, out, cap);
#endif
  r->total_in += n;
  r->total_out += got;
  return (int)got;
}

int sr_resampler_flush(sr_resampler *r, int16_t *out, size_t cap)
{
  if (!r || (!out && cap))
    return SIPREC_EINVAL;
  if (cap < sr_resampler_flush_max(r))
    return SIPREC_ETOOBIG;
  size_t got = 0;
#ifdef SR_HAVE_SPEEXDSP
  uint64_t want = r->total_in * r->out_rate / r->in_rate;
  /* Zeros push the held-back tail out; feed them in small steps and stop
   * at the length the input stands for. */
  int16_t zeros[16] = {0};
  int16_t buf[16 * 192 + 2];
  for (unsigned guard = 0; r->st && r->total_out + got < want && guard < 4096; guard++) {
    size_t k = speex_run(r, zeros, sizeof zeros / sizeof zeros[0], buf, sizeof buf / sizeof buf[0]);
    size_t take = want - (r->total_out + got) < k ? (size_t)(want - (r->total_out + got)) : k;
    if (take > cap - got)
      take = cap - got;
    memcpy(out + got, buf, take * sizeof *out);
    got += take;
  }
#endif
  sr_resampler_reset(r);
  return (int)got;
}
