/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-server's connection to Redis; see redis_conn.h. */
#include "redis_conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>

#include "hostport.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 1000
/* hiredis's asynchronous connect has no timeout of its own: a master that
 * does not answer (a dead machine, not a closed port) is given up after
 * this long. */
#define CONNECT_TIMEOUT_MS 2000
/* A master that has answered nothing for this long while commands wait is
 * given up too: hung, or a connection whose error hiredis's libuv adapter
 * did not pass on (it drops poll errors). Checked every WATCH_MS. */
#define REPLY_TIMEOUT_MS 3000
#define WATCH_MS 500

/* LOST: up until a command failed or came back without a reply: hiredis
 * is tearing the connection down (its disconnect callback follows), and
 * no command may be sent, or a user resending from its callback would
 * fail again, synchronously, without end. */
enum phase { IDLE, ASK_SENTINEL, CONNECTING, CHECK_ROLE, UP, LOST, CLOSING };

struct redis_conn {
  uv_loop_t *loop;
  struct redis_where where;
  void (*up)(void *);
  void (*down)(void *);
  void *user;
  enum phase phase;
  redisAsyncContext *ac; /* the master's (CONNECTING, CHECK_ROLE, UP) or a sentinel's */
  char master_host[64];
  uint16_t master_port;
  size_t sentinel_i; /* the next sentinel to ask */
  unsigned retry_ms;
  uv_timer_t timer; /* retry, the connect's timeout, or (up) the reply watch */
  uint64_t up_since, connects;
  size_t outstanding;     /* commands sent and not answered */
  uint64_t last_progress; /* loop time of the last reply (or of the first command waiting) */
};

/* One command's callback, through hiredis's privdata. */
struct pending {
  struct redis_conn *c;
  redis_reply_cb cb;
  void *arg;
};

static void start(struct redis_conn *c);

/* ---------------------------------------------------------------------- */
/* Where                                                                    */

static int split_hostport(const char *text, char *host, size_t size, uint16_t *port)
{
  struct sockaddr_storage ss;
  if (parse_hostport(text, 6379, &ss) < 0)
    return -1;
  const void *a = ss.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                                           : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
  if (!inet_ntop(ss.ss_family, a, host, (socklen_t)size))
    return -1;
  *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
  return 0;
}

int redis_where_parse(struct redis_where *w, const char *standalone, const char *sentinels,
                      const char *master)
{
  memset(w, 0, sizeof *w);
  if (standalone)
    return split_hostport(standalone, w->host, sizeof w->host, &w->port);
  if (!sentinels || !master || !master[0] || strlen(master) >= sizeof w->master)
    return -1;
  snprintf(w->master, sizeof w->master, "%s", master);
  char list[1024];
  if (strlen(sentinels) >= sizeof list)
    return -1;
  strcpy(list, sentinels);
  char *save = NULL;
  for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (w->n_sentinels == REDIS_CONN_MAX_SENTINELS)
      return -1;
    if (split_hostport(t, w->sentinels[w->n_sentinels].host,
                       sizeof w->sentinels[w->n_sentinels].host,
                       &w->sentinels[w->n_sentinels].port) < 0)
      return -1;
    w->n_sentinels++;
  }
  return w->n_sentinels ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* The connection's life                                                    */

static void on_timer(uv_timer_t *t);

static void retry_later(struct redis_conn *c)
{
  if (c->phase == CLOSING)
    return;
  c->phase = IDLE;
  c->ac = NULL;
  uv_timer_start(&c->timer, on_timer, c->retry_ms, 0);
  c->retry_ms = c->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : c->retry_ms * 2;
}

/* This sentinel did not help: the next one, after the retry's wait. */
static void next_sentinel_later(struct redis_conn *c)
{
  c->sentinel_i = (c->sentinel_i + 1) % c->where.n_sentinels;
  retry_later(c);
}

/* Given up (a timeout, a sentinel's answer, a replica): hiredis frees the
 * context; its disconnect callback finds it no longer ours. */
static void drop(struct redis_conn *c)
{
  redisAsyncContext *ac = c->ac;
  int was_up = c->phase == UP || c->phase == LOST;
  c->ac = NULL;
  if (ac) {
    ac->data = NULL;
    redisAsyncFree(ac);
  }
  if (was_up && c->down)
    c->down(c->user);
}

static void on_timer(uv_timer_t *t)
{
  struct redis_conn *c = t->data;
  if (c->phase == IDLE) {
    start(c);
  } else if (c->phase == UP) {
    if (c->outstanding && uv_now(c->loop) - c->last_progress > REPLY_TIMEOUT_MS) {
      fprintf(stderr, "siprec-server: redis %s:%u: no reply for %d s; reconnecting\n",
              c->master_host, c->master_port, REPLY_TIMEOUT_MS / 1000);
      drop(c);
      retry_later(c);
    }
  } else if (c->phase == LOST) {
    fprintf(stderr, "siprec-server: redis %s:%u: the connection failed; reconnecting\n",
            c->master_host, c->master_port);
    drop(c);
    retry_later(c);
  } else if (c->phase == CONNECTING || c->phase == ASK_SENTINEL || c->phase == CHECK_ROLE) {
    fprintf(stderr, "siprec-server: redis %s:%u: no answer; trying again\n",
            c->phase == ASK_SENTINEL ? c->where.sentinels[c->sentinel_i].host : c->master_host,
            c->phase == ASK_SENTINEL ? c->where.sentinels[c->sentinel_i].port : c->master_port);
    drop(c);
    retry_later(c);
  }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
  (void)status;
  struct redis_conn *c = ac->data;
  if (!c || c->ac != ac)
    return; /* dropped on purpose */
  int was_up = c->phase == UP || c->phase == LOST;
  c->ac = NULL;
  if (c->phase == CLOSING)
    return;
  fprintf(stderr, "siprec-server: redis %s:%u: connection lost%s\n", c->master_host,
          c->master_port, was_up ? "; reconnecting" : "");
  retry_later(c);
  if (was_up && c->down)
    c->down(c->user);
}

static void became_up(struct redis_conn *c)
{
  c->outstanding = 0;
  c->last_progress = uv_now(c->loop);
  uv_timer_start(&c->timer, on_timer, WATCH_MS, WATCH_MS);
  c->phase = UP;
  c->retry_ms = RETRY_MIN_MS;
  c->up_since = uv_now(c->loop);
  c->connects++;
  fprintf(stderr, "siprec-server: redis %s:%u: connected\n", c->master_host, c->master_port);
  if (c->up)
    c->up(c->user);
}

static void on_role(redisAsyncContext *ac, void *r, void *priv)
{
  (void)priv;
  struct redis_conn *c = ac->data;
  if (!c || c->ac != ac || c->phase != CHECK_ROLE)
    return;
  const redisReply *reply = r;
  int master = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
               reply->element[0]->type == REDIS_REPLY_STRING &&
               !strcmp(reply->element[0]->str, "master");
  if (master) {
    became_up(c);
    return;
  }
  fprintf(stderr, "siprec-server: redis %s:%u: not a master (yet); asking the sentinels again\n",
          c->master_host, c->master_port);
  drop(c);
  retry_later(c);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
  struct redis_conn *c = ac->data;
  if (!c || c->ac != ac)
    return;
  if (status != REDIS_OK) {
    /* hiredis frees the context after this callback. */
    fprintf(stderr, "siprec-server: redis %s:%u: %s\n", c->master_host, c->master_port,
            ac->errstr[0] ? ac->errstr : "cannot connect");
    c->ac = NULL;
    retry_later(c);
    return;
  }
  if (c->where.n_sentinels) {
    c->phase = CHECK_ROLE;
    redisAsyncCommand(c->ac, on_role, NULL, "ROLE");
    return;
  }
  became_up(c);
}

static void connect_master(struct redis_conn *c)
{
  redisAsyncContext *ac = redisAsyncConnect(c->master_host, c->master_port);
  if (!ac || ac->err) {
    fprintf(stderr, "siprec-server: redis %s:%u: %s\n", c->master_host, c->master_port,
            ac ? ac->errstr : "out of memory");
    if (ac)
      redisAsyncFree(ac);
    retry_later(c);
    return;
  }
  ac->data = c;
  if (redisLibuvAttach(ac, c->loop) != REDIS_OK) {
    redisAsyncFree(ac);
    retry_later(c);
    return;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  c->ac = ac;
  c->phase = CONNECTING;
  uv_timer_start(&c->timer, on_timer, CONNECT_TIMEOUT_MS, 0);
}

/* A sentinel's answer: [host, port] of the master, or nil. */
static void on_master_addr(redisAsyncContext *ac, void *r, void *priv)
{
  (void)priv;
  struct redis_conn *c = ac->data;
  if (!c || c->ac != ac || c->phase != ASK_SENTINEL)
    return;
  const redisReply *reply = r;
  int ok = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
           reply->element[0]->type == REDIS_REPLY_STRING &&
           reply->element[1]->type == REDIS_REPLY_STRING &&
           reply->element[0]->len < sizeof c->master_host;
  long port = ok ? strtol(reply->element[1]->str, NULL, 10) : 0;
  if (ok && port > 0 && port < 65536) {
    memcpy(c->master_host, reply->element[0]->str, reply->element[0]->len + 1);
    c->master_port = (uint16_t)port;
  }
  drop(c); /* the sentinel's connection: done with it */
  if (ok && port > 0 && port < 65536) {
    connect_master(c);
  } else {
    fprintf(stderr, "siprec-server: redis sentinel %s:%u knows no master %s\n",
            c->where.sentinels[c->sentinel_i].host, c->where.sentinels[c->sentinel_i].port,
            c->where.master);
    next_sentinel_later(c);
  }
}

static void on_sentinel_connect(const redisAsyncContext *ac, int status)
{
  struct redis_conn *c = ac->data;
  if (!c || c->ac != ac)
    return;
  if (status != REDIS_OK) {
    c->ac = NULL;
    next_sentinel_later(c);
    return;
  }
  const char *argv[] = { "SENTINEL", "get-master-addr-by-name", c->where.master };
  redisAsyncCommandArgv(c->ac, on_master_addr, NULL, 3, argv, NULL);
}

static void on_sentinel_disconnect(const redisAsyncContext *ac, int status)
{
  (void)status;
  struct redis_conn *c = ac->data;
  if (!c || c->ac != ac || c->phase == CLOSING)
    return;
  c->ac = NULL;
  next_sentinel_later(c);
}

static void ask_sentinel(struct redis_conn *c)
{
  const char *host = c->where.sentinels[c->sentinel_i].host;
  uint16_t port = c->where.sentinels[c->sentinel_i].port;
  redisAsyncContext *ac = redisAsyncConnect(host, port);
  if (!ac || ac->err || (ac->data = c, redisLibuvAttach(ac, c->loop) != REDIS_OK)) {
    if (ac)
      redisAsyncFree(ac);
    next_sentinel_later(c);
    return;
  }
  redisAsyncSetConnectCallback(ac, on_sentinel_connect);
  redisAsyncSetDisconnectCallback(ac, on_sentinel_disconnect);
  c->ac = ac;
  c->phase = ASK_SENTINEL;
  uv_timer_start(&c->timer, on_timer, CONNECT_TIMEOUT_MS, 0);
}

static void start(struct redis_conn *c)
{
  if (c->where.n_sentinels)
    ask_sentinel(c);
  else
    connect_master(c);
}

int redis_conn_new(struct redis_conn **out, uv_loop_t *loop, const struct redis_where *w,
                   void (*up)(void *user), void (*down)(void *user), void *user)
{
  struct redis_conn *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  c->loop = loop;
  c->where = *w;
  c->up = up;
  c->down = down;
  c->user = user;
  c->retry_ms = RETRY_MIN_MS;
  snprintf(c->master_host, sizeof c->master_host, "%s", w->host);
  c->master_port = w->port;
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  start(c);
  *out = c;
  return 0;
}

int redis_conn_is_up(const struct redis_conn *c)
{
  return c && c->phase == UP;
}

uint64_t redis_conn_up_since(const struct redis_conn *c)
{
  return c->up_since;
}

uint64_t redis_conn_connects(const struct redis_conn *c)
{
  return c->connects;
}

/* UP -> LOST; should hiredis not follow with its disconnect (a command
 * refused for want of memory), the timer drops the connection itself. */
static void lose(struct redis_conn *c)
{
  c->phase = LOST;
  uv_timer_start(&c->timer, on_timer, CONNECT_TIMEOUT_MS, 0);
}

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
  (void)ac;
  struct pending *p = priv;
  if (p->c->outstanding)
    p->c->outstanding--;
  p->c->last_progress = uv_now(p->c->loop);
  if (!r && p->c->phase == UP)
    lose(p->c); /* the connection is going: nothing more is sent on it */
  if (p->cb)
    p->cb(p->arg, r);
  free(p);
}

void redis_conn_cmd(struct redis_conn *c, redis_reply_cb cb, void *arg, int argc,
                    const char **argv, const size_t *lens)
{
  struct pending *p = c->phase == UP ? malloc(sizeof *p) : NULL;
  if (p) {
    *p = (struct pending){ c, cb, arg };
    if (redisAsyncCommandArgv(c->ac, on_reply, p, argc, argv, lens) == REDIS_OK) {
      if (c->outstanding++ == 0)
        c->last_progress = uv_now(c->loop);
      return;
    }
    free(p);
    lose(c); /* refused: hiredis is disconnecting (or out of memory) */
  }
  if (cb)
    cb(arg, NULL);
}

static void on_timer_closed(uv_handle_t *h)
{
  free(h->data);
}

void redis_conn_close(struct redis_conn *c)
{
  if (!c)
    return;
  c->phase = CLOSING;
  redisAsyncContext *ac = c->ac;
  c->ac = NULL;
  if (ac) {
    /* Pending commands get their NULL replies now, from the free. */
    ac->data = NULL;
    redisAsyncFree(ac);
  }
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}
