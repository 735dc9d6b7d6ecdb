/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's TCP connections: who is accepted (--allow, the counts, the
 * descriptors kept in reserve), framing, back-pressure on a peer that does
 * not read its answers, and the timeouts that close what sits idle, half
 * sent or unread. Every bound is one of struct net_limits; each is there
 * because a hostile peer could otherwise take the server's memory or
 * descriptors (issue 9).
 */
#include "net_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A connection's buffer may hold one whole message plus what follows it. */
#define CONN_SLACK 65536
/* At most one line about refused and closed connections per this many ms. */
#define COUNTS_LOG_MS 5000

static uint64_t now_ms(const struct net *n)
{
  return uv_now(n->loop);
}

/* ---------------------------------------------------------------------- */
/* Counting what was refused or closed                                      */

static void log_counts(struct net *n, int force)
{
  static const char *const names[NET_COUNTS] = {
    "not in --allow", "--tcp-max-conns", "--tcp-max-conns-per-ip", "--fd-reserve", "accept failed",
    "--tcp-message-timeout-ms", "--tcp-idle-timeout-ms", "--tcp-write-timeout-ms",
  };
  uint64_t now = now_ms(n);
  if (!force && now - n->counts_since < COUNTS_LOG_MS)
    return;
  char text[512];
  size_t used = 0;
  for (int i = 0; i < NET_COUNTS; i++) {
    if (n->counts[i] && used < sizeof text)
      used += (size_t)snprintf(text + used, sizeof text - used, "%s %lu %s", used ? "," : "",
                               n->counts[i], names[i]);
    n->counts[i] = 0;
  }
  if (used)
    fprintf(stderr, "siprec-server: tcp connections refused or closed in %.1f s:%s\n",
            (double)(now - n->counts_since) / 1000.0, text);
  n->counts_since = now;
}

/* One more refusal or close: counted, and said at most every few seconds,
 * so that a flood cannot flood stderr too. */
static void count(struct net *n, enum net_count what)
{
  n->counts[what]++;
  log_counts(n, 0);
}

/* ---------------------------------------------------------------------- */
/* Closing                                                                  */

static void on_conn_closed(uv_handle_t *h)
{
  struct conn *c = h->data;
  free(c->buf);
  free(c);
}

void tcp_close(struct conn *c)
{
  if (c->closing)
    return;
  c->closing = 1;
  if (c->counted)
    c->net->nconns--;
  *c->pprev = c->next;
  if (c->next)
    c->next->pprev = c->pprev;
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
  net_maybe_finish(c->net);
}

static void close_counted(struct conn *c, enum net_count why)
{
  count(c->net, why);
  tcp_close(c);
}

void tcp_close_all(struct net *n)
{
  while (n->conns)
    tcp_close(n->conns);
  if (n->sweep_ms)
    uv_close((uv_handle_t *)&n->sweep, NULL);
  log_counts(n, 1);
}

/* ---------------------------------------------------------------------- */
/* Sending, and pausing a peer that does not read                           */

static struct conn *find_conn(struct net *n, uint64_t id)
{
  for (struct conn *c = n->conns; c; c = c->next)
    if (c->id == id)
      return c->closing ? NULL : c;
  return NULL;
}

static size_t queued(struct conn *c)
{
  return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void conn_feed(struct conn *c, const char *data, size_t len);

/* The answers pile up: take no more requests until they have gone out. */
static void conn_pause(struct conn *c)
{
  if (c->paused)
    return;
  c->paused = 1;
  c->paused_at = now_ms(c->net);
  uv_read_stop((uv_stream_t *)&c->tcp);
}

/* The queue drained: the messages read before the pause first, then the
 * socket again. */
static void conn_resume(struct conn *c)
{
  c->paused = 0;
  /* The time paused was ours, not the peer's: a message it had begun gets
   * it back. */
  c->partial_at += now_ms(c->net) - c->paused_at;
  if (c->len)
    conn_feed(c, c->buf, c->len);
  if (!c->closing && !c->paused)
    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

static void on_tcp_written(uv_write_t *req, int status)
{
  struct net *n = req->data;
  struct conn *c = req->handle->data;
  if (status < 0 && status != UV_ECANCELED)
    fprintf(stderr, "siprec-server: tcp write: %s\n", uv_strerror(status));
  free(req);
  if (!c->closing && status >= 0) {
    c->active_at = now_ms(n);
    if (c->paused && queued(c) <= n->lim.max_queue / 4)
      conn_resume(c);
  }
  net_sent_one(n);
}

int tcp_send(struct net *n, const void *data, size_t len, uint64_t conn_id)
{
  struct conn *c = find_conn(n, conn_id);
  if (!c)
    return UV_ENOTCONN;
  uv_buf_t b = uv_buf_init((char *)(uintptr_t)data, (unsigned)len);
  int rc = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (rc == (int)len)
    return 0;
  if (rc < 0 && rc != UV_EAGAIN)
    return rc;
  size_t done = rc > 0 ? (size_t)rc : 0, rest = len - done;
  size_t max = n->lim.max_queue;
  if (max && queued(c) + rest > max) {
    /* Paused at half the limit, the peer still left the rest unread: it
     * will not read, and what we keep for it is bounded here. */
    close_counted(c, NET_CLOSED_WRITE);
    return UV_ENOBUFS;
  }
  uv_write_t *req = malloc(sizeof *req + rest);
  if (!req)
    return UV_ENOMEM;
  memcpy(req + 1, (const char *)data + done, rest);
  b = uv_buf_init((char *)(req + 1), (unsigned)rest);
  req->data = n;
  rc = uv_write(req, (uv_stream_t *)&c->tcp, &b, 1, on_tcp_written);
  if (rc < 0) {
    free(req);
    return rc;
  }
  n->pending++;
  if (max && queued(c) >= max / 2)
    conn_pause(c);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Reading and framing                                                      */

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  (void)suggested;
  struct conn *c = h->data;
  /* Into the shared buffer: a connection keeps only the bytes of an
   * incomplete message, not a read buffer of its own. */
  *buf = uv_buf_init(c->net->rxbuf, sizeof c->net->rxbuf);
}

static int only_crlf(const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i] != '\r' && p[i] != '\n')
      return 0;
  return 1;
}

static void say_closed(struct conn *c, const char *why)
{
  char who[64];
  fprintf(stderr, "siprec-server: tcp %s: %s, closed\n",
          net_addr_text((struct sockaddr *)&c->peer, who, sizeof who), why);
}

/* Room for `want` bytes in c->buf, grown by doubling (a message that
 * trickles in is not copied again for every byte). */
static int conn_reserve(struct conn *c, size_t want)
{
  size_t limit = c->net->max_message + CONN_SLACK;
  if (want > limit) {
    say_closed(c, "message too long");
    tcp_close(c);
    return -1;
  }
  if (want <= c->cap)
    return 0;
  size_t cap = c->cap ? c->cap : 4096;
  while (cap < want)
    cap *= 2;
  if (cap > limit)
    cap = limit;
  char *nb = realloc(c->buf, cap);
  if (!nb) {
    say_closed(c, "out of memory");
    tcp_close(c);
    return -1;
  }
  c->buf = nb;
  c->cap = cap;
  return 0;
}

/* Hand every whole message in data[0..len) (the shared read buffer, or
 * c->buf itself) to the server, until the connection pauses or closes;
 * keep the rest at the start of c->buf. */
static void conn_feed(struct conn *c, const char *data, size_t len)
{
  struct net *n = c->net;
  size_t off = 0;
  while (!c->closing && !c->paused && off < len) {
    size_t m = 0;
    int framed = siprec_handler_frame(data + off, len - off, n->max_message, &m);
    if (framed == 0)
      break;
    if (framed < 0) {
      say_closed(c, "broken stream");
      tcp_close(c);
      return;
    }
    const char *msg = data + off;
    off += m;
    c->framed = 1;
    if (only_crlf(msg, m)) {
      /* RFC 5626 keep-alive: a double CRLF ping gets a CRLF pong. */
      if (m >= 4)
        tcp_send(n, "\r\n", 2, c->id);
      continue;
    }
    n->cb(n->user, msg, m, SIPREC_TRANSPORT_TCP, (struct sockaddr *)&c->peer,
          (struct sockaddr *)&c->local, c->id);
  }
  if (c->closing)
    return;
  size_t rest = len - off;
  if (rest == 0) {
    /* Nothing held: an idle connection keeps no buffer. */
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
    return;
  }
  if (data == c->buf)
    memmove(c->buf, data + off, rest);
  else if (conn_reserve(c, rest) == 0)
    memcpy(c->buf, data + off, rest);
  else
    return;
  c->len = rest;
  /* What is left began in this read: the message timeout counts from here. */
  if (off > 0)
    c->partial_at = now_ms(n);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  struct conn *c = s->data;
  struct net *n = c->net;
  if (nread < 0) {
    if (nread != UV_EOF)
      say_closed(c, uv_strerror((int)nread));
    tcp_close(c);
    return;
  }
  if (nread == 0)
    return;
  c->active_at = now_ms(n);
  if (!n->receiving) {
    /* Shutting down: the SRC's answers to our BYEs are read and dropped,
     * so that it sees its connection closed cleanly, not reset. */
    return;
  }
  if (c->len == 0) {
    c->partial_at = c->active_at;
    conn_feed(c, buf->base, (size_t)nread);
    return;
  }
  /* The rest of a message begun earlier: appended to it. */
  if (conn_reserve(c, c->len + (size_t)nread) < 0)
    return;
  memcpy(c->buf + c->len, buf->base, (size_t)nread);
  c->len += (size_t)nread;
  conn_feed(c, c->buf, c->len);
}

/* ---------------------------------------------------------------------- */
/* Timeouts                                                                 */

/* Why `c` should be closed now, or NET_COUNTS when it may stay. */
static enum net_count overdue(const struct conn *c, uint64_t now)
{
  const struct net_limits *l = &c->net->lim;
  if (c->paused)
    return l->write_ms && now - c->paused_at >= l->write_ms ? NET_CLOSED_WRITE : NET_COUNTS;
  /* A connection is opened to send a message: until one is complete, the
   * time since the accept counts as that message's. */
  if (l->message_ms && (c->len || !c->framed) && now - c->partial_at >= l->message_ms)
    return NET_CLOSED_MESSAGE;
  if (l->idle_ms && !c->holds && !c->len && now - c->active_at >= l->idle_ms)
    return NET_CLOSED_IDLE;
  return NET_COUNTS;
}

static void on_sweep(uv_timer_t *t)
{
  struct net *n = t->data;
  uint64_t now = now_ms(n);
  for (struct conn *c = n->conns, *next; c; c = next) {
    next = c->next;
    enum net_count why = overdue(c, now);
    if (why != NET_COUNTS)
      close_counted(c, why);
  }
  log_counts(n, 0);
}

void tcp_init(struct net *n)
{
  struct net_limits *l = &n->lim;
  if (l->fd_limit > 0 && l->fd_reserve > l->fd_limit / 2) {
    /* A reserve as large as the limit would refuse every connection. */
    fprintf(stderr, "siprec-server: --fd-reserve %d lowered to %d, half of the %d descriptors "
            "allowed\n", l->fd_reserve, l->fd_limit / 2, l->fd_limit);
    l->fd_reserve = l->fd_limit / 2;
  }
  /* One sweep of every connection a quarter of the shortest timeout. */
  uint64_t shortest = 0;
  const uint64_t timeouts[] = { n->lim.idle_ms, n->lim.message_ms, n->lim.write_ms };
  for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++)
    if (timeouts[i] && (!shortest || timeouts[i] < shortest))
      shortest = timeouts[i];
  n->counts_since = now_ms(n);
  if (!shortest)
    return;
  n->sweep_ms = shortest / 4 < 10 ? 10 : shortest / 4 > 1000 ? 1000 : shortest / 4;
  uv_timer_init(n->loop, &n->sweep);
  n->sweep.data = n;
  uv_timer_start(&n->sweep, on_sweep, n->sweep_ms, n->sweep_ms);
  /* The sweep alone never keeps the loop running. */
  uv_unref((uv_handle_t *)&n->sweep);
}

void net_conn_hold(struct net *n, uint64_t conn_id, int delta)
{
  struct conn *c = find_conn(n, conn_id);
  if (!c)
    return;
  if (delta > 0)
    c->holds++;
  else if (c->holds > 0)
    c->holds--;
}

/* ---------------------------------------------------------------------- */
/* Accepting                                                                */

static int same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return 0;
  if (a->ss_family == AF_INET6)
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
  return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
         ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

/* Why the new connection `c` is refused, or NET_COUNTS to take it. */
static enum net_count refusal(struct net *n, struct conn *c)
{
  const struct net_limits *l = &n->lim;
  if (n->accept && !n->accept(n->user, (struct sockaddr *)&c->peer))
    return NET_REFUSED_ALLOW;
  /* Descriptors are handed out lowest first: descriptor k open means 0..k
   * are too, so keeping every connection below fd_limit - fd_reserve leaves
   * the reserve for session files whatever peers do. */
  uv_os_fd_t fd;
  if (l->fd_limit > 0 && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
      (long)fd >= (long)l->fd_limit - l->fd_reserve)
    return NET_REFUSED_FDS;
  if (l->max_conns && n->nconns >= l->max_conns)
    return NET_REFUSED_TOTAL;
  if (l->max_conns_per_ip) {
    size_t same = 0;
    for (struct conn *o = n->conns; o; o = o->next)
      same += o != c && same_ip(&o->peer, &c->peer);
    if (same >= l->max_conns_per_ip)
      return NET_REFUSED_PER_IP;
  }
  return NET_COUNTS;
}

void tcp_on_connection(uv_stream_t *server, int status)
{
  struct listener *l = server->data;
  struct net *n = l->net;
  /* An error (EMFILE included: libuv then accepts and closes the pending
   * connection on a descriptor it keeps spare, so the loop does not spin)
   * leaves nothing to do. */
  if (status < 0 || !n->receiving) {
    if (status < 0)
      count(n, NET_REFUSED_ERROR);
    return;
  }
  struct conn *c = calloc(1, sizeof *c);
  if (!c)
    return;
  uv_tcp_init(n->loop, &c->tcp);
  c->tcp.data = c;
  c->net = n;
  c->id = ++n->last_conn_id;
  c->next = n->conns;
  if (c->next)
    c->next->pprev = &c->next;
  c->pprev = &n->conns;
  n->conns = c;
  c->active_at = c->partial_at = now_ms(n);
  int len = (int)sizeof c->peer;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
      uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len) < 0) {
    close_counted(c, NET_REFUSED_ERROR);
    return;
  }
  enum net_count why = refusal(n, c);
  if (why != NET_COUNTS) {
    close_counted(c, why);
    return;
  }
  c->counted = 1;
  n->nconns++;
  len = (int)sizeof c->local;
  uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&c->local, &len);
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read) < 0)
    tcp_close(c);
}
