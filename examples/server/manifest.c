/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manifest.json of a recording, written atomically. */
#include "manifest.h"
#include "file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A JSON string of bytes from the network: Latin-1 where not UTF-8, so
 * nothing is lost or refused. */
static json_t *str_n(const char *p, size_t n)
{
  if (!p)
    return json_null();
  json_t *s = json_stringn(p, n);
  if (s)
    return s;
  char *u = malloc(2 * n + 1);
  if (!u)
    return NULL;
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
  return s;
}

static json_t *str(const char *p) { return str_n(p, p ? strlen(p) : 0); }

int manifest_utc(int64_t unix_ns, char *out, size_t size)
{
  if (!out || size < 32)
    return -EINVAL;
  int64_t sec = unix_ns / 1000000000;
  int64_t ms = (unix_ns % 1000000000) / 1000000;
  if (ms < 0) {
    sec--;
    ms += 1000;
  }
  time_t t = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&t, &tm))
    return -EINVAL;
  char day[24];
  if (!strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
    return -EINVAL;
  snprintf(out, size, "%s.%03dZ", day, (int)ms);
  return 0;
}

/* Sets key to v; a NULL v (out of memory) is remembered in *bad. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
  if (!v || json_object_set_new(o, key, v) < 0)
    *bad = 1;
}

static json_t *time_json(int64_t ns)
{
  char buf[48];
  return manifest_utc(ns, buf, sizeof buf) ? json_null() : json_string(buf);
}

static double ms_round(double s)
{
  return (double)(int64_t)(s * 1000.0 + 0.5) / 1000.0;
}

/* Append `n` files to `a`; with segment > 0, each says its segment. */
static void files_into(json_t *a, const struct rec_file *files, size_t n, unsigned segment,
                       double offset, int *bad)
{
  for (size_t i = 0; i < n; i++) {
    const struct rec_file *f = &files[i];
    json_t *o = json_object();
    if (!o || json_array_append_new(a, o) < 0) {
      *bad = 1;
      break;
    }
    put(o, "name", str(f->name), bad);
    if (f->streams[0]) {
      json_t *s = json_array();
      put(o, "streams", s, bad);
      if (s && (json_array_append_new(s, str(f->streams[0])) < 0 ||
                json_array_append_new(s, str(f->streams[1])) < 0))
        *bad = 1;
    } else {
      put(o, "stream", str(f->stream), bad);
    }
    put(o, "channels", json_integer(f->channels), bad);
    put(o, "rate", json_integer(f->rate), bad);
    /* Milliseconds are enough, and keep the file free of float noise. */
    put(o, "duration", json_real(ms_round(f->duration)), bad);
    if (segment) {
      put(o, "segment", json_integer(segment), bad);
      put(o, "offset", json_real(ms_round(offset)), bad);
    }
  }
}

static json_t *files_json(const struct manifest_info *m, int *bad)
{
  json_t *a = json_array();
  if (!a)
    return NULL;
  for (size_t i = 0; m->segment && i < m->n_prior; i++)
    files_into(a, m->prior[i].files, m->prior[i].n_files, m->prior[i].segment,
               m->prior[i].offset, bad);
  files_into(a, m->rec->files, m->rec->n_files, m->segment, m->offset, bad);
  return a;
}

static json_t *segments_json(const struct manifest_info *m, int *bad)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i <= m->n_prior; i++) {
    json_t *o = json_object();
    if (!o || json_array_append_new(a, o) < 0) {
      *bad = 1;
      break;
    }
    put(o, "segment", json_integer(i < m->n_prior ? m->prior[i].segment : m->segment), bad);
    put(o, "offset", json_real(ms_round(i < m->n_prior ? m->prior[i].offset : m->offset)), bad);
  }
  return a;
}

static json_t *manifest_json(const struct manifest_info *m)
{
  int bad = 0;
  json_t *o = json_object();
  if (!o)
    return NULL;
  put(o, "session", str(m->session), &bad);
  put(o, "call_id", str_n(m->call_id, m->call_id_len), &bad);
  put(o, "start", time_json(m->start_unix_ns), &bad);
  put(o, "end", time_json(m->end_unix_ns), &bad);
  put(o, "end_reason", str(m->end_reason), &bad);
  json_t *ps = json_array();
  put(o, "participants", ps, &bad);
  for (size_t i = 0; ps && i < m->n_participants; i++) {
    const struct manifest_participant *p = &m->participants[i];
    json_t *po = json_object();
    if (!po || json_array_append_new(ps, po) < 0) {
      bad = 1;
      break;
    }
    put(po, "id", str(p->id), &bad);
    put(po, "aor", str(p->aor), &bad);
    put(po, "name", str(p->name), &bad);
  }
  put(o, "files", files_json(m, &bad), &bad);
  if (m->segment)
    put(o, "segments", segments_json(m, &bad), &bad);
  put(o, "slips", json_integer((json_int_t)m->rec->slips), &bad);
  put(o, "write_errors", json_integer((json_int_t)m->rec->write_errors), &bad);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

int manifest_text(const struct manifest_info *m, char **out)
{
  *out = NULL;
  if (!m || !m->rec || !m->rec->folder || (m->n_participants && !m->participants) ||
      (m->n_prior && !m->prior))
    return -EINVAL;
  json_t *j = manifest_json(m);
  *out = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12)) : NULL;
  json_decref(j);
  return *out ? 0 : -ENOMEM;
}

int manifest_store(const char *folder, const char *text)
{
  return file_replace(folder, "manifest.json", text, strlen(text), "\n", 1, 0600, 1);
}

int manifest_write(const struct manifest_info *m)
{
  char *text;
  int rc = manifest_text(m, &text);
  if (rc == 0)
    rc = manifest_store(m->rec->folder, text);
  free(text);
  return rc;
}
