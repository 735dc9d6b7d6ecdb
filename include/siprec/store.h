/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/store.h
 * Session snapshots and the store a host keeps them in: what makes a
 * recording session survive the process, or the machine, that holds it.
 *
 * The handler (siprec/handler.h) writes a session's whole state as a
 * snapshot and hands it to the host's snapshot callback
 * (siprec_handler_callbacks_set_snapshot()) whenever that state changes:
 * at once on every signalling change (a request taken, a response sent, a
 * transaction or timer moving on), on media latching, SSRC and SRTP
 * rollover changes; the media positions at most every
 * siprec_handler_config_set_snapshots() interval. When the session ends the
 * callback is called with no bytes: the snapshot may be deleted. The host
 * persists the bytes under the snapshot's key (the session's Call-ID) in
 * a store of its own (files, Redis: the example server has both); the
 * library does no I/O.
 *
 * Restoring: siprec_handler_restore() takes a snapshot into a handler (in
 * another process, on another machine), which then answers the session's
 * next requests exactly as the first one would have. With snapshots
 * enabled, a request for a dialog the handler does not hold is not
 * answered 481 at once: siprec_handler_process() returns
 * SIPREC_PROCESS_STATE_WANTED with the dialog's key in its output buffer;
 * the host fetches that snapshot, restores it and feeds the request again,
 * or, when its store has none, feeds it with siprec_handler_process_absent()
 * (481).
 *
 * The format: records (tag, length, value) after a magic and a format
 * version, checksummed. A reader skips records it does not know and keeps
 * defaults for those missing, so every later library version reads the
 * snapshots of every earlier one; a newer format version than the library
 * reads is refused (SIPREC_ETOOBIG) rather than half-read. SRTP master keys
 * are sealed (XChaCha20-Poly1305, libsodium) under the key the operator sets
 * with siprec_handler_config_set_snapshot_key(): a store shared by several
 * machines holds no usable secret. Without a key (or in a build without
 * libsodium) a snapshot carries no SRTP key, and a restored SRTP stream
 * counts its packets as SRTP failures until the SRC offers new keys.
 *
 * Thread safety: the snapshot functions are pure and safe from any thread.
 * A siprec_store is as thread-safe as the implementation behind it; the
 * dispatchers add nothing.
 */
#ifndef SIPREC_STORE_H
#define SIPREC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Stable API
 * ====================================================================== */

/** The snapshot format version this library writes (it reads 1 to this). */
#define SIPREC_SNAPSHOT_VERSION 1

/** The length of the key that seals snapshots' secrets. */
#define SIPREC_SNAPSHOT_KEY_LEN 32

/** What a snapshot says about itself, read without restoring it. */
typedef struct siprec_snapshot_info {
  unsigned version;  /**< its format version */
  char key[256];     /**< its store key (the session's Call-ID; longer ones are cut) */
  size_t key_len;    /**< the key's whole length (may exceed sizeof key - 1) */
  char session_id[33]; /**< the session's id (siprec_session_id()) */
  uint64_t wall_ns;  /**< when it was written: UTC, ns since 1970 */
  int has_secrets;   /**< it carries sealed SRTP keys */
} siprec_snapshot_info;

/**
 * Read a snapshot's header records: is it whole (checksum), which format,
 * which session. Cheap: nothing of the session is built.
 * @return 0, SIPREC_EINVAL (NULL arguments), SIPREC_EPARSE (not a snapshot,
 *         truncated or corrupted) or SIPREC_ETOOBIG (a newer format version)
 */
SIPREC_API int siprec_snapshot_inspect(const void *data, size_t len, siprec_snapshot_info *info);

/* ---------------------------------------------------------------------- */
/* The store interface hosts implement                                     */

/** A store: a host's implementation behind a table of operations. */
typedef struct siprec_store siprec_store;

/**
 * How an operation ended, called exactly once per operation that returned 0
 * (from whatever thread the implementation completes on): `status` 0 or a
 * SIPREC_E* code (SIPREC_ENOTFOUND: no such key); for get, the value (valid
 * during the call only); otherwise data NULL, len 0.
 */
typedef void (*siprec_store_done_cb)(void *arg, int status, const void *data, size_t len);

/** A key found by scan (valid during the call only). */
typedef void (*siprec_store_key_cb)(void *arg, const char *key, size_t key_len);

/**
 * The operations a store implements. Each starts the operation and returns
 * 0 (the done callback follows, possibly before it returns) or a SIPREC_E*
 * code (no callback). None may block a host's event loop: an implementation
 * does its I/O on its own threads or asynchronously. Keys are byte strings
 * of 1 to 1024 bytes.
 */
typedef struct siprec_store_ops {
  /** sizeof(siprec_store_ops) as the host compiled it: the library reads
   * only the members that size includes, so the table grows compatibly. */
  size_t size;
  /** Replace the value of `key` (atomically: a reader sees the old value or the new). */
  int (*put)(void *impl, const char *key, size_t key_len, const void *data, size_t len,
             siprec_store_done_cb done, void *arg);
  /** Read the value of `key`. */
  int (*get)(void *impl, const char *key, size_t key_len, siprec_store_done_cb done, void *arg);
  /** Delete `key` (a missing key is not an error). */
  int (*del)(void *impl, const char *key, size_t key_len, siprec_store_done_cb done, void *arg);
  /** Call `each` for every key, then `done` once. */
  int (*scan)(void *impl, siprec_store_key_cb each, siprec_store_done_cb done, void *arg);
  /** Release the implementation (no operation may be pending). May be NULL. */
  void (*close)(void *impl);
} siprec_store_ops;

/**
 * Wrap an implementation. `ops` is copied; put, get, del and scan are
 * required.
 * @return 0, SIPREC_EINVAL or SIPREC_ENOMEM
 */
SIPREC_API int siprec_store_new(siprec_store **out, const siprec_store_ops *ops, void *impl,
                                const siprec_allocator *mem);

/** Close the implementation and free the store (NULL is accepted). */
SIPREC_API void siprec_store_free(siprec_store *st);

/** Start a put (see siprec_store_ops). @return 0, SIPREC_EINVAL (a key
 * that is empty or longer than 1024 bytes, NULL arguments) or the
 * implementation's code */
SIPREC_API int siprec_store_put(siprec_store *st, const char *key, size_t key_len,
                                const void *data, size_t len, siprec_store_done_cb done,
                                void *arg);

/** Start a get. @return as siprec_store_put() */
SIPREC_API int siprec_store_get(siprec_store *st, const char *key, size_t key_len,
                                siprec_store_done_cb done, void *arg);

/** Start a delete. @return as siprec_store_put() */
SIPREC_API int siprec_store_del(siprec_store *st, const char *key, size_t key_len,
                                siprec_store_done_cb done, void *arg);

/** Start a scan. @return as siprec_store_put() */
SIPREC_API int siprec_store_scan(siprec_store *st, siprec_store_key_cb each,
                                 siprec_store_done_cb done, void *arg);

#ifdef __cplusplus
}
#endif

#endif
