/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recording metadata (RFC 7865) the client sends: one recording
 * session, a participant per distinct AOR with its name, a stream per
 * label, and which participant sends (and receives) which stream. */
#ifndef CL_METADATA_H
#define CL_METADATA_H

#include <stddef.h>

#include "util.h"

typedef struct cl_md_stream {
  const char *label, *name, *aor;
} cl_md_stream;

/* The XML into out; its length, or -1 when it does not fit or a value is
 * missing. Identifiers come from rng; the times from the wall clock. */
int cl_metadata_write(const cl_md_stream *s, size_t n, cl_rng *rng, char *out, size_t cap);

#endif
