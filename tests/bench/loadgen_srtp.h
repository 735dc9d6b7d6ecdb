/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SRTP protection (RFC 3711, AES_CM_128_HMAC_SHA1_80, key derivation rate
 * 0) for tests/bench/loadgen, on Nettle's AES and HMAC-SHA1: plain structs,
 * no allocation or lookup per packet. Debian's libsrtp2 (NSS-backed) costs
 * about 7 us per packet with a few contexts and about 60 us with 2,000 open,
 * so a generator on it could not send 1,000 SRTP calls; the server's side
 * is what the benchmark measures, not the generator's.
 * lg_srtp_check() protects packets both here and with libsrtp2 and compares
 * the bytes: the generator refuses --srtp when they differ. */
#ifndef SIPREC_BENCH_LOADGEN_SRTP_H
#define SIPREC_BENCH_LOADGEN_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/aes.h>
#include <nettle/hmac.h>

#define LG_SRTP_MASTER 30 /* master key (16) + master salt (14) */
#define LG_SRTP_TAG 10    /* HMAC-SHA1 truncated to 80 bits */

typedef struct lg_srtp {
  struct aes128_ctx cipher;   /* session encryption key */
  struct hmac_sha1_ctx auth;  /* session authentication key */
  uint8_t salt[14];           /* session salt */
} lg_srtp;

/* Derive the session keys from a master key and salt. */
void lg_srtp_init(lg_srtp *s, const uint8_t master[LG_SRTP_MASTER]);

/* Encrypt the payload of the RTP packet p[0..len) (a 12-byte header, no
 * CSRC or extension) in place and append the tag; `roc` is the rollover
 * counter of its sequence number. Returns the new length (len + 10). */
size_t lg_srtp_protect(lg_srtp *s, uint8_t *p, size_t len, uint32_t roc);

/* 0 when this file and libsrtp2 protect the same packets (across a
 * sequence number wrap) to the same bytes, -1 otherwise. */
int lg_srtp_check(void);

#endif
