/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's transactions alone (lib/sip/transaction.c), on a fake clock:
 * what each says to do when it falls due, without a handler. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "sip/message.h"
#include "sip/transaction.h"
#include "check_main.h"

static siprec_allocator mem;

#define MS UINT64_C(1000000)
static const sr_tx_timers tm = { 500 * MS, 4000 * MS };

static void parse(const char *text, sr_sip_msg *m)
{
  const char *why;
  ck_assert_int_eq(sr_sip_parse(&mem, text, strlen(text), m, &why), SR_SIP_OK);
}

static sr_invite_tx armed(uint64_t now, const char *response)
{
  sr_invite_tx t;
  sr_invite_tx_init(&t);
  ck_assert_int_eq(sr_sip_str_set(&mem, &t.response, response, strlen(response)), 0);
  t.response_len = strlen(response);
  t.cseq = 5;
  sr_invite_tx_arm(&t, &tm, now);
  return t;
}

START_TEST(test_invite_udp_schedule)
{
  /* RFC 3261 17.2.1: at T1, then 2T1, 4T1, capped at T2, until 64*T1. */
  sr_invite_tx t = armed(1000 * MS, "SIP/2.0 200 OK\r\n\r\n");
  ck_assert_int_eq(t.active, 1);
  ck_assert_uint_eq(sr_invite_tx_next(&t, 0), 1500 * MS);
  ck_assert_uint_eq(sr_invite_tx_next(&t, 1), 1000 * MS + 32000 * MS);
  ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, 1499 * MS), SR_TX_WAIT);
  uint64_t now = 1000 * MS, want[] = { 1000, 2000, 4000, 4000, 4000, 4000 };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    now = sr_invite_tx_next(&t, 0);
    ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, now), SR_TX_SEND);
    ck_assert_uint_eq(t.interval, want[i] * MS);
    ck_assert_uint_eq(sr_invite_tx_next(&t, 0), now + want[i] * MS);
  }
  ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, 33000 * MS), SR_TX_GIVE_UP);
  sr_invite_tx_release(&t, &mem);
}
END_TEST

START_TEST(test_invite_reliable)
{
  /* Over TCP/TLS: no retransmissions, only the timeout. */
  sr_invite_tx t = armed(0, "SIP/2.0 200 OK\r\n\r\n");
  ck_assert_int_eq(sr_invite_tx_due(&t, 1, &tm, 10000 * MS), SR_TX_WAIT);
  ck_assert_int_eq(sr_invite_tx_due(&t, 1, &tm, 32000 * MS), SR_TX_GIVE_UP);
  sr_invite_tx_release(&t, &mem);
}
END_TEST

START_TEST(test_invite_budget)
{
  /* A flood's share: the first send is charged, each retransmission too;
   * once it cannot pay, silence until the timeout. */
  const char *resp = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"; /* 37 bytes */
  size_t len = strlen(resp);
  sr_invite_tx t;
  sr_invite_tx_init(&t);
  ck_assert_uint_eq(t.budget, SIZE_MAX);
  sr_invite_tx_charge(&t, len);
  ck_assert_uint_eq(t.budget, SIZE_MAX);
  sr_invite_tx_release(&t, &mem);
  t = armed(0, resp);
  t.budget = 3 * len;
  sr_invite_tx_charge(&t, len);
  ck_assert_uint_eq(t.budget, 2 * len);
  ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, 500 * MS), SR_TX_SEND);
  ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, 1500 * MS), SR_TX_SEND);
  ck_assert_uint_eq(t.budget, 0);
  ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, 3500 * MS), SR_TX_HOLD);
  ck_assert_uint_eq(sr_invite_tx_next(&t, 0), t.deadline);
  ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, 31999 * MS), SR_TX_WAIT);
  ck_assert_int_eq(sr_invite_tx_due(&t, 0, &tm, 32000 * MS), SR_TX_GIVE_UP);
  sr_invite_tx_charge(&t, len);
  ck_assert_uint_eq(t.budget, 0); /* never below nothing */
  sr_invite_tx_release(&t, &mem);
}
END_TEST

START_TEST(test_invite_defer_cancel)
{
  sr_invite_tx t;
  sr_invite_tx_init(&t);
  sr_invite_tx_defer(&t, 5000 * MS);
  ck_assert_uint_eq(t.deadline, 5000 * MS);
  ck_assert_int_eq(sr_invite_tx_cancel(&t, 1000 * MS), 1);
  ck_assert_uint_eq(t.deadline, 1000 * MS);
  ck_assert_int_eq(sr_invite_tx_cancel(&t, 2000 * MS), 0); /* the first CANCEL counts */
  ck_assert_uint_eq(t.deadline, 1000 * MS);
  ck_assert_int_eq(t.cancelled, 1);
}
END_TEST

START_TEST(test_invite_ack_rules)
{
  sr_invite_tx t = armed(0, "SIP/2.0 200 OK\r\n\r\n");
  /* An ACK of the dialog is the waiting 2xx's, whatever its CSeq. */
  ck_assert_int_eq(sr_invite_tx_acks_2xx(&t, 1, 5), 1);
  ck_assert_int_eq(sr_invite_tx_acks_2xx(&t, 1, 77), 1);
  /* Not for a non-2xx (the caller's state says so), nor when none waits. */
  ck_assert_int_eq(sr_invite_tx_acks_2xx(&t, 0, 5), 0);
  /* A higher INVITE settles it; the settled one's late ACK is not the next's. */
  ck_assert_int_eq(sr_invite_tx_settled_by(&t, 1, 5), 0);
  ck_assert_int_eq(sr_invite_tx_settled_by(&t, 1, 6), 1);
  ck_assert_int_eq(sr_invite_tx_settled_by(&t, 0, 6), 0);
  t.settled_cseq = 5;
  sr_invite_tx_settle(&t, &mem);
  ck_assert_int_eq(t.active, 0);
  ck_assert_ptr_null(t.response);
  ck_assert_int_eq(sr_invite_tx_acks_2xx(&t, 1, 6), 0);
  t.cseq = 6;
  sr_invite_tx_arm(&t, &tm, 1000 * MS);
  ck_assert_int_eq(sr_invite_tx_acks_2xx(&t, 1, 5), 0); /* the late ACK of CSeq 5 */
  ck_assert_int_eq(sr_invite_tx_acks_2xx(&t, 1, 6), 1);
  ck_assert_int_eq(sr_invite_tx_acks_2xx(&t, 1, 9), 1);
  sr_invite_tx_release(&t, &mem);
}
END_TEST

START_TEST(test_invite_branch)
{
  sr_invite_tx t;
  sr_invite_tx_init(&t);
  sr_sip_msg m;
  parse("INVITE sip:srs@192.0.2.10 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
        "From: <sip:src@192.0.2.1>;tag=abc\r\nTo: <sip:srs@192.0.2.10>\r\n"
        "Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        &m);
  ck_assert_int_eq(sr_invite_tx_is_branch(&t, &m), 0);
  ck_assert_int_eq(sr_sip_str_set(&mem, &t.branch, "z9hG4bK-1", 9), 0);
  ck_assert_int_eq(sr_invite_tx_is_branch(&t, &m), 1);
  ck_assert_int_eq(sr_sip_str_set(&mem, &t.branch, "z9hG4bK-2", 9), 0);
  ck_assert_int_eq(sr_invite_tx_is_branch(&t, &m), 0);
  sr_sip_msg_free(&m);
  sr_invite_tx_release(&t, &mem);
}
END_TEST

START_TEST(test_request_tx_linger)
{
  /* The SRC's BYE answered: copies get the same 200 until Timer J. */
  sr_request_tx t;
  memset(&t, 0, sizeof t);
  ck_assert_int_eq(sr_request_tx_is_copy(&t, 3), 0);
  const char *ok = "SIP/2.0 200 OK\r\n\r\n";
  ck_assert_int_eq(sr_request_tx_complete(&t, &mem, 3, ok, strlen(ok), &tm, 1000 * MS), 0);
  ck_assert_int_eq(sr_request_tx_is_copy(&t, 3), 1);
  ck_assert_int_eq(sr_request_tx_is_copy(&t, 4), 0);
  ck_assert_str_eq(t.response, ok);
  ck_assert_uint_eq(sr_request_tx_next(&t), 33000 * MS);
  ck_assert_int_eq(sr_request_tx_due(&t, 32999 * MS), SR_TX_WAIT);
  ck_assert_int_eq(sr_request_tx_due(&t, 33000 * MS), SR_TX_GIVE_UP);
  sr_request_tx_release(&t, &mem);
  ck_assert_ptr_null(t.response);
}
END_TEST

static void start(sr_client_tx *t, const char *req, uint32_t cseq, uint64_t now)
{
  memset(t, 0, sizeof *t);
  ck_assert_int_eq(sr_sip_str_set(&mem, &t->request, req, strlen(req)), 0);
  t->request_len = strlen(req);
  t->cseq = cseq;
  memcpy(t->branch, "0123456789abcdef", SR_TAG_LEN + 1);
  sr_client_tx_start(t, 7, &tm, now);
}

START_TEST(test_client_tx_udp)
{
  sr_client_tx t;
  memset(&t, 0, sizeof t);
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), UINT64_MAX); /* none outstanding */
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, UINT64_MAX - 1), SR_TX_WAIT);
  start(&t, "BYE sip:x SIP/2.0\r\n\r\n", 1, 0);
  ck_assert_int_eq(t.purpose, 7);
  /* Timer E: T1 doubling to T2; Timer F at 64*T1. */
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), 500 * MS);
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 499 * MS), SR_TX_WAIT);
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 500 * MS), SR_TX_SEND);
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), 1500 * MS);
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 1500 * MS), SR_TX_SEND);
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), 3500 * MS);
  /* A provisional: at T2 from now. */
  sr_client_tx_provisional(&t, &tm, 2000 * MS);
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), 6000 * MS);
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 6000 * MS), SR_TX_SEND);
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), 10000 * MS);
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 32000 * MS), SR_TX_GIVE_UP);
  sr_client_tx_clear(&t, &mem);
  ck_assert_int_eq(t.purpose, 0);
  ck_assert_ptr_null(t.request);
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), UINT64_MAX);
}
END_TEST

START_TEST(test_client_tx_reliable)
{
  sr_client_tx t;
  start(&t, "OPTIONS sip:x SIP/2.0\r\n\r\n", 2, 100 * MS);
  ck_assert_uint_eq(sr_client_tx_next(&t, 1), 100 * MS + 32000 * MS);
  ck_assert_int_eq(sr_client_tx_due(&t, 1, &tm, 20000 * MS), SR_TX_WAIT);
  ck_assert_int_eq(sr_client_tx_due(&t, 1, &tm, 32100 * MS), SR_TX_GIVE_UP);
  sr_client_tx_release(&t, &mem);
}
END_TEST

START_TEST(test_client_tx_matches)
{
  sr_client_tx t;
  start(&t, "OPTIONS sip:x SIP/2.0\r\n\r\n", 2, 0);
  struct {
    const char *branch, *cseq;
    int want;
  } cases[] = {
    { "z9hG4bK0123456789abcdef", "2 OPTIONS", 1 },
    { "z9hG4bK0123456789abcdef", "2 options", 1 },
    { "z9hG4bK0123456789abcdef", "3 OPTIONS", 0 },
    { "z9hG4bK0123456789abcdef", "2 UPDATE", 0 },
    { "z9hG4bK0123456789abcdee", "2 OPTIONS", 0 },
    { "z9hG4bK0123456789abcdef0", "2 OPTIONS", 0 },
    { "0123456789abcdef", "2 OPTIONS", 0 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[512];
    snprintf(text, sizeof text,
             "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5080;branch=%s\r\n"
             "From: <sip:srs@192.0.2.10>;tag=a\r\nTo: <sip:src@192.0.2.1>;tag=b\r\n"
             "Call-ID: c1\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
             cases[i].branch, cases[i].cseq);
    sr_sip_msg m;
    parse(text, &m);
    ck_assert_int_eq(sr_client_tx_matches(&t, &m, "OPTIONS"), cases[i].want);
    sr_sip_msg_free(&m);
  }
  sr_client_tx_clear(&t, &mem);
}
END_TEST

START_TEST(test_client_tx_invite)
{
  sr_client_tx t;
  memset(&t, 0, sizeof t);
  t.invite = 1;
  ck_assert_int_eq(sr_sip_str_set(&mem, &t.request, "INVITE", 6), 0);
  t.request_len = 6;
  t.cseq = 3;
  sr_client_tx_start(&t, 5, &tm, 0);
  /* Timer A: T1, 2T1, 4T1 ... past T2, no cap; Timer B at 64*T1. */
  uint64_t at = 0, iv = 500 * MS;
  int sends = 0;
  for (;;) {
    uint64_t next = sr_client_tx_next(&t, 0);
    if (next >= 32000 * MS)
      break;
    ck_assert_uint_eq(next, at + iv);
    at = next;
    ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, at), SR_TX_SEND);
    iv *= 2;
    sends++;
  }
  ck_assert_int_eq(sends, 6); /* 0.5 1.5 3.5 7.5 15.5 31.5 */
  ck_assert_uint_eq(t.interval, 32000 * MS); /* beyond T2 (4 s) */
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 32000 * MS), SR_TX_GIVE_UP);
  /* A provisional stops the retransmissions; the wait runs 64*T1 from it. */
  sr_client_tx_start(&t, 5, &tm, 0);
  sr_client_tx_provisional(&t, &tm, 700 * MS);
  ck_assert_uint_eq(sr_client_tx_next(&t, 0), 32700 * MS);
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 30000 * MS), SR_TX_WAIT);
  ck_assert_int_eq(sr_client_tx_due(&t, 0, &tm, 32700 * MS), SR_TX_GIVE_UP);
  sr_client_tx_clear(&t, &mem);
  ck_assert_int_eq(t.invite, 0);
}
END_TEST

START_TEST(test_ack_tx)
{
  sr_ack_tx a;
  memset(&a, 0, sizeof a);
  ck_assert_uint_eq(sr_ack_tx_next(&a), UINT64_MAX);
  ck_assert_int_eq(sr_ack_tx_due(&a, UINT64_MAX - 1), SR_TX_WAIT);
  ck_assert_int_eq(sr_ack_tx_keep(&a, &mem, "ACK x", 5, 4, "0123456789abcdef", &tm, 1000 * MS),
                   0);
  ck_assert_uint_eq(sr_ack_tx_next(&a), 33000 * MS);
  ck_assert_int_eq(sr_ack_tx_due(&a, 32999 * MS), SR_TX_WAIT);
  ck_assert_int_eq(sr_ack_tx_due(&a, 33000 * MS), SR_TX_GIVE_UP);
  struct {
    const char *status, *branch, *cseq;
    int want;
  } cases[] = {
    { "200 OK", "z9hG4bK0123456789abcdef", "4 INVITE", 1 },
    { "486 Busy Here", "z9hG4bK0123456789abcdef", "4 INVITE", 1 },
    { "180 Ringing", "z9hG4bK0123456789abcdef", "4 INVITE", 0 },
    { "200 OK", "z9hG4bK0123456789abcdef", "5 INVITE", 0 },
    { "200 OK", "z9hG4bK0123456789abcdef", "4 UPDATE", 0 },
    { "200 OK", "z9hG4bK0123456789abcdee", "4 INVITE", 0 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[512];
    snprintf(text, sizeof text,
             "SIP/2.0 %s\r\nVia: SIP/2.0/UDP 192.0.2.10:5080;branch=%s\r\n"
             "From: <sip:srs@192.0.2.10>;tag=a\r\nTo: <sip:src@192.0.2.1>;tag=b\r\n"
             "Call-ID: c1\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
             cases[i].status, cases[i].branch, cases[i].cseq);
    sr_sip_msg m;
    parse(text, &m);
    ck_assert_int_eq(sr_ack_tx_matches(&a, &m), cases[i].want);
    sr_sip_msg_free(&m);
  }
  sr_ack_tx_release(&a, &mem);
  ck_assert_ptr_null(a.ack);
  ck_assert_uint_eq(sr_ack_tx_next(&a), UINT64_MAX);
}
END_TEST

int main(void)
{
  sr_alloc_init(&mem, NULL);
  Suite *s = suite_create("sip_transaction");
  TCase *tc = tcase_create("invite");
  tcase_add_test(tc, test_invite_udp_schedule);
  tcase_add_test(tc, test_invite_reliable);
  tcase_add_test(tc, test_invite_budget);
  tcase_add_test(tc, test_invite_defer_cancel);
  tcase_add_test(tc, test_invite_ack_rules);
  tcase_add_test(tc, test_invite_branch);
  suite_add_tcase(s, tc);
  tc = tcase_create("non-invite");
  tcase_add_test(tc, test_request_tx_linger);
  suite_add_tcase(s, tc);
  tc = tcase_create("client");
  tcase_add_test(tc, test_client_tx_udp);
  tcase_add_test(tc, test_client_tx_reliable);
  tcase_add_test(tc, test_client_tx_matches);
  tcase_add_test(tc, test_client_tx_invite);
  tcase_add_test(tc, test_ack_tx);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
