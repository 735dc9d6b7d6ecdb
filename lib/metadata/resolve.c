/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who sends and receives which stream, kept per stream and per participant
 * from the participant-stream records, and the label index: made again only
 * for what a merge touched. A participant-stream record may name streams and
 * a participant that come in a later update; the model keeps, per stream id,
 * the records that named it (ref_lists), so a stream that arrives finds its
 * senders without a look at every record. */
#include <string.h>

#include "../common/alloc.h"
#include "model.h"

static const int PST = SIPREC_METADATA_PARTICIPANT_STREAM;
static const int PART = SIPREC_METADATA_PARTICIPANT;
static const int STREAM = SIPREC_METADATA_STREAM;

typedef struct ivec {
  uint32_t *v;
  size_t n, cap;
} ivec;

static int ipush(md_build *b, ivec *a, size_t x)
{
  if (x == MD_NONE)
    return 0;
  if (a->n == a->cap) {
    uint32_t *np = md_grow(&b->r->mem, a->v, &a->cap, a->n + 1, sizeof *np);
    if (!np)
      return SIPREC_ENOMEM;
    a->v = np;
  }
  a->v[a->n++] = (uint32_t)x;
  return 0;
}

typedef struct sid_ctx {
  const md_model *c;
  const char *sid;
} sid_ctx;

static int sid_eq(const void *ctx, uint32_t v)
{
  const sid_ctx *q = ctx;
  return strcmp(md_pvec_get(&q->c->ref_keys, v), q->sid) == 0;
}

static uint64_t sid_rehash(const void *ctx, uint32_t v)
{
  const sid_ctx *q = ctx;
  return md_key_hash(md_pvec_get(&q->c->ref_keys, v), NULL);
}

static uint32_t sid_slot(const md_model *c, const char *sid)
{
  if (c->ref_keys.n <= MD_SMALL) {
    for (size_t i = 0; i < c->ref_keys.n; i++)
      if (strcmp(md_pvec_get(&c->ref_keys, i), sid) == 0)
        return (uint32_t)i;
    return MD_HAMT_NONE;
  }
  sid_ctx q = { c, sid };
  return c->sid_refs.root ? md_hamt_find(&c->sid_refs, md_key_hash(sid, NULL), sid_eq, &q)
                          : MD_HAMT_NONE;
}

/* Remember that participant-stream record `rec` names stream id `sid`. */
static int ref_add(md_build *b, const char *sid, uint32_t rec)
{
  md_model *r = b->r;
  uint32_t slot = sid_slot(r, sid);
  if (slot == MD_HAMT_NONE) {
    md_ilist *l = md_build_ilist(b, &rec, 1);
    sid_ctx q = { r, sid };
    slot = (uint32_t)r->ref_lists.n;
    if (!l || md_pvec_set(&r->mem, b->owner, &r->ref_lists, slot, l) < 0 ||
        md_pvec_set(&r->mem, b->owner, &r->ref_keys, slot, (void *)(uintptr_t)sid) < 0)
      return SIPREC_ENOMEM;
    /* The map is made when the ids pass MD_SMALL (below, a scan). */
    for (uint32_t j = slot == MD_SMALL ? 0 : slot; slot >= MD_SMALL && j <= slot; j++)
      if (md_hamt_add(&r->mem, b->owner, &r->sid_refs,
                      md_key_hash(md_pvec_get(&r->ref_keys, j), NULL), j, sid_rehash, &q) < 0)
        return SIPREC_ENOMEM;
    return 0;
  }
  const md_ilist *old = md_pvec_get(&r->ref_lists, slot);
  for (uint32_t k = 0; k < old->n; k++)
    if (old->v[k] == rec)
      return 0;
  md_ilist *l = md_build_ilist_append(b, old, rec);
  if (!l)
    return SIPREC_ENOMEM;
  r->garbage += sizeof *old + old->n * sizeof old->v[0];
  return md_pvec_set(&r->mem, b->owner, &r->ref_lists, slot, l);
}

/* The streams a participant-stream record's list `l` names (the ones that
 * exist) into `out`. */
static int streams_of(md_build *b, const md_rec *q, int l, ivec *out)
{
  for (uint32_t k = 0; k < q->list_len[l]; k++)
    if (ipush(b, out, md_index_find(b->r, STREAM, q->list[l][k], NULL)) < 0)
      return SIPREC_ENOMEM;
  return 0;
}

static int set_list(md_build *b, int which, size_t i, ivec *v)
{
  size_t n = md_sort_unique(v->v, v->n);
  md_ilist *l = NULL;
  if (n && !(l = md_build_ilist(b, v->v, n)))
    return SIPREC_ENOMEM;
  const md_ilist *old = md_pvec_get(&b->r->lists[which], i);
  if (old)
    b->r->garbage += sizeof *old + old->n * sizeof old->v[0];
  v->n = 0;
  return md_pvec_set(&b->r->mem, b->owner, &b->r->lists[which], i, l);
}

static int names(const md_rec *q, int l, const char *sid)
{
  for (uint32_t k = 0; k < q->list_len[l]; k++)
    if (strcmp(q->list[l][k], sid) == 0)
      return 1;
  return 0;
}

/* The participants and streams whose lists the merge changed. */
static int affected(md_build *b, ivec *ap, ivec *as)
{
  md_model *r = b->r;
  const md_touched *t = b->t;
  for (size_t i = 0; i < t->n[PST]; i++) {
    uint32_t idx = t->v[PST][i];
    const md_rec *q = md_rec_at(r, PST, idx);
    if (ipush(b, ap, md_index_find(r, PART, q->key[0], NULL)) < 0)
      return SIPREC_ENOMEM;
    for (int l = 0; l < 2; l++) {
      for (uint32_t k = 0; k < q->list_len[l]; k++)
        if (ref_add(b, q->list[l][k], idx) < 0)
          return SIPREC_ENOMEM;
      if (streams_of(b, q, l, as) < 0)
        return SIPREC_ENOMEM;
      if (b->base && idx < b->base->recs[PST].n &&
          streams_of(b, md_rec_at(b->base, PST, idx), l, as) < 0)
        return SIPREC_ENOMEM;
    }
  }
  for (size_t i = 0; i < t->n_added[0]; i++) {
    uint32_t p = t->added[0][i];
    size_t q = md_index_find(r, PST, md_rec_at(r, PART, p)->key[0], NULL);
    if (q == MD_NONE)
      continue;
    if (ipush(b, ap, p) < 0)
      return SIPREC_ENOMEM;
    for (int l = 0; l < 2; l++)
      if (streams_of(b, md_rec_at(r, PST, q), l, as) < 0)
        return SIPREC_ENOMEM;
  }
  for (size_t i = 0; i < t->n_added[1]; i++) {
    uint32_t s = t->added[1][i];
    const char *sid = md_rec_at(r, STREAM, s)->key[0];
    uint32_t slot = sid ? sid_slot(r, sid) : MD_HAMT_NONE;
    if (slot == MD_HAMT_NONE)
      continue;
    if (ipush(b, as, s) < 0)
      return SIPREC_ENOMEM;
    const md_ilist *refs = md_pvec_get(&r->ref_lists, slot);
    for (uint32_t k = 0; k < refs->n; k++)
      if (ipush(b, ap, md_index_find(r, PART, md_rec_at(r, PST, refs->v[k])->key[0], NULL)) < 0)
        return SIPREC_ENOMEM;
  }
  ap->n = md_sort_unique(ap->v, ap->n);
  as->n = md_sort_unique(as->v, as->n);
  return 0;
}

static int resolve_lists(md_build *b)
{
  md_model *r = b->r;
  ivec ap = { 0 }, as = { 0 }, v = { 0 };
  int rc = affected(b, &ap, &as);
  for (size_t i = 0; i < ap.n && rc == 0; i++) {
    size_t q = md_index_find(r, PST, md_rec_at(r, PART, ap.v[i])->key[0], NULL);
    for (int l = 0; l < 2 && rc == 0; l++) {
      if (q != MD_NONE)
        rc = streams_of(b, md_rec_at(r, PST, q), l, &v);
      if (rc == 0)
        rc = set_list(b, MD_PS + l, ap.v[i], &v);
    }
  }
  for (size_t i = 0; i < as.n && rc == 0; i++) {
    const char *sid = md_rec_at(r, STREAM, as.v[i])->key[0];
    uint32_t slot = sid_slot(r, sid);
    const md_ilist *refs = slot == MD_HAMT_NONE ? NULL : md_pvec_get(&r->ref_lists, slot);
    for (int l = 0; l < 2 && rc == 0; l++) {
      for (uint32_t k = 0; refs && k < refs->n && rc == 0; k++) {
        const md_rec *q = md_rec_at(r, PST, refs->v[k]);
        if (names(q, l, sid))
          rc = ipush(b, &v, md_index_find(r, PART, q->key[0], NULL));
      }
      if (rc == 0)
        rc = set_list(b, MD_SS + l, as.v[i], &v);
    }
  }
  sr_free(&r->mem, ap.v);
  sr_free(&r->mem, as.v);
  sr_free(&r->mem, v.v);
  return rc;
}

static uint64_t label_rehash(const void *ctx, uint32_t v)
{
  return md_key_hash(md_rec_at(ctx, STREAM, v)->f[MD_F_STREAM_LABEL], NULL);
}

static int label_add(md_build *b, uint32_t s)
{
  const char *label = md_rec_at(b->r, STREAM, s)->f[MD_F_STREAM_LABEL];
  if (!label || (b->r->labels.root && md_label_find(b->r, label) != MD_NONE))
    return 0; /* an earlier stream has it */
  return md_hamt_add(&b->r->mem, b->owner, &b->r->labels, md_key_hash(label, NULL), s,
                     label_rehash, b->r);
}

static int str_eq(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* New streams' labels are added; a stream whose label changed (seldom) has
 * the index made again over all streams. */
static int resolve_labels(md_build *b)
{
  md_model *r = b->r;
  const md_touched *t = b->t;
  size_t ns = r->recs[STREAM].n;
  if (ns <= MD_SMALL)
    return 0; /* md_label_find scans */
  int again = !b->base || b->base->recs[STREAM].n <= MD_SMALL;
  for (size_t i = 0; i < t->n[STREAM] && !again; i++) {
    uint32_t s = t->v[STREAM][i];
    if (b->base && s < b->base->recs[STREAM].n)
      again = !str_eq(md_rec_at(b->base, STREAM, s)->f[MD_F_STREAM_LABEL],
                      md_rec_at(r, STREAM, s)->f[MD_F_STREAM_LABEL]);
  }
  if (again) {
    md_hamt_drop(&r->mem, &r->labels);
    for (size_t s = 0; s < r->recs[STREAM].n; s++)
      if (label_add(b, (uint32_t)s) < 0)
        return SIPREC_ENOMEM;
    return 0;
  }
  for (size_t i = 0; i < t->n_added[1]; i++)
    if (label_add(b, t->added[1][i]) < 0)
      return SIPREC_ENOMEM;
  return 0;
}

int md_resolve(md_build *b)
{
  int rc = resolve_lists(b);
  return rc < 0 ? rc : resolve_labels(b);
}
