/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a snapshot: participants, streams, sessions, groups,
 * associations and extension entries. */
#include <string.h>

#include "model.h"

static const md_model *content(const siprec_metadata *m)
{
  return m ? m->c : NULL;
}

static size_t count(const siprec_metadata *m, int kind)
{
  return md_count(content(m), kind);
}

static const md_rec *rec(const siprec_metadata *m, int kind, size_t i)
{
  const md_model *c = content(m);
  return c && i < c->recs[kind].n ? md_rec_at(c, kind, i) : NULL;
}

static void put(const char **out, const char *v)
{
  if (out)
    *out = v;
}

/* Item i of a resolved list (per stream or per participant). */
static size_t list_get(const siprec_metadata *m, int which, int kind, size_t i, size_t k,
                       size_t *v)
{
  const md_model *c = content(m);
  if (!c || i >= c->recs[kind].n)
    return 0;
  const md_ilist *l = md_pvec_get(&c->lists[which], i);
  if (!l)
    return 0;
  if (k < l->n && v)
    *v = l->v[k];
  return l->n;
}

static int find(const siprec_metadata *m, int kind, const char *id, size_t *index)
{
  if (!id)
    return SIPREC_EINVAL;
  size_t i = md_index_find(content(m), kind, id, NULL);
  if (i == MD_NONE)
    return SIPREC_ENOTFOUND;
  if (index)
    *index = i;
  return 0;
}

/* ---------------------------------------------------------------------- */

SIPREC_API size_t siprec_metadata_participant_count(const siprec_metadata *m)
{
  return count(m, SIPREC_METADATA_PARTICIPANT);
}

SIPREC_API size_t siprec_metadata_participant_nameid(const siprec_metadata *m, size_t index,
                                                     size_t k, const char **aor,
                                                     const char **name, const char **lang)
{
  const md_rec *r = rec(m, SIPREC_METADATA_PARTICIPANT, index);
  if (!r)
    return 0;
  size_t n = r->list_len[MD_L_NAMES] / 3;
  if (k < n) {
    const char *const *t = &r->list[MD_L_NAMES][3 * k];
    put(aor, t[0]);
    put(name, t[1]);
    put(lang, t[2]);
  }
  return n;
}

SIPREC_API int siprec_metadata_participant(const siprec_metadata *m, size_t index,
                                           const char **id, const char **aor, const char **name,
                                           const char **lang)
{
  const md_rec *r = rec(m, SIPREC_METADATA_PARTICIPANT, index);
  if (!r)
    return SIPREC_EINVAL;
  put(id, r->key[0]);
  if (siprec_metadata_participant_nameid(m, index, 0, aor, name, lang) == 0) {
    put(aor, NULL);
    put(name, NULL);
    put(lang, NULL);
  }
  return 0;
}

SIPREC_API int siprec_metadata_participant_find(const siprec_metadata *m, const char *id,
                                                size_t *index)
{
  return find(m, SIPREC_METADATA_PARTICIPANT, id, index);
}

SIPREC_API size_t siprec_metadata_participant_sends(const siprec_metadata *m, size_t index,
                                                    size_t k, size_t *stream)
{
  return list_get(m, MD_PS, SIPREC_METADATA_PARTICIPANT, index, k, stream);
}

SIPREC_API size_t siprec_metadata_participant_receives(const siprec_metadata *m, size_t index,
                                                       size_t k, size_t *stream)
{
  return list_get(m, MD_PR, SIPREC_METADATA_PARTICIPANT, index, k, stream);
}

/* ---------------------------------------------------------------------- */

SIPREC_API size_t siprec_metadata_stream_count(const siprec_metadata *m)
{
  return count(m, SIPREC_METADATA_STREAM);
}

SIPREC_API int siprec_metadata_stream(const siprec_metadata *m, size_t index, const char **id,
                                      const char **session_id, const char **label)
{
  const md_rec *r = rec(m, SIPREC_METADATA_STREAM, index);
  if (!r)
    return SIPREC_EINVAL;
  put(id, r->key[0]);
  put(session_id, r->f[MD_F_STREAM_SESSION]);
  put(label, r->f[MD_F_STREAM_LABEL]);
  return 0;
}

SIPREC_API int siprec_metadata_stream_find(const siprec_metadata *m, const char *id,
                                           size_t *index)
{
  return find(m, SIPREC_METADATA_STREAM, id, index);
}

SIPREC_API int siprec_metadata_stream_find_label(const siprec_metadata *m, const char *label,
                                                 size_t *index)
{
  if (!label)
    return SIPREC_EINVAL;
  size_t i = md_label_find(content(m), label);
  if (i == MD_NONE)
    return SIPREC_ENOTFOUND;
  if (index)
    *index = i;
  return 0;
}

SIPREC_API size_t siprec_metadata_stream_sender(const siprec_metadata *m, size_t index, size_t k,
                                                size_t *participant)
{
  return list_get(m, MD_SS, SIPREC_METADATA_STREAM, index, k, participant);
}

SIPREC_API size_t siprec_metadata_stream_receiver(const siprec_metadata *m, size_t index,
                                                  size_t k, size_t *participant)
{
  return list_get(m, MD_SR, SIPREC_METADATA_STREAM, index, k, participant);
}

/* ---------------------------------------------------------------------- */

SIPREC_API size_t siprec_metadata_session_count(const siprec_metadata *m)
{
  return count(m, SIPREC_METADATA_SESSION);
}

SIPREC_API int siprec_metadata_session(const siprec_metadata *m, size_t index, const char **id,
                                       const char **group_ref, const char **start_time,
                                       const char **stop_time)
{
  const md_rec *r = rec(m, SIPREC_METADATA_SESSION, index);
  if (!r)
    return SIPREC_EINVAL;
  put(id, r->key[0]);
  put(group_ref, r->f[MD_F_SESSION_GROUP]);
  put(start_time, r->f[MD_F_SESSION_START]);
  put(stop_time, r->f[MD_F_SESSION_STOP]);
  return 0;
}

SIPREC_API size_t siprec_metadata_session_sip_session_id(const siprec_metadata *m, size_t index,
                                                         size_t k, const char **value)
{
  const md_rec *r = rec(m, SIPREC_METADATA_SESSION, index);
  if (!r)
    return 0;
  if (k < r->list_len[MD_L_SIP_SESSION_IDS])
    put(value, r->list[MD_L_SIP_SESSION_IDS][k]);
  return r->list_len[MD_L_SIP_SESSION_IDS];
}

SIPREC_API size_t siprec_metadata_group_count(const siprec_metadata *m)
{
  return count(m, SIPREC_METADATA_GROUP);
}

/* The kinds whose records are (key, associate-time, disassociate-time). */
static int timed(const siprec_metadata *m, int kind, size_t index, const char **key,
                 const char **key2, const char **at, const char **dt)
{
  const md_rec *r = rec(m, kind, index);
  if (!r)
    return SIPREC_EINVAL;
  put(key, r->key[0]);
  put(key2, r->key[1]);
  put(at, r->f[MD_F_ASSOCIATE]);
  put(dt, r->f[MD_F_DISASSOCIATE]);
  return 0;
}

SIPREC_API int siprec_metadata_group(const siprec_metadata *m, size_t index, const char **id,
                                     const char **associate_time,
                                     const char **disassociate_time)
{
  return timed(m, SIPREC_METADATA_GROUP, index, id, NULL, associate_time, disassociate_time);
}

SIPREC_API size_t siprec_metadata_participant_session_count(const siprec_metadata *m)
{
  return count(m, SIPREC_METADATA_PARTICIPANT_SESSION);
}

SIPREC_API int siprec_metadata_participant_session(const siprec_metadata *m, size_t index,
                                                   const char **participant_id,
                                                   const char **session_id,
                                                   const char **associate_time,
                                                   const char **disassociate_time)
{
  return timed(m, SIPREC_METADATA_PARTICIPANT_SESSION, index, participant_id, session_id,
               associate_time, disassociate_time);
}

SIPREC_API size_t siprec_metadata_session_recording_count(const siprec_metadata *m)
{
  return count(m, SIPREC_METADATA_SESSION_RECORDING);
}

SIPREC_API int siprec_metadata_session_recording(const siprec_metadata *m, size_t index,
                                                 const char **session_id,
                                                 const char **associate_time,
                                                 const char **disassociate_time)
{
  return timed(m, SIPREC_METADATA_SESSION_RECORDING, index, session_id, NULL, associate_time,
               disassociate_time);
}

/* ---------------------------------------------------------------------- */

SIPREC_API size_t siprec_metadata_extension_count(const siprec_metadata *m)
{
  const md_model *c = content(m);
  return c ? c->ext.n : 0;
}

SIPREC_API int siprec_metadata_extension(const siprec_metadata *m, size_t index, const char **ns,
                                         const char **path, const char **text)
{
  const md_model *c = content(m);
  if (!c || index >= c->ext.n)
    return SIPREC_EINVAL;
  const md_ext *e = md_pvec_get(&c->ext, index);
  put(ns, e->ns);
  put(path, e->path);
  put(text, e->text);
  return 0;
}

SIPREC_API int siprec_metadata_extension_owner(const siprec_metadata *m, size_t index,
                                               siprec_metadata_kind *kind, const char **id)
{
  const md_model *c = content(m);
  if (!c || index >= c->ext.n)
    return SIPREC_EINVAL;
  const md_ext *e = md_pvec_get(&c->ext, index);
  if (kind)
    *kind = (siprec_metadata_kind)e->owner_kind;
  put(id, e->owner_idx == MD_NO_OWNER ? NULL : md_rec_at(c, e->owner_kind, e->owner_idx)->key[0]);
  return 0;
}
