/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Nettle's AES-CM and HMAC-SHA1 for libsrtp2's crypto kernel.
 *
 * Debian's libsrtp2 runs its ciphers on NSS, whose cost per packet grows
 * with the number of contexts open (about 5 us at 400 streams, above 50 us
 * at 4,000: docs/performance.md). libsrtp2 lets a program put its own
 * implementation of a cipher or auth type into the kernel
 * (srtp_replace_cipher_type, srtp_replace_auth_type); these are Nettle's
 * AES-128/192/256 in counter mode and HMAC-SHA1 behind libsrtp2's own
 * interfaces, with libsrtp2's semantics:
 *
 * - AES-ICM: the key is the AES key followed by the 14-octet salt (30, 38
 *   or 46 octets); set_iv makes the counter block salt || 00 00 XOR iv;
 *   encrypt (also decrypt, and srtp_cipher_output, which the key
 *   derivation uses) XORs the keystream in place and goes on across calls
 *   from where the last one stopped, a partial block included, until the
 *   next set_iv. The counter carries over all 128 bits, as with libsrtp2's
 *   OpenSSL backend (SRTP's own use never leaves the low 16).
 * - HMAC-SHA1: init keys, start goes back to the keyed state, update
 *   feeds, compute feeds the last octets and writes the first tag_len
 *   (at most 20) octets of the digest; no keystream prefix (prefix_len 0).
 *
 * libsrtp2 checks each type against its own test data (RFC 3711 B.2 and
 * B.3, RFC 6188 section 7, RFC 2202) and against the test data of the
 * type it replaces before taking it. GCM stays libsrtp2's.
 *
 * The kernel is process-wide: once installed, every libsrtp2 user in the
 * process (a host using libsrtp2 itself too) runs these. A host's
 * srtp_shutdown() empties the kernel; a later srtp_init() brings back
 * libsrtp2's own implementations (correct, only slower), since the install
 * runs once per process. */
#ifndef SR_MEDIA_SRTP_KERNEL_H
#define SR_MEDIA_SRTP_KERNEL_H

#include <srtp2/auth.h>
#include <srtp2/cipher.h>

extern const srtp_cipher_type_t sr_nettle_aes_icm_128;
extern const srtp_cipher_type_t sr_nettle_aes_icm_192;
extern const srtp_cipher_type_t sr_nettle_aes_icm_256;
extern const srtp_auth_type_t sr_nettle_hmac_sha1;

/* Bits of what sr_srtp_kernel_install put into the kernel. */
enum {
  SR_SRTP_KERNEL_AES_ICM_128 = 1u << 0,
  SR_SRTP_KERNEL_AES_ICM_192 = 1u << 1,
  SR_SRTP_KERNEL_AES_ICM_256 = 1u << 2,
  SR_SRTP_KERNEL_HMAC_SHA1 = 1u << 3,
  SR_SRTP_KERNEL_ALL = (1u << 4) - 1
};

/* Replace the four types in libsrtp2's kernel (after srtp_init(), before
 * sessions that should use them are created; lib/media/srtp.c does it
 * once, under its pthread_once). A type libsrtp2 refuses (its self-test
 * failed) keeps libsrtp2's own implementation. Returns the bits of those
 * replaced, which sr_srtp_kernel_installed() reports from then on. */
unsigned sr_srtp_kernel_install(void);

/* The bits of the last sr_srtp_kernel_install(), 0 before it. */
unsigned sr_srtp_kernel_installed(void);

#endif
