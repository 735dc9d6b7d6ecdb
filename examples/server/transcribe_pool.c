/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker pool of transcribe_pool.h.
 *
 * Locks: the pool's (run queue, list of streams, stop flag) and one per
 * stream (its ring and flags). Never held together but in that order (the
 * pool's, then a stream's: only shutdown does), so a push (stream lock,
 * released, then the pool's to queue the stream) cannot deadlock a worker.
 *
 * A stream is on the run queue at most once (`scheduled`): whoever sets
 * the flag queues it, and the worker that pops it serves it alone until it
 * hands it back (queued again when work is left, else `scheduled` cleared
 * under the stream's lock). The worker reads the ring's slots without the
 * lock: the pushing thread writes only slots outside [head, head+count),
 * and a slot leaves that range only when the worker is done with it.
 */
#include "transcribe_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_QUEUE_FRAMES 250u
/* Slots a worker feeds from one stream before it lets another stream have
 * its turn (1 s of 20 ms frames). */
#define TURN_SLOTS 50u
/* Places where the session's timeline jumps, kept to map a result's span
 * back; a result older than the 64th jump back is mapped by extrapolating
 * from the oldest kept. */
#define MAX_ANCHORS 64u

typedef struct slot {
  uint64_t position; /* its first sample on the session's timeline */
  uint32_t n;
  uint8_t flush; /* the stream was flushed after this slot */
} slot;

/* Where the feed's sample `feed` is on the session's timeline; from there
 * on one for one, until the next anchor. */
typedef struct anchor {
  uint64_t feed, session;
} anchor;

struct transcribe_stream {
  transcribe_pool *pool;
  char *name;
  void *user;

  pthread_mutex_t lock;
  /* Under `lock`: */
  slot *slots;
  int16_t *pcm; /* queue_frames * frame_samples */
  unsigned head, count;
  int pending_flush; /* flushed with an empty ring */
  int closing, discard, scheduled, drop_logged;

  /* The serving worker's alone (one at a time; handed over through the
   * locks): */
  transcriber *rec;
  int rec_state; /* 0 not made yet, 1 made, -1 failed: audio discarded */
  uint64_t fed, next_session;
  anchor anchors[MAX_ANCHORS];
  unsigned a_first, a_count;

  /* Under the pool's lock: */
  transcribe_stream *run_next;
  transcribe_stream *prev, *next;
};

struct transcribe_pool {
  transcribe_pool_config cfg;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  transcribe_stream *run_head, *run_tail;
  transcribe_stream *all;
  int stopping;
  pthread_t *threads;
  unsigned n_threads;

  atomic_uint_fast64_t queued, dropped, transcribed, refused, failures, utterances;
  atomic_uint active;
};

static void logf_(transcribe_pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(transcribe_pool *p, const char *fmt, ...)
{
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (p->cfg.log)
    p->cfg.log(p->cfg.arg, line);
  else
    fprintf(stderr, "%s\n", line);
}

static unsigned cores(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1u : n > 256 ? 256u : (unsigned)n;
}

unsigned transcribe_default_max_streams(void)
{
  return 2 * cores();
}

/* Under the pool's lock. */
static void run_push(transcribe_pool *p, transcribe_stream *s)
{
  s->run_next = NULL;
  if (p->run_tail)
    p->run_tail->run_next = s;
  else
    p->run_head = s;
  p->run_tail = s;
  pthread_cond_signal(&p->cond);
}

static void schedule(transcribe_stream *s)
{
  transcribe_pool *p = s->pool;
  pthread_mutex_lock(&p->lock);
  run_push(p, s);
  pthread_mutex_unlock(&p->lock);
}

/* ---- the session's timeline -------------------------------------------- */

static void anchor_add(transcribe_stream *s, uint64_t feed, uint64_t session)
{
  if (s->a_count == MAX_ANCHORS) {
    s->a_first = (s->a_first + 1) % MAX_ANCHORS;
    s->a_count--;
  }
  s->anchors[(s->a_first + s->a_count) % MAX_ANCHORS] = (anchor){ feed, session };
  s->a_count++;
}

static uint64_t to_session(const transcribe_stream *s, uint64_t feed)
{
  if (s->a_count == 0)
    return feed;
  for (unsigned i = s->a_count; i-- > 0;) {
    const anchor *a = &s->anchors[(s->a_first + i) % MAX_ANCHORS];
    if (a->feed <= feed)
      return a->session + (feed - a->feed);
  }
  const anchor *a = &s->anchors[s->a_first];
  return a->session > a->feed - feed ? a->session - (a->feed - feed) : 0;
}

/* ---- a worker serving a stream ----------------------------------------- */

static void on_utterance(void *arg, const transcriber_utterance *u)
{
  transcribe_stream *s = arg;
  transcribe_pool *p = s->pool;
  if (!u->text || !u->text[0])
    return;
  uint64_t a = to_session(s, u->start);
  /* The end through the anchor of its last sample: a span that crosses a
   * gap ends after the gap. */
  uint64_t b = u->end > u->start ? to_session(s, u->end - 1) + 1 : a;
  double rate = (double)p->cfg.engine->rate;
  transcribe_result r = {
    .user = s->user, .closed = 0, .start = (double)a / rate, .end = (double)b / rate,
    .text = u->text,
  };
  atomic_fetch_add_explicit(&p->utterances, 1, memory_order_relaxed);
  p->cfg.on_result(p->cfg.arg, &r);
}

static void rec_failed(transcribe_stream *s, const char *what)
{
  transcribe_pool *p = s->pool;
  atomic_fetch_add_explicit(&p->failures, 1, memory_order_relaxed);
  logf_(p, "transcribe: stream %s: %s %s; its audio is not transcribed", s->name,
        p->cfg.engine->name, what);
  if (s->rec)
    p->cfg.engine->destroy(s->rec);
  s->rec = NULL;
  s->rec_state = -1;
}

static void feed_slot(transcribe_stream *s, const slot *sl, const int16_t *pcm)
{
  transcriber_engine *e = s->pool->cfg.engine;
  if (s->rec_state == 0) {
    /* Made by the worker at the first audio, not in open(): loading a
     * model may take half a second, and a stream closed (or discarded)
     * before any audio needs none. */
    s->rec = e->create(e, e->rate);
    s->rec_state = 1;
    if (!s->rec)
      rec_failed(s, "could not make a recogniser");
  }
  if (s->rec_state != 1)
    return;
  if (s->a_count == 0 || sl->position != s->next_session)
    anchor_add(s, s->fed, sl->position);
  s->next_session = sl->position + sl->n;
  s->fed += sl->n;
  if (e->feed(s->rec, pcm, sl->n, on_utterance, s) < 0)
    rec_failed(s, "failed");
}

static void flush_rec(transcribe_stream *s)
{
  if (s->rec_state == 1 && s->pool->cfg.engine->flush(s->rec, on_utterance, s) < 0)
    rec_failed(s, "failed");
}

/* The stream is closing and its ring is empty: its last utterance, then
 * the closed callback, then it is gone. */
static void finish(transcribe_stream *s, int discard)
{
  transcribe_pool *p = s->pool;
  if (!discard)
    flush_rec(s);
  if (s->rec)
    p->cfg.engine->destroy(s->rec);
  s->rec = NULL;
  pthread_mutex_lock(&p->lock);
  if (s->prev)
    s->prev->next = s->next;
  else
    p->all = s->next;
  if (s->next)
    s->next->prev = s->prev;
  pthread_mutex_unlock(&p->lock);
  /* Counted out before the callback, so that a caller told "closed" can
   * open its next stream in the freed place. */
  atomic_fetch_sub_explicit(&p->active, 1, memory_order_relaxed);
  transcribe_result r = { .user = s->user, .closed = 1 };
  p->cfg.on_result(p->cfg.arg, &r);
  pthread_mutex_destroy(&s->lock);
  free(s->slots);
  free(s->pcm);
  free(s->name);
  free(s);
}

/* One turn of a worker on `s`. @return 1 when `s` has work left (queue it
 * again), 0 when it is idle or gone. */
static int serve(transcribe_stream *s)
{
  transcribe_pool *p = s->pool;
  unsigned cap = p->cfg.queue_frames, fs = p->cfg.frame_samples;
  unsigned budget = TURN_SLOTS;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    if (s->discard && s->count > 0) {
      atomic_fetch_sub_explicit(&p->queued, s->count, memory_order_relaxed);
      s->head = (s->head + s->count) % cap;
      s->count = 0;
      s->pending_flush = 0;
    }
    /* A flush comes before the slots pushed after it. */
    if (s->pending_flush && !s->discard) {
      s->pending_flush = 0;
      pthread_mutex_unlock(&s->lock);
      flush_rec(s);
      pthread_mutex_lock(&s->lock);
      continue;
    }
    if (s->count > 0 && budget > 0) {
      unsigned i = s->head;
      pthread_mutex_unlock(&s->lock);
      feed_slot(s, &s->slots[i], s->pcm + (size_t)i * fs);
      pthread_mutex_lock(&s->lock);
      int flush = s->slots[i].flush;
      s->head = (s->head + 1) % cap;
      s->count--;
      budget--;
      atomic_fetch_sub_explicit(&p->queued, 1, memory_order_relaxed);
      if (flush)
        s->pending_flush = 1;
      continue;
    }
    if (s->count > 0) {
      pthread_mutex_unlock(&s->lock);
      return 1;
    }
    if (s->closing) {
      int discard = s->discard;
      pthread_mutex_unlock(&s->lock);
      finish(s, discard);
      return 0;
    }
    s->scheduled = 0;
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
}

static void *worker(void *arg)
{
  transcribe_pool *p = arg;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->run_head && !p->stopping)
      pthread_cond_wait(&p->cond, &p->lock);
    transcribe_stream *s = p->run_head;
    if (!s)
      break; /* stopping, and nothing left to serve */
    p->run_head = s->run_next;
    if (!p->run_head)
      p->run_tail = NULL;
    pthread_mutex_unlock(&p->lock);
    int again = serve(s);
    pthread_mutex_lock(&p->lock);
    if (again)
      run_push(p, s);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* ---- the caller's side ------------------------------------------------- */

transcribe_stream *transcribe_stream_open(transcribe_pool *p, const char *name, void *user)
{
  if (!p)
    return NULL;
  unsigned n = atomic_load_explicit(&p->active, memory_order_relaxed);
  do {
    if (n >= p->cfg.max_streams) {
      atomic_fetch_add_explicit(&p->refused, 1, memory_order_relaxed);
      return NULL;
    }
  } while (!atomic_compare_exchange_weak_explicit(&p->active, &n, n + 1, memory_order_relaxed,
                                                  memory_order_relaxed));
  transcribe_stream *s = calloc(1, sizeof *s);
  if (s) {
    s->slots = calloc(p->cfg.queue_frames, sizeof *s->slots);
    s->pcm = calloc((size_t)p->cfg.queue_frames * p->cfg.frame_samples, sizeof *s->pcm);
    s->name = strdup(name ? name : "-");
  }
  if (!s || !s->slots || !s->pcm || !s->name || pthread_mutex_init(&s->lock, NULL) != 0) {
    if (s) {
      free(s->slots);
      free(s->pcm);
      free(s->name);
      free(s);
    }
    atomic_fetch_sub_explicit(&p->active, 1, memory_order_relaxed);
    return NULL;
  }
  s->pool = p;
  s->user = user;
  pthread_mutex_lock(&p->lock);
  s->next = p->all;
  if (p->all)
    p->all->prev = s;
  p->all = s;
  pthread_mutex_unlock(&p->lock);
  atomic_fetch_add_explicit(&p->transcribed, 1, memory_order_relaxed);
  return s;
}

int transcribe_stream_push(transcribe_stream *s, const int16_t *pcm, size_t n, uint64_t position)
{
  if (!s || (!pcm && n > 0))
    return -1;
  if (n == 0)
    return 0;
  transcribe_pool *p = s->pool;
  unsigned cap = p->cfg.queue_frames, fs = p->cfg.frame_samples;
  size_t need = (n + fs - 1) / fs;
  pthread_mutex_lock(&s->lock);
  if (s->closing) { /* pushed after close: the caller's mistake, not a drop */
    pthread_mutex_unlock(&s->lock);
    return -1;
  }
  if (need > cap - s->count) {
    int first = !s->drop_logged;
    s->drop_logged = 1;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
    if (first)
      logf_(p, "transcribe: stream %s: queue full (%u frames), dropping audio "
               "(said once per stream; counted in the drops)", s->name, cap);
    return -1;
  }
  for (size_t done = 0; done < n;) {
    unsigned i = (s->head + s->count) % cap;
    size_t k = n - done < fs ? n - done : fs;
    memcpy(s->pcm + (size_t)i * fs, pcm + done, k * sizeof *pcm);
    s->slots[i] = (slot){ .position = position + done, .n = (uint32_t)k, .flush = 0 };
    s->count++;
    done += k;
  }
  atomic_fetch_add_explicit(&p->queued, need, memory_order_relaxed);
  int sched = !s->scheduled;
  s->scheduled = 1;
  pthread_mutex_unlock(&s->lock);
  if (sched)
    schedule(s);
  return 0;
}

void transcribe_stream_flush(transcribe_stream *s)
{
  if (!s)
    return;
  unsigned cap = s->pool->cfg.queue_frames;
  pthread_mutex_lock(&s->lock);
  /* After the newest queued slot, or, with none, after what the worker is
   * feeding now (it checks pending_flush before it lets the stream go). */
  if (s->count > 0)
    s->slots[(s->head + s->count - 1) % cap].flush = 1;
  else
    s->pending_flush = 1;
  int sched = !s->scheduled;
  s->scheduled = 1;
  pthread_mutex_unlock(&s->lock);
  if (sched)
    schedule(s);
}

void transcribe_stream_close(transcribe_stream *s)
{
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  s->closing = 1;
  int sched = !s->scheduled;
  s->scheduled = 1;
  pthread_mutex_unlock(&s->lock);
  if (sched)
    schedule(s);
}

void transcribe_pool_stats_get(const transcribe_pool *p, transcribe_pool_stats *out)
{
  transcribe_pool *q = (transcribe_pool *)p; /* atomics are read, not changed */
  memset(out, 0, sizeof *out);
  if (!q)
    return;
  out->queued = atomic_load_explicit(&q->queued, memory_order_relaxed);
  out->dropped = atomic_load_explicit(&q->dropped, memory_order_relaxed);
  out->streams_active = atomic_load_explicit(&q->active, memory_order_relaxed);
  out->streams_transcribed = atomic_load_explicit(&q->transcribed, memory_order_relaxed);
  out->streams_refused = atomic_load_explicit(&q->refused, memory_order_relaxed);
  out->engine_failures = atomic_load_explicit(&q->failures, memory_order_relaxed);
  out->utterances = atomic_load_explicit(&q->utterances, memory_order_relaxed);
}

/* ---- the pool ---------------------------------------------------------- */

static void join_workers(transcribe_pool *p, unsigned n)
{
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
  for (unsigned i = 0; i < n; i++)
    pthread_join(p->threads[i], NULL);
}

static void pool_release(transcribe_pool *p)
{
  pthread_cond_destroy(&p->cond);
  pthread_mutex_destroy(&p->lock);
  free(p->threads);
  free(p);
}

transcribe_pool *transcribe_pool_new(const transcribe_pool_config *cfg)
{
  if (!cfg || !cfg->engine || !cfg->on_result || cfg->engine->rate == 0)
    return NULL;
  transcribe_pool *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->cfg = *cfg;
  if (p->cfg.workers == 0)
    p->cfg.workers = cores();
  if (p->cfg.max_streams == 0)
    p->cfg.max_streams = transcribe_default_max_streams();
  if (p->cfg.frame_samples == 0)
    p->cfg.frame_samples = p->cfg.engine->rate / 50;
  if (p->cfg.queue_frames == 0)
    p->cfg.queue_frames = DEFAULT_QUEUE_FRAMES;
  p->threads = calloc(p->cfg.workers, sizeof *p->threads);
  if (!p->threads || pthread_mutex_init(&p->lock, NULL) != 0) {
    free(p->threads);
    free(p);
    return NULL;
  }
  if (pthread_cond_init(&p->cond, NULL) != 0) {
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
    return NULL;
  }
  /* Workers take no signals: the caller's loop handles them. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  unsigned made = 0;
  for (; made < p->cfg.workers; made++) {
    if (pthread_create(&p->threads[made], NULL, worker, p) != 0)
      break;
#ifdef __linux__
    pthread_setname_np(p->threads[made], "transcribe"); /* for top -H, perf */
#endif
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (made < p->cfg.workers) {
    logf_(p, "transcribe: could not start %u worker threads", p->cfg.workers);
    join_workers(p, made);
    pool_release(p);
    return NULL;
  }
  return p;
}

void transcribe_pool_free(transcribe_pool *p, int drain)
{
  if (!p)
    return;
  /* Every stream still here closes now (also those closed already and
   * waiting for their turn, whose queued audio a discard drops too). */
  pthread_mutex_lock(&p->lock);
  for (transcribe_stream *s = p->all; s; s = s->next) {
    pthread_mutex_lock(&s->lock);
    s->closing = 1;
    if (!drain)
      s->discard = 1;
    int sched = !s->scheduled;
    s->scheduled = 1;
    pthread_mutex_unlock(&s->lock);
    if (sched)
      run_push(p, s);
  }
  pthread_mutex_unlock(&p->lock);
  /* Workers leave once the run queue is empty: every stream is closing, so
   * each one's turns end in finish(). */
  join_workers(p, p->cfg.workers);
  pool_release(p);
}
