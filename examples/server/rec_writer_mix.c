/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stereo files made by the writer thread of two mono files it writes
 * anyway (rec_writer.h: rec_wfile_keep, rec_wfile_create_stereo).
 *
 * Why here and not in the loop: at 1,000 calls every call's buffers are
 * out of the cache when its next frame comes, and a frame copied into a
 * hold, read back and interleaved into a third buffer by the loop cost it
 * three more sets of misses. The writer has each mono buffer in its cache
 * as it writes it: it keeps a copy there (rec_mix.h's hold) and
 * interleaves a flush interval at a time.
 */
#include "rec_writer_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Made and not written: written past this many frames even between
 * flushes (a writer that fell behind its flushes), so that it stays small. */
#define MIX_BUF_MAX ((size_t)1 << 16)

int rec_wfile_keep(rec_wfile *f)
{
  /* Before its first write (the writer reads `hold` from then on), and a
   * mono file only. */
  if (!f || f->hold || f->mix || f->channels != 1 || f->closing || f->g->finishing)
    return -EINVAL;
  f->hold = calloc(1, sizeof *f->hold);
  return f->hold ? 0 : -ENOMEM;
}

void rec_wfile_unkeep(rec_wfile *f)
{
  if (!f || !f->hold || f->unkeep_job.kind == JOB_UNKEEP)
    return;
  struct rec_job *j = &f->unkeep_job;
  memset(j, 0, sizeof *j);
  j->kind = JOB_UNKEEP;
  j->f = f;
  rec_writer_submit(f->g->w, j);
}

rec_wfile *rec_wfile_create_stereo(rec_wgroup *g, const char *name, const SF_INFO *info,
                                   rec_wfile *left, rec_wfile *right, uint64_t lag)
{
  if (!name || !*name || strchr(name, '/') || !info || info->channels != 2 || !left ||
      !right || left == right || left->g != g || right->g != g || !left->hold || !right->hold ||
      left->unkeep_job.kind == JOB_UNKEEP || right->unkeep_job.kind == JOB_UNKEEP) {
    errno = EINVAL;
    return NULL;
  }
  struct rec_wmix *mx = calloc(1, sizeof *mx);
  if (!mx) {
    errno = ENOMEM;
    return NULL;
  }
  mx->src[0] = left;
  mx->src[1] = right;
  mx->m.ch[0] = left->hold;
  mx->m.ch[1] = right->hold;
  mx->m.lag = lag;
  atomic_init(&mx->flush_queued, 0);
  rec_wfile *f = rec_wfile_new(g, -1, name, info, mx);
  if (!f)
    free(mx);
  return f;
}

int rec_wmix_flush(rec_wfile *f, int16_t *buf, size_t n)
{
  rec_wgroup *g = f->g;
  if (buf || n) {
    rec_wbuf_free(buf);
    return -EINVAL; /* the writer makes this file's audio */
  }
  if (f->closing || rec_wgroup_error(g))
    return rec_wgroup_error(g);
  struct rec_wmix *mx = f->mix;
  /* One flush queued at a time: a second one before the first started
   * would find nothing more to write. */
  if (!atomic_exchange(&mx->flush_queued, 1)) {
    struct rec_job *j = &mx->flush_job;
    memset(j, 0, sizeof *j);
    j->kind = JOB_MIX_FLUSH;
    j->f = f;
    j->flush = 1;
    rec_writer_submit(g->w, j);
  }
  return rec_wgroup_error(g);
}

/* ---- the writer's side ---- */

/* Write what was made. @return 0 or -errno (the group's error then) */
static int write_out(rec_wfile *f)
{
  struct rec_wmix *mx = f->mix;
  int rc = mx->len ? rec_wfile_put(f, mx->buf, mx->len) : 0;
  mx->len = 0;
  if (rc)
    rec_wgroup_set_error(f->g, rc);
  return rc;
}

/* Make what the rule allows into the buffer. */
static void make(rec_wfile *f, int final)
{
  struct rec_wmix *mx = f->mix;
  if (atomic_load(&f->g->error) || !f->sf)
    return;
  uint64_t target = rec_mix_target(&mx->m, final);
  while (mx->m.pos < target) {
    if (mx->len == mx->cap) {
      if (mx->cap >= MIX_BUF_MAX) {
        if (write_out(f))
          return;
      } else {
        size_t cap = mx->cap ? 2 * mx->cap : 4096;
        int16_t *b = realloc(mx->buf, cap * 2 * sizeof *b);
        if (!b) {
          rec_wgroup_set_error(f->g, -ENOMEM);
          return;
        }
        mx->buf = b;
        mx->cap = cap;
      }
    }
    uint64_t want = target - mx->m.pos;
    size_t k = mx->cap - mx->len < want ? mx->cap - mx->len : (size_t)want;
    rec_mix_fill(&mx->m, mx->buf + 2 * mx->len, k);
    mx->len += k;
  }
}

void rec_wmix_take(rec_wfile *f, uint64_t tl, uint64_t silence, const int16_t *p, size_t n)
{
  struct rec_hold *h = f->hold;
  if (f->unkept)
    return;
  /* Before the stereo file is open, everything is kept: it starts at 0. */
  uint64_t from = f->stereo ? f->stereo->mix->m.pos : 0;
  int rc = 0;
  /* Silence in pieces a size_t holds (a long pause costs its length only
   * until the stereo file takes it). */
  while (!rc && silence) {
    size_t k = silence > ((size_t)1 << 20) ? (size_t)1 << 20 : (size_t)silence;
    rc = rec_hold_take(h, from, NULL, k, tl);
    tl += k;
    silence -= k;
  }
  if (!rc)
    rc = rec_hold_take(h, from, p, n, tl);
  if (rc) {
    rec_wgroup_set_error(f->g, rc);
    return;
  }
  if (f->stereo)
    make(f->stereo, 0);
}

void rec_wmix_channel_closed(rec_wfile *f)
{
  f->hold->ended = 1;
  if (f->stereo)
    make(f->stereo, 0);
}

void rec_wmix_opened(rec_wfile *f)
{
  struct rec_wmix *mx = f->mix;
  mx->src[0]->stereo = f;
  mx->src[1]->stereo = f;
  make(f, 0); /* what came before the second stream */
}

void rec_wmix_run_flush(struct rec_job *j)
{
  rec_wfile *f = j->f;
  struct rec_wmix *mx = f->mix;
  /* From now on the next flush is queued anew: what is made after this
   * point is written by it. */
  atomic_store(&mx->flush_queued, 0);
  if (atomic_load(&f->g->error) || !f->sf)
    return;
  int rc = write_out(f);
  /* As a mono file's flush: a header that says what the file holds. */
  rec_wfile_update_header(f);
  if (!rc)
    rec_wfile_trim(f);
}

void rec_wmix_closing(rec_wfile *f, int discard)
{
  if (discard || atomic_load(&f->g->error))
    return;
  make(f, 1);
  (void)write_out(f);
}

void rec_wmix_run_unkeep(struct rec_job *j)
{
  j->f->unkept = 1;
  rec_hold_free(j->f->hold);
}

void rec_wmix_free(rec_wfile *f)
{
  if (f->hold) {
    rec_hold_free(f->hold);
    free(f->hold);
    f->hold = NULL;
  }
  if (f->mix) {
    free(f->mix->buf);
    free(f->mix);
    f->mix = NULL;
  }
}
