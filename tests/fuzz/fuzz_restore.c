/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for siprec_handler_restore(): the input is a snapshot
 * without its checksum (the harness appends the right one, so mutations
 * reach the record readers instead of dying at the checksum). A restored
 * session is then driven: requests in and outside its dialog, its timers
 * fired over minutes, a hand-over; the snapshot that hand-over writes must
 * restore into a second handler (whatever the library writes, it reads);
 * and the same snapshot taken over by a third (new ports, a re-INVITE).
 * Checks, with the sanitizers, that nothing crashes, leaks or reads out of
 * bounds, and that a refused snapshot leaves the handler empty. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/siprec.h>

#include "../../lib/common/alloc.h"
#include "../../lib/store/snap.h"

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

static struct {
  uint8_t bytes[1 << 16];
  size_t len;
  char key[1100];
  size_t key_len;
} last;

static void on_snapshot(void *user, siprec_session *s, const char *key, size_t key_len,
                        const void *data, size_t len)
{
  (void)user;
  (void)s;
  if (!data || len > sizeof last.bytes || key_len > sizeof last.key)
    return;
  memcpy(last.bytes, data, len);
  last.len = len;
  memcpy(last.key, key, key_len);
  last.key_len = key_len;
}

static uint64_t wallclock(void *user)
{
  (void)user;
  return UINT64_C(1800000000000000000);
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  (void)path;
  CHECK(len > 0 && data != NULL);
}

static siprec_handler *make(void)
{
  siprec_handler_config *cfg;
  siprec_handler_callbacks *cbs;
  siprec_handler *h = NULL;
  static const uint8_t seal[SIPREC_SNAPSHOT_KEY_LEN] = "fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-f";
  if (siprec_handler_config_new(&cfg, NULL) || siprec_handler_callbacks_new(&cbs, NULL))
    __builtin_trap();
  (void)siprec_handler_config_set_snapshots(cfg, 1, 0);
  (void)siprec_handler_config_set_snapshot_key(cfg, seal);
  (void)siprec_handler_config_set_session_timer(cfg, 90, 90);
  siprec_handler_callbacks_set_snapshot(cbs, on_snapshot);
  siprec_handler_callbacks_set_wallclock(cbs, wallclock);
  siprec_handler_callbacks_set_send(cbs, on_send);
  CHECK(siprec_handler_new(&h, cfg, cbs, NULL, NULL) == 0);
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);
  return h;
}

static void feed(siprec_handler *h, const char *method, const char *call_id, size_t n,
                 unsigned cseq, uint64_t now)
{
  char msg[2048], out[8192];
  int len = snprintf(msg, sizeof msg,
                     "%s sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf%u\r\n"
                     "From: <sip:src@192.0.2.1>;tag=src1\r\nTo: <sip:srs@192.0.2.10>;tag=x\r\n"
                     "Call-ID: %.*s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
                     method, cseq, (int)(n > 1000 ? 1000 : n), call_id, cseq, method);
  struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(5060) };
  struct sockaddr_in srs = src;
  inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &srs.sin_addr);
  siprec_path path = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&srs, (struct sockaddr *)&src, 0 };
  size_t out_len = 0;
  int rc = siprec_handler_process(h, msg, (size_t)len, &path, now, out, sizeof out, &out_len);
  CHECK(rc >= 0 || rc == SIPREC_ENOMEM);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  siprec_allocator libc;
  sr_alloc_init(&libc, NULL);
  sr_snap_w w;
  sr_snap_w_init(&w, &libc);
  sr_snap_append(&w, data, size);
  if (sr_snap_end(&w)) {
    sr_snap_w_free(&w);
    return 0;
  }
  siprec_handler *h = make();
  siprec_session *s = NULL;
  uint64_t now = UINT64_C(1000000000000);
  int rc = siprec_handler_restore(h, w.p, w.len, now, &s);
  siprec_snapshot_info info;
  int irc = siprec_snapshot_inspect(w.p, w.len, &info);
  if (rc != 0) {
    CHECK(s == NULL);
    CHECK(siprec_handler_sessions(h, NULL, 0) == 0);
  } else {
    CHECK(irc == 0);
    size_t n = 0;
    const char *cid = siprec_session_call_id(s, &n);
    last.len = 0;
    feed(h, "OPTIONS", cid, n, 1, now);
    feed(h, "INVITE", cid, n, 100, now + 1);
    for (int i = 1; i <= 8; i++)
      (void)siprec_handler_expire(h, now + (uint64_t)i * UINT64_C(30000000000));
    if (siprec_handler_shutdown(h, SIPREC_SHUTDOWN_HANDOVER, now + UINT64_C(300000000000)) == 0 &&
        last.len) {
      /* What the library wrote, it reads. */
      siprec_handler *h2 = make();
      int rc2 = siprec_handler_restore(h2, last.bytes, last.len, now, NULL);
      CHECK(rc2 == 0 || rc2 == SIPREC_EAGAIN || rc2 == SIPREC_ENOMEM);
      feed(h2, "BYE", last.key, last.key_len, 200, now + 2);
      siprec_handler_free(h2);
    }
    siprec_session_unref(s);
    /* Taken over by another node: new ports, a re-INVITE, its timers. */
    siprec_handler *h3 = make();
    struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(5060) };
    inet_pton(AF_INET, "192.0.2.20", &local.sin_addr);
    int rc3 = siprec_handler_take_over(h3, w.p, w.len, (struct sockaddr *)&local, now, NULL);
    CHECK(rc3 == 0 || rc3 == SIPREC_EAGAIN || rc3 == SIPREC_ENOMEM || rc3 == SIPREC_EPARSE);
    for (int i = 1; i <= 8; i++)
      (void)siprec_handler_expire(h3, now + (uint64_t)i * UINT64_C(10000000000));
    siprec_handler_free(h3);
  }
  siprec_handler_free(h);
  sr_snap_w_free(&w);
  return 0;
}
