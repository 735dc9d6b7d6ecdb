/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's part in a group of nodes sharing a Redis store
 * (docs/deployment.md): it renews its heartbeat every `heartbeat_ms`
 * (expiring after `node_ttl_ms`), and as often looks for nodes whose
 * heartbeat is gone and claims their sessions (redis_store.h: one node wins
 * each), which the host then takes over (siprec_handler_take_over: new
 * ports, a re-INVITE to each SRC).
 *
 * Redis away and back: no node is declared dead until this node has been
 * connected for `node_ttl_ms` again, so that the others, reconnecting as
 * fast, have renewed theirs (a Redis restarted from a dump brings old
 * heartbeats back, or none).
 *
 * Loop thread only.
 */
#ifndef SIPREC_SERVER_CLUSTER_H
#define SIPREC_SERVER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "redis_store.h"

struct cluster_config {
  uint64_t heartbeat_ms; /* default 500 */
  uint64_t node_ttl_ms;  /* default 1500: a node silent this long is dead */
  unsigned claim_max;    /* sessions claimed per dead node per script (default 64) */
  /* A session claimed from a dead node: take it over. */
  void (*claimed)(void *user, const char *key, size_t key_len, const void *data, size_t len);
  void *user;
};

struct cluster;

/** Start beating and watching (the first heartbeat goes out when Redis is
 * up: call cluster_beat() from the store's up callback). @return 0 or -1 */
int cluster_start(struct cluster **out, uv_loop_t *loop, struct redis_store *st,
                  const struct cluster_config *cfg);

/** A heartbeat now (Redis just came up). */
void cluster_beat(struct cluster *c);

/** Stop (the heartbeat then expires: others take over what is left); the
 * object is freed once the loop has closed its timer and a claim round on
 * its way has called back (sessions it claims meanwhile are left in this
 * node's set, for the others). */
void cluster_stop(struct cluster *c);

#endif
