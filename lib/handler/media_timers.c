/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The media's deadlines, out of the session timer heap so that arming one
 * takes no handler-wide lock on the media path: SR_MEDIA_SHARDS min-heaps,
 * each with its own mutex, a stream hashed to one by (session, index).
 * An entry holds a reference to its session; the stream keeps the deadline
 * it armed (sr_session_media.armed_at) and arms again only for an earlier
 * one, so a stream is in the heaps about once: a jitter buffer's hole, or
 * the no-media watchdog (re-armed only when it fires, never per packet).
 * An entry whose deadline the stream no longer holds is stale and is
 * dropped when it comes out. */
#include "../common/alloc.h"
#include "dialog.h"

static unsigned shard_of(const siprec_session *s, size_t index)
{
  uintptr_t v = (uintptr_t)s >> 4;
  v ^= v >> 7;
  return (unsigned)((v + index * 0x9e3779b1u) % SR_MEDIA_SHARDS);
}

static void swap_due(sr_media_due *a, sr_media_due *b)
{
  sr_media_due t = *a;
  *a = *b;
  *b = t;
}

static void sift_up(sr_media_due *heap, size_t i)
{
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (heap[p].at <= heap[i].at)
      break;
    swap_due(&heap[p], &heap[i]);
    i = p;
  }
}

static void sift_down(sr_media_due *heap, size_t len, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < len && heap[l].at < heap[m].at)
      m = l;
    if (r < len && heap[r].at < heap[m].at)
      m = r;
    if (m == i)
      return;
    swap_due(&heap[m], &heap[i]);
    i = m;
  }
}

void sr_media_timers_init(siprec_handler *h)
{
  for (unsigned i = 0; i < SR_MEDIA_SHARDS; i++)
    pthread_mutex_init(&h->media_shards[i].lock, NULL);
}

int sr_media_timers_arm(siprec_handler *h, siprec_session *s, size_t index, uint64_t at)
{
  struct sr_media_shard *sh = &h->media_shards[shard_of(s, index)];
  int rc = 0;
  pthread_mutex_lock(&sh->lock);
  if (sh->len == sh->cap) {
    size_t cap = sh->cap ? 2 * sh->cap : 16;
    sr_media_due *heap = sr_realloc(&h->mem, sh->heap, cap * sizeof *heap);
    if (!heap)
      rc = SIPREC_ENOMEM;
    else {
      sh->heap = heap;
      sh->cap = cap;
    }
  }
  if (rc == 0) {
    siprec_session_ref(s);
    sh->heap[sh->len] = (sr_media_due){ at, s, index };
    sift_up(sh->heap, sh->len++);
  }
  pthread_mutex_unlock(&sh->lock);
  return rc;
}

void sr_media_timers_disarm(siprec_handler *h, siprec_session *s, size_t index)
{
  struct sr_media_shard *sh = &h->media_shards[shard_of(s, index)];
  pthread_mutex_lock(&sh->lock);
  for (size_t k = 0; k < sh->len;) {
    if (sh->heap[k].s != s || sh->heap[k].index != index) {
      k++;
      continue;
    }
    siprec_session_unref(s); /* not the last: the caller holds s */
    sh->heap[k] = sh->heap[--sh->len];
    if (k < sh->len) {
      sift_down(sh->heap, sh->len, k);
      sift_up(sh->heap, k);
    }
  }
  pthread_mutex_unlock(&sh->lock);
}

uint64_t sr_media_timers_next(siprec_handler *h)
{
  uint64_t next = UINT64_MAX;
  for (unsigned i = 0; i < SR_MEDIA_SHARDS; i++) {
    struct sr_media_shard *sh = &h->media_shards[i];
    pthread_mutex_lock(&sh->lock);
    if (sh->len && sh->heap[0].at < next)
      next = sh->heap[0].at;
    pthread_mutex_unlock(&sh->lock);
  }
  return next;
}

size_t sr_media_timers_take_due(siprec_handler *h, unsigned shard, uint64_t now,
                                sr_media_due *out, size_t max)
{
  struct sr_media_shard *sh = &h->media_shards[shard];
  size_t n = 0;
  pthread_mutex_lock(&sh->lock);
  while (n < max && sh->len && sh->heap[0].at <= now) {
    out[n++] = sh->heap[0];
    sh->heap[0] = sh->heap[--sh->len];
    sift_down(sh->heap, sh->len, 0);
  }
  pthread_mutex_unlock(&sh->lock);
  return n;
}

void sr_media_timers_free(siprec_handler *h)
{
  for (unsigned i = 0; i < SR_MEDIA_SHARDS; i++) {
    struct sr_media_shard *sh = &h->media_shards[i];
    for (size_t k = 0; k < sh->len; k++)
      siprec_session_unref(sh->heap[k].s);
    sr_free(&h->mem, sh->heap);
    sh->heap = NULL;
    sh->len = sh->cap = 0;
    pthread_mutex_destroy(&sh->lock);
  }
}
