/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's media sockets: the handler's port callbacks bind an RTP
 * socket and its RTCP successor for every stream it answers, and every
 * datagram that arrives on them is fed to siprec_handler_media(). The
 * sockets live exactly as long as the handler holds the port (from the
 * alloc callback to the free callback), so nothing stays open after a
 * session, and a port the kernel refuses is never answered with.
 *
 * Reading: every media socket is in one epoll of the server's own,
 * edge-triggered, which the loop polls as one descriptor (libuv's epoll is
 * level-triggered: it would check each socket again at its next wait, two
 * socket polls a datagram). A ready socket is read with recvmmsg until a
 * call brings fewer than it asked for (the socket is empty then: a stream
 * sends 50 packets a second, so one call nearly always), at most a few
 * calls a wakeup: a flooded socket goes back on the ready list, behind the
 * other sockets, rather than holding the loop. What the sockets
 * of one loop turn brought is fed in one batch at the turn's end
 * (media_net_fed) or before a SIP message (media_net_catch_up), so that the
 * library loads the next datagrams' stream state while it works on one.
 *
 * With io_uring (media_uring.h; --media-io), every socket has a multishot
 * receive armed instead, the loop polls the ring's eventfd instead of the
 * epoll, and a read of every socket is one system call: the rest below
 * (pacing, batches, catching up before SIP) is the same.
 *
 * Paced reading (--media-read-ms): after a wakeup the epoll rests for a
 * few tens of milliseconds, so that a socket holds two or three datagrams
 * when it is read: one readiness and one recvmmsg for them instead of one
 * each (a system call a datagram was most of the loop's cost). Each
 * datagram carries its kernel arrival time (SO_TIMESTAMPNS), so the
 * library's jitter, gap and clock figures are those of the network, not
 * of the reads; what pacing delays is only when the audio is delivered.
 * A SIP message first drains every ready socket, so the audio that came
 * before a re-INVITE or a BYE is in before it is processed. The handler's
 * deadlines (jitter-buffer holes, no-media watchdogs: hundreds a second at
 * a thousand streams) are met after each paced read, up to when it began,
 * rather than each with a read of its own (media_net_busy).
 *
 * Descriptors: a stream costs two sockets (one once rtcp-mux is known) and
 * its recording files. The kernel hands out the lowest free descriptor, so
 * the number of the one just opened tells how many are in use (sockets,
 * files, connections alike): the alloc callback refuses a port (the INVITE
 * then gets 503) when the stream's sockets and files would reach the
 * ceiling the server keeps below its limit. The files are opened by the
 * recordings' writer thread a moment later: those still in its queue are
 * counted through media_net_set_fd_pending(), so that a burst of calls on
 * a stalled disk gets 503 rather than recordings stopped on EMFILE.
 *
 * Loop thread only.
 */
#ifndef SIPREC_SERVER_MEDIA_NET_H
#define SIPREC_SERVER_MEDIA_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include <siprec/siprec.h>

struct media_net;

/** Descriptors a stream's recording may open besides its sockets (its own
 * file and its share of the stereo file and the session's others). */
#define MEDIA_NET_FILES_PER_STREAM 2

/** Counters of the socket side (the library counts the rest). */
struct media_net_stats {
  uint64_t datagrams;      /* fed to the handler */
  uint64_t unknown_port;   /* the handler knew no stream on that port */
  uint64_t read_errors;    /* recvmmsg failures other than EAGAIN */
  uint64_t bind_failures;  /* ports skipped because the kernel refused them */
  uint64_t budget_refused; /* ports refused for the descriptor ceiling */
  size_t sockets_open;     /* descriptors held now */
  int uring;               /* read through io_uring (media_uring.h), not epoll */
};

/**
 * Create the media side on `loop`, binding to `bind` (an address with port
 * 0; NULL: the IPv4 wildcard) and ports from [low, high] (even RTP ports,
 * their odd successors for RTCP). `read_ms`: the pause after each wakeup
 * of paced reading (0: every readiness read at once). `now` gives the time
 * the handler's clock runs on (CLOCK_MONOTONIC, in ns). `fd_ceiling`: no
 * stream is given a port whose sockets and files
 * would reach this descriptor number (0: no ceiling). An address that is
 * not local (a NAT's public address given as the media address) makes it
 * bind to the wildcard of its family instead. The sockets are read
 * through io_uring where the build and the kernel allow it, unless
 * `no_uring`; through epoll otherwise (media_net_stats() says which).
 * @return 0 or a negative libuv error
 */
int media_net_new(struct media_net **out, uv_loop_t *loop, const struct sockaddr *bind,
                  uint16_t low, uint16_t high, unsigned read_ms, uint64_t (*now)(void),
                  int fd_ceiling, int no_uring);

/** The handler feeds go to (set once the handler exists, before any port). */
void media_net_set_handler(struct media_net *m, siprec_handler *h);
/** Descriptors promised but not open yet (a recording's files queued at its
 * writer), counted against the ceiling with those open: `pending(arg)` is
 * asked at each port allocation. NULL: none. */
void media_net_set_fd_pending(struct media_net *m, size_t (*pending)(void *arg), void *arg);

/** What the server's port callbacks (siprec_handler_callbacks_set_ports)
 * forward to: bind an even port and its successor and start feeding what
 * arrives (0, or -1 when no port is free or the budget is spent: the
 * handler then answers 503); close them again. With *port non-zero on
 * entry (a restored session's), that exact port or -1. */
int media_net_alloc(struct media_net *m, siprec_session *s, size_t index, uint16_t *port);
void media_net_release(struct media_net *m, uint16_t port);

/** Close the RTCP socket of `port` when its stream took rtcp-mux (RTCP then
 * arrives on the RTP port). Called after the session started or changed. */
void media_net_mux(struct media_net *m, uint16_t port);

/** Feed the datagrams read and not fed yet, in one
 * siprec_handler_media_batch(). */
void media_net_flush(struct media_net *m);

/** Read every socket that holds datagrams (paced or not) and feed them
 * (a deadline's timer: what arrived before it goes in before it is met). */
void media_net_drain(struct media_net *m);

/** Before a SIP message is processed: the media that arrived before it
 * goes in first (a re-INVITE that pauses a stream comes after the audio
 * that preceded it). Every socket is read once a loop turn (as
 * media_net_drain), and what that read brought is fed before each
 * message of the turn: a turn's messages arrived together, and a read of
 * every socket per message made a burst of them (a call teardown, 32 to a
 * libuv callback) hold the loop for seconds at 1,500 calls, its timers and
 * /metrics waiting. */
void media_net_catch_up(struct media_net *m);

/** What media_net_fed() reports. */
enum {
  MEDIA_NET_FED = 1,      /* datagrams were fed: the handler's deadline may have moved */
  MEDIA_NET_READ_ALL = 2, /* a paced read of every socket ran: *read_upto says when */
};

/** Called once a loop turn's I/O is done: feeds the datagrams it read to
 * the handler in one siprec_handler_media_batch() (they wait for this, or
 * for the receive area to fill). @return MEDIA_NET_* bits; with
 * MEDIA_NET_READ_ALL, *read_upto is when the turn's last paced read of
 * every socket began: everything that arrived before it is fed, so the
 * handler's deadlines up to it can be met. */
int media_net_fed(struct media_net *m, uint64_t *read_upto);

/** Non-zero while paced reads are busy: the pacing timer reads the
 * sockets, and a datagram waits in its socket until the next read (at
 * most read_ms). A deadline of the handler's that falls due meanwhile is
 * met after that read (MEDIA_NET_READ_ALL), not by reading now: a read
 * between two paced ones would take one datagram a socket again. */
int media_net_busy(const struct media_net *m);

/** The counters. */
void media_net_stats(const struct media_net *m, struct media_net_stats *out);

/** Close every socket (the handles close on the loop's next turns). */
void media_net_close(struct media_net *m);

/** Free it once the loop closed every handle. */
void media_net_free(struct media_net *m);

#endif
