/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's recorder (examples/server/recorder*.c) and manifest, on
 * simulated frames: the timeline (gaps, late streams, pauses,
 * discontinuities, drift), names, stereo alignment, write errors, a
 * process killed while recording. Files go to a temporary folder under
 * $TMPDIR, removed after each test.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manifest.h"
#include "recorder.h"

#define RATE 16000
#define FRAME 320 /* 20 ms */
#define MS_NS 1000000ull
#define START_NS 5000000000000ull /* the recording's start on the host's clock */
#define LEVEL_A 1000
#define LEVEL_B (-2000)

static char tmp[512];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
  (void)st;
  (void)flag;
  (void)f;
  return remove(p);
}

static void setup(void)
{
  const char *base = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/test-recorder-XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
  nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct rec_config config(const char *session)
{
  struct rec_config c = { .dir = tmp, .session = session, .format = REC_WAV, .rate = RATE,
                          .start_ns = START_NS };
  return c;
}

/* A recording of session `session` under tmp with the defaults above. */
static rec_recording *open_rec(const char *session)
{
  rec_recording *r;
  struct rec_config c = config(session);
  ck_assert_int_eq(rec_open(&c, &r), 0);
  return r;
}

/* The whole file, interleaved; *frames and *channels said. */
static int16_t *read_sound(const char *session, const char *name, sf_count_t *frames,
                           int *channels)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/%s", tmp, session, name);
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  ck_assert_msg(sf != NULL, "%s: %s", path, sf_strerror(NULL));
  ck_assert_int_eq(info.samplerate, RATE);
  /* FLAC killed before its close says no length: read to the end. */
  size_t cap = 1 << 16, n = 0;
  int16_t *buf = malloc(cap * (size_t)info.channels * sizeof *buf);
  for (;;) {
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap * (size_t)info.channels * sizeof *buf);
    }
    sf_count_t r = sf_readf_short(sf, buf + n * (size_t)info.channels, (sf_count_t)(cap - n));
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  sf_close(sf);
  *frames = (sf_count_t)n;
  *channels = info.channels;
  return buf;
}

/* One simulated stream: the library's view (position, time_ns anchored at
 * its first packet then following the RTP clock) and the host's (the
 * frame's real time, its packet's arrival, its delivery). */
struct sim {
  int id;
  int16_t level;
  uint64_t pos;       /* next position */
  uint64_t anchor_ns; /* time_ns of position anchor_pos */
  uint64_t anchor_pos;
  double real_ns;     /* real time of the next sample */
  double clock;       /* the SRC's samples per real second / RATE (drift) */
  uint32_t seed;
  uint32_t jitter_ms; /* one-sided network jitter */
  uint32_t pace_ms;   /* the host reads its sockets every pace_ms (0: at once) */
  unsigned flags;
  int16_t click_at_real_ms; /* -1: none; else a click at that real ms */
};

static uint32_t rnd(uint32_t *s)
{
  *s = *s * 1103515245u + 12345u;
  return (*s >> 8) & 0xffffff;
}

static void sim_start(struct sim *s, int id, int16_t level, uint64_t real_start_ns)
{
  memset(s, 0, sizeof *s);
  s->id = id;
  s->level = level;
  s->real_ns = (double)real_start_ns;
  s->clock = 1.0;
  s->seed = (uint32_t)id * 7919u + 1;
  s->click_at_real_ms = -1;
  s->anchor_ns = real_start_ns;
  s->anchor_pos = 0;
}

/* The next frame's delivery time. */
static uint64_t sim_due(const struct sim *s)
{
  return (uint64_t)(s->real_ns + (double)FRAME * 1e9 / (RATE * s->clock)) + 5 * MS_NS;
}

/* Feed one frame; returns rec_frame()'s result. */
static int sim_frame(rec_recording *r, struct sim *s)
{
  int16_t pcm[FRAME];
  double per = 1e9 / (RATE * s->clock);
  for (int i = 0; i < FRAME; i++) {
    pcm[i] = s->level;
    if (s->click_at_real_ms >= 0) {
      double t = s->real_ns + i * per - (double)START_NS;
      double c = (double)s->click_at_real_ms * 1e6;
      if (t <= c && t + per > c)
        pcm[i] = 30000;
    }
  }
  uint64_t jitter = s->jitter_ms ? (uint64_t)(rnd(&s->seed) % (s->jitter_ms * 1000)) * 1000 : 0;
  uint64_t arrival = sim_due(s) + jitter;
  /* Paced reads: delivered at the reading timer's next tick, a fixed grid
   * whose phase slides against the packets' as the clocks differ. */
  uint64_t pace = (uint64_t)s->pace_ms * MS_NS;
  uint64_t now = pace ? (arrival + pace - 1) / pace * pace : arrival;
  struct rec_frame f = {
    .samples = pcm, .n_samples = FRAME, .rate = RATE, .position = s->pos,
    .time_ns = s->anchor_ns + (s->pos - s->anchor_pos) * 1000000000ull / RATE,
    .now_ns = now, .arrival_ns = arrival, .flags = s->flags,
  };
  s->flags = 0;
  s->pos += FRAME;
  s->real_ns += FRAME * per;
  return rec_frame(r, s->id, &f);
}

/* n frames of each of two streams, in turn. */
static void sim_pair(rec_recording *r, struct sim *a, struct sim *b, int n)
{
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(sim_frame(r, a), 0);
    ck_assert_int_eq(sim_frame(r, b), 0);
  }
}

/* A gap or pause of `ms` real time: the library moves position by it and
 * re-anchors its time_ns at the next packet. */
static void sim_skip(struct sim *s, uint64_t ms)
{
  s->real_ns += (double)ms * 1e6;
  s->pos += ms * RATE / 1000;
  s->anchor_pos = s->pos;
  s->anchor_ns = (uint64_t)s->real_ns;
}

static size_t count_level(const int16_t *p, size_t from, size_t to, int ch, int chans, int16_t v)
{
  size_t n = 0;
  for (size_t i = from; i < to; i++)
    n += p[i * (size_t)chans + (size_t)ch] == v;
  return n;
}

/* One millisecond `t` of two streams: each one's frame when it falls due,
 * and a tick when 250 ms have passed since *last (then *last = t).
 * Returns 1 when it ticked. */
static int step(rec_recording *r, struct sim *a, struct sim *b, uint64_t t, uint64_t *last)
{
  if (sim_due(a) <= t)
    ck_assert_int_eq(sim_frame(r, a), 0);
  if (sim_due(b) <= t)
    ck_assert_int_eq(sim_frame(r, b), 0);
  if (t - *last < 250 * MS_NS)
    return 0;
  ck_assert_int_eq(rec_tick(r, t), 0);
  *last = t;
  return 1;
}

START_TEST(test_gap)
{
  rec_recording *r = open_rec("gap");
  struct sim a;
  sim_start(&a, rec_add_stream(r, "caller", 0), LEVEL_A, START_NS);
  ck_assert_int_eq(a.id, 0);
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  sim_skip(&a, 500); /* GAP: 500 ms lost */
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_uint_eq(sum.n_files, 1);
  ck_assert_str_eq(sum.files[0].name, "caller.wav");
  ck_assert_str_eq(sum.files[0].stream, "caller");
  ck_assert_uint_eq(sum.files[0].frames, 40000);
  ck_assert_uint_eq(sum.slips, 0);
  sf_count_t n;
  int ch;
  int16_t *p = read_sound("gap", "caller.wav", &n, &ch);
  ck_assert_int_eq(n, 40000);
  ck_assert_uint_eq(count_level(p, 0, 16000, 0, 1, LEVEL_A), 16000);
  ck_assert_uint_eq(count_level(p, 16000, 24000, 0, 1, 0), 8000);
  ck_assert_uint_eq(count_level(p, 24000, 40000, 0, 1, LEVEL_A), 16000);
  free(p);
  rec_summary_free(&sum);
}
END_TEST

/* A second stream whose first frame comes 2 s late, a pause of 3 s on the
 * first while the second goes on: silence of the right length, and the
 * stereo file keeps growing through the pause. */
START_TEST(test_late_stream_and_pause)
{
  rec_recording *r = open_rec("late");
  struct sim a, b;
  sim_start(&a, rec_add_stream(r, "a", 0), LEVEL_A, START_NS);
  sim_start(&b, rec_add_stream(r, "b", 1), LEVEL_B, START_NS + 2000 * MS_NS);
  uint64_t now = START_NS, paused_stereo = 0;
  int pause_done = 0;
  char path[1024];
  snprintf(path, sizeof path, "%s/late/stereo.wav", tmp);
  for (uint64_t t = START_NS; t < START_NS + 8000 * MS_NS; t += MS_NS) {
    /* a: 0-3 s, paused 3-6 s, 6-8 s. */
    if (!pause_done && a.real_ns >= START_NS + 3000 * MS_NS) {
      sim_skip(&a, 3000);
      pause_done = 1;
    }
    if (step(r, &a, &b, t, &now) && t >= START_NS + 4000 * MS_NS &&
        t < START_NS + 5800 * MS_NS) {
      /* In the pause, the stereo file flushes all the same. */
      SF_INFO info;
      memset(&info, 0, sizeof info);
      SNDFILE *sf = sf_open(path, SFM_READ, &info);
      ck_assert_ptr_nonnull(sf);
      ck_assert_int_gt(info.frames, (sf_count_t)paused_stereo);
      paused_stereo = (uint64_t)info.frames;
      sf_close(sf);
    }
  }
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_uint_eq(sum.n_files, 3);
  ck_assert_str_eq(sum.files[2].name, "stereo.wav");
  ck_assert_str_eq(sum.files[2].streams[0], "a");
  ck_assert_str_eq(sum.files[2].streams[1], "b");
  ck_assert_int_eq(sum.files[2].channels, 2);
  sf_count_t n;
  int ch;
  int16_t *p = read_sound("late", "a.wav", &n, &ch);
  ck_assert_int_ge(n, 8 * RATE - FRAME);
  ck_assert_uint_eq(count_level(p, 0, 3 * RATE, 0, 1, LEVEL_A), 3 * RATE);
  ck_assert_uint_eq(count_level(p, 3 * RATE, 6 * RATE, 0, 1, 0), 3 * RATE);
  ck_assert_uint_eq(count_level(p, 6 * RATE, (size_t)n, 0, 1, LEVEL_A), (size_t)n - 6 * RATE);
  free(p);
  p = read_sound("late", "b.wav", &n, &ch);
  ck_assert_uint_eq(count_level(p, 0, 2 * RATE, 0, 1, 0), 2 * RATE);
  ck_assert_uint_eq(count_level(p, 2 * RATE, (size_t)n, 0, 1, LEVEL_B), (size_t)n - 2 * RATE);
  free(p);
  p = read_sound("late", "stereo.wav", &n, &ch);
  ck_assert_int_eq(ch, 2);
  ck_assert_uint_eq(count_level(p, 0, 3 * RATE, 0, 2, LEVEL_A), 3 * RATE);
  ck_assert_uint_eq(count_level(p, 3 * RATE, 6 * RATE, 0, 2, 0), 3 * RATE);
  ck_assert_uint_eq(count_level(p, 0, 2 * RATE, 1, 2, 0), 2 * RATE);
  ck_assert_uint_eq(count_level(p, 2 * RATE, 7 * RATE, 1, 2, LEVEL_B), 5 * RATE);
  free(p);
  rec_summary_free(&sum);
}
END_TEST

/* A DISCONTINUITY (a transfer): the position says 100 ms passed, the
 * arrival 1 s; the flag re-anchors from time_ns. A position that jumps
 * back without the flag re-anchors on the host's clock, counted. */
START_TEST(test_discontinuity)
{
  rec_recording *r = open_rec("disc");
  struct sim a;
  sim_start(&a, rec_add_stream(r, NULL, 3), LEVEL_A, START_NS);
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  a.real_ns += 1000 * 1e6;
  a.pos += RATE / 10;
  a.anchor_pos = a.pos;
  a.anchor_ns = (uint64_t)a.real_ns;
  a.flags = REC_FRAME_DISCONTINUITY;
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  uint64_t slips;
  rec_counters(r, &slips, NULL);
  ck_assert_uint_eq(slips, 0);
  /* Broken: the position starts again at 0, unflagged. */
  a.pos = 0;
  a.anchor_pos = 0;
  a.anchor_ns = (uint64_t)a.real_ns;
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_str_eq(sum.files[0].name, "3.wav");
  ck_assert_str_eq(sum.files[0].stream, "3");
  ck_assert_uint_eq(sum.slips, 1);
  sf_count_t n;
  int ch;
  int16_t *p = read_sound("disc", "3.wav", &n, &ch);
  ck_assert_int_eq(n, 4 * RATE);
  ck_assert_uint_eq(count_level(p, 0, RATE, 0, 1, LEVEL_A), RATE);
  ck_assert_uint_eq(count_level(p, RATE, 2 * RATE, 0, 1, 0), RATE);
  ck_assert_uint_eq(count_level(p, 2 * RATE, 4 * RATE, 0, 1, LEVEL_A), 2 * RATE);
  free(p);
  rec_summary_free(&sum);
}
END_TEST

/* 60 s of a stream whose SRC clock runs `drift` fast (or slow), arriving
 * with up to jitter_ms of jitter, delivered at once or by reads every
 * pace_ms: the file's length is the wall time's within 20 ms, and the
 * corrections are counted. */
static void run_drift(double drift, uint32_t jitter_ms, uint32_t pace_ms, uint64_t *slips_out,
                      int64_t *err_out)
{
  rec_recording *r = open_rec("drift");
  struct sim a;
  sim_start(&a, rec_add_stream(r, "d", 0), LEVEL_A, START_NS + 10 * MS_NS);
  a.clock = 1.0 + drift;
  a.jitter_ms = jitter_ms;
  a.pace_ms = pace_ms;
  /* The library's time_ns of the first frame: its arrival. */
  a.anchor_ns = START_NS + 10 * MS_NS + 25 * MS_NS;
  uint64_t last_tick = START_NS;
  while (a.real_ns < (double)(START_NS + 60000 * MS_NS)) {
    ck_assert_int_eq(sim_frame(r, &a), 0);
    if (sim_due(&a) - last_tick >= 250 * MS_NS) {
      last_tick = sim_due(&a);
      ck_assert_int_eq(rec_tick(r, last_tick), 0);
    }
  }
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  /* Where the last sample really ends on the timeline, plus the anchor's
   * offset (the first frame's arrival delay). */
  double wall = (a.real_ns - (double)START_NS) * RATE / 1e9 + 25.0 * RATE / 1000;
  *err_out = (int64_t)sum.files[0].frames - (int64_t)wall;
  *slips_out = sum.slips;
  rec_summary_free(&sum);
  nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  mkdir(tmp, 0700);
}

START_TEST(test_drift)
{
  uint64_t slips;
  int64_t err;
  /* Unpaced, then paced at 40 ms: drift is read from arrival times, so
   * the delivery's grid changes nothing. */
  for (uint32_t pace = 0; pace <= 40; pace += 40) {
    run_drift(0.001, 30, pace, &slips, &err);
    ck_assert_msg(err >= -RATE / 50 && err <= RATE / 50, "fast clock, pace %u: %lld samples off",
                  pace, (long long)err);
    ck_assert_uint_ge(slips, 3);
    run_drift(-0.001, 30, pace, &slips, &err);
    ck_assert_msg(err >= -RATE / 50 && err <= RATE / 50, "slow clock, pace %u: %lld samples off",
                  pace, (long long)err);
    ck_assert_uint_ge(slips, 3);
    /* No drift: jitter alone makes no slip. */
    run_drift(0.0, 30, pace, &slips, &err);
    ck_assert_uint_eq(slips, 0);
    ck_assert_msg(err >= -FRAME && err <= FRAME, "no drift, pace %u: %lld samples off", pace,
                  (long long)err);
  }
  /* A clock 0.02 % slow or fast on a quiet network (loopback): paced reads
   * at a fixed grid slide across the packets' phase, so the delivery's
   * lowest latency jumps by up to 20 ms as they do. The files come out as
   * with no pacing at all (read from delivery times, 100 to 200 samples
   * apart). */
  for (int sign = -1; sign <= 1; sign += 2) {
    uint64_t slips_paced;
    int64_t err_paced;
    run_drift(sign * 0.0002, 1, 0, &slips, &err);
    run_drift(sign * 0.0002, 1, 40, &slips_paced, &err_paced);
    ck_assert_uint_eq(slips_paced, slips);
    ck_assert_msg(err_paced - err >= -FRAME / 8 && err_paced - err <= FRAME / 8,
                  "paced reads moved the file by %lld samples", (long long)(err_paced - err));
  }
}
END_TEST

/* Two SIPREC sessions (CUCM's two legs) into one recording: the second
 * leg's stream comes 1.5 s later, with the same label. */
START_TEST(test_two_sessions)
{
  rec_recording *r = open_rec("pair");
  struct sim a, b;
  sim_start(&a, rec_add_stream(r, "leg", 1), LEVEL_A, START_NS);
  for (int i = 0; i < 75; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  ck_assert_int_eq(rec_tick(r, START_NS + 1500 * MS_NS), 0);
  sim_start(&b, rec_add_stream(r, "leg", 1), LEVEL_B, START_NS + 1500 * MS_NS);
  ck_assert_int_eq(b.id, 1);
  sim_pair(r, &a, &b, 75);
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_uint_eq(sum.n_files, 3);
  ck_assert_str_eq(sum.files[0].name, "leg.wav");
  ck_assert_str_eq(sum.files[1].name, "leg-2.wav");
  ck_assert_str_eq(sum.files[2].name, "stereo.wav");
  struct stat st;
  char path[1024];
  snprintf(path, sizeof path, "%s/pair", tmp);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0700);
  for (size_t i = 0; i < sum.n_files; i++) {
    snprintf(path, sizeof path, "%s/pair/%s", tmp, sum.files[i].name);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
  }
  sf_count_t n;
  int ch;
  int16_t *p = read_sound("pair", "stereo.wav", &n, &ch);
  ck_assert_int_eq(n, 3 * RATE);
  ck_assert_uint_eq(count_level(p, 0, 3 * RATE, 0, 2, LEVEL_A), 3 * RATE);
  ck_assert_uint_eq(count_level(p, 0, 3 * RATE / 2, 1, 2, 0), 3 * RATE / 2);
  ck_assert_uint_eq(count_level(p, 3 * RATE / 2, 3 * RATE, 1, 2, LEVEL_B), 3 * RATE / 2);
  free(p);
  rec_summary_free(&sum);

  /* A second stream after stereo_wait_ms: no stereo file. */
  struct rec_config c = config("late-pair");
  c.stereo_wait_ms = 1000;
  ck_assert_int_eq(rec_open(&c, &r), 0);
  sim_start(&a, rec_add_stream(r, "x", 0), LEVEL_A, START_NS);
  for (int i = 0; i < 75; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  ck_assert_int_eq(rec_tick(r, START_NS + 1500 * MS_NS), 0);
  sim_start(&b, rec_add_stream(r, "y", 1), LEVEL_B, START_NS + 1500 * MS_NS);
  ck_assert_int_eq(sim_frame(r, &b), 0);
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_uint_eq(sum.n_files, 2);
  snprintf(path, sizeof path, "%s/late-pair/stereo.wav", tmp);
  ck_assert_int_ne(access(path, F_OK), 0);
  rec_summary_free(&sum);
}
END_TEST

/* rec_next_tick(): the earlier of the next flush and the stereo file's
 * wait; a recording ticked only then writes the same files as one ticked
 * every 25 ms (siprec-server's tick, which passes over recordings not due). */
START_TEST(test_next_tick)
{
  ck_assert_uint_eq(rec_next_tick(NULL), 0);
  rec_recording *r[2];
  for (int i = 0; i < 2; i++) {
    struct rec_config c = config(i ? "due-only" : "every-tick");
    c.flush_ms = 200;
    c.stereo_wait_ms = 300;
    ck_assert_int_eq(rec_open(&c, &r[i]), 0);
  }
  /* Waiting for a second stream: its end comes after the first flush. */
  ck_assert_uint_eq(rec_next_tick(r[0]), START_NS + 200 * MS_NS);
  struct sim a[2];
  for (int i = 0; i < 2; i++)
    sim_start(&a[i], rec_add_stream(r[i], "x", 0), LEVEL_A, START_NS);
  uint64_t due = rec_next_tick(r[1]);
  int visits = 0;
  for (uint64_t t = START_NS; t < START_NS + 3000 * MS_NS; t += MS_NS) {
    for (int i = 0; i < 2; i++)
      while (sim_due(&a[i]) <= t)
        ck_assert_int_eq(sim_frame(r[i], &a[i]), 0);
    if ((t - START_NS) % (25 * MS_NS) == 0 && t > START_NS) {
      uint64_t before = rec_next_tick(r[0]);
      ck_assert_int_eq(rec_tick(r[0], t), 0);
      /* Nothing moves it but a tick at or past it. */
      if (t < before)
        ck_assert_uint_eq(rec_next_tick(r[0]), before);
      else
        ck_assert_uint_gt(rec_next_tick(r[0]), t);
      if (t >= due) {
        ck_assert_int_eq(rec_tick(r[1], t), 0);
        due = rec_next_tick(r[1]);
        visits++;
      }
    }
  }
  /* The stereo wait ended at 300 ms (one stream: no stereo file), then a
   * flush every 200 ms, each at the first 25 ms tick at or past it. */
  ck_assert_int_ge(visits, 13);
  ck_assert_int_le(visits, 15);
  struct rec_summary sum[2];
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(rec_close(r[i], &sum[i]), 0);
    ck_assert_uint_eq(sum[i].n_files, 1);
    rec_summary_free(&sum[i]);
  }
  sf_count_t n[2];
  int ch[2];
  int16_t *p[2];
  p[0] = read_sound("every-tick", "x.wav", &n[0], &ch[0]);
  p[1] = read_sound("due-only", "x.wav", &n[1], &ch[1]);
  ck_assert_int_eq(n[0], n[1]);
  ck_assert_int_gt(n[0], 2 * RATE);
  ck_assert_int_eq(memcmp(p[0], p[1], (size_t)n[0] * sizeof *p[0]), 0);
  free(p[0]);
  free(p[1]);
}
END_TEST

static int safe_name(const char *s)
{
  if (!*s || s[0] == '.' || strlen(s) > REC_NAME_MAX + 16)
    return 0;
  for (; *s; s++)
    if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", *s))
      return 0;
  return 1;
}

START_TEST(test_hostile_labels)
{
  char longl[1000];
  memset(longl, 'x', sizeof longl - 1);
  longl[sizeof longl - 1] = '\0';
  const char *labels[] = { "../../etc/passwd", "..", ".", "", NULL, "stereo", "STEREO",
                           "manifest", longl, longl, "a/b", "\xff\xfe", "a\nb", "x", "X", "x",
                           ".hidden", "caf\xc3\xa9" };
  size_t nl = sizeof labels / sizeof *labels;
  rec_recording *r = open_rec("hostile");
  for (size_t i = 0; i < nl; i++)
    ck_assert_int_eq(rec_add_stream(r, labels[i], (unsigned)i), (int)i);
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_uint_eq(sum.n_files, nl + 1); /* and the stereo file */
  for (size_t i = 0; i < sum.n_files; i++) {
    ck_assert_msg(safe_name(sum.files[i].name), "unsafe name %s", sum.files[i].name);
    for (size_t j = 0; j < i; j++)
      ck_assert_msg(strcasecmp(sum.files[i].name, sum.files[j].name), "twice: %s",
                    sum.files[i].name);
  }
  ck_assert_str_eq(sum.files[5].name, "stereo-2.wav");
  ck_assert_str_eq(sum.files[nl].name, "stereo.wav");
  ck_assert_str_eq(sum.files[4].stream, "4"); /* NULL label: the index */
  ck_assert_str_eq(sum.files[0].stream, "../../etc/passwd");
  /* Everything is inside the folder, one file per stream. */
  char path[1024];
  snprintf(path, sizeof path, "%s/hostile", tmp);
  DIR *d = opendir(path);
  size_t files = 0;
  for (struct dirent *e; (e = readdir(d));)
    files += e->d_name[0] != '.';
  closedir(d);
  ck_assert_uint_eq(files, nl + 1);
  DIR *top = opendir(tmp);
  size_t entries = 0;
  for (struct dirent *e; (e = readdir(top));)
    entries += e->d_name[0] != '.';
  closedir(top);
  ck_assert_uint_eq(entries, 1);
  /* The manifest carries the labels as given, valid JSON whatever they are. */
  struct manifest_info m = { .session = "hostile", .call_id = "c\"\xff", .call_id_len = 3,
                             .start_unix_ns = 1714557600123000000, .end_unix_ns = 1714557660000000000,
                             .end_reason = "bye", .rec = &sum };
  ck_assert_int_eq(manifest_write(&m), 0);
  snprintf(path, sizeof path, "%s/hostile/manifest.json", tmp);
  json_error_t err;
  json_t *j = json_load_file(path, 0, &err);
  ck_assert_msg(j != NULL, "%s", err.text);
  json_t *files_j = json_object_get(j, "files");
  ck_assert_uint_eq(json_array_size(files_j), nl + 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files_j, 0), "stream")),
                   "../../etc/passwd");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files_j, 17), "stream")),
                   "caf\xc3\xa9");
  ck_assert_str_eq(json_string_value(json_object_get(j, "call_id")), "c\"\xc3\xbf");
  json_decref(j);
  rec_summary_free(&sum);
}
END_TEST

/* A click at 2.5 s (real time) on both streams, which start at different
 * times and arrive with jitter, lands on one sample in every file. */
START_TEST(test_stereo_alignment)
{
  rec_recording *r = open_rec("align");
  struct sim a, b;
  sim_start(&a, rec_add_stream(r, "a", 0), LEVEL_A, START_NS + 300 * MS_NS);
  sim_start(&b, rec_add_stream(r, "b", 1), LEVEL_B, START_NS + 1110 * MS_NS);
  a.jitter_ms = b.jitter_ms = 40;
  a.click_at_real_ms = b.click_at_real_ms = 2500;
  uint64_t last = START_NS;
  for (uint64_t t = START_NS; t < START_NS + 4000 * MS_NS; t += MS_NS)
    step(r, &a, &b, t, &last);
  ck_assert_int_eq(rec_close(r, NULL), 0);
  const size_t want = 2500 * RATE / 1000;
  const char *files[] = { "a.wav", "b.wav", "stereo.wav", "stereo.wav" };
  for (int f = 0; f < 4; f++) {
    sf_count_t n;
    int ch;
    int16_t *p = read_sound("align", files[f], &n, &ch);
    int chan = f == 3 ? 1 : 0;
    size_t at = SIZE_MAX;
    ck_assert_uint_eq(count_level(p, 0, (size_t)n, chan, ch, 30000), 1);
    for (size_t i = 0; i < (size_t)n; i++)
      if (p[i * (size_t)ch + (size_t)chan] == 30000)
        at = i;
    ck_assert_msg(at == want, "%s channel %d: click at %zu, not %zu", files[f], chan, at, want);
    free(p);
  }
  /* Each stereo channel is its stream's file, sample for sample (silence
   * where that file has not begun or has ended). */
  sf_count_t na, nb, ns;
  int ca, cb, cs;
  int16_t *pa = read_sound("align", "a.wav", &na, &ca);
  int16_t *pb = read_sound("align", "b.wav", &nb, &cb);
  int16_t *ps = read_sound("align", "stereo.wav", &ns, &cs);
  ck_assert_int_eq(cs, 2);
  for (sf_count_t i = 0; i < ns; i++) {
    ck_assert_int_eq(ps[2 * i], i < na ? pa[i] : 0);
    ck_assert_int_eq(ps[2 * i + 1], i < nb ? pb[i] : 0);
  }
  free(pa);
  free(pb);
  free(ps);
}
END_TEST

/* What a child reports of a recording that hit a write error. */
struct fail_report {
  int first_rc, later_rc, close_rc, add_rc;
  uint64_t write_errors;
  uint64_t frames[3];
  char names[3][64];
  size_t n_files;
};

static void record_until_error(const char *session, struct fail_report *rep)
{
  rec_recording *r;
  struct rec_config c = config(session);
  memset(rep, 0, sizeof *rep);
  if (rec_open(&c, &r))
    _exit(3);
  struct sim a, b;
  sim_start(&a, rec_add_stream(r, "a", 0), LEVEL_A, START_NS);
  sim_start(&b, rec_add_stream(r, "b", 1), LEVEL_B, START_NS);
  int rc = 0;
  for (int i = 0; i < 3000 && !rc; i++) {
    rc = sim_frame(r, &a);
    if (!rc)
      rc = sim_frame(r, &b);
    if (!rc && i % 12 == 0)
      rc = rec_tick(r, sim_due(&a));
  }
  rep->first_rc = rc;
  /* Stopped: every call says so, nothing crashes. */
  rep->later_rc = sim_frame(r, &a);
  rep->add_rc = rec_add_stream(r, "c", 2);
  rec_tick(r, sim_due(&a) + 1000 * MS_NS);
  struct rec_summary sum;
  rep->close_rc = rec_close(r, &sum);
  rep->write_errors = sum.write_errors;
  rep->n_files = sum.n_files;
  for (size_t i = 0; i < sum.n_files && i < 3; i++) {
    rep->frames[i] = sum.files[i].frames;
    snprintf(rep->names[i], sizeof rep->names[i], "%s", sum.files[i].name);
  }
  rec_summary_free(&sum);
}

static void check_failed(const char *session, const struct fail_report *rep, int err)
{
  ck_assert_int_eq(rep->first_rc, -err);
  ck_assert_int_eq(rep->later_rc, -err);
  ck_assert_int_eq(rep->add_rc, -err);
  ck_assert_int_eq(rep->close_rc, -err);
  ck_assert_uint_eq(rep->write_errors, 1);
  ck_assert_uint_eq(rep->n_files, 3);
  for (size_t i = 0; i < 3; i++) {
    sf_count_t n;
    int ch;
    int16_t *p = read_sound(session, rep->names[i], &n, &ch);
    ck_assert_msg((uint64_t)n == rep->frames[i], "%s: %lld frames, summary says %llu",
                  rep->names[i], (long long)n, (unsigned long long)rep->frames[i]);
    ck_assert_int_gt(n, RATE / 2);
    if (ch == 1)
      ck_assert_uint_eq(count_level(p, 0, (size_t)n, 0, 1, i == 0 ? LEVEL_A : LEVEL_B), (size_t)n);
    free(p);
  }
}

/* A child with a pipe back: in the child (0 returned) fds[1] is its end
 * to write a report to, in the parent (the child's pid) fds[0] the end to
 * read it from; the other end closed in each. */
static pid_t fork_reporting(int fds[2])
{
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  close(fds[pid == 0 ? 0 : 1]);
  return pid;
}

/* The child's report, n octets whole, then the pipe closed. */
static void read_report(int fds[2], void *out, size_t n)
{
  ck_assert_int_eq(read(fds[0], out, n), (ssize_t)n);
  close(fds[0]);
}

static void run_child(const char *session, struct fail_report *rep, rlim_t fsize)
{
  int fds[2];
  pid_t pid = fork_reporting(fds);
  if (pid == 0) {
    if (fsize) {
      /* Past the limit, write() fails with EFBIG (SIGXFSZ ignored). */
      signal(SIGXFSZ, SIG_IGN);
      struct rlimit rl = { fsize, fsize };
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    struct fail_report rp;
    record_until_error(session, &rp);
    ssize_t w = write(fds[1], &rp, sizeof rp);
    _exit(w == (ssize_t)sizeof rp ? 0 : 4);
  }
  read_report(fds, rep, sizeof *rep);
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(test_write_error)
{
  struct fail_report rep;
  run_child("efbig", &rep, 100 * 1024);
  check_failed("efbig", &rep, EFBIG);
  /* A real full disk when a small tmpfs can be mounted (root, a container
   * that allows it); said and skipped otherwise. */
  char mnt[sizeof tmp];
  if (snprintf(mnt, sizeof mnt, "%s/small", tmp) >= (int)sizeof mnt)
    return;
  mkdir(mnt, 0700);
  if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") < 0) {
    fprintf(stderr, "test_write_error: no tmpfs (%s): ENOSPC not tried\n", strerror(errno));
    return;
  }
  char saved[sizeof tmp];
  memcpy(saved, tmp, sizeof tmp);
  memcpy(tmp, mnt, sizeof tmp);
  run_child("full", &rep, 0);
  check_failed("full", &rep, ENOSPC);
  ck_assert_int_eq(rec_space_ok(mnt, 4096), 0);
  memcpy(tmp, saved, sizeof tmp);
  umount(mnt);
}
END_TEST

START_TEST(test_space)
{
  ck_assert_int_eq(rec_space_ok(tmp, 1), 1);
  ck_assert_int_eq(rec_space_ok(tmp, UINT64_MAX / 2), 0);
  ck_assert_int_eq(rec_space_ok("/nonexistent/dir/x", 1), -ENOENT);
}
END_TEST

static uint32_t le32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The header itself says the truth (libsndfile would read a file whose
 * header says 0 bytes of data to its end): RIFF (RF64 downgraded), its
 * size the file's, the data chunk's size what follows it. */
static void check_wav_header(const char *session, const char *name)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/%s", tmp, session, name);
  FILE *fp = fopen(path, "rb");
  ck_assert_ptr_nonnull(fp);
  static unsigned char b[1 << 20];
  size_t len = fread(b, 1, sizeof b, fp);
  fclose(fp);
  ck_assert_uint_ge(len, 44);
  ck_assert_msg(!memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WAVE", 4), "%s: no RIFF/WAVE", name);
  ck_assert_uint_eq(le32(b + 4), len - 8);
  size_t at = 12;
  while (at + 8 <= len && memcmp(b + at, "data", 4))
    at += 8 + le32(b + at + 4) + (le32(b + at + 4) & 1);
  ck_assert_msg(at + 8 <= len, "%s: no data chunk", name);
  ck_assert_uint_eq(le32(b + at + 4), len - at - 8);
  ck_assert_uint_gt(le32(b + at + 4), 0);
}

/* A child records two streams for about a second, ticking every 250 ms,
 * feeds some more after its last tick, and is killed: the files open and
 * hold the audio up to the last tick. */
static void crash(enum rec_format fmt, const char *session, uint64_t slack)
{
  int fds[2];
  pid_t pid = fork_reporting(fds);
  if (pid == 0) {
    rec_recording *r;
    struct rec_config c = config(session);
    c.format = fmt;
    if (rec_open(&c, &r))
      _exit(3);
    struct sim a, b;
    sim_start(&a, rec_add_stream(r, "a", 0), LEVEL_A, START_NS);
    sim_start(&b, rec_add_stream(r, "b", 1), LEVEL_B, START_NS);
    uint64_t at_tick = 0, last = START_NS;
    while (a.real_ns < (double)(START_NS + 1100 * MS_NS)) {
      if (sim_frame(r, &a) || sim_frame(r, &b))
        _exit(5);
      if (sim_due(&a) - last >= 250 * MS_NS) {
        last = sim_due(&a);
        if (rec_tick(r, last))
          _exit(6);
        at_tick = a.pos;
      }
    }
    if (write(fds[1], &at_tick, sizeof at_tick) != (ssize_t)sizeof at_tick)
      _exit(4);
    pause();
    _exit(7);
  }
  uint64_t at_tick = 0;
  read_report(fds, &at_tick, sizeof at_tick);
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  ck_assert_uint_ge(at_tick, RATE * 3 / 4);
  const char *ext = fmt == REC_FLAC ? "flac" : "wav";
  const char *stems[] = { "a", "b", "stereo" };
  for (int f = 0; f < 3; f++) {
    char name[32];
    snprintf(name, sizeof name, "%s.%s", stems[f], ext);
    sf_count_t n;
    int ch;
    int16_t *p = read_sound(session, name, &n, &ch);
    ck_assert_msg((uint64_t)n + slack >= at_tick, "%s: %lld frames, %llu at the last tick", name,
                  (long long)n, (unsigned long long)at_tick);
    /* Nothing fed after the last tick has reached the file (a second's
     * buffer holds it), and what is there is the audio. */
    ck_assert_uint_le((uint64_t)n, at_tick);
    for (int c = 0; c < ch; c++) {
      int16_t lv = (f == 1 || c == 1) ? LEVEL_B : LEVEL_A;
      ck_assert_uint_eq(count_level(p, 0, (size_t)n, c, ch, lv), (size_t)n);
    }
    free(p);
  }
  if (fmt == REC_WAV)
    for (int f = 0; f < 3; f++)
      check_wav_header(session, f == 2 ? "stereo.wav" : f ? "b.wav" : "a.wav");
}

START_TEST(test_crash_wav) { crash(REC_WAV, "crash", 0); }
END_TEST

/* FLAC: what libsndfile's encoder holds (a block, 4096 samples) is lost. */
START_TEST(test_crash_flac) { crash(REC_FLAC, "crashflac", 4096); }
END_TEST

START_TEST(test_flac_and_manifest)
{
  rec_recording *r;
  struct rec_config c = config("flac");
  c.format = REC_FLAC;
  ck_assert_int_eq(rec_open(&c, &r), 0);
  struct sim a;
  sim_start(&a, rec_add_stream(r, "only", 0), LEVEL_A, START_NS + 100 * MS_NS);
  for (int i = 0; i < 100; i++)
    ck_assert_int_eq(sim_frame(r, &a), 0);
  ck_assert_int_eq(rec_end_stream(r, a.id), 0);
  ck_assert_int_eq(sim_frame(r, &a), -EINVAL); /* ended */
  ck_assert_int_eq(rec_end_stream(r, a.id), -EINVAL);
  ck_assert_int_eq(rec_tick(r, START_NS + 10000 * MS_NS), 0);
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_uint_eq(sum.n_files, 1);
  ck_assert_str_eq(sum.files[0].name, "only.flac");
  ck_assert_double_eq_tol(sum.files[0].duration, 2.1, 1e-9);
  sf_count_t n;
  int ch;
  int16_t *p = read_sound("flac", "only.flac", &n, &ch);
  ck_assert_int_eq(n, RATE * 21 / 10);
  ck_assert_uint_eq(count_level(p, 0, RATE / 10, 0, 1, 0), RATE / 10);
  ck_assert_uint_eq(count_level(p, RATE / 10, (size_t)n, 0, 1, LEVEL_A), 2 * RATE);
  free(p);
  struct manifest_participant parts[] = { { "p1", "sip:alice@example.com", "Alice" },
                                          { "p2", NULL, NULL } };
  struct manifest_info m = { .session = "flac", .call_id = "abc@host", .call_id_len = 8,
                             .start_unix_ns = 1714557600123000000, .end_unix_ns = 1714557662500000000,
                             .end_reason = "bye", .participants = parts, .n_participants = 2,
                             .rec = &sum };
  ck_assert_int_eq(manifest_write(&m), 0);
  ck_assert_int_eq(manifest_write(&m), 0); /* replaced */
  char path[1024];
  snprintf(path, sizeof path, "%s/flac/manifest.json", tmp);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  snprintf(path, sizeof path, "%s/flac/.manifest.json.tmp", tmp);
  ck_assert_int_ne(access(path, F_OK), 0);
  snprintf(path, sizeof path, "%s/flac/manifest.json", tmp);
  json_error_t err;
  json_t *j = json_load_file(path, 0, &err);
  ck_assert_msg(j != NULL, "%s", err.text);
  ck_assert_str_eq(json_string_value(json_object_get(j, "session")), "flac");
  ck_assert_str_eq(json_string_value(json_object_get(j, "call_id")), "abc@host");
  ck_assert_str_eq(json_string_value(json_object_get(j, "start")), "2024-05-01T10:00:00.123Z");
  ck_assert_str_eq(json_string_value(json_object_get(j, "end")), "2024-05-01T10:01:02.500Z");
  ck_assert_str_eq(json_string_value(json_object_get(j, "end_reason")), "bye");
  json_t *ps = json_object_get(j, "participants");
  ck_assert_uint_eq(json_array_size(ps), 2);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ps, 0), "aor")),
                   "sip:alice@example.com");
  ck_assert(json_is_null(json_object_get(json_array_get(ps, 1), "aor")));
  json_t *f0 = json_array_get(json_object_get(j, "files"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(f0, "name")), "only.flac");
  ck_assert_str_eq(json_string_value(json_object_get(f0, "stream")), "only");
  ck_assert_int_eq(json_integer_value(json_object_get(f0, "channels")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(f0, "rate")), RATE);
  ck_assert_double_eq_tol(json_real_value(json_object_get(f0, "duration")), 2.1, 1e-9);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "slips")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "write_errors")), 0);
  json_decref(j);
  rec_summary_free(&sum);
  char buf[32];
  ck_assert_int_eq(manifest_utc(-1500000000, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "1969-12-31T23:59:58.500Z");
}
END_TEST

/* A folder that was there before (a restart without its resume state): a
 * name taken on disk is passed over (a-2.wav), no stereo file is made over
 * an old one, and the old files stay as they were. */
START_TEST(test_reused_folder)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/again", tmp);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  static const char *old[] = { "a.wav", "stereo.wav" };
  for (size_t i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/again/%s", tmp, old[i]);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("old", f);
    fclose(f);
  }
  rec_recording *r = open_rec("again");
  struct sim a, b;
  sim_start(&a, rec_add_stream(r, "a", 0), LEVEL_A, START_NS);
  sim_start(&b, rec_add_stream(r, "b", 1), LEVEL_B, START_NS);
  sim_pair(r, &a, &b, 50);
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  ck_assert_uint_eq(sum.n_files, 2);
  ck_assert_str_eq(sum.files[0].name, "a-2.wav");
  ck_assert_str_eq(sum.files[1].name, "b.wav");
  ck_assert_uint_eq(sum.files[0].frames, RATE);
  rec_summary_free(&sum);
  for (size_t i = 0; i < 2; i++) {
    char text[8] = "";
    snprintf(path, sizeof path, "%s/again/%s", tmp, old[i]);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(text, sizeof text, f));
    fclose(f);
    ck_assert_str_eq(text, "old");
  }
}
END_TEST

START_TEST(test_bad_input)
{
  rec_recording *r;
  const char *bad[] = { "../x", ".hidden", "", "a/b", NULL, "a b" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct rec_config c = config(bad[i]);
    ck_assert_int_eq(rec_open(&c, &r), -EINVAL);
  }
  struct rec_config c = config("bad");
  c.rate = 7999;
  ck_assert_int_eq(rec_open(&c, &r), -EINVAL);
  c.rate = RATE;
  ck_assert_int_eq(rec_open(&c, &r), 0);
  int id = rec_add_stream(r, "s", 0);
  int16_t pcm[FRAME] = { 0 };
  struct rec_frame f = { .samples = pcm, .n_samples = FRAME, .rate = 8000,
                         .time_ns = START_NS, .now_ns = START_NS };
  ck_assert_int_eq(rec_frame(r, id, &f), -EINVAL);
  f.rate = RATE;
  ck_assert_int_eq(rec_frame(r, id + 1, &f), -EINVAL);
  ck_assert_int_eq(rec_frame(r, -1, &f), -EINVAL);
  ck_assert_int_eq(rec_frame(r, id, NULL), -EINVAL);
  f.position = UINT64_MAX;
  ck_assert_int_eq(rec_frame(r, id, &f), -EINVAL);
  f.position = 0;
  f.samples = NULL;
  ck_assert_int_eq(rec_frame(r, id, &f), -EINVAL);
  f.samples = pcm;
  /* Times from nowhere: the host's clock wins, nothing runs away. */
  f.time_ns = UINT64_MAX;
  f.now_ns = START_NS + 1000 * MS_NS;
  ck_assert_int_eq(rec_frame(r, id, &f), 0);
  f.now_ns = 0; /* before the start: the caller's clock is broken */
  f.position = FRAME;
  ck_assert_int_eq(rec_frame(r, id, &f), -EINVAL);
  f.time_ns = 0;
  f.now_ns = START_NS + 1010 * MS_NS;
  ck_assert_int_eq(rec_frame(r, id, &f), 0);
  f.position = (1ull << 52);
  f.time_ns = UINT64_MAX / 2;
  f.now_ns = START_NS + 1020 * MS_NS;
  ck_assert_int_eq(rec_frame(r, id, &f), 0);
  ck_assert_int_eq(rec_end_stream(r, 7), -EINVAL);
  struct rec_summary sum;
  ck_assert_int_eq(rec_close(r, &sum), 0);
  /* Frames at about 1 s on the host's clock: at most that much, never
   * the years the positions and times above would ask for. */
  ck_assert_uint_le(sum.files[0].frames, RATE + 2 * FRAME);
  rec_summary_free(&sum);
  ck_assert_int_eq(rec_close(NULL, NULL), -EINVAL);
  ck_assert_int_eq(rec_tick(NULL, 0), -EINVAL);
  ck_assert_int_eq(rec_add_stream(NULL, "x", 0), -EINVAL);
  ck_assert_int_eq(manifest_write(NULL), -EINVAL);
}
END_TEST

static Suite *recorder_suite(void)
{
  Suite *s = suite_create("recorder");
  TCase *tc = tcase_create("recorder");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_gap);
  tcase_add_test(tc, test_late_stream_and_pause);
  tcase_add_test(tc, test_discontinuity);
  tcase_add_test(tc, test_drift);
  tcase_add_test(tc, test_two_sessions);
  tcase_add_test(tc, test_next_tick);
  tcase_add_test(tc, test_hostile_labels);
  tcase_add_test(tc, test_reused_folder);
  tcase_add_test(tc, test_stereo_alignment);
  tcase_add_test(tc, test_write_error);
  tcase_add_test(tc, test_space);
  tcase_add_test(tc, test_crash_wav);
  tcase_add_test(tc, test_crash_flac);
  tcase_add_test(tc, test_flac_and_manifest);
  tcase_add_test(tc, test_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(recorder_suite());
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
