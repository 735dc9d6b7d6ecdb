/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One sound file of a recording and the audio buffered for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder_internal.h"

int rec_sink_open(struct rec_sink *s, rec_wgroup *g, const char *name, enum rec_format fmt,
                  uint32_t rate, int channels, size_t cap)
{
  memset(s, 0, sizeof *s);
  SF_INFO info = {
    .samplerate = (int)rate,
    .channels = channels,
    .format = fmt == REC_FLAC ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16 : SF_FORMAT_RF64 | SF_FORMAT_PCM_16,
  };
  if (!sf_format_check(&info) || !cap)
    return -EINVAL;
  /* Created by the writer (rec_writer.h says why not here); the caller
   * made sure the name is free. */
  s->wf = rec_wfile_create(g, name, &info);
  if (!s->wf)
    return -errno;
  s->channels = channels;
  s->cap = cap;
  s->open = 1;
  return 0;
}

/* The buffer goes to the writer whole; the next put takes a fresh one. */
static int hand_over(struct rec_sink *s, int flush)
{
  int16_t *b = s->buf;
  size_t n = s->len;
  s->buf = NULL;
  s->len = 0;
  int rc = rec_wfile_write(s->wf, b, n, flush);
  /* 1: dropped for a full queue: the span is owed as silence, the
   * timeline (s->frames) goes on; not the recording's error. */
  return rc < 0 ? rc : 0;
}

int16_t *rec_sink_reserve(struct rec_sink *s, size_t n, size_t *room, int *err)
{
  *err = 0;
  if (s->buf && s->len == s->cap) {
    int rc = hand_over(s, 0);
    if (rc) {
      *err = rc;
      return NULL;
    }
  }
  if (!s->buf) {
    s->buf = rec_wbuf_new(s->wf, s->cap);
    if (!s->buf) {
      *err = -ENOMEM;
      return NULL;
    }
  }
  size_t k = s->cap - s->len;
  *room = k < n ? k : n;
  return s->buf + s->len * (size_t)s->channels;
}

void rec_sink_commit(struct rec_sink *s, size_t k)
{
  s->len += k;
  s->frames += k;
}

int rec_sink_put(struct rec_sink *s, const int16_t *frames, size_t n)
{
  if (!s->open)
    return 0;
  size_t ch = (size_t)s->channels;
  while (n) {
    size_t k;
    int rc;
    int16_t *dst = rec_sink_reserve(s, n, &k, &rc);
    if (!dst)
      return rc;
    if (frames) {
      memcpy(dst, frames, k * ch * sizeof *dst);
      frames += k * ch;
    } else {
      memset(dst, 0, k * ch * sizeof *dst);
    }
    rec_sink_commit(s, k);
    n -= k;
  }
  return 0;
}

int rec_sink_flush(struct rec_sink *s)
{
  if (!s->open)
    return 0;
  /* Nothing new since the last flush: the header is current already, but a
   * silence owed for dropped audio is written now (the file keeps up with
   * the timeline while the queue has room). */
  if (!s->len) {
    rec_wbuf_free(s->buf);
    s->buf = NULL;
    int rc = rec_wfile_write(s->wf, NULL, 0, 1);
    return rc < 0 ? rc : 0;
  }
  return hand_over(s, 1);
}

int rec_sink_close(struct rec_sink *s, int discard, int sync)
{
  int rc = 0;
  if (s->open) {
    if (discard || !s->len) {
      rec_wbuf_free(s->buf);
      s->buf = NULL;
      s->len = 0;
    } else {
      rc = hand_over(s, 0);
    }
    rec_wfile_close(s->wf, sync, discard);
    s->open = 0;
  }
  rec_wbuf_free(s->buf);
  s->buf = NULL;
  s->len = 0;
  return rc;
}

uint64_t rec_sink_written(const struct rec_sink *s)
{
  return s->wf ? rec_wfile_written(s->wf) : 0;
}
