/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sender-report references and the RTP -> NTP -> Unix time arithmetic. */
#include "wallclock.h"

#include <siprec/common.h>

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
#define NTP_UNIX_OFFSET 2208988800ULL

void sr_wallclock_note(sr_wallclock *w, const sr_rtcp_sr *sr, uint64_t now_ns)
{
  sr_sr_ref *slot = NULL;
  for (unsigned i = 0; i < SR_WALLCLOCK_SLOTS && !slot; i++)
    if (w->ref[i].valid && w->ref[i].ssrc == sr->ssrc)
      slot = &w->ref[i];
  for (unsigned i = 0; i < SR_WALLCLOCK_SLOTS && !slot; i++)
    if (!w->ref[i].valid)
      slot = &w->ref[i];
  if (!slot) {
    slot = &w->ref[0];
    for (unsigned i = 1; i < SR_WALLCLOCK_SLOTS; i++)
      if (w->ref[i].received_ns < slot->received_ns)
        slot = &w->ref[i];
  }
  *slot = (sr_sr_ref){ true, sr->ssrc, sr->rtp_ts, sr->ntp, now_ns };
}

void sr_wallclock_forget(sr_wallclock *w, uint32_t ssrc)
{
  for (unsigned i = 0; i < SR_WALLCLOCK_SLOTS; i++)
    if (w->ref[i].valid && w->ref[i].ssrc == ssrc)
      w->ref[i] = (sr_sr_ref){ 0 };
}

const sr_sr_ref *sr_wallclock_find(const sr_wallclock *w, uint32_t ssrc)
{
  for (unsigned i = 0; i < SR_WALLCLOCK_SLOTS; i++)
    if (w->ref[i].valid && w->ref[i].ssrc == ssrc)
      return &w->ref[i];
  return NULL;
}

uint64_t sr_rtp_to_ntp(const sr_sr_ref *ref, uint32_t rtp_ts, uint32_t clock_rate)
{
  /* The signed tick difference fits 31 bits, so shifting it into NTP's
   * 32-bit fraction stays within int64. Division truncates toward zero,
   * i.e. the result is within one NTP tick (233 ps). */
  int64_t ticks = (int32_t)(rtp_ts - ref->rtp_ts);
  int64_t delta = (ticks * ((int64_t)1 << 32)) / (int64_t)clock_rate;
  return ref->ntp + (uint64_t)delta;
}

int64_t sr_ntp_to_unix_ns(uint64_t ntp)
{
  uint64_t secs = ntp >> 32;
  if (!(secs & 0x80000000u))
    secs += (uint64_t)1 << 32; /* era 1 */
  uint64_t frac_ns = ((ntp & 0xffffffffu) * 1000000000ULL) >> 32;
  return ((int64_t)secs - (int64_t)NTP_UNIX_OFFSET) * 1000000000LL + (int64_t)frac_ns;
}

int sr_wallclock_unix_ns(const sr_wallclock *w, uint32_t ssrc, uint32_t rtp_ts,
                         uint32_t clock_rate, int64_t *out)
{
  if (!w || !out || clock_rate == 0)
    return SIPREC_EINVAL;
  const sr_sr_ref *ref = sr_wallclock_find(w, ssrc);
  if (!ref)
    return SIPREC_ENOTFOUND;
  *out = sr_ntp_to_unix_ns(sr_rtp_to_ntp(ref, rtp_ts, clock_rate));
  return 0;
}
