/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key-info of an SDES "inline:" key (RFC 4568 section 9.2):
 *
 *   KEY ["|" LIFETIME] ["|" MKI-VALUE ":" MKI-LENGTH]
 *
 * KEY is the base64 text of master key || salt; LIFETIME "2^N" or a decimal
 * count of packets; the MKI a decimal value carried in MKI-LENGTH octets.
 * One grammar for the SDP layer, which checks an offer's a=crypto line and
 * keeps the key-info of the key it takes, and the media layer, which keys
 * libsrtp2 with it (lib/sdp and lib/media may not call each other). */
#ifndef SR_COMMON_SDES_KEY_H
#define SR_COMMON_SDES_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "span.h"

/* MKI octets at most (RFC 4568: 1 to 128; libsrtp2's SRTP_MAX_MKI_LEN). */
#define SR_SDES_MAX_MKI 128

typedef struct sr_sdes_key_info {
  sr_span key;       /* KEY as written, not decoded: the caller checks its
                      * characters and length against the suite */
  uint64_t lifetime; /* packets; 0 when not given */
  uint64_t mki;      /* the MKI value, when mki_len is not 0 */
  unsigned mki_len;  /* its octets, 1..SR_SDES_MAX_MKI; 0: no MKI */
} sr_sdes_key_info;

/* Parse the whole of `text` (after "inline:"). Returns 0, or -1 when it is
 * not of the form above: an empty KEY, a lifetime that is not 2^1..2^63
 * nor a decimal 1..2^64-1, an MKI length outside 1..128, an MKI value above
 * 2^64-1 or too large for its length, an empty field, the fields in the
 * other order, anything after them. *out is zeroed on failure. */
int sr_sdes_key_info_parse(sr_span text, sr_sdes_key_info *out);

/* Write `ki` back in the form above, NUL-terminated, into out[cap]: a
 * lifetime that is a power of two as "2^N", others in decimal, no leading
 * zeros. Returns the length, or -1 (out "" when cap > 0) when it does not
 * fit. */
int sr_sdes_key_info_write(const sr_sdes_key_info *ki, char *out, size_t cap);

#endif
