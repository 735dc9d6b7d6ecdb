/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What one m= line of a parsed SDP says, its session level filling in:
 * names, transport, direction, ptime, the connection address. */
#ifndef SR_SDP_MEDIA_H
#define SR_SDP_MEDIA_H

#include <stdint.h>

#include <sofia-sip/sdp.h>

#include "answer.h"

/* The first attribute of this name (case-insensitive), or NULL. */
const sdp_attribute_t *sr_sdp_attr(const sdp_attribute_t *a, const char *name);

/* The media type as offered, "audio" when Sofia-SIP has none. */
const char *sr_sdp_media_name(const sdp_media_t *m);

/* The transport as offered, "RTP/AVP" when Sofia-SIP has none. */
const char *sr_sdp_proto_name(const sdp_media_t *m);

/* RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF. */
int sr_sdp_proto_is_rtp(const char *proto);

/* RTP/SAVP or RTP/SAVPF: SRTP keyed by a=crypto. */
int sr_sdp_proto_is_srtp(const char *proto);

/* The direction of the m-line, else of the session, else sendrecv. */
sr_sdp_dir sr_sdp_media_dir(const sdp_session_t *s, const sdp_media_t *m);

/* a=ptime of the m-line, else of the session; 0 when absent or unreadable. */
uint32_t sr_sdp_media_ptime(const sdp_session_t *s, const sdp_media_t *m);

/* c= of the m-line, else of the session, or NULL. */
const sdp_connection_t *sr_sdp_media_conn(const sdp_session_t *s, const sdp_media_t *m);

/* c= 0.0.0.0 or ::, the old way of putting a stream on hold. */
int sr_sdp_conn_is_hold(const sdp_connection_t *c);

/* The connection address into st->remote_addr ("" when there is none or it
 * does not fit). */
void sr_sdp_remote_addr(const sdp_connection_t *c, sr_sdp_stream *st);

/* The port of the m-line's a=rtcp (RFC 3605: "port [nettype addrtype
 * addr]"), 0 when absent or unreadable. */
uint16_t sr_sdp_media_rtcp_port(const sdp_media_t *m);

#endif
