/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hostport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int parse_hostport(const char *text, uint16_t default_port, struct sockaddr_storage *out)
{
  char host[64];
  const char *port = NULL;
  size_t hl;
  if (text[0] == '[') {
    const char *e = strchr(text, ']');
    if (!e || (e[1] != '\0' && e[1] != ':'))
      return -1;
    hl = (size_t)(e - text - 1);
    text++;
    if (e[1] == ':')
      port = e + 2;
  } else {
    const char *c = strrchr(text, ':');
    /* More than one colon without brackets is a bare IPv6 address. */
    if (c && strchr(text, ':') == c) {
      hl = (size_t)(c - text);
      port = c + 1;
    } else {
      hl = strlen(text);
    }
  }
  if (hl == 0 || hl >= sizeof host)
    return -1;
  memcpy(host, text, hl);
  host[hl] = '\0';
  long p = default_port;
  if (port) {
    char *end;
    errno = 0;
    p = strtol(port, &end, 10);
    if (errno || *port == '\0' || *end != '\0' || p < 0 || p > 65535)
      return -1;
  }
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)p);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)p);
    return 0;
  }
  return -1;
}
