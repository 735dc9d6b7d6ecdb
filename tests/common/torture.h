/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One hostile message against a fresh handler, through the public API only:
 * what came back, what the library logged, whether it wrote anything to
 * stdout or stderr, and how long it took. Shared by the torture folder's
 * test and the generated hostile cases. */
#ifndef SIPREC_TESTS_TORTURE_H
#define SIPREC_TESTS_TORTURE_H

#include <stddef.h>

#include "expect.h"

/* The response buffer: what siprec_handler_process() promises is enough. */
#define TORTURE_RESPONSE_MAX 8192

typedef struct torture_outcome {
  int rc;                 /* what siprec_handler_process() returned */
  int status;             /* the response's status code, 0 when none */
  char response[TORTURE_RESPONSE_MAX + 1]; /* NUL-terminated */
  int errors_logged;      /* log messages at SIPREC_LOG_ERROR */
  char first_error[256];
  size_t stray_len;       /* bytes written to fd 1 or 2 while the library ran */
  char stray[256];        /* their start */
  double seconds;         /* the process call alone */
  int started, ended;     /* session events */
  size_t sessions;        /* open sessions right after the call */
} torture_outcome;

/* Longest a single message may take (a hang is a bug); scaled up under
 * valgrind (SIPREC_UNDER_VALGRIND set by the valgrind test setup). */
double torture_time_limit(void);

/* Feed `len` bytes to a new handler with default settings as one UDP
 * datagram from 192.0.2.1:5060 to 192.0.2.10:5060, then free the handler
 * (open sessions end). fds 1 and 2 are redirected to a pipe from the
 * handler's creation to its end. Returns 0, or -1 (with a message in
 * o->first_error) when the harness itself failed. */
int torture_feed(const void *msg, size_t len, torture_outcome *o);

/* Compare an outcome with an expectation (status, status_class or none,
 * response_contains) and with what every case must hold besides: no error
 * code, no ERROR log, no stray output, no session from a message not
 * answered 2xx, every session ended with the handler, within the time
 * limit. Returns NULL when all hold, else a description in buf (naming the
 * known bug the expectation records; a case marked so that passes fails
 * too, so that the mark goes). */
const char *torture_check(const expect *ex, const torture_outcome *o, char *buf, size_t size);

#endif
