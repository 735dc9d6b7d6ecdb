/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lower-case hexadecimal text of random bytes: session ids and SIP tags. */
#ifndef SR_COMMON_HEX_H
#define SR_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Write the 2 * n hex digits of in[0..n) and a NUL into out[2 * n + 1]. */
void sr_hex_encode(const uint8_t *in, size_t n, char *out);

#endif
