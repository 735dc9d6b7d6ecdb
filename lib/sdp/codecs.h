/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The codecs the SRS offers in its own (delayed) offers, takes from the
 * SRC's answer to one, and accepts when the host names none: the one list
 * that the answer, the delayed offer, the reading of an SRC's answer and
 * the default configuration read. RFC 3551's static payload types, for a
 * format offered without rtpmap, are lib/common's (static_pt.h). */
#ifndef SR_SDP_CODECS_H
#define SR_SDP_CODECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/span.h"

typedef struct sr_codec {
  const char *name; /* encoding name as rtpmap spells it */
  int pt;           /* the payload type the SRS's offer gives it: RFC 3551's
                     * static one, or a dynamic one */
  uint32_t rate;    /* RTP clock rate */
  uint8_t channels; /* as the SRS's offer writes them in rtpmap */
} sr_codec;

/* The offered codec of this name (ASCII case-insensitive) into *out;
 * false when the SRS does not offer it. */
bool sr_codec_offered(sr_span name, sr_codec *out);

/* The name of the i-th offered codec, in preference order (also the
 * default accepted set); NULL past the last. */
const char *sr_codec_default(size_t i);

#endif
