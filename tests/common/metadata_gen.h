/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Large metadata documents made in place, for the tests and the benchmark
 * of big merged models: a complete document with `n` participants, and
 * partial updates adding `n` new participants from a given number on. */
#ifndef SIPREC_TESTS_METADATA_GEN_H
#define SIPREC_TESTS_METADATA_GEN_H

#include <stddef.h>

/* A malloc'd NUL-terminated document (*len bytes), or NULL (no memory).
 * Participants are "p<first>" .. "p<first+n-1>", each with a nameID and a
 * participantsessionassoc to session "s0"; `partial` gives a
 * <datamode>partial</datamode> update, otherwise a complete document with
 * the session "s0" and one stream "st0" sent by the first participant. */
char *metadata_gen(size_t first, size_t n, int partial, size_t *len);

#endif
