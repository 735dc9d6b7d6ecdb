/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Records by key: a persistent hash map (hamt.h) from the keys' hash to
 * record indexes.
 * The ids come from the network, so the hash is SipHash-1-3 under a key
 * drawn once per process: a sender cannot choose ids that collide. */
#include <pthread.h>
#include <string.h>

#include "../common/random.h"
#include "../common/siphash.h"
#include "model.h"

static sr_siphash_key hash_key;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_key_init(void)
{
  uint8_t k[16];
  if (sr_random_bytes(k, sizeof k) < 0) {
    /* No kernel randomness: the address of this object still differs per
     * process (ASLR); far weaker, but the index stays correct. */
    uintptr_t a = (uintptr_t)&hash_key;
    memset(k, 0x5a, sizeof k);
    memcpy(k, &a, sizeof a);
  }
  hash_key = sr_siphash_key_from_bytes(k);
}

uint64_t md_key_hash(const char *k0, const char *k1)
{
  pthread_once(&hash_once, hash_key_init);
  uint64_t h = sr_siphash13(hash_key, k0, strlen(k0));
  if (k1)
    h ^= sr_siphash13(hash_key, k1, strlen(k1)) * UINT64_C(0x9e3779b97f4a7c15) + 1;
  return h;
}

static int str_eq(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

typedef struct key_ctx {
  const md_model *c;
  int kind;
  const char *k0, *k1;
} key_ctx;

static int key_eq(const void *ctx, uint32_t v)
{
  const key_ctx *q = ctx;
  const md_rec *o = md_rec_at(q->c, q->kind, v);
  return strcmp(o->key[0], q->k0) == 0 && str_eq(o->key[1], q->k1);
}

size_t md_index_find(const md_model *c, int kind, const char *k0, const char *k1)
{
  if (!c || !k0)
    return MD_NONE;
  if (c->recs[kind].n <= MD_SMALL) {
    for (size_t i = 0; i < c->recs[kind].n; i++) {
      const md_rec *o = md_rec_at(c, kind, i);
      if (o->key[0] && strcmp(o->key[0], k0) == 0 && str_eq(o->key[1], k1))
        return i;
    }
    return MD_NONE;
  }
  key_ctx q = { c, kind, k0, k1 };
  uint32_t v = md_hamt_find(&c->index[kind], md_key_hash(k0, k1), key_eq, &q);
  return v == MD_HAMT_NONE ? MD_NONE : v;
}

static int label_eq(const void *ctx, uint32_t v)
{
  const key_ctx *q = ctx;
  const char *l = md_rec_at(q->c, SIPREC_METADATA_STREAM, v)->f[MD_F_STREAM_LABEL];
  return l && strcmp(l, q->k0) == 0;
}

size_t md_label_find(const md_model *c, const char *label)
{
  if (!c)
    return MD_NONE;
  if (c->recs[SIPREC_METADATA_STREAM].n <= MD_SMALL) {
    for (size_t i = 0; i < c->recs[SIPREC_METADATA_STREAM].n; i++) {
      const char *l = md_rec_at(c, SIPREC_METADATA_STREAM, i)->f[MD_F_STREAM_LABEL];
      if (l && strcmp(l, label) == 0)
        return i;
    }
    return MD_NONE;
  }
  if (!c->labels.root)
    return MD_NONE;
  key_ctx q = { c, SIPREC_METADATA_STREAM, label, NULL };
  uint32_t v = md_hamt_find(&c->labels, md_key_hash(label, NULL), label_eq, &q);
  return v == MD_HAMT_NONE ? MD_NONE : v;
}

static void sift_down(uint32_t *v, size_t root, size_t n)
{
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n)
      return;
    if (child + 1 < n && v[child + 1] > v[child])
      child++;
    if (v[root] >= v[child])
      return;
    uint32_t t = v[root];
    v[root] = v[child];
    v[child] = t;
    root = child;
  }
}

/* Heapsort: no allocation, no recursion, O(n log n) whatever the input. */
size_t md_sort_unique(uint32_t *v, size_t n)
{
  if (n < 2)
    return n;
  for (size_t i = n / 2; i-- > 0;)
    sift_down(v, i, n);
  for (size_t end = n - 1; end > 0; end--) {
    uint32_t t = v[0];
    v[0] = v[end];
    v[end] = t;
    sift_down(v, 0, end);
  }
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || v[u - 1] != v[i])
      v[u++] = v[i];
  return u;
}
