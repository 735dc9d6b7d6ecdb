/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "det_random.h"

static uint64_t state = 0x9e3779b97f4a7c15ull;

void det_random_seed(uint64_t seed)
{
  state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

int det_random(void *user, void *buf, size_t len)
{
  (void)user;
  unsigned char *b = buf;
  for (size_t i = 0; i < len; i++) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    b[i] = (unsigned char)(state >> 11);
  }
  return 0;
}
