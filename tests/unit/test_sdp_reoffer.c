/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's re-offer in a dialog it holds (sr_sdp_reoffer) and its reading
 * of the SRC's answer (sr_sdp_read_reanswer): streams made by answering a
 * real offer, offered again, answered from elsewhere. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <siprec/common.h>

#include "sdp/answer.h"
#include "check_main.h"

#define OUT 8192

static int port_cb(void *user, size_t index, const sr_sdp_stream *st, uint16_t *port)
{
  (void)st;
  (void)user;
  *port = (uint16_t)(20000 + 2 * index);
  return 0;
}

static int rand_cb(void *user, void *buf, size_t len)
{
  unsigned *seed = user;
  unsigned char *b = buf;
  if (*seed == 0xdead)
    return -1;
  for (size_t i = 0; i < len; i++)
    b[i] = (unsigned char)(*seed)++;
  return 0;
}

static unsigned seed;
static sr_sdp_config cfg;
static sr_sdp_stream st[4];
static size_t n;
static char out[OUT];

/* Two labelled streams: SRTP PCMA with telephone-event and rtcp-mux, and
 * plain G722 (pt 9); a third, video, declined. */
static const char offer[] =
    "v=0\r\no=src 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/SAVP 8 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
    "a=fmtp:96 0-15\r\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
    "a=rtcp-mux\r\na=sendonly\r\na=label:10\r\n"
    "m=audio 4002 RTP/AVP 9\r\na=sendonly\r\na=label:11\r\n"
    "m=video 4004 RTP/AVP 31\r\na=sendonly\r\n";

static void setup(void)
{
  memset(&cfg, 0, sizeof cfg);
  seed = 7;
  cfg.media_addr = "192.0.2.10";
  cfg.port = port_cb;
  cfg.random = rand_cb;
  cfg.random_user = &seed;
  cfg.session_id = 1234;
  cfg.version = 5;
  int rc = sr_sdp_answer(offer, sizeof offer - 1, &cfg, st, 4, &n, out, sizeof out, NULL);
  ck_assert_int_gt(rc, 0);
  ck_assert_uint_eq(n, 3);
  ck_assert(st[0].accepted && st[0].srtp && st[1].accepted && !st[2].accepted);
}

START_TEST(test_reoffer_lines)
{
  /* Another node: new ports, a new address, the next version. */
  st[0].port = 30000;
  st[1].port = 30002;
  cfg.media_addr = "203.0.113.5";
  cfg.version = 6;
  char key[SR_SDP_KEY_MAX];
  strcpy(key, st[0].local_key);
  int rc = sr_sdp_reoffer(&cfg, st, n, out, sizeof out);
  ck_assert_int_gt(rc, 0);
  ck_assert_uint_eq(strlen(out), (size_t)rc);
  ck_assert_ptr_nonnull(strstr(out, "o=libsiprec 1234 6 IN IP4 203.0.113.5\r\n"));
  ck_assert_ptr_nonnull(strstr(out, "c=IN IP4 203.0.113.5\r\n"));
  const char *m0 = strstr(out, "m=audio 30000 RTP/SAVP 8 96\r\n");
  const char *m1 = strstr(out, "m=audio 30002 RTP/AVP 9\r\n");
  const char *m2 = strstr(out, "m=video 0 RTP/AVP ");
  ck_assert(m0 && m1 && m2 && m0 < m1 && m1 < m2);
  char crypto[160];
  snprintf(crypto, sizeof crypto, "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", key);
  ck_assert_ptr_nonnull(strstr(m0, crypto));
  ck_assert(strstr(m0, crypto) < m1);
  ck_assert(strstr(m0, "a=rtpmap:8 PCMA/8000\r\na=rtpmap:96 telephone-event/8000\r\n") < m1);
  ck_assert(strstr(m0, "a=rtcp-mux\r\n") < m1);
  ck_assert(strstr(m0, "a=label:10\r\n") < m1);
  ck_assert(strstr(m0, "a=recvonly\r\n") < m1);
  ck_assert(strstr(m1, "a=rtpmap:9 G722/8000\r\n") < m2);
  ck_assert(strstr(m1, "a=label:11\r\n") < m2);
  ck_assert_ptr_null(strstr(m1, "a=crypto"));
  ck_assert_ptr_null(strstr(m1, "a=rtcp-mux"));
  ck_assert_ptr_null(strstr(m2, "a=")); /* a declined line carries nothing */
}
END_TEST

START_TEST(test_reoffer_paused_and_errors)
{
  st[1].paused = 1;
  int rc = sr_sdp_reoffer(&cfg, st, n, out, sizeof out);
  ck_assert_int_gt(rc, 0);
  const char *m1 = strstr(out, "m=audio 20002");
  ck_assert_ptr_nonnull(m1);
  ck_assert_ptr_nonnull(strstr(m1, "a=inactive\r\n"));
  /* Too small: ETOOBIG and "". */
  ck_assert_int_eq(sr_sdp_reoffer(&cfg, st, n, out, 40), SIPREC_ETOOBIG);
  ck_assert_str_eq(out, "");
  /* A stream a store damaged: refused, nothing written. */
  strcpy(st[1].codec, "G7 22");
  ck_assert_int_eq(sr_sdp_reoffer(&cfg, st, n, out, sizeof out), SIPREC_EINVAL);
  strcpy(st[1].codec, "G722");
  strcpy(st[0].crypto_suite, "NONE");
  ck_assert_int_eq(sr_sdp_reoffer(&cfg, st, n, out, sizeof out), SIPREC_EINVAL);
  strcpy(st[0].crypto_suite, "AES_CM_128_HMAC_SHA1_80");
  /* An SRTP stream without a key of its own gets one; a failing random source refuses. */
  st[0].local_key[0] = '\0';
  seed = 0xdead;
  ck_assert_int_eq(sr_sdp_reoffer(&cfg, st, n, out, sizeof out), SIPREC_ERANDOM);
  seed = 1;
  ck_assert_int_gt(sr_sdp_reoffer(&cfg, st, n, out, sizeof out), 0);
  ck_assert_uint_eq(strlen(st[0].local_key), 40);
  ck_assert_int_eq(sr_sdp_reoffer(&cfg, st, 0, out, sizeof out), SIPREC_EINVAL);
  ck_assert_int_eq(sr_sdp_reoffer(NULL, st, n, out, sizeof out), SIPREC_EINVAL);
}
END_TEST

START_TEST(test_reanswer_moves_streams)
{
  static const char ans[] =
      "v=0\r\no=src 1 2 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n"
      "m=audio 5000 RTP/SAVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
      "a=rtpmap:101 telephone-event/8000\r\n"
      "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n"
      "a=rtcp-mux\r\na=sendonly\r\n"
      "m=audio 5002 RTP/AVP 9\r\nc=IN IP4 198.51.100.10\r\na=inactive\r\n"
      "m=video 0 RTP/AVP 31\r\n";
  uint16_t p0 = st[0].port;
  int rc = sr_sdp_read_reanswer(ans, sizeof ans - 1, NULL, st, n, NULL);
  ck_assert_int_eq(rc, 2);
  ck_assert_str_eq(st[0].remote_addr, "198.51.100.9");
  ck_assert_uint_eq(st[0].remote_port, 5000);
  ck_assert_uint_eq(st[0].port, p0);
  ck_assert_int_eq(st[0].te_pt, 101);
  ck_assert_str_eq(st[0].remote_key, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk");
  ck_assert(st[0].rtcp_mux && !st[0].paused);
  ck_assert_int_eq(st[0].answer_dir, SR_SDP_RECVONLY);
  ck_assert_str_eq(st[1].remote_addr, "198.51.100.10");
  ck_assert_uint_eq(st[1].remote_port, 5002);
  ck_assert(st[1].paused);
}
END_TEST

START_TEST(test_reanswer_declines_and_refuses)
{
  sr_sdp_stream before[4];
  memcpy(before, st, sizeof st);
  /* Not three m-lines: refused, streams untouched. */
  static const char short_ans[] =
      "v=0\r\no=src 1 2 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n"
      "m=audio 5000 RTP/SAVP 8\r\n";
  ck_assert_int_eq(sr_sdp_read_reanswer(short_ans, sizeof short_ans - 1, NULL, st, n, NULL),
                   SIPREC_EINVAL);
  ck_assert_mem_eq(before, st, sizeof st);
  ck_assert_int_eq(sr_sdp_read_reanswer("garbage", 7, NULL, st, n, NULL), SIPREC_EINVAL);
  /* SRTP answered in the clear, with another tag, G722 as PCMU, port 0:
   * each stream declined, its port kept. */
  static const char bad[] =
      "v=0\r\no=src 1 2 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n"
      "m=audio 5000 RTP/AVP 8\r\n"
      "m=audio 5002 RTP/AVP 0\r\n"
      "m=video 0 RTP/AVP 31\r\n";
  ck_assert_int_eq(sr_sdp_read_reanswer(bad, sizeof bad - 1, NULL, st, n, NULL), 0);
  ck_assert(!st[0].accepted && !st[1].accepted);
  ck_assert_uint_eq(st[0].port, before[0].port);
  memcpy(st, before, sizeof st);
  static const char tag[] =
      "v=0\r\no=src 1 2 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n"
      "m=audio 5000 RTP/SAVP 8\r\n"
      "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n"
      "m=audio 0 RTP/AVP 9\r\n"
      "m=video 0 RTP/AVP 31\r\n";
  ck_assert_int_eq(sr_sdp_read_reanswer(tag, sizeof tag - 1, NULL, st, n, NULL), 0);
  ck_assert(!st[0].accepted && !st[1].accepted);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("sdp_reoffer");
  TCase *tc = tcase_create("reoffer");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, test_reoffer_lines);
  tcase_add_test(tc, test_reoffer_paused_and_errors);
  tcase_add_test(tc, test_reanswer_moves_streams);
  tcase_add_test(tc, test_reanswer_declines_and_refuses);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
