/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's transcription modules (examples/server/transcribe_pool.c,
 * transcribe_pocketsphinx.c, transcript.c), compiled in:
 *  - pocketsphinx through the pool, in 20 ms frames, says word for word
 *    what pocketsphinx_continuous -infile says on the same audio (Debian's
 *    own program as the oracle: one utterance on goforward.raw, "go forward
 *    ten meters", and two on the file twice over), also on a decoder reused
 *    from the engine's free list, with the utterances' times on the
 *    session's timeline (audio starting 2 s in, a 3 s gap between);
 *  - two streams served at once by two workers (a wrapper engine holds each
 *    stream's first frame until both are being fed);
 *  - with an engine of the test's own that blocks on a gate: a full queue
 *    drops and counts while the caller goes on, logged once; frames,
 *    flushes and close reach the engine in order; max streams refuses and
 *    counts; shutdown drains or discards; a recogniser that cannot be made
 *    costs that stream only;
 *  - the transcript's JSON line and its file.
 * Environment: TRANSCRIBE_AUDIO (goforward.raw, 16 kHz s16le),
 * TRANSCRIBE_PS_CONTINUOUS (pocketsphinx_continuous; empty: the word-for-
 * word comparison fails, as the oracle is part of the test packages).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "transcribe_pool.h"
#include "transcriber.h"
#include "transcript.h"

#define RATE 16000
#define FRAME 320 /* 20 ms */
#define WAIT_S 120

/* ---- what the pool delivers -------------------------------------------- */

typedef struct result {
  void *user;
  int closed;
  double start, end;
  char *text;
  pthread_t thread;
} result;

static pthread_mutex_t res_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t res_cond = PTHREAD_COND_INITIALIZER;
static result results[256];
static size_t n_results;
static void on_result(void *arg, const transcribe_result *r)
{
  (void)arg;
  pthread_mutex_lock(&res_lock);
  if (n_results < 256) {
    results[n_results] = (result){ .user = r->user, .closed = r->closed, .start = r->start,
                                   .end = r->end, .text = r->text ? strdup(r->text) : NULL,
                                   .thread = pthread_self() };
    n_results++;
  }
  pthread_cond_broadcast(&res_cond);
  pthread_mutex_unlock(&res_lock);
}

static _Atomic int log_lines;
static void on_log(void *arg, const char *line)
{
  (void)arg;
  (void)line;
  atomic_fetch_add(&log_lines, 1);
}

static void results_reset(void)
{
  pthread_mutex_lock(&res_lock);
  for (size_t i = 0; i < n_results; i++)
    free(results[i].text);
  n_results = 0;
  pthread_mutex_unlock(&res_lock);
  atomic_store(&log_lines, 0);
}

static int has_closed(void *user)
{
  for (size_t i = 0; i < n_results; i++)
    if (results[i].user == user && results[i].closed)
      return 1;
  return 0;
}

/* Wait (bounded) for the closed callback of `user`. */
static void wait_closed(void *user)
{
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += WAIT_S;
  pthread_mutex_lock(&res_lock);
  int rc = 0;
  while (!has_closed(user) && rc == 0)
    rc = pthread_cond_timedwait(&res_cond, &res_lock, &dl);
  int ok = has_closed(user);
  pthread_mutex_unlock(&res_lock);
  ck_assert_msg(ok, "no closed callback within %d s", WAIT_S);
}

/* The texts delivered for `user`, in order, and the closed callback last. */
static size_t texts_of(void *user, result *out, size_t max)
{
  size_t n = 0;
  int closed_seen = 0;
  pthread_mutex_lock(&res_lock);
  for (size_t i = 0; i < n_results; i++) {
    if (results[i].user != user)
      continue;
    ck_assert_msg(!closed_seen, "a result after the closed callback");
    if (results[i].closed) {
      closed_seen = 1;
      continue;
    }
    ck_assert_ptr_nonnull(results[i].text);
    ck_assert_msg(results[i].text[0] != '\0', "an empty text was delivered");
    if (n < max)
      out[n] = results[i];
    n++;
  }
  pthread_mutex_unlock(&res_lock);
  return n;
}

/* ---- audio and the oracle ---------------------------------------------- */

static int16_t *read_audio(size_t *n)
{
  const char *path = getenv("TRANSCRIBE_AUDIO");
  ck_assert_msg(path && *path, "TRANSCRIBE_AUDIO not set");
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  ck_assert_int_gt(len, RATE);
  int16_t *pcm = malloc((size_t)len);
  ck_assert_ptr_nonnull(pcm);
  ck_assert_uint_eq(fread(pcm, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len / 2; /* s16le, read on a little-endian host */
  return pcm;
}

/* The audio twice over, as one feed. */
static int16_t *twice(const int16_t *a, size_t n)
{
  int16_t *b = malloc(2 * n * sizeof *b);
  ck_assert_ptr_nonnull(b);
  memcpy(b, a, n * sizeof *a);
  memcpy(b + n, a, n * sizeof *a);
  return b;
}

typedef struct ref_utt {
  char text[256];
  double start, end; /* first word's start, last word's end (feed seconds) */
  int words;
} ref_utt;

/* pocketsphinx_continuous -infile FILE -time yes: each utterance's line,
 * then a line "WORD START END CONFIDENCE" per segment. Utterances with no
 * text are left out, as the pool leaves them out. */
static size_t oracle(const int16_t *pcm, size_t n, ref_utt *out, size_t max)
{
  const char *prog = getenv("TRANSCRIBE_PS_CONTINUOUS");
  ck_assert_msg(prog && *prog, "pocketsphinx_continuous not found (Debian package pocketsphinx)");
  char path[] = "/tmp/test_transcribe_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, pcm, n * 2), (ssize_t)(n * 2));
  close(fd);
  int pipefd[2];
  ck_assert_int_eq(pipe(pipefd), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    dup2(pipefd[1], 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(pipefd[0]);
    execl(prog, prog, "-infile", path, "-time", "yes", (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  FILE *f = fdopen(pipefd[0], "r");
  ck_assert_ptr_nonnull(f);
  char line[1024];
  size_t k = 0;
  ref_utt cur = { .words = -1 };
  int have = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char w[256];
    double a, b, c;
    if (sscanf(line, "%255s %lf %lf %lf", w, &a, &b, &c) == 4) {
      ck_assert_msg(have, "a segment line before an utterance: %s", line);
      if (w[0] == '<' || w[0] == '[' || w[0] == '+')
        continue;
      if (cur.words <= 0)
        cur.start = a;
      cur.end = b + 0.01; /* the end frame is inclusive */
      cur.words++;
      continue;
    }
    if (have && cur.text[0] && k < max)
      out[k++] = cur;
    cur = (ref_utt){ .words = 0 };
    snprintf(cur.text, sizeof cur.text, "%.255s", line);
    have = 1;
  }
  if (have && cur.text[0] && k < max)
    out[k++] = cur;
  fclose(f);
  int status;
  waitpid(pid, &status, 0);
  unlink(path);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "pocketsphinx_continuous failed");
  return k;
}

/* ---- pocketsphinx through the pool ------------------------------------- */

static transcriber_engine *ps_engine(void)
{
  char err[256];
  transcriber_engine *e = transcriber_pocketsphinx_new(NULL, 2, err, sizeof err);
  ck_assert_msg(e != NULL, "%s", err);
  ck_assert_uint_eq(e->rate, RATE);
  return e;
}

static transcribe_pool *pool_with(transcriber_engine *e, unsigned workers, unsigned max,
                                  unsigned queue)
{
  transcribe_pool_config cfg = {
    .engine = e, .workers = workers, .max_streams = max, .queue_frames = queue,
    .on_result = on_result, .log = on_log,
  };
  transcribe_pool *p = transcribe_pool_new(&cfg);
  ck_assert_ptr_nonnull(p);
  return p;
}

/* A stream of pool p, opened (it must be). */
static transcribe_stream *stream_open(transcribe_pool *p, const char *name, int *user)
{
  transcribe_stream *s = transcribe_stream_open(p, name, user);
  ck_assert_ptr_nonnull(s);
  return s;
}

/* Push `n` samples in 20 ms frames; the session position of sample i is
 * `at + i`, plus `jump` from sample `jump_from` on. */
static void push_all(transcribe_stream *s, const int16_t *pcm, size_t n, uint64_t at,
                     size_t jump_from, uint64_t jump)
{
  for (size_t i = 0; i < n; i += FRAME) {
    size_t k = n - i < FRAME ? n - i : FRAME;
    uint64_t pos = at + i + (i >= jump_from ? jump : 0);
    ck_assert_int_eq(transcribe_stream_push(s, pcm + i, k, pos), 0);
  }
}

/* The pool's utterances for `user` against the oracle's: the same words,
 * and times on the session's timeline where the oracle's fall on the feed
 * (`offset` seconds for utterance 0, `offset2` for the others). The
 * tolerance: pocketsphinx_continuous feeds 2048-sample chunks and the pool
 * 20 ms frames, which moves its word boundaries by a frame (10 ms). */
static void check_against(void *user, const ref_utt *ref, size_t n_ref, double offset,
                          double offset2)
{
  result got[16];
  size_t n = texts_of(user, got, 16);
  ck_assert_uint_eq(n, n_ref);
  for (size_t i = 0; i < n; i++) {
    ck_assert_str_eq(got[i].text, ref[i].text);
    double off = i == 0 ? offset : offset2;
    if (getenv("DEBUG_EVENTS"))
      fprintf(stderr, "pool: %.3f-%.3f \"%s\"; pocketsphinx_continuous: %.3f-%.3f \"%s\"\n",
              got[i].start, got[i].end, got[i].text, ref[i].start + off, ref[i].end + off,
              ref[i].text);
    ck_assert_msg(fabs(got[i].start - (ref[i].start + off)) <= 0.03,
                  "utterance %zu starts at %.3f, pocketsphinx says %.3f", i, got[i].start,
                  ref[i].start + off);
    ck_assert_msg(fabs(got[i].end - (ref[i].end + off)) <= 0.03,
                  "utterance %zu ends at %.3f, pocketsphinx says %.3f", i, got[i].end,
                  ref[i].end + off);
  }
}

/* The test's speech (*n samples; the caller frees it) and what
 * pocketsphinx_continuous hears in it: one utterance, into ref[0]. */
static int16_t *speech_and_oracle(size_t *n, ref_utt *ref, size_t cap)
{
  int16_t *pcm = read_audio(n);
  ck_assert_uint_eq(oracle(pcm, *n, ref, cap), 1);
  return pcm;
}

START_TEST(pocketsphinx_equals_continuous)
{
  results_reset();
  size_t n;
  ref_utt ref[8];
  int16_t *pcm = speech_and_oracle(&n, ref, 8);
  ck_assert_str_eq(ref[0].text, "go forward ten meters");

  transcriber_engine *e = ps_engine();
  transcribe_pool *p = pool_with(e, 1, 4, 1024);
  /* Twice on one pool: the second stream runs on the decoder the first
   * gave back to the free list, and must say the same. */
  int users[2];
  for (int round = 0; round < 2; round++) {
    transcribe_stream *s = stream_open(p, "goforward", &users[round]);
    push_all(s, pcm, n, 0, n, 0);
    transcribe_stream_close(s);
    wait_closed(&users[round]);
    check_against(&users[round], ref, 1, 0, 0);
  }
  transcribe_pool_stats st;
  transcribe_pool_stats_get(p, &st);
  ck_assert_uint_eq(st.dropped, 0);
  ck_assert_uint_eq(st.streams_transcribed, 2);
  ck_assert_uint_eq(st.utterances, 2);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_uint_eq(st.streams_active, 0);
  transcribe_pool_free(p, 1);
  e->free(e);
  free(pcm);
  results_reset();
}
END_TEST

/* Audio from 2 s into the session, the file twice with a 3 s gap on the
 * session's timeline between the copies (nothing fed for it): the times
 * are where the words are in the session. */
START_TEST(pocketsphinx_session_times)
{
  results_reset();
  size_t n;
  int16_t *one = read_audio(&n);
  int16_t *pcm = twice(one, n);
  ref_utt ref[8];
  size_t n_ref = oracle(pcm, 2 * n, ref, 8);
  ck_assert_uint_eq(n_ref, 2);
  /* The second copy starts in its own utterance. */
  ck_assert_double_ge(ref[1].start, (double)n / RATE);

  transcriber_engine *e = ps_engine();
  transcribe_pool *p = pool_with(e, 1, 4, 1024);
  int user;
  transcribe_stream *s = stream_open(p, "gap", &user);
  /* The gap falls on a frame boundary of the second copy. */
  size_t jump_from = (n + FRAME - 1) / FRAME * FRAME;
  push_all(s, pcm, 2 * n, 2 * RATE, jump_from, 3 * RATE);
  transcribe_stream_close(s);
  wait_closed(&user);
  check_against(&user, ref, n_ref, 2.0, 5.0);
  transcribe_pool_free(p, 1);
  e->free(e);
  free(one);
  free(pcm);
  results_reset();
}
END_TEST

/* A wrapper engine: each recogniser's first feed waits until two are
 * being fed at once (bounded), and no recogniser is ever fed by two
 * threads at once. */
typedef struct bar_engine {
  transcriber_engine base;
  transcriber_engine *inner;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int arrived, timed_out;
  _Atomic int overlaps;
} bar_engine;

typedef struct bar_rec {
  bar_engine *e;
  transcriber *inner;
  int started;
  _Atomic int busy;
} bar_rec;

static transcriber *bar_create(transcriber_engine *base, unsigned rate)
{
  bar_engine *e = (bar_engine *)base;
  bar_rec *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->e = e;
  r->inner = e->inner->create(e->inner, rate);
  if (!r->inner) {
    free(r);
    return NULL;
  }
  return (transcriber *)r;
}

static int bar_feed(transcriber *t, const int16_t *pcm, size_t n, transcriber_emit_fn emit,
                    void *arg)
{
  bar_rec *r = (bar_rec *)t;
  if (atomic_exchange(&r->busy, 1))
    atomic_fetch_add(&r->e->overlaps, 1);
  if (!r->started) {
    r->started = 1;
    bar_engine *e = r->e;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 30;
    pthread_mutex_lock(&e->lock);
    e->arrived++;
    pthread_cond_broadcast(&e->cond);
    while (e->arrived < 2 && !e->timed_out)
      if (pthread_cond_timedwait(&e->cond, &e->lock, &dl) != 0)
        e->timed_out = 1;
    pthread_mutex_unlock(&e->lock);
  }
  int rc = r->e->inner->feed(r->inner, pcm, n, emit, arg);
  atomic_store(&r->busy, 0);
  return rc;
}

static int bar_flush(transcriber *t, transcriber_emit_fn emit, void *arg)
{
  bar_rec *r = (bar_rec *)t;
  return r->e->inner->flush(r->inner, emit, arg);
}

static void bar_destroy(transcriber *t)
{
  bar_rec *r = (bar_rec *)t;
  if (!r)
    return;
  r->e->inner->destroy(r->inner);
  free(r);
}

START_TEST(two_streams_two_workers)
{
  results_reset();
  size_t n;
  ref_utt ref[8];
  int16_t *pcm = speech_and_oracle(&n, ref, 8);

  bar_engine be = {
    .base = { .name = "barrier", .rate = RATE, .create = bar_create, .feed = bar_feed,
              .flush = bar_flush, .destroy = bar_destroy },
    .inner = ps_engine(),
  };
  pthread_mutex_init(&be.lock, NULL);
  pthread_cond_init(&be.cond, NULL);
  transcribe_pool *p = pool_with(&be.base, 2, 4, 1024);
  int users[2];
  transcribe_stream *s[2];
  for (int i = 0; i < 2; i++) {
    s[i] = stream_open(p, "two", &users[i]);
  }
  /* Interleaved, as an event loop delivers two streams' frames. */
  for (size_t i = 0; i < n; i += FRAME) {
    size_t k = n - i < FRAME ? n - i : FRAME;
    for (int j = 0; j < 2; j++)
      ck_assert_int_eq(transcribe_stream_push(s[j], pcm + i, k, i), 0);
  }
  for (int i = 0; i < 2; i++)
    transcribe_stream_close(s[i]);
  for (int i = 0; i < 2; i++)
    wait_closed(&users[i]);
  ck_assert_msg(!be.timed_out, "the two streams were never fed at the same time");
  ck_assert_int_eq(atomic_load(&be.overlaps), 0);
  for (int i = 0; i < 2; i++)
    check_against(&users[i], ref, 1, 0, 0);
  transcribe_pool_free(p, 1);
  be.inner->free(be.inner);
  pthread_cond_destroy(&be.cond);
  pthread_mutex_destroy(&be.lock);
  free(pcm);
  results_reset();
}
END_TEST

/* ---- an engine of the test's own --------------------------------------- */

/* Each frame pushed holds its sequence number in every sample; the engine
 * records what reaches it, blocks while the gate is shut, and on a flush
 * ends an utterance "u<N>" over what it was fed since the last one (or an
 * empty one when nothing was fed, which the pool must not deliver). */
typedef struct gate_engine {
  transcriber_engine base;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int open, feeding;
  struct {
    int rec;   /* which recogniser (in order of creation) */
    int value; /* >= 0: a frame's number; -1: a flush */
  } events[512];
  size_t n_events;
  int created, destroyed;
} gate_engine;

typedef struct gate_rec {
  gate_engine *e;
  int no;
  uint64_t fed, utt_start;
  int utts;
} gate_rec;

static transcriber *gate_create(transcriber_engine *base, unsigned rate)
{
  gate_engine *e = (gate_engine *)base;
  if (rate != RATE)
    return NULL;
  gate_rec *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->e = e;
  pthread_mutex_lock(&e->lock);
  r->no = e->created++;
  pthread_mutex_unlock(&e->lock);
  return (transcriber *)r;
}

static int gate_feed(transcriber *t, const int16_t *pcm, size_t n, transcriber_emit_fn emit,
                     void *arg)
{
  (void)emit;
  (void)arg;
  gate_rec *r = (gate_rec *)t;
  gate_engine *e = r->e;
  pthread_mutex_lock(&e->lock);
  e->feeding = 1;
  pthread_cond_broadcast(&e->cond);
  while (!e->open)
    pthread_cond_wait(&e->cond, &e->lock);
  if (e->n_events < 512) {
    e->events[e->n_events].rec = r->no;
    e->events[e->n_events++].value = pcm[0];
  }
  pthread_mutex_unlock(&e->lock);
  r->fed += n;
  return 0;
}

static int gate_flush(transcriber *t, transcriber_emit_fn emit, void *arg)
{
  gate_rec *r = (gate_rec *)t;
  gate_engine *e = r->e;
  pthread_mutex_lock(&e->lock);
  if (e->n_events < 512) {
    e->events[e->n_events].rec = r->no;
    e->events[e->n_events++].value = -1;
  }
  pthread_mutex_unlock(&e->lock);
  char text[32] = "";
  if (r->fed > r->utt_start)
    snprintf(text, sizeof text, "u%d", r->utts++);
  transcriber_utterance u = { .text = text, .start = r->utt_start, .end = r->fed };
  r->utt_start = r->fed;
  emit(arg, &u);
  return 0;
}

static void gate_destroy(transcriber *t)
{
  gate_rec *r = (gate_rec *)t;
  if (!r)
    return;
  pthread_mutex_lock(&r->e->lock);
  r->e->destroyed++;
  pthread_mutex_unlock(&r->e->lock);
  free(r);
}

static void gate_init(gate_engine *g, int open)
{
  *g = (gate_engine){
    .base = { .name = "gate", .rate = RATE, .create = gate_create, .feed = gate_feed,
              .flush = gate_flush, .destroy = gate_destroy },
    .open = open,
  };
  pthread_mutex_init(&g->lock, NULL);
  pthread_cond_init(&g->cond, NULL);
}

/* A test on the gate engine (open or shut): the results emptied, and a
 * pool of it with `workers`, at most `max` streams, `queue` frames each. */
static transcribe_pool *gate_pool(gate_engine *g, int open, unsigned workers, unsigned max,
                                  unsigned queue)
{
  results_reset();
  gate_init(g, open);
  return pool_with(&g->base, workers, max, queue);
}

static void gate_fini(gate_engine *g)
{
  pthread_cond_destroy(&g->cond);
  pthread_mutex_destroy(&g->lock);
}

static void gate_set(gate_engine *g, int open)
{
  pthread_mutex_lock(&g->lock);
  g->open = open;
  pthread_cond_broadcast(&g->cond);
  pthread_mutex_unlock(&g->lock);
}

static void wait_feeding(gate_engine *g)
{
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += WAIT_S;
  pthread_mutex_lock(&g->lock);
  int rc = 0;
  while (!g->feeding && rc == 0)
    rc = pthread_cond_timedwait(&g->cond, &g->lock, &dl);
  int ok = g->feeding;
  pthread_mutex_unlock(&g->lock);
  ck_assert_msg(ok, "the worker never fed the engine");
}

/* The events of the recogniser whose first frame was `first`, with
 * flushes in a row counted once (two flushes with no audio between are
 * one: the pool may merge them), compared with `want`. */
static void check_events(const gate_engine *g, int first, const int *want, size_t n_want)
{
  int rec = -1;
  for (size_t i = 0; i < g->n_events && rec < 0; i++)
    if (g->events[i].value == first)
      rec = g->events[i].rec;
  ck_assert_int_ge(rec, 0);
  if (getenv("DEBUG_EVENTS"))
    for (size_t i = 0; i < g->n_events; i++)
      fprintf(stderr, "event rec %d value %d\n", g->events[i].rec, g->events[i].value);
  size_t k = 0;
  int last = -2;
  for (size_t i = 0; i < g->n_events; i++) {
    if (g->events[i].rec != rec)
      continue;
    int v = g->events[i].value;
    if (v == -1 && last == -1)
      continue;
    last = v;
    ck_assert_uint_lt(k, n_want);
    ck_assert_int_eq(v, want[k]);
    k++;
  }
  ck_assert_uint_eq(k, n_want);
}

static int push_seq(transcribe_stream *s, int seq, uint64_t pos)
{
  int16_t frame[FRAME];
  for (size_t i = 0; i < FRAME; i++)
    frame[i] = (int16_t)seq;
  return transcribe_stream_push(s, frame, FRAME, pos);
}

/* Frame 0 goes to the worker, which blocks in the (shut) gate engine with
 * it; frames 1..n-1 are queued behind it. */
static void stuck_with(gate_engine *g, transcribe_stream *s, int n)
{
  ck_assert_int_eq(push_seq(s, 0, 0), 0);
  wait_feeding(g);
  for (int i = 1; i < n; i++)
    ck_assert_int_eq(push_seq(s, i, (uint64_t)i * FRAME), 0);
}

START_TEST(full_queue_drops)
{
  gate_engine g;
  transcribe_pool *p = gate_pool(&g, 0, 1, 4, 8);
  int user;
  transcribe_stream *s = stream_open(p, "full", &user);
  /* The frame being fed still holds its slot: 7 more fit. */
  stuck_with(&g, s, 8);
  /* The worker is stuck: pushes return at once, dropped and counted (a push
   * that waited for the worker would hang here until Check's timeout). */
  for (int i = 8; i < 13; i++)
    ck_assert_int_eq(push_seq(s, i, (uint64_t)i * FRAME), -1);
  transcribe_pool_stats st;
  transcribe_pool_stats_get(p, &st);
  ck_assert_uint_eq(st.dropped, 5);
  ck_assert_uint_eq(st.queued, 8);
  ck_assert_int_eq(atomic_load(&log_lines), 1);
  /* A second stream's first drop is logged too: once per stream. */
  int user2;
  transcribe_stream *s2 = stream_open(p, "full2", &user2);
  for (int i = 0; i < 10; i++)
    push_seq(s2, 100 + i, (uint64_t)i * FRAME);
  transcribe_pool_stats_get(p, &st);
  ck_assert_uint_eq(st.dropped, 7);
  ck_assert_int_eq(atomic_load(&log_lines), 2);

  transcribe_stream_flush(s);
  gate_set(&g, 1);
  /* After the drops, room again once the worker caught up. */
  transcribe_stream_close(s);
  transcribe_stream_close(s2);
  wait_closed(&user);
  wait_closed(&user2);
  /* What reached the engine: for `s` frames 0-7 in order, then the flush
   * (and the close's); for s2 the 8 frames it had room for. */
  int want[] = { 0, 1, 2, 3, 4, 5, 6, 7, -1 };
  check_events(&g, 0, want, 9);
  int want2[] = { 100, 101, 102, 103, 104, 105, 106, 107, -1 };
  check_events(&g, 100, want2, 9);
  result got[4];
  ck_assert_uint_eq(texts_of(&user, got, 4), 1);
  ck_assert_str_eq(got[0].text, "u0");
  ck_assert_double_eq_tol(got[0].start, 0.0, 1e-9);
  ck_assert_double_eq_tol(got[0].end, 8.0 * FRAME / RATE, 1e-9);
  transcribe_pool_stats_get(p, &st);
  ck_assert_uint_eq(st.queued, 0);
  transcribe_pool_free(p, 1);
  ck_assert_int_eq(g.created, 2);
  ck_assert_int_eq(g.destroyed, 2);
  gate_fini(&g);
  results_reset();
}
END_TEST

/* Flushes and close in order after the audio; times through a pause and a
 * gap exactly; an empty utterance is not delivered. */
START_TEST(order_and_times)
{
  gate_engine g;
  transcribe_pool *p = gate_pool(&g, 1, 2, 4, 64);
  int user;
  transcribe_stream *s = stream_open(p, "order", &user);
  uint64_t at = 2 * RATE; /* the stream's audio starts 2 s into the session */
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(push_seq(s, i, at + (uint64_t)i * FRAME), 0);
  transcribe_stream_flush(s);
  transcribe_stream_flush(s); /* nothing in between: an empty utterance, not delivered */
  /* A pause of 1 s on the session's timeline, then 3 frames. */
  uint64_t after = at + 5 * FRAME + RATE;
  for (int i = 5; i < 8; i++)
    ck_assert_int_eq(push_seq(s, i, after + (uint64_t)(i - 5) * FRAME), 0);
  transcribe_stream_close(s);
  wait_closed(&user);
  int want[] = { 0, 1, 2, 3, 4, -1, 5, 6, 7, -1 };
  check_events(&g, 0, want, 10);
  result got[4];
  ck_assert_uint_eq(texts_of(&user, got, 4), 2);
  ck_assert_str_eq(got[0].text, "u0");
  ck_assert_double_eq_tol(got[0].start, 2.0, 1e-9);
  ck_assert_double_eq_tol(got[0].end, 2.0 + 5.0 * FRAME / RATE, 1e-9);
  ck_assert_str_eq(got[1].text, "u1");
  ck_assert_double_eq_tol(got[1].start, (double)after / RATE, 1e-9);
  ck_assert_double_eq_tol(got[1].end, (double)after / RATE + 3.0 * FRAME / RATE, 1e-9);
  transcribe_pool_free(p, 1);
  gate_fini(&g);
  results_reset();
}
END_TEST

START_TEST(max_streams_refuses)
{
  gate_engine g;
  transcribe_pool *p = gate_pool(&g, 1, 1, 2, 16);
  int u[3];
  transcribe_stream *a = transcribe_stream_open(p, "a", &u[0]);
  transcribe_stream *b = transcribe_stream_open(p, "b", &u[1]);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_null(transcribe_stream_open(p, "c", &u[2]));
  ck_assert_ptr_null(transcribe_stream_open(p, "c", &u[2]));
  transcribe_pool_stats st;
  transcribe_pool_stats_get(p, &st);
  ck_assert_uint_eq(st.streams_refused, 2);
  ck_assert_uint_eq(st.streams_transcribed, 2);
  ck_assert_uint_eq(st.streams_active, 2);
  /* A closed stream frees its place once its closed callback came. */
  transcribe_stream_close(a);
  wait_closed(&u[0]);
  stream_open(p, "c", &u[2]);
  transcribe_pool_stats_get(p, &st);
  ck_assert_uint_eq(st.streams_transcribed, 3);
  ck_assert_uint_eq(st.streams_active, 2);
  /* Left open: the pool closes them at shutdown. */
  transcribe_pool_free(p, 1);
  ck_assert(has_closed(&u[1]));
  ck_assert(has_closed(&u[2]));
  gate_fini(&g);
  results_reset();
}
END_TEST

/* Shutdown with streams still open and audio queued: draining delivers
 * their last utterance then closed; discarding only closed. */
START_TEST(shutdown_drain_or_discard)
{
  for (int drain = 0; drain < 2; drain++) {
    gate_engine g;
    transcribe_pool *p = gate_pool(&g, 0, 1, 4, 64);
    int user;
    transcribe_stream *s = stream_open(p, "bye", &user);
    stuck_with(&g, s, 10);
    gate_set(&g, 1);
    transcribe_pool_free(p, drain);
    ck_assert(has_closed(&user));
    result got[4];
    size_t n = texts_of(&user, got, 4);
    if (drain) {
      ck_assert_uint_eq(n, 1);
      int want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1 }; /* and the close's flush */
      check_events(&g, 0, want, 11);
      ck_assert_double_eq_tol(got[0].end, 10.0 * FRAME / RATE, 1e-9);
    } else {
      ck_assert_uint_eq(n, 0);
      for (size_t i = 0; i < g.n_events; i++)
        ck_assert_int_ne(g.events[i].value, -1); /* no flush: nothing delivered */
    }
    ck_assert_int_eq(g.created, g.destroyed);
    gate_fini(&g);
    results_reset();
  }
}
END_TEST

static transcriber *no_create(transcriber_engine *base, unsigned rate)
{
  (void)base;
  (void)rate;
  return NULL;
}

/* A recogniser that cannot be made: the stream's audio is discarded,
 * counted and logged once, and its close still comes. */
START_TEST(engine_failure)
{
  results_reset();
  gate_engine g;
  gate_init(&g, 1);
  g.base.create = no_create;
  transcribe_pool *p = pool_with(&g.base, 1, 4, 16);
  int user;
  transcribe_stream *s = stream_open(p, "broken", &user);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(push_seq(s, i, (uint64_t)i * FRAME), 0);
  transcribe_stream_flush(s);
  transcribe_stream_close(s);
  wait_closed(&user);
  result got[2];
  ck_assert_uint_eq(texts_of(&user, got, 2), 0);
  transcribe_pool_stats st;
  transcribe_pool_stats_get(p, &st);
  ck_assert_uint_eq(st.engine_failures, 1);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_int_eq(atomic_load(&log_lines), 1);
  ck_assert_uint_eq(g.n_events, 0);
  transcribe_pool_free(p, 1);
  gate_fini(&g);
  results_reset();
}
END_TEST

START_TEST(bad_input)
{
  ck_assert_ptr_null(transcribe_pool_new(NULL));
  transcribe_pool_config cfg = { .on_result = on_result };
  ck_assert_ptr_null(transcribe_pool_new(&cfg)); /* no engine */
  ck_assert_int_eq(transcribe_stream_push(NULL, NULL, 0, 0), -1);
  transcribe_stream_flush(NULL);
  transcribe_stream_close(NULL);
  transcribe_pool_free(NULL, 1);
  ck_assert_ptr_null(transcribe_stream_open(NULL, "x", NULL));
  char err[256];
  ck_assert_ptr_null(transcriber_pocketsphinx_new("/nonexistent", 1, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "missing"));
  ck_assert_uint_ge(transcribe_default_max_streams(), 2);
}
END_TEST

/* ---- the transcript ---------------------------------------------------- */

START_TEST(transcript_line_format)
{
  transcript_participant who = { .id = "p1", .aor = "sip:alice@example.com", .name = NULL };
  transcript_line l = {
    .session = "S1", .call_id = "abc\xff", .call_id_len = 4, .stream = "1",
    .participant = &who, .start = 2.456, .end = 4.1, .text = "go \"forward\"\n",
  };
  char *line = transcript_format(&l);
  ck_assert_ptr_nonnull(line);
  ck_assert_ptr_null(strchr(line, '\n'));
  ck_assert_ptr_nonnull(strstr(line, "\"start\":2.46,\"end\":4.10,"));
  json_error_t je;
  json_t *o = json_loads(line, 0, &je);
  ck_assert_msg(o != NULL, "%s: %s", line, je.text);
  ck_assert_str_eq(json_string_value(json_object_get(o, "session")), "S1");
  ck_assert_str_eq(json_string_value(json_object_get(o, "call_id")), "abc\xc3\xbf");
  ck_assert_str_eq(json_string_value(json_object_get(o, "stream")), "1");
  json_t *pj = json_object_get(o, "participant");
  ck_assert_str_eq(json_string_value(json_object_get(pj, "id")), "p1");
  ck_assert_str_eq(json_string_value(json_object_get(pj, "aor")), "sip:alice@example.com");
  ck_assert(json_is_null(json_object_get(pj, "name")));
  ck_assert_str_eq(json_string_value(json_object_get(o, "text")), "go \"forward\"\n");
  /* The keys in the documented order. */
  const char *keys[] = { "session", "call_id", "stream", "participant", "start", "end", "text" };
  const char *prev = line;
  for (size_t i = 0; i < 7; i++) {
    char k[32];
    snprintf(k, sizeof k, "\"%s\":", keys[i]);
    const char *at = strstr(line, k);
    ck_assert_ptr_nonnull(at);
    ck_assert(at >= prev);
    prev = at;
  }
  json_decref(o);
  free(line);

  /* No one known, no label. */
  transcript_participant nobody = { 0 };
  l.participant = &nobody;
  l.stream = NULL;
  line = transcript_format(&l);
  o = json_loads(line, 0, &je);
  ck_assert_ptr_nonnull(o);
  ck_assert(json_is_null(json_object_get(o, "participant")));
  ck_assert(json_is_null(json_object_get(o, "stream")));
  json_decref(o);
  free(line);
  l.participant = NULL;
  line = transcript_format(&l);
  ck_assert_ptr_nonnull(strstr(line, "\"participant\":null"));
  free(line);
  l.text = NULL;
  ck_assert_ptr_null(transcript_format(&l));
}
END_TEST

START_TEST(transcript_file)
{
  char dir[] = "/tmp/test_transcript_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  transcript_line l = { .session = "S2", .call_id = "c", .call_id_len = 1, .stream = "a",
                        .start = 0.5, .end = 1.25, .text = "one" };
  ck_assert_int_eq(transcript_append(dir, &l), 0);
  l.text = "two";
  ck_assert_int_eq(transcript_append(dir, &l), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/S2/transcript.jsonl", dir);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  char buf[1024];
  const char *want[] = { "one", "two" };
  size_t n = 0;
  while (fgets(buf, sizeof buf, f)) {
    ck_assert_uint_lt(n, 2);
    json_t *o = json_loads(buf, 0, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_string_value(json_object_get(o, "text")), want[n]);
    ck_assert_double_eq_tol(json_real_value(json_object_get(o, "end")), 1.25, 1e-9);
    json_decref(o);
    n++;
  }
  fclose(f);
  ck_assert_uint_eq(n, 2);
  /* A session id that is not one path component. */
  l.session = "../x";
  errno = 0;
  ck_assert_int_eq(transcript_append(dir, &l), -1);
  ck_assert_int_eq(errno, EINVAL);
  l.session = "S2";
  ck_assert_int_eq(transcript_append(NULL, &l), -1);
  unlink(path);
  snprintf(path, sizeof path, "%s/S2", dir);
  rmdir(path);
  rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("transcribe");
  TCase *tc = tcase_create("pool");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, bad_input);
  tcase_add_test(tc, full_queue_drops);
  tcase_add_test(tc, order_and_times);
  tcase_add_test(tc, max_streams_refuses);
  tcase_add_test(tc, shutdown_drain_or_discard);
  tcase_add_test(tc, engine_failure);
  tcase_add_test(tc, transcript_line_format);
  tcase_add_test(tc, transcript_file);
  tcase_add_test(tc, pocketsphinx_equals_continuous);
  tcase_add_test(tc, pocketsphinx_session_times);
  tcase_add_test(tc, two_streams_two_workers);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
