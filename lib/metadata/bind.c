/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tying SDP m-lines to the people on them: the label first, then the order
 * of the streams, then the order of the participants (clients that send no
 * labels or no associations); and the models of recordings with no
 * metadata, whose participants a header names. */
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "model.h"

/* The largest m-line index a header may name: far above any real SDP. */
#define MD_MAX_MLINES 1024

static int copy_header(siprec_metadata *b, const siprec_metadata *m)
{
  if (!m)
    return 0;
  b->status = m->status;
  b->error = m->error;
  b->datamode = m->datamode;
  b->schema = m->schema;
  b->c = md_model_ref(m->c);
  int rc = md_snapshot_set_detail(b, m->detail);
  return rc < 0 ? rc : md_snapshot_set_raw(b, m->raw, m->raw_len);
}

static const md_ilist *stream_senders(const md_model *c, size_t s)
{
  return c ? md_pvec_get(&c->lists[MD_SS], s) : NULL;
}

static int bind_mlines(siprec_metadata *b, const char *const *labels, size_t n)
{
  const md_model *c = b->c;
  size_t ns = md_count(c, SIPREC_METADATA_STREAM);
  size_t np = md_count(c, SIPREC_METADATA_PARTICIPANT);
  b->mlines = sr_calloc(&b->mem, n, sizeof *b->mlines);
  uint8_t *claimed = sr_calloc(&b->mem, ns + 1, 1);
  if (!b->mlines || !claimed) {
    sr_free(&b->mem, claimed);
    return SIPREC_ENOMEM;
  }
  b->n_mlines = n;
  md_mline *ml = b->mlines;
  for (size_t i = 0; i < n; i++) {
    ml[i].stream = labels[i] ? md_label_find(c, labels[i]) : MD_NONE;
    ml[i].rule = SIPREC_METADATA_RULE_LABEL;
    if (ml[i].stream != MD_NONE)
      claimed[ml[i].stream] = 1;
  }
  for (size_t i = 0; i < n; i++)
    if (ml[i].stream == MD_NONE && i < ns && !claimed[i]) {
      ml[i].stream = i;
      ml[i].rule = SIPREC_METADATA_RULE_STREAM_ORDER;
      claimed[i] = 1;
    }
  sr_free(&b->mem, claimed);
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    const md_ilist *sl = ml[i].stream != MD_NONE ? stream_senders(c, ml[i].stream) : NULL;
    size_t k = sl ? sl->n : 0;
    if (k == 0) {
      ml[i].rule = i < np ? SIPREC_METADATA_RULE_PARTICIPANT_ORDER : SIPREC_METADATA_RULE_NONE;
      k = i < np;
    }
    ml[i].off = (uint32_t)total;
    ml[i].len = (uint32_t)k;
    total += k;
  }
  if (total && !(b->mline_senders = sr_calloc(&b->mem, total, sizeof *b->mline_senders)))
    return SIPREC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (ml[i].rule == SIPREC_METADATA_RULE_PARTICIPANT_ORDER)
      b->mline_senders[ml[i].off] = (uint32_t)i;
    else if (ml[i].len) {
      const md_ilist *sl = stream_senders(c, ml[i].stream);
      if (sl)
        memcpy(b->mline_senders + ml[i].off, sl->v, ml[i].len * sizeof *b->mline_senders);
    }
  }
  return 0;
}

SIPREC_API int siprec_metadata_bind(siprec_metadata **out, const siprec_metadata *m,
                                    const char *const *labels, size_t n,
                                    const siprec_allocator *mem)
{
  siprec_allocator am;
  if (!out || (n && !labels) || n > UINT32_MAX / 4 || sr_alloc_init(&am, mem) < 0)
    return SIPREC_EINVAL;
  siprec_metadata *b = md_snapshot_new(&am);
  if (!b)
    return SIPREC_ENOMEM;
  int rc = copy_header(b, m);
  if (rc == 0 && n)
    rc = bind_mlines(b, labels, n);
  if (rc < 0) {
    siprec_metadata_unref(b);
    return rc;
  }
  *out = b;
  return 0;
}

SIPREC_API size_t siprec_metadata_mline_count(const siprec_metadata *m)
{
  return m ? m->n_mlines : 0;
}

SIPREC_API int siprec_metadata_mline(const siprec_metadata *m, size_t mline, size_t *stream,
                                     siprec_metadata_rule *rule)
{
  if (!m || mline >= m->n_mlines)
    return SIPREC_EINVAL;
  if (stream)
    *stream = m->mlines[mline].stream;
  if (rule)
    *rule = m->mlines[mline].rule;
  return 0;
}

SIPREC_API size_t siprec_metadata_mline_sender(const siprec_metadata *m, size_t mline, size_t k,
                                               size_t *participant)
{
  if (!m || mline >= m->n_mlines)
    return 0;
  const md_mline *ml = &m->mlines[mline];
  if (k < ml->len && participant)
    *participant = m->mline_senders[ml->off + k];
  return ml->len;
}

SIPREC_API const char *siprec_metadata_rule_name(siprec_metadata_rule rule)
{
  switch (rule) {
  case SIPREC_METADATA_RULE_NONE: return "none";
  case SIPREC_METADATA_RULE_LABEL: return "label";
  case SIPREC_METADATA_RULE_STREAM_ORDER: return "stream-order";
  case SIPREC_METADATA_RULE_PARTICIPANT_ORDER: return "participant-order";
  case SIPREC_METADATA_RULE_HEADERS: return "headers";
  default: return "unknown";
  }
}

/* ---------------------------------------------------------------------- */

static int header_participants(md_content *d, const char *const *aors, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char id[32];
    int idn = snprintf(id, sizeof id, "header-%zu", i);
    size_t idx = md_rec_add(d, SIPREC_METADATA_PARTICIPANT);
    if (idx == MD_NONE)
      return SIPREC_ENOMEM;
    const char *t[3] = { md_arena_strndup(&d->mem, &d->arena, aors[i], strlen(aors[i])), NULL,
                         NULL };
    const char *key = md_arena_strndup(&d->mem, &d->arena, id, (size_t)idn);
    md_rec *r = &d->recs[SIPREC_METADATA_PARTICIPANT][idx];
    r->key[0] = key;
    r->list_off[MD_L_NAMES] = (uint32_t)d->n_strs;
    r->list_len[MD_L_NAMES] = 3;
    if (!t[0] || !key || md_strs_add(d, t, 3) < 0)
      return SIPREC_ENOMEM;
  }
  return 0;
}

/* The participants as a model (a handful: no limit can be passed). */
static int fold_headers(siprec_metadata *b, md_content *d)
{
  md_touched t;
  char why[112];
  int rc = md_fold(&b->mem, NULL, d, md_default_limits(), &b->c, &t, why, sizeof why);
  if (rc == 0)
    md_touched_free(&b->mem, &t);
  return rc;
}

static int header_mlines(siprec_metadata *b, const int *mlines, size_t n)
{
  size_t nm = 0;
  for (size_t i = 0; mlines && i < n; i++)
    if (mlines[i] >= 0 && (size_t)mlines[i] + 1 > nm)
      nm = (size_t)mlines[i] + 1;
  if (!nm)
    return 0;
  b->mlines = sr_calloc(&b->mem, nm, sizeof *b->mlines);
  b->mline_senders = sr_calloc(&b->mem, n, sizeof *b->mline_senders);
  if (!b->mlines || !b->mline_senders)
    return SIPREC_ENOMEM;
  b->n_mlines = nm;
  uint32_t used = 0;
  for (size_t k = 0; k < nm; k++) {
    md_mline *ml = &b->mlines[k];
    ml->stream = MD_NONE;
    ml->off = used;
    for (size_t i = 0; i < n; i++)
      if (mlines[i] == (int)k)
        b->mline_senders[used++] = (uint32_t)i;
    ml->len = used - ml->off;
    ml->rule = ml->len ? SIPREC_METADATA_RULE_HEADERS : SIPREC_METADATA_RULE_NONE;
  }
  return 0;
}

SIPREC_API int siprec_metadata_from_headers(siprec_metadata **out, const char *const *aors,
                                            const int *mlines, size_t n,
                                            const siprec_allocator *mem)
{
  siprec_allocator am;
  if (!out || (n && !aors) || n > MD_MAX_MLINES || sr_alloc_init(&am, mem) < 0)
    return SIPREC_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!aors[i] || (mlines && mlines[i] >= MD_MAX_MLINES))
      return SIPREC_EINVAL;
  siprec_metadata *b = md_snapshot_new(&am);
  if (!b)
    return SIPREC_ENOMEM;
  b->status = SIPREC_METADATA_HEADERS;
  md_content *d = md_content_new(&b->mem, 64);
  int rc = d ? header_participants(d, aors, n) : SIPREC_ENOMEM;
  if (rc < 0)
    md_content_unref(d);
  else
    rc = fold_headers(b, d);
  if (rc == 0)
    rc = header_mlines(b, mlines, n);
  if (rc < 0) {
    siprec_metadata_unref(b);
    return rc;
  }
  *out = b;
  return 0;
}
