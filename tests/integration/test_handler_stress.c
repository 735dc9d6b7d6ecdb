/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler from many threads at once (run again under ThreadSanitizer):
 * whole calls on their own Call-IDs, every thread racing on a shared set of
 * Call-IDs (INVITE copies, re-INVITEs, OPTIONS, BYE), a timer thread firing
 * expire on a moving clock, and a host thread ending sessions and asking for
 * metadata. Every session that starts ends exactly once; nothing is left. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <siprec/siprec.h>

#include "check_main.h"
#include "handler_fixture.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* Check's assertions are not for other threads: they count failures here,
 * and the test's own thread asserts none happened. */
static _Atomic int failures;
static char first_failure[256];
#define CHECK_T(c)                                                                                 \
  do {                                                                                             \
    if (!(c) && atomic_fetch_add(&failures, 1) == 0)                                               \
      snprintf(first_failure, sizeof first_failure, "%s:%d: %s", __FILE__, __LINE__, #c);          \
  } while (0)

#define THREADS 4
#define CALLS 2000
#define SHARED 16
#define KEEP 32

typedef struct stress {
  siprec_handler *h;
  _Atomic uint64_t clock;
  _Atomic long started, ended, offered;
  _Atomic int stop;
  pthread_mutex_t keep_lock;
  siprec_session *keep[KEEP]; /* sessions the host thread acts on */
  size_t n_keep;
} stress;

static uint64_t tick(stress *st)
{
  return atomic_fetch_add(&st->clock, 3 * MS) + 3 * MS;
}

static siprec_decision on_offered(void *user, siprec_session *s, int *status)
{
  (void)s;
  (void)status;
  atomic_fetch_add(&((stress *)user)->offered, 1);
  return SIPREC_DECISION_ACCEPT;
}

static void on_started(void *user, siprec_session *s)
{
  stress *st = user;
  atomic_fetch_add(&st->started, 1);
  /* Read the session while another thread may be changing others. */
  CHECK_T(siprec_session_stream_count(s) >= 1);
  pthread_mutex_lock(&st->keep_lock);
  if (st->n_keep < KEEP) {
    siprec_session_ref(s);
    st->keep[st->n_keep++] = s;
  }
  pthread_mutex_unlock(&st->keep_lock);
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)s;
  (void)r;
  atomic_fetch_add(&((stress *)user)->ended, 1);
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  CHECK_T(path->remote != NULL && path->local != NULL);
  CHECK_T(len > 12);
  CHECK_T(memchr(data, '\n', len) != NULL);
}

static _Atomic unsigned long rng_state = 88172645463325252ul;

static int random_bytes(void *user, void *buf, size_t len)
{
  (void)user;
  unsigned char *b = buf;
  for (size_t i = 0; i < len; i++) {
    unsigned long x = atomic_fetch_add(&rng_state, 0x9e3779b97f4a7c15ul);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ul;
    b[i] = (unsigned char)(x >> 40);
  }
  return 0;
}

typedef struct worker {
  stress *st;
  int id;
  struct sockaddr_in src, srs;
} worker;

static int feed(worker *w, const char *msg, char *resp, size_t size)
{
  const siprec_path path = { SIPREC_TRANSPORT_UDP, (const struct sockaddr *)&w->srs,
                             (const struct sockaddr *)&w->src, 0 };
  size_t len = 0;
  int rc = siprec_handler_process(w->st->h, msg, strlen(msg), &path, tick(w->st), resp, size - 1,
                                  &len);
  CHECK_T(rc >= 0);
  int n = (int)len;
  resp[n > 0 ? n : 0] = '\0';
  return n;
}

static void tag_of(const char *resp, char *tag, size_t size)
{
  const char *t = strstr(resp, "\r\nTo: ");
  t = t ? strstr(t, ";tag=") : NULL;
  snprintf(tag, size, "%.*s", t ? (int)strcspn(t + 5, ";\r\n") : 0, t ? t + 5 : "");
}

static void *worker_main(void *arg)
{
  worker *w = arg;
  char msg[4096], resp[16384], cid[64], tag[64];
  for (int i = 0; i < CALLS; i++) {
    /* A whole call of this thread's own. */
    snprintf(cid, sizeof cid, "own-%d-%d", w->id, i);
    fx_request(msg, sizeof msg, "INVITE", cid, NULL, 1, cid, "Require: siprec\r\n", fx_sdp2);
    feed(w, msg, resp, sizeof resp);
    CHECK_T(strncmp(resp, "SIP/2.0 200", 11) == 0);
    tag_of(resp, tag, sizeof tag);
    fx_request(msg, sizeof msg, "ACK", cid, tag, 1, "a", NULL, NULL);
    feed(w, msg, resp, sizeof resp);
    if (i % 3 == 0) {
      fx_request(msg, sizeof msg, "INVITE", cid, tag, 2, "r", NULL, fx_sdp3);
      feed(w, msg, resp, sizeof resp);
      fx_request(msg, sizeof msg, "ACK", cid, tag, 2, "a2", NULL, NULL);
      feed(w, msg, resp, sizeof resp);
    }
    fx_request(msg, sizeof msg, "BYE", cid, tag, 3, "b", NULL, NULL);
    feed(w, msg, resp, sizeof resp); /* 200, or 481 when the host thread ended it first */

    /* The shared Call-IDs: every thread sends the same INVITE, then
     * in-dialog requests with whatever tag it saw. */
    snprintf(cid, sizeof cid, "shared-%d", i % SHARED);
    fx_request(msg, sizeof msg, "INVITE", cid, NULL, 1, cid, "Require: siprec\r\n", fx_sdp2);
    feed(w, msg, resp, sizeof resp);
    tag_of(resp, tag, sizeof tag);
    if (!*tag)
      continue;
    static const char *const methods[] = { "OPTIONS", "UPDATE", "ACK", "BYE" };
    const char *m = methods[(i + w->id) % 4];
    fx_request(msg, sizeof msg, m, cid, tag, 2 + (unsigned)w->id, "s", NULL,
               strcmp(m, "UPDATE") == 0 ? fx_sdp2 : NULL);
    feed(w, msg, resp, sizeof resp);
  }
  return NULL;
}

static void *timer_main(void *arg)
{
  stress *st = arg;
  while (!atomic_load(&st->stop)) {
    uint64_t now = tick(st);
    if (siprec_handler_next_deadline(st->h) <= now)
      CHECK_T(siprec_handler_expire(st->h, now) >= 0);
    sched_yield();
  }
  return NULL;
}

static void *host_main(void *arg)
{
  stress *st = arg;
  unsigned k = 0;
  while (!atomic_load(&st->stop)) {
    siprec_session *s = NULL;
    pthread_mutex_lock(&st->keep_lock);
    if (st->n_keep)
      s = st->keep[--st->n_keep];
    pthread_mutex_unlock(&st->keep_lock);
    if (!s) {
      sched_yield();
      continue;
    }
    int rc = (k++ & 1) ? siprec_handler_request_metadata(st->h, s, tick(st))
                       : siprec_handler_end_session(st->h, s, tick(st));
    CHECK_T(rc == 0 || rc == SIPREC_EINVAL || rc == SIPREC_EAGAIN);
    size_t n;
    (void)siprec_session_call_id(s, &n);
    CHECK_T(n > 0);
    siprec_session_unref(s);
  }
  return NULL;
}

START_TEST(test_handler_threads)
{
  stress st;
  memset(&st, 0, sizeof st);
  pthread_mutex_init(&st.keep_lock, NULL);
  atomic_store(&st.clock, 1000 * MS);
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_timers(cfg, 20, 80), 0);
  ck_assert_int_eq(siprec_handler_config_set_ping_interval(cfg, 500), 0);
  ck_assert_int_eq(siprec_handler_config_set_max_pending_per_source(cfg, 0), 0);
  siprec_handler_callbacks *cbs;
  ck_assert_int_eq(siprec_handler_callbacks_new(&cbs, NULL), 0);
  siprec_handler_callbacks_set_session_offered(cbs, on_offered);
  siprec_handler_callbacks_set_session_started(cbs, on_started);
  siprec_handler_callbacks_set_session_ended(cbs, on_ended);
  siprec_handler_callbacks_set_send(cbs, on_send);
  siprec_handler_callbacks_set_random(cbs, random_bytes);
  ck_assert_int_eq(siprec_handler_new(&st.h, cfg, cbs, &st, NULL), 0);
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);

  worker w[THREADS];
  pthread_t t[THREADS], timer, host;
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){ .st = &st, .id = i };
    w[i].src = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(5060) };
    w[i].srs = w[i].src;
    w[i].src.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1: one SRC, many threads */
    w[i].srs.sin_addr.s_addr = htonl(0xc000020a);
    ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
  }
  ck_assert_int_eq(pthread_create(&timer, NULL, timer_main, &st), 0);
  ck_assert_int_eq(pthread_create(&host, NULL, host_main, &st), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  atomic_store(&st.stop, 1);
  pthread_join(timer, NULL);
  pthread_join(host, NULL);

  ck_assert_msg(atomic_load(&failures) == 0, "%d failures, first: %s", atomic_load(&failures),
                first_failure);
  ck_assert_int_ge(atomic_load(&st.started), THREADS * CALLS);
  /* Let every timer run out: unACKed shared sessions end, pings go unanswered. */
  for (int i = 0; i < 200 && fx_active(st.h); i++)
    siprec_handler_expire(st.h, atomic_fetch_add(&st.clock, 1000 * MS));
  ck_assert_uint_eq(fx_active(st.h), 0);
  ck_assert_int_eq(atomic_load(&st.started), atomic_load(&st.ended));
  ck_assert_uint_eq(siprec_handler_stat(st.h, SIPREC_STAT_SESSIONS_ACTIVE, 0), 0);
  for (size_t i = 0; i < st.n_keep; i++)
    siprec_session_unref(st.keep[i]);
  siprec_handler_free(st.h);
  ck_assert_int_eq(atomic_load(&st.started), atomic_load(&st.ended));
  pthread_mutex_destroy(&st.keep_lock);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_stress");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, test_handler_threads);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
