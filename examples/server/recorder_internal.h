/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recorder's pieces, shared by recorder*.c only: a sound file with its
 * buffer (recorder_sink.c), a stream's place on the timeline and its drift
 * (recorder_timeline.c), the stereo file (recorder_stereo.c; the writer
 * makes its audio), the recording itself (recorder.c).
 */
#ifndef SIPREC_SERVER_RECORDER_INTERNAL_H
#define SIPREC_SERVER_RECORDER_INTERNAL_H

#include <sndfile.h>
#include <stdint.h>

#include "rec_writer.h"
#include "recorder.h"

#define REC_MAX_STREAMS 1024
/* The largest position taken (2^52 samples). */
#define REC_MAX_POSITION (1ull << 52)
/* A frame this far from where the host's clock puts it is not drift but a
 * broken position: the stream is re-anchored. */
#define REC_HARD_LIMIT_MS 2000
/* A pending drift correction waits this long for a quiet frame. */
#define REC_QUIET_WAIT_MS 2000
/* A frame whose mean absolute sample is below this (about -40 dBFS) is quiet. */
#define REC_QUIET_LEVEL 330

/* One sound file and the audio buffered for it. The loop fills `buf`; a
 * full or flushed buffer is handed whole to the writer (rec_writer.h),
 * which alone touches the file after rec_sink_open(). */
struct rec_sink {
  rec_wfile *wf;   /* the writer's file; NULL: none */
  int open;        /* its close not given yet */
  int channels;
  int16_t *buf;    /* interleaved frames not yet handed over (rec_wbuf_new) */
  size_t len, cap; /* in frames */
  uint64_t frames; /* frames on the file's timeline: handed over, buffered, or
                    * dropped for a full queue (owed as silence) */
};

/* rec_sink_open: have group `g`'s writer create `name` in its folder
 * (O_EXCL, 0600; a failure there is the group's error) and open it;
 * buffers of `cap` frames. @return 0 or a negative errno (-ENOMEM, -EINVAL) */
int rec_sink_open(struct rec_sink *s, rec_wgroup *g, const char *name, enum rec_format fmt,
                  uint32_t rate, int channels, size_t cap);
/* Append n frames (NULL: silence); a full buffer goes to the writer.
 * @return 0 or the recording's write error (negative errno) */
int rec_sink_put(struct rec_sink *s, const int16_t *frames, size_t n);
/* Room at the buffer's end for up to n frames, for a caller that writes
 * them in place (a full buffer goes to the writer first): *room frames
 * (at least 1), then rec_sink_commit() with how many it wrote. NULL with
 * *err: the write error or -ENOMEM. The sink must be open. */
int16_t *rec_sink_reserve(struct rec_sink *s, size_t n, size_t *room, int *err);
void rec_sink_commit(struct rec_sink *s, size_t k);
/* Hand the buffer to the writer, to be written with the header after it.
 * @return 0 or the recording's write error */
int rec_sink_flush(struct rec_sink *s);
/* Hand over what is buffered (unless `discard`), then the close (fsync with
 * `sync`); frees the buffer. @return 0 or the recording's write error known
 * so far (the close's own result comes with the group's completion) */
int rec_sink_close(struct rec_sink *s, int discard, int sync);
static inline int rec_sink_is_open(const struct rec_sink *s) { return s->open; }
/* After the recording's completion: the frames the file holds. */
uint64_t rec_sink_written(const struct rec_sink *s);

/* A stream's mapping from its position to the timeline, and its drift. */
struct rec_timeline {
  int anchored;
  int64_t base;     /* timeline sample = base + position */
  int64_t lat_ref;  /* latency (samples) at the anchor: the hard limit's reference */
  int64_t win_min;  /* the current second's lowest latency */
  uint64_t win_fill;
  int has_floor;
  int64_t floor;    /* the first second's lowest latency */
  int64_t prev_err; /* the last second's difference, 0 when within tolerance */
  int64_t pending;  /* a correction waiting for a quiet frame */
  uint64_t pending_wait;
};

/* Where frame `f` of a stream starts on the recording's timeline (may be
 * negative for a frame before the start); updates the drift state, adds
 * to *slips. `tol` is the drift tolerance in samples. */
int64_t rec_timeline_place(struct rec_timeline *t, const struct rec_frame *f, uint64_t start_ns,
                           uint32_t rate, int64_t tol, uint64_t *slips);
/* Signed ns -> samples at `rate`, without overflow for any uint64 time. */
int64_t rec_ns_to_samples(uint64_t t_ns, uint64_t start_ns, uint32_t rate);

/* Fields in the order a frame reads them (rec_frame): at 1,000 calls
 * every call's state is out of the cache when its next frame comes, and
 * each cache line the frame touches is a miss. */
struct rec_stream {
  int ended;
  struct rec_sink sink;
  struct rec_timeline tl;
  char *label;          /* as given, or the index as text */
  char *name;           /* the file's name */
};

enum rec_stereo_state { REC_STEREO_WAITING, REC_STEREO_ACTIVE, REC_STEREO_NONE };

/* The stereo file of the first two streams, made by the writer from their
 * mono files (rec_writer.h); the loop only opens, flushes and closes it. */
struct rec_stereo {
  enum rec_stereo_state state;
  uint64_t lag;  /* the allowance, in samples */
  struct rec_sink sink;
  char *name;
};

/* The streams a recording holds in its first cache line: a two-stream
 * call's frame then finds its stream without another miss. */
#define REC_INLINE_STREAMS 2

struct rec_recording {
  /* What every frame reads first, in one cache line (the struct is
   * allocated on one; see rec_stream), then the rest. */
  int error; /* the negative errno that stopped the recording, 0 while writing */
  uint32_t rate;
  int64_t tol;
  uint64_t start_ns;
  size_t n_streams;
  struct rec_stream **streams; /* `inline_streams` until more are added */
  struct rec_stream *inline_streams[REC_INLINE_STREAMS];
  size_t cap_streams;
  uint64_t slips;
  struct rec_stereo stereo;
  char *folder;
  int reused;           /* the folder was there at rec_open(): names are checked on disk */
  rec_writer *writer;   /* cfg's, or own_writer */
  rec_writer *own_writer; /* without one in the config: a writer without a thread */
  rec_wgroup *g;        /* this recording's files at the writer */
  size_t buf_frames;    /* each sink's buffer */
  /* rec_close_async(): what runs once the writer closed everything */
  void (*done)(void *arg, int rc, struct rec_summary *sum);
  void *done_arg;
  int want_summary;
  enum rec_format format;
  uint64_t open_ns, last_flush_ns;
  uint64_t flush_ns, stereo_wait_ns;
  uint64_t write_errors;
  unsigned segment; /* rec_config's: > 1 names the files NAME.N.EXT */
};

/* The first two streams' files are kept for the stereo file: open it now
 * that there are two. @return 0 or a negative errno */
int rec_stereo_start(rec_recording *r);
/* No second stream in time: no stereo file. */
void rec_stereo_give_up(rec_recording *r);

/* The first write error stops the recording (recorder.c). @return err */
int rec_fail(rec_recording *r, int err);
/* Is `name` free in the recording's folder? (Only a folder that was there
 * before has files the recording did not make.) */
int rec_name_free_on_disk(const rec_recording *r, const char *name);
/* A name safe as a file name: the label's safe form, or the index. */
void rec_safe_name(char *out, size_t size, const char *label, unsigned index);

#endif
