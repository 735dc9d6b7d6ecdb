/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile inputs too big or too many to keep as files in tests/data/torture:
 * a real INVITE cut every few bytes, NUL bytes in every header line,
 * messages over the size limit, a 1 MB header, thousands of Vias, m-lines
 * and body parts, deep multipart nesting, a 10,000-byte Call-ID, binary
 * garbage. Each gets its error or is dropped, and like every torture case
 * (tests/common/torture.c) logs no ERROR, writes nothing to stdout/stderr,
 * leaves no session behind and takes at most a second. */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "corpus.h"
#include "expect.h"
#include "sip/message.h"
#include "torture.h"

/* A growable byte string. */
typedef struct bytes {
  char *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    ck_assert(b->p != NULL);
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}

static void puts_(bytes *b, const char *s)
{
  put(b, s, strlen(s));
}

static void putf(bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(bytes *b, const char *fmt, ...)
{
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  ck_assert(n > 0 && (size_t)n < sizeof line);
  put(b, line, (size_t)n);
}

/* The siprec-control case of the torture folder: a SIPREC INVITE answered 200. */
static char *control(size_t *len)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/siprec-control.sip", torture_dir());
  char *m = read_file(path, len);
  ck_assert_msg(m != NULL, "cannot read %s", path);
  return m;
}

/* The control INVITE with `extra` inserted before its Via (header lines,
 * each ending in CRLF), and its Call-ID replaced when `call_id` is given. */
static void build(bytes *out, const char *extra, size_t extra_len, const char *call_id)
{
  size_t len;
  char *m = control(&len);
  const char *via = strstr(m, "\r\nVia: ") + 2;
  put(out, m, (size_t)(via - m));
  put(out, extra, extra_len);
  const char *cid = strstr(via, "\r\nCall-ID: ") + 2;
  put(out, via, (size_t)(cid - via));
  const char *cid_end = strstr(cid, "\r\n");
  if (call_id) {
    puts_(out, "Call-ID: ");
    puts_(out, call_id);
  } else {
    put(out, cid, (size_t)(cid_end - cid));
  }
  put(out, cid_end, len - (size_t)(cid_end - m));
  free(m);
}

/* The control INVITE with its body replaced (Content-Type and -Length too). */
static void build_body(bytes *out, const char *content_type, const bytes *body)
{
  size_t len;
  char *m = control(&len);
  const char *ct = strstr(m, "\r\nContent-Type: ") + 2;
  put(out, m, (size_t)(ct - m));
  putf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", content_type, body->n);
  put(out, body->p, body->n);
  free(m);
}

/* Feed an exact copy of the bytes (so overreads show) and check the outcome
 * against `ex`; `label` names the case in a failure. */
static void expect_outcome(const char *label, const void *msg, size_t len, const expect *ex)
{
  char *exact = malloc(len ? len : 1);
  ck_assert(exact != NULL);
  memcpy(exact, msg, len);
  static torture_outcome o;
  ck_assert_msg(torture_feed(exact, len, &o) == 0, "%s: %s", label, o.first_error);
  free(exact);
  char why[1024];
  const char *problem = torture_check(ex, &o, why, sizeof why);
  ck_assert_msg(problem == NULL, "%s: %s", label, problem);
}

static expect status_is(int status)
{
  expect ex;
  memset(&ex, 0, sizeof ex);
  ex.status = status;
  return ex;
}

static expect class_is(int cls)
{
  expect ex;
  memset(&ex, 0, sizeof ex);
  ex.status_class = cls;
  return ex;
}

static expect dropped(void)
{
  expect ex;
  memset(&ex, 0, sizeof ex);
  ex.none = 1;
  return ex;
}

/* Either dropped or `status`: feed once, then check against what came. */
static void expect_dropped_or(const char *label, const void *msg, size_t len, int status)
{
  static torture_outcome o;
  char *exact = malloc(len ? len : 1);
  ck_assert(exact != NULL);
  memcpy(exact, msg, len);
  ck_assert_msg(torture_feed(exact, len, &o) == 0, "%s: %s", label, o.first_error);
  free(exact);
  expect ex = o.rc == 0 ? dropped() : status_is(status);
  char why[1024];
  const char *problem = torture_check(&ex, &o, why, sizeof why);
  ck_assert_msg(problem == NULL, "%s: %s", label, problem);
}

START_TEST(test_control_answered)
{
  size_t len;
  char *m = control(&len);
  expect ex = status_is(200);
  expect_outcome("control", m, len, &ex);
  free(m);
}
END_TEST

/* A real corpus INVITE cut every few bytes: cut inside the header section it
 * is dropped or gets 400; cut inside the body, whose Content-Length then
 * promises more than the datagram holds, it gets 400 (RFC 3261 18.3). */
START_TEST(test_truncated)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/rfc7866-basic.sip", corpus_dir());
  size_t len;
  char *m = read_file(path, &len);
  ck_assert_msg(m != NULL, "cannot read %s", path);
  const char *hdr_end = strstr(m, "\r\n\r\n");
  ck_assert(hdr_end != NULL);
  size_t body = (size_t)(hdr_end - m) + 4;
  size_t step = getenv("SIPREC_UNDER_VALGRIND") ? 23 : 7;
  for (size_t cut = 0; cut < len; cut += step) {
    char label[64];
    snprintf(label, sizeof label, "cut at %zu of %zu", cut, len);
    if (cut >= body) {
      expect ex = status_is(400);
      expect_outcome(label, m, cut, &ex);
    } else {
      expect_dropped_or(label, m, cut, 400);
    }
  }
  free(m);
}
END_TEST

/* A NUL in the middle of each header line in turn: 400 (or dropped, when
 * the line was one an answer cannot do without). */
START_TEST(test_nul_in_every_header)
{
  size_t len;
  char *m = control(&len);
  const char *end = strstr(m, "\r\n\r\n");
  int lines = 0;
  for (const char *line = strstr(m, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
    size_t n = (size_t)(strstr(line, "\r\n") - line);
    char *copy = malloc(len);
    ck_assert(copy != NULL);
    memcpy(copy, m, len);
    copy[(line - m) + (ptrdiff_t)(n / 2)] = '\0';
    char label[96];
    snprintf(label, sizeof label, "NUL in '%.*s'", (int)(n < 40 ? n : 40), line);
    expect_dropped_or(label, copy, len, 400);
    free(copy);
    lines++;
  }
  ck_assert_int_ge(lines, 8);
  free(m);
}
END_TEST

/* Over the default 65536-byte limit: 513 (RFC 3261 21.5.14), at it: 200. */
START_TEST(test_size_limit)
{
  size_t base_len;
  char *base = control(&base_len);
  free(base);
  const size_t sizes[] = { 65536, 65537, 70000, (size_t)1 << 20 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    /* One X-Pad header makes the message exactly sizes[i] bytes long. */
    size_t pad = sizes[i] - base_len - strlen("X-Pad: \r\n");
    char *extra = malloc(pad + 16);
    ck_assert(extra != NULL);
    memcpy(extra, "X-Pad: ", 7);
    memset(extra + 7, 'x', pad);
    memcpy(extra + 7 + pad, "\r\n", 2);
    bytes b = { 0 };
    build(&b, extra, pad + 9, NULL);
    free(extra);
    ck_assert_uint_eq(b.n, sizes[i]);
    char label[64];
    snprintf(label, sizeof label, "%zu-byte message", b.n);
    expect ex = status_is(sizes[i] > 65536 ? 513 : 200);
    expect_outcome(label, b.p, b.n, &ex);
    free(b.p);
  }
}
END_TEST

/* A 60,000-byte header line within the limit is still a valid message. */
START_TEST(test_long_header_line)
{
  size_t n = 60000;
  char *extra = malloc(n + 16);
  ck_assert(extra != NULL);
  memcpy(extra, "X-Long: ", 8);
  memset(extra + 8, 'y', n);
  memcpy(extra + 8 + n, "\r\n", 2);
  bytes b = { 0 };
  build(&b, extra, n + 10, NULL);
  free(extra);
  expect ex = status_is(200);
  expect_outcome("60000-byte header", b.p, b.n, &ex);
  free(b.p);
}
END_TEST

/* Every response echoes the Call-ID: one of 10,000 bytes cannot be answered
 * within the 8 KiB a response is promised to fit, so it is dropped; one of
 * 2,000 bytes is answered. */
START_TEST(test_long_call_id)
{
  const size_t lens[] = { 2000, 10000 };
  for (size_t i = 0; i < 2; i++) {
    char *cid = malloc(lens[i] + 1);
    ck_assert(cid != NULL);
    for (size_t k = 0; k < lens[i]; k++)
      cid[k] = "abcdefghijklmnopqrstuvwxyz0123456789"[k % 36];
    cid[lens[i]] = '\0';
    bytes b = { 0 };
    build(&b, "", 0, cid);
    free(cid);
    char label[64];
    snprintf(label, sizeof label, "Call-ID of %zu bytes", lens[i]);
    expect ex = lens[i] > SR_SIP_ECHO_MAX ? dropped() : status_is(200);
    expect_outcome(label, b.p, b.n, &ex);
    free(b.p);
  }
}
END_TEST

/* Thousands of Vias: every one would have to be echoed, far past 8 KiB (and
 * past any real path: Max-Forwards allows at most 255 hops): dropped. A path
 * of 60 proxies is answered. */
START_TEST(test_many_vias)
{
  const unsigned counts[] = { 60, 1400, 5000 };
  for (size_t i = 0; i < 3; i++) {
    bytes vias = { 0 };
    for (unsigned k = 0; k < counts[i]; k++)
      putf(&vias, "Via: SIP/2.0/UDP 198.51.100.%u:5060;branch=z9hG4bK-hop-%u\r\n", k % 250, k);
    bytes b = { 0 };
    build(&b, vias.p, vias.n, NULL);
    free(vias.p);
    char label[64];
    snprintf(label, sizeof label, "%u extra Vias, %zu bytes", counts[i], b.n);
    expect ex = counts[i] < 100 ? status_is(200) : dropped();
    expect_outcome(label, b.p, b.n, &ex);
    free(b.p);
  }
}
END_TEST

/* A multipart body of 1000 parts (SDP first, metadata second, then 998
 * text/plain parts): refused with a 4xx, quickly. */
START_TEST(test_thousand_parts)
{
  bytes body = { 0 };
  puts_(&body, "--b\r\nContent-Type: application/sdp\r\n\r\n"
               "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
               "m=audio 10000 RTP/AVP 0\r\na=sendonly\r\na=label:1\r\n"
               "--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n<recording/>\r\n");
  for (int i = 0; i < 998; i++)
    putf(&body, "--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
  puts_(&body, "--b--\r\n");
  bytes b = { 0 };
  build_body(&b, "multipart/mixed;boundary=b", &body);
  free(body.p);
  expect ex = class_is(4);
  expect_outcome("1000 body parts", b.p, b.n, &ex);
  free(b.p);
}
END_TEST

/* 2500 m-lines, far more streams than a recording has: a 4xx. */
START_TEST(test_thousands_of_mlines)
{
  bytes sdp = { 0 };
  puts_(&sdp, "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n");
  for (int i = 0; i < 2500; i++)
    putf(&sdp, "m=audio %d RTP/AVP 0\r\n", 10000 + 2 * (i % 20000));
  bytes b = { 0 };
  build_body(&b, "application/sdp", &sdp);
  free(sdp.p);
  expect ex = class_is(4);
  expect_outcome("2500 m-lines", b.p, b.n, &ex);
  free(b.p);
}
END_TEST

/* multipart/mixed nested 200 levels deep around the SDP: a 4xx, with no
 * recursion to exhaust the stack. */
START_TEST(test_deep_nesting)
{
  bytes body = { 0 };
  const int depth = 200;
  for (int i = 0; i < depth; i++)
    putf(&body, "--n%d\r\nContent-Type: multipart/mixed;boundary=n%d\r\n\r\n", i, i + 1);
  putf(&body, "--n%d\r\nContent-Type: application/sdp\r\n\r\n"
              "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
              "m=audio 10000 RTP/AVP 0\r\na=sendonly\r\n", depth);
  for (int i = depth; i >= 0; i--)
    putf(&body, "--n%d--\r\n", i);
  bytes b = { 0 };
  build_body(&b, "multipart/mixed;boundary=n0", &body);
  free(body.p);
  expect ex = class_is(4);
  expect_outcome("multipart nested 200 deep", b.p, b.n, &ex);
  free(b.p);
}
END_TEST

/* Binary garbage, bare and behind a plausible Request-Line: never a 2xx,
 * nothing else amiss either. */
START_TEST(test_binary_garbage)
{
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 64; i++) {
    bytes b = { 0 };
    if (i % 2)
      puts_(&b, "INVITE sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKg\r\n");
    size_t n = 1 + (size_t)(i * 61) % 4000;
    for (size_t k = 0; k < n; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      char c = (char)(x >> 24);
      put(&b, &c, 1);
    }
    static torture_outcome o;
    ck_assert(torture_feed(b.p, b.n, &o) == 0);
    char label[64], why[1024];
    snprintf(label, sizeof label, "garbage %d (%zu bytes)", i, b.n);
    expect ex = o.rc == 0 ? dropped() : class_is(o.status / 100 == 2 ? 4 : o.status / 100);
    const char *problem = torture_check(&ex, &o, why, sizeof why);
    ck_assert_msg(problem == NULL, "%s: %s", label, problem);
    free(b.p);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("handler_hostile");
  TCase *tc = tcase_create("hostile");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_control_answered);
  tcase_add_test(tc, test_truncated);
  tcase_add_test(tc, test_nul_in_every_header);
  tcase_add_test(tc, test_size_limit);
  tcase_add_test(tc, test_long_header_line);
  tcase_add_test(tc, test_long_call_id);
  tcase_add_test(tc, test_many_vias);
  tcase_add_test(tc, test_thousand_parts);
  tcase_add_test(tc, test_thousands_of_mlines);
  tcase_add_test(tc, test_deep_nesting);
  tcase_add_test(tc, test_binary_garbage);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
