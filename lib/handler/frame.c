/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Framing SIP messages on stream transports (RFC 3261 18.3). */
#include <string.h>
#include <strings.h>

#include "handler_internal.h"

/* The first message's length, 0 for more bytes, SIPREC_EINVAL for a broken
 * stream. */
static long frame_length(const char *p, size_t len, size_t max)
{
  /* CRLF keep-alives (RFC 5626) before a message: a frame of their own. */
  size_t k = 0;
  while (k < len && (p[k] == '\r' || p[k] == '\n'))
    k++;
  if (k)
    return (long)k;
  /* The end of the header section: CRLFCRLF, or LFLF from bare-LF senders. */
  size_t hdr_end = 0, body = 0;
  for (size_t i = 0; i + 1 < len; i++) {
    if (p[i] != '\n')
      continue;
    if (p[i + 1] == '\n') {
      hdr_end = i + 1;
      body = i + 2;
      break;
    }
    if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n') {
      hdr_end = i + 1;
      body = i + 3;
      break;
    }
  }
  if (!body)
    return len > max ? SIPREC_EINVAL : 0;
  if (body > max)
    return SIPREC_EINVAL;
  /* Content-Length (or its compact form l:) is mandatory on streams. */
  long clen = -1;
  for (size_t i = 0; i < hdr_end;) {
    const char *nl = memchr(p + i, '\n', hdr_end - i);
    size_t le = nl ? (size_t)(nl - p) : hdr_end;
    const char *line = p + i;
    size_t n = le - i;
    const char *v = NULL;
    if (n > 15 && strncasecmp(line, "Content-Length", 14) == 0)
      v = line + 14;
    else if (n > 2 && (line[0] == 'l' || line[0] == 'L') && (line[1] == ':' || line[1] == ' ' || line[1] == '\t'))
      v = line + 1;
    if (v) {
      while (v < line + n && (*v == ' ' || *v == '\t'))
        v++;
      if (v < line + n && *v == ':') {
        v++;
        while (v < line + n && (*v == ' ' || *v == '\t'))
          v++;
        long c = 0;
        int digits = 0;
        while (v < line + n && *v >= '0' && *v <= '9' && c < (long)max + 1) {
          c = c * 10 + (*v++ - '0');
          digits++;
        }
        while (v < line + n && (*v == ' ' || *v == '\t' || *v == '\r'))
          v++;
        if (!digits || v != line + n || (clen >= 0 && clen != c))
          return SIPREC_EINVAL;
        clen = c;
      }
    }
    i = le + 1;
  }
  if (clen < 0 || body + (size_t)clen > max)
    return SIPREC_EINVAL;
  if (len < body + (size_t)clen)
    return 0;
  return (long)(body + (size_t)clen);
}

SIPREC_API int siprec_handler_frame(const void *data, size_t len, size_t max, size_t *msg_len)
{
  if ((!data && len) || !msg_len)
    return SIPREC_EINVAL;
  *msg_len = 0;
  long n = frame_length(data, len, max);
  if (n < 0)
    return SIPREC_EPARSE;
  *msg_len = (size_t)n;
  return n > 0;
}
