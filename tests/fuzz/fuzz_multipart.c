/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the lenient multipart splitter and the MIME
 * parameter reader. Input: one byte n, then n bytes of boundary, then the
 * body. Checks that every span lies inside the input, parts come in order
 * without overlapping, and results are consistent with the flags. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "sip/multipart.h"

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

static void check_span(sr_span s, const char *lo, const char *hi)
{
  if (s.n == 0)
    return;
  CHECK(s.p >= lo && s.p + s.n <= hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  size_t bn = data[0] % 80;
  if (1 + bn > size)
    return 0;
  /* Copies, so reads past the end are caught by the sanitizers. */
  char *boundary = malloc(bn ? bn : 1);
  size_t len = size - 1 - bn;
  char *body = malloc(len ? len : 1);
  CHECK(boundary && body);
  memcpy(boundary, data + 1, bn);
  memcpy(body, data + 1 + bn, len);

  sr_mime_part parts[6];
  unsigned flags = 0;
  int n = sr_multipart_split(body, len, boundary, bn, parts, 6, &flags);
  CHECK(n == SIPREC_EINVAL || n == SIPREC_ETOOBIG || (n >= 1 && n <= 6));
  const char *prev_end = body;
  for (int i = 0; i < n; i++) {
    const sr_mime_part *p = &parts[i];
    check_span(p->headers, body, body + len);
    check_span(p->body, body, body + len);
    if (p->headers.p) {
      check_span(p->content_type, p->headers.p, p->headers.p + p->headers.n);
      check_span(p->disposition, p->headers.p, p->headers.p + p->headers.n);
    } else {
      CHECK(p->content_type.n == 0 && p->disposition.n == 0);
    }
    if (p->headers.n)
      CHECK(p->headers.p >= prev_end && p->body.p >= p->headers.p + p->headers.n);
    CHECK(p->body.p >= prev_end || p->body.n == 0);
    prev_end = p->body.p + p->body.n;
  }
  if (n < 0)
    CHECK(flags == 0 || n == SIPREC_ETOOBIG);

  sr_span v;
  if (sr_mime_param(body, len, "boundary", &v))
    check_span(v, body, body + len);
  sr_span t = sr_mime_type(body, len);
  check_span(t, body, body + len);
  (void)sr_span_ieq(t, "application/sdp");

  free(boundary);
  free(body);
  return 0;
}
