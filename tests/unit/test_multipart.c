/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lenient multipart splitter (lib/sip/multipart.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "corpus.h"
#include "expect.h"
#include "sip/multipart.h"
#include "check_main.h"

#define MAXP 8

static int split(const char *body, const char *boundary, sr_mime_part *p, unsigned *flags)
{
  return sr_multipart_split(body, strlen(body), boundary, strlen(boundary), p, MAXP, flags);
}

static int span_is(sr_span s, const char *lit)
{
  return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

START_TEST(test_closed_crlf)
{
  sr_mime_part p[MAXP];
  unsigned fl;
  const char *b = "--xyz\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n"
                  "--xyz\r\nContent-Type: application/rs-metadata+xml\r\n"
                  "Content-Disposition: recording-session\r\n\r\n<recording/>\r\n--xyz--\r\n";
  ck_assert_int_eq(split(b, "xyz", p, &fl), 2);
  ck_assert_uint_eq(fl, SR_MULTIPART_CLOSED);
  ck_assert(span_is(p[0].content_type, "application/sdp"));
  ck_assert(span_is(p[0].body, "v=0")); /* the CRLF belongs to the delimiter */
  ck_assert(span_is(p[1].content_type, "application/rs-metadata+xml"));
  ck_assert(span_is(p[1].disposition, "recording-session"));
  ck_assert(span_is(p[1].body, "<recording/>"));
}
END_TEST

START_TEST(test_unclosed_lf_preamble)
{
  sr_mime_part p[MAXP];
  unsigned fl = 7;
  const char *b = "  \nthis is a preamble\n--b1\nContent-Type:application/sdp\n\nv=0\nm=audio 1 RTP/AVP 0\n"
                  "--b1\ncontent-type:  Application/RS-Metadata ; charset=utf-8\n\n<r/>\n\n";
  ck_assert_int_eq(split(b, "b1", p, &fl), 2);
  ck_assert_uint_eq(fl, 0);
  ck_assert(span_is(p[0].body, "v=0\nm=audio 1 RTP/AVP 0"));
  ck_assert(sr_span_ieq(p[1].content_type, "application/rs-metadata"));
  ck_assert(span_is(p[1].body, "<r/>\n\n"));
}
END_TEST

START_TEST(test_epilogue_and_padding)
{
  sr_mime_part p[MAXP];
  unsigned fl;
  const char *b = "--q \t\r\nContent-Type: text/plain\r\n\r\none\r\n--q-- trailing words\r\nepilogue\r\n"
                  "--q\r\nContent-Type: text/plain\r\n\r\nnot a part\r\n";
  ck_assert_int_eq(split(b, "q", p, &fl), 1);
  ck_assert_uint_eq(fl, SR_MULTIPART_CLOSED);
  ck_assert(span_is(p[0].body, "one"));
}
END_TEST

START_TEST(test_longer_boundary_is_text)
{
  sr_mime_part p[MAXP];
  unsigned fl;
  const char *b = "--ab\r\nContent-Type: a/b\r\n\r\nline\r\n--abc\r\nstill body\r\n--ab--\r\n";
  ck_assert_int_eq(split(b, "ab", p, &fl), 1);
  ck_assert(span_is(p[0].body, "line\r\n--abc\r\nstill body"));
}
END_TEST

START_TEST(test_headerless_and_folded)
{
  sr_mime_part p[MAXP];
  unsigned fl;
  const char *b = "--z\r\n\r\nno headers\r\n--z\r\nv=0 no colon here\r\n--z\r\nContent-Type:\r\n"
                  " application/sdp\r\nX-Other: 1\r\n\r\nbody\r\n--z\r\nContent-Type: a/b\r\n--z--";
  ck_assert_int_eq(split(b, "z", p, &fl), 4);
  ck_assert_uint_eq(p[0].content_type.n, 0);
  ck_assert(span_is(p[0].body, "no headers"));
  ck_assert_uint_eq(p[1].content_type.n, 0);
  ck_assert(span_is(p[1].body, "v=0 no colon here"));
  ck_assert(span_is(p[2].content_type, "application/sdp"));
  ck_assert(span_is(p[2].body, "body"));
  ck_assert(span_is(p[3].content_type, "a/b"));
  ck_assert_uint_eq(p[3].body.n, 0);
}
END_TEST

START_TEST(test_errors)
{
  sr_mime_part p[2];
  unsigned fl;
  ck_assert_int_eq(split("no delimiter at all\r\n", "x", p, &fl), SIPREC_EINVAL);
  ck_assert_int_eq(split("--x--\r\n", "x", p, &fl), SIPREC_EINVAL);
  ck_assert_int_eq(sr_multipart_split("--\r\n", 4, "", 0, p, 2, &fl), SIPREC_EINVAL);
  char longb[SR_MIME_BOUNDARY_MAX + 2];
  memset(longb, 'a', sizeof longb - 1);
  longb[sizeof longb - 1] = '\0';
  ck_assert_int_eq(split("--aaaa\r\n", longb, p, &fl), SIPREC_EINVAL);
  ck_assert_int_eq(
      sr_multipart_split("--x\r\n\r\n1\r\n--x\r\n\r\n2\r\n--x\r\n\r\n3\r\n--x--", 30, "x", 1, p, 2, &fl),
      SIPREC_ETOOBIG);
  /* A truncated delimiter at the very end is not read past the buffer. */
  ck_assert_int_eq(sr_multipart_split("--x\r\n\r\n1\r\n--", 12, "x", 1, p, 2, &fl), 1);
}
END_TEST

START_TEST(test_params)
{
  sr_span v;
  const char *ct = "multipart/mixed; boundary=unique-boundary-1";
  ck_assert_int_eq(sr_mime_param(ct, strlen(ct), "boundary", &v), 1);
  ck_assert(span_is(v, "unique-boundary-1"));
  ct = "multipart/mixed;charset=x;BOUNDARY=\"a b;c\"";
  ck_assert_int_eq(sr_mime_param(ct, strlen(ct), "boundary", &v), 1);
  ck_assert(span_is(v, "a b;c"));
  ct = "multipart/mixed ;  boundary = abc ; x=y";
  ck_assert_int_eq(sr_mime_param(ct, strlen(ct), "boundary", &v), 1);
  ck_assert(span_is(v, "abc"));
  ct = "multipart/mixed; xboundary=abc";
  ck_assert_int_eq(sr_mime_param(ct, strlen(ct), "boundary", &v), 0);
  ct = "multipart/mixed; boundary=\"unterminated";
  ck_assert_int_eq(sr_mime_param(ct, strlen(ct), "boundary", &v), 1);
  ck_assert(span_is(v, "unterminated"));
  ct = "multipart/mixed; boundary";
  ck_assert_int_eq(sr_mime_param(ct, strlen(ct), "boundary", &v), 0);
  ck_assert(span_is(sr_mime_type(" Multipart/Mixed ;b=1", 21), "Multipart/Mixed"));
}
END_TEST

/* Every multipart sample of the shared corpus splits into an SDP part and at
 * least one more, closed or not. Returns 1 for a multipart sample. */
static int split_sample(const char *dir, const char *file, const char *stem, void *user)
{
  (void)stem;
  (void)user;
  char path[8192];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  size_t len;
  char *buf = read_file(path, &len);
  ck_assert_msg(buf != NULL, "cannot read %s", path);
  const char *sep = strstr(buf, "\r\n\r\n");
  size_t sl = 4;
  if (!sep) {
    sep = strstr(buf, "\n\n");
    sl = 2;
  }
  ck_assert_msg(sep != NULL, "%s: no header end", file);
  const char *ct = strcasestr(buf, "\nContent-Type:");
  ck_assert(ct != NULL && ct < sep);
  ct += 14;
  const char *ce = strchr(ct, '\n');
  sr_span b;
  if (!sr_mime_param(ct, (size_t)(ce - ct), "boundary", &b)) {
    free(buf);
    return 0;
  }
  const char *body = sep + sl;
  sr_mime_part p[MAXP];
  unsigned fl;
  int np = sr_multipart_split(body, len - (size_t)(body - buf), b.p, b.n, p, MAXP, &fl);
  ck_assert_msg(np >= 2, "%s: %d parts", file, np);
  int sdp = 0;
  for (int i = 0; i < np; i++)
    if (sr_span_ieq(p[i].content_type, "application/sdp"))
      sdp++;
  ck_assert_msg(sdp == 1, "%s: %d SDP parts", file, sdp);
  free(buf);
  return 1;
}

START_TEST(test_corpus)
{
  int multipart = corpus_each(split_sample, NULL);
  ck_assert_msg(multipart > 10, "%d multipart samples in %s", multipart, corpus_dir());
}
END_TEST

int main(void)
{
  Suite *s = suite_create("multipart");
  TCase *tc = tcase_create("split");
  tcase_add_test(tc, test_closed_crlf);
  tcase_add_test(tc, test_unclosed_lf_preamble);
  tcase_add_test(tc, test_epilogue_and_padding);
  tcase_add_test(tc, test_longer_boundary_is_text);
  tcase_add_test(tc, test_headerless_and_folded);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_params);
  tcase_add_test(tc, test_corpus);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
