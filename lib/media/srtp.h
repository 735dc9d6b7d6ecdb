/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inbound SRTP and SRTCP (RFC 3711, RFC 7714's AEAD suites) on libsrtp2:
 * one context per recorded stream, keyed with the SDES key the SRC offered
 * (RFC 4568 a=crypto), decrypting what that SRC sends from any SSRC.
 *
 * - Suites, named as in SDP: AES_CM_128_HMAC_SHA1_80 and _32,
 *   AES_256_CM_HMAC_SHA1_80 and _32, and AEAD_AES_128_GCM and
 *   AEAD_AES_256_GCM when the libsrtp2 at hand has GCM (Debian's, built on
 *   NSS, has; sr_media_srtp_suite_supported says so at run time). The _32
 *   suites authenticate SRTCP with an 80-bit tag (RFC 4568 section 6.2).
 * - The key: "KEY[|lifetime][|MKI:length]", the text after "inline:" (the
 *   prefix itself is accepted too; the grammar is lib/common/sdes_key.h's,
 *   shared with the SDP layer). KEY is the base64 master key || salt, of
 *   the suite's length, with or without '=' padding.
 * - The lifetime ("2^31" or a decimal count) is enforced here, since
 *   libsrtp2 takes none in its policy: once `lifetime` SRTP packets were
 *   delivered under the key, every further SRTP packet fails as
 *   SR_SRTP_KEY_EXPIRED, and likewise SRTCP with its own count (RFC 4568:
 *   the lifetime bounds each). Nothing is decrypted under an exhausted key
 *   until the SRC offers a new one (a re-INVITE), for which the handler
 *   makes a new context. libsrtp2's own limits (2^48 SRTP, 2^31 SRTCP
 *   packets) end a key without a lifetime, also as SR_SRTP_KEY_EXPIRED.
 *   The counts live in the context: a context restored elsewhere
 *   (sr_srtp_set_roc) counts from zero again.
 * - An MKI is handled: it is set in libsrtp2's policy (one master key with
 *   its mki_id and mki_size), packets then carry it (length 1-128 octets)
 *   and one carrying another MKI fails as SR_SRTP_AUTH_FAIL. One master key
 *   per context: RFC 4568 lets a line carry several, told apart by their
 *   MKIs (libsrtp2 could hold up to 16), but the SDP layer keeps only the
 *   first (lib/sdp/crypto.c says why).
 * - Any SSRC is taken (libsrtp2's ssrc_any_inbound): a stream per SSRC is
 *   created by the first packet of that SSRC that authenticates, never by
 *   a forged one. At most SR_SRTP_MAX_SSRC SSRCs are kept: a further one
 *   drops the least recently seen (its replay state and ROC with it).
 * - Replay protection: libsrtp2's replay window, SR_SRTP_REPLAY_WINDOW
 *   packets for SRTP (a packet older than the highest authenticated index
 *   by that much or more fails as a replay) and libsrtp2's fixed 128 for
 *   SRTCP.
 * - The rollover counter (ROC) is libsrtp2's: it follows the sequence
 *   number across its wrap. sr_srtp_get_roc reads it per SSRC with the
 *   highest sequence number, sr_srtp_set_roc restores both into a new
 *   context, so that a stream moved to another process goes on decrypting
 *   after a wrap. A restored SSRC's replay window starts empty.
 * - A packet that fails is counted by why (sr_srtp_counters) and never
 *   delivered: its length comes back 0 and its octets zeroed (AEAD
 *   decrypts in place before the tag is known to be wrong).
 *
 * libsrtp2 keeps process-wide state: srtp_init() is run once per process,
 * thread-safely (pthread_once), by the first sr_srtp_new. srtp_shutdown()
 * is never called by this library, and a host that uses libsrtp2 itself
 * must not call it while a context of ours lives (nor install a libsrtp2
 * log handler that prints, if it wants this library silent: libsrtp2's
 * default prints nothing).
 *
 * Crypto (meson feature `srtp_nettle`, on when Nettle is found): right
 * after that srtp_init(), Nettle's AES-CM (128, 192, 256) and HMAC-SHA1
 * replace libsrtp2's own in its crypto kernel (srtp_kernel.h), since
 * Debian's libsrtp2 runs them on NSS, whose cost per packet grows with
 * the contexts open. The kernel is process-wide: a host's own libsrtp2
 * sessions run on them too (the same algorithms, checked by libsrtp2
 * against their test vectors before it takes them). GCM stays libsrtp2's.
 *
 * Threads: a context is not thread-safe: one stream, one thread at a time;
 * different contexts may be used from different threads at once.
 *
 * Memory: the context object lives in an allocation of the allocator hook;
 * libsrtp2 allocates its session, streams and cipher states with malloc
 * and offers no hook (a session template and one stream per SSRC, the
 * latter bounded by SR_SRTP_MAX_SSRC; Debian's libsrtp2 runs its GCM, and
 * without srtp_nettle all its ciphers, on NSS, which allocates on its own
 * too; srtp_kernel.c's cipher and auth states come from malloc). Not plain
 * data: what survives a move to another process is the key (from SDP) and
 * the per-SSRC ROC (sr_srtp_get_roc).
 *
 * Without libsrtp2 (meson feature `srtp`), sr_media_srtp_built() is false,
 * no suite is supported and sr_srtp_new fails with SIPREC_ENOTFOUND: the
 * SDP layer must then not accept RTP/SAVP. The key parser works either
 * way. */
#ifndef SR_MEDIA_SRTP_H
#define SR_MEDIA_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

/* RTP replay window of libsrtp2, in packets (it takes 64 to 32767). */
#define SR_SRTP_REPLAY_WINDOW 1024
/* SSRCs remembered per context. */
#define SR_SRTP_MAX_SSRC 16
/* Master key + salt, at most (AES-256: 32 + 14). */
#define SR_SRTP_MAX_KEY 46
/* MKI octets, at most (libsrtp2's SRTP_MAX_MKI_LEN). */
#define SR_SRTP_MAX_MKI 128
/* Datagrams longer than this fail as SR_SRTP_BAD_FORMAT: the longest RTP
 * packet taken (rtp.h) and the longest trailer (SRTCP index, MKI, tag). */
#define SR_SRTP_MAX_PACKET (8192 + 4 + SR_SRTP_MAX_MKI + 16)

/* Whether this build decrypts SRTP at all (libsrtp2 found). */
bool sr_media_srtp_built(void);

/* Whether `suite` (an a=crypto suite name, case-insensitive) is decrypted
 * by this build: false for every suite without libsrtp2, and for the GCM
 * suites when libsrtp2 was built without them. Runs srtp_init() when not
 * done yet; false if that fails. */
bool sr_media_srtp_suite_supported(const char *suite);

/* A parsed a=crypto key. */
typedef struct sr_srtp_key {
  uint8_t key[SR_SRTP_MAX_KEY]; /* master key || master salt */
  size_t key_len;               /* the suite's */
  uint64_t lifetime;            /* packets per direction; 0 when not given */
  size_t mki_len;               /* 0: no MKI */
  uint8_t mki[SR_SRTP_MAX_MKI]; /* the MKI value, big-endian in mki_len octets */
} sr_srtp_key;

/* Master key + salt octets of a suite (case-insensitive), 0 when not one
 * of the six above. Independent of libsrtp2. */
size_t sr_srtp_suite_key_len(const char *suite);

/* Parse "[inline:]KEY[|lifetime][|MKI:length]" for `suite` into *out.
 * Returns 0; SIPREC_EINVAL (NULL arguments), SIPREC_ENOTFOUND (an unknown
 * suite) or SIPREC_EPARSE: a character outside base64, a key that decodes
 * to another length than the suite's, a malformed lifetime or MKI (length
 * 0 or above 128, a value that does not fit), text after them. *out is
 * wiped on failure. Independent of libsrtp2. */
int sr_srtp_parse_key(const char *suite, const char *text, sr_srtp_key *out);

/* Why a packet was not delivered; the counters are indexed by it. */
typedef enum sr_srtp_result {
  SR_SRTP_OK = 0,
  SR_SRTP_AUTH_FAIL,  /* the tag did not verify: another key, a forged or
                         tampered packet, an unknown MKI */
  SR_SRTP_REPLAY,     /* an index already seen, or older than the window */
  SR_SRTP_BAD_FORMAT, /* too short for header and trailer, not version 2,
                         oversized, CSRCs or extension past the end */
  SR_SRTP_KEY_EXPIRED, /* the key's lifetime (from SDP) or libsrtp2's
                          limit is used up */
  SR_SRTP_OTHER,      /* anything else libsrtp2 refuses (an allocation
                         failure) */
  SR_SRTP_RESULT_COUNT
} sr_srtp_result;

typedef struct sr_srtp_counters {
  uint64_t rtp[SR_SRTP_RESULT_COUNT];  /* SR_SRTP_OK: delivered */
  uint64_t rtcp[SR_SRTP_RESULT_COUNT];
} sr_srtp_counters;

typedef struct sr_srtp sr_srtp;

/* A context for `suite` keyed with `key_text` (as sr_srtp_parse_key),
 * allocated with `alloc` (NULL: libc). Returns 0, or SIPREC_EINVAL,
 * SIPREC_ENOTFOUND (no libsrtp2, or a suite it lacks), SIPREC_EPARSE (the
 * key text), SIPREC_ENOMEM, or SIPREC_EAGAIN when srtp_init() failed. The
 * raw key is wiped from our memory before return. */
int sr_srtp_new(const siprec_allocator *alloc, const char *suite, const char *key_text,
                sr_srtp **out);

/* The same from a parsed key. */
int sr_srtp_new_key(const siprec_allocator *alloc, const char *suite, const sr_srtp_key *key,
                    sr_srtp **out);

void sr_srtp_free(sr_srtp *ctx);

/* Authenticate and decrypt the SRTP packet of *len octets at `buf` in
 * place; *len becomes the RTP packet's length. Returns 0; SIPREC_EPARSE
 * when the packet failed (with *why, when not NULL, saying why: it was
 * counted, *len is 0 and the buffer zeroed), SIPREC_ENOMEM (counted as
 * SR_SRTP_OTHER, likewise), or SIPREC_EINVAL for NULL arguments. */
int sr_srtp_unprotect(sr_srtp *ctx, uint8_t *buf, size_t *len, sr_srtp_result *why);

/* The same for an SRTCP compound packet. */
int sr_srtp_unprotect_rtcp(sr_srtp *ctx, uint8_t *buf, size_t *len, sr_srtp_result *why);

/* A copy of the counters. */
void sr_srtp_get_counters(const sr_srtp *ctx, sr_srtp_counters *out);

/* The ROC of `ssrc` and the highest sequence number delivered with it.
 * Returns 0, or SIPREC_ENOTFOUND when no SRTP packet of that SSRC was
 * delivered (or it was dropped for newer ones), SIPREC_EINVAL. */
int sr_srtp_get_roc(const sr_srtp *ctx, uint32_t ssrc, uint32_t *roc, uint16_t *seq);

/* Restore what sr_srtp_get_roc read into a context that has not yet
 * delivered a packet of `ssrc`: its next packets are placed by RFC 3711
 * section 3.3.1's estimate against (roc, seq), so a packet just before or
 * after a wrap finds its ROC. Returns 0, SIPREC_EEXIST when the context
 * already delivered packets of that SSRC, SIPREC_ETOOBIG when
 * SR_SRTP_MAX_SSRC are remembered, SIPREC_ENOMEM, SIPREC_EINVAL. */
int sr_srtp_set_roc(sr_srtp *ctx, uint32_t ssrc, uint32_t roc, uint16_t seq);

/* A short English name of a result ("auth failure"), for counters and
 * logs. */
const char *sr_srtp_result_name(sr_srtp_result r);

#endif
