/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A dialog of the SRS as the UAS: its identity, matching, and the requests
 * the SRS writes inside it. */
#include "dialog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "response.h"

int sr_sip_str_set(const siprec_allocator *mem, char **dst, const char *p, size_t n)
{
  char *c = sr_malloc(mem, n + 1);
  if (!c)
    return SIPREC_ENOMEM;
  if (n)
    memcpy(c, p, n);
  c[n] = '\0';
  sr_free(mem, *dst);
  *dst = c;
  return 0;
}

void sr_sip_str_drop(const siprec_allocator *mem, char **dst)
{
  sr_free(mem, *dst);
  *dst = NULL;
}

void sr_dialog_release(sr_dialog *d, const siprec_allocator *mem)
{
  char **strs[] = { &d->call_id,     &d->remote_tag, &d->remote_target,
                    &d->route_set,   &d->remote_from, &d->local_to };
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    sr_sip_str_drop(mem, strs[i]);
}

/* The bytes of `sa` an sr_sockaddr keeps: an IPv6 address's, else an IPv4
 * one's (the handler lets no other family in). */
static size_t sockaddr_len(const struct sockaddr *sa)
{
  return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

void sr_dialog_set_source(sr_dialog *d, const siprec_path *path)
{
  memcpy(&d->remote, path->remote, sockaddr_len(path->remote));
  d->transport = path->transport;
  d->conn_id = path->conn_id;
}

siprec_path sr_dialog_path(const sr_dialog *d)
{
  siprec_path p = { d->transport, &d->local.sa, &d->remote.sa, d->conn_id };
  return p;
}

/* The route set, as Route lines in Record-Route order (RFC 3261 12.1.1). */
static int set_route_set(sr_dialog *d, const siprec_allocator *mem, sr_span record_route)
{
  char routes[2048];
  sr_strbuf rb = sr_strbuf_on(routes, sizeof routes);
  const char *p = record_route.p, *end = p + record_route.n;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl + 1 : end;
    const char *colon = memchr(p, ':', (size_t)(le - p));
    if (colon) {
      sr_strbuf_str(&rb, "Route:");
      sr_strbuf_add(&rb, colon + 1, (size_t)(le - colon - 1));
    }
    p = le;
  }
  return sr_sip_str_set(mem, &d->route_set, routes, rb.overflow ? 0 : rb.len);
}

int sr_dialog_init_uas(sr_dialog *d, const siprec_allocator *mem, const sr_sip_msg *m,
                       const siprec_path *path, const char local_tag[SR_TAG_LEN + 1])
{
  sr_dialog_set_source(d, path);
  memcpy(&d->local, path->local, sockaddr_len(path->local));
  d->remote_cseq = m->cseq;
  d->local_cseq = 0;
  memcpy(d->local_tag, local_tag, SR_TAG_LEN + 1);
  int rc = 0;
  rc |= sr_sip_str_set(mem, &d->remote_tag, m->from_tag.p, m->from_tag.n);
  rc |= sr_sip_str_set(mem, &d->remote_target, m->contact_uri.p, m->contact_uri.n);
  /* Our requests' To is the SRC's From; their From is our To with our tag. */
  rc |= sr_sip_str_set(mem, &d->remote_from, m->echo_from.p + 6, m->echo_from.n - 8);
  char to[1024];
  int n = snprintf(to, sizeof to, "%.*s;tag=%s", (int)(m->echo_to.n - 4), m->echo_to.p + 4,
                   d->local_tag);
  rc |= sr_sip_str_set(mem, &d->local_to, to, n > 0 && (size_t)n < sizeof to ? (size_t)n : 0);
  rc |= set_route_set(d, mem, m->echo_record_route);
  return rc ? SIPREC_ENOMEM : 0;
}

int sr_dialog_from_remote(const sr_dialog *d, const sr_sip_msg *m)
{
  return d->remote_tag && strlen(d->remote_tag) == m->from_tag.n &&
         memcmp(d->remote_tag, m->from_tag.p, m->from_tag.n) == 0;
}

int sr_dialog_match_tags(const sr_dialog *d, const sr_sip_msg *m)
{
  if (!sr_dialog_from_remote(d, m))
    return SR_DIALOG_TAGS_NO;
  if (!m->to_tag.n)
    return SR_DIALOG_TAGS_NO_TO_TAG;
  return m->to_tag.n == SR_TAG_LEN && memcmp(m->to_tag.p, d->local_tag, SR_TAG_LEN) == 0
             ? SR_DIALOG_TAGS_YES
             : SR_DIALOG_TAGS_NO;
}

static int same_host(const struct sockaddr *a, const sr_sockaddr *b)
{
  if (a->sa_family != b->ss_family)
    return 0;
  if (a->sa_family == AF_INET)
    return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &b->in.sin_addr,
                  sizeof(struct in_addr)) == 0;
  if (a->sa_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &b->in6.sin6_addr,
                  sizeof(struct in6_addr)) == 0;
  return 0;
}

static int same_port(const struct sockaddr *a, const sr_sockaddr *b)
{
  if (a->sa_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_port == b->in.sin_port;
  return ((const struct sockaddr_in6 *)a)->sin6_port == b->in6.sin6_port;
}

int sr_dialog_source_rule(const sr_dialog *d, const siprec_path *path)
{
  if (path->transport != SIPREC_TRANSPORT_UDP)
    return (d->transport != SIPREC_TRANSPORT_UDP && path->conn_id == d->conn_id) ||
           same_host(path->remote, &d->remote);
  return d->transport == SIPREC_TRANSPORT_UDP && same_host(path->remote, &d->remote) &&
         same_port(path->remote, &d->remote);
}

int sr_dialog_write_request(sr_dialog *d, const char *method, const char *branch,
                            const char *user_agent, const char *extra, const char *content_type,
                            const char *body, size_t body_len, sr_strbuf *b)
{
  char local[80];
  if (sr_addr_text(&d->local.sa, local, sizeof local, 1) < 0)
    return SIPREC_EINVAL;
  static const char *const tp[] = { "UDP", "TCP", "TLS" };
  sr_strbuf_printf(b, "%s %s SIP/2.0\r\n", method,
                   d->remote_target && *d->remote_target ? d->remote_target : "sip:invalid");
  sr_strbuf_printf(b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s\r\n", tp[d->transport], local, branch);
  sr_strbuf_str(b, "Max-Forwards: 70\r\n");
  if (d->route_set)
    sr_strbuf_str(b, d->route_set);
  sr_strbuf_printf(b, "From: %s\r\nTo: %s\r\n", d->local_to ? d->local_to : "",
                   d->remote_from ? d->remote_from : "");
  sr_strbuf_printf(b, "Call-ID: %s\r\nCSeq: %u %s\r\n", d->call_id, ++d->local_cseq, method);
  sr_strbuf_printf(b, "User-Agent: %s\r\n", user_agent);
  sr_sip_write_tail(b, extra, content_type, body, body_len);
  return b->overflow ? SIPREC_ETOOBIG : (int)b->len;
}

int sr_addr_text(const struct sockaddr *sa, char *out, size_t size, int with_port)
{
  char ip[INET6_ADDRSTRLEN];
  unsigned port;
  if (!sa)
    return SIPREC_EINVAL;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    port = ntohs(in->sin_port);
    snprintf(out, size, with_port ? "%s:%u" : "%s", ip, port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
    port = ntohs(in6->sin6_port);
    snprintf(out, size, with_port ? "[%s]:%u" : "%s", ip, port);
  } else {
    return SIPREC_EINVAL;
  }
  return 0;
}
