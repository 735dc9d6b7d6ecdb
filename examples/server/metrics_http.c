/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "metrics_http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
  uv_async_t async; /* the HTTP thread's "render now" to the loop */
  struct MHD_Daemon *daemon;
  uint16_t port;
  metrics_render_fn render;
  void *user;
  struct metrics_http_config cfg;

  /* Loop thread only. */
  struct mt_writer *back;

  /* Under `mu`. */
  uv_mutex_t mu;
  uv_cond_t cv;
  struct mt_writer *front; /* the snapshot served */
  int have;                /* front holds one */
  uint64_t rendered_ns;    /* when it was rendered (uv_hrtime) */
  uint64_t render_ns;      /* how long that took */
  uint64_t renders;        /* renderings finished, failed ones included */
  uint64_t failures;       /* renderings that failed */
  int stopping;

  struct mt_writer bufs[2];
};

/* ---------------------------------------------------------------------- */
/* The loop's side                                                          */

static void render_now(struct metrics_http *m)
{
  uint64_t t0 = uv_hrtime();
  mt_reset(m->back);
  int rc = m->render(m->user, m->back);
  if (rc == 0 && mt_error(m->back))
    rc = -1; /* a renderer that ignored its writer's error */
  uint64_t t1 = uv_hrtime();
  uv_mutex_lock(&m->mu);
  if (rc == 0) {
    struct mt_writer *t = m->front;
    m->front = m->back;
    m->back = t;
    m->have = 1;
    m->rendered_ns = t1;
    m->render_ns = t1 - t0;
  } else {
    m->failures++;
  }
  m->renders++;
  uv_cond_broadcast(&m->cv);
  uv_mutex_unlock(&m->mu);
}

static void on_async(uv_async_t *a)
{
  render_now(a->data);
}

/* ---------------------------------------------------------------------- */
/* The HTTP thread's side                                                   */

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text,
                                  const char *allow)
{
  struct MHD_Response *r =
    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
  if (!r)
    return MHD_NO; /* no memory: libmicrohttpd closes the connection */
  enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
  if (ok == MHD_YES && allow)
    ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  if (ok == MHD_YES)
    ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

/* The snapshot wanted by a request that came now: a fresh one unless the
 * front is young enough. Waits for the loop at most wait_ms. Under `mu`. */
static void await_snapshot(struct metrics_http *m)
{
  uint64_t now = uv_hrtime();
  uint64_t min_age = (uint64_t)m->cfg.min_interval_ms * 1000000u;
  if (m->stopping || (m->have && now - m->rendered_ns < min_age))
    return;
  /* Wait for the rendering after this request: one already running may have
   * read the handler before the request came, and counts only as such. */
  uint64_t target = m->renders + 1;
  uv_async_send(&m->async);
  uint64_t deadline = now + (uint64_t)m->cfg.wait_ms * 1000000u;
  while (!m->stopping && m->renders < target) {
    now = uv_hrtime();
    if (now >= deadline || uv_cond_timedwait(&m->cv, &m->mu, deadline - now) == UV_ETIMEDOUT)
      break;
  }
}

/* The snapshot followed by this module's own families, in one malloc'd
 * buffer that libmicrohttpd frees. NULL when out of memory. */
static char *build_body(struct metrics_http *m, size_t *len, int *have)
{
  uv_mutex_lock(&m->mu);
  await_snapshot(m);
  *have = m->have;
  uint64_t age_ns = m->have ? uv_hrtime() - m->rendered_ns : 0;
  uint64_t render_ns = m->render_ns, failures = m->failures;
  size_t snap_len = 0;
  const char *snap = m->have ? mt_text(m->front, &snap_len) : "";
  char *body = malloc(snap_len + 1);
  if (body)
    memcpy(body, snap, snap_len);
  uv_mutex_unlock(&m->mu);
  if (!body || !*have) {
    free(body);
    return NULL;
  }

  struct mt_writer tail;
  mt_init(&tail);
  mt_family(&tail, "siprec_metrics_snapshot_age_seconds", MT_GAUGE,
            "Age of the snapshot served: how long ago the server's loop rendered it.");
  mt_sample_double(&tail, NULL, 0, (double)age_ns / 1e9);
  mt_family(&tail, "siprec_metrics_render_duration_seconds", MT_GAUGE,
            "How long the server's loop took to render that snapshot.");
  mt_sample_double(&tail, NULL, 0, (double)render_ns / 1e9);
  mt_family(&tail, "siprec_metrics_render_failures_total", MT_COUNTER,
            "Renderings that failed (the previous snapshot was kept).");
  mt_value(&tail, failures);
  size_t tail_len;
  const char *tail_text = mt_text(&tail, &tail_len);
  char *all = mt_error(&tail) ? NULL : realloc(body, snap_len + tail_len);
  if (all) {
    memcpy(all + snap_len, tail_text, tail_len);
    *len = snap_len + tail_len;
  } else {
    free(body);
  }
  mt_free(&tail);
  return all;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **ctx)
{
  (void)version;
  (void)upload_data;
  (void)upload_data_size;
  (void)ctx;
  struct metrics_http *m = cls;
  /* Answered at the first call, before any body: nothing here takes one
   * (libmicrohttpd then reads and drops it, or closes the connection). */
  if (strcmp(url, "/metrics") != 0)
    return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n", NULL);
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");

  size_t len = 0;
  int have = 0;
  char *body = build_body(m, &len, &have);
  if (!body)
    return have ? MHD_NO : reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n", NULL);
  struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
  if (ok == MHD_YES)
    ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (ok == MHD_YES)
    ok = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ok;
}

/* ---------------------------------------------------------------------- */
/* Start and stop                                                           */

static void say(char *err, size_t size, const char *what, int e)
{
  if (err && size)
    snprintf(err, size, "metrics: %s: %s", what, strerror(e));
}

/* A listening socket of our own rather than libmicrohttpd's: bind errors
 * come back with their errno, port 0 works, and IPv6 listens on IPv6 only. */
static int listen_on(const struct sockaddr *addr, unsigned backlog, uint16_t *port, char *err,
                     size_t err_size)
{
  socklen_t alen = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    say(err, err_size, "socket", errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr->sa_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  struct sockaddr_storage got;
  socklen_t glen = sizeof got;
  if (bind(fd, addr, alen) != 0) {
    say(err, err_size, "bind", errno);
  } else if (listen(fd, (int)backlog) != 0) {
    say(err, err_size, "listen", errno);
  } else if (getsockname(fd, (struct sockaddr *)&got, &glen) != 0) {
    say(err, err_size, "getsockname", errno);
  } else {
    *port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                            : ((struct sockaddr_in *)&got)->sin_port);
    return fd;
  }
  close(fd);
  return -1;
}

static void free_module(struct metrics_http *m)
{
  mt_free(&m->bufs[0]);
  mt_free(&m->bufs[1]);
  uv_cond_destroy(&m->cv);
  uv_mutex_destroy(&m->mu);
  free(m);
}

static void on_closed(uv_handle_t *h)
{
  free_module(h->data);
}

static void fill_config(struct metrics_http_config *c, const struct metrics_http_config *given)
{
  static const struct metrics_http_config defaults = {
    METRICS_HTTP_MAX_CONNECTIONS, METRICS_HTTP_MAX_PER_IP, METRICS_HTTP_TIMEOUT_S,
    METRICS_HTTP_MIN_INTERVAL_MS, METRICS_HTTP_WAIT_MS, METRICS_HTTP_MEMORY,
  };
  *c = given ? *given : defaults;
  if (!c->max_connections)
    c->max_connections = defaults.max_connections;
  if (!c->max_per_ip)
    c->max_per_ip = defaults.max_per_ip;
  if (!c->timeout_s)
    c->timeout_s = defaults.timeout_s;
  if (!c->min_interval_ms)
    c->min_interval_ms = defaults.min_interval_ms;
  if (!c->wait_ms)
    c->wait_ms = defaults.wait_ms;
  if (!c->memory)
    c->memory = defaults.memory;
}

int metrics_http_start(struct metrics_http **out, uv_loop_t *loop, const struct sockaddr *addr,
                       const struct metrics_http_config *cfg, metrics_render_fn render, void *user,
                       char *err, size_t err_size)
{
  if (err && err_size)
    err[0] = '\0';
  if (!out || !loop || !addr || !render ||
      (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)) {
    say(err, err_size, "start", EINVAL);
    return -1;
  }
  *out = NULL;
  struct metrics_http *m = calloc(1, sizeof *m);
  if (!m) {
    say(err, err_size, "start", ENOMEM);
    return -1;
  }
  fill_config(&m->cfg, cfg);
  m->render = render;
  m->user = user;
  mt_init(&m->bufs[0]);
  mt_init(&m->bufs[1]);
  m->front = &m->bufs[0];
  m->back = &m->bufs[1];
  if (uv_mutex_init(&m->mu) != 0) {
    free(m);
    say(err, err_size, "mutex", ENOMEM);
    return -1;
  }
  if (uv_cond_init(&m->cv) != 0) {
    uv_mutex_destroy(&m->mu);
    free(m);
    say(err, err_size, "condition variable", ENOMEM);
    return -1;
  }
  int fd = listen_on(addr, m->cfg.max_connections, &m->port, err, err_size);
  if (fd < 0) {
    free_module(m);
    return -1;
  }
  /* The first snapshot before the first request can come: a scrape right
   * after the start needs no round trip to the loop. */
  render_now(m);

  int rc = uv_async_init(loop, &m->async, on_async);
  if (rc != 0) {
    close(fd);
    free_module(m);
    if (err && err_size)
      snprintf(err, err_size, "metrics: uv_async_init: %s", uv_strerror(rc));
    return -1;
  }
  m->async.data = m;
  m->daemon = MHD_start_daemon(
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, on_request, m,
    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)m->cfg.max_connections,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)m->cfg.max_per_ip,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)m->cfg.timeout_s,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, m->cfg.memory,
    MHD_OPTION_END);
  if (!m->daemon) {
    int e = errno ? errno : EINVAL;
    /* libmicrohttpd closes the socket it was given when it stops; whether
     * it does when it fails to start is not documented: close it only if
     * it is still open (nothing else opens descriptors at a start). */
    if (fcntl(fd, F_GETFD) != -1)
      close(fd);
    uv_close((uv_handle_t *)&m->async, on_closed);
    say(err, err_size, "libmicrohttpd would not start", e);
    return -1;
  }
  *out = m;
  return 0;
}

uint16_t metrics_http_port(const struct metrics_http *m)
{
  return m ? m->port : 0;
}

void metrics_http_stop(struct metrics_http *m)
{
  if (!m)
    return;
  uv_mutex_lock(&m->mu);
  m->stopping = 1;
  uv_cond_broadcast(&m->cv); /* a request waiting for the loop: that is us, stop waiting */
  uv_mutex_unlock(&m->mu);
  /* Joins the HTTP thread and closes the listening socket; no uv_async_send
   * can come after it. */
  MHD_stop_daemon(m->daemon);
  m->daemon = NULL;
  uv_close((uv_handle_t *)&m->async, on_closed);
}
