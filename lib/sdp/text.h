/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small text readers every SDP line needs. */
#ifndef SR_SDP_TEXT_H
#define SR_SDP_TEXT_H

#include <stddef.h>

/* SDP's whitespace inside a line (RFC 4566 allows only SP; SRCs send TAB). */
static inline int sr_sdp_is_ws(char c)
{
  return c == ' ' || c == '\t';
}

/* Decimal digits at *s (at most 10), value <= max. Advances *s. 0 or -1. */
int sr_sdp_uint(const char **s, unsigned long max, unsigned long *out);

/* Copy a NUL-terminated string into dst[size]; 0, or -1 (dst = "") when it
 * does not fit. */
int sr_sdp_copy(char *dst, size_t size, const char *src);

#endif
