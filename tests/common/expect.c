/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap)
      break;
    cap *= 2;
    char *nb = realloc(buf, cap + 1);
    if (!nb) {
      free(buf);
      buf = NULL;
    }
    buf = nb;
  }
  fclose(f);
  if (!buf)
    return NULL;
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

typedef struct rd {
  const char *p, *end;
  int bad;
} rd;

static void ws(rd *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
}

static int eat(rd *r, char c)
{
  ws(r);
  if (r->p < r->end && *r->p == c) {
    r->p++;
    return 1;
  }
  return 0;
}

/* A string into out (escapes: \" \\ \/ \n \r \t and \uXXXX below 0x80). */
static int str(rd *r, char *out, size_t size)
{
  if (!eat(r, '"')) {
    r->bad = 1;
    return 0;
  }
  size_t n = 0;
  while (r->p < r->end && *r->p != '"') {
    char c = *r->p++;
    if (c == '\\' && r->p < r->end) {
      c = *r->p++;
      if (c == 'u' && r->end - r->p >= 4) {
        c = (char)strtol((char[]){ r->p[0], r->p[1], r->p[2], r->p[3], 0 }, NULL, 16);
        r->p += 4;
      } else if (c == 'n') {
        c = '\n';
      } else if (c == 'r') {
        c = '\r';
      } else if (c == 't') {
        c = '\t';
      }
    }
    if (n + 1 < size)
      out[n++] = c;
  }
  if (size)
    out[n] = '\0';
  return eat(r, '"') || (r->bad = 1, 0);
}

static void skip_value(rd *r);

static void skip_value(rd *r)
{
  ws(r);
  if (r->p >= r->end) {
    r->bad = 1;
    return;
  }
  char c = *r->p;
  if (c == '"') {
    char tmp[2];
    (void)str(r, tmp, sizeof tmp);
  } else if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    r->p++;
    if (eat(r, close))
      return;
    do {
      if (c == '{') {
        char k[2];
        (void)str(r, k, sizeof k);
        if (!eat(r, ':'))
          r->bad = 1;
      }
      skip_value(r);
    } while (!r->bad && eat(r, ','));
    if (!eat(r, close))
      r->bad = 1;
  } else {
    while (r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ']')
      r->p++;
  }
}

/* true/false/null/number as text. */
static void atom(rd *r, char *out, size_t size)
{
  ws(r);
  size_t n = 0;
  while (r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ']' && *r->p != ' ' &&
         *r->p != '\n' && *r->p != '\r') {
    if (n + 1 < size)
      out[n++] = *r->p;
    r->p++;
  }
  out[n] = '\0';
}

/* An array of strings; more than `max` is an error. */
static void read_strings(rd *r, char (*out)[EXPECT_STR], size_t max, size_t *n)
{
  *n = 0;
  if (!eat(r, '[')) {
    r->bad = 1;
    return;
  }
  if (eat(r, ']'))
    return;
  do {
    if (*n == max) {
      r->bad = 1;
      return;
    }
    str(r, out[(*n)++], EXPECT_STR);
  } while (!r->bad && eat(r, ','));
  if (!eat(r, ']'))
    r->bad = 1;
}

/* "stream_participants": {"LABEL": ["AOR", ...], ...} */
static void read_labels(rd *r, expect *out)
{
  out->has_stream_participants = 1;
  if (!eat(r, '{')) {
    r->bad = 1;
    return;
  }
  if (eat(r, '}'))
    return;
  do {
    if (out->n_stream_participants == EXPECT_MAX_STREAMS) {
      r->bad = 1;
      return;
    }
    expect_label *l = &out->stream_participants[out->n_stream_participants++];
    if (!str(r, l->label, sizeof l->label) || !eat(r, ':')) {
      r->bad = 1;
      return;
    }
    read_strings(r, l->aors, EXPECT_MAX_AORS, &l->n_aors);
  } while (!r->bad && eat(r, ','));
  if (!eat(r, '}'))
    r->bad = 1;
}

static void read_stream(rd *r, expect_stream *s)
{
  memset(s, 0, sizeof *s);
  if (!eat(r, '{')) {
    r->bad = 1;
    return;
  }
  if (eat(r, '}'))
    return;
  do {
    char key[64], a[64];
    if (!str(r, key, sizeof key) || !eat(r, ':'))
      return;
    ws(r);
    if (!strcmp(key, "media")) {
      str(r, s->media, sizeof s->media);
    } else if (!strcmp(key, "label")) {
      if (r->p < r->end && *r->p == '"') {
        str(r, s->label, sizeof s->label);
        s->has_label = 1;
      } else {
        atom(r, a, sizeof a);
      }
    } else if (!strcmp(key, "accepted")) {
      atom(r, a, sizeof a);
      s->accepted = !strcmp(a, "true");
    } else if (!strcmp(key, "direction")) {
      str(r, s->direction, sizeof s->direction);
    } else if (!strcmp(key, "codec")) {
      str(r, s->codec, sizeof s->codec);
    } else {
      skip_value(r);
    }
  } while (!r->bad && eat(r, ','));
  if (!eat(r, '}'))
    r->bad = 1;
}

int expect_read(const char *path, expect *out, char *err, size_t err_size)
{
  memset(out, 0, sizeof *out);
  size_t len;
  char *text = read_file(path, &len);
  if (!text) {
    snprintf(err, err_size, "cannot read %s", path);
    return -1;
  }
  rd r = { text, text + len, 0 };
  if (!eat(&r, '{'))
    r.bad = 1;
  while (!r.bad && !eat(&r, '}')) {
    char key[64], a[64];
    if (!str(&r, key, sizeof key) || !eat(&r, ':'))
      break;
    if (!strcmp(key, "status")) {
      atom(&r, a, sizeof a);
      out->status = atoi(a);
    } else if (!strcmp(key, "status_class")) {
      atom(&r, a, sizeof a);
      out->status_class = atoi(a);
    } else if (!strcmp(key, "srtp")) {
      atom(&r, a, sizeof a);
      out->has_srtp = 1;
      out->srtp = !strcmp(a, "true");
    } else if (!strcmp(key, "metadata")) {
      str(&r, out->metadata, sizeof out->metadata);
    } else if (!strcmp(key, "participants")) {
      out->has_participants = 1;
      read_strings(&r, out->participants, EXPECT_MAX_AORS, &out->n_participants);
    } else if (!strcmp(key, "stream_participants")) {
      read_labels(&r, out);
    } else if (!strcmp(key, "none")) {
      atom(&r, a, sizeof a);
      out->none = !strcmp(a, "true");
    } else if (!strcmp(key, "why")) {
      str(&r, out->why, sizeof out->why);
    } else if (!strcmp(key, "known_bug")) {
      str(&r, out->known_bug, sizeof out->known_bug);
    } else if (!strcmp(key, "response_contains")) {
      str(&r, out->contains, sizeof out->contains);
    } else if (!strcmp(key, "streams")) {
      out->has_streams = 1;
      if (!eat(&r, '['))
        r.bad = 1;
      if (!r.bad && !eat(&r, ']')) {
        do {
          if (out->n_streams == EXPECT_MAX_STREAMS) {
            r.bad = 1;
            break;
          }
          read_stream(&r, &out->streams[out->n_streams++]);
        } while (!r.bad && eat(&r, ','));
        if (!eat(&r, ']'))
          r.bad = 1;
      }
    } else {
      skip_value(&r);
    }
    eat(&r, ',');
  }
  free(text);
  if (r.bad) {
    snprintf(err, err_size, "%s: cannot read its JSON", path);
    return -1;
  }
  return 0;
}
