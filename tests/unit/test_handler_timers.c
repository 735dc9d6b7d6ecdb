/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's later life of a session, on a fake clock: deferred
 * acceptance and CANCEL, per-source bounds, session timers (RFC 4028),
 * OPTIONS pings, the idle limit, the host's requests, the ACL callback,
 * counters and change sets. */
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

static siprec_handler_config *config(void)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  return cfg;
}

static void ack(fixture *f, const char *call_id, const char *tag, unsigned cseq, uint64_t now)
{
  char msg[2048];
  fx_request(msg, sizeof msg, "ACK", call_id, tag, cseq, "ack", NULL, NULL);
  ck_assert_int_eq(fx_feed(f, msg, now), 0);
}

/* The first line of the last message the handler sent by itself. */
static int sent_starts(const fixture *f, const char *prefix)
{
  return strncmp(f->ev.last_sent, prefix, strlen(prefix)) == 0;
}

START_TEST(test_defer_accept)
{
  fixture f;
  fx_init(&f, NULL, 0);
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  char msg[4096], tag[64];
  fx_request(msg, sizeof msg, "INVITE", "d-1", NULL, 1, "d1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 100);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nTo: <sip:srs@192.0.2.10>\r\n")); /* no To-tag on a 100 */
  ck_assert_int_eq(f.ev.started, 0);
  ck_assert_ptr_nonnull(f.ev.deferred);
  ck_assert(siprec_session_is_pending(f.ev.deferred));
  ck_assert_uint_eq(fx_active(f.h), 1);
  /* A retransmission while the host decides: 100 again. */
  fx_feed(&f, msg, 1 * S + 500 * MS);
  ck_assert_int_eq(f.status, 100);
  /* The host accepts: the 200 goes out through the send callback. */
  ck_assert_int_eq(siprec_handler_accept_session(f.h, f.ev.deferred, 2 * S), 0);
  ck_assert(sent_starts(&f, "SIP/2.0 200 OK\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "m=audio 20000 RTP/AVP 0 101\r\n"));
  ck_assert_int_eq(f.ev.started, 1);
  ck_assert(!siprec_session_is_pending(f.ev.deferred));
  ck_assert_int_eq(siprec_handler_accept_session(f.h, f.ev.deferred, 2 * S), SIPREC_EINVAL);
  /* Now a retransmitted INVITE gets that 200. */
  fx_feed(&f, msg, 2 * S + 100 * MS);
  ck_assert_int_eq(f.status, 200);
  fx_to_tag(&f, tag, sizeof tag);
  ack(&f, "d-1", tag, 1, 2 * S + 200 * MS);
  fx_request(msg, sizeof msg, "BYE", "d-1", tag, 2, "d1b", NULL, NULL);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_BYE);
  siprec_session_unref(f.ev.deferred);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_defer_cancel)
{
  fixture f;
  fx_init(&f, NULL, 1);
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  char msg[4096], tag[64];
  fx_request(msg, sizeof msg, "INVITE", "c-1", NULL, 1, "c1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 100);
  ck_assert_uint_eq(f.ev.ports_in_use, 2);
  fx_request(msg, sizeof msg, "CANCEL", "c-1", NULL, 1, "c1", NULL, NULL);
  fx_feed(&f, msg, 1 * S + 100 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.sent, 0); /* the 487 follows the CANCEL's 200, at the next expire */
  ck_assert_uint_le(siprec_handler_next_deadline(f.h), 1 * S + 100 * MS);
  ck_assert_int_gt(siprec_handler_expire(f.h, 1 * S + 100 * MS), 0);
  ck_assert(sent_starts(&f, "SIP/2.0 487 "));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nCSeq: 1 INVITE\r\n"));
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_CANCEL);
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
  ck_assert_uint_eq(fx_active(f.h), 0);
  ck_assert_int_eq(siprec_handler_accept_session(f.h, f.ev.deferred, 2 * S), SIPREC_EINVAL);
  /* UDP: the 487 is retransmitted until its ACK. */
  siprec_handler_expire(f.h, 1 * S + 700 * MS);
  ck_assert_int_eq(f.ev.sent, 2);
  /* A retransmitted INVITE gets the 487 too. */
  fx_request(msg, sizeof msg, "INVITE", "c-1", NULL, 1, "c1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S + 800 * MS);
  ck_assert_int_eq(f.status, 487);
  fx_to_tag(&f, tag, sizeof tag);
  ack(&f, "c-1", tag, 1, 1 * S + 900 * MS);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), UINT64_MAX);
  ck_assert_int_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ENDED, SIPREC_END_CANCEL), 1);
  /* The same Call-ID is free again. */
  f.ev.refuse_with = 0;
  fx_request(msg, sizeof msg, "INVITE", "c-1", NULL, 2, "c1-new", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  siprec_session_unref(f.ev.deferred);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_defer_refuse_and_timeout)
{
  siprec_handler_config *cfg = config();
  ck_assert_int_eq(siprec_handler_config_set_defer_timeout(cfg, 1000), 0);
  ck_assert_int_eq(siprec_handler_config_set_defer_timeout(cfg, 0), SIPREC_EINVAL);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "r-1", NULL, 1, "r1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(siprec_handler_refuse_session(f.h, f.ev.deferred, 200, 1 * S), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_refuse_session(f.h, f.ev.deferred, 486, 1 * S), 0);
  ck_assert(sent_starts(&f, "SIP/2.0 486 "));
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_REFUSED);
  ck_assert_int_eq(f.ev.started, 0);
  /* A second one the host never decides on: 503 after the defer timeout. */
  fx_request(msg, sizeof msg, "INVITE", "r-2", NULL, 1, "r2", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 100);
  siprec_handler_expire(f.h, 2 * S + 999 * MS);
  ck_assert(!sent_starts(&f, "SIP/2.0 503"));
  siprec_handler_expire(f.h, 3 * S);
  ck_assert(sent_starts(&f, "SIP/2.0 503 "));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nRetry-After: "));
  ck_assert_int_eq(f.ev.ended, 2);
  /* Without an ACK the rejected transactions are gone after 64*T1. */
  siprec_handler_expire(f.h, 40 * S);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), UINT64_MAX);
  siprec_session_unref(f.ev.deferred);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_pending_per_source)
{
  siprec_handler_config *cfg = config();
  ck_assert_int_eq(siprec_handler_config_set_max_pending_per_source(cfg, 2), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char msg[4096], tag[64];
  fx_start_call(&f, "p-1", tag, sizeof tag);
  fx_start_call(&f, "p-2", tag, sizeof tag);
  fx_request(msg, sizeof msg, "INVITE", "p-3", NULL, 1, "p3", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 503);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nRetry-After: "));
  /* Another source is not held back by this one. */
  fx_request(msg, sizeof msg, "INVITE", "p-4", NULL, 1, "p4", "Require: siprec\r\n", fx_sdp2);
  fx_feed_from(&f, &f.other, msg, 1 * S);
  ck_assert_int_eq(f.status, 200);
  /* An ACK settles one INVITE of the first source: room for one more. */
  ack(&f, "p-2", tag, 1, 1 * S + 10 * MS);
  fx_request(msg, sizeof msg, "INVITE", "p-3", NULL, 1, "p3b", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S + 20 * MS);
  ck_assert_int_eq(f.status, 200);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_session_timer_uac_refresher)
{
  siprec_handler_config *cfg = config();
  ck_assert_int_eq(siprec_handler_config_set_session_timer(cfg, 1800, 90), 0);
  ck_assert_int_eq(siprec_handler_config_set_session_timer(cfg, 60, 90), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_config_set_ping_interval(cfg, 1000), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char msg[4096], tag[64];
  /* Below the SRS's Min-SE: 422 naming it. */
  fx_request(msg, sizeof msg, "INVITE", "t-1", NULL, 1, "t1",
             "Require: siprec\r\nSupported: timer\r\nSession-Expires: 60\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 422);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nMin-SE: 90\r\n"));
  fx_request(msg, sizeof msg, "INVITE", "t-1", NULL, 2, "t1b",
             "Require: siprec\r\nSupported: timer\r\nSession-Expires: 120;refresher=uac\r\n",
             fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nSession-Expires: 120;refresher=uac\r\n"));
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nRequire: timer\r\n"));
  fx_to_tag(&f, tag, sizeof tag);
  ack(&f, "t-1", tag, 2, 1 * S + 10 * MS);
  /* No pings for a session with a timer. */
  siprec_handler_expire(f.h, 10 * S);
  ck_assert_int_eq(f.ev.sent, 0);
  /* A refresh (UPDATE) at 60 s restarts the interval. */
  fx_request(msg, sizeof msg, "UPDATE", "t-1", tag, 3, "t1u",
             "Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n", NULL);
  fx_feed(&f, msg, 60 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nSession-Expires: 120;refresher=uac\r\n"));
  ck_assert_uint_eq(f.ev.last_changes, SIPREC_CHANGE_REFRESH);
  /* Not refreshed again: BYE at SE - min(32 s, SE/3) after the refresh. */
  siprec_handler_expire(f.h, 60 * S + 87 * S);
  ck_assert_int_eq(f.ev.ended, 0);
  siprec_handler_expire(f.h, 60 * S + 88 * S);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_SESSION_TIMER);
  ck_assert(sent_starts(&f, "BYE sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  ck_assert_uint_eq(siprec_session_timer(NULL, NULL), 0);
  /* An SRC that supports timers but asked for none gets the SRS's default. */
  fx_request(msg, sizeof msg, "INVITE", "t-2", NULL, 1, "t2", "Require: siprec\r\nSupported: timer\r\n",
             fx_sdp2);
  fx_feed(&f, msg, 200 * S);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nSession-Expires: 1800;refresher=uac\r\n"));
  /* One that does not know timers gets none, and no Require. */
  fx_request(msg, sizeof msg, "INVITE", "t-3", NULL, 1, "t3", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 200 * S);
  ck_assert_ptr_null(strstr(f.resp, "Session-Expires"));
  ck_assert_ptr_null(strstr(f.resp, "Require: timer"));
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_session_timer_srs_refresher)
{
  siprec_handler_config *cfg = config();
  ck_assert_int_eq(siprec_handler_config_set_timers(cfg, 50, 400), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char msg[4096], tag[64], resp[4096];
  fx_request(msg, sizeof msg, "INVITE", "u-1", NULL, 1, "u1",
             "Require: siprec\r\nSupported: timer\r\nSession-Expires: 100;refresher=uas\r\n",
             fx_sdp2);
  fx_feed(&f, msg, 0);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nSession-Expires: 100;refresher=uas\r\n"));
  fx_to_tag(&f, tag, sizeof tag);
  ack(&f, "u-1", tag, 1, 10 * MS);
  /* The SRS refreshes at half the interval, with an UPDATE. */
  siprec_handler_expire(f.h, 49 * S);
  ck_assert_int_eq(f.ev.sent, 0);
  siprec_handler_expire(f.h, 50 * S + 10 * MS);
  ck_assert(sent_starts(&f, "UPDATE sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nSession-Expires: 100;refresher=uas\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nCSeq: 1 UPDATE\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, ";tag=src1\r\n"));
  fx_answer_last_sent(&f, 200, "Session-Expires: 100;refresher=uas\r\n", resp, sizeof resp);
  ck_assert_int_eq(fx_feed(&f, resp, 50 * S + 20 * MS), 0);
  /* Answered: no retransmission, the next refresh 50 s on. */
  int sent = f.ev.sent;
  siprec_handler_expire(f.h, 60 * S);
  ck_assert_int_eq(f.ev.sent, sent);
  siprec_handler_expire(f.h, 100 * S + 30 * MS);
  ck_assert_int_eq(f.ev.sent, sent + 1);
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nCSeq: 2 UPDATE\r\n"));
  /* The SRC no longer knows the dialog: the session ends. */
  fx_answer_last_sent(&f, 481, NULL, resp, sizeof resp);
  fx_feed(&f, resp, 100 * S + 40 * MS);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_SESSION_TIMER);
  ck_assert(sent_starts(&f, "BYE "));
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_options_ping)
{
  siprec_handler_config *cfg = config();
  ck_assert_int_eq(siprec_handler_config_set_timers(cfg, 50, 400), 0);
  ck_assert_int_eq(siprec_handler_config_set_ping_interval(cfg, 1000), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char msg[4096], tag[64], resp[4096];
  fx_start_call(&f, "o-1", tag, sizeof tag);
  ack(&f, "o-1", tag, 1, 1 * S);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), 2 * S);
  siprec_handler_expire(f.h, 2 * S);
  ck_assert(sent_starts(&f, "OPTIONS sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  /* Any answer but 481/408 shows the SRC alive, 405 too. */
  fx_answer_last_sent(&f, 405, NULL, resp, sizeof resp);
  fx_feed(&f, resp, 2 * S + 10 * MS);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), 3 * S + 10 * MS);
  /* A request from the SRC counts as a sign of life too. */
  fx_request(msg, sizeof msg, "OPTIONS", "o-1", tag, 2, "o1o", NULL, NULL);
  fx_feed(&f, msg, 2 * S + 500 * MS);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), 3 * S + 500 * MS);
  /* Unanswered: retransmitted (UDP), then the session ends after 64*T1. */
  siprec_handler_expire(f.h, 3 * S + 500 * MS);
  int sent = f.ev.sent;
  siprec_handler_expire(f.h, 3 * S + 550 * MS);
  ck_assert_int_eq(f.ev.sent, sent + 1);
  ck_assert(sent_starts(&f, "OPTIONS "));
  siprec_handler_expire(f.h, 3 * S + 500 * MS + 3200 * MS);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_KEEPALIVE);
  ck_assert(sent_starts(&f, "BYE "));
  /* A 481 to a ping ends it at once. */
  fx_start_call(&f, "o-2", tag, sizeof tag);
  ack(&f, "o-2", tag, 1, 10 * S);
  siprec_handler_expire(f.h, 11 * S);
  fx_answer_last_sent(&f, 481, NULL, resp, sizeof resp);
  fx_feed(&f, resp, 11 * S + 10 * MS);
  ck_assert_int_eq(f.ev.ended, 2);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_KEEPALIVE);
  /* A response that matches nothing is counted and dropped. */
  fx_feed(&f, resp, 12 * S);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_DROPPED, SIPREC_DROP_RESPONSE), 1);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_idle_limit)
{
  siprec_handler_config *cfg = config();
  ck_assert_int_eq(siprec_handler_config_set_idle_limit(cfg, 5000), 0);
  ck_assert_int_eq(siprec_handler_config_set_ping_interval(cfg, 0), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char tag[64];
  fx_start_call(&f, "i-1", tag, sizeof tag);
  ack(&f, "i-1", tag, 1, 1 * S);
  /* Media reported by the host holds the limit off. */
  char msg[4096];
  f.ev.refuse_with = SIPREC_DECISION_DEFER; /* only to get a reference to the next session */
  fx_request(msg, sizeof msg, "INVITE", "i-2", NULL, 1, "i2", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 100);
  siprec_session *s = f.ev.deferred;
  ck_assert_int_eq(siprec_handler_accept_session(f.h, s, 1 * S), 0);
  fx_feed(&f, msg, 1 * S);
  fx_to_tag(&f, tag, sizeof tag);
  ack(&f, "i-2", tag, 1, 1 * S);
  ck_assert_int_eq(siprec_handler_touch_session(f.h, s, 4 * S), 0);
  siprec_handler_expire(f.h, 6 * S);
  ck_assert_int_eq(f.ev.ended, 1); /* i-1 only */
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_IDLE);
  siprec_handler_expire(f.h, 9 * S);
  ck_assert_int_eq(f.ev.ended, 2);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_host_requests)
{
  fixture f;
  fx_init(&f, NULL, 0);
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  char msg[4096], tag[64], resp[4096];
  fx_request(msg, sizeof msg, "INVITE", "h-1", NULL, 1, "h1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  siprec_session *s = f.ev.deferred;
  siprec_session_ref(s);
  ck_assert_int_eq(siprec_handler_request_metadata(f.h, s, 1 * S), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_accept_session(f.h, s, 1 * S), 0);
  fx_feed(&f, msg, 1 * S);
  fx_to_tag(&f, tag, sizeof tag);
  ack(&f, "h-1", tag, 1, 1 * S);
  /* A snapshot request: an UPDATE with an rs-metadata-request body. */
  ck_assert_int_eq(siprec_handler_request_metadata(f.h, s, 2 * S), 0);
  ck_assert(sent_starts(&f, "UPDATE sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nContent-Type: application/rs-metadata-request\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nContent-Disposition: recording-session\r\n"));
  ck_assert_int_eq(siprec_handler_request_metadata(f.h, s, 2 * S), SIPREC_EAGAIN);
  fx_answer_last_sent(&f, 200, NULL, resp, sizeof resp);
  fx_feed(&f, resp, 2 * S + 10 * MS);
  /* The snapshot arrives in an UPDATE. */
  snprintf(msg, sizeof msg,
           "UPDATE sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKmu\r\n"
           "From: <sip:src@192.0.2.1>;tag=src1\r\nTo: <sip:srs@192.0.2.10>;tag=%s\r\n"
           "Call-ID: h-1\r\nCSeq: 2 UPDATE\r\nContent-Type: application/rs-metadata+xml\r\n"
           "Content-Disposition: recording-session\r\nContent-Length: 11\r\n\r\n<recording/>",
           tag);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(f.ev.last_changes, SIPREC_CHANGE_METADATA);
  size_t mlen;
  ck_assert_ptr_nonnull(siprec_session_metadata_xml(s, &mlen));
  ck_assert_uint_eq(mlen, 11);
  ck_assert_int_eq(siprec_handler_request_metadata(f.h, s, 3 * S), 0);
  /* The host ends it. */
  ck_assert_int_eq(siprec_handler_end_session(f.h, s, 4 * S), 0);
  ck_assert(sent_starts(&f, "BYE sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_HOST);
  ck_assert_int_eq(siprec_handler_end_session(f.h, s, 4 * S), SIPREC_EINVAL);
  ck_assert_uint_eq(fx_active(f.h), 0);
  /* From inside a callback: EBUSY, not a deadlock. */
  f.ev.refuse_with = 0;
  f.ev.reenter = 1;
  fx_start_call(&f, "h-2", tag, sizeof tag);
  ck_assert_int_eq(f.ev.reenter_rc, SIPREC_EBUSY);
  ck_assert_int_eq(siprec_handler_end_session(NULL, s, 0), SIPREC_EINVAL);
  siprec_session_unref(s);
  siprec_session_unref(f.ev.deferred);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_acl)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_start_call(&f, "a-1", tag, sizeof tag);
  ack(&f, "a-1", tag, 1, 1 * S);
  fx_request(msg, sizeof msg, "BYE", "a-1", tag, 2, "a1b", NULL, NULL);
  fx_feed_from(&f, &f.other, msg, 2 * S);
  ck_assert_int_eq(f.status, 481);
  ck_assert_int_eq(f.ev.acl_calls, 1);
  /* The host says the other address is the SRC's mate (an SBC pair). */
  f.ev.acl_allow = 1;
  fx_feed_from(&f, &f.other, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_BYE);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_counters)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_start_call(&f, "k-1", tag, sizeof tag);
  fx_request(msg, sizeof msg, "INFO", "k-2", NULL, 1, "k2", NULL, NULL);
  fx_feed(&f, msg, 1 * S);
  fx_feed(&f, "garbage\r\n\r\n", 1 * S);
  ack(&f, "k-1", tag, 1, 1 * S);
  ack(&f, "k-1", tag, 1, 1 * S); /* a second ACK matches nothing */
  fx_request(msg, sizeof msg, "BYE", "k-1", tag, 2, "k1b", NULL, NULL);
  fx_feed(&f, msg, 2 * S);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_STARTED, 0), 1);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ACTIVE, 0), 0);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ENDED, SIPREC_END_BYE), 1);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_RESPONSES, 2), 2);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_RESPONSES, 4), 1);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_RESPONSES, 7), 0);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_DROPPED, SIPREC_DROP_UNPARSABLE), 1);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_DROPPED, SIPREC_DROP_ACK), 1);
  ck_assert_uint_eq(siprec_handler_stat(NULL, SIPREC_STAT_DROPPED, 0), 0);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_change_sets)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_start_call(&f, "x-1", tag, sizeof tag);
  ack(&f, "x-1", tag, 1, 1 * S);
  /* Stream 2 paused, stream 3 added. */
  fx_request(msg, sizeof msg, "INVITE", "x-1", tag, 2, "x2", NULL, fx_sdp3);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(f.ev.last_changes, SIPREC_CHANGE_STREAMS_PAUSED | SIPREC_CHANGE_STREAMS_ADDED);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(NULL, 0, &info), SIPREC_EINVAL);
  ack(&f, "x-1", tag, 2, 2 * S);
  /* Back to two streams: 2 resumed, 3 removed. */
  fx_request(msg, sizeof msg, "INVITE", "x-1", tag, 3, "x3", NULL, fx_sdp2);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert(f.ev.last_changes & SIPREC_CHANGE_STREAMS_RESUMED);
  ck_assert(f.ev.last_changes & SIPREC_CHANGE_STREAMS_REMOVED);
  ack(&f, "x-1", tag, 3, 3 * S);
  /* The same offer again: nothing but a refresh. */
  fx_request(msg, sizeof msg, "INVITE", "x-1", tag, 4, "x4", NULL, fx_sdp2);
  fx_feed(&f, msg, 4 * S);
  ck_assert_uint_eq(f.ev.last_changes, SIPREC_CHANGE_REFRESH);
  siprec_handler_free(f.h);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_timers");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_defer_accept);
  tcase_add_test(tc, test_defer_cancel);
  tcase_add_test(tc, test_defer_refuse_and_timeout);
  tcase_add_test(tc, test_pending_per_source);
  tcase_add_test(tc, test_session_timer_uac_refresher);
  tcase_add_test(tc, test_session_timer_srs_refresher);
  tcase_add_test(tc, test_options_ping);
  tcase_add_test(tc, test_idle_limit);
  tcase_add_test(tc, test_host_requests);
  tcase_add_test(tc, test_acl);
  tcase_add_test(tc, test_counters);
  tcase_add_test(tc, test_change_sets);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
