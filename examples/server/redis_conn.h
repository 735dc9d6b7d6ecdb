/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's one connection to Redis (hiredis's asynchronous client on
 * libuv, through hiredis's libuv adapter): never blocks the loop, and is
 * always on its way back. The master is either given (standalone) or asked
 * of Sentinel (`SENTINEL get-master-addr-by-name NAME`, each sentinel in
 * turn: Debian's hiredis has no Sentinel client), and a master found so is
 * checked with ROLE, so that an old master that came back as a replica is
 * not written to. A lost or refused connection is retried after 100 ms,
 * doubling to 1 s, for as long as the process runs; commands given while
 * it is down fail at once (their callback runs with a NULL reply), and the
 * `up` callback tells the users when to send again.
 *
 * Loop thread only.
 */
#ifndef SIPREC_SERVER_REDIS_CONN_H
#define SIPREC_SERVER_REDIS_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <hiredis/hiredis.h>

/* At most this many sentinels. */
#define REDIS_CONN_MAX_SENTINELS 8

/* Where Redis is: `host`/`port` (standalone), or sentinels and the
 * master's name. */
struct redis_where {
  char host[64];
  uint16_t port;
  struct {
    char host[64];
    uint16_t port;
  } sentinels[REDIS_CONN_MAX_SENTINELS];
  size_t n_sentinels;
  char master[128];
};

/** Fill `w` from the command line's forms: "ADDR:PORT" (standalone), or
 * `sentinels` "ADDR:PORT[,ADDR:PORT...]" and the master's name. Numeric
 * addresses. @return 0 or -1 (malformed) */
int redis_where_parse(struct redis_where *w, const char *standalone, const char *sentinels,
                      const char *master);

struct redis_conn;

/** A reply: NULL when the connection went before one came (or never was).
 * Valid during the call only. */
typedef void (*redis_reply_cb)(void *arg, const redisReply *reply);

/** Connect (and stay connected) to `w`; `up(user)` runs after each
 * (re)connection, `down(user)` after each loss. @return 0 or -1 */
int redis_conn_new(struct redis_conn **out, uv_loop_t *loop, const struct redis_where *w,
                   void (*up)(void *user), void (*down)(void *user), void *user);

/** Non-zero while connected to a master. */
int redis_conn_is_up(const struct redis_conn *c);

/** The loop time (ms) when the current connection came up. */
uint64_t redis_conn_up_since(const struct redis_conn *c);

/** Send one command (binary-safe arguments); `cb` runs exactly once, with
 * the reply or NULL (also at once when down). cb may be NULL. */
void redis_conn_cmd(struct redis_conn *c, redis_reply_cb cb, void *arg, int argc,
                    const char **argv, const size_t *lens);

/** Close: pending commands get NULL replies; the object is freed once the
 * loop has run the close (the loop must run on). */
void redis_conn_close(struct redis_conn *c);

/** Connections made since the start (the first counts). */
uint64_t redis_conn_connects(const struct redis_conn *c);

#endif
