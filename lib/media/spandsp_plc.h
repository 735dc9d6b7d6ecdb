/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spandsp's PLC (G.711 and G.726 concealment) with its one flaw worked
 * around: see spandsp_plc.c. */
#ifndef SR_MEDIA_SPANDSP_PLC_H
#define SR_MEDIA_SPANDSP_PLC_H

#include "spandsp_inc.h"

/* plc_fillin(s, amp, len), without spandsp 0.0.6's overlapping memcpy. */
void sr_spandsp_plc_fillin(plc_state_t *s, int16_t *amp, int len);

#endif
