/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules handler.h promises a host, each checked as a host sees it: the
 * order of the callbacks, every offered session reaching ended once (also
 * when refused from offered), the port callbacks' session and index, the
 * stream description and its size rule, listing the open sessions, and the
 * graceful shutdown. */
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

static void ack(fixture *f, const char *call_id, const char *tag, unsigned cseq, uint64_t now)
{
  char msg[2048];
  fx_request(msg, sizeof msg, "ACK", call_id, tag, cseq, "ack", NULL, NULL);
  ck_assert_int_eq(fx_feed(f, msg, now), 0);
}

static void bye(fixture *f, const char *call_id, const char *tag, unsigned cseq, uint64_t now)
{
  char msg[2048];
  fx_request(msg, sizeof msg, "BYE", call_id, tag, cseq, "bye", NULL, NULL);
  fx_feed(f, msg, now);
  ck_assert_int_eq(f->status, 200);
}

/* A call's callbacks come in the documented order: ports, offered,
 * started, updated, ended, then the ports freed. */
START_TEST(test_callback_order)
{
  fixture f;
  fx_init(&f, NULL, 1);
  char tag[64], msg[4096];
  fx_start_call(&f, "o-1", tag, sizeof tag);
  ack(&f, "o-1", tag, 1, 1 * S);
  fx_request(msg, sizeof msg, "INVITE", "o-1", tag, 2, "o2", NULL, fx_sdp3);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  ack(&f, "o-1", tag, 2, 2 * S);
  bye(&f, "o-1", tag, 3, 3 * S);
  ck_assert_str_eq(f.ev.order, "aaosauefff"); /* the new stream's port before updated */
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
  siprec_handler_free(f.h);
}
END_TEST

/* A session refused from the offered callback still reaches ended once;
 * the INVITE's copies get the same answer without a second offered, its
 * ACK is absorbed, and its ports are given back after ended. */
START_TEST(test_refused_reaches_ended)
{
  fixture f;
  fx_init(&f, NULL, 1);
  f.ev.refuse_with = 488;
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "r-1", NULL, 1, "r1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 488);
  char tag[64];
  fx_to_tag(&f, tag, sizeof tag);
  ck_assert_int_eq(f.ev.offered, 1);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.started, 0);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_REFUSED);
  ck_assert_str_eq(f.ev.order, "aaoeff");
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
  ck_assert_uint_eq(siprec_handler_sessions(f.h, NULL, 0), 0);
  /* A copy of the INVITE: the same 488, no second offered. */
  fx_feed(&f, msg, 1 * S + 100 * MS);
  ck_assert_int_eq(f.status, 488);
  ck_assert_int_eq(f.ev.offered, 1);
  ck_assert_int_eq(f.ev.ended, 1);
  ack(&f, "r-1", tag, 1, 1 * S + 200 * MS);
  /* A status out of 400-699 is taken as 500. */
  f.ev.refuse_with = 302;
  fx_request(msg, sizeof msg, "INVITE", "r-2", NULL, 1, "r2", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 500);
  ck_assert_int_eq(f.ev.ended, 2);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ENDED, SIPREC_END_REFUSED), 2);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ACTIVE, 0), 0);
  siprec_handler_free(f.h);
  ck_assert_int_eq(f.ev.ended, 2);
}
END_TEST

/* The port free callback names the session and the stream index. */
START_TEST(test_port_free_names_stream)
{
  fixture f;
  fx_init(&f, NULL, 1);
  char tag[64], msg[4096];
  fx_start_call(&f, "p-1", tag, sizeof tag);
  ack(&f, "p-1", tag, 1, 1 * S);
  fx_request(msg, sizeof msg, "INVITE", "p-1", tag, 2, "p2", NULL, fx_sdp3);
  fx_feed(&f, msg, 2 * S);
  ack(&f, "p-1", tag, 2, 2 * S);
  /* Back to two streams: the third (index 2) gives its port back. */
  fx_request(msg, sizeof msg, "INVITE", "p-1", tag, 3, "p3", NULL, fx_sdp2);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(f.ev.last_freed_session);
  ck_assert_uint_eq(f.ev.last_freed_index, 2);
  siprec_session *list[2];
  ck_assert_uint_eq(siprec_handler_sessions(f.h, list, 2), 1);
  ck_assert_ptr_eq(list[0], f.ev.last_freed_session);
  siprec_session_unref(list[0]);
  siprec_handler_free(f.h);
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
}
END_TEST

/* The stream description: every field for a plain RTP stream, and the size
 * rule that lets it grow. */
START_TEST(test_stream_info)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char tag[64];
  fx_start_call(&f, "i-1", tag, sizeof tag);
  siprec_session *s;
  ck_assert_uint_eq(siprec_handler_sessions(f.h, &s, 1), 1);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(s, 0, &info), 0);
  ck_assert_uint_eq(info.size, sizeof info);
  ck_assert_str_eq(info.media, "audio");
  ck_assert_str_eq(info.label, "1");
  ck_assert_int_eq(info.direction, SIPREC_DIR_RECVONLY);
  ck_assert_uint_gt(info.port, 0);
  ck_assert_uint_eq(info.port % 2, 0);
  ck_assert_uint_eq(info.rtcp_port, info.port + 1);
  ck_assert_int_eq(info.rtcp_mux, 0);
  ck_assert_str_eq(info.codec, "PCMU");
  ck_assert_int_eq(info.payload_type, 0);
  ck_assert_uint_eq(info.clock_rate, 8000);
  ck_assert_uint_eq(info.channels, 1);
  ck_assert_int_eq(info.telephone_event_pt, 101);
  ck_assert_ptr_null(info.srtp_suite);
  ck_assert_str_eq(info.remote_address, "192.0.2.1");
  ck_assert_uint_eq(info.remote_port, 10000);
  ck_assert_uint_eq(info.remote_rtcp_port, 10001);
  ck_assert_int_eq(siprec_session_stream(s, 1, &info), 0);
  ck_assert_int_eq(info.telephone_event_pt, -1);
  ck_assert_uint_eq(info.remote_port, 10002);
  /* Out of range, NULL, or a size below the first version: EINVAL. */
  ck_assert_int_eq(siprec_session_stream(s, 2, &info), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_session_stream(s, 0, NULL), SIPREC_EINVAL);
  info.size = sizeof info - 1;
  ck_assert_int_eq(siprec_session_stream(s, 0, &info), SIPREC_EINVAL);
  /* A host built against a larger (later) struct: its size is kept and the
   * bytes the library does not know stay as they were. */
  unsigned char big[sizeof(siprec_stream_info) + 32];
  memset(big, 0xab, sizeof big);
  siprec_stream_info *later = (siprec_stream_info *)(void *)big;
  later->size = sizeof big;
  ck_assert_int_eq(siprec_session_stream(s, 0, later), 0);
  ck_assert_uint_eq(later->size, sizeof big);
  ck_assert_str_eq(later->codec, "PCMU");
  for (size_t i = sizeof(siprec_stream_info); i < sizeof big; i++)
    ck_assert_uint_eq(big[i], 0xab);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

/* Listing: open sessions only, each with a reference; the count even when
 * the array is short; one found by its Call-ID. */
START_TEST(test_list_sessions)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char tag[3][64], cid[16];
  for (int i = 0; i < 3; i++) {
    snprintf(cid, sizeof cid, "l-%d", i);
    fx_start_call(&f, cid, tag[i], sizeof tag[i]);
    ack(&f, cid, tag[i], 1, 1 * S);
  }
  ck_assert_uint_eq(siprec_handler_sessions(f.h, NULL, 0), 3);
  bye(&f, "l-1", tag[1], 2, 2 * S); /* it lingers for Timer J, ended */
  siprec_session *list[4] = { NULL };
  ck_assert_uint_eq(siprec_handler_sessions(f.h, list, 4), 2);
  for (int i = 0; i < 2; i++) {
    size_t n;
    const char *c = siprec_session_call_id(list[i], &n);
    ck_assert(n == 3 && (memcmp(c, "l-0", 3) == 0 || memcmp(c, "l-2", 3) == 0));
    siprec_session_unref(list[i]);
  }
  ck_assert_ptr_null(list[2]);
  ck_assert_uint_eq(siprec_handler_sessions(f.h, list, 1), 2);
  siprec_session_unref(list[0]);
  ck_assert_uint_eq(siprec_handler_sessions(NULL, list, 1), 0);
  /* By Call-ID: the open ones, with a reference; not the ended one, not a
   * prefix or a longer id, not NULL arguments. */
  siprec_session *s = siprec_handler_find_session(f.h, "l-2", 3);
  ck_assert_ptr_nonnull(s);
  size_t n;
  const char *c = siprec_session_call_id(s, &n);
  ck_assert(n == 3 && memcmp(c, "l-2", 3) == 0);
  siprec_session_unref(s);
  ck_assert_ptr_null(siprec_handler_find_session(f.h, "l-1", 3));
  ck_assert_ptr_null(siprec_handler_find_session(f.h, "l-", 2));
  ck_assert_ptr_null(siprec_handler_find_session(f.h, "l-20", 4));
  ck_assert_ptr_null(siprec_handler_find_session(f.h, NULL, 3));
  ck_assert_ptr_null(siprec_handler_find_session(f.h, NULL, 0));
  ck_assert_ptr_null(siprec_handler_find_session(NULL, "l-2", 3));
  siprec_handler_free(f.h);
}
END_TEST

/* Count the BYEs in the sent log (one line per message sent). */
static int byes_in(const char *log)
{
  int n = 0;
  for (const char *p = log; (p = strstr(p, "BYE\n")) != NULL; p += 4)
    n += p == log || p[-1] == '\n';
  return n;
}

/* A graceful shutdown: every session ends with a BYE that is retransmitted
 * until answered; a new INVITE gets 503; the deadline runs out when
 * nothing is left to wait for. */
START_TEST(test_shutdown_bye)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char tag[2][64], msg[4096], answer[4096];
  fx_start_call(&f, "g-0", tag[0], sizeof tag[0]);
  ack(&f, "g-0", tag[0], 1, 1 * S);
  fx_start_call(&f, "g-1", tag[1], sizeof tag[1]);
  ack(&f, "g-1", tag[1], 1, 1 * S);
  /* One the SRC ended: lingering for copies of its BYE (Timer J), it does
   * not hold the drain up. */
  fx_start_call(&f, "g-9", tag[1], sizeof tag[1]);
  ack(&f, "g-9", tag[1], 1, 1 * S);
  bye(&f, "g-9", tag[1], 2, 1 * S + 100 * MS);
  /* A deferred one too: its INVITE gets 480. */
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  fx_request(msg, sizeof msg, "INVITE", "g-2", NULL, 1, "g2", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 100);
  f.ev.refuse_with = 0;

  ck_assert_int_eq(siprec_handler_shutdown(NULL, SIPREC_SHUTDOWN_BYE, 2 * S), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_shutdown(f.h, (siprec_shutdown_mode)7, 2 * S), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_shutdown(f.h, SIPREC_SHUTDOWN_BYE, 2 * S), 0);
  ck_assert_int_eq(f.ev.ended, 4);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_SHUTDOWN);
  ck_assert_int_eq(byes_in(f.ev.sent_log), 2);
  ck_assert_ptr_nonnull(strstr(f.ev.sent_log, "480\n"));
  ck_assert_uint_eq(siprec_handler_sessions(f.h, NULL, 0), 0);
  /* New INVITEs are refused while it drains. */
  fx_request(msg, sizeof msg, "INVITE", "g-3", NULL, 1, "g3", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 503);
  ck_assert_ptr_nonnull(strstr(f.resp, "Retry-After: "));
  ck_assert_int_eq(f.ev.offered, 4);
  /* Unanswered, the BYEs go again after T1. */
  ck_assert_uint_le(siprec_handler_next_deadline(f.h), 2 * S + 500 * MS);
  siprec_handler_expire(f.h, 2 * S + 500 * MS);
  ck_assert_int_eq(byes_in(f.ev.sent_log), 4);
  /* One answered: the other is retransmitted until 64*T1, then given up. */
  fx_answer_last_sent(&f, 200, NULL, answer, sizeof answer);
  fx_feed(&f, answer, 2 * S + 600 * MS);
  ck_assert_int_eq(f.status, 0);
  uint64_t now = 2 * S + 600 * MS;
  int rounds = 0;
  while (siprec_handler_next_deadline(f.h) != UINT64_MAX && rounds++ < 1000) {
    now = siprec_handler_next_deadline(f.h);
    siprec_handler_expire(f.h, now);
  }
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), UINT64_MAX);
  ck_assert_uint_le(now, 2 * S + 64 * 500 * MS);
  ck_assert_int_gt(byes_in(f.ev.sent_log), 5);
  ck_assert_int_eq(f.ev.ended, 4);
  siprec_session_unref(f.ev.deferred);
  siprec_handler_free(f.h);
  ck_assert_int_eq(f.ev.ended, 4);
}
END_TEST

/* A dialog the SRC ended lingers for copies of its BYE (Timer J, 64*T1);
 * a shutdown does not wait for that. */
START_TEST(test_shutdown_skips_linger)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char tag[64];
  fx_start_call(&f, "k-0", tag, sizeof tag);
  ack(&f, "k-0", tag, 1, 1 * S);
  bye(&f, "k-0", tag, 2, 2 * S);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), 2 * S + 64 * 500 * MS);
  ck_assert_int_eq(siprec_handler_shutdown(f.h, SIPREC_SHUTDOWN_BYE, 3 * S), 0);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), UINT64_MAX);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(byes_in(f.ev.sent_log), 0);
  siprec_handler_free(f.h);
}
END_TEST

/* Over TCP the BYE goes once (the transport is reliable): the shutdown is
 * over at once. */
START_TEST(test_shutdown_tcp)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_request(msg, sizeof msg, "INVITE", "t-0", NULL, 1, "t0", "Require: siprec\r\n", fx_sdp2);
  fx_feed_ex(&f, (const struct sockaddr *)&f.src, (const struct sockaddr *)&f.srs,
             SIPREC_TRANSPORT_TCP, 5, msg, 1 * S);
  ck_assert_int_eq(f.status, 200);
  fx_to_tag(&f, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "t-0", tag, 1, "t0a", NULL, NULL);
  fx_feed_ex(&f, (const struct sockaddr *)&f.src, (const struct sockaddr *)&f.srs,
             SIPREC_TRANSPORT_TCP, 5, msg, 1 * S);
  ck_assert_int_eq(siprec_handler_shutdown(f.h, SIPREC_SHUTDOWN_BYE, 2 * S), 0);
  ck_assert_int_eq(byes_in(f.ev.sent_log), 1);
  ck_assert_uint_eq(f.ev.last_conn, 5);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), UINT64_MAX);
  siprec_handler_free(f.h);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_api");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_callback_order);
  tcase_add_test(tc, test_refused_reaches_ended);
  tcase_add_test(tc, test_port_free_names_stream);
  tcase_add_test(tc, test_stream_info);
  tcase_add_test(tc, test_list_sessions);
  tcase_add_test(tc, test_shutdown_bye);
  tcase_add_test(tc, test_shutdown_skips_linger);
  tcase_add_test(tc, test_shutdown_tcp);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
