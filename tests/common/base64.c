/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base64.h"

void base64_encode(const uint8_t *in, size_t n, char *out, bool pad)
{
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < n)
      v |= in[i + 2];
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    if (i + 1 < n)
      out[o++] = tab[v >> 6 & 63];
    else if (pad)
      out[o++] = '=';
    if (i + 2 < n)
      out[o++] = tab[v & 63];
    else if (pad)
      out[o++] = '=';
  }
  out[o] = '\0';
}
