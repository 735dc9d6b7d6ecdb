/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A handler under test, through its public API only: deterministic random
 * bytes, every callback counted, requests written from a template, a fake
 * clock passed in by each call. Shared by the handler's test files. */
#ifndef SR_TEST_HANDLER_FIXTURE_H
#define SR_TEST_HANDLER_FIXTURE_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include <siprec/siprec.h>

/* fx_sdp2, fx_sdp3, fx_request and the feeding underneath fx_feed_ex */
#include "handler_msgs.h"

#define MS UINT64_C(1000000)

typedef struct events {
  int offered, started, updated, ended;
  siprec_end_reason last_reason;
  int refuse_with;          /* the offered callback's decision: SIPREC_DECISION_ACCEPT (0),
                             * SIPREC_DECISION_DEFER (1), or a status to refuse with */
  siprec_session *deferred; /* with refuse_with SIPREC_DECISION_DEFER: the session, referenced */
  int sent;
  char last_sent[8192];
  siprec_transport last_transport; /* of the last message sent */
  uint64_t last_conn;
  struct sockaddr_storage last_dest;
  char sent_log[32768];     /* every message sent, each line "method-or-status\n" */
  size_t ports_in_use;
  int port_limit;
  int acl_allow, acl_calls;
  unsigned last_changes;
  siprec_handler *h;        /* for callbacks that call back into the handler */
  int reenter, reenter_rc;  /* the started callback tries siprec_handler_end_session */
  uint64_t sent_bytes;      /* of every message sent */
  int byes_sent;
  /* Called for every message sent, when set (per-address accounting). */
  void (*send_hook)(void *arg, const void *data, size_t len, const struct sockaddr *dest);
  void *send_hook_arg;
  /* Called for every log line delivered, when set (the level is the config's). */
  siprec_log_cb log_hook;
  void *log_hook_arg;
  /* The callbacks in the order they came, one letter each: a(port alloc),
   * o(ffered), s(tarted), u(pdated), e(nded), f(port free); and the
   * session and stream index of the last port freed. */
  char order[256];
  const siprec_session *last_freed_session;
  size_t last_freed_index;
} events;

typedef struct fixture {
  siprec_handler *h;
  events ev;
  struct sockaddr_in src, srs, other;
  char resp[16384];
  int status;
} fixture;

/* When set, fx_init calls it on the callbacks before the handler is made
 * (a test adds callbacks of its own, e.g. the media ones). */
extern void (*fx_callbacks_hook)(siprec_handler_callbacks *cbs);
/* When set, fx_init gives it to the handler as its allocator (a test
 * counting the handler's memory). */
extern const siprec_allocator *fx_allocator;

/* Create f->h with `cfg` (NULL: defaults); host_ports: ports from a callback. */
void fx_init(fixture *f, siprec_handler_config *cfg, int host_ports);

/* Feed a message over UDP from `from` (fx_feed: from the SRC, 192.0.2.1:5060)
 * to 192.0.2.10:5060 at `now`. The response lands in f->resp, its status in
 * f->status (0 for none). Returns the response's length, 0 for none, or
 * siprec_handler_process's error. */
int fx_feed_from(fixture *f, const struct sockaddr_in *from, const char *msg, uint64_t now);
int fx_feed(fixture *f, const char *msg, uint64_t now);

/* The same over any transport, from any address (IPv4 or IPv6) to `local`. */
int fx_feed_ex(fixture *f, const struct sockaddr *from, const struct sockaddr *local,
               siprec_transport transport, uint64_t conn, const char *msg, uint64_t now);

/* The To-tag of the last response. */
void fx_to_tag(const fixture *f, char *tag, size_t size);

/* INVITE (two streams) answered 200 at 1 s; its To-tag into `tag`. */
void fx_start_call(fixture *f, const char *call_id, char *tag, size_t size);

/* A response of the SRC to the last request the handler sent (f->ev.last_sent). */
void fx_answer_last_sent(fixture *f, int status, const char *extra, char *out, size_t size);

/* One PCMU packet (20 ms, SSRC 0x1234abcd) to the port of stream `index`
 * of `s`, from `from`, through siprec_handler_media(): its result. */
int fx_feed_rtp(fixture *f, siprec_session *s, size_t index, const struct sockaddr_in *from,
                uint16_t seq, uint32_t ts, uint64_t now);

/* Open sessions (the SESSIONS_ACTIVE counter). */
size_t fx_active(siprec_handler *h);

#endif
