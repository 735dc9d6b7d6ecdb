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
#include "limits.h"
#include "hamt.h"
#include "pvec.h"

/* Record kinds: the first seven values of siprec_metadata_kind. */

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
  uint32_t list_len[2];
  union {
    uint32_t list_off[2];        /* a parsed document's: ranges of md_content.strs */
    const char *const *list[2];  /* a model's: the lists themselves */
  };
  uint32_t n_ext; /* a model's: extension entries it owns */
} md_rec;

/* An element (or attribute) the model does not hold. */
typedef struct md_ext {
  const char *ns, *path, *text;
  uint32_t owner_idx; /* record index, or MD_NO_OWNER */
  uint8_t owner_kind; /* siprec_metadata_kind; SIPREC_METADATA_RECORDING when none */
} md_ext;

#define MD_NO_OWNER UINT32_MAX
#define MD_NONE SIZE_MAX

/* A parsed document (a delta): flat arrays of unindexed records, as the
 * parser appends them; md_fold turns it into a model. */
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
} md_content;

/* A list of record indexes (who sends on a stream, which streams a
 * participant sends on...), in the arena of the model that made it. */
typedef struct md_ilist {
  uint32_t n;
  uint32_t v[];
} md_ilist;

/* The arenas a model's records and strings live in: one link per update,
 * shared with the models before it. */
typedef struct md_store {
  atomic_size_t refs;
  struct md_store *next;
  md_arena arena;
} md_store;

enum { MD_SS = 0, MD_SR = 1, MD_PS = 2, MD_PR = 3 }; /* md_model.lists */

/* The content of a snapshot: persistent vectors and maps (pvec.h, hamt.h)
 * whose untouched nodes, records and strings are shared with the model it
 * was merged from, so a merge costs what the update touches. Shared too by
 * the snapshots that only differ in status or m-line bindings. Immutable
 * once built (md_fold), apart from its reference count. */
typedef struct md_model {
  atomic_size_t refs;
  siprec_allocator mem;
  md_store *store;
  md_pvec recs[MD_KINDS];   /* const md_rec * in document order */
  md_hamt index[MD_KINDS];  /* keys -> record index */
  md_pvec ext;              /* const md_ext * */
  size_t n_root_ext;        /* entries outside any object */
  md_pvec lists[4];         /* const md_ilist * (NULL: empty) per stream, per participant */
  md_hamt labels;           /* label -> first stream with it */
  md_hamt sid_refs;         /* stream id -> slot of ref_lists/ref_keys */
  md_pvec ref_lists;        /* md_ilist *: participant-stream records that named the id */
  md_pvec ref_keys;         /* const char *: the stream id */
  size_t bytes;             /* arena bytes of the whole store chain */
  size_t garbage;           /* of which replaced (an estimate) */
} md_model;

typedef struct md_mline {
  size_t stream; /* MD_NONE when none */
  siprec_metadata_rule rule;
  uint32_t off, len; /* into siprec_metadata.mline_senders */
} md_mline;

struct siprec_metadata {
  atomic_size_t refs;
  siprec_allocator mem;
  md_model *c; /* NULL: empty */
  siprec_metadata_status status;
  int error;
  char *detail; /* what made it unreadable or refused; NULL when nothing did (most
                 * snapshots: allocated only then, not 112 bytes in every one) */
  char *raw;
  size_t raw_len;
  siprec_metadata_datamode datamode;
  siprec_metadata_schema schema;
  md_mline *mlines;
  size_t n_mlines;
  uint32_t *mline_senders;
};


typedef struct md_change {
  const char *key, *key2;
  uint8_t kind, change;
} md_change;

struct siprec_metadata_changes {
  siprec_allocator mem;
  md_model *from, *to; /* references: the keys point into them */
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

static inline const md_rec *md_rec_at(const md_model *c, int kind, size_t i)
{
  return md_pvec_get(&c->recs[kind], i);
}

static inline size_t md_count(const md_model *c, int kind)
{
  return c ? c->recs[kind].n : 0;
}

/* ---------------------------------------------------------------------- */
/* Models (index.c, fold.c, resolve.c, diff.c)                              */

md_model *md_model_ref(md_model *c);
void md_model_unref(md_model *c);

/* The hash of a record's keys (SipHash-1-3 under a per-process key) and of
 * a label. */
uint64_t md_key_hash(const char *k0, const char *k1);
/* The record of `kind` with these keys, or MD_NONE. */
size_t md_index_find(const md_model *c, int kind, const char *k0, const char *k1);
/* The first stream (in document order) with this label, or MD_NONE. */
size_t md_label_find(const md_model *c, const char *label);
/* Sort 32-bit values and drop repeated ones; returns how many are left. */
size_t md_sort_unique(uint32_t *v, size_t n);

/* Up to this many records of a kind (streams for labels, stream ids for
 * ref_lists) are found by a scan, and the hash map is made when the count
 * passes it: an idle two-party session keeps no map nodes at all. */
#define MD_SMALL 8u

/* What a merge touched, per kind: record indexes (repeats possible). */
typedef struct md_touched {
  uint32_t *v[MD_KINDS];
  size_t n[MD_KINDS], cap[MD_KINDS];
  uint32_t *added[2]; /* participants and streams new in this merge */
  size_t n_added[2], cap_added[2];
  int complete;       /* a complete document: every record is new */
} md_touched;

void md_touched_free(const siprec_allocator *mem, md_touched *t);

/* A model being built (fold.c and resolve.c). */
typedef struct md_build {
  md_model *r;
  const md_model *base;
  uint64_t owner;
  md_touched *t;
} md_build;

/* A new record in the build's arena; NULL on no memory. */
md_rec *md_build_rec(md_build *b, const md_rec *from);
/* A new list of `n` indexes in the build's arena; NULL on no memory. */
md_ilist *md_build_ilist(md_build *b, const uint32_t *v, size_t n);
/* A new list: `old`'s entries, then `x`. */
md_ilist *md_build_ilist_append(md_build *b, const md_ilist *old, uint32_t x);

/* The model that results from `delta` applied over `base` (NULL for a
 * complete document). `delta` is consumed, also on failure. Returns 0,
 * SIPREC_ENOMEM, or SIPREC_ETOOBIG when the result would pass a limit of
 * `lim` (then `why` says which, and nothing is made). `t` receives what
 * was touched (free it with md_touched_free). */
int md_fold(const siprec_allocator *mem, const md_model *base, md_content *delta,
            const siprec_metadata_limits *lim, md_model **out, md_touched *t, char *why,
            size_t why_size);

/* The stream lists and label index of a build, from what it touched. */
int md_resolve(md_build *b);

/* The change set from `from` (NULL: empty) to `to` (NULL: empty); `t`:
 * what the merge touched (NULL: compare everything). */
int md_diff(const siprec_allocator *mem, md_model *from, md_model *to, const md_touched *t,
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


/* ---------------------------------------------------------------------- */
/* Snapshots (snapshot.c)                                                   */

/* A new snapshot header with one reference and no content. */
siprec_metadata *md_snapshot_new(const siprec_allocator *mem);
/* Copy `len` raw bytes into the snapshot. 0 or SIPREC_ENOMEM. */
int md_snapshot_set_raw(siprec_metadata *m, const char *raw, size_t len);
/* Copy the NUL-terminated error detail into the snapshot (nothing for ""
 * or NULL). 0 or SIPREC_ENOMEM. */
int md_snapshot_set_detail(siprec_metadata *m, const char *detail);

#endif
