/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SR_COMMON_RANDOM_H
#define SR_COMMON_RANDOM_H

#include <stddef.h>

/* Fill `buf` from the kernel's CSPRNG (getrandom). Returns 0 or
 * SIPREC_ERANDOM; never blocks once the pool is initialised. */
int sr_random_bytes(void *buf, size_t len);

#endif
