/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler through its public API: call flows, every error it answers,
 * retransmissions and timeouts on a fake clock, TCP framing. */
#include <arpa/inet.h>
#include <check.h>

#include "check_main.h"
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/siprec.h>

#include "handler_fixture.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif



START_TEST(test_call_flow)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64], first[16384];
  fx_start_call(&f, "flow-1", tag, sizeof tag);
  ck_assert_int_eq(f.ev.offered, 1);
  ck_assert_int_eq(f.ev.started, 1);
  ck_assert_uint_eq(fx_active(f.h), 1);
  ck_assert_ptr_nonnull(strstr(f.resp, "Contact: <sip:srs@192.0.2.10:5060>;+sip.srs\r\n"));
  ck_assert_ptr_nonnull(strstr(f.resp, "Content-Type: application/sdp\r\n"));
  ck_assert_ptr_nonnull(strstr(f.resp, "m=audio 20000 RTP/AVP 0 101\r\n"));
  ck_assert_ptr_nonnull(strstr(f.resp, "a=recvonly\r\na=label:2"));
  strcpy(first, f.resp);
  /* The retransmitted INVITE gets the same answer, byte for byte. */
  fx_request(msg, sizeof msg, "INVITE", "flow-1", NULL, 1, "flow-1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1100 * MS);
  ck_assert_str_eq(f.resp, first);
  ck_assert_int_eq(f.ev.started, 1);
  /* ACK: nothing to answer; the next timer is the OPTIONS ping a minute on. */
  fx_request(msg, sizeof msg, "ACK", "flow-1", tag, 1, "flow-1-ack", NULL, NULL);
  ck_assert_int_eq(fx_feed(&f, msg, 1200 * MS), 0);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), 1200 * MS + 60000 * MS);
  /* In-dialog OPTIONS (an SBC keep-alive). */
  fx_request(msg, sizeof msg, "OPTIONS", "flow-1", tag, 2, "flow-1-o", NULL, NULL);
  fx_feed(&f, msg, 1300 * MS);
  ck_assert_int_eq(f.status, 200);
  /* BYE from another address is not taken. */
  fx_request(msg, sizeof msg, "BYE", "flow-1", tag, 3, "flow-1-b0", NULL, NULL);
  fx_feed_from(&f, &f.other, msg, 1400 * MS);
  ck_assert_int_eq(f.status, 481);
  ck_assert_int_eq(f.ev.ended, 0);
  /* BYE. */
  fx_request(msg, sizeof msg, "BYE", "flow-1", tag, 3, "flow-1-b", NULL, NULL);
  fx_feed(&f, msg, 1500 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_BYE);
  ck_assert_uint_eq(fx_active(f.h), 0);
  /* A copy of the BYE (UDP) gets the same 200 again (RFC 3261 17.2.2) ... */
  char first_200[4096];
  fx_feed(&f, msg, 1500 * MS);
  strcpy(first_200, f.resp);
  fx_feed(&f, msg, 1600 * MS);
  ck_assert_str_eq(f.resp, first_200);
  ck_assert_int_eq(f.ev.ended, 1);
  /* ... but another request finds no dialog ... */
  fx_request(msg, sizeof msg, "OPTIONS", "flow-1", tag, 4, "flow-1-o2", NULL, NULL);
  fx_feed(&f, msg, 1700 * MS);
  ck_assert_int_eq(f.status, 481);
  /* ... and after Timer J (64*T1) neither does the BYE. */
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), 1500 * MS + 32000 * MS);
  siprec_handler_expire(f.h, 1500 * MS + 32000 * MS);
  fx_request(msg, sizeof msg, "BYE", "flow-1", tag, 3, "flow-1-b", NULL, NULL);
  fx_feed(&f, msg, 40000 * MS);
  ck_assert_int_eq(f.status, 481);
  siprec_handler_free(f.h);
  ck_assert_int_eq(f.ev.sent, 0);
}
END_TEST

START_TEST(test_errors)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_max_sessions(cfg, 1), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char msg[8192], tag[64];

  /* A plain call is refused. */
  snprintf(msg, sizeof msg,
           "INVITE sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKp\r\n"
           "From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:srs@192.0.2.10>\r\nCall-ID: plain\r\n"
           "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
           strlen(fx_sdp2), fx_sdp2);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 403);
  /* Unknown Require option tag. */
  fx_request(msg, sizeof msg, "INVITE", "e-420", NULL, 1, "e420", "Require: siprec, foo\r\n", fx_sdp2);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 420);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nUnsupported: foo\r\n"));
  /* A body it cannot use. */
  snprintf(msg, sizeof msg,
           "INVITE sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKt\r\n"
           "From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:srs@192.0.2.10>\r\nCall-ID: e-415\r\n"
           "CSeq: 1 INVITE\r\nRequire: siprec\r\nContent-Type: text/plain\r\n"
           "Content-Length: 5\r\n\r\nhello");
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 415);
  /* No acceptable media. */
  fx_request(msg, sizeof msg, "INVITE", "e-488", NULL, 1, "e488", "Require: siprec\r\n",
          "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
          "m=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 488);
  /* Unparsable SDP. */
  fx_request(msg, sizeof msg, "INVITE", "e-400", NULL, 1, "e400", "Require: siprec\r\n",
          "this is not SDP\r\n");
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status / 100, 4);
  /* Bad Content-Length. */
  snprintf(msg, sizeof msg,
           "OPTIONS sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcl\r\n"
           "From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:srs@192.0.2.10>\r\nCall-ID: e-cl\r\n"
           "CSeq: 1 OPTIONS\r\nContent-Length: 900\r\n\r\nshort");
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 400);
  ck_assert_ptr_nonnull(strstr(f.resp, "SIP/2.0 400 Bad Content-Length\r\n"));
  /* Methods. */
  fx_request(msg, sizeof msg, "INFO", "e-405", NULL, 1, "e405", NULL, NULL);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 405);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n"));
  fx_request(msg, sizeof msg, "FROB", "e-501", NULL, 1, "e501", NULL, NULL);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 501);
  fx_request(msg, sizeof msg, "OPTIONS", "e-opt", NULL, 1, "eopt", NULL, NULL);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nAccept: application/sdp"));
  /* CANCEL for nothing. */
  fx_request(msg, sizeof msg, "CANCEL", "e-481", NULL, 1, "e481", NULL, NULL);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 481);
  /* Garbage is dropped, not answered. */
  ck_assert_int_eq(fx_feed(&f, "\x01\x02 garbage \xff\r\n\r\n", 0), 0);
  /* The session limit (an established session: one not ACKed yet would be
   * shed for the new INVITE, test_handler_flood). */
  fx_start_call(&f, "e-limit-1", tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "e-limit-1", tag, 1, "lim1a", NULL, NULL);
  fx_feed(&f, msg, 0);
  fx_request(msg, sizeof msg, "INVITE", "e-limit-2", NULL, 1, "lim2", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 503);
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nRetry-After: "));
  /* Nothing of the refused requests stayed behind. */
  ck_assert_uint_eq(fx_active(f.h), 1);
  ck_assert_int_eq(f.ev.started, 1);
  siprec_handler_free(f.h);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_SHUTDOWN);
  ck_assert_int_eq(f.ev.sent, 1); /* the BYE at shutdown */
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "BYE sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nCall-ID: e-limit-1\r\n"));
}
END_TEST

START_TEST(test_too_large)
{
  fixture f;
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_max_message_size(cfg, 2048), 0);
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char pad[3000], msg[8192];
  memset(pad, 'x', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  char extra[3100];
  snprintf(extra, sizeof extra, "X-Pad: %s\r\nRequire: siprec\r\n", pad);
  fx_request(msg, sizeof msg, "INVITE", "big", NULL, 1, "big", extra, fx_sdp2);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 513);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_retransmit_and_ack_timeout)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_timers(cfg, 100, 400), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char tag[64];
  fx_start_call(&f, "retx", tag, sizeof tag);
  char answer[16384];
  strcpy(answer, f.resp);
  uint64_t t0 = 1000 * MS;
  /* T1 doubling up to T2: 100, 200, 400, 400, ... until 64*T1 = 6.4 s. */
  uint64_t expect_at[] = { 100, 300, 700, 1100, 1500 };
  for (size_t i = 0; i < 5; i++) {
    ck_assert_uint_eq(siprec_handler_next_deadline(f.h), t0 + expect_at[i] * MS);
    ck_assert_int_eq(siprec_handler_expire(f.h, t0 + expect_at[i] * MS - 1), 0);
    ck_assert_int_eq(siprec_handler_expire(f.h, t0 + expect_at[i] * MS), 1);
    ck_assert_int_eq(f.ev.sent, (int)i + 1);
    ck_assert_str_eq(f.ev.last_sent, answer);
  }
  /* No ACK by 64*T1: the end, and no BYE: an address that never ACKed
   * never proved it is the SRC (it may be a forged one). */
  int before = f.ev.sent;
  ck_assert_int_ge(siprec_handler_expire(f.h, t0 + 6400 * MS), 1);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_ACK_TIMEOUT);
  ck_assert_int_eq(f.ev.sent, before);
  ck_assert_uint_eq(fx_active(f.h), 0);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), UINT64_MAX);

  /* A confirmed dialog whose re-INVITE's 2xx is never ACKed: a BYE. */
  char msg[4096], resp[4096];
  fx_start_call(&f, "retx2", tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "retx2", tag, 1, "r2a", NULL, NULL);
  fx_feed(&f, msg, t0 + 10 * MS);
  fx_request(msg, sizeof msg, "INVITE", "retx2", tag, 2, "r2r", NULL, fx_sdp2);
  fx_feed(&f, msg, t0 + 20 * MS);
  ck_assert_int_eq(f.status, 200);
  siprec_handler_expire(f.h, t0 + 20 * MS + 6400 * MS);
  before = f.ev.sent;
  ck_assert_int_eq(f.ev.ended, 2);
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "BYE sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nCSeq: 1 BYE\r\n"));
  ck_assert_uint_eq(fx_active(f.h), 0);
  /* The BYE is retransmitted (UDP) until answered ... */
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), t0 + 6520 * MS);
  siprec_handler_expire(f.h, t0 + 6520 * MS);
  ck_assert_int_eq(f.ev.sent, before + 1);
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "\r\nCSeq: 1 BYE\r\n"));
  /* ... and a BYE from the SRC crossing it gets 200 ... */
  fx_request(msg, sizeof msg, "BYE", "retx2", tag, 3, "xb", NULL, NULL);
  fx_feed(&f, msg, t0 + 6550 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.ended, 2);
  /* ... and its answer ends the transaction. */
  fx_answer_last_sent(&f, 200, NULL, resp, sizeof resp);
  ck_assert_int_eq(fx_feed(&f, resp, t0 + 6600 * MS), 0);
  ck_assert_uint_eq(siprec_handler_next_deadline(f.h), UINT64_MAX);
  fx_feed(&f, msg, t0 + 6700 * MS);
  ck_assert_int_eq(f.status, 481);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_reinvite)
{
  fixture f;
  fx_init(&f, NULL, 1);
  char msg[8192], tag[64];
  fx_start_call(&f, "re", tag, sizeof tag);
  ck_assert_uint_eq(f.ev.ports_in_use, 2);
  fx_request(msg, sizeof msg, "ACK", "re", tag, 1, "re-ack", NULL, NULL);
  fx_feed(&f, msg, 1200 * MS);
  /* Now a third stream is added and the second paused. */
  fx_request(msg, sizeof msg, "INVITE", "re", tag, 3, "re-3", NULL, fx_sdp3);
  fx_feed(&f, msg, 1300 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.updated, 1);
  ck_assert_uint_eq(f.ev.ports_in_use, 3);
  ck_assert_ptr_nonnull(strstr(f.resp, "o=libsiprec "));
  ck_assert_ptr_nonnull(strstr(f.resp, " 2 IN IP4 192.0.2.10\r\n")); /* version incremented */
  ck_assert_ptr_nonnull(strstr(f.resp, "a=inactive\r\na=label:2"));
  ck_assert_ptr_nonnull(strstr(f.resp, "a=label:3"));
  /* An old CSeq is out of order. */
  fx_request(msg, sizeof msg, "UPDATE", "re", tag, 2, "re-u", NULL, fx_sdp2);
  fx_feed(&f, msg, 1400 * MS);
  ck_assert_int_eq(f.status, 500);
  fx_request(msg, sizeof msg, "ACK", "re", tag, 3, "re-ack3", NULL, NULL);
  fx_feed(&f, msg, 1500 * MS);
  /* UPDATE back to two streams: the third port goes back. */
  fx_request(msg, sizeof msg, "UPDATE", "re", tag, 4, "re-u4", NULL, fx_sdp2);
  fx_feed(&f, msg, 1600 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(f.ev.ports_in_use, 2);
  ck_assert_int_eq(f.ev.updated, 2);
  /* A CANCEL after the answer: 200, the session stays. */
  fx_request(msg, sizeof msg, "CANCEL", "re", NULL, 1, "re", NULL, NULL);
  fx_feed(&f, msg, 1700 * MS);
  ck_assert_int_eq(f.status, 481); /* its branch is the first INVITE's, answered long ago */
  siprec_handler_free(f.h);
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
}
END_TEST

START_TEST(test_refused_and_no_ports)
{
  fixture f;
  fx_init(&f, NULL, 1);
  char msg[8192];
  f.ev.refuse_with = 486;
  fx_request(msg, sizeof msg, "INVITE", "busy", NULL, 1, "busy", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 486);
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
  ck_assert_int_eq(f.ev.started, 0);
  f.ev.refuse_with = 0;
  f.ev.port_limit = 1;
  fx_request(msg, sizeof msg, "INVITE", "noports", NULL, 1, "np", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 503);
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
  ck_assert_uint_eq(fx_active(f.h), 0);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_delayed_offer)
{
  fixture f;
  fx_init(&f, NULL, 1);
  char msg[8192], tag[64];
  /* An INVITE without SDP: the 200 offers two recvonly streams. */
  fx_request(msg, sizeof msg, "INVITE", "late", NULL, 1, "late", "Require: siprec\r\n", NULL);
  fx_feed(&f, msg, 1000 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(strstr(f.resp, "Content-Type: application/sdp\r\n"));
  const char *body = strstr(f.resp, "\r\n\r\nv=0");
  ck_assert_ptr_nonnull(body);
  int mlines = 0;
  for (const char *p = body; (p = strstr(p, "\r\nm=audio ")) != NULL; p++)
    mlines++;
  ck_assert_int_eq(mlines, 2);
  ck_assert_ptr_nonnull(strstr(body, "a=recvonly"));
  ck_assert_uint_eq(f.ev.ports_in_use, 2);
  fx_to_tag(&f, tag, sizeof tag);
  /* The ACK answers: PCMA on the first stream, the second declined. */
  const char *answer = "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                       "t=0 0\r\nm=audio 10000 RTP/AVP 8\r\na=sendonly\r\n"
                       "m=audio 0 RTP/AVP 0\r\n";
  fx_request(msg, sizeof msg, "ACK", "late", tag, 1, "late-ack", NULL, answer);
  ck_assert_int_eq(fx_feed(&f, msg, 1100 * MS), 0);
  ck_assert_int_eq(f.ev.updated, 1);
  ck_assert_int_eq(f.ev.ended, 0);
  ck_assert_uint_eq(f.ev.ports_in_use, 1);
  /* Another delayed offer whose ACK brings no answer: the session ends. */
  fx_request(msg, sizeof msg, "INVITE", "late2", NULL, 1, "late2", "Require: siprec\r\n", NULL);
  fx_feed(&f, msg, 1200 * MS);
  ck_assert_int_eq(f.status, 200);
  fx_to_tag(&f, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "late2", tag, 1, "late2-ack", NULL, NULL);
  fx_feed(&f, msg, 1300 * MS);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_NO_MEDIA);
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "BYE sip:src@192.0.2.1:5060 SIP/2.0\r\n"));
  ck_assert_uint_eq(fx_active(f.h), 1);
  siprec_handler_free(f.h);
  ck_assert_uint_eq(f.ev.ports_in_use, 0);
}
END_TEST

/* siprec_handler_frame() as one number: the length, 0, or the error. */
static long frame(const char *p, size_t len, size_t max)
{
  size_t n = 0;
  int rc = siprec_handler_frame(p, len, max, &n);
  return rc == 1 ? (long)n : rc;
}

START_TEST(test_frame)
{
  const char *m = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 4\r\n\r\nbodyNEXT";
  size_t full = strlen(m) - 4;
  ck_assert_int_eq(frame(m, strlen(m), 65536), (long)full);
  ck_assert_int_eq(frame(m, full - 1, 65536), 0);
  ck_assert_int_eq(frame("\r\n\r\nOPTIONS", 11, 65536), 4);
  ck_assert_int_eq(frame("OPTIONS sip:x SIP/2.0\nl: 0\n\n", 28, 65536), 28);
  ck_assert_int_eq(frame("OPTIONS sip:x SIP/2.0\r\n\r\n", 25, 65536), SIPREC_EPARSE);
  ck_assert_int_eq(frame("A\r\nContent-Length: x\r\n\r\n", 25, 65536), SIPREC_EPARSE);
  ck_assert_int_eq(frame("A\r\nContent-Length: 99999\r\n\r\n", 29, 1024),
                   SIPREC_EPARSE);
  ck_assert_int_eq(frame("A\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 45,
                                        1024),
                   SIPREC_EPARSE);
  ck_assert_int_eq(frame("OPTIONS sip:x SIP/2.0\r\nVia: x", 29, 65536), 0);
  ck_assert_int_eq(frame("OPTIONS sip:x SIP/2.0\r\nVia: x", 29, 16), SIPREC_EPARSE);
  /* Fields are read as the parser reads them (sip/raw.c): folded, and not
   * in the start line. */
  ck_assert_int_eq(frame("A\r\nContent-Length:\r\n 2\r\n\r\nhi", 28, 1024), 28);
  ck_assert_int_eq(frame("A\r\nContent-Length: 2\r\n x\r\n\r\nhi", 30, 1024), SIPREC_EPARSE);
  ck_assert_int_eq(frame("Content-Length: 2\r\n\r\nhi", 23, 1024), SIPREC_EPARSE);
  size_t n = 1;
  ck_assert_int_eq(siprec_handler_frame(NULL, 3, 100, &n), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_frame(m, strlen(m), 100, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_frame(m, full - 1, 65536, &n), 0);
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_config_checks)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_shards(cfg, 12), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_config_set_contact_user(cfg, "a\r\nX: y"), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_config_set_user_agent(cfg, "ua\n"), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_config_set_rtp_ports(cfg, 100, 50), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_config_set_timers(cfg, 0, 10), SIPREC_EINVAL);
  const char *codecs[] = { "PCMA", NULL };
  ck_assert_int_eq(siprec_handler_config_set_codecs(cfg, codecs, 1), 0);
  ck_assert_int_eq(siprec_handler_config_set_user_agent(cfg, "TestRecorder/1"), 0);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char msg[8192];
  const char *offer = "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                      "m=audio 10000 RTP/AVP 0 8\r\na=sendonly\r\n";
  fx_request(msg, sizeof msg, "INVITE", "cfg", NULL, 1, "cfg", "Require: siprec\r\n", offer);
  fx_feed(&f, msg, 0);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(strstr(f.resp, "m=audio 20000 RTP/AVP 8\r\n"));
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nServer: TestRecorder/1\r\n"));
  siprec_handler_free(f.h);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("handler");
  TCase *tc = tcase_create("handler");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_call_flow);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_too_large);
  tcase_add_test(tc, test_retransmit_and_ack_timeout);
  tcase_add_test(tc, test_reinvite);
  tcase_add_test(tc, test_refused_and_no_ports);
  tcase_add_test(tc, test_delayed_offer);
  tcase_add_test(tc, test_frame);
  tcase_add_test(tc, test_config_checks);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
