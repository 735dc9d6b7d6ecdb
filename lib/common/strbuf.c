/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sr_strbuf_add(sr_strbuf *b, const char *s, size_t n)
{
  if (b->overflow)
    return;
  if (n >= b->cap - b->len) {
    b->overflow = 1;
    return;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void sr_strbuf_str(sr_strbuf *b, const char *s)
{
  sr_strbuf_add(b, s, strlen(s));
}

void sr_strbuf_uint(sr_strbuf *b, unsigned long long v)
{
  char digits[20];
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  sr_strbuf_add(b, digits + sizeof digits - n, n);
}

void sr_strbuf_printf(sr_strbuf *b, const char *fmt, ...)
{
  if (b->overflow)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= b->cap - b->len) {
    b->overflow = 1;
    b->p[b->len] = '\0';
    return;
  }
  b->len += (size_t)n;
}
