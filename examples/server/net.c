/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "net_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *net_addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    uv_ip6_name(a, ip, sizeof ip);
    port = ntohs(a->sin6_port);
    snprintf(buf, size, "[%s]:%u", ip, port);
  } else {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    if (sa->sa_family == AF_INET) {
      uv_ip4_name(a, ip, sizeof ip);
      port = ntohs(a->sin_port);
    }
    snprintf(buf, size, "%s:%u", ip, port);
  }
  return buf;
}

int net_new(struct net **out, uv_loop_t *loop, size_t max_message,
            const struct net_limits *limits, net_accept_cb accept, net_message_cb cb,
            void *user)
{
  struct net *n = calloc(1, sizeof *n);
  if (!n)
    return UV_ENOMEM;
  n->loop = loop;
  n->cb = cb;
  n->accept = accept;
  n->user = user;
  n->max_message = max_message;
  n->lim = *limits;
  n->receiving = 1;
  uv_timer_init(loop, &n->grace);
  n->grace.data = n;
  tcp_init(n);
  *out = n;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Sending                                                                  */

static void close_all(struct net *n);

/* At shutdown: done once every send has left and every peer has hung up
 * (the grace timer ends the wait otherwise). */
void net_maybe_finish(struct net *n)
{
  if (n->closing && n->pending == 0 && !n->conns)
    close_all(n);
}

void net_sent_one(struct net *n)
{
  n->pending--;
  net_maybe_finish(n);
}

static void on_udp_sent(uv_udp_send_t *req, int status)
{
  struct net *n = req->data;
  if (status < 0 && status != UV_ECANCELED)
    fprintf(stderr, "siprec-server: udp send: %s\n", uv_strerror(status));
  free(req);
  net_sent_one(n);
}

/* Same family, address and port. */
static int same_endpoint(const struct sockaddr_storage *a, const struct sockaddr *b)
{
  if (a->ss_family != b->sa_family)
    return 0;
  if (b->sa_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
  }
  const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const void *)b;
  return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

static int send_udp(struct net *n, const void *data, size_t len, const struct sockaddr *dest,
                    const struct sockaddr *from)
{
  /* From the listener the dialog uses (SIP peers expect their requests'
   * answers and the dialog's requests from there), else one of its family. */
  struct listener *l = NULL;
  for (size_t i = 0; from && i < n->nlisteners && !l; i++)
    if (same_endpoint(&n->listeners[i].addr, from))
      l = &n->listeners[i];
  for (size_t i = 0; i < n->nlisteners && !l; i++)
    if (n->listeners[i].addr.ss_family == dest->sa_family)
      l = &n->listeners[i];
  if (!l)
    return UV_EAFNOSUPPORT;
  uv_buf_t b = uv_buf_init((char *)(uintptr_t)data, (unsigned)len);
  int rc = uv_udp_try_send(&l->udp, &b, 1, dest);
  if (rc >= 0)
    return 0;
  if (rc != UV_EAGAIN)
    return rc;
  /* The socket's queue is not empty: queue behind it, on a copy. */
  uv_udp_send_t *req = malloc(sizeof *req + len);
  if (!req)
    return UV_ENOMEM;
  memcpy(req + 1, data, len);
  b = uv_buf_init((char *)(req + 1), (unsigned)len);
  req->data = n;
  rc = uv_udp_send(req, &l->udp, &b, 1, dest, on_udp_sent);
  if (rc < 0) {
    free(req);
    return rc;
  }
  n->pending++;
  return 0;
}

int net_send(struct net *n, const void *data, size_t len, siprec_transport t,
             const struct sockaddr *dest, const struct sockaddr *from, uint64_t conn_id)
{
  if (n->closed)
    return UV_ECANCELED;
  if (t == SIPREC_TRANSPORT_UDP)
    return dest ? send_udp(n, data, len, dest, from) : UV_EINVAL;
  if (t == SIPREC_TRANSPORT_TCP)
    return tcp_send(n, data, len, conn_id);
  return UV_EAFNOSUPPORT;
}

/* ---------------------------------------------------------------------- */
/* Listeners                                                                */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  (void)suggested;
  struct listener *l = h->data;
  *buf = uv_buf_init(l->net->rxbuf, sizeof l->net->rxbuf);
}

static void udp_read(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
  struct listener *l = h->data;
  if (nread <= 0 || !addr || (flags & UV_UDP_PARTIAL) || !l->net->receiving)
    return;
  l->net->cb(l->net->user, buf->base, (size_t)nread, SIPREC_TRANSPORT_UDP, addr,
             (struct sockaddr *)&l->addr, 0);
}

static socklen_t addr_len(const struct sockaddr *sa)
{
  return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
  if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
  else
    ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
  return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                         : ((const struct sockaddr_in *)ss)->sin_port);
}

static int bound_socket(int type, const struct sockaddr_storage *addr)
{
  int fd = socket(addr->ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -errno;
  int one = 1;
  if (type == SOCK_STREAM)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* A v4 and a v6 listener may share a port number. */
  if (addr->ss_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (const struct sockaddr *)addr, addr_len((const struct sockaddr *)addr)) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/* UDP and TCP sockets bound to the same port; with port 0, the first free
 * port that is free for both. */
static int bind_pair(struct sockaddr_storage *addr, int *ufd, int *tfd)
{
  int wildcard = get_port(addr) == 0;
  for (int attempt = 0; attempt < 50; attempt++) {
    if (wildcard)
      set_port(addr, 0);
    *ufd = bound_socket(SOCK_DGRAM, addr);
    if (*ufd < 0)
      return *ufd;
    socklen_t sl = sizeof *addr;
    getsockname(*ufd, (struct sockaddr *)addr, &sl);
    *tfd = bound_socket(SOCK_STREAM, addr);
    if (*tfd >= 0)
      return 0;
    close(*ufd);
    if (!wildcard || *tfd != -EADDRINUSE)
      return *tfd;
  }
  return -EADDRINUSE;
}

int net_listen(struct net *n, const struct sockaddr *addr)
{
  if (n->nlisteners == NET_MAX_LISTEN)
    return UV_ENOSPC;
  struct listener *l = &n->listeners[n->nlisteners];
  memset(l, 0, sizeof *l);
  memcpy(&l->addr, addr, addr_len(addr));
  int ufd, tfd;
  int rc = bind_pair(&l->addr, &ufd, &tfd);
  if (rc < 0)
    return uv_translate_sys_error(-rc);
  l->net = n;
  uv_udp_init(n->loop, &l->udp);
  uv_tcp_init(n->loop, &l->tcp);
  l->udp.data = l->tcp.data = l;
  n->nlisteners++;
  if ((rc = uv_udp_open(&l->udp, ufd)) < 0) {
    close(ufd);
    close(tfd);
    return rc;
  }
  if ((rc = uv_tcp_open(&l->tcp, tfd)) < 0) {
    close(tfd);
    return rc;
  }
  /* A receive buffer for bursts: the default (about 200 KB) holds some 45
   * SIPREC INVITEs, a fraction of a second of call setups at load while
   * the loop creates each call's files, and an overflow costs the SRC a
   * retransmission (500 ms) per lost datagram. The kernel caps it at
   * net.core.rmem_max (raise that for more); a refusal is harmless. */
  int rcvbuf = SIP_UDP_RCVBUF;
  (void)uv_recv_buffer_size((uv_handle_t *)&l->udp, &rcvbuf);
  if ((rc = uv_udp_recv_start(&l->udp, udp_alloc, udp_read)) < 0 ||
      (rc = uv_listen((uv_stream_t *)&l->tcp, 128, tcp_on_connection)) < 0)
    return rc;
  char text[64];
  net_addr_text((struct sockaddr *)&l->addr, text, sizeof text);
  printf("listening udp %s\nlistening tcp %s\n", text, text);
  fflush(stdout);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Shutdown                                                                 */

void net_stop_receiving(struct net *n)
{
  if (!n->receiving)
    return;
  n->receiving = 0;
  for (size_t i = 0; i < n->nlisteners; i++) {
    uv_udp_recv_stop(&n->listeners[i].udp);
    uv_close((uv_handle_t *)&n->listeners[i].tcp, NULL);
  }
}

static void close_all(struct net *n)
{
  if (n->closed)
    return;
  n->closed = 1;
  net_stop_receiving(n);
  uv_timer_stop(&n->grace);
  for (size_t i = 0; i < n->nlisteners; i++)
    uv_close((uv_handle_t *)&n->listeners[i].udp, NULL);
  tcp_close_all(n);
  uv_close((uv_handle_t *)&n->grace, NULL);
}

static void on_grace(uv_timer_t *t)
{
  struct net *n = t->data;
  if (n->pending)
    fprintf(stderr, "siprec-server: %zu sends still queued at exit\n", n->pending);
  close_all(n);
}

void net_close(struct net *n, uint64_t grace_ms)
{
  n->closing = 1;
  uv_timer_start(&n->grace, on_grace, grace_ms, 0);
  net_maybe_finish(n);
}

void net_free(struct net *n)
{
  free(n);
}
