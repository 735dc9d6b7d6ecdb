/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UDP sockets read through io_uring; see media_uring.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "media_uring.h"

#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

/* Two rings of buffers. Every datagram that arrived since the last reap
 * holds one until it is fed (a read every 60 ms at 1,000 calls brings
 * about 6,000); when they run out, a socket's receive ends (-ENOBUFS) and
 * is armed again after the reap, its datagrams waiting in the socket.
 * A buffer holds the completion's header, the source address and the
 * arrival time (80 bytes), then the datagram. Small ones (432 bytes of
 * datagram: G.711 and G.722 up to 40 ms a packet, Opus at speech rates)
 * take every socket's first; a socket that gets a datagram too long for
 * them (which is lost, MSG_TRUNC) moves to the large ones (2,048 bytes,
 * as the epoll reader takes). Small, because the kernel copies each
 * datagram into a buffer the loop reads next: the fewer bytes the rings
 * span, the more of them stay in the cache (16,384 buffers of 2 KiB, 32
 * MiB, made the recordings' writer a third slower beside the loop). */
#define SMALL_N 8192
#define SMALL_SIZE 512
#define LARGE_N 512
#define LARGE_SIZE (2048 + 128)
#define SQ_ENTRIES 1024
#define CQ_ENTRIES (2 * (SMALL_N + LARGE_N))

struct pool {
  struct io_uring_buf_ring *br;
  unsigned char *bufs;
  unsigned n, size;
};

struct media_uring {
  struct io_uring ring;
  struct pool pools[2]; /* small, large: their buffer groups' ids */
  int efd;
  int cancels; /* cancels submitted and not settled */
  int reaping; /* inside media_uring_reap: receives armed again wait for its end */
  int queued;  /* submissions not made yet */
  struct msghdr tmpl; /* what each receive asks for: the name, the stamp */
};

/* Buffer group `g`: n buffers of `size`, registered and all given. */
static int pool_init(struct media_uring *u, unsigned g, unsigned n, unsigned size)
{
  struct pool *p = &u->pools[g];
  void *br = mmap(NULL, n * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
                  MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (br == MAP_FAILED)
    return -ENOMEM;
  p->br = br;
  p->n = n;
  p->size = size;
  if (!(p->bufs = malloc((size_t)n * size)))
    return -ENOMEM;
  struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)br, .ring_entries = n,
                                  .bgid = (unsigned short)g };
  int rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
  if (rc < 0)
    return rc;
  io_uring_buf_ring_init(p->br);
  for (unsigned i = 0; i < n; i++)
    io_uring_buf_ring_add(p->br, p->bufs + (size_t)i * size, size, (unsigned short)i,
                          io_uring_buf_ring_mask(n), (int)i);
  io_uring_buf_ring_advance(p->br, (int)n);
  return 0;
}

static void pools_free(struct media_uring *u)
{
  for (int g = 0; g < 2; g++) {
    struct pool *p = &u->pools[g];
    if (p->br)
      munmap(p->br, p->n * sizeof(struct io_uring_buf));
    free(p->bufs);
    p->br = NULL;
    p->bufs = NULL;
  }
}

int media_uring_new(struct media_uring **out)
{
  *out = NULL;
  struct media_uring *u = calloc(1, sizeof *u);
  if (!u)
    return -ENOMEM;
  u->efd = -1;
  struct io_uring_params p = { 0 };
  /* Deferred task work: the kernel receives only when the loop reaps, all
   * at once, never by interrupting it. (Needs Linux 6.1, as multishot
   * recvmsg needs 6.0: a kernel that takes these flags has both.) */
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = CQ_ENTRIES;
  int rc = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p);
  if (rc < 0) {
    free(u);
    return rc;
  }
  u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (u->efd < 0) {
    rc = -errno;
    goto fail;
  }
  if ((rc = pool_init(u, 0, SMALL_N, SMALL_SIZE)) < 0 ||
      (rc = pool_init(u, 1, LARGE_N, LARGE_SIZE)) < 0 ||
      (rc = io_uring_register_eventfd(&u->ring, u->efd)) < 0)
    goto fail;
  /* Room for either family's address, rounded up so that the control
   * data after it (a cmsghdr) is aligned. */
  u->tmpl.msg_namelen = (sizeof(struct sockaddr_in6) + 7) & ~(size_t)7;
  u->tmpl.msg_controllen = CMSG_SPACE(sizeof(struct timespec));
  *out = u;
  return 0;
fail:
  io_uring_queue_exit(&u->ring);
  pools_free(u);
  if (u->efd >= 0)
    close(u->efd);
  free(u);
  return rc;
}

int media_uring_eventfd(const struct media_uring *u)
{
  return u->efd;
}

void media_uring_clear(struct media_uring *u)
{
  uint64_t v;
  (void)!read(u->efd, &v, sizeof v);
}

/* A free submission slot, submitting what waits when the queue is full. */
static struct io_uring_sqe *sqe_get(struct media_uring *u)
{
  struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
  if (!sqe) {
    io_uring_submit(&u->ring);
    sqe = io_uring_get_sqe(&u->ring);
  }
  return sqe;
}

int media_uring_add(struct media_uring *u, int fd, uint64_t tag, int large)
{
  struct io_uring_sqe *sqe = sqe_get(u);
  if (!sqe)
    return -EBUSY;
  io_uring_prep_recvmsg_multishot(sqe, fd, &u->tmpl, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = large ? 1 : 0;
  io_uring_sqe_set_data64(sqe, tag);
  /* At once (an idle loop waits for the eventfd, which only an armed
   * receive signals), but one submission for those armed again in a reap. */
  if (u->reaping) {
    u->queued = 1;
    return 0;
  }
  int rc = io_uring_submit(&u->ring);
  return rc < 0 ? rc : 0;
}

void media_uring_remove(struct media_uring *u, int fd)
{
  struct io_uring_sqe *sqe = sqe_get(u);
  if (!sqe)
    return; /* the ring's close ends it */
  /* By descriptor, while it is still open: the receive holds the socket,
   * so the caller's close alone would not free the port. */
  io_uring_prep_cancel_fd(sqe, fd, 0);
  io_uring_sqe_set_data64(sqe, UINT64_MAX); /* its own completion is ignored */
  io_uring_submit(&u->ring);
  u->cancels = 1;
}

void media_uring_settle(struct media_uring *u)
{
  if (!u->cancels)
    return;
  u->cancels = 0;
  io_uring_get_events(&u->ring);
}

void media_uring_recycle(struct media_uring *u, unsigned buf)
{
  struct pool *p = &u->pools[buf >> 16 & 1];
  unsigned i = buf & 0xffff;
  io_uring_buf_ring_add(p->br, p->bufs + (size_t)i * p->size, p->size, (unsigned short)i,
                        io_uring_buf_ring_mask(p->n), 0);
  io_uring_buf_ring_advance(p->br, 1);
}

/* The arrival time in a completion's control data, if the kernel put one. */
static const struct timespec *stamp_of(struct io_uring_recvmsg_out *o, struct msghdr *tmpl)
{
  for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(o, tmpl); c;
       c = io_uring_recvmsg_cmsg_nexthdr(o, tmpl, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
        c->cmsg_len >= CMSG_LEN(sizeof(struct timespec)))
      return (const struct timespec *)(const void *)CMSG_DATA(c);
  return NULL;
}

int media_uring_reap(struct media_uring *u, size_t max,
                     void (*take)(void *arg, const struct media_udgram *d), void *arg)
{
  /* Submits what is queued and runs the deferred receives: all of them.
   * A plain io_uring_get_events() runs a bounded number (20 since Linux
   * 6.10) and leaves the rest for later; a wait for more completions than
   * can come, with a timeout of zero, runs every one and returns. */
  struct __kernel_timespec zero = { 0, 0 };
  struct io_uring_cqe *first;
  int rc = io_uring_submit_and_wait_timeout(&u->ring, &first, CQ_ENTRIES, &zero, NULL);
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
    return rc;
  size_t n = 0;
  struct io_uring_cqe *cqe;
  u->reaping = 1;
  while (n < max && io_uring_peek_cqe(&u->ring, &cqe) == 0) {
    /* Copied and seen first: `take` may submit, and a submission may
     * post completions. */
    uint64_t tag = cqe->user_data;
    int res = cqe->res;
    unsigned flags = cqe->flags;
    io_uring_cqe_seen(&u->ring, cqe);
    if (tag == UINT64_MAX)
      continue; /* a cancel's own */
    n++;
    struct media_udgram d = { .tag = tag };
    if (flags & IORING_CQE_F_BUFFER) {
      /* Which group: the tag says (media_net keeps it with the socket). */
      unsigned g = (unsigned)(tag >> 63);
      struct pool *p = &u->pools[g];
      unsigned i = flags >> IORING_CQE_BUFFER_SHIFT;
      d.buf = g << 16 | i;
      unsigned char *b = p->bufs + (size_t)i * p->size;
      struct io_uring_recvmsg_out *o = res > 0 ? io_uring_recvmsg_validate(b, res, &u->tmpl) : NULL;
      if (o && (o->flags & MSG_TRUNC))
        d.truncated = 1;
      else if (o && o->namelen <= u->tmpl.msg_namelen) {
        d.data = io_uring_recvmsg_payload(o, &u->tmpl);
        d.len = io_uring_recvmsg_payload_length(o, res, &u->tmpl);
        d.from = io_uring_recvmsg_name(o);
        d.from_len = (socklen_t)o->namelen;
        d.stamp = stamp_of(o, &u->tmpl);
      }
      if (!d.data)
        media_uring_recycle(u, d.buf); /* truncated: nothing to hand over */
    }
    if (!(flags & IORING_CQE_F_MORE)) {
      d.ended = 1;
      d.error = res < 0 ? res : 0;
    }
    if (d.data || d.ended || d.truncated)
      take(arg, &d);
  }
  u->reaping = 0;
  if (u->queued) {
    u->queued = 0;
    io_uring_submit(&u->ring);
  }
  return (int)n;
}

void media_uring_free(struct media_uring *u)
{
  if (!u)
    return;
  io_uring_queue_exit(&u->ring);
  pools_free(u);
  close(u->efd);
  free(u);
}
