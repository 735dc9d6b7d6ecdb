/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the handler's whole path: the input is one or more
 * SIP messages separated by a line "@@@" (a raw .sip file is one message),
 * fed in order from two source addresses over UDP and TCP, with the clock
 * moving between them and timers fired (pings, session timers, the idle
 * limit and deferral all short, so they fall due within a run); every other
 * new session is deferred and then accepted or refused, or left to time
 * out; then the handler is freed. Checks
 * that every response is a well-formed status line within the buffer, that
 * the session count stays consistent with the session events, and (through
 * the sanitizers) that nothing crashes, leaks or reads out of bounds. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/siprec.h>

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

#define MAX_DEFERRED 8

typedef struct counts {
  long offered, started, ended;
  siprec_session *deferred[MAX_DEFERRED];
  size_t n_deferred;
} counts;

static uint64_t rng;

static int fuzz_random(void *user, void *buf, size_t len)
{
  (void)user;
  unsigned char *b = buf;
  for (size_t i = 0; i < len; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    b[i] = (unsigned char)(rng >> 33);
  }
  return 0;
}

static siprec_decision on_offered(void *user, siprec_session *s, int *status)
{
  counts *c = user;
  c->offered++;
  if ((c->offered & 1) && c->n_deferred < MAX_DEFERRED) {
    siprec_session_ref(s);
    c->deferred[c->n_deferred++] = s;
    return SIPREC_DECISION_DEFER;
  }
  if (c->offered % 6 == 4) {
    *status = c->offered % 12 == 4 ? 488 : 42; /* 42: out of range, taken as 500 */
    return SIPREC_DECISION_REFUSE;
  }
  return SIPREC_DECISION_ACCEPT;
}

/* The host decides on its oldest deferred session. */
static void decide(siprec_handler *h, counts *c, unsigned k, uint64_t now)
{
  if (!c->n_deferred || (k & 1) == 0)
    return;
  siprec_session *s = c->deferred[0];
  memmove(c->deferred, c->deferred + 1, --c->n_deferred * sizeof c->deferred[0]);
  int rc = (k & 2) ? siprec_handler_accept_session(h, s, now)
                   : siprec_handler_refuse_session(h, s, 486, now);
  CHECK(rc == 0 || rc == SIPREC_EINVAL || rc == SIPREC_ENOMEM);
  if (k % 7 == 0)
    CHECK(siprec_handler_end_session(h, s, now) <= 0);
  if (k % 11 == 0)
    (void)siprec_handler_request_metadata(h, s, now);
  siprec_session_unref(s);
}

static void on_started(void *user, siprec_session *s)
{
  counts *c = user;
  c->started++;
  CHECK(siprec_session_stream_count(s) >= 1);
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)s;
  (void)r;
  ((counts *)user)->ended++;
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  CHECK(path != NULL && path->remote != NULL && path->local != NULL && len > 12);
  CHECK(memcmp(data, "BYE ", 4) == 0 || memcmp(data, "OPTIONS ", 8) == 0 ||
        memcmp(data, "UPDATE ", 7) == 0 || memcmp(data, "SIP/2.0 ", 8) == 0);
  CHECK(memmem(data, len, "\r\n\r\n", 4) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  rng = 42;
  counts c;
  memset(&c, 0, sizeof c);
  siprec_handler_config *cfg;
  siprec_handler_callbacks *cbs;
  siprec_handler *h;
  CHECK(siprec_handler_config_new(&cfg, NULL) == 0);
  CHECK(siprec_handler_config_set_timers(cfg, 10, 40) == 0);
  CHECK(siprec_handler_config_set_max_sessions(cfg, 64) == 0);
  CHECK(siprec_handler_config_set_ping_interval(cfg, 200) == 0);
  CHECK(siprec_handler_config_set_session_timer(cfg, 2, 1) == 0);
  CHECK(siprec_handler_config_set_idle_limit(cfg, 5000) == 0);
  CHECK(siprec_handler_config_set_defer_timeout(cfg, 700) == 0);
  CHECK(siprec_handler_config_set_max_pending_per_source(cfg, 4) == 0);
  CHECK(siprec_handler_callbacks_new(&cbs, NULL) == 0);
  siprec_handler_callbacks_set_random(cbs, fuzz_random);
  siprec_handler_callbacks_set_session_offered(cbs, on_offered);
  siprec_handler_callbacks_set_session_started(cbs, on_started);
  siprec_handler_callbacks_set_session_ended(cbs, on_ended);
  siprec_handler_callbacks_set_send(cbs, on_send);
  CHECK(siprec_handler_new(&h, cfg, cbs, &c, NULL) == 0);
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);

  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5060) }, b = a, srs = a;
  inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
  inet_pton(AF_INET, "198.51.100.2", &b.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &srs.sin_addr);
  static char resp[16384];
  uint64_t now = 1000000000ull;
  const char *p = (const char *)data, *end = p + size;
  unsigned k = 0;
  while (p < end && k < 64) {
    const char *sep = memmem(p, (size_t)(end - p), "\n@@@\n", 5);
    const char *stop = sep ? sep + 1 : end;
    /* A copy of exactly the message's bytes, so overreads are caught. */
    size_t n = (size_t)(stop - p);
    char *msg = malloc(n ? n : 1);
    CHECK(msg != NULL);
    memcpy(msg, p, n);
    siprec_transport tp = (k % 3 == 2) ? SIPREC_TRANSPORT_TCP : SIPREC_TRANSPORT_UDP;
    if (tp == SIPREC_TRANSPORT_TCP) {
      size_t f = 0;
      int fr = siprec_handler_frame(msg, n, 65536, &f);
      CHECK(fr == SIPREC_EPARSE || (fr == 0 && f == 0) || (fr == 1 && f > 0 && f <= n));
    }
    const siprec_path path = { tp, (struct sockaddr *)&srs,
                               (struct sockaddr *)(k % 5 == 4 ? &b : &a), k };
    size_t rlen = 0;
    int pr = siprec_handler_process(h, msg, n, &path, now, resp, sizeof resp, &rlen);
    CHECK(pr == SIPREC_PROCESS_DONE || pr == SIPREC_PROCESS_RESPONSE || pr == SIPREC_ETOOBIG ||
          pr == SIPREC_ENOMEM);
    CHECK(pr == SIPREC_PROCESS_RESPONSE ? rlen > 12 && rlen < sizeof resp : rlen == 0);
    int r = (int)rlen;
    if (r > 0) {
      CHECK(memcmp(resp, "SIP/2.0 ", 8) == 0);
      int status = atoi(resp + 8);
      CHECK(status >= 100 && status < 700);
      CHECK(memmem(resp, (size_t)r, "\r\n\r\n", 4) != NULL);
    }
    free(msg);
    now += (k & 1) ? 7000000ull : 300000000ull;
    decide(h, &c, k, now);
    (void)siprec_handler_expire(h, now);
    CHECK((long)siprec_handler_sessions(h, NULL, 0) + c.ended <= c.offered);
    CHECK(siprec_handler_next_deadline(h) > now);
    p = sep ? sep + 5 : end;
    k++;
  }
  /* Half of the inputs end with a graceful shutdown, driven to its end. */
  if (size & 1) {
    CHECK(siprec_handler_shutdown(h, SIPREC_SHUTDOWN_BYE, now) == 0);
    CHECK(siprec_handler_sessions(h, NULL, 0) == 0);
    for (int i = 0; i < 200 && siprec_handler_next_deadline(h) != UINT64_MAX; i++) {
      now += 50000000ull;
      (void)siprec_handler_expire(h, now);
    }
    CHECK(siprec_handler_next_deadline(h) == UINT64_MAX);
  }
  siprec_handler_free(h);
  /* Every session offered (and so every one that started) ended once. */
  CHECK(c.ended >= c.started && c.ended == c.offered);
  for (size_t i = 0; i < c.n_deferred; i++)
    siprec_session_unref(c.deferred[i]);
  return 0;
}
