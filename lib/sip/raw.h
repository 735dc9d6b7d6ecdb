/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What Sofia-SIP forgives or cannot say, from a look at a message's raw
 * bytes: the start line's exact form, headers that may appear once, a
 * Content-Length that is not a number, NUL bytes, values Sofia-SIP cannot
 * read (kept, so that an answer can still echo them). */
#ifndef SR_SIP_RAW_H
#define SR_SIP_RAW_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

#include "../common/span.h"

enum {
  RAW_CALL_ID,
  RAW_CSEQ,
  RAW_FROM,
  RAW_TO,
  RAW_MAX_FORWARDS,
  RAW_CONTENT_LENGTH,
  RAW_CONTENT_TYPE,
  RAW_SINGLE, /* the headers above may appear once (RFC 3261 7.3.1) */
  RAW_VIA = RAW_SINGLE,
  RAW_N
};

typedef struct sr_raw_name {
  const char *name;
  char compact; /* the compact form's letter, 0 when there is none */
  unsigned char len; /* of name */
} sr_raw_name;

/* The header names above, long and compact forms. */
extern const sr_raw_name sr_raw_names[RAW_N];

/* Raw Via values kept for an answer when Sofia-SIP cannot read them. */
#define RAW_MAX_VIAS 16

typedef struct raw_view {
  sr_span start_line;      /* without its line break */
  const char *rest;        /* the first header line */
  const char *headers_end; /* the empty line, or the end of the buffer when there is none */
  int has_end;             /* the empty line ending the header section was found */
  size_t body_len;         /* bytes after it */
  unsigned count[RAW_N];
  int cl_bad;              /* a Content-Length value that is not 1*DIGIT */
  size_t cl;               /* the last Content-Length value, saturated */
  int nul;                 /* a NUL in the header section outside a quoted-pair */
  int nul_any;             /* any NUL there (Sofia-SIP stops reading at one) */
  sr_span via[RAW_MAX_VIAS];
  unsigned n_via;
  sr_span first[RAW_N];    /* the first value of each */
} raw_view;

/* Split the message into start line, header lines (folded ones joined) and
 * body; count the headers that matter and check what Sofia-SIP lets pass. */
void sr_raw_scan(const char *buf, size_t len, raw_view *v);

/* CSeq = 1*DIGIT LWS Method (RFC 3261 20.16), the number within 32 bits;
 * 1 with the parts when the value is well formed. */
int sr_raw_cseq_read(sr_span value, uint32_t *seq, sr_span *method);

/* The Request-Line's exact form (RFC 3261 25.1): fills the method and URI
 * spans; 0, or the status the request deserves (400, 505, 416) with *why. */
int sr_raw_request_line_check(sr_span line, sr_span *method, sr_span *uri, const char **why);

#endif
