/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "session-json.h"

#include "metadata-json.h"

#include <stdlib.h>
#include <string.h>

json_t *json_from_bytes(const char *p, size_t n)
{
  json_t *s = json_stringn(p, n);
  if (s)
    return s;
  /* Bytes that are not UTF-8 are shown as Latin-1 rather than lost. */
  char *u = malloc(2 * n + 1);
  if (!u)
    return json_string("");
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80) {
      u[k++] = (char)c;
    } else {
      u[k++] = (char)(0xc0 | (c >> 6));
      u[k++] = (char)(0x80 | (c & 0x3f));
    }
  }
  s = json_stringn(u, k);
  free(u);
  return s ? s : json_string("");
}

/* Each m-line as answered, with who speaks on it (the metadata's binding). */
static json_t *streams_json(siprec_session *s, const siprec_metadata *m)
{
  json_t *streams = json_array();
  for (size_t i = 0; i < siprec_session_stream_count(s); i++) {
    siprec_stream_info info = { .size = sizeof info };
    if (siprec_session_stream(s, i, &info) < 0)
      continue;
    json_t *st = json_object();
    json_object_set_new(st, "media", json_string(info.media));
    json_object_set_new(st, "label",
                        info.label ? json_from_bytes(info.label, strlen(info.label)) : json_null());
    json_object_set_new(st, "port", json_integer(info.port));
    json_object_set_new(st, "direction",
                        json_string(info.direction == SIPREC_DIR_RECVONLY ? "recvonly" : "inactive"));
    json_object_set_new(st, "codec", info.codec ? json_string(info.codec) : json_null());
    json_object_set_new(st, "srtp", json_boolean(info.srtp_suite != NULL));
    const char *rule;
    json_object_set_new(st, "participants", mline_senders_json(m, i, &rule));
    json_object_set_new(st, "binding", json_string(rule));
    json_array_append_new(streams, st);
  }
  return streams;
}

/* The names of the siprec_change bits of the last update. */
static json_t *changes_json(unsigned bits)
{
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {
    { SIPREC_CHANGE_METADATA, "metadata" },       { SIPREC_CHANGE_STREAMS_ADDED, "streams-added" },
    { SIPREC_CHANGE_STREAMS_REMOVED, "streams-removed" },
    { SIPREC_CHANGE_STREAMS_PAUSED, "streams-paused" },
    { SIPREC_CHANGE_STREAMS_RESUMED, "streams-resumed" },
    { SIPREC_CHANGE_CODEC, "codec" },             { SIPREC_CHANGE_REFRESH, "refresh" },
  };
  json_t *a = json_array();
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (bits & names[i].bit)
      json_array_append_new(a, json_string(names[i].name));
  return a;
}

/* A Cisco built-in-bridge leg: which one, and what pairs it with the other. */
static json_t *bib_json(const siprec_session *s)
{
  const char *key, *refci, *farend;
  siprec_bib_leg leg = siprec_session_bib_leg(s, &key, &refci, &farend);
  if (leg == SIPREC_BIB_NONE)
    return json_null();
  json_t *o = json_object();
  json_object_set_new(o, "leg", json_string(leg == SIPREC_BIB_NEAR_END ? "near-end" : "far-end"));
  json_object_set_new(o, "pairing_key", json_from_bytes(key, strlen(key)));
  json_object_set_new(o, "refci", json_from_bytes(refci, strlen(refci)));
  json_object_set_new(o, "farend_refci", json_from_bytes(farend, strlen(farend)));
  return o;
}

json_t *session_event_json(const char *event, siprec_session *s, const char *reason)
{
  size_t idlen;
  const char *cid = siprec_session_call_id(s, &idlen);
  json_t *o = json_object();
  json_object_set_new(o, "event", json_string(event));
  json_object_set_new(o, "call_id", json_from_bytes(cid, idlen));
  if (reason)
    json_object_set_new(o, "reason", json_string(reason));
  siprec_metadata *m = siprec_session_metadata(s);
  json_object_set_new(o, "streams", streams_json(s, m));
  json_object_set_new(o, "metadata", metadata_json(m));
  json_object_set_new(o, "bib", bib_json(s));
  if (!strcmp(event, "session_updated")) {
    json_object_set_new(o, "changes", changes_json(siprec_session_changes(s)));
    json_object_set_new(o, "metadata_changes",
                        metadata_changes_json(siprec_session_metadata_changes(s)));
  }
  siprec_metadata_unref(m);
  return o;
}
