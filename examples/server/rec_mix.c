/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stereo file's audio from two mono channels; see rec_mix.h. */
#include "rec_mix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rec_hold_free(struct rec_hold *h)
{
  free(h->buf);
  h->buf = NULL;
  h->off = h->len = h->cap = 0;
}

static uint64_t hold_end(const struct rec_hold *h) { return h->tl + h->len; }

static int hold_append(struct rec_hold *h, const int16_t *frames, size_t n)
{
  if (h->off + h->len + n > h->cap) {
    /* Slide down first; grow only when the live part needs it (bounded by
     * the allowance, or by the wait for the second stream). */
    if (h->len)
      memmove(h->buf, h->buf + h->off, h->len * sizeof *h->buf);
    h->off = 0;
    if (h->len + n > h->cap) {
      size_t cap = h->cap ? h->cap : 4096;
      while (cap < h->len + n)
        cap *= 2;
      int16_t *b = realloc(h->buf, cap * sizeof *b);
      if (!b)
        return -ENOMEM;
      h->buf = b;
      h->cap = cap;
    }
  }
  int16_t *dst = h->buf + h->off + h->len;
  if (frames)
    memcpy(dst, frames, n * sizeof *dst);
  else
    memset(dst, 0, n * sizeof *dst);
  h->len += n;
  return 0;
}

int rec_hold_take(struct rec_hold *h, uint64_t from, const int16_t *frames, size_t n, uint64_t tl)
{
  /* Audio for a span the stereo file has already is too late. */
  if (!n || tl + n <= from)
    return 0;
  if (tl < from) {
    size_t skip = (size_t)(from - tl);
    if (frames)
      frames += skip;
    n -= skip;
    tl = from;
  }
  if (h->len == 0)
    h->tl = tl;
  else if (tl != hold_end(h))
    return 0; /* a mono file's audio is contiguous: cannot happen */
  return hold_append(h, frames, n);
}

/* Drop what lies before timeline frame `pos`. */
static void hold_consume(struct rec_hold *h, uint64_t pos)
{
  if (pos <= h->tl)
    return;
  uint64_t k = pos - h->tl;
  if (k >= h->len) {
    h->off = h->len = 0;
    h->tl = pos;
    return;
  }
  h->off += (size_t)k;
  h->len -= (size_t)k;
  h->tl = pos;
}

/* Where channel `h` has audio up to: the stereo position when it holds
 * none (it lagged and was filled with silence). */
static uint64_t channel_end(const struct rec_mix *m, const struct rec_hold *h)
{
  uint64_t e = h->len ? hold_end(h) : 0;
  return e > m->pos ? e : m->pos;
}

uint64_t rec_mix_target(const struct rec_mix *m, int final)
{
  uint64_t end[2] = { channel_end(m, m->ch[0]), channel_end(m, m->ch[1]) };
  uint64_t lead = end[0] > end[1] ? end[0] : end[1];
  uint64_t target = lead;
  if (!final) {
    /* Held back by every live channel, each at most by the allowance. */
    for (int i = 0; i < 2; i++)
      if (!m->ch[i]->ended && end[i] < target)
        target = end[i];
    if (lead > m->lag && target < lead - m->lag)
      target = lead - m->lag;
  }
  return target > m->pos ? target : m->pos;
}

/* Channel `h` of the k stereo frames from timeline frame `pos`, into every
 * other sample of `out`: what it holds, silence around it. In ranges, not
 * sample by sample. */
static void fill_channel(int16_t *out, const struct rec_hold *h, uint64_t pos, size_t k)
{
  uint64_t lo = h->len ? h->tl : pos + k, hi = h->len ? hold_end(h) : pos + k;
  size_t from = lo > pos ? (lo - pos < k ? (size_t)(lo - pos) : k) : 0;
  size_t to = hi > pos ? (hi - pos < k ? (size_t)(hi - pos) : k) : 0;
  if (to < from)
    to = from;
  size_t i = 0;
  for (; i < from; i++)
    out[2 * i] = 0;
  if (to > from) {
    const int16_t *src = h->buf + h->off + (size_t)(pos + from - h->tl);
    for (; i < to; i++)
      out[2 * i] = src[i - from];
  }
  for (; i < k; i++)
    out[2 * i] = 0;
}

/* Both channels hold all of [pos, pos + k): one pass, a pair of samples a
 * step (the usual case: both streams live and in step). */
static int both_hold(const struct rec_hold *a, const struct rec_hold *b, uint64_t pos, size_t k)
{
  return a->len && b->len && a->tl <= pos && b->tl <= pos && hold_end(a) >= pos + k &&
         hold_end(b) >= pos + k;
}

void rec_mix_fill(struct rec_mix *m, int16_t *out, size_t k)
{
  const struct rec_hold *a = m->ch[0], *b = m->ch[1];
  if (both_hold(a, b, m->pos, k)) {
    const int16_t *l = a->buf + a->off + (size_t)(m->pos - a->tl);
    const int16_t *r = b->buf + b->off + (size_t)(m->pos - b->tl);
    for (size_t i = 0; i < k; i++) {
      out[2 * i] = l[i];
      out[2 * i + 1] = r[i];
    }
  } else {
    fill_channel(out, a, m->pos, k);
    fill_channel(out + 1, b, m->pos, k);
  }
  m->pos += k;
  hold_consume(m->ch[0], m->pos);
  hold_consume(m->ch[1], m->pos);
}
