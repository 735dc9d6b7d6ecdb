/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler over TCP and IPv6, and the races a UAS meets: a CANCEL that
 * crosses the 200, a retransmitted INVITE after the ACK, a BYE racing the
 * 200's retransmission, glare between a re-INVITE and the SRS's UPDATE. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <siprec/siprec.h>

#include "check_main.h"
#include "handler_fixture.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define S (1000 * MS)

static const struct sockaddr *sa(const void *p)
{
  return p;
}

START_TEST(test_tcp_call)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_request(msg, sizeof msg, "INVITE", "tcp-1", NULL, 1, "t1", "Require: siprec\r\n", fx_sdp2);
  fx_feed_ex(&f, sa(&f.src), sa(&f.srs), SIPREC_TRANSPORT_TCP, 7, msg, 1 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(strstr(f.resp, "Contact: <sip:srs@192.0.2.10:5060;transport=tcp>;+sip.srs"));
  fx_to_tag(&f, tag, sizeof tag);
  /* No retransmission of the 2xx on a reliable transport ... */
  siprec_handler_expire(f.h, 1 * S + 600 * MS);
  siprec_handler_expire(f.h, 3 * S);
  ck_assert_int_eq(f.ev.sent, 0);
  /* ... but without an ACK the session still ends after 64*T1 (without a
   * BYE: the SRC never ACKed). */
  siprec_handler_expire(f.h, 1 * S + 32 * S);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_ACK_TIMEOUT);
  ck_assert_int_eq(f.ev.sent, 0);

  /* A whole call; in-dialog requests on the same connection are taken even
   * from another address (an SBC behind a TCP proxy), others are not. */
  fx_request(msg, sizeof msg, "INVITE", "tcp-2", NULL, 1, "t2", "Require: siprec\r\n", fx_sdp2);
  fx_feed_ex(&f, sa(&f.src), sa(&f.srs), SIPREC_TRANSPORT_TCP, 9, msg, 40 * S);
  fx_to_tag(&f, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "tcp-2", tag, 1, "t2a", NULL, NULL);
  ck_assert_int_eq(fx_feed_ex(&f, sa(&f.src), sa(&f.srs), SIPREC_TRANSPORT_TCP, 9, msg, 40 * S), 0);
  fx_request(msg, sizeof msg, "BYE", "tcp-2", tag, 2, "t2b", NULL, NULL);
  fx_feed_ex(&f, sa(&f.other), sa(&f.srs), SIPREC_TRANSPORT_TCP, 10, msg, 41 * S);
  ck_assert_int_eq(f.status, 481);
  fx_feed_ex(&f, sa(&f.other), sa(&f.srs), SIPREC_TRANSPORT_TCP, 9, msg, 41 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_BYE);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_ipv6)
{
  fixture f;
  fx_init(&f, NULL, 0);
  struct sockaddr_in6 src = { .sin6_family = AF_INET6, .sin6_port = htons(5062) }, srs = src;
  inet_pton(AF_INET6, "2001:db8::1", &src.sin6_addr);
  inet_pton(AF_INET6, "2001:db8::10", &srs.sin6_addr);
  char msg[4096], tag[64];
  fx_request(msg, sizeof msg, "INVITE", "v6-1", NULL, 1, "v1", "Require: siprec\r\n", fx_sdp2);
  fx_feed_ex(&f, sa(&src), sa(&srs), SIPREC_TRANSPORT_UDP, 0, msg, 1 * S);
  ck_assert_int_eq(f.status, 200);
  /* Contact and the SDP carry the address the INVITE arrived on. */
  ck_assert_ptr_nonnull(strstr(f.resp, "Contact: <sip:srs@[2001:db8::10]:5062>;+sip.srs"));
  ck_assert_ptr_nonnull(strstr(f.resp, "c=IN IP6 2001:db8::10\r\n"));
  fx_to_tag(&f, tag, sizeof tag);
  /* Unanswered: the 2xx is retransmitted to the IPv6 source. */
  siprec_handler_expire(f.h, 1 * S + 500 * MS);
  ck_assert_int_eq(f.ev.sent, 1);
  ck_assert_int_eq(f.ev.last_dest.ss_family, AF_INET6);
  fx_request(msg, sizeof msg, "ACK", "v6-1", tag, 1, "v1a", NULL, NULL);
  fx_feed_ex(&f, sa(&src), sa(&srs), SIPREC_TRANSPORT_UDP, 0, msg, 2 * S);
  fx_request(msg, sizeof msg, "BYE", "v6-1", tag, 2, "v1b", NULL, NULL);
  fx_feed_ex(&f, sa(&src), sa(&srs), SIPREC_TRANSPORT_UDP, 0, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_races)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_start_call(&f, "race-1", tag, sizeof tag);
  /* A CANCEL that crossed the 200: 200 for the CANCEL, the session stays. */
  fx_request(msg, sizeof msg, "CANCEL", "race-1", NULL, 1, "race-1", NULL, NULL);
  fx_feed(&f, msg, 1 * S + 10 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.ended, 0);
  /* A CANCEL naming another branch: no such transaction. */
  fx_request(msg, sizeof msg, "CANCEL", "race-1", NULL, 1, "other", NULL, NULL);
  fx_feed(&f, msg, 1 * S + 20 * MS);
  ck_assert_int_eq(f.status, 481);
  /* A BYE before the ACK (the SRC hung up at once): the 2xx retransmissions stop. */
  fx_request(msg, sizeof msg, "BYE", "race-1", tag, 2, "rb", NULL, NULL);
  fx_feed(&f, msg, 1 * S + 30 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_BYE);
  siprec_handler_expire(f.h, 5 * S);
  ck_assert_int_eq(f.ev.sent, 0);
  /* Its ACK, late: absorbed. */
  fx_request(msg, sizeof msg, "ACK", "race-1", tag, 1, "ra", NULL, NULL);
  ck_assert_int_eq(fx_feed(&f, msg, 5 * S), 0);

  /* An INVITE copy after the ACK is absorbed, not answered again. */
  fx_start_call(&f, "race-2", tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "race-2", tag, 1, "r2a", NULL, NULL);
  fx_feed(&f, msg, 1 * S + 100 * MS);
  fx_request(msg, sizeof msg, "INVITE", "race-2", NULL, 1, "race-2", "Require: siprec\r\n", fx_sdp2);
  ck_assert_int_eq(fx_feed(&f, msg, 1 * S + 200 * MS), 0);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_DROPPED, SIPREC_DROP_RETRANSMISSION), 1);

  /* Glare: a re-INVITE from the SRC while the SRS's UPDATE is out. The SRS's
   * UPDATE carries no offer, so the re-INVITE is answered; the UPDATE's late
   * 200 is still matched. */
  ck_assert_int_eq(siprec_handler_stat(f.h, SIPREC_STAT_REQUESTS_SENT, 0), 0);
  siprec_session *s = NULL;
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  fx_request(msg, sizeof msg, "INVITE", "race-3", NULL, 1, "race-3", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 2 * S);
  s = f.ev.deferred;
  ck_assert_int_eq(siprec_handler_accept_session(f.h, s, 2 * S), 0);
  fx_feed(&f, msg, 2 * S);
  fx_to_tag(&f, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "race-3", tag, 1, "r3a", NULL, NULL);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(siprec_handler_request_metadata(f.h, s, 3 * S), 0);
  char update_200[4096];
  fx_answer_last_sent(&f, 200, NULL, update_200, sizeof update_200);
  fx_request(msg, sizeof msg, "INVITE", "race-3", tag, 2, "r3r", NULL, fx_sdp3);
  fx_feed(&f, msg, 3 * S + 10 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(siprec_session_stream_count(s), 3);
  fx_feed(&f, update_200, 3 * S + 20 * MS);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_DROPPED, SIPREC_DROP_RESPONSE), 0);
  ck_assert_int_eq(siprec_handler_request_metadata(f.h, s, 3 * S + 30 * MS), 0);
  /* A second re-INVITE before the first's ACK shows the first 2xx arrived
   * (test_handler_vendor: ACKs with odd CSeqs): taken. */
  fx_request(msg, sizeof msg, "INVITE", "race-3", tag, 3, "r3r2", NULL, fx_sdp2);
  fx_feed(&f, msg, 3 * S + 40 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(siprec_session_stream_count(s), 2);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

static struct sockaddr_storage sent_from;
static int sent_from_calls;

static void on_send_from(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  (void)data;
  (void)len;
  const struct sockaddr *from = path->local;
  sent_from_calls++;
  memcpy(&sent_from, from,
         from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
}

/* A host with several listeners learns which one the session uses. */
START_TEST(test_send_from)
{
  siprec_handler_callbacks *cbs;
  ck_assert_int_eq(siprec_handler_callbacks_new(&cbs, NULL), 0);
  siprec_handler_callbacks_set_send(cbs, on_send_from);
  siprec_handler *h;
  ck_assert_int_eq(siprec_handler_new(&h, NULL, cbs, NULL, NULL), 0);
  siprec_handler_callbacks_free(cbs);
  struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(5060) };
  struct sockaddr_in srs = { .sin_family = AF_INET, .sin_port = htons(5070) };
  inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
  inet_pton(AF_INET, "192.0.2.11", &srs.sin_addr);
  char msg[4096], resp[8192];
  fx_request(msg, sizeof msg, "INVITE", "from-1", NULL, 1, "f1", "Require: siprec\r\n", fx_sdp2);
  const siprec_path path = { SIPREC_TRANSPORT_UDP, sa(&srs), sa(&src), 0 };
  size_t n = 0;
  ck_assert_int_eq(siprec_handler_process(h, msg, strlen(msg), &path, 1 * S, resp, sizeof resp, &n),
                   SIPREC_PROCESS_RESPONSE);
  ck_assert_uint_gt(n, 0);
  siprec_handler_expire(h, 1 * S + 500 * MS); /* the 2xx again */
  ck_assert_int_eq(sent_from_calls, 1);
  ck_assert_int_eq(sent_from.ss_family, AF_INET);
  const struct sockaddr_in *f = (const struct sockaddr_in *)&sent_from;
  ck_assert_uint_eq(ntohs(f->sin_port), 5070);
  ck_assert_uint_eq(f->sin_addr.s_addr, srs.sin_addr.s_addr);
  /* ACKed (a dialog never confirmed gets no BYE), then its BYE too. */
  const char *t = strstr(strstr(resp, "\r\nTo: "), ";tag=") + 5;
  char tag[64];
  snprintf(tag, sizeof tag, "%.*s", (int)strcspn(t, ";\r"), t);
  fx_request(msg, sizeof msg, "ACK", "from-1", tag, 1, "f1a", NULL, NULL);
  ck_assert_int_eq(siprec_handler_process(h, msg, strlen(msg), &path, 2 * S, resp, sizeof resp, &n),
                   SIPREC_PROCESS_DONE);
  ck_assert_uint_eq(n, 0);
  siprec_handler_free(h);
  ck_assert_int_eq(sent_from_calls, 2);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_transports");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_tcp_call);
  tcase_add_test(tc, test_ipv6);
  tcase_add_test(tc, test_races);
  tcase_add_test(tc, test_send_from);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
