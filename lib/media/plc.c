/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "plc.h"

#include <stdlib.h>
#include <string.h>

#include "../common/alloc.h"

struct sr_plc {
  siprec_allocator alloc;
  size_t min_lag, max_lag; /* pitch search range, samples */
  size_t span;             /* samples compared per lag */
  size_t hist_len;         /* span + max_lag */
  size_t hold, fade;       /* full-level and fading lengths of a gap */
  size_t step;             /* search stride: 1 up to 16 kHz, coarser above */
  size_t missing;          /* samples concealed in the current gap */
  size_t pitch, offset;    /* period being repeated, position in it */
  int16_t *hist;           /* the last hist_len received samples */
  float *cycle;            /* the period repeated, max_lag samples */
};

sr_plc *sr_plc_new(const siprec_allocator *alloc, uint32_t rate)
{
  if (rate < 1000 || rate > 192000)
    return NULL;
  siprec_allocator a;
  int rc;
  sr_plc *p = sr_object_new(alloc, sizeof *p, &a, &rc);
  if (!p)
    return NULL;
  p->alloc = a;
  p->min_lag = rate / 400;
  p->max_lag = rate * 15 / 1000;
  p->span = rate / 50;
  p->hist_len = p->span + p->max_lag;
  p->hold = rate / 100;
  p->fade = rate / 20;
  /* Above 16 kHz a stride keeps the search's cost that of 16 kHz (a
   * period found to 1/16 ms is still exact enough to repeat). */
  p->step = rate > 16000 ? rate / 16000 : 1;
  p->hist = sr_calloc(&a, p->hist_len, sizeof *p->hist);
  p->cycle = sr_calloc(&a, p->max_lag, sizeof *p->cycle);
  if (!p->hist || !p->cycle) {
    sr_plc_free(p);
    return NULL;
  }
  return p;
}

void sr_plc_free(sr_plc *p)
{
  if (!p)
    return;
  siprec_allocator a = p->alloc;
  sr_free(&a, p->hist);
  sr_free(&a, p->cycle);
  sr_free(&a, p);
}

void sr_plc_reset(sr_plc *p)
{
  memset(p->hist, 0, p->hist_len * sizeof *p->hist);
  p->missing = 0;
  p->pitch = p->offset = 0;
}

static void push_history(sr_plc *p, const int16_t *amp, size_t len)
{
  if (len >= p->hist_len) {
    memcpy(p->hist, amp + len - p->hist_len, p->hist_len * sizeof *amp);
    return;
  }
  memmove(p->hist, p->hist + len, (p->hist_len - len) * sizeof *amp);
  memcpy(p->hist + p->hist_len - len, amp, len * sizeof *amp);
}

/* The lag with the smallest average magnitude difference over the last
 * `span` samples: the pitch period, or a multiple of it. */
static size_t find_pitch(const sr_plc *p)
{
  const int16_t *cur = p->hist + p->hist_len - p->span;
  size_t best = p->min_lag;
  long long best_sum = -1;
  for (size_t lag = p->min_lag; lag <= p->max_lag; lag += p->step) {
    long long sum = 0;
    for (size_t j = 0; j < p->span && (best_sum < 0 || sum < best_sum); j += p->step)
      sum += llabs((long long)cur[j] - cur[(ptrdiff_t)j - (ptrdiff_t)lag]);
    if (best_sum < 0 || sum < best_sum) {
      best_sum = sum;
      best = lag;
    }
  }
  return best;
}

/* Copies the last period into `cycle`, its first quarter overlap-added
 * with the quarter before it so the repetition joins without a click. */
static void start_gap(sr_plc *p)
{
  p->pitch = find_pitch(p);
  const int16_t *last = p->hist + p->hist_len - p->pitch;
  for (size_t i = 0; i < p->pitch; i++)
    p->cycle[i] = last[i];
  size_t ola = p->pitch / 4;
  for (size_t i = 0; i < ola; i++) {
    float w = (float)(i + 1) / (float)(ola + 1);
    p->cycle[i] = w * (float)last[i] + (1.0f - w) * (float)last[(ptrdiff_t)i - (ptrdiff_t)p->pitch];
  }
  p->offset = 0;
}

static float gain_at(const sr_plc *p, size_t missing)
{
  if (missing < p->hold)
    return 1.0f;
  if (missing >= p->hold + p->fade)
    return 0.0f;
  return 1.0f - (float)(missing - p->hold) / (float)p->fade;
}

static float next_synthetic(sr_plc *p)
{
  float v = p->cycle[p->offset] * gain_at(p, p->missing);
  if (++p->offset == p->pitch)
    p->offset = 0;
  p->missing++;
  return v;
}

static int16_t clamp16(float v)
{
  if (v > 32767.0f)
    return 32767;
  if (v < -32768.0f)
    return -32768;
  return (int16_t)v;
}

void sr_plc_fillin(sr_plc *p, int16_t *amp, size_t len)
{
  if (p->missing == 0)
    start_gap(p);
  for (size_t i = 0; i < len; i++)
    amp[i] = clamp16(next_synthetic(p));
}

void sr_plc_rx(sr_plc *p, int16_t *amp, size_t len)
{
  if (p->missing) {
    /* Fade the synthetic signal out over a quarter period while the real
     * one fades in: no step where speech resumes. */
    size_t ola = p->pitch / 4 < len ? p->pitch / 4 : len;
    for (size_t i = 0; i < ola; i++) {
      float w = (float)(i + 1) / (float)(ola + 1);
      amp[i] = clamp16(w * (float)amp[i] + (1.0f - w) * next_synthetic(p));
    }
    p->missing = 0;
  }
  push_history(p, amp, len);
}
