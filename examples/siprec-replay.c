/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-replay: feed SIP messages from files to a handler and print, one
 * JSON object per line, what it answered, what it sent by itself and which
 * session events it raised. The tool a support engineer runs on a
 * customer's capture: each file holds one raw message, fed in the order
 * given, as UDP from 192.0.2.1:5060 to 192.0.2.10:5060. The clock starts
 * at a fixed time and moves 10 ms per file; timers fire after the last file
 * only with --drain.
 *
 * Uses only the public API, and jansson for the JSON (the session events
 * in the shape examples/common/session-json.c gives every example host).
 */
#include <siprec/siprec.h>

#include "session-json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_NS UINT64_C(1000000000000)
#define STEP_NS UINT64_C(10000000)

static char last_log[512];

static void print_json(json_t *obj)
{
  char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
  if (s) {
    puts(s);
    free(s);
  }
  json_decref(obj);
}

static void on_started(void *user, siprec_session *s)
{
  (void)user;
  print_json(session_event_json("session_started", s, NULL));
}

static void on_updated(void *user, siprec_session *s)
{
  (void)user;
  print_json(session_event_json("session_updated", s, NULL));
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)user;
  print_json(session_event_json("session_ended", s, siprec_end_reason_name(r)));
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  (void)path;
  const char *p = data;
  size_t m = 0;
  while (m < len && p[m] != ' ')
    m++;
  json_t *o = json_object();
  json_object_set_new(o, "event", json_string("request"));
  if (len >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0) /* a retransmitted response */
    json_object_set_new(o, "method", json_null());
  else
    json_object_set_new(o, "method", json_from_bytes(p, m));
  json_object_set_new(o, "message", json_from_bytes(p, len));
  print_json(o);
}

static void on_log(void *user, siprec_log_level level, const char *msg)
{
  (void)user;
  (void)level;
  snprintf(last_log, sizeof last_log, "%s", msg);
}

static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap || ferror(f))
      break;
    char *nb = realloc(buf, cap *= 2);
    if (!nb)
      free(buf);
    buf = nb;
  }
  fclose(f);
  *len = n;
  return buf;
}

static void usage(FILE *f)
{
  fprintf(f, "usage: siprec-replay [--drain] FILE...\n"
             "  feeds each FILE (one raw SIP message) to a libsiprec handler, as UDP from\n"
             "  192.0.2.1:5060 to 192.0.2.10:5060, 10 ms apart, and prints one JSON object\n"
             "  per line for each response, request and session event.\n"
             "  --drain  after the last file, let every pending timer fire\n");
}

int main(int argc, char **argv)
{
  int drain = 0, first = 1;
  for (; first < argc && argv[first][0] == '-'; first++) {
    if (!strcmp(argv[first], "--drain")) {
      drain = 1;
    } else if (!strcmp(argv[first], "--help")) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (first >= argc) {
    usage(stderr);
    return 2;
  }

  siprec_handler_config *cfg;
  siprec_handler_callbacks *cbs;
  siprec_handler *h;
  if (siprec_handler_config_new(&cfg, NULL) < 0 || siprec_handler_callbacks_new(&cbs, NULL) < 0)
    return 1;
  siprec_handler_config_set_log_level(cfg, SIPREC_LOG_DEBUG);
  siprec_handler_callbacks_set_log(cbs, on_log);
  siprec_handler_callbacks_set_session_started(cbs, on_started);
  siprec_handler_callbacks_set_session_updated(cbs, on_updated);
  siprec_handler_callbacks_set_session_ended(cbs, on_ended);
  siprec_handler_callbacks_set_send(cbs, on_send);
  int rc = siprec_handler_new(&h, cfg, cbs, NULL, NULL);
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);
  if (rc < 0) {
    fprintf(stderr, "siprec-replay: cannot create a handler: %s\n", siprec_strerror(rc));
    return 1;
  }

  struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(5060) };
  struct sockaddr_in dst = src;
  inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &dst.sin_addr);
  static char resp[65536];
  uint64_t now = START_NS;
  int failures = 0;
  for (int i = first; i < argc; i++, now += STEP_NS) {
    siprec_handler_expire(h, now);
    size_t len;
    char *msg = read_all(argv[i], &len);
    if (!msg) {
      fprintf(stderr, "siprec-replay: %s: %s\n", argv[i], strerror(errno));
      json_t *o = json_object();
      json_object_set_new(o, "event", json_string("none"));
      json_object_set_new(o, "input", json_string(argv[i]));
      json_object_set_new(o, "why", json_string("cannot read the file"));
      print_json(o);
      failures++;
      continue;
    }
    last_log[0] = '\0';
    const siprec_path path = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&dst,
                               (struct sockaddr *)&src, 0 };
    size_t n = 0;
    int prc = siprec_handler_process(h, msg, len, &path, now, resp, sizeof resp, &n);
    json_t *o = json_object();
    if (prc == SIPREC_PROCESS_RESPONSE) {
      int status = atoi(resp + 8);
      const char *r = resp + 12, *e = strstr(resp, "\r\n");
      json_object_set_new(o, "event", json_string("response"));
      json_object_set_new(o, "input", json_string(argv[i]));
      json_object_set_new(o, "status", json_integer(status));
      json_object_set_new(o, "reason", json_from_bytes(r, e && e > r ? (size_t)(e - r) : 0));
      json_object_set_new(o, "message", json_from_bytes(resp, n));
    } else {
      const char *why = prc < 0                                 ? siprec_strerror(prc)
                        : len >= 4 && !memcmp(msg, "ACK ", 4)   ? "ACK: nothing to answer"
                        : len >= 8 && !memcmp(msg, "SIP/2.0 ", 8) ? "a response: nothing to answer"
                        : last_log[0]                           ? last_log
                                                                : "no response";
      json_object_set_new(o, "event", json_string("none"));
      json_object_set_new(o, "input", json_string(argv[i]));
      json_object_set_new(o, "why", json_string(why));
    }
    print_json(o);
    free(msg);
  }
  if (drain) {
    for (int guard = 0; guard < 1000; guard++) {
      uint64_t d = siprec_handler_next_deadline(h);
      if (d == UINT64_MAX)
        break;
      now = d > now ? d : now;
      siprec_handler_expire(h, now);
    }
  }
  siprec_handler_free(h);
  return failures ? 1 : 0;
}
