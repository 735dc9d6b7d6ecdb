/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/shmap.h
 * siprec_shmap: a sharded, thread-safe map from byte-string keys to `void *`
 * values, with the operations of Go's sync.Map. libsiprec keeps its recording
 * sessions in one; hosts may use it on its own.
 *
 * Keys are (pointer, length) pairs, copied into the map: any bytes, NUL
 * included, and the empty key are valid keys. Values are opaque pointers
 * (NULL is a valid value).
 *
 * Design
 * ------
 * - The map is split into a power-of-two number of shards (default 32). A
 *   64-bit keyed hash of the key picks the shard from its top bits; the
 *   shard's own open-addressing table (Robin Hood linear probing, grown as it
 *   fills) uses the low bits, so the two choices are independent.
 * - Each slot is one 64-byte cache line holding the value, the key length and
 *   up to 54 key bytes inline, so a lookup of a typical SIP Call-ID touches one
 *   line of the table. Longer keys live in a separate allocation.
 * - Each shard has its own reader-writer lock; shards sit on separate cache
 *   lines. Readers announce themselves in a per-thread slot of the map (their
 *   own cache line), not in a shared counter, so concurrent readers do not
 *   bounce a cache line between cores; a writer waits for the readers of its
 *   shard to leave.
 *
 * The hash: SipHash-1-3, keyed per map
 * ------------------------------------
 * The map does not use FNV-1a, a common choice for such maps: keys (Call-IDs) come
 * from the network, and the low k bits of FNV-1a depend only on the low k bits
 * of each input byte, whatever the offset basis, so an attacker can send keys
 * that all land in one shard (or one probe chain) by varying only the high
 * bits of their bytes, and 32-bit FNV-1a multicollisions are cheap to build.
 * SipHash-1-3 with a 128-bit key drawn from getrandom() for each map makes the
 * placement unpredictable to a remote sender; its cost on a 50-byte Call-ID
 * is below byte-wise FNV-1a's (one 64-bit multiply per byte in a dependency
 * chain). The key can be fixed with siprec_shmap_options_set_hash_key() for
 * reproducible tests. Tests insert 100,000 crafted keys of both kinds and
 * check shard sizes and probe lengths against random keys.
 *
 * Return values: one convention
 * ------------------------------
 * Negative values are errors (SIPREC_E*, siprec/common.h). A function that
 * needs the key to be present (load, load-and-delete, delete,
 * compare-and-swap, compare-and-delete, inspect, update) returns
 * SIPREC_ENOTFOUND when it is absent, and changes nothing. Otherwise 1 means
 * "done" (found, removed, swapped, replaced, loaded), 0 the other outcome
 * that is no error (compare-and-*: present but not equal; swap, load-or-store,
 * load-or-compute: the key was inserted; store, clear: done). inspect and
 * update return their callback's value, which should be >= 0 to be told from
 * errors.
 *
 * Values and their destructor
 * ---------------------------
 * An optional destructor (siprec_shmap_options_set_value_free()) is called
 * exactly once for each value that leaves the map by delete, overwrite
 * (store, swap with `previous` NULL, update), compare-and-swap,
 * compare-and-delete, clear or siprec_shmap_free(), unless the operation
 * hands the value back to the caller (swap with a `previous` pointer,
 * load-and-delete; load-or-store that loaded leaves the offered value with
 * the caller). NULL is a value like any other: the destructor is called for
 * it too (with `value` NULL), in every one of these cases. Storing a value
 * over itself (store, swap without `previous`, compare-and-swap or update
 * with the pointer already there) destroys nothing.
 *
 * When the destructor runs: after the shard's lock is released, in the
 * thread that removed the value, before the removing call returns - unless a
 * range walk is visiting the value's shard at that moment (see "Range"), in
 * which case the last walk to leave the shard destroys it. So with no walk
 * running, a value deleted or overwritten is destroyed by the time delete,
 * store and the others return. Destructors run with no lock of this map held
 * by the call, so they may call the map (but when the removing call was made
 * from a callback of this map, or of another map, the locks of those outer
 * calls are still held: see "Callbacks").
 *
 * A value returned by load is not protected from a concurrent delete in
 * another thread: once the call returns, only the host's own discipline (or
 * reference counting in the value) keeps it alive. To use or change a value
 * while the map guarantees it alive, use siprec_shmap_inspect() (read lock),
 * siprec_shmap_update() (write lock) or siprec_shmap_load_or_compute() (its
 * factory runs under the write lock).
 *
 * Callbacks
 * ---------
 * The callbacks of inspect, update and load-or-compute and the equality
 * callback run under a shard lock of the map: they must be short, and any
 * call they make to a function of the same map that locks it (everything but
 * len, shard_count and shard_lens) fails with SIPREC_EBUSY instead of
 * deadlocking, and changes nothing. The library tracks, per thread, every
 * map whose lock the thread holds, at any depth of nesting: a callback of
 * map A may call map B, whose callback may call map C, and so on; a call to
 * any map already held further out in that chain (A from B's callback, for
 * instance) fails with SIPREC_EBUSY, while the outer locks stay held and
 * their values stay protected. No depth limit applies (the record of each
 * hold lives in the caller's stack frame).
 *
 * len, shard_count and shard_lens take no lock: they may be called from any
 * callback, of this map or another. shard_count is constant. len and
 * shard_lens read per-shard counts that a change publishes when it releases
 * its shard's lock, so inside an update or load-or-compute callback they do
 * not yet reflect the change under way (nor a concurrent one not yet
 * finished).
 *
 * Lock order: the map cannot see locks held in other threads. If thread 1
 * calls map B from a callback of map A while thread 2 calls map A from a
 * callback of map B, each may wait for the other's shard lock forever (the
 * classic lock-order deadlock, when the two shards' locks conflict: a write
 * lock against any other). Hosts that nest maps must nest them in one order
 * everywhere (A's callbacks may call B, B's never call A), or not nest.
 * Callbacks of range run with no lock held and are not concerned.
 *
 * Range
 * -----
 * siprec_shmap_range() walks the shards in order. For each shard it copies
 * the shard's entries under the read lock, releases the lock and then calls
 * the callback once per copied entry, with no lock held: the callback may
 * call any map function, from the same thread, including deleting the entry
 * it is visiting and storing new ones. What a walk sees:
 * - every key present for the whole walk is visited exactly once;
 * - a key inserted or deleted concurrently (or by the callback) may or may not
 *   be visited; a shard is copied at the moment the walk reaches it, so a key
 *   deleted after that is still visited, with the value it had then;
 * - every value handed to the callback is alive during the callback: values
 *   that leave a shard while a walk is visiting that shard are destroyed when
 *   the walk leaves the shard, not before. Deferring needs memory: while a walk
 *   visits a shard, an operation removing a value from it may fail with
 *   SIPREC_ENOMEM (and change nothing) if that memory cannot be allocated.
 *   This covers values the map destroys; a value handed back to a caller
 *   (swap, load-and-delete) is the caller's from then on, so a host that
 *   frees such values while walks run must let its walks finish first (or
 *   count references in its values).
 *
 * Thread safety: every function may be called concurrently from any number of
 * threads on the same map, except siprec_shmap_free(), which must be the last
 * call. Options objects are not thread-safe.
 *
 * Memory: all of a map's memory comes from its allocator hook. Outside it,
 * the library keeps one process-wide pthread key (created on first use) to
 * number the threads that use maps and recycle the number when a thread
 * exits; glibc may allocate for that key's per-thread storage itself.
 *
 * Complexity: load, store, delete and the other single-key operations are
 * O(1) on average and touch one shard; len is O(shards); range and clear are
 * O(entries + capacity).
 */
#ifndef SIPREC_SHMAP_H
#define SIPREC_SHMAP_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Stable API
 * ====================================================================== */

/** The map. Opaque. */
typedef struct siprec_shmap siprec_shmap;

/** Creation options. Opaque; built with the setters below. */
typedef struct siprec_shmap_options siprec_shmap_options;

/** Default number of shards. */
#define SIPREC_SHMAP_DEFAULT_SHARDS 32u
/** Largest accepted number of shards. */
#define SIPREC_SHMAP_MAX_SHARDS 65536u

/** Destructor for values leaving the map. */
typedef void (*siprec_shmap_value_free_cb)(void *value, void *user);

/** Value equality for compare-and-swap and compare-and-delete: non-zero when
 * `stored` (the value in the map) counts as equal to `expected`. */
typedef int (*siprec_shmap_value_equal_cb)(const void *stored, const void *expected,
                                           void *user);

/** Range callback: return 0 to continue the walk, non-zero to stop it (the
 * value is then returned by siprec_shmap_range()). A negative return also
 * stops the walk and is returned as it is, so it cannot be told from
 * siprec_shmap_range()'s own errors: stop with positive values and keep any
 * reason in `user`. */
typedef int (*siprec_shmap_range_cb)(const void *key, size_t key_len, void *value,
                                     void *user);

/** Callback of siprec_shmap_inspect(), run under the shard's read lock. Its
 * return value is returned by siprec_shmap_inspect(). */
typedef int (*siprec_shmap_inspect_cb)(const void *key, size_t key_len, void *value,
                                       void *user);

/** Callback of siprec_shmap_update(), run under the shard's write lock. It
 * may replace `*value`; the replaced value is then destroyed (after the lock
 * is released) like an overwrite. Its return value is returned by
 * siprec_shmap_update(). */
typedef int (*siprec_shmap_update_cb)(const void *key, size_t key_len, void **value,
                                      void *user);

/** Factory of siprec_shmap_load_or_compute(), run under the shard's write
 * lock, only when the key is absent: set `*value` (NULL on entry) to the
 * value to store and return 0 (any value >= 0), or return a negative value to
 * store nothing (siprec_shmap_load_or_compute() then returns it). Calls to
 * the same map from it fail with SIPREC_EBUSY. */
typedef int (*siprec_shmap_compute_cb)(const void *key, size_t key_len, void **value,
                                       void *user);

/**
 * Create an options object with the defaults: 32 shards, no destructor,
 * pointer-identity comparison, a random hash key.
 * @param out   receives the object
 * @param mem   allocator for the options object itself, or NULL
 * @return 0, SIPREC_EINVAL (out is NULL) or SIPREC_ENOMEM
 */
SIPREC_API int siprec_shmap_options_new(siprec_shmap_options **out, const siprec_allocator *mem);

/** Free an options object (NULL is accepted). Maps created from it are not
 * affected. */
SIPREC_API void siprec_shmap_options_free(siprec_shmap_options *opts);

/**
 * Set the shard count: a power of two from 1 to SIPREC_SHMAP_MAX_SHARDS.
 * @return 0 or SIPREC_EINVAL (NULL, out of range, or not a power of two:
 *         the count is never rounded)
 */
SIPREC_API int siprec_shmap_options_set_shards(siprec_shmap_options *opts, unsigned shards);

/**
 * Set the value destructor (NULL for none) and its user pointer.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_shmap_options_set_value_free(siprec_shmap_options *opts,
                                                   siprec_shmap_value_free_cb fn, void *user);

/**
 * Set the equality used by compare-and-swap and compare-and-delete (NULL:
 * pointer identity). It runs under the shard's write lock and must not call
 * the map.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_shmap_options_set_value_equal(siprec_shmap_options *opts,
                                                    siprec_shmap_value_equal_cb fn, void *user);

/**
 * Fix the 128-bit SipHash key instead of drawing one from getrandom().
 * Only for reproducible tests and benchmarks: a fixed, known key lets remote
 * senders choose colliding keys.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_shmap_options_set_hash_key(siprec_shmap_options *opts,
                                                 const uint8_t key[16]);

/**
 * Create a map.
 * @param out   receives the map
 * @param opts  options, or NULL for the defaults; copied, may be freed after
 * @param mem   allocator for all of the map's memory, or NULL for libc's
 * @return 0, SIPREC_EINVAL, SIPREC_ENOMEM or SIPREC_ERANDOM (no hash key
 *         could be drawn)
 */
SIPREC_API int siprec_shmap_new(siprec_shmap **out, const siprec_shmap_options *opts,
                                const siprec_allocator *mem);

/**
 * Destroy a map, calling the destructor for every value still in it. No
 * other call on the map may be running or follow. NULL is accepted.
 */
SIPREC_API void siprec_shmap_free(siprec_shmap *map);

/**
 * Look a key up.
 * @param value receives the value when found (may be NULL; untouched when
 *              the key is absent)
 * @return 1 found, SIPREC_ENOTFOUND absent, SIPREC_EINVAL or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_load(siprec_shmap *map, const void *key, size_t key_len, void **value);

/**
 * Set the value of a key, inserting it if absent. An overwritten value is
 * destroyed (before the call returns, unless a range walk visits the shard).
 * @return 0, SIPREC_EINVAL, SIPREC_ENOMEM or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_store(siprec_shmap *map, const void *key, size_t key_len, void *value);

/**
 * Return the existing value of a key, or store `value` if the key is absent.
 * @param actual receives the existing value (loaded) or `value` (stored); may
 *               be NULL
 * @return 1 loaded (`value` was not stored and stays the caller's), 0 stored,
 *         SIPREC_EINVAL, SIPREC_ENOMEM or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_load_or_store(siprec_shmap *map, const void *key, size_t key_len,
                                          void *value, void **actual);

/**
 * Return the existing value of a key, or, when the key is absent, store the
 * value `fn` makes. Unlike load-or-store, no value is made unless it will be
 * stored: `fn` is called at most once, under the shard's write lock, only
 * when the key is absent, and its value is in the map when the lock is
 * released (a concurrent caller for the same key waits and loads it; `fn` is
 * never called for a key that is present). Room for the key is made before
 * `fn` runs, so once `fn` has made its value nothing fails.
 * @param fn     the factory (see siprec_shmap_compute_cb); required
 * @param actual receives the existing value (loaded) or the stored one; may
 *               be NULL; untouched on error
 * @return 1 loaded (`fn` not called), 0 computed and stored, `fn`'s negative
 *         value (nothing stored), SIPREC_EINVAL, SIPREC_ENOMEM (before `fn`
 *         was called) or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_load_or_compute(siprec_shmap *map, const void *key, size_t key_len,
                                            siprec_shmap_compute_cb fn, void *user,
                                            void **actual);

/**
 * Remove a key and hand its value back to the caller (no destructor call).
 * @param value receives the value when the key was present (may be NULL,
 *              the value is then simply forgotten, not destroyed)
 * @return 1 removed, SIPREC_ENOTFOUND absent, SIPREC_EINVAL or
 *         SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_load_and_delete(siprec_shmap *map, const void *key, size_t key_len,
                                            void **value);

/**
 * Remove a key; its value is destroyed (before the call returns, unless a
 * range walk visits the shard).
 * @return 1 removed, SIPREC_ENOTFOUND absent, SIPREC_EINVAL, SIPREC_ENOMEM
 *         (only while a range walk visits the shard) or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_delete(siprec_shmap *map, const void *key, size_t key_len);

/**
 * Store `value` and hand the previous value, if any, back to the caller (no
 * destructor call).
 * @param previous receives the previous value (NULL when there was none).
 *                 May be NULL: nobody then takes the previous value, and it
 *                 is destroyed as by siprec_shmap_store() (not when it is
 *                 `value` itself)
 * @return 1 a previous value was replaced, 0 the key was inserted,
 *         SIPREC_EINVAL, SIPREC_ENOMEM (inserting; or, with `previous` NULL,
 *         while a range walk visits the shard) or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_swap(siprec_shmap *map, const void *key, size_t key_len, void *value,
                                 void **previous);

/**
 * Replace the value of a key by `new_value` if its current value equals
 * `old_value` (pointer identity, or the equality callback). The replaced
 * value is destroyed.
 * @return 1 swapped, 0 present but not equal, SIPREC_ENOTFOUND absent,
 *         SIPREC_EINVAL, SIPREC_ENOMEM or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_compare_and_swap(siprec_shmap *map, const void *key, size_t key_len,
                                             void *old_value, void *new_value);

/**
 * Remove a key if its value equals `old_value`; the value is destroyed.
 * @return 1 removed, 0 present but not equal, SIPREC_ENOTFOUND absent,
 *         SIPREC_EINVAL, SIPREC_ENOMEM or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_compare_and_delete(siprec_shmap *map, const void *key,
                                               size_t key_len, void *old_value);

/**
 * Call `fn` for the entries of the map (see "Range" above for what a walk
 * sees). The key pointer is valid during the call only.
 * @return 0 when the walk completed, the callback's non-zero value when it
 *         stopped the walk (returned as it is, negative values included: a
 *         callback that returns SIPREC_ENOMEM cannot be told from a failed
 *         copy, so stop with positive values), SIPREC_EINVAL, SIPREC_ENOMEM
 *         (copying a shard failed; the walk stops there) or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_range(siprec_shmap *map, siprec_shmap_range_cb fn, void *user);

/**
 * Remove every entry, destroying the values (after the map's locks are
 * released). All shards are emptied at one instant: a store that completes
 * after clear returns survives it, and none made before does.
 * @return 0, SIPREC_EINVAL, SIPREC_ENOMEM (nothing was removed) or
 *         SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_clear(siprec_shmap *map);

/**
 * Number of entries. Exact when no other thread modifies the map; otherwise
 * a value the count had, shard by shard, during the call. Takes no lock:
 * callable from any callback (see "Callbacks": a change under way in the
 * calling callback is not counted yet).
 * @return the count (0 for a NULL map)
 */
SIPREC_API size_t siprec_shmap_len(const siprec_shmap *map);

/** Number of shards of the map (0 for a NULL map). Constant; takes no lock. */
SIPREC_API unsigned siprec_shmap_shard_count(const siprec_shmap *map);

/**
 * Per-shard entry counts, for monitoring balance. Takes no lock: callable
 * from any callback, with the same view as siprec_shmap_len().
 * @param counts array receiving up to `n` counts, shard 0 first
 * @return the number of counts written, or SIPREC_EINVAL
 */
SIPREC_API int siprec_shmap_shard_lens(const siprec_shmap *map, size_t *counts, size_t n);

/**
 * Run `fn` on a key's value under the shard's read lock, so the value cannot
 * be removed or destroyed meanwhile. Calls to the same map from `fn` fail
 * with SIPREC_EBUSY (see "Callbacks").
 * @return `fn`'s return value when the key exists (callers should return
 *         values >= 0 from `fn` to tell them from errors), SIPREC_ENOTFOUND,
 *         SIPREC_EINVAL or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_inspect(siprec_shmap *map, const void *key, size_t key_len,
                                    siprec_shmap_inspect_cb fn, void *user);

/**
 * Run `fn` on a key's value under the shard's write lock; `fn` may replace
 * the value in place. Calls to the same map from `fn` fail with SIPREC_EBUSY
 * (see "Callbacks").
 * @return `fn`'s return value when the key exists, SIPREC_ENOTFOUND,
 *         SIPREC_EINVAL, SIPREC_ENOMEM (only while a range walk visits the
 *         shard and the value was replaced: the replacement is then undone)
 *         or SIPREC_EBUSY
 */
SIPREC_API int siprec_shmap_update(siprec_shmap *map, const void *key, size_t key_len,
                                   siprec_shmap_update_cb fn, void *user);

/* ======================================================================
 * Experimental API: declared only when the host defines SIPREC_EXPERIMENTAL;
 * may change in any release, without an ABI promise.
 * ====================================================================== */
#ifdef SIPREC_EXPERIMENTAL

/**
 * Probe statistics of one shard's table, for tests and tuning: entries,
 * slots, the sum and the maximum over entries of the distance between an
 * entry's slot and its home slot (0 when in place).
 * @return 0 or SIPREC_EINVAL (NULL map or shard out of range); any output
 *         pointer may be NULL
 */
SIPREC_API int siprec_shmap_shard_probe_stats(siprec_shmap *map, unsigned shard, size_t *entries,
                                              size_t *slots, size_t *dist_sum, size_t *dist_max);

#endif /* SIPREC_EXPERIMENTAL */

#ifdef __cplusplus
}
#endif

#endif
