/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A session snapshot's bytes: a header (magic, format version), records
 * (tag, length, value: varints, byte strings, or nested record lists), and
 * a trailing checksum. lib/store knows these bytes, not the session: the
 * session names its own tags and writes and reads its own records
 * (lib/session/session_snapshot.c).
 *
 * Why records rather than a struct dump: a reader skips tags it does not
 * know (a snapshot from a newer minor change) and leaves fields whose tags
 * are missing at their defaults (a snapshot from an older version), so the
 * format grows without breaking the snapshots already in a store. */
#ifndef SR_STORE_SNAP_H
#define SR_STORE_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

/* "SRSNAP" then the format version byte. */
#define SR_SNAP_MAGIC "SRSNAP"
#define SR_SNAP_MAGIC_LEN 6
#define SR_SNAP_HEADER_LEN (SR_SNAP_MAGIC_LEN + 1)
#define SR_SNAP_TRAILER_LEN 8 /* SipHash-2-4 of all before it, fixed key: corruption, not forgery */
/* The format this library writes; it reads every version from 1 to this. */
#define SR_SNAP_VERSION 1
/* No snapshot is larger (a session's state is a few KiB; its metadata
 * documents are bounded by the handler's metadata limits). */
#define SR_SNAP_MAX (16u << 20)

/* ---------------------------------------------------------------------- */
/* Writing: a growable buffer with a sticky error, so a writer checks once. */
typedef struct sr_snap_w {
  siprec_allocator mem;
  uint8_t *p;
  size_t len, cap;
  int err; /* 0, SIPREC_ENOMEM or SIPREC_ETOOBIG */
} sr_snap_w;

/* An empty buffer (no header: sr_snap_begin writes it). */
void sr_snap_w_init(sr_snap_w *w, const siprec_allocator *mem);
void sr_snap_w_free(sr_snap_w *w);

/* The header of a snapshot of this library's version. */
void sr_snap_begin(sr_snap_w *w);
/* The checksum: the snapshot is complete. Returns w->err (SIPREC_EINVAL
 * when nothing was written, not even a header). */
int sr_snap_end(sr_snap_w *w);

void sr_snap_put_u64(sr_snap_w *w, unsigned tag, uint64_t v);
void sr_snap_put_i64(sr_snap_w *w, unsigned tag, int64_t v);
void sr_snap_put_bytes(sr_snap_w *w, unsigned tag, const void *p, size_t n);
/* A NUL-terminated string; NULL writes nothing (the reader keeps NULL). */
void sr_snap_put_str(sr_snap_w *w, unsigned tag, const char *s);
/* A time of the host's monotonic clock, which means nothing in another
 * process: written as its offset from the writer's `now`, read back against
 * `base` (where the reader's clock puts that `now`). 0 (unset) and
 * UINT64_MAX (never) keep their meanings. One varint: 0, 1, or 2 + zigzag
 * of the offset. */
void sr_snap_put_time(sr_snap_w *w, unsigned tag, uint64_t t, uint64_t now);
/* A nested record list: another writer's bytes (its error carried over). */
void sr_snap_put_sub(sr_snap_w *w, unsigned tag, const sr_snap_w *sub);

/* Raw bytes (no record): what sealing and the header write. */
void sr_snap_append(sr_snap_w *w, const void *p, size_t n);
/* n (> 0) more bytes at the end for the caller to write, or NULL (w->err
 * set, or n 0). */
uint8_t *sr_snap_extend(sr_snap_w *w, size_t n);

/* ---------------------------------------------------------------------- */
/* Reading: records in order; every length is checked against the end. */
typedef struct sr_snap_r {
  const uint8_t *p, *end;
} sr_snap_r;

typedef struct sr_snap_val {
  const uint8_t *p;
  size_t len;
} sr_snap_val;

/* Check a whole snapshot (magic, a version this library reads, length,
 * checksum) and position r on its first record. 0 with *version, or
 * SIPREC_EPARSE (not a snapshot, truncated or corrupted) or SIPREC_ETOOBIG
 * (a version newer than this library reads). */
int sr_snap_open(sr_snap_r *r, const void *data, size_t len, unsigned *version);

/* The records of a nested value. */
sr_snap_r sr_snap_sub(const sr_snap_val *v);

/* The next record: 1 with *tag and *v, 0 at the end, SIPREC_EPARSE when a
 * tag or length runs past the end. */
int sr_snap_next(sr_snap_r *r, unsigned *tag, sr_snap_val *v);

/* Walk the records of a nested value: fn(ctx, tag, value) for each, in
 * order, until one returns non-zero. Returns 0, fn's non-zero return, or
 * SIPREC_EPARSE when a record runs past the end. Readers are a switch on
 * the tag in fn, and their checks of what must be there after. */
typedef int (*sr_snap_field_fn)(void *ctx, unsigned tag, const sr_snap_val *v);
int sr_snap_each(const sr_snap_val *list, sr_snap_field_fn fn, void *ctx);

/* A time sr_snap_put_time wrote: 0 or SIPREC_EPARSE. */
int sr_snap_get_time(const sr_snap_val *v, uint64_t base, uint64_t *out);

/* A value as a number: 0, or SIPREC_EPARSE (not one varint, or too large
 * for `max`). */
int sr_snap_u64(const sr_snap_val *v, uint64_t max, uint64_t *out);
int sr_snap_i64(const sr_snap_val *v, int64_t *out);
/* Narrower forms of sr_snap_u64 for struct fields. */
int sr_snap_u32(const sr_snap_val *v, uint32_t *out);
int sr_snap_u16(const sr_snap_val *v, uint16_t *out);
int sr_snap_u8(const sr_snap_val *v, uint8_t *out);
int sr_snap_int(const sr_snap_val *v, int min, int max, int *out);
/* A string value into a fixed array: 0, or SIPREC_EPARSE (holds a NUL, or
 * does not fit with its terminator). */
int sr_snap_strcpy(const sr_snap_val *v, char *out, size_t size);
/* A string value as a new NUL-terminated copy: 0, SIPREC_EPARSE (holds a
 * NUL) or SIPREC_ENOMEM. *out is freed first. */
int sr_snap_strdup(const sr_snap_val *v, const siprec_allocator *mem, char **out);

#endif
