/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "# load average ..." from /proc/loadavg: other work on the machine skews
 * every figure, so each benchmark's output says how busy it was. */
#ifndef SIPREC_BENCH_LOAD_H
#define SIPREC_BENCH_LOAD_H

#include <stdio.h>
#include <string.h>

static inline void print_load(const char *when)
{
  char buf[128] = "";
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (!fgets(buf, sizeof buf, f))
      buf[0] = '\0';
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = '\0';
  printf("# load average %s: %s\n", when, buf[0] ? buf : "unknown");
}

#endif
