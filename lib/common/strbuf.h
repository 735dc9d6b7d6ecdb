/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Appending text into a caller's fixed buffer, remembering overflow, so
 * message writers need one check at the end instead of one per line. */
#ifndef SR_COMMON_STRBUF_H
#define SR_COMMON_STRBUF_H

#include <stddef.h>

typedef struct sr_strbuf {
  char *p;
  size_t len, cap;
  int overflow;
} sr_strbuf;

static inline sr_strbuf sr_strbuf_on(void *buf, size_t cap)
{
  sr_strbuf b = { buf, 0, cap, cap == 0 };
  if (cap)
    b.p[0] = '\0';
  return b;
}

void sr_strbuf_add(sr_strbuf *b, const char *s, size_t n);
void sr_strbuf_str(sr_strbuf *b, const char *s);
void sr_strbuf_printf(sr_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A number in decimal: what writers of every message do most, without the
 * cost of a printf. */
void sr_strbuf_uint(sr_strbuf *b, unsigned long long v);

#endif
