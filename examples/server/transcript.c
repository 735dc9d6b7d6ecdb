/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session-json.h"

/* A JSON value as compact ASCII text, consuming `v`. */
static char *dump(json_t *v)
{
  char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY) : NULL;
  json_decref(v);
  return t;
}

static json_t *opt_string(const char *s)
{
  return s ? json_from_bytes(s, strlen(s)) : json_null();
}

static json_t *participant_json(const transcript_participant *p)
{
  if (!p || (!p->id && !p->aor && !p->name))
    return json_null();
  json_t *o = json_object();
  if (!o)
    return NULL;
  if (json_object_set_new(o, "id", opt_string(p->id)) < 0 ||
      json_object_set_new(o, "aor", opt_string(p->aor)) < 0 ||
      json_object_set_new(o, "name", opt_string(p->name)) < 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Seconds with two decimals, whatever the locale's decimal point (jansson
 * would print 2.46 as 2.4599999999999999). */
static void seconds(char *buf, size_t len, double s)
{
  long long cs = isfinite(s) && s > 0 ? llround(s * 100.0) : 0;
  snprintf(buf, len, "%lld.%02lld", cs / 100, cs % 100);
}

char *transcript_format(const transcript_line *l)
{
  if (!l || !l->session || !l->text)
    return NULL;
  char *session = dump(json_string(l->session));
  char *call_id = dump(l->call_id ? json_from_bytes(l->call_id, l->call_id_len) : json_null());
  char *stream = dump(opt_string(l->stream));
  char *participant = dump(participant_json(l->participant));
  char *text = dump(json_from_bytes(l->text, strlen(l->text)));
  char *line = NULL;
  if (session && call_id && stream && participant && text) {
    char start[32], end[32];
    seconds(start, sizeof start, l->start);
    seconds(end, sizeof end, l->end);
#define LINE_FMT "{\"session\":%s,\"call_id\":%s,\"stream\":%s,\"participant\":%s," \
                 "\"start\":%s,\"end\":%s,\"text\":%s}"
    int n = snprintf(NULL, 0, LINE_FMT, session, call_id, stream, participant, start, end, text);
    if (n > 0 && (line = malloc((size_t)n + 1)) != NULL)
      snprintf(line, (size_t)n + 1, LINE_FMT, session, call_id, stream, participant, start, end,
               text);
#undef LINE_FMT
  }
  free(session);
  free(call_id);
  free(stream);
  free(participant);
  free(text);
  return line;
}

/* The session id names a folder: one path component, no dot-dot. */
static int safe_component(const char *s)
{
  return s && s[0] && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/');
}

int transcript_append(const char *dir, const transcript_line *l)
{
  if (!dir || !l || !safe_component(l->session)) {
    errno = EINVAL;
    return -1;
  }
  char *line = transcript_format(l);
  if (!line) {
    errno = ENOMEM;
    return -1;
  }
  size_t n = strlen(line);
  line[n] = '\n'; /* replaces the NUL: the line is written by length */
  char folder[4096], path[4096];
  int rc = -1;
  if (snprintf(folder, sizeof folder, "%s/%s", dir, l->session) >= (int)sizeof folder ||
      snprintf(path, sizeof path, "%s/transcript.jsonl", folder) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    goto out;
  }
  if (mkdir(folder, 0700) < 0 && errno != EEXIST)
    goto out;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    goto out;
  /* One write: with O_APPEND the line lands whole at the end even when
   * several workers append to the same session's file at once. */
  ssize_t w;
  do
    w = write(fd, line, n + 1);
  while (w < 0 && errno == EINTR);
  int ok = w == (ssize_t)(n + 1);
  int saved = ok ? 0 : w < 0 ? errno : EIO; /* a short write: the disk is full */
  if (close(fd) < 0 && ok) {
    ok = 0;
    saved = errno;
  }
  if (ok)
    rc = 0;
  else
    errno = saved;
out:
  free(line);
  return rc;
}
