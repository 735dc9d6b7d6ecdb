/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's recorder: the decoded audio of a recording written to
 * sound files with libsndfile, one folder per recording. Plain C, no event
 * loop: the caller feeds frames and calls rec_tick() from its own loop.
 *
 * Files. The recording's folder is DIR/SESSION/ (mode 0700; an existing
 * folder is taken if it is a real directory, not a symbolic link). Each
 * stream added gets LABEL.wav (or LABEL.flac), created with O_CREAT|O_EXCL
 * mode 0600:
 * the label made safe (only [A-Za-z0-9._-], others become '_', no leading
 * dot, at most REC_NAME_MAX characters), the stream index when there is no
 * label, and "-2", "-3"... appended when the name is taken (names compare
 * without case; "stereo" and "manifest" are reserved). When the recording
 * gets a second stream, stereo.wav (.flac) is made from its first two
 * streams, one per channel (first added: left). A third stream gets its
 * own file and does not change the stereo file. The folder and the files
 * are made by the writer thread (rec_writer.h): the caller only names
 * them, so an error there (EACCES, ENOSPC) reaches the recording as a
 * write error does (below). A name is free when the recording has not
 * used it and, in a folder that was there before rec_open() (a restart
 * without resume state), nothing on disk has it; a file that appears
 * under that name meanwhile is not written into (EEXIST stops the
 * recording).
 *
 * Format: REC_WAV is RF64 with SFC_RF64_AUTO_DOWNGRADE, 16-bit PCM: a plain
 * WAV file while under 4 GiB, RF64 past it. REC_FLAC is 16-bit FLAC. Every
 * frame must have the recording's rate (the server asks the library to
 * resample to it: siprec_handler_config_set_audio_rate()).
 *
 * One timeline. Sample 0 of every file is the recording's start (`start_ns`,
 * the host's monotonic clock). A stream is anchored at its first frame:
 * its offset is that frame's time_ns minus start_ns, in samples; after
 * that its frames follow their `position` (the RTP clock, gaps and pauses
 * included), so gaps, pauses and a late first frame become silence of the
 * right length and all files line up. A frame flagged
 * REC_FRAME_DISCONTINUITY (the library's SIPREC_AUDIO_AFTER_DISCONTINUITY)
 * re-anchors the stream from its time_ns.
 *
 * Clock drift. The library's time_ns follows the RTP clock between its own
 * re-anchors (it is the arrival time of the first packet after a break
 * plus position), so it cannot show an SRC whose clock drifts from the
 * host's. The recorder therefore reads drift from `arrival_ns`, when the
 * frame's first packet reached the host: the latency arrival - (where the
 * frame ends on the timeline) stays constant while both clocks agree. Not
 * from `now_ns`, the delivery: a host that reads its sockets at intervals
 * (siprec-server's --media-read-ms) and the jitter buffer's releases move
 * the delivery by tens of ms, in a phase that slides against the packets'.
 * Network delay only ever adds to the latency, so the recorder takes the
 * minimum over each second of audio (one-sided jitter filtered out; frames
 * of made-up audio, with no arrival, do not count) and compares it with
 * the minimum of the first second after the anchor. When two seconds in a
 * row differ by more than `drift_tolerance_ms` (default 10) in the same
 * direction, the stream slips by the smaller difference: at the next quiet
 * frame (or after 2 s regardless) it gets that much silence inserted (SRC
 * clock slow) or that many samples dropped (SRC clock fast), and `slips`
 * counts it. With the default the file length stays within about 12 ms of
 * the wall time at any point, whatever the duration (the requirement: 20 ms
 * per minute). A frame more than 2 s away from where the host clock puts
 * it (a bogus position or a restart the library did not flag) re-anchors
 * the stream and counts a slip, so no position can make a file more than
 * that longer than the time that passed (nor write hours of silence).
 *
 * Writing. Frames are buffered and handed to the writer (rec_writer.h:
 * one thread that does every libsndfile write, header update, close and
 * fsync, so the caller's thread never waits for the disk) when rec_tick()
 * sees that `flush_ms` (default 250) have passed since the last flush, or
 * when a buffer fills (two flush intervals, 0.1 to 1 s of audio). The
 * writer writes each flushed buffer at once and then rewrites a WAV
 * file's header (SFC_UPDATE_HEADER_NOW), so a process killed at any point
 * (SIGKILL) leaves files libsndfile opens, holding the audio up to the
 * last flush the writer reached (with a writer that keeps up, the last
 * flush). A FLAC file killed before it was closed has no
 * total length in its STREAMINFO (readers see an unknown length and read
 * to the end) and lacks, beyond the last flush, what libsndfile's FLAC
 * encoder still held: up to one block, 4096 samples per channel. No fsync
 * per flush (a power loss can lose more); the close fsyncs.
 *
 * A disk that falls behind. The writer's queue is bounded in bytes: a
 * buffer that would pass the bound is dropped, counted, and written as
 * silence of its length before the file's next audio, so the file's
 * timeline stays right (rec_writer.h says why silence).
 *
 * Stereo. Both channels are written up to where both streams have audio.
 * When one stream lags the other by more than `stereo_lag_ms` (default
 * 500), has ended, or was not added yet, its channel is filled with silence
 * up to the leader minus that allowance (up to the leader when ended), so
 * the stereo file flushes as often as the mono files. Audio of a lagging
 * stream that arrives for a span already written is missing from the
 * stereo file (its mono file has it). The second stream may come later
 * than the first (a second SIPREC session: CUCM's built-in bridge records
 * the two legs as two sessions): the first stream's audio is held for the
 * stereo file until `stereo_wait_ms` (default 5000) after rec_open(); a
 * recording still with one stream then makes no stereo file, and frees it.
 *
 * Errors. A write that fails (ENOSPC, EFBIG, EIO...) stops the whole
 * recording: every file gets its header updated with what it holds and is
 * closed, `write_errors` counts the failed writes, and every later call
 * returns that error (negative errno) and writes nothing; nothing crashes.
 * The write fails on the writer's thread: the recording learns of it at
 * its next call (rec_tick() at the latest), and returns it from then on.
 * rec_space_ok() tells the server whether to refuse new sessions (503).
 *
 * Memory per recording: about one second of audio per stream and for the
 * stereo file, plus the stereo allowance; no more, whatever the input.
 * No global state. Not thread-safe: a recording is used by one thread at a
 * time (the server's loop thread, which also polls the writer); recordings
 * are independent. Its files' libsndfile handles are the writer thread's
 * from the moment they are opened (rec_writer.h).
 *
 * Return values: 0 (or a stream id), or a negative errno value.
 */
#ifndef SIPREC_SERVER_RECORDER_H
#define SIPREC_SERVER_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "rec_writer.h"

/** The longest file name made of a label, before "-N" and the extension. */
#define REC_NAME_MAX 64

enum rec_format {
  REC_WAV = 0,  /**< RF64 auto-downgraded to WAV, 16-bit PCM */
  REC_FLAC = 1, /**< FLAC, 16-bit */
};

/** What rec_open() needs; a field left 0 takes the default said. */
struct rec_config {
  const char *dir;     /**< the recordings' folder; must exist */
  const char *session; /**< the recording's folder name inside it: 1 to 128
                        *   of [A-Za-z0-9._-], no leading dot (else -EINVAL) */
  enum rec_format format;
  uint32_t rate;       /**< output sample rate, 8000 to 48000 */
  uint64_t start_ns;   /**< the recording's start, host monotonic ns: sample 0 */
  uint32_t flush_ms;   /**< buffered audio reaches the files this often (250) */
  uint32_t stereo_lag_ms;  /**< a stereo channel waits this long for its stream (500) */
  uint32_t stereo_wait_ms; /**< a second stream may come this long after rec_open()
                            *   and still make stereo.wav (5000) */
  int no_stereo;           /**< non-zero: never make a stereo file */
  uint32_t drift_tolerance_ms; /**< drift corrected beyond this (10) */
  unsigned segment;        /**< 0 or 1: LABEL.wav, stereo.wav; N > 1: a later
                            *   segment of the same recording in the same
                            *   folder (a server restarted mid-call):
                            *   LABEL.N.wav, stereo.N.wav */
  rec_writer *writer;      /**< who writes the files (shared by recordings);
                            *   NULL: the recording's own, without a thread
                            *   (every write at once, in the caller's thread) */
};

/** A frame of one stream (from siprec_audio_frame). */
struct rec_frame {
  const int16_t *samples; /**< mono */
  size_t n_samples;
  uint32_t rate;          /**< must be the recording's */
  uint64_t position;      /**< the library's position: samples since the stream started */
  uint64_t time_ns;       /**< the library's time_ns of the first sample */
  uint64_t now_ns;        /**< the host's monotonic time now (the frame's delivery):
                           *   trusted, it bounds everything else; not before start_ns */
  uint64_t arrival_ns;    /**< the library's arrival_ns: when the frame's first
                           *   received packet arrived; 0 for made-up audio */
  unsigned flags;         /**< REC_FRAME_* */
};

/** The first frame after a DISCONTINUITY event: re-anchor from time_ns. */
#define REC_FRAME_DISCONTINUITY 1u

typedef struct rec_recording rec_recording;

/** One file as closed. `stream` is the label as given (or the index as
 * text); for the stereo file, the two streams' (left, right). */
struct rec_file {
  char *name;       /**< "LABEL.wav", inside the recording's folder */
  char *stream;     /**< mono: the stream; stereo: NULL */
  char *streams[2]; /**< stereo: left and right; mono: NULL */
  int channels;
  uint32_t rate;
  uint64_t frames;  /**< sample frames in the file */
  double duration;  /**< seconds */
};

/** What rec_close() reports; free with rec_summary_free(). */
struct rec_summary {
  char *folder;          /**< DIR/SESSION */
  struct rec_file *files;
  size_t n_files;
  uint64_t slips;        /**< drift corrections and forced re-anchors */
  uint64_t write_errors; /**< failed writes (the recording stopped at the first) */
  int error;             /**< the error that stopped the recording, 0 if none */
};

/** The recording; its folder DIR/SESSION/ is made by the writer (no file
 * until a stream is added).
 * @return 0 and *out, -EINVAL (bad config), -ENOMEM, or (without a writer
 *         thread, when the folder is made at once) the errno of mkdir/open */
int rec_open(const struct rec_config *cfg, rec_recording **out);

/**
 * Add a stream at any time (also from a second SIPREC session); its file
 * is named now and created by the writer, it is anchored at its first
 * frame. `label` may be NULL or hostile (only its safe form names the file).
 * @return the stream's id (>= 0) for rec_frame() and rec_end_stream(), or
 *         a negative errno (the error that stopped the recording, which
 *         without a writer thread includes the file's creation error;
 *         -ENOMEM; -EMFILE past 1024 streams; -EEXIST when 999 names are
 *         taken)
 */
int rec_add_stream(rec_recording *r, const char *label, unsigned index);

/** Record one frame of stream `id`. @return 0, -EINVAL (unknown or ended
 * stream, rate not the recording's, NULL samples, a position past 2^52,
 * more than 10 s of samples, now_ns before start_ns), or the error that
 * stopped the recording (a write error from the next flush on) */
int rec_frame(rec_recording *r, int id, const struct rec_frame *f);

/** Stream `id` ends (ENDED): its stereo channel turns to silence, its file is
 * finished. @return 0, -EINVAL, or the error that stopped the recording */
int rec_end_stream(rec_recording *r, int id);

/** Call from the loop at least every flush_ms: flushes when that much time
 * has passed; gives up the stereo file after stereo_wait_ms with one stream.
 * @return 0 or the error that stopped the recording */
int rec_tick(rec_recording *r, uint64_t now_ns);

/** When rec_tick() next has something to do (a flush, the stereo file's
 * wait ending): a caller that visits many recordings on one timer skips
 * the others until then. Nothing but rec_tick() moves it later; nothing
 * moves it earlier. 0 for NULL. */
uint64_t rec_next_tick(const rec_recording *r);

/** The file name of stream `id`, and of the stereo file (NULL while there
 * is none), valid until rec_close(). */
size_t rec_stream_count(const rec_recording *r);
const char *rec_stream_file(const rec_recording *r, int id);
const char *rec_stream_label(const rec_recording *r, int id);
const char *rec_stereo_file(const rec_recording *r);

/** The counters so far (for logs). */
void rec_counters(const rec_recording *r, uint64_t *slips, uint64_t *write_errors);

/**
 * Finish every file (flush, final header, fsync, close) and free `r`;
 * `out` (may be NULL) gets every file with its duration, for the manifest.
 * Waits for the writer to have closed everything (a shutdown, a test).
 * @return 0, or the error that stopped the recording (the files are valid
 *         up to it; `out` is filled all the same), -ENOMEM for `out`
 */
int rec_close(rec_recording *r, struct rec_summary *out);

/**
 * rec_close() without waiting: everything is handed to the writer, and once
 * it has closed and fsynced every file and the folder, `done` runs from
 * rec_writer_poll() (at once, with a recording that has no writer) with
 * what rec_close() would return and, with `want_summary`, the summary
 * (freed after `done` returns). `r` is the writer's until then: no call
 * may use it after this one. @return 0, or -EINVAL (r or done NULL)
 */
int rec_close_async(rec_recording *r, int want_summary,
                    void (*done)(void *arg, int rc, struct rec_summary *sum), void *arg);

/** Free what rec_close() put in `s`. */
void rec_summary_free(struct rec_summary *s);

/** @return 1 when the filesystem of `dir` has at least `bytes` free for an
 * unprivileged writer, 0 when not, a negative errno when statvfs fails */
int rec_space_ok(const char *dir, uint64_t bytes);

#endif
