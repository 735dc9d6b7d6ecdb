/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "handler_fixture.h"
#include "rtp_build.h"

#include "det_random.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif


/* One letter of events.order. */
static void note(events *e, char c)
{
  size_t n = strlen(e->order);
  if (n + 1 < sizeof e->order) {
    e->order[n] = c;
    e->order[n + 1] = '\0';
  }
}

static siprec_decision on_offered(void *user, siprec_session *s, int *status)
{
  events *e = user;
  e->offered++;
  note(e, 'o');
  if (e->refuse_with == SIPREC_DECISION_DEFER) {
    siprec_session_ref(s);
    siprec_session_unref(e->deferred);
    e->deferred = s;
    return SIPREC_DECISION_DEFER;
  }
  if (e->refuse_with == SIPREC_DECISION_ACCEPT)
    return SIPREC_DECISION_ACCEPT;
  *status = e->refuse_with;
  return SIPREC_DECISION_REFUSE;
}

static void on_started(void *user, siprec_session *s)
{
  events *e = user;
  e->started++;
  note(e, 's');
  if (e->reenter)
    e->reenter_rc = siprec_handler_end_session(e->h, s, 0);
}

static void on_updated(void *user, siprec_session *s)
{
  events *e = user;
  e->updated++;
  note(e, 'u');
  e->last_changes = siprec_session_changes(s);
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)s;
  events *e = user;
  e->ended++;
  note(e, 'e');
  e->last_reason = r;
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  events *e = user;
  siprec_transport t = path->transport;
  const struct sockaddr *dest = path->remote;
  uint64_t conn = path->conn_id;
  e->sent++;
  e->sent_bytes += len;
  e->byes_sent += len > 4 && memcmp(data, "BYE ", 4) == 0;
  if (e->send_hook)
    e->send_hook(e->send_hook_arg, data, len, dest);
  e->last_transport = t;
  e->last_conn = conn;
  memcpy(&e->last_dest, dest,
         dest->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  snprintf(e->last_sent, sizeof e->last_sent, "%.*s", (int)len, (const char *)data);
  /* The first word of a request, the status code of a response. */
  const char *p = data;
  size_t n = strcspn(e->last_sent, " ");
  if (len > 8 && memcmp(p, "SIP/2.0 ", 8) == 0) {
    p += 8;
    n = 3;
  }
  size_t used = strlen(e->sent_log);
  snprintf(e->sent_log + used, sizeof e->sent_log - used, "%.*s\n", (int)n, p);
}

static void on_log(void *user, siprec_log_level level, const char *message)
{
  events *e = user;
  if (e->log_hook)
    e->log_hook(e->log_hook_arg, level, message);
}

static int port_alloc(void *user, siprec_session *s, size_t index, uint16_t *port)
{
  (void)s;
  events *e = user;
  if (e->port_limit && e->ports_in_use >= (size_t)e->port_limit)
    return -1;
  e->ports_in_use++;
  note(e, 'a');
  *port = (uint16_t)(30000 + 2 * index + 100 * e->ports_in_use);
  return 0;
}

static void port_free(void *user, siprec_session *s, size_t index, uint16_t port)
{
  (void)port;
  events *e = user;
  e->ports_in_use--;
  e->last_freed_session = s;
  e->last_freed_index = index;
  note(e, 'f');
}

static int acl(void *user, const siprec_session *s, const siprec_path *path)
{
  (void)s;
  (void)path;
  events *e = user;
  e->acl_calls++;
  return e->acl_allow;
}

void (*fx_callbacks_hook)(siprec_handler_callbacks *cbs);
const siprec_allocator *fx_allocator;

void fx_init(fixture *f, siprec_handler_config *cfg, int host_ports)
{
  memset(f, 0, sizeof *f);
  det_random_seed(0);
  siprec_handler_callbacks *cbs;
  ck_assert_int_eq(siprec_handler_callbacks_new(&cbs, NULL), 0);
  siprec_handler_callbacks_set_random(cbs, det_random);
  siprec_handler_callbacks_set_session_offered(cbs, on_offered);
  siprec_handler_callbacks_set_session_started(cbs, on_started);
  siprec_handler_callbacks_set_session_updated(cbs, on_updated);
  siprec_handler_callbacks_set_session_ended(cbs, on_ended);
  siprec_handler_callbacks_set_send(cbs, on_send);
  siprec_handler_callbacks_set_acl(cbs, acl);
  siprec_handler_callbacks_set_log(cbs, on_log);
  if (host_ports)
    siprec_handler_callbacks_set_ports(cbs, port_alloc, port_free);
  if (fx_callbacks_hook)
    fx_callbacks_hook(cbs);
  ck_assert_int_eq(siprec_handler_new(&f->h, cfg, cbs, &f->ev, fx_allocator), 0);
  siprec_handler_callbacks_free(cbs);
  f->ev.h = f->h;
  f->src = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(5060) };
  f->srs = f->src;
  f->other = f->src;
  inet_pton(AF_INET, "192.0.2.1", &f->src.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &f->srs.sin_addr);
  inet_pton(AF_INET, "198.51.100.7", &f->other.sin_addr);
}

int fx_feed_ex(fixture *f, const struct sockaddr *from, const struct sockaddr *local,
               siprec_transport transport, uint64_t conn, const char *msg, uint64_t now)
{
  const siprec_path path = { transport, local, from, conn };
  return fx_process(f->h, &path, msg, now, f->resp, sizeof f->resp, &f->status);
}

int fx_feed_from(fixture *f, const struct sockaddr_in *from, const char *msg, uint64_t now)
{
  return fx_feed_ex(f, (const struct sockaddr *)from, (const struct sockaddr *)&f->srs,
                    SIPREC_TRANSPORT_UDP, 0, msg, now);
}

int fx_feed(fixture *f, const char *msg, uint64_t now)
{
  return fx_feed_from(f, &f->src, msg, now);
}

void fx_to_tag(const fixture *f, char *tag, size_t size)
{
  ck_assert_msg(fx_resp_to_tag(f->resp, tag, size) == 0, "no To-tag in:\n%s", f->resp);
}

void fx_start_call(fixture *f, const char *call_id, char *tag, size_t size)
{
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", call_id, NULL, 1, call_id, "Require: siprec\r\n", fx_sdp2);
  ck_assert_int_gt(fx_feed(f, msg, 1000 * MS), 0);
  ck_assert_int_eq(f->status, 200);
  fx_to_tag(f, tag, size);
}

/* Copy header line `name` (with its CRLF) of `msg` into b. */
static void copy_header(const char *msg, const char *name, char **b, size_t *left)
{
  char key[32];
  snprintf(key, sizeof key, "\r\n%s: ", name);
  const char *p = strstr(msg, key);
  ck_assert_msg(p != NULL, "no %s in the request", name);
  p += 2;
  size_t n = strcspn(p, "\r") + 2;
  int w = snprintf(*b, *left, "%.*s", (int)n, p);
  *b += w;
  *left -= (size_t)w;
}

void fx_answer_last_sent(fixture *f, int status, const char *extra, char *out, size_t size)
{
  char *b = out;
  size_t left = size;
  int w = snprintf(b, left, "SIP/2.0 %d Whatever\r\n", status);
  b += w;
  left -= (size_t)w;
  static const char *const names[] = { "Via", "From", "To", "Call-ID", "CSeq" };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    copy_header(f->ev.last_sent, names[i], &b, &left);
  snprintf(b, left, "%sContent-Length: 0\r\n\r\n", extra ? extra : "");
}

size_t fx_active(siprec_handler *h)
{
  return (size_t)siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ACTIVE, 0);
}

int fx_feed_rtp(fixture *f, siprec_session *s, size_t index, const struct sockaddr_in *from,
                uint16_t seq, uint32_t ts, uint64_t now)
{
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(s, index, &info), 0);
  uint8_t buf[256];
  rtpb o = { .pt = 0, .seq = seq, .ts = ts, .ssrc = 0x1234abcd, .payload_len = 160 };
  size_t n = rtpb_build(buf, sizeof buf, &o);
  struct sockaddr_in local = f->srs;
  local.sin_port = htons(info.port);
  siprec_path p = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local, (struct sockaddr *)from, 0 };
  return siprec_handler_media(f->h, buf, n, &p, now);
}
