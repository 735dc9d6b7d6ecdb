/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of calls.h share: calls.c (calls, frames, events),
 * calls_transcript.c (the pool's results, on its threads, and back to the
 * loop), calls_complete.c (the --on-complete commands). */
#ifndef SIPREC_SERVER_CALLS_INTERNAL_H
#define SIPREC_SERVER_CALLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "calls.h"
#include "recorder.h"
#include "transcript.h"

/* Streams a call keeps (m-lines of its sessions; the library's bound). */
#define CALL_MAX_STREAMS 16
#define CALL_MAX_LEGS 2

/* What a frame reads (calls_frame) first: at 1,000 calls a call's state
 * is out of the cache when its next frame comes, and each line touched
 * is a miss. */
struct call_stream {
  int used;
  int leg;                  /* which session of the call (built-in bridge: 0 or 1) */
  size_t index;             /* the m-line */
  int rec_id;               /* the recorder's stream, -1 none */
  int anchored;
  int64_t offset;           /* call-timeline sample of media position 0 */
  const char *who_seen;     /* the library's id pointer `who` was last checked against */
  transcribe_stream *ts;    /* NULL: not transcribed (or closed) */
  struct call *call;
  char *label;              /* NULL: none */
  transcript_participant who; /* owned strings; guarded by the call's lock */
};

/* An earlier segment of a call's recording (calls_resume.c). */
struct call_segment {
  unsigned segment;
  int64_t offset_ns;        /* its start on the session's timeline */
  struct rec_file *files;   /* names and streams; lengths read at the end */
  size_t n_files;
};

struct call {
  /* What a frame reads first (see call_stream), then the rest. */
  siprec_session *legs[CALL_MAX_LEGS];
  int n_legs, legs_open;
  uint64_t start_ns;        /* host monotonic time of the call's start */
  rec_recording *rec;
  uint64_t rec_due;         /* rec_next_tick(): calls_tick skips it until then */
  struct call_stream st[CALL_MAX_STREAMS];
  struct calls *calls;
  struct call *next, **pprev;
  char folder[128];         /* DIR/<folder>: the first leg's session id */
  char *call_id;            /* the first leg's */
  size_t call_id_len;
  char *pair_key;           /* built-in bridge pairing key, NULL otherwise */
  int64_t start_unix_ns;
  pthread_mutex_t lock;     /* the streams' participants, read by workers */
  int pending;              /* the session (1 while open) + transcribe streams not yet closed */
  int recorded;             /* its files closed by the writer, manifest written */
  const char *end_reason;   /* finish_recording()'s, for the manifest (a static string) */
  int64_t end_unix_ns;      /* when the recording was closed */
  int rec_stopped;          /* a write error stopped the recording (logged, counted) */
  /* Recovery (--state): this process's segment, where it starts on the
   * session's timeline, the segments of the processes before it. */
  unsigned segment;
  int64_t offset_ns;
  struct call_segment *prior;
  size_t n_prior;
};

/* A transcribe stream closed, or a line to print: handed to the loop. */
struct call_notice {
  struct call_stream *cs;
  struct call_notice *next;
};

struct calls {
  struct calls_config cfg;
  struct call *open;        /* calls not yet finished */
  uv_async_t async;
  int async_open;
  pthread_mutex_t notices_lock;
  struct call_notice *notices; /* closed transcribe streams, for the loop */
  uint64_t space_checked_ns;
  int space_ok;
  struct calls_stats st;    /* loop thread, but for the atomics below */
  /* The recordings' writer thread (rec_writer.h; NULL when nothing is
   * recorded), and its completions' way back to the loop: wasync, closed
   * under writer_lock so that the writer never sends to a closed handle. */
  rec_writer *writer;
  uv_async_t wasync;
  int wasync_open;
  pthread_mutex_t writer_lock;
  _Atomic uint64_t lines;
  /* calls_complete.c */
  struct completion *running, *waiting;
  unsigned n_running, n_waiting;
};

/* calls_transcript.c */
void calls_on_async(uv_async_t *a);
/* What the pool's threads handed to the loop: closed streams. */
void calls_drain(struct calls *c);
void calls_stream_set_who(struct call_stream *cs, const siprec_speaker *sp);

/* calls.c: a call whose session and transcribe streams are all done */
void calls_release(struct calls *c, struct call *k);

/* calls_resume.c: the host's resume state of a call (calls.h, --state) */
void calls_resume_save(struct calls *c, struct call *k);
void calls_resume_drop(struct calls *c, struct call *k);
/* @return 0 (k's start, segment and prior segments set) or -1 (none) */
int calls_resume_load(struct calls *c, struct call *k);
void calls_resume_measure(struct calls *c, struct call *k, const char *folder);
void calls_resume_free(struct call *k);

/* calls_resume.c: the host's resume state of a call (calls.h, --state) */
void calls_resume_save(struct calls *c, struct call *k);
void calls_resume_drop(struct calls *c, struct call *k);
/* @return 0 (k's start, segment and prior segments set) or -1 (none) */
int calls_resume_load(struct calls *c, struct call *k);
void calls_resume_measure(struct calls *c, struct call *k, const char *folder);
void calls_resume_free(struct call *k);

/* calls_complete.c */
void calls_complete_run(struct calls *c, const char *folder);
void calls_complete_close(struct calls *c);

#endif
