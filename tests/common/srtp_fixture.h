/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SRTP for the tests of lib/media/srtp: keys and their a=crypto text, and
 * (with libsrtp2) a sending side made of libsrtp2 itself, keyed like an
 * SRC, whose packets go through the module and must come out as they went
 * in. Shared by test_media_srtp.c and test_media_srtp_kernel.c. The sending
 * side calls nothing of the library, so that test_media_srtp_kernel.c can
 * protect packets before the library has run srtp_init(). */
#ifndef SR_TEST_SRTP_FIXTURE_H
#define SR_TEST_SRTP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rtp.h"
#include "media/srtp.h"

#ifdef SR_HAVE_SRTP
#include <srtp2/srtp.h>
#endif

/* A key of n octets, different for each seed. */
void srtp_fx_make_key(uint8_t *k, size_t n, uint8_t seed);

#ifdef SR_HAVE_SRTP

/* A packet as sent and as protected; prot has room for SRTP's trailer and
 * for a packet one octet over SR_SRTP_MAX_PACKET (the oversize test). */
typedef struct srtp_fx_pkt {
  uint8_t plain[SR_RTP_MAX_PACKET];
  size_t plain_n;
  uint8_t prot[SR_RTP_MAX_PACKET + SRTP_MAX_TRAILER_LEN + 16];
  size_t prot_n;
} srtp_fx_pkt;

/* libsrtp2's policy of an SDES suite name (AES_CM_128_HMAC_SHA1_80 ...
 * AEAD_AES_256_GCM, as RFC 4568 spells them): RTP per the suite, SRTCP with
 * the 80-bit tag of the same cipher, a replay window of 1024; no key, no
 * SSRC. Returns 0, or -1 for a suite it does not know. */
int srtp_fx_policy(const char *suite, srtp_policy_t *p);

/* A sending libsrtp2 session of `suite` keyed with `key`: for any SSRC, or
 * only `ssrc` when not 0 (so that its ROC can be set before its first
 * packet). Returns 0, or -1 when libsrtp2 refuses. */
int srtp_fx_tx_create(const char *suite, uint8_t *key, uint32_t ssrc, srtp_t *out);

/* How srtp_fx_protect protects: RTP or SRTCP, with the MKI of the session's
 * first master key or without one. */
enum { SRTP_FX_RTP = 0, SRTP_FX_RTCP = 1, SRTP_FX_MKI = 2 };

/* p->plain (p->plain_n octets) protected by tx into p->prot, p->prot_n.
 * Returns 0, or -1 when libsrtp2 refuses. */
int srtp_fx_protect(srtp_t tx, srtp_fx_pkt *p, int how);

/* A copy of p->prot unprotected through the module, as RTP or as SRTCP:
 * delivered, the plain packet must come out with rc 0; refused, nothing
 * (length 0, the buffer wiped, rc < 0). Check assertions. Returns why. */
sr_srtp_result srtp_fx_rx(sr_srtp *c, const srtp_fx_pkt *p, bool rtcp);

/* The module's receiving context for `suite` keyed with the a=crypto key
 * text `text` (Check assertions: it must be made). */
sr_srtp *srtp_fx_rx_new(const char *suite, const char *text);

/* The same keyed with the suite's raw key octets. */
sr_srtp *srtp_fx_rx_new_key(const char *suite, const uint8_t *key);

#endif /* SR_HAVE_SRTP */
#endif
