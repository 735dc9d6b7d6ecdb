/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What net.c (listeners, UDP, sending, shutdown) and tcp.c (TCP
 * connections: accepting, framing, back-pressure, timeouts) share.
 */
#ifndef SIPREC_SERVER_NET_INTERNAL_H
#define SIPREC_SERVER_NET_INTERNAL_H

#include "net.h"

#define NET_MAX_LISTEN 16
/* Bytes read at once, into the buffer every socket shares. */
#define NET_RXBUF 65536
/* The SIP UDP sockets' SO_RCVBUF asked for (net.c: capped by rmem_max). */
#define SIP_UDP_RCVBUF (4 * 1024 * 1024)

struct listener {
  uv_udp_t udp;
  uv_tcp_t tcp;
  struct sockaddr_storage addr; /* as bound, with the real port */
  struct net *net;
};

struct conn {
  uv_tcp_t tcp;
  struct net *net;
  uint64_t id;
  struct sockaddr_storage peer, local;
  char *buf; /* an incomplete message, or messages waiting while paused */
  size_t len, cap;
  struct conn *next, **pprev;
  int closing;
  int counted; /* in net.nconns (accepted, not refused) */
  int paused;  /* reading stopped: the peer does not read its answers */
  int framed;  /* a whole message (or keep-alive) came in since the accept */
  unsigned holds; /* sessions using the connection (net_conn_hold) */
  uint64_t active_at, partial_at, paused_at; /* loop time, ms */
};

/* Why connections were refused or closed, counted between two log lines. */
enum net_count {
  NET_REFUSED_ALLOW,
  NET_REFUSED_TOTAL,
  NET_REFUSED_PER_IP,
  NET_REFUSED_FDS,
  NET_REFUSED_ERROR,
  NET_CLOSED_MESSAGE,
  NET_CLOSED_IDLE,
  NET_CLOSED_WRITE,
  NET_COUNTS
};

struct net {
  uv_loop_t *loop;
  net_message_cb cb;
  net_accept_cb accept;
  void *user;
  size_t max_message;
  struct net_limits lim;
  struct listener listeners[NET_MAX_LISTEN];
  size_t nlisteners;
  struct conn *conns;
  size_t nconns; /* accepted connections not yet closed */
  uint64_t last_conn_id;
  size_t pending; /* queued sends not yet done */
  int receiving, closing, closed;
  uv_timer_t grace;
  uv_timer_t sweep; /* the connections' timeouts */
  uint64_t sweep_ms;
  unsigned long counts[NET_COUNTS];
  uint64_t counts_since;
  char rxbuf[NET_RXBUF];
};

/* net.c */
void net_maybe_finish(struct net *n);
void net_sent_one(struct net *n);

/* tcp.c */
void tcp_init(struct net *n);
void tcp_on_connection(uv_stream_t *server, int status);
int tcp_send(struct net *n, const void *data, size_t len, uint64_t conn_id);
void tcp_close(struct conn *c);
void tcp_close_all(struct net *n);

#endif
