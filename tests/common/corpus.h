/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Walking folders of NAME.sip samples with their NAME.expect.json: the
 * shared corpus (../shared/corpus) and the torture messages
 * (tests/data/torture), so that a sample dropped there is tested without
 * new code. */
#ifndef SIPREC_TESTS_CORPUS_H
#define SIPREC_TESTS_CORPUS_H

#include <stddef.h>

/* The corpus folder: $SIPREC_SHARED/corpus, else ../shared/corpus. */
const char *corpus_dir(void);

/* The torture folder: $SIPREC_TEST_DATA/torture, else tests/data/torture. */
const char *torture_dir(void);

/* Call fn for each NAME.sip of `dir`, in name order, with the folder, the
 * file name and NAME; returns the sum of fn's results, or -1 when the
 * folder cannot be read. */
int folder_each(const char *dir,
                int (*fn)(const char *dir, const char *file, const char *stem, void *user),
                void *user);

/* folder_each() over corpus_dir(). */
int corpus_each(int (*fn)(const char *dir, const char *file, const char *stem, void *user),
                void *user);

#endif
