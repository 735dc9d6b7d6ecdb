/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which codecs this build of the library decodes, so the SDP layer never
 * accepts a stream that would then be silent. (RFC 3551's static payload
 * types, for a payload type offered without rtpmap, are lib/common's
 * static_pt.h.) */
#ifndef SR_MEDIA_CODECS_BUILT_H
#define SR_MEDIA_CODECS_BUILT_H

#include <stdbool.h>

/* True when `name` (an rtpmap encoding name, case-insensitive) is decoded
 * by this build: PCMU, PCMA, G722, G726-16/24/32/40 and their AAL2-
 * forms, L16 and CN always (spandsp is required), opus with the meson
 * feature `opus`, G729 with `bcg729`. telephone-event counts too: its
 * events are read (dtmf.h), although they are no audio. */
bool sr_media_codec_built(const char *name);

#endif
