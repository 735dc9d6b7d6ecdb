/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata part of a raw SIP message, picked as the handler picks it
 * (lib/sip's message view and the handler's body splitter), for the
 * metadata tests and benchmark. Links against lib/ internals. */
#ifndef SIPREC_TESTS_CORPUS_METADATA_H
#define SIPREC_TESTS_CORPUS_METADATA_H

#include <stddef.h>

/* Returns 1 with a malloc'd copy of the part in *xml (NUL-terminated,
 * *len bytes), 0 when the message has no metadata part, -1 when it does
 * not parse or its body cannot be split. */
int corpus_metadata_part(const char *msg, size_t msg_len, char **xml, size_t *len);

/* The metadata part of corpus sample `file` (a name in corpus_dir()), as
 * above; -1 also when the file cannot be read. */
int corpus_metadata_file(const char *file, char **xml, size_t *len);

#endif
