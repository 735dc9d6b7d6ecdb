/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Walking the shared corpus (../shared/corpus): every NAME.sip, so that a
 * sample dropped there is tested without new code. */
#ifndef SIPREC_TESTS_CORPUS_H
#define SIPREC_TESTS_CORPUS_H

#include <stddef.h>

/* The corpus folder: $SIPREC_SHARED/corpus, else ../shared/corpus. */
const char *corpus_dir(void);

/* Call fn for each NAME.sip of the corpus, in name order, with the folder,
 * the file name and NAME; returns the sum of fn's results, or -1 when the
 * folder cannot be read. */
int corpus_each(int (*fn)(const char *dir, const char *file, const char *stem, void *user),
                void *user);

#endif
