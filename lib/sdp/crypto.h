/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SDES (RFC 4568): reading an SRC's a=crypto line and making the SRS's own
 * key for the answer. */
#ifndef SR_SDP_CRYPTO_H
#define SR_SDP_CRYPTO_H

#include <stddef.h>

#include "../common/base64.h"
#include "answer.h"

/* "<tag> <suite> inline:<key||salt>[|lifetime][|mki:len][;inline:...]
 * [params]", an a=crypto value. Fills tag, suite and remote key of `st`
 * (the first key's key-info, written back as "KEY[|lifetime][|MKI:len]":
 * what the media layer keys libsrtp2 with) and returns the suite's key
 * size in bytes, or 0 (st untouched) when the line is unusable: an unknown
 * suite, one `suite_ok` (NULL: every known one) refuses, a key of the
 * wrong length or characters, a malformed lifetime or MKI
 * (lib/common/sdes_key.h), an MKI value above 2^32 - 1, several keys
 * without MKIs or with MKIs of different lengths. A lifetime of 2^48 or
 * more is dropped (RFC 3711's limit, RFC 4568's default). Only the first of
 * several keys is kept (see crypto.c). */
size_t sr_sdp_crypto_parse(const char *value, sr_sdp_suite_ok_cb suite_ok, sr_sdp_stream *st);

/* Master key + salt bytes of a suite named exactly so, 0 when unknown. */
size_t sr_sdp_suite_key_bytes(const char *suite);

/* A fresh key of `bytes` (<= 64) random bytes, base64 into out (which
 * holds sr_b64_len(bytes) + 1). 0 or SIPREC_ERANDOM. The raw key is
 * wiped before return. */
int sr_sdp_key_make(const sr_sdp_config *cfg, size_t bytes, char *out);

#endif
