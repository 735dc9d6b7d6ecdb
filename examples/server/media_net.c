/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-server's media sockets; see media_net.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg */
#endif
#include "media_net.h"
#ifdef SIPREC_SERVER_URING
#include "media_uring.h"
#endif

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Datagrams one recvmmsg may take; a socket that gave that many is read
 * again (edge-triggered: no readiness comes for what it still holds). */
#define BATCH 16
/* Ready sockets taken from the media's epoll by one epoll_wait. */
#define EVENTS 1024
/* epoll_waits of one read of everything ready: bounded, even under a
 * flood (a flooded socket comes back to the ready list after READS_MAX
 * reads), and far above the sockets a pacing tick finds ready. */
#define READY_ROUNDS 16
/* Datagrams held for one siprec_handler_media_batch(): what the sockets a
 * loop turn found ready brought, fed together once the turn's I/O is done
 * (media_net_fed) or when the area is full. */
#define AREA 64
/* Larger than any RTP packet a recorder takes (the library drops what
 * exceeds its own bound); a longer datagram is truncated and dropped. */
#define DGRAM_MAX 2048
/* A datagram's kernel arrival time (SO_TIMESTAMPNS) rides in this. */
#define CTL_SPACE CMSG_SPACE(sizeof(struct timespec))
/* The oldest arrival time taken from a stamp: datagrams wait at most a
 * pacing interval in their socket, and a loop stalled longer than this
 * delivers them as arrived now. */
#define ARRIVAL_MAX_AGE_NS 1000000000ull

struct media_sock {
  int fd; /* -1: closed */
  uint64_t tag; /* io_uring: its receive's (uring_tag) */
  int large;    /* io_uring: its datagrams outgrew the small buffers */
  struct sockaddr_storage local;
};

/* The two sockets of one answered port. */
struct media_pair {
  int rtcp_open;
  struct media_sock rtp, rtcp;
  struct media_pair *next_dead; /* released while its events were being read */
};

struct media_net {
  siprec_handler *h;
  /* Every media socket is in one epoll of ours, edge-triggered, which the
   * loop polls as one descriptor: a readiness is reported once per burst
   * of datagrams, where level-triggered epoll (libuv's) checks each socket
   * again at the next wait (two socket polls a datagram). */
  int epfd;
  uv_poll_t *ep_poll; /* its own allocation: freed once closed */
  /* Paced reading (read_ms > 0): after a wakeup the epoll is left alone
   * for read_ms, so that each socket holds a few datagrams when it is
   * read (one recvmmsg for them, one readiness). Their times are the
   * kernel's arrival times, so pacing changes when audio is delivered,
   * never the timing the library sees (jitter, gaps, the media clock). */
  unsigned read_ms;
  uv_timer_t *pace;        /* its own allocation, as ep_poll */
  /* A paced read of every socket ran in this loop turn (media_net_fed
   * says so), and when the last one began: all that arrived before it is
   * read. */
  int read_turn;
  uint64_t read_upto;
  /* Every socket was read in this loop turn (read_all, paced or not): a
   * SIP message of the same turn needs only what that read brought fed
   * (media_net_catch_up). */
  int all_read_turn;
  int64_t real_to_mono;    /* add to a CLOCK_REALTIME time: the handler's clock */
  int reading;             /* inside read_ready: `evs` may name released pairs */
#ifdef SIPREC_SERVER_URING
  /* io_uring instead of the epoll (media_uring.h): ep_poll then polls its
   * eventfd; the area's datagrams sit in its buffers until fed. */
  struct media_uring *u;
  uint64_t gen;            /* tells a port's sockets apart from those it had before */
  uint64_t reap_now;       /* the time of the read under way (0: not taken yet) */
  int n_bufs;
  unsigned bufs[AREA];
#endif
  struct media_pair *dead; /* those, freed when it returns */
  struct epoll_event evs[EVENTS];
  struct sockaddr_storage bind;
  uint16_t low, high, cursor;
  uint64_t (*now)(void);
  int fd_ceiling;
  size_t (*fd_pending)(void *arg); /* descriptors promised, not open yet */
  void *fd_pending_arg;
  struct media_pair **by_port; /* 65536 entries */
  int fed;
  struct media_net_stats st;
  /* One receive area for every socket (the loop is single-threaded):
   * slots [0, used) hold datagrams not fed yet, n_dg of them to feed (a
   * truncated one takes a slot and is skipped). Each keeps its socket's
   * local address: a socket closed in the same turn is gone by then. */
  int used, n_dg;
  struct mmsghdr msgs[AREA];
  struct iovec iov[AREA];
  struct sockaddr_storage from[AREA], local[AREA];
  _Alignas(size_t) unsigned char ctl[AREA][CTL_SPACE]; /* a cmsghdr's alignment; rows too */
  siprec_path path[AREA];
  siprec_datagram dg[AREA];
  int rc[AREA];
  unsigned char buf[AREA][DGRAM_MAX];
};

/* Message i of the receive area as recvmmsg wants it. Set up once, and
 * again only for the messages a call filled (the kernel rewrote their name
 * length and flags): a readiness brings one datagram nearly always, and
 * setting up all BATCH for it cost more than the call. */
static void reset_msg(struct media_net *m, int i)
{
  m->iov[i].iov_base = m->buf[i];
  m->iov[i].iov_len = DGRAM_MAX;
  m->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &m->from[i],
                                        .msg_namelen = sizeof m->from[i],
                                        .msg_iov = &m->iov[i],
                                        .msg_iovlen = 1,
                                        .msg_control = m->ctl[i],
                                        .msg_controllen = sizeof m->ctl[i] };
}

/* A kernel stamp (CLOCK_REALTIME) in the handler's clock, bounded by `now`:
 * a clock stepped meanwhile must not make a datagram arrive in the future,
 * or long before it was read. */
static uint64_t stamp_time(const struct media_net *m, const struct timespec *ts, uint64_t now)
{
  int64_t t = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + m->real_to_mono;
  uint64_t earliest = now > ARRIVAL_MAX_AGE_NS ? now - ARRIVAL_MAX_AGE_NS : 0;
  return t < (int64_t)earliest ? earliest : (uint64_t)t > now ? now : (uint64_t)t;
}

/* When message i arrived, in the handler's clock: the kernel's stamp, or
 * `now` without one. */
static uint64_t arrival(struct media_net *m, int i, uint64_t now)
{
  struct msghdr *h = &m->msgs[i].msg_hdr;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
      continue;
    struct timespec ts;
    memcpy(&ts, CMSG_DATA(c), sizeof ts);
    return stamp_time(m, &ts, now);
  }
  return now;
}

/* The handler's clock against CLOCK_REALTIME (the kernel's stamps), taken
 * again at each read: a stepped wall clock moves it. */
static void clock_offset(struct media_net *m)
{
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  m->real_to_mono = (int64_t)m->now() - ((int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec);
}

void media_net_flush(struct media_net *m)
{
  if (m->h && m->n_dg) {
    if (siprec_handler_media_batch(m->h, m->dg, (size_t)m->n_dg, m->rc) != 0) {
      m->st.read_errors += (uint64_t)m->n_dg; /* cannot happen on the loop */
    } else {
      for (int i = 0; i < m->n_dg; i++) {
        if (m->rc[i] == SIPREC_ENOTFOUND)
          m->st.unknown_port++;
        else
          m->st.datagrams++;
      }
    }
    m->fed = 1;
  }
#ifdef SIPREC_SERVER_URING
  for (int i = 0; i < m->n_bufs; i++)
    media_uring_recycle(m->u, m->bufs[i]);
  m->n_bufs = 0;
#endif
  for (int i = 0; i < m->used; i++)
    reset_msg(m, i);
  m->used = 0;
  m->n_dg = 0;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
  return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Reads of one socket a wakeup: a flooded socket yields to the others. */
#define READS_MAX 4

/* What socket `ms` holds, into the receive area (fed when it fills): until
 * a call brings fewer than BATCH, which says the socket is empty, or
 * READS_MAX calls; a socket still full then is put back on the epoll's
 * ready list (edge-triggered, nothing else would report it again). */
static void read_sock(struct media_net *m, struct media_sock *ms)
{
  for (int reads = 0;; reads++) {
    if (reads == READS_MAX) {
      struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = ms };
      if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, ms->fd, &ev) < 0)
        m->st.read_errors++;
      return;
    }
    if (AREA - m->used < BATCH) {
      media_net_flush(m);
      if (ms->fd < 0)
        return; /* its stream ended meanwhile */
    }
    int at = m->used;
    int n = recvmmsg(ms->fd, m->msgs + at, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        m->st.read_errors++;
      return;
    }
    m->used += n;
    uint64_t now = m->now();
    socklen_t llen = addr_len(&ms->local);
    for (int i = at; i < at + n; i++) {
      if (m->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
        continue; /* larger than any packet we take */
      memcpy(&m->local[i], &ms->local, llen);
      m->path[i] = (siprec_path){ SIPREC_TRANSPORT_UDP, (const struct sockaddr *)&m->local[i],
                                  (const struct sockaddr *)&m->from[i], 0 };
      m->dg[m->n_dg++] =
        (siprec_datagram){ m->buf[i], m->msgs[i].msg_len, &m->path[i], arrival(m, i, now) };
    }
    if (n < BATCH)
      return;
  }
}

/* Read the sockets the epoll reports ready (one epoll_wait's worth).
 * @return how many it reported (EVENTS: more may be ready) */
static int read_ready(struct media_net *m)
{
  clock_offset(m);
  int n = epoll_wait(m->epfd, m->evs, EVENTS, 0);
  m->reading = 1;
  for (int i = 0; i < n; i++) {
    struct media_sock *ms = m->evs[i].data.ptr;
    if (ms->fd >= 0)
      read_sock(m, ms);
  }
  m->reading = 0;
  while (m->dead) {
    struct media_pair *p = m->dead;
    m->dead = p->next_dead;
    free(p);
  }
  return n;
}

#ifdef SIPREC_SERVER_URING
/* A socket's receive is known by its port, whether it is the RTCP one, a
 * generation (a completion of a socket since closed, its port perhaps
 * bound again, or of its receive before it moved to large buffers,
 * matches nothing) and, in the top bit, its buffers' size. */
static uint64_t uring_tag(struct media_net *m, uint16_t port, int rtcp, int large)
{
  uint64_t gen = ++m->gen & ((1ull << 46) - 1);
  return (uint64_t)(large != 0) << 63 | gen << 17 | (uint64_t)port << 1 | (uint64_t)(rtcp != 0);
}

static struct media_sock *uring_sock(struct media_net *m, uint64_t tag)
{
  struct media_pair *p = m->by_port[(tag >> 1) & 0xffff];
  struct media_sock *ms = !p ? NULL : tag & 1 ? &p->rtcp : &p->rtp;
  return ms && ms->fd >= 0 && ms->tag == tag ? ms : NULL;
}

/* One completion into the receive area (fed when it fills); a receive that
 * ended is armed again while its socket is open. */
static void uring_take(void *arg, const struct media_udgram *d)
{
  struct media_net *m = arg;
  if (d->truncated) {
    /* Longer than a small buffer (and lost): this socket's receive moves
     * to the large ones, under a new tag (the old one's end is ignored). */
    struct media_sock *ms = uring_sock(m, d->tag);
    if (ms && !ms->large) {
      media_uring_remove(m->u, ms->fd);
      ms->large = 1;
      ms->tag = uring_tag(m, (uint16_t)(d->tag >> 1), (int)(d->tag & 1), 1);
      if (media_uring_add(m->u, ms->fd, ms->tag, 1) < 0)
        m->st.read_errors++;
    }
  }
  if (d->data) {
    if (m->n_dg == AREA)
      media_net_flush(m); /* may release sockets: looked up after */
    struct media_sock *ms = uring_sock(m, d->tag);
    if (!ms || (size_t)d->from_len > sizeof m->from[0]) {
      media_uring_recycle(m->u, d->buf); /* its stream ended meanwhile */
    } else {
      int i = m->n_dg;
      memcpy(&m->local[i], &ms->local, addr_len(&ms->local));
      memcpy(&m->from[i], d->from, d->from_len);
      m->path[i] = (siprec_path){ SIPREC_TRANSPORT_UDP, (const struct sockaddr *)&m->local[i],
                                  (const struct sockaddr *)&m->from[i], 0 };
      /* Once a read, as recvmmsg's reader takes it once a call: taken at
       * the first datagram, after the system call that received them all. */
      if (!m->reap_now)
        m->reap_now = m->now();
      uint64_t now = m->reap_now;
      m->dg[m->n_dg++] = (siprec_datagram){ d->data, d->len, &m->path[i],
                                            d->stamp ? stamp_time(m, d->stamp, now) : now };
      m->bufs[m->n_bufs++] = d->buf;
    }
  }
  if (d->ended) {
    struct media_sock *ms = uring_sock(m, d->tag);
    /* Out of buffers (-ENOBUFS: they come back as the area is fed), or
     * ended by the kernel for room in its completion queue: armed again.
     * A receive the kernel refuses (-EINVAL, -EOPNOTSUPP) is not. */
    if (ms && d->error != -EINVAL && d->error != -EOPNOTSUPP &&
        media_uring_add(m->u, ms->fd, ms->tag, ms->large) == 0)
      return;
    if (ms)
      m->st.read_errors++;
  }
}

/* Completions one read takes at most: a flood waits for the next read
 * rather than hold the loop. */
#define URING_READ_MAX 65536

/* Everything that arrived, in one system call. @return the completions */
static int uring_read(struct media_net *m)
{
  clock_offset(m);
  m->reap_now = 0;
  int n = media_uring_reap(m->u, URING_READ_MAX, uring_take, m);
  if (n < 0) {
    m->st.read_errors++;
    return 0;
  }
  return n;
}
#endif

/* Everything ready, READY_ROUNDS epoll_waits at most. @return the
 * sockets read */
static int read_all(struct media_net *m)
{
  uint64_t began = m->now();
  int total = 0;
  m->all_read_turn = 1;
#ifdef SIPREC_SERVER_URING
  if (m->u)
    total = uring_read(m);
  else
#endif
  for (int r = 0; r < READY_ROUNDS; r++) {
    int n = read_ready(m);
    total += n;
    if (n < EVENTS)
      break;
  }
  /* Also after the last round (a flood of ready sockets): the deadlines
   * must not wait for a read that never ends. */
  if (m->read_ms) {
    m->read_turn = 1;
    m->read_upto = began;
  }
  return total;
}

static void on_epoll(uv_poll_t *poll, int status, int events);

/* Paced, busy: the sockets are read at each tick of the timer, the epoll
 * not polled (re-adding it to the loop's epoll at each wakeup costs a walk
 * of every socket in it). A tick that finds nothing ready goes back to
 * waiting for readiness. */
/* The eventfd says completions may wait: cleared before they are read. */
static void uring_clear(struct media_net *m)
{
#ifdef SIPREC_SERVER_URING
  if (m->u)
    media_uring_clear(m->u);
#else
  (void)m;
#endif
}

static void on_pace(uv_timer_t *t)
{
  struct media_net *m = t->data;
  uring_clear(m);
  if (read_all(m) > 0)
    uv_timer_start(m->pace, on_pace, m->read_ms, 0);
  else if (m->ep_poll && uv_poll_start(m->ep_poll, UV_READABLE, on_epoll) < 0)
    m->st.read_errors++;
}

static void on_epoll(uv_poll_t *poll, int status, int events)
{
  struct media_net *m = poll->data;
  (void)events;
  if (status < 0) {
    m->st.read_errors++;
    return;
  }
  uring_clear(m);
  if (!m->pace) {
#ifdef SIPREC_SERVER_URING
    if (m->u) {
      uring_read(m);
      return;
    }
#endif
    read_ready(m); /* a fuller list: the poll fires again at once */
    return;
  }
  /* Paced: everything ready now, then the timer takes over. */
  read_all(m);
  uv_poll_stop(m->ep_poll);
  uv_timer_start(m->pace, on_pace, m->read_ms, 0);
}

void media_net_drain(struct media_net *m)
{
  read_all(m);
  media_net_flush(m);
}

void media_net_catch_up(struct media_net *m)
{
  if (!m->all_read_turn)
    read_all(m);
  media_net_flush(m);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
  if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
  else
    ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static int is_wildcard(const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
  return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

/* The wildcard address of the family of `ss`, in place. */
static void wildcard(struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_any;
  else
    ((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_ANY);
}

/* A bound, non-blocking UDP socket on `port`, or -errno. */
static int bind_udp(const struct media_net *m, uint16_t port, struct sockaddr_storage *local)
{
  *local = m->bind;
  set_port(local, port);
  int fd = socket(local->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  /* Arrival times from the kernel (without them: the time of the read). */
  int on = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (bind(fd, (struct sockaddr *)local, addr_len(local)) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/* Out of the epoll, and the descriptor given back at once (so the port is
 * free for the next bind). Taken out explicitly: closing would not do it
 * while a child forked for --on-complete still holds a copy before its
 * exec, and its events would name a freed pair. */
static void sock_close(struct media_net *m, struct media_sock *ms)
{
#ifdef SIPREC_SERVER_URING
  if (m->u)
    media_uring_remove(m->u, ms->fd); /* settled at the turn's end (media_net_fed) */
  else
#endif
    epoll_ctl(m->epfd, EPOLL_CTL_DEL, ms->fd, NULL);
  close(ms->fd);
  ms->fd = -1;
  m->st.sockets_open--;
}

static void free_handle(uv_handle_t *h)
{
  free(h);
}

static int sock_start(struct media_net *m, struct media_sock *ms, int fd, uint16_t port,
                      int rtcp)
{
#ifdef SIPREC_SERVER_URING
  if (m->u) {
    ms->large = 0;
    ms->tag = uring_tag(m, port, rtcp, 0);
    int rc = media_uring_add(m->u, fd, ms->tag, 0);
    if (rc < 0)
      return rc;
  } else
#endif
  {
    (void)port;
    (void)rtcp;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = ms };
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
      return -errno;
  }
  ms->fd = fd;
  m->st.sockets_open++;
  return 0;
}

/* The loop's poll of the media epoll. @return 0 or a libuv error */
static int ep_poll_start(struct media_net *m, uv_loop_t *loop)
{
  uv_poll_t *p = malloc(sizeof *p);
  if (!p)
    return UV_ENOMEM;
  int fd = m->epfd;
#ifdef SIPREC_SERVER_URING
  if (m->u)
    fd = media_uring_eventfd(m->u);
#endif
  int rc = uv_poll_init(loop, p, fd);
  if (rc < 0) {
    free(p);
    return rc;
  }
  p->data = m;
  rc = uv_poll_start(p, UV_READABLE, on_epoll);
  if (rc < 0) {
    uv_close((uv_handle_t *)p, free_handle);
    return rc;
  }
  m->ep_poll = p;
  return 0;
}

/* The pacing timer, when reads are paced. @return 0 or a libuv error */
static int pace_start(struct media_net *m, uv_loop_t *loop)
{
  if (!m->read_ms)
    return 0;
  m->pace = malloc(sizeof *m->pace);
  if (!m->pace)
    return UV_ENOMEM;
  uv_timer_init(loop, m->pace);
  m->pace->data = m;
  return 0;
}

int media_net_new(struct media_net **out, uv_loop_t *loop, const struct sockaddr *bind,
                  uint16_t low, uint16_t high, unsigned read_ms, uint64_t (*now)(void),
                  int fd_ceiling, int no_uring)
{
  *out = NULL;
  if (low & 1)
    low++;
  if (low == 0 || high <= low)
    return UV_EINVAL;
  struct media_net *m = calloc(1, sizeof *m);
  if (!m)
    return UV_ENOMEM;
  m->by_port = calloc(65536, sizeof *m->by_port);
  if (!m->by_port) {
    free(m);
    return UV_ENOMEM;
  }
  m->now = now;
  m->read_ms = read_ms;
#ifdef SIPREC_SERVER_URING
  /* Refused by the kernel (before 6.1), a sandbox or io_uring_disabled:
   * epoll, as without liburing. */
  if (!no_uring && media_uring_new(&m->u) < 0)
    m->u = NULL;
#else
  (void)no_uring;
#endif
  m->epfd = epoll_create1(EPOLL_CLOEXEC);
  int rc = m->epfd < 0 ? -errno : pace_start(m, loop);
  if (rc == 0 && (rc = ep_poll_start(m, loop)) < 0 && m->pace)
    uv_close((uv_handle_t *)m->pace, free_handle);
  if (rc < 0) {
    if (m->epfd >= 0)
      close(m->epfd);
#ifdef SIPREC_SERVER_URING
    media_uring_free(m->u);
#endif
    free(m->by_port);
    free(m);
    return rc;
  }
  for (int i = 0; i < AREA; i++)
    reset_msg(m, i);
  if (bind) {
    memcpy(&m->bind, bind,
           bind->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  } else {
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    memcpy(&m->bind, &any, sizeof any);
  }
  m->low = low;
  m->high = high;
  m->cursor = low;
  m->fd_ceiling = fd_ceiling;
  *out = m;
  return 0;
}

void media_net_set_handler(struct media_net *m, siprec_handler *h)
{
  m->h = h;
}

void media_net_set_fd_pending(struct media_net *m, size_t (*pending)(void *arg), void *arg)
{
  m->fd_pending = pending;
  m->fd_pending_arg = arg;
}

/* Would a stream whose RTCP socket is descriptor `rtcp` pass the ceiling,
 * with its files and those promised before it? */
static int over_ceiling(const struct media_net *m, int rtcp)
{
  if (m->fd_ceiling <= 0)
    return 0;
  size_t pending = m->fd_pending ? m->fd_pending(m->fd_pending_arg) : 0;
  return (size_t)rtcp + MEDIA_NET_FILES_PER_STREAM + pending >= (size_t)m->fd_ceiling;
}

int media_net_alloc(struct media_net *m, siprec_session *s, size_t index, uint16_t *port)
{
  (void)s;
  (void)index;
  /* A restored session (siprec_handler_restore) claims the port it had:
   * that one or none, so that the SRC's media finds it again. */
  uint16_t want = *port;
  /* Round-robin over the range, so a port just given back rests before it
   * is answered again (late packets of the old stream find it closed). */
  unsigned span = want ? 1 : (unsigned)(m->high - m->low) / 2 + 1;
  for (unsigned tries = 0; tries < span; tries++) {
    uint16_t p = want;
    if (!want) {
      p = m->cursor;
      m->cursor = (uint16_t)(p + 2 > m->high || p + 2 < p ? m->low : p + 2);
    }
    if (m->by_port[p] || (uint32_t)p + 1 > (want ? 65535u : m->high))
      continue;
    struct media_pair *pair = calloc(1, sizeof *pair);
    if (!pair)
      return -1;
    int rtp = bind_udp(m, p, &pair->rtp.local);
    int rtcp = rtp >= 0 ? bind_udp(m, (uint16_t)(p + 1), &pair->rtcp.local) : -1;
    if (rtp < 0 || rtcp < 0) {
      if (rtp >= 0)
        close(rtp);
      free(pair);
      m->st.bind_failures++;
      int e = rtp < 0 ? -rtp : -rtcp;
      if (e == EADDRINUSE || e == EACCES)
        continue; /* someone else has it: the next one */
      if (e == EADDRNOTAVAIL && !is_wildcard(&m->bind)) {
        wildcard(&m->bind); /* an advertised address that is not ours */
        tries--;
        continue;
      }
      return -1;
    }
    if (over_ceiling(m, rtcp)) {
      close(rtp);
      close(rtcp);
      free(pair);
      m->st.budget_refused++;
      return -1;
    }
    pair->rtp.fd = pair->rtcp.fd = -1;
    if (sock_start(m, &pair->rtp, rtp, p, 0) < 0 ||
        sock_start(m, &pair->rtcp, rtcp, (uint16_t)(p + 1), 1) < 0) {
      /* epoll_ctl fails on a fresh socket only without memory: give
       * everything back (no event can name the pair yet). */
      if (pair->rtp.fd >= 0)
        sock_close(m, &pair->rtp);
      else
        close(rtp);
      close(rtcp);
      free(pair);
      return -1;
    }
    pair->rtcp_open = 1;
    m->by_port[p] = pair;
    *port = p;
    return 0;
  }
  return -1;
}

void media_net_release(struct media_net *m, uint16_t port)
{
  struct media_pair *p = m->by_port[port];
  if (!p)
    return;
  m->by_port[port] = NULL;
  int rtcp = p->rtcp_open;
  p->rtcp_open = 0;
  sock_close(m, &p->rtp);
  if (rtcp)
    sock_close(m, &p->rtcp);
  if (m->reading) {
    /* The epoll's events being read may name it: freed after them. */
    p->next_dead = m->dead;
    m->dead = p;
  } else {
    free(p);
  }
}

void media_net_mux(struct media_net *m, uint16_t port)
{
  struct media_pair *p = m->by_port[port];
  if (p && p->rtcp_open) {
    p->rtcp_open = 0;
    sock_close(m, &p->rtcp);
  }
}

int media_net_fed(struct media_net *m, uint64_t *read_upto)
{
  media_net_flush(m);
#ifdef SIPREC_SERVER_URING
  if (m->u)
    media_uring_settle(m->u); /* ports closed this turn are free again */
#endif
  int fed = m->fed ? MEDIA_NET_FED : 0;
  if (m->read_turn) {
    fed |= MEDIA_NET_READ_ALL;
    *read_upto = m->read_upto;
  }
  m->fed = 0;
  m->read_turn = 0;
  m->all_read_turn = 0;
  return fed;
}

int media_net_busy(const struct media_net *m)
{
  return m->pace && uv_is_active((const uv_handle_t *)m->pace);
}

void media_net_stats(const struct media_net *m, struct media_net_stats *out)
{
  *out = m->st;
#ifdef SIPREC_SERVER_URING
  out->uring = m->u != NULL;
#endif
}

void media_net_close(struct media_net *m)
{
  for (uint32_t port = m->low; port <= m->high; port++)
    if (m->by_port[port])
      media_net_release(m, (uint16_t)port);
  if (m->ep_poll) {
    uv_close((uv_handle_t *)m->ep_poll, free_handle);
    m->ep_poll = NULL;
  }
  if (m->pace) {
    uv_close((uv_handle_t *)m->pace, free_handle);
    m->pace = NULL;
  }
}

void media_net_free(struct media_net *m)
{
  if (!m)
    return;
#ifdef SIPREC_SERVER_URING
  media_uring_free(m->u);
#endif
  if (m->epfd >= 0)
    close(m->epfd);
  free(m->by_port);
  free(m);
}
