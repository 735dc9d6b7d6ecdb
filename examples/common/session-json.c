/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "session-json.h"

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

static json_t *streams_json(siprec_session *s)
{
  json_t *streams = json_array();
  for (size_t i = 0; i < siprec_session_stream_count(s); i++) {
    const char *media, *label, *codec;
    uint16_t port;
    siprec_direction dir;
    if (siprec_session_stream(s, i, &media, &label, &port, &dir, &codec, NULL, NULL) < 0)
      continue;
    json_t *st = json_object();
    json_object_set_new(st, "media", json_string(media));
    json_object_set_new(st, "label", label ? json_from_bytes(label, strlen(label)) : json_null());
    json_object_set_new(st, "port", json_integer(port));
    json_object_set_new(st, "direction",
                        json_string(dir == SIPREC_DIR_RECVONLY ? "recvonly" : "inactive"));
    json_object_set_new(st, "codec", codec ? json_string(codec) : json_null());
    json_object_set_new(st, "srtp", json_boolean(siprec_session_stream_srtp(s, i)));
    json_array_append_new(streams, st);
  }
  return streams;
}

/* The metadata model comes with the metadata parser; until then, what
 * arrived: the raw size, and a non-SIPREC client's participant headers. */
static json_t *metadata_json(siprec_session *s)
{
  json_t *md = json_object();
  size_t mlen;
  const char *raw = siprec_session_metadata(s, &mlen);
  size_t nhp = siprec_session_header_participant(s, 0, NULL, NULL);
  json_object_set_new(md, "status", json_string(raw ? "received" : nhp ? "headers" : "absent"));
  json_object_set_new(md, "bytes", json_integer((json_int_t)mlen));
  if (nhp) {
    json_t *hp = json_array();
    for (size_t i = 0; i < nhp; i++) {
      const char *v;
      size_t n;
      siprec_session_header_participant(s, i, &v, &n);
      json_array_append_new(hp, json_from_bytes(v, n));
    }
    json_object_set_new(md, "header_participants", hp);
  }
  return md;
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
  json_object_set_new(o, "streams", streams_json(s));
  json_object_set_new(o, "metadata", metadata_json(s));
  return o;
}
