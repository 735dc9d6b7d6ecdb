/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Records by key: open addressing with linear probing over record indexes.
 * The ids come from the network, so the hash is SipHash-1-3 under a key
 * drawn once per process: a sender cannot choose ids that collide. */
#include <pthread.h>
#include <string.h>

#include "../common/alloc.h"
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

static uint64_t key_hash(const char *k0, const char *k1)
{
  uint64_t h = sr_siphash13(hash_key, k0, strlen(k0));
  if (k1)
    h ^= sr_siphash13(hash_key, k1, strlen(k1)) * UINT64_C(0x9e3779b97f4a7c15) + 1;
  return h;
}

static int str_eq(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

int md_index_alloc(md_content *c, int kind, size_t n)
{
  pthread_once(&hash_once, hash_key_init);
  size_t cap = 8;
  while (cap < 2 * n) {
    if (cap > (SIZE_MAX >> 2) / sizeof(uint32_t))
      return SIPREC_ENOMEM;
    cap *= 2;
  }
  uint32_t *slots = sr_calloc(&c->mem, cap, sizeof *slots);
  if (!slots)
    return SIPREC_ENOMEM;
  sr_free(&c->mem, c->slots[kind]);
  c->slots[kind] = slots;
  c->mask[kind] = cap - 1;
  return 0;
}

size_t md_index_put(md_content *c, int kind, size_t idx)
{
  const md_rec *r = &c->recs[kind][idx];
  if (!r->key[0])
    return idx;
  size_t mask = c->mask[kind];
  uint32_t *slots = c->slots[kind];
  for (size_t i = (size_t)key_hash(r->key[0], r->key[1]) & mask;; i = (i + 1) & mask) {
    if (!slots[i]) {
      slots[i] = (uint32_t)idx + 1;
      return idx;
    }
    const md_rec *o = &c->recs[kind][slots[i] - 1];
    if (strcmp(o->key[0], r->key[0]) == 0 && str_eq(o->key[1], r->key[1]))
      return slots[i] - 1;
  }
}

size_t md_index_find(const md_content *c, int kind, const char *k0, const char *k1)
{
  if (!c || !k0 || !c->slots[kind])
    return MD_NONE;
  size_t mask = c->mask[kind];
  const uint32_t *slots = c->slots[kind];
  for (size_t i = (size_t)key_hash(k0, k1) & mask; slots[i]; i = (i + 1) & mask) {
    const md_rec *o = &c->recs[kind][slots[i] - 1];
    if (strcmp(o->key[0], k0) == 0 && str_eq(o->key[1], k1))
      return slots[i] - 1;
  }
  return MD_NONE;
}

static void sift_down(uint64_t *v, size_t root, size_t n)
{
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n)
      return;
    if (child + 1 < n && v[child + 1] > v[child])
      child++;
    if (v[root] >= v[child])
      return;
    uint64_t t = v[root];
    v[root] = v[child];
    v[child] = t;
    root = child;
  }
}

void md_sort_u64(uint64_t *v, size_t n)
{
  if (n < 2)
    return;
  for (size_t i = n / 2; i-- > 0;)
    sift_down(v, i, n);
  for (size_t end = n - 1; end > 0; end--) {
    uint64_t t = v[0];
    v[0] = v[end];
    v[end] = t;
    sift_down(v, 0, end);
  }
}

static uint64_t label_hash(const char *label)
{
  return sr_siphash13(hash_key, label, strlen(label)) >> 32;
}

int md_label_index(md_content *c)
{
  const int st = SIPREC_METADATA_STREAM;
  size_t n = 0;
  for (size_t i = 0; i < c->n[st]; i++)
    n += c->recs[st][i].f[MD_F_STREAM_LABEL] != NULL;
  if (!n)
    return 0;
  pthread_once(&hash_once, hash_key_init);
  uint64_t *v = sr_calloc(&c->mem, n, sizeof *v);
  if (!v)
    return SIPREC_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < c->n[st]; i++) {
    const char *l = c->recs[st][i].f[MD_F_STREAM_LABEL];
    if (l)
      v[k++] = label_hash(l) << 32 | i;
  }
  md_sort_u64(v, n);
  c->labels = v;
  c->n_labels = n;
  return 0;
}

size_t md_label_find(const md_content *c, const char *label)
{
  if (!c || !c->n_labels)
    return MD_NONE;
  uint64_t h = label_hash(label) << 32;
  size_t lo = 0, hi = c->n_labels;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->labels[mid] < h)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Equal hashes sort by stream index: the first match is the first stream. */
  for (; lo < c->n_labels && (c->labels[lo] >> 32) == h >> 32; lo++) {
    size_t i = (size_t)(uint32_t)c->labels[lo];
    if (strcmp(c->recs[SIPREC_METADATA_STREAM][i].f[MD_F_STREAM_LABEL], label) == 0)
      return i;
  }
  return MD_NONE;
}
