/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's snapshot store on Redis (--redis, --redis-sentinel;
 * docs/deployment.md): the siprec_store (siprec/store.h) that several
 * nodes share, so that a session outlives the machine that held it.
 *
 * Keys, under the prefix P (--redis-prefix, default "siprec:"):
 *   P s:KEY     a hash: `snap` (the snapshot), `owner` (the node that
 *               holds the session); its TTL (--redis-ttl) is refreshed
 *               while the session lives, so a store nobody tends empties
 *               itself
 *   P n:NODE    the set of the keys NODE owns
 *   P nodes     the set of the nodes that own sessions or did
 *   P hb:NODE   NODE's heartbeat (cluster.h), gone when it is not renewed
 *   P r:NAME    what the host keeps beside a session (the recording's
 *               resume state: a node taking the session over goes on with
 *               its next segment)
 * Each write is one Lua script (EVAL), so that it is atomic: a put or a
 * delete writes only a key this node owns (or nobody does), so a node
 * that lost a session to another (it was thought dead) cannot overwrite
 * the new owner's state: it is told (the `lost` callback) instead; a
 * claim moves a dead node's sessions to one surviving node, and when two
 * nodes claim one session, exactly one wins.
 *
 * Never blocks the loop (hiredis's asynchronous client, redis_conn.h).
 * Writes are ordered per key and coalesced (write_queue.h); the newest
 * value of each live key is kept in memory, so that while Redis is away
 * nothing is lost: writes wait, and when it is back (restarted, perhaps
 * empty, or failed over to a replica) every live session is written again
 * and this node's heartbeat and membership with it. A get of a key with a
 * write on its way answers from memory.
 *
 * Loop thread only.
 */
#ifndef SIPREC_SERVER_REDIS_STORE_H
#define SIPREC_SERVER_REDIS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <siprec/store.h>

#include "redis_conn.h"

struct redis_store;

struct redis_store_config {
  const char *prefix;  /* key prefix (default "siprec:") */
  const char *node;    /* this node's id (required; at most 128 bytes) */
  uint64_t ttl_ms;     /* a session key's TTL (default one hour) */
  /* A key this node wrote now belongs to another node (it took the
   * session over while this one was thought dead): stop holding it. */
  void (*lost)(void *user, const char *key, size_t key_len);
  /* Redis came back (after the first connection too). */
  void (*up)(void *user);
  void *user;
};

struct redis_store_stats {
  uint64_t writes;        /* puts and deletes that landed */
  uint64_t write_retries; /* writes sent again after Redis was away */
  uint64_t lost;          /* writes refused: another node owns the key */
  uint64_t claimed;       /* sessions claimed from dead nodes */
  uint64_t taken;         /* sessions taken for a request (redis_store_take) */
  uint64_t connects;      /* connections made (the first counts) */
  size_t sessions;        /* sessions this node keeps (written, or on their way) */
  int up;                 /* connected now */
};

/** Connect to `where` (in the background: the store works, writes wait,
 * until Redis answers). @return 0 or -1 (out of memory, bad config) */
int redis_store_new(struct redis_store **out, uv_loop_t *loop, const struct redis_where *where,
                    const struct redis_store_config *cfg);

/** The table for siprec_store_new(), with the redis_store as `impl`; its
 * close frees the store. Its scan walks P s:* with SCAN (never KEYS). */
extern const siprec_store_ops redis_store_ops;

/** Call `each` for every key this node owns (SSCAN of P n:NODE), then
 * `done` (status 0, or SIPREC_EAGAIN while Redis is away). */
int redis_store_scan_owned(struct redis_store *st, siprec_store_key_cb each,
                           siprec_store_done_cb done, void *arg);

/** Take `key` for this node, whoever owned it, and read its snapshot:
 * done(arg, status, previous owner was this node, data, len); status 0,
 * SIPREC_ENOTFOUND (no such session), SIPREC_EAGAIN (Redis away). */
typedef void (*redis_take_cb)(void *arg, int status, int was_mine, const void *data, size_t len);
int redis_store_take(struct redis_store *st, const char *key, size_t key_len, redis_take_cb done,
                     void *arg);

/** Renew this node's heartbeat (P hb:NODE, expiring after `ttl_ms`) and
 * its membership of P nodes. */
void redis_store_heartbeat(struct redis_store *st, uint64_t ttl_ms);

/** Claim, atomically, up to `max` sessions of every node whose heartbeat
 * is gone; `each` runs per claimed session (its key and snapshot), then
 * `done(arg, claimed)` once. A node with no session left is forgotten. */
typedef void (*redis_claim_cb)(void *arg, const char *key, size_t key_len, const void *data,
                               size_t len);
void redis_store_claim_orphans(struct redis_store *st, unsigned max, redis_claim_cb each,
                               void (*done)(void *arg, size_t claimed), void *arg);

/** A value beside the sessions (P r:NAME, e.g. a recording's resume
 * state) set, or deleted (data NULL), with the sessions' TTL: ordered and
 * coalesced per name, the newest kept in memory and written again, like
 * the sessions, when Redis comes back without it. */
void redis_store_aux_set(struct redis_store *st, const char *name, const void *data, size_t len);

/** Read P r:NAME (from memory when this node wrote it): `done(arg, data,
 * len)` once (data NULL: none, or Redis away). */
void redis_store_aux_get(struct redis_store *st, const char *name,
                         void (*done)(void *arg, const void *data, size_t len), void *arg);

/** Ask whether another node owns any of the sessions this node holds (it
 * was silent for longer than a node may be: its loop stalled, or Redis was
 * away, and the others may have taken them over); the `lost` callback runs
 * for each. */
void redis_store_check_owned(struct redis_store *st);

/** The connection's state. */
const struct redis_conn *redis_store_conn(const struct redis_store *st);

void redis_store_stats_get(const struct redis_store *st, struct redis_store_stats *out);

/** Writes given and not yet landed (for a shutdown's wait). */
size_t redis_store_pending(const struct redis_store *st);

/** Close the connection and free the store (writes still waiting are
 * dropped). The loop must run on for the connection's close. */
void redis_store_free(struct redis_store *st);

#endif
