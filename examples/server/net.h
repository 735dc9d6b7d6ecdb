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

/** One complete SIP message received: a datagram, or a framed message from
 * a TCP connection (conn_id > 0). `local` is the address it arrived on. */
typedef void (*net_message_cb)(void *user, const char *data, size_t len, siprec_transport t,
                               const struct sockaddr *remote, const struct sockaddr *local,
                               uint64_t conn_id);

/** Create the network side on `loop`; each message goes to `cb`.
 * @return 0 or a negative libuv error */
int net_new(struct net **out, uv_loop_t *loop, size_t max_message, net_message_cb cb, void *user);

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
 * @return 0, or a negative libuv error (UV_ENOTCONN: that connection is gone)
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
