/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's snapshot store on files (--state DIR): the siprec_store
 * (siprec/store.h) the handler's snapshots are kept in, so that a server
 * killed mid-call and started again restores its sessions.
 *
 * Layout. One file per key in DIR (made mode 0700), mode 0600, named from
 * the key (a Call-ID: any bytes, 1 to 1024 of them) so that any key makes
 * a safe and unique name: "k" and the key in hex when it has at most
 * STATE_STORE_HEX_MAX bytes, else "h" and the SHA-256 of the key in hex
 * (nettle). A file holds a header ("SRS1", the key's length as 4 bytes big
 * endian, the key) and the value: the key read back names hashed files in
 * a scan, and a get checks it. Other names in DIR (the seal key, bad/) are
 * not the store's.
 *
 * Crash safety. A put writes DIR/NAME.tmp, fsyncs it, renames it over
 * DIR/NAME and fsyncs the directory: a reader finds the old value or the
 * new one, never a part, whenever the process dies. Nothing ever reads a
 * .tmp file; those a killed process left are removed by state_store_open()
 * (before the loop runs).
 *
 * Never on the loop. Every file operation after the open runs on libuv's
 * thread pool (uv_queue_work); completions come back on the loop thread.
 * Writes per key are coalesced and ordered: at most one is in flight per
 * key; while it is, a newer put or delete waits, and a still newer one
 * replaces the waiting one (the newest bytes win; a delete after a put
 * lands after it). Each operation's done callback is called once, from the
 * loop: a replaced one's when the operation that replaced it lands, with
 * its status. A get sees the newest value given, even one not yet on disk.
 *
 * Loop thread only (the pool's threads touch only their own requests).
 */
#ifndef SIPREC_SERVER_STATE_STORE_H
#define SIPREC_SERVER_STATE_STORE_H

#include <stddef.h>
#include <uv.h>

#include <siprec/store.h>

/* Keys up to this many bytes are named by their hex form (2 * 64 + 1
 * characters, well within NAME_MAX); longer ones by their SHA-256. */
#define STATE_STORE_HEX_MAX 64
/* A file name's room: "k" + 128 hex digits + ".tmp" + NUL. */
#define STATE_STORE_NAME_MAX 136
/* The largest value a get reads back (a snapshot is a few KiB). */
#define STATE_STORE_VALUE_MAX (16u * 1024 * 1024)

struct state_store;

/**
 * Open (making it, mode 0700) the store in `dir`, on `loop`; removes the
 * .tmp files a killed process left (their number in *removed, may be
 * NULL). Synchronous: call it before the loop runs.
 * @return 0 or a negative errno
 */
int state_store_open(struct state_store **out, uv_loop_t *loop, const char *dir, size_t *removed);

/** The table for siprec_store_new(), with the state_store as `impl`; its
 * close frees the store. */
extern const siprec_store_ops state_store_ops;

/** Free the store (no operation may be pending: run the loop dry first). */
void state_store_free(struct state_store *st);

/** Operations started and not yet completed (for the shutdown's wait). */
size_t state_store_pending(const struct state_store *st);

/** The file name of `key` (without DIR/) into `out` (STATE_STORE_NAME_MAX
 * bytes). @return 0 or -EINVAL (an empty key or longer than 1024) */
int state_store_name(const char *key, size_t key_len, char *out, size_t size);

#endif
