/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_shmap: the session-map workload of ../shared/bench/WORKLOAD.md run, in
 * one program, on
 *   - siprec_shmap (this library, 32 shards, fixed hash key);
 *   - the same table design under one pthread rwlock: this file built again
 *     with the library sources and SR_SHMAP_PTHREAD_LOCK into
 *     bench_shmap_rwlock (BENCH_RWLOCK_CHILD), run as a child process that
 *     makes one measurement on a 1-shard map and prints its Mops/s;
 *   - liburcu's RCU lock-free hash table (cds_lfht);
 *   - Go's sync.Map, by running the anchor (go run .) as a child process.
 * Then a crafted-vs-random key measurement, and one verdict line per target.
 * See docs/performance.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#ifndef BENCH_RWLOCK_CHILD
/* Inline fast paths of rcu_read_lock()/rcu_read_unlock(): the baseline at
 * its best. */
#define _LGPL_SOURCE
#include <urcu.h>
#include <urcu/rculfhash.h>
#endif

#include <errno.h>
#include <math.h> /* NAN, isnan */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <siprec/shmap.h>

#include "common/siphash.h"
#include "crafted_keys.h"
#include "bench_load.h"

#ifndef BENCH_SHARED_DIR
#define BENCH_SHARED_DIR "../shared"
#endif
#ifndef BENCH_RWLOCK_HELPER
#define BENCH_RWLOCK_HELPER "./bench_shmap_rwlock"
#endif

/* Full: 7 interleaved rounds of 1,000,000 operations per thread take about
 * as long as the 3 rounds of 2,000,000 did (the Go anchor is most of it). */
#define FULL_OPS 1000000u
#define QUICK_OPS 50000u
/* The crafted-vs-random loop compares two short timings: never fewer. */
#define CRAFTED_MIN_OPS 300000u
#define CRAFTED_KEYS 100000u
/* Repetitions (rounds of A, B, A, B, ...): a median of 3 did not hold a
 * verdict on a shared 2-core machine (issue 9). */
#define DEFAULT_REPS 7
#define MAX_REPS 31

enum mix { MIX_READ90, MIX_READ50, MIX_CHURN, N_MIX };
static const char *const mix_names[N_MIX] = { "read90", "read50", "churn" };

/* The fixed SipHash key every C implementation hashes with. */
static const uint8_t bench_hash_key[16] = { 0x73, 0x69, 0x70, 0x72, 0x65, 0x63, 0x2d, 0x62,
                                            0x65, 0x6e, 0x63, 0x68, 0x2d, 0x6b, 0x65, 0x79 };

/* ---------------------------------------------------------------------- */
/* Small helpers                                                            */

static double now_sec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*, exactly as the anchor's. */
static inline uint64_t xorshift(uint64_t *x)
{
  *x ^= *x >> 12;
  *x ^= *x << 25;
  *x ^= *x >> 27;
  return *x * UINT64_C(2685821657736338717);
}

/* Decimal digits of v at dst (no NUL); returns their count. */
static inline size_t fmt_u64(unsigned char *dst, uint64_t v)
{
  unsigned char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (unsigned char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++)
    dst[i] = tmp[n - 1 - i];
  return n;
}

static int parse_u64(const char *s, uint64_t *out)
{
  if (!s || !*s)
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || s[0] == '-')
    return -1;
  *out = v;
  return 0;
}

static int parse_mix(const char *s)
{
  for (int i = 0; i < N_MIX; i++)
    if (strcmp(s, mix_names[i]) == 0)
      return i;
  return -1;
}

/* ---------------------------------------------------------------------- */
/* The Call-ID file: every key back to back in one buffer, with offsets
 * (the key_set layout of crafted_keys.h), for every C implementation.      */

static int read_key_file(const char *path, key_set *ks)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  unsigned char *raw = NULL;
  size_t used = 0, cap = 0;
  for (;;) {
    if (cap - used < 65536) {
      cap = cap ? cap * 2 : 1 << 20;
      unsigned char *r = realloc(raw, cap);
      if (!r)
        goto fail;
      raw = r;
    }
    size_t got = fread(raw + used, 1, cap - used, f);
    used += got;
    if (got == 0)
      break;
  }
  if (ferror(f))
    goto fail;
  fclose(f);
  f = NULL;

  /* Lines, trimmed of ASCII white space (as the anchor's TrimSpace), empty
   * ones skipped; compacted in place. */
  size_t lines = 1;
  for (size_t i = 0; i < used; i++)
    lines += raw[i] == '\n';
  ks->off = malloc((lines + 1) * sizeof *ks->off);
  if (!ks->off)
    goto fail;
  size_t n = 0, out = 0;
  size_t i = 0;
  while (i < used) {
    size_t b = i;
    while (i < used && raw[i] != '\n')
      i++;
    size_t e = i;
    i++; /* the newline */
    while (b < e && (raw[b] == ' ' || raw[b] == '\t' || raw[b] == '\r' || raw[b] == '\v' ||
                     raw[b] == '\f'))
      b++;
    while (e > b && (raw[e - 1] == ' ' || raw[e - 1] == '\t' || raw[e - 1] == '\r' ||
                     raw[e - 1] == '\v' || raw[e - 1] == '\f'))
      e--;
    if (e == b)
      continue;
    ks->off[n++] = out;
    memmove(raw + out, raw + b, e - b);
    out += e - b;
  }
  if (n == 0)
    goto fail;
  ks->off[n] = out;
  ks->data = raw;
  ks->n = n;
  return 0;

fail:
  if (f)
    fclose(f);
  free(raw);
  free(ks->off);
  ks->off = NULL;
  return -1;
}

/* The keys as the timed loops of every C implementation read them: key i
 * alone in a 64-byte-aligned block of `stride` bytes (one cache line for the
 * Call-IDs, which are at most 62 bytes), its length in the block's last two
 * bytes. One cache line per key fetched, the same for every implementation. */
typedef struct keytab {
  unsigned char *base;
  size_t stride;
  size_t n;
  size_t max_len;
} keytab;

static int keytab_from(keytab *kt, const key_set *ks)
{
  size_t max_len = 0;
  for (size_t i = 0; i < ks->n; i++)
    if (ks->off[i + 1] - ks->off[i] > max_len)
      max_len = ks->off[i + 1] - ks->off[i];
  if (max_len > UINT16_MAX || ks->n == 0)
    return -1;
  size_t stride = (max_len + 2 + 63) & ~(size_t)63;
  kt->base = aligned_alloc(64, ks->n * stride);
  if (!kt->base)
    return -1;
  memset(kt->base, 0, ks->n * stride);
  for (size_t i = 0; i < ks->n; i++) {
    unsigned char *b = kt->base + i * stride;
    uint16_t len = (uint16_t)(ks->off[i + 1] - ks->off[i]);
    memcpy(b, ks->data + ks->off[i], len);
    memcpy(b + stride - 2, &len, sizeof len);
  }
  kt->stride = stride;
  kt->n = ks->n;
  kt->max_len = max_len;
  return 0;
}

static inline const unsigned char *kt_key(const keytab *kt, size_t i, size_t *len)
{
  const unsigned char *b = kt->base + i * kt->stride;
  uint16_t l;
  memcpy(&l, b + kt->stride - 2, sizeof l);
  *len = l;
  return b;
}

static void keytab_free(keytab *kt)
{
  free(kt->base);
  kt->base = NULL;
}

/* The key file, in the timed loops' layout. */
static int load_keys(const char *path, keytab *kt)
{
  key_set ks = { NULL, NULL, 0 };
  if (read_key_file(path, &ks) < 0)
    return -1;
  int rc = keytab_from(kt, &ks);
  free(ks.data);
  free(ks.off);
  if (rc < 0)
    errno = EINVAL;
  return rc;
}

/* ---------------------------------------------------------------------- */
/* The implementations, behind one set of operations.                       */

typedef struct bench_map_ops {
  void *(*create)(void);
  void (*destroy)(void *m);
  void (*thread_enter)(void);
  void (*thread_leave)(void);
  /* 1 found (value added to *sink), 0 absent, < 0 error */
  int (*load)(void *m, const unsigned char *k, size_t len, uintptr_t *sink);
  /* 0, or < 0 error */
  int (*store)(void *m, const unsigned char *k, size_t len, uintptr_t v);
  /* 1 loaded, 0 stored, < 0 error */
  int (*load_or_store)(void *m, const unsigned char *k, size_t len, uintptr_t v);
  /* 1 removed, 0 absent, < 0 error */
  int (*del)(void *m, const unsigned char *k, size_t len);
} bench_map_ops;

/* siprec_shmap: 32 shards (1 in the rwlock child). */
#ifdef BENCH_RWLOCK_CHILD
static unsigned g_shards = 1;
#else
static unsigned g_shards = SIPREC_SHMAP_DEFAULT_SHARDS;
#endif

static void *shm_create(void)
{
  siprec_shmap_options *o;
  siprec_shmap *m = NULL;
  if (siprec_shmap_options_new(&o, NULL) < 0)
    return NULL;
  if (siprec_shmap_options_set_shards(o, g_shards) == 0 &&
      siprec_shmap_options_set_hash_key(o, bench_hash_key) == 0)
    (void)siprec_shmap_new(&m, o, NULL);
  siprec_shmap_options_free(o);
  return m;
}

static void shm_destroy(void *m)
{
  siprec_shmap_free(m);
}

static int shm_load(void *m, const unsigned char *k, size_t len, uintptr_t *sink)
{
  void *v;
  int rc = siprec_shmap_load(m, k, len, &v);
  if (rc == 1)
    *sink += (uintptr_t)v;
  return rc;
}

static int shm_store(void *m, const unsigned char *k, size_t len, uintptr_t v)
{
  return siprec_shmap_store(m, k, len, (void *)v);
}

static int shm_load_or_store(void *m, const unsigned char *k, size_t len, uintptr_t v)
{
  return siprec_shmap_load_or_store(m, k, len, (void *)v, NULL);
}

static int shm_del(void *m, const unsigned char *k, size_t len)
{
  return siprec_shmap_delete(m, k, len);
}

static const bench_map_ops shm_ops = {
  shm_create, shm_destroy, NULL, NULL, shm_load, shm_store, shm_load_or_store, shm_del,
};

#ifndef BENCH_RWLOCK_CHILD
/* liburcu's cds_lfht: the key inline in the node, the value overwritten in
 * place with an atomic store, reads under rcu_read_lock(), nodes freed by
 * call_rcu() after cds_lfht_del(). Same hash as siprec_shmap. */
typedef struct lf_node {
  struct cds_lfht_node node; /* first: a node pointer is an lf_node pointer */
  struct rcu_head rcu;
  uintptr_t value;           /* __atomic_* access */
  size_t len;
  unsigned char key[];
} lf_node;

typedef struct lf_key {
  const unsigned char *bytes;
  size_t len;
} lf_key;

static sr_siphash_key lf_hkey;

static inline unsigned long lf_hash(const unsigned char *k, size_t len)
{
  return (unsigned long)sr_siphash13(lf_hkey, k, len);
}

static int lf_match(struct cds_lfht_node *node, const void *key)
{
  const lf_node *n = (const lf_node *)node;
  const lf_key *k = key;
  return n->len == k->len && memcmp(n->key, k->bytes, k->len) == 0;
}

static void lf_free_rcu(struct rcu_head *head)
{
  free((char *)head - offsetof(lf_node, rcu));
}

static lf_node *lf_node_new(const unsigned char *k, size_t len, uintptr_t v)
{
  lf_node *n = malloc(sizeof *n + len);
  if (!n)
    return NULL;
  cds_lfht_node_init(&n->node);
  n->value = v;
  n->len = len;
  memcpy(n->key, k, len);
  return n;
}

static void *lf_create(void)
{
  /* Buckets for all the keys up front: no resize during a measurement. */
  return cds_lfht_new(1ul << 17, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
}

static void lf_destroy(void *m)
{
  struct cds_lfht *ht = m;
  struct cds_lfht_iter it;
  struct cds_lfht_node *node;
  rcu_read_lock();
  cds_lfht_for_each(ht, &it, node) {
    if (cds_lfht_del(ht, node) == 0)
      call_rcu(&((lf_node *)node)->rcu, lf_free_rcu);
  }
  rcu_read_unlock();
  rcu_barrier();
  if (cds_lfht_destroy(ht, NULL) != 0)
    fprintf(stderr, "bench_shmap: cds_lfht_destroy failed\n");
}

static void lf_thread_enter(void)
{
  rcu_register_thread();
}

static void lf_thread_leave(void)
{
  rcu_unregister_thread();
}

static int lf_load(void *m, const unsigned char *k, size_t len, uintptr_t *sink)
{
  struct cds_lfht_iter it;
  lf_key key = { k, len };
  int found = 0;
  rcu_read_lock();
  cds_lfht_lookup(m, lf_hash(k, len), lf_match, &key, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  if (node) {
    *sink += __atomic_load_n(&((lf_node *)node)->value, __ATOMIC_ACQUIRE);
    found = 1;
  }
  rcu_read_unlock();
  return found;
}

static int lf_store(void *m, const unsigned char *k, size_t len, uintptr_t v)
{
  struct cds_lfht_iter it;
  lf_key key = { k, len };
  unsigned long h = lf_hash(k, len);
  int rc = 0;
  rcu_read_lock();
  cds_lfht_lookup(m, h, lf_match, &key, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  if (node) {
    __atomic_store_n(&((lf_node *)node)->value, v, __ATOMIC_RELEASE);
  } else {
    lf_node *n = lf_node_new(k, len, v);
    if (!n) {
      rc = -1;
    } else {
      struct cds_lfht_node *got = cds_lfht_add_unique(m, h, lf_match, &key, &n->node);
      if (got != &n->node) { /* inserted meanwhile: overwrite that one */
        __atomic_store_n(&((lf_node *)got)->value, v, __ATOMIC_RELEASE);
        free(n);
      }
    }
  }
  rcu_read_unlock();
  return rc;
}

static int lf_load_or_store(void *m, const unsigned char *k, size_t len, uintptr_t v)
{
  lf_key key = { k, len };
  lf_node *n = lf_node_new(k, len, v);
  if (!n)
    return -1;
  rcu_read_lock();
  struct cds_lfht_node *got = cds_lfht_add_unique(m, lf_hash(k, len), lf_match, &key, &n->node);
  rcu_read_unlock();
  if (got != &n->node) {
    free(n); /* never published */
    return 1;
  }
  return 0;
}

static int lf_del(void *m, const unsigned char *k, size_t len)
{
  struct cds_lfht_iter it;
  lf_key key = { k, len };
  int rc = 0;
  rcu_read_lock();
  cds_lfht_lookup(m, lf_hash(k, len), lf_match, &key, &it);
  struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
  if (node && cds_lfht_del(m, node) == 0) {
    call_rcu(&((lf_node *)node)->rcu, lf_free_rcu);
    rc = 1;
  }
  rcu_read_unlock();
  return rc;
}

static const bench_map_ops lf_ops = {
  lf_create, lf_destroy, lf_thread_enter, lf_thread_leave,
  lf_load,   lf_store,   lf_load_or_store, lf_del,
};
#endif

/* ---------------------------------------------------------------------- */
/* The timed loops                                                          */

typedef struct worker {
  pthread_t th;
  const keytab *keys;
  void *map;
  pthread_barrier_t *bar;
  unsigned char *buf; /* this thread's fresh-key buffer (churn) */
  unsigned tid;
  int mix;
  uint64_t ops;
  uint64_t bad; /* operations whose result contradicts the workload */
  uintptr_t sink;
  char pad[64];
} worker;

/* Inlined into one worker function per implementation, so that the calls
 * through `o` become direct calls. */
static inline __attribute__((always_inline)) void *worker_body(worker *w, const bench_map_ops *o)
{
  if (o->thread_enter)
    o->thread_enter();
  const keytab *kt = w->keys;
  const uint64_t n = kt->n;
  void *m = w->map;
  uint64_t rng = (uint64_t)w->tid + 1;
  uint64_t bad = 0;
  uintptr_t sink = 0;
  pthread_barrier_wait(w->bar);

  if (w->mix == MIX_CHURN) {
    unsigned char *buf = w->buf;
    const uint64_t cycles = w->ops / 10;
    for (uint64_t i = 0; i < cycles; i++) {
      /* The fresh Call-ID: keys[i % n] + "#" + thread + "#" + i. */
      size_t ki = (size_t)(i % n);
      size_t kl;
      const unsigned char *kp = kt_key(kt, ki, &kl);
      memcpy(buf, kp, kl);
      size_t p = kl;
      buf[p++] = '#';
      p += fmt_u64(buf + p, w->tid);
      buf[p++] = '#';
      p += fmt_u64(buf + p, i);
      if (o->load_or_store(m, buf, p, (uintptr_t)i) != 0)
        bad++;
      for (int j = 0; j < 8; j++) {
        size_t kl2;
        const unsigned char *k = kt_key(kt, (size_t)((xorshift(&rng) >> 8) % n), &kl2);
        if (o->load(m, k, kl2, &sink) != 1)
          bad++;
      }
      if (o->del(m, buf, p) != 1)
        bad++;
    }
  } else {
    const uint64_t pct = w->mix == MIX_READ90 ? 90 : 50;
    const uint64_t ops = w->ops;
    for (uint64_t i = 0; i < ops; i++) {
      uint64_t r = xorshift(&rng);
      size_t kl;
      const unsigned char *k = kt_key(kt, (size_t)((r >> 8) % n), &kl);
      if (r % 100 < pct) {
        if (o->load(m, k, kl, &sink) != 1)
          bad++;
      } else if (o->store(m, k, kl, (uintptr_t)i) < 0) {
        bad++;
      }
    }
  }
  w->bad = bad;
  w->sink = sink;
  if (o->thread_leave)
    o->thread_leave();
  return NULL;
}

static void *worker_shm(void *arg)
{
  return worker_body(arg, &shm_ops);
}

#ifndef BENCH_RWLOCK_CHILD
static void *worker_lf(void *arg)
{
  return worker_body(arg, &lf_ops);
}
#endif

typedef struct impl {
  const char *name;
  const bench_map_ops *ops;
  void *(*worker)(void *);
} impl;

/* One measurement: a new map holding every key (not timed), then `threads`
 * threads released together by a barrier, each doing `ops` operations.
 * Returns the wall time in seconds, or a negative value on failure. */
static double measure(const impl *im, const keytab *ks, int mix,
                      unsigned threads, uint64_t ops)
{
  void *m = im->ops->create();
  if (!m) {
    fprintf(stderr, "bench_shmap: %s: cannot create the map\n", im->name);
    return -1;
  }
  for (size_t i = 0; i < ks->n; i++) {
    size_t len;
    const unsigned char *k = kt_key(ks, i, &len);
    if (im->ops->store(m, k, len, (uintptr_t)i) < 0) {
      fprintf(stderr, "bench_shmap: %s: preload failed\n", im->name);
      im->ops->destroy(m);
      return -1;
    }
  }

  worker *w = calloc(threads, sizeof *w);
  pthread_barrier_t bar;
  double t = -1;
  if (!w || pthread_barrier_init(&bar, NULL, threads + 1) != 0) {
    free(w);
    im->ops->destroy(m);
    return -1;
  }
  unsigned started = 0;
  for (unsigned i = 0; i < threads; i++) {
    w[i].keys = ks;
    w[i].map = m;
    w[i].bar = &bar;
    w[i].tid = i;
    w[i].mix = mix;
    w[i].ops = ops;
    w[i].buf = malloc(ks->max_len + 64);
    if (!w[i].buf || pthread_create(&w[i].th, NULL, im->worker, &w[i]) != 0)
      break;
    started++;
  }
  if (started == threads) {
    pthread_barrier_wait(&bar);
    double t0 = now_sec();
    for (unsigned i = 0; i < threads; i++)
      pthread_join(w[i].th, NULL);
    t = now_sec() - t0;
    uint64_t bad = 0;
    for (unsigned i = 0; i < threads; i++)
      bad += w[i].bad;
    if (bad) {
      fprintf(stderr, "bench_shmap: %s %s: %llu operations gave unexpected results\n", im->name,
              mix_names[mix], (unsigned long long)bad);
      t = -1;
    }
  } else {
    fprintf(stderr, "bench_shmap: cannot start threads\n");
    exit(1); /* threads wait on the barrier forever */
  }
  pthread_barrier_destroy(&bar);
  for (unsigned i = 0; i < threads; i++)
    free(w[i].buf);
  free(w);
  im->ops->destroy(m);
  return t;
}

/* Throughput in Mops/s of one measurement, or a negative value. */
static double measure_mops(const impl *im, const keytab *ks, int mix, unsigned threads,
                           uint64_t ops)
{
  double t = measure(im, ks, mix, threads, ops);
  if (t <= 0)
    return -1;
  return (double)threads * (double)ops / t / 1e6;
}

static const impl impl_shm = {
#ifdef BENCH_RWLOCK_CHILD
  "shmap1-pthread-rwlock",
#else
  "siprec-shmap32",
#endif
  &shm_ops, worker_shm
};

/* ====================================================================== */
#ifdef BENCH_RWLOCK_CHILD
/* The single-rwlock helper: one measurement, result on stdout. */

static void child_usage(FILE *f)
{
  fprintf(f, "usage: bench_shmap_rwlock --keys FILE --impl rwlock --mix read90|read50|churn "
             "--threads N --ops N\n"
             "One measurement of the workload on siprec_shmap built with one pthread rwlock\n"
             "per shard and created with 1 shard; prints Mops/s. Run by bench_shmap.\n");
}

int main(int argc, char **argv)
{
  const char *keys_path = NULL;
  int mix = -1;
  uint64_t threads = 0, ops = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0) {
      child_usage(stdout);
      return 0;
    }
    if (!v) {
      child_usage(stderr);
      return 2;
    }
    i++;
    if (strcmp(a, "--keys") == 0) {
      keys_path = v;
    } else if (strcmp(a, "--impl") == 0) {
      if (strcmp(v, "rwlock") != 0) {
        child_usage(stderr);
        return 2;
      }
    } else if (strcmp(a, "--mix") == 0) {
      mix = parse_mix(v);
    } else if (strcmp(a, "--threads") == 0) {
      if (parse_u64(v, &threads) < 0)
        threads = 0;
    } else if (strcmp(a, "--ops") == 0) {
      if (parse_u64(v, &ops) < 0)
        ops = 0;
    } else {
      child_usage(stderr);
      return 2;
    }
  }
  if (!keys_path || mix < 0 || threads == 0 || threads > 1024 || ops == 0) {
    child_usage(stderr);
    return 2;
  }
  keytab ks;
  if (load_keys(keys_path, &ks) < 0) {
    fprintf(stderr, "bench_shmap_rwlock: cannot read keys from %s\n", keys_path);
    return 1;
  }
  double r = measure_mops(&impl_shm, &ks, mix, (unsigned)threads, ops);
  keytab_free(&ks);
  if (r <= 0)
    return 1;
  printf("%.6f\n", r);
  return 0;
}

#else
/* ====================================================================== */
/* The driver                                                               */

static const impl impl_lf = { "urcu-cds_lfht", &lf_ops, worker_lf };

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int reps = DEFAULT_REPS;

/* A set of repetitions: median, extremes and quartiles (the values at ranks
 * n/4 and 3n/4 of the sorted set). */
typedef struct spread {
  double med, min, max, q1, q3;
} spread;

/* NAN in every field when a repetition is missing. */
static spread spread_of(const double *v, int n)
{
  double s[MAX_REPS];
  spread r = { NAN, NAN, NAN, NAN, NAN };
  for (int i = 0; i < n; i++) {
    if (isnan(v[i]))
      return r;
    s[i] = v[i];
  }
  qsort(s, (size_t)n, sizeof s[0], cmp_double);
  r.med = s[n / 2];
  r.min = s[0];
  r.max = s[n - 1];
  r.q1 = s[n / 4];
  r.q3 = s[(3 * n) / 4];
  return r;
}

/* Result table: every implementation, mix and thread count. */
enum { IMPL_SHMAP, IMPL_RWLOCK, IMPL_LFHT, IMPL_SYNCMAP, IMPL_GO_SHARDED, IMPL_GO_GLOBAL, N_IMPL };
static const char *const impl_names[N_IMPL] = {
  "siprec-shmap32", "shmap1-pthread-rwlock",    "urcu-cds_lfht",
  "go-sync.Map",    "go-sharded32-fnv-rwmutex", "go-global-rwmutex",
};
static const unsigned thread_counts[] = { 1, 2, 8 };
#define N_THREADS 3
static int verbose;
/* Mops/s of every repetition (NAN: not run), and their medians. */
static double runs[N_IMPL][N_MIX][N_THREADS][MAX_REPS];
static double results[N_IMPL][N_MIX][N_THREADS];
static char skip_why[N_IMPL][128]; /* why a baseline could not run */

static int thread_index(unsigned t)
{
  for (int i = 0; i < N_THREADS; i++)
    if (thread_counts[i] == t)
      return i;
  return -1;
}

static void print_result(int impl_i, int mix, int ti)
{
  spread s = spread_of(runs[impl_i][mix][ti], reps);
  printf("%s\t%s\t%u\t%.2f\t%.2f-%.2f\t%.2f-%.2f\n", impl_names[impl_i], mix_names[mix],
         thread_counts[ti], s.med, s.q1, s.q3, s.min, s.max);
  fflush(stdout);
}

/* Run a program with stdout into a pipe; its output (NUL-terminated, up to
 * cap - 1 bytes) in buf. Returns the exit status (127: could not exec), or
 * -1 when it could not be started. */
static int run_capture(const char *dir, const char *prog, char *const argv[], char *buf, size_t cap,
                       int search_path)
{
  int fd[2];
  if (pipe(fd) < 0)
    return -1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    return -1;
  }
  if (pid == 0) {
    close(fd[0]);
    if (dup2(fd[1], STDOUT_FILENO) < 0)
      _exit(127);
    close(fd[1]);
    if (dir && chdir(dir) < 0)
      _exit(127);
    if (search_path)
      execvp(prog, argv);
    else
      execv(prog, argv);
    _exit(127);
  }
  close(fd[1]);
  size_t used = 0;
  char sink[4096];
  for (;;) {
    char *dst = used + 1 < cap ? buf + used : sink;
    size_t room = used + 1 < cap ? cap - 1 - used : sizeof sink;
    ssize_t got = read(fd[0], dst, room);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    if (dst != sink)
      used += (size_t)got;
  }
  buf[used] = '\0';
  close(fd[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR)
      return -1;
  }
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The single-rwlock baseline: one child process per repetition. */
static double run_rwlock_child(const char *helper, const char *keys, int mix, unsigned threads,
                               uint64_t ops, char *why, size_t why_len)
{
  char t_arg[32], o_arg[32];
  snprintf(t_arg, sizeof t_arg, "%u", threads);
  snprintf(o_arg, sizeof o_arg, "%llu", (unsigned long long)ops);
  char *argv[] = { (char *)helper,         "--keys", (char *)keys, "--impl",  "rwlock",
                   "--mix", (char *)mix_names[mix], "--threads",  t_arg,    "--ops",
                   o_arg,   NULL };
  char out[256];
  int st = run_capture(NULL, helper, argv, out, sizeof out, 0);
  double r;
  if (st != 0 || sscanf(out, "%lf", &r) != 1 || !(r > 0)) {
    snprintf(why, why_len, "rwlock helper failed, status %d", st);
    return -1;
  }
  return r;
}

/* `go` on PATH? */
static int have_program(const char *name)
{
  const char *path = getenv("PATH");
  if (!path)
    path = "/usr/bin:/bin";
  char full[4096];
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t n = colon ? (size_t)(colon - path) : strlen(path);
    if (n && n + strlen(name) + 2 < sizeof full) {
      memcpy(full, path, n);
      full[n] = '/';
      strcpy(full + n + 1, name);
      if (access(full, X_OK) == 0)
        return 1;
    }
    path += n;
    if (*path == ':')
      path++;
  }
  return 0;
}

/* Go needs a writable build cache: when neither GOCACHE nor a writable
 * default place exists, give it a private one under /tmp. */
static void ensure_gocache(void)
{
  if (getenv("GOCACHE"))
    return;
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if ((xdg && access(xdg, W_OK) == 0) || (!xdg && home && access(home, W_OK) == 0))
    return;
  char dir[128];
  snprintf(dir, sizeof dir, "/tmp/bench_shmap-gocache-%u", (unsigned)getuid());
  (void)mkdir(dir, 0700);
  setenv("GOCACHE", dir, 1);
}

/* Go's sync.Map and the other maps of the anchor: one `go run .`, the
 * figures of repetition `rep`. Returns 0, or -1 with the reason in `why`. */
static int run_anchor_once(const char *anchor_dir, const char *keys_abs, uint64_t ops, int rep,
                           char *why, size_t why_len)
{
  char main_go[4096];
  snprintf(main_go, sizeof main_go, "%s/main.go", anchor_dir);
  if (access(main_go, R_OK) != 0) {
    snprintf(why, why_len, "anchor not found at %s", anchor_dir);
    return -1;
  }
  if (!have_program("go")) {
    snprintf(why, why_len, "go not found");
    return -1;
  }
  static char out[1 << 16];
  ensure_gocache();
  char o_arg[32];
  snprintf(o_arg, sizeof o_arg, "%llu", (unsigned long long)ops);
  char *argv[] = { "go", "run", ".", "-keys", (char *)keys_abs, "-ops", o_arg, NULL };
  fprintf(stderr, "bench_shmap: go run . -keys %s -ops %s (%d/%d)\n", keys_abs, o_arg, rep + 1,
          reps);
  int st = run_capture(anchor_dir, "go", argv, out, sizeof out, 1);
  if (st != 0) {
    snprintf(why, why_len, "go run failed, status %d", st);
    return -1;
  }
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    char name[64], mixs[16];
    unsigned th;
    double v;
    if (sscanf(line, "%63[^\t]\t%15[^\t]\t%u\t%lf", name, mixs, &th, &v) != 4)
      continue;
    int x = parse_mix(mixs), t = thread_index(th);
    if (x < 0 || t < 0)
      continue;
    for (int a = IMPL_SYNCMAP; a < N_IMPL; a++)
      if (strcmp(name, impl_names[a]) == 0)
        runs[a][x][t][rep] = v;
  }
  for (int x = 0; x < N_MIX; x++)
    for (int t = 0; t < N_THREADS; t++)
      if (isnan(runs[IMPL_SYNCMAP][x][t][rep])) {
        snprintf(why, why_len, "no go-sync.Map figures in the anchor's output");
        return -1;
      }
  return 0;
}

/* The crafted-vs-random measurement: siprec_shmap, read90 loop, 2 threads,
 * the time on a crafted key set over the time on random keys of the same
 * length. Repetitions alternate; the figure is the median of the pairs'
 * ratios. Returns it or a negative value. */
static double crafted_ratio(const char *label, const key_set *crafted_ks,
                            const key_set *random_ks, uint64_t ops)
{
  double tc[MAX_REPS], tr[MAX_REPS], pair[MAX_REPS];
  keytab c_kt, r_kt;
  if (keytab_from(&c_kt, crafted_ks) < 0)
    return -1;
  if (keytab_from(&r_kt, random_ks) < 0) {
    keytab_free(&c_kt);
    return -1;
  }
  int ok = 1;
  for (int rep = 0; rep < reps && ok; rep++) {
    tc[rep] = measure(&impl_shm, &c_kt, MIX_READ90, 2, ops);
    tr[rep] = measure(&impl_shm, &r_kt, MIX_READ90, 2, ops);
    ok = tc[rep] > 0 && tr[rep] > 0;
    if (ok)
      pair[rep] = tc[rep] / tr[rep];
  }
  keytab_free(&c_kt);
  keytab_free(&r_kt);
  if (!ok)
    return -1;
  spread c = spread_of(tc, reps), r = spread_of(tr, reps), p = spread_of(pair, reps);
  printf("crafted-vs-random\t%s\t%.2fx (median of pairs; range %.2fx-%.2fx)\tcrafted %.4f s "
         "[%.4f-%.4f]\trandom %.4f s [%.4f-%.4f]\n",
         label, p.med, p.min, p.max, c.med, c.min, c.max, r.med, r.min, r.max);
  fflush(stdout);
  return p.med;
}


static void usage(FILE *f)
{
  fprintf(f,
          "usage: bench_shmap [--quick] [--keys FILE] [--anchor DIR] [--ops N] [--no-anchor]\n"
          "                   [--threads N] [--mix M] [--reps N] [--verbose]\n"
          "                   [--rwlock-helper FILE]\n"
          "Runs the session-map workload (WORKLOAD.md) on siprec_shmap (32 shards), the same\n"
          "table under one pthread rwlock, liburcu's cds_lfht and Go's sync.Map (the anchor,\n"
          "via `go run .`), then crafted-vs-random keys, and prints one verdict line per\n"
          "target. Repetitions are interleaved rounds (every implementation once per round,\n"
          "the anchor last); each figure is the median of the rounds, printed with its\n"
          "quartiles and its extremes; a verdict is the median of the per-round ratios.\n"
          "  --quick        %u ops/thread for every implementation (anchor too), 2 threads\n"
          "                 only for the C implementations\n"
          "  --keys FILE    Call-IDs, one a line (default %s/bench/callids.txt)\n"
          "  --anchor DIR   the Go anchor (default %s/bench/anchors/syncmap)\n"
          "  --ops N        operations per thread (default %u, quick %u)\n"
          "  --no-anchor    do not run Go (its targets are then skipped)\n"
          "  --threads N    C implementations with N threads only (1, 2 or 8)\n"
          "  --mix M        C implementations with mix M only (read90, read50 or churn)\n"
          "  --reps N       rounds, 1 to %d (default %d)\n"
          "  --verbose      every repetition's figure on stderr\n"
          "  --rwlock-helper FILE  the single-rwlock helper (default %s)\n"
          "  --help         this text\n"
          "Exit status: 0 whatever the verdicts; 1 unreadable key file; 2 usage error.\n",
          QUICK_OPS, BENCH_SHARED_DIR, BENCH_SHARED_DIR, FULL_OPS, QUICK_OPS, MAX_REPS,
          DEFAULT_REPS, BENCH_RWLOCK_HELPER);
}

/* target NAME: VALUE (goal OP LIMIT) met|missed|skipped [what it rests on] */
static void verdict(const char *name, double value, int at_most, const char *limit_s, double limit,
                    const char *why, const char *detail)
{
  if (why) {
    printf("target %s: skipped (%s)\n", name, why);
    return;
  }
  /* Judged on the value as printed (2 decimals). */
  double shown = value >= 0 ? (double)(long long)(value * 100.0 + 0.5) / 100.0 : value;
  int met = at_most ? shown <= limit : shown >= limit;
  printf("target %s: %.2fx (goal %s %s) %s%s%s\n", name, value, at_most ? "<=" : ">=", limit_s,
         met ? "met" : "missed", detail ? "  " : "", detail ? detail : "");
}

/* At 2 threads, the median of the per-round ratios: the two sides of a
 * round ran at most a minute or two apart, under about the same load, while
 * the medians of the two sides taken apart may come from rounds of
 * different load. Beside it: the ratios' range and quartiles, each side's
 * median with its extremes, and the ratio of those medians. */
static void ratio_verdict(const char *name, int mix, int other, const char *limit_s, double limit)
{
  int t2 = thread_index(2);
  double a = results[IMPL_SHMAP][mix][t2], b = results[other][mix][t2];
  const char *why = NULL;
  if (isnan(b))
    why = skip_why[other][0] ? skip_why[other] : "not measured";
  else if (isnan(a))
    why = skip_why[IMPL_SHMAP][0] ? skip_why[IMPL_SHMAP] : "siprec_shmap not measured";
  char detail[320] = "";
  spread sp = { 0, 0, 0, 0, 0 };
  if (!why) {
    double per[MAX_REPS];
    for (int r = 0; r < reps; r++)
      per[r] = runs[IMPL_SHMAP][mix][t2][r] / runs[other][mix][t2][r];
    spread sa = spread_of(runs[IMPL_SHMAP][mix][t2], reps);
    spread sb = spread_of(runs[other][mix][t2], reps);
    sp = spread_of(per, reps);
    snprintf(detail, sizeof detail,
             "[rounds %.2fx-%.2fx, IQR %.2fx-%.2fx; %s %.2f Mops/s (%.2f-%.2f) / %s %.2f "
             "(%.2f-%.2f) = %.2fx]",
             sp.min, sp.max, sp.q1, sp.q3, impl_names[IMPL_SHMAP], sa.med, sa.min, sa.max,
             impl_names[other], sb.med, sb.min, sb.max, a / b);
  }
  verdict(name, why ? 0 : sp.med, 0, limit_s, limit, why, detail);
}

/* One C measurement into runs[][][][rep]; on failure the implementation is
 * skipped from then on. */
static void measure_c(int a, int x, int ti, int rep, const keytab *ks, const char *helper,
                      const char *keys_abs, uint64_t ops)
{
  unsigned th = thread_counts[ti];
  double v;
  if (a == IMPL_SHMAP)
    v = measure_mops(&impl_shm, ks, x, th, ops);
  else if (a == IMPL_LFHT)
    v = measure_mops(&impl_lf, ks, x, th, ops);
  else
    v = run_rwlock_child(helper, keys_abs, x, th, ops, skip_why[a], sizeof skip_why[a]);
  if (!(v > 0)) {
    if (!skip_why[a][0])
      snprintf(skip_why[a], sizeof skip_why[a], "%s failed", impl_names[a]);
    return;
  }
  runs[a][x][ti][rep] = v;
  if (verbose)
    fprintf(stderr, "bench_shmap: %s %s %u rep %d: %.3f Mops/s\n", impl_names[a], mix_names[x],
            th, rep + 1, v);
}

int main(int argc, char **argv)
{
  const char *keys_path = BENCH_SHARED_DIR "/bench/callids.txt";
  const char *anchor_dir = BENCH_SHARED_DIR "/bench/anchors/syncmap";
  const char *helper = BENCH_RWLOCK_HELPER;
  int quick = 0, no_anchor = 0, only_mix = -1;
  uint64_t ops = 0, only_threads = 0, nreps = DEFAULT_REPS;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--quick") == 0) {
      quick = 1;
    } else if (strcmp(a, "--verbose") == 0) {
      verbose = 1;
    } else if (strcmp(a, "--no-anchor") == 0) {
      no_anchor = 1;
    } else if (i + 1 < argc && strcmp(a, "--keys") == 0) {
      keys_path = argv[++i];
    } else if (i + 1 < argc && strcmp(a, "--anchor") == 0) {
      anchor_dir = argv[++i];
    } else if (i + 1 < argc && strcmp(a, "--rwlock-helper") == 0) {
      helper = argv[++i];
    } else if (i + 1 < argc && strcmp(a, "--threads") == 0) {
      if (parse_u64(argv[++i], &only_threads) < 0 || thread_index((unsigned)only_threads) < 0) {
        fprintf(stderr, "bench_shmap: --threads takes 1, 2 or 8\n");
        usage(stderr);
        return 2;
      }
    } else if (i + 1 < argc && strcmp(a, "--mix") == 0) {
      if ((only_mix = parse_mix(argv[++i])) < 0) {
        fprintf(stderr, "bench_shmap: --mix takes read90, read50 or churn\n");
        usage(stderr);
        return 2;
      }
    } else if (i + 1 < argc && strcmp(a, "--reps") == 0) {
      if (parse_u64(argv[++i], &nreps) < 0 || nreps < 1 || nreps > MAX_REPS) {
        fprintf(stderr, "bench_shmap: --reps takes 1 to %d\n", MAX_REPS);
        usage(stderr);
        return 2;
      }
    } else if (i + 1 < argc && strcmp(a, "--ops") == 0) {
      if (parse_u64(argv[++i], &ops) < 0 || ops < 10 || ops > UINT64_C(1) << 40) {
        fprintf(stderr, "bench_shmap: bad --ops value\n");
        usage(stderr);
        return 2;
      }
    } else {
      fprintf(stderr, "bench_shmap: unknown or incomplete argument: %s\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (!ops)
    ops = quick ? QUICK_OPS : FULL_OPS;
  ops -= ops % 10; /* whole churn cycles */
  reps = (int)nreps;

  keytab ks;
  if (load_keys(keys_path, &ks) < 0) {
    fprintf(stderr, "bench_shmap: cannot read keys from %s: %s\n", keys_path, strerror(errno));
    return 1;
  }
  char *keys_abs = realpath(keys_path, NULL);
  if (!keys_abs) {
    fprintf(stderr, "bench_shmap: %s: %s\n", keys_path, strerror(errno));
    return 1;
  }
  lf_hkey = sr_siphash_key_from_bytes(bench_hash_key);
  for (int a = 0; a < N_IMPL; a++)
    for (int x = 0; x < N_MIX; x++)
      for (int t = 0; t < N_THREADS; t++) {
        results[a][x][t] = NAN;
        for (int r = 0; r < MAX_REPS; r++)
          runs[a][x][t][r] = NAN;
      }

  double t_start = now_sec();
  printf("# bench_shmap %s: keys=%zu ops/thread=%llu rounds=%d (median, interleaved) cpus=%ld\n",
         quick ? "quick" : "full", ks.n, (unsigned long long)ops, reps,
         sysconf(_SC_NPROCESSORS_ONLN));
  print_load("at start");
  fflush(stdout);

  /* Rounds: every C implementation on every mix and thread count, then the
   * Go anchor (all its maps, mixes and thread counts in one process), so
   * that a change of the machine's load hits every implementation alike. */
  if (access(helper, X_OK) != 0)
    snprintf(skip_why[IMPL_RWLOCK], sizeof skip_why[IMPL_RWLOCK], "rwlock helper not found");
  if (no_anchor)
    for (int a = IMPL_SYNCMAP; a < N_IMPL; a++)
      snprintf(skip_why[a], sizeof skip_why[a], "--no-anchor");
  rcu_register_thread(); /* the lfht maps are filled and emptied from here */
  for (int rep = 0; rep < reps; rep++) {
    fprintf(stderr, "bench_shmap: round %d/%d\n", rep + 1, reps);
    for (int x = 0; x < N_MIX; x++) {
      if (only_mix >= 0 && x != only_mix)
        continue;
      for (int ti = 0; ti < N_THREADS; ti++) {
        unsigned th = thread_counts[ti];
        if (only_threads ? th != only_threads : quick && th != 2)
          continue;
        for (int a = IMPL_SHMAP; a <= IMPL_LFHT; a++)
          if (!skip_why[a][0])
            measure_c(a, x, ti, rep, &ks, helper, keys_abs, ops);
      }
    }
    if (!skip_why[IMPL_SYNCMAP][0]) {
      char why[128];
      if (run_anchor_once(anchor_dir, keys_abs, ops, rep, why, sizeof why) < 0) {
        for (int a = IMPL_SYNCMAP; a < N_IMPL; a++)
          snprintf(skip_why[a], sizeof skip_why[a], "%s", why);
        fprintf(stderr, "bench_shmap: Go anchor skipped: %s\n", why);
      }
    }
  }
  rcu_unregister_thread();

  printf("impl\tmix\tthreads\tMops/s\tIQR\tmin-max\n");
  for (int x = 0; x < N_MIX; x++)
    for (int ti = 0; ti < N_THREADS; ti++)
      for (int a = 0; a < N_IMPL; a++) {
        if (skip_why[a][0])
          continue;
        results[a][x][ti] = spread_of(runs[a][x][ti], reps).med;
        if (!isnan(results[a][x][ti]))
          print_result(a, x, ti);
      }

  /* Ratios: this map's throughput over each other implementation's. */
  printf("# ratios: %s Mops/s / other Mops/s (medians)\n", impl_names[IMPL_SHMAP]);
  printf("ratio\tvs\tmix\tthreads\tx\n");
  for (int a = IMPL_SHMAP + 1; a < N_IMPL; a++)
    for (int x = 0; x < N_MIX; x++)
      for (int ti = 0; ti < N_THREADS; ti++) {
        double s = results[IMPL_SHMAP][x][ti], o = results[a][x][ti];
        if (!isnan(s) && !isnan(o))
          printf("ratio\t%s\t%s\t%u\t%.2fx\n", impl_names[a], mix_names[x], thread_counts[ti],
                 s / o);
      }
  fflush(stdout);

  /* Crafted keys against random keys of the same length. */
  uint64_t cops = ops < CRAFTED_MIN_OPS ? CRAFTED_MIN_OPS : ops;
  printf("# crafted-vs-random: %s, read90, 2 threads, %u keys, %llu ops/thread, median of the "
         "time ratios of %d alternating pairs\n",
         impl_names[IMPL_SHMAP], CRAFTED_KEYS, (unsigned long long)cops, reps);
  double crafted = -1;
  const char *crafted_why = NULL;
  {
    key_set low = { NULL, NULL, 0 }, coll = { NULL, NULL, 0 };
    key_set rnd40 = { NULL, NULL, 0 }, rndc = { NULL, NULL, 0 };
    double r1 = -1, r2 = -1;
    if (keys_fnv_low_bits(&low, CRAFTED_KEYS, 40, 7, 1) < 0 ||
        keys_random(&rnd40, CRAFTED_KEYS, 40, 2) < 0)
      printf("crafted-vs-random\tfnv-low-bits(len 40, 7 bits)\tskipped (key generation failed)\n");
    else
      r1 = crafted_ratio("fnv-low-bits(len 40, 7 bits)", &low, &rnd40, cops);
    if (keys_fnv_collisions(&coll, CRAFTED_KEYS, 3) < 0 ||
        keys_random(&rndc, CRAFTED_KEYS, coll.off[1] - coll.off[0], 4) < 0) {
      printf("crafted-vs-random\tfnv-collisions\tskipped (key generation failed)\n");
    } else {
      char label[64];
      snprintf(label, sizeof label, "fnv-collisions(len %zu)", coll.off[1] - coll.off[0]);
      r2 = crafted_ratio(label, &coll, &rndc, cops);
    }
    /* The larger of the ratios that could be measured. */
    crafted = r1 > r2 ? r1 : r2;
    if (crafted < 0)
      crafted_why = "no crafted key set could be measured";
    else if (r1 < 0 || r2 < 0)
      printf("# crafted-vs-random: only one of the two key sets measured\n");
    key_set_free(&low);
    key_set_free(&coll);
    key_set_free(&rnd40);
    key_set_free(&rndc);
  }

  print_load("at end");
  printf("# wall time %.1f s\n", now_sec() - t_start);
  ratio_verdict("read90-vs-syncmap", MIX_READ90, IMPL_SYNCMAP, "1.5x", 1.5);
  ratio_verdict("read90-vs-rwlock", MIX_READ90, IMPL_RWLOCK, "1.5x", 1.5);
  ratio_verdict("read50-vs-syncmap", MIX_READ50, IMPL_SYNCMAP, "2x", 2.0);
  ratio_verdict("churn-vs-syncmap", MIX_CHURN, IMPL_SYNCMAP, "2x", 2.0);
  ratio_verdict("read50-vs-lfht", MIX_READ50, IMPL_LFHT, "1.0x", 1.0);
  ratio_verdict("churn-vs-lfht", MIX_CHURN, IMPL_LFHT, "1.0x", 1.0);
  verdict("crafted-vs-random", crafted, 1, "1.2x", 1.2, crafted_why, NULL);

  free(keys_abs);
  keytab_free(&ks);
  return 0;
}
#endif
