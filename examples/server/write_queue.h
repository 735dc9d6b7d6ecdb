/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-key ordering both of siprec-server's snapshot stores need (files,
 * state_store.h; Redis, redis_store.h): at most one write (a put or a
 * delete) in flight per key; while it is, a newer one waits, and a still
 * newer one replaces the waiting one: a snapshot is a session's whole
 * state, so only the newest bytes matter, and a delete after a put lands
 * after it. Each write's done callback is called exactly once, from the
 * loop: a replaced one's when the write that replaced it lands, with its
 * status.
 *
 * The backend starts writes (`start`) and reports each one's end with
 * wq_landed(). A backend that cannot write now (Redis unreachable) says so
 * (WQ_LATER): the write waits, and wq_kick_all() starts what waits once it
 * can. With `keep` set, a key whose last write was a put stays known with
 * its value after it landed (wq_each_kept(), wq_rewrite_all()): what a
 * store that lost its data (a Redis restarted empty) is written again
 * from.
 *
 * Keys come from the network (Call-IDs): the table is a siprec_shmap,
 * whose keyed hash they cannot aim at one bucket. Loop thread only.
 */
#ifndef SIPREC_SERVER_WRITE_QUEUE_H
#define SIPREC_SERVER_WRITE_QUEUE_H

#include <stddef.h>

#include <siprec/store.h>

enum wq_kind { WQ_NONE = 0, WQ_PUT, WQ_DEL };

/* start's "not now": the write waits for wq_kick_all(). */
#define WQ_LATER 1

struct write_queue;
struct wq_slot;

/** Start writing `kind` (WQ_PUT with data/len, WQ_DEL) of `key`; its end
 * is reported with wq_landed(q, slot, status). The data stays valid until
 * then. @return 0 (started), WQ_LATER, or a SIPREC_E* code (the write
 * failed: its waiters get that code) */
typedef int (*wq_start_fn)(void *backend, struct wq_slot *slot, int kind, const char *key,
                           size_t key_len, const void *data, size_t len);

/** A new queue (`keep`: remember landed puts; see above). NULL: no memory. */
struct write_queue *wq_new(wq_start_fn start, void *backend, int keep);

/** Free the queue: waiting writes are dropped, their callbacks never called
 * (by contract nothing is pending). */
void wq_free(struct write_queue *q);

/** Queue a put (data copied) or a delete of `key` (1 to 1024 bytes).
 * @return 0 (done follows), SIPREC_EINVAL or SIPREC_ENOMEM */
int wq_write(struct write_queue *q, const char *key, size_t key_len, int kind, const void *data,
             size_t len, siprec_store_done_cb done, void *arg);

/** The backend: the write started on `slot` ended with `status`. */
void wq_landed(struct write_queue *q, struct wq_slot *slot, int status);

/** The newest value given for `key`, landed or not: WQ_PUT (*data, *len
 * set, valid until the next call on the queue), WQ_DEL, or WQ_NONE (the
 * queue knows nothing of it: ask the backend). */
int wq_newest(struct write_queue *q, const char *key, size_t key_len, const void **data,
              size_t *len);

/** Start every write that waits (after a WQ_LATER, once the backend can). */
void wq_kick_all(struct write_queue *q);

/** keep: write every kept key's value again (the store lost it). */
void wq_rewrite_all(struct write_queue *q);

/** keep: `fn` for every kept key (its value landed or on its way). */
void wq_each_kept(struct write_queue *q, void (*fn)(void *arg, const char *key, size_t key_len),
                  void *arg);

/** keep: forget `key`'s kept value (the key is not this node's any more);
 * writes on their way are left to land. */
void wq_forget(struct write_queue *q, const char *key, size_t key_len);

/** Writes given and not yet done (for a shutdown's wait). */
size_t wq_pending(const struct write_queue *q);

/** Keys known: with writes on their way, or kept. */
size_t wq_keys(const struct write_queue *q);

#endif
