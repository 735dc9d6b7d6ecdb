/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recorder's writer: every libsndfile write, header update, close and
 * fsync of siprec-server's recordings, done by one thread of its own, fed
 * through a bounded queue, so that the thread which reads the media (the
 * loop) never waits for a disk.
 *
 * Why off the loop: the kernel throttles a thread that dirties pages faster
 * than writeback cleans them (balance_dirty_pages); at 1,500 calls (96 MB/s)
 * that thread was the loop, and the media sockets overflowed while it
 * slept (docs/performance.md, bench_server). A slow or network disk, or
 * FLAC's encoder, would do the same.
 *
 * Why one thread: writing PCM is a copy into the page cache, far below a
 * core at any load the loop can read; when the disk is the limit, more
 * writers only wait together (the throttling is per device), and on a
 * two-core machine a second writer takes CPU from the loop. Per-file
 * order then comes for free (one FIFO). Recordings are independent, so a
 * pool sharded by recording could replace it without changing this API.
 *
 * Objects. A group is one recording: its folder, its files, its first
 * write error, and its completion. A file is one sound file, created by
 * the writer in the group's folder (rec_wfile_create(): creating a file
 * or a folder allocates an inode, which a busy ext4 can take milliseconds
 * over, so the producer only names it) or given as a descriptor
 * (rec_wfile_open()); libsndfile writes on positioned writes
 * (sndfile_pio.h); its SNDFILE and descriptor belong to the writer thread
 * alone. The caller fills buffers it gets from rec_wbuf_new() and hands
 * each one over whole (no copy): the writer writes it, updates the header
 * when asked (a flush) and frees it.
 *
 * The bound. Buffers waiting for the disk are counted in bytes (what they
 * hold in memory); a buffer that would take the queue past its budget is
 * dropped at once, never waited for. Its frames are counted
 * (`dropped_frames`) and become silence of the same length, written before
 * the file's next buffer (or at its close): the file's timeline stays the
 * recording's, every file of a recording stays aligned with the others and
 * with the wall clock, and a listener hears a gap where the audio was lost
 * (a WAV file has no place to say "missing here", and a file shorter than
 * the call would shift everything after the loss). A drop episode is
 * logged once when it starts and once when the queue is back under half
 * its budget.
 *
 * Errors. The first failure of a group (its folder or a file that cannot
 * be made, ENOSPC, EFBIG, EIO...) is the group's error, readable from any
 * thread (rec_wgroup_error(), an atomic); the writer writes nothing more
 * for that group, but still updates and closes its files when told to.
 *
 * Completion. rec_wgroup_finish() queues, after every job already given for
 * the group's files (their closes included), the fsync and close of the
 * group's folder; then the group's `done` runs in the thread that calls
 * rec_writer_poll() (the loop: the writer calls `wake`, e.g. uv_async_send,
 * so the loop polls), or, without `done`, rec_wgroup_wait() returns.
 *
 * Threads. Everything here but rec_wgroup_error(), rec_writer_stats() and
 * rec_writer_opens_queued() is called from one thread, the producer (the
 * loop); the writer thread only runs the jobs. A job and what it points
 * to (the buffer, the file's SNDFILE) pass from one to the other under the
 * queue's mutex, which orders every access. A file's `written` count and close result are the
 * writer's until its group completed, the producer's after.
 *
 * Without a thread (`no_thread`): every job runs at once in the caller's
 * thread, nothing is ever dropped; completions still wait for
 * rec_writer_poll() (or rec_wgroup_wait(), which then returns at once).
 * The recorder uses this when it is given no writer (tests, tools).
 */
#ifndef SIPREC_SERVER_REC_WRITER_H
#define SIPREC_SERVER_REC_WRITER_H

#include <sndfile.h>
#include <stddef.h>
#include <stdint.h>

/** The queue's default budget. A flushed buffer is about half full (the
 * recorder's buffers hold two flush intervals), so this is about 1.4 s of
 * 1,500 calls' recordings (96 MB/s of audio): a disk may stall that long
 * before any audio is dropped. */
#define REC_WRITER_BUDGET_DEFAULT (256u * 1024 * 1024)
/** The smallest budget taken (a smaller one is raised to it). */
#define REC_WRITER_BUDGET_MIN (1u * 1024 * 1024)

typedef struct rec_writer rec_writer;
typedef struct rec_wgroup rec_wgroup;
typedef struct rec_wfile rec_wfile;

struct rec_writer_config {
  size_t budget_bytes; /**< buffers waiting for the disk, in bytes (0: the default) */
  int no_thread;       /**< non-zero: run each job at once in the caller */
  /** Writer thread: a completion waits for rec_writer_poll(). May be NULL. */
  void (*wake)(void *user);
  void *wake_user;
  /** Producer thread: a drop episode started or ended (one line, no newline).
   * May be NULL. */
  void (*log)(void *user, const char *message);
  void *log_user;
};

struct rec_writer_stats {
  uint64_t queued_bytes;   /**< buffers given and not yet written */
  uint64_t budget_bytes;
  uint64_t dropped_frames; /**< frames dropped for a full queue (written as silence) */
  uint64_t drop_episodes;
  uint64_t written_frames; /**< frames written, silence included */
};

/** @return 0 and *out, -ENOMEM, or the thread's creation error (negative) */
int rec_writer_new(const struct rec_writer_config *cfg, rec_writer **out);
/** Drain the queue (stalled or not), join the thread, run the completions
 * still waiting, free. Every group must have been finished. */
void rec_writer_free(rec_writer *w);
/** Run the completions that are ready (producer thread). @return how many */
size_t rec_writer_poll(rec_writer *w);
/** Wait until every job given so far has run (shutdown). Does not poll. */
void rec_writer_drain(rec_writer *w);
/** The counters now (any thread). */
void rec_writer_stats(rec_writer *w, struct rec_writer_stats *out);
/** Descriptors the writer is still to open: folders and files whose
 * creation is queued (any thread). A producer that keeps a descriptor
 * budget counts them as taken: on a slow disk they are opened late, and
 * the lowest free descriptor does not show them yet. */
size_t rec_writer_opens_queued(rec_writer *w);
/** Test hook: while `on`, the writer thread takes no job (as if blocked in a
 * write); the queue fills up to its budget. Off again lets it go on. */
void rec_writer_test_stall(rec_writer *w, int on);

/** A recording's group. @return NULL when out of memory */
rec_wgroup *rec_wgroup_new(rec_writer *w);
/** The group's first error (negative errno), 0 while none. Any thread. */
int rec_wgroup_error(rec_wgroup *g);
/** The folder the group's files are created in: made (mode 0700) unless it
 * exists, and opened (a symbolic link is refused: ELOOP), by the writer,
 * before anything given after. Once, before the first file. A failure is
 * the group's error (without a thread: set when this returns).
 * @return 0, -EINVAL (no path, set already, or after a file), -ENOMEM */
int rec_wgroup_set_folder(rec_wgroup *g, const char *path);
/** After every job given for the group: fsync and close its folder (if
 * any), then `done(arg)` in rec_writer_poll() (or, with `done` NULL, wake
 * rec_wgroup_wait()). Once per group; nothing may be given for it after. */
void rec_wgroup_finish(rec_wgroup *g, void (*done)(void *arg), void *arg);
/** As rec_wgroup_finish, and `work(arg)` runs on the writer thread as the
 * finish's last step, before `done(arg)` on the producer's: what may wait
 * for the disk and must follow the group's files (a recording's durable
 * manifest), off the producer's event loop. A group without files is a
 * job of its own. */
void rec_wgroup_finish_work(rec_wgroup *g, void (*work)(void *arg), void (*done)(void *arg),
                            void *arg);
/** Block until the group's finish (given without `done`) has run. */
void rec_wgroup_wait(rec_wgroup *g);
/** Free the group and its files, once finished (its completion ran, or
 * rec_wgroup_wait() returned), or a group that was never given a job. */
void rec_wgroup_free(rec_wgroup *g);

/** A new sound file `name` (a name, no '/') in the group's folder, as
 * `info` says (1 or 2 channels; RF64 written as plain WAV while under 4
 * GiB): the writer creates it (O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600:
 * a name that exists is not written into; the caller picks a free one)
 * and libsndfile writes its first header, before anything given after.
 * Its failure (EEXIST, ENOSPC, EMFILE; EIO: libsndfile refused) is the
 * group's error, and the file is not left behind.
 * @return the file, or NULL with errno ENOMEM or EINVAL (a bad name or
 *         format, a finishing group) */
rec_wfile *rec_wfile_create(rec_wgroup *g, const char *name, const SF_INFO *info);
/** As rec_wfile_create() for `fd`, a new, empty file the caller opened
 * for writing (read-write lets the header's page be mapped), which is the
 * writer's from the moment this returns a file (NULL: still the caller's). */
rec_wfile *rec_wfile_open(rec_wgroup *g, int fd, const SF_INFO *info);
/** A buffer for `frames` frames of the file's channels. NULL: no memory. */
int16_t *rec_wbuf_new(const rec_wfile *f, size_t frames);
/** Free a buffer that was not handed over. */
void rec_wbuf_free(int16_t *buf);
/**
 * Hand `n` frames of `buf` (from rec_wbuf_new for this file; NULL with n 0:
 * only the silence owed) to the writer, which then frees it; with `flush`,
 * the header is updated after the write.
 * @return 0 (queued), 1 (dropped: the queue is full; the frames become
 *         silence), the group's error (negative errno), or -EINVAL (n
 *         more than the buffer holds); the buffer is consumed in every case
 */
int rec_wfile_write(rec_wfile *f, int16_t *buf, size_t n, int flush);
/** Close the file after what was given: the silence owed (unless
 * `discard`), its header, sf_close, fsync (with `sync`), close. Never
 * fails to queue. Nothing may be written after. */
void rec_wfile_close(rec_wfile *f, int sync, int discard);
/**
 * Stereo files made by the writer. A mono file kept (rec_wfile_keep) has
 * its audio kept by the writer as it writes it, from the file's start,
 * until a stereo file made of it takes it (rec_wfile_create_stereo) or
 * rec_wfile_unkeep() lets it go. The stereo file's audio follows
 * rec_mix.h's rule with the allowance `lag` (frames): as far as both
 * channels have audio, a channel lagging more than `lag` behind the other
 * or closed is silence there, and at the stereo file's close as far as
 * the longer channel. Nothing is written to it but flushes:
 * rec_wfile_write(f, NULL, 0, 1) after its channels' own flushes writes
 * what they allow and updates its header (queued once until it starts);
 * its close writes the rest (unless discarded). Its channels must be
 * closed before it.
 */
/** Keep a mono file's audio for a stereo file; before anything is written
 * to it. @return 0, -EINVAL (not mono, kept already, closing) or -ENOMEM */
int rec_wfile_keep(rec_wfile *f);
/** No stereo file after all: the writer lets the kept audio go. */
void rec_wfile_unkeep(rec_wfile *f);
/** A stereo file `name` in the group's folder (as rec_wfile_create(),
 * `info` with 2 channels) made of `left` and `right`, two kept mono files
 * of the group (not let go). @return the file, or NULL with errno EINVAL
 * or ENOMEM */
rec_wfile *rec_wfile_create_stereo(rec_wgroup *g, const char *name, const SF_INFO *info,
                                   rec_wfile *left, rec_wfile *right, uint64_t lag);
/** After the group's completion: frames in the file, and its close's
 * result (0 or a negative errno). */
uint64_t rec_wfile_written(const rec_wfile *f);
int rec_wfile_close_result(const rec_wfile *f);

#endif
