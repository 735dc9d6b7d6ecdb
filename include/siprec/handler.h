/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/handler.h
 * siprec_handler: a SIPREC Session Recording Server (RFC 7866), sans-IO.
 *
 * The host owns sockets, threads and clocks. It feeds each SIP message it
 * receives to siprec_handler_process() with its path (transport, local and
 * remote address, connection) and the current time, and sends the response
 * the call writes back on the same path. Messages the handler writes at
 * other times (retransmitted 2xx, BYE, pings) go out through the send
 * callback. Time moves only when the host says so: it calls
 * siprec_handler_expire() when siprec_handler_next_deadline() is reached.
 *
 * The handler answers INVITE (new recording sessions, re-INVITEs), UPDATE,
 * ACK, BYE, CANCEL and OPTIONS, refuses other methods with 405 or 501 and
 * names every problem in its reason phrases; it keeps its sessions in a
 * siprec_shmap keyed by Call-ID, parses their recording metadata
 * (siprec/metadata.h), keeps them alive with session timers or OPTIONS
 * pings, and reports them through callbacks (siprec/session.h).
 *
 * Order of the session callbacks, a rule hosts can build on:
 * 1. For a new INVITE the handler reads the offer and allocates the
 *    receive ports (port alloc callback, once per accepted stream), then
 *    calls `offered`. Every session the host saw in `offered` reaches
 *    `ended` exactly once, whatever happens (refused from `offered`,
 *    deferred and timed out, cancelled, shed, BYE, shutdown).
 * 2. `started` when the 200 goes out (at once for ACCEPT, at
 *    siprec_handler_accept_session() for DEFER): before the SRC's ACK, as
 *    media may flow from the 200 on. Not for refused sessions.
 * 3. `updated` for each change of a started session (re-INVITE, UPDATE,
 *    the ACK answering a delayed offer), never before `started`.
 * 4. `ended` once; then the port free callback for each port the session
 *    still holds; no callback about the session after that. Ports of a
 *    stream removed by an update are freed when that update is answered.
 * An INVITE refused before `offered` (bad request, limits, no codec) gives
 * no session callback; receive ports already allocated for it go back
 * through the port free callback. A session keeps the same siprec_session pointer from
 * `offered` to `ended`.
 *
 * Thread safety: siprec_handler_process(), siprec_handler_expire() and the
 * host requests (accept, refuse, end, request metadata, touch) may be called
 * from many threads at once, also for the same session; a session's
 * messages are serialised by the session's lock. Callbacks run on the
 * calling thread with no handler-wide lock, no lock of the session map and
 * no lock of the timer heap held. The session callbacks (offered, started,
 * updated, ended), the ACL, port and send callbacks run with that session's
 * lock held (the send callback also for a BYE or retransmission of one
 * session only); they may read sessions through their accessors (the lock
 * is recursive) but must not call siprec_handler_process() or
 * siprec_handler_expire(); the host requests (all but
 * siprec_handler_touch_session(), which takes no lock) and
 * siprec_handler_shutdown() return SIPREC_EBUSY when called from any
 * callback, the log callback included. The log callback may run with any of
 * these locks held.
 * Config and callbacks objects are not thread-safe; the handler copies them
 * at creation.
 */
#ifndef SIPREC_HANDLER_H
#define SIPREC_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <siprec/common.h>
#include <siprec/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Stable API
 * ====================================================================== */

typedef struct siprec_handler siprec_handler;
typedef struct siprec_handler_config siprec_handler_config;
typedef struct siprec_handler_callbacks siprec_handler_callbacks;

/** Log levels, most severe first. */
typedef enum siprec_log_level {
  SIPREC_LOG_ERROR = 0,
  SIPREC_LOG_WARNING = 1,
  SIPREC_LOG_INFO = 2,
  SIPREC_LOG_DEBUG = 3,
} siprec_log_level;

/** What the host decides about a session offered to it
 * (siprec_session_offered_cb). */
typedef enum siprec_decision {
  /** Answer it now (200 with the SDP answer). */
  SIPREC_DECISION_ACCEPT = 0,
  /** Decide later: the handler answers 100 Trying and waits for
   * siprec_handler_accept_session() or siprec_handler_refuse_session() (at
   * most the defer timeout, see siprec_handler_config_set_defer_timeout()). */
  SIPREC_DECISION_DEFER = 1,
  /** Refuse it with the status the callback put in `*status`. */
  SIPREC_DECISION_REFUSE = 2,
} siprec_decision;

/** Log callback: one message, without a trailing newline. */
typedef void (*siprec_log_cb)(void *user, siprec_log_level level, const char *message);

/** Send a message the handler originated (a request of the SRS, or a
 * response written outside siprec_handler_process(): a retransmitted 2xx,
 * a deferred session's answer) on `path`. The host sends it as it is. */
typedef void (*siprec_send_cb)(void *user, const void *data, size_t len, const siprec_path *path);

/** A new recording session was offered (an INVITE the handler can answer).
 * Return SIPREC_DECISION_ACCEPT, SIPREC_DECISION_DEFER, or
 * SIPREC_DECISION_REFUSE with a SIP status from 400 to 699 in `*status`
 * (it holds 603 when the callback is called; another value is taken as
 * 500). A refused session still reaches the ended callback
 * (SIPREC_END_REFUSED). */
typedef siprec_decision (*siprec_session_offered_cb)(void *user, siprec_session *s, int *status);

/** The session was answered 200 (media may flow from now on; the SRC's ACK
 * may still be on its way). */
typedef void (*siprec_session_started_cb)(void *user, siprec_session *s);

/** The session changed (re-INVITE or UPDATE: streams or metadata; an ACK's
 * answer to a delayed offer). siprec_session_changes() tells what changed. */
typedef void (*siprec_session_updated_cb)(void *user, siprec_session *s);

/** The session ended; the handler lets go of it when the callback returns
 * (its ports are given back right after). */
typedef void (*siprec_session_ended_cb)(void *user, siprec_session *s, siprec_end_reason reason);

/** Give the RTP receive port for stream `index` of session `s`: an even
 * port whose successor (the RTCP port, unless the stream uses rtcp-mux) the
 * host keeps free too. Return 0 and *port, or a negative value when none is
 * free (the INVITE then gets 503). *port is 0 on entry, except when
 * siprec_handler_restore() claims the port a restored session had: then it
 * holds that port, and the host keeps it (another port, or a failure,
 * refuses the restore with SIPREC_EAGAIN). Without this callback the
 * handler hands out even ports from the configured range and reserves
 * each one's odd successor for RTCP. */
typedef int (*siprec_port_alloc_cb)(void *user, siprec_session *s, size_t index, uint16_t *port);

/** The port siprec_port_alloc_cb gave for stream `index` of `s` (and its
 * RTCP successor) is free again: the stream was removed or declined, the
 * answer that took it failed, or the session ended (after the ended
 * callback). */
typedef void (*siprec_port_free_cb)(void *user, siprec_session *s, size_t index, uint16_t port);

/** Fill `buf` with random bytes (tags, keys). Return 0 or a negative value.
 * Without it the handler uses getrandom(). */
typedef int (*siprec_random_cb)(void *user, void *buf, size_t len);

/** An in-dialog request (or a CANCEL) of session `s` came on `path`, whose
 * remote address is not the SRC by the handler's source rule: over UDP,
 * where addresses cost nothing to forge, only the SRC's exact address (IP
 * and port) is the SRC; over TCP or TLS, the dialog's connection or any
 * connection from the SRC's host (the handshake proves the address). Return
 * non-zero to take it (an SBC pair that failed over, or an SRC that sends
 * from several ports; the session's path then becomes `path`), zero to
 * answer 481. Without this callback such requests get 481. */
typedef int (*siprec_acl_cb)(void *user, const siprec_session *s, const siprec_path *path);

/**
 * A session's state changed: `data` (`len` bytes) is its new snapshot, to
 * be kept under `key` (`key_len` bytes: the session's Call-ID) in the
 * host's store (siprec/store.h), replacing the one before; NULL and 0 when
 * the session ended: its snapshot may be deleted. Called with the session's
 * lock held, from the thread whose call changed it: copy the bytes and
 * return (hand them to a writer thread); the buffers are the library's and
 * valid during the call only. Only with snapshots enabled
 * (siprec_handler_config_set_snapshots()).
 */
typedef void (*siprec_snapshot_cb)(void *user, siprec_session *s, const char *key,
                                   size_t key_len, const void *data, size_t len);

/**
 * The wall clock: UTC in ns since 1970. Snapshots carry it so that a
 * restoring process (another boot, another machine, whose monotonic clock
 * shares nothing with the writer's) knows how long ago each deadline was
 * set. Without this callback the library reads CLOCK_REALTIME.
 */
typedef uint64_t (*siprec_wallclock_cb)(void *user);

/* ---------------------------------------------------------------------- */
/* Configuration                                                            */

/**
 * Create a configuration with the defaults: 32 shards; contact user "srs";
 * user agent "libsiprec/VERSION"; media address: the address each INVITE
 * arrived on; RTP ports 20000-39999; codecs: every one this build decodes
 * (PCMU, PCMA, G722, G726-32 also as static payload type 2 and as
 * AAL2-G726-32, L16; opus and G729 when built: siprec/media.h) chosen in
 * the offer's order; no session limit; 65536-byte messages; T1 500 ms, T2 4 s;
 * plain (non-SIPREC) INVITEs refused.
 * @return 0, SIPREC_EINVAL or SIPREC_ENOMEM
 */
SIPREC_API int siprec_handler_config_new(siprec_handler_config **out, const siprec_allocator *mem);

/** Free a configuration (NULL is accepted). */
SIPREC_API void siprec_handler_config_free(siprec_handler_config *cfg);

/** Shard count of the session map (a power of two; see siprec/shmap.h).
 * @return 0 or SIPREC_EINVAL (0, or not a power of two) */
SIPREC_API int siprec_handler_config_set_shards(siprec_handler_config *cfg, unsigned shards);

/** The user part of the SRS's Contact URI (default "srs"); the host part is
 * the local address each request arrived on. @return 0, SIPREC_EINVAL or SIPREC_ENOMEM */
SIPREC_API int siprec_handler_config_set_contact_user(siprec_handler_config *cfg, const char *user);

/** The User-Agent/Server header value. @return 0, SIPREC_EINVAL or SIPREC_ENOMEM */
SIPREC_API int siprec_handler_config_set_user_agent(siprec_handler_config *cfg, const char *ua);

/** The address put in SDP answers (c= and o=), IPv4 or IPv6 text; NULL for
 * the local address of each INVITE. @return 0, SIPREC_EINVAL or SIPREC_ENOMEM */
SIPREC_API int siprec_handler_config_set_media_address(siprec_handler_config *cfg,
                                                       const char *address);

/** The RTP port range (even ports are used, one per stream).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_rtp_ports(siprec_handler_config *cfg, uint16_t low,
                                                   uint16_t high);

/** Accepted codecs by encoding name (e.g. "PCMU", "opus"), NULL-terminated.
 * With `prefer_own_order` zero, the offer's order picks among them (the
 * default); otherwise this list's order does.
 * @return 0, SIPREC_EINVAL or SIPREC_ENOMEM */
SIPREC_API int siprec_handler_config_set_codecs(siprec_handler_config *cfg,
                                                const char *const *codecs, int prefer_own_order);

/** Most sessions at once (0: no limit); beyond it INVITEs get 503.
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_max_sessions(siprec_handler_config *cfg, size_t max);

/** Largest message taken (default 65536); larger ones get 513.
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_max_message_size(siprec_handler_config *cfg, size_t max);

/** RFC 3261 timers T1 and T2 in milliseconds (defaults 500 and 4000).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_timers(siprec_handler_config *cfg, uint32_t t1_ms,
                                                uint32_t t2_ms);

/** Whether an INVITE without any SIPREC marker is refused (default 1).
 * Cisco network-based recordings are taken either way.
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_refuse_plain(siprec_handler_config *cfg, int refuse);

/** Session timers (RFC 4028). `session_expires_s` is the interval the SRS
 * puts in its 2xx when an SRC that supports timers asked for none (0: add
 * none); `min_se_s` is the smallest interval taken: a smaller
 * Session-Expires gets 422 with Min-SE. Defaults 1800 and 90 (RFC 4028's
 * floor; smaller values are for tests). A session whose refresh does not come
 * in time is ended with BYE (SIPREC_END_SESSION_TIMER); when the SRC makes
 * the SRS the refresher, the SRS refreshes with UPDATE at half the interval.
 * @return 0 or SIPREC_EINVAL (min_se_s 0, or session_expires_s below it) */
SIPREC_API int siprec_handler_config_set_session_timer(siprec_handler_config *cfg,
                                                       uint32_t session_expires_s,
                                                       uint32_t min_se_s);

/** Interval of the in-dialog OPTIONS pings sent to an SRC that negotiated
 * no session timer, in ms (default 60000; 0: none). A 481, a 408 or no
 * answer within 64*T1 ends the session (SIPREC_END_KEEPALIVE); any other
 * answer proves the SRC alive. @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_ping_interval(siprec_handler_config *cfg, uint32_t ms);

/** End a session after `ms` without any message in its dialog (and, once
 * the host reports media with siprec_handler_touch_session(), without
 * media) (default 0: no limit, as SRCs without timers hold long calls
 * quietly). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_idle_limit(siprec_handler_config *cfg, uint32_t ms);

/** How long a deferred session (SIPREC_DECISION_DEFER) waits for the host's
 * decision, in ms (default 10000); past it the INVITE gets 503 and the
 * session ends (SIPREC_END_REFUSED). @return 0 or SIPREC_EINVAL (0) */
SIPREC_API int siprec_handler_config_set_defer_timeout(siprec_handler_config *cfg, uint32_t ms);

/** Most INVITE transactions at once from one source address that are not
 * settled yet (deferred, or answered and not ACKed), so that a flood from one
 * address cannot hold every port for 64*T1 (default 32; 0: no bound).
 * Beyond it INVITEs get 503 with a Retry-After that says when one of the
 * source's slots is sure to be free (64*T1, or the defer timeout when
 * longer). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_max_pending_per_source(siprec_handler_config *cfg,
                                                                size_t max);

/**
 * Bounds on all unsettled INVITE transactions together, whatever their
 * sources (UDP source addresses cost nothing to forge): at most `sessions`
 * of them, holding at most `ports` receive ports of the built-in pool.
 * 0 picks the default: a quarter of the capacity, so established calls and
 * new legitimate ones keep three quarters of it (sessions: a quarter of
 * the session limit, or 1,000 without one; ports: a quarter of the built-in
 * pool, no bound with a port callback). SIZE_MAX lifts a bound (a benchmark
 * or a host with its own admission control).
 *
 * At a bound, a new INVITE sheds the oldest session that was answered 200
 * and is still waiting for its ACK (it ends with SIPREC_END_OVERLOAD and no
 * BYE: the SRC never proved its address); deferred sessions are never shed.
 * When nothing can be shed the INVITE gets 503. While unsettled INVITEs are
 * above half a bound, a 2xx that waits for its ACK is retransmitted only as
 * long as the bytes sent for it stay within 4 times the bytes of the INVITE
 * (under normal load RFC 3261's full retransmission schedule applies).
 * The same shedding applies when the session limit
 * (siprec_handler_config_set_max_sessions()) is reached.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_handler_config_set_max_pending(siprec_handler_config *cfg, size_t sessions,
                                                     size_t ports);

/** Limits for parsing recording metadata (siprec/metadata.h), copied; NULL
 * for the defaults (1 MiB, depth 32, 100,000 elements, 64 attributes).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_metadata_limits(siprec_handler_config *cfg,
                                                         const siprec_metadata_limits *limits);

/**
 * Session snapshots (siprec/store.h): with `enable` non-zero the handler
 * writes each session's snapshot to the snapshot callback on every change,
 * and asks for the state of dialogs it does not hold
 * (SIPREC_PROCESS_STATE_WANTED) instead of answering them 481.
 * `media_interval_ms` bounds how often a stream's media position alone
 * (no other change) brings a new snapshot (default 5000; 0 picks the
 * default; at most 300000, far inside the 2^15 packets within which a
 * restored SRTP rollover counter stays right). Default: disabled.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_handler_config_set_snapshots(siprec_handler_config *cfg, int enable,
                                                   uint32_t media_interval_ms);

/**
 * The key that seals the SRTP keys in snapshots (SIPREC_SNAPSHOT_KEY_LEN
 * bytes, copied; NULL removes it). Every node restoring a snapshot needs
 * the same key. Without one, snapshots carry no SRTP key.
 * @return 0, SIPREC_EINVAL (sealing is not built: no libsodium)
 */
SIPREC_API int siprec_handler_config_set_snapshot_key(siprec_handler_config *cfg,
                                                      const uint8_t *key);

/**
 * How long a recording session must have had no media before a new INVITE
 * for the same communication session (RFC 7865 session id, or RFC 7989
 * Session-ID) is taken as its SRC failing over (siprec_session_continues()),
 * in ms (default 2000; 0: never). Live recording sessions of one call (RFC
 * 7866 allows several; Cisco's built-in-bridge legs are never matched) keep
 * their media, so they are never taken for a failover.
 * @return 0 or SIPREC_EINVAL (above an hour)
 */
SIPREC_API int siprec_handler_config_set_failover_silence(siprec_handler_config *cfg, uint32_t ms);

/** The most verbose level delivered to the log callback (default
 * SIPREC_LOG_INFO). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_log_level(siprec_handler_config *cfg,
                                                   siprec_log_level level);

/* ---------------------------------------------------------------------- */
/* Callbacks                                                                */

/** Create an empty callbacks object. @return 0, SIPREC_EINVAL or SIPREC_ENOMEM */
SIPREC_API int siprec_handler_callbacks_new(siprec_handler_callbacks **out,
                                            const siprec_allocator *mem);

/** Free a callbacks object (NULL is accepted). */
SIPREC_API void siprec_handler_callbacks_free(siprec_handler_callbacks *cbs);

/** Set the send callback (needed for retransmissions, deferred answers and
 * the SRS's requests: BYE, pings, refreshes). */
SIPREC_API void siprec_handler_callbacks_set_send(siprec_handler_callbacks *cbs,
                                                  siprec_send_cb fn);

/** Set the log callback (absent: nothing is logged). Its level is the
 * config's (siprec_handler_config_set_log_level()). */
SIPREC_API void siprec_handler_callbacks_set_log(siprec_handler_callbacks *cbs, siprec_log_cb fn);

/** Set the session-offered callback (absent: every recording is accepted). */
SIPREC_API void siprec_handler_callbacks_set_session_offered(siprec_handler_callbacks *cbs,
                                                             siprec_session_offered_cb fn);

/** Set the session-started callback. */
SIPREC_API void siprec_handler_callbacks_set_session_started(siprec_handler_callbacks *cbs,
                                                             siprec_session_started_cb fn);

/** Set the session-updated callback. */
SIPREC_API void siprec_handler_callbacks_set_session_updated(siprec_handler_callbacks *cbs,
                                                             siprec_session_updated_cb fn);

/** Set the session-ended callback. */
SIPREC_API void siprec_handler_callbacks_set_session_ended(siprec_handler_callbacks *cbs,
                                                           siprec_session_ended_cb fn);

/** Set the port callbacks (both, or neither: a free callback without an
 * alloc callback is ignored). */
SIPREC_API void siprec_handler_callbacks_set_ports(siprec_handler_callbacks *cbs,
                                                   siprec_port_alloc_cb alloc,
                                                   siprec_port_free_cb release);

/** Set the random source. */
SIPREC_API void siprec_handler_callbacks_set_random(siprec_handler_callbacks *cbs,
                                                    siprec_random_cb fn);

/** Set the ACL callback for in-dialog requests from other addresses. */
SIPREC_API void siprec_handler_callbacks_set_acl(siprec_handler_callbacks *cbs, siprec_acl_cb fn);

/** Set the snapshot callback (siprec_handler_config_set_snapshots()). */
SIPREC_API void siprec_handler_callbacks_set_snapshot(siprec_handler_callbacks *cbs,
                                                      siprec_snapshot_cb fn);

/** Set the wall clock (absent: CLOCK_REALTIME). */
SIPREC_API void siprec_handler_callbacks_set_wallclock(siprec_handler_callbacks *cbs,
                                                       siprec_wallclock_cb fn);

/* ---------------------------------------------------------------------- */
/* The handler                                                              */

/**
 * Create a handler.
 * @param cfg   configuration (NULL for the defaults); copied
 * @param cbs   callbacks (NULL for none); copied
 * @param user  passed to every callback
 * @param mem   allocator for all of the handler's own memory, or NULL.
 *              Sofia-SIP, which parses messages, allocates its parse trees
 *              with malloc; that memory is freed before each call returns.
 * @return 0, SIPREC_EINVAL, SIPREC_ENOMEM or SIPREC_ERANDOM
 */
SIPREC_API int siprec_handler_new(siprec_handler **out, const siprec_handler_config *cfg,
                                  const siprec_handler_callbacks *cbs, void *user,
                                  const siprec_allocator *mem);

/**
 * Free a handler. Every open session ends (reason SIPREC_END_SHUTDOWN; a BYE
 * goes to its SRC through the send callback when the SRC ACKed its 2xx). No other call may be running.
 * Sessions the host still holds a reference to stay readable through their
 * accessors; the last siprec_session_unref() frees them with the handler's
 * allocator, which must outlive them.
 */
SIPREC_API void siprec_handler_free(siprec_handler *h);

/** What siprec_handler_process() did with a message. */
typedef enum siprec_process_result {
  /** Nothing to send (an ACK, an absorbed retransmission, a dropped message). */
  SIPREC_PROCESS_DONE = 0,
  /** A response was written into the caller's buffer: send its *out_len
   * bytes back on the message's path. */
  SIPREC_PROCESS_RESPONSE = 1,
  /** Only with snapshots enabled (siprec_handler_config_set_snapshots()):
   * the message is for a dialog this handler does not hold. Its key (the
   * Call-ID, *out_len bytes) was written into the caller's buffer: fetch
   * that snapshot from the store, siprec_handler_restore() it and feed the
   * message again; when the store has none, feed it with
   * siprec_handler_process_absent() instead (481). Nothing was sent. */
  SIPREC_PROCESS_STATE_WANTED = 2,
  /* Later versions add results only for hosts that enable the feature that
   * produces them, so a host sees only the results of what it enabled. */
} siprec_process_result;

/**
 * Feed one received SIP message.
 * @param data, len  the message: one UDP datagram, or one message framed by
 *                   siprec_handler_frame() on a stream
 * @param path       where it came from and on what (see siprec_path)
 * @param now_ns     the host's monotonic clock, in nanoseconds
 * @param out, out_size  where a response is written (8 KiB is enough for
 *                   every response the handler writes)
 * @param out_len    set to the response's length (0 when there is none)
 * @return a siprec_process_result, or SIPREC_ETOOBIG when `out_size` is
 *         too small, SIPREC_EINVAL or SIPREC_ENOMEM (nothing was changed)
 */
SIPREC_API int siprec_handler_process(siprec_handler *h, const void *data, size_t len,
                                      const siprec_path *path, uint64_t now_ns, void *out,
                                      size_t out_size, size_t *out_len);

/**
 * Feed a message that siprec_handler_process() answered with
 * SIPREC_PROCESS_STATE_WANTED and whose state the host's store does not
 * have: it is answered as a request for an unknown dialog (481; an ACK or
 * a response: nothing). Arguments and result as siprec_handler_process().
 */
SIPREC_API int siprec_handler_process_absent(siprec_handler *h, const void *data, size_t len,
                                             const siprec_path *path, uint64_t now_ns, void *out,
                                             size_t out_size, size_t *out_len);

/**
 * Take a session from its snapshot (siprec/store.h), written by this
 * handler's process before a restart or by another node: the session is
 * held as it was, its dialog answers the next requests with the same tags,
 * CSeqs and SDP versions, its deadlines run on (moved by the wall-clock
 * time since the snapshot was written), and its media goes on from its
 * resume points (latched source, sequence, SRTP rollover counter, position)
 * when datagrams arrive on its ports. The receive ports are claimed again:
 * from the built-in pool, or through the port callback with *port holding
 * the port the session had (the callback keeps it to get the SRC's media
 * without a new offer). No callback but the port one is called: the host
 * learns of the session through `out` (when not NULL: a reference the
 * caller drops), and the audio of its streams through the media callbacks.
 * @return 0, SIPREC_EINVAL (NULL arguments, or called from a callback:
 *         SIPREC_EBUSY), SIPREC_EPARSE (not a snapshot, truncated,
 *         corrupted, or sealed with another key), SIPREC_ETOOBIG (a newer
 *         format version), SIPREC_EEXIST (the handler holds that dialog),
 *         SIPREC_EAGAIN (its ports or the session limit are taken) or
 *         SIPREC_ENOMEM
 */
SIPREC_API int siprec_handler_restore(siprec_handler *h, const void *data, size_t len,
                                      uint64_t now_ns, siprec_session **out);

/**
 * Take over a session from a snapshot another node wrote (that node died,
 * or handed the session over): like siprec_handler_restore(), but the
 * session moves here. Its dialog's local address becomes `local` (this
 * node's SIP address: the Via and Contact of what it sends next), every
 * accepted stream gets a new receive port of this handler (the port
 * callback with *port 0, or the built-in pool), and a confirmed session's
 * SRC is sent a re-INVITE at once (through the dialog's route set, the
 * next local CSeq) with a new offer: the same m-lines in the same order
 * (media, label, chosen codec and payload type, telephone-event, RTP/SAVP
 * with the SRS's a=crypto line for SRTP, a=rtcp-mux), recvonly (inactive
 * for a paused stream), c= the configured media address or else
 * `local`'s IP, the o= line's version one up. A session whose INVITE
 * transaction is still open (its 2xx waiting for the ACK) is re-INVITEd
 * once that is over. The re-INVITE is retransmitted over UDP (T1, 2T1,
 * 4T1, ...) until a response; unanswered within 64*T1 the session ends
 * with BYE (SIPREC_END_KEEPALIVE). Its 2xx is ACKed (and ACKed again for
 * each copy) and its answer applied: the streams take the SRC's new
 * addresses, media is latched again, the updated callback runs. A 491
 * retries after 2.1 to 4 s; any other final response is ACKed and leaves
 * the session as it was (481 or 408 end it). While it is pending, an
 * INVITE or an UPDATE with an offer from the SRC gets 491.
 * @return as siprec_handler_restore(), SIPREC_EINVAL also for a `local`
 *         that is not IPv4 or IPv6
 */
SIPREC_API int siprec_handler_take_over(siprec_handler *h, const void *data, size_t len,
                                        const struct sockaddr *local, uint64_t now_ns,
                                        siprec_session **out);

/**
 * Send the SRC of a confirmed session the re-INVITE that
 * siprec_handler_take_over() sends (e.g. after this node's media address
 * changed): a new offer with the session's ports and the configured media
 * address, the same transaction rules.
 * @return 0, SIPREC_EAGAIN while another request of the SRS or an INVITE
 *         transaction of the session is pending (or the session is not yet
 *         ACKed), SIPREC_ENOTFOUND for a session that is not up (ended,
 *         deferred), SIPREC_EINVAL (NULL arguments), SIPREC_EBUSY (called
 *         from a callback), or the writing's error (SIPREC_ETOOBIG,
 *         SIPREC_ERANDOM, SIPREC_ENOMEM)
 */
SIPREC_API int siprec_handler_reoffer(siprec_handler *h, siprec_session *s, uint64_t now_ns);

/**
 * The earliest time, in the host's clock, at which siprec_handler_expire()
 * has work to do, or UINT64_MAX when nothing is pending.
 */
SIPREC_API uint64_t siprec_handler_next_deadline(siprec_handler *h);

/**
 * Do what is due at `now_ns`: retransmit unacknowledged final responses and
 * unanswered requests of the SRS, end sessions whose ACK never came, whose
 * session timer ran out, whose SRC no longer answers pings or that stayed
 * idle too long (with a BYE), refuse deferred sessions past their time, send
 * pings and session refreshes. Returns the number of actions.
 */
SIPREC_API int siprec_handler_expire(siprec_handler *h, uint64_t now_ns);

/**
 * The open sessions (an operator's "what is recording now"): up to `max` of
 * them into `out`, each with a reference the caller drops with
 * siprec_session_unref(). Sessions that ended but still wait for the last
 * message of their dialog are not listed.
 * @return the number of open sessions (may exceed `max`: call again with a
 *         larger array to get them all); `out` may be NULL when `max` is 0
 */
SIPREC_API size_t siprec_handler_sessions(siprec_handler *h, siprec_session **out, size_t max);

/**
 * The open session of SIP Call-ID `call_id` (`len` bytes, as the INVITE
 * carried it, compared byte for byte), with a reference the caller drops
 * with siprec_session_unref(); NULL when there is none (or it ended and
 * only waits for the last message of its dialog, as siprec_handler_sessions()
 * leaves out). A map lookup, not a walk: for a host that learns of a call
 * by its Call-ID elsewhere (an operator, another node of a cluster).
 * Thread-safe, as siprec_handler_sessions().
 */
SIPREC_API siprec_session *siprec_handler_find_session(siprec_handler *h, const char *call_id,
                                                       size_t len);

/** How siprec_handler_shutdown() ends the sessions. */
typedef enum siprec_shutdown_mode {
  /** End every session: a BYE to each SRC that ACKed its 2xx, retransmitted
   * over UDP until answered or 64*T1 passed; a deferred session's INVITE
   * gets 480; sessions end with SIPREC_END_SHUTDOWN. */
  SIPREC_SHUTDOWN_BYE = 0,
  /** Hand over to the next process (a planned restart, with snapshots
   * enabled): every session's snapshot is written once more, then each is
   * let go without a BYE (the ended callback reports SIPREC_END_HANDOVER,
   * and its snapshot is not deleted); a deferred session's INVITE gets 480
   * (a decision cannot be handed over). The next process restores them. */
  SIPREC_SHUTDOWN_HANDOVER = 1,
} siprec_shutdown_mode;

/**
 * Begin a graceful shutdown: from now on new INVITEs get 503 with
 * Retry-After, and every open session ends as `mode` says. The host keeps
 * feeding messages (the BYEs' answers) and calling siprec_handler_expire()
 * until siprec_handler_next_deadline() returns UINT64_MAX, then frees the
 * handler. Dialogs the SRC ended with BYE are not kept for copies of that
 * BYE any more (RFC 3261's Timer J), so only the SRS's own BYEs, and final
 * responses that wait for their ACK, hold the drain up (64*T1 at most). (siprec_handler_free() alone sends each BYE once and waits for
 * nothing.)
 * @return 0, SIPREC_EINVAL or SIPREC_EBUSY (from a callback)
 */
SIPREC_API int siprec_handler_shutdown(siprec_handler *h, siprec_shutdown_mode mode,
                                       uint64_t now_ns);

/* ---------------------------------------------------------------------- */
/* Requests from the host                                                   */
/*
 * These take a session the host holds a reference to. They may be called
 * from any thread, but not from inside a callback (they return SIPREC_EBUSY
 * there; siprec_handler_touch_session() excepted, which takes no lock);
 * messages they produce go out through the send callback.
 */

/** Accept a deferred session: its 200 goes out, then the started callback.
 * @return 0, SIPREC_EINVAL (not a deferred session any more: cancelled,
 *         timed out, already decided) or SIPREC_EBUSY */
SIPREC_API int siprec_handler_accept_session(siprec_handler *h, siprec_session *s, uint64_t now_ns);

/** Refuse a deferred session with `status` (400-699): the final response goes
 * out and the session ends (SIPREC_END_REFUSED).
 * @return 0, SIPREC_EINVAL or SIPREC_EBUSY */
SIPREC_API int siprec_handler_refuse_session(siprec_handler *h, siprec_session *s, int status,
                                             uint64_t now_ns);

/** End a session: a BYE to the SRC (none while its 2xx waits for the ACK:
 * RFC 3261 15), then the ended callback (SIPREC_END_HOST). A deferred
 * session is refused with 480 instead.
 * @return 0, SIPREC_EINVAL (already ended) or SIPREC_EBUSY */
SIPREC_API int siprec_handler_end_session(siprec_handler *h, siprec_session *s, uint64_t now_ns);

/** Let a session go without a word to its SRC: another node holds it now
 * (it took the session over from a shared store while this one was
 * thought dead; siprec_handler_take_over()). The session ends here
 * (SIPREC_END_HANDOVER) with no BYE, its snapshot is not deleted, and the
 * dialog's later requests are not answered from here (they reach the
 * other node). Only an answered or confirmed session can be released.
 * @return 0, SIPREC_EINVAL (not answered or confirmed: pending, ended) or
 *         SIPREC_EBUSY */
SIPREC_API int siprec_handler_release_session(siprec_handler *h, siprec_session *s,
                                              uint64_t now_ns);

/** Ask the SRC for a full metadata snapshot (RFC 7866 6.3.2): an UPDATE with
 * an application/rs-metadata-request body; the snapshot arrives later in a
 * re-INVITE or UPDATE and raises the updated callback.
 * @return 0, SIPREC_EINVAL (the session is not established),
 *         SIPREC_EAGAIN (another request of the SRS is still pending) or
 *         SIPREC_EBUSY */
SIPREC_API int siprec_handler_request_metadata(siprec_handler *h, siprec_session *s,
                                               uint64_t now_ns);

/** The host saw media for the session at `now_ns` (restarts the idle limit).
 * Cheap: a relaxed atomic store. @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_touch_session(siprec_handler *h, siprec_session *s, uint64_t now_ns);

/* ---------------------------------------------------------------------- */
/* Counters                                                                 */

/** What siprec_handler_stat() counts. */
typedef enum siprec_stat {
  SIPREC_STAT_SESSIONS_ACTIVE = 0,  /**< open now (index ignored) */
  SIPREC_STAT_SESSIONS_STARTED = 1, /**< answered 200 since creation */
  SIPREC_STAT_SESSIONS_ENDED = 2,   /**< ended, by siprec_end_reason (index) */
  SIPREC_STAT_RESPONSES = 3,        /**< responses written, by class 1-6 (index) */
  SIPREC_STAT_DROPPED = 4,          /**< messages dropped, by siprec_drop_reason (index) */
  SIPREC_STAT_REQUESTS_SENT = 5,    /**< requests the SRS originated (BYE, OPTIONS, UPDATE) */
  SIPREC_STAT_LOG_SUPPRESSED = 6,   /**< log lines left out by the rate limit (index ignored):
                                     *   repeated warnings (refused INVITEs, dropped messages,
                                     *   requests from foreign addresses, shed sessions) are
                                     *   delivered at most 10 per 10 s per kind, then counted
                                     *   in one summary line */
  SIPREC_STAT_PENDING = 7,          /**< unsettled INVITE transactions now (index ignored) */
  SIPREC_STAT_MEDIA = 8,            /**< media counters, by siprec_media_counter (index;
                                     *   siprec/media.h), summed over every stream */
} siprec_stat;

/** Why a message got no answer. */
typedef enum siprec_drop_reason {
  SIPREC_DROP_UNPARSABLE = 0, /**< not SIP, or no Via/Call-ID/CSeq/From/To to answer with */
  SIPREC_DROP_RESPONSE = 1,   /**< a response that matches no request of the SRS */
  SIPREC_DROP_ACK = 2,        /**< an ACK matching no transaction */
  SIPREC_DROP_RETRANSMISSION = 3, /**< a retransmission absorbed */
} siprec_drop_reason;

/** A counter (monotonic since siprec_handler_new(), except ACTIVE); 0 for an
 * index out of range. Lock-free; any thread. */
SIPREC_API uint64_t siprec_handler_stat(siprec_handler *h, siprec_stat stat, unsigned index);

/* ---------------------------------------------------------------------- */
/* Stream transports                                                        */

/**
 * Find the end of the first SIP message in a TCP or TLS stream buffer.
 * @param max  the largest message taken (e.g. the handler's configured
 *             maximum): longer headers are a broken stream
 * @param msg_len  set to the message's length when one is complete; leading
 *             CRLF keep-alives count as a message of their own that the
 *             host discards
 * @return 1 when a message is complete, 0 when more bytes are needed,
 *         SIPREC_EPARSE when the stream is broken (no Content-Length, a bad
 *         one, or a message longer than `max`): close the connection;
 *         SIPREC_EINVAL for NULL arguments. Thread-safe, no state.
 */
SIPREC_API int siprec_handler_frame(const void *data, size_t len, size_t max, size_t *msg_len);

#ifdef __cplusplus
}
#endif

#endif
