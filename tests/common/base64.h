/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Base64 encoding (RFC 4648, the standard alphabet) for the tests and the
 * test tools: SDES keys in a=crypto and binary metadata parts. Plain C, no
 * Check, so that siprec-client (tests/tools) compiles it too. */
#ifndef SR_TEST_BASE64_H
#define SR_TEST_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* n octets of `in` into `out`, NUL-terminated; with '=' padding when `pad`
 * (out holds 4 * ((n + 2) / 3) + 1), without it otherwise (RFC 4568's
 * key text accepts both). */
void base64_encode(const uint8_t *in, size_t n, char *out, bool pad);

#endif
