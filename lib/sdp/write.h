/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing SDP: the session lines both the answer and the delayed offer
 * begin with, an answer's media section, and rtpmap lines. */
#ifndef SR_SDP_WRITE_H
#define SR_SDP_WRITE_H

#include <sofia-sip/sdp.h>

#include "../common/span.h"
#include "../common/strbuf.h"
#include "answer.h"

/* v=, o=, s=, c= and t=: the SRS's session description. */
void sr_sdp_write_session(sr_strbuf *b, const sr_sdp_config *cfg);

/* "a=rtpmap:PT ENC/RATE[/CHANNELS]" (channels only when more than one). */
void sr_sdp_write_rtpmap(sr_strbuf *b, int pt, sr_span enc, unsigned long rate, unsigned channels);

/* The answer's media section for offered m-line `m`, decided as `st`. */
void sr_sdp_write_answer_media(sr_strbuf *b, const sdp_media_t *m, const sr_sdp_stream *st);

/* The text's length, or SIPREC_ETOOBIG (out = "") when it did not fit. */
int sr_sdp_write_end(sr_strbuf *b);

#endif
