/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorder's writer thread and its bounded queue; see rec_writer.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sync_file_range, pthread_setname_np */
#endif
#include "rec_writer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int16_t *samples_of(struct rec_job *j)
{
  return (int16_t *)(void *)(j + 1);
}

static struct rec_job *job_of(int16_t *buf)
{
  return (struct rec_job *)(void *)buf - 1;
}

void rec_wgroup_set_error(rec_wgroup *g, int err)
{
  int none = 0;
  atomic_compare_exchange_strong(&g->error, &none, err);
}

int rec_wgroup_error(rec_wgroup *g)
{
  return g ? atomic_load(&g->error) : 0;
}

/* ---- the writer's side ---- */

/* n frames of `p` (NULL: silence) into the file. @return 0 or -errno */
int rec_wfile_put(rec_wfile *f, const int16_t *p, uint64_t n)
{
  static const int16_t zeros[4096];
  while (n) {
    size_t k;
    const int16_t *src = p;
    if (p) {
      k = n > (1u << 20) ? (size_t)1 << 20 : (size_t)n;
    } else {
      k = sizeof zeros / sizeof zeros[0] / (size_t)f->channels;
      if (k > n)
        k = (size_t)n;
      src = zeros;
    }
    errno = 0;
    sf_count_t w = sf_writef_short(f->sf, src, (sf_count_t)k);
    int e = errno;
    if (w > 0)
      f->written += (uint64_t)w;
    if (w != (sf_count_t)k)
      return -(e ? e : EIO);
    if (p)
      p += k * (size_t)f->channels;
    n -= k;
  }
  return 0;
}

/* Recordings are written once and read later, elsewhere: their pages are
 * of no use in this machine's cache, and left to the kernel they pile up
 * dirty until its threshold (20 % of memory by default), when it throttles
 * every thread that dirties a page, in bursts (at 1,500 calls the files
 * grow by 96 MB/s). So for each TRIM_STEP a file grows, its write-back is
 * started (sync_file_range, not waited for), and what was handed to the
 * disk the time before is dropped from the cache (posix_fadvise: a page
 * still dirty or under write-back stays). The first TRIM_KEEP bytes stay:
 * the header is rewritten at every flush, and a dropped page would have to
 * be read back first. */
#define TRIM_STEP ((off_t)1 << 20)
#define TRIM_KEEP ((off_t)64 << 10)

void rec_wfile_trim(rec_wfile *f)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
  /* The audio written says when a step may have passed (the header and a
   * FLAC file's compression aside). */
  if ((f->written - f->trimmed) * (uint64_t)f->channels * sizeof(int16_t) < (uint64_t)TRIM_STEP)
    return;
  f->trimmed = f->written;
  off_t end = (off_t)f->io.len;
  if (end - f->handed < TRIM_STEP)
    return;
  (void)sync_file_range(f->fd, f->handed, end - f->handed, SYNC_FILE_RANGE_WRITE);
  if (f->handed > TRIM_KEEP)
    (void)posix_fadvise(f->fd, TRIM_KEEP, f->handed - TRIM_KEEP, POSIX_FADV_DONTNEED);
  f->handed = end;
#else
  (void)f;
#endif
}

static void run_write(struct rec_job *j)
{
  rec_wfile *f = j->f;
  /* After the group's first error nothing more is tried on its disk (a
   * file whose open failed set it). */
  if (atomic_load(&f->g->error) || !f->sf)
    return;
  uint64_t tl = f->written;
  int rc = rec_wfile_put(f, NULL, j->silence);
  if (!rc)
    rc = rec_wfile_put(f, samples_of(j), j->frames);
  if (rc)
    rec_wgroup_set_error(f->g, rc);
  /* A valid header after every flush: a process killed now leaves a file
   * that says how much audio it holds (FLAC: nothing to do). Also after a
   * failed write, so the file describes what it took. */
  if (rc || j->flush)
    rec_wfile_update_header(f);
  if (!rc)
    rec_wfile_trim(f);
  /* The same audio for the stereo file, while it is in the cache. */
  if (!rc && f->hold)
    rec_wmix_take(f, tl, j->silence, samples_of(j), j->frames);
}

void rec_wfile_update_header(rec_wfile *f)
{
  sf_command(f->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
}

static void run_close(struct rec_job *j)
{
  rec_wfile *f = j->f;
  int rc = 0;
  if (f->sf) {
    if (!j->discard && j->silence && !atomic_load(&f->g->error)) {
      uint64_t tl = f->written;
      rc = rec_wfile_put(f, NULL, j->silence);
      if (rc)
        rec_wgroup_set_error(f->g, rc);
      else if (f->hold)
        rec_wmix_take(f, tl, j->silence, NULL, 0);
    }
    if (f->mix)
      rec_wmix_closing(f, j->discard);
    rec_wfile_update_header(f);
    /* sf_close() writes FLAC's last block and STREAMINFO. */
    if (sf_close(f->sf) && !rc)
      rc = -EIO;
    f->sf = NULL;
    sndfile_pio_release(&f->io);
  }
  if (f->fd >= 0) {
    /* Durable once closed: the recording is done and reported. */
    if (j->sync && fsync(f->fd) < 0 && !rc && errno != EINVAL)
      rc = -errno;
    if (close(f->fd) < 0 && !rc && errno != EINTR)
      rc = -errno;
    f->fd = -1;
  }
  f->close_rc = rc;
  if (f->hold)
    rec_wmix_channel_closed(f);
}

/* The group's folder: made (mode 0700) unless there, and opened, on this
 * thread: creating a directory or a file allocates an inode, which on a
 * busy ext4 can take milliseconds (it scans for recently freed ones), and
 * the producer is an event loop. An existing folder is taken only if it
 * is no symbolic link. */
static void run_folder(struct rec_job *j)
{
  rec_wgroup *g = j->g;
  if (mkdir(g->folder, 0700) < 0 && errno != EEXIST) {
    rec_wgroup_set_error(g, -errno);
    return;
  }
  g->dirfd = open(g->folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (g->dirfd < 0)
    rec_wgroup_set_error(g, -errno);
}

/* A file of the group: created in its folder unless given (O_EXCL: never
 * write into a file that was there, or a link planted in its place; 0600:
 * recordings are private; O_RDWR: the header's page may be mapped,
 * sndfile_pio.h), then opened by libsndfile, which writes its first
 * header. A failure is the group's error: nothing more is written. */
static void run_open(struct rec_job *j)
{
  rec_wfile *f = j->f;
  rec_wgroup *g = f->g;
  if (atomic_load(&g->error))
    return;
  if (f->name) {
    f->fd = openat(g->dirfd, f->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f->fd < 0) {
      rec_wgroup_set_error(g, -errno);
      return;
    }
  }
  f->sf = sndfile_pio_open(&f->io, f->fd, &f->info);
  if (!f->sf) {
    sndfile_pio_release(&f->io);
    if (f->name)
      unlinkat(g->dirfd, f->name, 0); /* an empty file of ours: no recording */
    rec_wgroup_set_error(g, -EIO);
    return;
  }
  /* Plain WAV while under 4 GiB, RF64 past it (set before any audio). */
  if ((f->info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64)
    sf_command(f->sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
  if (f->mix)
    rec_wmix_opened(f);
}

static void run_finish(struct rec_job *j)
{
  rec_wgroup *g = j->g;
  if (g->dirfd >= 0) {
    fsync(g->dirfd); /* the new names themselves */
    close(g->dirfd);
    g->dirfd = -1;
  }
  if (g->work)
    g->work(g->arg);
}

/* Runs a job (no lock held). @return the frames it wrote */
static uint64_t run_job(struct rec_job *j)
{
  uint64_t before = j->f ? j->f->written : 0;
  switch (j->kind) {
  case JOB_FOLDER:
    run_folder(j);
    return 0;
  case JOB_OPEN:
    run_open(j);
    return 0;
  case JOB_WRITE:
    run_write(j);
    break;
  case JOB_CLOSE:
    run_close(j);
    break;
  case JOB_FINISH:
    run_finish(j);
    return 0;
  case JOB_MIX_FLUSH:
    rec_wmix_run_flush(j);
    break;
  case JOB_UNKEEP:
    rec_wmix_run_unkeep(j);
    return 0;
  }
  return j->f->written - before;
}

/* Does the job open a descriptor of the writer's own (a folder, or a file
 * it creates; a given descriptor is the caller's)? Counted from its
 * submission to its end, for rec_writer_opens_queued(). */
static int counts_open(const struct rec_job *j)
{
  return j->kind == JOB_FOLDER || (j->kind == JOB_OPEN && j->f->name);
}

/* After a job ran, under the lock. @return non-zero when a completion waits
 * for rec_writer_poll(). Once it returns, a finish job (and its group) may
 * be freed by the producer. */
static int job_done_locked(rec_writer *w, struct rec_job *j, uint64_t frames)
{
  w->written += frames;
  w->queued -= j->bytes;
  if (j->kind != JOB_FINISH)
    return 0;
  rec_wgroup *g = j->g;
  g->finished = 1;
  pthread_cond_broadcast(&w->idle);
  if (!g->done)
    return 0;
  g->next_done = NULL;
  *w->done_tail = g;
  w->done_tail = &g->next_done;
  return 1;
}

static void *writer_main(void *arg)
{
  rec_writer *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    /* Stalled (the test hook) or idle: wait. A stop drains what is queued,
     * stalled or not. */
    while (!w->stop && (w->stalled || !w->head))
      pthread_cond_wait(&w->work, &w->lock);
    struct rec_job *j = w->head;
    if (!j)
      break;
    w->head = j->next;
    if (!w->head)
      w->tail = &w->head;
    w->busy = 1;
    pthread_mutex_unlock(&w->lock);
    int opens = counts_open(j); /* read first: a finished group may go */
    uint64_t frames = run_job(j);
    if (opens)
      atomic_fetch_sub(&w->opens_queued, 1);
    /* A finish job lives in its group, which the producer may free as soon
     * as the completion is published: nothing reads j after that. */
    struct rec_job *own = j->kind == JOB_WRITE ? j : NULL;
    pthread_mutex_lock(&w->lock);
    w->busy = 0;
    int wake = job_done_locked(w, j, frames);
    if (!w->head)
      pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->lock);
    free(own);
    if (wake && w->wake)
      w->wake(w->wake_user);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* ---- the producer's side ---- */

/* Queue a job, or, without a thread, run it now. */
void rec_writer_submit(rec_writer *w, struct rec_job *j)
{
  j->next = NULL;
  if (!w->has_thread) {
    uint64_t frames = run_job(j);
    struct rec_job *own = j->kind == JOB_WRITE ? j : NULL;
    pthread_mutex_lock(&w->lock);
    int wake = job_done_locked(w, j, frames);
    pthread_mutex_unlock(&w->lock);
    free(own);
    if (wake && w->wake)
      w->wake(w->wake_user);
    return;
  }
  if (counts_open(j))
    atomic_fetch_add(&w->opens_queued, 1);
  pthread_mutex_lock(&w->lock);
  w->queued += j->bytes;
  *w->tail = j;
  w->tail = &j->next;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->lock);
}

int rec_writer_new(const struct rec_writer_config *cfg, rec_writer **out)
{
  *out = NULL;
  rec_writer *w = calloc(1, sizeof *w);
  if (!w)
    return -ENOMEM;
  w->budget = cfg && cfg->budget_bytes ? cfg->budget_bytes : REC_WRITER_BUDGET_DEFAULT;
  if (w->budget < REC_WRITER_BUDGET_MIN)
    w->budget = REC_WRITER_BUDGET_MIN;
  if (cfg) {
    w->wake = cfg->wake;
    w->wake_user = cfg->wake_user;
    w->log = cfg->log;
    w->log_user = cfg->log_user;
  }
  w->tail = &w->head;
  w->done_tail = &w->done_head;
  atomic_init(&w->opens_queued, 0);
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->work, NULL);
  pthread_cond_init(&w->idle, NULL);
  if (!(cfg && cfg->no_thread)) {
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc) {
      pthread_cond_destroy(&w->idle);
      pthread_cond_destroy(&w->work);
      pthread_mutex_destroy(&w->lock);
      free(w);
      return -rc;
    }
    w->has_thread = 1;
#ifdef __linux__
    pthread_setname_np(w->thread, "rec-writer"); /* for top -H, perf */
#endif
  }
  *out = w;
  return 0;
}

void rec_writer_free(rec_writer *w)
{
  if (!w)
    return;
  if (w->has_thread) {
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    w->stalled = 0;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
  }
  rec_writer_poll(w);
  pthread_cond_destroy(&w->idle);
  pthread_cond_destroy(&w->work);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

size_t rec_writer_poll(rec_writer *w)
{
  pthread_mutex_lock(&w->lock);
  rec_wgroup *g = w->done_head;
  w->done_head = NULL;
  w->done_tail = &w->done_head;
  pthread_mutex_unlock(&w->lock);
  size_t n = 0;
  while (g) {
    rec_wgroup *next = g->next_done; /* done() may free g */
    g->done(g->arg);
    g = next;
    n++;
  }
  return n;
}

void rec_writer_drain(rec_writer *w)
{
  pthread_mutex_lock(&w->lock);
  while (w->has_thread && (w->head || w->busy)) {
    /* A stalled writer would never drain: the stall is a test's, and a
     * drain means the test is over with it. */
    if (w->stalled) {
      w->stalled = 0;
      pthread_cond_broadcast(&w->work);
    }
    pthread_cond_wait(&w->idle, &w->lock);
  }
  pthread_mutex_unlock(&w->lock);
}

size_t rec_writer_opens_queued(rec_writer *w)
{
  return w ? atomic_load(&w->opens_queued) : 0;
}

void rec_writer_stats(rec_writer *w, struct rec_writer_stats *out)
{
  memset(out, 0, sizeof *out);
  if (!w)
    return;
  pthread_mutex_lock(&w->lock);
  out->queued_bytes = w->queued;
  out->budget_bytes = w->budget;
  out->dropped_frames = w->dropped;
  out->drop_episodes = w->episodes;
  out->written_frames = w->written;
  pthread_mutex_unlock(&w->lock);
}

void rec_writer_test_stall(rec_writer *w, int on)
{
  pthread_mutex_lock(&w->lock);
  w->stalled = on;
  pthread_cond_broadcast(&w->work);
  pthread_mutex_unlock(&w->lock);
}

rec_wgroup *rec_wgroup_new(rec_writer *w)
{
  rec_wgroup *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->w = w;
  g->dirfd = -1;
  atomic_init(&g->error, 0);
  return g;
}

int rec_wgroup_set_folder(rec_wgroup *g, const char *path)
{
  if (!g || !path || g->folder || g->files || g->finishing)
    return -EINVAL;
  if (!(g->folder = strdup(path)))
    return -ENOMEM;
  struct rec_job *j = &g->folder_job;
  memset(j, 0, sizeof *j);
  j->kind = JOB_FOLDER;
  j->g = g;
  rec_writer_submit(g->w, j);
  return 0;
}

void rec_wgroup_finish(rec_wgroup *g, void (*done)(void *arg), void *arg)
{
  rec_wgroup_finish_work(g, NULL, done, arg);
}

void rec_wgroup_finish_work(rec_wgroup *g, void (*work)(void *arg), void (*done)(void *arg),
                            void *arg)
{
  if (g->finishing)
    return;
  g->finishing = 1;
  g->work = work;
  g->done = done;
  g->arg = arg;
  struct rec_job *j = &g->finish_job;
  memset(j, 0, sizeof *j);
  j->kind = JOB_FINISH;
  j->g = g;
  rec_writer_submit(g->w, j);
}

void rec_wgroup_wait(rec_wgroup *g)
{
  rec_writer *w = g->w;
  pthread_mutex_lock(&w->lock);
  while (!g->finished)
    pthread_cond_wait(&w->idle, &w->lock);
  pthread_mutex_unlock(&w->lock);
}

void rec_wgroup_free(rec_wgroup *g)
{
  if (!g)
    return;
  while (g->files) {
    rec_wfile *f = g->files;
    g->files = f->next;
    /* Never closed (a caller that stopped early): nobody writes it now. */
    if (f->sf)
      sf_close(f->sf);
    sndfile_pio_release(&f->io);
    if (f->fd >= 0)
      close(f->fd);
    rec_wmix_free(f);
    free(f->name);
    free(f);
  }
  if (g->dirfd >= 0)
    close(g->dirfd);
  free(g->folder);
  free(g);
}

/* A file of the group, its open queued. */
rec_wfile *rec_wfile_new(rec_wgroup *g, int fd, const char *name, const SF_INFO *info,
                         struct rec_wmix *mix)
{
  if (!g || g->finishing || !info || info->channels < 1 || info->channels > 2 ||
      !sf_format_check(info)) {
    errno = EINVAL;
    return NULL;
  }
  rec_wfile *f = calloc(1, sizeof *f);
  if (!f || (name && !(f->name = strdup(name)))) {
    free(f);
    errno = ENOMEM;
    return NULL;
  }
  f->g = g;
  f->fd = fd;
  f->info = *info;
  f->channels = info->channels;
  f->mix = mix; /* before the open: it binds the channels */
  f->next = g->files;
  g->files = f;
  struct rec_job *j = &f->open_job;
  j->kind = JOB_OPEN;
  j->f = f;
  rec_writer_submit(g->w, j);
  return f;
}

rec_wfile *rec_wfile_create(rec_wgroup *g, const char *name, const SF_INFO *info)
{
  if (!name || !*name || strchr(name, '/')) {
    errno = EINVAL;
    return NULL;
  }
  return rec_wfile_new(g, -1, name, info, NULL);
}

rec_wfile *rec_wfile_open(rec_wgroup *g, int fd, const SF_INFO *info)
{
  if (fd < 0) {
    errno = EINVAL;
    return NULL;
  }
  return rec_wfile_new(g, fd, NULL, info, NULL);
}

static struct rec_job *job_new(size_t frames, int channels)
{
  size_t n = frames * (size_t)channels;
  if (frames > SIZE_MAX / 4 / (size_t)channels)
    return NULL;
  struct rec_job *j = malloc(sizeof *j + n * sizeof(int16_t));
  if (!j)
    return NULL;
  memset(j, 0, sizeof *j);
  j->kind = JOB_WRITE;
  j->bytes = sizeof *j + n * sizeof(int16_t);
  return j;
}

int16_t *rec_wbuf_new(const rec_wfile *f, size_t frames)
{
  struct rec_job *j = job_new(frames, f->channels);
  return j ? samples_of(j) : NULL;
}

void rec_wbuf_free(int16_t *buf)
{
  if (buf)
    free(job_of(buf));
}

static void log_episode(rec_writer *w, int start, uint64_t bytes, uint64_t frames)
{
  if (!w->log)
    return;
  char line[256];
  if (start)
    snprintf(line, sizeof line,
             "recordings: the disk is behind by %llu bytes (the writer's budget: %llu): audio "
             "is dropped (written as silence) until it catches up",
             (unsigned long long)bytes, (unsigned long long)w->budget);
  else
    snprintf(line, sizeof line,
             "recordings: the writer caught up; %llu frames were dropped (written as silence)",
             (unsigned long long)frames);
  w->log(w->log_user, line);
}

int rec_wfile_write(rec_wfile *f, int16_t *buf, size_t n, int flush)
{
  rec_wgroup *g = f->g;
  rec_writer *w = g->w;
  struct rec_job *j = buf ? job_of(buf) : NULL;
  if (f->mix)
    return rec_wmix_flush(f, buf, n);
  /* Closed, or stopped by an error: the writer would skip it anyway. */
  if (f->closing || rec_wgroup_error(g)) {
    rec_wbuf_free(buf);
    return rec_wgroup_error(g);
  }
  if (!j) {
    /* Only the silence owed: a job without samples, never dropped. */
    if (!f->owed)
      return rec_wgroup_error(g);
    if (!(j = job_new(0, f->channels)))
      return rec_wgroup_error(g); /* still owed: the next job or the close */
    n = 0;
  }
  /* The budget counts what the buffer takes in memory, its unused tail
   * included. (Giving the tail back with realloc was tried: bench_server's
   * run with it showed more CPU on the loop, not less.) */
  if (n > (j->bytes - sizeof *j) / sizeof(int16_t) / (size_t)f->channels) {
    free(j); /* more frames than the buffer holds: a caller's bug, not written */
    return -EINVAL;
  }
  j->f = f;
  j->frames = n;
  j->flush = flush;
  if (w->has_thread && n) {
    pthread_mutex_lock(&w->lock);
    if (w->queued + j->bytes > w->budget) {
      /* The disk is behind by the whole budget: this audio is dropped now
       * rather than the loop waiting for it. Its span becomes silence. */
      w->dropped += n;
      int start = !w->dropping;
      if (start) {
        w->dropping = 1;
        w->episodes++;
        w->episode_dropped = 0;
      }
      w->episode_dropped += n;
      size_t queued = w->queued;
      pthread_mutex_unlock(&w->lock);
      f->owed += n;
      free(j);
      if (start)
        log_episode(w, 1, queued, 0);
      int err = rec_wgroup_error(g);
      return err ? err : 1;
    }
    /* The episode ends once the queue is back under half its budget. */
    int end = w->dropping && w->queued + j->bytes <= w->budget / 2;
    uint64_t lost = w->episode_dropped;
    if (end)
      w->dropping = 0;
    pthread_mutex_unlock(&w->lock);
    if (end)
      log_episode(w, 0, 0, lost);
  }
  j->silence = f->owed;
  f->owed = 0;
  rec_writer_submit(w, j);
  return rec_wgroup_error(g);
}

void rec_wfile_close(rec_wfile *f, int sync, int discard)
{
  if (f->closing)
    return;
  f->closing = 1;
  struct rec_job *j = &f->close_job;
  memset(j, 0, sizeof *j);
  j->kind = JOB_CLOSE;
  j->f = f;
  j->sync = sync;
  j->discard = discard;
  j->silence = discard ? 0 : f->owed;
  f->owed = 0;
  rec_writer_submit(f->g->w, j);
}

uint64_t rec_wfile_written(const rec_wfile *f)
{
  return f->written;
}

int rec_wfile_close_result(const rec_wfile *f)
{
  return f->close_rc;
}
