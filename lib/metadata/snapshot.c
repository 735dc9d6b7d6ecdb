/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Snapshots: made by applying a document to the previous one, shared by
 * reference counting, never changed once made. */
#include <string.h>

#include "../common/alloc.h"
#include "model.h"

siprec_metadata *md_snapshot_new(const siprec_allocator *mem)
{
  siprec_metadata *m = sr_calloc(mem, 1, sizeof *m);
  if (!m)
    return NULL;
  atomic_init(&m->refs, 1);
  m->mem = *mem;
  return m;
}

int md_snapshot_set_raw(siprec_metadata *m, const char *raw, size_t len)
{
  if (!raw)
    return 0;
  m->raw = sr_malloc(&m->mem, len + 1);
  if (!m->raw)
    return SIPREC_ENOMEM;
  if (len)
    memcpy(m->raw, raw, len);
  m->raw[len] = '\0';
  m->raw_len = len;
  return 0;
}

int md_snapshot_set_detail(siprec_metadata *m, const char *detail)
{
  if (!detail || !detail[0])
    return 0;
  size_t n = strlen(detail) + 1;
  if (!(m->detail = sr_malloc(&m->mem, n)))
    return SIPREC_ENOMEM;
  memcpy(m->detail, detail, n);
  return 0;
}

static void snapshot_free(siprec_metadata *m)
{
  siprec_allocator mem = m->mem;
  md_model_unref(m->c);
  sr_free(&mem, m->detail);
  sr_free(&mem, m->raw);
  sr_free(&mem, m->mlines);
  sr_free(&mem, m->mline_senders);
  sr_free(&mem, m);
}

SIPREC_API siprec_metadata *siprec_metadata_ref(siprec_metadata *m)
{
  if (m)
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

SIPREC_API void siprec_metadata_unref(siprec_metadata *m)
{
  if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
    snapshot_free(m);
}

SIPREC_API int siprec_metadata_apply(siprec_metadata **out, siprec_metadata_changes **changes,
                                     const siprec_metadata *current, const void *xml, size_t len,
                                     const siprec_metadata_limits *limits,
                                     const siprec_allocator *mem)
{
  siprec_allocator am;
  if (!out || (!xml && len) || sr_alloc_init(&am, mem) < 0)
    return SIPREC_EINVAL;
  const siprec_metadata_limits *lim = limits ? limits : md_default_limits();
  siprec_metadata *m = md_snapshot_new(&am);
  if (!m)
    return SIPREC_ENOMEM;
  /* A document over the size limit is not copied: the limit bounds memory. */
  int rc = len <= lim->max_bytes ? md_snapshot_set_raw(m, xml, len) : 0;
  md_content *delta = NULL;
  md_parse_result res = { 0 };
  if (rc == 0)
    rc = md_parse(&m->mem, lim, xml ? xml : "", len, &delta, &res);
  md_touched t = { 0 };
  md_model *next = NULL;
  int refused = 0;
  if (rc == 0 && !res.error) {
    const md_model *base =
      res.datamode == SIPREC_METADATA_DATAMODE_PARTIAL && current ? current->c : NULL;
    rc = md_fold(&m->mem, base, delta, lim, &next, &t, res.detail, sizeof res.detail);
    if (rc == SIPREC_ETOOBIG) {
      /* Read, but the merged model would pass a limit: not applied. */
      res.error = SIPREC_ETOOBIG;
      refused = 1;
      rc = 0;
    }
  }
  if (rc == 0 && res.error) {
    /* The recording goes on with what was known before. */
    m->status = refused ? SIPREC_METADATA_REFUSED : SIPREC_METADATA_UNREADABLE;
    m->error = res.error;
    m->c = current ? md_model_ref(current->c) : NULL;
    m->datamode = current ? current->datamode : SIPREC_METADATA_DATAMODE_NONE;
    m->schema = current ? current->schema : SIPREC_METADATA_SCHEMA_NONE;
    rc = md_snapshot_set_detail(m, res.detail);
  } else if (rc == 0) {
    m->status = SIPREC_METADATA_OK;
    m->datamode = res.datamode;
    m->schema = res.schema;
    m->c = next;
  }
  siprec_metadata_changes *ch = NULL;
  if (rc == 0 && changes)
    rc = md_diff(&m->mem, current ? current->c : NULL, m->c, m->c == next ? &t : NULL, &ch);
  md_touched_free(&m->mem, &t);
  if (rc < 0) {
    snapshot_free(m);
    return rc;
  }
  *out = m;
  if (changes)
    *changes = ch;
  return 0;
}

SIPREC_API int siprec_metadata_parse(siprec_metadata **out, const void *xml, size_t len,
                                     const siprec_metadata_limits *limits,
                                     const siprec_allocator *mem)
{
  return siprec_metadata_apply(out, NULL, NULL, xml, len, limits, mem);
}

SIPREC_API siprec_metadata_status siprec_metadata_get_status(const siprec_metadata *m)
{
  return m ? m->status : SIPREC_METADATA_ABSENT;
}

SIPREC_API const char *siprec_metadata_status_name(siprec_metadata_status status)
{
  switch (status) {
  case SIPREC_METADATA_ABSENT: return "absent";
  case SIPREC_METADATA_OK: return "ok";
  case SIPREC_METADATA_UNREADABLE: return "unreadable";
  case SIPREC_METADATA_HEADERS: return "headers";
  case SIPREC_METADATA_REFUSED: return "refused";
  default: return "unknown";
  }
}

SIPREC_API int siprec_metadata_error(const siprec_metadata *m)
{
  return m ? m->error : 0;
}

SIPREC_API const char *siprec_metadata_error_detail(const siprec_metadata *m)
{
  return m && m->detail ? m->detail : "";
}

SIPREC_API const char *siprec_metadata_raw(const siprec_metadata *m, size_t *len)
{
  if (len)
    *len = m ? m->raw_len : 0;
  return m ? m->raw : NULL;
}

SIPREC_API siprec_metadata_datamode siprec_metadata_get_datamode(const siprec_metadata *m)
{
  return m ? m->datamode : SIPREC_METADATA_DATAMODE_NONE;
}

SIPREC_API siprec_metadata_schema siprec_metadata_get_schema(const siprec_metadata *m)
{
  return m ? m->schema : SIPREC_METADATA_SCHEMA_NONE;
}
