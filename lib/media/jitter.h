/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A jitter buffer for recording, not playout: nothing is delayed to smooth
 * timing. A packet in sequence is released at once, without copying; one
 * that arrives ahead of a hole is kept until the hole fills, or until it
 * has waited the buffer's depth, or until the window of slots or the byte
 * budget runs out; then the hole is declared lost, with its length in
 * samples from the timestamps, and what was kept is released in order.
 *
 * Pure functions of (state, input, now): no clock is read, no thread is
 * started, no lock is taken (the caller holds the stream's). Time is the
 * caller's monotonic clock in ns. Memory is bounded by the configuration:
 * a window of slots (depth x packet rate) allocated on the first hole, and
 * at most max_bytes of payload held at once. */
#ifndef SR_MEDIA_JITTER_H
#define SR_MEDIA_JITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

#include "rtp.h"

#define SR_JB_DEFAULT_DEPTH_MS 200
#define SR_JB_DEFAULT_MAX_RATE 100 /* packets/s: 10 ms packets */
#define SR_JB_DEFAULT_MAX_BYTES 32768
#define SR_JB_MAX_SLOTS 4096

/* Zero fields take the defaults. */
typedef struct sr_jb_config {
  uint32_t clock_rate;  /* Hz; required */
  uint32_t depth_ms;    /* longest a packet waits for a hole to fill; 200 */
  uint32_t max_rate;    /* packets per second the window must hold; 100 */
  uint32_t max_payload; /* payload octets one kept packet may have; SR_RTP_MAX_PACKET */
  uint32_t max_bytes;   /* payload octets kept at once; 32768 */
  uint32_t ts_jump_ms;  /* timestamp jump threshold, as sr_seq's; 1000 */
} sr_jb_config;

/* Flags of a released packet. */
#define SR_JB_F_FIRST 0x01u      /* the stream's first packet */
#define SR_JB_F_NEW_SOURCE 0x02u /* a new SSRC or a sequence restart begins here */
#define SR_JB_F_TS_JUMP 0x04u    /* its timestamp jumps from the previous one's */
#define SR_JB_F_LOSS 0x08u       /* lost_packets > 0 */
#define SR_JB_DISCONTINUITY (SR_JB_F_NEW_SOURCE | SR_JB_F_TS_JUMP)

/* A released packet and what happened just before it. */
typedef struct sr_jb_packet {
  int64_t ext_seq;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  uint8_t pt;
  bool marker;
  const uint8_t *payload; /* valid during the callback only */
  size_t payload_len;
  uint64_t arrival_ns;
  unsigned flags;
  uint32_t lost_packets; /* packets missing right before this one */
  uint64_t lost_samples; /* the timestamp span they covered (0 across a jump) */
  int64_t ts_offset;     /* with SR_JB_F_TS_JUMP: how far the timestamp jumped */
} sr_jb_packet;

/* Receives each released packet, in sequence order. It must not call back
 * into the same buffer. */
typedef void (*sr_jb_release_fn)(void *user, const sr_jb_packet *pkt);

/* A kept packet. */
typedef struct sr_jb_slot {
  bool used;
  bool marker;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  uint32_t len;
  int64_t ext_seq;
  uint64_t arrival_ns;
  uint8_t *data;
} sr_jb_slot;

/* The counts every release writes are last: see sr_jb. */
typedef struct sr_jb_stats {
  uint64_t held, reordered, duplicates, late, expired, forced, discontinuities;
  uint64_t released, lost_packets, lost_samples;
} sr_jb_stats;

/* What a packet released in sequence reads or writes is at the end (from
 * the stats' last three on), in two cache lines at most: a busy server
 * has evicted a stream's state by its next packet, and the stream puts
 * its own per-packet fields right after. */
typedef struct sr_jb {
  siprec_allocator alloc;
  uint32_t max_payload, max_bytes;
  uint64_t depth_ns;
  sr_jb_slot *slots; /* n_slots, allocated at the first hole */
  size_t held_bytes;
  sr_jb_stats stats;
  uint32_t clock_rate, jump_ticks, n_slots;
  uint32_t ptime_ts; /* ticks between packets in sequence; 0: unknown */
  unsigned held;
  unsigned pending;  /* flags for the next release */
  uint32_t changes;  /* moves whenever lost_packets, duplicates or late do */
  bool started;
  bool has_last;
  int64_t next;      /* the ext_seq released next */
  uint64_t released_bits; /* bit i: next-1-i was released, so a copy is a duplicate */
  int64_t last_ext;
  uint32_t last_ts;
} sr_jb;

/* Initialise *jb (alloc NULL: libc). 0 or SIPREC_EINVAL (no clock rate, a
 * hook lacking a function). Allocates nothing yet. */
int sr_jb_init(sr_jb *jb, const sr_jb_config *cfg, const siprec_allocator *alloc);

/* Release what *jb holds (nothing is delivered). */
void sr_jb_free(sr_jb *jb);

/* Take packet `p` whose extended sequence number is `ext_seq`, with the
 * flags sr_seq gave it (SR_SEQ_F_FIRST, _NEW_SSRC and _RESTART count here:
 * what is kept of the old source is released first and ordering starts
 * again). Calls `fn` for each packet released now, in order; returns how
 * many. A packet that cannot be kept (window, byte budget, allocation) is
 * not dropped: the holes before it are declared lost early. Duplicates and
 * packets older than what was released are dropped and counted. */
unsigned sr_jb_push(sr_jb *jb, const sr_rtp_packet *p, int64_t ext_seq, unsigned seq_flags,
                    uint64_t now_ns, sr_jb_release_fn fn, void *user);

/* While a hole is open (packets kept behind it): true and *deadline the
 * time sr_jb_expire has something to do. False when nothing is kept, so the
 * host needs no timer for this stream. */
bool sr_jb_next_deadline(const sr_jb *jb, uint64_t *deadline);

/* Release every kept packet that has waited the depth by `now_ns`, and
 * whatever precedes it, declaring the holes lost. Returns how many. */
unsigned sr_jb_expire(sr_jb *jb, uint64_t now_ns, sr_jb_release_fn fn, void *user);

/* Release everything kept, holes declared lost (the stream ends). */
unsigned sr_jb_flush(sr_jb *jb, sr_jb_release_fn fn, void *user);

#endif
