/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sipmsg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 3261 7.3.3's compact forms the client may meet. */
static const char *const compact[][2] = {
  { "v", "Via" }, { "f", "From" }, { "t", "To" }, { "i", "Call-ID" }, { "m", "Contact" },
  { "c", "Content-Type" }, { "l", "Content-Length" }, { "k", "Supported" }, { "x", "Session-Expires" },
};

static const char *long_name(const char *name)
{
  for (size_t i = 0; i < sizeof compact / sizeof compact[0]; i++)
    if (strcasecmp(name, compact[i][0]) == 0)
      return compact[i][1];
  return name;
}

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static int parse_start(cl_sip_msg *m, char *line)
{
  if (strncmp(line, "SIP/2.0 ", 8) == 0) {
    char *end;
    errno = 0;
    long st = strtol(line + 8, &end, 10);
    if (errno || st < 100 || st > 699 || (*end != ' ' && *end != '\0'))
      return -1;
    m->status = (int)st;
    return 0;
  }
  char *sp1 = strchr(line, ' ');
  char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (!sp1 || !sp2 || strcmp(sp2 + 1, "SIP/2.0") != 0)
    return -1;
  size_t ml = (size_t)(sp1 - line), ul = (size_t)(sp2 - sp1 - 1);
  if (ml == 0 || ml >= sizeof m->method || ul == 0 || ul >= sizeof m->ruri)
    return -1;
  for (size_t i = 0; i < ml; i++)
    if (!isupper((unsigned char)line[i]) && line[i] != '-')
      return -1;
  memcpy(m->method, line, ml);
  m->method[ml] = '\0';
  memcpy(m->ruri, sp1 + 1, ul);
  m->ruri[ul] = '\0';
  m->is_request = 1;
  return 0;
}

static int parse_cseq(cl_sip_msg *m)
{
  const char *v = cl_sip_hdr(m, "CSeq", 0);
  if (!v)
    return -1;
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (errno || end == v || n > 0x7fffffffUL || (*end != ' ' && *end != '\t'))
    return -1;
  while (*end == ' ' || *end == '\t')
    end++;
  size_t ml = strcspn(end, " \t");
  if (ml == 0 || ml >= sizeof m->cseq_method || end[ml] != '\0')
    return -1;
  m->cseq = (uint32_t)n;
  memcpy(m->cseq_method, end, ml);
  m->cseq_method[ml] = '\0';
  return 0;
}

int cl_sip_parse(cl_sip_msg *m, const char *data, size_t len)
{
  m->is_request = 0;
  m->status = 0;
  m->n_hdrs = 0;
  m->body = NULL;
  m->body_len = 0;
  m->method[0] = m->ruri[0] = '\0';
  if (len == 0 || len > CL_SIP_MAX)
    return -1;
  memcpy(m->buf, data, len);
  m->buf[len] = '\0';
  if (memchr(m->buf, '\0', len))
    return -1; /* NUL in a message: not SIP we will read */
  /* The header block ends at the first empty line (CRLF CRLF, or bare LFs). */
  char *hend = strstr(m->buf, "\r\n\r\n");
  char *lfend = strstr(m->buf, "\n\n");
  size_t sep;
  if (hend && (!lfend || hend < lfend)) {
    sep = 4;
  } else if (lfend) {
    hend = lfend;
    sep = 2;
  } else {
    return -1;
  }
  char *body = hend + sep;
  hend[sep == 4 ? 2 : 1] = '\0'; /* keep the last header's line end */
  /* Unfold continuation lines (RFC 3261 7.3.1) in place. */
  for (char *p = m->buf; *p; p++)
    if (*p == '\n' && (p[1] == ' ' || p[1] == '\t')) {
      *p = ' ';
      if (p > m->buf && p[-1] == '\r')
        p[-1] = ' ';
    }
  char *save = NULL;
  char *line = strtok_r(m->buf, "\n", &save);
  if (!line || parse_start(m, trim(line)) != 0)
    return -1;
  while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
    char *colon = strchr(line, ':');
    if (!colon)
      return -1;
    *colon = '\0';
    char *name = trim(line);
    if (*name == '\0' || strpbrk(name, " \t"))
      return -1;
    if (m->n_hdrs == CL_SIP_MAX_HDRS)
      return -1;
    m->hdrs[m->n_hdrs].name = name;
    m->hdrs[m->n_hdrs].value = trim(colon + 1);
    m->n_hdrs++;
  }
  size_t rest = len - (size_t)(body - m->buf);
  const char *cl = cl_sip_hdr(m, "Content-Length", 0);
  if (cl) {
    char *end;
    errno = 0;
    unsigned long n = strtoul(cl, &end, 10);
    if (errno || end == cl || *end != '\0' || n > rest)
      return -1; /* a truncated datagram */
    rest = n;
  }
  m->body = body;
  m->body_len = rest;
  if (!cl_sip_hdr(m, "Call-ID", 0) || !cl_sip_hdr(m, "From", 0) || !cl_sip_hdr(m, "To", 0) ||
      !cl_sip_hdr(m, "Via", 0) || parse_cseq(m) != 0)
    return -1;
  return 0;
}

const char *cl_sip_hdr(const cl_sip_msg *m, const char *name, size_t n)
{
  for (size_t i = 0; i < m->n_hdrs; i++)
    if (strcasecmp(long_name(m->hdrs[i].name), name) == 0 && n-- == 0)
      return m->hdrs[i].value;
  return NULL;
}

int cl_sip_param(const char *value, const char *param, char *out, size_t cap)
{
  const char *p = value;
  const char *gt = strchr(value, '<') ? strchr(value, '>') : NULL;
  if (gt)
    p = gt + 1;
  size_t pl = strlen(param);
  while ((p = strchr(p, ';')) != NULL) {
    p++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncasecmp(p, param, pl) == 0 && (p[pl] == '=' || p[pl] == ';' || p[pl] == '\0' ||
                                           p[pl] == ' ' || p[pl] == ',')) {
      const char *v = p + pl;
      size_t vl = 0;
      if (*v == '=') {
        v++;
        vl = strcspn(v, ";, \t");
      }
      if (vl >= cap)
        return 0;
      memcpy(out, v, vl);
      out[vl] = '\0';
      return 1;
    }
  }
  return 0;
}

int cl_sip_uri(const char *value, char *out, size_t cap)
{
  const char *lt = strchr(value, '<');
  const char *start, *end;
  if (lt) {
    start = lt + 1;
    end = strchr(start, '>');
    if (!end)
      return -1;
  } else {
    start = value;
    end = start + strcspn(start, "; \t,");
  }
  size_t n = (size_t)(end - start);
  if (n == 0 || n >= cap)
    return -1;
  memcpy(out, start, n);
  out[n] = '\0';
  return 0;
}

static int type_is(const char *ct, size_t ct_len, const char *type)
{
  while (ct_len && (*ct == ' ' || *ct == '\t'))
    ct++, ct_len--;
  size_t tl = strlen(type);
  if (ct_len < tl || strncasecmp(ct, type, tl) != 0)
    return 0;
  return ct_len == tl || ct[tl] == ';' || ct[tl] == ' ' || ct[tl] == '\t' || ct[tl] == '\r';
}

int cl_sip_body_is(const cl_sip_msg *m, const char *type)
{
  const char *ct = cl_sip_hdr(m, "Content-Type", 0);
  return ct && m->body_len > 0 && type_is(ct, strlen(ct), type);
}

/* memmem on a bounded body. */
static const char *find(const char *hay, size_t n, const char *needle)
{
  size_t k = strlen(needle);
  for (size_t i = 0; k <= n && i <= n - k; i++)
    if (memcmp(hay + i, needle, k) == 0)
      return hay + i;
  return NULL;
}

const char *cl_sip_sdp(const cl_sip_msg *m, size_t *len)
{
  if (cl_sip_body_is(m, "application/sdp")) {
    *len = m->body_len;
    return m->body;
  }
  if (!cl_sip_body_is(m, "multipart/mixed"))
    return NULL;
  char boundary[128], delim[136];
  const char *ct = cl_sip_hdr(m, "Content-Type", 0);
  if (!cl_sip_param(ct, "boundary", boundary, sizeof boundary) || boundary[0] == '\0')
    return NULL;
  /* A quoted boundary loses its quotes. */
  size_t bl = strlen(boundary);
  if (bl >= 2 && boundary[0] == '"' && boundary[bl - 1] == '"') {
    memmove(boundary, boundary + 1, bl - 2);
    boundary[bl - 2] = '\0';
  }
  snprintf(delim, sizeof delim, "--%s", boundary);
  const char *p = m->body, *end = m->body + m->body_len;
  while ((p = find(p, (size_t)(end - p), delim)) != NULL) {
    p += strlen(delim);
    if (end - p >= 2 && p[0] == '-' && p[1] == '-')
      return NULL; /* the closing delimiter */
    const char *hdr_end = find(p, (size_t)(end - p), "\r\n\r\n");
    if (!hdr_end)
      return NULL;
    const char *next = find(hdr_end, (size_t)(end - hdr_end), delim);
    const char *part_end = next ? next : end;
    /* The part's own headers: its Content-Type line. */
    const char *h = p;
    int is_sdp = 0;
    while (h < hdr_end) {
      const char *eol = find(h, (size_t)(hdr_end + 2 - h), "\r\n");
      if (!eol)
        break;
      if ((size_t)(eol - h) > 13 && strncasecmp(h, "Content-Type:", 13) == 0)
        is_sdp = type_is(h + 13, (size_t)(eol - h - 13), "application/sdp");
      h = eol + 2;
    }
    if (is_sdp) {
      const char *b = hdr_end + 4;
      /* The CRLF before the next delimiter belongs to the delimiter. */
      size_t n = (size_t)(part_end - b);
      if (next && n >= 2 && b[n - 2] == '\r' && b[n - 1] == '\n')
        n -= 2;
      *len = n;
      return b;
    }
    p = part_end;
  }
  return NULL;
}
