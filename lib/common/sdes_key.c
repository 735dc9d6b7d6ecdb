/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sdes_key.h"

#include <stdio.h>
#include <string.h>

/* A decimal number of at least one digit at s[*i..n), no more than max;
 * *i moves past it. */
static int read_dec(sr_span t, size_t *i, uint64_t max, uint64_t *out)
{
  size_t k = *i;
  uint64_t v = 0;
  if (k >= t.n || t.p[k] < '0' || t.p[k] > '9')
    return -1;
  for (; k < t.n && t.p[k] >= '0' && t.p[k] <= '9'; k++) {
    unsigned d = (unsigned)(t.p[k] - '0');
    if (v > (max - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *i = k;
  *out = v;
  return 0;
}

/* "2^N" (N 1..63) or a decimal count 1..2^64-1. */
static int read_lifetime(sr_span t, size_t *i, uint64_t *out)
{
  uint64_t v;
  if (*i + 1 < t.n && t.p[*i] == '2' && t.p[*i + 1] == '^') {
    *i += 2;
    if (read_dec(t, i, 63, &v) < 0 || v == 0)
      return -1;
    *out = (uint64_t)1 << v;
    return 0;
  }
  if (read_dec(t, i, UINT64_MAX, &v) < 0 || v == 0)
    return -1;
  *out = v;
  return 0;
}

/* "VALUE:LENGTH", the value fitting in LENGTH octets. */
static int read_mki(sr_span t, size_t *i, sr_sdes_key_info *ki)
{
  uint64_t val, len;
  if (read_dec(t, i, UINT64_MAX, &val) < 0 || *i >= t.n || t.p[(*i)++] != ':' ||
      read_dec(t, i, SR_SDES_MAX_MKI, &len) < 0 || len == 0)
    return -1;
  if (len < 8 && val >> (8 * len))
    return -1;
  ki->mki = val;
  ki->mki_len = (unsigned)len;
  return 0;
}

/* Whether the field starting at i (up to the next '|') holds a ':': an MKI,
 * not a lifetime. */
static int field_is_mki(sr_span t, size_t i)
{
  for (; i < t.n && t.p[i] != '|'; i++)
    if (t.p[i] == ':')
      return 1;
  return 0;
}

int sr_sdes_key_info_parse(sr_span t, sr_sdes_key_info *out)
{
  memset(out, 0, sizeof *out);
  if (!t.p)
    return -1;
  size_t i = 0;
  while (i < t.n && t.p[i] != '|')
    i++;
  sr_sdes_key_info ki = { .key = sr_span_of(t.p, i) };
  if (i == 0)
    return -1;
  if (i < t.n && !field_is_mki(t, i + 1)) {
    i++;
    if (read_lifetime(t, &i, &ki.lifetime) < 0)
      return -1;
  }
  if (i < t.n && t.p[i] == '|') {
    i++;
    if (read_mki(t, &i, &ki) < 0)
      return -1;
  }
  if (i != t.n)
    return -1;
  *out = ki;
  return 0;
}

int sr_sdes_key_info_write(const sr_sdes_key_info *ki, char *out, size_t cap)
{
  char life[24] = "", mki[32] = "";
  uint64_t l = ki->lifetime;
  if (ki->key.n > cap) {
    if (cap)
      out[0] = '\0';
    return -1;
  }
  if (l > 1 && (l & (l - 1)) == 0) { /* 1 is "1": the grammar has no 2^0 */
    unsigned n = 0;
    while (l >>= 1)
      n++;
    snprintf(life, sizeof life, "|2^%u", n);
  } else if (l) {
    snprintf(life, sizeof life, "|%llu", (unsigned long long)l);
  }
  if (ki->mki_len)
    snprintf(mki, sizeof mki, "|%llu:%u", (unsigned long long)ki->mki, ki->mki_len);
  int n = snprintf(out, cap, "%.*s%s%s", (int)ki->key.n, ki->key.p ? ki->key.p : "", life, mki);
  if (n < 0 || (size_t)n >= cap) {
    if (cap)
      out[0] = '\0';
    return -1;
  }
  return n;
}
