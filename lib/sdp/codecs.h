/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The codecs the library knows by name: the one table that the answer, the
 * delayed offer, the reading of an SRC's answer and the handler's default
 * configuration all read. */
#ifndef SR_SDP_CODECS_H
#define SR_SDP_CODECS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/span.h"

enum {
  SR_CODEC_STATIC_PT = 1, /* `pt` is RFC 3551's static payload type: an m= line may
                           * name the codec by it alone, without a=rtpmap */
  SR_CODEC_OFFERED = 2,   /* the SRS puts it in its own (delayed) offers, and takes
                           * it from the SRC's answer to one */
  SR_CODEC_DEFAULT = 4,   /* accepted when the host names no codecs */
};

typedef struct sr_codec {
  const char *name; /* encoding name as rtpmap spells it */
  int pt;           /* the static payload type, or for a dynamic codec the one
                     * the SRS's own offer gives it */
  uint32_t rate;    /* RTP clock rate (G722's is 8000 by RFC 3551's mistake) */
  uint8_t channels; /* as the SRS's offer writes them in rtpmap */
  uint8_t flags;    /* SR_CODEC_* */
} sr_codec;

/* The codec of this name (ASCII case-insensitive), or NULL. */
const sr_codec *sr_codec_by_name(sr_span name);

/* The codec RFC 3551 gives static payload type `pt`, or NULL. */
const sr_codec *sr_codec_by_static_pt(unsigned pt);

/* The i-th codec, in the table's order (preference order for the defaults);
 * NULL past the end. */
const sr_codec *sr_codec_at(size_t i);

/* The name of the i-th default-accepted codec, in preference order; NULL
 * past the last. */
const char *sr_codec_default(size_t i);

#endif
