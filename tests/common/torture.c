/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "torture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <siprec/siprec.h>

#include "det_random.h"

/* Copies into fixed buffers below truncate on purpose (log lines). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif


static void on_log(void *user, siprec_log_level level, const char *message)
{
  torture_outcome *o = user;
  if (level != SIPREC_LOG_ERROR)
    return;
  if (o->errors_logged++ == 0)
    snprintf(o->first_error, sizeof o->first_error, "%s", message);
}

static void on_started(void *user, siprec_session *s)
{
  (void)s;
  ((torture_outcome *)user)->started++;
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)s;
  (void)r;
  ((torture_outcome *)user)->ended++;
}

/* BYEs at shutdown go nowhere: there is no network in these tests. */
static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  (void)data;
  (void)len;
  (void)path;
}

double torture_time_limit(void)
{
  return getenv("SIPREC_UNDER_VALGRIND") ? 30.0 : 1.0;
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* fds 1 and 2 onto a non-blocking pipe: a library that writes more than the
 * pipe holds gets EAGAIN rather than hanging the test. */
typedef struct capture {
  int pipe[2];
  int saved[2];
} capture;

static int capture_start(capture *c)
{
  fflush(stdout);
  fflush(stderr);
  if (pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
    return -1;
  c->saved[0] = dup(1);
  c->saved[1] = dup(2);
  if (c->saved[0] < 0 || c->saved[1] < 0 || dup2(c->pipe[1], 1) < 0 || dup2(c->pipe[1], 2) < 0)
    return -1;
  return 0;
}

static void capture_end(capture *c, torture_outcome *o)
{
  fflush(stdout);
  fflush(stderr);
  dup2(c->saved[0], 1);
  dup2(c->saved[1], 2);
  close(c->saved[0]);
  close(c->saved[1]);
  close(c->pipe[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(c->pipe[0], buf, sizeof buf)) > 0) {
    if (o->stray_len < sizeof o->stray - 1) {
      size_t k = sizeof o->stray - 1 - o->stray_len;
      memcpy(o->stray + o->stray_len, buf, (size_t)n < k ? (size_t)n : k);
    }
    o->stray_len += (size_t)n;
  }
  o->stray[o->stray_len < sizeof o->stray - 1 ? o->stray_len : sizeof o->stray - 1] = '\0';
  close(c->pipe[0]);
}

int torture_feed(const void *msg, size_t len, torture_outcome *o)
{
  memset(o, 0, sizeof *o);
  det_random_seed(0);
  siprec_handler_config *cfg = NULL;
  siprec_handler_callbacks *cbs = NULL;
  siprec_handler *h = NULL;
  capture c;
  if (capture_start(&c) < 0) {
    snprintf(o->first_error, sizeof o->first_error, "cannot redirect fds 1 and 2: %s",
             strerror(errno));
    return -1;
  }
  int rc = siprec_handler_config_new(&cfg, NULL);
  if (rc == 0)
    rc = siprec_handler_config_set_log_level(cfg, SIPREC_LOG_DEBUG);
  if (rc == 0)
    rc = siprec_handler_callbacks_new(&cbs, NULL);
  if (rc == 0) {
    siprec_handler_callbacks_set_random(cbs, det_random);
    siprec_handler_callbacks_set_session_started(cbs, on_started);
    siprec_handler_callbacks_set_session_ended(cbs, on_ended);
    siprec_handler_callbacks_set_send(cbs, on_send);
    siprec_handler_callbacks_set_log(cbs, on_log);
    rc = siprec_handler_new(&h, cfg, cbs, o, NULL);
  }
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);
  if (rc == 0) {
    struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(5060) };
    struct sockaddr_in srs = src;
    inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
    inet_pton(AF_INET, "192.0.2.10", &srs.sin_addr);
    double t0 = now_s();
    const siprec_path path = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&srs,
                               (struct sockaddr *)&src, 0 };
    size_t rlen = 0;
    o->rc = siprec_handler_process(h, msg, len, &path, 1000000000ull, o->response,
                                   TORTURE_RESPONSE_MAX, &rlen);
    if (o->rc == SIPREC_PROCESS_RESPONSE)
      o->rc = (int)rlen;
    o->seconds = now_s() - t0;
    if (o->rc > 0) {
      o->response[o->rc] = '\0';
      if (o->rc > 12 && memcmp(o->response, "SIP/2.0 ", 8) == 0)
        o->status = atoi(o->response + 8);
    }
    o->sessions = siprec_handler_sessions(h, NULL, 0);
    siprec_handler_free(h);
  }
  capture_end(&c, o);
  if (rc != 0) {
    snprintf(o->first_error, sizeof o->first_error, "handler setup failed: %d", rc);
    return -1;
  }
  return 0;
}

static void outcome_text(const torture_outcome *o, char *buf, size_t size)
{
  if (o->rc < 0)
    snprintf(buf, size, "error %d (%s)", o->rc, siprec_strerror(o->rc));
  else if (o->rc == 0)
    snprintf(buf, size, "nothing sent");
  else
    snprintf(buf, size, "%.*s", (int)strcspn(o->response, "\r\n"), o->response);
}

const char *torture_check(const expect *ex, const torture_outcome *o, char *buf, size_t size)
{
  char got[160], want[96];
  outcome_text(o, got, sizeof got);
  if (ex->none)
    snprintf(want, sizeof want, "nothing sent");
  else if (ex->status)
    snprintf(want, sizeof want, "%d", ex->status);
  else
    snprintf(want, sizeof want, "%dxx", ex->status_class);
  int ok = o->rc >= 0 && (ex->none ? o->rc == 0
                          : ex->status ? o->status == ex->status
                                       : o->status / 100 == ex->status_class);
  if (ok && ex->contains[0] && !strstr(o->response, ex->contains)) {
    char shown[2 * EXPECT_TEXT];
    size_t k = 0;
    for (const char *c = ex->contains; *c && k + 3 < sizeof shown; c++) {
      if (*c == '\r' || *c == '\n') {
        shown[k++] = '\\';
        shown[k++] = *c == '\r' ? 'r' : 'n';
      } else {
        shown[k++] = *c;
      }
    }
    shown[k] = '\0';
    snprintf(want, sizeof want, "a response with \"%.40s\"", shown);
    ok = 0;
  }
  if (!ok)
    snprintf(buf, size, "%s, expected %s%s%s%s", got, want, ex->known_bug[0] ? " (known bug: " : "",
             ex->known_bug, ex->known_bug[0] ? ")" : "");
  else if (o->rc > 0 && o->status == 0)
    snprintf(buf, size, "not a status line: %.60s", o->response);
  else if (o->errors_logged)
    snprintf(buf, size, "%d message(s) logged at ERROR: %s", o->errors_logged, o->first_error);
  else if (o->stray_len)
    snprintf(buf, size, "%zu bytes written to stdout/stderr: %s", o->stray_len, o->stray);
  else if (o->status / 100 != 2 && (o->sessions || o->started))
    snprintf(buf, size, "a message not answered 2xx left %zu session(s), %d started", o->sessions,
             o->started);
  else if (o->started != o->ended)
    snprintf(buf, size, "%d session(s) started, %d ended", o->started, o->ended);
  else if (o->seconds > torture_time_limit())
    snprintf(buf, size, "took %.3f s (limit %.1f s)", o->seconds, torture_time_limit());
  else if (ex->known_bug[0])
    snprintf(buf, size, "passes but is marked as a known bug (%s): drop the mark", ex->known_bug);
  else
    return NULL;
  return buf;
}
