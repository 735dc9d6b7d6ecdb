/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Sofia-SIP release Debian ships loops for ever, allocating, on some
 * malformed m= lines (e.g. a format starting with '/', "40000PRT /AVP",
 * whitespace with a TAB after the transport). So every m= line must follow
 * the RFC 4566 grammar before sdp_parse sees it. */
#include "mline.h"

#include <string.h>

#include "text.h"

static int is_token_char(unsigned char c)
{
  /* RFC 4566 token: visible ASCII but for the separators. */
  return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]", c);
}

static const char *skip_token(const char *q, const char *eol)
{
  while (q < eol && is_token_char((unsigned char)*q))
    q++;
  return q;
}

static const char *skip_spaces(const char *q, const char *eol)
{
  while (q < eol && *q == ' ')
    q++;
  return q;
}

static const char *skip_digits(const char *q, const char *eol)
{
  while (q < eol && *q >= '0' && *q <= '9')
    q++;
  return q;
}

/* port ["/" integer]: where it ends, or NULL. */
static const char *skip_port(const char *q, const char *eol)
{
  const char *t = skip_digits(q, eol);
  if (t == q)
    return NULL;
  if (t < eol && *t == '/') {
    q = t + 1;
    t = skip_digits(q, eol);
    if (t == q)
      return NULL;
  }
  return t;
}

/* proto = token *("/" token): where it ends, or NULL. */
static const char *skip_proto(const char *q, const char *eol)
{
  for (;;) {
    const char *t = skip_token(q, eol);
    if (t == q)
      return NULL;
    if (t == eol || *t != '/')
      return t;
    q = t + 1;
  }
}

/* *(SP fmt) to the end of the line. */
static int formats_ok(const char *t, const char *eol)
{
  while (t < eol) {
    if (*t != ' ')
      return 0;
    t = skip_token(skip_spaces(t, eol), eol);
  }
  return 1;
}

/* The text after "m=", up to the line's end. */
static int mline_ok(const char *q, const char *eol)
{
  const char *t = skip_token(q, eol); /* media */
  if (t == q || t == eol || *t != ' ')
    return 0;
  t = skip_port(skip_spaces(t, eol), eol);
  if (!t || t == eol || *t != ' ')
    return 0;
  t = skip_proto(skip_spaces(t, eol), eol);
  return t && formats_ok(t, eol);
}

static const char *skip_ws(const char *q, const char *eol)
{
  while (q < eol && sr_sdp_is_ws(*q))
    q++;
  return q;
}

int sr_sdp_mlines_safe(const char *text, size_t len)
{
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = p;
    while (eol < end && *eol != '\r' && *eol != '\n')
      eol++;
    const char *q = skip_ws(p, eol);
    if (eol - q >= 2 && q[0] == 'm' && q[1] == '=' && !mline_ok(skip_ws(q + 2, eol), eol))
      return 0;
    p = eol;
    while (p < end && (*p == '\r' || *p == '\n'))
      p++;
  }
  return 1;
}
