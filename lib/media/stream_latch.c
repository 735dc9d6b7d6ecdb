/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Source latching: nobody but the SRC (or the NAT in front of it) injects
 * audio into a recording, and once its first packet is seen, nobody but
 * that address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "stream_impl.h"

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void set_v4(sr_ms_addr *out, const uint8_t ip[4])
{
  out->family = 4;
  memcpy(out->ip, ip, 4);
}

static void set_v6(sr_ms_addr *out, const uint8_t ip[16])
{
  if (memcmp(ip, v4_mapped, sizeof v4_mapped) == 0) {
    set_v4(out, ip + 12);
    return;
  }
  out->family = 6;
  memcpy(out->ip, ip, 16);
}

static bool unspecified(const sr_ms_addr *a)
{
  static const uint8_t zero[16];
  return memcmp(a->ip, zero, a->family == 4 ? 4 : 16) == 0;
}

/* An SDP address: IPv4 or IPv6 text. A host name, garbage or the
 * unspecified address (c=0.0.0.0, an old-style hold) is no candidate. */
void sr_ms_addr_parse(const char *text, sr_ms_addr *out)
{
  *out = (sr_ms_addr){ 0 };
  uint8_t buf[16];
  if (!text)
    return;
  if (inet_pton(AF_INET, text, buf) == 1)
    set_v4(out, buf);
  else if (inet_pton(AF_INET6, text, buf) == 1)
    set_v6(out, buf);
  if (out->family && unspecified(out))
    *out = (sr_ms_addr){ 0 };
}

void sr_ms_addr_from(const struct sockaddr *sa, sr_ms_addr *out)
{
  *out = (sr_ms_addr){ 0 };
  if (!sa)
    return;
  if (sa->sa_family == AF_INET) {
    struct sockaddr_in in;
    memcpy(&in, sa, sizeof in);
    set_v4(out, (const uint8_t *)&in.sin_addr);
    out->port = ntohs(in.sin_port);
  } else if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 in6;
    memcpy(&in6, sa, sizeof in6);
    set_v6(out, (const uint8_t *)&in6.sin6_addr);
    out->port = ntohs(in6.sin6_port);
  }
}

/* All 16 octets whatever the family: an IPv4 address's last 12 are zero
 * (every sr_ms_addr starts zeroed), and a comparison of a fixed size is a
 * few inline instructions where one of a variable size calls memcmp on
 * every datagram. */
bool sr_ms_same_ip(const sr_ms_addr *a, const sr_ms_addr *b)
{
  return a->family && a->family == b->family && memcmp(a->ip, b->ip, sizeof a->ip) == 0;
}

/* Before latching: the c= address, else the signalling one, else (neither
 * given) anyone. */
static bool candidate(const sr_media_stream *s, const sr_ms_addr *from)
{
  if (!s->expected.family && !s->signalling.family)
    return true;
  return sr_ms_same_ip(&s->expected, from) || sr_ms_same_ip(&s->signalling, from);
}

bool sr_ms_latch_check(const sr_media_stream *s, const sr_ms_addr *from, bool rtp)
{
  if (!from->family)
    return false;
  if (s->latched)
    return sr_ms_same_ip(&s->latch, from) && (!rtp || s->latch.port == from->port);
  return candidate(s, from);
}

void sr_ms_latch(sr_media_stream *s, const sr_ms_addr *from)
{
  if (s->latched)
    return;
  s->latch = *from;
  s->latched = true;
}
