/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-source sequence state after RFC 3550 appendix A.1 (extended highest
 * sequence number, probation, restart after a big jump), A.8's interarrival
 * jitter, and what A.1 leaves to the application: an SSRC change and a
 * timestamp that jumps (a transfer, an SBC failover) are reported as a
 * discontinuity so that nobody turns them into hours of silence. Plain data:
 * a stream's state is written out and read back as bytes. */
#ifndef SR_MEDIA_SEQ_H
#define SR_MEDIA_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "rtp.h"

#define SR_SEQ_MAX_DROPOUT 3000
#define SR_SEQ_MAX_MISORDER 100
#define SR_SEQ_MIN_SEQUENTIAL 2

/* Zero fields take the defaults. */
typedef struct sr_seq_config {
  uint32_t clock_rate;     /* Hz; required */
  uint32_t min_sequential; /* packets in sequence that confirm a source; 2 */
  uint32_t ts_jump_ms;     /* timestamp off its expected value by more: a jump; 1000 */
  uint32_t stale_ssrc_ms;  /* the previous SSRC's stragglers dropped this long; 2000 */
} sr_seq_config;

typedef enum sr_seq_verdict {
  SR_SEQ_ACCEPT = 0, /* deliver it (in order, or reordered within MAX_MISORDER) */
  SR_SEQ_PROBATION,  /* its source is not confirmed yet: not delivered */
  SR_SEQ_BAD,        /* a jump beyond MAX_DROPOUT (or far back): dropped, and
                        remembered: if the next packet follows it, the sender
                        restarted its sequence */
  SR_SEQ_STALE,      /* the previous SSRC, shortly after a change: dropped */
} sr_seq_verdict;

/* Flags of an accepted packet. */
#define SR_SEQ_F_FIRST 0x01u     /* the stream's first accepted packet */
#define SR_SEQ_F_NEW_SSRC 0x02u  /* the first accepted packet of a new SSRC */
#define SR_SEQ_F_RESTART 0x04u   /* the sequence restarted after a big jump */
#define SR_SEQ_F_TS_JUMP 0x08u   /* its timestamp is off by ts_offset ticks */
#define SR_SEQ_F_REORDERED 0x10u /* older than the highest accepted */
#define SR_SEQ_DISCONTINUITY (SR_SEQ_F_NEW_SSRC | SR_SEQ_F_RESTART | SR_SEQ_F_TS_JUMP)

typedef struct sr_seq_result {
  sr_seq_verdict verdict;
  unsigned flags;
  /* The packet's sequence number extended with the wrap count of its
   * source; it restarts with a new source or a restart (flags say when). */
  int64_t ext_seq;
  /* With SR_SEQ_F_TS_JUMP: timestamp minus what the sequence implied. */
  int64_t ts_offset;
} sr_seq_result;

typedef struct sr_seq {
  /* What every packet of a confirmed source reads or writes comes first,
   * in one cache line (a busy server has evicted a stream's state by its
   * next packet): the current source (A.1's source struct), the timestamp
   * reference, A.8's jitter. */
  bool active;
  bool has_transit;
  uint16_t max_seq;
  uint32_t ssrc;
  uint32_t probation;
  uint32_t cycles;   /* shifted count of wraps, as in A.1 */
  uint32_t ref_ts;   /* timestamp of the packet at max_seq */
  uint32_t ptime_ts; /* ticks per packet seen last in sequence; 0: unknown */
  uint32_t clock_rate;
  uint32_t jump_ticks;
  unsigned pending; /* flags for the source's first accepted packet */
  uint32_t transit;
  uint32_t jitter; /* A.8's estimate, times 16 */
  uint64_t received;
  /* Configuration, resolved, and what only a jump or a new source reads. */
  uint32_t min_sequential;
  uint32_t base_seq;
  uint32_t bad_seq;
  uint64_t stale_ns;
  /* The SSRC before the last change, whose stragglers are dropped. */
  bool has_prev;
  uint32_t prev_ssrc;
  uint64_t switch_ns;
  /* Stream totals across sources. */
  uint64_t ssrc_changes, restarts, ts_jumps, bad, stale, probation_drops;
} sr_seq;

/* Initialise *s. 0, or SIPREC_EINVAL (no clock rate). */
int sr_seq_init(sr_seq *s, const sr_seq_config *cfg);

/* Account for packet `p` arriving at `now_ns` (the caller's monotonic
 * clock); *res says what to do with it. */
void sr_seq_update(sr_seq *s, const sr_rtp_packet *p, uint64_t now_ns, sr_seq_result *res);

/* The current source's A.1 figures: expected (extended max - base + 1),
 * received, lost (expected - received: duplicates can make it negative),
 * and A.8's interarrival jitter in timestamp units. */
uint64_t sr_seq_expected(const sr_seq *s);
int64_t sr_seq_lost(const sr_seq *s);
uint32_t sr_seq_jitter(const sr_seq *s);

/* Whether a packet `dseq` sequence numbers after a reference, whose
 * timestamp is `dts` ticks after the reference's, is a timestamp jump: its
 * timestamp is more than `jump_ticks` off what `dseq` packets of
 * `ptime_ts` ticks (20 ms at `clock_rate` when 0) imply. *off gets the
 * difference. Shared with the jitter buffer, which asks in release order. */
bool sr_ts_jump(int64_t dseq, int32_t dts, uint32_t ptime_ts, uint32_t clock_rate,
                uint32_t jump_ticks, int64_t *off);

#endif
