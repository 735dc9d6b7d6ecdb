/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A speech-to-text engine as siprec-server's transcription sees it: a
 * struct of function pointers, so that another recogniser can replace
 * pocketsphinx without touching the worker pool (transcribe_pool.h) or the
 * transcript (transcript.h). docs/transcription.md says how to plug one in.
 *
 * An engine makes one recogniser per recorded stream. A recogniser is fed
 * signed 16-bit mono samples at the rate it was made for, cuts the audio
 * into utterances by itself (its own speech detection), and reports each
 * utterance through a callback with its text and its span in samples on
 * the stream's feed: sample 0 is the first sample ever fed to that
 * recogniser, and the feed has no holes (the pool maps it back to the
 * session's timeline, gaps included).
 *
 * Threads: create() and destroy() may be called from several threads at
 * once (the engine locks what it shares, e.g. a cache of loaded models);
 * one recogniser is used by one thread at a time (the pool serves a stream
 * on one worker at a time), so feed() and flush() need no lock of their
 * own. Results are called back on the thread that called feed() or
 * flush(), before it returns.
 */
#ifndef SIPREC_SERVER_TRANSCRIBER_H
#define SIPREC_SERVER_TRANSCRIBER_H

#include <stddef.h>
#include <stdint.h>

/** One utterance, valid during the callback only. */
typedef struct transcriber_utterance {
  const char *text; /**< UTF-8, NUL-terminated; may be empty (nothing was recognised) */
  uint64_t start;   /**< its first sample on the stream's feed */
  uint64_t end;     /**< one past its last sample (end >= start) */
} transcriber_utterance;

/** Where a recogniser sends its utterances. */
typedef void (*transcriber_emit_fn)(void *arg, const transcriber_utterance *u);

/** A per-stream recogniser; its layout is the engine's. */
typedef struct transcriber transcriber;

typedef struct transcriber_engine transcriber_engine;

/**
 * An engine. Engines allocate a struct of their own that begins with this
 * one (or points here) and fill every function pointer.
 */
struct transcriber_engine {
  const char *name; /**< as given to --transcribe, e.g. "pocketsphinx" */
  unsigned rate;    /**< the sample rate it wants (Hz): the rate to ask the media for */

  /** A recogniser for one stream fed at `rate` Hz, or NULL (a rate it
   * cannot take, out of memory, models that do not load). May take long
   * (loading models): never call it on an event loop. */
  transcriber *(*create)(transcriber_engine *e, unsigned rate);

  /** Feed `n` samples; utterances the recogniser ends on the way are sent
   * to `emit`. @return 0, or -1 when the recogniser failed (the caller
   * stops feeding it and destroys it) */
  int (*feed)(transcriber *t, const int16_t *pcm, size_t n, transcriber_emit_fn emit, void *arg);

  /** End the current utterance now (the stream paused or ends) and send it
   * to `emit` when there is one; the next sample fed starts a new one.
   * @return 0 or -1 as feed() */
  int (*flush)(transcriber *t, transcriber_emit_fn emit, void *arg);

  /** Release a recogniser, without emitting what it still holds (flush()
   * first to have it). NULL is a no-op. */
  void (*destroy)(transcriber *t);

  /** Release the engine, once every recogniser it made is destroyed. */
  void (*free)(transcriber_engine *e);
};

/**
 * The pocketsphinx engine (transcribe_pocketsphinx.c, built when meson
 * finds pocketsphinx: SIPREC_HAVE_POCKETSPHINX), 16 kHz only.
 * @param model_dir  the directory with en-us/ (acoustic model),
 *                   en-us.lm.bin and cmudict-en-us.dict; NULL for Debian's
 *                   /usr/share/pocketsphinx/model/en-us
 * @param spare      how many loaded decoders to keep for the next streams
 *                   once their stream is done (each ~100 MB; 0 frees each)
 * @return the engine, or NULL when the model files are missing (said in
 *         `err`) or out of memory
 */
transcriber_engine *transcriber_pocketsphinx_new(const char *model_dir, unsigned spare, char *err,
                                                 size_t errlen);

#endif
