/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "metrics_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mt_init(struct mt_writer *w)
{
  memset(w, 0, sizeof *w);
}

static void forget_families(struct mt_writer *w)
{
  for (size_t i = 0; i < w->n_families; i++)
    free(w->families[i]);
  w->n_families = 0;
}

void mt_reset(struct mt_writer *w)
{
  forget_families(w);
  w->len = 0;
  if (w->text)
    w->text[0] = '\0';
  w->error = MT_OK;
}

void mt_free(struct mt_writer *w)
{
  forget_families(w);
  free(w->families);
  free(w->text);
  mt_init(w);
}

int mt_error(const struct mt_writer *w)
{
  return w->error;
}

const char *mt_text(const struct mt_writer *w, size_t *len)
{
  if (len)
    *len = w->len;
  return w->text ? w->text : "";
}

static int fail(struct mt_writer *w, int error)
{
  if (w->error == MT_OK)
    w->error = error;
  return w->error;
}

/* Room for `more` bytes and the NUL after them. */
static int reserve(struct mt_writer *w, size_t more)
{
  if (w->error)
    return w->error;
  if (more > MT_MAX_BYTES - w->len)
    return fail(w, MT_ETOOBIG);
  size_t need = w->len + more + 1;
  if (need <= w->cap)
    return MT_OK;
  size_t cap = w->cap ? w->cap : 4096;
  while (cap < need)
    cap *= 2; /* need <= MT_MAX_BYTES + 1: no overflow */
  char *t = realloc(w->text, cap);
  if (!t)
    return fail(w, MT_ENOMEM);
  w->text = t;
  w->cap = cap;
  return MT_OK;
}

static int put(struct mt_writer *w, const char *s, size_t n)
{
  if (reserve(w, n))
    return w->error;
  memcpy(w->text + w->len, s, n);
  w->len += n;
  w->text[w->len] = '\0';
  return MT_OK;
}

static int puts_(struct mt_writer *w, const char *s)
{
  return put(w, s, strlen(s));
}

/* `s` escaped: backslash and newline always, the double quote only inside
 * a label value (HELP text keeps its quotes, as the format says). */
static int put_escaped(struct mt_writer *w, const char *s, int quote)
{
  const char *run = s;
  for (const char *p = s;; p++) {
    const char *esc = NULL;
    if (*p == '\\')
      esc = "\\\\";
    else if (*p == '\n')
      esc = "\\n";
    else if (*p == '"' && quote)
      esc = "\\\"";
    else if (*p != '\0')
      continue;
    if (put(w, run, (size_t)(p - run)))
      return w->error;
    if (!esc)
      return MT_OK;
    if (puts_(w, esc))
      return w->error;
    run = p + 1;
  }
}

static int valid_name(const char *s, int colon_ok)
{
  if (!s || !*s)
    return 0;
  for (const char *p = s; *p; p++) {
    int c = (unsigned char)*p;
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                (colon_ok && c == ':');
    if (!alpha && !(p > s && c >= '0' && c <= '9'))
      return 0;
  }
  return 1;
}

int mt_family(struct mt_writer *w, const char *name, enum mt_type type, const char *help)
{
  if (w->error)
    return w->error;
  if (!valid_name(name, 1) || !help || (type != MT_COUNTER && type != MT_GAUGE))
    return fail(w, MT_EINVAL);
  for (size_t i = 0; i < w->n_families; i++)
    if (strcmp(w->families[i], name) == 0)
      return fail(w, MT_EINVAL);
  if (w->n_families == w->cap_families) {
    size_t cap = w->cap_families ? 2 * w->cap_families : 32;
    char **f = realloc(w->families, cap * sizeof *f);
    if (!f)
      return fail(w, MT_ENOMEM);
    w->families = f;
    w->cap_families = cap;
  }
  char *copy = strdup(name);
  if (!copy)
    return fail(w, MT_ENOMEM);
  w->families[w->n_families++] = copy;
  puts_(w, "# HELP ");
  puts_(w, name);
  put(w, " ", 1);
  put_escaped(w, help, 0);
  puts_(w, "\n# TYPE ");
  puts_(w, name);
  puts_(w, type == MT_COUNTER ? " counter\n" : " gauge\n");
  return w->error;
}

/* The name and the {labels} of a sample of the current family. */
static int sample_head(struct mt_writer *w, const struct mt_label *labels, size_t n)
{
  if (w->error)
    return w->error;
  if (w->n_families == 0 || (n && !labels))
    return fail(w, MT_EINVAL);
  for (size_t i = 0; i < n; i++) {
    const char *name = labels[i].name;
    if (!valid_name(name, 0) || strncmp(name, "__", 2) == 0 || !labels[i].value)
      return fail(w, MT_EINVAL);
    for (size_t j = 0; j < i; j++)
      if (strcmp(labels[j].name, name) == 0)
        return fail(w, MT_EINVAL);
  }
  puts_(w, w->families[w->n_families - 1]);
  if (n) {
    put(w, "{", 1);
    for (size_t i = 0; i < n; i++) {
      if (i)
        put(w, ",", 1);
      puts_(w, labels[i].name);
      puts_(w, "=\"");
      put_escaped(w, labels[i].value, 1);
      put(w, "\"", 1);
    }
    put(w, "}", 1);
  }
  return put(w, " ", 1);
}

int mt_sample(struct mt_writer *w, const struct mt_label *labels, size_t n, uint64_t value)
{
  if (sample_head(w, labels, n))
    return w->error;
  char num[32];
  int k = snprintf(num, sizeof num, "%" PRIu64 "\n", value);
  return put(w, num, (size_t)k);
}

int mt_sample_double(struct mt_writer *w, const struct mt_label *labels, size_t n, double value)
{
  if (sample_head(w, labels, n))
    return w->error;
  if (isnan(value))
    return puts_(w, "NaN\n");
  if (isinf(value))
    return puts_(w, value > 0 ? "+Inf\n" : "-Inf\n");
  char num[40];
  /* 17 significant digits: the double read back is the same double. */
  int k = snprintf(num, sizeof num, "%.17g\n", value);
  /* A host that set a locale with a decimal comma still writes the point
   * the format wants. */
  for (char *p = num; *p; p++)
    if (*p == ',')
      *p = '.';
  return put(w, num, (size_t)k);
}

int mt_value(struct mt_writer *w, uint64_t value)
{
  return mt_sample(w, NULL, 0, value);
}
