/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS side of SDP offer/answer (RFC 3264) for recording sessions
 * (RFC 7866): read an SRC's offer, decide per m-line, write the answer.
 * Knows nothing of SIP transactions; Sofia-SIP's SDP parser reads the offer,
 * the answer is written by hand. No Sofia-SIP type appears here. */
#ifndef SR_SDP_ANSWER_H
#define SR_SDP_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

#define SR_SDP_MAX_STREAMS 16
#define SR_SDP_LABEL_MAX 64
#define SR_SDP_CODEC_MAX 32
#define SR_SDP_ADDR_MAX 64
#define SR_SDP_ALT_MAX 4  /* other accepted codecs of an m-line kept (sr_sdp_stream.alt) */
#define SR_SDP_KEY_MAX 65 /* base64 SDES key||salt, NUL-terminated: 40 characters for
                          * the AES_CM_128 suites, 64 for AES_256_CM */
/* An SDES key-info as sr_sdp_stream.remote_key keeps it, NUL-terminated:
 * the key (64), "|" and a lifetime below 2^48 (15 digits), "|" and an MKI
 * value below 2^32 (10 digits) ":" a length up to 128. */
#define SR_SDP_KEY_INFO_MAX (64 + 1 + 15 + 1 + 10 + 1 + 3 + 1)

typedef enum sr_sdp_dir {
  SR_SDP_SENDRECV = 0,
  SR_SDP_SENDONLY,
  SR_SDP_RECVONLY,
  SR_SDP_INACTIVE,
} sr_sdp_dir;

/* One offered m-line and what the answer made of it. Plain data, no pointers:
 * a session stores these and can serialise them as they are. */
typedef struct sr_sdp_stream {
  /* Every session keeps one per m-line: flags are bytes and payload types
   * 16 bits (440 bytes with the compact alt[] below, where ints and named
   * alternatives made 608). */
  char media[16];                  /* "audio", "video", ... as offered */
  char label[SR_SDP_LABEL_MAX];    /* a=label, "" when none */
  uint8_t has_label;
  uint8_t accepted;                /* answered with a non-zero port */
  uint16_t port;                   /* the SRS's receive port; 0 when declined */
  uint8_t new_port;                /* 1: `port` came from cfg->port during this call (the caller
                                    * owns it); 0: kept from cfg->current, or none */
  uint8_t paused;                  /* offered inactive/recvonly or c= 0.0.0.0 / port on hold */
  sr_sdp_dir offer_dir;            /* offered direction (media level, else session level) */
  sr_sdp_dir answer_dir;           /* recvonly, or inactive for an inactive offer */
  char codec[SR_SDP_CODEC_MAX];    /* chosen encoding name as offered ("PCMU", "opus"), "" if declined */
  int16_t pt;                      /* its payload type, -1 when declined */
  int16_t te_pt;                   /* telephone-event payload type echoed, -1 when none */
  uint32_t clock_rate;             /* from rtpmap, or the static table (PCMU/PCMA 8000, G722 8000) */
  uint32_t te_clock;
  uint8_t channels;                /* 1 unless rtpmap says otherwise */
  uint8_t srtp;                    /* offered RTP/SAVP(F) with a usable a=crypto */
  uint8_t rtcp_mux;                /* the offer has a=rtcp-mux: the answer takes it too
                                    * (RFC 5761), RTCP comes on the RTP port */
  uint8_t n_alt;                   /* alt[0..n_alt) */
  char remote_addr[SR_SDP_ADDR_MAX]; /* c= of the m-line (or session), "" when missing */
  uint16_t remote_port;            /* the m-line's port in the offer */
  uint16_t remote_rtcp_port;       /* the offer's a=rtcp port, 0 when absent */
  uint32_t ptime;                  /* a=ptime, 0 when absent */
  int crypto_tag;                  /* its a=crypto tag, echoed in the answer */
  char crypto_suite[24];           /* the offered suite taken, e.g. AES_CM_128_HMAC_SHA1_80
                                    * (23 characters at most) */
  char remote_key[SR_SDP_KEY_INFO_MAX]; /* the SRC's key-info: base64 key||salt, then
                                    * "|lifetime" and "|MKI:length" when offered
                                    * (lib/common/sdes_key.h), as media keys libsrtp2 */
  char local_key[SR_SDP_KEY_MAX];  /* the SRS's own key (base64), generated per stream */
  /* The offer's other accepted codecs, in its order: the SRC may switch to
   * one of them without a new offer (the media decodes them too). Each one
   * is an accepted codec, so its name is kept as its index in the accepted
   * list (sr_sdp_alt_encoding()) rather than copied: 8 bytes, not 44, in
   * every stream of every session. */
  struct sr_sdp_alt_codec {
    uint32_t clock_rate;
    uint8_t codec;    /* index in the configuration's accepted codecs */
    uint8_t pt;       /* its payload type (0..127) */
    uint8_t channels;
  } alt[SR_SDP_ALT_MAX];
} sr_sdp_stream;

/* Port source: give the receive port for stream `index` (its label may be
 * empty). Return 0 and *port, or a negative value when no port is left (the
 * whole answer then fails with SIPREC_EAGAIN; ports already handed out for
 * this answer are the caller's to take back). */
typedef int (*sr_sdp_port_cb)(void *user, size_t index, const sr_sdp_stream *stream, uint16_t *port);

/* Random bytes for SRTP keys. 0 or negative. */
typedef int (*sr_sdp_random_cb)(void *user, void *buf, size_t len);

/* Whether the media side decrypts an SDES suite (its SDP name). */
typedef bool (*sr_sdp_suite_ok_cb)(const char *suite);

typedef struct sr_sdp_config {
  const char *media_addr;     /* the address the SRS receives on (c=, o=): IPv4 or IPv6 text */
  const char *const *codecs;  /* accepted encoding names in preference order, NULL-terminated;
                               * NULL means the default set {PCMU, PCMA, G722, opus} */
  int prefer_offer_order;     /* 1: the offer's m-line order decides among accepted codecs
                               * (the default); 0: the `codecs` order decides */
  sr_sdp_port_cb port;
  void *port_user;
  sr_sdp_random_cb random;
  void *random_user;
  uint64_t session_id;        /* o= sess-id of the SRS (fixed for the dialog) */
  uint64_t version;           /* o= sess-version: the caller increments it for each answer */
  const char *user;           /* o= username, e.g. "libsiprec" */
  /* For re-INVITE/UPDATE: the streams the session has now. A stream whose
   * label (or, without labels, whose position) matches keeps its port and
   * local key; new streams get new ports; NULL/0 for a first offer. */
  const sr_sdp_stream *current;
  size_t n_current;
  /* The SDES suites the media side can decrypt (NULL: every suite known
   * here): an SRTP m-line with no a=crypto it takes is declined, so a
   * stream is never accepted and then undecryptable. */
  sr_sdp_suite_ok_cb suite_ok;
} sr_sdp_config;

/* Answer an SDP offer. Fills streams[0..*n) (one per offered m-line, in
 * order, declined ones included) and writes the answer text into `out`
 * (NUL-terminated, CRLF line endings), of size `out_size`.
 * Returns the answer length, or:
 *   SIPREC_EINVAL   the offer cannot be parsed (message for a 400 in *why):
 *                   no m= line, a NUL byte inside (trailing NULs are
 *                   ignored), an m= line that is not plain RFC 4566 (words
 *                   of token characters separated by spaces), an a=label
 *                   longer than SR_SDP_LABEL_MAX - 1; also bad arguments
 *                   (cfg->media_addr and cfg->user must be tokens, cfg->port
 *                   set),
 *   SIPREC_ENOTFOUND no stream can be accepted (488: no acceptable media),
 *   SIPREC_ETOOBIG  more than `max` m-lines, or `out` too small,
 *   SIPREC_EAGAIN   the port callback had no port (503),
 *   SIPREC_ENOMEM, SIPREC_ERANDOM.
 * `why` (may be NULL) gets a static English reason for the failure.
 * On failure `out` is "" and *n is 0 for EINVAL/ETOOBIG-before-parsing, else
 * the number of m-lines filled in; after SIPREC_EAGAIN, ETOOBIG (output) or
 * ERANDOM, the streams with new_port = 1 hold ports the callback handed out,
 * which the caller takes back (streams left without a port have accepted = 0). The callback is called only once the answer is
 * known to accept something (never for ENOTFOUND), in m-line order.
 * cfg->random NULL means the kernel's CSPRNG. A c= address that does not fit
 * remote_addr leaves it "". Memory: Sofia-SIP's parser mallocs internally
 * (not hookable); everything is released before the call returns. */
int sr_sdp_answer(const char *offer, size_t offer_len, const sr_sdp_config *cfg,
                  sr_sdp_stream *streams, size_t max, size_t *n, char *out, size_t out_size,
                  const char **why);

/* The one rule by which a stream of a new offer continues a stream the
 * session has now (the answer keeps its port and key; the session reports
 * what changed between the two): the current stream with the same a=label,
 * or, for a stream without a label, the one at the same position when it
 * has no label either. A current stream is continued once at most: `used`
 * (n_old flags, zeroed before the first call) marks those already taken;
 * call it for every offered stream, declined ones included, in m-line
 * order. Returns the continued stream, or NULL for a new one. */
const sr_sdp_stream *sr_sdp_continued(const sr_sdp_stream *old, size_t n_old,
                                      const sr_sdp_stream *st, size_t index, uint8_t *used);

/* The encoding name of an alternative codec (sr_sdp_stream.alt) as the
 * accepted list spells it: `codecs` is the sr_sdp_config.codecs the answer
 * was made with (NULL: the default set). NULL when the index lies past
 * that list (a stream answered under another configuration). Decoding
 * reads encoding names case-insensitively, so the list's spelling serves
 * as well as the offer's. */
const char *sr_sdp_alt_encoding(const char *const *codecs, const struct sr_sdp_alt_codec *alt);

/* For an INVITE without SDP (delayed offer): write an offer of `n` recvonly
 * audio streams with the configured codecs into `out`, and fill streams
 * with what was offered. Returns the length or a negative SIPREC_E* code. */
int sr_sdp_offer(const sr_sdp_config *cfg, size_t n_streams, sr_sdp_stream *streams, char *out,
                 size_t out_size);

/* Read the SRC's answer (in the ACK) to sr_sdp_offer()'s offer: updates
 * streams (codec chosen by the SRC: its first format among PCMU, PCMA, G722,
 * opus; telephone-event; remote address/port; answer_dir = the SRC's
 * direction; paused when it answered inactive/recvonly or c= 0.0.0.0).
 * Returns the number of streams the SRC accepted (0: nothing to record), or
 * SIPREC_EINVAL (unparsable, or not exactly `n` m= lines; streams untouched)
 * or SIPREC_ENOMEM. A stream the SRC declined (port 0, another transport, no
 * known codec) gets accepted = 0 but keeps its `port`, for the caller to
 * take back. */
int sr_sdp_read_answer(const char *answer, size_t len, sr_sdp_stream *streams, size_t n,
                       const char **why);

/* A new offer of the SRS in a dialog it holds (a re-INVITE, e.g. after
 * another node took the session over): the m-lines of `streams` in their
 * order, each accepted one with its port, media, label, chosen codec and
 * payload type, telephone-event when it had it, RTP/SAVP with the SRS's
 * own a=crypto line (the stream's tag and suite, its local_key, made with
 * cfg->random when empty) when SRTP, a=rtcp-mux when it had it; recvonly,
 * or inactive for a paused stream. A declined stream is written with port
 * 0. c= and o= come from cfg (media_addr, session_id, version: the caller
 * increments the version). Returns the length, or SIPREC_EINVAL (bad
 * arguments, a stream whose media or codec is not an SDP token),
 * SIPREC_ETOOBIG (out too small; out = "") or SIPREC_ERANDOM. */
int sr_sdp_reoffer(const sr_sdp_config *cfg, sr_sdp_stream *streams, size_t n, char *out,
                   size_t out_size);

/* Read the SRC's answer to sr_sdp_reoffer()'s offer into streams[0..n)
 * (all or nothing): per accepted stream the SRC's address and port (c=,
 * m=, a=rtcp), its direction (offer_dir; paused when it answered
 * inactive/recvonly or c= 0.0.0.0), the payload type it gave the offered
 * codec, telephone-event (te_pt -1 when it dropped it), a=rtcp-mux when
 * both have it, and for SRTP its key from the a=crypto line answering the
 * offered tag and suite (`suite_ok` as for an offer). A stream the SRC
 * declined (port 0, another transport, not the codec, no usable key) gets
 * accepted = 0 and keeps its port, for the caller to take back. Returns
 * how many streams stay accepted, or SIPREC_EINVAL (unparsable, or not
 * exactly `n` m= lines: streams untouched) or SIPREC_ENOMEM. */
int sr_sdp_read_reanswer(const char *answer, size_t len, sr_sdp_suite_ok_cb suite_ok,
                         sr_sdp_stream *streams, size_t n, const char **why);

#endif
