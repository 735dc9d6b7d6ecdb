/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Base64 (RFC 4648, the standard alphabet) for SDES keys: one decoder for
 * the SDP layer, which decides whether a key is taken, and the media layer,
 * which keys SRTP with it, so the two can never disagree on a key. */
#ifndef SR_COMMON_BASE64_H
#define SR_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters of the encoding of `bytes` octets, with padding. */
size_t sr_b64_len(size_t bytes);

/* Encode n octets into out (sr_b64_len(n) + 1 bytes: NUL-terminated). */
void sr_b64_encode(const uint8_t *in, size_t n, char *out);

/* Decode the n characters at `in` (padding optional; at most two '=', only
 * at the end; no other character than the alphabet) into out (cap octets).
 * Returns the octet count, or -1. */
long sr_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

#endif
