/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for lib/media/srtp: the fuzzer's bytes, protected here
 * with libsrtp2 under a known key (so they get past authentication) and
 * unprotected through the module, mixed with tampered packets and raw
 * bytes, RTP and RTCP.
 *
 * Input: one config octet (suite = octet % 6), then records: op, 16-bit
 * big-endian length, that many octets (cut at the input's end). op & 3:
 *   0  RTP: the octets as an RTP packet (version forced to 2, SSRC one of
 *      four, from octet 8), protected, then unprotected;
 *   1  RTCP likewise (SSRC at octet 4);
 *   2  tampered: protected by a second sender (SSRCs of their own), one
 *      bit flipped (position and bit from op's high bits and the length),
 *      RTP or RTCP after bit 2 of op;
 *   3  raw: the octets unprotected as they are, RTP or RTCP after bit 2.
 *
 * Checks: what was protected decrypts to exactly the packet that was
 * protected (libsrtp2's sender refusing it, a replayed index or a header
 * it will not take, is skipped: the receiver is then not asked); tampered
 * and raw packets never decrypt, and come back with length 0 and zeroed;
 * counters add up to the packets fed; the ROC the module reports for an
 * SSRC is the sender's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "media/srtp.h"

#ifdef SR_HAVE_SRTP
#include <srtp2/srtp.h>
#endif

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

static const char *const suite_names[] = {
  "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80",
  "AES_256_CM_HMAC_SHA1_32", "AEAD_AES_128_GCM",        "AEAD_AES_256_GCM",
};

#define MAX_PLAIN 8192
#define GOOD_SSRC 0x1000u
#define TAMPER_SSRC 0x20000u

#ifdef SR_HAVE_SRTP

static void policy_for(int s, srtp_policy_t *p)
{
  memset(p, 0, sizeof *p);
  switch (s) {
  case 0:
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    break;
  case 1:
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    break;
  case 2:
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
    break;
  case 3:
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p->rtp);
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
    break;
  case 4:
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    break;
  default:
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
    break;
  }
  p->ssrc.type = ssrc_any_outbound;
  p->window_size = SR_SRTP_REPLAY_WINDOW;
}

static void b64(const uint8_t *in, size_t n, char *out)
{
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? tab[v & 63] : '=';
  }
  out[o] = '\0';
}

static void put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint8_t plain[MAX_PLAIN];
static uint8_t buf[MAX_PLAIN + SRTP_MAX_TRAILER_LEN + 8];

typedef struct run {
  sr_srtp *rx;
  srtp_t tx, tx_bad;
  uint64_t rtp_fed, rtcp_fed;
} run;

/* Protect `n` octets of plain into buf with tx: the protected length, or
 * 0 when libsrtp2 refuses to. */
static size_t protect(srtp_t tx, bool rtcp, size_t n)
{
  memcpy(buf, plain, n);
  int len = (int)n;
  srtp_err_status_t st = rtcp ? srtp_protect_rtcp(tx, buf, &len) : srtp_protect(tx, buf, &len);
  return st == srtp_err_status_ok ? (size_t)len : 0;
}

static int unprotect(run *r, bool rtcp, size_t *n, sr_srtp_result *why)
{
  if (rtcp)
    r->rtcp_fed++;
  else
    r->rtp_fed++;
  return rtcp ? sr_srtp_unprotect_rtcp(r->rx, buf, n, why) : sr_srtp_unprotect(r->rx, buf, n, why);
}

static void must_fail(run *r, bool rtcp, size_t n)
{
  sr_srtp_result why = SR_SRTP_OK;
  size_t len = n;
  CHECK(unprotect(r, rtcp, &len, &why) < 0);
  CHECK(why != SR_SRTP_OK && why < SR_SRTP_RESULT_COUNT);
  CHECK(len == 0);
  for (size_t i = 0; i < n; i++)
    CHECK(buf[i] == 0);
}

/* Make plain a packet of the given kind from the fuzzer's octets. */
static size_t shape(const uint8_t *d, size_t n, bool rtcp, uint32_t ssrc_base)
{
  if (n > MAX_PLAIN)
    n = MAX_PLAIN;
  if (n < (rtcp ? 8u : 12u))
    return 0;
  memcpy(plain, d, n);
  plain[0] = (uint8_t)((plain[0] & 0x3f) | 0x80);
  size_t at = rtcp ? 4 : 8;
  put32(plain + at, ssrc_base + (plain[at + 3] & 3u));
  return n;
}

static void one_record(run *r, uint8_t op, const uint8_t *d, size_t n)
{
  bool rtcp = (op & 4) != 0;
  switch (op & 3) {
  case 0:
  case 1: {
    rtcp = (op & 3) == 1;
    size_t pn = shape(d, n, rtcp, GOOD_SSRC);
    size_t sn = pn ? protect(r->tx, rtcp, pn) : 0;
    if (!sn)
      return;
    size_t len = sn;
    sr_srtp_result why = SR_SRTP_RESULT_COUNT;
    int rc = unprotect(r, rtcp, &len, &why);
    CHECK(rc == 0 && why == SR_SRTP_OK);
    CHECK(len == pn && !memcmp(buf, plain, pn));
    if (!rtcp) {
      uint32_t ssrc = GOOD_SSRC + (plain[11] & 3u), roc = 0, want = 0;
      uint16_t seq;
      CHECK(sr_srtp_get_roc(r->rx, ssrc, &roc, &seq) == 0);
      CHECK(srtp_get_stream_roc(r->tx, ssrc, &want) == srtp_err_status_ok);
      CHECK(roc == want);
    }
    break;
  }
  case 2: {
    size_t pn = shape(d, n, rtcp, TAMPER_SSRC);
    size_t sn = pn ? protect(r->tx_bad, rtcp, pn) : 0;
    if (!sn)
      return;
    size_t pos = ((size_t)(op >> 3) * 131u + n) % sn;
    buf[pos] ^= (uint8_t)(1u << (n % 8));
    must_fail(r, rtcp, sn);
    break;
  }
  default:
    if (n > sizeof buf)
      n = sizeof buf;
    memcpy(buf, d, n);
    must_fail(r, rtcp, n);
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Under valgrind (the unit suite's setup) each input costs libsrtp2's NSS
 * ciphers some milliseconds: the replay stops after the seeds and the
 * first generated inputs. */
static bool valgrind_budget_spent(void)
{
  static int under = -1;
  static unsigned long calls;
  if (under < 0)
    under = getenv("SIPREC_UNDER_VALGRIND") != NULL;
  return under && ++calls > 40;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || valgrind_budget_spent())
    return 0;
  int s = data[0] % 6;
  if (!sr_media_srtp_suite_supported(suite_names[s]))
    return 0;
  uint8_t key[SR_SRTP_MAX_KEY];
  char text[80];
  size_t kn = sr_srtp_suite_key_len(suite_names[s]);
  for (size_t i = 0; i < kn; i++)
    key[i] = (uint8_t)(0x5A ^ (i * 29u));
  b64(key, kn, text);
  run r;
  memset(&r, 0, sizeof r);
  CHECK(sr_srtp_new(NULL, suite_names[s], text, &r.rx) == 0);
  srtp_policy_t p;
  policy_for(s, &p);
  p.key = key;
  CHECK(srtp_create(&r.tx, &p) == srtp_err_status_ok);
  CHECK(srtp_create(&r.tx_bad, &p) == srtp_err_status_ok);

  size_t off = 1;
  while (off + 3 <= size) {
    uint8_t op = data[off];
    size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
    off += 3;
    if (n > size - off)
      n = size - off;
    one_record(&r, op, data + off, n);
    off += n;
  }

  sr_srtp_counters k;
  sr_srtp_get_counters(r.rx, &k);
  uint64_t rtp = 0, rtcp = 0;
  for (int i = 0; i < SR_SRTP_RESULT_COUNT; i++) {
    rtp += k.rtp[i];
    rtcp += k.rtcp[i];
  }
  CHECK(rtp == r.rtp_fed && rtcp == r.rtcp_fed);
  sr_srtp_free(r.rx);
  srtp_dealloc(r.tx);
  srtp_dealloc(r.tx_bad);
  return 0;
}

#else

/* Without libsrtp2: only the key parser. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  char text[256];
  size_t n = size - 1 < sizeof text - 1 ? size - 1 : sizeof text - 1;
  memcpy(text, data + 1, n);
  text[n] = '\0';
  sr_srtp_key k;
  int rc = sr_srtp_parse_key(suite_names[data[0] % 6], text, &k);
  CHECK(rc == 0 || rc == SIPREC_EPARSE);
  CHECK(!sr_media_srtp_built());
  return 0;
}

#endif
