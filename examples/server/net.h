/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's sockets on libuv: a UDP socket and a TCP listener per
 * listen address, the TCP connections with their framing, and the way back
 * for everything sent (responses and the handler's own requests), routed by
 * transport, destination and connection id.
 */
#ifndef SIPREC_SERVER_NET_H
#define SIPREC_SERVER_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include <siprec/siprec.h>

struct net;

/** Bounds on TCP connections (0 for any of them: no bound). */
struct net_limits {
  size_t max_conns;        /* connections open at once */
  size_t max_conns_per_ip; /* ... from one remote address */
  uint64_t idle_ms;        /* a connection without traffic and without sessions
                            * (net_conn_hold) is closed after this */
  uint64_t message_ms;     /* a message begun (or none yet since the accept) must
                            * be complete within this */
  uint64_t write_ms;       /* reading paused on a full output queue this long
                            * closes the connection */
  size_t max_queue;        /* bytes waiting to be written on one connection;
                            * reading pauses at half, resumes at a quarter */
  int fd_limit;            /* descriptors the process may open (RLIMIT_NOFILE) */
  int fd_reserve;          /* ... of which connections always leave this many */
};

/** May a TCP connection from `remote` be accepted? Non-zero: yes. */
typedef int (*net_accept_cb)(void *user, const struct sockaddr *remote);

/** One complete SIP message received: a datagram, or a framed message from
 * a TCP connection (conn_id > 0). `local` is the address it arrived on. */
typedef void (*net_message_cb)(void *user, const char *data, size_t len, siprec_transport t,
                               const struct sockaddr *remote, const struct sockaddr *local,
                               uint64_t conn_id);

/** Create the network side on `loop`; each message goes to `cb`; TCP
 * connections are bounded by `limits` and accepted only when `accept`
 * (may be NULL) says so, before a byte is read from them.
 * @return 0 or a negative libuv error */
int net_new(struct net **out, uv_loop_t *loop, size_t max_message,
            const struct net_limits *limits, net_accept_cb accept, net_message_cb cb,
            void *user);

/** A session now uses (`delta` 1) or no longer uses (-1) TCP connection
 * `conn_id`: a connection with sessions is never closed for being idle,
 * since the session's requests and the SRS's BYE need it. */
void net_conn_hold(struct net *n, uint64_t conn_id, int delta);

/**
 * Listen on `addr` with UDP and TCP on the same port (port 0: a free one).
 * Prints "listening udp ADDR:PORT" and "listening tcp ADDR:PORT" on stdout.
 * @return 0 or a negative libuv error
 */
int net_listen(struct net *n, const struct sockaddr *addr);

/**
 * Send `data` to `dest` (UDP: from the listener bound to `from` when there is
 * one, else from one of the same address family) or on connection
 * `conn_id` (TCP). The bytes are copied.
 * @return 0, or a negative libuv error (UV_ENOTCONN: that connection is gone;
 *         UV_ENOBUFS: its peer left more than the queue limit unread, the
 *         connection is closed)
 */
int net_send(struct net *n, const void *data, size_t len, siprec_transport t,
             const struct sockaddr *dest, const struct sockaddr *from, uint64_t conn_id);

/** Stop taking messages: close the listeners and the UDP sockets' reading;
 * what still arrives on TCP connections is read and dropped. Sending still
 * works. */
void net_stop_receiving(struct net *n);

/** Close everything once every queued send has gone out and every TCP peer
 * has closed its connection (so that the answers to the BYEs just sent are
 * taken, not reset), or after `grace_ms`; the loop then runs dry. Call
 * net_free() after uv_run returns. */
void net_close(struct net *n, uint64_t grace_ms);

/** Free what net_new() allocated (after the loop closed every handle). */
void net_free(struct net *n);

/** "ADDR:PORT" or "[V6]:PORT" for `sa` into `buf`. */
const char *net_addr_text(const struct sockaddr *sa, char *buf, size_t size);

#endif
