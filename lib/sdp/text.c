/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "text.h"

#include <string.h>

int sr_sdp_uint(const char **s, unsigned long max, unsigned long *out)
{
  const char *p = *s;
  unsigned long v = 0;
  size_t nd = 0;
  while (*p >= '0' && *p <= '9') {
    if (++nd > 10)
      return -1;
    v = v * 10 + (unsigned long)(*p - '0');
    p++;
  }
  if (nd == 0 || v > max)
    return -1;
  *s = p;
  *out = v;
  return 0;
}

int sr_sdp_copy(char *dst, size_t size, const char *src)
{
  size_t n = strlen(src);
  if (n >= size) {
    dst[0] = '\0';
    return -1;
  }
  memcpy(dst, src, n + 1);
  return 0;
}
