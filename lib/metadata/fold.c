/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building a model's content from a parsed document: records merged by key
 * (over the previous content for a partial update, and duplicates within
 * the document), then the participant-stream associations resolved into
 * per-stream and per-participant lists. */
#include <string.h>

#include "../common/alloc.h"
#include "model.h"

/* Whether a record's list `l` from an update replaces the one it merges
 * into: a participantstreamassoc states its participant's lists in full;
 * elsewhere an empty list means "not given". */
static int list_replaces(int kind, const md_rec *d, int l)
{
  return kind == SIPREC_METADATA_PARTICIPANT_STREAM || d->list_len[l] > 0;
}

static void overlay(int kind, md_rec *e, const md_rec *d)
{
  for (int f = 0; f < 3; f++)
    if (d->f[f])
      e->f[f] = d->f[f];
  for (int l = 0; l < 2; l++)
    if (list_replaces(kind, d, l)) {
      e->list_off[l] = d->list_off[l];
      e->list_len[l] = d->list_len[l];
    }
}

static int dup_str(md_content *r, const char **s)
{
  if (!*s)
    return 0;
  const char *d = md_arena_strndup(&r->mem, &r->arena, *s, strlen(*s));
  if (!d)
    return SIPREC_ENOMEM;
  *s = d;
  return 0;
}

/* Record `from` of `src` appended to `r`, its strings copied into r's arena
 * when `deep` (the base content outlives nothing: it may be freed first). */
static size_t copy_rec(md_content *r, int kind, const md_content *src, const md_rec *from,
                       int deep)
{
  size_t idx = md_rec_add(r, kind);
  if (idx == MD_NONE)
    return MD_NONE;
  md_rec *to = &r->recs[kind][idx];
  *to = *from;
  if (deep && (dup_str(r, &to->key[0]) < 0 || dup_str(r, &to->key[1]) < 0 ||
               dup_str(r, &to->f[0]) < 0 || dup_str(r, &to->f[1]) < 0 ||
               dup_str(r, &to->f[2]) < 0))
    goto fail;
  for (int l = 0; l < 2; l++) {
    to->list_off[l] = (uint32_t)r->n_strs;
    for (uint32_t k = 0; k < from->list_len[l]; k++) {
      const char *s = src->strs[from->list_off[l] + k];
      if ((deep && dup_str(r, &s) < 0) || md_strs_add(r, &s, 1) < 0)
        goto fail;
    }
  }
  return idx;
fail:
  r->n[kind]--;
  return MD_NONE;
}

static int reserve(md_content *r, int kind, size_t n)
{
  if (n == 0)
    return 0;
  md_rec *np = md_grow(&r->mem, r->recs[kind], &r->cap[kind], n, sizeof *np);
  if (!np)
    return SIPREC_ENOMEM;
  r->recs[kind] = np;
  return md_index_alloc(r, kind, n);
}

/* Index every record of a freshly parsed document; *dup is set when two
 * records of a kind share their keys. */
static int index_all(md_content *c, int *dup)
{
  *dup = 0;
  for (int k = 0; k < MD_KINDS; k++) {
    if (!c->n[k])
      continue;
    int rc = md_index_alloc(c, k, c->n[k]);
    if (rc < 0)
      return rc;
    for (size_t i = 0; i < c->n[k]; i++)
      if (md_index_put(c, k, i) != i) {
        *dup = 1;
        return 0;
      }
  }
  return 0;
}

/* Sort (hi, lo) pairs and drop repeated ones; returns how many are left. */
static size_t sort_unique(uint64_t *v, size_t n)
{
  md_sort_u64(v, n);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || v[u - 1] != v[i])
      v[u++] = v[i];
  return u;
}

/* Fill a CSR for `items` items from sorted unique pairs (item << 32 | value). */
static void fill_csr(md_csr *out, const uint64_t *v, size_t n, size_t items)
{
  size_t j = 0;
  for (size_t i = 0; i < items; i++) {
    out->off[i] = (uint32_t)j;
    while (j < n && (v[j] >> 32) == i) {
      out->val[j] = (uint32_t)v[j];
      j++;
    }
  }
  out->off[items] = (uint32_t)j;
}

static void swap_halves(uint64_t *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    v[i] = (v[i] << 32) | (v[i] >> 32);
}

/* Who sends and receives which stream, from the participant-stream records. */
static int resolve(md_content *c)
{
  const int pst = SIPREC_METADATA_PARTICIPANT_STREAM;
  size_t total[2] = { 0, 0 };
  for (size_t i = 0; i < c->n[pst]; i++)
    for (int l = 0; l < 2; l++)
      total[l] += c->recs[pst][i].list_len[l];
  if (total[0] + total[1] == 0)
    return 0;
  uint64_t *pairs = sr_calloc(&c->mem, total[0] + total[1], sizeof *pairs);
  if (!pairs)
    return SIPREC_ENOMEM;
  uint64_t *pv[2] = { pairs, pairs + total[0] };
  size_t np[2] = { 0, 0 };
  for (size_t i = 0; i < c->n[pst]; i++) {
    const md_rec *r = &c->recs[pst][i];
    size_t p = md_index_find(c, SIPREC_METADATA_PARTICIPANT, r->key[0], NULL);
    if (p == MD_NONE)
      continue;
    for (int l = 0; l < 2; l++)
      for (uint32_t k = 0; k < r->list_len[l]; k++) {
        size_t s = md_index_find(c, SIPREC_METADATA_STREAM, md_list_at(c, r, l, k), NULL);
        if (s != MD_NONE)
          pv[l][np[l]++] = ((uint64_t)s << 32) | p;
      }
  }
  size_t ns = c->n[SIPREC_METADATA_STREAM], npart = c->n[SIPREC_METADATA_PARTICIPANT];
  size_t u[2] = { sort_unique(pv[0], np[0]), sort_unique(pv[1], np[1]) };
  size_t words = 2 * (ns + 1) + 2 * (npart + 1) + 2 * (u[0] + u[1]);
  uint32_t *block = sr_calloc(&c->mem, words, sizeof *block);
  if (!block) {
    sr_free(&c->mem, pairs);
    return SIPREC_ENOMEM;
  }
  c->resolved = block;
  md_csr *by_stream[2] = { &c->stream_send, &c->stream_recv };
  md_csr *by_part[2] = { &c->part_send, &c->part_recv };
  uint32_t *w = block;
  for (int l = 0; l < 2; l++) {
    by_stream[l]->off = w;
    w += ns + 1;
    by_stream[l]->val = w;
    w += u[l];
    by_part[l]->off = w;
    w += npart + 1;
    by_part[l]->val = w;
    w += u[l];
    fill_csr(by_stream[l], pv[l], u[l], ns);
    swap_halves(pv[l], u[l]);
    md_sort_u64(pv[l], u[l]);
    fill_csr(by_part[l], pv[l], u[l], npart);
  }
  sr_free(&c->mem, pairs);
  return 0;
}

/* The extension entries of the result: the base's, except those whose
 * owner the update gives entries for, then the update's. */
static int fold_ext(md_content *r, const md_content *base, const md_content *delta,
                    uint32_t *const map[MD_KINDS])
{
  uint8_t *owned[MD_KINDS] = { 0 };
  int root_owned = 0, rc = 0;
  if (base && base->n_ext) {
    for (int k = 0; k < MD_KINDS; k++)
      if (r->n[k] && !(owned[k] = sr_calloc(&r->mem, r->n[k], 1))) {
        rc = SIPREC_ENOMEM;
        goto out;
      }
    for (size_t i = 0; i < delta->n_ext; i++) {
      const md_ext *e = &delta->ext[i];
      if (e->owner_idx == MD_NO_OWNER)
        root_owned = 1;
      else
        owned[e->owner_kind][map[e->owner_kind][e->owner_idx]] = 1;
    }
    for (size_t i = 0; i < base->n_ext; i++) {
      md_ext e = base->ext[i];
      if (e.owner_idx == MD_NO_OWNER ? root_owned : owned[e.owner_kind][e.owner_idx])
        continue;
      if (dup_str(r, &e.ns) < 0 || dup_str(r, &e.path) < 0 || dup_str(r, &e.text) < 0 ||
          md_ext_add(r, &e) < 0) {
        rc = SIPREC_ENOMEM;
        goto out;
      }
    }
  }
  for (size_t i = 0; i < delta->n_ext; i++) {
    md_ext e = delta->ext[i];
    if (e.owner_idx != MD_NO_OWNER)
      e.owner_idx = map[e.owner_kind][e.owner_idx];
    if (md_ext_add(r, &e) < 0) {
      rc = SIPREC_ENOMEM;
      goto out;
    }
  }
out:
  for (int k = 0; k < MD_KINDS; k++)
    sr_free(&r->mem, owned[k]);
  return rc;
}

static int fold_records(md_content *r, const md_content *base, const md_content *delta,
                        uint32_t *map[MD_KINDS])
{
  size_t strs = (base ? base->n_strs : 0) + delta->n_strs;
  if (strs > r->cap_strs) {
    const char **np = md_grow(&r->mem, r->strs, &r->cap_strs, strs, sizeof *np);
    if (!np)
      return SIPREC_ENOMEM;
    r->strs = np;
  }
  for (int k = 0; k < MD_KINDS; k++) {
    size_t nb = base ? base->n[k] : 0, nd = delta->n[k];
    if (reserve(r, k, nb + nd) < 0 || (nd && !(map[k] = sr_calloc(&r->mem, nd, sizeof *map[k]))))
      return SIPREC_ENOMEM;
    for (size_t i = 0; i < nb; i++) {
      size_t idx = copy_rec(r, k, base, &base->recs[k][i], 1);
      if (idx == MD_NONE)
        return SIPREC_ENOMEM;
      (void)md_index_put(r, k, idx);
    }
    for (size_t j = 0; j < nd; j++) {
      size_t idx = copy_rec(r, k, delta, &delta->recs[k][j], 0);
      if (idx == MD_NONE)
        return SIPREC_ENOMEM;
      size_t e = md_index_put(r, k, idx);
      if (e != idx) {
        overlay(k, &r->recs[k][e], &r->recs[k][idx]);
        r->n[k]--;
      }
      map[k][j] = (uint32_t)e;
    }
  }
  return 0;
}

/* Give back the growth slack of a finished content: a session keeps its
 * snapshot for the whole call, so its arrays are sized to what they hold.
 * A shrink that fails is out of memory like any other allocation (the old
 * array stays valid for the cleanup). */
static int shrink(const siprec_allocator *mem, void **p, size_t *cap, size_t n, size_t size)
{
  if (!*p || n == *cap || n == 0)
    return 0;
  void *np = sr_realloc(mem, *p, n * size);
  if (!np)
    return SIPREC_ENOMEM;
  *p = np;
  *cap = n;
  return 0;
}

static int compact(md_content *c)
{
  int rc = 0;
  for (int k = 0; k < MD_KINDS && rc == 0; k++) {
    void *p = c->recs[k];
    rc = shrink(&c->mem, &p, &c->cap[k], c->n[k], sizeof *c->recs[k]);
    c->recs[k] = p;
  }
  void *p = (void *)c->strs;
  if (rc == 0)
    rc = shrink(&c->mem, &p, &c->cap_strs, c->n_strs, sizeof *c->strs);
  c->strs = p;
  p = c->ext;
  if (rc == 0)
    rc = shrink(&c->mem, &p, &c->cap_ext, c->n_ext, sizeof *c->ext);
  c->ext = p;
  return rc;
}

int md_fold(const siprec_allocator *mem, const md_content *base, md_content *delta,
            md_content **out)
{
  *out = NULL;
  int rc;
  if (!base) {
    /* The usual case: a complete document without repeated ids is its own
     * result, indexed in place. */
    int dup;
    rc = index_all(delta, &dup);
    if (rc == 0 && !dup && (rc = resolve(delta)) == 0 && (rc = md_label_index(delta)) == 0 &&
        (rc = compact(delta)) == 0) {
      *out = delta;
      return 0;
    }
    if (rc < 0) {
      md_content_unref(delta);
      return rc;
    }
  }
  md_content *r = md_content_new(mem, 0);
  if (!r) {
    md_content_unref(delta);
    return SIPREC_ENOMEM;
  }
  /* The update's strings move into the result; the base's are copied. */
  r->arena = delta->arena;
  md_arena_init(&delta->arena, 0);
  uint32_t *map[MD_KINDS] = { 0 };
  rc = fold_records(r, base, delta, map);
  if (rc == 0)
    rc = fold_ext(r, base, delta, map);
  if (rc == 0)
    rc = resolve(r);
  if (rc == 0)
    rc = md_label_index(r);
  if (rc == 0)
    rc = compact(r);
  for (int k = 0; k < MD_KINDS; k++)
    sr_free(&r->mem, map[k]);
  md_content_unref(delta);
  if (rc < 0) {
    md_content_unref(r);
    return rc;
  }
  *out = r;
  return 0;
}
