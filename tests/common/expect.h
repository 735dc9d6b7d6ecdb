/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The corpus's NAME.expect.json files (../shared/corpus/INDEX.md) and the
 * torture folder's (tests/data/torture/INDEX.md), read into plain structs.
 * A purpose-built reader for their small, regular JSON: objects, arrays,
 * strings, numbers, true/false/null. */
#ifndef SIPREC_TESTS_EXPECT_H
#define SIPREC_TESTS_EXPECT_H

#include <stddef.h>

#define EXPECT_MAX_STREAMS 16
#define EXPECT_STR 128

typedef struct expect_stream {
  char media[EXPECT_STR];
  char label[EXPECT_STR];
  int has_label;
  int accepted;
  char direction[EXPECT_STR];
  char codec[EXPECT_STR];
} expect_stream;

#define EXPECT_TEXT 512
#define EXPECT_MAX_AORS 16

/* One "stream_participants" entry: a label and the AORs sending on it. */
typedef struct expect_label {
  char label[EXPECT_STR];
  char aors[EXPECT_MAX_AORS][EXPECT_STR];
  size_t n_aors;
} expect_label;

typedef struct expect {
  int status;       /* 0 when only status_class is given */
  int status_class; /* 0 when status is given */
  int none;         /* "none": true, the message is dropped: nothing to send */
  char why[EXPECT_TEXT];       /* why that is the right outcome */
  char known_bug[EXPECT_TEXT]; /* "" unless the library is known to get it wrong */
  char contains[EXPECT_TEXT];  /* "response_contains": text the response must hold */
  int has_streams;
  expect_stream streams[EXPECT_MAX_STREAMS];
  size_t n_streams;
  int has_srtp, srtp;
  int has_participants; /* "participants": AORs in document order */
  char participants[EXPECT_MAX_AORS][EXPECT_STR];
  size_t n_participants;
  int has_stream_participants;
  expect_label stream_participants[EXPECT_MAX_STREAMS];
  size_t n_stream_participants;
  char metadata[EXPECT_STR];
} expect;

/* Read `path`. Returns 0, or -1 with a message in `err`. */
int expect_read(const char *path, expect *out, char *err, size_t err_size);

/* Read a whole file into a malloc'd buffer (NUL-terminated); NULL on error. */
char *read_file(const char *path, size_t *len);

#endif
