/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "random.h"

#include <errno.h>
#include <sys/random.h>

#include <siprec/common.h>

int sr_random_bytes(void *buf, size_t len)
{
  unsigned char *p = buf;
  while (len) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return SIPREC_ERANDOM;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}
