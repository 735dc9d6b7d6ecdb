/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "metadata-json.h"

#include <string.h>

#include "session-json.h"

static json_t *str_or_null(const char *s)
{
  return s ? json_from_bytes(s, strlen(s)) : json_null();
}

static json_t *str_or_empty(const char *s)
{
  return json_from_bytes(s ? s : "", s ? strlen(s) : 0);
}

static json_t *participant_aor(const siprec_metadata *m, size_t p)
{
  const char *aor = NULL;
  siprec_metadata_participant(m, p, NULL, &aor, NULL, NULL);
  return str_or_empty(aor);
}

/* AORs of the participants a (count, k -> participant) accessor lists. */
static json_t *aors(const siprec_metadata *m, size_t index,
                    size_t (*list)(const siprec_metadata *, size_t, size_t, size_t *))
{
  json_t *a = json_array();
  size_t n = list(m, index, 0, NULL);
  for (size_t k = 0; k < n; k++) {
    size_t p;
    list(m, index, k, &p);
    json_array_append_new(a, participant_aor(m, p));
  }
  return a;
}

json_t *metadata_json(const siprec_metadata *m)
{
  json_t *md = json_object();
  json_object_set_new(md, "status",
                      json_string(siprec_metadata_status_name(siprec_metadata_get_status(m))));
  if (siprec_metadata_error(m))
    json_object_set_new(md, "error", json_string(siprec_metadata_error_detail(m)));

  json_t *parts = json_array();
  for (size_t i = 0; i < siprec_metadata_participant_count(m); i++) {
    const char *id = NULL, *aor = NULL, *name = NULL;
    siprec_metadata_participant(m, i, &id, &aor, &name, NULL);
    json_t *p = json_object();
    json_object_set_new(p, "id", str_or_empty(id));
    json_object_set_new(p, "aor", str_or_empty(aor));
    json_object_set_new(p, "name", str_or_null(name));
    json_array_append_new(parts, p);
  }
  json_object_set_new(md, "participants", parts);

  json_t *streams = json_array();
  for (size_t i = 0; i < siprec_metadata_stream_count(m); i++) {
    const char *id = NULL, *label = NULL;
    siprec_metadata_stream(m, i, &id, NULL, &label);
    json_t *st = json_object();
    json_object_set_new(st, "id", str_or_empty(id));
    json_object_set_new(st, "label", str_or_null(label));
    json_object_set_new(st, "senders", aors(m, i, siprec_metadata_stream_sender));
    json_object_set_new(st, "receivers", aors(m, i, siprec_metadata_stream_receiver));
    json_array_append_new(streams, st);
  }
  json_object_set_new(md, "streams", streams);

  json_t *sessions = json_array();
  for (size_t i = 0; i < siprec_metadata_session_count(m); i++) {
    const char *id = NULL;
    siprec_metadata_session(m, i, &id, NULL, NULL, NULL);
    json_t *ids = json_array();
    size_t n = siprec_metadata_session_sip_session_id(m, i, 0, NULL);
    for (size_t k = 0; k < n; k++) {
      const char *v = NULL;
      siprec_metadata_session_sip_session_id(m, i, k, &v);
      json_array_append_new(ids, str_or_empty(v));
    }
    json_t *se = json_object();
    json_object_set_new(se, "id", str_or_empty(id));
    json_object_set_new(se, "sip_session_ids", ids);
    json_array_append_new(sessions, se);
  }
  json_object_set_new(md, "sessions", sessions);

  json_t *ext = json_array();
  for (size_t i = 0; i < siprec_metadata_extension_count(m); i++) {
    const char *ns = NULL, *path = NULL, *text = NULL;
    siprec_metadata_extension(m, i, &ns, &path, &text);
    json_t *e = json_object();
    json_object_set_new(e, "namespace", str_or_empty(ns));
    json_object_set_new(e, "path", str_or_empty(path));
    json_object_set_new(e, "text", str_or_empty(text));
    json_array_append_new(ext, e);
  }
  json_object_set_new(md, "extensions", ext);
  return md;
}

json_t *mline_senders_json(const siprec_metadata *m, size_t mline, const char **rule)
{
  siprec_metadata_rule r = SIPREC_METADATA_RULE_NONE;
  if (siprec_metadata_mline(m, mline, NULL, &r) < 0)
    r = SIPREC_METADATA_RULE_NONE;
  *rule = siprec_metadata_rule_name(r);
  return aors(m, mline, siprec_metadata_mline_sender);
}

json_t *metadata_changes_json(const siprec_metadata_changes *c)
{
  json_t *a = json_array();
  for (size_t i = 0; i < siprec_metadata_changes_count(c); i++) {
    siprec_metadata_kind kind;
    siprec_metadata_change change;
    const char *key = NULL, *key2 = NULL;
    siprec_metadata_changes_get(c, i, &kind, &change, &key, &key2);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(siprec_metadata_kind_name(kind)));
    json_object_set_new(o, "change", json_string(siprec_metadata_change_name(change)));
    json_object_set_new(o, "id", str_or_empty(key));
    if (key2)
      json_object_set_new(o, "id2", str_or_empty(key2));
    json_array_append_new(a, o);
  }
  return a;
}
