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

static int rec_equal(const md_content *a, const md_rec *x, const md_content *b, const md_rec *y)
{
  for (int f = 0; f < 3; f++)
    if (!str_eq(x->f[f], y->f[f]))
      return 0;
  for (int l = 0; l < 2; l++) {
    if (x->list_len[l] != y->list_len[l])
      return 0;
    for (uint32_t k = 0; k < x->list_len[l]; k++)
      if (!str_eq(md_list_at(a, x, l, k), md_list_at(b, y, l, k)))
        return 0;
  }
  return 1;
}

static void add(siprec_metadata_changes *ch, int kind, int change, const md_rec *r)
{
  md_change *e = &ch->v[ch->n++];
  e->kind = (uint8_t)kind;
  e->change = (uint8_t)change;
  e->key = r->key[0];
  e->key2 = r->key[1];
}

int md_diff(const siprec_allocator *mem, md_content *from, md_content *to,
            siprec_metadata_changes **out)
{
  siprec_metadata_changes *ch = sr_calloc(mem, 1, sizeof *ch);
  if (!ch)
    return SIPREC_ENOMEM;
  ch->mem = *mem;
  size_t most = 0;
  if (from != to)
    for (int k = 0; k < MD_KINDS; k++)
      most += (from ? from->n[k] : 0) + (to ? to->n[k] : 0);
  if (most && !(ch->v = sr_calloc(mem, most, sizeof *ch->v))) {
    sr_free(mem, ch);
    return SIPREC_ENOMEM;
  }
  for (int k = 0; most && k < MD_KINDS; k++) {
    for (size_t i = 0; to && i < to->n[k]; i++) {
      const md_rec *r = &to->recs[k][i];
      if (!r->key[0])
        continue;
      size_t j = md_index_find(from, k, r->key[0], r->key[1]);
      if (j == MD_NONE)
        add(ch, k, SIPREC_METADATA_ADDED, r);
      else if (!rec_equal(from, &from->recs[k][j], to, r))
        add(ch, k, SIPREC_METADATA_CHANGED, r);
    }
    for (size_t j = 0; from && j < from->n[k]; j++) {
      const md_rec *o = &from->recs[k][j];
      if (o->key[0] && md_index_find(to, k, o->key[0], o->key[1]) == MD_NONE)
        add(ch, k, SIPREC_METADATA_REMOVED, o);
    }
  }
  ch->from = md_content_ref(from);
  ch->to = md_content_ref(to);
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
  md_content_unref(c->from);
  md_content_unref(c->to);
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
