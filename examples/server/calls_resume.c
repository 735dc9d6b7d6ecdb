/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A recording that goes on after a restart (--state; docs/recovery.md).
 * The library's snapshot restores the session; what the recording needs
 * besides is the host's own, kept in RESUME_DIR/SESSION.json (the state
 * folder's rec/): the session's start (UTC) and each segment's number,
 * start on the session's timeline and files. It is written when the call
 * starts, when a segment gets a file, and when a restored session opens
 * its next segment; a restarted server reads it to open segment N+1 in the
 * same folder (LABEL.N.wav, stereo.N.wav), keeps transcript times from the
 * original start, and finally lists every segment in manifest.json. It is
 * removed with the manifest, and kept at a hand-over.
 *
 * Small files, written to a .tmp and renamed (a SIGKILL leaves the old
 * one or the new), by the recordings' writer thread after the audio given
 * before (writer_file.h: their fsyncs must not stall the loop), or here
 * when there is no writer thread.
 */
#include "calls_internal.h"
#include "file_replace.h"
#include "writer_file.h"

#include <errno.h>
#include <jansson.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESUME_MAX_SEGMENTS 64
#define RESUME_MAX_FILES 64

static int resume_path(const struct calls *c, const struct call *k, char *out, size_t n)
{
  int w = snprintf(out, n, "%s/%s.json", c->cfg.resume_dir, k->folder);
  return w > 0 && (size_t)w < n ? 0 : -1;
}

static json_t *file_json(const char *name, const char *stream, const char *left,
                         const char *right)
{
  if (!name)
    return NULL;
  return left ? json_pack("{s:s, s:[s,s]}", "name", name, "streams", left, right ? right : "")
              : json_pack("{s:s, s:s}", "name", name, "stream", stream ? stream : "");
}

static json_t *segment_json(unsigned n, int64_t offset_ns, json_t *files)
{
  return json_pack("{s:I, s:I, s:o}", "segment", (json_int_t)n, "offset_ns",
                   (json_int_t)offset_ns, "files", files ? files : json_array());
}

/* The current segment's files, as the recorder has made them. */
static json_t *current_files(const struct call *k)
{
  json_t *a = json_array();
  size_t n = rec_stream_count(k->rec);
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new(a, file_json(rec_stream_file(k->rec, (int)i),
                                       rec_stream_label(k->rec, (int)i), NULL, NULL));
  const char *stereo = rec_stereo_file(k->rec);
  if (a && stereo)
    json_array_append_new(a, file_json(stereo, NULL, rec_stream_label(k->rec, 0),
                                       rec_stream_label(k->rec, 1)));
  return a;
}

/* SESSION.json, NAME's size `n`. @return 0, or -1 for a folder that
 * cannot be a file's name */
static int resume_name(const char *folder, char *name, size_t n)
{
  return folder[0] == '.' || snprintf(name, n, "%s.json", folder) >= (int)n ? -1 : 0;
}

static void resume_written(void *arg, int rc)
{
  char *path = arg;
  if (rc < 0)
    fprintf(stderr, "siprec-server: cannot keep the resume state %s: %s\n", path, strerror(-rc));
  free(path);
}

/* FOLDER's state `text` handed to the writer, taken only on success.
 * @return 0, or -1 when it is to be written here */
static int keep_text(struct calls *c, const char *folder, char *text,
                     void (*done)(void *arg, int rc), void *arg)
{
  char name[256];
  if (!c->cfg.resume_dir || resume_name(folder, name, sizeof name) < 0)
    return -1;
  return writer_file_replace(c->writer, c->cfg.resume_dir, name, text, NULL, done, arg);
}

/* The state handed to the writer (`text` taken). @return 0, or -1 when it
 * is to be written here */
static int resume_start(struct calls *c, struct call *k, const char *path, char *text)
{
  char *p = strdup(path);
  if (!p || keep_text(c, k->folder, text, resume_written, p) < 0) {
    free(p);
    return -1;
  }
  return 0;
}

void calls_resume_save(struct calls *c, struct call *k)
{
  char path[4096];
  if (!c->cfg.resume_dir || !k->rec || resume_path(c, k, path, sizeof path) < 0)
    return;
  json_t *segs = json_array();
  for (size_t i = 0; segs && i < k->n_prior; i++) {
    json_t *files = json_array();
    for (size_t f = 0; files && f < k->prior[i].n_files; f++) {
      const struct rec_file *rf = &k->prior[i].files[f];
      json_array_append_new(files, file_json(rf->name, rf->stream, rf->streams[0],
                                             rf->streams[1]));
    }
    json_array_append_new(segs, segment_json(k->prior[i].segment, k->prior[i].offset_ns, files));
  }
  if (segs)
    json_array_append_new(segs, segment_json(k->segment, k->offset_ns, current_files(k)));
  json_t *j = segs ? json_pack("{s:i, s:s, s:I, s:o}", "version", 1, "session", k->folder,
                               "start_unix_ns", (json_int_t)k->start_unix_ns, "segments", segs)
                   : NULL;
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (text && c->cfg.resume_shared)
    c->cfg.resume_shared(c->cfg.resume_user, k->folder, text, strlen(text));
  if (text && resume_start(c, k, path, text) == 0)
    return; /* the writer's now */
  if (!text || calls_resume_write(c->cfg.resume_dir, k->folder, text, strlen(text)) < 0)
    fprintf(stderr, "siprec-server: session %s: cannot keep its resume state in %s\n", k->folder,
            path);
  free(text);
}

int calls_resume_write(const char *dir, const char *folder, const char *json, size_t len)
{
  char name[256];
  if (resume_name(folder, name, sizeof name) < 0)
    return -1;
  /* Synced: after a crash the state is the old or the new, never empty. */
  return file_replace(dir, name, json, len, NULL, 0, 0600, 1) < 0 ? -1 : 0;
}

int calls_resume_keep(struct calls *c, const char *folder, const char *json, size_t len,
                      void (*done)(void *arg, int rc), void *arg)
{
  char *text = c && c->writer ? strndup(json, len) : NULL;
  if (!text || keep_text(c, folder, text, done, arg) < 0) {
    free(text);
    return -1;
  }
  return 0;
}

void calls_resume_drop(struct calls *c, struct call *k)
{
  char path[4096];
  if (c->cfg.resume_dir && resume_path(c, k, path, sizeof path) == 0)
    unlink(path);
  if (c->cfg.resume_dir && c->cfg.resume_shared)
    c->cfg.resume_shared(c->cfg.resume_user, k->folder, NULL, 0);
}

static char *dup_str(json_t *v)
{
  const char *s = json_string_value(v);
  return s ? strdup(s) : NULL;
}

/* One earlier segment from its JSON; its files' lengths are read from
 * the files when the manifest is written. @return 0 or -1 */
static int prior_from_json(struct call_segment *seg, json_t *o)
{
  json_t *files = json_object_get(o, "files");
  json_int_t n = json_integer_value(json_object_get(o, "segment"));
  if (n < 1 || n > RESUME_MAX_SEGMENTS || !json_is_array(files) ||
      json_array_size(files) > RESUME_MAX_FILES)
    return -1;
  seg->segment = (unsigned)n;
  seg->offset_ns = json_integer_value(json_object_get(o, "offset_ns"));
  seg->files = calloc(json_array_size(files) + 1, sizeof *seg->files);
  if (!seg->files)
    return -1;
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f)
  {
    struct rec_file *rf = &seg->files[seg->n_files];
    json_t *streams = json_object_get(f, "streams");
    rf->name = dup_str(json_object_get(f, "name"));
    /* Only plain names the recorder could have made: no path. */
    if (!rf->name || strchr(rf->name, '/') || rf->name[0] == '.') {
      free(rf->name);
      rf->name = NULL;
      continue;
    }
    if (json_is_array(streams)) {
      rf->streams[0] = dup_str(json_array_get(streams, 0));
      rf->streams[1] = dup_str(json_array_get(streams, 1));
    } else {
      rf->stream = dup_str(json_object_get(f, "stream"));
    }
    seg->n_files++;
  }
  return 0;
}

int calls_resume_load(struct calls *c, struct call *k)
{
  char path[4096];
  if (!c->cfg.resume_dir || resume_path(c, k, path, sizeof path) < 0)
    return -1;
  json_error_t err;
  json_t *j = json_load_file(path, 0, &err);
  json_t *segs = json_object_get(j, "segments");
  json_int_t start = json_integer_value(json_object_get(j, "start_unix_ns"));
  if (!j || !json_is_array(segs) || json_array_size(segs) == 0 ||
      json_array_size(segs) >= RESUME_MAX_SEGMENTS || start <= 0) {
    json_decref(j);
    return -1;
  }
  k->prior = calloc(json_array_size(segs), sizeof *k->prior);
  size_t i;
  json_t *o;
  unsigned last = 0;
  json_array_foreach(segs, i, o)
  {
    if (!k->prior || prior_from_json(&k->prior[k->n_prior], o) < 0)
      continue;
    if (k->prior[k->n_prior].segment > last)
      last = k->prior[k->n_prior].segment;
    k->n_prior++;
  }
  json_decref(j);
  if (!k->n_prior)
    return -1;
  k->start_unix_ns = start;
  k->segment = last + 1;
  return 0;
}

/* Each earlier file's length as it is on disk (a killed process's WAV
 * headers say what its last flush wrote). */
void calls_resume_measure(struct calls *c, struct call *k, const char *folder)
{
  (void)c;
  for (size_t s = 0; s < k->n_prior; s++)
    for (size_t i = 0; i < k->prior[s].n_files; i++) {
      struct rec_file *rf = &k->prior[s].files[i];
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", folder, rf->name);
      SF_INFO info = { 0 };
      SNDFILE *sf = sf_open(path, SFM_READ, &info);
      if (!sf)
        continue;
      rf->channels = info.channels;
      rf->rate = (uint32_t)info.samplerate;
      rf->frames = info.frames > 0 ? (uint64_t)info.frames : 0;
      rf->duration = info.samplerate > 0 ? (double)rf->frames / info.samplerate : 0;
      sf_close(sf);
    }
}

void calls_resume_free(struct call *k)
{
  for (size_t s = 0; s < k->n_prior; s++) {
    for (size_t i = 0; i < k->prior[s].n_files; i++) {
      struct rec_file *rf = &k->prior[s].files[i];
      free(rf->name);
      free(rf->stream);
      free(rf->streams[0]);
      free(rf->streams[1]);
    }
    free(k->prior[s].files);
  }
  free(k->prior);
  k->prior = NULL;
  k->n_prior = 0;
}
