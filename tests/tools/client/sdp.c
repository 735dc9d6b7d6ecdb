/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sdp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static void copy(char *dst, size_t cap, const char *src, size_t n)
{
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* "IN IP4 ADDR" into addr and family; 0 or -1. */
static int parse_c(const char *v, size_t n, char *addr, size_t cap, int *family)
{
  char line[128];
  copy(line, sizeof line, v, n);
  char nettype[8], addrtype[8], a[64];
  if (sscanf(line, "%7s %7s %63s", nettype, addrtype, a) != 3 || strcmp(nettype, "IN") != 0)
    return -1;
  if (strcmp(addrtype, "IP4") == 0)
    *family = AF_INET;
  else if (strcmp(addrtype, "IP6") == 0)
    *family = AF_INET6;
  else
    return -1;
  /* A multicast TTL (/ttl) is not ours to use. */
  a[strcspn(a, "/")] = '\0';
  copy(addr, cap, a, strlen(a));
  return 0;
}

static int parse_m(const char *v, size_t n, cl_sdp_media *m)
{
  char line[256];
  copy(line, sizeof line, v, n);
  char *save = NULL;
  char *media = strtok_r(line, " ", &save);
  char *port = strtok_r(NULL, " ", &save);
  char *proto = strtok_r(NULL, " ", &save);
  char *fmts = strtok_r(NULL, "", &save);
  if (!media || !port || !proto)
    return -1;
  char *end;
  errno = 0;
  unsigned long p = strtoul(port, &end, 10);
  /* "PORT/COUNT" (RFC 4566) is read as its first port. */
  if (errno || end == port || (*end != '\0' && *end != '/') || p > 65535)
    return -1;
  copy(m->media, sizeof m->media, media, strlen(media));
  m->port = (unsigned)p;
  copy(m->proto, sizeof m->proto, proto, strlen(proto));
  copy(m->fmts, sizeof m->fmts, fmts ? fmts : "", fmts ? strlen(fmts) : 0);
  return 0;
}

static void parse_a(const char *v, size_t n, cl_sdp_media *m, cl_dir *dir)
{
  char line[512];
  copy(line, sizeof line, v, n);
  if (strcmp(line, "sendrecv") == 0)
    *dir = CL_DIR_SENDRECV;
  else if (strcmp(line, "sendonly") == 0)
    *dir = CL_DIR_SENDONLY;
  else if (strcmp(line, "recvonly") == 0)
    *dir = CL_DIR_RECVONLY;
  else if (strcmp(line, "inactive") == 0)
    *dir = CL_DIR_INACTIVE;
  else if (!m)
    return; /* the rest are media-level only */
  else if (strncmp(line, "crypto:", 7) == 0 && m->crypto[0] == '\0')
    copy(m->crypto, sizeof m->crypto, line + 7, strlen(line + 7));
  else if (strcmp(line, "rtcp-mux") == 0)
    m->rtcp_mux = 1;
  else if (strncmp(line, "rtcp:", 5) == 0)
    m->rtcp_port = (unsigned)strtoul(line + 5, NULL, 10) & 0xffffu;
  else if (strncmp(line, "label:", 6) == 0)
    copy(m->label, sizeof m->label, line + 6, strlen(line + 6));
}

int cl_sdp_parse(const char *text, size_t len, cl_sdp *out)
{
  memset(out, 0, sizeof *out);
  char sess_addr[64] = "";
  int sess_family = 0;
  cl_dir sess_dir = CL_DIR_SENDRECV;
  int have_v = 0, have_mdir = 0;
  cl_sdp_media *cur = NULL;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
    const char *next = eol ? eol + 1 : end;
    if (n && p[n - 1] == '\r')
      n--;
    if (n < 2 || p[1] != '=') {
      if (n != 0) {
        fprintf(stderr, "siprec-client: SDP line without type=value\n");
        return -1;
      }
      p = next;
      continue;
    }
    const char *v = p + 2;
    size_t vn = n - 2;
    switch (p[0]) {
    case 'v':
      have_v = 1;
      break;
    case 'c':
      if (parse_c(v, vn, cur ? cur->addr : sess_addr, sizeof sess_addr,
                  cur ? &cur->family : &sess_family) != 0) {
        fprintf(stderr, "siprec-client: SDP c= line not understood\n");
        return -1;
      }
      break;
    case 'm':
      if (cur && !have_mdir)
        cur->dir = sess_dir;
      if (out->n == CL_SDP_MAX_MEDIA) {
        fprintf(stderr, "siprec-client: more than %d m-lines in the SDP\n", CL_SDP_MAX_MEDIA);
        return -1;
      }
      cur = &out->m[out->n++];
      have_mdir = 0;
      if (parse_m(v, vn, cur) != 0) {
        fprintf(stderr, "siprec-client: SDP m= line not understood\n");
        return -1;
      }
      break;
    case 'a': {
      cl_dir d = (cl_dir)-1;
      parse_a(v, vn, cur, &d);
      if ((int)d != -1) {
        if (cur) {
          cur->dir = d;
          have_mdir = 1;
        } else {
          sess_dir = d;
        }
      }
      break;
    }
    default:
      break;
    }
    p = next;
  }
  if (cur && !have_mdir)
    cur->dir = sess_dir;
  if (!have_v || out->n == 0) {
    fprintf(stderr, "siprec-client: SDP without v= or without m-lines\n");
    return -1;
  }
  for (size_t i = 0; i < out->n; i++)
    if (out->m[i].family == 0) {
      if (sess_family == 0 && out->m[i].port != 0) {
        fprintf(stderr, "siprec-client: SDP m-line %zu without a c= address\n", i);
        return -1;
      }
      memcpy(out->m[i].addr, sess_addr, sizeof sess_addr);
      out->m[i].family = sess_family;
    }
  return 0;
}

int cl_sdp_has_pt(const cl_sdp_media *m, unsigned pt)
{
  char want[8];
  snprintf(want, sizeof want, "%u", pt);
  char fmts[sizeof m->fmts];
  memcpy(fmts, m->fmts, sizeof fmts);
  char *save = NULL;
  for (char *t = strtok_r(fmts, " ", &save); t; t = strtok_r(NULL, " ", &save))
    if (strcmp(t, want) == 0)
      return 1;
  return 0;
}

static const char *dir_name(cl_dir d)
{
  switch (d) {
  case CL_DIR_SENDONLY: return "sendonly";
  case CL_DIR_RECVONLY: return "recvonly";
  case CL_DIR_INACTIVE: return "inactive";
  default: return "sendrecv";
  }
}

#define PUT(...)                                                                 \
  do {                                                                           \
    int n_ = snprintf(out + o, cap - o, __VA_ARGS__);                            \
    if (n_ < 0 || (size_t)n_ >= cap - o)                                         \
      return -1;                                                                 \
    o += (size_t)n_;                                                             \
  } while (0)

int cl_sdp_write(const cl_sdp_local *l, char *out, size_t cap)
{
  size_t o = 0;
  const char *ip = l->family == AF_INET6 ? "IP6" : "IP4";
  PUT("v=0\r\no=siprec-client %llu %llu IN %s %s\r\ns=siprec-client\r\nc=IN %s %s\r\nt=0 0\r\n",
      (unsigned long long)l->sess_id, (unsigned long long)l->version, ip, l->addr, ip, l->addr);
  for (size_t i = 0; i < l->n; i++) {
    const cl_sdp_local_media *m = &l->m[i];
    if (!m->codec || m->port == 0) {
      /* RFC 3264 6: a refused line keeps its media and formats, port 0. */
      if (m->codec)
        PUT("m=audio 0 %s %u\r\n", m->crypto_key ? "RTP/SAVP" : "RTP/AVP", m->codec->pt);
      else
        PUT("m=%s 0 %s %s\r\n", m->reject_media, m->reject_proto, m->reject_fmt);
      continue;
    }
    const cl_codec *c = m->codec;
    PUT("m=audio %u %s %u\r\n", m->port, m->crypto_key ? "RTP/SAVP" : "RTP/AVP", c->pt);
    if (c->channels)
      PUT("a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->encoding, c->clock, c->channels);
    else
      PUT("a=rtpmap:%u %s/%u\r\n", c->pt, c->encoding, c->clock);
    if (c->fmtp)
      PUT("a=fmtp:%u %s\r\n", c->pt, c->fmtp);
    PUT("a=ptime:20\r\n");
    /* RFC 3605's a=rtcp names the RTCP port where it is not the next one
     * (also beside a=rtcp-mux, RFC 5761 5.1.3: the fallback). */
    if (m->rtcp_port && m->rtcp_port != m->port + 1)
      PUT("a=rtcp:%u\r\n", m->rtcp_port);
    if (m->rtcp_mux)
      PUT("a=rtcp-mux\r\n");
    if (m->crypto_key)
      PUT("a=crypto:%u AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", m->crypto_tag ? m->crypto_tag : 1,
          m->crypto_key);
    PUT("a=label:%s\r\n", m->label);
    PUT("a=%s\r\n", dir_name(m->dir));
  }
  return (int)o;
}
