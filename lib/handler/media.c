/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorded media (siprec/media.h): a datagram found by its local port
 * (media_ports.c), fed to its stream's sr_media_stream under that stream's
 * lock only; the stream's frames, events and DTMF mapped to the public
 * structs with the session, stream, label and speaker; counters into the
 * stream's and the handler's stats; deadlines into the media timer shards
 * (media_timers.c). The session's signalling drives the streams here too:
 * pause, resume, reconfigure, end (sr_media_sync, sr_media_end_all).
 *
 * Locks: the session's, then a stream's, then a timer shard's. The media
 * path takes the stream's only (the session's just to make a stream's
 * state, before its lock). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "../media/srtp.h"
#include "../media/stream.h"
#include "dialog.h"
#include "media.h"

/* ---------------------------------------------------------------------- */
/* Callbacks                                                                */

/* Frames' flags pass through as they are: the two sets must stay equal. */
_Static_assert((unsigned)SIPREC_AUDIO_CONCEALED == (unsigned)SR_MS_F_CONCEALED &&
                   (unsigned)SIPREC_AUDIO_COMFORT_NOISE == (unsigned)SR_MS_F_COMFORT_NOISE &&
                   (unsigned)SIPREC_AUDIO_AFTER_GAP == (unsigned)SR_MS_F_AFTER_GAP &&
                   (unsigned)SIPREC_AUDIO_AFTER_DISCONTINUITY == (unsigned)SR_MS_F_AFTER_DISCONTINUITY &&
                   (unsigned)SIPREC_AUDIO_CODEC_CHANGED == (unsigned)SR_MS_F_CODEC_CHANGED &&
                   (unsigned)SIPREC_AUDIO_PADDED == (unsigned)SR_MS_F_PADDED,
               "siprec_audio_flag and SR_MS_F_* differ");

static void on_frame(void *user, const sr_ms_frame *f)
{
  sr_session_media *m = user;
  siprec_handler *h = m->handler;
  if (!h->cbs.audio)
    return;
  siprec_audio_frame o;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.session = (siprec_session *)sr_media_holder;
  o.stream = m->index;
  o.label = m->has_label ? m->label : NULL;
  o.speaker.id = m->spk_id;
  o.speaker.aor = m->spk_aor;
  o.speaker.name = m->spk_name;
  o.sample_rate = f->rate;
  o.samples = f->samples;
  o.n_samples = f->count;
  o.position = f->position;
  o.time_ns = f->time_ns;
  o.wallclock_ns = f->wallclock_ns;
  o.flags = f->flags; /* the same bits: checked above */
  o.arrival_ns = f->arrival_ns;
  h->cbs.audio(h->user, &o);
}

static void on_event(void *user, const sr_ms_event *e)
{
  sr_session_media *m = user;
  siprec_handler *h = m->handler;
  if (!h->cbs.stream_event)
    return;
  static const siprec_stream_event_type map[] = {
    [SR_MS_EV_STARTED] = SIPREC_STREAM_STARTED,
    [SR_MS_EV_PAUSED] = SIPREC_STREAM_PAUSED,
    [SR_MS_EV_RESUMED] = SIPREC_STREAM_RESUMED,
    [SR_MS_EV_CODEC_CHANGED] = SIPREC_STREAM_CODEC_CHANGED,
    [SR_MS_EV_DISCONTINUITY] = SIPREC_STREAM_DISCONTINUITY,
    [SR_MS_EV_GAP] = SIPREC_STREAM_GAP,
    [SR_MS_EV_NO_MEDIA] = SIPREC_STREAM_NO_MEDIA,
    [SR_MS_EV_ENDED] = SIPREC_STREAM_ENDED,
  };
  if ((unsigned)e->type >= sizeof map / sizeof map[0] || e->type == 0)
    return;
  siprec_stream_event o;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.session = (siprec_session *)sr_media_holder;
  o.stream = m->index;
  o.label = m->has_label ? m->label : NULL;
  o.type = map[e->type];
  o.position = e->position;
  o.samples = e->samples;
  o.sample_rate = e->rate;
  o.time_ns = e->time_ns;
  if (e->type == SR_MS_EV_STARTED || e->type == SR_MS_EV_CODEC_CHANGED)
    o.codec = m->codec[0] ? m->codec : NULL;
  h->cbs.stream_event(h->user, &o);
}

static void on_dtmf(void *user, const sr_ms_dtmf *d)
{
  sr_session_media *m = user;
  siprec_handler *h = m->handler;
  if (!h->cbs.dtmf)
    return;
  siprec_dtmf_event o;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.session = (siprec_session *)sr_media_holder;
  o.stream = m->index;
  o.label = m->has_label ? m->label : NULL;
  o.digit = d->digit;
  o.start = d->start;
  o.end = d->end;
  o.volume = d->volume;
  o.duration_ms = d->duration_ms;
  o.position = d->position;
  o.time_ns = d->time_ns;
  h->cbs.dtmf(h->user, &o);
}

/* Run `call` on stream `m` of `s` (m's lock held) as a host callback: host
 * requests get SIPREC_EBUSY, the session's accessors do not deadlock. */
#define SR_MEDIA_CALL(s, m, call)                                                                  \
  do {                                                                                             \
    const siprec_session *sr_prev_holder_ = sr_media_holder;                                       \
    size_t sr_prev_index_ = sr_media_holder_index;                                                 \
    sr_media_holder = (s);                                                                         \
    sr_media_holder_index = (m)->index;                                                            \
    SR_CALLBACK(s, call);                                                                          \
    sr_media_holder = sr_prev_holder_;                                                             \
    sr_media_holder_index = sr_prev_index_;                                                        \
  } while (0)

/* ---------------------------------------------------------------------- */
/* Counters                                                                 */

/* During siprec_handler_media_batch(): the handler's counters of its
 * datagrams so far, added to the handler's row when the batch ends (two
 * locked instructions a batch rather than two a datagram). */
typedef struct sr_batch_stats {
  const siprec_handler *h;
  uint64_t v[SR_MSTATS];
} sr_batch_stats;
static _Thread_local sr_batch_stats *batch_stats;

static void add_handler_stat(siprec_handler *h, unsigned k, uint64_t n)
{
  atomic_fetch_add_explicit(&h->media_stats[sr_media_thread_slot() % SR_MEDIA_SHARDS].v[k], n,
                            memory_order_relaxed);
}

/* The stream's counter has one writer (m's lock held): a plain load and
 * store, no locked instruction; readers see whole values. The handler's
 * are shared: each thread adds to its own row. */
static void add_stat(siprec_handler *h, sr_session_media *m, unsigned k, uint64_t n)
{
  if (!n)
    return;
  atomic_store_explicit(&m->count[k].n,
                        atomic_load_explicit(&m->count[k].n, memory_order_relaxed) + n,
                        memory_order_relaxed);
  if (batch_stats && batch_stats->h == h)
    batch_stats->v[k] += n;
  else
    add_handler_stat(h, k, n);
}

/* What the stream counted since the last call (m's lock held). */
/* The stream pipeline's unprotect hook over the stream's SRTP context. */
static int unprotect(void *ctx, uint8_t *buf, size_t len, bool rtcp, size_t *out_len)
{
  size_t n = len;
  sr_srtp_result why;
  int rc = rtcp ? sr_srtp_unprotect_rtcp(ctx, buf, &n, &why) : sr_srtp_unprotect(ctx, buf, &n, &why);
  *out_len = n;
  return rc;
}

static void add_since(siprec_handler *h, sr_session_media *m, unsigned k, uint64_t now)
{
  add_stat(h, m, k, now - m->count[k].seen);
  m->count[k].seen = now;
}

/* The counters other than packets and bytes, read in full (m's lock held). */
static void collect_rare(siprec_handler *h, sr_session_media *m)
{
  sr_ms_counters c;
  sr_media_stream_counters(m->ms, &c);
  const uint64_t now[SR_MSTATS] = {
    [SR_MSTAT_LOST] = c.lost,               [SR_MSTAT_REORDERED] = c.reordered,
    [SR_MSTAT_DUPLICATES] = c.duplicates,   [SR_MSTAT_LATE] = c.late,
    [SR_MSTAT_LATCH_DROPS] = c.latch_drops, [SR_MSTAT_SRTP_FAILURES] = c.srtp_failures,
    [SR_MSTAT_DECODE_ERRORS] = c.decode_errors, [SR_MSTAT_RTCP] = c.rtcp_packets,
  };
  for (unsigned k = 0; k < SR_MSTATS; k++)
    if (k != SR_MSTAT_NOT_FOUND && k != SR_MSTAT_PACKETS && k != SR_MSTAT_BYTES)
      add_since(h, m, k, now[k]);
}

/* What the stream counted since the last call, exact when it returns (a
 * host reads the stats right after feeding): packets and bytes every time;
 * the other counters only when the stream's generation says one moved;
 * the jitter converted only when it changed. */
static void collect(siprec_handler *h, sr_session_media *m)
{
  if (!m->ms)
    return;
  sr_ms_quick q;
  sr_media_stream_quick(m->ms, &q);
  add_since(h, m, SR_MSTAT_PACKETS, q.packets);
  add_since(h, m, SR_MSTAT_BYTES, q.bytes);
  if (!m->seen_valid || q.gen != m->seen_gen) {
    collect_rare(h, m);
    m->seen_gen = q.gen;
    m->seen_valid = 1;
  }
  uint64_t jkey = (uint64_t)q.clock << 32 | q.jitter_ticks;
  if (jkey != m->jitter_key) {
    /* As sr_ms_counters' jitter_ms, rounded. */
    double ms = q.clock ? q.jitter_ticks * 1000.0 / q.clock : 0;
    atomic_store_explicit(&m->jitter_ms, (uint32_t)(ms + 0.5), memory_order_relaxed);
    m->jitter_key = jkey;
  }
  m->last_packet_ns = q.last_packet_ns;
}

/* ---------------------------------------------------------------------- */
/* Deadlines                                                                */

/* After the stream ran (m's lock held): its next deadline into a shard
 * unless an earlier one is armed already. */
static void rearm(siprec_handler *h, siprec_session *s, sr_session_media *m)
{
  uint64_t at;
  if (!m->ms || m->ended || !sr_media_stream_next_deadline(m->ms, &at))
    return;
  if (at == 0)
    at = 1;
  if (m->armed_at && m->armed_at <= at)
    return;
  if (sr_media_timers_arm(h, s, m->index, at) == 0)
    m->armed_at = at;
}

/* ---------------------------------------------------------------------- */
/* Making a stream's media state (the session's lock held)                  */

/* The speaker of stream m->index from the session's model (cached with a
 * reference to it, refreshed when the model changes). */
static void refresh_speaker(siprec_session *s, sr_session_media *m)
{
  if (m->model == s->model && (m->model || !m->spk_id))
    return;
  siprec_metadata_unref(m->model);
  m->model = s->model ? siprec_metadata_ref(s->model) : NULL;
  m->spk_id = m->spk_aor = m->spk_name = NULL;
  size_t p;
  if (m->model && siprec_metadata_mline_sender(m->model, m->index, 0, &p) > 0)
    (void)siprec_metadata_participant(m->model, p, &m->spk_id, &m->spk_aor, &m->spk_name, NULL);
}

static void dialog_ip(const siprec_session *s, char *out, size_t size)
{
  const sr_sockaddr *a = &s->dialog.remote;
  out[0] = '\0';
  if (a->ss_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, out, (socklen_t)size);
  else if (a->ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, out, (socklen_t)size);
}

/* The stream's media configuration from the session's stream. */
static void stream_config(siprec_handler *h, const siprec_session *s, const sr_sdp_stream *st,
                          sr_decoder_params *codec, char *sig_ip, size_t sig_size,
                          sr_media_stream_config *cfg)
{
  /* codec[0..1 + n_alt): the accepted codec, then the offer's others the
   * SRC may switch to without a new offer. */
  size_t n = 0;
  memset(codec, 0, (1 + SR_SDP_ALT_MAX) * sizeof *codec);
  codec[n].encoding = st->codec;
  codec[n].payload_type = st->pt;
  codec[n].clock_rate = st->clock_rate;
  codec[n++].channels = st->channels;
  for (size_t i = 0; i < st->n_alt && i < SR_SDP_ALT_MAX && n < SR_MS_MAX_CODECS; i++) {
    const char *enc = sr_sdp_alt_encoding(h->codec_list, &st->alt[i]); /* as answered */
    if (!enc)
      continue;
    codec[n].encoding = enc;
    codec[n].payload_type = st->alt[i].pt;
    codec[n].clock_rate = st->alt[i].clock_rate;
    codec[n++].channels = st->alt[i].channels;
  }
  memset(cfg, 0, sizeof *cfg);
  cfg->codecs = codec;
  cfg->n_codecs = n;
  cfg->dtmf_pt = st->te_pt >= 0 ? st->te_pt : -1;
  if (cfg->dtmf_pt == 0)
    cfg->dtmf_pt = -1;
  cfg->cn_pt = 0;
  cfg->expected_ip = st->remote_addr;
  cfg->expected_port = st->remote_port;
  dialog_ip(s, sig_ip, sig_size);
  cfg->signalling_ip = sig_ip[0] ? sig_ip : NULL;
  cfg->jitter_ms = h->cfg.jitter_ms;
  cfg->frame_ms = h->cfg.frame_ms;
  cfg->out_rate = h->cfg.audio_rate;
  cfg->no_media_ms = h->cfg.no_media_ms ? h->cfg.no_media_ms : UINT32_MAX;
}

static int stream_paused(const sr_sdp_stream *st)
{
  return st->paused || st->answer_dir != SR_SDP_RECVONLY;
}

static void remember(sr_session_media *m, const sr_sdp_stream *st)
{
  strcpy(m->codec, st->codec);
  m->pt = st->pt;
  m->te_pt = st->te_pt;
  strcpy(m->remote_addr, st->remote_addr);
  m->remote_port = st->remote_port;
  memcpy(m->alt, st->alt, sizeof m->alt);
  m->n_alt = st->n_alt;
  strcpy(m->label, st->label);
  m->has_label = st->has_label;
}

/* The stream's media state for a datagram on `rtp_port` (the session's
 * lock held); returns m locked, or NULL with *rc. */
static sr_session_media *make_stream(siprec_handler *h, siprec_session *s, size_t index,
                                     uint16_t rtp_port, uint64_t now, int *rc)
{
  if (index >= s->n_streams || !s->streams[index].accepted ||
      s->streams[index].port != rtp_port || s->state == SR_SESSION_ENDED ||
      s->state == SR_SESSION_CLOSING || s->state == SR_SESSION_LINGER ||
      s->state == SR_SESSION_REJECTED) {
    *rc = SIPREC_ENOTFOUND;
    return NULL;
  }
  const sr_sdp_stream *st = &s->streams[index];
  sr_session_media *m = sr_media_slot(h, s, index);
  if (!m) {
    *rc = SIPREC_ENOMEM;
    return NULL;
  }
  sr_media_lock(s, m);
  if (m->ms && m->port == rtp_port && !m->ended)
    return m; /* another thread made it meanwhile */
  if (m->ms) {
    /* ended, or for another port: its state goes, a new stream starts */
    collect(h, m);
    sr_media_stream_free(m->ms);
    m->ms = NULL;
  }
  sr_srtp_free(m->srtp_ctx); /* keys and replay state belong to the stream made */
  m->srtp_ctx = NULL;
  m->port = rtp_port;
  m->ended = 0;
  m->watched = 0;
  m->nm_raised = 0;
  m->srtp = st->srtp;
  remember(m, st);
  refresh_speaker(s, m);
  for (unsigned k = 0; k < SR_MSTATS; k++)
    m->count[k].seen = 0;
  m->seen_valid = 0; /* a new stream: its counters read in full first */
  m->last_packet_ns = 0;
  snprintf(m->key, sizeof m->key, "%s", st->remote_key);
  if (m->srtp && sr_srtp_new(&s->mem, st->crypto_suite, st->remote_key, &m->srtp_ctx) < 0) {
    m->srtp_ctx = NULL;
    return m; /* this build cannot decrypt it: counted as failures, nothing made */
  }
  sr_decoder_params codec[1 + SR_SDP_ALT_MAX];
  char sig[INET6_ADDRSTRLEN];
  sr_media_stream_config cfg;
  stream_config(h, s, st, codec, sig, sizeof sig, &cfg);
  if (m->srtp_ctx) {
    cfg.unprotect = unprotect;
    cfg.unprotect_ctx = m->srtp_ctx;
  }
  sr_media_stream_callbacks cb = { on_frame, on_event, on_dtmf, m };
  int r = sr_media_stream_new(&s->mem, &cfg, &cb, now, &m->ms);
  if (r < 0) {
    m->ms = NULL;
    pthread_mutex_unlock(&m->lock);
    *rc = r == SIPREC_ENOMEM ? SIPREC_ENOMEM : SIPREC_ENOTFOUND;
    return NULL;
  }
  sr_media_resume_apply(s, m); /* a restored session's stream goes on where it was */
  m->paused = stream_paused(st);
  if (m->paused)
    SR_MEDIA_CALL(s, m, sr_media_stream_pause(m->ms, now));
  return m;
}

/* ---------------------------------------------------------------------- */
/* Feeding                                                                  */

#define SR_ACTIVITY_STEP_NS (500ull * 1000 * 1000)

/* The port's hints after a datagram of slot m. */
static void hints_of(const sr_session_media *m, sr_port_hints *out)
{
  sr_ms_hints ms;
  sr_media_stream_hints(m->ms, &ms);
  *out = (sr_port_hints){ m, ms.stream, ms.dec, ms.state };
}

#define SR_MEDIA_DGRAM_MAX 8192

static uint16_t port_of(const struct sockaddr *a)
{
  if (a->sa_family == AF_INET)
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
  if (a->sa_family == AF_INET6)
    return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
  return 0;
}

/* One datagram, in a section of the port table (its entry stays valid
 * throughout); `hinted`: its lines were prefetched already (a batch). */
static int media_one(siprec_handler *h, const void *data, size_t len, const siprec_path *path,
                     uint64_t now_ns, bool hinted)
{
  if (!h || (!data && len) || !path || !path->local || !path->remote)
    return SIPREC_EINVAL;
  if (sr_in_callback)
    return SIPREC_EBUSY;
  if (path->remote->sa_family != AF_INET && path->remote->sa_family != AF_INET6)
    return SIPREC_EINVAL;
  uint16_t lport = port_of(path->local);
  sr_port_hints hint;
  sr_port_ent *e = lport ? sr_media_ports_find(h, lport, hinted, &hint) : NULL;
  if (!e) {
    atomic_fetch_add_explicit(&h->media_stats[lport % SR_MEDIA_SHARDS].v[SR_MSTAT_NOT_FOUND], 1,
                              memory_order_relaxed);
    return SIPREC_ENOTFOUND;
  }
  siprec_session *s = e->s;
  /* The host's bytes as they are: the stream copies only what it
   * unprotects. A datagram above SR_MEDIA_DGRAM_MAX is no audio packet
   * (200 ms at most are decoded): dropped, a decode error. */
  const uint8_t *buf = data ? data : (const uint8_t *)"";
  int rc = 0;
  /* The slot from the entry's cache: the session itself stays untouched. */
  sr_session_media *m = atomic_load_explicit(&e->m, memory_order_acquire);
  if (!m && (m = atomic_load_explicit(&s->media[e->index], memory_order_acquire)))
    atomic_store_explicit(&e->m, m, memory_order_release);
  if (m) {
    if (hint.m != m)
      sr_media_slot_prefetch(m);
    pthread_mutex_lock(&m->lock);
    if ((!m->ms && !m->srtp) || m->ended || m->port != e->rtp_port) {
      pthread_mutex_unlock(&m->lock);
      m = NULL;
    }
  }
  if (!m) {
    sr_session_lock(s);
    m = make_stream(h, s, e->index, e->rtp_port, now_ns, &rc);
    sr_session_unlock(s);
    if (m)
      atomic_store_explicit(&e->m, m, memory_order_release);
  }
  int snapshot = 0;
  if (m) {
    if (m->srtp && !m->srtp_ctx) {
      add_stat(h, m, SR_MSTAT_SRTP_FAILURES, 1);
    } else if (len > SR_MEDIA_DGRAM_MAX) {
      add_stat(h, m, SR_MSTAT_DECODE_ERRORS, 1);
    } else {
      if (hint.m != m || hint.stream != m->ms)
        sr_media_stream_prefetch(m->ms);
      if (e->rtcp)
        SR_MEDIA_CALL(s, m, (void)sr_media_stream_feed_rtcp(m->ms, buf, len, path->remote, now_ns));
      else
        SR_MEDIA_CALL(s, m, (void)sr_media_stream_feed(m->ms, buf, len, path->remote, now_ns));
      collect(h, m);
      rearm(h, s, m);
      sr_port_hints now;
      hints_of(m, &now);
      sr_media_ports_hint(h, lport, &hint, &now);
      /* Media keeps the session alive for the idle limit: written at most
       * every SR_ACTIVITY_STEP_NS, so that a datagram does not dirty the
       * session's cache line (the idle limit is seconds or minutes). */
      if (m->last_packet_ns == now_ns && now_ns - m->activity_ns >= SR_ACTIVITY_STEP_NS) {
        m->activity_ns = now_ns;
        atomic_store_explicit(&s->last_activity, now_ns, memory_order_relaxed);
      }
      snapshot = h->cfg.snapshots && h->cbs.snapshot && sr_media_resume_due(h, m, now_ns);
    }
    pthread_mutex_unlock(&m->lock);
  }
  if (snapshot) {
    /* Outside the stream's lock: the session's comes first. */
    sr_session_lock(s);
    sr_snapshot_emit(h, s, now_ns);
    sr_session_unlock(s);
  }
  return rc;
}

SIPREC_API int siprec_handler_media(siprec_handler *h, const void *data, size_t len,
                                    const siprec_path *path, uint64_t now_ns)
{
  if (!h)
    return SIPREC_EINVAL;
  sr_port_section sec;
  sr_media_ports_enter(h, &sec);
  int rc = media_one(h, data, len, path, now_ns, false);
  sr_media_ports_leave(h, &sec);
  return rc;
}

/* How far ahead of the datagram being processed siprec_handler_media_batch
 * hints: the port's cell first, then, once the cell has arrived, the lines
 * its hints name (a stream's state is some twenty lines: more datagrams'
 * worth in flight would only wait for the core's fill buffers). */
#define BATCH_CELL_AHEAD 8
#define BATCH_LINES_AHEAD 4

/* The local port of a batch's datagram, 0 when it has none (media_one
 * reports that). */
static uint16_t batch_port(const siprec_datagram *d)
{
  return d->path && d->path->local ? port_of(d->path->local) : 0;
}

SIPREC_API int siprec_handler_media_batch(siprec_handler *h, const siprec_datagram *d, size_t n,
                                          int *results)
{
  if (!h || (!d && n))
    return SIPREC_EINVAL;
  if (sr_in_callback)
    return SIPREC_EBUSY;
  for (size_t i = 0; i < n && i < BATCH_CELL_AHEAD; i++)
    sr_media_ports_prefetch_cell(h, batch_port(&d[i]));
  for (size_t i = 0; i < n && i < BATCH_LINES_AHEAD; i++)
    sr_media_ports_prefetch_lines(h, batch_port(&d[i]));
  sr_batch_stats acc = { .h = h };
  batch_stats = &acc;
  /* One section for the whole batch: its datagrams take no locked
   * instruction for the table. */
  sr_port_section sec;
  sr_media_ports_enter(h, &sec);
  for (size_t i = 0; i < n; i++) {
    if (i + BATCH_CELL_AHEAD < n)
      sr_media_ports_prefetch_cell(h, batch_port(&d[i + BATCH_CELL_AHEAD]));
    if (i + BATCH_LINES_AHEAD < n)
      sr_media_ports_prefetch_lines(h, batch_port(&d[i + BATCH_LINES_AHEAD]));
    int rc = media_one(h, d[i].data, d[i].len, d[i].path, d[i].now_ns, true);
    if (results)
      results[i] = rc;
  }
  sr_media_ports_leave(h, &sec);
  batch_stats = NULL;
  for (unsigned k = 0; k < SR_MSTATS; k++)
    if (acc.v[k])
      add_handler_stat(h, k, acc.v[k]);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Time                                                                     */

/* An event of a stream with no media state (m's lock held). */
static void raise_bare(siprec_session *s, sr_session_media *m, sr_ms_event_type type, uint64_t now)
{
  sr_ms_event e;
  memset(&e, 0, sizeof e);
  e.type = type;
  e.rate = 8000;
  e.time_ns = now;
  e.pt = m->pt;
  SR_MEDIA_CALL(s, m, on_event(m, &e));
}

int sr_media_expire(siprec_handler *h, uint64_t now)
{
  int actions = 0;
  enum { BATCH = 64 };
  for (unsigned sh = 0; sh < SR_MEDIA_SHARDS; sh++) {
    for (;;) {
      sr_media_due due[BATCH];
      size_t n = sr_media_timers_take_due(h, sh, now, due, BATCH);
      for (size_t i = 0; i < n; i++) {
        siprec_session *s = due[i].s;
        sr_session_media *m = atomic_load_explicit(&s->media[due[i].index], memory_order_acquire);
        if (m) {
          pthread_mutex_lock(&m->lock);
          if (m->armed_at == due[i].at) {
            m->armed_at = 0;
            if (m->ms && !m->ended) {
              SR_MEDIA_CALL(s, m, sr_media_stream_expire(m->ms, now));
              collect(h, m);
              rearm(h, s, m);
              actions++;
            } else if (!m->ms && m->watched && !m->ended) {
              /* Not one datagram since the answer: an empty recording
               * (paused meanwhile: watched again when it resumes). */
              m->watched = 0;
              if (!m->paused) {
                m->nm_raised = 1;
                raise_bare(s, m, SR_MS_EV_NO_MEDIA, now);
                actions++;
              }
            }
          }
          pthread_mutex_unlock(&m->lock);
        }
        siprec_session_unref(s);
      }
      if (n < BATCH)
        break;
    }
  }
  return actions;
}

/* ---------------------------------------------------------------------- */
/* Signalling drives the streams (the session's lock held)                  */

/* End stream m (ENDED after its last frames). */
static void end_stream(siprec_handler *h, siprec_session *s, sr_session_media *m, uint64_t now)
{
  sr_media_lock(s, m);
  if (m->ms && !m->ended) {
    SR_MEDIA_CALL(s, m, sr_media_stream_end(m->ms, now));
    collect(h, m);
  } else if (!m->ms && m->nm_raised && !m->ended) {
    raise_bare(s, m, SR_MS_EV_ENDED, now); /* it had an event: it gets its last */
  }
  m->ended = 1;
  m->watched = 0;
  if (m->armed_at)
    sr_media_timers_disarm(h, s, m->index);
  m->armed_at = 0;
  pthread_mutex_unlock(&m->lock);
}

void sr_media_sync(siprec_handler *h, siprec_session *s, uint64_t now)
{
  for (size_t i = 0; i < SR_SDP_MAX_STREAMS; i++) {
    sr_session_media *m = atomic_load_explicit(&s->media[i], memory_order_acquire);
    if (!m)
      continue;
    const sr_sdp_stream *st = i < s->n_streams ? &s->streams[i] : NULL;
    if (!st || !st->accepted || st->port != m->port || st->srtp != m->srtp ||
        (st->srtp && strcmp(st->remote_key, m->key))) {
      end_stream(h, s, m, now); /* removed, or another stream now */
      continue;
    }
    sr_media_lock(s, m);
    refresh_speaker(s, m);
    if (!m->ms)
      m->paused = stream_paused(st); /* a watched stream: no NO_MEDIA while paused */
    if (m->ms && !m->ended) {
      if (strcmp(m->codec, st->codec) || m->pt != st->pt || m->te_pt != st->te_pt ||
          strcmp(m->remote_addr, st->remote_addr) || m->remote_port != st->remote_port ||
          m->n_alt != st->n_alt || memcmp(m->alt, st->alt, sizeof m->alt)) {
        sr_decoder_params codec[1 + SR_SDP_ALT_MAX];
        char sig[INET6_ADDRSTRLEN];
        sr_media_stream_config cfg;
        stream_config(h, s, st, codec, sig, sizeof sig, &cfg);
        remember(m, st);
        SR_MEDIA_CALL(s, m, (void)sr_media_stream_reconfigure(m->ms, &cfg, now));
      }
      strcpy(m->label, st->label);
      m->has_label = st->has_label;
      int paused = stream_paused(st);
      if (paused != m->paused) {
        m->paused = paused;
        if (paused)
          SR_MEDIA_CALL(s, m, sr_media_stream_pause(m->ms, now));
        else
          SR_MEDIA_CALL(s, m, sr_media_stream_resume(m->ms, now));
      }
      collect(h, m);
      rearm(h, s, m);
    }
    pthread_mutex_unlock(&m->lock);
  }
}

void sr_media_watch(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (!h->cbs.stream_event || !h->cfg.no_media_ms)
    return; /* a host without media callbacks pays nothing */
  for (size_t i = 0; i < s->n_streams && i < SR_SDP_MAX_STREAMS; i++) {
    const sr_sdp_stream *st = &s->streams[i];
    if (!st->accepted || !st->port || st->srtp || stream_paused(st))
      continue;
    sr_session_media *m = atomic_load_explicit(&s->media[i], memory_order_acquire);
    if (m && (m->ms || m->watched || m->nm_raised) && m->port == st->port)
      continue; /* fed already, or watched */
    if (!m && !(m = sr_media_slot(h, s, i)))
      continue; /* no memory: no watchdog for it */
    sr_media_lock(s, m);
    if (!m->ms) {
      m->port = st->port;
      m->ended = 0;
      m->nm_raised = 0;
      m->paused = 0;
      m->srtp = 0;
      remember(m, st);
      refresh_speaker(s, m);
      uint64_t at = now + sr_ms(h->cfg.no_media_ms);
      if ((!m->armed_at || at < m->armed_at) && sr_media_timers_arm(h, s, i, at) == 0)
        m->armed_at = at;
      m->watched = m->armed_at != 0;
    }
    pthread_mutex_unlock(&m->lock);
  }
}

void sr_media_end_all(siprec_handler *h, siprec_session *s, uint64_t now)
{
  for (size_t i = 0; i < SR_SDP_MAX_STREAMS; i++) {
    sr_session_media *m = atomic_load_explicit(&s->media[i], memory_order_acquire);
    if (m)
      end_stream(h, s, m, now);
  }
}

/* ---------------------------------------------------------------------- */
/* Counters                                                                 */

uint64_t sr_media_stat(siprec_handler *h, unsigned index)
{
  uint64_t sum = 0;
  for (unsigned r = 0; index < SR_MSTATS && r < SR_MEDIA_SHARDS; r++)
    sum += atomic_load_explicit(&h->media_stats[r].v[index], memory_order_relaxed);
  return sum;
}

SIPREC_API int siprec_session_stream_stats(const siprec_session *s, size_t index,
                                           siprec_stream_stats *stats)
{
  if (!s || !stats || stats->size < sizeof(siprec_stream_stats))
    return SIPREC_EINVAL;
  size_t n = siprec_session_stream_count(s); /* the accessor: safe from media callbacks */
  if (index >= n && !(index < SR_SDP_MAX_STREAMS && atomic_load(&s->media[index])))
    return SIPREC_EINVAL;
  siprec_stream_stats o;
  memset(&o, 0, sizeof o);
  o.size = stats->size;
  sr_session_media *m =
      index < SR_SDP_MAX_STREAMS ? atomic_load_explicit(&s->media[index], memory_order_acquire)
                                 : NULL;
  if (m) {
    uint64_t v[SR_MSTATS];
    for (unsigned k = 0; k < SR_MSTATS; k++)
      v[k] = atomic_load_explicit(&m->count[k].n, memory_order_relaxed);
    o.packets = v[SR_MSTAT_PACKETS];
    o.bytes = v[SR_MSTAT_BYTES];
    o.lost = v[SR_MSTAT_LOST];
    o.reordered = v[SR_MSTAT_REORDERED];
    o.duplicates = v[SR_MSTAT_DUPLICATES];
    o.late = v[SR_MSTAT_LATE];
    o.latch_drops = v[SR_MSTAT_LATCH_DROPS];
    o.srtp_failures = v[SR_MSTAT_SRTP_FAILURES];
    o.decode_errors = v[SR_MSTAT_DECODE_ERRORS];
    o.jitter_ms = atomic_load_explicit(&m->jitter_ms, memory_order_relaxed);
  }
  memcpy(stats, &o, sizeof o);
  return 0;
}
