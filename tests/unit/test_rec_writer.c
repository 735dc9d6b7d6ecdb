/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's recording writer (examples/server/rec_writer.c) alone:
 * its thread writes real WAV files, read back with libsndfile. Per-file
 * order across interleaved files and recordings, the queue's byte bound
 * and drop count with the writer stalled on purpose (the dropped span
 * turned into silence at its place), completions only after the last
 * write and the close, work run on the writer thread between a group's
 * last close and its completion (writer_file.h's small files), a write
 * error reaching the producer, shutdown draining a stalled queue, folders
 * and files created by the writer (a taken name, a linked folder), stereo
 * files the writer makes of two mono ones, and the thread-less mode. Also run under ThreadSanitizer (suite `concurrency`).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif
#include <time.h>
#include <unistd.h>

#include "rec_writer.h"
#include "recorder.h"
#include "writer_file.h"

#define RATE 8000

static char tmp[256];

static void setup(void)
{
  snprintf(tmp, sizeof tmp, "/tmp/test_rec_writer.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  ck_assert_int_eq(system(cmd), 0);
}

/* The completions the writer woke the producer for: a condition the test
 * waits on, as the server's loop waits on its uv_async. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static int wakes;

static void on_wake(void *user)
{
  (void)user;
  pthread_mutex_lock(&wake_lock);
  wakes++;
  pthread_cond_broadcast(&wake_cond);
  pthread_mutex_unlock(&wake_lock);
}

static char logs[8][300];
static int n_logs;

static void on_log(void *user, const char *message)
{
  (void)user;
  if (n_logs < 8)
    snprintf(logs[n_logs], sizeof logs[0], "%s", message);
  n_logs++;
}

static rec_writer *writer(size_t budget, int no_thread)
{
  struct rec_writer_config c = {
    .budget_bytes = budget, .no_thread = no_thread, .wake = on_wake, .log = on_log,
  };
  rec_writer *w = NULL;
  ck_assert_int_eq(rec_writer_new(&c, &w), 0);
  n_logs = 0;
  return w;
}

/* Poll until *flag is set (the writer wakes us for each completion), for
 * at most 10 s. */
static void wait_for(rec_writer *w, const int *flag)
{
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += 10;
  for (;;) {
    rec_writer_poll(w);
    if (*flag)
      return;
    pthread_mutex_lock(&wake_lock);
    int seen = wakes;
    int rc = 0;
    while (wakes == seen && rc == 0)
      rc = pthread_cond_timedwait(&wake_cond, &wake_lock, &end);
    pthread_mutex_unlock(&wake_lock);
    ck_assert_msg(rc == 0, "no completion within 10 s");
  }
}

static void path_of(char *out, size_t n, const char *name)
{
  snprintf(out, n, "%s/%s", tmp, name);
}

/* Opened read-write, as the recorder does, the header's page may be mapped
 * (sndfile_pio.h); write-only, every write is a pwrite. Both must give the
 * same files: the names' first letter picks (a, c: read-write). */
static rec_wfile *open_file(rec_wgroup *g, const char *name, int channels)
{
  char p[300];
  path_of(p, sizeof p, name);
  int mode = (name[0] - 'a') % 2 ? O_WRONLY : O_RDWR;
  int fd = open(p, mode | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  SF_INFO info = { .samplerate = RATE, .channels = channels,
                   .format = SF_FORMAT_RF64 | SF_FORMAT_PCM_16 };
  rec_wfile *f = rec_wfile_open(g, fd, &info);
  ck_assert_ptr_nonnull(f);
  return f;
}

/* The whole file, interleaved; *frames set. */
static int16_t *read_file(const char *name, sf_count_t *frames, int *channels)
{
  char p[300];
  path_of(p, sizeof p, name);
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(p, SFM_READ, &info);
  ck_assert_msg(sf != NULL, "%s: %s", name, sf_strerror(NULL));
  int16_t *buf = malloc(((size_t)info.frames + 1) * (size_t)info.channels * sizeof *buf);
  ck_assert_ptr_nonnull(buf);
  ck_assert_int_eq(sf_readf_short(sf, buf, info.frames), info.frames);
  sf_close(sf);
  *frames = info.frames;
  if (channels)
    *channels = info.channels;
  return buf;
}

/* The value a file's frame i holds in these tests: its index, folded into
 * 1..30000 (0 is kept for silence), plus the file's own offset. */
static int16_t value(uint64_t i, int file)
{
  return (int16_t)(1 + (i + (uint64_t)file * 7919) % 30000);
}

/* A buffer of n frames from frame `at` of file `file`, handed over. */
static int write_ramp(rec_wfile *f, int channels, int file, uint64_t at, size_t n, int flush)
{
  int16_t *b = rec_wbuf_new(f, n);
  ck_assert_ptr_nonnull(b);
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < channels; c++)
      b[i * (size_t)channels + (size_t)c] = (int16_t)(value(at + i, file) * (c ? -1 : 1));
  return rec_wfile_write(f, b, n, flush);
}

struct done_check {
  int done;
  const char *names[4];
  sf_count_t want[4];
  size_t n;
  int all_there; /* each file held its frames when the completion ran */
};

/* The completion: every file, as closed, holds what was written. */
static void on_done_check(void *arg)
{
  struct done_check *d = arg;
  d->all_there = 1;
  for (size_t i = 0; i < d->n; i++) {
    sf_count_t n;
    int16_t *p = read_file(d->names[i], &n, NULL);
    if (n != d->want[i])
      d->all_there = 0;
    free(p);
  }
  d->done = 1;
}

static void on_done_flag(void *arg)
{
  *(int *)arg = 1;
}

/* Two recordings of two files each (one stereo), buffers of odd sizes
 * handed over interleaved from one producer while the writer writes:
 * every file holds its frames in order, and each recording's completion
 * comes after its last write and close. */
START_TEST(test_order)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g[2] = { rec_wgroup_new(w), rec_wgroup_new(w) };
  ck_assert_ptr_nonnull(g[0]);
  ck_assert_ptr_nonnull(g[1]);
  static const char *names[4] = { "a.wav", "b.wav", "c.wav", "d.wav" };
  static const int chans[4] = { 1, 2, 1, 1 };
  rec_wfile *f[4];
  for (int i = 0; i < 4; i++)
    f[i] = open_file(g[i / 2], names[i], chans[i]);
  uint64_t at[4] = { 0, 0, 0, 0 };
  for (int round = 0; round < 100; round++)
    for (int i = 0; i < 4; i++) {
      size_t n = 37 + (size_t)((round * 13 + i * 7) % 400);
      ck_assert_int_eq(write_ramp(f[i], chans[i], i, at[i], n, round % 3 == 0), 0);
      at[i] += n;
    }
  struct done_check d[2];
  memset(d, 0, sizeof d);
  for (int k = 0; k < 2; k++) {
    for (int i = 2 * k; i < 2 * k + 2; i++) {
      rec_wfile_close(f[i], 1, 0);
      d[k].names[d[k].n] = names[i];
      d[k].want[d[k].n++] = (sf_count_t)at[i];
    }
    rec_wgroup_finish(g[k], on_done_check, &d[k]);
  }
  wait_for(w, &d[0].done);
  wait_for(w, &d[1].done);
  ck_assert(d[0].all_there && d[1].all_there);
  for (int i = 0; i < 4; i++) {
    ck_assert_uint_eq(rec_wfile_written(f[i]), at[i]);
    ck_assert_int_eq(rec_wfile_close_result(f[i]), 0);
    sf_count_t n;
    int ch;
    int16_t *p = read_file(names[i], &n, &ch);
    ck_assert_int_eq(n, (sf_count_t)at[i]);
    ck_assert_int_eq(ch, chans[i]);
    /* The first wrong sample, asserted once (an assertion per sample is
     * slow under valgrind). */
    sf_count_t bad = -1;
    for (sf_count_t j = 0; j < n * ch && bad < 0; j++)
      if (p[j] != value((uint64_t)(j / ch), i) * (j % ch ? -1 : 1))
        bad = j;
    ck_assert_msg(bad < 0, "%s sample %lld out of order", names[i], (long long)bad);
    free(p);
  }
  struct rec_writer_stats st;
  rec_writer_stats(w, &st);
  ck_assert_uint_eq(st.queued_bytes, 0);
  ck_assert_uint_eq(st.dropped_frames, 0);
  ck_assert_uint_eq(st.written_frames, at[0] + at[1] + at[2] + at[3]);
  ck_assert_int_eq(n_logs, 0);
  rec_wgroup_free(g[0]);
  rec_wgroup_free(g[1]);
  rec_writer_free(w);
}
END_TEST

/* Is NAME of the test's folder mapped into this process? */
static int mapped(const char *name)
{
  char p[300], line[1024];
  path_of(p, sizeof p, name);
  FILE *m = fopen("/proc/self/maps", "r");
  if (!m)
    return -1;
  int found = 0;
  while (fgets(line, sizeof line, m))
    found |= strstr(line, p) != NULL;
  fclose(m);
  return found;
}

/* The data chunk's length as the file's header says (libsndfile, reading,
 * would take the file's length for a 0). */
static uint32_t data_bytes_in_header(const char *name)
{
  char p[300];
  unsigned char h[512];
  path_of(p, sizeof p, name);
  FILE *f = fopen(p, "rb");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(h, 1, sizeof h, f);
  fclose(f);
  for (size_t i = 12; i + 8 <= n;) {
    uint32_t len = (uint32_t)h[i + 4] | (uint32_t)h[i + 5] << 8 | (uint32_t)h[i + 6] << 16 |
                   (uint32_t)h[i + 7] << 24;
    if (!memcmp(h + i, "data", 4))
      return len;
    i += 8 + len + (len & 1);
  }
  ck_abort_msg("%s: no data chunk in the first %zu bytes", name, n);
  return 0;
}

/* What a process killed now would leave: after each flush, the header of a
 * file still being written says how much audio it holds, whether rewritten
 * through the mapped first page (read-write, on ext4 or tmpfs) or by
 * pwrite; the mapping goes with the close. */
START_TEST(test_header_while_open)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g = rec_wgroup_new(w);
  static const char *names[2] = { "a.wav", "b.wav" };
  rec_wfile *f[2];
  for (int i = 0; i < 2; i++)
    f[i] = open_file(g, names[i], 1);
  uint64_t at = 0;
  for (int round = 0; round < 5; round++) {
    size_t n = 1000 + (size_t)round * 333;
    for (int i = 0; i < 2; i++)
      ck_assert_int_eq(write_ramp(f[i], 1, i, at, n, 1), 0);
    at += n;
    rec_writer_drain(w);
    for (int i = 0; i < 2; i++) {
      sf_count_t frames;
      int16_t *p = read_file(names[i], &frames, NULL);
      ck_assert_int_eq(frames, (sf_count_t)at);
      ck_assert_int_eq(p[at - 1], value(at - 1, i));
      ck_assert_uint_eq(data_bytes_in_header(names[i]), at * sizeof(int16_t));
      free(p);
    }
  }
#ifdef __linux__
  struct statfs st;
  ck_assert_int_eq(statfs(tmp, &st), 0);
  int mappable = st.f_type == 0xEF53 || st.f_type == 0x01021994;
  ck_assert_int_eq(mapped("a.wav"), mappable);
  ck_assert_int_eq(mapped("b.wav"), 0);
#endif
  for (int i = 0; i < 2; i++)
    rec_wfile_close(f[i], 0, 0);
  struct done_check d;
  memset(&d, 0, sizeof d);
  rec_wgroup_finish(g, on_done_check, &d);
  wait_for(w, &d.done);
  ck_assert_int_eq(mapped("a.wav"), 0);
  for (int i = 0; i < 2; i++) {
    sf_count_t frames;
    free(read_file(names[i], &frames, NULL));
    ck_assert_int_eq(frames, (sf_count_t)at);
  }
  rec_wgroup_free(g);
  rec_writer_free(w);
}
END_TEST

/* The writer stalled (as if blocked in a write on a dead disk): handing
 * buffers over never blocks, the queue stops at its byte budget, what does
 * not fit is dropped and counted, logged once; once the writer goes on,
 * the dropped span is silence at its place in the file and the audio after
 * it is where its timeline says. */
START_TEST(test_bound)
{
  rec_writer *w = writer(REC_WRITER_BUDGET_MIN, 0);
  rec_wgroup *g = rec_wgroup_new(w);
  rec_wfile *f = open_file(g, "a.wav", 1);
  rec_writer_test_stall(w, 1);
  const size_t n = 4000; /* 8 KB a buffer, plus the job's header */
  uint64_t at = 0, accepted = 0, dropped = 0, first_drop = UINT64_MAX, drop_end = 0;
  struct rec_writer_stats st;
  for (int i = 0; i < 200; i++) {
    int rc = write_ramp(f, 1, 0, at, n, 1);
    ck_assert_int_ge(rc, 0);
    rec_writer_stats(w, &st);
    ck_assert_uint_le(st.queued_bytes, REC_WRITER_BUDGET_MIN);
    if (rc == 1) {
      if (first_drop == UINT64_MAX)
        first_drop = at;
      dropped += n;
      drop_end = at + n;
    } else {
      ck_assert_msg(first_drop == UINT64_MAX, "a buffer was taken after one was dropped");
      accepted += n;
    }
    at += n;
  }
  /* 1 MiB holds 131 such buffers: the rest were dropped, none waited. */
  ck_assert_uint_gt(accepted, 100 * n);
  ck_assert_uint_lt(accepted, 140 * n);
  ck_assert_uint_eq(accepted + dropped, at);
  rec_writer_stats(w, &st);
  ck_assert_uint_eq(st.dropped_frames, dropped);
  ck_assert_uint_eq(st.drop_episodes, 1);
  ck_assert_uint_gt(st.queued_bytes, REC_WRITER_BUDGET_MIN - 2 * (n * 2 + 256));
  ck_assert_int_eq(n_logs, 1);
  ck_assert_ptr_nonnull(strstr(logs[0], "dropped"));
  ck_assert_uint_eq(st.written_frames, 0); /* stalled: nothing written yet */
  /* The writer goes on; the next buffer carries the silence owed. */
  rec_writer_test_stall(w, 0);
  rec_writer_drain(w);
  rec_writer_stats(w, &st);
  ck_assert_uint_eq(st.queued_bytes, 0);
  ck_assert_int_eq(write_ramp(f, 1, 0, at, n, 1), 0);
  at += n;
  ck_assert_int_eq(n_logs, 2); /* the episode's end */
  ck_assert_ptr_nonnull(strstr(logs[1], "caught up"));
  int done = 0;
  rec_wfile_close(f, 0, 0);
  rec_wgroup_finish(g, on_done_flag, &done);
  wait_for(w, &done);
  sf_count_t frames;
  int16_t *p = read_file("a.wav", &frames, NULL);
  ck_assert_int_eq(frames, (sf_count_t)at);
  uint64_t bad = UINT64_MAX;
  for (uint64_t j = 0; j < at && bad == UINT64_MAX; j++)
    if (p[j] != (j >= first_drop && j < drop_end ? 0 : value(j, 0)))
      bad = j;
  ck_assert_msg(bad == UINT64_MAX, "frame %llu wrong (dropped span %llu-%llu)",
                (unsigned long long)bad, (unsigned long long)first_drop,
                (unsigned long long)drop_end);
  free(p);
  rec_wgroup_free(g);
  rec_writer_free(w);
}
END_TEST

/* Mono a.wav in group g, `buffers` ramps of 800 frames handed to a stalled
 * writer and its close given: the writer holds it all, unwritten. */
static rec_wfile *stalled_ramps(rec_writer *w, rec_wgroup *g, int buffers)
{
  rec_wfile *f = open_file(g, "a.wav", 1);
  rec_writer_test_stall(w, 1);
  for (int i = 0; i < buffers; i++)
    ck_assert_int_eq(write_ramp(f, 1, 0, (uint64_t)i * 800, 800, 1), 0);
  rec_wfile_close(f, 1, 0);
  return f;
}

/* Stalled with closes and a finish queued: the completion waits for the
 * writer, and runs only in rec_writer_poll(), after the files hold it all. */
START_TEST(test_completion_after_last_write)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g = rec_wgroup_new(w);
  rec_wfile *f = stalled_ramps(w, g, 20);
  struct done_check d = { .names = { "a.wav" }, .want = { 16000 }, .n = 1 };
  rec_wgroup_finish(g, on_done_check, &d);
  struct timespec ts = { 0, 50 * 1000 * 1000 };
  nanosleep(&ts, NULL);
  ck_assert_uint_eq(rec_writer_poll(w), 0);
  ck_assert_int_eq(d.done, 0);
  rec_writer_test_stall(w, 0);
  rec_writer_drain(w);
  ck_assert_int_eq(d.done, 0); /* the producer's thread runs it, in poll */
  ck_assert_uint_eq(rec_writer_poll(w), 1);
  ck_assert(d.done && d.all_there);
  ck_assert_uint_eq(rec_wfile_written(f), 16000);
  rec_wgroup_free(g);
  rec_writer_free(w);
}
END_TEST

/* A finish with work (the server's manifest): the work runs on the writer
 * thread, after the group's last write and close, and before its
 * completion, which runs on the producer's in poll; a group without files
 * is a job of its own. */
struct work_check {
  pthread_t producer;
  int ran, off_producer, file_complete, done_after_work;
};

static void on_work(void *arg)
{
  struct work_check *c = arg;
  c->off_producer = !pthread_equal(pthread_self(), c->producer);
  sf_count_t n;
  int16_t *p = read_file("a.wav", &n, NULL);
  c->file_complete = n == 8000;
  free(p);
  c->ran = 1;
}

static void on_work_done(void *arg)
{
  struct work_check *c = arg;
  c->done_after_work = c->ran && pthread_equal(pthread_self(), c->producer);
}

START_TEST(test_finish_work)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g = rec_wgroup_new(w);
  stalled_ramps(w, g, 10);
  struct work_check c = { .producer = pthread_self() };
  rec_wgroup_finish_work(g, on_work, on_work_done, &c);
  rec_writer_test_stall(w, 0);
  rec_writer_drain(w);
  ck_assert_uint_eq(rec_writer_poll(w), 1);
  ck_assert(c.ran && c.off_producer && c.file_complete && c.done_after_work);
  rec_wgroup_free(g);
  /* No files: the work alone. */
  struct work_check alone = { .producer = pthread_self() };
  rec_wgroup *g2 = rec_wgroup_new(w);
  rec_wgroup_finish_work(g2, on_work, on_work_done, &alone);
  rec_writer_drain(w);
  ck_assert_uint_eq(rec_writer_poll(w), 1);
  ck_assert(alone.ran && alone.off_producer && alone.done_after_work);
  rec_wgroup_free(g2);
  rec_writer_free(w);
}
END_TEST

/* writer_file.h: a small file replaced on the writer thread, after the
 * audio given before it, its completion in poll; without a writer nothing
 * is taken. */
static void on_file_done(void *arg, int rc)
{
  *(int *)arg = rc == 0 ? 1 : -1;
}

START_TEST(test_writer_file)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g = rec_wgroup_new(w);
  stalled_ramps(w, g, 1);
  rec_wgroup_finish(g, NULL, NULL);
  int done = 0;
  char *text = strdup("{\"a\":1}");
  ck_assert_int_eq(writer_file_replace(w, tmp, "m.json", text, "\n", on_file_done, &done), 0);
  char path[300];
  snprintf(path, sizeof path, "%s/m.json", tmp);
  ck_assert_int_ne(access(path, F_OK), 0); /* behind the stalled audio */
  rec_writer_test_stall(w, 0);
  rec_writer_drain(w);
  ck_assert_int_eq(done, 0); /* the producer's thread runs it, in poll */
  ck_assert_uint_eq(rec_writer_poll(w), 1);
  ck_assert_int_eq(done, 1);
  FILE *in = fopen(path, "r");
  ck_assert_ptr_nonnull(in);
  char got[32] = "";
  ck_assert_uint_eq(fread(got, 1, sizeof got - 1, in), 8);
  fclose(in);
  ck_assert_str_eq(got, "{\"a\":1}\n");
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  char keep[] = "x";
  ck_assert_int_eq(writer_file_replace(NULL, tmp, "n.json", keep, NULL, NULL, NULL), -1);
  rec_wgroup_free(g);
  rec_writer_free(w);
}
END_TEST

/* Shutdown: a stalled writer with a queue full of work is freed; every
 * job runs, the completion with them, before the thread is joined. */
START_TEST(test_shutdown_drains)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g = rec_wgroup_new(w);
  rec_wfile *f = open_file(g, "a.wav", 2);
  rec_writer_test_stall(w, 1);
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(write_ramp(f, 2, 1, (uint64_t)i * 1000, 1000, i % 5 == 0), 0);
  rec_wfile_close(f, 1, 0);
  struct done_check d = { .names = { "a.wav" }, .want = { 50000 }, .n = 1 };
  rec_wgroup_finish(g, on_done_check, &d);
  rec_writer_free(w);
  ck_assert(d.done && d.all_there);
  sf_count_t n;
  int16_t *p = read_file("a.wav", &n, NULL);
  ck_assert_int_eq(n, 50000);
  sf_count_t bad = -1;
  for (sf_count_t j = 0; j < n && bad < 0; j++)
    if (p[2 * j + 1] != -value((uint64_t)j, 1))
      bad = j;
  ck_assert_msg(bad < 0, "frame %lld wrong", (long long)bad);
  free(p);
  rec_wgroup_free(g);
}
END_TEST

/* A write that fails on the writer's thread (the descriptor now points at
 * /dev/full: ENOSPC) is the group's error: the producer sees it on its next
 * hand-over, nothing more is written, the close still runs and the
 * completion comes. Another group on the same writer is not affected. */
START_TEST(test_write_error)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g = rec_wgroup_new(w), *ok = rec_wgroup_new(w);
  char p[300];
  path_of(p, sizeof p, "full.wav");
  int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  SF_INFO info = { .samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
  /* The header goes to the file; what follows to /dev/full in its place. */
  rec_wfile *f = rec_wfile_open(g, fd, &info);
  ck_assert_ptr_nonnull(f);
  rec_writer_drain(w); /* the header is written (the open is the writer's) */
  int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) {
    fprintf(stderr, "test_write_error: no /dev/full: not tried\n");
    rec_wgroup_free(g);
    rec_wgroup_free(ok);
    rec_writer_free(w);
    return;
  }
  ck_assert_int_eq(dup2(full, fd), fd);
  close(full);
  rec_wfile *o = open_file(ok, "ok.wav", 1);
  /* The writer may have failed it already by the time the call returns. */
  int first = write_ramp(f, 1, 0, 0, 8000, 1);
  ck_assert_msg(first == 0 || first == -ENOSPC, "first write: %d", first);
  ck_assert_int_eq(write_ramp(o, 1, 0, 0, 8000, 1), 0);
  rec_writer_drain(w);
  ck_assert_int_eq(rec_wgroup_error(g), -ENOSPC);
  ck_assert_int_eq(rec_wgroup_error(ok), 0);
  ck_assert_int_eq(write_ramp(f, 1, 0, 8000, 8000, 1), -ENOSPC);
  ck_assert_int_eq(write_ramp(o, 1, 0, 8000, 8000, 1), 0);
  int done = 0, done_ok = 0;
  rec_wfile_close(f, 1, 0);
  rec_wfile_close(o, 1, 0);
  rec_wgroup_finish(g, on_done_flag, &done);
  rec_wgroup_finish(ok, on_done_flag, &done_ok);
  wait_for(w, &done);
  wait_for(w, &done_ok);
  ck_assert_uint_eq(rec_wfile_written(f), 0);
  ck_assert_uint_eq(rec_wfile_written(o), 16000);
  sf_count_t n;
  int16_t *q = read_file("ok.wav", &n, NULL);
  ck_assert_int_eq(n, 16000);
  free(q);
  rec_wgroup_free(g);
  rec_wgroup_free(ok);
  rec_writer_free(w);
}
END_TEST

/* The contents of a small file of the test's folder ("" when none). */
static void slurp(const char *name, char *out, size_t n)
{
  char p[300];
  path_of(p, sizeof p, name);
  FILE *f = fopen(p, "rb");
  size_t k = f ? fread(out, 1, n - 1, f) : 0;
  out[k] = '\0';
  if (f)
    fclose(f);
}

static mode_t mode_of(const char *name)
{
  char p[300];
  struct stat st;
  path_of(p, sizeof p, name);
  ck_assert_msg(lstat(p, &st) == 0, "%s: %s", name, strerror(errno));
  return st.st_mode & 0777;
}

/* The writer makes a group's folder (0700) and creates its files there
 * (0600). A name that exists is not written into: the group's error
 * (EEXIST), the file left as it was. A folder that is a symbolic link is
 * refused. Each failure is its group's alone. */
START_TEST(test_create)
{
  rec_writer *w = writer(0, 0);
  SF_INFO info = { .samplerate = RATE, .channels = 1, .format = SF_FORMAT_RF64 | SF_FORMAT_PCM_16 };
  char dir[300], planted[300], link[300];
  path_of(dir, sizeof dir, "new");
  path_of(planted, sizeof planted, "old");
  path_of(link, sizeof link, "link");
  ck_assert_int_eq(mkdir(planted, 0700), 0);
  char taken[300];
  path_of(taken, sizeof taken, "old/taken.wav");
  FILE *o = fopen(taken, "w");
  ck_assert_ptr_nonnull(o);
  fputs("keep", o);
  fclose(o);
  ck_assert_int_eq(symlink(dir, link), 0);

  rec_wgroup *g = rec_wgroup_new(w), *t = rec_wgroup_new(w), *l = rec_wgroup_new(w);
  ck_assert_ptr_null(rec_wfile_create(g, "../x.wav", &info));
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_int_eq(rec_wgroup_set_folder(g, dir), 0);
  ck_assert_int_eq(rec_wgroup_set_folder(g, dir), -EINVAL);
  ck_assert_int_eq(rec_wgroup_set_folder(t, planted), 0);
  ck_assert_int_eq(rec_wgroup_set_folder(l, link), 0);
  rec_wfile *f = rec_wfile_create(g, "x.wav", &info);
  rec_wfile *tf = rec_wfile_create(t, "taken.wav", &info);
  rec_wfile *lf = rec_wfile_create(l, "z.wav", &info);
  ck_assert(f && tf && lf);
  ck_assert_int_eq(write_ramp(f, 1, 0, 0, 4000, 1), 0);
  int rt = write_ramp(tf, 1, 0, 0, 4000, 1), rl = write_ramp(lf, 1, 0, 0, 4000, 1);
  ck_assert_msg(rt == 0 || rt == -EEXIST, "write after a taken name: %d", rt);
  ck_assert_msg(rl == 0 || rl < 0, "write in a linked folder: %d", rl);
  rec_writer_drain(w);
  ck_assert_int_eq(rec_wgroup_error(g), 0);
  ck_assert_int_eq(rec_wgroup_error(t), -EEXIST);
  int le = rec_wgroup_error(l);
  ck_assert_msg(le == -ELOOP || le == -ENOTDIR, "a linked folder: %s", strerror(-le));
  ck_assert_uint_eq(mode_of("new"), 0700);
  ck_assert_uint_eq(mode_of("new/x.wav"), 0600);
  char text[16];
  slurp("old/taken.wav", text, sizeof text);
  ck_assert_str_eq(text, "keep");
  slurp("new/z.wav", text, sizeof text);
  ck_assert_str_eq(text, ""); /* nothing made through the link */
  rec_wfile_close(f, 1, 0);
  rec_wfile_close(tf, 1, 0);
  rec_wfile_close(lf, 1, 0);
  rec_wgroup *all[3] = { g, t, l };
  for (int i = 0; i < 3; i++) {
    rec_wgroup_finish(all[i], NULL, NULL);
    rec_wgroup_wait(all[i]);
  }
  ck_assert_uint_eq(rec_wfile_written(f), 4000);
  ck_assert_int_eq(rec_wfile_close_result(f), 0);
  ck_assert_uint_eq(rec_wfile_written(tf), 0);
  sf_count_t n;
  free(read_file("new/x.wav", &n, NULL));
  ck_assert_int_eq(n, 4000);
  slurp("old/taken.wav", text, sizeof text);
  ck_assert_str_eq(text, "keep");
  for (int i = 0; i < 3; i++)
    rec_wgroup_free(all[i]);
  rec_writer_free(w);
}
END_TEST

/* The descriptors a stalled writer is still to open are counted (the
 * server's descriptor budget takes them as used): a folder and each file
 * it creates, a failed creation included, not a descriptor given to it;
 * none once the writer went on. */
START_TEST(test_opens_queued)
{
  rec_writer *w = writer(0, 0);
  SF_INFO info = { .samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
  char dir[300], given[300];
  path_of(dir, sizeof dir, "queued");
  path_of(given, sizeof given, "given.wav");
  ck_assert_uint_eq(rec_writer_opens_queued(w), 0);
  rec_writer_test_stall(w, 1);
  rec_wgroup *g = rec_wgroup_new(w), *h = rec_wgroup_new(w);
  ck_assert_int_eq(rec_wgroup_set_folder(g, dir), 0);
  rec_wfile *a = rec_wfile_create(g, "a.wav", &info);
  rec_wfile *b = rec_wfile_create(g, "a.wav", &info); /* taken by then: EEXIST */
  int fd = open(given, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  rec_wfile *c = rec_wfile_open(h, fd, &info);
  ck_assert(a && b && c);
  ck_assert_uint_eq(rec_writer_opens_queued(w), 3);
  rec_writer_test_stall(w, 0);
  rec_writer_drain(w);
  ck_assert_uint_eq(rec_writer_opens_queued(w), 0);
  ck_assert_int_eq(rec_wgroup_error(g), -EEXIST);
  ck_assert_int_eq(rec_wgroup_error(h), 0);
  rec_wfile *all[3] = { a, b, c };
  for (int i = 0; i < 3; i++)
    rec_wfile_close(all[i], 1, 0);
  rec_wgroup_finish(g, NULL, NULL);
  rec_wgroup_finish(h, NULL, NULL);
  rec_wgroup_wait(g);
  rec_wgroup_wait(h);
  rec_wgroup_free(g);
  rec_wgroup_free(h);
  ck_assert_uint_eq(rec_writer_opens_queued(w), 0);
  rec_writer_free(w);
}
END_TEST

/* Without a thread every job runs in the caller at once, nothing is
 * dropped whatever the budget, and a group's wait returns at once. */
START_TEST(test_no_thread)
{
  rec_writer *w = writer(REC_WRITER_BUDGET_MIN, 1);
  rec_wgroup *g = rec_wgroup_new(w);
  rec_wfile *f = open_file(g, "a.wav", 1);
  for (int i = 0; i < 50; i++) {
    ck_assert_int_eq(write_ramp(f, 1, 0, (uint64_t)i * 4000, 4000, 1), 0);
    ck_assert_uint_eq(rec_wfile_written(f), (uint64_t)(i + 1) * 4000);
  }
  rec_wfile_close(f, 0, 0);
  rec_wgroup_finish(g, NULL, NULL);
  rec_wgroup_wait(g);
  struct rec_writer_stats st;
  rec_writer_stats(w, &st);
  ck_assert_uint_eq(st.dropped_frames, 0);
  sf_count_t n;
  int16_t *p = read_file("a.wav", &n, NULL);
  ck_assert_int_eq(n, 200000);
  free(p);
  rec_wgroup_free(g);
  rec_writer_free(w);
}
END_TEST

struct closed {
  int done, rc;
  size_t n_files;
  char names[3][64];
  uint64_t frames[3];
};

static void on_closed(void *arg, int rc, struct rec_summary *sum)
{
  struct closed *c = arg;
  c->rc = rc;
  c->n_files = sum ? sum->n_files : 0;
  for (size_t i = 0; i < c->n_files && i < 3; i++) {
    snprintf(c->names[i], sizeof c->names[i], "s/%s", sum->files[i].name);
    c->frames[i] = sum->files[i].frames;
  }
  c->done = 1;
}

/* The recorder on a threaded writer that stalls for most of a minute-long
 * two-stream call: the loop's calls never block, the queue's bound drops
 * audio, and every file (two mono, the stereo) still has the call's length
 * with the dropped spans silent; the audio after the writer came back is
 * there; the close completes through the writer, in poll. */
START_TEST(test_recording_on_stalled_writer)
{
  rec_writer *w = writer(REC_WRITER_BUDGET_MIN, 0);
  const uint64_t start = 5000000000000ull, ns_per_sample = 1000000000ull / RATE;
  struct rec_config c = { .dir = tmp, .session = "s", .format = REC_WAV, .rate = RATE,
                          .start_ns = start, .writer = w };
  rec_recording *r;
  /* Stalled from the start: the folder and the files are the writer's to
   * make, so the loop's calls go on without them (nothing on disk yet). */
  rec_writer_test_stall(w, 1);
  ck_assert_int_eq(rec_open(&c, &r), 0);
  int a = rec_add_stream(r, "a", 0), b = rec_add_stream(r, "b", 1);
  ck_assert_int_ge(a, 0);
  ck_assert_int_ge(b, 0);
  char folder[300];
  struct stat fst;
  path_of(folder, sizeof folder, "s");
  ck_assert_int_eq(lstat(folder, &fst), -1);
  int16_t fa[160], fb[160];
  for (int i = 0; i < 160; i++) {
    fa[i] = 1000;
    fb[i] = -2000;
  }
  /* 64 KB of audio a second for the three files: the 1 MiB budget is full
   * after about 16 s of a stalled writer. */
  const int frames = 60 * 50;
  for (int i = 0; i < frames; i++) {
    uint64_t pos = (uint64_t)i * 160, t = start + pos * ns_per_sample;
    struct rec_frame f = { .samples = fa, .n_samples = 160, .rate = RATE, .position = pos,
                           .time_ns = t, .now_ns = t + 20000000 };
    ck_assert_int_eq(rec_frame(r, a, &f), 0);
    f.samples = fb;
    ck_assert_int_eq(rec_frame(r, b, &f), 0);
    if (i % 10 == 9)
      ck_assert_int_eq(rec_tick(r, f.now_ns), 0);
    if (i == frames - 100) {
      /* The disk is back for the last two seconds. */
      rec_writer_test_stall(w, 0);
      rec_writer_drain(w);
    }
  }
  struct closed cl;
  memset(&cl, 0, sizeof cl);
  ck_assert_int_eq(rec_close_async(r, 1, on_closed, &cl), 0);
  ck_assert_int_eq(cl.done, 0);
  wait_for(w, &cl.done);
  ck_assert_int_eq(cl.rc, 0);
  ck_assert_uint_eq(cl.n_files, 3);
  struct rec_writer_stats st;
  rec_writer_stats(w, &st);
  ck_assert_uint_gt(st.dropped_frames, 10 * RATE);
  ck_assert_uint_eq(st.drop_episodes, 1);
  ck_assert_int_eq(n_logs, 2);
  uint64_t silent = 0;
  int16_t *audio[3];
  for (size_t i = 0; i < 3; i++) {
    ck_assert_uint_eq(cl.frames[i], (uint64_t)frames * 160);
    sf_count_t n;
    int ch;
    int16_t *p = audio[i] = read_file(cl.names[i], &n, &ch);
    ck_assert_int_eq(n, (sf_count_t)frames * 160);
    ck_assert_int_eq(ch, i < 2 ? 1 : 2);
    uint64_t zeros = 0, late_zeros = 0;
    for (sf_count_t j = 0; j < n; j++) {
      int z = p[j * ch] == 0 && p[j * ch + ch - 1] == 0;
      zeros += (uint64_t)z;
      if (j >= n - 1 * RATE)
        late_zeros += (uint64_t)z;
    }
    ck_assert_msg(late_zeros == 0, "%s: audio after the stall missing", cl.names[i]);
    ck_assert_msg(zeros > 0, "%s: nothing dropped", cl.names[i]);
    if (i < 2)
      silent += zeros;
  }
  /* Every dropped frame is a silent one, at its place, in the mono files;
   * the stereo file, made by the writer from them, is their audio side by
   * side, sample for sample. */
  ck_assert_uint_eq(silent, st.dropped_frames);
  for (size_t j = 0; j < (size_t)frames * 160; j++) {
    ck_assert_int_eq(audio[2][2 * j], audio[0][j]);
    ck_assert_int_eq(audio[2][2 * j + 1], audio[1][j]);
  }
  for (size_t i = 0; i < 3; i++)
    free(audio[i]);
  rec_writer_free(w);
}
END_TEST

/* A stereo file made by the writer from two kept mono files, with a
 * thread: the channels side by side while both have audio; past the
 * allowance (400 frames) the channel that lags is silence, and its audio
 * for that span, when it comes, is in its mono file only; a channel closed
 * early is silence after its end; a third kept file let go changes nothing
 * of its own; misuse is refused. */
START_TEST(test_stereo_by_writer)
{
  rec_writer *w = writer(0, 0);
  rec_wgroup *g = rec_wgroup_new(w);
  char folder[300];
  path_of(folder, sizeof folder, "st");
  ck_assert_int_eq(rec_wgroup_set_folder(g, folder), 0);
  SF_INFO mono = { .samplerate = RATE, .channels = 1, .format = SF_FORMAT_RF64 | SF_FORMAT_PCM_16 };
  SF_INFO two = mono;
  two.channels = 2;
  rec_wfile *a = rec_wfile_create(g, "a.wav", &mono), *b = rec_wfile_create(g, "b.wav", &mono);
  rec_wfile *c = rec_wfile_create(g, "c.wav", &mono);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(rec_wfile_keep(a), 0);
  ck_assert_int_eq(rec_wfile_keep(a), -EINVAL);
  ck_assert_int_eq(rec_wfile_keep(c), 0);
  /* Not kept, or twice the same channel: no stereo file. */
  errno = 0;
  ck_assert_ptr_null(rec_wfile_create_stereo(g, "x.wav", &two, a, b, 400));
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_int_eq(rec_wfile_keep(b), 0);
  ck_assert_ptr_null(rec_wfile_create_stereo(g, "x.wav", &two, a, a, 400));
  ck_assert_ptr_null(rec_wfile_create_stereo(g, "x.wav", &mono, a, b, 400));
  /* The first 800 frames come before the stereo file (kept meanwhile). */
  ck_assert_int_eq(write_ramp(a, 1, 0, 0, 800, 1), 0);
  ck_assert_int_eq(write_ramp(b, 1, 1, 0, 800, 1), 0);
  ck_assert_int_eq(write_ramp(c, 1, 2, 0, 800, 1), 0);
  rec_wfile_unkeep(c);
  rec_wfile *s = rec_wfile_create_stereo(g, "stereo.wav", &two, a, b, 400);
  ck_assert_ptr_nonnull(s);
  int16_t *nope = rec_wbuf_new(s, 10);
  ck_assert_int_eq(rec_wfile_write(s, nope, 10, 1), -EINVAL); /* the writer's to make */
  ck_assert_int_eq(rec_wfile_write(s, NULL, 0, 1), 0);
  /* a runs 800 ahead of b: the stereo file goes to 1600 - 400 = 1200, with
   * b silent from 800; b's 800..1200, late, only in b.wav. */
  ck_assert_int_eq(write_ramp(a, 1, 0, 800, 800, 1), 0);
  ck_assert_int_eq(rec_wfile_write(s, NULL, 0, 1), 0);
  ck_assert_int_eq(write_ramp(b, 1, 1, 800, 800, 1), 0);
  ck_assert_int_eq(write_ramp(c, 1, 2, 800, 800, 1), 0);
  /* a ends at 1600; b goes on to 2000: a silent from 1600 (closed). */
  rec_wfile_close(a, 0, 0);
  ck_assert_int_eq(write_ramp(b, 1, 1, 1600, 400, 1), 0);
  rec_wfile_close(b, 0, 0);
  rec_wfile_close(c, 0, 0);
  rec_wfile_close(s, 0, 0);
  int done = 0;
  rec_wgroup_finish(g, on_done_flag, &done);
  wait_for(w, &done);
  ck_assert_int_eq(rec_wgroup_error(g), 0);
  ck_assert_uint_eq(rec_wfile_written(s), 2000);
  sf_count_t n;
  int ch;
  int16_t *p = read_file("st/stereo.wav", &n, &ch);
  ck_assert_int_eq(ch, 2);
  ck_assert_int_eq(n, 2000);
  for (sf_count_t i = 0; i < n; i++) {
    int16_t l = i < 1600 ? value((uint64_t)i, 0) : 0;
    int16_t r = i < 800 || i >= 1200 ? value((uint64_t)i, 1) : 0;
    ck_assert_msg(p[2 * i] == l && p[2 * i + 1] == r, "frame %lld: %d %d, not %d %d",
                  (long long)i, p[2 * i], p[2 * i + 1], l, r);
  }
  free(p);
  const char *mono_names[] = { "st/a.wav", "st/b.wav", "st/c.wav" };
  const sf_count_t lens[] = { 1600, 2000, 1600 };
  for (int f = 0; f < 3; f++) {
    p = read_file(mono_names[f], &n, &ch);
    ck_assert_int_eq(n, lens[f]);
    for (sf_count_t i = 0; i < n; i++)
      ck_assert_int_eq(p[i], value((uint64_t)i, f));
    free(p);
  }
  rec_wgroup_free(g);
  rec_writer_free(w);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("rec_writer");
  TCase *tc = tcase_create("writer");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_order);
  tcase_add_test(tc, test_stereo_by_writer);
  tcase_add_test(tc, test_header_while_open);
  tcase_add_test(tc, test_bound);
  tcase_add_test(tc, test_completion_after_last_write);
  tcase_add_test(tc, test_finish_work);
  tcase_add_test(tc, test_writer_file);
  tcase_add_test(tc, test_opens_queued);
  tcase_add_test(tc, test_shutdown_drains);
  tcase_add_test(tc, test_write_error);
  tcase_add_test(tc, test_create);
  tcase_add_test(tc, test_no_thread);
  tcase_add_test(tc, test_recording_on_stalled_writer);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
