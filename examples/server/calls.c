/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-server's recordings: calls, their frames and stream events; see
 * calls.h. */
#include "calls_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manifest.h"
#include "writer_file.h"

static int64_t unix_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *dup_bytes(const char *p, size_t n)
{
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

/* The writer thread finished a recording: the loop runs its completion. */
static void writer_wake(void *user)
{
  struct calls *c = user;
  pthread_mutex_lock(&c->writer_lock);
  if (c->wasync_open)
    uv_async_send(&c->wasync);
  pthread_mutex_unlock(&c->writer_lock);
}

static void writer_log(void *user, const char *message)
{
  (void)user;
  fprintf(stderr, "siprec-server: %s\n", message);
}

static void on_writer_async(uv_async_t *a)
{
  struct calls *c = a->data;
  rec_writer_poll(c->writer);
}

static void free_after_close(uv_handle_t *h)
{
  free(h->data);
}

struct calls *calls_new(const struct calls_config *cfg)
{
  struct calls *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cfg = *cfg;
  c->space_ok = 1;
  if (cfg->dir && cfg->record >= 0) {
    /* Recording: the writer thread, and its way back to the loop (wasync,
     * opened below; the writer sends nothing before it is). */
    struct rec_writer_config wc = {
      .budget_bytes = cfg->writer_budget_bytes,
      .wake = writer_wake, .wake_user = c, .log = writer_log, .log_user = c,
    };
    int rc = rec_writer_new(&wc, &c->writer);
    if (rc < 0) {
      fprintf(stderr, "siprec-server: cannot start the recordings' writer: %s\n",
              strerror(-rc));
      free(c);
      return NULL;
    }
  }
  pthread_mutex_init(&c->notices_lock, NULL);
  pthread_mutex_init(&c->writer_lock, NULL);
  if (c->writer && uv_async_init(cfg->loop, &c->wasync, on_writer_async) < 0) {
    rec_writer_free(c->writer);
    pthread_mutex_destroy(&c->writer_lock);
    pthread_mutex_destroy(&c->notices_lock);
    free(c);
    return NULL;
  }
  c->wasync.data = c;
  c->wasync_open = c->writer != NULL;
  if (uv_async_init(cfg->loop, &c->async, calls_on_async) < 0) {
    rec_writer_free(c->writer);
    pthread_mutex_destroy(&c->writer_lock);
    pthread_mutex_destroy(&c->notices_lock);
    if (c->wasync_open)
      uv_close((uv_handle_t *)&c->wasync, free_after_close); /* frees c */
    else
      free(c);
    return NULL;
  }
  c->async.data = c;
  c->async_open = 1;
  return c;
}

void calls_attach_pool(struct calls *c, transcribe_pool *pool)
{
  c->cfg.pool = pool;
}

int calls_space_ok(struct calls *c)
{
  if (!c->cfg.dir || c->cfg.record < 0 || !c->cfg.min_free_bytes)
    return 1;
  uint64_t now = c->cfg.now();
  if (!c->space_checked_ns || now - c->space_checked_ns >= 1000000000ull) {
    c->space_checked_ns = now;
    int ok = rec_space_ok(c->cfg.dir, c->cfg.min_free_bytes) > 0;
    if (ok != c->space_ok)
      fprintf(stderr, "siprec-server: %s: %s\n", c->cfg.dir,
              ok ? "space is back: new sessions are recorded again"
                 : "less free space than --min-free-mb: new sessions get 503");
    c->space_ok = ok;
  }
  return c->space_ok;
}

size_t calls_fds_pending(void *arg)
{
  const struct calls *c = arg;
  return c ? rec_writer_opens_queued(c->writer) : 0;
}

/* The open call of a built-in-bridge pairing key with a leg to spare. */
static struct call *find_pair(struct calls *c, const char *key)
{
  for (struct call *k = c->open; k; k = k->next)
    if (k->pair_key && k->n_legs < CALL_MAX_LEGS && k->legs_open > 0 && !strcmp(k->pair_key, key))
      return k;
  return NULL;
}

static struct call *call_new(struct calls *c, siprec_session *s, int restored)
{
  struct call *k = calloc(1, sizeof *k);
  if (!k)
    return NULL;
  k->calls = c;
  pthread_mutex_init(&k->lock, NULL);
  snprintf(k->folder, sizeof k->folder, "%s", siprec_session_id(s));
  size_t n = 0;
  const char *cid = siprec_session_call_id(s, &n);
  k->call_id = dup_bytes(cid ? cid : "", cid ? n : 0);
  k->call_id_len = cid ? n : 0;
  k->start_ns = c->cfg.now();
  k->start_unix_ns = unix_now_ns();
  k->segment = 1;
  uint64_t seg_start = k->start_ns;
  if (restored && calls_resume_load(c, k) == 0) {
    /* The session began before this process: its start on our monotonic
     * clock is now minus the wall time since, so transcript times go on
     * from the original start; this segment's sample 0 is now. */
    int64_t since = unix_now_ns() - k->start_unix_ns;
    if (since < 0)
      since = 0;
    k->offset_ns = since;
    k->start_ns = (uint64_t)since < k->start_ns ? k->start_ns - (uint64_t)since : 0;
  } else if (restored) {
    fprintf(stderr, "siprec-server: session %s: no resume state: its recording starts over\n",
            k->folder);
  }
  for (size_t i = 0; i < CALL_MAX_STREAMS; i++)
    k->st[i].rec_id = -1;
  if (c->cfg.dir && c->cfg.record >= 0) {
    struct rec_config rc = {
      .dir = c->cfg.dir, .session = k->folder, .format = (enum rec_format)c->cfg.record,
      .rate = c->cfg.rate, .start_ns = seg_start, .segment = k->segment,
      .flush_ms = CALLS_FLUSH_MS, /* due from its start: flushes spread over the ticks */
      .drift_tolerance_ms = CALLS_DRIFT_TOLERANCE_MS,
      .writer = c->writer,
    };
    int rc_open = rec_open(&rc, &k->rec);
    if (rc_open < 0) {
      k->rec = NULL;
      c->st.record_errors++;
      fprintf(stderr, "siprec-server: session %s: cannot record: %s\n", k->folder,
              strerror(-rc_open));
    } else {
      c->st.recordings_open++;
      calls_resume_save(c, k);
    }
  }
  k->next = c->open;
  if (k->next)
    k->next->pprev = &k->next;
  k->pprev = &c->open;
  c->open = k;
  return k;
}

static struct call *call_start(struct calls *c, siprec_session *s, int restored)
{
  if (!(c->cfg.dir && c->cfg.record >= 0) && !c->cfg.pool)
    return NULL;
  const char *key = NULL;
  struct call *k = NULL;
  if (siprec_session_bib_leg(s, &key, NULL, NULL) != SIPREC_BIB_NONE && key && key[0])
    k = find_pair(c, key);
  if (!k) {
    k = call_new(c, s, restored);
    if (!k)
      return NULL;
    if (key && key[0])
      k->pair_key = strdup(key);
  }
  siprec_session_ref(s);
  k->legs[k->n_legs++] = s;
  k->legs_open++;
  k->pending++;
  return k;
}

struct call *calls_start(struct calls *c, siprec_session *s)
{
  return call_start(c, s, 0);
}

struct call *calls_resume(struct calls *c, siprec_session *s)
{
  return call_start(c, s, 1);
}

static int leg_of(const struct call *k, const siprec_session *s)
{
  for (int i = 0; i < k->n_legs; i++)
    if (k->legs[i] == s)
      return i;
  return -1;
}

static struct call_stream *stream_find(struct call *k, int leg, size_t index)
{
  for (size_t i = 0; i < CALL_MAX_STREAMS; i++)
    if (k->st[i].used && k->st[i].leg == leg && k->st[i].index == index)
      return &k->st[i];
  return NULL;
}

/* The stream's slot at its first frame: its recorder stream, its
 * transcription. */
static struct call_stream *stream_open(struct calls *c, struct call *k, int leg,
                                       const siprec_audio_frame *f)
{
  struct call_stream *cs = NULL;
  for (size_t i = 0; i < CALL_MAX_STREAMS && !cs; i++)
    if (!k->st[i].used)
      cs = &k->st[i];
  if (!cs)
    return NULL;
  memset(cs, 0, sizeof *cs);
  cs->used = 1;
  cs->call = k;
  cs->leg = leg;
  cs->index = f->stream;
  cs->rec_id = -1;
  /* A built-in bridge's two legs each have one stream, both often labelled
   * alike: named by their leg instead, so files, manifest and transcript
   * tell them apart. */
  siprec_bib_leg bib = siprec_session_bib_leg(f->session, NULL, NULL, NULL);
  if (bib != SIPREC_BIB_NONE)
    cs->label = strdup(bib == SIPREC_BIB_NEAR_END ? "nearend" : "farend");
  else
    cs->label = f->label ? strdup(f->label) : NULL;
  calls_stream_set_who(cs, &f->speaker);
  cs->who_seen = f->speaker.id;
  if (k->rec) {
    int id = rec_add_stream(k->rec, cs->label, (unsigned)f->stream);
    if (id >= 0) {
      cs->rec_id = id;
      calls_resume_save(c, k); /* a restart knows this segment's files */
    }
  }
  if (c->cfg.pool) {
    char name[200];
    snprintf(name, sizeof name, "%s/%s", k->folder, cs->label ? cs->label : "-");
    cs->ts = transcribe_stream_open(c->cfg.pool, name, cs);
    if (cs->ts)
      k->pending++;
    else
      c->st.not_transcribed++;
  }
  return cs;
}

static void recording_stopped(struct calls *c, struct call *k, int err, const char *where);

static uint64_t ns_to_samples(uint64_t ns, uint32_t rate)
{
  return ns / 1000000000u * rate + ns % 1000000000u * rate / 1000000000u;
}

void calls_frame(struct calls *c, struct call *k, const siprec_audio_frame *f)
{
  int leg = k ? leg_of(k, f->session) : -1;
  if (leg < 0 || f->sample_rate != c->cfg.rate)
    return;
  struct call_stream *cs = stream_find(k, leg, f->stream);
  if (!cs && !(cs = stream_open(c, k, leg, f)))
    return;
  /* The library's speaker strings stay put while its metadata model does:
   * compared only when the pointer moved. */
  if (f->speaker.id != cs->who_seen) {
    cs->who_seen = f->speaker.id;
    if (f->speaker.id && (!cs->who.id || strcmp(cs->who.id, f->speaker.id)))
      calls_stream_set_who(cs, &f->speaker); /* the metadata moved the speaker */
  }
  if (!cs->anchored) {
    uint64_t at = f->time_ns > k->start_ns ? ns_to_samples(f->time_ns - k->start_ns, f->sample_rate)
                                           : 0;
    cs->offset = (int64_t)at - (int64_t)f->position;
    cs->anchored = 1;
  }
  if (k->rec && cs->rec_id >= 0) {
    /* A library older than the header fills no arrival: its size says so. */
    int has_arrival = f->size >= offsetof(siprec_audio_frame, arrival_ns) + sizeof f->arrival_ns;
    struct rec_frame rf = {
      .samples = f->samples, .n_samples = f->n_samples, .rate = f->sample_rate,
      .position = f->position, .time_ns = f->time_ns, .now_ns = c->cfg.now(),
      .arrival_ns = has_arrival ? f->arrival_ns : 0,
      .flags = (f->flags & SIPREC_AUDIO_AFTER_DISCONTINUITY) ? REC_FRAME_DISCONTINUITY : 0,
    };
    if (rf.now_ns < k->start_ns)
      rf.now_ns = k->start_ns;
    int rc = rec_frame(k->rec, cs->rec_id, &rf);
    if (rc < 0)
      recording_stopped(c, k, rc, "recording stopped"); /* the recorder refuses everything after its first error */
  }
  if (cs->ts) {
    int64_t at = cs->offset + (int64_t)f->position;
    (void)transcribe_stream_push(cs->ts, f->samples, f->n_samples, at > 0 ? (uint64_t)at : 0);
  }
}

/* The stream is done: its file and its transcription end. */
static void stream_end(struct calls *c, struct call *k, struct call_stream *cs)
{
  if (k->rec && cs->rec_id >= 0) {
    int rc = rec_end_stream(k->rec, cs->rec_id); /* its last flush and fsync */
    if (rc < 0)
      recording_stopped(c, k, rc, "recording stopped");
  }
  cs->rec_id = -1;
  if (cs->ts) {
    transcribe_stream_close(cs->ts); /* its closed callback lowers `pending` */
    cs->ts = NULL;
  }
}

void calls_stream_event(struct calls *c, struct call *k, const siprec_stream_event *e)
{
  (void)c;
  int leg = k ? leg_of(k, e->session) : -1;
  struct call_stream *cs = leg >= 0 ? stream_find(k, leg, e->stream) : NULL;
  if (!cs)
    return;
  switch (e->type) {
  case SIPREC_STREAM_PAUSED:
  case SIPREC_STREAM_GAP:
  case SIPREC_STREAM_NO_MEDIA:
    if (cs->ts)
      transcribe_stream_flush(cs->ts); /* an utterance does not run across silence */
    break;
  case SIPREC_STREAM_DISCONTINUITY:
    if (cs->ts)
      transcribe_stream_flush(cs->ts);
    cs->anchored = 0; /* the new source's media position means another time */
    break;
  case SIPREC_STREAM_ENDED:
    stream_end(c, k, cs);
    break;
  default:
    break;
  }
}

/* The participants of every leg, for the manifest; their strings belong to
 * the models in `models` (unreferenced by the caller after the write). */
static size_t participants(const struct call *k, siprec_metadata **models,
                           struct manifest_participant *out, size_t max)
{
  size_t n = 0;
  for (int l = 0; l < k->n_legs; l++) {
    models[l] = siprec_session_metadata(k->legs[l]);
    size_t count = models[l] ? siprec_metadata_participant_count(models[l]) : 0;
    for (size_t i = 0; i < count && n < max; i++) {
      struct manifest_participant *p = &out[n];
      memset(p, 0, sizeof *p);
      if (siprec_metadata_participant(models[l], i, &p->id, &p->aor, &p->name, NULL) == 0)
        n++;
    }
  }
  return n;
}

/* A call waits for its recording's completion (`pending`): released once it
 * came and nothing else is pending. */
static void recording_settled(struct calls *c, struct call *k)
{
  if (--k->pending == 0)
    calls_release(c, k);
}

/* A hand-over's segment is closed whole. */
static void handover_closed(void *arg, int rc, struct rec_summary *sum)
{
  (void)sum;
  struct call *k = arg;
  struct calls *c = k->calls;
  if (rc < 0)
    recording_stopped(c, k, rc, "closing the recording");
  recording_settled(c, k);
}

/* The manifest's outcome, then what follows it: the recording_done line
 * and, once the call is released, --on-complete. */
static void manifest_done(struct calls *c, struct call *k, int mrc, const char *folder,
                          size_t n_files, unsigned long long write_errors)
{
  if (mrc == 0)
    calls_resume_drop(c, k); /* the manifest says it all now */
  if (mrc < 0)
    fprintf(stderr, "siprec-server: session %s: manifest: %s\n", k->folder, strerror(-mrc));
  printf("recording_done id=%s folder=%s files=%zu write_errors=%llu\n", k->folder, folder,
         n_files, write_errors);
  fflush(stdout);
  k->recorded = 1;
  recording_settled(c, k);
}

/* What follows a manifest written on the writer thread (writer_file.h:
 * its fsyncs, on the loop, stalled every socket; at 1,000 calls a burst of
 * call ends overflowed the SIP socket's buffer). */
struct manifest_wait {
  struct calls *c;
  struct call *k; /* kept: one `pending` of it waits for this */
  char *folder;
  size_t n_files;
  unsigned long long write_errors;
};

static void manifest_written(void *arg, int rc)
{
  struct manifest_wait *mw = arg;
  manifest_done(mw->c, mw->k, rc, mw->folder, mw->n_files, mw->write_errors);
  free(mw->folder);
  free(mw);
}

/* `text` handed to the writer as the call's manifest (taken on success).
 * @return 0, or -1 when it is to be written here (no writer thread, or no
 * memory) */
static int manifest_start(struct calls *c, struct call *k, const struct rec_summary *sum,
                          char *text)
{
  struct manifest_wait *mw = malloc(sizeof *mw);
  char *folder = strdup(sum->folder);
  if (!mw || !folder) {
    free(mw);
    free(folder);
    return -1;
  }
  *mw = (struct manifest_wait){ c, k, folder, sum->n_files,
                                (unsigned long long)sum->write_errors };
  if (writer_file_replace(c->writer, sum->folder, "manifest.json", text, "\n", manifest_written,
                          mw) < 0) {
    free(mw->folder);
    free(mw);
    return -1;
  }
  return 0;
}

/* The writer closed and fsynced every file of the recording (on the loop,
 * from rec_writer_poll): now the manifest (written by the writer too),
 * then manifest_done. */
static void recording_closed(void *arg, int rc, struct rec_summary *sum)
{
  struct call *k = arg;
  struct calls *c = k->calls;
  c->st.recordings_done++;
  /* Each recording's failure is counted once: where it happened during the
   * call (recording_stopped), else here, where the close met it (the last
   * flush on a disk the call's last audio filled). With no failure, the
   * errors that cost only the stereo file. */
  if (rc < 0)
    recording_stopped(c, k, rc, "closing the recording");
  else if (sum && sum->write_errors > 0)
    c->st.record_errors++;
  /* A recording stopped by a write error (a full disk) still gets its
   * manifest (when there is room for it by now), its recording_done line
   * and --on-complete: its files are valid up to the error and the close
   * describes them all the same. Only without that description (out of
   * memory) is there nothing to write. */
  if (sum && sum->folder) {
    siprec_metadata *models[CALL_MAX_LEGS] = { NULL, NULL };
    struct manifest_participant who[64];
    struct manifest_segment prior[64];
    size_t n_prior = k->n_prior < 64 ? k->n_prior : 64;
    calls_resume_measure(c, k, sum->folder);
    for (size_t i = 0; i < n_prior; i++)
      prior[i] = (struct manifest_segment){ k->prior[i].segment,
                                            (double)k->prior[i].offset_ns / 1e9,
                                            k->prior[i].files, k->prior[i].n_files };
    struct manifest_info m = {
      .session = k->folder, .call_id = k->call_id, .call_id_len = k->call_id_len,
      .start_unix_ns = k->start_unix_ns, .end_unix_ns = k->end_unix_ns,
      .end_reason = k->end_reason, .participants = who,
      .n_participants = participants(k, models, who, 64), .rec = sum,
      .segment = c->cfg.resume_dir ? k->segment : 0, .offset = (double)k->offset_ns / 1e9,
      .prior = prior, .n_prior = n_prior,
    };
    char *text = NULL;
    int mrc = manifest_text(&m, &text);
    for (int l = 0; l < CALL_MAX_LEGS; l++)
      siprec_metadata_unref(models[l]);
    if (mrc == 0 && manifest_start(c, k, sum, text) == 0)
      return; /* manifest_written goes on */
    if (mrc == 0)
      mrc = manifest_store(sum->folder, text);
    free(text);
    manifest_done(c, k, mrc, sum->folder, sum->n_files,
                  (unsigned long long)sum->write_errors);
    return;
  }
  recording_settled(c, k);
}

/* The recording's files are handed to the writer to be closed; the call
 * waits for that (one more `pending`), and the rest happens when the
 * writer is done (recording_closed), so that the manifest and
 * --on-complete never see a file still being written. */
static void finish_recording(struct calls *c, struct call *k, const char *reason)
{
  if (!k->rec)
    return;
  rec_recording *r = k->rec;
  k->rec = NULL;
  c->st.recordings_open--;
  k->pending++;
  if (reason && !strcmp(reason, siprec_end_reason_name(SIPREC_END_HANDOVER))) {
    /* The call goes on in the next process: this segment's files are
     * closed whole, the resume state stays, no manifest yet. */
    (void)rec_close_async(r, 0, handover_closed, k);
    return;
  }
  k->end_reason = reason;
  k->end_unix_ns = unix_now_ns();
  (void)rec_close_async(r, 1, recording_closed, k);
}

void calls_end(struct calls *c, struct call *k, siprec_session *s, const char *reason)
{
  int leg = k ? leg_of(k, s) : -1;
  if (leg < 0)
    return;
  for (size_t i = 0; i < CALL_MAX_STREAMS; i++)
    if (k->st[i].used && k->st[i].leg == leg)
      stream_end(c, k, &k->st[i]);
  if (--k->legs_open == 0)
    finish_recording(c, k, reason);
  if (--k->pending == 0)
    calls_release(c, k);
}

static void call_free(struct call *k)
{
  for (int l = 0; l < k->n_legs; l++)
    siprec_session_unref(k->legs[l]);
  for (size_t i = 0; i < CALL_MAX_STREAMS; i++) {
    struct call_stream *cs = &k->st[i];
    free(cs->label);
    calls_stream_set_who(cs, NULL);
  }
  pthread_mutex_destroy(&k->lock);
  calls_resume_free(k);
  free(k->call_id);
  free(k->pair_key);
  free(k);
}

void calls_release(struct calls *c, struct call *k)
{
  *k->pprev = k->next;
  if (k->next)
    k->next->pprev = k->pprev;
  if (k->recorded && c->cfg.on_complete && c->async_open) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->cfg.dir, k->folder);
    calls_complete_run(c, path);
  }
  call_free(k);
}

/* A recording stopped by a write error: logged and counted once (the
 * recorder returns that error from every later call), its streams unhooked.
 * `where` says what met it. */
static void recording_stopped(struct calls *c, struct call *k, int err, const char *where)
{
  for (size_t i = 0; i < CALL_MAX_STREAMS; i++)
    k->st[i].rec_id = -1;
  if (k->rec_stopped)
    return;
  k->rec_stopped = 1;
  fprintf(stderr, "siprec-server: session %s: %s: %s\n", k->folder, where, strerror(-err));
  c->st.record_errors++;
}

/* Every RECORD_TICK_MS: each recording whose flush (or stereo wait) is
 * due. The others are passed over on their call's own line: a tick visits
 * every call, and a recording's lines are cold by then (its flush comes
 * every 8th tick or so). */
void calls_tick(struct calls *c)
{
  uint64_t now = c->cfg.now();
  for (struct call *k = c->open; k; k = k->next) {
    if (!k->rec || k->rec_stopped || now < k->rec_due)
      continue;
    int rc = rec_tick(k->rec, now);
    k->rec_due = rec_next_tick(k->rec);
    if (rc < 0)
      recording_stopped(c, k, rc, "recording stopped");
  }
}

void calls_stats_get(const struct calls *c, struct calls_stats *out)
{
  *out = c->st;
  out->transcript_lines = atomic_load(&((struct calls *)c)->lines);
  out->completions_waiting = c->n_waiting;
  if (c->writer) {
    struct rec_writer_stats w;
    rec_writer_stats(c->writer, &w);
    out->record_dropped_frames = w.dropped_frames;
    out->record_queue_bytes = w.queued_bytes;
  }
}

/* Everything given to the writer written and its completions run, also
 * what those completions gave it (a recording's close gives its manifest). */
static void writer_settle(struct calls *c)
{
  do
    rec_writer_drain(c->writer);
  while (rec_writer_poll(c->writer) > 0);
}

void calls_close(struct calls *c)
{
  if (c->writer) {
    /* Shutdown: what was given is written (the loop waits for the disk
     * this once), and the recordings closed so far complete now, while
     * --on-complete can still run. */
    writer_settle(c);
    pthread_mutex_lock(&c->writer_lock);
    int open = c->wasync_open;
    c->wasync_open = 0;
    pthread_mutex_unlock(&c->writer_lock);
    if (open)
      uv_close((uv_handle_t *)&c->wasync, NULL);
  }
  pthread_mutex_lock(&c->notices_lock);
  int was_open = c->async_open;
  c->async_open = 0;
  pthread_mutex_unlock(&c->notices_lock);
  if (was_open)
    uv_close((uv_handle_t *)&c->async, NULL);
  calls_complete_close(c);
}

void calls_free(struct calls *c)
{
  if (!c)
    return;
  calls_drain(c); /* notices the pool's last callbacks left */
  /* Recordings still open are closed; the writer writes everything it has
   * and their completions (manifests) run here, before the calls go. */
  for (struct call *k = c->open; k; k = k->next)
    if (k->rec)
      finish_recording(c, k, "shutdown");
  if (c->writer)
    writer_settle(c);
  while (c->open) {
    struct call *k = c->open;
    *k->pprev = k->next;
    if (k->next)
      k->next->pprev = k->pprev;
    call_free(k);
  }
  rec_writer_free(c->writer); /* joins its thread */
  pthread_mutex_destroy(&c->writer_lock);
  pthread_mutex_destroy(&c->notices_lock);
  free(c);
}
