/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stereo file of a recording's first two streams: each stream's audio
 * held from where the stereo file is (`pos`) until both channels can be
 * written, or until the allowance says the lagging one is silent.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "recorder_internal.h"

void rec_hold_free(struct rec_hold *h)
{
  free(h->buf);
  memset(h, 0, sizeof *h);
}

static uint64_t hold_end(const struct rec_hold *h) { return h->tl + h->len; }

static int hold_append(struct rec_hold *h, const int16_t *frames, size_t n)
{
  if (h->off + h->len + n > h->cap) {
    /* Slide down first; grow only when the live part needs it (bounded by
     * the allowance, or by stereo_wait before the second stream). */
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

/* Drop what lies before timeline sample `pos`. */
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

/* Channel `h` of the k stereo frames from timeline sample `pos`, into every
 * other sample of `out`: what it holds, silence around it. In ranges, not
 * sample by sample: this runs for every frame of every two-stream call. */
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

static void interleave(int16_t *out, const struct rec_hold *a, const struct rec_hold *b,
                       uint64_t pos, size_t k)
{
  const int16_t *l = a->buf + a->off + (size_t)(pos - a->tl);
  const int16_t *r = b->buf + b->off + (size_t)(pos - b->tl);
  for (size_t i = 0; i < k; i++) {
    out[2 * i] = l[i];
    out[2 * i + 1] = r[i];
  }
}

static int is_stereo_stream(const rec_recording *r, const struct rec_stream *s)
{
  return r->stereo.state != REC_STEREO_NONE &&
         ((r->n_streams > 0 && r->streams[0] == s) || (r->n_streams > 1 && r->streams[1] == s));
}

int rec_stereo_take(rec_recording *r, struct rec_stream *s, const int16_t *frames, size_t n,
                    uint64_t tl)
{
  if (!n || !is_stereo_stream(r, s))
    return 0;
  struct rec_hold *h = &s->hold;
  /* Audio for a span the stereo file has written already is too late. */
  if (tl + n <= r->stereo.pos)
    return 0;
  if (tl < r->stereo.pos) {
    size_t skip = (size_t)(r->stereo.pos - tl);
    if (frames)
      frames += skip;
    n -= skip;
    tl = r->stereo.pos;
  }
  if (h->len == 0)
    h->tl = tl;
  else if (tl != hold_end(h))
    return 0; /* the mono path hands over contiguous audio: cannot happen */
  int rc = hold_append(h, frames, n);
  if (rc)
    return rc;
  return r->stereo.state == REC_STEREO_ACTIVE ? rec_stereo_drain(r, 0) : 0;
}

/* Where channel `s` has audio up to: the stereo position when it has none
 * held (it lagged and was filled with silence). */
static uint64_t channel_end(const rec_recording *r, const struct rec_stream *s)
{
  uint64_t e = s->hold.len ? hold_end(&s->hold) : 0;
  return e > r->stereo.pos ? e : r->stereo.pos;
}

int rec_stereo_drain(rec_recording *r, int final)
{
  struct rec_stereo *st = &r->stereo;
  if (st->state != REC_STEREO_ACTIVE || !rec_sink_is_open(&st->sink))
    return 0;
  struct rec_stream *ch[2] = { r->streams[0], r->streams[1] };
  uint64_t end[2] = { channel_end(r, ch[0]), channel_end(r, ch[1]) };
  uint64_t lead = end[0] > end[1] ? end[0] : end[1];
  uint64_t target = lead;
  if (!final) {
    /* Held back by every live stream, each at most by the allowance. */
    for (int i = 0; i < 2; i++)
      if (!ch[i]->ended && end[i] < target)
        target = end[i];
    if (lead > st->lag && target < lead - st->lag)
      target = lead - st->lag;
  }
  while (st->pos < target) {
    size_t k;
    int rc;
    int16_t *out = rec_sink_reserve(&st->sink, target - st->pos, &k, &rc);
    if (!out)
      return rc;
    if (both_hold(&ch[0]->hold, &ch[1]->hold, st->pos, k)) {
      interleave(out, &ch[0]->hold, &ch[1]->hold, st->pos, k);
    } else {
      fill_channel(out, &ch[0]->hold, st->pos, k);
      fill_channel(out + 1, &ch[1]->hold, st->pos, k);
    }
    rec_sink_commit(&st->sink, k);
    st->pos += k;
    hold_consume(&ch[0]->hold, st->pos);
    hold_consume(&ch[1]->hold, st->pos);
  }
  return 0;
}

int rec_stereo_start(rec_recording *r)
{
  struct rec_stereo *st = &r->stereo;
  const char *ext = r->format == REC_FLAC ? "flac" : "wav";
  char name[64];
  /* A later segment's stereo file (recovery) is stereo.N.EXT. */
  if (r->segment > 1)
    snprintf(name, sizeof name, "stereo.%u.%s", r->segment, ext);
  else
    snprintf(name, sizeof name, "stereo.%s", ext);
  /* Taken (a folder reused without its resume state): no stereo file. */
  int rc = rec_name_free_on_disk(r, name) ? 0 : -EEXIST;
  if (!rc && !(st->name = strdup(name)))
    rc = -ENOMEM;
  if (!rc)
    rc = rec_sink_open(&st->sink, r->g, st->name, r->format, r->rate, 2, r->buf_frames);
  if (rc) {
    free(st->name);
    st->name = NULL;
    st->state = REC_STEREO_NONE;
    rec_hold_free(&r->streams[0]->hold);
    rec_hold_free(&r->streams[1]->hold);
    return rc;
  }
  st->state = REC_STEREO_ACTIVE;
  return rec_stereo_drain(r, 0);
}
