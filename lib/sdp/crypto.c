/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "crypto.h"

#include <string.h>
#include <strings.h>

#include "../common/random.h"
#include "../common/span.h"
#include "text.h"

static const struct {
  const char *name;
  size_t key_bytes; /* master key + salt */
} suites[] = {
  { "AES_CM_128_HMAC_SHA1_80", 30 },
  { "AES_CM_128_HMAC_SHA1_32", 30 },
  { "AES_256_CM_HMAC_SHA1_80", 46 },
  { "AES_256_CM_HMAC_SHA1_32", 46 },
  { "AEAD_AES_128_GCM", 28 }, /* RFC 7714 */
  { "AEAD_AES_256_GCM", 44 },
};
#define N_SUITES (sizeof suites / sizeof suites[0])

size_t sr_sdp_b64_len(size_t bytes)
{
  return (bytes + 2) / 3 * 4;
}

static int is_b64(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

static const char *skip_ws(const char *v)
{
  while (sr_sdp_is_ws(*v))
    v++;
  return v;
}

/* The suite named at *v (its index, N_SUITES when unknown); *v moves past
 * the name. */
static size_t read_suite(const char **v)
{
  const char *suite = *v, *e = suite;
  while (*e && !sr_sdp_is_ws(*e))
    e++;
  *v = e;
  size_t si;
  for (si = 0; si < N_SUITES; si++)
    if (sr_span_ieq(sr_span_of(suite, (size_t)(e - suite)), suites[si].name))
      break;
  return si;
}

/* "inline:<key||salt>" ending the key at '|', ';', whitespace or the end:
 * the key's span, empty when the form is wrong. */
static sr_span read_inline_key(const char *v)
{
  sr_span none = { v, 0 };
  if (strncasecmp(v, "inline:", 7) != 0)
    return none;
  const char *key = v + 7, *e = key;
  while (*e && is_b64(*e))
    e++;
  if (*e && *e != '|' && *e != ';' && !sr_sdp_is_ws(*e))
    return none;
  return sr_span_of(key, (size_t)(e - key));
}

size_t sr_sdp_crypto_parse(const char *v, sr_sdp_suite_ok_cb suite_ok, sr_sdp_stream *st)
{
  unsigned long tag;
  if (!v || sr_sdp_uint(&v, 999999999, &tag) < 0 || !sr_sdp_is_ws(*v))
    return 0;
  v = skip_ws(v);
  size_t si = read_suite(&v);
  if (si == N_SUITES || (suite_ok && !suite_ok(suites[si].name)))
    return 0;
  sr_span key = read_inline_key(skip_ws(v));
  if (key.n == 0 || key.n != sr_sdp_b64_len(suites[si].key_bytes) || key.n >= SR_SDP_KEY_MAX)
    return 0;
  st->crypto_tag = (int)tag;
  memcpy(st->crypto_suite, suites[si].name, strlen(suites[si].name) + 1);
  memcpy(st->remote_key, key.p, key.n);
  st->remote_key[key.n] = '\0';
  return suites[si].key_bytes;
}

size_t sr_sdp_suite_key_bytes(const char *suite)
{
  for (size_t i = 0; i < N_SUITES; i++)
    if (!strcmp(suite, suites[i].name))
      return suites[i].key_bytes;
  return 0;
}

static void base64_encode(const unsigned char *in, size_t n, char *out)
{
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0, o = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = tab[v >> 6 & 63];
    out[o++] = tab[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = tab[v >> 6 & 63];
    out[o++] = '=';
  }
  out[o] = '\0';
}

int sr_sdp_key_make(const sr_sdp_config *cfg, size_t bytes, char *out)
{
  unsigned char k[64];
  int rc = cfg->random ? cfg->random(cfg->random_user, k, bytes) : sr_random_bytes(k, bytes);
  if (rc < 0) {
    explicit_bzero(k, sizeof k);
    return SIPREC_ERANDOM;
  }
  base64_encode(k, bytes, out);
  explicit_bzero(k, sizeof k);
  return 0;
}
