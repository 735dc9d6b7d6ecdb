/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Framing SIP messages on stream transports (RFC 3261 18.3). */
#ifndef SR_SIP_FRAME_H
#define SR_SIP_FRAME_H

#include <stddef.h>

/* The length of the first complete message in a stream buffer (> 0), a run
 * of CRLF keep-alives (RFC 5626) counting as a message of its own; 0 when
 * more bytes are needed; SIPREC_EINVAL when the stream is broken: no
 * Content-Length, a bad one or two that differ, or a message (or its
 * header section) longer than `max`. */
long sr_sip_frame(const void *data, size_t len, size_t max);

#endif
