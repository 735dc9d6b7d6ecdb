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

#include "state_store.h"

struct recovery {
  uv_loop_t *loop;
  char *dir;
  struct state_store *store;
  siprec_store *api; /* the store through siprec/store.h (its close frees `store`) */
  siprec_handler *h;
  uint64_t (*now)(void);
  recovery_restored_cb restored;
  void *user;
  size_t scanning, restored_n, failed_n;
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

int recovery_open(struct recovery **out, uv_loop_t *loop, const char *dir, const char *key_file,
                  uint8_t key[32])
{
  *out = NULL;
  struct recovery *r = calloc(1, sizeof *r);
  if (!r || !(r->dir = strdup(dir))) {
    free(r);
    return -1;
  }
  r->loop = loop;
  size_t removed = 0;
  int rc = state_store_open(&r->store, loop, dir, &removed);
  if (rc == 0 && siprec_store_new(&r->api, &state_store_ops, r->store, NULL) < 0) {
    state_store_free(r->store);
    r->store = NULL;
    rc = -ENOMEM;
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
                     recovery_restored_cb restored, void *user)
{
  r->h = h;
  r->now = now;
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

static void on_got(void *arg, int status, const void *data, size_t len)
{
  struct fetch *f = arg;
  struct recovery *r = f->r;
  int held = 0;
  if (status == 0) {
    siprec_session *s = NULL;
    int rc = siprec_handler_restore(r->h, data, len, r->now(), &s);
    if (rc == 0) {
      held = 1;
      r->restored_n++;
      if (r->restored)
        r->restored(r->user, s);
      siprec_session_unref(s);
    } else if (rc == SIPREC_EEXIST) {
      held = 1; /* restored meanwhile (a request and the start's scan) */
    } else {
      r->failed_n++;
      fprintf(stderr, "siprec-server: snapshot %s: cannot restore it: %s%s\n", f->name,
              siprec_strerror(rc),
              rc == SIPREC_EPARSE || rc == SIPREC_ETOOBIG ? " (moved to bad/)" : " (kept)");
      if (rc == SIPREC_EPARSE || rc == SIPREC_ETOOBIG)
        move_aside(r, f->name);
    }
  } else if (status == SIPREC_EPARSE) {
    fprintf(stderr, "siprec-server: snapshot %s: unreadable (moved to bad/)\n", f->name);
    move_aside(r, f->name);
  } else if (status != SIPREC_ENOTFOUND) {
    fprintf(stderr, "siprec-server: snapshot %s: %s\n", f->name, siprec_strerror(status));
  }
  if (f->at_start && --r->scanning == 0) {
    printf("restore_done restored=%zu failed=%zu\n", r->restored_n, r->failed_n);
    fflush(stdout);
  }
  if (f->done)
    f->done(f->arg, held);
  free(f);
}

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
  r->scanning++; /* the scan itself, until its done */
  if (siprec_store_scan(r->api, on_key, on_scanned, r) < 0) {
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

void recovery_free(struct recovery *r)
{
  if (!r)
    return;
  if (r->api)
    siprec_store_free(r->api); /* closes and frees r->store */
  else
    state_store_free(r->store);
  free(r->dir);
  free(r);
}
