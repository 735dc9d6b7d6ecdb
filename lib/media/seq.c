/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 3550 A.1 and A.8, with SSRC changes and timestamp jumps on top. */
#include "seq.h"

#include <siprec/common.h>

#define SEQ_MOD 65536u

int sr_seq_init(sr_seq *s, const sr_seq_config *cfg)
{
  if (!s || !cfg || cfg->clock_rate == 0)
    return SIPREC_EINVAL;
  *s = (sr_seq){ 0 };
  s->clock_rate = cfg->clock_rate;
  s->min_sequential = cfg->min_sequential ? cfg->min_sequential : SR_SEQ_MIN_SEQUENTIAL;
  uint64_t jump_ms = cfg->ts_jump_ms ? cfg->ts_jump_ms : 1000;
  uint64_t ticks = jump_ms * cfg->clock_rate / 1000;
  s->jump_ticks = ticks > INT32_MAX ? INT32_MAX : (uint32_t)ticks;
  s->stale_ns = (uint64_t)(cfg->stale_ssrc_ms ? cfg->stale_ssrc_ms : 2000) * 1000000u;
  return 0;
}

/* A.1's init_seq: the source's counts start at `seq`. */
static void init_seq(sr_seq *s, uint16_t seq, uint32_t ts)
{
  s->base_seq = seq;
  s->max_seq = seq;
  s->bad_seq = SEQ_MOD + 1; /* so seq == bad_seq is false */
  s->cycles = 0;
  s->received = 0;
  s->ref_ts = ts;
  s->has_transit = false;
}

/* A.1's source creation: probation starts, nothing is counted yet. */
static void new_source(sr_seq *s, const sr_rtp_packet *p, unsigned flags)
{
  init_seq(s, p->seq, p->ts);
  s->active = true;
  s->ssrc = p->ssrc;
  s->max_seq = (uint16_t)(p->seq - 1);
  s->probation = s->min_sequential;
  s->pending |= flags;
  s->ptime_ts = 0;
  s->jitter = 0;
}

/* A different SSRC: a new source, or a straggler of the one just replaced.
 * Returns false for a straggler. */
static bool switch_ssrc(sr_seq *s, const sr_rtp_packet *p, uint64_t now_ns)
{
  if (s->has_prev && p->ssrc == s->prev_ssrc && now_ns - s->switch_ns < s->stale_ns)
    return false;
  s->has_prev = true;
  s->prev_ssrc = s->ssrc;
  s->switch_ns = now_ns;
  s->ssrc_changes++;
  /* A source never confirmed hands its FIRST on. */
  new_source(s, p, SR_SEQ_F_NEW_SSRC);
  return true;
}

/* A.1's probation: true once MIN_SEQUENTIAL packets came in sequence. */
static bool probation_step(sr_seq *s, const sr_rtp_packet *p)
{
  if (p->seq == (uint16_t)(s->max_seq + 1)) {
    s->probation--;
    s->max_seq = p->seq;
    if (s->probation == 0) {
      init_seq(s, p->seq, p->ts);
      return true;
    }
  } else {
    s->probation = s->min_sequential - 1;
    s->max_seq = p->seq;
  }
  return false;
}

/* A.1's update for a confirmed source. Returns the verdict; *delta gets
 * the packet's distance from the previous highest, *fresh whether counts
 * restarted (no reference to compare the timestamp with). */
static sr_seq_verdict sequence_step(sr_seq *s, const sr_rtp_packet *p, int64_t *delta,
                                    bool *fresh)
{
  uint16_t udelta = (uint16_t)(p->seq - s->max_seq);
  *delta = (int16_t)udelta;
  if (udelta < SR_SEQ_MAX_DROPOUT) {
    if (p->seq < s->max_seq)
      s->cycles += SEQ_MOD;
    s->max_seq = p->seq;
  } else if (udelta <= SEQ_MOD - SR_SEQ_MAX_MISORDER) {
    if (p->seq != s->bad_seq) {
      s->bad_seq = (p->seq + 1u) & (SEQ_MOD - 1);
      s->bad++;
      return SR_SEQ_BAD;
    }
    /* Two packets in sequence after a jump: the sender restarted. */
    init_seq(s, p->seq, p->ts);
    s->pending |= SR_SEQ_F_RESTART;
    s->restarts++;
    *fresh = true;
  }
  return SR_SEQ_ACCEPT;
}

bool sr_ts_jump(int64_t dseq, int32_t dts, uint32_t ptime_ts, uint32_t clock_rate,
                uint32_t jump_ticks, int64_t *off)
{
  int64_t per = ptime_ts ? ptime_ts : clock_rate / 50;
  *off = (int64_t)dts - dseq * per;
  return *off > (int64_t)jump_ticks || *off < -(int64_t)jump_ticks;
}

/* Compare the timestamp with the sequence; move the reference forward. */
static void check_ts(sr_seq *s, const sr_rtp_packet *p, int64_t dseq, sr_seq_result *res)
{
  int32_t dts = (int32_t)(p->ts - s->ref_ts);
  bool jump = sr_ts_jump(dseq, dts, s->ptime_ts, s->clock_rate, s->jump_ticks, &res->ts_offset);
  if (jump) {
    res->flags |= SR_SEQ_F_TS_JUMP;
    s->ts_jumps++;
    s->has_transit = false;
  } else {
    res->ts_offset = 0;
    if (dseq == 1 && dts > 0 && (uint32_t)dts <= s->clock_rate / 5)
      s->ptime_ts = (uint32_t)dts; /* at most 200 ms: a silence is no ptime */
  }
  if (dseq > 0)
    s->ref_ts = p->ts;
  if (dseq < 0)
    res->flags |= SR_SEQ_F_REORDERED;
}

/* The arrival time in timestamp units, modulo 2^32 (only differences count). */
static uint32_t arrival_ticks(uint64_t now_ns, uint32_t rate)
{
  uint64_t secs = now_ns / 1000000000u, frac = now_ns % 1000000000u;
  return (uint32_t)(secs * rate + frac * rate / 1000000000u);
}

/* A.8: J += (|D| - J) / 16, kept times 16. */
static void update_jitter(sr_seq *s, const sr_rtp_packet *p, uint64_t now_ns)
{
  uint32_t transit = arrival_ticks(now_ns, s->clock_rate) - p->ts;
  if (s->has_transit) {
    int32_t d = (int32_t)(transit - s->transit);
    uint32_t ad = d < 0 ? (uint32_t)(-(int64_t)d) : (uint32_t)d;
    s->jitter += ad - ((s->jitter + 8) >> 4);
  }
  s->transit = transit;
  s->has_transit = true;
}

/* The stream's first packet, the same source, or a new one: false for a
 * straggler of the source just replaced. */
static bool track_source(sr_seq *s, const sr_rtp_packet *p, uint64_t now_ns)
{
  if (!s->active) {
    new_source(s, p, SR_SEQ_F_FIRST);
    return true;
  }
  return p->ssrc == s->ssrc || switch_ssrc(s, p, now_ns);
}

void sr_seq_update(sr_seq *s, const sr_rtp_packet *p, uint64_t now_ns, sr_seq_result *res)
{
  *res = (sr_seq_result){ 0 };
  if (!track_source(s, p, now_ns)) {
    s->stale++;
    res->verdict = SR_SEQ_STALE;
    return;
  }
  int64_t prev_ext = (int64_t)s->cycles + s->max_seq, dseq = 0;
  bool fresh = false;
  if (s->probation) {
    if (!probation_step(s, p)) {
      s->probation_drops++;
      res->verdict = SR_SEQ_PROBATION;
      return;
    }
    fresh = true;
  } else if ((res->verdict = sequence_step(s, p, &dseq, &fresh)) != SR_SEQ_ACCEPT) {
    return;
  }
  s->received++;
  res->ext_seq = fresh ? (int64_t)s->max_seq : prev_ext + dseq;
  if (!fresh)
    check_ts(s, p, dseq, res);
  res->flags |= s->pending;
  s->pending = 0;
  if (res->flags & SR_SEQ_DISCONTINUITY)
    s->has_transit = false;
  update_jitter(s, p, now_ns);
}

uint64_t sr_seq_expected(const sr_seq *s)
{
  if (!s->active || s->probation)
    return 0;
  return (uint64_t)s->cycles + s->max_seq - s->base_seq + 1;
}

int64_t sr_seq_lost(const sr_seq *s)
{
  return (int64_t)sr_seq_expected(s) - (int64_t)s->received;
}

uint32_t sr_seq_jitter(const sr_seq *s)
{
  return s->jitter >> 4;
}
