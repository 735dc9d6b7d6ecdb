/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-server's side of session recovery; see recovery.h. */
#include "recovery.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calls.h"
#include "metrics_server.h"
#include "state_store.h"
#ifdef SIPREC_SERVER_REDIS
#include "cluster.h"
#include "redis_store.h"
#endif

/* How long a stop waits for the snapshots on their way to Redis. */
#define CLOSE_WAIT_MS 2000

struct recovery {
  uv_loop_t *loop;
  char *dir;
  struct state_store *store;   /* --state DIR alone: files */
  struct redis_store *redis;   /* --redis: Redis (the files hold no snapshot) */
  struct cluster *cluster;
  siprec_store *api; /* the store through siprec/store.h (its close frees the backend) */
  siprec_handler *h;
  uint64_t (*now)(void);
  struct sockaddr_storage local; /* this node's SIP address, for take-overs */
  recovery_restored_cb restored;
  void *user;
  size_t scanning, restored_n, failed_n;
  int restore_wanted; /* Redis: restore_all once it is up */
  char *resume_dir;   /* the recordings' resume states (calls_resume.c), or NULL */
  struct calls *calls; /* writes them off the loop, or NULL */
  uv_timer_t close_wait;
  uint64_t close_deadline;
};

/* One get on its way, and what to do with the value. */
struct fetch {
  struct recovery *r;
  char name[STATE_STORE_NAME_MAX];
  int at_start;                      /* restore_all's, else a wanted dialog's */
  void (*done)(void *arg, int held);
  void *arg;
};

struct move {
  uv_fs_t req;
  char *from, *to;
};

static int read_key(const char *path, uint8_t key[32])
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  uint8_t extra;
  ssize_t n = read(fd, key, 32);
  ssize_t more = n == 32 ? read(fd, &extra, 1) : 0;
  close(fd);
  return n == 32 && more == 0 ? 0 : -EINVAL;
}

/* DIR/key: read, or made once (O_EXCL: two servers starting at once do not
 * both write one). */
static int own_key(const char *dir, uint8_t key[32])
{
  char path[4096];
  snprintf(path, sizeof path, "%s/key", dir);
  int rc = read_key(path, key);
  if (rc != -ENOENT)
    return rc;
  if (getrandom(key, 32, 0) != 32)
    return -EIO;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return errno == EEXIST ? read_key(path, key) : -errno;
  rc = write(fd, key, 32) == 32 && fsync(fd) == 0 ? 0 : -EIO;
  close(fd);
  if (rc < 0)
    unlink(path);
  return rc;
}

#ifdef SIPREC_SERVER_REDIS
static void on_lost(void *user, const char *key, size_t key_len);
static void on_redis_up(void *user);
static void on_claimed(void *user, const char *key, size_t key_len, const void *data,
                       size_t len);

static int open_redis(struct recovery *r, const struct recovery_redis *rr)
{
  struct redis_store_config rc = {
    .prefix = rr->prefix, .node = rr->node, .ttl_ms = rr->ttl_ms,
    .lost = on_lost, .up = on_redis_up, .user = r,
  };
  struct cluster_config cc = {
    .heartbeat_ms = rr->heartbeat_ms, .node_ttl_ms = rr->node_ttl_ms,
    .claimed = on_claimed, .user = r,
  };
  if (redis_store_new(&r->redis, r->loop, &rr->where, &rc) < 0)
    return -EINVAL;
  if (siprec_store_new(&r->api, &redis_store_ops, r->redis, NULL) < 0) {
    redis_store_free(r->redis);
    r->redis = NULL;
    return -ENOMEM;
  }
  if (cluster_start(&r->cluster, r->loop, r->redis, &cc) < 0)
    return -ENOMEM;
  return 0;
}
#endif

int recovery_open(struct recovery **out, uv_loop_t *loop, const char *dir, const char *key_file,
                  const struct recovery_redis *redis, uint8_t key[32])
{
  *out = NULL;
  struct recovery *r = calloc(1, sizeof *r);
  if (!r || !(r->dir = strdup(dir))) {
    free(r);
    return -1;
  }
  r->loop = loop;
  uv_timer_init(loop, &r->close_wait);
  r->close_wait.data = r;
  size_t removed = 0;
  int rc = 0;
  if (redis) {
#ifdef SIPREC_SERVER_REDIS
    rc = mkdir(dir, 0700) < 0 && errno != EEXIST ? -errno : open_redis(r, redis);
#else
    rc = -ENOTSUP;
#endif
  } else {
    rc = state_store_open(&r->store, loop, dir, &removed);
    if (rc == 0 && siprec_store_new(&r->api, &state_store_ops, r->store, NULL) < 0) {
      state_store_free(r->store);
      r->store = NULL;
      rc = -ENOMEM;
    }
  }
  if (rc < 0) {
    fprintf(stderr, "siprec-server: --state %s: %s\n", dir, strerror(-rc));
    recovery_free(r);
    return -1;
  }
  if (removed)
    fprintf(stderr, "siprec-server: --state %s: removed %zu unfinished writes (.tmp)\n", dir,
            removed);
  rc = key_file ? read_key(key_file, key) : own_key(dir, key);
  if (rc < 0) {
    fprintf(stderr, "siprec-server: %s%s: %s\n", key_file ? "--state-key " : "--state ",
            key_file ? key_file : dir,
            rc == -EINVAL ? "the seal key must be 32 raw bytes" : strerror(-rc));
    recovery_free(r);
    return -1;
  }
  char bad[4096];
  snprintf(bad, sizeof bad, "%s/bad", dir);
  if (mkdir(bad, 0700) < 0 && errno != EEXIST) {
    fprintf(stderr, "siprec-server: --state %s: cannot make bad/: %s\n", dir, strerror(errno));
    recovery_free(r);
    return -1;
  }
  *out = r;
  return 0;
}

void recovery_attach(struct recovery *r, siprec_handler *h, uint64_t (*now)(void),
                     const struct sockaddr *local, recovery_restored_cb restored, void *user)
{
  r->h = h;
  r->now = now;
  memset(&r->local, 0, sizeof r->local);
  if (local)
    memcpy(&r->local, local,
           local->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  r->restored = restored;
  r->user = user;
}

static void on_written(void *arg, int status, const void *data, size_t len)
{
  (void)data;
  (void)len;
  struct recovery *r = arg;
  (void)r;
  if (status < 0)
    fprintf(stderr, "siprec-server: a session's snapshot was not kept: %s\n",
            siprec_strerror(status));
}

void recovery_snapshot(struct recovery *r, const char *key, size_t key_len, const void *data,
                       size_t len)
{
  int rc = data ? siprec_store_put(r->api, key, key_len, data, len, on_written, r)
                : siprec_store_del(r->api, key, key_len, on_written, r);
  if (rc < 0)
    fprintf(stderr, "siprec-server: a session's snapshot was not kept: %s\n",
            siprec_strerror(rc));
}

static void on_moved(uv_fs_t *req)
{
  struct move *m = req->data;
  if (req->result < 0)
    fprintf(stderr, "siprec-server: cannot move %s aside: %s\n", m->from,
            uv_strerror((int)req->result));
  uv_fs_req_cleanup(req);
  free(m->from);
  free(m->to);
  free(m);
}

/* An unreadable snapshot goes to DIR/bad/ (on the pool: uv_fs_rename). */
static void move_aside(struct recovery *r, const char *name)
{
  struct move *m = calloc(1, sizeof *m);
  size_t n = strlen(r->dir) + strlen(name) + 8;
  if (!m || !(m->from = malloc(n)) || !(m->to = malloc(n))) {
    if (m)
      free(m->from);
    free(m);
    return;
  }
  snprintf(m->from, n, "%s/%s", r->dir, name);
  snprintf(m->to, n, "%s/bad/%s", r->dir, name);
  m->req.data = m;
  if (uv_fs_rename(r->loop, &m->req, m->from, m->to, on_moved) < 0) {
    free(m->from);
    free(m->to);
    free(m);
  }
}

/* Hold the session of snapshot `data` here: restored as it was (`over`
 * 0: this node's own, after a restart) or taken over (another node's: new
 * ports, a re-INVITE to the SRC). @return non-zero when the handler holds
 * the dialog now. */
static int hold(struct recovery *r, const char *name, const void *data, size_t len, int over)
{
  if (!r->h)
    return 0; /* detached: shutting down */
  siprec_session *s = NULL;
  int rc = over ? siprec_handler_take_over(r->h, data, len, (struct sockaddr *)&r->local,
                                           r->now(), &s)
                : siprec_handler_restore(r->h, data, len, r->now(), &s);
  if (rc == 0) {
    r->restored_n++;
    if (r->restored)
      r->restored(r->user, s);
    siprec_session_unref(s);
    return 1;
  }
  if (rc == SIPREC_EEXIST)
    return 1; /* held meanwhile (a request and the start's scan) */
  r->failed_n++;
  fprintf(stderr, "siprec-server: snapshot %s: cannot %s it: %s%s\n", name,
          over ? "take over" : "restore", siprec_strerror(rc),
          (rc == SIPREC_EPARSE || rc == SIPREC_ETOOBIG) && r->store ? " (moved to bad/)"
          : r->store                                                 ? " (kept)"
                                                                     : "");
  if ((rc == SIPREC_EPARSE || rc == SIPREC_ETOOBIG) && r->store)
    move_aside(r, name);
  return 0;
}

static void fetch_end(struct recovery *r, struct fetch *f, int held)
{
  if (f->at_start && --r->scanning == 0) {
    printf("restore_done restored=%zu failed=%zu\n", r->restored_n, r->failed_n);
    fflush(stdout);
  }
  if (f->done)
    f->done(f->arg, held);
  free(f);
}

static void on_got(void *arg, int status, const void *data, size_t len)
{
  struct fetch *f = arg;
  struct recovery *r = f->r;
  int held = 0;
  if (status == 0) {
    held = hold(r, f->name, data, len, 0);
  } else if (status == SIPREC_EPARSE) {
    fprintf(stderr, "siprec-server: snapshot %s: unreadable%s\n", f->name,
            r->store ? " (moved to bad/)" : "");
    if (r->store)
      move_aside(r, f->name);
  } else if (status != SIPREC_ENOTFOUND) {
    fprintf(stderr, "siprec-server: snapshot %s: %s\n", f->name, siprec_strerror(status));
  }
  fetch_end(r, f, held);
}

#ifdef SIPREC_SERVER_REDIS
/* A session another node held, taken over here once the recording's
 * resume state that node shared is in this node's resume folder, so that
 * its recording goes on with the next segment on the same timeline. */
struct take {
  struct recovery *r;
  struct fetch *f; /* a wanted dialog's fetch, or NULL (a claim) */
  char name[STATE_STORE_NAME_MAX];
  char session[33];
  size_t len;
  unsigned char data[]; /* the snapshot */
};

/* The session taken over, once its recording's resume state is in place
 * (the recording's next segment reads it). */
static void take_finish(struct take *t)
{
  struct recovery *r = t->r;
  int held = hold(r, t->name, t->data, t->len, 1);
  if (t->f)
    fetch_end(r, t->f, held);
  free(t);
}

static void on_resume_kept(void *arg, int rc)
{
  struct take *t = arg;
  if (rc < 0)
    fprintf(stderr, "siprec-server: session %s: cannot keep the resume state it came with: %s\n",
            t->session, strerror(-rc));
  take_finish(t);
}

static void on_resume_state(void *arg, const void *json, size_t len)
{
  struct take *t = arg;
  struct recovery *r = t->r;
  if (json && r->resume_dir && r->h) {
    /* Written and fsynced by the recordings' writer: a failover brings
     * many sessions at once, and the loop reads every call's audio. */
    if (calls_resume_keep(r->calls, t->session, json, len, on_resume_kept, t) == 0)
      return;
    if (calls_resume_write(r->resume_dir, t->session, json, len) < 0)
      fprintf(stderr, "siprec-server: session %s: cannot keep the resume state it came with\n",
              t->session);
  }
  take_finish(t);
}

static void take_over(struct recovery *r, const char *name, const void *data, size_t len,
                      struct fetch *f)
{
  siprec_snapshot_info info;
  struct take *t = NULL;
  if (r->resume_dir && siprec_snapshot_inspect(data, len, &info) == 0 && info.session_id[0])
    t = malloc(sizeof *t + len);
  if (!t) {
    int held = hold(r, name, data, len, 1); /* no recording to go on with */
    if (f)
      fetch_end(r, f, held);
    return;
  }
  t->r = r;
  t->f = f;
  snprintf(t->name, sizeof t->name, "%s", name);
  snprintf(t->session, sizeof t->session, "%s", info.session_id);
  t->len = len;
  memcpy(t->data, data, len);
  redis_store_aux_get(r->redis, t->session, on_resume_state, t);
}

/* A wanted dialog taken from the shared store: ours already (restored), or
 * another node's (taken over: that node stopped answering, or Kamailio
 * would not have sent the request here). */
static void on_taken(void *arg, int status, int was_mine, const void *data, size_t len)
{
  struct fetch *f = arg;
  if (status == 0 && !was_mine) {
    take_over(f->r, f->name, data, len, f);
    return;
  }
  int held = 0;
  if (status == 0)
    held = hold(f->r, f->name, data, len, 0);
  else if (status != SIPREC_ENOTFOUND)
    fprintf(stderr, "siprec-server: snapshot %s: %s\n", f->name, siprec_strerror(status));
  fetch_end(f->r, f, held);
}

static void on_claimed(void *user, const char *key, size_t key_len, const void *data,
                       size_t len)
{
  struct recovery *r = user;
  char name[STATE_STORE_NAME_MAX];
  if (!r->h || state_store_name(key, key_len, name, sizeof name) < 0)
    return;
  take_over(r, name, data, len, NULL);
}

static void on_redis_up(void *user)
{
  struct recovery *r = user;
  if (r->cluster)
    cluster_beat(r->cluster);
  if (r->restore_wanted) {
    r->restore_wanted = 0;
    if (recovery_restore_all(r) < 0)
      fprintf(stderr, "siprec-server: redis: cannot scan this node's sessions\n");
  }
}

/* Another node took a session this node still holds (this one was thought
 * dead): the other records it now. */
static void on_lost(void *user, const char *key, size_t key_len)
{
  struct recovery *r = user;
  if (!r->h)
    return;
  /* A lookup, not a walk: a node that stalled may lose every session. */
  siprec_session *s = siprec_handler_find_session(r->h, key, key_len);
  if (s && siprec_handler_release_session(r->h, s, r->now()) == 0)
    fprintf(stderr, "siprec-server: session %s: released to the node that took it over\n",
            siprec_session_id(s));
  siprec_session_unref(s);
}
#endif

static int fetch_start(struct recovery *r, const char *key, size_t key_len, int at_start,
                       void (*done)(void *, int), void *arg)
{
  struct fetch *f = calloc(1, sizeof *f);
  if (!f || state_store_name(key, key_len, f->name, sizeof f->name) < 0) {
    free(f);
    return -1;
  }
  f->r = r;
  f->at_start = at_start;
  f->done = done;
  f->arg = arg;
  if (at_start)
    r->scanning++;
#ifdef SIPREC_SERVER_REDIS
  if (r->redis && !at_start) {
    if (redis_store_take(r->redis, key, key_len, on_taken, f) == 0)
      return 0;
    free(f);
    return -1;
  }
#endif
  if (siprec_store_get(r->api, key, key_len, on_got, f) < 0) {
    if (at_start)
      r->scanning--;
    free(f);
    return -1;
  }
  return 0;
}

static void on_key(void *arg, const char *key, size_t key_len)
{
  struct recovery *r = arg;
  if (fetch_start(r, key, key_len, 1, NULL, NULL) < 0)
    fprintf(stderr, "siprec-server: a snapshot was not fetched (out of memory)\n");
}

static void on_scanned(void *arg, int status, const void *data, size_t len)
{
  (void)data;
  (void)len;
  struct recovery *r = arg;
  if (status < 0)
    fprintf(stderr, "siprec-server: --state %s: scan: %s\n", r->dir, siprec_strerror(status));
  if (--r->scanning == 0) {
    printf("restore_done restored=%zu failed=%zu\n", r->restored_n, r->failed_n);
    fflush(stdout);
  }
}

int recovery_restore_all(struct recovery *r)
{
  int rc;
#ifdef SIPREC_SERVER_REDIS
  if (r->redis && !redis_conn_is_up(redis_store_conn(r->redis))) {
    r->restore_wanted = 1; /* when it is up (the start does not wait for it) */
    return 0;
  }
#endif
  r->scanning++; /* the scan itself, until its done */
#ifdef SIPREC_SERVER_REDIS
  if (r->redis)
    rc = redis_store_scan_owned(r->redis, on_key, on_scanned, r); /* this node's own */
  else
#endif
    rc = siprec_store_scan(r->api, on_key, on_scanned, r);
  if (rc < 0) {
    r->scanning--;
    return -1;
  }
  return 0;
}

int recovery_fetch(struct recovery *r, const char *key, size_t key_len,
                   void (*done)(void *arg, int held), void *arg)
{
  return fetch_start(r, key, key_len, 0, done, arg);
}

/* The stop's wait: Redis's writes land (or the wait ends), then the
 * connection closes and the loop can run dry. */
static void on_close_wait(uv_timer_t *t)
{
  struct recovery *r = t->data;
#ifdef SIPREC_SERVER_REDIS
  if (redis_store_pending(r->redis) && redis_conn_is_up(redis_store_conn(r->redis)) &&
      uv_now(r->loop) < r->close_deadline)
    return;
  if (redis_store_pending(r->redis))
    fprintf(stderr, "siprec-server: redis: %zu snapshot writes not landed at the stop\n",
            redis_store_pending(r->redis));
  cluster_stop(r->cluster);
  r->cluster = NULL;
  siprec_store_free(r->api); /* closes the connection, frees r->redis */
  r->api = NULL;
  r->redis = NULL;
#endif
  uv_close((uv_handle_t *)&r->close_wait, NULL);
}

void recovery_stats(const void *store, struct metrics_store_stats *out)
{
  const struct recovery *r = store;
  memset(out, 0, sizeof *out);
  out->restored = r->restored_n;
  out->restore_failures = r->failed_n;
#ifdef SIPREC_SERVER_REDIS
  if (r->redis) {
    struct redis_store_stats st;
    redis_store_stats_get(r->redis, &st);
    out->redis = 1;
    out->up = st.up;
    out->writes = st.writes;
    out->write_retries = st.write_retries;
    out->lost = st.lost;
    out->claimed = st.claimed;
    out->taken = st.taken;
    out->connects = st.connects;
  }
#endif
}

void recovery_share_resume(struct recovery *r, const char *resume_dir, struct calls *calls)
{
  if (r && resume_dir && !r->resume_dir) {
    r->resume_dir = strdup(resume_dir);
    r->calls = calls;
  }
}

void recovery_detach(struct recovery *r)
{
  if (r)
    r->h = NULL;
}

void recovery_resume_shared(void *user, const char *folder, const char *json, size_t len)
{
#ifdef SIPREC_SERVER_REDIS
  struct recovery *r = user;
  if (r && r->redis)
    redis_store_aux_set(r->redis, folder, json, len);
#else
  (void)user;
  (void)folder;
  (void)json;
  (void)len;
#endif
}

void recovery_draining(struct recovery *r)
{
#ifdef SIPREC_SERVER_REDIS
  if (r && r->cluster) {
    cluster_stop(r->cluster);
    r->cluster = NULL;
  }
#else
  (void)r;
#endif
}

void recovery_close(struct recovery *r)
{
  if (!r || uv_is_closing((uv_handle_t *)&r->close_wait))
    return;
  if (!r->redis) {
    uv_close((uv_handle_t *)&r->close_wait, NULL); /* the pool's writes keep the loop */
    return;
  }
  r->close_deadline = uv_now(r->loop) + CLOSE_WAIT_MS;
  uv_timer_start(&r->close_wait, on_close_wait, 0, 20);
}

void recovery_free(struct recovery *r)
{
  if (!r)
    return;
  if (r->api)
    siprec_store_free(r->api); /* closes and frees the backend */
  else
    state_store_free(r->store);
  free(r->dir);
  free(r->resume_dir);
  free(r);
}
