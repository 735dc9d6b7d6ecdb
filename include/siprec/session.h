/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/session.h
 * siprec_session: one recording session (RFC 7866 RS) as the handler keeps
 * it: its dialog, its media streams and its raw metadata. Sessions are
 * created by the handler (see siprec/handler.h) and handed to the host in
 * callbacks; they are opaque and reference-counted.
 *
 * Thread safety: a session may be read from any thread while the host holds
 * a reference. The accessors return a consistent view: the session's state
 * changes only inside the handler's calls, under the session's own lock,
 * which the accessors take too (it is recursive, so they work inside
 * callbacks). Strings and arrays returned by accessors stay valid until the
 * host drops its reference or, when an update (re-INVITE, UPDATE, the ACK of
 * a delayed offer) replaces them, until the session-updated callback that
 * reports that update returns; copy what must live longer.
 */
#ifndef SIPREC_SESSION_H
#define SIPREC_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>
#include <siprec/metadata.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Stable API
 * ====================================================================== */

/** A recording session. Opaque. */
typedef struct siprec_session siprec_session;

/** Direction of a stream as the SRS answered it. */
typedef enum siprec_direction {
  SIPREC_DIR_RECVONLY = 0, /**< media flows from the SRC to the SRS */
  SIPREC_DIR_INACTIVE = 1, /**< paused, or declined */
} siprec_direction;

/** Why a session ended. */
typedef enum siprec_end_reason {
  SIPREC_END_BYE = 0,          /**< the SRC sent BYE */
  SIPREC_END_CANCEL = 1,       /**< the SRC cancelled the INVITE */
  SIPREC_END_ACK_TIMEOUT = 2,  /**< no ACK for the 2xx within 64*T1 */
  SIPREC_END_SESSION_TIMER = 3,/**< the session timer (RFC 4028) expired */
  SIPREC_END_IDLE = 4,         /**< the idle limit passed without a message */
  SIPREC_END_HOST = 5,         /**< the host asked (siprec_handler_end_session) */
  SIPREC_END_SHUTDOWN = 6,     /**< siprec_handler_shutdown(), or the handler was freed with
                                *   the session open */
  SIPREC_END_REFUSED = 7,      /**< the host refused, or deferred past its limit */
  SIPREC_END_NO_MEDIA = 8,     /**< a delayed offer's answer (in the ACK) accepted no stream */
  SIPREC_END_KEEPALIVE = 9,    /**< the SRC answered an OPTIONS ping 481/408, or not at all */
  SIPREC_END_OVERLOAD = 10,    /**< answered but not ACKed yet, shed to make room for a new
                                *   INVITE while unsettled INVITEs were at their bound (a flood):
                                *   no BYE goes out, the SRC never proved its address */
  SIPREC_END_HANDOVER = 11,    /**< handed over to the next process (SIPREC_SHUTDOWN_HANDOVER),
                                *   or to a node that took it over
                                *   (siprec_handler_release_session()): its snapshot stays */
  SIPREC_END_SUPERSEDED = 12,  /**< its SRC failed over and continues the recording in a new
                                *   session (siprec_session_continues() of that one) */
} siprec_end_reason;

/** What the last update of a session changed (siprec_session_changes()). */
typedef enum siprec_change {
  SIPREC_CHANGE_METADATA = 1 << 0,        /**< new metadata arrived */
  SIPREC_CHANGE_STREAMS_ADDED = 1 << 1,   /**< a new m-line (or a declined one now accepted) */
  SIPREC_CHANGE_STREAMS_REMOVED = 1 << 2, /**< an accepted stream is now declined (port 0) */
  SIPREC_CHANGE_STREAMS_PAUSED = 1 << 3,  /**< a recvonly stream is now inactive */
  SIPREC_CHANGE_STREAMS_RESUMED = 1 << 4, /**< an inactive stream is recvonly again */
  SIPREC_CHANGE_CODEC = 1 << 5,           /**< a stream's codec or payload type changed */
  SIPREC_CHANGE_REFRESH = 1 << 6,         /**< nothing but a session refresh */
} siprec_change;

/** The reason as a lowercase word ("bye", "cancel", "ack-timeout", ...). */
SIPREC_API const char *siprec_end_reason_name(siprec_end_reason reason);

/** Take a reference: the session stays readable until siprec_session_unref(). */
SIPREC_API void siprec_session_ref(siprec_session *s);

/** Drop a reference taken with siprec_session_ref() (NULL is accepted). */
SIPREC_API void siprec_session_unref(siprec_session *s);

/** The dialog's Call-ID (not NUL-terminated: see `len`). */
SIPREC_API const char *siprec_session_call_id(const siprec_session *s, size_t *len);

/**
 * An identifier for the session that is safe as a file name and in logs:
 * 32 lowercase hex digits, NUL-terminated, unique per handler and stable for
 * the session's life. Never the raw Call-ID, which comes from the network.
 */
SIPREC_API const char *siprec_session_id(const siprec_session *s);

/** Non-zero when the recording client marked the session SIPREC (Require,
 * Contact feature tag or metadata); zero for a recording recognised by other
 * means (Cisco network-based recording headers, a Cisco built-in-bridge leg:
 * siprec_session_bib_leg()). */
SIPREC_API int siprec_session_is_siprec(const siprec_session *s);

/** Number of offered streams (m-lines), declined ones included. */
SIPREC_API size_t siprec_session_stream_count(const siprec_session *s);

/**
 * One stream of a session as the SRS answered it. The struct grows at its
 * end in later versions without breaking hosts built against an older
 * header: the host sets `size` to sizeof(siprec_stream_info) before the
 * call, and the library fills only the fields that fit in `size`.
 * Strings are NUL-terminated and live as the session.h rule for accessors
 * says (until the updated callback of the update that replaces them
 * returns, or the host drops its reference).
 */
typedef struct siprec_stream_info {
  size_t size;                /**< set by the caller: sizeof(siprec_stream_info) */
  const char *media;          /**< "audio", "video", ... */
  const char *label;          /**< the m-line's a=label, NULL when none */
  siprec_direction direction; /**< SIPREC_DIR_RECVONLY or SIPREC_DIR_INACTIVE */
  uint16_t port;              /**< the SRS's RTP receive port, 0 when declined */
  uint16_t rtcp_port;         /**< the SRS's RTCP port: port + 1, or port with rtcp-mux;
                               *   0 when declined */
  int rtcp_mux;               /**< non-zero when RTCP shares the RTP port (RFC 5761): the
                               *   offer had a=rtcp-mux and the answer took it */
  const char *codec;          /**< encoding name as offered ("PCMU", "opus"), NULL when
                               *   declined */
  int payload_type;           /**< the codec's RTP payload type, -1 when declined */
  uint32_t clock_rate;        /**< the codec's RTP clock rate, 0 when declined */
  unsigned channels;          /**< the codec's channel count (1 unless the rtpmap says), 0
                               *   when declined */
  int telephone_event_pt;     /**< payload type of RFC 4733 telephone-event at the
                               *   codec's rate, -1 when not offered */
  uint32_t ptime_ms;          /**< the offer's a=ptime, 0 when it gave none */
  const char *srtp_suite;     /**< the SDES crypto suite for SRTP
                               *   ("AES_CM_128_HMAC_SHA1_80", ...), NULL for RTP.
                               *   The keys stay inside the library. */
  const char *remote_address; /**< the SRC's media address (the offer's c=), "" when none */
  uint16_t remote_port;       /**< the SRC's RTP port (the offer's m=) */
  uint16_t remote_rtcp_port;  /**< the SRC's RTCP port: a=rtcp (RFC 3605), else
                               *   remote_port with rtcp-mux, else remote_port + 1 */
  unsigned changes;           /**< siprec_change bits of the last update for this stream */
} siprec_stream_info;

/**
 * Stream `index` (0 = the first m-line) of the session.
 * @param info  its `size` set by the caller (see siprec_stream_info)
 * @return 0, or SIPREC_EINVAL (index out of range, NULL, or `size` smaller
 *         than the first version of the struct)
 */
SIPREC_API int siprec_session_stream(const siprec_session *s, size_t index,
                                     siprec_stream_info *info);

/**
 * The raw recording metadata (RFC 7865 XML) last received, exactly as sent,
 * or NULL with *len 0 when none arrived yet (or the last document was over
 * the metadata size limit).
 */
SIPREC_API const char *siprec_session_metadata_xml(const siprec_session *s, size_t *len);

/**
 * The session's metadata model (siprec/metadata.h), with a reference the
 * caller drops with siprec_metadata_unref(): NULL (the absent model) until
 * metadata arrived. Each update makes a new snapshot; the one returned stays
 * as it is. Its m-lines are bound to the session's streams
 * (siprec_metadata_mline_sender(): who speaks on stream N, and by which
 * rule). For a Cisco network-based recording the model has status
 * SIPREC_METADATA_HEADERS, its participants taken from the
 * X-Cisco-Recording-Participant headers and bound by their media-index.
 * A document that could not be read gives status SIPREC_METADATA_UNREADABLE
 * with the previous content kept; the recording goes on.
 */
SIPREC_API siprec_metadata *siprec_session_metadata(const siprec_session *s);

/** What the metadata of the last update (the one the last session-updated
 * callback reported) changed; NULL when that update left the metadata as it
 * was. Valid until the next update's session-updated callback returns. */
SIPREC_API const siprec_metadata_changes *siprec_session_metadata_changes(const siprec_session *s);

/**
 * Participants named by a non-SIPREC recording client's headers (Cisco
 * X-Cisco-Recording-Participant), in order. Returns the count; `value`
 * receives the raw header value of participant `index` when index < count.
 */
SIPREC_API size_t siprec_session_header_participant(const siprec_session *s, size_t index,
                                                    const char **value, size_t *len);

/**
 * The recording session this one continues, when its SRC failed over on
 * its own: a new INVITE (a new Call-ID) for the same communication session
 * (the same metadata session id, or the same Session-ID header without
 * metadata) while the session that recorded it had gone silent
 * (siprec_handler_config_set_failover_silence()). That session ends with
 * SIPREC_END_SUPERSEDED once this one is answered. A host joins the two
 * recordings (one folder, one timeline). Known from the offered callback on.
 * @return that session's siprec_session_id(), or NULL (valid as long as
 *         the caller holds `s`)
 */
SIPREC_API const char *siprec_session_continues(const siprec_session *s);

/** Which leg of a Cisco CUCM built-in-bridge (BiB) recording a session is. */
typedef enum siprec_bib_leg {
  SIPREC_BIB_NONE = 0,     /**< not a built-in-bridge recording */
  SIPREC_BIB_NEAR_END = 1, /**< the recorded phone's own voice (From: x-nearend) */
  SIPREC_BIB_FAR_END = 2,  /**< the other party's voice (From: x-farend) */
} siprec_bib_leg;

/**
 * A Cisco CUCM built-in-bridge recording: the phone's bridge sends two plain
 * INVITEs per recorded call, one per leg, each with one audio stream and
 * marked in its From parameters (x-nearend or x-farend, x-refci,
 * x-farendrefci, x-nearendaddr, x-farendaddr). The handler recognises them
 * as recordings (siprec_session_is_siprec() is 0), and names the leg's
 * speaker as the one header participant: x-nearendaddr on the near-end leg,
 * x-farendaddr on the far-end leg (siprec_session_header_participant() and
 * a model with status SIPREC_METADATA_HEADERS, bound to m-line 0).
 * @param pairing_key  set to a NUL-terminated key that is the same for both
 *                     legs of one recorded call and differs between calls
 *                     (built from x-nearendclusterid, x-refci and
 *                     x-farendrefci): the host pairs the legs by it
 * @param refci, farend_refci  set to the x-refci and x-farendrefci values
 *                     ("" when absent)
 * Any output pointer may be NULL; the strings live as long as the session.
 * @return the leg, SIPREC_BIB_NONE (outputs untouched) for any other session
 */
SIPREC_API siprec_bib_leg siprec_session_bib_leg(const siprec_session *s, const char **pairing_key,
                                                 const char **refci, const char **farend_refci);

/**
 * What the update the last session-updated callback reported changed: an OR
 * of siprec_change bits (0 before any update).
 */
SIPREC_API unsigned siprec_session_changes(const siprec_session *s);

/** Non-zero while the session is deferred: offered, waiting for the host's
 * siprec_handler_accept_session() or siprec_handler_refuse_session(). */
SIPREC_API int siprec_session_is_pending(const siprec_session *s);

/** The session timer negotiated (RFC 4028), in seconds, 0 when none;
 * `srs_refreshes` (may be NULL) is set non-zero when the SRS is the refresher. */
SIPREC_API uint32_t siprec_session_timer(const siprec_session *s, int *srs_refreshes);

/** The host's pointer attached to the session (NULL until set). */
SIPREC_API void *siprec_session_user(const siprec_session *s);

/** Attach a host pointer to the session. */
SIPREC_API void siprec_session_set_user(siprec_session *s, void *user);

#ifdef __cplusplus
}
#endif

#endif
