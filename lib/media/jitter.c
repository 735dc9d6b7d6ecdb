/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recording jitter buffer. Kept packets live in a ring of slots indexed
 * by extended sequence number modulo the window, so a packet's place is
 * found without searching and the window bounds both the slots and the
 * work of every call. */
#include "jitter.h"

#include <string.h>

#include "../common/alloc.h"
#include "seq.h"

int sr_jb_init(sr_jb *jb, const sr_jb_config *cfg, const siprec_allocator *alloc)
{
  if (!jb || !cfg || cfg->clock_rate == 0)
    return SIPREC_EINVAL;
  *jb = (sr_jb){ 0 };
  int rc = sr_alloc_init(&jb->alloc, alloc);
  if (rc < 0)
    return rc;
  uint64_t depth = cfg->depth_ms ? cfg->depth_ms : SR_JB_DEFAULT_DEPTH_MS;
  uint64_t rate = cfg->max_rate ? cfg->max_rate : SR_JB_DEFAULT_MAX_RATE;
  uint64_t n = (depth * rate + 999) / 1000 + 1;
  jb->n_slots = n < 2 ? 2 : n > SR_JB_MAX_SLOTS ? SR_JB_MAX_SLOTS : (uint32_t)n;
  jb->depth_ns = depth * 1000000u;
  jb->clock_rate = cfg->clock_rate;
  uint64_t jump = (uint64_t)(cfg->ts_jump_ms ? cfg->ts_jump_ms : 1000) * cfg->clock_rate / 1000;
  jb->jump_ticks = jump > INT32_MAX ? INT32_MAX : (uint32_t)jump;
  jb->max_payload = cfg->max_payload ? cfg->max_payload : SR_RTP_MAX_PACKET;
  jb->max_bytes = cfg->max_bytes ? cfg->max_bytes : SR_JB_DEFAULT_MAX_BYTES;
  return 0;
}

void sr_jb_free(sr_jb *jb)
{
  if (!jb || !jb->slots)
    return;
  for (uint32_t i = 0; i < jb->n_slots; i++)
    sr_free(&jb->alloc, jb->slots[i].data);
  sr_free(&jb->alloc, jb->slots);
  jb->slots = NULL;
  jb->held = 0;
  jb->held_bytes = 0;
}

static sr_jb_slot *slot_of(const sr_jb *jb, int64_t ext)
{
  int64_t r = ext % (int64_t)jb->n_slots;
  return &jb->slots[r < 0 ? r + jb->n_slots : r];
}

/* Move `next` forward; the released-bits window moves with it. */
static void advance(sr_jb *jb, int64_t new_next)
{
  uint64_t shift = (uint64_t)(new_next - jb->next);
  jb->released_bits = shift >= 64 ? 0 : jb->released_bits << shift;
  jb->next = new_next;
}

/* Loss before `out`, from the previous release: packets by sequence,
 * samples by timestamp, unless the timestamp jumped. */
static void account_gap(sr_jb *jb, sr_jb_packet *out)
{
  int64_t dseq = out->ext_seq - jb->last_ext;
  int32_t dts = (int32_t)(out->ts - jb->last_ts);
  int64_t lost = dseq - 1, samples;
  out->lost_packets = lost > UINT32_MAX ? UINT32_MAX : (uint32_t)lost;
  int64_t per = jb->ptime_ts ? jb->ptime_ts : jb->clock_rate / 50;
  if (sr_ts_jump(dseq, dts, jb->ptime_ts, jb->clock_rate, jb->jump_ticks, &out->ts_offset)) {
    out->flags |= SR_JB_F_TS_JUMP;
    samples = lost * per; /* the span is unknowable: assume usual packets */
  } else if (dseq == 1) {
    out->ts_offset = 0;
    if (dts > 0 && (uint32_t)dts <= jb->clock_rate / 5)
      jb->ptime_ts = (uint32_t)dts;
    samples = 0;
  } else {
    out->ts_offset = 0;
    /* The packet before the hole lasted `per` ticks, or, before any
     * packet pair told us, as long as each of the missing ones. */
    samples = jb->ptime_ts ? dts - per : (int64_t)dts * lost / dseq;
  }
  out->lost_samples = samples < 0 ? 0 : (uint64_t)samples;
}

static void deliver(sr_jb *jb, sr_jb_packet *out, sr_jb_release_fn fn, void *user)
{
  out->flags |= jb->pending;
  jb->pending = 0;
  if (jb->has_last)
    account_gap(jb, out);
  if (out->lost_packets)
    out->flags |= SR_JB_F_LOSS;
  if (out->flags & SR_JB_DISCONTINUITY)
    jb->stats.discontinuities++;
  jb->stats.lost_packets += out->lost_packets;
  jb->changes += out->lost_packets != 0;
  jb->stats.lost_samples += out->lost_samples;
  jb->stats.released++;
  advance(jb, out->ext_seq + 1);
  jb->released_bits |= 1;
  jb->has_last = true;
  jb->last_ext = out->ext_seq;
  jb->last_ts = out->ts;
  fn(user, out);
}

static void release_slot(sr_jb *jb, sr_jb_slot *s, sr_jb_release_fn fn, void *user)
{
  sr_jb_packet out = {
    .ext_seq = s->ext_seq, .seq = s->seq, .ts = s->ts, .ssrc = s->ssrc, .pt = s->pt,
    .marker = s->marker, .payload = s->data, .payload_len = s->len,
    .arrival_ns = s->arrival_ns,
  };
  deliver(jb, &out, fn, user);
  sr_free(&jb->alloc, s->data);
  jb->held--;
  jb->held_bytes -= s->len;
  *s = (sr_jb_slot){ 0 };
}

static bool holds(const sr_jb *jb, int64_t ext)
{
  if (!jb->held)
    return false;
  const sr_jb_slot *s = slot_of(jb, ext);
  return s->used && s->ext_seq == ext;
}

/* Release the kept packets that follow in sequence. */
static unsigned drain(sr_jb *jb, sr_jb_release_fn fn, void *user)
{
  unsigned n = 0;
  for (; holds(jb, jb->next); n++)
    release_slot(jb, slot_of(jb, jb->next), fn, user);
  return n;
}

/* Release every kept packet up to `upto`, declaring the holes lost, then
 * what follows in sequence. Kept packets lie within the window after
 * `next`, so the walk is at most n_slots long. */
static unsigned release_through(sr_jb *jb, int64_t upto, sr_jb_release_fn fn, void *user)
{
  unsigned n = 0;
  int64_t end = jb->next + (int64_t)jb->n_slots - 1;
  if (upto < end)
    end = upto;
  for (int64_t e = jb->next; e <= end && jb->held; e++)
    if (holds(jb, e)) {
      release_slot(jb, slot_of(jb, e), fn, user);
      n++;
    }
  if (upto >= jb->next)
    advance(jb, upto + 1);
  return n + drain(jb, fn, user);
}

/* Copy `p` into its slot. False when it cannot be kept. */
static bool keep(sr_jb *jb, const sr_rtp_packet *p, int64_t ext, uint64_t now_ns)
{
  if (p->payload_len > jb->max_payload || jb->held_bytes + p->payload_len > jb->max_bytes)
    return false;
  if (!jb->slots && !(jb->slots = sr_calloc(&jb->alloc, jb->n_slots, sizeof *jb->slots)))
    return false;
  sr_jb_slot *s = slot_of(jb, ext);
  if (s->used)
    return false; /* cannot happen inside the window; refuse rather than lose */
  uint8_t *data = sr_malloc(&jb->alloc, p->payload_len);
  if (!data)
    return false;
  if (p->payload_len)
    memcpy(data, p->payload, p->payload_len);
  *s = (sr_jb_slot){
    .used = true, .marker = p->marker, .pt = p->pt, .seq = p->seq, .ts = p->ts,
    .ssrc = p->ssrc, .len = (uint32_t)p->payload_len, .ext_seq = ext, .arrival_ns = now_ns,
    .data = data,
  };
  jb->held++;
  jb->held_bytes += p->payload_len;
  jb->stats.held++;
  return true;
}

static void deliver_now(sr_jb *jb, const sr_rtp_packet *p, int64_t ext, uint64_t now_ns,
                        sr_jb_release_fn fn, void *user)
{
  sr_jb_packet out = {
    .ext_seq = ext, .seq = p->seq, .ts = p->ts, .ssrc = p->ssrc, .pt = p->pt,
    .marker = p->marker, .payload = p->payload, .payload_len = p->payload_len,
    .arrival_ns = now_ns,
  };
  deliver(jb, &out, fn, user);
}

/* A new source or a restart: what is kept of the old one goes out, and
 * ordering starts again at the next packet. */
static unsigned restart(sr_jb *jb, unsigned jb_flag, sr_jb_release_fn fn, void *user)
{
  unsigned n = sr_jb_flush(jb, fn, user);
  jb->started = false;
  jb->has_last = false;
  jb->ptime_ts = 0;
  jb->pending |= jb_flag;
  return n;
}

/* A packet older than `next`: a copy of one released, or one whose hole
 * was already declared lost. */
static void count_old(sr_jb *jb, int64_t ext)
{
  uint64_t back = (uint64_t)(jb->next - 1 - ext);
  if (back < 64 && (jb->released_bits >> back) & 1)
    jb->stats.duplicates++;
  else
    jb->stats.late++;
  jb->changes++;
}

/* Place a packet at or after `next`: release it if it is next, keep it
 * if it fits, else declare the holes before it lost and release it. */
static unsigned place(sr_jb *jb, const sr_rtp_packet *p, int64_t ext, uint64_t now_ns,
                      sr_jb_release_fn fn, void *user)
{
  unsigned n = 0;
  if (ext >= jb->next + (int64_t)jb->n_slots) {
    jb->stats.forced++; /* faster than the window allows: holes go early */
    n += release_through(jb, ext - jb->n_slots, fn, user);
  }
  if (ext != jb->next && keep(jb, p, ext, now_ns))
    return n;
  if (ext != jb->next) {
    jb->stats.forced++;
    n += release_through(jb, ext - 1, fn, user);
  } else if (jb->held) {
    jb->stats.reordered++; /* it came after packets that follow it */
  }
  deliver_now(jb, p, ext, now_ns, fn, user);
  return n + 1 + drain(jb, fn, user);
}

unsigned sr_jb_push(sr_jb *jb, const sr_rtp_packet *p, int64_t ext_seq, unsigned seq_flags,
                    uint64_t now_ns, sr_jb_release_fn fn, void *user)
{
  unsigned n = 0;
  /* A source replaced before the stream's first packet is no
   * discontinuity: the stream simply starts with the new one. */
  if ((seq_flags & SR_SEQ_F_FIRST) && !jb->started)
    jb->pending |= SR_JB_F_FIRST;
  else if (seq_flags & (SR_SEQ_F_NEW_SSRC | SR_SEQ_F_RESTART))
    n += restart(jb, SR_JB_F_NEW_SOURCE, fn, user);
  if (!jb->started) {
    jb->started = true;
    jb->next = ext_seq;
    jb->released_bits = 0;
  }
  if (ext_seq < jb->next)
    count_old(jb, ext_seq);
  else if (holds(jb, ext_seq)) {
    jb->stats.duplicates++;
    jb->changes++;
  }
  else
    n += place(jb, p, ext_seq, now_ns, fn, user);
  return n;
}

bool sr_jb_next_deadline(const sr_jb *jb, uint64_t *deadline)
{
  if (!jb->held)
    return false;
  uint64_t first = UINT64_MAX;
  for (uint32_t i = 0; i < jb->n_slots; i++)
    if (jb->slots[i].used && jb->slots[i].arrival_ns < first)
      first = jb->slots[i].arrival_ns;
  *deadline = first > UINT64_MAX - jb->depth_ns ? UINT64_MAX : first + jb->depth_ns;
  return true;
}

unsigned sr_jb_expire(sr_jb *jb, uint64_t now_ns, sr_jb_release_fn fn, void *user)
{
  bool due = false;
  int64_t upto = 0;
  for (uint32_t i = 0; jb->held && i < jb->n_slots; i++) {
    const sr_jb_slot *s = &jb->slots[i];
    if (s->used && now_ns - s->arrival_ns >= jb->depth_ns && now_ns >= s->arrival_ns &&
        (!due || s->ext_seq > upto)) {
      due = true;
      upto = s->ext_seq;
    }
  }
  if (!due)
    return 0;
  jb->stats.expired++;
  return release_through(jb, upto, fn, user);
}

unsigned sr_jb_flush(sr_jb *jb, sr_jb_release_fn fn, void *user)
{
  int64_t upto = jb->next - 1;
  for (uint32_t i = 0; jb->held && i < jb->n_slots; i++)
    if (jb->slots[i].used && jb->slots[i].ext_seq > upto)
      upto = jb->slots[i].ext_seq;
  return jb->held ? release_through(jb, upto, fn, user) : 0;
}
