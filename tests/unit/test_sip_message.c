/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SIP message view over Sofia-SIP's parser (lib/sip/message.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "corpus.h"
#include "expect.h"
#include "sip/message.h"
#include "check_main.h"

static siprec_allocator mem;

static int parse(const char *text, sr_sip_msg *m, const char **why)
{
  return sr_sip_parse(&mem, text, strlen(text), m, why);
}

static int span_is(sr_span s, const char *lit)
{
  return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

#define HDRS                                                                                       \
  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"                                           \
  "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-0\r\n"                                                \
  "From: <sip:src@192.0.2.1>;tag=abc\r\n"                                                          \
  "To: <sip:srs@192.0.2.10>\r\n"                                                                   \
  "Call-ID: call-1@192.0.2.1\r\n"                                                                  \
  "Max-Forwards: 70\r\n"

START_TEST(test_basic_fields)
{
  sr_sip_msg m;
  const char *why;
  const char *msg = "INVITE sip:srs@192.0.2.10 SIP/2.0\r\n" HDRS
                    "CSeq: 7 INVITE\r\n"
                    "Contact: <sip:src@192.0.2.1>;+sip.src\r\n"
                    "Require: siprec, timer\r\n"
                    "Supported: replaces\r\n"
                    "Session-Expires: 1800;refresher=uac\r\n"
                    "Min-SE: 90\r\n"
                    "Record-Route: <sip:p1;lr>\r\n"
                    "Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000\r\n"
                    "Content-Type: multipart/mixed;boundary=\"b 1\"\r\n"
                    "Content-Length: 4\r\n\r\nbody";
  ck_assert_int_eq(parse(msg, &m, &why), SR_SIP_OK);
  ck_assert_int_eq(m.is_request, 1);
  ck_assert_int_eq(m.method, SR_M_INVITE);
  ck_assert(span_is(m.call_id, "call-1@192.0.2.1"));
  ck_assert(span_is(m.from_tag, "abc"));
  ck_assert_uint_eq(m.to_tag.n, 0);
  ck_assert_uint_eq(m.cseq, 7);
  ck_assert_int_eq(m.cseq_method, SR_M_INVITE);
  ck_assert(span_is(m.branch, "z9hG4bK-1"));
  ck_assert_uint_eq(m.n_via, 2);
  ck_assert_int_eq(m.contact_src, 1);
  ck_assert_int_eq(m.require_siprec, 1);
  ck_assert_uint_eq(m.n_require, 2);
  ck_assert(span_is(m.require[1], "timer"));
  ck_assert(span_is(m.supported[0], "replaces"));
  ck_assert_uint_eq(m.session_expires, 1800);
  ck_assert_int_eq(m.refresher, SR_REFRESHER_UAC);
  ck_assert_uint_eq(m.min_se, 90);
  ck_assert_uint_eq(m.max_forwards, 70);
  ck_assert(span_is(m.content_type, "multipart/mixed"));
  ck_assert(span_is(m.boundary, "b 1"));
  ck_assert(span_is(m.body, "body"));
  ck_assert(span_is(m.session_id, "ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000"));
  /* The echo lines, canonically encoded, in order. */
  ck_assert(span_is(m.echo_via, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
                                "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-0\r\n"));
  ck_assert(span_is(m.echo_from, "From: <sip:src@192.0.2.1>;tag=abc\r\n"));
  ck_assert(span_is(m.echo_to, "To: <sip:srs@192.0.2.10>"));
  ck_assert(span_is(m.echo_call_id, "Call-ID: call-1@192.0.2.1\r\n"));
  ck_assert(span_is(m.echo_cseq, "CSeq: 7 INVITE\r\n"));
  ck_assert(span_is(m.echo_record_route, "Record-Route: <sip:p1;lr>\r\n"));
  sr_sip_msg_free(&m);
}
END_TEST

START_TEST(test_src_forms)
{
  static const char *contacts[] = {
    "Contact: <sip:src@192.0.2.1;+sip.src>\r\n",
    "Contact: <sip:src@192.0.2.1>;src\r\n",
    "m: <sip:src@192.0.2.1>;+sip.src;expires=60\r\n",
    "Contact: <sip:src@192.0.2.1;+sip.src\r\n", /* missing '>' */
    "Contact:\r\n <sip:src@192.0.2.1;+sip.src\r\n", /* and folded: read as raw.c reads it */
  };
  for (size_t i = 0; i < sizeof contacts / sizeof contacts[0]; i++) {
    char msg[1024];
    snprintf(msg, sizeof msg, "INVITE sip:srs@192.0.2.10 SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n%s"
             "Content-Length: 0\r\n\r\n", contacts[i]);
    sr_sip_msg m;
    const char *why;
    int rc = parse(msg, &m, &why);
    ck_assert_msg(rc == SR_SIP_OK, "contact %zu: rc %d (%s)", i, rc, why);
    ck_assert_msg(m.contact_src == 1, "contact %zu: src not seen", i);
    ck_assert_int_eq(m.require_siprec, 0);
    sr_sip_msg_free(&m);
  }
  sr_sip_msg m;
  const char *why;
  ck_assert_int_eq(parse("INVITE sip:srs@192.0.2.10 SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
                         "Contact: <sip:source@192.0.2.1>;srcx\r\nContent-Length: 0\r\n\r\n",
                         &m, &why),
                   SR_SIP_OK);
  ck_assert_int_eq(m.contact_src, 0);
  sr_sip_msg_free(&m);
}
END_TEST

START_TEST(test_bad_and_dropped)
{
  sr_sip_msg m;
  const char *why;
  ck_assert_int_eq(parse("hello world, not SIP at all\r\n\r\n", &m, &why), SR_SIP_DROP);
  ck_assert_int_eq(parse("", &m, &why), SR_SIP_DROP);
  /* No Via: nowhere to send an answer. */
  ck_assert_int_eq(parse("OPTIONS sip:srs@192.0.2.10 SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
                         "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nContent-Length: 0\r\n\r\n",
                         &m, &why),
                   SR_SIP_DROP);
  ck_assert_int_eq(parse("OPTIONS sip:srs@192.0.2.10 SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-2\r\nCSeq: 1 OPTIONS\r\n"
                         "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nContent-Length: 0\r\n\r\n",
                         &m, &why),
                   SR_SIP_BAD);
  ck_assert_str_eq(why, "Missing Call-ID");
  sr_sip_msg_free(&m);
  ck_assert_int_eq(parse("INVITE sip:srs@192.0.2.10 SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
                         "Content-Length: 500\r\n\r\nshort",
                         &m, &why),
                   SR_SIP_BAD);
  ck_assert_str_eq(why, "Bad Content-Length");
  sr_sip_msg_free(&m);
  ck_assert_int_eq(parse("BYE sip:srs@192.0.2.10 SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
                         "Content-Length: 0\r\n\r\n",
                         &m, &why),
                   SR_SIP_BAD);
  sr_sip_msg_free(&m);
  /* A sloppy CSeq method on ACK is tolerated (the dialog decides). */
  ck_assert_int_eq(parse("ACK sip:srs@192.0.2.10 SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
                         "Content-Length: 0\r\n\r\n",
                         &m, &why),
                   SR_SIP_OK);
  sr_sip_msg_free(&m);
}
END_TEST

START_TEST(test_bare_lf_and_response)
{
  sr_sip_msg m;
  const char *why;
  ck_assert_int_eq(parse("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-9\n"
                         "From: <sip:srs@192.0.2.10>;tag=x\nTo: <sip:src@192.0.2.1>;tag=y\n"
                         "Call-ID: c2\nCSeq: 2 OPTIONS\nContent-Length: 0\n\n",
                         &m, &why),
                   SR_SIP_OK);
  ck_assert_int_eq(m.is_request, 0);
  ck_assert_int_eq(m.status, 200);
  ck_assert(span_is(m.to_tag, "y"));
  ck_assert_int_eq(m.cseq_method, SR_M_OPTIONS);
  sr_sip_msg_free(&m);
}
END_TEST

/* Every corpus sample parses; SIPREC markers are seen where the corpus says
 * they are, and never in the ordinary call. */
static int parse_sample(const char *dir, const char *file, const char *stem, void *user)
{
  (void)user;
  char path[8192];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  size_t len;
  char *buf = read_file(path, &len);
  ck_assert_msg(buf != NULL, "cannot read %s", path);
  sr_sip_msg m;
  const char *why;
  int rc = sr_sip_parse(&mem, buf, len, &m, &why);
  ck_assert_msg(rc == SR_SIP_OK, "%s: rc %d (%s)", file, rc, why);
  ck_assert_int_eq(m.method, SR_M_INVITE);
  ck_assert_uint_gt(m.body.n, 100);
  int marked = m.require_siprec || m.contact_src;
  if (strcmp(stem, "non-siprec-payload") == 0)
    ck_assert_msg(!marked, "%s looks SIPREC", file);
  else
    ck_assert_msg(marked, "%s: no SIPREC marker seen", file);
  sr_sip_msg_free(&m);
  free(buf);
  return 1;
}

START_TEST(test_corpus)
{
  ck_assert_int_gt(corpus_each(parse_sample, NULL), 10);
}
END_TEST

int main(void)
{
  sr_alloc_init(&mem, NULL);
  Suite *s = suite_create("sip_message");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, test_basic_fields);
  tcase_add_test(tc, test_src_forms);
  tcase_add_test(tc, test_bad_and_dropped);
  tcase_add_test(tc, test_bare_lf_and_response);
  tcase_add_test(tc, test_corpus);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
