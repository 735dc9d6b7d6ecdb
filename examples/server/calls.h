/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's recordings: what happens to a session's audio. Each
 * started session gets a call: its frames go to the recorder (one folder
 * DIR/SESSION with a file per stream and a stereo file, recorder.h) and to
 * the transcription pool (transcribe_pool.h), whose utterances become lines
 * of DIR/SESSION/transcript.jsonl and of the log; when the session ends the
 * files are closed and DIR/SESSION/manifest.json written, and once its
 * last utterance is in, the --on-complete command runs on the folder
 * (bounded in time and in how many run at once).
 *
 * The two legs of a Cisco built-in-bridge recording (paired by
 * siprec_session_bib_leg()'s key) share one call: one folder, named by the
 * first leg, whose stereo file holds both legs and whose transcript both.
 *
 * Transcript times are seconds from the call's start: each stream is
 * anchored where its first frame falls on the host's clock and then
 * follows its media position (gaps and pauses included); a discontinuity
 * anchors it again.
 *
 * Loop thread only, but for the pool's callbacks and the recordings'
 * writer thread (rec_writer.h: every write, close and fsync of the files),
 * which hand what the loop must do back to it through a uv_async each.
 */
#ifndef SIPREC_SERVER_CALLS_H
#define SIPREC_SERVER_CALLS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <siprec/siprec.h>

#include "transcribe_pool.h"

struct calls;
struct call;

/** What to record, and how (the command line's choices). */
struct calls_config {
  uv_loop_t *loop;
  uint64_t (*now)(void);   /* the monotonic clock the handler runs on (ns) */
  const char *dir;         /* the recordings' folder; NULL: no files at all */
  int record;              /* -1 off, else a rec_format (REC_WAV, REC_FLAC) */
  uint32_t rate;           /* the frames' sample rate (the library resamples to it) */
  transcribe_pool *pool;   /* NULL: no transcription */
  const char *on_complete; /* a command run with the folder as its argument; NULL none */
  uint32_t on_complete_timeout_ms; /* killed (SIGKILL) after this */
  unsigned on_complete_max;        /* at once; more wait their turn */
  uint64_t min_free_bytes;         /* below this on the folder's file system, no new
                                    * recordings (calls_space_ok) */
  int quiet;                       /* no transcript lines on stdout */
  const char *resume_dir;          /* --state: where each call's resume state is
                                    * kept (calls_resume.c); NULL: none */
  /* Each resume state written (json) or dropped (json NULL), also to be
   * kept where other nodes find it (Redis): a session taken over goes on
   * with its next segment there. NULL: files only. */
  void (*resume_shared)(void *user, const char *folder, const char *json, size_t len);
  void *resume_user;
  size_t writer_budget_bytes;      /* the recordings' writer queue, at most (0: its
                                    * default, REC_WRITER_BUDGET_DEFAULT) */
};

/** Counters for the metrics. */
struct calls_stats {
  uint64_t recordings_open;
  uint64_t recordings_done;
  uint64_t record_errors;      /* recordings a failed write stopped */
  uint64_t transcript_lines;
  uint64_t not_transcribed;    /* streams the pool refused (its limit) */
  uint64_t completions_run, completions_failed, completions_killed;
  uint64_t completions_waiting;
  uint64_t record_dropped_frames;  /* frames the writer's full queue dropped (silence) */
  uint64_t record_queue_bytes;     /* audio waiting for the writer */
};

/** Write a resume state (`json`, as calls' resume_shared gave it) as
 * DIR/FOLDER.json, synced, atomically: how a node taking a session over
 * puts the state the session's earlier node shared where calls_resume()
 * reads it. @return 0 or -1 */
int calls_resume_write(const char *dir, const char *folder, const char *json, size_t len);

/** The same, into calls' own resume folder, by the recordings' writer
 * thread: the fsyncs wait for a disk busy with every call's audio, and a
 * node taking over a failed node's sessions keeps many states at once, so
 * the loop must not wait for them. `done(arg, rc)` (rc 0 or a negative
 * errno) runs on the loop once the file is in place. @return 0, or -1 when
 * nothing was handed over (no resume folder, no writer, no memory, a name
 * that cannot be a file's): `done` is not called */
int calls_resume_keep(struct calls *c, const char *folder, const char *json, size_t len,
                      void (*done)(void *arg, int rc), void *arg);

/** @return the calls, or NULL when out of memory */
struct calls *calls_new(const struct calls_config *cfg);

/** Transcribe with `pool`, whose on_result is calls_on_result with the
 * calls as its `arg` (the pool is made after the calls for that reason). */
void calls_attach_pool(struct calls *c, transcribe_pool *pool);
void calls_on_result(void *arg, const transcribe_result *r);

/** Non-zero while the folder's file system has room for new recordings (or
 * nothing is written): checked for each new session, which gets 503 when
 * there is none. Cached for a second. */
int calls_space_ok(struct calls *c);
/** Descriptors the recordings' writer is still to open (folders and files
 * queued), for the server's descriptor budget (media_net_set_fd_pending).
 * `arg` is the struct calls. Any thread. */
size_t calls_fds_pending(void *arg);

/** A session started: its call (NULL when nothing is recorded or
 * transcribed, or out of memory). */
struct call *calls_start(struct calls *c, siprec_session *s);

/** A session restored from its snapshot after a restart (--state): its
 * call goes on in the same folder, in the next segment of its recording
 * (NULL as calls_start). */
struct call *calls_resume(struct calls *c, siprec_session *s);

/** The session's audio and stream events (from the library's callbacks). */
void calls_frame(struct calls *c, struct call *k, const siprec_audio_frame *f);
void calls_stream_event(struct calls *c, struct call *k, const siprec_stream_event *e);

/** The session ended (`reason` as siprec_end_reason_name()): its files are
 * handed to the recordings' writer thread to be closed; once it has closed
 * and fsynced them all, the manifest is written (by the writer too; the
 * loop hears of each step through a uv_async), and the call goes once that
 * and its transcript are complete.
 * Ended by a hand-over ("handover"), the files are closed and nothing
 * else: the next process goes on with the call. */
void calls_end(struct calls *c, struct call *k, siprec_session *s, const char *reason);

/** A recording's buffered audio goes to its files this often: with
 * calls_tick() called every 25 ms, at most 225 ms late. */
#define CALLS_FLUSH_MS 200

/** The recorder's drift tolerance (recorder.h): read from the packets'
 * arrival times, it holds however late frames are delivered. */
#define CALLS_DRIFT_TOLERANCE_MS 10

/** Flush the recordings that are due (call it every 25 ms or so). */
void calls_tick(struct calls *c);

void calls_stats_get(const struct calls *c, struct calls_stats *out);

/** Stop: wait for the recordings' writer to write what it was given (the
 * manifests and --on-complete of recordings closed so far then run), close
 * the async handles and the completion timers (the loop then runs dry); the
 * calls are freed by calls_free() after the loop, once the pool was freed
 * (its last callbacks drained). */
void calls_close(struct calls *c);
void calls_free(struct calls *c);

#endif
