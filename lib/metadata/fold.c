/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building a model from a parsed document: records merged by key into the
 * previous model's persistent vectors and maps (a partial update) or into
 * empty ones (a complete document, and duplicates within a document), the
 * merged model's limits checked, the extension entries placed, then the
 * stream lists resolved (resolve.c). Only what the update names is copied:
 * the rest of the model is shared with the previous one. */
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "model.h"

/* Replaced records and entries stay in their arenas until the model is
 * compacted: once they are more than half of the arenas and above this. */
#define MD_GARBAGE_FLOOR (64u * 1024u)

static void store_unref(const siprec_allocator *mem, md_store *s)
{
  while (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
    md_store *next = s->next;
    md_arena_free(mem, &s->arena);
    sr_free(mem, s);
    s = next;
  }
}

md_model *md_model_ref(md_model *c)
{
  if (c)
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return c;
}

void md_model_unref(md_model *c)
{
  if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
    return;
  siprec_allocator mem = c->mem;
  for (int k = 0; k < MD_KINDS; k++) {
    md_pvec_drop(&mem, &c->recs[k]);
    md_hamt_drop(&mem, &c->index[k]);
  }
  for (int l = 0; l < 4; l++)
    md_pvec_drop(&mem, &c->lists[l]);
  md_pvec_drop(&mem, &c->ext);
  md_hamt_drop(&mem, &c->labels);
  md_hamt_drop(&mem, &c->sid_refs);
  md_pvec_drop(&mem, &c->ref_lists);
  md_pvec_drop(&mem, &c->ref_keys);
  store_unref(&mem, c->store);
  sr_free(&mem, c);
}

/* A model sharing everything with `base` (NULL: empty), with a new store
 * link holding `arena` (taken over). */
static md_model *model_from(const siprec_allocator *mem, const md_model *base, md_arena *arena)
{
  md_model *r = sr_calloc(mem, 1, sizeof *r);
  md_store *s = sr_calloc(mem, 1, sizeof *s);
  if (!r || !s) {
    sr_free(mem, r);
    sr_free(mem, s);
    return NULL;
  }
  atomic_init(&r->refs, 1);
  r->mem = *mem;
  atomic_init(&s->refs, 1);
  s->arena = *arena;
  md_arena_init(arena, 0);
  r->store = s;
  if (!base)
    return r;
  s->next = base->store;
  atomic_fetch_add_explicit(&base->store->refs, 1, memory_order_relaxed);
  for (int k = 0; k < MD_KINDS; k++) {
    r->recs[k] = md_pvec_share(&base->recs[k]);
    r->index[k] = md_hamt_share(&base->index[k]);
  }
  for (int l = 0; l < 4; l++)
    r->lists[l] = md_pvec_share(&base->lists[l]);
  r->ext = md_pvec_share(&base->ext);
  r->n_root_ext = base->n_root_ext;
  r->labels = md_hamt_share(&base->labels);
  r->sid_refs = md_hamt_share(&base->sid_refs);
  r->ref_lists = md_pvec_share(&base->ref_lists);
  r->ref_keys = md_pvec_share(&base->ref_keys);
  r->bytes = base->bytes;
  r->garbage = base->garbage;
  return r;
}

static int push(const siprec_allocator *mem, uint32_t **v, size_t *n, size_t *cap, size_t x)
{
  if (*n == *cap) {
    uint32_t *np = md_grow(mem, *v, cap, *n + 1, sizeof *np);
    if (!np)
      return SIPREC_ENOMEM;
    *v = np;
  }
  (*v)[(*n)++] = (uint32_t)x;
  return 0;
}

void md_touched_free(const siprec_allocator *mem, md_touched *t)
{
  for (int k = 0; k < MD_KINDS; k++)
    sr_free(mem, t->v[k]);
  for (int i = 0; i < 2; i++)
    sr_free(mem, t->added[i]);
  memset(t, 0, sizeof *t);
}

/* Whether a record's list `l` from an update replaces the one it merges
 * into: a participantstreamassoc states its participant's lists in full;
 * elsewhere an empty list means "not given". */
static int list_replaces(int kind, const md_rec *d, int l)
{
  return kind == SIPREC_METADATA_PARTICIPANT_STREAM || d->list_len[l] > 0;
}

/* A rough size of what a record holds, for the garbage estimate. */
static size_t rec_bytes(const md_rec *r)
{
  size_t n = sizeof *r;
  for (int f = 0; f < 3; f++)
    n += r->f[f] ? strlen(r->f[f]) + 1 : 0;
  for (int l = 0; l < 2; l++)
    n += r->list_len[l] * sizeof(char *);
  return n;
}

typedef struct rehash_ctx {
  const md_model *c;
  int kind;
} rehash_ctx;

static uint64_t rec_rehash(const void *ctx, uint32_t v)
{
  const rehash_ctx *q = ctx;
  const md_rec *r = md_rec_at(q->c, q->kind, v);
  return md_key_hash(r->key[0], r->key[1]);
}

static int index_one(md_build *b, int k, size_t i)
{
  rehash_ctx q = { b->r, k };
  const md_rec *r = md_rec_at(b->r, k, i);
  if (!r->key[0])
    return 0;
  return md_hamt_add(&b->r->mem, b->owner, &b->r->index[k], md_key_hash(r->key[0], r->key[1]),
                     (uint32_t)i, rec_rehash, &q);
}

/* Index new record i of kind k: the map is made when the kind passes
 * MD_SMALL records (below, md_index_find scans). */
static int index_add(md_build *b, int k, size_t i)
{
  if (i < MD_SMALL)
    return 0;
  for (size_t j = i == MD_SMALL ? 0 : i; j <= i; j++)
    if (index_one(b, k, j) < 0)
      return SIPREC_ENOMEM;
  return 0;
}

static const char *const kind_limit_name[MD_KINDS] = {
  "participants", "streams", "sessions", "groups", "participant-session associations",
  "participant-stream associations", "session-recording associations",
};

/* Record `dr` of the document merged into the build: a new record, or a
 * new version of the one with its keys. *idx receives its index. */
static int put_record(md_build *b, const md_content *d, int k, const md_rec *dr,
                      const siprec_metadata_limits *lim, size_t *idx, char *why,
                      size_t why_size)
{
  md_model *r = b->r;
  md_rec in = *dr;
  for (int l = 0; l < 2; l++) {
    in.list[l] = NULL;
    if (!dr->list_len[l])
      continue;
    const char **v = md_arena_alloc(&r->mem, &r->store->arena, dr->list_len[l] * sizeof *v);
    if (!v)
      return SIPREC_ENOMEM;
    memcpy(v, d->strs + dr->list_off[l], dr->list_len[l] * sizeof *v);
    in.list[l] = v;
  }
  in.n_ext = 0;
  size_t i = dr->key[0] ? md_index_find(r, k, dr->key[0], dr->key[1]) : MD_NONE;
  if (i != MD_NONE) {
    const md_rec *old = md_rec_at(r, k, i);
    md_rec *nr = md_build_rec(b, old);
    if (!nr)
      return SIPREC_ENOMEM;
    for (int f = 0; f < 3; f++)
      if (in.f[f])
        nr->f[f] = in.f[f];
    for (int l = 0; l < 2; l++)
      if (list_replaces(k, &in, l)) {
        nr->list[l] = in.list[l];
        nr->list_len[l] = in.list_len[l];
      }
    r->garbage += rec_bytes(old);
    *idx = i;
    return md_pvec_set(&r->mem, b->owner, &r->recs[k], i, nr) < 0 ||
               push(&r->mem, &b->t->v[k], &b->t->n[k], &b->t->cap[k], i) < 0
             ? SIPREC_ENOMEM
             : 0;
  }
  i = r->recs[k].n;
  if (i >= lim->max_objects[k]) {
    snprintf(why, why_size, "the update would pass the limit of %zu %s",
             lim->max_objects[k], kind_limit_name[k]);
    return SIPREC_ETOOBIG;
  }
  md_rec *nr = md_build_rec(b, &in);
  if (!nr || md_pvec_set(&r->mem, b->owner, &r->recs[k], i, nr) < 0)
    return SIPREC_ENOMEM;
  if (index_add(b, k, i) < 0)
    return SIPREC_ENOMEM;
  if (k == SIPREC_METADATA_PARTICIPANT || k == SIPREC_METADATA_STREAM) {
    int a = k == SIPREC_METADATA_STREAM;
    int l0 = a ? MD_SS : MD_PS;
    if (md_pvec_set(&r->mem, b->owner, &r->lists[l0], i, NULL) < 0 ||
        md_pvec_set(&r->mem, b->owner, &r->lists[l0 + 1], i, NULL) < 0 ||
        push(&r->mem, &b->t->added[a], &b->t->n_added[a], &b->t->cap_added[a], i) < 0)
      return SIPREC_ENOMEM;
  }
  *idx = i;
  return push(&r->mem, &b->t->v[k], &b->t->n[k], &b->t->cap[k], i);
}

static int owned_by(const uint64_t *v, size_t n, uint64_t x)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && v[lo] == x;
}

static uint64_t owner_key(const md_ext *e)
{
  return e->owner_idx == MD_NO_OWNER ? UINT64_MAX : (uint64_t)e->owner_kind << 32 | e->owner_idx;
}

static void sort_u64(uint64_t *v, size_t n)
{
  /* Insertion sort over the update's own entries (bounded by the document). */
  for (size_t i = 1; i < n; i++) {
    uint64_t x = v[i];
    size_t j = i;
    for (; j > 0 && v[j - 1] > x; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

/* The extension entries of the result: the previous model's, except those
 * whose owner the update gives entries for, then the update's. When the
 * update gives entries only to objects that had none (new ones, the usual
 * case), its entries are appended; otherwise the list is made again. */
static int fold_ext(md_build *b, const md_content *d, uint32_t *const map[MD_KINDS])
{
  md_model *r = b->r;
  if (!d->n_ext)
    return 0;
  int rc = 0, again = 0;
  uint64_t *owners = sr_calloc(&r->mem, d->n_ext, sizeof *owners);
  if (!owners)
    return SIPREC_ENOMEM;
  for (size_t i = 0; i < d->n_ext; i++) {
    md_ext e = d->ext[i];
    if (e.owner_idx != MD_NO_OWNER)
      e.owner_idx = map[e.owner_kind][e.owner_idx];
    owners[i] = owner_key(&e);
    if (e.owner_idx == MD_NO_OWNER ? r->n_root_ext > 0
                                   : md_rec_at(r, e.owner_kind, e.owner_idx)->n_ext > 0)
      again = 1;
  }
  sort_u64(owners, d->n_ext);
  if (again) {
    md_pvec kept = { 0 };
    for (size_t i = 0; i < r->ext.n && rc == 0; i++) {
      const md_ext *e = md_pvec_get(&r->ext, i);
      if (owned_by(owners, d->n_ext, owner_key(e)))
        r->garbage += sizeof *e;
      else
        rc = md_pvec_set(&r->mem, b->owner, &kept, kept.n, (void *)(uintptr_t)e);
    }
    md_pvec_drop(&r->mem, &r->ext);
    r->ext = kept;
    for (size_t i = 0; i < d->n_ext; i++)
      if (owners[i] == UINT64_MAX)
        r->n_root_ext = 0;
      else /* records named by the update are this build's own versions */
        ((md_rec *)(uintptr_t)md_rec_at(r, (int)(owners[i] >> 32), (uint32_t)owners[i]))->n_ext = 0;
  }
  for (size_t i = 0; i < d->n_ext && rc == 0; i++) {
    md_ext *e = md_arena_alloc(&r->mem, &r->store->arena, sizeof *e);
    if (!e) {
      rc = SIPREC_ENOMEM;
      break;
    }
    *e = d->ext[i];
    if (e->owner_idx == MD_NO_OWNER)
      r->n_root_ext++;
    else {
      e->owner_idx = map[e->owner_kind][e->owner_idx];
      ((md_rec *)(uintptr_t)md_rec_at(r, e->owner_kind, e->owner_idx))->n_ext++;
    }
    rc = md_pvec_set(&r->mem, b->owner, &r->ext, r->ext.n, e);
  }
  sr_free(&r->mem, owners);
  return rc;
}

static int fold_records(md_build *b, const md_content *d, uint32_t *map[MD_KINDS],
                        const siprec_metadata_limits *lim, char *why, size_t why_size)
{
  for (int k = 0; k < MD_KINDS; k++) {
    if (d->n[k] && !(map[k] = sr_calloc(&b->r->mem, d->n[k], sizeof *map[k])))
      return SIPREC_ENOMEM;
    for (size_t j = 0; j < d->n[k]; j++) {
      size_t idx;
      int rc = put_record(b, d, k, &d->recs[k][j], lim, &idx, why, why_size);
      if (rc < 0)
        return rc;
      map[k][j] = (uint32_t)idx;
    }
  }
  return 0;
}

/* The live records of a model as a document of its own, for compaction. */
static int dup_into(md_content *d, const char **s)
{
  if (*s && !(*s = md_arena_strndup(&d->mem, &d->arena, *s, strlen(*s))))
    return SIPREC_ENOMEM;
  return 0;
}

static md_content *unfold(const md_model *c)
{
  md_content *d = md_content_new(&c->mem, 4096);
  if (!d)
    return NULL;
  for (int k = 0; k < MD_KINDS; k++)
    for (size_t i = 0; i < c->recs[k].n; i++) {
      const md_rec *o = md_rec_at(c, k, i);
      size_t j = md_rec_add(d, k);
      if (j == MD_NONE)
        goto fail;
      md_rec *nr = &d->recs[k][j];
      *nr = *o;
      nr->list[0] = nr->list[1] = NULL;
      nr->n_ext = 0;
      if (dup_into(d, &nr->key[0]) < 0 || dup_into(d, &nr->key[1]) < 0 ||
          dup_into(d, &nr->f[0]) < 0 || dup_into(d, &nr->f[1]) < 0 ||
          dup_into(d, &nr->f[2]) < 0)
        goto fail;
      for (int l = 0; l < 2; l++) {
        nr->list_off[l] = (uint32_t)d->n_strs;
        for (uint32_t q = 0; q < o->list_len[l]; q++) {
          const char *s = o->list[l][q];
          if (dup_into(d, &s) < 0 || md_strs_add(d, &s, 1) < 0)
            goto fail;
        }
      }
    }
  for (size_t i = 0; i < c->ext.n; i++) {
    md_ext e = *(const md_ext *)md_pvec_get(&c->ext, i);
    if (dup_into(d, &e.ns) < 0 || dup_into(d, &e.path) < 0 || dup_into(d, &e.text) < 0 ||
        md_ext_add(d, &e) < 0)
      goto fail;
  }
  return d;
fail:
  md_content_unref(d);
  return NULL;
}

/* About what a build puts in its arena: records, list arrays, extension
 * entries and the stream lists. A snapshot kept for the whole call should
 * not end on a chunk twice the size it needs. */
static size_t build_bytes(const md_content *d)
{
  size_t n = d->n_strs * sizeof(char *) + d->n_ext * sizeof(md_ext) + 64;
  for (int k = 0; k < MD_KINDS; k++)
    n += d->n[k] * (sizeof(md_rec) + 2 * sizeof(char *));
  n += (d->n[SIPREC_METADATA_PARTICIPANT] + d->n[SIPREC_METADATA_STREAM]) * 2 * sizeof(md_ilist);
  n += d->n_strs * 3 * sizeof(uint32_t); /* list entries, by stream and participant */
  return n;
}

static int fold_once(const siprec_allocator *mem, const md_model *base, md_content *delta,
                     const siprec_metadata_limits *lim, md_model **out, md_touched *t,
                     char *why, size_t why_size)
{
  memset(t, 0, sizeof *t);
  t->complete = base == NULL;
  md_model *r = model_from(mem, base, &delta->arena);
  if (!r) {
    md_content_unref(delta);
    return SIPREC_ENOMEM;
  }
  md_build b = { r, base, md_token_new(), t };
  md_arena_expect(&r->store->arena, build_bytes(delta));
  uint32_t *map[MD_KINDS] = { 0 };
  int rc = fold_records(&b, delta, map, lim, why, why_size);
  if (rc == 0)
    rc = fold_ext(&b, delta, map);
  if (rc == 0 && r->ext.n > lim->max_extensions) {
    snprintf(why, why_size, "the update would pass the limit of %zu extension entries",
             lim->max_extensions);
    rc = SIPREC_ETOOBIG;
  }
  if (rc == 0)
    rc = md_resolve(&b);
  for (int k = 0; k < MD_KINDS; k++)
    sr_free(mem, map[k]);
  md_content_unref(delta);
  r->bytes += r->store->arena.bytes;
  if (rc < 0) {
    md_model_unref(r);
    md_touched_free(mem, t);
    return rc;
  }
  *out = r;
  return 0;
}

int md_fold(const siprec_allocator *mem, const md_model *base, md_content *delta,
            const siprec_metadata_limits *lim, md_model **out, md_touched *t, char *why,
            size_t why_size)
{
  *out = NULL;
  int rc = fold_once(mem, base, delta, lim, out, t, why, why_size);
  md_model *r = *out;
  if (rc < 0 || r->garbage < MD_GARBAGE_FLOOR || r->garbage < r->bytes / 2)
    return rc;
  /* Mostly replaced records: made again from the live ones (amortized over
   * the updates that replaced them). The change set stays the merge's. */
  md_content *d = unfold(r);
  md_model *fresh;
  md_touched t2;
  siprec_metadata_limits none = *lim;
  for (int k = 0; k < MD_KINDS; k++)
    none.max_objects[k] = SIZE_MAX;
  none.max_extensions = SIZE_MAX;
  if (!d || fold_once(mem, NULL, d, &none, &fresh, &t2, why, why_size) < 0)
    return 0; /* no memory to compact: the merged model is still right */
  md_touched_free(mem, &t2);
  md_model_unref(r);
  *out = fresh;
  return 0;
}
