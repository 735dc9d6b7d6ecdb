/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The half of the handler fixture (handler_fixture.h) that needs no Check:
 * requests written from a template, a message fed to a handler and its
 * response kept, the To-tag read back. Failures are returned, never
 * asserted, so that a benchmark (tests/bench/bench_media.c) uses the same
 * code as the tests outside a running Check test. */
#ifndef SR_TEST_HANDLER_MSGS_H
#define SR_TEST_HANDLER_MSGS_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/siprec.h>

extern const char fx_sdp2[]; /* two sendonly audio streams labelled 1 and 2 */
extern const char fx_sdp3[]; /* labels 1, 2 (inactive) and 3 */

/* A request from the SRC 192.0.2.1:5060 to sip:srs@192.0.2.10; `to_tag` NULL
 * for none, `extra` header lines, `body` SDP. */
void fx_request(char *out, size_t size, const char *method, const char *call_id,
                const char *to_tag, unsigned cseq, const char *branch, const char *extra,
                const char *body);

/* Feed `msg` to `h` over `path` at `now`. The response lands in `resp`
 * (`cap` bytes, NUL-terminated; "" for none), its status in *status (0 for
 * none). Returns the response's length, 0 for none, or
 * siprec_handler_process's error. */
int fx_process(siprec_handler *h, const siprec_path *path, const char *msg, uint64_t now,
               char *resp, size_t cap, int *status);

/* The To-tag of response `resp` into `tag`; -1 when it has none. */
int fx_resp_to_tag(const char *resp, char *tag, size_t size);

#endif
