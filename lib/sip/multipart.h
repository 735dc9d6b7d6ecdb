/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A lenient multipart (RFC 2046) splitter for SIP bodies, written because
 * Sofia-SIP's msg_multipart_parse() gives up on bodies without a closing
 * delimiter, which real recording clients (Cisco CUBE, SEMS, Sonus) send.
 * It allocates nothing: parts point into the caller's buffer. */
#ifndef SR_SIP_MULTIPART_H
#define SR_SIP_MULTIPART_H

#include <stddef.h>

#include "../common/span.h"

typedef struct sr_mime_part {
  sr_span headers;      /* raw part header block, without the blank line */
  sr_span body;         /* the part's content, without the CRLF before the next delimiter */
  sr_span content_type; /* media type only ("application/sdp"), parameters stripped;
                         * empty when the part names none (RFC 2046: text/plain) */
  sr_span disposition;  /* disposition type only ("recording-session"), or empty */
} sr_mime_part;

/* Longest boundary taken: RFC 2046 allows 70 characters; some clients send
 * more, and nothing is gained by refusing them. */
#define SR_MIME_BOUNDARY_MAX 256

enum {
  SR_MULTIPART_CLOSED = 1, /* the closing delimiter was found */
};

/* Split `body` at `boundary`. Up to `max` parts are stored in `parts`.
 * Returns the number of parts (>= 1), or a negative SIPREC_E* code:
 * SIPREC_EINVAL when no delimiter is found or the boundary is empty or too
 * long, SIPREC_ETOOBIG when there are more than `max` parts. `*flags` gets
 * SR_MULTIPART_CLOSED when the body was properly closed. Line endings may be
 * CRLF or bare LF; a preamble and an epilogue are ignored; part headers may
 * lack the space after the colon, be folded, and come in any case. */
int sr_multipart_split(const char *body, size_t len, const char *boundary, size_t boundary_len,
                       sr_mime_part *parts, size_t max, unsigned *flags);

/* Find parameter `name` (case-insensitive) in a header value such as
 * `multipart/mixed; boundary="abc"` or `multipart/mixed;boundary=abc`, and
 * return its value unquoted (quoted-pair escapes are left as they are).
 * Returns 1 when found, 0 otherwise. */
int sr_mime_param(const char *value, size_t len, const char *name, sr_span *out);

/* The media type of a Content-Type value: up to ';', whitespace trimmed. */
sr_span sr_mime_type(const char *value, size_t len);

#endif
