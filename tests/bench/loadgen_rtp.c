/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "loadgen_rtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "loadgen_sip.h"

#ifdef SR_HAVE_SRTP
#include "loadgen_srtp.h"
#define LG_TRAILER LG_SRTP_TAG
#else
#define LG_TRAILER 0
#endif

#define PKT_CAP (12 + LG_PAYLOAD + LG_TRAILER)

struct lg_stream {
  struct sockaddr_in dest;
  uint32_t ssrc, ts, roc;
  uint16_t seq;
  uint8_t active, first;
  char key_b64[LG_KEY_B64];
#ifdef SR_HAVE_SRTP
  lg_srtp srtp;
#endif
};

/* Two tones that repeat exactly every 160 samples (multiples of 50 Hz), one
 * per stream of a call, so a recording shows which file holds which. */
static uint8_t tone[2][LG_PAYLOAD];

static uint8_t ulaw(int sample)
{
  /* G.711 mu-law (the standard biased segment encoding). */
  int sign = sample < 0 ? 0x80 : 0, x = sample < 0 ? -sample : sample;
  if (x > 32635)
    x = 32635;
  x += 0x84;
  int exp = 7;
  for (int mask = 0x4000; !(x & mask) && exp > 0; mask >>= 1)
    exp--;
  return (uint8_t)~(sign | exp << 4 | ((x >> (exp + 3)) & 0x0f));
}

static void make_tones(void)
{
  const double pi = 3.14159265358979323846, hz[2] = { 400.0, 1000.0 };
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < LG_PAYLOAD; i++)
      tone[t][i] = ulaw((int)(8000.0 * sin(2.0 * pi * hz[t] * i / 8000.0)));
}

/* Stream i's socket: the streams of one slot are consecutive in a tick's
 * walk (i, i+LG_SLOTS, ...); each run of per_socket of them shares one. */
static size_t sock_of(const lg_media *m, size_t i)
{
  return i % LG_SLOTS + LG_SLOTS * ((i / LG_SLOTS) / m->per_socket);
}

static int random_bytes(void *p, size_t n)
{
  uint8_t *b = p;
  while (n) {
    ssize_t r = getrandom(b, n, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

int lg_media_srtp_available(void)
{
#ifdef SR_HAVE_SRTP
  return 1;
#else
  return 0;
#endif
}

static int open_socket(const char *local_ip)
{
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a = { .sin_family = AF_INET };
  if (inet_pton(AF_INET, local_ip, &a.sin_addr) != 1 ||
      bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

#ifdef SR_HAVE_SRTP
static int srtp_setup(lg_stream *s)
{
  uint8_t key[LG_SRTP_MASTER];
  if (random_bytes(key, sizeof key) < 0)
    return -1;
  lg_base64(key, sizeof key, s->key_b64);
  lg_srtp_init(&s->srtp, key);
  memset(key, 0, sizeof key);
  return 0;
}
#endif

static int open_streams(lg_media *m, const char *local_ip)
{
  for (size_t i = 0; i < m->nstreams; i++) {
    lg_stream *s = &m->st[i];
    struct {
      uint32_t ssrc, ts;
      uint16_t seq;
    } r;
    if (random_bytes(&r, sizeof r) < 0) {
      fprintf(stderr, "loadgen: getrandom: %s\n", strerror(errno));
      return -1;
    }
    /* Distinct SSRCs (the index in the low bits) so no two streams collide. */
    s->ssrc = (r.ssrc & 0xffc00000u) | (uint32_t)(i & 0x3fffff);
    s->ts = r.ts;
    s->seq = r.seq;
    size_t k = sock_of(m, i);
    if (m->fds[k] < 0) {
      if ((m->fds[k] = open_socket(local_ip)) < 0) {
        fprintf(stderr, "loadgen: media socket %zu on %s: %s\n", m->open_fds, local_ip,
                strerror(errno));
        return -1;
      }
      m->open_fds++;
    }
#ifdef SR_HAVE_SRTP
    if (m->srtp && srtp_setup(s) < 0) {
      fprintf(stderr, "loadgen: no random key for stream %zu\n", i);
      return -1;
    }
#endif
  }
  return 0;
}

int lg_media_open(lg_media *m, size_t nstreams, unsigned per_socket, const char *local_ip,
                  int srtp)
{
  memset(m, 0, sizeof *m);
  if (!nstreams || !per_socket || (srtp && !lg_media_srtp_available()))
    return -1;
  make_tones();
#ifdef SR_HAVE_SRTP
  if (srtp && lg_srtp_check() < 0) {
    fprintf(stderr, "loadgen: this SRTP and libsrtp2's differ: refusing --srtp\n");
    return -1;
  }
#endif
  m->nstreams = nstreams;
  m->per_socket = per_socket;
  m->srtp = srtp;
  m->nfds = sock_of(m, nstreams - 1) + LG_SLOTS;
  /* A tick holds at most one slot's streams. */
  m->batch_cap = (nstreams + LG_SLOTS - 1) / LG_SLOTS;
  m->st = calloc(nstreams, sizeof *m->st);
  m->fds = malloc(m->nfds * sizeof *m->fds);
  m->msgs = calloc(m->batch_cap, sizeof *m->msgs);
  m->iov = calloc(m->batch_cap, sizeof *m->iov);
  m->bufs = malloc(m->batch_cap * PKT_CAP);
  if (!m->st || !m->fds || !m->msgs || !m->iov || !m->bufs) {
    fprintf(stderr, "loadgen: out of memory for %zu streams\n", nstreams);
    lg_media_close(m);
    return -1;
  }
  for (size_t k = 0; k < m->nfds; k++)
    m->fds[k] = -1;
  if (open_streams(m, local_ip) < 0) {
    lg_media_close(m);
    return -1;
  }
  return 0;
}

void lg_media_close(lg_media *m)
{
  if (m->st)
    memset(m->st, 0, m->nstreams * sizeof *m->st); /* the keys */
  for (size_t k = 0; m->fds && k < m->nfds; k++)
    if (m->fds[k] >= 0)
      close(m->fds[k]);
  free(m->st);
  free(m->fds);
  free(m->msgs);
  free(m->iov);
  free(m->bufs);
  memset(m, 0, sizeof *m);
}

uint16_t lg_media_port(const lg_media *m, size_t i)
{
  struct sockaddr_in a;
  socklen_t n = sizeof a;
  if (getsockname(m->fds[sock_of(m, i)], (struct sockaddr *)&a, &n) < 0)
    return 0;
  return ntohs(a.sin_port);
}

const char *lg_media_key(const lg_media *m, size_t i)
{
  return m->srtp ? m->st[i].key_b64 : NULL;
}

int lg_media_start(lg_media *m, size_t i, const struct sockaddr_in *dest)
{
  lg_stream *s = &m->st[i];
  if (s->active || dest->sin_port == 0)
    return -1;
  s->dest = *dest;
  s->active = 1;
  s->first = 1;
  m->active++;
  return 0;
}

void lg_media_stop(lg_media *m, size_t i)
{
  if (m->st[i].active) {
    m->st[i].active = 0;
    m->active--;
  }
}

/* Send msgs[0..n) on fd; a datagram the kernel refuses is counted and
 * skipped (it is lost, as on a wire), the rest still go. */
static void flush(lg_media *m, int fd, size_t n)
{
  size_t off = 0;
  while (off < n) {
    int r = sendmmsg(fd, m->msgs + off, (unsigned)(n - off), 0);
    m->sendmmsg_calls++;
    if (r < 0) {
      if (errno == EINTR)
        continue;
      m->send_errors++;
      off++;
      continue;
    }
    m->sent += (uint64_t)r;
    off += (size_t)r;
  }
}

static size_t build(lg_media *m, lg_stream *s, size_t i, uint8_t *b)
{
  b[0] = 0x80;
  b[1] = s->first ? 0x80 : 0x00; /* marker on the first packet; PT 0 (PCMU) */
  b[2] = (uint8_t)(s->seq >> 8);
  b[3] = (uint8_t)s->seq;
  b[4] = (uint8_t)(s->ts >> 24);
  b[5] = (uint8_t)(s->ts >> 16);
  b[6] = (uint8_t)(s->ts >> 8);
  b[7] = (uint8_t)s->ts;
  b[8] = (uint8_t)(s->ssrc >> 24);
  b[9] = (uint8_t)(s->ssrc >> 16);
  b[10] = (uint8_t)(s->ssrc >> 8);
  b[11] = (uint8_t)s->ssrc;
  memcpy(b + 12, tone[i & 1], LG_PAYLOAD);
  size_t len = 12 + LG_PAYLOAD;
#ifdef SR_HAVE_SRTP
  if (m->srtp)
    len = lg_srtp_protect(&s->srtp, b, len, s->roc);
#else
  (void)m;
#endif
  s->first = 0;
  if (++s->seq == 0)
    s->roc++; /* RFC 3711 3.3.1: the rollover counter */
  s->ts += LG_PAYLOAD;
  return len;
}

size_t lg_media_tick(lg_media *m, uint64_t tick)
{
  size_t n = 0, sent0 = (size_t)m->sent;
  int fd = -1;
  for (size_t i = (size_t)(tick % LG_SLOTS); i < m->nstreams; i += LG_SLOTS) {
    lg_stream *s = &m->st[i];
    if (!s->active)
      continue;
    int f = m->fds[sock_of(m, i)];
    if (f != fd && n) {
      flush(m, fd, n);
      n = 0;
    }
    fd = f;
    uint8_t *b = m->bufs + n * PKT_CAP;
    size_t len = build(m, s, i, b);
    if (!len) {
      m->send_errors++;
      continue;
    }
    m->iov[n].iov_base = b;
    m->iov[n].iov_len = len;
    struct msghdr *h = &m->msgs[n].msg_hdr;
    h->msg_name = &s->dest;
    h->msg_namelen = sizeof s->dest;
    h->msg_iov = &m->iov[n];
    h->msg_iovlen = 1;
    n++;
  }
  if (n)
    flush(m, fd, n);
  return (size_t)m->sent - sent0;
}
