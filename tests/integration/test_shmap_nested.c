/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Nested maps (issue 9, part 3): a callback of map A that calls map B, whose
 * callback calls A again, must get SIPREC_EBUSY from A (shmap.h,
 * "Callbacks") - not spin on A's writer flag, not return A's value while
 * dropping the thread's reader entry of A. Chains of maps of several depths,
 * inspect and update mixed; and the holds are per thread: other threads keep
 * using A (reading beside the held read lock, waiting for it to write).
 *
 * A scenario that deadlocks would hang the test: each one runs in its own
 * thread, and the test fails when it has not finished within WATCHDOG_S.
 * Worker threads never call ck_assert; they record the first failure.
 */
#include <siprec/shmap.h>

#include <check.h>

#include "check_main.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_S 20
#define MAX_DEPTH 40

static char failure[256];
static pthread_mutex_t failure_mu = PTHREAD_MUTEX_INITIALIZER;

#define FAIL_IF(cond, ...)                                                                         \
  do {                                                                                             \
    if (cond) {                                                                                    \
      pthread_mutex_lock(&failure_mu);                                                             \
      if (!failure[0])                                                                             \
        snprintf(failure, sizeof failure, __VA_ARGS__);                                            \
      pthread_mutex_unlock(&failure_mu);                                                           \
    }                                                                                              \
  } while (0)

/* Values: a heap object with a magic word, freed by the destructor after the
 * word is cleared, so a use after destruction is seen (and reported by ASan). */
#define MAGIC 0x5ca1ab1eu
typedef struct val {
  _Atomic unsigned magic;
} val;

static atomic_int destroyed;

static val *val_new(void)
{
  val *v = malloc(sizeof *v);
  ck_assert_ptr_nonnull(v);
  atomic_init(&v->magic, MAGIC);
  return v;
}

static void val_free(void *value, void *user)
{
  (void)user;
  if (value) {
    atomic_store(&((val *)value)->magic, 0);
    free(value);
  }
  atomic_fetch_add(&destroyed, 1);
}

static siprec_shmap *make_map(void)
{
  siprec_shmap_options *o;
  siprec_shmap *m;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, val_free, NULL), 0);
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  siprec_shmap_options_free(o);
  return m;
}

/* Run `fn(arg)` in a thread; fail the test if it has not returned within
 * the watchdog time (the thread is then left spinning: the process ends). */
typedef struct bounded {
  void *(*fn)(void *);
  void *arg;
  atomic_int done;
} bounded;

static void *bounded_main(void *p)
{
  bounded *b = p;
  b->fn(b->arg);
  atomic_store(&b->done, 1);
  return NULL;
}

static void run_bounded(const char *what, void *(*fn)(void *), void *arg)
{
  bounded b = { fn, arg, 0 };
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, bounded_main, &b), 0);
  for (int i = 0; i < WATCHDOG_S * 100 && !atomic_load(&b.done); i++)
    usleep(10000);
  ck_assert_msg(atomic_load(&b.done), "%s: did not return within %d s (deadlock)", what,
                WATCHDOG_S);
  pthread_join(th, NULL);
  ck_assert_msg(!failure[0], "%s: %s", what, failure);
}

/* ---------------------------------------------------------------------- */
/* The issue's minimal repro, verbatim apart from the result checks.        */

static siprec_shmap *A, *B;
static int repro_inner_rc;

static int in(const void *k, size_t l, void *v, void *u)
{
  (void)k, (void)l, (void)v, (void)u;
  repro_inner_rc = siprec_shmap_load(A, "a", 1, NULL);
  return repro_inner_rc;
}

static int via(const void *k, size_t l, void **v, void *u)
{
  (void)k, (void)l, (void)v, (void)u;
  return siprec_shmap_inspect(B, "b", 1, in, NULL);
}

static void *repro_main(void *arg)
{
  int *rc = arg;
  *rc = siprec_shmap_update(A, "a", 1, via, NULL);
  return NULL;
}

START_TEST(test_minimal_repro)
{
  failure[0] = 0;
  A = make_map();
  B = make_map();
  ck_assert_int_eq(siprec_shmap_store(A, "a", 1, val_new()), 0);
  ck_assert_int_eq(siprec_shmap_store(B, "b", 1, val_new()), 0);
  int rc = 12345;
  repro_inner_rc = 12345;
  run_bounded("A.update -> B.inspect -> A.load", repro_main, &rc);
  ck_assert_int_eq(repro_inner_rc, SIPREC_EBUSY);
  ck_assert_int_eq(rc, SIPREC_EBUSY); /* in() returned it, via() passed it on */
  /* Nothing was lost or left locked: both maps still work from here. */
  void *v;
  ck_assert_int_eq(siprec_shmap_load(A, "a", 1, &v), 1);
  ck_assert_int_eq(siprec_shmap_delete(A, "a", 1), 1);
  ck_assert_int_eq(siprec_shmap_load(B, "b", 1, &v), 1);
  siprec_shmap_free(A);
  siprec_shmap_free(B);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Chains: maps[0] --cb--> maps[1] --cb--> ... maps[depth-1]; the innermost
 * callback calls every map of the chain (all must say SIPREC_EBUSY) and one
 * map outside it (must work). Level i enters maps[i] with inspect or update
 * according to bit i of `updates`. The innermost call to an outer map is a
 * load, a store or an inspect (`inner_op`).                                 */

enum { OP_LOAD, OP_STORE, OP_INSPECT, N_OPS };

typedef struct chain {
  siprec_shmap *maps[MAX_DEPTH];
  siprec_shmap *outside;
  unsigned depth;
  unsigned long long updates;
  int inner_op;
  int rc_outer;
  /* Set by the innermost callback for the other thread of the reader test. */
  void (*at_bottom)(struct chain *);
  void *bottom_user;
  struct frame *frames[MAX_DEPTH]; /* each level's frame, innermost last */
} chain;

static int noop_inspect(const void *k, size_t l, void *v, void *u)
{
  (void)k, (void)l, (void)v, (void)u;
  return 0;
}

static int call_outer(chain *c, siprec_shmap *m)
{
  switch (c->inner_op) {
  case OP_LOAD:
    return siprec_shmap_load(m, "k", 1, NULL);
  case OP_STORE:
    return siprec_shmap_store(m, "k", 1, NULL);
  default:
    return siprec_shmap_inspect(m, "k", 1, noop_inspect, NULL);
  }
}

static int level(chain *c, unsigned i);

typedef struct frame {
  chain *c;
  unsigned i;
  void *value; /* the value held at this level, checked alive at the bottom */
} frame;

static int bottom(chain *c)
{
  for (unsigned j = 0; j < c->depth; j++) {
    int rc = call_outer(c, c->maps[j]);
    FAIL_IF(rc != SIPREC_EBUSY, "depth %u op %d: map %u of the chain gave %d, not SIPREC_EBUSY",
            c->depth, c->inner_op, j, rc);
  }
  void *v = NULL;
  int rc = siprec_shmap_load(c->outside, "k", 1, &v);
  FAIL_IF(rc != 1, "depth %u: a map outside the chain gave %d, not 1", c->depth, rc);
  if (c->at_bottom)
    c->at_bottom(c);
  /* Every outer value is still alive (no reader entry was dropped). */
  for (unsigned j = 0; j < c->depth; j++) {
    val *hv = c->frames[j]->value;
    FAIL_IF(atomic_load(&hv->magic) != MAGIC, "depth %u: the value held by level %u was destroyed",
            c->depth, j);
  }
  return 7;
}

static int on_inspect(const void *k, size_t l, void *v, void *u)
{
  (void)k, (void)l;
  frame *f = u;
  f->value = v;
  f->c->frames[f->i] = f;
  return level(f->c, f->i + 1);
}

static int on_update(const void *k, size_t l, void **v, void *u)
{
  (void)k, (void)l;
  frame *f = u;
  f->value = *v;
  f->c->frames[f->i] = f;
  return level(f->c, f->i + 1);
}

static int level(chain *c, unsigned i)
{
  if (i == c->depth)
    return bottom(c);
  frame f = { c, i, NULL };
  if (c->updates >> i & 1)
    return siprec_shmap_update(c->maps[i], "k", 1, on_update, &f);
  return siprec_shmap_inspect(c->maps[i], "k", 1, on_inspect, &f);
}

static void *chain_main(void *arg)
{
  chain *c = arg;
  c->rc_outer = level(c, 0);
  return NULL;
}

static void chain_setup(chain *c, unsigned depth)
{
  memset(c, 0, sizeof *c);
  c->depth = depth;
  for (unsigned i = 0; i < depth; i++) {
    c->maps[i] = make_map();
    ck_assert_int_eq(siprec_shmap_store(c->maps[i], "k", 1, val_new()), 0);
  }
  c->outside = make_map();
  ck_assert_int_eq(siprec_shmap_store(c->outside, "k", 1, val_new()), 0);
}

static void chain_teardown(chain *c)
{
  /* The locks were all released: every map still answers, from this thread. */
  for (unsigned i = 0; i < c->depth; i++) {
    ck_assert_int_eq(siprec_shmap_load(c->maps[i], "k", 1, NULL), 1);
    ck_assert_int_eq(siprec_shmap_store(c->maps[i], "k", 1, val_new()), 0);
    siprec_shmap_free(c->maps[i]);
  }
  siprec_shmap_free(c->outside);
}

static const unsigned depths[] = { 1, 2, 3, 4, 8, MAX_DEPTH };

/* Every depth, each inner operation, inspect-only, update-only and mixed
 * chains. */
START_TEST(test_chains)
{
  static const unsigned long long patterns[] = { 0, ~0ull, 0x5555555555555555ull,
                                                 0xaaaaaaaaaaaaaaaaull, 1 };
  for (size_t d = 0; d < sizeof depths / sizeof *depths; d++) {
    for (int op = 0; op < N_OPS; op++) {
      for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
        failure[0] = 0;
        chain c;
        chain_setup(&c, depths[d]);
        c.updates = patterns[p];
        c.inner_op = op;
        char what[96];
        snprintf(what, sizeof what, "chain depth %u, op %d, pattern %zu", depths[d], op, p);
        run_bounded(what, chain_main, &c);
        ck_assert_msg(c.rc_outer == 7, "%s: returned %d", what, c.rc_outer);
        chain_teardown(&c);
      }
    }
  }
}
END_TEST

/* The issue's three cases by name (depth 2; the chains cover them too). */
START_TEST(test_issue_cases)
{
  struct {
    const char *name;
    unsigned long long updates;
    int op;
  } cases[] = {
    { "A.update -> B.inspect -> A.load", 1, OP_LOAD },
    { "A.inspect -> B.inspect -> A.store", 0, OP_STORE },
    { "A.inspect -> B.inspect -> A.load", 0, OP_LOAD },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    failure[0] = 0;
    chain c;
    chain_setup(&c, 2);
    c.updates = cases[i].updates;
    c.inner_op = cases[i].op;
    run_bounded(cases[i].name, chain_main, &c);
    ck_assert_msg(c.rc_outer == 7, "%s: returned %d", cases[i].name, c.rc_outer);
    chain_teardown(&c);
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The reader entry is kept: A.inspect -> B.inspect -> A.load (EBUSY), then,
 * still inside, another thread deletes A's key (a freeing destructor). The
 * delete must wait for A's read lock to go, so the value stays alive until
 * the outer callback returns. Before the fix the nested load cleared the
 * thread's reader entry and the delete freed the value under the callback. */

typedef struct deleter {
  siprec_shmap *map;
  atomic_int started, finished;
  int rc;
} deleter;

static void *deleter_main(void *arg)
{
  deleter *d = arg;
  atomic_store(&d->started, 1);
  d->rc = siprec_shmap_delete(d->map, "k", 1);
  atomic_store(&d->finished, 1);
  return NULL;
}

static void start_deleter(chain *c)
{
  deleter *d = c->bottom_user;
  pthread_t th;
  FAIL_IF(pthread_create(&th, NULL, deleter_main, d) != 0, "pthread_create failed");
  while (!atomic_load(&d->started))
    usleep(1000);
  usleep(100000); /* time enough for an unblocked delete to finish */
  FAIL_IF(atomic_load(&d->finished), "a delete of the key finished while its read lock is held");
  FAIL_IF(atomic_load(&destroyed) != 0, "the held value was destroyed under its callback");
  /* Another thread may read the key meanwhile (the hold is this thread's). */
  pthread_detach(th);
}

START_TEST(test_reader_entry_kept)
{
  for (size_t d = 1; d < sizeof depths / sizeof *depths; d++) {
    failure[0] = 0;
    chain c;
    chain_setup(&c, depths[d]);
    c.updates = 0; /* read locks all the way: the case that lost its entry */
    c.inner_op = OP_LOAD;
    deleter del = { c.maps[0], 0, 0, 12345 };
    c.at_bottom = start_deleter;
    c.bottom_user = &del;
    atomic_store(&destroyed, 0);
    run_bounded("reader entry kept", chain_main, &c);
    ck_assert_int_eq(c.rc_outer, 7);
    /* The outer read lock is gone now: the delete completes. */
    for (int i = 0; i < WATCHDOG_S * 100 && !atomic_load(&del.finished); i++)
      usleep(10000);
    ck_assert_msg(atomic_load(&del.finished), "the delete never completed");
    ck_assert_int_eq(del.rc, 1);
    ck_assert_int_eq(atomic_load(&destroyed), 1);
    ck_assert_int_eq(siprec_shmap_store(c.maps[0], "k", 1, val_new()), 0);
    chain_teardown(&c);
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Holds are per thread: while thread 1 sits at the bottom of a read chain,
 * thread 2 reads every map of it (shared read locks) and runs chains of its
 * own through the same maps; both see SIPREC_EBUSY only for their own holds.
 * Both threads loop, so TSan sees the hold lists of two threads at once. */

typedef struct pair_ctx {
  chain c;
  pthread_barrier_t *bar;
  unsigned rounds;
} pair_ctx;

static void meet(chain *c)
{
  pair_ctx *p = c->bottom_user;
  pthread_barrier_wait(p->bar); /* both at the bottom of their chains */
  pthread_barrier_wait(p->bar);
}

static void *pair_main(void *arg)
{
  pair_ctx *p = arg;
  for (unsigned r = 0; r < p->rounds; r++) {
    p->c.inner_op = (int)(r % 2 ? OP_INSPECT : OP_LOAD);
    p->c.rc_outer = level(&p->c, 0);
    FAIL_IF(p->c.rc_outer != 7, "round %u returned %d", r, p->c.rc_outer);
  }
  return NULL;
}

static void *pair_both(void *arg)
{
  pair_ctx *p = arg;
  pthread_t th;
  FAIL_IF(pthread_create(&th, NULL, pair_main, &p[1]) != 0, "pthread_create failed");
  pair_main(&p[0]);
  pthread_join(th, NULL);
  return NULL;
}

START_TEST(test_two_threads_same_maps)
{
  failure[0] = 0;
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, 2);
  pair_ctx p[2];
  chain_setup(&p[0].c, 4);
  p[1].c = p[0].c; /* the same maps, in the same order (no lock-order cycle) */
  for (int i = 0; i < 2; i++) {
    p[i].bar = &bar;
    p[i].rounds = 50;
    p[i].c.updates = 0; /* read locks: both threads hold them at once */
    p[i].c.at_bottom = meet;
    p[i].c.bottom_user = &p[i];
  }
  run_bounded("two threads, same maps", pair_both, p);
  pthread_barrier_destroy(&bar);
  chain_teardown(&p[0].c);
}
END_TEST

static Suite *nested_suite(void)
{
  Suite *s = suite_create("shmap_nested");
  TCase *tc = tcase_create("nested");
  tcase_set_timeout(tc, 280);
  tcase_add_test(tc, test_minimal_repro);
  tcase_add_test(tc, test_issue_cases);
  tcase_add_test(tc, test_chains);
  tcase_add_test(tc, test_reader_entry_kept);
  tcase_add_test(tc, test_two_threads_same_maps);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(nested_suite());
}
