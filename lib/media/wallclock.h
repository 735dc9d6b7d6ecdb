/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wall-clock time of media: the last sender report per SSRC pairs an NTP
 * time with an RTP timestamp, and any other RTP timestamp of that source is
 * placed from there at its clock rate. Plain data, so a stream's state can
 * be written out and read back as bytes. */
#ifndef SR_MEDIA_WALLCLOCK_H
#define SR_MEDIA_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "rtcp.h"

/* A stream has one sender, two around an SSRC change; a few more cover a
 * mixer's contributing sources without letting a hostile peer grow it. */
#define SR_WALLCLOCK_SLOTS 4

/* The reference a sender report gives. */
typedef struct sr_sr_ref {
  bool valid;
  uint32_t ssrc;
  uint32_t rtp_ts;
  uint64_t ntp;         /* NTP 64-bit fixed point, seconds since 1900 */
  uint64_t received_ns; /* the caller's clock when the report arrived */
} sr_sr_ref;

typedef struct sr_wallclock {
  sr_sr_ref ref[SR_WALLCLOCK_SLOTS];
} sr_wallclock;

/* Keep `sr` as its SSRC's reference, replacing that SSRC's older one or,
 * when the table is full, the one received longest ago. */
void sr_wallclock_note(sr_wallclock *w, const sr_rtcp_sr *sr, uint64_t now_ns);

/* Forget an SSRC (it said BYE). */
void sr_wallclock_forget(sr_wallclock *w, uint32_t ssrc);

/* The reference of `ssrc`, or NULL when no sender report named it. */
const sr_sr_ref *sr_wallclock_find(const sr_wallclock *w, uint32_t ssrc);

/* The NTP time of RTP timestamp `rtp_ts` of the reference's source with a
 * clock of `clock_rate` Hz (not 0). Timestamps up to 2^31 ticks before or
 * after the reference are placed on either side of it. */
uint64_t sr_rtp_to_ntp(const sr_sr_ref *ref, uint32_t rtp_ts, uint32_t clock_rate);

/* An NTP 64-bit time as nanoseconds since the Unix epoch. NTP seconds with
 * the top bit clear are read as era 1 (after February 2036), as RFC 4330
 * section 3 suggests. */
int64_t sr_ntp_to_unix_ns(uint64_t ntp);

/* Both steps: the Unix time in ns of `rtp_ts` of `ssrc`. 0, SIPREC_ENOTFOUND
 * (no sender report for it yet) or SIPREC_EINVAL (clock_rate 0). */
int sr_wallclock_unix_ns(const sr_wallclock *w, uint32_t ssrc, uint32_t rtp_ts,
                         uint32_t clock_rate, int64_t *out);

#endif
