/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A recording: its folder, its streams' files, flushing, errors, closing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "recorder_internal.h"

#define MS 1000000ull
/* A label kept for the manifest is cut to this many bytes. */
#define LABEL_KEEP 256

static int safe_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

void rec_safe_name(char *out, size_t size, const char *label, unsigned index)
{
  size_t k = 0;
  for (const char *p = label; p && *p && k + 1 < size && k < REC_NAME_MAX; p++)
    out[k++] = safe_char(*p) ? *p : '_';
  out[k] = '\0';
  if (k == 0)
    snprintf(out, size, "%u", index);
  /* A leading dot would hide the file (and "." or ".." name no file). */
  if (out[0] == '.')
    out[0] = '_';
}

static int valid_folder(const char *s)
{
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 128 || s[0] == '.')
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!safe_char(s[i]))
      return 0;
  return 1;
}

/* Zeroed, on a cache line of its own: the structs a frame reads keep what
 * it reads in their first line (recorder_internal.h). free() releases it. */
static void *line_alloc(size_t size)
{
  void *p = NULL;
  if (posix_memalign(&p, 64, size))
    return NULL;
  return memset(p, 0, size);
}

int rec_open(const struct rec_config *cfg, rec_recording **out)
{
  if (!cfg || !out || !cfg->dir || !valid_folder(cfg->session) || cfg->rate < 8000 ||
      cfg->rate > 48000 || (cfg->format != REC_WAV && cfg->format != REC_FLAC))
    return -EINVAL;
  *out = NULL;
  rec_recording *r = line_alloc(sizeof *r);
  if (!r)
    return -ENOMEM;
  size_t n = strlen(cfg->dir) + strlen(cfg->session) + 2;
  r->folder = malloc(n);
  if (!r->folder) {
    free(r);
    return -ENOMEM;
  }
  snprintf(r->folder, n, "%s/%s", cfg->dir, cfg->session);
  /* The writer makes the folder; here only whether it was there (a lookup,
   * no allocation): a fresh folder holds only the names this recording
   * gives, the disk is asked about those of a reused one (a later segment,
   * or a restart without resume state). */
  struct stat st;
  r->reused = !(lstat(r->folder, &st) < 0 && errno == ENOENT);
  r->streams = r->inline_streams;
  r->cap_streams = REC_INLINE_STREAMS;
  r->format = cfg->format;
  r->rate = cfg->rate;
  r->start_ns = cfg->start_ns;
  r->open_ns = r->last_flush_ns = cfg->start_ns;
  r->flush_ns = (cfg->flush_ms ? cfg->flush_ms : 250) * MS;
  r->stereo_wait_ns = (cfg->stereo_wait_ms ? cfg->stereo_wait_ms : 5000) * MS;
  r->tol = (int64_t)cfg->rate * (cfg->drift_tolerance_ms ? cfg->drift_tolerance_ms : 10) / 1000;
  r->stereo.lag = (uint64_t)cfg->rate * (cfg->stereo_lag_ms ? cfg->stereo_lag_ms : 500) / 1000;
  r->stereo.state = cfg->no_stereo ? REC_STEREO_NONE : REC_STEREO_WAITING;
  r->segment = cfg->segment;
  /* Each file's buffer holds two flush intervals (0.1 to 1 s): a flush
   * hands over about half of it, and the queue's budget counts what the
   * buffers take in memory. */
  uint64_t buf_ms = 2 * (r->flush_ns / MS);
  buf_ms = buf_ms < 100 ? 100 : buf_ms > 1000 ? 1000 : buf_ms;
  r->buf_frames = (size_t)(cfg->rate * buf_ms / 1000);
  r->writer = cfg->writer;
  int rc = 0;
  if (!r->writer) {
    /* No writer given: one of its own that writes at once, in this thread. */
    struct rec_writer_config wc = { .no_thread = 1 };
    rc = rec_writer_new(&wc, &r->own_writer);
    r->writer = r->own_writer;
  }
  if (!rc && !(r->g = rec_wgroup_new(r->writer)))
    rc = -ENOMEM;
  if (!rc)
    rc = rec_wgroup_set_folder(r->g, r->folder);
  /* Without a thread the folder is made by now: its error is known. */
  if (!rc)
    rc = rec_wgroup_error(r->g);
  if (rc) {
    if (r->g) {
      rec_wgroup_finish(r->g, NULL, NULL);
      rec_wgroup_wait(r->g);
    }
    rec_wgroup_free(r->g);
    rec_writer_free(r->own_writer);
    free(r->folder);
    free(r);
    return rc;
  }
  *out = r;
  return 0;
}

/* The writer's first error, once seen, is the recording's (rec_fail). */
static int check_writer(rec_recording *r)
{
  if (r->error)
    return r->error;
  int e = rec_wgroup_error(r->g);
  return e ? rec_fail(r, e) : 0;
}

/* Every file's close handed to the writer (its result comes with the
 * recording's completion). */
static void close_all(rec_recording *r, int discard, int sync)
{
  for (size_t i = 0; i < r->n_streams; i++)
    (void)rec_sink_close(&r->streams[i]->sink, discard, sync);
  (void)rec_sink_close(&r->stereo.sink, discard, sync);
}

int rec_fail(rec_recording *r, int err)
{
  if (r->error)
    return r->error;
  r->error = err;
  r->write_errors++;
  /* Stop everything: each file's header says what it holds, nothing more is
   * tried on a full disk. */
  close_all(r, 1, 0);
  return err;
}

static int name_taken(const rec_recording *r, const char *name)
{
  for (size_t i = 0; i < r->n_streams; i++)
    if (!strcasecmp(r->streams[i]->name, name))
      return 1;
  return !rec_name_free_on_disk(r, name);
}

int rec_name_free_on_disk(const rec_recording *r, const char *name)
{
  if (!r->reused)
    return 1;
  size_t n = strlen(r->folder) + strlen(name) + 2;
  char *path = malloc(n);
  if (!path)
    return 0;
  snprintf(path, n, "%s/%s", r->folder, name);
  /* Taken only when something is there; any other answer (EACCES) is the
   * writer's to report when it creates the file. */
  struct stat st;
  int taken = fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
  free(path);
  return !taken;
}

/* The stream's file: its safe name, then -2, -3... until the name is free
 * in the recording and on disk. */
static int open_stream_file(rec_recording *r, struct rec_stream *s, const char *label,
                            unsigned index)
{
  const char *ext = r->format == REC_FLAC ? ".flac" : ".wav";
  char base[REC_NAME_MAX + 1], name[REC_NAME_MAX + 32];
  char seg[16] = "";
  rec_safe_name(base, sizeof base, label, index);
  /* A later segment (recovery) puts its number before the extension. */
  if (r->segment > 1)
    snprintf(seg, sizeof seg, ".%u", r->segment);
  for (unsigned k = 1; k < 1000; k++) {
    if (k == 1)
      snprintf(name, sizeof name, "%s%s%s", base, seg, ext);
    else
      snprintf(name, sizeof name, "%s-%u%s%s", base, k, seg, ext);
    size_t stem = strlen(name) - strlen(seg) - strlen(ext);
    if ((stem == 6 && !strncasecmp(name, "stereo", 6)) ||
        (stem == 8 && !strncasecmp(name, "manifest", 8)) || name_taken(r, name))
      continue;
    int rc = rec_sink_open(&s->sink, r->g, name, r->format, r->rate, 1, r->buf_frames);
    /* One of the stereo file's two channels: the writer keeps its audio. */
    if (!rc && r->stereo.state == REC_STEREO_WAITING && r->n_streams < 2)
      rc = rec_wfile_keep(s->sink.wf);
    if (rc)
      return rc;
    s->name = strdup(name);
    return s->name ? 0 : -ENOMEM;
  }
  return -EEXIST;
}

static void stream_free(struct rec_stream *s)
{
  int ignored = rec_sink_close(&s->sink, 1, 0);
  (void)ignored;
  free(s->label);
  free(s->name);
  free(s);
}

int rec_add_stream(rec_recording *r, const char *label, unsigned index)
{
  if (!r)
    return -EINVAL;
  if (check_writer(r))
    return r->error;
  if (r->n_streams >= REC_MAX_STREAMS)
    return -EMFILE;
  if (r->n_streams == r->cap_streams) {
    size_t cap = 2 * r->cap_streams;
    int moving = r->streams == r->inline_streams;
    struct rec_stream **p = realloc(moving ? NULL : r->streams, cap * sizeof *p);
    if (!p)
      return -ENOMEM;
    if (moving)
      memcpy(p, r->inline_streams, sizeof r->inline_streams);
    r->streams = p;
    r->cap_streams = cap;
  }
  struct rec_stream *s = line_alloc(sizeof *s);
  if (!s)
    return -ENOMEM;
  char idx[16];
  snprintf(idx, sizeof idx, "%u", index);
  s->label = label && *label ? strndup(label, LABEL_KEEP) : strdup(idx);
  if (!s->label) {
    free(s);
    return -ENOMEM;
  }
  int rc = open_stream_file(r, s, label, index);
  if (rc) {
    stream_free(s);
    return rc;
  }
  r->streams[r->n_streams++] = s;
  /* Without a thread the file is made by now: its error is known. */
  if (check_writer(r))
    return r->error;
  if (r->n_streams == 2 && r->stereo.state == REC_STEREO_WAITING) {
    rc = rec_stereo_start(r);
    if (rc == -ENOMEM || rc == -EEXIST) {
      /* No stereo file; the mono files go on. */
      r->write_errors++;
    } else if (rc) {
      return rec_fail(r, rc);
    }
  }
  return (int)(r->n_streams - 1);
}

static struct rec_stream *stream_of(rec_recording *r, int id)
{
  return r && id >= 0 && (size_t)id < r->n_streams ? r->streams[id] : NULL;
}

/* Append to the stream's file (the writer makes the stereo file from it). */
static int put(rec_recording *r, struct rec_stream *s, const int16_t *frames, size_t n)
{
  int rc = rec_sink_put(&s->sink, frames, n);
  return rc ? rec_fail(r, rc) : 0;
}

int rec_frame(rec_recording *r, int id, const struct rec_frame *f)
{
  struct rec_stream *s = stream_of(r, id);
  if (!s || !f || (!f->samples && f->n_samples))
    return -EINVAL;
  /* The writer's own errors are read at each flush (rec_tick), not here:
   * the group is the writer thread's cache line, and a frame taken
   * meanwhile is only buffered (the writer tries nothing more after an
   * error). */
  if (r->error)
    return r->error;
  /* Bounds that keep the timeline's arithmetic far from overflow: a
   * position of 2^52 samples is three thousand years at 48 kHz. */
  if (s->ended || f->rate != r->rate || f->position > REC_MAX_POSITION || f->now_ns < r->start_ns ||
      f->n_samples > (size_t)r->rate * 10)
    return -EINVAL;
  int64_t t = rec_timeline_place(&s->tl, f, r->start_ns, r->rate, r->tol, &r->slips);
  const int16_t *p = f->samples;
  size_t n = f->n_samples;
  int64_t end = (int64_t)s->sink.frames;
  if (t < end) {
    /* Overlaps what is written (a correction that drops samples, or audio
     * from before the recording's start): only the rest is new. */
    uint64_t skip = (uint64_t)(end - t);
    if (skip >= n)
      return 0;
    p += skip;
    n -= (size_t)skip;
  } else if (t > end) {
    /* Silence in chunks of the sink's buffer: a long pause costs no memory. */
    uint64_t gap = (uint64_t)(t - end);
    while (gap) {
      size_t k = gap > 8192 ? 8192 : (size_t)gap;
      int rc = put(r, s, NULL, k);
      if (rc)
        return rc;
      gap -= k;
    }
  }
  return put(r, s, p, n);
}

int rec_end_stream(rec_recording *r, int id)
{
  struct rec_stream *s = stream_of(r, id);
  if (!s || s->ended)
    return -EINVAL;
  if (check_writer(r))
    return r->error;
  s->ended = 1;
  /* The stereo file has silence on its side from here (the writer). */
  int rc = rec_sink_close(&s->sink, 0, 1);
  return rc ? rec_fail(r, rc) : 0;
}

/* When a recording still waiting for its second stream gives up the
 * stereo file. */
static uint64_t stereo_wait_end(const rec_recording *r)
{
  return r->open_ns + r->stereo_wait_ns;
}

int rec_tick(rec_recording *r, uint64_t now_ns)
{
  if (!r)
    return -EINVAL;
  if (r->error)
    return r->error;
  if (r->stereo.state == REC_STEREO_WAITING && r->n_streams < 2 &&
      now_ns >= stereo_wait_end(r))
    rec_stereo_give_up(r);
  if (now_ns >= r->last_flush_ns && now_ns - r->last_flush_ns < r->flush_ns)
    return 0;
  r->last_flush_ns = now_ns;
  /* The writer's errors reach the loop here, at each flush (ENOSPC logged
   * and counted by the caller within a flush interval of the failed
   * write); not at every tick, which visits every recording. */
  if (check_writer(r))
    return r->error;
  for (size_t i = 0; i < r->n_streams; i++) {
    int rc = rec_sink_flush(&r->streams[i]->sink);
    if (rc)
      return rec_fail(r, rc);
  }
  int rc = rec_sink_flush(&r->stereo.sink);
  return rc ? rec_fail(r, rc) : 0;
}

uint64_t rec_next_tick(const rec_recording *r)
{
  if (!r)
    return 0;
  uint64_t due = r->last_flush_ns + r->flush_ns;
  if (r->stereo.state == REC_STEREO_WAITING && stereo_wait_end(r) < due)
    due = stereo_wait_end(r);
  return due;
}

size_t rec_stream_count(const rec_recording *r)
{
  return r ? r->n_streams : 0;
}

const char *rec_stream_label(const rec_recording *r, int id)
{
  return r && id >= 0 && (size_t)id < r->n_streams ? r->streams[id]->label : NULL;
}

const char *rec_stream_file(const rec_recording *r, int id)
{
  return r && id >= 0 && (size_t)id < r->n_streams ? r->streams[id]->name : NULL;
}

const char *rec_stereo_file(const rec_recording *r)
{
  return r && r->stereo.state == REC_STEREO_ACTIVE ? r->stereo.name : NULL;
}

void rec_counters(const rec_recording *r, uint64_t *slips, uint64_t *write_errors)
{
  if (slips)
    *slips = r ? r->slips : 0;
  if (write_errors)
    *write_errors = r ? r->write_errors : 0;
}

static int fill_file(struct rec_file *f, const char *name, const struct rec_sink *s, uint32_t rate)
{
  f->name = strdup(name);
  f->channels = s->channels ? s->channels : 1;
  f->rate = rate;
  f->frames = rec_sink_written(s);
  f->duration = (double)f->frames / rate;
  return f->name ? 0 : -ENOMEM;
}

static int summarise(rec_recording *r, struct rec_summary *out)
{
  memset(out, 0, sizeof *out);
  out->slips = r->slips;
  out->write_errors = r->write_errors;
  out->error = r->error;
  out->folder = strdup(r->folder);
  out->files = calloc(r->n_streams + 1, sizeof *out->files);
  if (!out->folder || !out->files)
    return -ENOMEM;
  for (size_t i = 0; i < r->n_streams; i++) {
    struct rec_file *f = &out->files[out->n_files++];
    if (fill_file(f, r->streams[i]->name, &r->streams[i]->sink, r->rate) ||
        !(f->stream = strdup(r->streams[i]->label)))
      return -ENOMEM;
  }
  if (r->stereo.name) {
    struct rec_file *f = &out->files[out->n_files++];
    if (fill_file(f, r->stereo.name, &r->stereo.sink, r->rate) ||
        !(f->streams[0] = strdup(r->streams[0]->label)) ||
        !(f->streams[1] = strdup(r->streams[1]->label)))
      return -ENOMEM;
    f->channels = 2;
  }
  return 0;
}

/* The first half of a close: the last audio, every file's close and the
 * folder's fsync handed to the writer, which then runs `done` (NULL: wakes
 * rec_wgroup_wait()). */
static void close_start(rec_recording *r, void (*done)(void *arg))
{
  int rc = check_writer(r);
  for (size_t i = 0; i < r->n_streams; i++)
    r->streams[i]->ended = 1;
  /* The streams' files first: the stereo file's close, after them, writes
   * the rest of its channels' audio. */
  close_all(r, rc != 0, 1);
  rec_wgroup_finish(r->g, done, r);
}

/* The second half, once the writer closed everything: the result, the
 * summary, the recording freed. */
static int close_end(rec_recording *r, struct rec_summary *out)
{
  /* A write that failed after the loop last looked, or a close (fsync) that
   * failed: the recording's error as much as one seen during the call. */
  int rc = r->error;
  int e = rec_wgroup_error(r->g);
  for (size_t i = 0; !e && i < r->n_streams; i++)
    e = rec_wfile_close_result(r->streams[i]->sink.wf);
  if (!e && r->stereo.sink.wf)
    e = rec_wfile_close_result(r->stereo.sink.wf);
  if (!rc && e) {
    r->write_errors++;
    rc = r->error = e;
  }
  if (out) {
    int se = summarise(r, out);
    if (se) {
      rec_summary_free(out);
      if (!rc)
        rc = se;
    }
  }
  for (size_t i = 0; i < r->n_streams; i++)
    stream_free(r->streams[i]);
  if (r->streams != r->inline_streams)
    free(r->streams);
  rec_sink_close(&r->stereo.sink, 1, 0);
  free(r->stereo.name);
  rec_wgroup_free(r->g);
  rec_writer_free(r->own_writer);
  free(r->folder);
  free(r);
  return rc;
}

int rec_close(rec_recording *r, struct rec_summary *out)
{
  if (!r)
    return -EINVAL;
  close_start(r, NULL);
  rec_wgroup_wait(r->g);
  return close_end(r, out);
}

/* The writer closed everything: the caller's completion, on the thread
 * that polls the writer. */
static void closed_async(void *arg)
{
  rec_recording *r = arg;
  void (*done)(void *, int, struct rec_summary *) = r->done;
  void *done_arg = r->done_arg;
  struct rec_summary sum;
  int want = r->want_summary;
  int rc = close_end(r, want ? &sum : NULL);
  done(done_arg, rc, want ? &sum : NULL);
  if (want)
    rec_summary_free(&sum);
}

int rec_close_async(rec_recording *r, int want_summary,
                    void (*done)(void *arg, int rc, struct rec_summary *sum), void *arg)
{
  if (!r || !done)
    return -EINVAL;
  r->done = done;
  r->done_arg = arg;
  r->want_summary = want_summary;
  if (r->own_writer) {
    /* No thread: everything is written already; done now. */
    close_start(r, NULL);
    closed_async(r);
    return 0;
  }
  close_start(r, closed_async);
  return 0;
}

void rec_summary_free(struct rec_summary *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->n_files; i++) {
    free(s->files[i].name);
    free(s->files[i].stream);
    free(s->files[i].streams[0]);
    free(s->files[i].streams[1]);
  }
  free(s->files);
  free(s->folder);
  memset(s, 0, sizeof *s);
}

int rec_space_ok(const char *dir, uint64_t bytes)
{
  struct statvfs v;
  if (!dir || statvfs(dir, &v) < 0)
    return dir ? -errno : -EINVAL;
  uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
  /* f_bavail: what an unprivileged writer gets (the server should not
   * count on root's reserve). */
  return (uint64_t)v.f_bavail >= (bytes + unit - 1) / unit;
}
