/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/media.h
 * The recorded media: RTP in, decoded audio out to speech-to-text, each
 * stream attributed to who speaks on it. Sans-IO, like the handler.
 *
 * The host owns the media sockets: for every port the handler answered
 * with (siprec_stream_info: `port`, and `rtcp_port` unless rtcp-mux), it
 * receives datagrams and feeds each one to siprec_handler_media() with its
 * path (the local address and port it arrived on, the sender's address)
 * and the time. The library finds the session and stream from the local
 * port (lock-free), takes the datagram only from the SRC's media source
 * (source latching: the first packet from the IP the SDP c= names, or
 * behind NAT the IP the signalling came from, latches IP and port; others
 * are dropped and counted), decrypts SRTP with the offer's SDES keys
 * (keys never leave the library), reorders within the jitter depth,
 * decodes, conceals short losses, and calls the audio callback with frames
 * of one duration, in order, gaps accounted for. RTCP on the RTP port
 * (rtcp-mux) and on the odd port are both taken; sender reports give the
 * wall-clock time of the audio.
 *
 * Media is optional. A host with its own media engine feeds nothing: no
 * media state is created for a stream until its first datagram, so it
 * costs nothing; it names its codecs with siprec_handler_config_set_codecs()
 * (by default the SDP answer accepts every codec this build decodes, in the
 * offer's order, and no other, so a stream is never accepted and then
 * silent).
 *
 * SRTP is decrypted with libsrtp2 (SDES suites AES_CM_128_HMAC_SHA1_80/_32,
 * AES_256_CM_HMAC_SHA1_80/_32, and AEAD_AES_128_GCM/_256_GCM where the libsrtp2
 * has GCM). libsrtp2's state is process-wide: the library runs srtp_init()
 * once, when it first answers an offer with SRTP; a host that uses libsrtp2 too
 * must not call srtp_init() before it (a second one fails) nor srtp_shutdown()
 * while streams live. In a build with the meson feature `srtp_nettle` (on when
 * Nettle is found), the library also replaces libsrtp2's AES-CM and HMAC-SHA1
 * in libsrtp2's crypto kernel with Nettle's, right after that srtp_init(): the
 * same algorithms (libsrtp2 checks them against their test vectors before
 * taking them), faster than Debian's NSS-backed ones, whose cost grows with the
 * number of open contexts. The kernel being process-wide, the host's own
 * libsrtp2 sessions created after that run on them too. GCM stays libsrtp2's.
 *
 * Time needs no timer of the host's own: siprec_handler_next_deadline() and
 * siprec_handler_expire() include the media's deadlines (a jitter buffer
 * that holds a hole; the no-media watchdog).
 *
 * Order, for each stream: the stream event STARTED before its first frame;
 * frames in order of `position`; events (PAUSED, RESUMED, CODEC_CHANGED,
 * DISCONTINUITY, GAP, NO_MEDIA) between the frames they separate; ENDED
 * last, after the stream's last frame and before the session's ended
 * callback (siprec/handler.h). An m-line removed by a re-INVITE (ENDED)
 * and offered again by a later one is a new stream at the same index: its
 * events start over.
 *
 * Thread safety: siprec_handler_media() may be called from many threads at
 * once, also for different streams of one session, with no handler-wide
 * lock on its path; datagrams of one stream are serialised by that
 * stream's lock. The audio, stream-event and DTMF callbacks run on the
 * thread that fed the datagram or called siprec_handler_expire(), with only
 * that stream's lock held: they may read the session through its accessors
 * (also while another thread holds the session for its signalling and
 * waits for that stream); siprec_handler_media() and the host requests of
 * siprec/handler.h return SIPREC_EBUSY inside them. A slow callback delays
 * that stream only, and every datagram of it that waits: hand frames to
 * workers through a bounded queue rather than decoding speech inside it.
 * Signalling never waits for a callback of another stream: what its port
 * changes swapped out of the handler's port table is given back once the
 * siprec_handler_media() or siprec_handler_media_batch() call that runs
 * the callback has returned (at the next port change or
 * siprec_handler_expire()).
 */
#ifndef SIPREC_MEDIA_H
#define SIPREC_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>
#include <siprec/handler.h>
#include <siprec/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Stable API
 * ====================================================================== */

/* ---------------------------------------------------------------------- */
/* Feeding                                                                  */

/**
 * Feed one datagram received on a port the handler answered with (RTP,
 * RTCP on the RTP port, or RTCP on the odd port).
 * @param path  transport UDP; `local` the address and port it arrived on
 *              (the answered port), `remote` its sender
 * @return 0 when the datagram was taken or dropped and counted (wrong
 *         source, bad packet, SRTP failure, late: siprec_handler_stat()
 *         SIPREC_STAT_MEDIA and siprec_session_stream_stats()),
 *         SIPREC_ENOTFOUND when no open stream has that local port (a
 *         stray datagram, or a stream already ended), SIPREC_EINVAL,
 *         SIPREC_EBUSY (called from inside a callback of the library), or
 *         SIPREC_ENOMEM (the stream's media state could not be made: the
 *         datagram is lost, the next one tries again)
 */
SIPREC_API int siprec_handler_media(siprec_handler *h, const void *data, size_t len,
                                    const siprec_path *path, uint64_t now_ns);

/** One datagram of a batch (siprec_handler_media_batch()): the arguments
 * of siprec_handler_media(). Its layout is fixed (it is an array's
 * element): it never grows. */
typedef struct siprec_datagram {
  const void *data;
  size_t len;
  const siprec_path *path;
  uint64_t now_ns; /**< when it arrived, in the host's monotonic clock */
} siprec_datagram;

/**
 * Feed `n` datagrams in the order given, as `n` calls of
 * siprec_handler_media() would, each one's result in `results[i]` (NULL:
 * not wanted). For a host that receives datagrams in batches (recvmmsg(),
 * several sockets ready at once): while one datagram is processed, the
 * state of the streams of the next ones is loaded into the cache, where
 * one call at a time each datagram waits for its own (a server with
 * thousands of streams has evicted a stream's state since its last
 * packet). The datagrams may be of any streams and sessions, in any
 * order; the same thread-safety as siprec_handler_media(). The stream
 * counters (siprec_session_stream_stats()) move with each datagram; the
 * handler's (siprec_handler_stat() SIPREC_STAT_MEDIA) take the batch's
 * when it returns.
 * @return 0 (each datagram's own result in `results`), SIPREC_EINVAL (h
 *         NULL, or d NULL with n > 0: nothing fed), SIPREC_EBUSY (called
 *         from inside a callback of the library: nothing fed)
 */
SIPREC_API int siprec_handler_media_batch(siprec_handler *h, const siprec_datagram *d, size_t n,
                                          int *results);

/* ---------------------------------------------------------------------- */
/* Configuration                                                            */

/** How long the jitter buffer waits for a missing packet before it calls
 * it lost, in ms (default 200; 20 to 2000). A recording can wait: depth
 * costs latency of the frames, not quality. @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_jitter_depth(siprec_handler_config *cfg, uint32_t ms);

/** The duration of the audio frames delivered, in ms (default 20; 10 to
 * 120). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_frame_duration(siprec_handler_config *cfg, uint32_t ms);

/** One sample rate for every frame (e.g. 16000 for a recogniser),
 * resampled where a codec's differs (Opus decodes to 8, 12, 16, 24 or
 * 48 kHz itself, without resampling); 0 (the default) delivers each
 * codec's own rate (8000 for G.711, 16000 for G.722, 48000 for Opus).
 * @return 0 or SIPREC_EINVAL (above 48000, or no resampler in this build) */
SIPREC_API int siprec_handler_config_set_audio_rate(siprec_handler_config *cfg, uint32_t hz);

/** An active (recvonly) stream that receives nothing for `ms` raises the
 * stream event NO_MEDIA, once per silence (default 10000; 0: never); also
 * a stream that never received a datagram (an empty recording: timed from
 * the answer, when the host set a stream-event callback), which then has
 * NO_MEDIA and, at its end, ENDED without STARTED.
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_handler_config_set_no_media_timeout(siprec_handler_config *cfg, uint32_t ms);

/* ---------------------------------------------------------------------- */
/* What comes out                                                           */

/** Who speaks on a stream: the participant the metadata's stream
 * association names as its sender (siprec_metadata_mline_sender(), with
 * the binding rules of siprec/metadata.h), or for a recording without
 * metadata the recording headers' participant. Fields NULL when unknown. */
typedef struct siprec_speaker {
  const char *id;   /**< participant_id, or "header-N" */
  const char *aor;  /**< its nameID aor (e.g. "sip:alice@example.com") */
  const char *name; /**< its display name */
} siprec_speaker;

/** What a frame's audio is (siprec_audio_frame.flags). */
typedef enum siprec_audio_flag {
  SIPREC_AUDIO_CONCEALED = 1 << 0,     /**< made up for lost packets (the codec's
                                        *   concealment or Opus's in-band FEC) */
  SIPREC_AUDIO_COMFORT_NOISE = 1 << 1, /**< comfort noise (RFC 3389), no speech */
  SIPREC_AUDIO_AFTER_GAP = 1 << 2,     /**< the first frame after a GAP or a pause */
  SIPREC_AUDIO_AFTER_DISCONTINUITY = 1 << 3, /**< the first after a DISCONTINUITY */
  SIPREC_AUDIO_CODEC_CHANGED = 1 << 4, /**< holds the first sample of a new codec */
  SIPREC_AUDIO_PADDED = 1 << 5,        /**< completed with silence before a break or the
                                        *   end (frames always have the full duration) */
} siprec_audio_flag;

/**
 * One frame of decoded audio. Filled by the library and valid during the
 * callback only. Later versions add fields at the end: `size` is the
 * library's sizeof, and a host built against this header reads the fields
 * it knows.
 */
typedef struct siprec_audio_frame {
  size_t size;
  siprec_session *session;
  size_t stream;           /**< the stream's index (its m-line) */
  const char *label;       /**< its a=label, NULL when none */
  siprec_speaker speaker;
  uint32_t sample_rate;
  const int16_t *samples;  /**< mono, n_samples of them */
  size_t n_samples;        /**< always the frame duration at sample_rate */
  uint64_t position;       /**< samples (at sample_rate) since the stream started:
                            *   continuous, gaps and pauses included */
  uint64_t time_ns;        /**< the host's monotonic time of the first sample */
  int64_t wallclock_ns;    /**< its wall-clock time (Unix, ns) from the SRC's RTCP
                            *   sender reports, 0 until one came */
  unsigned flags;          /**< siprec_audio_flag bits */
  uint64_t arrival_ns;     /**< the host's time (as fed) at which the first received
                            *   packet with audio in this frame arrived; 0 when none
                            *   is (concealment, comfort noise). time_ns follows the
                            *   RTP clock; the latency arrival_ns - time_ns shows an
                            *   SRC whose clock drifts from the host's, however late
                            *   the host delivers (paced reads). */
} siprec_audio_frame;

/** A stream event's type. */
typedef enum siprec_stream_event_type {
  SIPREC_STREAM_STARTED = 0,       /**< its first audio is coming */
  SIPREC_STREAM_PAUSED = 1,        /**< a re-INVITE made it inactive */
  SIPREC_STREAM_RESUMED = 2,       /**< recvonly again; `samples`: the pause's length */
  SIPREC_STREAM_CODEC_CHANGED = 3, /**< another payload type (or a re-INVITE's codec) */
  SIPREC_STREAM_DISCONTINUITY = 4, /**< a new source (SSRC) or a timestamp jump (a
                                    *   transfer, an SBC failover); `samples`: the time
                                    *   between, from arrival times */
  SIPREC_STREAM_GAP = 5,           /**< longer loss or silence than concealment covers;
                                    *   `samples`: its length */
  SIPREC_STREAM_NO_MEDIA = 6,      /**< nothing received for the no-media timeout */
  SIPREC_STREAM_ENDED = 7,         /**< removed by a re-INVITE, or its session ended */
} siprec_stream_event_type;

/** A stream event. Valid during the callback; grows like siprec_audio_frame. */
typedef struct siprec_stream_event {
  size_t size;
  siprec_session *session;
  size_t stream;
  const char *label;
  siprec_stream_event_type type;
  uint64_t position;    /**< where on the stream's timeline (samples at sample_rate) */
  uint64_t samples;     /**< the span the position moves by (GAP, DISCONTINUITY,
                         *   RESUMED), else 0 */
  uint32_t sample_rate; /**< of `position` and `samples` */
  uint64_t time_ns;     /**< the host's monotonic time */
  const char *codec;    /**< the codec now (STARTED, CODEC_CHANGED), else NULL */
} siprec_stream_event;

/** A DTMF key (RFC 4733 telephone-event), reported as an event, never as
 * audio. Valid during the callback; grows like siprec_audio_frame. */
typedef struct siprec_dtmf_event {
  size_t size;
  siprec_session *session;
  size_t stream;
  const char *label;
  char digit;           /**< '0'-'9', '*', '#', 'A'-'D' */
  int start;            /**< non-zero: the key went down */
  int end;              /**< non-zero: the key came up (both when only its end was heard) */
  unsigned volume;      /**< dBm0 below 0 (0-63) */
  uint32_t duration_ms; /**< so far, or in all at the end */
  uint64_t position;    /**< on the stream's timeline */
  uint64_t time_ns;
} siprec_dtmf_event;

/** Audio of one stream. */
typedef void (*siprec_audio_cb)(void *user, const siprec_audio_frame *frame);

/** A stream event. */
typedef void (*siprec_stream_event_cb)(void *user, const siprec_stream_event *event);

/** A DTMF key. */
typedef void (*siprec_dtmf_cb)(void *user, const siprec_dtmf_event *event);

/** Set the audio callback (absent: datagrams are still checked and counted,
 * nothing is decoded). */
SIPREC_API void siprec_handler_callbacks_set_audio(siprec_handler_callbacks *cbs,
                                                   siprec_audio_cb fn);

/** Set the stream-event callback. */
SIPREC_API void siprec_handler_callbacks_set_stream_event(siprec_handler_callbacks *cbs,
                                                          siprec_stream_event_cb fn);

/** Set the DTMF callback. */
SIPREC_API void siprec_handler_callbacks_set_dtmf(siprec_handler_callbacks *cbs,
                                                  siprec_dtmf_cb fn);

/* ---------------------------------------------------------------------- */
/* Counters                                                                 */

/** The handler's media counters: siprec_handler_stat(h, SIPREC_STAT_MEDIA,
 * counter), summed over every stream since the handler was created. */
typedef enum siprec_media_counter {
  SIPREC_MEDIA_PACKETS = 0,       /**< RTP packets taken */
  SIPREC_MEDIA_BYTES = 1,         /**< their octets as received (RTP header included) */
  SIPREC_MEDIA_LOST = 2,          /**< packets never received */
  SIPREC_MEDIA_REORDERED = 3,     /**< put back in order */
  SIPREC_MEDIA_DUPLICATES = 4,    /**< dropped as copies */
  SIPREC_MEDIA_LATE = 5,          /**< dropped: past the jitter depth */
  SIPREC_MEDIA_LATCH_DROPS = 6,   /**< dropped: not from the latched source */
  SIPREC_MEDIA_SRTP_FAILURES = 7, /**< dropped: SRTP authentication, replay or format */
  SIPREC_MEDIA_DECODE_ERRORS = 8, /**< payloads a codec refused */
  SIPREC_MEDIA_NOT_FOUND = 9,     /**< datagrams for a port no open stream has */
  SIPREC_MEDIA_RTCP = 10,         /**< RTCP packets taken */
} siprec_media_counter;

/** One stream's media counters (siprec_session_stream_stats()). The host
 * sets `size` to sizeof(siprec_stream_stats); later versions add fields at
 * the end and fill no more than `size` says. */
typedef struct siprec_stream_stats {
  size_t size;
  uint64_t packets;       /**< RTP packets taken */
  uint64_t bytes;         /**< their octets as received (RTP header included) */
  uint64_t lost;          /**< packets never received (RFC 3550 expected - received) */
  uint64_t reordered;     /**< arrived out of order and put back in order */
  uint64_t duplicates;    /**< dropped as copies */
  uint64_t late;          /**< dropped: arrived after the jitter depth */
  uint64_t latch_drops;   /**< dropped: not from the latched source */
  uint64_t srtp_failures; /**< dropped: SRTP authentication, replay or format */
  uint64_t decode_errors; /**< payloads the codec refused */
  uint32_t jitter_ms;     /**< interarrival jitter (RFC 3550 A.8) */
} siprec_stream_stats;

/**
 * Stream `index`'s media counters (all 0 before its first datagram).
 * @return 0, or SIPREC_EINVAL (index out of range, NULL, or `size` below
 *         this version's)
 */
SIPREC_API int siprec_session_stream_stats(const siprec_session *s, size_t index,
                                           siprec_stream_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
