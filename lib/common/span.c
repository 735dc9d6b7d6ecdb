/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "span.h"

#include <string.h>

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

sr_span sr_span_cstr(const char *s)
{
  return sr_span_of(s ? s : "", s ? strlen(s) : 0);
}

int sr_span_ieq(sr_span s, const char *lit)
{
  size_t i = 0;
  for (; i < s.n && lit[i]; i++)
    if (lower(s.p[i]) != lower(lit[i]))
      return 0;
  return i == s.n && lit[i] == '\0';
}
