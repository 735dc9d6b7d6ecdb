/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Deterministic random bytes for the handler's random callback, so tests
 * see the same tags and keys on every run. Not thread-safe: for tests that
 * feed one handler from one thread. */
#ifndef SIPREC_TESTS_DET_RANDOM_H
#define SIPREC_TESTS_DET_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Restart the sequence. */
void det_random_seed(uint64_t seed);

/* A siprec_random_cb: xorshift64 bytes. Always 0. */
int det_random(void *user, void *buf, size_t len);

#endif
