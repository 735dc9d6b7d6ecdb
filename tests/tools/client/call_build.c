/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "call_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UA "siprec-client"

/* Growing text for a message. */
typedef struct buf {
  char *p;
  size_t len, cap;
  int failed;
} buf;

static void put(buf *b, const char *text, size_t n)
{
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, text, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line)
    b->failed = 1;
  else
    put(b, line, (size_t)n);
}

static char *done(buf *b, size_t *len)
{
  if (b->failed) {
    free(b->p);
    return NULL;
  }
  *len = b->len;
  return b->p;
}

static void body(buf *b, const char *content_type, const char *text, size_t n)
{
  if (content_type && n)
    putf(b, "Content-Type: %s\r\n", content_type);
  putf(b, "Content-Length: %zu\r\n\r\n", n);
  if (n)
    put(b, text, n);
}

char *cl_build_request(cl_call *c, const char *method, uint32_t cseq, const char *branch,
                       const char *extra, const char *content_type, const char *text,
                       size_t n, size_t *len)
{
  buf b = { 0 };
  int initial = c->remote_tag[0] == '\0';
  putf(&b, "%s %s SIP/2.0\r\n", method, c->remote_target);
  putf(&b, "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n", c->host,
       cl_addr_port((struct sockaddr *)&c->local), branch);
  putf(&b, "Max-Forwards: 70\r\n");
  /* In the dialog, the route set (loose routing: the Request-URI stays the
   * remote target). The datagram goes to --server all the same, the
   * first hop of every route set the tests build. */
  if (!initial)
    put(&b, c->route_set, strlen(c->route_set));
  putf(&b, "From: <%s>;tag=%s\r\n", c->from_uri, c->local_tag);
  if (initial)
    putf(&b, "To: <%s>\r\n", c->to_uri);
  else
    putf(&b, "To: <%s>;tag=%s\r\n", c->to_uri, c->remote_tag);
  putf(&b, "Call-ID: %s\r\n", c->call_id);
  putf(&b, "CSeq: %u %s\r\n", cseq, method);
  if (strcmp(method, "ACK") != 0 && strcmp(method, "CANCEL") != 0) {
    putf(&b, "Contact: <%s>;+sip.src\r\n", c->contact);
    putf(&b, "User-Agent: " UA "\r\n");
  }
  if (extra)
    put(&b, extra, strlen(extra));
  body(&b, content_type, text, n);
  return done(&b, len);
}

#define MAX_ROUTES 32

/* Split one Record-Route value at its top-level commas (not inside <> or
 * quotes) into entries, appended to e[] (at most MAX_ROUTES). -1 when
 * there are more. */
static int split_entries(const char *v, const char **e, size_t *el, size_t *n)
{
  const char *start = v;
  int angle = 0, quoted = 0;
  for (const char *p = v;; p++) {
    if (*p == '"' && !angle && (p == v || p[-1] != '\\'))
      quoted = !quoted;
    else if (*p == '<' && !quoted)
      angle = 1;
    else if (*p == '>' && !quoted)
      angle = 0;
    if (*p == '\0' || (*p == ',' && !angle && !quoted)) {
      const char *a = start, *z = p;
      while (a < z && (*a == ' ' || *a == '\t'))
        a++;
      while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
        z--;
      if (z > a) {
        if (*n == MAX_ROUTES)
          return -1;
        e[*n] = a;
        el[*n] = (size_t)(z - a);
        (*n)++;
      }
      if (*p == '\0')
        return 0;
      start = p + 1;
    }
  }
}

int cl_build_route_set(cl_call *c, const cl_sip_msg *resp)
{
  const char *e[MAX_ROUTES];
  size_t el[MAX_ROUTES], n = 0;
  c->route_set[0] = '\0';
  const char *v;
  for (size_t i = 0; (v = cl_sip_hdr(resp, "Record-Route", i)) != NULL; i++)
    if (split_entries(v, e, el, &n) != 0)
      return -1;
  size_t len = 0;
  for (size_t i = n; i-- > 0;) {
    int w = snprintf(c->route_set + len, sizeof c->route_set - len, "Route: %.*s\r\n",
                     (int)el[i], e[i]);
    if (w < 0 || (size_t)w >= sizeof c->route_set - len) {
      c->route_set[0] = '\0';
      return -1;
    }
    len += (size_t)w;
  }
  return 0;
}

char *cl_build_invite_body(cl_call *c, const char *sdp, size_t sdp_len, char *type,
                           size_t type_cap, size_t *len)
{
  char boundary[24];
  cl_rng_token(&c->rng, boundary, 16);
  snprintf(type, type_cap, "multipart/mixed;boundary=%s", boundary);
  buf b = { 0 };
  putf(&b, "--%s\r\nContent-Type: application/sdp\r\n\r\n", boundary);
  put(&b, sdp, sdp_len);
  putf(&b, "\r\n--%s\r\nContent-Type: application/rs-metadata+xml\r\n"
           "Content-Disposition: recording-session\r\n\r\n", boundary);
  put(&b, c->metadata, c->metadata_len);
  putf(&b, "\r\n--%s--\r\n", boundary);
  return done(&b, len);
}

char *cl_build_response(cl_call *c, const cl_sip_msg *req, int status, const char *reason,
                        const char *extra, const char *sdp, size_t sdp_len, size_t *len)
{
  buf b = { 0 };
  putf(&b, "SIP/2.0 %d %s\r\n", status, reason);
  const char *v;
  for (size_t i = 0; (v = cl_sip_hdr(req, "Via", i)) != NULL; i++)
    putf(&b, "Via: %s\r\n", v);
  putf(&b, "From: %s\r\n", cl_sip_hdr(req, "From", 0));
  const char *to = cl_sip_hdr(req, "To", 0);
  char tag[128];
  /* A dialog-creating answer carries our tag (RFC 3261 8.2.6.2). */
  if (cl_sip_param(to, "tag", tag, sizeof tag) || status == 100)
    putf(&b, "To: %s\r\n", to);
  else
    putf(&b, "To: %s;tag=%s\r\n", to, c->local_tag);
  putf(&b, "Call-ID: %s\r\n", cl_sip_hdr(req, "Call-ID", 0));
  putf(&b, "CSeq: %u %s\r\n", req->cseq, req->cseq_method);
  if (status >= 200 && status < 300 &&
      (strcmp(req->method, "INVITE") == 0 || strcmp(req->method, "UPDATE") == 0))
    putf(&b, "Contact: <%s>;+sip.src\r\n", c->contact);
  putf(&b, "Server: " UA "\r\n");
  if (extra)
    put(&b, extra, strlen(extra));
  body(&b, sdp ? "application/sdp" : NULL, sdp, sdp ? sdp_len : 0);
  return done(&b, len);
}

static void local_sdp(cl_call *c, cl_sdp_local *l)
{
  memset(l, 0, sizeof *l);
  l->addr = c->media_addr;
  l->family = c->local.ss_family;
  l->sess_id = c->sdp_id;
  l->version = c->sdp_version;
  l->n = c->n;
  for (size_t i = 0; i < c->n; i++) {
    cl_stream *s = &c->streams[i];
    cl_sdp_local_media *m = &l->m[i];
    m->codec = s->codec;
    m->port = s->port;
    m->rtcp_port = s->rtcp_fd >= 0 ? s->rtcp_port : 0;
    m->label = s->opt->label;
    m->crypto_key = s->srtp_on ? s->key_b64 : NULL;
    m->rtcp_mux = c->o->rtcp_mux;
  }
}

/* The text, with o='s version moved on only when the rest changed
 * (RFC 3264 8: an unchanged description keeps its version). */
static int finish(cl_call *c, cl_sdp_local *l, char *out, size_t cap)
{
  int n = cl_sdp_write(l, out, cap);
  if (n < 0)
    return -1;
  const char *body = strstr(out, "\r\ns=");
  if (c->last_sdp[0] && body && strcmp(body, c->last_sdp) != 0) {
    l->version = ++c->sdp_version;
    n = cl_sdp_write(l, out, cap);
    if (n < 0)
      return -1;
    body = strstr(out, "\r\ns=");
  }
  if (body)
    snprintf(c->last_sdp, sizeof c->last_sdp, "%s", body);
  return n;
}

int cl_build_offer(cl_call *c, int paused, char *out, size_t cap)
{
  cl_sdp_local l;
  local_sdp(c, &l);
  for (size_t i = 0; i < c->n; i++)
    l.m[i].dir = paused ? CL_DIR_INACTIVE : CL_DIR_SENDONLY;
  return finish(c, &l, out, cap);
}

/* Whether an offered a=crypto is one we can answer: AES_CM_128_HMAC_SHA1_80. */
static int crypto_ok(const char *crypto, unsigned *tag)
{
  char suite[64];
  return sscanf(crypto, "%u %63s", tag, suite) == 2 && strcmp(suite, "AES_CM_128_HMAC_SHA1_80") == 0;
}

int cl_build_answer(cl_call *c, const cl_sdp *offer, char *out, size_t cap)
{
  if (offer->n < c->n) {
    fprintf(stderr, "siprec-client: the SRS's offer has %zu m-lines, we have %zu streams\n",
            offer->n, c->n);
    return -1;
  }
  cl_sdp_local l;
  local_sdp(c, &l);
  l.n = offer->n;
  for (size_t i = 0; i < offer->n; i++) {
    const cl_sdp_media *m = &offer->m[i];
    cl_sdp_local_media *a = &l.m[i];
    if (i >= c->n) {
      /* A line the SRS added: nothing of ours to send on it. */
      memset(a, 0, sizeof *a);
      a->reject_media = m->media;
      a->reject_proto = m->proto;
      a->reject_fmt = m->fmts[0] ? m->fmts : "0";
      continue;
    }
    cl_stream *s = &c->streams[i];
    unsigned tag = 1;
    int usable = m->port != 0 && cl_sdp_has_pt(m, s->codec->pt) &&
                 (!s->srtp_on || crypto_ok(m->crypto, &tag));
    if (!usable || cl_stream_remote(s, m, c->o->rtcp_mux && m->rtcp_mux) != 0) {
      if (m->port != 0)
        fprintf(stderr, "siprec-client: stream %s: the SRS's offer cannot be taken, refused\n",
                s->opt->label);
      s->rejected = 1;
      s->have_dest = 0;
      a->port = 0;
      continue;
    }
    a->crypto_tag = tag;
    a->rtcp_mux = c->o->rtcp_mux && m->rtcp_mux;
    /* We only send: sendonly while the SRS receives and we are not paused. */
    a->dir = (c->paused || m->dir == CL_DIR_INACTIVE || m->dir == CL_DIR_SENDONLY)
                 ? CL_DIR_INACTIVE
                 : CL_DIR_SENDONLY;
  }
  return finish(c, &l, out, cap);
}
