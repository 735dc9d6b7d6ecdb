/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "thread_slot.h"

#include <pthread.h>
#include <stdint.h>

/* Read by every writer of every map: a line of its own, so that no
 * neighbouring variable written often (of the library or of the host it is
 * linked into) makes those reads miss. */
sr_slots_used_line sr_thread_slots_used_line;

enum { SLOT_UNSET = -2, SLOT_NONE = -1 };

/* initial-exec: one int, read on every lock; the general-dynamic model would
 * cost a __tls_get_addr call per operation. */
static __thread int tls_slot __attribute__((tls_model("initial-exec"))) = SLOT_UNSET;

__thread const sr_hold *sr_thread_holds __attribute__((tls_model("initial-exec")));

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static int key_ok;

static void release_slot(void *arg)
{
  int slot = (int)(intptr_t)arg - 1;
  /* Later exit handlers of this thread that use a map take the shared path:
   * the index may already belong to a new thread. */
  tls_slot = SLOT_NONE;
  atomic_fetch_and(&sr_thread_slots_used, ~(UINT64_C(1) << slot));
}

static void make_key(void)
{
  key_ok = pthread_key_create(&exit_key, release_slot) == 0;
}

static int claim_slot(void)
{
  pthread_once(&key_once, make_key);
  if (!key_ok)
    return SLOT_NONE;
  uint64_t used = atomic_load(&sr_thread_slots_used);
  for (;;) {
    if (used == UINT64_MAX)
      return SLOT_NONE;
    int slot = __builtin_ctzll(~used);
    /* seq_cst: the claim must precede, in the single total order, this
     * thread's first announcement as a reader (see shard_lock.h). */
    if (atomic_compare_exchange_weak(&sr_thread_slots_used, &used, used | (UINT64_C(1) << slot))) {
      if (pthread_setspecific(exit_key, (void *)(intptr_t)(slot + 1)) != 0) {
        atomic_fetch_and(&sr_thread_slots_used, ~(UINT64_C(1) << slot));
        return SLOT_NONE;
      }
      return slot;
    }
  }
}

int sr_thread_slot_get(void)
{
  int s = tls_slot;
  if (__builtin_expect(s == SLOT_UNSET, 0)) {
    s = claim_slot();
    tls_slot = s;
  }
  return s;
}
