/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "media.h"

#include <string.h>
#include <strings.h>

#include "text.h"

const sdp_attribute_t *sr_sdp_attr(const sdp_attribute_t *a, const char *name)
{
  for (; a; a = a->a_next)
    if (a->a_name && !strcasecmp(a->a_name, name))
      return a;
  return NULL;
}

const char *sr_sdp_media_name(const sdp_media_t *m)
{
  return m->m_type_name && m->m_type_name[0] ? m->m_type_name : "audio";
}

const char *sr_sdp_proto_name(const sdp_media_t *m)
{
  return m->m_proto_name && m->m_proto_name[0] ? m->m_proto_name : "RTP/AVP";
}

int sr_sdp_proto_is_rtp(const char *proto)
{
  return !strcasecmp(proto, "RTP/AVP") || !strcasecmp(proto, "RTP/AVPF") ||
         sr_sdp_proto_is_srtp(proto);
}

int sr_sdp_proto_is_srtp(const char *proto)
{
  return !strcasecmp(proto, "RTP/SAVP") || !strcasecmp(proto, "RTP/SAVPF");
}

/* The first direction attribute of a list. a=direction:both (an obsolete
 * COMEDIA attribute some SRCs still send) is not one. */
static int find_dir(const sdp_attribute_t *a, sr_sdp_dir *out)
{
  static const struct {
    const char *name;
    sr_sdp_dir dir;
  } dirs[] = { { "sendrecv", SR_SDP_SENDRECV },
               { "sendonly", SR_SDP_SENDONLY },
               { "recvonly", SR_SDP_RECVONLY },
               { "inactive", SR_SDP_INACTIVE } };
  for (; a; a = a->a_next) {
    for (size_t i = 0; a->a_name && i < sizeof dirs / sizeof dirs[0]; i++) {
      if (!strcasecmp(a->a_name, dirs[i].name)) {
        *out = dirs[i].dir;
        return 1;
      }
    }
  }
  return 0;
}

sr_sdp_dir sr_sdp_media_dir(const sdp_session_t *s, const sdp_media_t *m)
{
  sr_sdp_dir d = SR_SDP_SENDRECV;
  if (!find_dir(m->m_attributes, &d))
    find_dir(s->sdp_attributes, &d);
  return d;
}

uint32_t sr_sdp_media_ptime(const sdp_session_t *s, const sdp_media_t *m)
{
  const sdp_attribute_t *a = sr_sdp_attr(m->m_attributes, "ptime");
  if (!a)
    a = sr_sdp_attr(s->sdp_attributes, "ptime");
  unsigned long v;
  const char *p = a ? a->a_value : NULL;
  if (!p)
    return 0;
  while (sr_sdp_is_ws(*p))
    p++;
  if (sr_sdp_uint(&p, 100000, &v) < 0)
    return 0;
  return (uint32_t)v;
}

const sdp_connection_t *sr_sdp_media_conn(const sdp_session_t *s, const sdp_media_t *m)
{
  if (m->m_connections)
    return m->m_connections;
  return s->sdp_connection;
}

int sr_sdp_conn_is_hold(const sdp_connection_t *c)
{
  return c && c->c_address && (!strcmp(c->c_address, "0.0.0.0") || !strcmp(c->c_address, "::"));
}

void sr_sdp_remote_addr(const sdp_connection_t *c, sr_sdp_stream *st)
{
  if (c && c->c_address)
    sr_sdp_copy(st->remote_addr, sizeof st->remote_addr, c->c_address);
}

uint16_t sr_sdp_media_rtcp_port(const sdp_media_t *m)
{
  const sdp_attribute_t *rtcp = sr_sdp_attr(m->m_attributes, "rtcp");
  const char *rv = rtcp ? rtcp->a_value : NULL;
  unsigned long rport;
  if (rv && sr_sdp_uint(&rv, 65535, &rport) == 0 && rport > 0)
    return (uint16_t)rport;
  return 0;
}
