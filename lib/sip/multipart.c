/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "multipart.h"

#include <string.h>

#include <siprec/common.h>

static int is_lwsp(char c)
{
  return c == ' ' || c == '\t';
}

static sr_span trim(const char *p, size_t n)
{
  while (n && (is_lwsp(*p) || *p == '\r' || *p == '\n')) {
    p++;
    n--;
  }
  while (n && (is_lwsp(p[n - 1]) || p[n - 1] == '\r' || p[n - 1] == '\n'))
    n--;
  sr_span s = { p, n };
  return s;
}

sr_span sr_mime_type(const char *value, size_t len)
{
  const char *semi = memchr(value, ';', len);
  return trim(value, semi ? (size_t)(semi - value) : len);
}

int sr_mime_param(const char *value, size_t len, const char *name, sr_span *out)
{
  size_t nlen = strlen(name);
  const char *end = value + len;
  const char *p = memchr(value, ';', len);
  while (p && p < end) {
    p++; /* past ';' */
    while (p < end && (is_lwsp(*p) || *p == '\r' || *p == '\n'))
      p++;
    const char *pname = p;
    while (p < end && *p != '=' && *p != ';' && !is_lwsp(*p))
      p++;
    size_t pn = (size_t)(p - pname);
    while (p < end && is_lwsp(*p))
      p++;
    if (p >= end || *p != '=') {
      p = memchr(p, ';', (size_t)(end - p));
      continue;
    }
    p++; /* past '=' */
    while (p < end && is_lwsp(*p))
      p++;
    const char *v = p;
    size_t vn;
    if (p < end && *p == '"') {
      v = ++p;
      while (p < end && *p != '"') {
        if (*p == '\\' && p + 1 < end)
          p++;
        p++;
      }
      vn = (size_t)(p - v);
      if (p < end)
        p++; /* closing quote; an unclosed one runs to the end */
    } else {
      while (p < end && *p != ';' && !is_lwsp(*p) && *p != '\r' && *p != '\n')
        p++;
      vn = (size_t)(p - v);
    }
    if (pn == nlen && sr_span_ieq(sr_span_of(pname, pn), name)) {
      out->p = v;
      out->n = vn;
      return 1;
    }
    p = memchr(p, ';', (size_t)(end - p));
  }
  return 0;
}

/* Length of the line break at p (CRLF or LF), or 0. */
static size_t newline_at(const char *p, const char *end)
{
  if (p < end && *p == '\n')
    return 1;
  if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
    return 2;
  return 0;
}

/* Is there a delimiter line at `line` (a line start)? On success, *next is
 * where the following line starts and *closing tells a close delimiter. */
static int delimiter_at(const char *line, const char *end, const char *b, size_t bn,
                        const char **next, int *closing)
{
  if ((size_t)(end - line) < bn + 2 || line[0] != '-' || line[1] != '-' ||
      memcmp(line + 2, b, bn) != 0)
    return 0;
  const char *p = line + 2 + bn;
  *closing = 0;
  if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
    *closing = 1;
    p += 2;
  }
  while (p < end && (is_lwsp(*p) || (*p == '\r' && p + 1 < end && p[1] != '\n')))
    p++;
  size_t nl = newline_at(p, end);
  if (nl == 0 && p != end && !*closing)
    return 0; /* "--boundaryX": a longer boundary, or text */
  *next = p + nl;
  if (nl == 0 && p != end)
    *next = p; /* a close delimiter followed by epilogue text on its line */
  return 1;
}

/* The start of the next line after p, or end. */
static const char *next_line(const char *p, const char *end)
{
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  return nl ? nl + 1 : end;
}

/* Fill in a part from its raw content [p, end). */
static void parse_part(const char *p, const char *end, sr_mime_part *part)
{
  memset(part, 0, sizeof *part);
  size_t nl = newline_at(p, end);
  if (nl) { /* blank first line: no headers */
    part->body.p = p + nl;
    part->body.n = (size_t)(end - p - (ptrdiff_t)nl);
    return;
  }
  /* A first line without a colon is content, not a header (a client that
   * forgot the blank line, or no headers at all). */
  const char *first_end = next_line(p, end);
  if (!memchr(p, ':', (size_t)(first_end - p))) {
    part->body.p = p;
    part->body.n = (size_t)(end - p);
    return;
  }
  const char *line = p;
  const char *hdr_end = end, *body = end;
  while (line < end) {
    const char *nxt = next_line(line, end);
    size_t lnl = newline_at(line, end);
    if (lnl) { /* the blank line */
      hdr_end = line;
      body = line + lnl;
      break;
    }
    /* One header, with its continuation lines. */
    const char *hstart = line;
    while (nxt < end && is_lwsp(*nxt))
      nxt = next_line(nxt, end);
    const char *colon = memchr(hstart, ':', (size_t)(nxt - hstart));
    if (colon) {
      sr_span name = trim(hstart, (size_t)(colon - hstart));
      const char *v = colon + 1;
      size_t vn = (size_t)(nxt - v);
      if (sr_span_ieq(name, "content-type"))
        part->content_type = sr_mime_type(v, vn);
      else if (sr_span_ieq(name, "content-disposition"))
        part->disposition = sr_mime_type(v, vn);
    }
    line = nxt;
  }
  part->headers.p = p;
  part->headers.n = (size_t)(hdr_end - p);
  part->body.p = body;
  part->body.n = (size_t)(end - body);
}

int sr_multipart_split(const char *body, size_t len, const char *boundary, size_t boundary_len,
                       sr_mime_part *parts, size_t max, unsigned *flags)
{
  if (flags)
    *flags = 0;
  if (!body || !boundary || boundary_len == 0 || boundary_len > SR_MIME_BOUNDARY_MAX)
    return SIPREC_EINVAL;
  const char *end = body + len;
  const char *line = body;
  const char *content = NULL; /* start of the current part */
  size_t n = 0;
  while (line < end) {
    const char *next;
    int closing;
    if (delimiter_at(line, end, boundary, boundary_len, &next, &closing)) {
      if (content) {
        /* The line break before the delimiter belongs to the delimiter. */
        const char *stop = line;
        if (stop > content && stop[-1] == '\n')
          stop--;
        if (stop > content && stop[-1] == '\r')
          stop--;
        if (n == max)
          return SIPREC_ETOOBIG;
        parse_part(content, stop, &parts[n++]);
      }
      if (closing) {
        if (n == 0)
          return SIPREC_EINVAL;
        if (flags)
          *flags |= SR_MULTIPART_CLOSED;
        return (int)n;
      }
      content = next;
      line = next;
      continue;
    }
    line = next_line(line, end);
  }
  if (!content)
    return SIPREC_EINVAL;
  /* No closing delimiter: the last part runs to the end of the body. */
  if (content < end || n == 0) {
    if (n == max)
      return SIPREC_ETOOBIG;
    parse_part(content, end, &parts[n++]);
  }
  return (int)n;
}
