/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "loadgen_sip.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------- */
/* Writing                                                                  */

/* An output buffer that remembers overflow, so a writer checks once. */
typedef struct out {
  char *p;
  size_t cap, len;
  int full;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
  if (o->full)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= o->cap - o->len)
    o->full = 1;
  else
    o->len += (size_t)n;
}

#define BOUNDARY "lg-boundary-7f3a"

/* The multipart body: the SDP offer (one sendonly PCMU m-line per stream,
 * labels 1 and 2) and metadata naming a caller and a callee, each sending
 * one stream, as an SBC's two-stream recording does. */
static void put_body(out *b, const lg_offer *o)
{
  put(b, "--" BOUNDARY "\r\nContent-Type: application/sdp\r\n\r\n");
  put(b, "v=0\r\no=- %u 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", o->call + 1,
      o->local_ip, o->local_ip);
  for (int s = 0; s < LG_MAX_STREAMS; s++) {
    put(b, "m=audio %u %s 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n", o->media_port[s],
        o->crypto[s] ? "RTP/SAVP" : "RTP/AVP");
    if (o->crypto[s])
      put(b, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", o->crypto[s]);
    put(b, "a=label:%d\r\na=sendonly\r\n", s + 1);
  }
  put(b, "\r\n--" BOUNDARY "\r\nContent-Type: application/rs-metadata+xml\r\n"
         "Content-Disposition: recording-session\r\n\r\n");
  unsigned c = o->call;
  put(b,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
      "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">"
      "<datamode>complete</datamode>"
      "<session session_id=\"lgc%u\"/>"
      "<participant participant_id=\"lga%u\"><nameID aor=\"sip:caller%u@example.com\"/>"
      "</participant>"
      "<participant participant_id=\"lgb%u\"><nameID aor=\"sip:callee%u@example.com\"/>"
      "</participant>"
      "<stream stream_id=\"lgs1x%u\" session_id=\"lgc%u\"><label>1</label></stream>"
      "<stream stream_id=\"lgs2x%u\" session_id=\"lgc%u\"><label>2</label></stream>"
      "<participantstreamassoc participant_id=\"lga%u\"><send>lgs1x%u</send>"
      "<recv>lgs2x%u</recv></participantstreamassoc>"
      "<participantstreamassoc participant_id=\"lgb%u\"><send>lgs2x%u</send>"
      "<recv>lgs1x%u</recv></participantstreamassoc>"
      "</recording>\r\n",
      c, c, c, c, c, c, c, c, c, c, c, c, c, c, c);
  put(b, "--" BOUNDARY "--\r\n");
}

static void put_common(out *h, const lg_offer *o, const char *method, unsigned long cseq,
                       const char *branch)
{
  put(h, "%s sip:srs@%s SIP/2.0\r\n", method, o->server);
  put(h, "Via: SIP/2.0/UDP %s:%u;branch=%s\r\n", o->local_ip, o->sip_port, branch);
  put(h, "Max-Forwards: 70\r\n");
  put(h, "From: <sip:src@%s>;tag=lgt%u\r\n", o->local_ip, o->call);
  put(h, "Call-ID: lg-%d-%u@%s\r\n", o->pid, o->call, o->local_ip);
  put(h, "CSeq: %lu %s\r\n", cseq, method);
}

size_t lg_sip_invite(char *buf, size_t cap, const lg_offer *o, const char *branch)
{
  char body[4096];
  out b = { body, sizeof body, 0, 0 };
  put_body(&b, o);
  if (b.full)
    return 0;
  out h = { buf, cap, 0, 0 };
  put_common(&h, o, "INVITE", 1, branch);
  put(&h, "To: <sip:srs@%s>\r\n", o->server);
  put(&h, "Contact: <sip:src@%s:%u>;+sip.src\r\n", o->local_ip, o->sip_port);
  put(&h, "Require: siprec\r\n");
  put(&h, "Accept: application/sdp, application/rs-metadata+xml\r\n");
  put(&h, "User-Agent: libsiprec-loadgen\r\n");
  put(&h, "Content-Type: multipart/mixed;boundary=" BOUNDARY "\r\n");
  put(&h, "Content-Length: %zu\r\n\r\n", b.len);
  if (h.full || h.cap - h.len < b.len)
    return 0;
  memcpy(buf + h.len, body, b.len);
  return h.len + b.len;
}

size_t lg_sip_in_dialog(char *buf, size_t cap, const lg_offer *o, const char *method,
                        unsigned long cseq, const char *branch, const lg_span *to)
{
  out h = { buf, cap, 0, 0 };
  put_common(&h, o, method, cseq, branch);
  put(&h, "To: %.*s\r\n", (int)to->n, to->p);
  put(&h, "Content-Length: 0\r\n\r\n");
  return h.full ? 0 : h.len;
}

size_t lg_sip_response(char *buf, size_t cap, const lg_sip_msg *req, int status,
                       const char *reason)
{
  out h = { buf, cap, 0, 0 };
  put(&h, "SIP/2.0 %d %s\r\n", status, reason);
  for (int i = 0; i < req->nvia; i++)
    put(&h, "Via: %.*s\r\n", (int)req->via[i].n, req->via[i].p);
  put(&h, "From: %.*s\r\n", (int)req->from.n, req->from.p);
  put(&h, "To: %.*s\r\n", (int)req->to.n, req->to.p);
  put(&h, "Call-ID: %.*s\r\n", (int)req->call_id.n, req->call_id.p);
  put(&h, "CSeq: %lu %.*s\r\n", req->cseq, (int)req->cseq_method.n, req->cseq_method.p);
  put(&h, "Content-Length: 0\r\n\r\n");
  return h.full ? 0 : h.len;
}

void lg_base64(const uint8_t *in, size_t n, char *o)
{
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *o++ = a[v >> 18];
    *o++ = a[(v >> 12) & 63];
    *o++ = a[(v >> 6) & 63];
    *o++ = a[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
    *o++ = a[v >> 18];
    *o++ = a[(v >> 12) & 63];
    *o++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
  *o = '\0';
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                  */

/* The next line of [p, end): its span without the line end; *next after it.
 * 0 at the end of the buffer. */
static int next_line(const char **p, const char *end, lg_span *line)
{
  if (*p >= end)
    return 0;
  const char *s = *p, *e = memchr(s, '\n', (size_t)(end - s));
  const char *stop = e ? e : end;
  *p = e ? e + 1 : end;
  if (stop > s && stop[-1] == '\r')
    stop--;
  line->p = s;
  line->n = (size_t)(stop - s);
  return 1;
}

static lg_span trim(const char *p, size_t n)
{
  while (n && (*p == ' ' || *p == '\t'))
    p++, n--;
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
    n--;
  lg_span s = { p, n };
  return s;
}

static int name_is(const lg_span *name, const char *full, const char *compact)
{
  return (name->n == strlen(full) && !strncasecmp(name->p, full, name->n)) ||
         (compact && name->n == 1 && (name->p[0] | 0x20) == compact[0]);
}

/* A decimal number at the start of `s` (at most `max`); -1 when none. */
static long number(lg_span s, long max, size_t *used)
{
  long v = 0;
  size_t i = 0;
  while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && i < 10)
    v = v * 10 + (s.p[i++] - '0');
  if (used)
    *used = i;
  return i == 0 || v > max ? -1 : v;
}

static int parse_first_line(const lg_span *l, lg_sip_msg *m)
{
  if (l->n >= 12 && !strncmp(l->p, "SIP/2.0 ", 8)) {
    lg_span code = { l->p + 8, 3 };
    long st = number(code, 699, NULL);
    if (st < 100)
      return -1;
    m->status = (int)st;
    return 0;
  }
  const char *sp = memchr(l->p, ' ', l->n);
  if (!sp || sp == l->p || l->n < 8 || strncmp(l->p + l->n - 8, " SIP/2.0", 8))
    return -1;
  m->method.p = l->p;
  m->method.n = (size_t)(sp - l->p);
  return 0;
}

static int parse_cseq(lg_span v, lg_sip_msg *m)
{
  size_t used;
  long n = number(v, 2147483647L, &used);
  if (n < 0)
    return -1;
  m->cseq = (unsigned long)n;
  m->cseq_method = trim(v.p + used, v.n - used);
  return m->cseq_method.n ? 0 : -1;
}

int lg_sip_parse(const char *buf, size_t len, lg_sip_msg *m)
{
  memset(m, 0, sizeof *m);
  const char *p = buf, *end = buf + len;
  lg_span line;
  if (!next_line(&p, end, &line) || parse_first_line(&line, m) < 0)
    return -1;
  long clen = -1;
  int blank = 0;
  while (next_line(&p, end, &line)) {
    if (line.n == 0) {
      blank = 1;
      break;
    }
    const char *colon = memchr(line.p, ':', line.n);
    if (!colon)
      return -1;
    lg_span name = trim(line.p, (size_t)(colon - line.p));
    lg_span v = trim(colon + 1, line.n - (size_t)(colon + 1 - line.p));
    if (name_is(&name, "Call-ID", "i"))
      m->call_id = v;
    else if (name_is(&name, "From", "f"))
      m->from = v;
    else if (name_is(&name, "To", "t"))
      m->to = v;
    else if (name_is(&name, "Via", "v")) {
      if (m->nvia == LG_SIP_MAX_VIA)
        return -1;
      m->via[m->nvia++] = v;
    } else if (name_is(&name, "CSeq", NULL)) {
      if (parse_cseq(v, m) < 0)
        return -1;
    } else if (name_is(&name, "Content-Length", "l")) {
      if ((clen = number(v, 1 << 20, NULL)) < 0)
        return -1;
    }
  }
  if (!blank || !m->call_id.n || !m->from.n || !m->to.n || !m->nvia || !m->cseq_method.n)
    return -1;
  size_t left = (size_t)(end - p);
  if (clen > (long)left)
    return -1; /* truncated */
  m->body.p = p;
  m->body.n = clen >= 0 ? (size_t)clen : left;
  return 0;
}

long lg_sip_call_of(const lg_span *call_id, int pid)
{
  char want[32];
  int n = snprintf(want, sizeof want, "lg-%d-", pid);
  if (n < 0 || call_id->n <= (size_t)n || strncmp(call_id->p, want, (size_t)n))
    return -1;
  lg_span rest = { call_id->p + n, call_id->n - (size_t)n };
  size_t used;
  long c = number(rest, 100000000L, &used);
  if (c < 0 || used >= rest.n || rest.p[used] != '@')
    return -1;
  return c;
}

/* "IN IP4 a.b.c.d" into *addr. */
static int parse_c(lg_span v, struct in_addr *addr)
{
  char text[INET_ADDRSTRLEN];
  if (v.n < 8 || strncmp(v.p, "IN IP4 ", 7))
    return -1;
  lg_span a = trim(v.p + 7, v.n - 7);
  if (a.n >= sizeof text)
    return -1;
  memcpy(text, a.p, a.n);
  text[a.n] = '\0';
  /* A multicast TTL suffix ("/127") is not for us: refused by inet_pton. */
  return inet_pton(AF_INET, text, addr) == 1 ? 0 : -1;
}

int lg_sdp_answer(const lg_span *body, lg_answer *a)
{
  memset(a, 0, sizeof *a);
  struct in_addr session_c = { 0 };
  int have_session_c = 0, have_media_c[LG_MAX_STREAMS] = { 0 }, m = -1, seen = 0;
  const char *p = body->p, *end = body->p + body->n;
  lg_span line;
  while (next_line(&p, end, &line)) {
    if (line.n < 2 || line.p[1] != '=')
      continue;
    lg_span v = { line.p + 2, line.n - 2 };
    if (line.p[0] == 'm') {
      seen++;
      if (++m >= LG_MAX_STREAMS)
        continue; /* more m-lines than offered: not ours to send to */
      a->nstreams = m + 1;
      a->dest[m].sin_family = AF_INET;
      if (v.n > 6 && !strncmp(v.p, "audio ", 6)) {
        lg_span port = { v.p + 6, v.n - 6 };
        long pn = number(port, 65535, NULL);
        if (pn < 0)
          return -1;
        a->dest[m].sin_port = htons((uint16_t)pn);
      } /* another media type stays at port 0: declined for us */
    } else if (line.p[0] == 'c') {
      struct in_addr addr;
      if (parse_c(v, &addr) < 0)
        return -1;
      if (m < 0) {
        session_c = addr;
        have_session_c = 1;
      } else if (m < LG_MAX_STREAMS) {
        a->dest[m].sin_addr = addr;
        have_media_c[m] = 1;
      }
    }
  }
  if (seen == 0)
    return -1;
  for (int i = 0; i < a->nstreams; i++) {
    if (!have_media_c[i]) {
      if (!have_session_c && a->dest[i].sin_port)
        return -1;
      a->dest[i].sin_addr = session_c;
    }
  }
  return 0;
}
