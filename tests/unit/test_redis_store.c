/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's snapshot store on Redis (examples/server/redis_store.c),
 * against a real redis-server this test starts on 127.0.0.1 (skipped when
 * Debian's redis-server is not installed): the store's operations, this
 * node's own sessions, a take, claims of a dead node's sessions by two
 * nodes at once (each session won by exactly one), a node that lost a
 * session being told so instead of overwriting the new owner's state, and
 * a Redis restarted empty mid-way: every live session written again.
 */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <siprec/store.h>

#include "redis_store.h"

static uv_loop_t loop;
static pid_t redis_pid = -1;
static int redis_port;

static int free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
  socklen_t n = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

static int redis_ping(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "redis-cli -p %d ping 2>/dev/null | grep -q PONG", redis_port);
  return system(cmd) == 0;
}

/* redis-server in the foreground, no persistence: a restart is empty. */
static void redis_start(void)
{
  char port[16];
  snprintf(port, sizeof port, "%d", redis_port);
  redis_pid = fork();
  if (redis_pid == 0) {
    /* It dies with the test (a failed check ends the test's process
     * without its teardown). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    freopen("/dev/null", "w", stdout);
    execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", (char *)NULL);
    _exit(127);
  }
  ck_assert_int_gt(redis_pid, 0);
  for (int i = 0; i < 100 && !redis_ping(); i++)
    usleep(50 * 1000);
  ck_assert_msg(redis_ping(), "redis-server did not start");
}

static void redis_stop(void)
{
  if (redis_pid > 0) {
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, NULL, 0);
  }
  redis_pid = -1;
}

/* A redis-cli command's first output line into out. */
static void redis_cli(const char *args, char *out, size_t size)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "redis-cli -p %d %s 2>/dev/null", redis_port, args);
  FILE *f = popen(cmd, "r");
  ck_assert_ptr_nonnull(f);
  out[0] = '\0';
  if (!fgets(out, (int)size, f))
    out[0] = '\0';
  out[strcspn(out, "\n")] = '\0';
  pclose(f);
}

static void run_for(uint64_t ms)
{
  uint64_t end = uv_now(&loop) + ms;
  while (uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(2000);
    uv_update_time(&loop);
  }
}

/* Run until *flag or `ms` pass. */
static void run_until(const int *flag, uint64_t ms)
{
  uint64_t end = uv_now(&loop) + ms;
  while (!*flag && uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
    uv_update_time(&loop);
  }
}

/* ---------------------------------------------------------------------- */

struct node {
  struct redis_store *st;
  char name[32];
  int up;
  int lost;
  char lost_key[64];
};

static void on_up(void *user)
{
  ((struct node *)user)->up++;
}

static void on_lost(void *user, const char *key, size_t len)
{
  struct node *n = user;
  n->lost++;
  snprintf(n->lost_key, sizeof n->lost_key, "%.*s", (int)len, key);
}

static void node_open(struct node *n, const char *name)
{
  memset(n, 0, sizeof *n);
  snprintf(n->name, sizeof n->name, "%s", name);
  struct redis_where w;
  char addr[32];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", redis_port);
  ck_assert_int_eq(redis_where_parse(&w, addr, NULL, NULL), 0);
  struct redis_store_config cfg = {
    .prefix = "t:", .node = n->name, .ttl_ms = 60000, .lost = on_lost, .up = on_up, .user = n,
  };
  ck_assert_int_eq(redis_store_new(&n->st, &loop, &w, &cfg), 0);
  run_until(&n->up, 3000);
  ck_assert_int_eq(n->up, 1);
}

static void node_close(struct node *n)
{
  redis_store_free(n->st);
  n->st = NULL;
  run_for(20);
}

struct result {
  int done, status;
  char value[256];
  size_t len;
  int keys;
  int was_mine;
};

static void on_done(void *arg, int status, const void *data, size_t len)
{
  struct result *r = arg;
  r->done = 1;
  r->status = status;
  r->len = len < sizeof r->value ? len : sizeof r->value;
  if (data)
    memcpy(r->value, data, r->len);
}

static void on_key(void *arg, const char *key, size_t len)
{
  (void)key;
  (void)len;
  ((struct result *)arg)->keys++;
}

static void put(struct node *n, const char *key, const char *value)
{
  struct result r = { 0 };
  ck_assert_int_eq(redis_store_ops.put(n->st, key, strlen(key), value, strlen(value), on_done, &r),
                   0);
  run_until(&r.done, 3000);
  ck_assert_int_eq(r.done, 1);
  ck_assert_int_eq(r.status, 0);
}

static void setup(void)
{
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  redis_port = free_port();
  ck_assert_int_gt(redis_port, 0);
  redis_start();
}

static void teardown(void)
{
  run_for(50);
  redis_stop();
  uv_loop_close(&loop);
}

START_TEST(put_get_del_scan)
{
  struct node a;
  node_open(&a, "a");
  put(&a, "call-1@host", "one");
  const char bin[] = "a\0*[x]";
  struct result r = { 0 };
  ck_assert_int_eq(redis_store_ops.put(a.st, bin, sizeof bin, "two", 3, on_done, &r), 0);
  run_until(&r.done, 3000);
  ck_assert_int_eq(r.status, 0);
  char out[256];
  redis_cli("HGET t:s:call-1@host snap", out, sizeof out);
  ck_assert_str_eq(out, "one");
  redis_cli("HGET t:s:call-1@host owner", out, sizeof out);
  ck_assert_str_eq(out, "a");
  redis_cli("TTL t:s:call-1@host", out, sizeof out);
  ck_assert_int_gt(atoi(out), 50);

  /* get: a write known to the store answers from memory; after a fresh
   * store (nothing in memory), from Redis. */
  node_close(&a);
  node_open(&a, "a");
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(redis_store_ops.get(a.st, "call-1@host", 11, on_done, &r), 0);
  run_until(&r.done, 3000);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.len, 3);
  ck_assert_mem_eq(r.value, "one", 3);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(redis_store_ops.get(a.st, "nope", 4, on_done, &r), 0);
  run_until(&r.done, 3000);
  ck_assert_int_eq(r.status, SIPREC_ENOTFOUND);

  /* scan (SCAN with the prefix's glob characters escaped) and this
   * node's own (SSCAN). */
  put(&a, "call-2@host", "x");
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(redis_store_ops.scan(a.st, on_key, on_done, &r), 0);
  run_until(&r.done, 3000);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(r.keys, 3);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(redis_store_scan_owned(a.st, on_key, on_done, &r), 0);
  run_until(&r.done, 3000);
  ck_assert_int_eq(r.keys, 3);

  /* del removes the hash and the membership. */
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(redis_store_ops.del(a.st, "call-2@host", 11, on_done, &r), 0);
  run_until(&r.done, 3000);
  ck_assert_int_eq(r.status, 0);
  redis_cli("EXISTS t:s:call-2@host", out, sizeof out);
  ck_assert_str_eq(out, "0");
  redis_cli("SISMEMBER t:n:a call-2@host", out, sizeof out);
  ck_assert_str_eq(out, "0");
  node_close(&a);
}
END_TEST

/* Claims: two surviving nodes claim a dead node's 200 sessions at once;
 * every session goes to exactly one of them, none while the dead node's
 * heartbeat lives. */
struct claims {
  int rounds_done;
  size_t claimed;
  char seen[200];
};
static struct claims cb_b, cb_c;

static void on_claim(void *arg, const char *key, size_t len, const void *data, size_t dlen)
{
  struct claims *c = arg;
  char k[32];
  snprintf(k, sizeof k, "%.*s", (int)len, key);
  int i = atoi(k + 1);
  ck_assert(i >= 0 && i < 200);
  ck_assert_uint_eq(dlen, 1);
  ck_assert_int_eq(((const char *)data)[0], 'v');
  c->seen[i]++;
}

static void on_round(void *arg, size_t claimed)
{
  struct claims *c = arg;
  c->claimed += claimed;
  c->rounds_done++;
}

START_TEST(claims_one_winner)
{
  struct node a, b, c;
  node_open(&a, "a");
  node_open(&b, "b");
  node_open(&c, "c");
  char key[16];
  for (int i = 0; i < 200; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ck_assert_int_eq(redis_store_ops.put(a.st, key, strlen(key), "v", 1, NULL, NULL), 0);
  }
  run_for(300);
  ck_assert_uint_eq(redis_store_pending(a.st), 0);
  memset(&cb_b, 0, sizeof cb_b);
  memset(&cb_c, 0, sizeof cb_c);
  /* a is alive: nothing to claim. */
  redis_store_heartbeat(a.st, 800);
  run_for(20);
  redis_store_claim_orphans(b.st, 64, on_claim, on_round, &cb_b);
  run_until(&cb_b.rounds_done, 3000);
  ck_assert_uint_eq(cb_b.claimed, 0);
  /* a dies (its store gone, its heartbeat expires). */
  node_close(&a);
  run_for(900);
  for (int round = 0; round < 10 && cb_b.claimed + cb_c.claimed < 200; round++) {
    cb_b.rounds_done = cb_c.rounds_done = 0;
    redis_store_claim_orphans(b.st, 64, on_claim, on_round, &cb_b);
    redis_store_claim_orphans(c.st, 64, on_claim, on_round, &cb_c);
    run_until(&cb_b.rounds_done, 3000);
    run_until(&cb_c.rounds_done, 3000);
  }
  ck_assert_uint_eq(cb_b.claimed + cb_c.claimed, 200);
  ck_assert_uint_gt(cb_b.claimed, 0);
  ck_assert_uint_gt(cb_c.claimed, 0);
  for (int i = 0; i < 200; i++)
    ck_assert_int_eq(cb_b.seen[i] + cb_c.seen[i], 1);
  char out[64];
  redis_cli("SISMEMBER t:nodes a", out, sizeof out);
  ck_assert_str_eq(out, "0"); /* forgotten once empty */
  redis_cli("HGET t:s:k7 owner", out, sizeof out);
  ck_assert_str_eq(out, cb_b.seen[7] ? "b" : "c");
  node_close(&b);
  node_close(&c);
}
END_TEST

struct took {
  int done, status, was_mine;
  char value[16];
};

static void on_take(void *arg, int status, int was_mine, const void *data, size_t len)
{
  struct took *t = arg;
  t->done = 1;
  t->status = status;
  t->was_mine = was_mine;
  if (data)
    snprintf(t->value, sizeof t->value, "%.*s", (int)len, (const char *)data);
}

/* A request reached b for a's session: b takes it; a, which still thinks
 * it holds it, is told at its next write instead of overwriting b's. */
START_TEST(take_and_lost)
{
  struct node a, b;
  node_open(&a, "a");
  node_open(&b, "b");
  put(&a, "s1", "a-state");
  struct took t = { 0 };
  ck_assert_int_eq(redis_store_take(b.st, "s1", 2, on_take, &t), 0);
  run_until(&t.done, 3000);
  ck_assert_int_eq(t.status, 0);
  ck_assert_int_eq(t.was_mine, 0);
  ck_assert_str_eq(t.value, "a-state");
  memset(&t, 0, sizeof t);
  ck_assert_int_eq(redis_store_take(b.st, "s1", 2, on_take, &t), 0);
  run_until(&t.done, 3000);
  ck_assert_int_eq(t.was_mine, 1);
  memset(&t, 0, sizeof t);
  ck_assert_int_eq(redis_store_take(b.st, "none", 4, on_take, &t), 0);
  run_until(&t.done, 3000);
  ck_assert_int_eq(t.status, SIPREC_ENOTFOUND);

  put(&b, "s1", "b-state");
  struct redis_store_stats as;
  redis_store_stats_get(a.st, &as);
  ck_assert_uint_eq(as.sessions, 1);
  put(&a, "s1", "a-late"); /* lands, refused */
  ck_assert_int_eq(a.lost, 1);
  ck_assert_str_eq(a.lost_key, "s1");
  redis_store_stats_get(a.st, &as);
  ck_assert_uint_eq(as.sessions, 0); /* not a's to keep or refresh any more */
  char out[64];
  redis_cli("HGET t:s:s1 snap", out, sizeof out);
  ck_assert_str_eq(out, "b-state");
  /* a's delete of it leaves it too. */
  struct result r = { 0 };
  ck_assert_int_eq(redis_store_ops.del(a.st, "s1", 2, on_done, &r), 0);
  run_until(&r.done, 3000);
  redis_cli("HGET t:s:s1 owner", out, sizeof out);
  ck_assert_str_eq(out, "b");
  redis_cli("SMEMBERS t:n:a", out, sizeof out);
  ck_assert_str_eq(out, "");
  node_close(&a);
  node_close(&b);
}
END_TEST

/* Redis restarted empty: writes given meanwhile wait, then every live key
 * is written again with its newest value; deleted ones stay deleted. */
START_TEST(redis_restart)
{
  struct node a;
  node_open(&a, "a");
  put(&a, "k1", "one");
  put(&a, "k2", "two");
  put(&a, "gone", "x");
  /* Writes on their way when Redis dies: their connection's end comes back
   * as replies without content, and they wait for the next connection
   * (no resending into the dying one). */
  char key[16], val[16];
  for (int i = 0; i < 300; i++) {
    snprintf(key, sizeof key, "w%d", i);
    snprintf(val, sizeof val, "v%d", i);
    ck_assert_int_eq(redis_store_ops.put(a.st, key, strlen(key), val, strlen(val), NULL, NULL),
                     0);
  }
  run_for(1); /* sent, not all answered */
  redis_stop();
  run_for(300);
  struct result r1 = { 0 }, r2 = { 0 };
  ck_assert_int_eq(redis_store_ops.put(a.st, "k2", 2, "two-b", 5, on_done, &r1), 0);
  ck_assert_int_eq(redis_store_ops.del(a.st, "gone", 4, on_done, &r2), 0);
  run_for(200);
  ck_assert_int_eq(r1.done, 0); /* waiting for Redis */
  /* Down, seen at once from the closed connection or, at the latest, by
   * the reply watch. */
  struct redis_store_stats s;
  redis_store_stats_get(a.st, &s);
  for (int i = 0; i < 400 && s.up; i++) {
    run_for(10);
    redis_store_stats_get(a.st, &s);
  }
  ck_assert_int_eq(s.up, 0);
  ck_assert_int_eq(r1.done, 0);
  redis_start();
  run_until(&r1.done, 5000);
  run_until(&r2.done, 5000);
  ck_assert_int_eq(r1.status, 0);
  ck_assert_int_eq(r2.status, 0);
  run_for(200);
  char out[64];
  redis_cli("HGET t:s:k1 snap", out, sizeof out);
  ck_assert_str_eq(out, "one");
  redis_cli("HGET t:s:k2 snap", out, sizeof out);
  ck_assert_str_eq(out, "two-b");
  redis_cli("EXISTS t:s:gone", out, sizeof out);
  ck_assert_str_eq(out, "0");
  redis_cli("HGET t:s:w299 snap", out, sizeof out);
  ck_assert_str_eq(out, "v299");
  redis_cli("SCARD t:n:a", out, sizeof out);
  ck_assert_str_eq(out, "302");
  redis_store_stats_get(a.st, &s);
  ck_assert_int_eq(s.up, 1);
  ck_assert_uint_eq(s.connects, 2);
  ck_assert_int_eq(a.up, 2);
  node_close(&a);
}
END_TEST

int main(void)
{
  if (system("command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1")) {
    printf("redis-server or redis-cli not installed: skipped\n");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  Suite *s = suite_create("redis_store");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, put_get_del_scan);
  tcase_add_test(tc, claims_one_winner);
  tcase_add_test(tc, take_and_lost);
  tcase_add_test(tc, redis_restart);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
