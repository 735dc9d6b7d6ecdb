/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A SIP message from the SRS, parsed by hand for the few headers the
 * client needs: the start line, headers by name (compact forms and folded
 * lines understood), their tag and URI, CSeq, the body and the SDP in it
 * (a plain application/sdp body or a multipart/mixed part). */
#ifndef CL_SIPMSG_H
#define CL_SIPMSG_H

#include <stddef.h>
#include <stdint.h>

#define CL_SIP_MAX 65536
#define CL_SIP_MAX_HDRS 96

typedef struct cl_sip_header {
  const char *name;  /* as written (compact forms are mapped when looked up) */
  const char *value; /* trimmed, NUL-terminated */
} cl_sip_header;

typedef struct cl_sip_msg {
  int is_request;
  char method[32]; /* requests */
  char ruri[512];
  int status;      /* responses */
  cl_sip_header hdrs[CL_SIP_MAX_HDRS];
  size_t n_hdrs;
  const char *body;
  size_t body_len;
  uint32_t cseq;
  char cseq_method[32];
  char buf[CL_SIP_MAX + 1]; /* the message's copy the pointers point into */
} cl_sip_msg;

/* 0, or -1 on a message that is not well-formed enough to answer. */
int cl_sip_parse(cl_sip_msg *m, const char *data, size_t len);
/* The n-th (from 0) header of that name (long or compact), or NULL. */
const char *cl_sip_hdr(const cl_sip_msg *m, const char *name, size_t n);
/* A header parameter (tag, branch): after the URI's closing '>' when the
 * value has one. 1 found (value copied, possibly empty), 0 not there. */
int cl_sip_param(const char *value, const char *param, char *out, size_t cap);
/* The URI of a name-addr or addr-spec; 0 or -1. */
int cl_sip_uri(const char *value, char *out, size_t cap);
/* The SDP in the body: a plain application/sdp body or the first such part
 * of a multipart body. NULL when there is none. */
const char *cl_sip_sdp(const cl_sip_msg *m, size_t *len);
/* Whether the body is of this type (parameters ignored). */
int cl_sip_body_is(const cl_sip_msg *m, const char *type);

#endif
