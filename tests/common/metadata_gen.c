/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "metadata_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
  char *p;
  size_t n, cap;
  int failed;
} buf;

static void put_n(buf *b, const char *tmp, int k)
{
  if (b->failed || k < 0)
    return;
  if (b->n + (size_t)k + 1 > b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 4096;
    while (cap < b->n + (size_t)k + 1)
      cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
      b->failed = 1;
      return;
    }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, tmp, (size_t)k);
  b->n += (size_t)k;
  b->p[b->n] = '\0';
}

static void put(buf *b, const char *s)
{
  put_n(b, s, (int)strlen(s));
}

char *metadata_gen(size_t first, size_t n, int partial, size_t *len)
{
  buf b = { 0 };
  char tmp[512];
  put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\n");
  put(&b, partial ? "<datamode>partial</datamode>\n" : "<datamode>complete</datamode>\n");
  if (!partial)
    put(&b, "<session session_id=\"s0\"><sipSessionID>ab30317f1a784dc48ff824d0d3715d86;"
            "remote=47755a9de7794ba387653f2099600ef2</sipSessionID></session>\n"
            "<stream stream_id=\"st0\" session_id=\"s0\"><label>1</label></stream>\n");
  for (size_t i = first; i < first + n; i++)
    put_n(&b, tmp,
          snprintf(tmp, sizeof tmp,
                   "<participant participant_id=\"p%zu\"><nameID aor=\"sip:user%zu@example.com\">"
                   "<name xml:lang=\"en\">User %zu</name></nameID></participant>\n"
                   "<participantsessionassoc participant_id=\"p%zu\" session_id=\"s0\">"
                   "<associate-time>2024-05-14T09:40:00Z</associate-time>"
                   "</participantsessionassoc>\n",
                   i, i, i, i));
  if (!partial && n)
    put_n(&b, tmp, snprintf(tmp, sizeof tmp, "<participantstreamassoc participant_id=\"p%zu\">"
                            "<send>st0</send></participantstreamassoc>\n", first));
  put(&b, "</recording>\n");
  if (b.failed) {
    free(b.p);
    return NULL;
  }
  *len = b.n;
  return b.p;
}
