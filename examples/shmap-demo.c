/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-shmap-demo: the session map on its own, used the way a recording
 * server uses it. Worker threads play calls: an INVITE creates a session
 * keyed by its Call-ID (load-or-compute, so a retransmitted INVITE finds the
 * same session, and no session is allocated for it), in-dialog requests find it and update it under the shard
 * lock, a BYE removes it. A monitor thread walks the map while this goes on,
 * as a host's status page would. At the end the program checks that every
 * session was created once and destroyed once, and prints what it did.
 *
 * Uses only the public API (<siprec/siprec.h>). Exit status 0 when every
 * check held, 1 otherwise, 2 on a usage error.
 */
#include <siprec/siprec.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct session {
  uint64_t magic;
  unsigned owner;         /* worker thread that created it */
  unsigned requests;      /* in-dialog requests seen, changed under the lock */
} session;

#define SESSION_MAGIC UINT64_C(0x5349505245430001)

static atomic_ulong sessions_created, sessions_destroyed;

static void session_free(void *value, void *user)
{
  (void)user;
  session *s = value;
  if (s->magic != SESSION_MAGIC) {
    fprintf(stderr, "destructor saw a corrupt session\n");
    abort();
  }
  s->magic = 0;
  free(s);
  atomic_fetch_add(&sessions_destroyed, 1);
}

typedef struct worker {
  pthread_t thread;
  siprec_shmap *map;
  unsigned index;
  unsigned calls;
  unsigned long retransmits_absorbed, requests, failures, left_open;
} worker;

static uint64_t xorshift64s(uint64_t *x)
{
  *x ^= *x >> 12;
  *x ^= *x << 25;
  *x ^= *x >> 27;
  return *x * UINT64_C(2685821657736338717);
}

/* A Call-ID shaped like what SBCs send: hex blocks @ host. */
static size_t make_call_id(char *buf, size_t size, uint64_t *rng, unsigned thread)
{
  uint64_t a = xorshift64s(rng), b = xorshift64s(rng);
  int n = snprintf(buf, size, "%08" PRIX64 "-%08" PRIX64 "-%08" PRIX64 "@sbc%u.example.net",
                   a >> 32, a & 0xffffffffu, b >> 32, thread);
  return n > 0 ? (size_t)n : 0;
}

static int count_request(const void *key, size_t key_len, void **value, void *user)
{
  (void)key;
  (void)key_len;
  (void)user;
  session *s = *value;
  s->requests++;
  return (int)s->requests;
}

static int check_requests(const void *key, size_t key_len, void *value, void *user)
{
  (void)key;
  (void)key_len;
  const session *s = value;
  return s->requests == *(const unsigned *)user;
}

/* The session factory of load-or-compute: called under the shard's lock only
 * when the Call-ID is new, so a retransmission allocates nothing. */
static int new_session(const void *key, size_t key_len, void **value, void *user)
{
  (void)key;
  (void)key_len;
  session *s = malloc(sizeof *s);
  if (!s)
    return SIPREC_ENOMEM;
  *s = (session){ SESSION_MAGIC, ((const worker *)user)->index, 0 };
  atomic_fetch_add(&sessions_created, 1);
  *value = s;
  return 0;
}

static void *worker_main(void *arg)
{
  worker *w = arg;
  uint64_t rng = w->index + 1;
  char call_id[96];
  for (unsigned i = 0; i < w->calls; i++) {
    size_t len = make_call_id(call_id, sizeof call_id, &rng, w->index);
    void *actual;
    /* INVITE (1: a Call-ID clash with another worker, never expected here) */
    if (siprec_shmap_load_or_compute(w->map, call_id, len, new_session, w, &actual) != 0) {
      w->failures++;
      continue;
    }
    session *s = actual;
    /* The same INVITE retransmitted: must find the session, not make one
     * (1: loaded, the factory was not called). */
    if (siprec_shmap_load_or_compute(w->map, call_id, len, new_session, w, &actual) == 1 &&
        actual == s)
      w->retransmits_absorbed++;
    else
      w->failures++;
    /* ACK, re-INVITEs, UPDATEs: find and touch the session under its lock. */
    unsigned n = 1 + (unsigned)(xorshift64s(&rng) % 6);
    for (unsigned r = 0; r < n; r++) {
      if (siprec_shmap_update(w->map, call_id, len, count_request, NULL) == (int)r + 1)
        w->requests++;
      else
        w->failures++;
    }
    /* One call in 50 is still up when the demo ends: siprec_shmap_free()
     * must destroy it. */
    if (xorshift64s(&rng) % 50 == 0) {
      w->left_open++;
      continue;
    }
    /* BYE: remove the session if it is still ours. The map destroys it, after
     * the monitor's walk is done with it if a walk holds it. Taking it out
     * with load-and-delete and freeing it here would race with that walk. */
    if (siprec_shmap_inspect(w->map, call_id, len, check_requests, &n) != 1 ||
        siprec_shmap_compare_and_delete(w->map, call_id, len, s) != 1)
      w->failures++;
  }
  return NULL;
}

typedef struct monitor {
  pthread_t thread;
  siprec_shmap *map;
  atomic_int stop;
  unsigned long walks, entries_seen, max_active, corrupt;
} monitor;

static int monitor_visit(const void *key, size_t key_len, void *value, void *user)
{
  (void)key;
  (void)key_len;
  monitor *m = user;
  const session *s = value;
  m->entries_seen++;
  if (s->magic != SESSION_MAGIC)
    m->corrupt++;
  return 0;
}

static void *monitor_main(void *arg)
{
  monitor *m = arg;
  while (!atomic_load(&m->stop)) {
    size_t active = siprec_shmap_len(m->map);
    if (active > m->max_active)
      m->max_active = active;
    if (siprec_shmap_range(m->map, monitor_visit, m) == 0)
      m->walks++;
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
  fprintf(f, "usage: siprec-shmap-demo [--threads N] [--calls N] [--shards N]\n"
             "  plays N calls on each of N worker threads against one siprec_shmap\n");
}

int main(int argc, char **argv)
{
  unsigned threads = 4, calls = 100000, shards = SIPREC_SHMAP_DEFAULT_SHARDS;
  for (int i = 1; i < argc; i++) {
    unsigned *target = NULL;
    if (!strcmp(argv[i], "--threads"))
      target = &threads;
    else if (!strcmp(argv[i], "--calls"))
      target = &calls;
    else if (!strcmp(argv[i], "--shards"))
      target = &shards;
    else if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    }
    if (!target || i + 1 >= argc) {
      usage(stderr);
      return 2;
    }
    *target = (unsigned)strtoul(argv[++i], NULL, 10);
  }
  if (threads == 0 || threads > 256) {
    usage(stderr);
    return 2;
  }

  printf("libsiprec %s: siprec_shmap demo, %u threads x %u calls\n", siprec_version(), threads,
         calls);

  siprec_shmap_options *opts;
  int rc = siprec_shmap_options_new(&opts, NULL);
  if (rc == 0)
    rc = siprec_shmap_options_set_shards(opts, shards);
  if (rc == 0)
    rc = siprec_shmap_options_set_value_free(opts, session_free, NULL);
  siprec_shmap *map = NULL;
  if (rc == 0)
    rc = siprec_shmap_new(&map, opts, NULL);
  siprec_shmap_options_free(opts);
  if (rc < 0) {
    fprintf(stderr, "cannot create the map (%u shards): %s\n", shards, siprec_strerror(rc));
    return 1;
  }

  worker *workers = calloc(threads, sizeof *workers);
  monitor mon = { .map = map };
  if (!workers)
    return 1;
  double t0 = now_seconds();
  pthread_create(&mon.thread, NULL, monitor_main, &mon);
  for (unsigned i = 0; i < threads; i++) {
    workers[i] = (worker){ .map = map, .index = i, .calls = calls };
    pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
  }
  unsigned long absorbed = 0, requests = 0, failures = 0, left_open = 0;
  for (unsigned i = 0; i < threads; i++) {
    pthread_join(workers[i].thread, NULL);
    absorbed += workers[i].retransmits_absorbed;
    requests += workers[i].requests;
    failures += workers[i].failures;
    left_open += workers[i].left_open;
  }
  atomic_store(&mon.stop, 1);
  pthread_join(mon.thread, NULL);
  double elapsed = now_seconds() - t0;

  size_t nshards = siprec_shmap_shard_count(map);
  size_t *lens = calloc(nshards, sizeof *lens);
  size_t lo = SIZE_MAX, hi = 0, sum = 0;
  if (lens && siprec_shmap_shard_lens(map, lens, nshards) == (int)nshards) {
    for (size_t i = 0; i < nshards; i++) {
      lo = lens[i] < lo ? lens[i] : lo;
      hi = lens[i] > hi ? lens[i] : hi;
      sum += lens[i];
    }
  }
  free(lens);
  size_t open_now = siprec_shmap_len(map);

  unsigned long created = atomic_load(&sessions_created);
  unsigned long ops = created * 3 + requests + (created - left_open);
  printf("calls played:            %lu (%u threads)\n", created, threads);
  printf("retransmissions absorbed: %lu\n", absorbed);
  printf("in-dialog requests:      %lu\n", requests);
  printf("calls still up at end:   %zu (expected %lu), shards %zu: %zu..%zu entries\n", open_now,
         left_open, nshards, lo == SIZE_MAX ? 0 : lo, hi);
  printf("monitor walks:           %lu (saw %lu entries, at most %lu calls at once)\n", mon.walks,
         mon.entries_seen, mon.max_active);
  printf("map operations:          %lu in %.3f s (%.2f M/s)\n", ops, elapsed,
         (double)ops / elapsed / 1e6);

  siprec_shmap_free(map);
  unsigned long destroyed = atomic_load(&sessions_destroyed);
  printf("sessions destroyed:      %lu of %lu\n", destroyed, created);

  int ok = failures == 0 && mon.corrupt == 0 && open_now == left_open && sum == open_now &&
           destroyed == created && created == (unsigned long)threads * calls;
  printf("result: %s\n", ok ? "ok" : "FAILED");
  if (failures)
    printf("  %lu operations returned an unexpected result\n", failures);
  free(workers);
  return ok ? 0 : 1;
}
