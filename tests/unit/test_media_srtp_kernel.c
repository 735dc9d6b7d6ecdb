/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/media/srtp_kernel: libsrtp2 on Nettle's AES-CM and HMAC-SHA1 against
 * libsrtp2 on its own crypto (Debian's: NSS).
 *
 * main() protects packets with libsrtp2 before the library has touched it,
 * so with libsrtp2's own ciphers, for AES_CM_128_HMAC_SHA1_80/_32 and
 * AES_256_CM_HMAC_SHA1_80/_32: SRTP across the sequence wrap (ROC 0 to 1)
 * with payloads of every length modulo the AES block, and SRTCP of several
 * lengths. It then shuts libsrtp2 down, so that the library's own
 * srtp_init() (which installs Nettle's types) is the next one. The tests
 * decrypt those packets through lib/media/srtp (after the replacement),
 * protect the same packets again and compare them octet for octet, check
 * that a wrong key, a tampered packet and a replay still fail, and test
 * the types alone: RFC 3711 B.2/B.3, RFC 6188 and RFC 2202 vectors, the
 * keystream across calls and partial blocks against Nettle's CTR in one
 * call, HMAC fed in pieces, parameters refused.
 *
 * Built without srtp_nettle, the same packets still decrypt (both sides
 * libsrtp2's own) and the type tests are left out. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "check_main.h"
#include "media/srtp.h"
#include "rtp_build.h"
#include "srtp_fixture.h"

#ifdef SR_HAVE_SRTP_NETTLE
#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <nettle/hmac.h>

#include "media/srtp_kernel.h"
#endif

#ifdef SR_HAVE_SRTP

static const char *const suites[] = {
  "AES_CM_128_HMAC_SHA1_80",
  "AES_CM_128_HMAC_SHA1_32",
  "AES_256_CM_HMAC_SHA1_80",
  "AES_256_CM_HMAC_SHA1_32",
};
#define N_SUITES 4
#define SSRC 0x1234abcdu
#define FIRST_SEQ 65530u
#define N_RTP 24 /* 65530..65535 (ROC 0), then 0..17 (ROC 1) */
#define N_RTCP 6

/* Payload lengths: 0, and every remainder modulo 16 around one block, two
 * and a typical 20 ms frame. */
static const size_t payload_len[N_RTP] = { 0,   1,   7,   15,  16,  17,  31,  32,
                                           33,  47,  48,  49,  159, 160, 161, 170,
                                           175, 176, 177, 250, 255, 321, 999, 1000 };

typedef srtp_fx_pkt ref_pkt;

/* What libsrtp2 made with its own crypto, per suite. */
static ref_pkt ref_rtp[N_SUITES][N_RTP];
static ref_pkt ref_rtcp[N_SUITES][N_RTCP];
static uint8_t ref_key[N_SUITES][46];
static int ref_made; /* 1 once main() made them all */

static size_t suite_key_len(int s)
{
  return s < 2 ? 30 : 46;
}

/* An outbound libsrtp2 session of suite s keyed with key. */
static int tx_create(int s, uint8_t *key, srtp_t *out)
{
  return srtp_fx_tx_create(suites[s], key, 0, out);
}

static void build_rtp(ref_pkt *p, int i)
{
  rtpb o = rtpb_audio((uint16_t)(FIRST_SEQ + (unsigned)i), 160u * (unsigned)i, SSRC);
  o.payload_len = payload_len[i];
  p->plain_n = rtpb_build(p->plain, sizeof p->plain, &o);
}

/* SR + SDES with a CNAME of 1 + i characters: lengths 4-aligned, the
 * encrypted part (after the first 8 octets) of several lengths mod 16. */
static void build_rtcp(ref_pkt *p, int i)
{
  char cname[24]; /* 1 + 3 * i characters, i < N_RTCP */
  memset(cname, 'a' + i, sizeof cname);
  cname[1 + 3 * i] = '\0';
  size_t off = 0;
  rtcpb_sr(p->plain, &off, SSRC, 0xE8D4A51000000000ull + (unsigned)i, 160u * (unsigned)i,
           (uint32_t)i, 160u * (unsigned)i, 0);
  rtcpb_sdes_cname(p->plain, &off, SSRC, cname);
  p->plain_n = off;
}

/* Build the reference packets and protect them with session tx.
 * Returns 0, or -1 when libsrtp2 refused one. */
static int protect_all(srtp_t tx, ref_pkt (*rtp)[N_RTP], ref_pkt (*rtcp)[N_RTCP])
{
  for (int i = 0; i < N_RTP; i++) {
    ref_pkt *p = &(*rtp)[i];
    build_rtp(p, i);
    if (srtp_fx_protect(tx, p, SRTP_FX_RTP) != 0)
      return -1;
  }
  for (int i = 0; i < N_RTCP; i++) {
    ref_pkt *p = &(*rtcp)[i];
    build_rtcp(p, i);
    if (srtp_fx_protect(tx, p, SRTP_FX_RTCP) != 0)
      return -1;
  }
  return 0;
}

/* Before the library: libsrtp2 with its own crypto. */
static void make_reference(void)
{
  if (srtp_init() != srtp_err_status_ok)
    return;
  int ok = 1;
  for (int s = 0; s < N_SUITES && ok; s++) {
    srtp_fx_make_key(ref_key[s], suite_key_len(s), (uint8_t)(s + 1));
    srtp_t tx;
    if (tx_create(s, ref_key[s], &tx) < 0) {
      ok = 0;
      break;
    }
    ok = protect_all(tx, &ref_rtp[s], &ref_rtcp[s]) == 0;
    srtp_dealloc(tx);
  }
  /* The library's srtp_init() must be the next: a second one fails. */
  srtp_shutdown();
  ref_made = ok;
}

static sr_srtp *rx_new(int s, const uint8_t *key)
{
  return srtp_fx_rx_new_key(suites[s], key);
}

/* ---------------------------------------------------------------------- */
/* Packets of libsrtp2's own crypto, after the replacement                 */

#ifdef SR_HAVE_SRTP_NETTLE
START_TEST(test_installed)
{
  ck_assert_uint_eq(sr_srtp_kernel_installed(), 0);
  ck_assert(sr_media_srtp_suite_supported(suites[0])); /* the library's srtp_init */
  ck_assert_uint_eq(sr_srtp_kernel_installed(), SR_SRTP_KERNEL_ALL);
}
END_TEST
#endif

START_TEST(test_reference_decrypts)
{
  int s = _i;
  ck_assert(ref_made);
  sr_srtp *c = rx_new(s, ref_key[s]);
#ifdef SR_HAVE_SRTP_NETTLE
  ck_assert_uint_eq(sr_srtp_kernel_installed(), SR_SRTP_KERNEL_ALL);
#endif
  for (int i = 0; i < N_RTP; i++)
    ck_assert_int_eq(srtp_fx_rx(c, &ref_rtp[s][i], false), SR_SRTP_OK);
  /* Across the wrap: the last one is ROC 1, seq 17. */
  uint32_t roc = 0;
  uint16_t seq = 0;
  ck_assert_int_eq(sr_srtp_get_roc(c, SSRC, &roc, &seq), 0);
  ck_assert_uint_eq(roc, 1);
  ck_assert_uint_eq(seq, (uint16_t)(FIRST_SEQ + N_RTP - 1));
  for (int i = 0; i < N_RTCP; i++)
    ck_assert_int_eq(srtp_fx_rx(c, &ref_rtcp[s][i], true), SR_SRTP_OK);
  /* Replay protection: a packet again, before and after the wrap. */
  ck_assert_int_eq(srtp_fx_rx(c, &ref_rtp[s][N_RTP - 1], false), SR_SRTP_REPLAY);
  ck_assert_int_eq(srtp_fx_rx(c, &ref_rtp[s][2], false), SR_SRTP_REPLAY);
  ck_assert_int_eq(srtp_fx_rx(c, &ref_rtcp[s][N_RTCP - 1], true), SR_SRTP_REPLAY);
  sr_srtp_counters k;
  sr_srtp_get_counters(c, &k);
  ck_assert_uint_eq(k.rtp[SR_SRTP_OK], N_RTP);
  ck_assert_uint_eq(k.rtcp[SR_SRTP_OK], N_RTCP);
  sr_srtp_free(c);
}
END_TEST

/* A flipped tag or payload bit fails authentication, and does not stop
 * the genuine packet after it. */
START_TEST(test_reference_tampered)
{
  int s = _i;
  ck_assert(ref_made);
  sr_srtp *c = rx_new(s, ref_key[s]);
  for (int i = 0; i < N_RTP; i++) {
    ref_pkt t = ref_rtp[s][i];
    t.prot[t.prot_n - 1] ^= 0x01; /* the tag */
    ck_assert_int_eq(srtp_fx_rx(c, &t, false), SR_SRTP_AUTH_FAIL);
    if (payload_len[i]) {
      t = ref_rtp[s][i];
      t.prot[12 + payload_len[i] - 1] ^= 0x80; /* the last payload octet */
      ck_assert_int_eq(srtp_fx_rx(c, &t, false), SR_SRTP_AUTH_FAIL);
    }
    /* The good one still goes through after the forgeries. */
    ck_assert_int_eq(srtp_fx_rx(c, &ref_rtp[s][i], false), SR_SRTP_OK);
  }
  ref_pkt t = ref_rtcp[s][0];
  t.prot[9] ^= 0x10;
  ck_assert_int_eq(srtp_fx_rx(c, &t, true), SR_SRTP_AUTH_FAIL);
  ck_assert_int_eq(srtp_fx_rx(c, &ref_rtcp[s][0], true), SR_SRTP_OK);
  sr_srtp_free(c);
}
END_TEST

START_TEST(test_reference_wrong_key)
{
  int s = _i;
  ck_assert(ref_made);
  uint8_t other[46];
  memcpy(other, ref_key[s], sizeof other);
  other[3] ^= 0x40; /* the master key, not the salt */
  sr_srtp *c = rx_new(s, other);
  for (int i = 0; i < N_RTP; i++)
    ck_assert_int_eq(srtp_fx_rx(c, &ref_rtp[s][i], false), SR_SRTP_AUTH_FAIL);
  for (int i = 0; i < N_RTCP; i++)
    ck_assert_int_eq(srtp_fx_rx(c, &ref_rtcp[s][i], true), SR_SRTP_AUTH_FAIL);
  sr_srtp_free(c);
  /* Another salt alone changes every derived key too. */
  memcpy(other, ref_key[s], sizeof other);
  other[suite_key_len(s) - 1] ^= 0x01;
  c = rx_new(s, other);
  ck_assert_int_eq(srtp_fx_rx(c, &ref_rtp[s][0], false), SR_SRTP_AUTH_FAIL);
  ck_assert_int_eq(srtp_fx_rx(c, &ref_rtcp[s][0], true), SR_SRTP_AUTH_FAIL);
  sr_srtp_free(c);
}
END_TEST

/* libsrtp2 after the replacement protects the same packets into the same
 * octets as before it (SRTP is deterministic given key, SSRC and index). */
static ref_pkt again_rtp[N_RTP];
static ref_pkt again_rtcp[N_RTCP];

START_TEST(test_protect_identical)
{
  int s = _i;
  ck_assert(ref_made);
  ck_assert(sr_media_srtp_suite_supported(suites[s])); /* the library's srtp_init */
  srtp_t tx;
  ck_assert_int_eq(tx_create(s, ref_key[s], &tx), 0);
  ck_assert_int_eq(protect_all(tx, &again_rtp, &again_rtcp), 0);
  srtp_dealloc(tx);
  for (int i = 0; i < N_RTP; i++) {
    ck_assert_uint_eq(again_rtp[i].prot_n, ref_rtp[s][i].prot_n);
    ck_assert_mem_eq(again_rtp[i].prot, ref_rtp[s][i].prot, ref_rtp[s][i].prot_n);
  }
  for (int i = 0; i < N_RTCP; i++) {
    ck_assert_uint_eq(again_rtcp[i].prot_n, ref_rtcp[s][i].prot_n);
    ck_assert_mem_eq(again_rtcp[i].prot, ref_rtcp[s][i].prot, ref_rtcp[s][i].prot_n);
  }
}
END_TEST

#ifdef SR_HAVE_SRTP_NETTLE

/* ---------------------------------------------------------------------- */
/* The types alone                                                          */

static const srtp_cipher_type_t *const icm_types[3] = { &sr_nettle_aes_icm_128,
                                                        &sr_nettle_aes_icm_192,
                                                        &sr_nettle_aes_icm_256 };
static const int icm_key_len[3] = { 30, 38, 46 };

START_TEST(test_self_tests)
{
  /* libsrtp2's own checks: the types' vectors and random round trips. */
  for (int t = 0; t < 3; t++)
    ck_assert_int_eq(srtp_cipher_type_self_test(icm_types[t]), srtp_err_status_ok);
  ck_assert_int_eq(srtp_auth_type_self_test(&sr_nettle_hmac_sha1), srtp_err_status_ok);
}
END_TEST

static void unhex(const char *h, uint8_t *out)
{
  for (size_t i = 0; h[2 * i]; i++) {
    unsigned v;
    ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

/* RFC 3711 B.3: the key derivation's AES-CM runs as srtp.c makes them:
 * set_iv with the label in octet 7, then srtp_cipher_output. */
START_TEST(test_rfc3711_b3)
{
  uint8_t master[30];
  unhex("E1F97A0D3E018BE0D64FA32C06DE4139"
        "0EC675AD498AFEEBB6960B3AABE6",
        master);
  static const struct {
    uint8_t label;
    uint32_t n;
    const char *hex;
  } want[] = {
    { 0x00, 16, "C61E7A93744F39EE10734AFE3FF7A087" },         /* cipher key */
    { 0x02, 14, "30CBBC08863D8C85D49DB34A9AE1" },             /* cipher salt */
    { 0x01, 20, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4" }, /* auth key */
  };
  srtp_cipher_t *c = NULL;
  ck_assert_int_eq(srtp_cipher_type_alloc(&sr_nettle_aes_icm_128, &c, 30, 0),
                   srtp_err_status_ok);
  ck_assert_int_eq(srtp_cipher_init(c, master), srtp_err_status_ok);
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    uint8_t iv[16] = { 0 }, out[20], exp[20];
    iv[7] = want[k].label;
    memset(out, 0xee, sizeof out);
    uint32_t n = want[k].n;
    ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), srtp_err_status_ok);
    ck_assert_int_eq(srtp_cipher_output(c, out, &n), srtp_err_status_ok);
    ck_assert_uint_eq(n, want[k].n);
    unhex(want[k].hex, exp);
    ck_assert_mem_eq(out, exp, n);
  }
  ck_assert_int_eq(srtp_cipher_dealloc(c), srtp_err_status_ok);
}
END_TEST

/* The keystream across calls of odd lengths equals Nettle's CTR over the
 * whole buffer in one call, from counter = (salt || 00 00) XOR iv. */
START_TEST(test_keystream_across_calls)
{
  int t = _i;
  uint8_t key[46], iv[16], plain[700], ref[700], buf[700];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(i * 29u + 3u + (unsigned)t);
  for (size_t i = 0; i < sizeof iv; i++)
    iv[i] = (uint8_t)(0xa0u + i); /* SSRC and index octets, non-zero */
  for (size_t i = 0; i < sizeof plain; i++)
    plain[i] = (uint8_t)(i * 7u);
  size_t aes_len = (size_t)icm_key_len[t] - 14;
  uint8_t ctr[16] = { 0 };
  memcpy(ctr, key + aes_len, 14);
  for (int i = 0; i < 16; i++)
    ctr[i] ^= iv[i];
  memcpy(ref, plain, sizeof ref);
  union {
    struct aes128_ctx a;
    struct aes192_ctx b;
    struct aes256_ctx c;
  } aes;
  if (t == 0) {
    aes128_set_encrypt_key(&aes.a, key);
    ctr_crypt(&aes.a, (nettle_cipher_func *)aes128_encrypt, 16, ctr, sizeof ref, ref, ref);
  } else if (t == 1) {
    aes192_set_encrypt_key(&aes.b, key);
    ctr_crypt(&aes.b, (nettle_cipher_func *)aes192_encrypt, 16, ctr, sizeof ref, ref, ref);
  } else {
    aes256_set_encrypt_key(&aes.c, key);
    ctr_crypt(&aes.c, (nettle_cipher_func *)aes256_encrypt, 16, ctr, sizeof ref, ref, ref);
  }

  srtp_cipher_t *c = NULL;
  ck_assert_int_eq(srtp_cipher_type_alloc(icm_types[t], &c, icm_key_len[t], 0),
                   srtp_err_status_ok);
  ck_assert_int_eq(c->algorithm, icm_types[t]->id);
  ck_assert_int_eq(srtp_cipher_get_key_length(c), icm_key_len[t]);
  ck_assert_int_eq(srtp_cipher_init(c, key), srtp_err_status_ok);
  /* Chunk lengths 0, 1, 2, ... 36: partial blocks left and picked up. */
  static const size_t steps[] = { 3, 0, 1, 16, 13, 17, 31, 2, 33, 48, 5, 11, 64 };
  for (int pass = 0; pass < 2; pass++) {
    memcpy(buf, plain, sizeof buf);
    ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), srtp_err_status_ok);
    size_t off = 0, k = 0;
    while (off < sizeof buf) {
      size_t n = pass ? (k % 37) : steps[k % (sizeof steps / sizeof steps[0])];
      if (n > sizeof buf - off)
        n = sizeof buf - off;
      uint32_t len = (uint32_t)n;
      ck_assert_int_eq(srtp_cipher_encrypt(c, buf + off, &len), srtp_err_status_ok);
      ck_assert_uint_eq(len, n);
      off += n;
      k++;
    }
    ck_assert_mem_eq(buf, ref, sizeof buf);
  }
  /* set_iv starts over; decrypt is the same XOR. */
  ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_decrypt), srtp_err_status_ok);
  uint32_t len = 5;
  ck_assert_int_eq(srtp_cipher_decrypt(c, buf, &len), srtp_err_status_ok);
  len = sizeof buf - 5;
  ck_assert_int_eq(srtp_cipher_decrypt(c, buf + 5, &len), srtp_err_status_ok);
  ck_assert_mem_eq(buf, plain, sizeof buf);
  /* Re-keying resets the keystream too. */
  ck_assert_int_eq(srtp_cipher_init(c, key), srtp_err_status_ok);
  ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), srtp_err_status_ok);
  memcpy(buf, plain, sizeof buf);
  len = sizeof buf;
  ck_assert_int_eq(srtp_cipher_encrypt(c, buf, &len), srtp_err_status_ok);
  ck_assert_mem_eq(buf, ref, sizeof buf);
  ck_assert_int_eq(srtp_cipher_dealloc(c), srtp_err_status_ok);
}
END_TEST

START_TEST(test_cipher_params)
{
  srtp_cipher_t *c = NULL;
  for (int t = 0; t < 3; t++)
    for (int kl = 0; kl < 60; kl++)
      if (kl != icm_key_len[t])
        ck_assert_int_eq(srtp_cipher_type_alloc(icm_types[t], &c, kl, 0),
                         srtp_err_status_bad_param);
  /* Nothing before init. */
  ck_assert_int_eq(srtp_cipher_type_alloc(&sr_nettle_aes_icm_128, &c, 30, 0),
                   srtp_err_status_ok);
  uint8_t buf[4] = { 0 };
  uint32_t len = sizeof buf;
  ck_assert_int_ne(srtp_cipher_encrypt(c, buf, &len), srtp_err_status_ok);
  ck_assert_int_eq(srtp_cipher_dealloc(c), srtp_err_status_ok);
}
END_TEST

/* HMAC-SHA1 fed in pieces, restarted, truncated: against Nettle's HMAC in
 * one call. */
START_TEST(test_hmac)
{
  uint8_t key[20], msg[300], full[20];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(i * 13u + 1u);
  for (size_t i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t)(i * 5u + 2u);
  struct hmac_sha1_ctx h;
  hmac_sha1_set_key(&h, sizeof key, key);
  hmac_sha1_update(&h, sizeof msg, msg);
  hmac_sha1_digest(&h, sizeof full, full);

  static const int out_lens[] = { 4, 10, 20 };
  for (size_t o = 0; o < sizeof out_lens / sizeof out_lens[0]; o++) {
    srtp_auth_t *a = NULL;
    ck_assert_int_eq(srtp_auth_type_alloc(&sr_nettle_hmac_sha1, &a, 20, out_lens[o]),
                     srtp_err_status_ok);
    ck_assert_int_eq(srtp_auth_get_tag_length(a), out_lens[o]);
    ck_assert_int_eq(srtp_auth_get_prefix_length(a), 0);
    ck_assert_int_eq(srtp_auth_init(a, key), srtp_err_status_ok);
    for (int round = 0; round < 3; round++) {
      uint8_t tag[20];
      memset(tag, 0xee, sizeof tag);
      ck_assert_int_eq(srtp_auth_start(a), srtp_err_status_ok);
      if (round == 1) {
        /* An abandoned message: start goes back to the key alone. */
        ck_assert_int_eq(srtp_auth_update(a, msg, 77), srtp_err_status_ok);
        ck_assert_int_eq(srtp_auth_start(a), srtp_err_status_ok);
      }
      int off = 0;
      for (int step = 1; off + step < (int)sizeof msg - 4; step = step * 3 % 61 + 1) {
        ck_assert_int_eq(srtp_auth_update(a, msg + off, step), srtp_err_status_ok);
        off += step;
      }
      /* The last octets (the ROC in SRTP) through compute. */
      ck_assert_int_eq(srtp_auth_compute(a, msg + off, (int)sizeof msg - off, tag),
                       srtp_err_status_ok);
      ck_assert_mem_eq(tag, full, (size_t)out_lens[o]);
      for (int i = out_lens[o]; i < 20; i++)
        ck_assert_uint_eq(tag[i], 0xee); /* nothing past the tag */
    }
    ck_assert_int_eq(srtp_auth_dealloc(a), srtp_err_status_ok);
  }
  /* A tag longer than SHA-1's refused, at alloc and at compute. */
  srtp_auth_t *a = NULL;
  ck_assert_int_eq(srtp_auth_type_alloc(&sr_nettle_hmac_sha1, &a, 20, 21),
                   srtp_err_status_bad_param);
  ck_assert_int_eq(srtp_auth_type_alloc(&sr_nettle_hmac_sha1, &a, 20, 20), srtp_err_status_ok);
  ck_assert_int_eq(srtp_auth_init(a, key), srtp_err_status_ok);
  uint8_t tag[32];
  ck_assert_int_eq(sr_nettle_hmac_sha1.compute(a->state, msg, 3, 21, tag),
                   srtp_err_status_bad_param);
  ck_assert_int_eq(srtp_auth_dealloc(a), srtp_err_status_ok);
}
END_TEST

#endif /* SR_HAVE_SRTP_NETTLE */
#endif /* SR_HAVE_SRTP */

START_TEST(test_built)
{
#ifdef SR_HAVE_SRTP
  ck_assert(sr_media_srtp_built());
#else
  ck_assert(!sr_media_srtp_built()); /* nothing else to compare */
#endif
}
END_TEST

static Suite *media_srtp_kernel_suite(void)
{
  Suite *s = suite_create("media_srtp_kernel");
  TCase *tc = tcase_create("kernel");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_built);
#ifdef SR_HAVE_SRTP
#ifdef SR_HAVE_SRTP_NETTLE
  tcase_add_test(tc, test_installed);
#endif
  tcase_add_loop_test(tc, test_reference_decrypts, 0, N_SUITES);
  tcase_add_loop_test(tc, test_reference_tampered, 0, N_SUITES);
  tcase_add_loop_test(tc, test_reference_wrong_key, 0, N_SUITES);
  tcase_add_loop_test(tc, test_protect_identical, 0, N_SUITES);
#ifdef SR_HAVE_SRTP_NETTLE
  tcase_add_test(tc, test_self_tests);
  tcase_add_test(tc, test_rfc3711_b3);
  tcase_add_loop_test(tc, test_keystream_across_calls, 0, 3);
  tcase_add_test(tc, test_cipher_params);
  tcase_add_test(tc, test_hmac);
#endif
#endif
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
#ifdef SR_HAVE_SRTP
  /* Before anything of the library's: libsrtp2 on its own crypto. */
  make_reference();
#endif
  return run_suite(media_srtp_kernel_suite());
}
