/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "seal.h"

#ifdef SIPREC_HAVE_SODIUM
#include <sodium.h>

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == SR_SEAL_KEY_LEN, "key length");

/* sodium_init() is idempotent and thread-safe (it takes its own lock);
 * it picks the fastest implementation and seeds randombytes. */
static bool ready(void)
{
  return sodium_init() >= 0;
}

bool sr_seal_available(void)
{
  return ready();
}

int sr_seal(const uint8_t key[SR_SEAL_KEY_LEN], const void *ad, size_t ad_len,
            const void *plain, size_t n, sr_snap_w *w)
{
  if (!ready())
    return SIPREC_ERANDOM;
  if (n > SR_SNAP_MAX)
    return SIPREC_ETOOBIG;
  uint8_t nonce[NONCE_LEN];
  randombytes_buf(nonce, sizeof nonce);
  sr_snap_append(w, nonce, sizeof nonce);
  /* The ciphertext and tag are written in place. */
  uint8_t *c = sr_snap_extend(w, n + TAG_LEN);
  if (!c)
    return w->err;
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(c, &clen, plain, n, ad, ad_len, NULL, nonce, key);
  sodium_memzero(nonce, sizeof nonce);
  return 0;
}

int sr_unseal(const uint8_t key[SR_SEAL_KEY_LEN], const void *ad, size_t ad_len,
              const void *sealed, size_t n, uint8_t *out, size_t *out_len)
{
  if (!ready())
    return SIPREC_ERANDOM;
  if (n < NONCE_LEN + TAG_LEN)
    return SIPREC_EPARSE;
  const uint8_t *p = sealed;
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, p + NONCE_LEN, n - NONCE_LEN,
                                                 ad, ad_len, p, key) != 0)
    return SIPREC_EPARSE;
  *out_len = (size_t)mlen;
  return 0;
}

#else /* no libsodium: nothing is sealed, and so no secret is written */

bool sr_seal_available(void)
{
  return false;
}

int sr_seal(const uint8_t key[SR_SEAL_KEY_LEN], const void *ad, size_t ad_len,
            const void *plain, size_t n, sr_snap_w *w)
{
  (void)key, (void)ad, (void)ad_len, (void)plain, (void)n, (void)w;
  return SIPREC_EINVAL;
}

int sr_unseal(const uint8_t key[SR_SEAL_KEY_LEN], const void *ad, size_t ad_len,
              const void *sealed, size_t n, uint8_t *out, size_t *out_len)
{
  (void)key, (void)ad, (void)ad_len, (void)sealed, (void)n, (void)out, (void)out_len;
  return SIPREC_EINVAL;
}
#endif
