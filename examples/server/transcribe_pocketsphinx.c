/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pocketsphinx engine of transcriber.h, on Debian's pocketsphinx
 * 0.8+5prealpha (the ps_init/cmd_ln API) and its en-us model
 * (pocketsphinx-en-us), 16 kHz.
 *
 * Utterances are cut where pocketsphinx's own speech detection says speech
 * stopped, exactly as pocketsphinx_continuous -infile does: after each
 * chunk fed, ps_get_in_speech(); once it said yes, a no ends the
 * utterance (ps_end_utt), its hypothesis is emitted and a new utterance
 * starts. So the words equal pocketsphinx_continuous's on the same audio.
 *
 * Costs: loading a decoder takes ~0.3-0.5 s of CPU and ~100 MB (the
 * acoustic model, the language model and the dictionary; 0.8 cannot share
 * them between decoders). So decoders are not loaded per stream: a stream
 * done gives its decoder back to a small free list (`spare` long) and the
 * next stream takes it from there; only beyond that is one loaded or
 * freed. A decoder from the list is reset to what a fresh one is (a new
 * stream, so that word times count from the stream's first sample, and the
 * live cepstral mean put back to the model's initial one), so a stream's
 * words never depend on what the decoder heard before.
 */
#include "transcriber.h"

#include <pocketsphinx.h>
#include <pthread.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PS_RATE 16000u
#define DEFAULT_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"

/* A loaded decoder, with what it takes to make it fresh again. */
typedef struct ps_dec {
  ps_decoder_t *ps;
  cmd_ln_t *cfg;
  mfcc_t *cmn0; /* the live cepstral mean right after loading */
  int32 veclen;
  struct ps_dec *next; /* on the free list */
} ps_dec;

typedef struct ps_engine {
  transcriber_engine base; /* first: the engine is passed as its base */
  char *hmm, *lm, *dict;
  unsigned spare;
  pthread_mutex_t lock; /* the free list */
  ps_dec *idle;
  unsigned n_idle;
  /* One load at a time: two decoders loading at once would double the
   * peak memory, and sphinxbase's loaders share global state (logging). */
  pthread_mutex_t load_lock;
} ps_engine;

/* The recogniser of one stream (passed around as transcriber *). */
typedef struct ps_rec {
  ps_engine *eng;
  ps_dec *dec;
  unsigned frame_shift; /* samples per pocketsphinx frame (rate / -frate) */
  int speech;           /* speech heard since the last cut (continuous's utt_started) */
} ps_rec;

static void dec_free(ps_dec *d)
{
  if (!d)
    return;
  if (d->ps)
    ps_free(d->ps);
  if (d->cfg)
    cmd_ln_free_r(d->cfg);
  free(d->cmn0);
  free(d);
}

static cmn_t *dec_cmn(ps_dec *d)
{
  feat_t *f = ps_get_feat(d->ps);
  return f ? f->cmn_struct : NULL;
}

static ps_dec *dec_load(ps_engine *e)
{
  ps_dec *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  pthread_mutex_lock(&e->load_lock);
  d->cfg = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", e->hmm, "-lm", e->lm, "-dict", e->dict,
                       "-samprate", "16000", NULL);
  if (d->cfg)
    d->ps = ps_init(d->cfg);
  pthread_mutex_unlock(&e->load_lock);
  if (!d->ps) {
    dec_free(d);
    return NULL;
  }
  cmn_t *c = dec_cmn(d);
  if (c && c->veclen > 0) {
    d->veclen = c->veclen;
    d->cmn0 = malloc(sizeof(mfcc_t) * (size_t)c->veclen);
    if (!d->cmn0) {
      dec_free(d);
      return NULL;
    }
    memcpy(d->cmn0, c->cmn_mean, sizeof(mfcc_t) * (size_t)c->veclen);
  }
  return d;
}

/* A new stream on `d`: frame numbers from 0 again, and the cepstral mean
 * of a fresh decoder (cmn_live_set() would also pretend a full window of
 * history, so the fields are set as ps_init leaves them). */
static int dec_reset(ps_dec *d)
{
  cmn_t *c = dec_cmn(d);
  if (c && d->cmn0 && c->veclen == d->veclen) {
    memcpy(c->cmn_mean, d->cmn0, sizeof(mfcc_t) * (size_t)d->veclen);
    memset(c->sum, 0, sizeof(mfcc_t) * (size_t)d->veclen);
    c->nframe = 0;
  }
  if (ps_start_stream(d->ps) < 0)
    return -1;
  return ps_start_utt(d->ps) < 0 ? -1 : 0;
}

static transcriber *ps_create(transcriber_engine *base, unsigned rate)
{
  ps_engine *e = (ps_engine *)base;
  if (rate != PS_RATE)
    return NULL;
  ps_rec *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  pthread_mutex_lock(&e->lock);
  ps_dec *d = e->idle;
  if (d) {
    e->idle = d->next;
    e->n_idle--;
  }
  pthread_mutex_unlock(&e->lock);
  if (!d)
    d = dec_load(e);
  if (!d || dec_reset(d) < 0) {
    dec_free(d);
    free(r);
    return NULL;
  }
  d->next = NULL;
  r->eng = e;
  r->dec = d;
  int32 frate = cmd_ln_int32_r(d->cfg, "-frate");
  r->frame_shift = frate > 0 ? PS_RATE / (unsigned)frate : PS_RATE / 100;
  return (transcriber *)r;
}

/* Fillers of the model's noise dictionary (<s>, </s>, <sil>, [NOISE],
 * [SPEECH]; other models write ++NOISE++) take no part in the span. */
static int is_filler(const char *w)
{
  return !w || w[0] == '<' || w[0] == '[' || w[0] == '+';
}

/* The utterance just ended: its hypothesis and the span of its words. */
static void emit_hyp(ps_rec *r, transcriber_emit_fn emit, void *arg)
{
  const char *hyp = ps_get_hyp(r->dec->ps, NULL);
  transcriber_utterance u = { .text = hyp ? hyp : "" };
  int have = 0, first = 0, last = 0, any_sf = 0, any_ef = 0, any = 0;
  for (ps_seg_t *s = ps_seg_iter(r->dec->ps); s; s = ps_seg_next(s)) {
    int sf, ef;
    ps_seg_frames(s, &sf, &ef);
    if (!any)
      any_sf = sf;
    any_ef = ef;
    any = 1;
    if (is_filler(ps_seg_word(s)))
      continue;
    if (!have)
      first = sf;
    last = ef;
    have = 1;
  }
  if (!have) { /* no word: the whole utterance, fillers included */
    first = any_sf;
    last = any_ef;
  }
  if (first < 0)
    first = 0;
  if (last < first)
    last = first;
  /* Frame numbers count from the stream's start (ps_start_stream), silence
   * removed by the speech detection included. */
  u.start = (uint64_t)first * r->frame_shift;
  u.end = ((uint64_t)last + 1) * r->frame_shift;
  emit(arg, &u);
}

static int cut(ps_rec *r, transcriber_emit_fn emit, void *arg)
{
  if (ps_end_utt(r->dec->ps) < 0)
    return -1;
  r->speech = 0;
  emit_hyp(r, emit, arg);
  return ps_start_utt(r->dec->ps) < 0 ? -1 : 0;
}

static int ps_feed(transcriber *t, const int16_t *pcm, size_t n, transcriber_emit_fn emit, void *arg)
{
  ps_rec *r = (ps_rec *)t;
  if (n == 0)
    return 0;
  if (ps_process_raw(r->dec->ps, pcm, n, FALSE, FALSE) < 0)
    return -1;
  int in_speech = ps_get_in_speech(r->dec->ps);
  if (in_speech)
    r->speech = 1;
  else if (r->speech)
    return cut(r, emit, arg);
  return 0;
}

static int ps_flush(transcriber *t, transcriber_emit_fn emit, void *arg)
{
  ps_rec *r = (ps_rec *)t;
  /* No speech since the last cut: nothing to end, and ending it would
   * lose the speech detection's look-back for the next one. */
  return r->speech ? cut(r, emit, arg) : 0;
}

static void ps_destroy(transcriber *t)
{
  ps_rec *r = (ps_rec *)t;
  if (!r)
    return;
  ps_engine *e = r->eng;
  ps_dec *d = r->dec;
  /* The utterance in progress is dropped; a decoder that cannot end it is
   * in a state no next stream should inherit. */
  int keep = ps_end_utt(d->ps) >= 0;
  pthread_mutex_lock(&e->lock);
  if (keep && e->n_idle < e->spare) {
    d->next = e->idle;
    e->idle = d;
    e->n_idle++;
    d = NULL;
  }
  pthread_mutex_unlock(&e->lock);
  dec_free(d);
  free(r);
}

static void ps_engine_free(transcriber_engine *base)
{
  ps_engine *e = (ps_engine *)base;
  if (!e)
    return;
  while (e->idle) {
    ps_dec *d = e->idle;
    e->idle = d->next;
    dec_free(d);
  }
  pthread_mutex_destroy(&e->lock);
  pthread_mutex_destroy(&e->load_lock);
  free(e->hmm);
  free(e->lm);
  free(e->dict);
  free(e);
}

static char *join(const char *dir, const char *name)
{
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static int exists(const char *path, int dir)
{
  struct stat st;
  return stat(path, &st) == 0 && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

transcriber_engine *transcriber_pocketsphinx_new(const char *model_dir, unsigned spare, char *err,
                                                 size_t errlen)
{
  char dummy[1];
  if (!err || errlen == 0) {
    err = dummy;
    errlen = sizeof dummy;
  }
  err[0] = '\0';
  if (!model_dir)
    model_dir = DEFAULT_MODEL_DIR;
  ps_engine *e = calloc(1, sizeof *e);
  if (!e || pthread_mutex_init(&e->lock, NULL) != 0) {
    free(e);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (pthread_mutex_init(&e->load_lock, NULL) != 0) {
    pthread_mutex_destroy(&e->lock);
    free(e);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  e->base.name = "pocketsphinx";
  e->base.rate = PS_RATE;
  e->base.create = ps_create;
  e->base.feed = ps_feed;
  e->base.flush = ps_flush;
  e->base.destroy = ps_destroy;
  e->base.free = ps_engine_free;
  e->spare = spare;
  e->hmm = join(model_dir, "en-us");
  e->lm = join(model_dir, "en-us.lm.bin");
  e->dict = join(model_dir, "cmudict-en-us.dict");
  if (!e->hmm || !e->lm || !e->dict) {
    ps_engine_free(&e->base);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  const char *missing = !exists(e->hmm, 1) ? e->hmm : !exists(e->lm, 0) ? e->lm
                        : !exists(e->dict, 0) ? e->dict : NULL;
  if (missing) {
    snprintf(err, errlen, "pocketsphinx model: %s missing (Debian package pocketsphinx-en-us)",
             missing);
    ps_engine_free(&e->base);
    return NULL;
  }
  /* sphinxbase logs every step of a load to stderr; the server has its own
   * log. Process-wide: the engine is the process's only sphinxbase user. */
  err_set_logfp(NULL);
  /* One decoder now: models that do not load fail at startup, not at the
   * first call; it waits on the free list for the first stream. */
  ps_dec *d = dec_load(e);
  if (!d) {
    snprintf(err, errlen, "pocketsphinx: the model in %s does not load", model_dir);
    ps_engine_free(&e->base);
    return NULL;
  }
  if (e->spare > 0) {
    e->idle = d;
    e->n_idle = 1;
  } else {
    dec_free(d);
  }
  return &e->base;
}
