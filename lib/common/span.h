/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A byte string that points into someone else's buffer: how the parsers of
 * SIP, multipart bodies and SDP hand out pieces of a message without
 * copying or allocating. */
#ifndef SR_COMMON_SPAN_H
#define SR_COMMON_SPAN_H

#include <stddef.h>

typedef struct sr_span {
  const char *p;
  size_t n;
} sr_span;

static inline sr_span sr_span_of(const char *p, size_t n)
{
  sr_span s = { p, n };
  return s;
}

/* The span of a NUL-terminated string; NULL gives the empty string, so that
 * a missing value reads as an empty one. */
sr_span sr_span_cstr(const char *s);

/* ASCII case-insensitive comparison with a NUL-terminated string (header
 * names, media types, codec names: all ASCII, none locale-dependent). */
int sr_span_ieq(sr_span s, const char *lit);

#endif
