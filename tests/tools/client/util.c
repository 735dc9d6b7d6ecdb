/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cl_rng_for(cl_rng *r, uint64_t seed, const char *purpose, unsigned index)
{
  /* FNV-1a over the purpose, mixed with the seed and index: sequences for
   * different purposes start far apart. */
  uint64_t h = 1469598103934665603ULL;
  for (const char *p = purpose; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211ULL;
  r->s = seed ^ h ^ ((uint64_t)index * 0x9e3779b97f4a7c15ULL);
  (void)cl_rng_next(r);
}

uint64_t cl_rng_next(cl_rng *r)
{
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint32_t cl_rng_u32(cl_rng *r)
{
  return (uint32_t)(cl_rng_next(r) >> 32);
}

void cl_rng_bytes(cl_rng *r, uint8_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)(cl_rng_next(r) >> 56);
}

int cl_rng_pct(cl_rng *r, double pct)
{
  if (pct <= 0)
    return 0;
  /* 53 random bits as a double in [0, 100). */
  double x = (double)(cl_rng_next(r) >> 11) / 9007199254740992.0 * 100.0;
  return x < pct;
}

void cl_rng_token(cl_rng *r, char *out, size_t n)
{
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (size_t i = 0; i < n; i++)
    out[i] = alphabet[cl_rng_next(r) % 36];
  out[n] = '\0';
}

int cl_xml_escape(char *out, size_t cap, const char *text)
{
  size_t o = strlen(out);
  for (const char *p = text; *p; p++) {
    const char *rep = NULL;
    switch (*p) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&apos;"; break;
    default: break;
    }
    size_t n = rep ? strlen(rep) : 1;
    if (o + n >= cap)
      return -1;
    if (rep)
      memcpy(out + o, rep, n);
    else
      out[o] = *p;
    o += n;
  }
  out[o] = '\0';
  return 0;
}

const char *cl_addr_host(const struct sockaddr *sa, char *out, size_t cap)
{
  const void *a = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                            : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
  if (!inet_ntop(sa->sa_family, a, out, (socklen_t)cap))
    snprintf(out, cap, "?");
  return out;
}

uint16_t cl_addr_port(const struct sockaddr *sa)
{
  return ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
                                         : ((const struct sockaddr_in *)sa)->sin_port);
}

void cl_addr_set_port(struct sockaddr_storage *sa, uint16_t port)
{
  if (sa->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
  else
    ((struct sockaddr_in *)sa)->sin_port = htons(port);
}

socklen_t cl_addr_len(const struct sockaddr *sa)
{
  return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

const char *cl_addr_uri_host(const struct sockaddr *sa, char *out, size_t cap)
{
  char h[INET6_ADDRSTRLEN];
  cl_addr_host(sa, h, sizeof h);
  snprintf(out, cap, sa->sa_family == AF_INET6 ? "[%s]" : "%s", h);
  return out;
}

const char *cl_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
  char h[INET6_ADDRSTRLEN + 2];
  cl_addr_uri_host(sa, h, sizeof h);
  snprintf(out, cap, "%s:%u", h, cl_addr_port(sa));
  return out;
}

int64_t cl_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
