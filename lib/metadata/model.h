/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata model inside the library. Every object of RFC 7865 the model
 * holds is one record (md_rec) of its kind: up to two keys, three string
 * fields and two string lists, whose meaning depends on the kind (the MD_F_
 * and MD_L_ names below). One record layout for every kind lets the merge,
 * the change set and the id index be written once. */
#ifndef SR_METADATA_MODEL_H
#define SR_METADATA_MODEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <siprec/metadata.h>

#include "arena.h"

/* Record kinds: the first seven values of siprec_metadata_kind. */
#define MD_KINDS 7

/* Field and list slots per kind. */
enum {
  MD_F_STREAM_SESSION = 0, /* stream: session_id */
  MD_F_STREAM_LABEL = 1,   /* stream: label */
  MD_F_SESSION_GROUP = 0,  /* session: group-ref */
  MD_F_SESSION_START = 1,  /* session: start-time */
  MD_F_SESSION_STOP = 2,   /* session: stop-time */
  MD_F_ASSOCIATE = 0,      /* group, participant-session, session-recording */
  MD_F_DISASSOCIATE = 1,
  MD_L_NAMES = 0,          /* participant: nameID triplets (aor, name, lang) */
  MD_L_SIP_SESSION_IDS = 0,/* session: sipSessionID values */
  MD_L_SEND = 0,           /* participant-stream: stream ids sent */
  MD_L_RECV = 1,           /* participant-stream: stream ids received */
};

typedef struct md_rec {
  const char *key[2]; /* key[1]: the session_id of a participant-session association */
  const char *f[3];   /* NULL: not given */
  uint32_t list_off[2], list_len[2]; /* ranges of md_content.strs */
} md_rec;

/* An element (or attribute) the model does not hold. */
typedef struct md_ext {
  const char *ns, *path, *text;
  uint32_t owner_idx; /* record index, or MD_NO_OWNER */
  uint8_t owner_kind; /* siprec_metadata_kind; SIPREC_METADATA_RECORDING when none */
} md_ext;

#define MD_NO_OWNER UINT32_MAX
#define MD_NONE SIZE_MAX

/* A compressed list per stream (or participant): the values of item i are
 * val[off[i] .. off[i+1]). */
typedef struct md_csr {
  uint32_t *off, *val;
} md_csr;

/* The content of a snapshot: shared by the snapshots that only differ in
 * status or m-line bindings (an unreadable update, a bind). Immutable once
 * built (md_fold), apart from its reference count. */
typedef struct md_content {
  atomic_size_t refs;
  siprec_allocator mem;
  md_arena arena;
  md_rec *recs[MD_KINDS];
  size_t n[MD_KINDS], cap[MD_KINDS];
  const char **strs;
  size_t n_strs, cap_strs;
  md_ext *ext;
  size_t n_ext, cap_ext;
  /* Open-addressing index by key per kind: record index + 1, 0 empty. */
  uint32_t *slots[MD_KINDS];
  size_t mask[MD_KINDS];
  /* Resolved participant-stream associations. */
  md_csr stream_send, stream_recv, part_send, part_recv;
  void *resolved; /* one block holding the four md_csr arrays */
  /* Labelled streams as (32-bit label hash << 32 | stream index), sorted:
   * a label is found in O(log n) however many streams and m-lines. */
  uint64_t *labels;
  size_t n_labels;
} md_content;

typedef struct md_mline {
  size_t stream; /* MD_NONE when none */
  siprec_metadata_rule rule;
  uint32_t off, len; /* into siprec_metadata.mline_senders */
} md_mline;

struct siprec_metadata {
  atomic_size_t refs;
  siprec_allocator mem;
  md_content *c; /* NULL: empty */
  siprec_metadata_status status;
  int error;
  char detail[112];
  char *raw;
  size_t raw_len;
  siprec_metadata_datamode datamode;
  siprec_metadata_schema schema;
  md_mline *mlines;
  size_t n_mlines;
  uint32_t *mline_senders;
};

struct siprec_metadata_limits {
  siprec_allocator mem;
  size_t max_bytes;
  unsigned max_depth;
  size_t max_elements;
  unsigned max_attributes;
};

typedef struct md_change {
  const char *key, *key2;
  uint8_t kind, change;
} md_change;

struct siprec_metadata_changes {
  siprec_allocator mem;
  md_content *from, *to; /* references: the keys point into them */
  md_change *v;
  size_t n;
};

/* ---------------------------------------------------------------------- */
/* Content (content.c)                                                      */

md_content *md_content_new(const siprec_allocator *mem, size_t arena_hint);
md_content *md_content_ref(md_content *c);
void md_content_unref(md_content *c);

/* Append an empty record of `kind`; returns its index or MD_NONE (no memory). */
size_t md_rec_add(md_content *c, int kind);
/* Append pointers to the string list store; 0 or SIPREC_ENOMEM. */
int md_strs_add(md_content *c, const char *const *v, size_t n);
/* Append an extension entry; 0 or SIPREC_ENOMEM. */
int md_ext_add(md_content *c, const md_ext *e);

/* Grow array `p` (elements of `elem` bytes, capacity *cap < need) to hold
 * `need`: returns the array, moved or not, or NULL (then `p` is untouched). */
void *md_grow(const siprec_allocator *mem, void *p, size_t *cap, size_t need, size_t elem);

static inline const char *md_list_at(const md_content *c, const md_rec *r, int l, size_t k)
{
  return c->strs[r->list_off[l] + k];
}

/* ---------------------------------------------------------------------- */
/* The id index (index.c)                                                   */

/* Allocate the index of `kind` for up to `n` records. 0 or SIPREC_ENOMEM. */
int md_index_alloc(md_content *c, int kind, size_t n);
/* Index record `idx` of `kind` by its keys: returns `idx`, or the index of
 * the record that already has these keys (then nothing is inserted).
 * Records without key[0] are never indexed (returns idx). */
size_t md_index_put(md_content *c, int kind, size_t idx);
/* The record of `kind` with these keys, or MD_NONE. */
size_t md_index_find(const md_content *c, int kind, const char *k0, const char *k1);

/* Sort 64-bit values in place (heapsort: no allocation, no recursion). */
void md_sort_u64(uint64_t *v, size_t n);

/* Build c->labels. 0 or SIPREC_ENOMEM. */
int md_label_index(md_content *c);
/* The first stream (in document order) with this label, or MD_NONE. */
size_t md_label_find(const md_content *c, const char *label);

/* ---------------------------------------------------------------------- */
/* Building (fold.c)                                                        */

/* The content that results from `delta` applied over `base` (NULL for a
 * complete document): records merged by key, indexed and resolved. `delta`
 * is consumed (its strings move into the result), also on failure.
 * Returns 0 or SIPREC_ENOMEM. */
int md_fold(const siprec_allocator *mem, const md_content *base, md_content *delta,
            md_content **out);

/* The change set from `from` (NULL: empty) to `to` (NULL: empty). */
int md_diff(const siprec_allocator *mem, md_content *from, md_content *to,
            siprec_metadata_changes **out);

/* ---------------------------------------------------------------------- */
/* Parsing (parse.c)                                                        */

typedef struct md_parse_result {
  int error; /* 0, SIPREC_EPARSE or SIPREC_ETOOBIG */
  char detail[112];
  siprec_metadata_datamode datamode;
  siprec_metadata_schema schema;
} md_parse_result;

/* Parse one document into a delta (unindexed records, duplicates possible).
 * Returns 0 with *delta set, 0 with res->error set and *delta NULL (the
 * document is unreadable), or SIPREC_ENOMEM. */
int md_parse(const siprec_allocator *mem, const siprec_metadata_limits *lim, const char *xml,
             size_t len, md_content **delta, md_parse_result *res);

/* The limits used when the host gives none. */
const siprec_metadata_limits *md_default_limits(void);

/* ---------------------------------------------------------------------- */
/* Snapshots (snapshot.c)                                                   */

/* A new snapshot header with one reference and no content. */
siprec_metadata *md_snapshot_new(const siprec_allocator *mem);
/* Copy `len` raw bytes into the snapshot. 0 or SIPREC_ENOMEM. */
int md_snapshot_set_raw(siprec_metadata *m, const char *raw, size_t len);

#endif
