/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-server's snapshot store on Redis; see redis_store.h. */
#include "redis_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "write_queue.h"

#define KEY_MAX 1024
#define NODE_MAX 128
#define PREFIX_MAX 128
#define SCAN_COUNT "200"

/* The scripts. ARGV[1] is always the prefix; a session's hash is
 * P.."s:"..KEY, a node's set P.."n:"..NODE. */

/* ARGV: P, KEY, ME, SNAP, TTL_MS. 1 written, 0 another node owns KEY. */
static const char put_lua[] =
  "local h = ARGV[1]..'s:'..ARGV[2]\n"
  "local o = redis.call('HGET', h, 'owner')\n"
  "if o and o ~= ARGV[3] then return 0 end\n"
  "redis.call('HSET', h, 'snap', ARGV[4], 'owner', ARGV[3])\n"
  "redis.call('PEXPIRE', h, ARGV[5])\n"
  "if not o then redis.call('SADD', ARGV[1]..'n:'..ARGV[3], ARGV[2]) end\n"
  "return 1\n";

/* ARGV: P, KEY, ME. 1 deleted (or absent), 0 another node owns KEY. */
static const char del_lua[] =
  "local h = ARGV[1]..'s:'..ARGV[2]\n"
  "local o = redis.call('HGET', h, 'owner')\n"
  "if o and o ~= ARGV[3] then return 0 end\n"
  "redis.call('DEL', h)\n"
  "redis.call('SREM', ARGV[1]..'n:'..ARGV[3], ARGV[2])\n"
  "return 1\n";

/* ARGV: P, KEY, ME. nil (no session), or {was mine (1/0), SNAP}: KEY is
 * ME's now. */
static const char take_lua[] =
  "local h = ARGV[1]..'s:'..ARGV[2]\n"
  "local o = redis.call('HGET', h, 'owner')\n"
  "local s = redis.call('HGET', h, 'snap')\n"
  "if not o or not s then return false end\n"
  "if o == ARGV[3] then return {1, s} end\n"
  "redis.call('HSET', h, 'owner', ARGV[3])\n"
  "redis.call('SREM', ARGV[1]..'n:'..o, ARGV[2])\n"
  "redis.call('SADD', ARGV[1]..'n:'..ARGV[3], ARGV[2])\n"
  "redis.call('SADD', ARGV[1]..'nodes', ARGV[3])\n"
  "return {0, s}\n";

/* ARGV: P, DEAD, ME, MAX. {KEY, SNAP, KEY, SNAP...}: DEAD's sessions,
 * ME's now; nothing while DEAD's heartbeat lives. The check and the moves
 * are one script: two nodes claiming at once cannot both win a session. */
static const char claim_lua[] =
  "local P = ARGV[1]\n"
  "if redis.call('EXISTS', P..'hb:'..ARGV[2]) == 1 then return {} end\n"
  "local out = {}\n"
  "for i = 1, tonumber(ARGV[4]) do\n"
  "  local k = redis.call('SPOP', P..'n:'..ARGV[2])\n"
  "  if not k then redis.call('SREM', P..'nodes', ARGV[2]) break end\n"
  "  local h = P..'s:'..k\n"
  "  if redis.call('HGET', h, 'owner') == ARGV[2] then\n"
  "    local s = redis.call('HGET', h, 'snap')\n"
  "    if s then\n"
  "      redis.call('HSET', h, 'owner', ARGV[3])\n"
  "      redis.call('SADD', P..'n:'..ARGV[3], k)\n"
  "      out[#out + 1] = k\n"
  "      out[#out + 1] = s\n"
  "    end\n"
  "  end\n"
  "end\n"
  "return out\n";

/* ARGV: P, ME, KEY... The keys (of those given) another node owns now. */
static const char others_lua[] =
  "local out = {}\n"
  "for i = 3, #ARGV do\n"
  "  local o = redis.call('HGET', ARGV[1]..'s:'..ARGV[i], 'owner')\n"
  "  if o and o ~= ARGV[2] then out[#out + 1] = ARGV[i] end\n"
  "end\n"
  "return out\n";

/* Keys per ownership check script. */
#define CHECK_BATCH 256

struct redis_store {
  uv_loop_t *loop;
  struct redis_conn *conn;
  struct write_queue *writes;
  struct write_queue *aux; /* P r:NAME values */
  struct redis_store_config cfg;
  char prefix[PREFIX_MAX], node[NODE_MAX + 1];
  char ttl_text[24];
  uv_timer_t refresh; /* the live keys' TTL */
  struct redis_store_stats st;
  size_t pending; /* gets, takes, scans on their way */
};

/* A write's reply. */
struct wreply {
  struct redis_store *st;
  struct wq_slot *slot;
  int kind;
  char *key;
  size_t key_len;
};

/* The ARGV an EVAL takes on the stack; the ownership check's batches (up to
 * 2 + CHECK_BATCH) take the heap. */
#define EVAL_STACK_ARGS 8

/* EVAL of one of the scripts above with no KEYS and `nargs` ARGV. Redis
 * caches a script by its SHA1, so sending the text each time costs its
 * bytes only. */
static void eval(struct redis_store *st, redis_reply_cb cb, void *arg, const char *script,
                 size_t nargs, const char *const *args, const size_t *lens)
{
  const char *stack_argv[EVAL_STACK_ARGS + 3];
  size_t stack_lens[EVAL_STACK_ARGS + 3];
  const char **argv = stack_argv;
  size_t *lv = stack_lens;
  if (nargs > EVAL_STACK_ARGS) {
    argv = malloc((nargs + 3) * sizeof *argv);
    lv = malloc((nargs + 3) * sizeof *lv);
    if (!argv || !lv) {
      free(argv);
      free(lv);
      if (cb)
        cb(arg, NULL);
      return;
    }
  }
  argv[0] = "EVAL";
  lv[0] = 4;
  argv[1] = script;
  lv[1] = strlen(script);
  argv[2] = "0";
  lv[2] = 1;
  memcpy(argv + 3, args, nargs * sizeof *argv);
  memcpy(lv + 3, lens, nargs * sizeof *lv);
  redis_conn_cmd(st->conn, cb, arg, (int)(nargs + 3), argv, lv);
  if (argv != stack_argv) {
    free(argv);
    free(lv);
  }
}

/* Another node owns `key` now (it took the session while this node was
 * thought dead): said, counted, told to the host, forgotten here. */
static void session_lost(struct redis_store *st, const char *key, size_t len)
{
  st->st.lost++;
  fprintf(stderr, "siprec-server: redis: another node holds session %.*s now; letting it go\n",
          (int)(len > 64 ? 64 : len), key);
  if (st->cfg.lost)
    st->cfg.lost(st->cfg.user, key, len);
  wq_forget(st->writes, key, len);
}

/* ---------------------------------------------------------------------- */
/* Writes                                                                   */

static void on_write_reply(void *arg, const redisReply *r)
{
  struct wreply *w = arg;
  struct redis_store *st = w->st;
  int status = 0, refused = 0;
  if (!r) {
    status = WQ_LATER; /* the connection went: written again when it is back */
    st->st.write_retries++;
  } else if (r->type == REDIS_REPLY_INTEGER) {
    st->st.writes++;
    refused = r->integer == 0;
  } else {
    status = SIPREC_EAGAIN;
    fprintf(stderr, "siprec-server: redis: a snapshot was not written: %s\n",
            r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
  }
  wq_landed(st->writes, w->slot, status);
  /* Refused: the key is another node's. A refused put means this node
   * still holds the session; a refused delete, that it ended here anyway. */
  if (refused && w->kind == WQ_PUT)
    session_lost(st, w->key, w->key_len);
  else if (refused)
    wq_forget(st->writes, w->key, w->key_len);
  free(w->key);
  free(w);
}

static int start_write(void *backend, struct wq_slot *slot, int kind, const char *key,
                       size_t key_len, const void *data, size_t len)
{
  struct redis_store *st = backend;
  if (!redis_conn_is_up(st->conn))
    return WQ_LATER;
  struct wreply *w = calloc(1, sizeof *w);
  char *copy = w ? malloc(key_len) : NULL;
  if (!copy) {
    free(w);
    return SIPREC_ENOMEM;
  }
  memcpy(copy, key, key_len);
  *w = (struct wreply){ st, slot, kind, copy, key_len };
  const char *args[] = { st->prefix, key, st->node, data, st->ttl_text };
  size_t lens[] = { strlen(st->prefix), key_len, strlen(st->node), len, strlen(st->ttl_text) };
  if (kind == WQ_PUT)
    eval(st, on_write_reply, w, put_lua, 5, args, lens);
  else
    eval(st, on_write_reply, w, del_lua, 3, args, lens);
  return 0;
}

static int rs_put(void *impl, const char *key, size_t key_len, const void *data, size_t len,
                  siprec_store_done_cb done, void *arg)
{
  struct redis_store *st = impl;
  return wq_write(st->writes, key, key_len, WQ_PUT, data, len, done, arg);
}

static int rs_del(void *impl, const char *key, size_t key_len, siprec_store_done_cb done,
                  void *arg)
{
  struct redis_store *st = impl;
  return wq_write(st->writes, key, key_len, WQ_DEL, NULL, 0, done, arg);
}

/* ---------------------------------------------------------------------- */
/* Reads                                                                    */

struct read {
  struct redis_store *st;
  siprec_store_done_cb done;
  redis_take_cb take_done;
  siprec_store_key_cb each;
  void *arg;
  int owned;           /* scan: SSCAN of this node's set, else SCAN */
  char cursor[32];
};

static struct read *read_new(struct redis_store *st, void *arg)
{
  struct read *r = calloc(1, sizeof *r);
  if (r) {
    r->st = st;
    r->arg = arg;
    strcpy(r->cursor, "0");
    st->pending++;
  }
  return r;
}

static void read_free(struct read *r)
{
  r->st->pending--;
  free(r);
}

static void on_get(void *arg, const redisReply *reply)
{
  struct read *r = arg;
  if (!reply)
    r->done(r->arg, SIPREC_EAGAIN, NULL, 0);
  else if (reply->type == REDIS_REPLY_STRING)
    r->done(r->arg, 0, reply->str, reply->len);
  else if (reply->type == REDIS_REPLY_NIL)
    r->done(r->arg, SIPREC_ENOTFOUND, NULL, 0);
  else
    r->done(r->arg, SIPREC_EAGAIN, NULL, 0);
  read_free(r);
}

/* P + infix + key into a new buffer (*len set). */
static char *key_name(const struct redis_store *st, const char *infix, const char *key,
                      size_t key_len, size_t *len)
{
  size_t p = strlen(st->prefix), i = strlen(infix);
  char *out = malloc(p + i + key_len + 1);
  if (out) {
    memcpy(out, st->prefix, p);
    memcpy(out + p, infix, i);
    memcpy(out + p + i, key, key_len);
    out[p + i + key_len] = '\0';
    *len = p + i + key_len;
  }
  return out;
}

static int rs_get(void *impl, const char *key, size_t key_len, siprec_store_done_cb done,
                  void *arg)
{
  struct redis_store *st = impl;
  if (!done)
    return SIPREC_EINVAL;
  const void *val = NULL;
  size_t val_len = 0;
  int newest = wq_newest(st->writes, key, key_len, &val, &val_len);
  if (newest != WQ_NONE) {
    /* A write on its way (or kept): that is the newest state. */
    done(arg, newest == WQ_PUT ? 0 : SIPREC_ENOTFOUND, newest == WQ_PUT ? val : NULL,
         newest == WQ_PUT ? val_len : 0);
    return 0;
  }
  size_t nl = 0;
  char *name = key_name(st, "s:", key, key_len, &nl);
  struct read *r = name ? read_new(st, arg) : NULL;
  if (!r) {
    free(name);
    return SIPREC_ENOMEM;
  }
  r->done = done;
  const char *argv[] = { "HGET", name, "snap" };
  size_t lens[] = { 4, nl, 4 };
  redis_conn_cmd(st->conn, on_get, r, 3, argv, lens);
  free(name);
  return 0;
}

static void scan_step(struct read *r);

static void on_scan(void *arg, const redisReply *reply)
{
  struct read *r = arg;
  struct redis_store *st = r->st;
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_ARRAY ||
      reply->element[0]->len >= sizeof r->cursor) {
    r->done(r->arg, SIPREC_EAGAIN, NULL, 0);
    read_free(r);
    return;
  }
  /* SCAN names whole keys (P s:KEY); SSCAN the set's members (KEY). */
  size_t skip = r->owned ? 0 : strlen(st->prefix) + 2;
  const redisReply *keys = reply->element[1];
  for (size_t i = 0; i < keys->elements; i++) {
    const redisReply *k = keys->element[i];
    if (k->type == REDIS_REPLY_STRING && k->len > skip && k->len - skip <= KEY_MAX)
      r->each(r->arg, k->str + skip, k->len - skip);
  }
  memcpy(r->cursor, reply->element[0]->str, reply->element[0]->len + 1);
  if (!strcmp(r->cursor, "0")) {
    r->done(r->arg, 0, NULL, 0);
    read_free(r);
    return;
  }
  scan_step(r);
}

/* MATCH's glob, with the prefix's own glob characters escaped. */
static void match_pattern(const struct redis_store *st, char *out, size_t size)
{
  size_t n = 0;
  for (const char *p = st->prefix; *p && n + 4 < size; p++) {
    if (strchr("*?[]\\", *p))
      out[n++] = '\\';
    out[n++] = *p;
  }
  snprintf(out + n, size - n, "s:*");
}

static void scan_step(struct read *r)
{
  struct redis_store *st = r->st;
  if (r->owned) {
    size_t nl = 0;
    char *set = key_name(st, "n:", st->node, strlen(st->node), &nl);
    if (!set) {
      on_scan(r, NULL);
      return;
    }
    const char *argv[] = { "SSCAN", set, r->cursor, "COUNT", SCAN_COUNT };
    size_t lens[] = { 5, nl, strlen(r->cursor), 5, strlen(SCAN_COUNT) };
    redis_conn_cmd(st->conn, on_scan, r, 5, argv, lens);
    free(set);
    return;
  }
  char pattern[2 * PREFIX_MAX + 8];
  match_pattern(st, pattern, sizeof pattern);
  const char *argv[] = { "SCAN", r->cursor, "MATCH", pattern, "COUNT", SCAN_COUNT };
  size_t lens[] = { 4, strlen(r->cursor), 5, strlen(pattern), 5, strlen(SCAN_COUNT) };
  redis_conn_cmd(st->conn, on_scan, r, 6, argv, lens);
}

static int scan_start(struct redis_store *st, int owned, siprec_store_key_cb each,
                      siprec_store_done_cb done, void *arg)
{
  if (!each || !done)
    return SIPREC_EINVAL;
  struct read *r = read_new(st, arg);
  if (!r)
    return SIPREC_ENOMEM;
  r->each = each;
  r->done = done;
  r->owned = owned;
  scan_step(r);
  return 0;
}

static int rs_scan(void *impl, siprec_store_key_cb each, siprec_store_done_cb done, void *arg)
{
  return scan_start(impl, 0, each, done, arg);
}

int redis_store_scan_owned(struct redis_store *st, siprec_store_key_cb each,
                           siprec_store_done_cb done, void *arg)
{
  return scan_start(st, 1, each, done, arg);
}

static void on_take(void *arg, const redisReply *reply)
{
  struct read *r = arg;
  if (!reply) {
    r->take_done(r->arg, SIPREC_EAGAIN, 0, NULL, 0);
  } else if (reply->type == REDIS_REPLY_NIL) {
    r->take_done(r->arg, SIPREC_ENOTFOUND, 0, NULL, 0);
  } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
             reply->element[0]->type == REDIS_REPLY_INTEGER &&
             reply->element[1]->type == REDIS_REPLY_STRING) {
    if (!reply->element[0]->integer)
      r->st->st.taken++;
    r->take_done(r->arg, 0, (int)reply->element[0]->integer, reply->element[1]->str,
                 reply->element[1]->len);
  } else {
    r->take_done(r->arg, SIPREC_EAGAIN, 0, NULL, 0);
  }
  read_free(r);
}

int redis_store_take(struct redis_store *st, const char *key, size_t key_len, redis_take_cb done,
                     void *arg)
{
  if (!key || !key_len || key_len > KEY_MAX || !done)
    return SIPREC_EINVAL;
  struct read *r = read_new(st, arg);
  if (!r)
    return SIPREC_ENOMEM;
  r->take_done = done;
  const char *args[] = { st->prefix, key, st->node };
  size_t lens[] = { strlen(st->prefix), key_len, strlen(st->node) };
  eval(st, on_take, r, take_lua, 3, args, lens);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Values beside the sessions                                               */

/* The aux values go through a write queue of their own (SET and DEL of
 * P r:NAME, the newest kept in memory), so that they too are written again
 * when Redis comes back without them. */
static void on_aux_reply(void *arg, const redisReply *r)
{
  struct wreply *w = arg;
  int status = !r ? WQ_LATER : r->type == REDIS_REPLY_ERROR ? SIPREC_EAGAIN : 0;
  wq_landed(w->st->aux, w->slot, status);
  free(w->key);
  free(w);
}

static int start_aux(void *backend, struct wq_slot *slot, int kind, const char *key,
                     size_t key_len, const void *data, size_t len)
{
  struct redis_store *st = backend;
  if (!redis_conn_is_up(st->conn))
    return WQ_LATER;
  size_t nl = 0;
  char *name = key_name(st, "r:", key, key_len, &nl);
  struct wreply *w = name ? calloc(1, sizeof *w) : NULL;
  if (!w) {
    free(name);
    return SIPREC_ENOMEM;
  }
  *w = (struct wreply){ st, slot, kind, NULL, 0 };
  if (kind == WQ_PUT) {
    const char *argv[] = { "SET", name, data, "PX", st->ttl_text };
    size_t lens[] = { 3, nl, len, 2, strlen(st->ttl_text) };
    redis_conn_cmd(st->conn, on_aux_reply, w, 5, argv, lens);
  } else {
    const char *argv[] = { "DEL", name };
    size_t lens[] = { 3, nl };
    redis_conn_cmd(st->conn, on_aux_reply, w, 2, argv, lens);
  }
  free(name);
  return 0;
}

void redis_store_aux_set(struct redis_store *st, const char *name, const void *data, size_t len)
{
  if (wq_write(st->aux, name, strlen(name), data ? WQ_PUT : WQ_DEL, data, len, NULL, NULL) < 0)
    fprintf(stderr, "siprec-server: redis: %s not kept (out of memory)\n", name);
}

struct aux_read {
  void (*done)(void *arg, const void *data, size_t len);
  void *arg;
};

static void on_aux(void *arg, const redisReply *reply)
{
  struct aux_read *a = arg;
  if (reply && reply->type == REDIS_REPLY_STRING)
    a->done(a->arg, reply->str, reply->len);
  else
    a->done(a->arg, NULL, 0);
  free(a);
}

void redis_store_aux_get(struct redis_store *st, const char *name,
                         void (*done)(void *arg, const void *data, size_t len), void *arg)
{
  const void *val = NULL;
  size_t val_len = 0;
  int newest = wq_newest(st->aux, name, strlen(name), &val, &val_len);
  if (newest != WQ_NONE) {
    done(arg, newest == WQ_PUT ? val : NULL, newest == WQ_PUT ? val_len : 0);
    return;
  }
  size_t nl = 0;
  struct aux_read *a = malloc(sizeof *a);
  char *key = a ? key_name(st, "r:", name, strlen(name), &nl) : NULL;
  if (!key) {
    free(a);
    done(arg, NULL, 0);
    return;
  }
  *a = (struct aux_read){ done, arg };
  const char *argv[] = { "GET", key };
  size_t lens[] = { 3, nl };
  redis_conn_cmd(st->conn, on_aux, a, 2, argv, lens);
  free(key);
}

/* ---------------------------------------------------------------------- */
/* Nodes                                                                    */

void redis_store_heartbeat(struct redis_store *st, uint64_t ttl_ms)
{
  size_t hl = 0, nl = 0;
  char *hb = key_name(st, "hb:", st->node, strlen(st->node), &hl);
  char *nodes = key_name(st, "nodes", "", 0, &nl);
  char ttl[24];
  snprintf(ttl, sizeof ttl, "%" PRIu64, ttl_ms);
  if (hb && nodes) {
    const char *set[] = { "SET", hb, "1", "PX", ttl };
    size_t set_l[] = { 3, hl, 1, 2, strlen(ttl) };
    redis_conn_cmd(st->conn, NULL, NULL, 5, set, set_l);
    const char *add[] = { "SADD", nodes, st->node };
    size_t add_l[] = { 4, nl, strlen(st->node) };
    redis_conn_cmd(st->conn, NULL, NULL, 3, add, add_l);
  }
  free(hb);
  free(nodes);
}

/* One round of claims: the node list, then one script per other node. */
struct claim_round {
  struct redis_store *st;
  unsigned max;
  redis_claim_cb each;
  void (*done)(void *arg, size_t claimed);
  void *arg;
  size_t waiting, claimed;
};

static void claim_end(struct claim_round *c)
{
  if (--c->waiting)
    return;
  c->done(c->arg, c->claimed);
  free(c);
}

static void on_claimed(void *arg, const redisReply *reply)
{
  struct claim_round *c = arg;
  if (reply && reply->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
      const redisReply *k = reply->element[i], *s = reply->element[i + 1];
      if (k->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING)
        continue;
      c->claimed++;
      c->st->st.claimed++;
      c->each(c->arg, k->str, k->len, s->str, s->len);
    }
  claim_end(c);
}

static void on_nodes(void *arg, const redisReply *reply)
{
  struct claim_round *c = arg;
  struct redis_store *st = c->st;
  if (reply && reply->type == REDIS_REPLY_ARRAY) {
    char max[16];
    snprintf(max, sizeof max, "%u", c->max);
    for (size_t i = 0; i < reply->elements; i++) {
      const redisReply *n = reply->element[i];
      if (n->type != REDIS_REPLY_STRING || !strcmp(n->str, st->node))
        continue;
      const char *args[] = { st->prefix, n->str, st->node, max };
      size_t lens[] = { strlen(st->prefix), n->len, strlen(st->node), strlen(max) };
      c->waiting++;
      eval(st, on_claimed, c, claim_lua, 4, args, lens);
    }
  }
  claim_end(c);
}

void redis_store_claim_orphans(struct redis_store *st, unsigned max, redis_claim_cb each,
                               void (*done)(void *arg, size_t claimed), void *arg)
{
  struct claim_round *c = calloc(1, sizeof *c);
  size_t nl = 0;
  char *nodes = c ? key_name(st, "nodes", "", 0, &nl) : NULL;
  if (!nodes) {
    free(c);
    done(arg, 0);
    return;
  }
  *c = (struct claim_round){ st, max ? max : 1, each, done, arg, 1, 0 };
  const char *argv[] = { "SMEMBERS", nodes };
  size_t lens[] = { 8, nl };
  redis_conn_cmd(st->conn, on_nodes, c, 2, argv, lens);
  free(nodes);
}

/* ---------------------------------------------------------------------- */
/* Ownership after a silence                                                */

struct check_batch {
  struct redis_store *st;
  size_t n;            /* keys */
  const char *args[CHECK_BATCH + 2]; /* P, ME, the keys (owned) */
  size_t lens[CHECK_BATCH + 2];
};

static void on_others(void *arg, const redisReply *reply)
{
  struct check_batch *b = arg;
  struct redis_store *st = b->st;
  if (reply && reply->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < reply->elements; i++) {
      const redisReply *k = reply->element[i];
      if (k->type == REDIS_REPLY_STRING)
        session_lost(st, k->str, k->len);
    }
  for (size_t i = 0; i < b->n; i++)
    free((char *)b->args[2 + i]);
  free(b);
}

static void check_send(struct check_batch *b)
{
  struct redis_store *st = b->st;
  b->args[0] = st->prefix;
  b->lens[0] = strlen(st->prefix);
  b->args[1] = st->node;
  b->lens[1] = strlen(st->node);
  eval(st, on_others, b, others_lua, 2 + b->n, b->args, b->lens);
}

struct check_walk {
  struct redis_store *st;
  struct check_batch *b;
};

static void check_one(void *arg, const char *key, size_t key_len)
{
  struct check_walk *w = arg;
  if (!w->b && !(w->b = calloc(1, sizeof *w->b)))
    return;
  w->b->st = w->st;
  char *copy = malloc(key_len);
  if (!copy)
    return;
  memcpy(copy, key, key_len);
  w->b->args[2 + w->b->n] = copy;
  w->b->lens[2 + w->b->n++] = key_len;
  if (w->b->n == CHECK_BATCH) {
    check_send(w->b);
    w->b = NULL;
  }
}

void redis_store_check_owned(struct redis_store *st)
{
  struct check_walk w = { st, NULL };
  wq_each_kept(st->writes, check_one, &w);
  if (w.b)
    check_send(w.b);
}

/* ---------------------------------------------------------------------- */
/* The connection's comings and goings, TTLs                                */

/* One kept key's TTL renewed: P s:KEY (a session) or P r:KEY (beside it). */
struct refresh {
  struct redis_store *st;
  const char *infix;
};

static void refresh_key(void *arg, const char *key, size_t key_len)
{
  const struct refresh *r = arg;
  size_t nl = 0;
  char *name = key_name(r->st, r->infix, key, key_len, &nl);
  if (!name)
    return;
  const char *argv[] = { "PEXPIRE", name, r->st->ttl_text };
  size_t lens[] = { 7, nl, strlen(r->st->ttl_text) };
  redis_conn_cmd(r->st->conn, NULL, NULL, 3, argv, lens);
  free(name);
}

/* A session whose state does not change (a long pause) keeps its keys. */
static void on_refresh(uv_timer_t *t)
{
  struct redis_store *st = t->data;
  if (redis_conn_is_up(st->conn)) {
    struct refresh sessions = { st, "s:" }, beside = { st, "r:" };
    wq_each_kept(st->writes, refresh_key, &sessions);
    wq_each_kept(st->aux, refresh_key, &beside);
  }
}

static void on_up(void *user)
{
  struct redis_store *st = user;
  st->st.connects = redis_conn_connects(st->conn);
  /* The node's heartbeat first (the user's up), then every live session
   * again: a Redis that came back empty has them all once more. */
  if (st->cfg.up)
    st->cfg.up(st->cfg.user);
  if (st->st.connects > 1) {
    wq_rewrite_all(st->writes);
    wq_rewrite_all(st->aux);
  }
  wq_kick_all(st->writes);
  wq_kick_all(st->aux);
}

int redis_store_new(struct redis_store **out, uv_loop_t *loop, const struct redis_where *where,
                    const struct redis_store_config *cfg)
{
  *out = NULL;
  const char *prefix = cfg->prefix ? cfg->prefix : "siprec:";
  if (!cfg->node || !cfg->node[0] || strlen(cfg->node) > NODE_MAX ||
      strlen(prefix) >= PREFIX_MAX)
    return -1;
  struct redis_store *st = calloc(1, sizeof *st);
  if (!st)
    return -1;
  st->loop = loop;
  st->cfg = *cfg;
  strcpy(st->prefix, prefix);
  strcpy(st->node, cfg->node);
  uint64_t ttl = cfg->ttl_ms ? cfg->ttl_ms : 3600 * 1000;
  snprintf(st->ttl_text, sizeof st->ttl_text, "%" PRIu64, ttl);
  st->writes = wq_new(start_write, st, 1);
  st->aux = wq_new(start_aux, st, 1);
  if (!st->writes || !st->aux || redis_conn_new(&st->conn, loop, where, on_up, NULL, st) < 0) {
    wq_free(st->writes);
    wq_free(st->aux);
    free(st);
    return -1;
  }
  uv_timer_init(loop, &st->refresh);
  st->refresh.data = st;
  uv_timer_start(&st->refresh, on_refresh, ttl / 3, ttl / 3);
  *out = st;
  return 0;
}

const struct redis_conn *redis_store_conn(const struct redis_store *st)
{
  return st->conn;
}

void redis_store_stats_get(const struct redis_store *st, struct redis_store_stats *out)
{
  *out = st->st;
  out->up = redis_conn_is_up(st->conn);
  out->sessions = wq_keys(st->writes);
}

size_t redis_store_pending(const struct redis_store *st)
{
  return st ? st->pending + wq_pending(st->writes) + wq_pending(st->aux) : 0;
}

static void on_refresh_closed(uv_handle_t *h)
{
  struct redis_store *st = h->data;
  wq_free(st->writes);
  wq_free(st->aux);
  free(st);
}

void redis_store_free(struct redis_store *st)
{
  if (!st)
    return;
  /* The connection first: its pending commands' NULL replies still find
   * the store (their writes wait again, and are dropped with it). */
  redis_conn_close(st->conn);
  uv_timer_stop(&st->refresh);
  uv_close((uv_handle_t *)&st->refresh, on_refresh_closed);
}

static void rs_close(void *impl)
{
  redis_store_free(impl);
}

const siprec_store_ops redis_store_ops = {
  .size = sizeof(siprec_store_ops),
  .put = rs_put, .get = rs_get, .del = rs_del, .scan = rs_scan, .close = rs_close,
};
