/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store interface (siprec/store.h) alone: a host's implementation
 * behind its table of operations, reached through the dispatchers, their
 * arguments checked; a table compiled smaller than the library's. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/store.h>

#include "../common/check_main.h"

/* One key, in memory. */
typedef struct mem_store {
  char key[64], value[256];
  size_t key_len, len;
  int closed, calls;
} mem_store;

static int m_put(void *impl, const char *key, size_t key_len, const void *data, size_t len,
                 siprec_store_done_cb done, void *arg)
{
  mem_store *m = impl;
  m->calls++;
  if (key_len > sizeof m->key || len > sizeof m->value)
    return SIPREC_ETOOBIG;
  memcpy(m->key, key, key_len);
  m->key_len = key_len;
  memcpy(m->value, data, len);
  m->len = len;
  done(arg, 0, NULL, 0);
  return 0;
}

static int m_get(void *impl, const char *key, size_t key_len, siprec_store_done_cb done,
                 void *arg)
{
  mem_store *m = impl;
  m->calls++;
  if (key_len != m->key_len || memcmp(key, m->key, key_len) != 0)
    done(arg, SIPREC_ENOTFOUND, NULL, 0);
  else
    done(arg, 0, m->value, m->len);
  return 0;
}

static int m_del(void *impl, const char *key, size_t key_len, siprec_store_done_cb done,
                 void *arg)
{
  mem_store *m = impl;
  m->calls++;
  if (key_len == m->key_len && memcmp(key, m->key, key_len) == 0)
    m->key_len = 0;
  done(arg, 0, NULL, 0);
  return 0;
}

static int m_scan(void *impl, siprec_store_key_cb each, siprec_store_done_cb done, void *arg)
{
  mem_store *m = impl;
  m->calls++;
  if (m->key_len)
    each(arg, m->key, m->key_len);
  done(arg, 0, NULL, 0);
  return 0;
}

static void m_close(void *impl)
{
  ((mem_store *)impl)->closed = 1;
}

static struct {
  int status, done, keys;
  char value[256];
  size_t len;
} r;

static void on_done(void *arg, int status, const void *data, size_t len)
{
  (void)arg;
  r.status = status;
  r.done++;
  r.len = len;
  if (data && len <= sizeof r.value)
    memcpy(r.value, data, len);
}

static void on_key(void *arg, const char *key, size_t len)
{
  (void)arg;
  (void)key;
  (void)len;
  r.keys++;
}

static const siprec_store_ops ops = { sizeof(siprec_store_ops), m_put, m_get, m_del, m_scan,
                                      m_close };

START_TEST(test_dispatch)
{
  mem_store m;
  memset(&m, 0, sizeof m);
  memset(&r, 0, sizeof r);
  siprec_store *st = NULL;
  ck_assert_int_eq(siprec_store_new(&st, &ops, &m, NULL), 0);
  ck_assert_int_eq(siprec_store_put(st, "call-1", 6, "abc", 3, on_done, NULL), 0);
  ck_assert_int_eq(siprec_store_get(st, "call-1", 6, on_done, NULL), 0);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.len, 3);
  ck_assert_int_eq(memcmp(r.value, "abc", 3), 0);
  ck_assert_int_eq(siprec_store_scan(st, on_key, on_done, NULL), 0);
  ck_assert_int_eq(r.keys, 1);
  ck_assert_int_eq(siprec_store_del(st, "call-1", 6, on_done, NULL), 0);
  ck_assert_int_eq(siprec_store_get(st, "call-1", 6, on_done, NULL), 0);
  ck_assert_int_eq(r.status, SIPREC_ENOTFOUND);
  ck_assert_int_eq(r.done, 5);
  /* The implementation's own error comes back as it is, with no callback. */
  char big[300] = { 0 };
  ck_assert_int_eq(siprec_store_put(st, "k", 1, big, sizeof big, on_done, NULL), SIPREC_ETOOBIG);
  ck_assert_int_eq(r.done, 5);
  /* Arguments checked before the implementation sees them. */
  int calls = m.calls;
  char long_key[1025];
  memset(long_key, 'k', sizeof long_key);
  ck_assert_int_eq(siprec_store_put(st, long_key, sizeof long_key, "a", 1, on_done, NULL),
                   SIPREC_EINVAL);
  ck_assert_int_eq(siprec_store_put(st, "", 0, "a", 1, on_done, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_store_put(st, "k", 1, NULL, 1, on_done, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_store_put(st, "k", 1, "a", 1, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_store_get(NULL, "k", 1, on_done, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_store_del(st, NULL, 1, on_done, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_store_scan(st, NULL, on_done, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(m.calls, calls);
  siprec_store_free(st);
  ck_assert_int_eq(m.closed, 1);
  siprec_store_free(NULL);
}
END_TEST

/* A table missing an operation, or compiled before `scan` existed, is
 * refused; one compiled before `close` existed is taken (no close). */
START_TEST(test_ops_size)
{
  mem_store m;
  memset(&m, 0, sizeof m);
  siprec_store *st = NULL;
  siprec_store_ops o = ops;
  o.get = NULL;
  ck_assert_int_eq(siprec_store_new(&st, &o, &m, NULL), SIPREC_EINVAL);
  ck_assert_ptr_null(st);
  o = ops;
  o.size = offsetof(siprec_store_ops, scan);
  ck_assert_int_eq(siprec_store_new(&st, &o, &m, NULL), SIPREC_EINVAL);
  o.size = offsetof(siprec_store_ops, close);
  ck_assert_int_eq(siprec_store_new(&st, &o, &m, NULL), 0);
  siprec_store_free(st);
  ck_assert_int_eq(m.closed, 0); /* its close lies beyond the size it gave */
  ck_assert_int_eq(siprec_store_new(NULL, &ops, &m, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_store_new(&st, NULL, &m, NULL), SIPREC_EINVAL);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("store");
  tcase_add_test(tc, test_dispatch);
  tcase_add_test(tc, test_ops_size);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
