/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's side of session recovery (--state DIR, docs/recovery.md):
 * the seal key, the handler's snapshots into the file store
 * (state_store.h), every snapshot restored at start, and the snapshots of
 * dialogs the handler asks for (SIPREC_PROCESS_STATE_WANTED) fetched and
 * restored. Loop thread only; nothing here blocks the loop once it runs.
 */
#ifndef SIPREC_SERVER_RECOVERY_H
#define SIPREC_SERVER_RECOVERY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <siprec/siprec.h>

struct recovery;

#ifdef SIPREC_SERVER_REDIS
#include "redis_conn.h"
#endif

/* --redis: the snapshots in Redis, shared with other nodes
 * (docs/deployment.md). */
struct recovery_redis {
#ifdef SIPREC_SERVER_REDIS
  struct redis_where where;
#endif
  const char *prefix;    /* NULL: "siprec:" */
  const char *node;      /* this node's id */
  uint64_t ttl_ms;       /* a session key's TTL; 0: one hour */
  uint64_t heartbeat_ms; /* 0: 500 */
  uint64_t node_ttl_ms;  /* a node silent this long is dead; 0: 1500 */
};

/** A session taken from its snapshot: the host sets up its recording. */
typedef void (*recovery_restored_cb)(void *user, siprec_session *s);

/**
 * Open the store: the files in `dir` (made 0700), or with `redis` Redis
 * (connecting in the background; `dir` then holds only the seal key and
 * the recordings' resume state), and read the seal key into `key`:
 * from `key_file` (32 raw bytes) when given, else DIR/key, made once with
 * 32 random bytes (0600) and reused. Synchronous: before the loop runs.
 * Prints why on failure. @return 0 or -1
 */
int recovery_open(struct recovery **out, uv_loop_t *loop, const char *dir, const char *key_file,
                  const struct recovery_redis *redis, uint8_t key[32]);

/** The handler to restore into, the clock it runs on, this node's SIP
 * address (the Contact of sessions taken over from other nodes), the
 * callback (also for those). */
void recovery_attach(struct recovery *r, siprec_handler *h, uint64_t (*now)(void),
                     const struct sockaddr *local, recovery_restored_cb restored, void *user);

/** The handler's snapshot callback's work: keep `data` under `key`, or
 * delete it (data NULL). */
void recovery_snapshot(struct recovery *r, const char *key, size_t key_len, const void *data,
                       size_t len);

/** Restore every snapshot of the store (at start). Those that cannot be
 * restored are logged: unreadable ones moved to DIR/bad/, those whose
 * ports are taken kept. @return 0 or -1 (the scan did not start) */
int recovery_restore_all(struct recovery *r);

/** Fetch the snapshot of `key` and restore it; then `done(arg, held)`:
 * held non-zero when the handler holds the dialog now (feed the message
 * again), zero when there is none (feed it as absent: 481).
 * @return 0 or -1 (done is not called) */
int recovery_fetch(struct recovery *r, const char *key, size_t key_len,
                   void (*done)(void *arg, int held), void *arg);

struct calls;

/** The recordings' resume states are kept in `resume_dir` (calls.h): a
 * session taken over from another node finds there the state that node
 * shared (recovery_resume_shared), and its recording goes on. `calls`
 * (may be NULL) writes them off the loop (calls_resume_keep). */
void recovery_share_resume(struct recovery *r, const char *resume_dir, struct calls *calls);

/** The handler is going (shutdown): what arrives from the store from now
 * on is not held (a fetch ends with held 0). Call before
 * siprec_handler_free(). */
void recovery_detach(struct recovery *r);

/** calls_config's resume_shared (user: the recovery): with Redis, each
 * resume state is kept there too, beside its session (deleted: json NULL). */
void recovery_resume_shared(void *user, const char *folder, const char *json, size_t len);

struct metrics_store_stats;

/** metrics_server_src's store_stats (`store`: the recovery). */
void recovery_stats(const void *store, struct metrics_store_stats *out);

/** The server begins to stop: it takes no session over any more, and its
 * heartbeat stops (what it hands over, other nodes take once it is gone,
 * should it not come back). */
void recovery_draining(struct recovery *r);

/** The server stops: with Redis, wait (2 s at most) for the writes on
 * their way, then close the connection and stop the heartbeat, so that the
 * loop can run dry. */
void recovery_close(struct recovery *r);

/** Free, once the loop has run dry (no operation pending). */
void recovery_free(struct recovery *r);

#endif
