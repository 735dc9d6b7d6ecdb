/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-key write ordering for the snapshot stores; see write_queue.h. */
#include "write_queue.h"

#include <stdlib.h>
#include <string.h>

#include <siprec/shmap.h>

#define KEY_MAX 1024

struct waiter {
  siprec_store_done_cb done;
  void *arg;
  struct waiter *next;
};

/* A put or a delete of one key, with whoever waits for it. */
struct op {
  int kind;   /* WQ_NONE, WQ_PUT, WQ_DEL */
  void *data; /* WQ_PUT: the value (owned) */
  size_t len;
  struct waiter *waiters;
};

/* A key with writes in flight or waiting, or (keep) a landed value. */
struct wq_slot {
  struct wq_slot *prev, *next; /* every slot, for the walks */
  char *key;
  size_t key_len;
  int busy; /* `cur` started */
  struct op cur, nxt;
  void *kept; /* keep: the value of the last put that landed */
  size_t kept_len;
  int has_kept;
};

struct write_queue {
  wq_start_fn start;
  void *backend;
  int keep;
  siprec_shmap *map; /* key -> slot */
  struct wq_slot *slots;
  size_t pending, n_slots;
};

struct write_queue *wq_new(wq_start_fn start, void *backend, int keep)
{
  struct write_queue *q = calloc(1, sizeof *q);
  if (!q || siprec_shmap_new(&q->map, NULL, NULL) < 0) {
    free(q);
    return NULL;
  }
  q->start = start;
  q->backend = backend;
  q->keep = keep;
  return q;
}

static void waiters_free(struct waiter *w)
{
  while (w) {
    struct waiter *n = w->next;
    free(w);
    w = n;
  }
}

static void slot_free(struct wq_slot *s)
{
  for (struct op *o = &s->cur; o; o = o == &s->cur ? &s->nxt : NULL) {
    free(o->data);
    waiters_free(o->waiters);
  }
  free(s->kept);
  free(s->key);
  free(s);
}

void wq_free(struct write_queue *q)
{
  if (!q)
    return;
  while (q->slots) {
    struct wq_slot *s = q->slots;
    q->slots = s->next;
    slot_free(s);
  }
  siprec_shmap_free(q->map);
  free(q);
}

static void slot_unlink(struct write_queue *q, struct wq_slot *s)
{
  siprec_shmap_delete(q->map, s->key, s->key_len);
  if (s->prev)
    s->prev->next = s->next;
  else
    q->slots = s->next;
  if (s->next)
    s->next->prev = s->prev;
  q->n_slots--;
  slot_free(s);
}

static void op_finish(struct write_queue *q, struct op *o, int status)
{
  struct waiter *w = o->waiters;
  free(o->data);
  memset(o, 0, sizeof *o);
  while (w) {
    struct waiter *next = w->next;
    q->pending--;
    if (w->done)
      w->done(w->arg, status, NULL, 0);
    free(w);
    w = next;
  }
}

/* Start the slot's waiting write when none is in flight; forget the slot
 * once it has nothing left to do or keep. */
static void slot_kick(struct write_queue *q, struct wq_slot *s)
{
  while (!s->busy && s->nxt.kind != WQ_NONE) {
    s->cur = s->nxt;
    memset(&s->nxt, 0, sizeof s->nxt);
    s->busy = 1;
    int rc = q->start(q->backend, s, s->cur.kind, s->key, s->key_len, s->cur.data, s->cur.len);
    if (rc == 0)
      return;
    s->busy = 0;
    if (rc == WQ_LATER) {
      s->nxt = s->cur; /* nothing newer came meanwhile: it waits again */
      memset(&s->cur, 0, sizeof s->cur);
      return;
    }
    op_finish(q, &s->cur, rc);
  }
  if (!s->busy && s->nxt.kind == WQ_NONE && !s->has_kept)
    slot_unlink(q, s);
}

void wq_landed(struct write_queue *q, struct wq_slot *s, int status)
{
  s->busy = 0;
  if (status == WQ_LATER) {
    /* Not written (the connection went): it waits again, unless a newer
     * write already waits, which carries the newer state; its waiters
     * then wait for that one. */
    if (s->nxt.kind == WQ_NONE) {
      s->nxt = s->cur;
    } else {
      struct waiter **tail = &s->nxt.waiters;
      while (*tail)
        tail = &(*tail)->next;
      *tail = s->cur.waiters;
      free(s->cur.data);
    }
    memset(&s->cur, 0, sizeof s->cur);
    slot_kick(q, s);
    return;
  }
  if (q->keep && status == 0) {
    free(s->kept);
    s->kept = NULL;
    s->kept_len = 0;
    s->has_kept = s->cur.kind == WQ_PUT;
    if (s->has_kept) {
      s->kept = s->cur.data; /* the value moves from the write to the slot */
      s->kept_len = s->cur.len;
      s->cur.data = NULL;
    }
  }
  op_finish(q, &s->cur, status);
  slot_kick(q, s);
}

static struct wq_slot *slot_find(struct write_queue *q, const char *key, size_t key_len)
{
  void *v = NULL;
  return siprec_shmap_load(q->map, key, key_len, &v) == 1 ? v : NULL;
}

int wq_write(struct write_queue *q, const char *key, size_t key_len, int kind, const void *data,
             size_t len, siprec_store_done_cb done, void *arg)
{
  if (!q || !key || key_len == 0 || key_len > KEY_MAX || (kind != WQ_PUT && kind != WQ_DEL) ||
      (kind == WQ_PUT && !data && len))
    return SIPREC_EINVAL;
  struct waiter *w = calloc(1, sizeof *w);
  void *copy = kind == WQ_PUT ? malloc(len ? len : 1) : NULL;
  struct wq_slot *s = slot_find(q, key, key_len);
  int fresh = !s;
  if (fresh && w && (kind != WQ_PUT || copy)) {
    s = calloc(1, sizeof *s);
    if (s && (!(s->key = malloc(key_len)) ||
              (memcpy(s->key, key, key_len), siprec_shmap_store(q->map, key, key_len, s) < 0))) {
      free(s->key);
      free(s);
      s = NULL;
    }
  }
  if (!w || (kind == WQ_PUT && !copy) || !s) {
    free(w);
    free(copy);
    return SIPREC_ENOMEM;
  }
  if (fresh) {
    s->key_len = key_len;
    s->next = q->slots;
    if (q->slots)
      q->slots->prev = s;
    q->slots = s;
    q->n_slots++;
  }
  if (copy && len)
    memcpy(copy, data, len);
  w->done = done;
  w->arg = arg;
  w->next = s->nxt.waiters;
  free(s->nxt.data);
  s->nxt.kind = kind;
  s->nxt.data = copy;
  s->nxt.len = len;
  s->nxt.waiters = w;
  q->pending++;
  slot_kick(q, s);
  return 0;
}

int wq_newest(struct write_queue *q, const char *key, size_t key_len, const void **data,
              size_t *len)
{
  struct wq_slot *s = key && key_len ? slot_find(q, key, key_len) : NULL;
  if (!s)
    return WQ_NONE;
  const struct op *o = s->nxt.kind != WQ_NONE ? &s->nxt : s->busy ? &s->cur : NULL;
  if (o) {
    *data = o->data;
    *len = o->len;
    return o->kind;
  }
  *data = s->kept;
  *len = s->kept_len;
  return s->has_kept ? WQ_PUT : WQ_NONE;
}

/* Each slot, safe against the callee freeing it (the next is read first;
 * slots freed by kicks are only ever the one being kicked). */
void wq_kick_all(struct write_queue *q)
{
  for (struct wq_slot *s = q->slots, *n; s; s = n) {
    n = s->next;
    slot_kick(q, s);
  }
}

void wq_rewrite_all(struct write_queue *q)
{
  for (struct wq_slot *s = q->slots, *n; s; s = n) {
    n = s->next;
    if (!s->has_kept || s->busy || s->nxt.kind != WQ_NONE)
      continue; /* a newer write is on its way: it carries the state */
    void *copy = malloc(s->kept_len ? s->kept_len : 1);
    if (!copy)
      continue;
    memcpy(copy, s->kept, s->kept_len);
    s->nxt = (struct op){ .kind = WQ_PUT, .data = copy, .len = s->kept_len };
    slot_kick(q, s);
  }
}

void wq_each_kept(struct write_queue *q, void (*fn)(void *arg, const char *key, size_t key_len),
                  void *arg)
{
  for (struct wq_slot *s = q->slots; s; s = s->next)
    if (s->has_kept || (s->busy && s->cur.kind == WQ_PUT) || s->nxt.kind == WQ_PUT)
      fn(arg, s->key, s->key_len);
}

void wq_forget(struct write_queue *q, const char *key, size_t key_len)
{
  struct wq_slot *s = key && key_len ? slot_find(q, key, key_len) : NULL;
  if (!s)
    return;
  free(s->kept);
  s->kept = NULL;
  s->kept_len = 0;
  s->has_kept = 0;
  if (!s->busy && s->nxt.kind == WQ_NONE)
    slot_unlink(q, s);
}

size_t wq_pending(const struct write_queue *q)
{
  return q ? q->pending : 0;
}

size_t wq_keys(const struct write_queue *q)
{
  return q ? q->n_slots : 0;
}
