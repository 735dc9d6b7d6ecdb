/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/media/srtp: packets protected here with libsrtp2 itself (an outbound
 * context keyed like the SRC) and unprotected through the module, for every
 * suite; wrong keys, replays, tampered and malformed packets; the rollover
 * counter across the sequence wrap and its restore into a new context;
 * SRTCP; MKI; the a=crypto key parser. Built without libsrtp2, only the
 * parser and the "not built" answers are tested. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "base64.h"
#include "check_main.h"
#include "media/rtp.h"
#include "media/srtp.h"
#include "rtp_build.h"
#include "srtp_fixture.h"

#ifdef SR_HAVE_SRTP
#include <pthread.h>
#endif

static const char *const all_suites[] = {
  "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80",
  "AES_256_CM_HMAC_SHA1_32", "AEAD_AES_128_GCM",        "AEAD_AES_256_GCM",
};
#define N_SUITES (sizeof all_suites / sizeof all_suites[0])

/* ---------------------------------------------------------------------- */
/* The key parser (with or without libsrtp2)                               */

START_TEST(test_parse_key_good)
{
  uint8_t raw[46];
  char text[128], b[80];
  sr_srtp_key k;
  srtp_fx_make_key(raw, 30, 1);
  base64_encode(raw, 30, b, true);
  ck_assert_uint_eq(strlen(b), 40);
  ck_assert_int_eq(sr_srtp_parse_key("AES_CM_128_HMAC_SHA1_80", b, &k), 0);
  ck_assert_uint_eq(k.key_len, 30);
  ck_assert_mem_eq(k.key, raw, 30);
  ck_assert_uint_eq(k.lifetime, 0);
  ck_assert_uint_eq(k.mki_len, 0);
  snprintf(text, sizeof text, "inline:%s|2^31", b);
  ck_assert_int_eq(sr_srtp_parse_key("aes_cm_128_hmac_sha1_32", text, &k), 0);
  ck_assert_uint_eq(k.lifetime, 1ull << 31);
  snprintf(text, sizeof text, "%s|2^20|1:4", b);
  ck_assert_int_eq(sr_srtp_parse_key("AES_CM_128_HMAC_SHA1_80", text, &k), 0);
  ck_assert_uint_eq(k.lifetime, 1u << 20);
  ck_assert_uint_eq(k.mki_len, 4);
  ck_assert_uint_eq(k.mki[3], 1);
  snprintf(text, sizeof text, "%s|258:2", b);
  ck_assert_int_eq(sr_srtp_parse_key("AES_CM_128_HMAC_SHA1_80", text, &k), 0);
  ck_assert_uint_eq(k.lifetime, 0);
  ck_assert_uint_eq(k.mki_len, 2);
  ck_assert_uint_eq(k.mki[0], 1);
  ck_assert_uint_eq(k.mki[1], 2);
  snprintf(text, sizeof text, "%s|1000", b);
  ck_assert_int_eq(sr_srtp_parse_key("AES_CM_128_HMAC_SHA1_80", text, &k), 0);
  ck_assert_uint_eq(k.lifetime, 1000);

  /* 46 octets: 64 characters with "==", 62 without. */
  srtp_fx_make_key(raw, 46, 2);
  base64_encode(raw, 46, b, true);
  ck_assert_uint_eq(strlen(b), 64);
  ck_assert_int_eq(sr_srtp_parse_key("AES_256_CM_HMAC_SHA1_80", b, &k), 0);
  ck_assert_mem_eq(k.key, raw, 46);
  base64_encode(raw, 46, b, false);
  ck_assert_uint_eq(strlen(b), 62);
  ck_assert_int_eq(sr_srtp_parse_key("AES_256_CM_HMAC_SHA1_32", b, &k), 0);
  ck_assert_mem_eq(k.key, raw, 46);

  /* GCM: 28 and 44 octets. */
  base64_encode(raw, 28, b, true);
  ck_assert_int_eq(sr_srtp_parse_key("AEAD_AES_128_GCM", b, &k), 0);
  ck_assert_uint_eq(k.key_len, 28);
  base64_encode(raw, 44, b, true);
  ck_assert_int_eq(sr_srtp_parse_key("AEAD_AES_256_GCM", b, &k), 0);
  ck_assert_uint_eq(k.key_len, 44);

  ck_assert_uint_eq(sr_srtp_suite_key_len("AES_CM_128_HMAC_SHA1_80"), 30);
  ck_assert_uint_eq(sr_srtp_suite_key_len("AES_256_CM_HMAC_SHA1_32"), 46);
  ck_assert_uint_eq(sr_srtp_suite_key_len("AEAD_AES_256_GCM"), 44);
  ck_assert_uint_eq(sr_srtp_suite_key_len("F8_128_HMAC_SHA1_80"), 0);
  ck_assert_uint_eq(sr_srtp_suite_key_len(NULL), 0);
}
END_TEST

START_TEST(test_parse_key_errors)
{
  uint8_t raw[46];
  char good[80], text[160];
  sr_srtp_key k;
  srtp_fx_make_key(raw, 46, 3);
  base64_encode(raw, 30, good, true);
  const char *s80 = "AES_CM_128_HMAC_SHA1_80";

  ck_assert_int_eq(sr_srtp_parse_key(NULL, good, &k), SIPREC_EINVAL);
  ck_assert_int_eq(sr_srtp_parse_key(s80, NULL, &k), SIPREC_EINVAL);
  ck_assert_int_eq(sr_srtp_parse_key(s80, good, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_srtp_parse_key("F8_128_HMAC_SHA1_80", good, &k), SIPREC_ENOTFOUND);
  ck_assert_int_eq(sr_srtp_parse_key("", good, &k), SIPREC_ENOTFOUND);

  /* Bad characters, anywhere. */
  strcpy(text, good);
  text[5] = '*';
  ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), SIPREC_EPARSE);
  for (size_t i = 0; i < 40; i += 13) {
    strcpy(text, good);
    text[i] = ' ';
    ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), SIPREC_EPARSE);
  }
  strcpy(text, good);
  text[10] = '=';
  ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), SIPREC_EPARSE);
  /* Wrong lengths for the suite. */
  ck_assert_int_eq(sr_srtp_parse_key("AES_256_CM_HMAC_SHA1_80", good, &k), SIPREC_EPARSE);
  ck_assert_int_eq(sr_srtp_parse_key("AEAD_AES_128_GCM", good, &k), SIPREC_EPARSE);
  strcpy(text, good);
  text[36] = '\0'; /* 27 octets */
  ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), SIPREC_EPARSE);
  snprintf(text, sizeof text, "%sAAAA", good); /* 33 octets */
  ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), SIPREC_EPARSE);
  strcpy(text, good);
  text[39] = '\0'; /* 39 characters: not a base64 length */
  ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), SIPREC_EPARSE);
  ck_assert_int_eq(sr_srtp_parse_key(s80, "", &k), SIPREC_EPARSE);
  ck_assert_int_eq(sr_srtp_parse_key(s80, "inline:", &k), SIPREC_EPARSE);
  base64_encode(raw, 46, text, true);
  ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), SIPREC_EPARSE);

  /* Lifetime and MKI. */
  static const char *const bad_params[] = {
    "|", "|2^", "|2^0", "|2^64", "|0", "|abc", "|2^31|", "|2^31|1:", "|2^31|1:0",
    "|1:129", "|256:1", "|2^31|1:4|x", "|2^31 ", ";inline:xyz", "|99999999999999999999999",
    "|1:4|2^31",
  };
  for (size_t i = 0; i < sizeof bad_params / sizeof bad_params[0]; i++) {
    snprintf(text, sizeof text, "%s%s", good, bad_params[i]);
    memset(&k, 0x55, sizeof k);
    ck_assert_msg(sr_srtp_parse_key(s80, text, &k) == SIPREC_EPARSE, "%s", bad_params[i]);
    ck_assert_uint_eq(k.key_len, 0); /* wiped */
    ck_assert_uint_eq(k.key[0], 0);
  }
  snprintf(text, sizeof text, "%s|1:128", good);
  ck_assert_int_eq(sr_srtp_parse_key(s80, text, &k), 0);
  ck_assert_uint_eq(k.mki_len, 128);
  ck_assert_uint_eq(k.mki[127], 1);
}
END_TEST

START_TEST(test_result_names)
{
  ck_assert_str_eq(sr_srtp_result_name(SR_SRTP_OK), "ok");
  ck_assert_str_eq(sr_srtp_result_name(SR_SRTP_AUTH_FAIL), "auth failure");
  ck_assert_str_eq(sr_srtp_result_name(SR_SRTP_REPLAY), "replay");
  ck_assert_str_eq(sr_srtp_result_name(SR_SRTP_BAD_FORMAT), "bad format");
  ck_assert_str_eq(sr_srtp_result_name(SR_SRTP_KEY_EXPIRED), "key expired");
  ck_assert_str_eq(sr_srtp_result_name(SR_SRTP_OTHER), "other");
  ck_assert_str_eq(sr_srtp_result_name(SR_SRTP_RESULT_COUNT), "unknown");
}
END_TEST

#ifndef SR_HAVE_SRTP

START_TEST(test_not_built)
{
  ck_assert(!sr_media_srtp_built());
  for (size_t i = 0; i < N_SUITES; i++)
    ck_assert(!sr_media_srtp_suite_supported(all_suites[i]));
  sr_srtp *c = (sr_srtp *)1;
  ck_assert_int_eq(sr_srtp_new(NULL, all_suites[0], "AAAA", &c), SIPREC_ENOTFOUND);
  ck_assert_ptr_null(c);
}
END_TEST

#else

/* ---------------------------------------------------------------------- */
/* The sending side: libsrtp2 itself                                        */

typedef srtp_fx_pkt pkt;

static pkt P, Q;

/* A sender through libsrtp2 (srtp_fx_tx_create), after the module's
 * srtp_init(): libsrtp2 needs it first, and the module runs it, once. */
static srtp_t tx_new(const char *suite, uint8_t *key, uint32_t ssrc)
{
  ck_assert(sr_media_srtp_suite_supported(suite));
  srtp_t s = NULL;
  ck_assert_int_eq(srtp_fx_tx_create(suite, key, ssrc, &s), 0);
  return s;
}

/* The same for any SSRC with master key `key` under MKI `mki` (n octets):
 * its packets carry the MKI. */
static srtp_t tx_new_mki(const char *suite, uint8_t *key, uint8_t *mki, unsigned n)
{
  ck_assert(sr_media_srtp_suite_supported(suite));
  srtp_policy_t p;
  ck_assert_int_eq(srtp_fx_policy(suite, &p), 0);
  p.ssrc.type = ssrc_any_outbound;
  srtp_master_key_t mk = { key, mki, n };
  srtp_master_key_t *mks[1] = { &mk };
  p.keys = mks;
  p.num_master_keys = 1;
  srtp_t tx = NULL;
  ck_assert_int_eq(srtp_create(&tx, &p), srtp_err_status_ok);
  return tx;
}

/* Build RTP (seq, ssrc) into *p and protect it with tx (`how`: with or
 * without the MKI, srtp_fixture.h). */
static void protect_as(srtp_t tx, pkt *p, uint16_t seq, uint32_t ssrc, int how)
{
  rtpb o = rtpb_audio(seq, 160u * seq, ssrc);
  p->plain_n = rtpb_build(p->plain, sizeof p->plain, &o);
  ck_assert_uint_gt(p->plain_n, 0);
  ck_assert_int_eq(srtp_fx_protect(tx, p, how), 0);
}

static void protect(srtp_t tx, pkt *p, uint16_t seq, uint32_t ssrc)
{
  protect_as(tx, p, seq, ssrc, SRTP_FX_RTP);
}

/* A sender report with a CNAME, protected with tx. */
static void protect_rtcp(srtp_t tx, pkt *p, uint32_t ssrc, uint32_t n)
{
  size_t off = 0;
  rtcpb_sr(p->plain, &off, ssrc, 0xE8D4A51000000000ull + n, 160 * n, n, 160 * n, 1);
  rtcpb_sdes_cname(p->plain, &off, ssrc, "alice@example.com");
  p->plain_n = off;
  ck_assert_int_eq(srtp_fx_protect(tx, p, SRTP_FX_RTCP), 0);
}

/* An empty receiver report, protected with tx and its MKI. */
static void protect_rr_mki(srtp_t tx, pkt *p, uint32_t ssrc)
{
  size_t off = 0;
  rtcpb_rr(p->plain, &off, ssrc, 0);
  p->plain_n = off;
  ck_assert_int_eq(srtp_fx_protect(tx, p, SRTP_FX_RTCP | SRTP_FX_MKI), 0);
}

/* Unprotect a copy of p through the module (srtp_fx_rx checks what comes
 * out): the result. */
static sr_srtp_result rx(sr_srtp *c, const pkt *p)
{
  return srtp_fx_rx(c, p, false);
}

static sr_srtp_result rx_rtcp(sr_srtp *c, const pkt *p)
{
  return srtp_fx_rx(c, p, true);
}

/* Key `seed` of the suite: raw into key, base64 into text. */
static void suite_key(const char *suite, uint8_t seed, uint8_t *key, char *text)
{
  size_t n = sr_srtp_suite_key_len(suite);
  ck_assert_uint_gt(n, 0);
  srtp_fx_make_key(key, n, seed);
  base64_encode(key, n, text, true);
}

static sr_srtp *rx_new(const char *suite, const char *text)
{
  return srtp_fx_rx_new(suite, text);
}

/* Key `seed` of the suite into key, and the module's receiver for the key
 * text "inline:KEY" and `params` after it (a lifetime, an MKI). */
static sr_srtp *rx_new_with(const char *suite, uint8_t seed, uint8_t *key, const char *params)
{
  char b[96], text[160];
  suite_key(suite, seed, key, b);
  snprintf(text, sizeof text, "inline:%s%s", b, params);
  return rx_new(suite, text);
}

/* What most tests start from: key `seed` of a suite, libsrtp2's sender
 * (for any SSRC, or only tx_ssrc) and the module's receiver keyed alike. */
typedef struct rig {
  const char *suite;
  uint8_t key[64];
  char text[96];
  srtp_t tx;
  sr_srtp *c;
} rig;

static void rig_open(rig *r, const char *suite, uint8_t seed, uint32_t tx_ssrc)
{
  r->suite = suite;
  suite_key(suite, seed, r->key, r->text);
  r->tx = tx_new(suite, r->key, tx_ssrc);
  r->c = rx_new(suite, r->text);
}

static void rig_close(rig *r)
{
  sr_srtp_free(r->c);
  srtp_dealloc(r->tx);
}

/* The module's receiver for the rig's suite under key `seed`, another key. */
static sr_srtp *rx_other_key(const rig *r, uint8_t seed)
{
  uint8_t key[64];
  char text[96];
  suite_key(r->suite, seed, key, text);
  ck_assert(memcmp(key, r->key, sr_srtp_suite_key_len(r->suite)) != 0);
  return rx_new(r->suite, text);
}

/* The ROC and highest sequence number the module holds for ssrc. */
static void assert_roc(const sr_srtp *c, uint32_t ssrc, uint32_t want_roc, uint16_t want_seq)
{
  uint32_t roc = ~want_roc;
  uint16_t seq = (uint16_t)~want_seq;
  ck_assert_int_eq(sr_srtp_get_roc(c, ssrc, &roc, &seq), 0);
  ck_assert_uint_eq(roc, want_roc);
  ck_assert_uint_eq(seq, want_seq);
}

static sr_srtp_counters counters(const sr_srtp *c)
{
  sr_srtp_counters k;
  sr_srtp_get_counters(c, &k);
  return k;
}

START_TEST(test_built_and_suites)
{
  ck_assert(sr_media_srtp_built());
  for (size_t i = 0; i < N_SUITES; i++)
    ck_assert_msg(sr_media_srtp_suite_supported(all_suites[i]), "%s", all_suites[i]);
  ck_assert(sr_media_srtp_suite_supported("aes_cm_128_hmac_sha1_80"));
  ck_assert(!sr_media_srtp_suite_supported("F8_128_HMAC_SHA1_80"));
  ck_assert(!sr_media_srtp_suite_supported("NULL"));
  ck_assert(!sr_media_srtp_suite_supported(NULL));
  sr_srtp *c = (sr_srtp *)1;
  ck_assert_int_eq(sr_srtp_new(NULL, "F8_128_HMAC_SHA1_80", "AAAA", &c), SIPREC_ENOTFOUND);
  ck_assert_ptr_null(c);
  ck_assert_int_eq(sr_srtp_new(NULL, all_suites[0], "AA*A", &c), SIPREC_EPARSE);
  ck_assert_int_eq(sr_srtp_new(NULL, all_suites[0], "AAAA", NULL), SIPREC_EINVAL);
  size_t n = 1;
  uint8_t b[4];
  ck_assert_int_eq(sr_srtp_unprotect(NULL, b, &n, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_srtp_unprotect_rtcp(NULL, b, &n, NULL), SIPREC_EINVAL);
  sr_srtp_free(NULL);
}
END_TEST

/* Every suite: 200 packets in order, two SSRCs interleaved, each one
 * delivered intact. */
START_TEST(test_every_suite)
{
  rig r;
  rig_open(&r, all_suites[_i], (uint8_t)_i, 0);
  for (uint16_t s = 0; s < 200; s++) {
    protect(r.tx, &P, (uint16_t)(1000 + s), (s & 1) ? 0x11111111 : 0x22222222);
    ck_assert_uint_gt(P.prot_n, P.plain_n); /* a tag was added */
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  }
  sr_srtp_counters k = counters(r.c);
  ck_assert_uint_eq(k.rtp[SR_SRTP_OK], 200);
  for (int why = 1; why < SR_SRTP_RESULT_COUNT; why++)
    ck_assert_uint_eq(k.rtp[why], 0);
  uint32_t roc = 9;
  uint16_t seq = 0;
  assert_roc(r.c, 0x11111111, 0, 1199);
  ck_assert_int_eq(sr_srtp_get_roc(r.c, 0x22222222, &roc, &seq), 0);
  ck_assert_uint_eq(seq, 1198);
  ck_assert_int_eq(sr_srtp_get_roc(r.c, 0x33333333, &roc, &seq), SIPREC_ENOTFOUND);
  rig_close(&r);
}
END_TEST

START_TEST(test_wrong_key)
{
  rig r;
  rig_open(&r, all_suites[_i], 7, 0);
  sr_srtp *wrong = rx_other_key(&r, 8);
  for (uint16_t s = 0; s < 20; s++) {
    protect(r.tx, &P, s, 0x1234);
    ck_assert_int_eq(rx(wrong, &P), SR_SRTP_AUTH_FAIL);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  }
  sr_srtp_counters k = counters(wrong);
  ck_assert_uint_eq(k.rtp[SR_SRTP_AUTH_FAIL], 20);
  ck_assert_uint_eq(k.rtp[SR_SRTP_OK], 0);
  uint32_t roc;
  uint16_t seq;
  ck_assert_int_eq(sr_srtp_get_roc(wrong, 0x1234, &roc, &seq), SIPREC_ENOTFOUND);
  sr_srtp_free(wrong);
  rig_close(&r);
}
END_TEST

START_TEST(test_replay)
{
  rig r;
  rig_open(&r, all_suites[_i], 9, 0);
  srtp_t tx2 = tx_new(r.suite, r.key, 0); /* a second sender: the same indexes again */
  protect(r.tx, &P, 5, 0xABCD);
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_REPLAY);
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_REPLAY);
  /* Reordered within the window: delivered once, then a replay. */
  protect(r.tx, &P, 7, 0xABCD);
  protect(r.tx, &Q, 6, 0xABCD);
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  ck_assert_int_eq(rx(r.c, &Q), SR_SRTP_OK);
  ck_assert_int_eq(rx(r.c, &Q), SR_SRTP_REPLAY);
  /* Beyond the window: an index older than highest - window. */
  for (uint16_t s = 8; s < 8 + SR_SRTP_REPLAY_WINDOW + 10; s++) {
    protect(r.tx, &P, s, 0xABCD);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  }
  protect(tx2, &P, 9, 0xABCD); /* genuine, but far too old */
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_REPLAY);
  sr_srtp_counters k = counters(r.c);
  ck_assert_uint_eq(k.rtp[SR_SRTP_REPLAY], 4);
  ck_assert_uint_eq(k.rtp[SR_SRTP_OK], 3 + SR_SRTP_REPLAY_WINDOW + 10);
  rig_close(&r);
  srtp_dealloc(tx2);
}
END_TEST

START_TEST(test_tampered)
{
  rig r;
  rig_open(&r, all_suites[_i], 10, 0);
  uint16_t s = 100;
  /* A flipped bit anywhere, header, payload or tag: never delivered. */
  size_t at[] = { 1, 3, 7, 11, 12, 60, 171, 0 };
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++, s++) {
    protect(r.tx, &P, s, 0x5555);
    size_t pos = at[i] ? at[i] : P.prot_n - 1;
    P.prot[pos] ^= 0x40; /* on the sequence number: an unseen older index */
    ck_assert_msg(rx(r.c, &P) == SR_SRTP_AUTH_FAIL, "%s byte %zu", r.suite, pos);
    P.prot[pos] ^= 0x40;
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK); /* the genuine one still is */
  }
  /* Truncated: the tag cut, or shorter than a header. */
  protect(r.tx, &P, s++, 0x5555);
  P.prot_n -= 1;
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_AUTH_FAIL);
  P.prot_n = 12 + 3;
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_BAD_FORMAT);
  P.prot_n = 5;
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_BAD_FORMAT);
  P.prot_n = 0;
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_BAD_FORMAT);
  /* Not version 2. */
  protect(r.tx, &P, s++, 0x5555);
  P.prot[0] &= 0x3f;
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_BAD_FORMAT);
  /* Oversized. */
  P.prot_n = SR_SRTP_MAX_PACKET + 1;
  P.prot[0] = 0x80;
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_BAD_FORMAT);
  /* CSRC count past the end. */
  protect(r.tx, &P, s++, 0x5555);
  P.prot[0] |= 0x0f;
  P.prot_n = 12 + 20;
  sr_srtp_result why = rx(r.c, &P);
  ck_assert_msg(why == SR_SRTP_BAD_FORMAT || why == SR_SRTP_AUTH_FAIL, "%d", why);
  /* A forged packet of a new SSRC creates nothing. */
  protect(r.tx, &P, s++, 0x7777);
  P.prot[20] ^= 0x80;
  ck_assert_int_eq(rx(r.c, &P), SR_SRTP_AUTH_FAIL);
  uint32_t roc;
  uint16_t seq;
  ck_assert_int_eq(sr_srtp_get_roc(r.c, 0x7777, &roc, &seq), SIPREC_ENOTFOUND);
  sr_srtp_counters k = counters(r.c);
  ck_assert_uint_eq(k.rtp[SR_SRTP_OK], 8);
  ck_assert_uint_eq(k.rtp[SR_SRTP_AUTH_FAIL] + k.rtp[SR_SRTP_BAD_FORMAT], 8 + 1 + 3 + 2 + 2);
  ck_assert_uint_eq(k.rtp[SR_SRTP_REPLAY], 0);
  rig_close(&r);
}
END_TEST

/* 70,000 packets from sequence 0: the ROC becomes 1 at the wrap and
 * every packet after it decrypts. */
START_TEST(test_wrap_70000)
{
  rig r;
  rig_open(&r, "AES_CM_128_HMAC_SHA1_80", 11, 0);
  /* Under valgrind from 60000: the wrap all the same, in less time. */
  uint32_t first = getenv("SIPREC_UNDER_VALGRIND") ? 60000 : 0;
  for (uint32_t i = first; i < 70000; i++) {
    protect(r.tx, &P, (uint16_t)i, 0xCAFE);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
    if (i == 65535) {
      assert_roc(r.c, 0xCAFE, 0, 65535);
    }
  }
  assert_roc(r.c, 0xCAFE, 1, (uint16_t)69999);
  ck_assert_uint_eq(counters(r.c).rtp[SR_SRTP_OK], 70000 - first);
  rig_close(&r);
}
END_TEST

/* Every suite from 65500 across the wrap, with reordering around it. */
START_TEST(test_wrap_every_suite)
{
  rig r;
  rig_open(&r, all_suites[_i], 12, 0);
  for (uint32_t i = 65500; i < 65600; i += 2) {
    /* i+1 then i: the packet before the wrap arrives after the one past it. */
    protect(r.tx, &P, (uint16_t)i, 0xBEEF);
    protect(r.tx, &Q, (uint16_t)(i + 1), 0xBEEF);
    ck_assert_int_eq(rx(r.c, &Q), SR_SRTP_OK);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  }
  assert_roc(r.c, 0xBEEF, 1, (uint16_t)65599);
  rig_close(&r);
}
END_TEST

/* The ROC read from one context and restored into a new one: the new one
 * decrypts what follows the wrap; a new one without it cannot. */
START_TEST(test_roc_restore)
{
  rig r;
  rig_open(&r, all_suites[_i], 13, 0);
  for (uint32_t i = 65000; i < 65536 + 100; i++) {
    protect(r.tx, &P, (uint16_t)i, 0x4242);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  }
  uint32_t roc;
  uint16_t seq;
  ck_assert_int_eq(sr_srtp_get_roc(r.c, 0x4242, &roc, &seq), 0);
  ck_assert_uint_eq(roc, 1);
  ck_assert_uint_eq(seq, 99);

  sr_srtp *b = rx_new(r.suite, r.text);
  sr_srtp *fresh = rx_new(r.suite, r.text);
  ck_assert_int_eq(sr_srtp_set_roc(b, 0x4242, roc, seq), 0);
  ck_assert_int_eq(sr_srtp_get_roc(b, 0x4242, &roc, &seq), SIPREC_ENOTFOUND);
  for (uint32_t i = 100; i < 200; i++) {
    protect(r.tx, &P, (uint16_t)i, 0x4242);
    ck_assert_int_eq(rx(fresh, &P), SR_SRTP_AUTH_FAIL);
    ck_assert_int_eq(rx(b, &P), SR_SRTP_OK);
  }
  assert_roc(b, 0x4242, 1, 199);
  ck_assert_int_eq(sr_srtp_set_roc(b, 0x4242, 1, 199), SIPREC_EEXIST);
  ck_assert_int_eq(sr_srtp_set_roc(NULL, 0x4242, 1, 199), SIPREC_EINVAL);
  sr_srtp_free(b);
  sr_srtp_free(fresh);
  rig_close(&r);
}
END_TEST

/* Restored just before the wrap: the first packets after the restore
 * cross it; a late packet of the previous cycle still finds its ROC. */
START_TEST(test_roc_restore_near_wrap)
{
  rig r;
  rig_open(&r, "AES_CM_128_HMAC_SHA1_32", 14, 0);
  /* Two cycles on in steps below 2^15 (RFC 3711 places them); the state
   * moved at 65530 of cycle 2. */
  for (uint32_t i = 0;; i += 16000) {
    if (i > 2 * 65536 + 65530)
      i = 2 * 65536 + 65530;
    protect(r.tx, &P, (uint16_t)i, 0x99);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
    if (i == 2 * 65536 + 65530)
      break;
  }
  uint32_t roc;
  uint16_t seq;
  ck_assert_int_eq(sr_srtp_get_roc(r.c, 0x99, &roc, &seq), 0);
  ck_assert_uint_eq(roc, 2);
  ck_assert_uint_eq(seq, 65530);
  sr_srtp *b = rx_new(r.suite, r.text);
  ck_assert_int_eq(sr_srtp_set_roc(b, 0x99, roc, seq), 0);
  /* 65531..65535 held back; 0..9 of cycle 3 first, then the held ones. */
  pkt *held = calloc(5, sizeof *held);
  ck_assert_ptr_nonnull(held);
  for (int i = 0; i < 5; i++)
    protect(r.tx, &held[i], (uint16_t)(65531 + i), 0x99);
  for (uint16_t s = 0; s < 10; s++) {
    protect(r.tx, &P, s, 0x99);
    ck_assert_int_eq(rx(b, &P), SR_SRTP_OK);
  }
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(rx(b, &held[i]), SR_SRTP_OK);
  assert_roc(b, 0x99, 3, 9);
  free(held);
  sr_srtp_free(b);
  rig_close(&r);
}
END_TEST

/* A ROC far from 0 (a long call moved late): the sender's ROC set through
 * libsrtp2, the receiver's restored. */
START_TEST(test_roc_restore_large)
{
  rig r;
  rig_open(&r, "AES_256_CM_HMAC_SHA1_80", 15, 0x600D);
  ck_assert_int_eq(srtp_set_stream_roc(r.tx, 0x600D, 70000), srtp_err_status_ok);
  ck_assert_int_eq(sr_srtp_set_roc(r.c, 0x600D, 70000, 40000), 0);
  for (uint16_t s = 40001; s < 40100; s++) {
    protect(r.tx, &P, s, 0x600D);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  }
  assert_roc(r.c, 0x600D, 70000, 40099);
  rig_close(&r);
}
END_TEST

START_TEST(test_srtcp)
{
  rig r;
  rig_open(&r, all_suites[_i], 16, 0);
  sr_srtp *wrong = rx_other_key(&r, 17);
  for (uint32_t i = 0; i < 30; i++) {
    protect_rtcp(r.tx, &P, 0x1234, i);
    ck_assert_int_eq(rx_rtcp(wrong, &P), SR_SRTP_AUTH_FAIL);
    ck_assert_int_eq(rx_rtcp(r.c, &P), SR_SRTP_OK);
    /* RTP of the same SSRC in between. */
    protect(r.tx, &Q, (uint16_t)(50 + i), 0x1234);
    ck_assert_int_eq(rx(r.c, &Q), SR_SRTP_OK);
  }
  ck_assert_int_eq(rx_rtcp(r.c, &P), SR_SRTP_REPLAY);
  protect_rtcp(r.tx, &P, 0x1234, 31);
  P.prot[9] ^= 4;
  ck_assert_int_eq(rx_rtcp(r.c, &P), SR_SRTP_AUTH_FAIL);
  P.prot_n = 10;
  ck_assert_int_eq(rx_rtcp(r.c, &P), SR_SRTP_BAD_FORMAT);
  sr_srtp_counters k = counters(r.c);
  ck_assert_uint_eq(k.rtcp[SR_SRTP_OK], 30);
  ck_assert_uint_eq(k.rtcp[SR_SRTP_REPLAY], 1);
  ck_assert_uint_eq(k.rtcp[SR_SRTP_AUTH_FAIL], 1);
  ck_assert_uint_eq(k.rtcp[SR_SRTP_BAD_FORMAT], 1);
  ck_assert_uint_eq(k.rtp[SR_SRTP_OK], 30);
  ck_assert_uint_eq(counters(wrong).rtcp[SR_SRTP_AUTH_FAIL], 30);
  sr_srtp_free(wrong);
  rig_close(&r);
}
END_TEST

/* An MKI: packets carry it; another MKI fails (from another SSRC, or it
 * would be a replay first). */
START_TEST(test_mki)
{
  const char *suite = "AES_CM_128_HMAC_SHA1_80";
  uint8_t key[64];
  sr_srtp *c = rx_new_with(suite, 18, key, "|2^31|7:2");
  uint8_t mki_good[2] = { 0, 7 }, mki_bad[2] = { 0, 8 };
  for (int which = 0; which < 2; which++) {
    srtp_t tx = tx_new_mki(suite, key, which ? mki_bad : mki_good, 2);
    for (uint16_t s = 0; s < 10; s++) {
      protect_as(tx, &P, s, which ? 0x4 : 0x3, SRTP_FX_MKI);
      ck_assert_uint_eq(P.prot_n, P.plain_n + 2 + 10);
      ck_assert_int_eq(rx(c, &P), which ? SR_SRTP_AUTH_FAIL : SR_SRTP_OK);
    }
    protect_rr_mki(tx, &P, which ? 0x4 : 0x3);
    ck_assert_int_eq(rx_rtcp(c, &P), which ? SR_SRTP_AUTH_FAIL : SR_SRTP_OK);
    srtp_dealloc(tx);
  }
  sr_srtp_free(c);
}
END_TEST

/* The SDP's lifetime: `lifetime` packets are delivered under the key, in
 * each direction; every further one fails as SR_SRTP_KEY_EXPIRED, counted,
 * never delivered, whether it authenticates or not. */
START_TEST(test_lifetime)
{
  const char *suite = "AES_CM_128_HMAC_SHA1_80";
  uint8_t key[64];
  sr_srtp *c = rx_new_with(suite, 19, key, "|5|3:1");
  uint8_t mki[1] = { 3 };
  srtp_t tx = tx_new_mki(suite, key, mki, 1);
  for (uint16_t s = 0; s < 8; s++) {
    protect_as(tx, &P, s, 0x9, SRTP_FX_MKI);
    ck_assert_int_eq(rx(c, &P), s < 5 ? SR_SRTP_OK : SR_SRTP_KEY_EXPIRED);
  }
  /* SRTCP has its own count: the first 5 pass although SRTP's is used up. */
  for (int k = 0; k < 7; k++) {
    protect_rr_mki(tx, &P, 0x9);
    ck_assert_int_eq(rx_rtcp(c, &P), k < 5 ? SR_SRTP_OK : SR_SRTP_KEY_EXPIRED);
  }
  sr_srtp_counters n;
  sr_srtp_get_counters(c, &n);
  ck_assert_uint_eq(n.rtp[SR_SRTP_OK], 5);
  ck_assert_uint_eq(n.rtp[SR_SRTP_KEY_EXPIRED], 3);
  ck_assert_uint_eq(n.rtcp[SR_SRTP_OK], 5);
  ck_assert_uint_eq(n.rtcp[SR_SRTP_KEY_EXPIRED], 2);
  /* Expired, not parsed: -EPARSE like every undelivered packet. */
  size_t len = P.prot_n;
  sr_srtp_result why = SR_SRTP_OK;
  ck_assert_int_eq(sr_srtp_unprotect_rtcp(c, P.prot, &len, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_SRTP_KEY_EXPIRED);
  ck_assert_uint_eq(len, 0);
  srtp_dealloc(tx);
  sr_srtp_free(c);

  /* Without a lifetime, the same key goes on. */
  c = rx_new_with(suite, 19, key, "|3:1");
  tx = tx_new_mki(suite, key, mki, 1);
  for (uint16_t s = 0; s < 8; s++) {
    protect_as(tx, &P, s, 0x9, SRTP_FX_MKI);
    ck_assert_int_eq(rx(c, &P), SR_SRTP_OK);
  }
  srtp_dealloc(tx);
  sr_srtp_free(c);
}
END_TEST

/* Many SSRCs: each decrypts, the remembered ones stay bounded, and one
 * dropped for newer ones starts afresh. */
START_TEST(test_many_ssrcs)
{
  rig r;
  rig_open(&r, "AES_CM_128_HMAC_SHA1_80", 19, 0);
  for (uint32_t ssrc = 1; ssrc <= 3 * SR_SRTP_MAX_SSRC; ssrc++)
    for (uint16_t s = 0; s < 3; s++) {
      protect(r.tx, &P, s, ssrc);
      ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
    }
  uint32_t roc;
  uint16_t seq;
  ck_assert_int_eq(sr_srtp_get_roc(r.c, 1, &roc, &seq), SIPREC_ENOTFOUND);
  ck_assert_int_eq(sr_srtp_get_roc(r.c, 3 * SR_SRTP_MAX_SSRC, &roc, &seq), 0);
  ck_assert_uint_eq(seq, 2);
  /* SSRC 1 again: a new stream in the receiver; its next packets decrypt. */
  for (uint16_t s = 3; s < 6; s++) {
    protect(r.tx, &P, s, 1);
    ck_assert_int_eq(rx(r.c, &P), SR_SRTP_OK);
  }
  /* A full table refuses a restore. */
  ck_assert_int_eq(sr_srtp_set_roc(r.c, 0xFFFF, 1, 1), SIPREC_ETOOBIG);
  rig_close(&r);
}
END_TEST

/* Contexts made and used from several threads at once (srtp_init once). */

static void *thread_body(void *arg)
{
  (void)arg;
  const char *suite = "AEAD_AES_128_GCM";
  uint8_t key[64];
  char text[96];
  static _Thread_local pkt tp;
  srtp_fx_make_key(key, 28, 20);
  base64_encode(key, 28, text, true);
  sr_srtp *c = NULL;
  if (sr_srtp_new(NULL, suite, text, &c) != 0) /* runs srtp_init() */
    return (void *)1;
  srtp_t tx = NULL;
  if (srtp_fx_tx_create(suite, key, 0, &tx) != 0) {
    sr_srtp_free(c);
    return (void *)1;
  }
  /* No Check assertions off the test's thread: failures are counted. */
  uintptr_t bad = 0;
  for (uint16_t s = 0; s < 500; s++) {
    rtpb o = rtpb_audio(s, 160u * s, 0x10);
    tp.plain_n = rtpb_build(tp.plain, sizeof tp.plain, &o);
    if (srtp_fx_protect(tx, &tp, SRTP_FX_RTP) != 0) {
      bad++;
      continue;
    }
    size_t n = tp.prot_n;
    if (sr_srtp_unprotect(c, tp.prot, &n, NULL) != 0 || n != tp.plain_n ||
        memcmp(tp.prot, tp.plain, n))
      bad++;
  }
  sr_srtp_free(c);
  srtp_dealloc(tx);
  return (void *)bad;
}

START_TEST(test_threads)
{
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, thread_body, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    ck_assert_ptr_null(r);
  }
}
END_TEST

#endif

static Suite *media_srtp_suite(void)
{
  Suite *s = suite_create("media_srtp");
  TCase *tc = tcase_create("key");
  tcase_add_test(tc, test_parse_key_good);
  tcase_add_test(tc, test_parse_key_errors);
  tcase_add_test(tc, test_result_names);
  suite_add_tcase(s, tc);
#ifndef SR_HAVE_SRTP
  tc = tcase_create("not_built");
  tcase_add_test(tc, test_not_built);
  suite_add_tcase(s, tc);
#else
  tc = tcase_create("srtp");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_built_and_suites);
  tcase_add_loop_test(tc, test_every_suite, 0, (int)N_SUITES);
  tcase_add_loop_test(tc, test_wrong_key, 0, (int)N_SUITES);
  tcase_add_loop_test(tc, test_replay, 0, (int)N_SUITES);
  tcase_add_loop_test(tc, test_tampered, 0, (int)N_SUITES);
  tcase_add_test(tc, test_wrap_70000);
  tcase_add_loop_test(tc, test_wrap_every_suite, 0, (int)N_SUITES);
  tcase_add_loop_test(tc, test_roc_restore, 0, (int)N_SUITES);
  tcase_add_test(tc, test_roc_restore_near_wrap);
  tcase_add_test(tc, test_roc_restore_large);
  tcase_add_loop_test(tc, test_srtcp, 0, (int)N_SUITES);
  tcase_add_test(tc, test_mki);
  tcase_add_test(tc, test_lifetime);
  tcase_add_test(tc, test_many_ssrcs);
  tcase_add_test(tc, test_threads);
  suite_add_tcase(s, tc);
#endif
  return s;
}

int main(void)
{
  return run_suite(media_srtp_suite());
}
