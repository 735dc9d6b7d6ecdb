/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading SDP text with Sofia-SIP's parser, safely and leniently. Sofia-SIP
 * types stay inside lib/sdp/: answer.h, the module's interface, shows none. */
#ifndef SR_SDP_PARSE_H
#define SR_SDP_PARSE_H

#include <stddef.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

typedef struct sr_sdp_parsed {
  su_home_t *home;
  sdp_parser_t *parser;
  sdp_session_t *sdp;
  size_t n_media; /* >= 1 once parsed */
} sr_sdp_parsed;

/* Parse with the leniency real SRCs need: no c= (OpenSIPS), no t=, leading
 * blank lines, a last line without CRLF, trailing NULs some stacks append.
 * Returns 0, or SIPREC_EINVAL (no SDP, a NUL inside, an unsafe m= line, a
 * parse error, no m= line), SIPREC_ETOOBIG or SIPREC_ENOMEM with *why; on
 * failure nothing is left to free. */
int sr_sdp_parse(const char *text, size_t len, sr_sdp_parsed *p, const char **why);

void sr_sdp_parsed_free(sr_sdp_parsed *p);

/* The SRC's answer to an offer of `n` m-lines parsed: 0 with *p (freed by
 * the caller), or SIPREC_EINVAL (no streams, more than `max`, unparsable,
 * or not exactly `n` m= lines) or SIPREC_ENOMEM, with *why set (why may be
 * NULL). */
int sr_sdp_parse_answer(const char *answer, size_t len, size_t n, size_t max, sr_sdp_parsed *p,
                        const char **why);

#endif
