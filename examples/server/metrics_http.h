/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GET /metrics over HTTP (libmicrohttpd), for a host on a libuv loop.
 *
 * The design, and why:
 * - The metrics are rendered ON THE LOOP THREAD, because what they read (the
 *   handler's sessions, the server's own queues) belongs to the loop.
 * - HTTP runs on libmicrohttpd's own thread, never on the loop: parsing,
 *   timeouts, slow readers and a flood of connections cost the loop
 *   nothing, and a stalled loop still gets its scrapes answered.
 * - Rendering happens on request, not on a clock: a request whose snapshot
 *   is older than `min_interval_ms` wakes the loop (uv_async_send) and waits
 *   on a condition variable, at most `wait_ms`, for the loop to render a
 *   fresh snapshot into its back buffer and swap it to the front under the
 *   mutex. So an idle server renders nothing, a scrape sees values taken
 *   when it asked, and a scraper hammering the endpoint makes the loop
 *   render at most once per `min_interval_ms` (the rendering walks every
 *   open session: its cost grows with the load, so its rate must not follow
 *   the scrapers'). When the loop does not answer in time, the last snapshot
 *   is served and its age says how stale it is, which is exactly what an
 *   operator wants to see of a stuck loop.
 * - Every response ends with three families this module adds on the HTTP
 *   thread: siprec_metrics_snapshot_age_seconds,
 *   siprec_metrics_render_duration_seconds and
 *   siprec_metrics_render_failures_total (names the renderer must not use).
 * - The other way round, the loop never waits for the HTTP thread longer
 *   than a buffer swap under the mutex.
 * The alternative, libmicrohttpd without a thread driven from the loop
 * (uv_poll on its epoll descriptor, MHD_run), needs no locks but puts every
 * HTTP byte and every hostile connection on the thread that answers SIP.
 *
 * Bounds (struct metrics_http_config): connections at once, connections
 * from one IP address, an inactivity timeout, a per-connection memory pool
 * (which also bounds a request's headers). The timeout is libmicrohttpd's,
 * reset by every byte: a client that trickles bytes keeps its connection,
 * and the per-IP bound is what stops one such client from taking them all.
 *
 * Only GET (and HEAD, which every HTTP server owes its clients: the same
 * headers, no body) of exactly /metrics is served, as
 * "text/plain; version=0.0.4; charset=utf-8"; any other path gets 404, any
 * other method on /metrics 405 with Allow. libmicrohttpd parses HTTP.
 */
#ifndef SIPREC_SERVER_METRICS_HTTP_H
#define SIPREC_SERVER_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "metrics_text.h"

/* Defaults of struct metrics_http_config (a field left 0 takes them). */
#define METRICS_HTTP_MAX_CONNECTIONS 16
#define METRICS_HTTP_MAX_PER_IP 4
#define METRICS_HTTP_TIMEOUT_S 10
#define METRICS_HTTP_MIN_INTERVAL_MS 1000
#define METRICS_HTTP_WAIT_MS 1000
#define METRICS_HTTP_MEMORY 16384

struct metrics_http_config {
  unsigned max_connections; /* at once; more wait in the listen backlog */
  unsigned max_per_ip;      /* at once from one address; more are closed at once */
  unsigned timeout_s;       /* a connection idle this long is closed */
  unsigned min_interval_ms; /* a snapshot younger than this is served as it is */
  unsigned wait_ms;         /* how long a request waits for the loop's rendering */
  size_t memory;            /* bytes of libmicrohttpd's pool per connection */
};

/** Render the metrics into `w` (empty). Runs on the loop thread.
 * @return 0, or non-zero to keep the previous snapshot */
typedef int (*metrics_render_fn)(void *user, struct mt_writer *w);

struct metrics_http;

/**
 * Listen on `addr` (IPv4 or IPv6; port 0 picks a free port) and serve
 * /metrics. Call on the thread that runs `loop`: it renders the first
 * snapshot at once, and `render` runs on that thread from then on.
 * @param cfg  NULL for the defaults
 * @param err  where a failure is said (may be NULL)
 * @return 0, or -1 with the reason in `err`
 */
int metrics_http_start(struct metrics_http **out, uv_loop_t *loop, const struct sockaddr *addr,
                       const struct metrics_http_config *cfg, metrics_render_fn render, void *user,
                       char *err, size_t err_size);

/** The port listened on (the one picked, for port 0). */
uint16_t metrics_http_port(const struct metrics_http *m);

/**
 * Stop serving: requests that wait are answered with the last snapshot, the
 * HTTP thread is joined and the listening socket closed before this
 * returns, so `render` and what it reads may go right after. The memory is
 * freed by the loop when it runs the closing callback of the module's
 * handle (as for any libuv handle). Loop thread only; NULL is accepted.
 */
void metrics_http_stop(struct metrics_http *m);

#endif
