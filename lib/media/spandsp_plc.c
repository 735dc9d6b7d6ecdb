/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spandsp 0.0.6 (Debian 12's) starts a concealed gap by rotating its
 * history ring so the oldest sample comes first (normalise_history), with
 * a memcpy whose source and destination overlap whenever the ring's write
 * position is in its first half: undefined behaviour, which glibc happens
 * to survive and AddressSanitizer rightly stops on. The rotation is done
 * here first, without overlap, and with the write position then 0
 * spandsp's own rotation does nothing. The result is what spandsp means
 * to compute, sample for sample.
 *
 * A second flaw: at a gap's start plc_fillin cross-fades a quarter pitch
 * period (up to PLC_PITCH_OVERLAP_MAX samples) into `amp` whatever `len`
 * is, writing past a shorter buffer; a short fill goes through a buffer of
 * that size. */
#include "spandsp_plc.h"

#include <string.h>

static void rotate_history(plc_state_t *s)
{
  int16_t tmp[PLC_HISTORY_LEN];
  int p = s->buf_ptr;
  memcpy(tmp, s->history + p, sizeof(int16_t) * (size_t)(PLC_HISTORY_LEN - p));
  memcpy(tmp + PLC_HISTORY_LEN - p, s->history, sizeof(int16_t) * (size_t)p);
  memcpy(s->history, tmp, sizeof tmp);
  s->buf_ptr = 0;
}

void sr_spandsp_plc_fillin(plc_state_t *s, int16_t *amp, int len)
{
  /* spandsp rotates only at a gap's start (no samples missing yet). */
  if (s->missing_samples == 0 && s->buf_ptr > 0 && s->buf_ptr < PLC_HISTORY_LEN)
    rotate_history(s);
  if (len > 0 && len < PLC_PITCH_OVERLAP_MAX) {
    int16_t tmp[PLC_PITCH_OVERLAP_MAX];
    plc_fillin(s, tmp, len);
    memcpy(amp, tmp, sizeof(int16_t) * (size_t)len);
    return;
  }
  plc_fillin(s, amp, len);
}
