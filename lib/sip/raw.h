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

/* The one header scanner: walks a header section field by field, a field
 * being a line and the continuation lines (starting with SP or HT) after
 * it. Whoever reads raw headers (the scan above, stream framing, the
 * Contact fallback) reads them through it, so that all agree on where a
 * field and the header section end. */
typedef struct sr_raw_fields {
  const char *line;  /* the next line to read */
  const char *end;
  const char *blank; /* the empty line ending the section, once found; else NULL */
  const char *body;  /* the byte after that empty line */
} sr_raw_fields;

/* Start at `first`, the first header line (the one after the start line). */
void sr_raw_fields_start(sr_raw_fields *f, const char *first, const char *end);

/* The next field's name and value, LWS trimmed (a value may keep inner line
 * breaks of folding); lines without a colon are skipped. 0 at the empty
 * line (f->blank and f->body then set) or at the end of the buffer. */
int sr_raw_fields_next(sr_raw_fields *f, sr_span *name, sr_span *value);

/* Header `name` is `r`, in its long or compact form (case-insensitive). */
int sr_raw_name_is(sr_span name, const sr_raw_name *r);

/* A Content-Length value: 1*DIGIT, saturated at SIZE_MAX. 0, or -1 when it
 * is not a number (*out then holds the digits read before the fault). */
int sr_raw_content_length(sr_span value, size_t *out);

/* CSeq = 1*DIGIT LWS Method (RFC 3261 20.16), the number within 32 bits;
 * 1 with the parts when the value is well formed. */
int sr_raw_cseq_read(sr_span value, uint32_t *seq, sr_span *method);

/* The Request-Line's exact form (RFC 3261 25.1): fills the method and URI
 * spans; 0, or the status the request deserves (400, 505, 416) with *why. */
int sr_raw_request_line_check(sr_span line, sr_span *method, sr_span *uri, const char **why);

#endif
