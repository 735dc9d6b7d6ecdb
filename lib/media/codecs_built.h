/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which codecs this build of the library decodes, so the SDP layer never
 * accepts a stream that would then be silent, and RFC 3551's static
 * payload types, for a payload type offered without rtpmap. */
#ifndef SR_MEDIA_CODECS_BUILT_H
#define SR_MEDIA_CODECS_BUILT_H

#include <stdbool.h>
#include <stdint.h>

/* True when `name` (an rtpmap encoding name, case-insensitive) is decoded
 * by this build: PCMU, PCMA, G722, G726-16/24/32/40 and their AAL2-
 * forms, L16 and CN always (spandsp is required), opus with the meson
 * feature `opus`, G729 with `bcg729`. telephone-event counts too: its
 * events are read (dtmf.h), although they are no audio. */
bool sr_media_codec_built(const char *name);

typedef struct sr_media_static_pt {
  const char *name;
  uint32_t clock_rate;
  unsigned channels;
} sr_media_static_codec;

/* The encoding RFC 3551 gives payload type `pt`, among those this library
 * knows (0, 2, 8, 9, 10, 11, 13, 18), or NULL. PT 2 is G726-32 with RFC
 * 3551's packing, as Metaswitch offers it without rtpmap. */
const sr_media_static_codec *sr_media_static_pt(int pt);

#endif
