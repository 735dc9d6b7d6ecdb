/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A metadata model checked against an expect file's `metadata`,
 * `participants` and `stream_participants` (../shared/corpus/INDEX.md), for
 * the metadata unit test (the part parsed alone) and the corpus folder test
 * (the model a handler's session holds). */
#ifndef SIPREC_TESTS_EXPECT_METADATA_H
#define SIPREC_TESTS_EXPECT_METADATA_H

#include <siprec/metadata.h>

#include "expect.h"

/* Check (Check assertions) `m` against `ex`, naming `what` in failures. */
void expect_check_metadata(const char *what, const siprec_metadata *m, const expect *ex);

#endif
