/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transcription off the event loop: a pool of worker threads, one
 * recogniser (transcriber.h) per recorded stream.
 *
 * The caller (siprec-server's event loop, from the library's audio
 * callback) pushes each frame of a stream; the frame is copied into that
 * stream's bounded queue (a lock-protected ring of frames) and a worker
 * feeds it to the stream's recogniser later. The caller never waits on a
 * worker: a full queue drops the frame, counts it and logs once per
 * stream; beyond `max_streams` streams at once, open() says "not
 * transcribed" and counts. A stream is served by one worker at a time, in
 * the order its frames, flushes and close came.
 *
 * Results are called back on a worker thread, with the stream's user
 * pointer, the utterance's start and end in seconds from the session's
 * start and its text (empty hypotheses are not delivered); a stream's
 * last callback is the one with `closed` set, after its last utterance.
 */
#ifndef SIPREC_SERVER_TRANSCRIBE_POOL_H
#define SIPREC_SERVER_TRANSCRIBE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "transcriber.h"

typedef struct transcribe_pool transcribe_pool;
typedef struct transcribe_stream transcribe_stream;

/** What a worker delivers; valid during the callback only. */
typedef struct transcribe_result {
  void *user;       /**< the stream's, as given to transcribe_stream_open() */
  int closed;       /**< 1: the stream's last callback (no text); its handle is gone */
  double start;     /**< seconds from the session's start */
  double end;
  const char *text; /**< UTF-8, never empty; NULL when `closed` */
} transcribe_result;

/** Called on a worker thread; the calls for one stream never overlap. */
typedef void (*transcribe_result_fn)(void *arg, const transcribe_result *r);

/** A line for the log (no newline); called from the pushing thread or a
 * worker. */
typedef void (*transcribe_log_fn)(void *arg, const char *line);

typedef struct transcribe_pool_config {
  transcriber_engine *engine; /**< required; the caller frees it after the pool */
  unsigned workers;           /**< threads; 0: one per core */
  unsigned max_streams;       /**< streams at once; 0: transcribe_default_max_streams() */
  unsigned frame_samples;     /**< samples in a queue slot; 0: 20 ms at the engine's rate
                               *   (a longer push takes several slots) */
  unsigned queue_frames;      /**< slots per stream; 0: 250 (5 s of 20 ms frames) */
  transcribe_result_fn on_result; /**< required */
  transcribe_log_fn log;      /**< NULL: stderr */
  void *arg;                  /**< for on_result and log */
} transcribe_pool_config;

/** Counters, each read atomically (a metrics scrape from any thread). */
typedef struct transcribe_pool_stats {
  uint64_t queued;            /**< frames waiting in all queues now */
  uint64_t dropped;           /**< frames dropped on a full queue, ever */
  uint64_t streams_active;    /**< streams open now (closing ones included) */
  uint64_t streams_transcribed; /**< streams accepted by open(), ever */
  uint64_t streams_refused;   /**< open() beyond max_streams, ever */
  uint64_t engine_failures;   /**< recognisers that could not be made or failed */
  uint64_t utterances;        /**< results delivered, ever */
} transcribe_pool_stats;

/** Two streams per core: a recogniser runs at a fraction of real time, and
 * a call's two streams rarely speak at once. */
unsigned transcribe_default_max_streams(void);

/** Start the workers. @return the pool, or NULL (bad config, no memory,
 * no threads: said through `log`) */
transcribe_pool *transcribe_pool_new(const transcribe_pool_config *cfg);

/**
 * Stop the pool and free it. Streams still open are closed now: with
 * `drain` their queued audio is transcribed first (their last utterances
 * and closed callbacks come before this returns), without it their queued
 * audio is discarded (only the closed callbacks come). No one may push,
 * open or close during or after the call. NULL is a no-op.
 */
void transcribe_pool_free(transcribe_pool *p, int drain);

/**
 * A stream to transcribe. Never blocks (its recogniser is made by a worker).
 * @param name  for the log (copied; e.g. "SESSION/LABEL"), may be NULL
 * @param user  handed back with each result
 * @return the stream, or NULL when not transcribed (max_streams reached:
 *         counted in streams_refused; or out of memory)
 */
transcribe_stream *transcribe_stream_open(transcribe_pool *p, const char *name, void *user);

/**
 * Queue `n` samples (at the engine's rate) of a stream. Never blocks.
 * @param position  the first sample's place on the session's timeline, in
 *                  samples at the engine's rate from the session's start
 *                  (so pauses and gaps between pushes are accounted)
 * @return 0, or -1 when the queue had no room and the samples were
 *         dropped (counted; the first drop of a stream is logged)
 */
int transcribe_stream_push(transcribe_stream *s, const int16_t *pcm, size_t n, uint64_t position);

/** End the current utterance after what is queued (a pause). Never blocks. */
void transcribe_stream_flush(transcribe_stream *s);

/**
 * Close: after what is queued, the last utterance is delivered, then the
 * closed callback; the handle must not be used after this call. Never
 * blocks. NULL is a no-op.
 */
void transcribe_stream_close(transcribe_stream *s);

/** The counters (any thread). */
void transcribe_pool_stats_get(const transcribe_pool *p, transcribe_pool_stats *out);

#endif
