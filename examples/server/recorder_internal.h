/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recorder's pieces, shared by recorder*.c only: a sound file with its
 * buffer (recorder_sink.c), a stream's place on the timeline and its drift
 * (recorder_timeline.c), the stereo file (recorder_stereo.c), the
 * recording itself (recorder.c).
 */
#ifndef SIPREC_SERVER_RECORDER_INTERNAL_H
#define SIPREC_SERVER_RECORDER_INTERNAL_H

#include <sndfile.h>
#include <stdint.h>

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

/* One sound file and the audio buffered for it. */
struct rec_sink {
  SNDFILE *sf;
  int fd;
  int channels;
  int16_t *buf;    /* interleaved frames not yet handed to libsndfile */
  size_t len, cap; /* in frames */
  uint64_t frames; /* frames in the file and in buf */
  uint64_t written; /* frames libsndfile took */
};

/* rec_sink_open: create `name` in `dirfd` (O_EXCL, 0600) and open it.
 * @return 0, -EEXIST (the name is taken), or another negative errno */
int rec_sink_open(struct rec_sink *s, int dirfd, const char *name, enum rec_format fmt,
                  uint32_t rate, int channels);
/* Append n frames (NULL: silence); writes when the buffer fills.
 * @return 0 or the write's negative errno (the sink keeps what it wrote) */
int rec_sink_put(struct rec_sink *s, const int16_t *frames, size_t n);
/* Write the buffer, then the header. @return 0 or a negative errno */
int rec_sink_flush(struct rec_sink *s);
/* Flush (unless `discard`), optionally fsync, close. @return 0 or a negative errno */
int rec_sink_close(struct rec_sink *s, int discard, int sync);
static inline int rec_sink_is_open(const struct rec_sink *s) { return s->sf != NULL; }

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

/* The audio of a stream the stereo file has not taken yet: samples for the
 * timeline span [tl, tl + len). */
struct rec_hold {
  int16_t *buf;
  size_t off, len, cap;
  uint64_t tl;
};

struct rec_stream {
  struct rec_sink sink;
  struct rec_timeline tl;
  struct rec_hold hold; /* used for the two stereo streams only */
  char *label;          /* as given, or the index as text */
  char *name;           /* the file's name */
  int ended;
};

enum rec_stereo_state { REC_STEREO_WAITING, REC_STEREO_ACTIVE, REC_STEREO_NONE };

struct rec_stereo {
  enum rec_stereo_state state;
  struct rec_sink sink;
  char *name;
  uint64_t pos;  /* timeline frames the stereo file has */
  uint64_t lag;  /* the allowance, in samples */
};

struct rec_recording {
  char *folder;
  int dirfd;
  enum rec_format format;
  uint32_t rate;
  uint64_t start_ns, open_ns, last_flush_ns;
  uint64_t flush_ns, stereo_wait_ns;
  int64_t tol;
  struct rec_stream **streams;
  size_t n_streams, cap_streams;
  struct rec_stereo stereo;
  uint64_t slips, write_errors;
  int error; /* the negative errno that stopped the recording, 0 while writing */
  unsigned segment; /* rec_config's: > 1 names the files NAME.N.EXT */
};

/* The stereo file: stream `s` (one of the first two) got n frames (NULL:
 * silence) at timeline `tl`. @return 0 or a negative errno */
int rec_stereo_take(rec_recording *r, struct rec_stream *s, const int16_t *frames, size_t n,
                    uint64_t tl);
/* Write what the rule allows (everything when `final`). @return 0 or a negative errno */
int rec_stereo_drain(rec_recording *r, int final);
/* Open the stereo file now that there are two streams. @return 0 or a negative errno */
int rec_stereo_start(rec_recording *r);
void rec_hold_free(struct rec_hold *h);

/* The first write error stops the recording (recorder.c). @return err */
int rec_fail(rec_recording *r, int err);
/* A name safe as a file name: the label's safe form, or the index. */
void rec_safe_name(char *out, size_t size, const char *label, unsigned index);

#endif
