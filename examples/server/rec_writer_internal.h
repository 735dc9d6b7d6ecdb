/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The writer's objects, shared by rec_writer.c (the queue, the thread, the
 * mono files) and rec_writer_mix.c (stereo files the writer makes) only.
 */
#ifndef SIPREC_SERVER_REC_WRITER_INTERNAL_H
#define SIPREC_SERVER_REC_WRITER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "rec_mix.h"
#include "rec_writer.h"
#include "sndfile_pio.h"

enum job_kind {
  JOB_FOLDER,
  JOB_OPEN,
  JOB_WRITE,
  JOB_CLOSE,
  JOB_FINISH,
  JOB_MIX_FLUSH, /* a stereo file the writer makes: write what it made */
  JOB_UNKEEP,    /* a kept mono file: no stereo file after all */
};

/* One thing for the writer to do. A write job is allocated with its
 * samples right after it (rec_wbuf_new), so handing a buffer over moves a
 * pointer; the other jobs live in their file and group, so queueing them
 * cannot fail. */
struct rec_job {
  struct rec_job *next;
  enum job_kind kind;
  rec_wfile *f;     /* open, write, close */
  rec_wgroup *g;    /* folder, finish */
  uint64_t silence; /* frames of silence owed, written first */
  size_t frames;    /* write: frames in the samples */
  size_t bytes;     /* write: what the job holds in memory (the budget's unit) */
  int flush, sync, discard;
};

struct rec_wfile {
  rec_wfile *next; /* the group's files (producer) */
  rec_wgroup *g;
  SNDFILE *sf;     /* the writer's; NULL until its open ran (or if it failed) */
  int fd;          /* the writer's: given, or created in the group's folder */
  char *name;      /* to create in the group's folder; NULL: fd was given */
  SF_INFO info;    /* what the open makes of it */
  struct rec_job open_job;
  struct sndfile_pio io; /* sf's I/O: positioned writes on fd */
  int channels;
  uint64_t owed;   /* producer: frames dropped, owed as silence */
  int closing;     /* producer: its close was given */
  struct rec_job close_job;
  uint64_t written; /* the writer's (the producer's after completion) */
  int close_rc;
  off_t handed;     /* the writer's: bytes whose write-back was started */
  uint64_t trimmed; /* the writer's: `written` when rec_wfile_trim last looked */
  /* A channel of a stereo file (rec_wfile_keep): its audio the stereo
   * file has not taken yet, and that file once open. The writer's. */
  struct rec_hold *hold;
  int unkept;            /* rec_wfile_unkeep() ran: nothing more is kept */
  rec_wfile *stereo;
  struct rec_job unkeep_job;
  struct rec_wmix *mix; /* a stereo file the writer makes (rec_wfile_create_stereo) */
};

/* A stereo file made by the writer of two kept mono files. */
struct rec_wmix {
  struct rec_mix m;
  rec_wfile *src[2];
  int16_t *buf;          /* stereo frames made and not written yet */
  size_t len, cap;       /* in frames */
  struct rec_job flush_job;
  atomic_int flush_queued; /* the flush job is queued and has not started */
};

struct rec_wgroup {
  rec_writer *w;
  rec_wfile *files;
  _Atomic int error;
  struct rec_job folder_job, finish_job;
  char *folder;                 /* the files' folder (rec_wgroup_set_folder) */
  int dirfd;                    /* the writer's: the folder, once made */
  int finishing;                /* producer: finish given */
  void (*work)(void *arg);      /* the finish's last step, on the writer */
  void (*done)(void *arg);
  void *arg;
  int finished;                 /* under the writer's lock */
  rec_wgroup *next_done;        /* under the writer's lock */
};

struct rec_writer {
  pthread_mutex_t lock;
  pthread_cond_t work, idle;
  pthread_t thread;
  int has_thread;
  struct rec_job *head, **tail;
  int busy, stop, stalled;
  size_t budget, queued;
  rec_wgroup *done_head, **done_tail;
  uint64_t dropped, episodes, written;
  _Atomic size_t opens_queued; /* folder and file creations queued (counts_open) */
  int dropping;  /* producer: in a drop episode */
  uint64_t episode_dropped; /* producer: frames dropped in this episode */
  void (*wake)(void *user);
  void *wake_user;
  void (*log)(void *user, const char *message);
  void *log_user;
};

/* rec_writer.c */
/* A file of the group, its open queued; `mix` for a stereo file the writer
 * makes. NULL with errno EINVAL or ENOMEM. */
rec_wfile *rec_wfile_new(rec_wgroup *g, int fd, const char *name, const SF_INFO *info,
                         struct rec_wmix *mix);
/* Queue a job, or, without a thread, run it now. */
void rec_writer_submit(rec_writer *w, struct rec_job *j);
/* The group's first error wins (any thread). */
void rec_wgroup_set_error(rec_wgroup *g, int err);
/* Writer: n frames of `p` (NULL: silence) into the file. @return 0 or -errno */
int rec_wfile_put(rec_wfile *f, const int16_t *p, uint64_t n);
/* Writer: the file's header says what it holds now, its old pages leave the cache. */
void rec_wfile_update_header(rec_wfile *f);
void rec_wfile_trim(rec_wfile *f);

/* rec_writer_mix.c, on the producer: rec_wfile_write() for a stereo file
 * the writer makes (only a flush, no buffer). */
int rec_wmix_flush(rec_wfile *f, int16_t *buf, size_t n);
/* rec_writer_mix.c, on the writer thread */
/* A kept file got `silence` frames of silence then n frames of `p`, from
 * timeline frame `tl`: to its hold, and on to its stereo file. */
void rec_wmix_take(rec_wfile *f, uint64_t tl, uint64_t silence, const int16_t *p, size_t n);
/* A kept file was closed: silence after its end in the stereo file. */
void rec_wmix_channel_closed(rec_wfile *f);
/* A stereo file was opened: it takes its channels' audio from now. */
void rec_wmix_opened(rec_wfile *f);
/* A stereo file's flush (JOB_MIX_FLUSH) and the writing before its close
 * (all the rest, unless discarded). */
void rec_wmix_run_flush(struct rec_job *j);
void rec_wmix_closing(rec_wfile *f, int discard);
void rec_wmix_run_unkeep(struct rec_job *j);
/* Producer, at the group's free: what a file's stereo parts hold. */
void rec_wmix_free(rec_wfile *f);

#endif
