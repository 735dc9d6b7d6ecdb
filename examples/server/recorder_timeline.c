/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a stream's frame goes on the recording's timeline: anchored once,
 * then its position; drift read from the packets' arrival times (recorder.h
 * says why neither time_ns nor the delivery time serves).
 */
#include <stdint.h>
#include <stdlib.h>

#include "recorder_internal.h"

#define NS_PER_S 1000000000ull

int64_t rec_ns_to_samples(uint64_t t_ns, uint64_t start_ns, uint32_t rate)
{
  /* Split in seconds and the rest: t * rate would overflow past ~2 days of
   * uptime at 48 kHz. */
  uint64_t d = t_ns >= start_ns ? t_ns - start_ns : start_ns - t_ns;
  uint64_t s = (d / NS_PER_S) * rate + (d % NS_PER_S) * rate / NS_PER_S;
  /* Clamped like positions (REC_MAX_POSITION): sums of a few such values
   * never overflow. */
  if (s > 2 * REC_MAX_POSITION)
    s = 2 * REC_MAX_POSITION;
  return t_ns >= start_ns ? (int64_t)s : -(int64_t)s;
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static void reset_drift(struct rec_timeline *t)
{
  t->win_min = INT64_MAX;
  t->win_fill = 0;
  t->has_floor = 0;
  t->prev_err = 0;
  t->pending = 0;
  t->pending_wait = 0;
}

/* Latency of a frame: how far a time of the host's clock (its delivery,
 * or its packet's arrival) is past the frame's end. */
static int64_t latency(const struct rec_timeline *t, const struct rec_frame *f, int64_t now)
{
  return now - (t->base + (int64_t)f->position + (int64_t)f->n_samples);
}

/* Anchor so that the frame starts at `at` on the timeline. */
static void anchor(struct rec_timeline *t, const struct rec_frame *f, int64_t at, int64_t now)
{
  t->anchored = 1;
  t->base = at - (int64_t)f->position;
  t->lat_ref = latency(t, f, now);
  reset_drift(t);
}

static int quiet(const struct rec_frame *f)
{
  uint64_t sum = 0;
  for (size_t i = 0; i < f->n_samples; i++)
    sum += (uint64_t)abs(f->samples[i]);
  return f->n_samples == 0 || sum / f->n_samples < REC_QUIET_LEVEL;
}

/* A second of audio measured: a difference beyond the tolerance twice in a
 * row, the same way, becomes a pending correction (once only: a jitter
 * burst that holds every frame of one second back is not drift). */
static void close_window(struct rec_timeline *t, int64_t tol)
{
  int64_t m = t->win_min;
  t->win_min = INT64_MAX;
  t->win_fill = 0;
  if (m == INT64_MAX)
    return; /* a second of made-up audio (comfort noise): nothing measured */
  if (!t->has_floor) {
    t->has_floor = 1;
    t->floor = m;
    return;
  }
  int64_t err = m - t->floor;
  if (abs64(err) <= tol) {
    t->prev_err = 0;
    return;
  }
  if (t->prev_err && (t->prev_err > 0) == (err > 0)) {
    int64_t c = abs64(err) < abs64(t->prev_err) ? err : t->prev_err;
    t->pending = c;
    t->pending_wait = 0;
    t->prev_err = 0;
    return;
  }
  t->prev_err = err;
}

int64_t rec_timeline_place(struct rec_timeline *t, const struct rec_frame *f, uint64_t start_ns,
                           uint32_t rate, int64_t tol, uint64_t *slips)
{
  int64_t now = rec_ns_to_samples(f->now_ns, start_ns, rate);
  int64_t hard = (int64_t)rate * REC_HARD_LIMIT_MS / 1000;
  int64_t n = (int64_t)f->n_samples;
  if (!t->anchored || (f->flags & REC_FRAME_DISCONTINUITY)) {
    int64_t at = rec_ns_to_samples(f->time_ns, start_ns, rate);
    /* A time_ns the host's clock contradicts (it is the library's, from
     * arrival times, so only a broken caller) yields to the clock. */
    if (abs64(now - (at + n)) > hard)
      at = now - n;
    anchor(t, f, at, now);
  }
  int64_t lat = latency(t, f, now);
  if (abs64(lat - t->lat_ref) > hard) {
    /* Not drift: a position the RTP clock cannot explain. Keep the
     * stream's latency, start again from the host's clock. */
    int64_t ref = t->lat_ref;
    anchor(t, f, now - ref - n, now);
    t->lat_ref = ref;
    (*slips)++;
    lat = ref;
  }
  if (t->pending) {
    t->pending_wait += f->n_samples;
    if (quiet(f) || t->pending_wait >= (uint64_t)rate * REC_QUIET_WAIT_MS / 1000) {
      /* Latency grew: the SRC's clock is slow, the stream moves later
       * (silence before this frame); shrank: it moves earlier (the overlap
       * with what is written is dropped). */
      t->base += t->pending;
      t->lat_ref -= t->pending;
      (*slips)++;
      int64_t keep_floor = t->floor;
      reset_drift(t);
      t->floor = keep_floor;
      t->has_floor = 1;
    }
  } else {
    /* Made-up audio has no arrival; one after the delivery, or long
     * before it, is not one. */
    int64_t arr = f->arrival_ns ? rec_ns_to_samples(f->arrival_ns, start_ns, rate) : INT64_MAX;
    int64_t lat_arr = arr <= now && now - arr <= hard ? latency(t, f, arr) : INT64_MAX;
    if (lat_arr < t->win_min)
      t->win_min = lat_arr;
    t->win_fill += f->n_samples;
    if (t->win_fill >= rate)
      close_window(t, tol);
  }
  return t->base + (int64_t)f->position;
}
