/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading an sr_sdp_config: is it usable, which codecs it accepts. */
#ifndef SR_SDP_CONFIG_H
#define SR_SDP_CONFIG_H

#include <stddef.h>

#include "../common/span.h"
#include "answer.h"

/* A port source, an address and a user that are SDP tokens, and a current
 * stream list when there are current streams. */
int sr_sdp_config_ok(const sr_sdp_config *cfg);

/* The i-th accepted encoding name, in the configuration's order (the
 * default codecs when it names none); NULL past the last, and past 64. */
const char *sr_sdp_accepted_codec(const sr_sdp_config *cfg, size_t i);

/* Rank of an encoding name among the accepted ones, or -1. telephone-event
 * is never a codec, even when the configuration names it. */
int sr_sdp_codec_rank(const sr_sdp_config *cfg, sr_span enc);

#endif
