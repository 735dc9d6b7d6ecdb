/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading many UDP sockets through io_uring (Linux 6.1+, liburing): each
 * socket has one multishot recvmsg armed, its datagrams land in buffers
 * of one provided-buffer ring, and the kernel does the receiving as
 * deferred task work (IORING_SETUP_DEFER_TASKRUN), all of it when the
 * loop asks for it (media_uring_reap()): a read of every socket is one
 * system call, however many sockets hold datagrams.
 *
 * Why: with epoll and recvmmsg each socket read is a readiness and a
 * system call of its own, and at a thousand calls (2,000 sockets, 100,000
 * datagrams a second) those were the largest part of the server's loop.
 * A bare receiver on this reader costs 0.3-0.4x of one on epoll and
 * recvmmsg (docs/performance.md, "io_uring").
 *
 * Buffers are small (432 bytes of datagram) until a socket gets a longer
 * datagram, which is lost; its receive then takes large ones (2,048).
 *
 * An eventfd is signalled whenever datagrams wait (media_uring_eventfd()):
 * the loop polls it when idle. media_net.c falls back to epoll when the
 * kernel or a sandbox refuses the ring (media_uring_new() fails).
 *
 * One thread only (the ring is single-issuer): the loop's.
 */
#ifndef SIPREC_SERVER_MEDIA_URING_H
#define SIPREC_SERVER_MEDIA_URING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

struct media_uring;

/** One completion of a socket's request. */
struct media_udgram {
  uint64_t tag;                /**< the socket's, from media_uring_add() */
  int ended;                   /**< the request ended: re-add if still wanted */
  int truncated;               /**< a datagram longer than the buffer, lost: use large ones */
  int error;                   /**< with `ended`: why (negative errno; -ENOBUFS: no buffer was free) */
  const unsigned char *data;   /**< the datagram (NULL when ended or truncated) */
  size_t len;
  const struct sockaddr *from; /**< its source */
  socklen_t from_len;
  const struct timespec *stamp; /**< its kernel arrival time (SO_TIMESTAMPNS), or NULL */
  unsigned buf;                /**< the buffer to give back (media_uring_recycle) once done with `data` */
};

/** @return 0, or a negative errno when io_uring is not available (then
 *          nothing was made) */
int media_uring_new(struct media_uring **out);
/** Readable whenever completions may wait: clear it with media_uring_clear(). */
int media_uring_eventfd(const struct media_uring *u);
void media_uring_clear(struct media_uring *u);
/** Arm a multishot receive on socket `fd` (submitted at once, or at the
 * end of the reap it is called from), into small buffers or `large`
 * ones. `tag` (returned with each completion) has its top bit set
 * exactly when `large`. @return 0 or a negative errno */
int media_uring_add(struct media_uring *u, int fd, uint64_t tag, int large);
/** Cancel socket `fd`'s receive, before the caller closes it; the kernel
 * lets go of the socket (its port) at the next reap or media_uring_settle(). */
void media_uring_remove(struct media_uring *u, int fd);
/** Complete what cancels and closes wait for (end of a loop turn). */
void media_uring_settle(struct media_uring *u);
/** Run the receives that wait and hand every completion to `take`, at
 * most `max` of them (more stay for the next reap). A datagram's buffer
 * stays the caller's until media_uring_recycle().
 * @return completions handed over, or a negative errno */
int media_uring_reap(struct media_uring *u, size_t max,
                     void (*take)(void *arg, const struct media_udgram *d), void *arg);
/** Give a datagram's buffer back to the ring. */
void media_uring_recycle(struct media_uring *u, unsigned buf);
/** Close the ring (every receive ends). */
void media_uring_free(struct media_uring *u);

#endif
