/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The answer to one offered m-line, before ports and keys. */
#ifndef SR_SDP_DECIDE_H
#define SR_SDP_DECIDE_H

#include <sofia-sip/sdp.h>

#include "answer.h"

/* Fill `st` from offered m-line `m`: what was offered, and whether and how
 * it is taken (codec, telephone-event, SRTP suite and the SRC's key,
 * direction); no port and no local key yet. Returns 0 (accepted or not),
 * or SIPREC_EINVAL with *why for a label that does not fit. */
int sr_sdp_decide(const sr_sdp_config *cfg, const sdp_session_t *s, const sdp_media_t *m,
                  sr_sdp_stream *st, const char **why);

#endif
