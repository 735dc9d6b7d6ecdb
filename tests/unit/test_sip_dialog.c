/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's dialog on its own (lib/sip/dialog.c): made from an INVITE,
 * matching requests by tags and source, writing in-dialog requests. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "sip/dialog.h"
#include "sip/message.h"
#include "sip/session_timer.h"
#include "check_main.h"

static siprec_allocator mem;

#define TAG "0123456789abcdef"

static struct sockaddr_in addr4(const char *ip, uint16_t port)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static void parse(const char *text, sr_sip_msg *m)
{
  const char *why;
  ck_assert_int_eq(sr_sip_parse(&mem, text, strlen(text), m, &why), SR_SIP_OK);
}

#define BYE_FMT                                                                                    \
  "BYE sip:srs@192.0.2.10 SIP/2.0\r\n"                                                             \
  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-2\r\n"                                           \
  "From: <sip:src@192.0.2.1>;tag=%s\r\n"                                                          \
  "To: <sip:srs@192.0.2.10>%s\r\n"                                                                \
  "Call-ID: call-1@192.0.2.1\r\nCSeq: 8 BYE\r\nMax-Forwards: 70\r\n"                               \
  "Content-Length: 0\r\n\r\n"

static const char invite[] = "INVITE sip:srs@192.0.2.10 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
                             "From: <sip:src@192.0.2.1>;tag=abc\r\n"
                             "To: <sip:srs@192.0.2.10>\r\n"
                             "Call-ID: call-1@192.0.2.1\r\n"
                             "CSeq: 7 INVITE\r\n"
                             "Contact: <sip:src@192.0.2.1:5070>;+sip.src\r\n"
                             "Record-Route: <sip:p1.example;lr>\r\n"
                             "Record-Route: <sip:p2.example;lr>\r\n"
                             "Max-Forwards: 70\r\n"
                             "Content-Length: 0\r\n\r\n";

struct fixture {
  sr_dialog d;
  struct sockaddr_in src, srs;
  siprec_path path;
};

static void make(struct fixture *f, siprec_transport tp, uint64_t conn)
{
  memset(f, 0, sizeof *f);
  f->src = addr4("192.0.2.1", 5060);
  f->srs = addr4("192.0.2.10", 5080);
  f->path = (siprec_path){ tp, (const struct sockaddr *)&f->srs, (const struct sockaddr *)&f->src,
                           conn };
  sr_sip_msg m;
  parse(invite, &m);
  ck_assert_int_eq(sr_sip_str_set(&mem, &f->d.call_id, m.call_id.p, m.call_id.n), 0);
  f->d.call_id_len = m.call_id.n;
  ck_assert_int_eq(sr_dialog_init_uas(&f->d, &mem, &m, &f->path, TAG), 0);
  sr_sip_msg_free(&m);
}

START_TEST(test_init_from_invite)
{
  struct fixture f;
  make(&f, SIPREC_TRANSPORT_UDP, 0);
  ck_assert_str_eq(f.d.local_tag, TAG);
  ck_assert_str_eq(f.d.remote_tag, "abc");
  ck_assert_str_eq(f.d.remote_target, "sip:src@192.0.2.1:5070");
  ck_assert_str_eq(f.d.route_set, "Route: <sip:p1.example;lr>\r\nRoute: <sip:p2.example;lr>\r\n");
  ck_assert_str_eq(f.d.remote_from, "<sip:src@192.0.2.1>;tag=abc");
  ck_assert_str_eq(f.d.local_to, "<sip:srs@192.0.2.10>;tag=" TAG);
  ck_assert_uint_eq(f.d.remote_cseq, 7);
  ck_assert_uint_eq(f.d.local_cseq, 0);
  siprec_path p = sr_dialog_path(&f.d);
  ck_assert_int_eq(p.transport, SIPREC_TRANSPORT_UDP);
  ck_assert_int_eq(memcmp(p.remote, &f.src, sizeof f.src), 0);
  ck_assert_int_eq(memcmp(p.local, &f.srs, sizeof f.srs), 0);
  sr_dialog_release(&f.d, &mem);
  ck_assert_ptr_null(f.d.remote_tag);
  ck_assert_ptr_null(f.d.call_id);
}
END_TEST

START_TEST(test_match_tags)
{
  struct fixture f;
  make(&f, SIPREC_TRANSPORT_UDP, 0);
  struct {
    const char *from, *to;
    int want;
  } cases[] = {
    { "abc", ";tag=" TAG, SR_DIALOG_TAGS_YES },
    { "abc", "", SR_DIALOG_TAGS_NO_TO_TAG },
    { "abc", ";tag=0123456789abcdee", SR_DIALOG_TAGS_NO },
    { "abc", ";tag=0123", SR_DIALOG_TAGS_NO },
    { "abd", ";tag=" TAG, SR_DIALOG_TAGS_NO },
    { "ab", "", SR_DIALOG_TAGS_NO },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text, BYE_FMT, cases[i].from, cases[i].to);
    sr_sip_msg m;
    parse(text, &m);
    ck_assert_int_eq(sr_dialog_match_tags(&f.d, &m), cases[i].want);
    ck_assert_int_eq(sr_dialog_from_remote(&f.d, &m), strcmp(cases[i].from, "abc") == 0);
    sr_sip_msg_free(&m);
  }
  sr_dialog_release(&f.d, &mem);
}
END_TEST

START_TEST(test_source_rule)
{
  struct fixture f;
  make(&f, SIPREC_TRANSPORT_UDP, 0);
  struct sockaddr_in other_port = addr4("192.0.2.1", 5061), other_host = addr4("192.0.2.2", 5060);
  siprec_path p = f.path;
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 1);
  p.remote = (const struct sockaddr *)&other_port;
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 0); /* UDP: the exact address */
  p.transport = SIPREC_TRANSPORT_TCP;
  p.conn_id = 9;
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 1); /* a stream from the SRC's host */
  p.remote = (const struct sockaddr *)&other_host;
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 0);
  /* A dialog over TCP: its connection, or its host. */
  sr_dialog_release(&f.d, &mem);
  make(&f, SIPREC_TRANSPORT_TCP, 9);
  p = f.path;
  p.remote = (const struct sockaddr *)&other_host;
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 1);
  p.conn_id = 10;
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 0);
  p.transport = SIPREC_TRANSPORT_UDP;
  p.remote = (const struct sockaddr *)&f.src;
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 0); /* UDP never speaks for a TCP dialog */
  /* Allowed by the host: the source moves. */
  sr_dialog_set_source(&f.d, &p);
  ck_assert_int_eq(sr_dialog_source_rule(&f.d, &p), 1);
  ck_assert_int_eq(f.d.transport, SIPREC_TRANSPORT_UDP);
  sr_dialog_release(&f.d, &mem);
}
END_TEST

START_TEST(test_write_request)
{
  struct fixture f;
  make(&f, SIPREC_TRANSPORT_TCP, 3);
  char buf[2048];
  sr_strbuf b = sr_strbuf_on(buf, sizeof buf);
  int n = sr_dialog_write_request(&f.d, "BYE", "fedcba9876543210", "ua/1", NULL, NULL, NULL, 0, &b);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  const char *want = "BYE sip:src@192.0.2.1:5070 SIP/2.0\r\n"
                     "Via: SIP/2.0/TCP 192.0.2.10:5080;branch=z9hG4bKfedcba9876543210\r\n"
                     "Max-Forwards: 70\r\n"
                     "Route: <sip:p1.example;lr>\r\nRoute: <sip:p2.example;lr>\r\n"
                     "From: <sip:srs@192.0.2.10>;tag=" TAG "\r\n"
                     "To: <sip:src@192.0.2.1>;tag=abc\r\n"
                     "Call-ID: call-1@192.0.2.1\r\nCSeq: 1 BYE\r\n"
                     "User-Agent: ua/1\r\n";
  ck_assert_int_eq(strncmp(buf, want, strlen(want)), 0);
  ck_assert_ptr_nonnull(strstr(buf, "Content-Length: 0\r\n\r\n"));
  /* The next one counts on; the request parses as SIP. */
  b = sr_strbuf_on(buf, sizeof buf);
  n = sr_dialog_write_request(&f.d, "UPDATE", "0000000000000000", "ua/1", "X-A: 1\r\n",
                              "application/x", "hi", 2, &b);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  ck_assert_uint_eq(f.d.local_cseq, 2);
  sr_sip_msg m;
  parse(buf, &m);
  ck_assert_int_eq(m.method, SR_M_UPDATE);
  ck_assert_uint_eq(m.cseq, 2);
  ck_assert_uint_eq(m.body.n, 2);
  sr_sip_msg_free(&m);
  /* Too small a buffer, and no local address. */
  char tiny[32];
  b = sr_strbuf_on(tiny, sizeof tiny);
  ck_assert_int_eq(sr_dialog_write_request(&f.d, "BYE", "x", "ua", NULL, NULL, NULL, 0, &b),
                   SIPREC_ETOOBIG);
  f.d.local.ss_family = AF_UNSPEC;
  b = sr_strbuf_on(buf, sizeof buf);
  ck_assert_int_eq(sr_dialog_write_request(&f.d, "BYE", "x", "ua", NULL, NULL, NULL, 0, &b),
                   SIPREC_EINVAL);
  sr_dialog_release(&f.d, &mem);
}
END_TEST

#define SE_FMT                                                                                     \
  "INVITE sip:srs@192.0.2.10 SIP/2.0\r\n"                                                          \
  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"                                           \
  "From: <sip:src@192.0.2.1>;tag=abc\r\nTo: <sip:srs@192.0.2.10>\r\n"                              \
  "Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n%s"                                        \
  "Content-Length: 0\r\n\r\n"

START_TEST(test_session_timer)
{
  /* RFC 4028 as the UAS: the UAC's interval stands, below Min-SE it is 422. */
  char text[1024], extra[256];
  sr_sip_msg m;
  uint32_t se;
  int srs;
  snprintf(text, sizeof text, SE_FMT,
           "Supported: timer\r\nSession-Expires: 1800;refresher=uac\r\n");
  parse(text, &m);
  sr_strbuf b = sr_strbuf_on(extra, sizeof extra);
  ck_assert_int_eq(sr_session_timer_negotiate(&m, 0, 90, &se, &srs, &b), 0);
  ck_assert_uint_eq(se, 1800);
  ck_assert_int_eq(srs, 0);
  extra[b.len] = '\0';
  ck_assert_str_eq(extra, "Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n");
  sr_sip_msg_free(&m);
  snprintf(text, sizeof text, SE_FMT, "Session-Expires: 60\r\n");
  parse(text, &m);
  b = sr_strbuf_on(extra, sizeof extra);
  ck_assert_int_eq(sr_session_timer_negotiate(&m, 0, 90, &se, &srs, &b), 422);
  extra[b.len] = '\0';
  ck_assert_str_eq(extra, "Min-SE: 90\r\n");
  sr_sip_msg_free(&m);
  /* The SRS asks for a timer the UAC supports but did not request. */
  snprintf(text, sizeof text, SE_FMT, "Supported: timer\r\n");
  parse(text, &m);
  b = sr_strbuf_on(extra, sizeof extra);
  ck_assert_int_eq(sr_session_timer_negotiate(&m, 600, 90, &se, &srs, &b), 0);
  ck_assert_uint_eq(se, 600);
  sr_sip_msg_free(&m);

  const uint64_t S = UINT64_C(1000000000);
  sr_session_timer t = { 0, 0, 0, 0 };
  sr_session_timer_restart(&t, 5 * S);
  ck_assert_uint_eq(sr_session_timer_expires(&t), UINT64_MAX); /* none */
  ck_assert_uint_eq(sr_session_timer_refresh(&t), UINT64_MAX);
  t.se_s = 1800;
  sr_session_timer_restart(&t, 5 * S);
  /* The SRC refreshes: the SRS ends it at SE - min(32 s, SE/3). */
  ck_assert_uint_eq(sr_session_timer_expires(&t), 5 * S + 1800 * S - 32 * S);
  ck_assert_uint_eq(sr_session_timer_refresh(&t), UINT64_MAX);
  t.se_s = 90;
  t.srs_refresher = 1;
  sr_session_timer_restart(&t, 0);
  ck_assert_uint_eq(sr_session_timer_expires(&t), 90 * S);
  ck_assert_uint_eq(sr_session_timer_refresh(&t), 45 * S);
}
END_TEST

int main(void)
{
  sr_alloc_init(&mem, NULL);
  Suite *s = suite_create("sip_dialog");
  TCase *tc = tcase_create("dialog");
  tcase_add_test(tc, test_init_from_invite);
  tcase_add_test(tc, test_match_tags);
  tcase_add_test(tc, test_source_rule);
  tcase_add_test(tc, test_write_request);
  suite_add_tcase(s, tc);
  tc = tcase_create("session timer");
  tcase_add_test(tc, test_session_timer);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
