/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store interface (siprec/store.h): a host's implementation behind a
 * table of operations, its arguments checked once here. */
#include <string.h>

#include <siprec/store.h>

#include "../common/alloc.h"

#define KEY_MAX 1024

struct siprec_store {
  siprec_allocator mem;
  siprec_store_ops ops;
  void *impl;
};

SIPREC_API int siprec_store_new(siprec_store **out, const siprec_store_ops *ops, void *impl,
                                const siprec_allocator *mem)
{
  if (!out)
    return SIPREC_EINVAL;
  *out = NULL;
  /* The four operations must be inside the size the host compiled. */
  size_t need = offsetof(siprec_store_ops, scan) + sizeof ops->scan;
  if (!ops || ops->size < need || !ops->put || !ops->get || !ops->del || !ops->scan)
    return SIPREC_EINVAL;
  siprec_allocator a;
  int rc;
  siprec_store *st = sr_object_new(mem, sizeof *st, &a, &rc);
  if (!st)
    return rc;
  st->mem = a;
  size_t n = ops->size < sizeof st->ops ? ops->size : sizeof st->ops;
  memcpy(&st->ops, ops, n);
  st->ops.size = sizeof st->ops;
  st->impl = impl;
  *out = st;
  return 0;
}

SIPREC_API void siprec_store_free(siprec_store *st)
{
  if (!st)
    return;
  if (st->ops.close)
    st->ops.close(st->impl);
  siprec_allocator a = st->mem;
  sr_free(&a, st);
}

static int key_ok(const char *key, size_t len)
{
  return key && len > 0 && len <= KEY_MAX;
}

SIPREC_API int siprec_store_put(siprec_store *st, const char *key, size_t key_len,
                                const void *data, size_t len, siprec_store_done_cb done,
                                void *arg)
{
  if (!st || !key_ok(key, key_len) || (!data && len) || !done)
    return SIPREC_EINVAL;
  return st->ops.put(st->impl, key, key_len, data, len, done, arg);
}

SIPREC_API int siprec_store_get(siprec_store *st, const char *key, size_t key_len,
                                siprec_store_done_cb done, void *arg)
{
  if (!st || !key_ok(key, key_len) || !done)
    return SIPREC_EINVAL;
  return st->ops.get(st->impl, key, key_len, done, arg);
}

SIPREC_API int siprec_store_del(siprec_store *st, const char *key, size_t key_len,
                                siprec_store_done_cb done, void *arg)
{
  if (!st || !key_ok(key, key_len) || !done)
    return SIPREC_EINVAL;
  return st->ops.del(st->impl, key, key_len, done, arg);
}

SIPREC_API int siprec_store_scan(siprec_store *st, siprec_store_key_cb each,
                                 siprec_store_done_cb done, void *arg)
{
  if (!st || !each || !done)
    return SIPREC_EINVAL;
  return st->ops.scan(st->impl, each, done, arg);
}
