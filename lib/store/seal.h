/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sealing the secrets of a snapshot (SRTP master keys): libsodium's
 * XChaCha20-Poly1305 AEAD under a key the operator configures, so that a
 * store shared by several machines holds no usable secret. The random
 * 192-bit nonce is safe to pick at random for every seal. The snapshot's
 * key (the Call-ID) is bound in as associated data: a sealed record moved
 * into another session's snapshot does not open. */
#ifndef SR_STORE_SEAL_H
#define SR_STORE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"

#define SR_SEAL_KEY_LEN 32

/* Whether this build seals (libsodium found). */
bool sr_seal_available(void);

/* Append nonce || ciphertext || tag of (plain, n) to w. 0, SIPREC_ENOMEM,
 * SIPREC_ETOOBIG, SIPREC_ERANDOM, or SIPREC_EINVAL (no sealing in this build). */
int sr_seal(const uint8_t key[SR_SEAL_KEY_LEN], const void *ad, size_t ad_len,
            const void *plain, size_t n, sr_snap_w *w);

/* Open what sr_seal wrote into `out` (at least n bytes; *out_len set).
 * 0, SIPREC_EPARSE (too short, wrong key, tampered, another session's) or
 * SIPREC_EINVAL (no sealing in this build). */
int sr_unseal(const uint8_t key[SR_SEAL_KEY_LEN], const void *ad, size_t ad_len,
              const void *sealed, size_t n, uint8_t *out, size_t *out_len);

#endif
