/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recvmmsg_baseline: the floor a recording server's media loop is measured
 * against (bench_server.py, target server-vs-recvmmsg). A bare receiver:
 * one UDP socket per port of a range, one epoll set (level-triggered), one
 * recvmmsg per ready socket, and for every datagram what any RTP receiver
 * must do at least: parse the header (version, padding, CSRCs, extension,
 * payload offset, sequence number, timestamp, SSRC), latch the source on
 * the first packet and drop others, keep the RFC 3550 (A.1) extended
 * sequence number and count. No jitter buffer, no decoding, no files.
 *
 * It prints "ready sockets=N" once every socket is bound, a "snapshot ..."
 * line at each SIGUSR1 (the driver takes one at each edge of its window),
 * and at SIGTERM/SIGINT or after --seconds a JSON summary with its CPU time
 * (getrusage) per packet. Exit 0 when it ran, 1 on a setup error, 2 usage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64
#define MAX_EVENTS 1024
#define PKT_CAP 2048
#define MAX_SOCKETS 60000

/* Per socket (stream): its latched source and RFC 3550 A.1 counters. */
typedef struct stream {
  int fd;
  uint8_t latched, seq_init;
  struct sockaddr_in src;
  uint32_t ssrc, base_seq, cycles;
  uint16_t max_seq;
  uint64_t received;
} stream;

typedef struct counts {
  uint64_t packets, rtcp, bad, latch_drops, payload_bytes, payload_sum;
} counts;

typedef struct rtp_hdr {
  uint16_t seq;
  uint32_t ts, ssrc;
  size_t off, len;
} rtp_hdr;

static volatile sig_atomic_t want_snapshot, want_stop;
static void on_usr1(int s)
{
  (void)s;
  want_snapshot = 1;
}
static void on_stop(int s)
{
  (void)s;
  want_stop = 1;
}

static double cpu_s(void)
{
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 +
         (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec * 1e-6;
}

static double wall_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The RTP header of p[0..n): 0, or -1 when it is not a well-formed RTP
 * version 2 packet. */
static int rtp_parse(const uint8_t *p, size_t n, rtp_hdr *h)
{
  if (n < 12 || (p[0] >> 6) != 2)
    return -1;
  size_t off = 12 + 4u * (p[0] & 0x0f), end = n;
  if (p[0] & 0x10) {
    if (n < off + 4)
      return -1;
    off += 4 + 4u * ((size_t)p[off + 2] << 8 | p[off + 3]);
  }
  if (p[0] & 0x20) {
    uint8_t pad = p[n - 1];
    if (!pad || pad > n)
      return -1;
    end -= pad;
  }
  if (off > end)
    return -1;
  h->seq = (uint16_t)(p[2] << 8 | p[3]);
  h->ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
  h->ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
  h->off = off;
  h->len = end - off;
  return 0;
}

/* RFC 3550 A.1, without probation: the extended highest sequence number. */
static void seq_update(stream *s, const rtp_hdr *h)
{
  if (!s->seq_init || h->ssrc != s->ssrc) {
    s->seq_init = 1;
    s->ssrc = h->ssrc;
    s->base_seq = h->seq;
    s->max_seq = h->seq;
    s->cycles = 0;
    s->received = 0;
  }
  uint16_t delta = (uint16_t)(h->seq - s->max_seq);
  if (delta < 3000) {
    if (h->seq < s->max_seq)
      s->cycles += 65536;
    s->max_seq = h->seq;
  }
  s->received++;
}

static void take(stream *s, counts *c, const uint8_t *p, size_t n, const struct sockaddr_in *from)
{
  /* RTCP multiplexed on the port (RFC 5761: payload types 64-95 with M). */
  if (n >= 2 && p[1] >= 192 && p[1] <= 223) {
    c->rtcp++;
    return;
  }
  if (!s->latched) {
    s->latched = 1;
    s->src = *from;
  } else if (s->src.sin_addr.s_addr != from->sin_addr.s_addr || s->src.sin_port != from->sin_port) {
    c->latch_drops++;
    return;
  }
  rtp_hdr h;
  if (rtp_parse(p, n, &h) < 0) {
    c->bad++;
    return;
  }
  seq_update(s, &h);
  c->packets++;
  c->payload_bytes += h.len;
  c->payload_sum += h.len ? p[h.off] : 0; /* the payload is at hand */
}

static uint64_t lost_total(const stream *st, size_t n)
{
  uint64_t lost = 0;
  for (size_t i = 0; i < n; i++) {
    if (!st[i].seq_init)
      continue;
    uint64_t expected = (uint64_t)st[i].cycles + st[i].max_seq - st[i].base_seq + 1;
    if (expected > st[i].received)
      lost += expected - st[i].received;
  }
  return lost;
}

static void usage(FILE *f)
{
  fprintf(f, "usage: recvmmsg_baseline --ports LO-HI [--addr A] [--cpu N] [--seconds S]\n"
             "                         [--batch N] [--rcvbuf BYTES]\n"
             "A bare RTP receiver: a UDP socket per port of LO-HI on A (default 127.0.0.1),\n"
             "epoll and recvmmsg (--batch datagrams per call, default 32), the RTP header\n"
             "parsed, the source latched, packets counted. 'snapshot' line on SIGUSR1; JSON\n"
             "summary at SIGTERM/SIGINT or after S seconds (default 3600).\n");
}

typedef struct bopts {
  long lo, hi, cpu, seconds, batch, rcvbuf;
  const char *addr;
} bopts;

static int num(const char *flag, const char *v, long lo, long hi, long *out)
{
  char *end;
  errno = 0;
  long n = v ? strtol(v, &end, 10) : 0;
  if (!v || errno || *v == '\0' || *end != '\0' || n < lo || n > hi) {
    fprintf(stderr, "recvmmsg_baseline: %s wants a number from %ld to %ld\n", flag, lo, hi);
    return -1;
  }
  *out = n;
  return 0;
}

static int parse(bopts *o, int argc, char **argv)
{
  *o = (bopts){ .lo = -1, .cpu = -1, .seconds = 3600, .batch = 32, .addr = "127.0.0.1" };
  for (int i = 1; i < argc; i += 2) { /* every option takes a value but --help */
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int r = 0;
    if (!strcmp(a, "--help")) {
      usage(stdout);
      return 1;
    } else if (!strcmp(a, "--ports") && v) {
      char *end;
      errno = 0;
      o->lo = strtol(v, &end, 10);
      if (errno || *end != '-' || num("--ports", end + 1, 1, 65535, &o->hi) < 0 || o->lo < 1 ||
          o->lo > o->hi || o->hi - o->lo + 1 > MAX_SOCKETS) {
        fprintf(stderr, "recvmmsg_baseline: --ports wants LO-HI (at most %d ports)\n",
                MAX_SOCKETS);
        return -1;
      }
    } else if (!strcmp(a, "--addr") && v) {
      o->addr = v;
    } else if (!strcmp(a, "--cpu")) {
      r = num(a, v, 0, CPU_SETSIZE - 1, &o->cpu);
    } else if (!strcmp(a, "--seconds")) {
      r = num(a, v, 1, 86400, &o->seconds);
    } else if (!strcmp(a, "--batch")) {
      r = num(a, v, 1, MAX_BATCH, &o->batch);
    } else if (!strcmp(a, "--rcvbuf")) {
      r = num(a, v, 0, 1 << 30, &o->rcvbuf);
    } else {
      fprintf(stderr, "recvmmsg_baseline: unknown option or missing value: %s\n", a);
      return -1;
    }
    if (r < 0)
      return -1;
  }
  if (o->lo < 0) {
    fprintf(stderr, "recvmmsg_baseline: --ports is needed\n");
    return -1;
  }
  return 0;
}

static int open_all(const bopts *o, stream *st, size_t n, int ep)
{
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
  struct sockaddr_in a = { .sin_family = AF_INET };
  if (inet_pton(AF_INET, o->addr, &a.sin_addr) != 1) {
    fprintf(stderr, "recvmmsg_baseline: --addr %s: not an IPv4 address\n", o->addr);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    st[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    a.sin_port = htons((uint16_t)(o->lo + (long)i));
    int rb = (int)o->rcvbuf;
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
    if (st[i].fd < 0 || bind(st[i].fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        (rb && setsockopt(st[i].fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb) < 0) ||
        epoll_ctl(ep, EPOLL_CTL_ADD, st[i].fd, &ev) < 0) {
      fprintf(stderr, "recvmmsg_baseline: port %ld: %s\n", o->lo + (long)i, strerror(errno));
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv)
{
  bopts o;
  int rc = parse(&o, argc, argv);
  if (rc)
    return rc > 0 ? 0 : 2;
  if (o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0) {
      fprintf(stderr, "recvmmsg_baseline: --cpu %ld: %s\n", o.cpu, strerror(errno));
      return 1;
    }
  }
  size_t n = (size_t)(o.hi - o.lo + 1);
  stream *st = calloc(n, sizeof *st);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!st || ep < 0)
    return 1;
  for (size_t i = 0; i < n; i++)
    st[i].fd = -1;
  rc = open_all(&o, st, n, ep);
  struct sigaction sa = { .sa_handler = on_usr1 };
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* The signals are taken only inside epoll_pwait, so none falls between
   * the flags' check and the wait. */
  sigset_t block, waitmask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &waitmask);

  static uint8_t bufs[MAX_BATCH][PKT_CAP];
  static struct sockaddr_in from[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  static struct mmsghdr msgs[MAX_BATCH];
  static struct epoll_event evs[MAX_EVENTS];
  for (int j = 0; j < MAX_BATCH; j++) {
    iov[j] = (struct iovec){ bufs[j], PKT_CAP };
    msgs[j].msg_hdr.msg_iov = &iov[j];
    msgs[j].msg_hdr.msg_iovlen = 1;
    msgs[j].msg_hdr.msg_name = &from[j];
  }
  counts c = { 0 };
  uint64_t recv_calls = 0, wakeups = 0;
  double t0 = wall_s(), c0 = cpu_s();
  if (rc == 0) {
    printf("ready sockets=%zu\n", n);
    fflush(stdout);
  }
  while (rc == 0 && !want_stop && wall_s() - t0 < (double)o.seconds) {
    if (want_snapshot) {
      want_snapshot = 0;
      printf("snapshot packets=%llu bad=%llu latch_drops=%llu lost=%llu cpu_s=%.6f wall_s=%.6f\n",
             (unsigned long long)c.packets, (unsigned long long)c.bad,
             (unsigned long long)c.latch_drops, (unsigned long long)lost_total(st, n),
             cpu_s() - c0, wall_s() - t0);
      fflush(stdout);
    }
    int ne = epoll_pwait(ep, evs, MAX_EVENTS, 100, &waitmask);
    if (ne < 0) {
      if (errno == EINTR)
        continue;
      fprintf(stderr, "recvmmsg_baseline: epoll_wait: %s\n", strerror(errno));
      rc = 1;
      break;
    }
    wakeups++;
    for (int e = 0; e < ne; e++) {
      stream *s = &st[evs[e].data.u32];
      for (int j = 0; j < o.batch; j++)
        msgs[j].msg_hdr.msg_namelen = sizeof from[j];
      int r = recvmmsg(s->fd, msgs, (unsigned)o.batch, MSG_DONTWAIT, NULL);
      recv_calls++;
      for (int j = 0; j < r; j++)
        take(s, &c, bufs[j], msgs[j].msg_len, &from[j]);
    }
  }
  double cpu = cpu_s() - c0, wall = wall_s() - t0;
  if (rc == 0)
    printf("{\"sockets\":%zu,\"packets\":%llu,\"rtcp\":%llu,\"bad\":%llu,\"latch_drops\":%llu,"
           "\"lost\":%llu,\"payload_bytes\":%llu,\"recvmmsg_calls\":%llu,\"wakeups\":%llu,"
           "\"cpu_s\":%.6f,\"wall_s\":%.3f,\"ns_per_packet\":%.1f,\"check\":%llu}\n",
           n, (unsigned long long)c.packets, (unsigned long long)c.rtcp,
           (unsigned long long)c.bad, (unsigned long long)c.latch_drops,
           (unsigned long long)lost_total(st, n), (unsigned long long)c.payload_bytes,
           (unsigned long long)recv_calls, (unsigned long long)wakeups, cpu, wall,
           c.packets ? cpu * 1e9 / (double)c.packets : 0.0,
           (unsigned long long)c.payload_sum);
  for (size_t i = 0; i < n; i++)
    if (st[i].fd >= 0)
      close(st[i].fd);
  close(ep);
  free(st);
  return rc;
}
