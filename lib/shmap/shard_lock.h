/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-shard reader-writer lock.
 *
 * Readers do not write to the shard: a reader announces itself by storing the
 * shard's number in its own thread's line of the map (sr_reader), then checks
 * the shard's writer flag; a writer sets the flag, then waits until no
 * announced reader names its shard. Both sides use sequentially consistent
 * store-then-load (Dekker), so either the reader sees the flag and backs off,
 * or the writer sees the reader and waits. Readers on different cores thus
 * never bounce a cache line between them; only writes move lines.
 *
 * Threads without an index (more than SR_THREAD_SLOTS at once) count
 * themselves in the shard's shared `overflow_readers` instead.
 *
 * Building with SR_SHMAP_PTHREAD_LOCK swaps in a pthread_rwlock_t per shard:
 * the benchmark's single-lock baseline uses it. */
#ifndef SR_SHMAP_SHARD_LOCK_H
#define SR_SHMAP_SHARD_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#ifdef SR_SHMAP_PTHREAD_LOCK
#include <pthread.h>
#endif

#include <siprec/common.h>

#include "thread_slot.h"

typedef struct sr_reader {
  /* Shard number + 1 while this thread reads a shard of this map. */
  _Atomic uint32_t reading;
  char pad[60];
} sr_reader;

_Static_assert(sizeof(sr_reader) == 64, "one reader per cache line");

typedef struct sr_lock {
#ifdef SR_SHMAP_PTHREAD_LOCK
  pthread_rwlock_t rw;
#else
  _Atomic uint32_t writer;
  _Atomic uint32_t overflow_readers;
#endif
} sr_lock;

static inline void sr_cpu_relax(unsigned *spins)
{
  if (++*spins < 128) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
  } else {
    /* The holder may have been preempted: let it run. */
    sched_yield();
  }
}

/* Who is asking: the thread's reader line in this map, or NULL. */
static inline sr_reader *sr_lock_self(sr_reader *readers)
{
  int slot = sr_thread_slot_get();
  return slot >= 0 ? &readers[slot] : NULL;
}

/* Non-zero when this thread already holds a lock of the map whose readers
 * array is `owner`, at any depth of nesting: a call from a callback run under
 * that lock (directly, or through callbacks of other maps), which would spin
 * on its own writer flag or overwrite its own reader line. Works for threads
 * without a reader line too. The list is as long as the nesting: empty in
 * the common case. */
static inline int sr_lock_nested(const void *owner)
{
  for (const sr_hold *h = sr_thread_holds; h; h = h->outer)
    if (h->map == owner)
      return 1;
  return 0;
}

/* Record that this thread holds a lock of `owner` until sr_lock_release(h);
 * `h` lives in the caller's frame for that long. */
static inline void sr_lock_hold(sr_hold *h, const void *owner)
{
  h->map = owner;
  h->outer = sr_thread_holds;
  sr_thread_holds = h;
}

static inline void sr_lock_release(const sr_hold *h)
{
  sr_thread_holds = h->outer;
}

#ifdef SR_SHMAP_PTHREAD_LOCK

static inline int sr_lock_init(sr_lock *l)
{
  return pthread_rwlock_init(&l->rw, NULL) == 0 ? 0 : SIPREC_ENOMEM;
}
static inline void sr_lock_destroy(sr_lock *l)
{
  pthread_rwlock_destroy(&l->rw);
}
static inline void sr_lock_read(sr_lock *l, sr_reader *self, uint32_t id)
{
  (void)self;
  (void)id;
  pthread_rwlock_rdlock(&l->rw);
}
static inline void sr_unlock_read(sr_lock *l, sr_reader *self)
{
  (void)self;
  pthread_rwlock_unlock(&l->rw);
}
static inline void sr_lock_write(sr_lock *l, sr_reader *readers, uint32_t id)
{
  (void)readers;
  (void)id;
  pthread_rwlock_wrlock(&l->rw);
}
static inline void sr_unlock_write(sr_lock *l)
{
  pthread_rwlock_unlock(&l->rw);
}

#else

static inline int sr_lock_init(sr_lock *l)
{
  atomic_init(&l->writer, 0);
  atomic_init(&l->overflow_readers, 0);
  return 0;
}
static inline void sr_lock_destroy(sr_lock *l)
{
  (void)l;
}

static inline void sr_wait_no_writer(sr_lock *l)
{
  unsigned spins = 0;
  while (atomic_load_explicit(&l->writer, memory_order_relaxed))
    sr_cpu_relax(&spins);
}

/* `id` is the shard number + 1. */
static inline void sr_lock_read(sr_lock *l, sr_reader *self, uint32_t id)
{
  if (self) {
    for (;;) {
      atomic_store(&self->reading, id);
      if (!atomic_load(&l->writer))
        return;
      atomic_store_explicit(&self->reading, 0, memory_order_relaxed);
      sr_wait_no_writer(l);
    }
  }
  for (;;) {
    atomic_fetch_add(&l->overflow_readers, 1);
    if (!atomic_load(&l->writer))
      return;
    atomic_fetch_sub_explicit(&l->overflow_readers, 1, memory_order_relaxed);
    sr_wait_no_writer(l);
  }
}

static inline void sr_unlock_read(sr_lock *l, sr_reader *self)
{
  if (self)
    atomic_store_explicit(&self->reading, 0, memory_order_release);
  else
    atomic_fetch_sub_explicit(&l->overflow_readers, 1, memory_order_release);
}

static inline void sr_lock_write(sr_lock *l, sr_reader *readers, uint32_t id)
{
  unsigned spins = 0;
  for (;;) {
    uint32_t expected = 0;
    if (!atomic_load_explicit(&l->writer, memory_order_relaxed) &&
        atomic_compare_exchange_weak(&l->writer, &expected, 1))
      break;
    sr_cpu_relax(&spins);
  }
  uint64_t used = atomic_load(&sr_thread_slots_used);
  while (used) {
    int i = __builtin_ctzll(used);
    used &= used - 1;
    spins = 0;
    while (atomic_load(&readers[i].reading) == id)
      sr_cpu_relax(&spins);
  }
  spins = 0;
  while (atomic_load(&l->overflow_readers))
    sr_cpu_relax(&spins);
}

static inline void sr_unlock_write(sr_lock *l)
{
  atomic_store_explicit(&l->writer, 0, memory_order_release);
}

#endif

#endif
