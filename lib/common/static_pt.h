/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 3551's static audio payload types: what an m= line means by a payload
 * type it names without a=rtpmap. The one copy, read by the SDP layer (the
 * offered format's name and clock) and by the media layer (a decoder for a
 * payload type its configuration gave no encoding); lib/sdp and lib/media
 * may not call each other, so it lives here. */
#ifndef SR_COMMON_STATIC_PT_H
#define SR_COMMON_STATIC_PT_H

#include <stdint.h>

#include "span.h"

typedef struct sr_static_pt {
  const char *name; /* encoding name as a=rtpmap spells it */
  uint32_t rate;    /* RTP clock rate (G722's is 8000 by RFC 3551's mistake) */
  uint8_t channels;
  uint8_t pt;
} sr_static_pt;

/* The format RFC 3551 gives payload type `pt`, among those this library
 * names (0, 2, 3, 4, 8, 9, 10, 11, 13, 18), or NULL. PT 2 is G726-32 with
 * RFC 3551's packing, as Metaswitch offers it without rtpmap (RFC 3551
 * retired the number; Sofia-SIP still calls it G721). */
const sr_static_pt *sr_static_pt_get(unsigned pt);

/* The lowest static payload type whose encoding is `name` (ASCII
 * case-insensitive), or NULL: the number an offer of the SRS's own gives a
 * static codec. */
const sr_static_pt *sr_static_pt_by_name(sr_span name);

#endif
