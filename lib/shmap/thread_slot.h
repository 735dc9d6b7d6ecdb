/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Process-wide numbering of the threads that use maps: each thread gets a
 * small index of its own, recycled when the thread exits, so a map can give
 * every reader thread its own cache line to announce itself in. */
#ifndef SR_SHMAP_THREAD_SLOT_H
#define SR_SHMAP_THREAD_SLOT_H

#include <stdatomic.h>
#include <stdint.h>

/* Number of indexed threads; threads beyond it use a shared counter. */
#define SR_THREAD_SLOTS 64

/* Bit i is set while index i belongs to a live thread. Writers read it to
 * learn which reader lines to check. */
typedef struct sr_slots_used_line {
  _Alignas(64) _Atomic uint64_t bits;
} sr_slots_used_line;
extern sr_slots_used_line sr_thread_slots_used_line;
#define sr_thread_slots_used (sr_thread_slots_used_line.bits)

/* What this thread holds: one entry per map operation under way in it whose
 * shard lock is taken, innermost first. The entries live in the frames of
 * the operations themselves (a callback of map A calling map B, whose
 * callback calls C, ... nests one frame per call), so any depth of nesting
 * is tracked without allocating and without a limit. */
typedef struct sr_hold {
  const void *map; /* the map's readers array */
  const struct sr_hold *outer;
} sr_hold;

extern __thread const sr_hold *sr_thread_holds __attribute__((tls_model("initial-exec")));

/* This thread's index, or -1 when none is available (all taken, thread
 * exiting, or thread-specific data could not be set up). */
int sr_thread_slot_get(void);

#endif
