/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "raw.h"

#include <string.h>
#include <strings.h>

const sr_raw_name sr_raw_names[RAW_N] = {
  { "Call-ID", 'i', 7 },       { "CSeq", 0, 4 },          { "From", 'f', 4 },
  { "To", 't', 2 },            { "Max-Forwards", 0, 12 }, { "Content-Length", 'l', 14 },
  { "Content-Type", 'c', 12 }, { "Via", 'v', 3 },
};

/* Every header line of every message comes through here: lengths first,
 * compares only then. */
int sr_raw_name_is(sr_span name, const sr_raw_name *r)
{
  if (name.n == 1)
    return r->compact && (name.p[0] | 0x20) == r->compact;
  return name.n == r->len && sr_span_ieq(name, r->name);
}

static int lws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static sr_span trim_lws(const char *p, const char *e)
{
  while (p < e && lws(*p))
    p++;
  while (e > p && lws(e[-1]))
    e--;
  sr_span r = { p, (size_t)(e - p) };
  return r;
}

void sr_raw_fields_start(sr_raw_fields *f, const char *first, const char *end)
{
  f->line = first;
  f->end = end;
  f->blank = NULL;
  f->body = NULL;
}

/* An empty line (CRLF or bare LF) at `line`: its length, else 0. */
static size_t blank_line(const char *line, const char *end)
{
  if (*line == '\n')
    return 1;
  return *line == '\r' && line + 1 < end && line[1] == '\n' ? 2 : 0;
}

int sr_raw_fields_next(sr_raw_fields *f, sr_span *name, sr_span *value)
{
  while (f->line < f->end && !f->blank) {
    size_t blank = blank_line(f->line, f->end);
    if (blank) {
      f->blank = f->line;
      f->body = f->line + blank;
      return 0;
    }
    /* One field: its line and the continuation lines after it. */
    const char *h = f->line;
    do {
      const char *n = memchr(f->line, '\n', (size_t)(f->end - f->line));
      f->line = n ? n + 1 : f->end;
    } while (f->line < f->end && (*f->line == ' ' || *f->line == '\t'));
    const char *colon = memchr(h, ':', (size_t)(f->line - h));
    if (!colon)
      continue;
    *name = trim_lws(h, colon);
    *value = trim_lws(colon + 1, f->line);
    return 1;
  }
  return 0;
}

int sr_raw_content_length(sr_span value, size_t *out)
{
  size_t cl = 0;
  int rc = value.n == 0 ? -1 : 0;
  for (size_t i = 0; i < value.n; i++) {
    unsigned d = (unsigned char)value.p[i] - '0';
    if (d > 9) {
      rc = -1;
      break;
    }
    cl = cl > (SIZE_MAX - d) / 10 ? SIZE_MAX : cl * 10 + d;
  }
  *out = cl;
  return rc;
}

static void raw_header(raw_view *v, sr_span name, sr_span value)
{
  for (int k = 0; k < RAW_N; k++) {
    if (!sr_raw_name_is(name, &sr_raw_names[k]))
      continue;
    v->count[k]++;
    if (k == RAW_VIA && v->n_via < RAW_MAX_VIAS)
      v->via[v->n_via++] = value;
    if (v->count[k] == 1)
      v->first[k] = value;
    if (k == RAW_CONTENT_LENGTH)
      v->cl_bad |= sr_raw_content_length(value, &v->cl) < 0;
  }
}

/* RFC 3261 25.1: quoted-pair = "\\" (%x00-09 / ...), as in RFC 4475's
 * intmeth; anywhere else a NUL is a syntax error. */
static void find_nuls(const char *buf, raw_view *v)
{
  for (const char *p = buf; p < v->headers_end; p++) {
    if (*p != '\0')
      continue;
    v->nul_any = 1;
    if (p == buf || p[-1] != '\\' || p < v->rest)
      v->nul = 1;
  }
}

void sr_raw_scan(const char *buf, size_t len, raw_view *v)
{
  memset(v, 0, sizeof *v);
  const char *end = buf + len;
  const char *nl = memchr(buf, '\n', len);
  const char *le = nl ? nl : end;
  v->start_line.p = buf;
  v->start_line.n = (size_t)(le - buf) - (le > buf && le[-1] == '\r');
  v->rest = nl ? nl + 1 : end;
  v->headers_end = end;
  sr_raw_fields f;
  sr_raw_fields_start(&f, v->rest, end);
  sr_span name, value;
  while (sr_raw_fields_next(&f, &name, &value))
    raw_header(v, name, value);
  if (f.blank) {
    v->headers_end = f.blank;
    v->has_end = 1;
    v->body_len = (size_t)(end - f.body);
  }
  find_nuls(buf, v);
}

static int token_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("-.!%*_+`'~", c));
}

static int digits(const char **p, const char *e)
{
  const char *s = *p;
  while (*p < e && **p >= '0' && **p <= '9')
    (*p)++;
  return *p > s;
}

/* CSeq = 1*DIGIT LWS Method (RFC 3261 20.16), the number within 32 bits.
 * Sofia-SIP refuses method tokens outside its own alphabet (RFC 4475's
 * intmeth) that the grammar allows. Returns 1 with the parts when the value
 * is well formed. */
int sr_raw_cseq_read(sr_span value, uint32_t *seq, sr_span *method)
{
  const char *p = value.p, *e = value.p + value.n;
  uint64_t n = 0;
  const char *d = p;
  while (p < e && *p >= '0' && *p <= '9' && n <= UINT32_MAX)
    n = n * 10 + (uint64_t)(*p++ - '0');
  if (p == d || n > UINT32_MAX || p == e || !lws(*p))
    return 0;
  while (p < e && lws(*p))
    p++;
  const char *m = p;
  while (p < e && token_char(*p))
    p++;
  if (p == m || p != e)
    return 0;
  *seq = (uint32_t)n;
  method->p = m;
  method->n = (size_t)(p - m);
  return 1;
}

/* RFC 3261 25.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF,
 * exactly: one SP each, no LWS inside the URI, no <> around it, nothing
 * after the version (RFC 4475 3.1.2.7-3.1.2.10). Fills the method and URI
 * spans; returns 0, or the status the request deserves with *why. */
int sr_raw_request_line_check(sr_span line, sr_span *method, sr_span *uri, const char **why)
{
  const char *p = line.p, *e = line.p + line.n;
  const char *m = p;
  while (p < e && token_char(*p))
    p++;
  method->p = m;
  method->n = (size_t)(p - m);
  *why = "Malformed Request-Line";
  if (method->n == 0 || p == e || *p != ' ')
    return 400;
  const char *u = ++p;
  while (p < e && (unsigned char)*p > ' ' && *p != 0x7f && *p != '<' && *p != '>')
    p++;
  uri->p = u;
  uri->n = (size_t)(p - u);
  if (uri->n == 0 || p == e || *p != ' ')
    return 400;
  const char *ver = ++p;
  if (e - p < 4 || strncasecmp(p, "SIP/", 4) != 0)
    return 400;
  p += 4;
  if (!digits(&p, e) || p == e || *p++ != '.' || !digits(&p, e) || p != e)
    return 400;
  if (e - ver != 7 || memcmp(ver + 3, "/2.0", 4) != 0) {
    *why = "Version Not Supported";
    return 505;
  }
  /* RFC 3261 8.2.2.1: a scheme the SRS does not serve gets 416. */
  const char *s = uri->p;
  const char *colon = memchr(s, ':', uri->n);
  if (!colon || colon == s)
    return 400;
  for (const char *c = s; c < colon; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (c > s && ((*c >= '0' && *c <= '9') || *c == '+' || *c == '-' || *c == '.'))))
      return 400;
  sr_span scheme = { s, (size_t)(colon - s) };
  if (!sr_span_ieq(scheme, "sip") && !sr_span_ieq(scheme, "sips") && !sr_span_ieq(scheme, "tel")) {
    *why = "Unsupported URI Scheme";
    return 416;
  }
  return 0;
}

