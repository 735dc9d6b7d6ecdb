/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata limits as plain data: the one piece of lib/metadata/ other
 * folders see (the handler keeps a copy in its config), so that they never
 * need the model's private header. */
#ifndef SR_METADATA_LIMITS_H
#define SR_METADATA_LIMITS_H

#include <stddef.h>

#include <siprec/metadata.h>

/* Kinds of objects counted against the merged model's limits (participant,
 * stream, session, group, participant-session, participant-stream,
 * session-recording). */
#define MD_KINDS 7

struct siprec_metadata_limits {
  siprec_allocator mem;
  size_t max_bytes;
  unsigned max_depth;
  size_t max_elements;
  unsigned max_attributes;
  size_t max_objects[MD_KINDS]; /* of the merged model, per kind */
  size_t max_extensions;        /* of the merged model */
};

/* The limits used when the host gives none. */
const siprec_metadata_limits *md_default_limits(void);

#endif
