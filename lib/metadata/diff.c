/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Change sets: what differs between two contents, object by object, matched
 * by key. Objects without an id cannot be matched and are not reported. */
#include <string.h>

#include "../common/alloc.h"
#include "model.h"

static int str_eq(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

static int rec_equal(const md_rec *x, const md_rec *y)
{
  if (x == y)
    return 1;
  for (int f = 0; f < 3; f++)
    if (!str_eq(x->f[f], y->f[f]))
      return 0;
  for (int l = 0; l < 2; l++) {
    if (x->list_len[l] != y->list_len[l])
      return 0;
    for (uint32_t k = 0; k < x->list_len[l]; k++)
      if (!str_eq(x->list[l][k], y->list[l][k]))
        return 0;
  }
  return 1;
}

static int add(const siprec_allocator *mem, siprec_metadata_changes *ch, size_t *cap, int kind,
               int change, const md_rec *r)
{
  if (ch->n == *cap) {
    md_change *np = md_grow(mem, ch->v, cap, ch->n + 1, sizeof *np);
    if (!np)
      return SIPREC_ENOMEM;
    ch->v = np;
  }
  md_change *e = &ch->v[ch->n++];
  e->kind = (uint8_t)kind;
  e->change = (uint8_t)change;
  e->key = r->key[0];
  e->key2 = r->key[1];
  return 0;
}

/* Record i of `to` against its version in `from`, if any. */
static int compare(const siprec_allocator *mem, siprec_metadata_changes *ch, size_t *cap,
                   const md_model *from, const md_model *to, int k, size_t i)
{
  const md_rec *r = md_rec_at(to, k, i);
  if (!r->key[0])
    return 0;
  size_t j = md_index_find(from, k, r->key[0], r->key[1]);
  if (j == MD_NONE)
    return add(mem, ch, cap, k, SIPREC_METADATA_ADDED, r);
  if (!rec_equal(md_rec_at(from, k, j), r))
    return add(mem, ch, cap, k, SIPREC_METADATA_CHANGED, r);
  return 0;
}

/* A partial update is compared on the records it touched (nothing is
 * removed); a complete one on every record of both models. */
static int diff_kind(const siprec_allocator *mem, siprec_metadata_changes *ch, size_t *cap,
                     const md_model *from, const md_model *to, const md_touched *t, int k)
{
  int rc = 0;
  if (t && !t->complete) {
    uint32_t *v = t->n[k] ? sr_calloc(mem, t->n[k], sizeof *v) : NULL;
    if (t->n[k] && !v)
      return SIPREC_ENOMEM;
    if (v)
      memcpy(v, t->v[k], t->n[k] * sizeof *v);
    size_t n = md_sort_unique(v, t->n[k]);
    for (size_t i = 0; i < n && rc == 0; i++)
      rc = compare(mem, ch, cap, from, to, k, v[i]);
    sr_free(mem, v);
    return rc;
  }
  for (size_t i = 0; i < md_count(to, k) && rc == 0; i++)
    rc = compare(mem, ch, cap, from, to, k, i);
  for (size_t j = 0; j < md_count(from, k) && rc == 0; j++) {
    const md_rec *o = md_rec_at(from, k, j);
    if (o->key[0] && md_index_find(to, k, o->key[0], o->key[1]) == MD_NONE)
      rc = add(mem, ch, cap, k, SIPREC_METADATA_REMOVED, o);
  }
  return rc;
}

int md_diff(const siprec_allocator *mem, md_model *from, md_model *to, const md_touched *t,
            siprec_metadata_changes **out)
{
  siprec_metadata_changes *ch = sr_calloc(mem, 1, sizeof *ch);
  if (!ch)
    return SIPREC_ENOMEM;
  ch->mem = *mem;
  size_t cap = 0;
  for (int k = 0; from != to && k < MD_KINDS; k++)
    if (diff_kind(mem, ch, &cap, from, to, t, k) < 0) {
      sr_free(mem, ch->v);
      sr_free(mem, ch);
      return SIPREC_ENOMEM;
    }
  ch->from = md_model_ref(from);
  ch->to = md_model_ref(to);
  *out = ch;
  return 0;
}

SIPREC_API size_t siprec_metadata_changes_count(const siprec_metadata_changes *c)
{
  return c ? c->n : 0;
}

SIPREC_API int siprec_metadata_changes_get(const siprec_metadata_changes *c, size_t index,
                                           siprec_metadata_kind *kind,
                                           siprec_metadata_change *change, const char **key,
                                           const char **key2)
{
  if (!c || index >= c->n)
    return SIPREC_EINVAL;
  const md_change *e = &c->v[index];
  if (kind)
    *kind = (siprec_metadata_kind)e->kind;
  if (change)
    *change = (siprec_metadata_change)e->change;
  if (key)
    *key = e->key;
  if (key2)
    *key2 = e->key2;
  return 0;
}

SIPREC_API size_t siprec_metadata_changes_tally(const siprec_metadata_changes *c,
                                                siprec_metadata_kind kind,
                                                siprec_metadata_change change)
{
  size_t n = 0;
  for (size_t i = 0; c && i < c->n; i++)
    n += c->v[i].kind == (uint8_t)kind && c->v[i].change == (uint8_t)change;
  return n;
}

SIPREC_API void siprec_metadata_changes_free(siprec_metadata_changes *c)
{
  if (!c)
    return;
  siprec_allocator mem = c->mem;
  md_model_unref(c->from);
  md_model_unref(c->to);
  sr_free(&mem, c->v);
  sr_free(&mem, c);
}

SIPREC_API const char *siprec_metadata_kind_name(siprec_metadata_kind kind)
{
  switch (kind) {
  case SIPREC_METADATA_PARTICIPANT: return "participant";
  case SIPREC_METADATA_STREAM: return "stream";
  case SIPREC_METADATA_SESSION: return "session";
  case SIPREC_METADATA_GROUP: return "group";
  case SIPREC_METADATA_PARTICIPANT_SESSION: return "participant-session";
  case SIPREC_METADATA_PARTICIPANT_STREAM: return "participant-stream";
  case SIPREC_METADATA_SESSION_RECORDING: return "session-recording";
  case SIPREC_METADATA_RECORDING: return "recording";
  default: return "unknown";
  }
}

SIPREC_API const char *siprec_metadata_change_name(siprec_metadata_change change)
{
  switch (change) {
  case SIPREC_METADATA_ADDED: return "added";
  case SIPREC_METADATA_REMOVED: return "removed";
  case SIPREC_METADATA_CHANGED: return "changed";
  default: return "unknown";
  }
}
