/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "crypto.h"

#include <string.h>
#include <strings.h>

#include "../common/random.h"
#include "../common/base64.h"
#include "../common/sdes_key.h"
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

/* RFC 3711's most packets a master key may protect (SRTP; SRTCP's is
 * 2^31): RFC 4568's default lifetime, and a longer one limits nothing. */
#define LIFETIME_MAX ((uint64_t)1 << 48)

/* A key-info taken as the stream's: KEY of exactly the suite's base64
 * length (padded), and what can be written back into remote_key. */
static int key_info_ok(const sr_sdes_key_info *ki, size_t key_bytes)
{
  /* Decoded as the media layer will decode it: the same function. */
  uint8_t key[64];
  long got = ki->key.n == sr_b64_len(key_bytes) ? sr_b64_decode(ki->key.p, ki->key.n, key, sizeof key)
                                                  : -1;
  explicit_bzero(key, sizeof key);
  if (got < 0 || (size_t)got != key_bytes)
    return 0;
  /* Not supported: an MKI value above 2^32 - 1 (more than four significant
   * octets). SRCs use one to four; remote_key is sized for that. */
  return !ki->mki_len || ki->mki <= UINT32_MAX;
}

/* The key-params (RFC 4568 section 9.1): one or more "inline:KEY-INFO"
 * joined by ';', up to whitespace or the end. Each is checked; the first
 * goes into *first. RFC 4568 section 6.1: several keys are told apart by
 * their MKIs, so each then has one, all of the same length.
 *
 * Only the first key is used: libsrtp2 2.x could hold up to 16 master keys
 * and pick one by the packet's MKI, but a stream keeps its key-info in
 * fixed plain data (sr_sdp_stream, one per stream of every idle session),
 * room for one. Packets under the other keys carry another MKI: libsrtp2
 * refuses them, and they are counted as SRTP failures, never delivered. */
static int read_key_params(const char *v, size_t key_bytes, sr_sdes_key_info *first)
{
  for (int n = 0;; n++) {
    if (strncasecmp(v, "inline:", 7) != 0)
      return -1;
    const char *p = v + 7, *e = p;
    while (*e && *e != ';' && !sr_sdp_is_ws(*e))
      e++;
    sr_sdes_key_info ki;
    if (sr_sdes_key_info_parse(sr_span_of(p, (size_t)(e - p)), &ki) < 0 ||
        !key_info_ok(&ki, key_bytes))
      return -1;
    if (n == 0)
      *first = ki;
    else if (!first->mki_len || ki.mki_len != first->mki_len)
      return -1;
    if (*e != ';')
      return 0;
    v = e + 1;
  }
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
  sr_sdes_key_info ki;
  if (read_key_params(skip_ws(v), suites[si].key_bytes, &ki) < 0)
    return 0;
  if (ki.lifetime >= LIFETIME_MAX)
    ki.lifetime = 0; /* the default: RFC 3711's limits, which libsrtp2 keeps */
  /* Zeroed: the whole array is copied into the stream, its tail too (a
   * stream is compared and copied as a whole). */
  char text[SR_SDP_KEY_INFO_MAX] = { 0 };
  if (sr_sdes_key_info_write(&ki, text, sizeof text) < 0)
    return 0; /* cannot happen: the checks above bound every field */
  st->crypto_tag = (int)tag;
  memcpy(st->crypto_suite, suites[si].name, strlen(suites[si].name) + 1);
  memcpy(st->remote_key, text, sizeof text);
  explicit_bzero(text, sizeof text);
  return suites[si].key_bytes;
}

size_t sr_sdp_suite_key_bytes(const char *suite)
{
  for (size_t i = 0; i < N_SUITES; i++)
    if (!strcmp(suite, suites[i].name))
      return suites[i].key_bytes;
  return 0;
}

int sr_sdp_key_make(const sr_sdp_config *cfg, size_t bytes, char *out)
{
  unsigned char k[64];
  int rc = cfg->random ? cfg->random(cfg->random_user, k, bytes) : sr_random_bytes(k, bytes);
  if (rc < 0) {
    explicit_bzero(k, sizeof k);
    return SIPREC_ERANDOM;
  }
  sr_b64_encode(k, bytes, out);
  explicit_bzero(k, sizeof k);
  return 0;
}
