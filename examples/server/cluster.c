/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-server's heartbeat and claims; see cluster.h. */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>

struct cluster {
  uv_loop_t *loop;
  struct redis_store *st;
  struct cluster_config cfg;
  uv_timer_t timer;
  int claiming;       /* a round is on its way: its callbacks name this object */
  int stopped;        /* cluster_stop ran: freed once the timer closed and no round is out */
  int timer_closed;
  uint64_t last_tick; /* loop time of the timer's last run */
  uint64_t connects;  /* Redis's connections when last seen */
};

void cluster_beat(struct cluster *c)
{
  redis_store_heartbeat(c->st, c->cfg.node_ttl_ms);
}

static void claim_round(struct cluster *c);

static void on_claimed(void *arg, const char *key, size_t key_len, const void *data, size_t len)
{
  struct cluster *c = arg;
  /* Stopping: the sessions stay in this node's set in Redis, where the
   * other nodes find them once its heartbeat ends. */
  if (c->stopped) {
    fprintf(stderr, "siprec-server: a session claimed while stopping is left to the other nodes\n");
    return;
  }
  c->cfg.claimed(c->cfg.user, key, key_len, data, len);
}

static void on_round(void *arg, size_t claimed)
{
  struct cluster *c = arg;
  c->claiming = 0;
  if (c->stopped) {
    if (c->timer_closed)
      free(c);
    return;
  }
  if (claimed) {
    fprintf(stderr, "siprec-server: took over %zu sessions of nodes that stopped\n", claimed);
    claim_round(c); /* more may be left: claimed in bounded scripts */
  }
}

static void claim_round(struct cluster *c)
{
  const struct redis_conn *conn = redis_store_conn(c->st);
  if (c->claiming || !redis_conn_is_up(conn) ||
      uv_now(c->loop) - redis_conn_up_since(conn) < c->cfg.node_ttl_ms)
    return;
  c->claiming = 1;
  redis_store_claim_orphans(c->st, c->cfg.claim_max, on_claimed, on_round, c);
}

static void on_timer(uv_timer_t *t)
{
  struct cluster *c = t->data;
  const struct redis_conn *conn = redis_store_conn(c->st);
  uint64_t now = uv_now(c->loop);
  /* Silent longer than a node may be (the loop stalled, or a new
   * connection after Redis was away): the others may have taken this
   * node's sessions over. The sessions it lost, it lets go. */
  int silent = c->last_tick && now - c->last_tick > c->cfg.node_ttl_ms;
  int reconnected = redis_conn_connects(conn) != c->connects;
  c->last_tick = now;
  if (redis_conn_is_up(conn)) {
    cluster_beat(c);
    if (silent || (reconnected && c->connects))
      redis_store_check_owned(c->st);
    c->connects = redis_conn_connects(conn);
  }
  claim_round(c);
}

int cluster_start(struct cluster **out, uv_loop_t *loop, struct redis_store *st,
                  const struct cluster_config *cfg)
{
  struct cluster *c = calloc(1, sizeof *c);
  if (!c || !cfg->claimed) {
    free(c);
    return -1;
  }
  c->loop = loop;
  c->st = st;
  c->cfg = *cfg;
  if (!c->cfg.heartbeat_ms)
    c->cfg.heartbeat_ms = 500;
  if (!c->cfg.node_ttl_ms)
    c->cfg.node_ttl_ms = 1500;
  if (!c->cfg.claim_max)
    c->cfg.claim_max = 64;
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  uv_timer_start(&c->timer, on_timer, c->cfg.heartbeat_ms, c->cfg.heartbeat_ms);
  *out = c;
  return 0;
}

static void on_closed(uv_handle_t *h)
{
  struct cluster *c = h->data;
  c->timer_closed = 1;
  if (!c->claiming)
    free(c);
}

void cluster_stop(struct cluster *c)
{
  if (!c)
    return;
  c->stopped = 1;
  uv_timer_stop(&c->timer);
  /* A claim round on its way still calls back (with its replies, or with
   * none when the connection closes): the object outlives it. */
  uv_close((uv_handle_t *)&c->timer, on_closed);
}
