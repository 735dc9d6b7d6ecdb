/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The m= line check that guards Sofia-SIP's SDP parser. */
#ifndef SR_SDP_MLINE_H
#define SR_SDP_MLINE_H

#include <stddef.h>

/* 1 when every m= line of the text follows RFC 4566's grammar: "m=" media
 * SP port ["/" integer] SP proto 1*(SP fmt), media and fmt tokens, proto
 * token *("/" token); runs of spaces and trailing spaces are taken. Lines
 * are found as Sofia-SIP finds them: split at any CR or LF, leading spaces
 * and tabs skipped (also after "m="). */
int sr_sdp_mlines_safe(const char *text, size_t len);

#endif
