/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SipHash (Aumasson and Bernstein), 64-bit output, as a keyed hash for tables
 * whose keys come from the network. */
#ifndef SR_COMMON_SIPHASH_H
#define SR_COMMON_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct sr_siphash_key {
  uint64_t k0, k1;
} sr_siphash_key;

/* Load a 16-byte key (little-endian halves, as the reference does). */
sr_siphash_key sr_siphash_key_from_bytes(const uint8_t bytes[16]);

/* SipHash-1-3: the fast variant used for hash tables. */
uint64_t sr_siphash13(sr_siphash_key key, const void *data, size_t len);

/* SipHash-2-4: the reference variant, kept for its published test vectors. */
uint64_t sr_siphash24(sr_siphash_key key, const void *data, size_t len);

#endif
