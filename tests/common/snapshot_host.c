/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "snapshot_host.h"

#include <stdio.h>
#include <string.h>

fx_snapshots fx_snap;
uint64_t fx_wall_ns = UINT64_C(1800000000) * 1000000000u;

void fx_snapshot_cb(void *user, siprec_session *s, const char *key, size_t key_len,
                    const void *data, size_t len)
{
  (void)user;
  (void)s;
  snprintf(fx_snap.key, sizeof fx_snap.key, "%.*s", (int)key_len, key);
  if (!data) {
    fx_snap.deleted++;
    return;
  }
  fx_snap.written++;
  fx_snap.total += len;
  if (len > sizeof fx_snap.bytes) {
    fx_snap.too_big++;
    return;
  }
  memcpy(fx_snap.bytes, data, len);
  fx_snap.len = len;
}

uint64_t fx_wallclock(void *user)
{
  (void)user;
  return fx_wall_ns;
}

void fx_snapshot_callbacks(siprec_handler_callbacks *cbs)
{
  siprec_handler_callbacks_set_snapshot(cbs, fx_snapshot_cb);
  siprec_handler_callbacks_set_wallclock(cbs, fx_wallclock);
}
