/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's snapshot store on files (examples/server/state_store.c,
 * compiled here from its source) through its siprec_store_ops table (the
 * siprec_store wrapper the server uses is test_store's) on a real libuv
 * loop and a temporary folder: names, put/get/del/scan, modes, ordering
 * and coalescing under rapid puts, delete after put, and crash safety (a
 * writer SIGKILLed mid-put leaves the old value or the new one, never a
 * part; .tmp files are never read and are removed at open).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <siprec/store.h>

#include "state_store.h"

static char tmp[512];
static uv_loop_t loop;
static struct state_store *impl;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
  (void)st;
  (void)flag;
  (void)f;
  return remove(p);
}

static void open_store(void)
{
  ck_assert_int_eq(state_store_open(&impl, &loop, tmp, NULL), 0);
}

static void setup(void)
{
  const char *base = getenv("TMPDIR");
  snprintf(tmp, sizeof tmp, "%s/test-state-store-XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
  strcat(tmp, "/state"); /* made by the store */
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  open_store();
}

static void close_store(void)
{
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_uint_eq(state_store_pending(impl), 0);
  state_store_ops.close(impl);
  impl = NULL;
}

static void teardown(void)
{
  if (impl)
    close_store();
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  char *slash = strrchr(tmp, '/');
  *slash = '\0';
  nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* What the done callbacks saw. */
struct result {
  int calls;
  int status;
  char value[4096];
  size_t len;
};

static void on_done(void *arg, int status, const void *data, size_t len)
{
  struct result *r = arg;
  r->calls++;
  r->status = status;
  r->len = len;
  if (data && len <= sizeof r->value)
    memcpy(r->value, data, len);
}

static void put_wait(const char *key, size_t kl, const void *v, size_t len)
{
  struct result r = { 0 };
  ck_assert_int_eq(state_store_ops.put(impl, key, kl, v, len, on_done, &r), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
}

static struct result get_wait(const char *key, size_t kl)
{
  struct result r = { 0 };
  ck_assert_int_eq(state_store_ops.get(impl, key, kl, on_done, &r), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.calls, 1);
  return r;
}

/* The keys a scan found, concatenated as "len:key;" in any order. */
struct scan {
  int keys, done, status;
  char seen[8192];
};

static void on_key(void *arg, const char *key, size_t len)
{
  struct scan *s = arg;
  char item[1200];
  int n = snprintf(item, sizeof item, "%zu:%.*s;", len, (int)len, key);
  if (strlen(s->seen) + (size_t)n < sizeof s->seen)
    strcat(s->seen, item);
  s->keys++;
}

static void on_scan_done(void *arg, int status, const void *data, size_t len)
{
  struct scan *s = arg;
  (void)data;
  (void)len;
  s->done++;
  s->status = status;
}

static struct scan scan_wait(void)
{
  struct scan s = { 0 };
  ck_assert_int_eq(state_store_ops.scan(impl, on_key, on_scan_done, &s), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(s.done, 1);
  ck_assert_int_eq(s.status, 0);
  return s;
}

static int file_exists(const char *name)
{
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", tmp, name);
  struct stat sb;
  return stat(p, &sb) == 0;
}

static void write_raw(const char *name, const void *data, size_t len)
{
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", tmp, name);
  FILE *f = fopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

START_TEST(names)
{
  char n[STATE_STORE_NAME_MAX], m[STATE_STORE_NAME_MAX];
  ck_assert_int_eq(state_store_name("a/b", 3, n, sizeof n), 0);
  ck_assert_str_eq(n, "k612f62");
  ck_assert_int_eq(state_store_name("\0..", 3, n, sizeof n), 0);
  ck_assert_str_eq(n, "k002e2e");
  char big[1025];
  memset(big, 'x', sizeof big);
  ck_assert_int_eq(state_store_name(big, 64, n, sizeof n), 0);
  ck_assert_int_eq(n[0], 'k');
  ck_assert_uint_eq(strlen(n), 129);
  ck_assert_int_eq(state_store_name(big, 65, n, sizeof n), 0);
  ck_assert_int_eq(n[0], 'h');
  ck_assert_uint_eq(strlen(n), 65);
  /* SHA-256 of 65 'x' bytes differs from that of 66. */
  ck_assert_int_eq(state_store_name(big, 66, m, sizeof m), 0);
  ck_assert_str_ne(n, m);
  ck_assert_int_eq(state_store_name(big, 1024, n, sizeof n), 0);
  ck_assert_int_eq(state_store_name(big, 1025, n, sizeof n), -EINVAL);
  ck_assert_int_eq(state_store_name(big, 0, n, sizeof n), -EINVAL);
  ck_assert_int_eq(state_store_name(big, 3, n, 10), -EINVAL);
}
END_TEST

START_TEST(put_get_del_scan)
{
  const char k1[] = "call-1@host";
  const char k2[] = { 'a', 0, '/', '.', '.', '\n' }; /* hostile bytes */
  char k3[1024];
  memset(k3, 'z', sizeof k3);
  k3[0] = '/';
  put_wait(k1, strlen(k1), "one", 3);
  put_wait(k2, sizeof k2, "two", 3);
  put_wait(k3, sizeof k3, "three", 5);
  struct result r = get_wait(k1, strlen(k1));
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.len, 3);
  ck_assert_mem_eq(r.value, "one", 3);
  r = get_wait(k2, sizeof k2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_mem_eq(r.value, "two", 3);
  r = get_wait(k3, sizeof k3);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.len, 5);
  r = get_wait("nope", 4);
  ck_assert_int_eq(r.status, SIPREC_ENOTFOUND);
  /* An empty value is a value. */
  put_wait("empty", 5, "", 0);
  r = get_wait("empty", 5);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.len, 0);

  struct scan s = scan_wait();
  ck_assert_int_eq(s.keys, 4);
  ck_assert_ptr_nonnull(strstr(s.seen, "11:call-1@host;"));
  ck_assert_ptr_nonnull(strstr(s.seen, "5:empty;"));
  ck_assert_ptr_nonnull(strstr(s.seen, "1024:/zzz"));

  /* Modes: the folder 0700, each file 0600. */
  struct stat sb;
  ck_assert_int_eq(stat(tmp, &sb), 0);
  ck_assert_int_eq(sb.st_mode & 0777, 0700);
  char name[STATE_STORE_NAME_MAX], path[1024];
  state_store_name(k3, sizeof k3, name, sizeof name);
  snprintf(path, sizeof path, "%s/%s", tmp, name);
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_eq(sb.st_mode & 0777, 0600);

  struct result d = { 0 };
  ck_assert_int_eq(state_store_ops.del(impl, k3, sizeof k3, on_done, &d), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(d.calls, 1);
  ck_assert_int_eq(d.status, 0);
  ck_assert_int_eq(file_exists(name), 0);
  r = get_wait(k3, sizeof k3);
  ck_assert_int_eq(r.status, SIPREC_ENOTFOUND);
  /* A missing key's delete is no error. */
  memset(&d, 0, sizeof d);
  ck_assert_int_eq(state_store_ops.del(impl, "nope", 4, on_done, &d), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(d.status, 0);
  s = scan_wait();
  ck_assert_int_eq(s.keys, 3);

  /* Bad keys are refused before anything starts. */
  ck_assert_int_eq(state_store_ops.put(impl, "", 0, "x", 1, on_done, &d), SIPREC_EINVAL);
  ck_assert_int_eq(state_store_ops.get(impl, k3, 1025, on_done, &d), SIPREC_EINVAL);

  /* Reopened (another process): the values are there. */
  close_store();
  open_store();
  r = get_wait(k2, sizeof k2);
  ck_assert_int_eq(r.status, 0);
  ck_assert_mem_eq(r.value, "two", 3);
  s = scan_wait();
  ck_assert_int_eq(s.keys, 3);
}
END_TEST

/* Many puts of one key at once: every one is answered once, in order, the
 * file ends with the newest bytes, and most writes were coalesced away. A
 * get meanwhile sees the newest value given. */
static int order_seen[1000], order_n;

static void on_ordered(void *arg, int status, const void *data, size_t len)
{
  (void)data;
  (void)len;
  ck_assert_int_eq(status, 0);
  order_seen[order_n++] = (int)(intptr_t)arg;
}

START_TEST(rapid_puts)
{
  order_n = 0;
  char v[64];
  for (int i = 0; i < 500; i++) {
    int n = snprintf(v, sizeof v, "value %d", i);
    ck_assert_int_eq(state_store_ops.put(impl, "k", 1, v, (size_t)n, on_ordered,
                                      (void *)(intptr_t)i), 0);
  }
  /* Before any lands: the get answers from the newest put. */
  struct result r = { 0 };
  ck_assert_int_eq(state_store_ops.get(impl, "k", 1, on_done, &r), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.status, 0);
  ck_assert_mem_eq(r.value, "value 499", 9);
  ck_assert_int_eq(order_n, 500);
  /* Answered once each; the first write's callback comes first, the
   * others (coalesced into the second write) after it. */
  int seen[500] = { 0 };
  for (int i = 0; i < 500; i++) {
    ck_assert_int_ge(order_seen[i], 0);
    ck_assert_int_lt(order_seen[i], 500);
    ck_assert_int_eq(seen[order_seen[i]]++, 0);
  }
  ck_assert_int_eq(order_seen[0], 0);
  close_store();
  open_store();
  r = get_wait("k", 1);
  ck_assert_uint_eq(r.len, 9);
  ck_assert_mem_eq(r.value, "value 499", 9);

  /* A delete after puts lands after them; a put after the delete wins. */
  put_wait("d", 1, "x", 1);
  struct result a = { 0 }, b = { 0 }, c = { 0 };
  ck_assert_int_eq(state_store_ops.put(impl, "d", 1, "y", 1, on_done, &a), 0);
  ck_assert_int_eq(state_store_ops.put(impl, "d", 1, "z", 1, on_done, &b), 0);
  ck_assert_int_eq(state_store_ops.del(impl, "d", 1, on_done, &c), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(a.calls + b.calls + c.calls, 3);
  r = get_wait("d", 1);
  ck_assert_int_eq(r.status, SIPREC_ENOTFOUND);
  char name[STATE_STORE_NAME_MAX];
  state_store_name("d", 1, name, sizeof name);
  ck_assert_int_eq(file_exists(name), 0);
  ck_assert_int_eq(state_store_ops.del(impl, "d", 1, on_done, &c), 0);
  ck_assert_int_eq(state_store_ops.put(impl, "d", 1, "w", 1, on_done, &c), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  r = get_wait("d", 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_mem_eq(r.value, "w", 1);
}
END_TEST

/* A done callback that puts again (as the server's does not, but a host
 * may): the slot it runs in stays valid. */
static int chain_left;

static void on_chain(void *arg, int status, const void *data, size_t len)
{
  (void)data;
  (void)len;
  ck_assert_int_eq(status, 0);
  if (chain_left-- > 0) {
    char v[16];
    int n = snprintf(v, sizeof v, "c%d", chain_left);
    ck_assert_int_eq(state_store_ops.put(arg, "chain", 5, v, (size_t)n, on_chain, arg), 0);
  }
}

START_TEST(put_from_callback)
{
  chain_left = 5;
  ck_assert_int_eq(state_store_ops.put(impl, "chain", 5, "c", 1, on_chain, impl), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(chain_left, -1);
  struct result r = get_wait("chain", 5);
  ck_assert_mem_eq(r.value, "c0", 2);
}
END_TEST

/* .tmp files: never read, removed at open; a file that is not a whole
 * value of its key is refused, not taken. */
START_TEST(tmp_and_damaged_files)
{
  put_wait("A", 1, "good", 4);
  close_store();
  /* A write that died before its rename: the .tmp of key "A" holds newer
   * but unfinished bytes, and a .tmp of a key never written. */
  write_raw("k41.tmp", "SRS1\0\0\0\1Anewer", 13);
  write_raw("k42.tmp", "SRS1\0\0\0\1Bonly", 12);
  size_t removed = 0;
  ck_assert_int_eq(state_store_open(&impl, &loop, tmp, &removed), 0);
  ck_assert_uint_eq(removed, 2);
  ck_assert_int_eq(file_exists("k41.tmp"), 0);
  struct result r = get_wait("A", 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_mem_eq(r.value, "good", 4);
  /* A .tmp appearing while running (a crash's leftover copied in) is not
   * a key of the scan, nor a value of a get. */
  write_raw("k42.tmp", "SRS1\0\0\0\1Bonly", 12);
  struct scan s = scan_wait();
  ck_assert_int_eq(s.keys, 1);
  ck_assert_str_eq(s.seen, "1:A;");
  r = get_wait("B", 1);
  ck_assert_int_eq(r.status, SIPREC_ENOTFOUND);
  /* Damaged: a truncated header, another key's header, no magic. */
  write_raw("k43", "SRS1\0\0", 6);
  ck_assert_int_eq(get_wait("C", 1).status, SIPREC_EPARSE);
  write_raw("k44", "SRS1\0\0\0\1Xvalue", 14);
  ck_assert_int_eq(get_wait("D", 1).status, SIPREC_EPARSE);
  write_raw("k45", "junkjunkjunk", 12);
  ck_assert_int_eq(get_wait("E", 1).status, SIPREC_EPARSE);
  /* Other names are not the store's. */
  write_raw("key", "0123456789abcdef0123456789abcdef", 32);
  write_raw("kzz", "SRS1\0\0\0\1Zv", 10);
  write_raw("h00", "SRS1\0\0\0\1Zv", 10);
  s = scan_wait();
  ck_assert_int_eq(s.keys, 4); /* A, and the damaged k43..k45 by their names */
}
END_TEST

/* A writer SIGKILLed at random points while it replaces one key's large
 * value again and again: every value read afterwards is whole, one of
 * those written. */
#define BIG (256 * 1024)

static void fill(char *buf, int gen)
{
  for (size_t i = 0; i < BIG; i++)
    buf[i] = (char)('a' + (gen + (int)(i / 4096)) % 26);
}

/* Writes values until killed; a byte on `ready` once the first one landed. */
static void writer_child(int ready)
{
  uv_loop_t l;
  struct state_store *ss;
  if (uv_loop_init(&l) < 0 || state_store_open(&ss, &l, tmp, NULL) < 0)
    _exit(3);
  static char buf[BIG];
  for (int gen = 0;; gen++) {
    fill(buf, gen);
    if (state_store_ops.put(ss, "big", 3, buf, BIG, NULL, NULL) < 0)
      _exit(4);
    uv_run(&l, UV_RUN_DEFAULT);
    if (gen == 0 && write(ready, "x", 1) != 1)
      _exit(5);
  }
}

struct big_read {
  int status;
  size_t len;
  char data[BIG];
};

static void on_big(void *arg, int status, const void *data, size_t len)
{
  struct big_read *b = arg;
  b->status = status;
  b->len = 0;
  if (data && len <= BIG) {
    memcpy(b->data, data, len);
    b->len = len;
  }
}

START_TEST(killed_writer)
{
  close_store();
  static char want[BIG];
  static struct big_read got;
  srand((unsigned)time(NULL));
  int whole = 0;
  for (int round = 0; round < 6; round++) {
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(ready[0]);
      writer_child(ready[1]);
    }
    close(ready[1]);
    /* Killed at a random point of its writes, but after the first one
     * landed: on a slow machine (valgrind) a fixed delay could end every
     * round before any value exists, and the check would see none. */
    char byte;
    ck_assert_int_eq(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    struct timespec ts = { 0, (rand() % 60) * 1000000L };
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status));
    open_store();
    got.status = -1;
    ck_assert_int_eq(state_store_ops.get(impl, "big", 3, on_big, &got), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (got.status != SIPREC_ENOTFOUND) { /* not killed before the first rename */
      ck_assert_int_eq(got.status, 0);
      ck_assert_uint_eq(got.len, BIG);
      fill(want, got.data[0] - 'a');
      ck_assert_msg(memcmp(got.data, want, BIG) == 0, "round %d: a torn value", round);
      whole++;
    }
    close_store();
  }
  ck_assert_int_gt(whole, 0); /* the check ran on values, not only on absence */
  open_store();
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("state_store");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, names);
  tcase_add_test(tc, put_get_del_scan);
  tcase_add_test(tc, rapid_puts);
  tcase_add_test(tc, put_from_callback);
  tcase_add_test(tc, tmp_and_damaged_files);
  tcase_add_test(tc, killed_writer);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
