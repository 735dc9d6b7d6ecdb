/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The header section is read with raw.c's scanner, as the parser reads it,
 * so that framing and parsing agree on a message's Content-Length. */
#include "frame.h"

#include <string.h>

#include <siprec/common.h>

#include "raw.h"

/* CRLF keep-alives before a message: how many bytes of them. */
static size_t keepalive_len(const char *p, size_t len)
{
  size_t k = 0;
  while (k < len && (p[k] == '\r' || p[k] == '\n'))
    k++;
  return k;
}

typedef struct frame_length {
  int seen;   /* a Content-Length was found */
  int bad;    /* one is not a number, or two differ */
  size_t len; /* its value, saturated */
} frame_length;

/* Content-Length (or its compact form l:) of every field: mandatory on
 * streams, and when it is given twice the values must agree. */
static void read_content_length(sr_raw_fields *f, frame_length *cl)
{
  sr_span name, value;
  while (sr_raw_fields_next(f, &name, &value)) {
    if (!sr_raw_name_is(name, &sr_raw_names[RAW_CONTENT_LENGTH]))
      continue;
    size_t n;
    if (sr_raw_content_length(value, &n) < 0 || (cl->seen && n != cl->len))
      cl->bad = 1;
    cl->seen = 1;
    cl->len = n;
  }
}

long sr_sip_frame(const void *data, size_t len, size_t max)
{
  const char *p = data;
  if (!p && len)
    return SIPREC_EINVAL;
  size_t k = keepalive_len(p, len);
  if (k)
    return (long)k;
  /* The header section ends with an empty line, CRLF or bare LF. */
  const char *nl = memchr(p, '\n', len);
  sr_raw_fields f;
  sr_raw_fields_start(&f, nl ? nl + 1 : p + len, p + len);
  frame_length cl = { 0, 0, 0 };
  read_content_length(&f, &cl);
  if (!f.blank)
    return len > max ? SIPREC_EINVAL : 0;
  size_t body = (size_t)(f.body - p);
  if (body > max || cl.bad || !cl.seen || cl.len > max - body)
    return SIPREC_EINVAL;
  if (len - body < cl.len)
    return 0;
  return (long)(body + cl.len);
}
