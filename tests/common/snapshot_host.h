/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A host's snapshot side for the tests and benchmarks (siprec/store.h):
 * the last snapshot written kept (its key, how many were written and
 * deleted), and a wall clock the test moves. No Check, so that benchmarks
 * use it too. One handler's worth: not thread-safe. */
#ifndef SR_TEST_SNAPSHOT_HOST_H
#define SR_TEST_SNAPSHOT_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/siprec.h>

typedef struct fx_snapshots {
  unsigned char bytes[65536];
  size_t len;      /* of the last snapshot kept */
  int written, deleted, too_big;
  size_t total;    /* bytes of every snapshot written */
  char key[128];   /* the last key, NUL-terminated (cut at 127 bytes) */
} fx_snapshots;

extern fx_snapshots fx_snap;
/* What the wall clock callback returns (UTC ns); starts in 2027. */
extern uint64_t fx_wall_ns;

void fx_snapshot_cb(void *user, siprec_session *s, const char *key, size_t key_len,
                    const void *data, size_t len);
uint64_t fx_wallclock(void *user);

/* Both callbacks set on `cbs`. */
void fx_snapshot_callbacks(siprec_handler_callbacks *cbs);

#endif
