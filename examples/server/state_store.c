/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-server's snapshot store on files; see state_store.h. */
#include "state_store.h"
#include "write_queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAGIC "SRS1"
#define HEADER 8 /* magic + key length */
#define KEY_MAX 1024

/* The writes (puts, deletes) are ordered per key by write_queue.h; gets
 * and scans go to the pool at once. */
enum { OP_PUT = WQ_PUT, OP_DEL = WQ_DEL, OP_GET, OP_SCAN };

struct state_store {
  uv_loop_t *loop;
  int dirfd;
  struct write_queue *writes;
  size_t pending; /* gets and scans on the pool */
};

struct found_key {
  char *key;
  size_t len;
};

/* One job on the pool. Its thread reads only what is set before the queue
 * and writes only `status`, `out` and the found keys. */
struct job {
  uv_work_t req;
  struct state_store *st;
  int kind;
  int dirfd;
  struct wq_slot *slot;   /* OP_PUT, OP_DEL */
  const void *data;       /* OP_PUT: the write queue's copy */
  size_t len;
  char name[STATE_STORE_NAME_MAX];
  char *key;              /* OP_GET, OP_PUT: owned copy */
  size_t key_len;
  int memory;             /* OP_GET answered from a value not yet on disk */
  siprec_store_done_cb done;
  siprec_store_key_cb each;
  void *arg;
  int status;
  void *out;              /* OP_GET: the value read (owned) */
  size_t out_len;
  struct found_key *found; /* OP_SCAN */
  size_t n_found, cap_found;
};

/* ---------------------------------------------------------------------- */
/* Names                                                                    */

static const char hexdig[] = "0123456789abcdef";

int state_store_name(const char *key, size_t key_len, char *out, size_t size)
{
  if (!key || key_len == 0 || key_len > KEY_MAX || size < STATE_STORE_NAME_MAX)
    return -EINVAL;
  const uint8_t *src = (const uint8_t *)key;
  size_t n = key_len;
  uint8_t digest[SHA256_DIGEST_SIZE];
  out[0] = 'k';
  if (key_len > STATE_STORE_HEX_MAX) {
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, key_len, src);
    sha256_digest(&c, sizeof digest, digest);
    src = digest;
    n = sizeof digest;
    out[0] = 'h';
  }
  for (size_t i = 0; i < n; i++) {
    out[1 + 2 * i] = hexdig[src[i] >> 4];
    out[2 + 2 * i] = hexdig[src[i] & 15];
  }
  out[1 + 2 * n] = '\0';
  return 0;
}

static int hexval(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* What kind of name: 'k' (its key decoded into key/len), 'h', or 0 (not
 * the store's: the seal key, bad/, a .tmp, anything else). */
static int parse_name(const char *name, char *key, size_t *len)
{
  size_t n = strlen(name);
  if (n >= 3 && name[0] == 'k' && (n - 1) % 2 == 0 && (n - 1) / 2 <= STATE_STORE_HEX_MAX) {
    for (size_t i = 0; i < (n - 1) / 2; i++) {
      int hi = hexval(name[1 + 2 * i]), lo = hexval(name[2 + 2 * i]);
      if (hi < 0 || lo < 0)
        return 0;
      key[i] = (char)(hi << 4 | lo);
    }
    *len = (n - 1) / 2;
    return 'k';
  }
  if (n == 1 + 2 * SHA256_DIGEST_SIZE && name[0] == 'h') {
    for (size_t i = 1; i < n; i++)
      if (hexval(name[i]) < 0)
        return 0;
    return 'h';
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* File operations (pool threads)                                           */

static int write_all(int fd, const struct iovec *iov, int n)
{
  struct iovec v[3];
  memcpy(v, iov, (size_t)n * sizeof *v);
  int i = 0;
  while (i < n) {
    ssize_t w = writev(fd, v + i, n - i);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    while (i < n && (size_t)w >= v[i].iov_len) {
      w -= (ssize_t)v[i].iov_len;
      i++;
    }
    if (i < n) {
      v[i].iov_base = (char *)v[i].iov_base + w;
      v[i].iov_len -= (size_t)w;
    }
  }
  return 0;
}

static int file_put(struct job *j)
{
  char tmp[STATE_STORE_NAME_MAX + 8];
  memcpy(tmp, j->name, strlen(j->name));
  strcpy(tmp + strlen(j->name), ".tmp");
  int fd = openat(j->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  uint8_t head[HEADER];
  memcpy(head, MAGIC, 4);
  uint32_t kl = (uint32_t)j->key_len;
  head[4] = (uint8_t)(kl >> 24);
  head[5] = (uint8_t)(kl >> 16);
  head[6] = (uint8_t)(kl >> 8);
  head[7] = (uint8_t)kl;
  struct iovec iov[3] = {
    { head, sizeof head }, { j->key, j->key_len }, { (void *)j->data, j->len },
  };
  int rc = write_all(fd, iov, 3);
  if (rc == 0 && fsync(fd) < 0)
    rc = -errno;
  if (close(fd) < 0 && rc == 0)
    rc = -errno;
  /* Only a whole, synced file takes the name; the directory's fsync makes
   * the rename itself durable. */
  if (rc == 0 && renameat(j->dirfd, tmp, j->dirfd, j->name) < 0)
    rc = -errno;
  if (rc < 0)
    unlinkat(j->dirfd, tmp, 0);
  else
    fsync(j->dirfd);
  return rc;
}

static int file_del(struct job *j)
{
  if (unlinkat(j->dirfd, j->name, 0) < 0 && errno != ENOENT)
    return -errno;
  fsync(j->dirfd);
  return 0;
}

/* Read DIR/name whole into *out (the caller frees). @return 0 or -errno */
static int read_file(int dirfd, const char *name, uint8_t **out, size_t *len)
{
  *out = NULL;
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  struct stat sb;
  if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
      (uint64_t)sb.st_size > STATE_STORE_VALUE_MAX + HEADER + KEY_MAX) {
    close(fd);
    return -EFBIG;
  }
  size_t n = (size_t)sb.st_size, got = 0;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) {
    close(fd);
    return -ENOMEM;
  }
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  *out = buf;
  *len = got;
  return 0;
}

/* The key a file's header holds: its offset and length, or -1. */
static int header_key(const uint8_t *buf, size_t len, size_t *key_len)
{
  if (len < HEADER || memcmp(buf, MAGIC, 4) != 0)
    return -1;
  uint32_t kl = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
  if (kl == 0 || kl > KEY_MAX || kl > len - HEADER)
    return -1;
  *key_len = kl;
  return 0;
}

static int file_get(struct job *j)
{
  uint8_t *buf;
  size_t len, kl;
  int rc = read_file(j->dirfd, j->name, &buf, &len);
  if (rc == -ENOENT)
    return SIPREC_ENOTFOUND;
  if (rc == -ENOMEM)
    return SIPREC_ENOMEM;
  if (rc < 0)
    return SIPREC_EPARSE;
  /* A file of another key (a hash collision, a file renamed by hand) is
   * not this key's value. */
  if (header_key(buf, len, &kl) < 0 || kl != j->key_len ||
      memcmp(buf + HEADER, j->key, kl) != 0) {
    free(buf);
    return SIPREC_EPARSE;
  }
  j->out_len = len - HEADER - kl;
  memmove(buf, buf + HEADER + kl, j->out_len);
  j->out = buf;
  return 0;
}

static int found_add(struct job *j, const char *key, size_t len)
{
  if (j->n_found == j->cap_found) {
    size_t cap = j->cap_found ? 2 * j->cap_found : 16;
    struct found_key *p = realloc(j->found, cap * sizeof *p);
    if (!p)
      return SIPREC_ENOMEM;
    j->found = p;
    j->cap_found = cap;
  }
  char *k = malloc(len);
  if (!k)
    return SIPREC_ENOMEM;
  memcpy(k, key, len);
  j->found[j->n_found++] = (struct found_key){ k, len };
  return 0;
}

static int file_scan(struct job *j)
{
  int fd = dup(j->dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return SIPREC_ENOMEM;
  }
  rewinddir(d);
  int rc = 0;
  char key[STATE_STORE_HEX_MAX];
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    size_t kl = 0;
    int kind = parse_name(e->d_name, key, &kl);
    if (kind == 'k') {
      rc = found_add(j, key, kl);
    } else if (kind == 'h') {
      /* Hashed: the key is in the file (a file that does not hold one is
       * skipped; a get of its key would refuse it too). */
      uint8_t *buf;
      size_t len;
      if (read_file(j->dirfd, e->d_name, &buf, &len) == 0) {
        if (header_key(buf, len, &kl) == 0)
          rc = found_add(j, (const char *)buf + HEADER, kl);
        free(buf);
      }
    }
  }
  closedir(d);
  return rc;
}

static void on_work(uv_work_t *req)
{
  struct job *j = req->data;
  switch (j->kind) {
  case OP_PUT:
    j->status = file_put(j) < 0 ? SIPREC_EAGAIN : 0;
    break;
  case OP_DEL:
    j->status = file_del(j) < 0 ? SIPREC_EAGAIN : 0;
    break;
  case OP_GET:
    j->status = j->memory ? j->status : file_get(j);
    break;
  case OP_SCAN:
    j->status = file_scan(j);
    break;
  }
}

/* ---------------------------------------------------------------------- */
/* The loop's side                                                          */

static void on_after_work(uv_work_t *req, int status);

static int queue(struct state_store *st, struct job *j)
{
  j->req.data = j;
  j->st = st;
  j->dirfd = st->dirfd;
  int rc = uv_queue_work(st->loop, &j->req, on_work, on_after_work);
  return rc < 0 ? SIPREC_EAGAIN : 0;
}

static void job_free(struct job *j)
{
  for (size_t i = 0; i < j->n_found; i++)
    free(j->found[i].key);
  free(j->found);
  free(j->out);
  free(j->key);
  free(j);
}

/* The write queue's start: a put or a delete of one key on the pool. */
static int start_write(void *backend, struct wq_slot *slot, int kind, const char *key,
                       size_t key_len, const void *data, size_t len)
{
  struct state_store *st = backend;
  struct job *j = calloc(1, sizeof *j);
  if (!j || !(j->key = malloc(key_len))) {
    free(j);
    return SIPREC_ENOMEM;
  }
  memcpy(j->key, key, key_len);
  j->key_len = key_len;
  j->kind = kind;
  j->slot = slot;
  j->data = data;
  j->len = len;
  int rc = state_store_name(key, key_len, j->name, sizeof j->name) < 0 ? SIPREC_EINVAL
                                                                        : queue(st, j);
  if (rc < 0)
    job_free(j);
  return rc;
}

static void on_after_work(uv_work_t *req, int status)
{
  struct job *j = req->data;
  struct state_store *st = j->st;
  int rc = status == UV_ECANCELED ? SIPREC_EAGAIN : j->status;
  if (j->kind == OP_PUT || j->kind == OP_DEL) {
    wq_landed(st->writes, j->slot, rc);
  } else {
    st->pending--;
    if (j->kind == OP_SCAN && rc == 0)
      for (size_t i = 0; i < j->n_found; i++)
        j->each(j->arg, j->found[i].key, j->found[i].len);
    if (j->done)
      j->done(j->arg, rc, rc == 0 ? j->out : NULL, rc == 0 ? j->out_len : 0);
  }
  job_free(j);
}

/* A put or a delete, ordered per key by the write queue. */
static int write_op(struct state_store *st, const char *key, size_t key_len, int kind,
                    const void *data, size_t len, siprec_store_done_cb done, void *arg)
{
  char name[STATE_STORE_NAME_MAX];
  if (state_store_name(key, key_len, name, sizeof name) < 0 || len > STATE_STORE_VALUE_MAX)
    return SIPREC_EINVAL;
  return wq_write(st->writes, key, key_len, kind, data, len, done, arg);
}

static int ss_put(void *impl, const char *key, size_t key_len, const void *data, size_t len,
                  siprec_store_done_cb done, void *arg)
{
  return write_op(impl, key, key_len, OP_PUT, data, len, done, arg);
}

static int ss_del(void *impl, const char *key, size_t key_len, siprec_store_done_cb done,
                  void *arg)
{
  return write_op(impl, key, key_len, OP_DEL, NULL, 0, done, arg);
}

static int ss_get(void *impl, const char *key, size_t key_len, siprec_store_done_cb done,
                  void *arg)
{
  struct state_store *st = impl;
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return SIPREC_ENOMEM;
  if (state_store_name(key, key_len, j->name, sizeof j->name) < 0) {
    free(j);
    return SIPREC_EINVAL;
  }
  j->kind = OP_GET;
  j->done = done;
  j->arg = arg;
  /* The newest value given wins over the file, even before it lands. */
  const void *val = NULL;
  size_t val_len = 0;
  int newest = wq_newest(st->writes, key, key_len, &val, &val_len);
  if (newest != WQ_NONE) {
    j->memory = 1;
    j->status = newest == WQ_DEL ? SIPREC_ENOTFOUND : 0;
    if (newest == WQ_PUT && !(j->out = malloc(val_len ? val_len : 1))) {
      free(j);
      return SIPREC_ENOMEM;
    }
    if (newest == WQ_PUT && val_len)
      memcpy(j->out, val, val_len);
    j->out_len = newest == WQ_PUT ? val_len : 0;
  } else if (!(j->key = malloc(key_len))) {
    free(j);
    return SIPREC_ENOMEM;
  } else {
    memcpy(j->key, key, key_len);
    j->key_len = key_len;
  }
  int rc = queue(st, j);
  if (rc < 0) {
    job_free(j);
    return rc;
  }
  st->pending++;
  return 0;
}

static int ss_scan(void *impl, siprec_store_key_cb each, siprec_store_done_cb done, void *arg)
{
  struct state_store *st = impl;
  if (!each)
    return SIPREC_EINVAL;
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return SIPREC_ENOMEM;
  j->kind = OP_SCAN;
  j->each = each;
  j->done = done;
  j->arg = arg;
  int rc = queue(st, j);
  if (rc < 0) {
    free(j);
    return rc;
  }
  st->pending++;
  return 0;
}

static void ss_close(void *impl)
{
  state_store_free(impl);
}

const siprec_store_ops state_store_ops = {
  .size = sizeof(siprec_store_ops),
  .put = ss_put, .get = ss_get, .del = ss_del, .scan = ss_scan, .close = ss_close,
};

/* ---------------------------------------------------------------------- */
/* Open and free                                                            */

static int ends_with_tmp(const char *name)
{
  size_t n = strlen(name);
  return n > 4 && !strcmp(name + n - 4, ".tmp");
}

int state_store_open(struct state_store **out, uv_loop_t *loop, const char *dir, size_t *removed)
{
  if (!out || !loop || !dir)
    return -EINVAL;
  *out = NULL;
  if (removed)
    *removed = 0;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return -errno;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  /* The .tmp files of writes a killed process never finished: never read,
   * removed now (the loop does not run yet). */
  int scan_fd = dup(fd);
  DIR *d = scan_fd >= 0 ? fdopendir(scan_fd) : NULL;
  if (!d) {
    int e = errno;
    if (scan_fd >= 0)
      close(scan_fd);
    close(fd);
    return -e;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (ends_with_tmp(e->d_name) && unlinkat(fd, e->d_name, 0) == 0 && removed)
      (*removed)++;
  closedir(d);
  struct state_store *st = calloc(1, sizeof *st);
  if (!st) {
    close(fd);
    return -ENOMEM;
  }
  st->loop = loop;
  st->dirfd = fd;
  if (!(st->writes = wq_new(start_write, st, 0))) {
    close(fd);
    free(st);
    return -ENOMEM;
  }
  *out = st;
  return 0;
}

size_t state_store_pending(const struct state_store *st)
{
  return st ? st->pending + wq_pending(st->writes) : 0;
}

void state_store_free(struct state_store *st)
{
  if (!st)
    return;
  wq_free(st->writes); /* nothing is pending by contract */
  close(st->dirfd);
  free(st);
}
