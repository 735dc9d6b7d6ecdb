/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The messages siprec-client writes: its requests in and out of the dialog,
 * its responses to the SRS's requests, its SDP offers and answers. */
#ifndef CL_CALL_BUILD_H
#define CL_CALL_BUILD_H

#include <stddef.h>

#include "call.h"
#include "sdp.h"
#include "sipmsg.h"

/* A request into a new allocation (*len set): method with a new branch (or
 * the given one) and CSeq cseq, extra header lines, a body of
 * content_type. NULL when out of memory. */
char *cl_build_request(cl_call *c, const char *method, uint32_t cseq, const char *branch,
                       const char *extra, const char *content_type, const char *body,
                       size_t body_len, size_t *len);
/* The dialog's route set from the 2xx to our INVITE: its Record-Route
 * entries (several headers, or comma-separated in one) in reverse order,
 * into c->route_set. 0, or -1 when they do not fit (route_set left empty). */
int cl_build_route_set(cl_call *c, const cl_sip_msg *resp);
/* The INVITE's multipart body (SDP offer and metadata) and its type. */
char *cl_build_invite_body(cl_call *c, const char *sdp, size_t sdp_len, char *type,
                           size_t type_cap, size_t *len);
/* A response to req into a new allocation; the body is SDP when given. */
char *cl_build_response(cl_call *c, const cl_sip_msg *req, int status, const char *reason,
                        const char *extra, const char *sdp, size_t sdp_len, size_t *len);

/* Our offer: every stream, sendonly or inactive (paused). Its length or -1. */
int cl_build_offer(cl_call *c, int paused, char *out, size_t cap);
/* Our answer to the SRS's offer, the streams moved to what it says. Its
 * length, or -1 when the offer cannot be answered (488). */
int cl_build_answer(cl_call *c, const cl_sdp *offer, char *out, size_t cap);

#endif
