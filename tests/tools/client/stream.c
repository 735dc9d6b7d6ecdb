/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "hostport.h"

#ifdef CL_HAVE_SRTP
#include <srtp2/srtp.h>
#define TRAILER SRTP_MAX_TRAILER_LEN
#else
#define TRAILER 0
#endif

#define RTP_HDR 12
#define MAX_PAYLOAD 1500

static int16_t *load_file(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "siprec-client: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 2 || st.st_size > (off_t)1 << 30) {
    fprintf(stderr, "siprec-client: %s: empty or larger than 1 GiB\n", path);
    fclose(f);
    return NULL;
  }
  size_t bytes = (size_t)st.st_size;
  uint8_t *raw = malloc(bytes);
  int16_t *pcm = malloc(bytes / 2 * sizeof *pcm);
  if (!raw || !pcm || fread(raw, 1, bytes, f) != bytes) {
    fprintf(stderr, "siprec-client: %s: cannot read it\n", path);
    free(raw);
    free(pcm);
    fclose(f);
    return NULL;
  }
  fclose(f);
  /* s16le whatever the host's byte order. */
  for (size_t i = 0; i < bytes / 2; i++)
    pcm[i] = (int16_t)(uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
  free(raw);
  *n = bytes / 2;
  return pcm;
}

static int bind_udp(const struct sockaddr_storage *local, unsigned *port)
{
  struct sockaddr_storage a = *local;
  cl_addr_set_port(&a, 0);
  int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, cl_addr_len((struct sockaddr *)&a)) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = cl_addr_port((struct sockaddr *)&a);
  return fd;
}

static FILE *open_out(const char *dir, const char *label, const char *ext)
{
  char path[1400];
  snprintf(path, sizeof path, "%s/%s.%s", dir, label, ext);
  FILE *f = fopen(path, "wb");
  if (!f)
    fprintf(stderr, "siprec-client: %s: %s\n", path, strerror(errno));
  return f;
}

#ifdef CL_HAVE_SRTP
static int srtp_open(cl_stream *s)
{
  srtp_policy_t p;
  memset(&p, 0, sizeof p);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
  p.ssrc.type = ssrc_specific;
  p.ssrc.value = s->ssrc;
  p.key = s->key;
  p.window_size = 128;
  srtp_t ctx;
  if (srtp_create(&ctx, &p) != srtp_err_status_ok) {
    fprintf(stderr, "siprec-client: srtp_create failed\n");
    return -1;
  }
  s->srtp = ctx;
  return 0;
}
#endif

int cl_stream_open(cl_stream *s, const cl_stream_opt *opt, const cl_opts *o, unsigned index)
{
  memset(s, 0, sizeof *s);
  s->rtp_fd = s->rtcp_fd = -1;
  s->opt = opt;
  s->codec = opt->codec;
  s->family = o->local.ss_family;
  s->loss_pct = o->loss_pct;
  s->reorder_pct = o->reorder_pct;
  size_t n;
  int16_t *in = load_file(opt->file, &n);
  if (!in)
    return -1;
  s->pcm = cl_resample(in, n, opt->rate, s->codec->rate, &s->n);
  free(in);
  if (!s->pcm || s->n == 0) {
    fprintf(stderr, "siprec-client: %s: cannot resample it\n", opt->file);
    return -1;
  }
  if (!(s->enc = cl_encoder_new(s->codec)))
    return -1;
  if ((s->rtp_fd = bind_udp(&o->local, &s->port)) < 0 ||
      (o->rtcp && (s->rtcp_fd = bind_udp(&o->local, &s->rtcp_port)) < 0)) {
    fprintf(stderr, "siprec-client: cannot bind a media socket: %s\n", strerror(errno));
    return -1;
  }
  cl_rng r;
  cl_rng_for(&r, o->seed, "stream", index);
  s->ssrc = cl_rng_u32(&r);
  s->seq = (uint16_t)cl_rng_u32(&r);
  s->ts = cl_rng_u32(&r);
  cl_rng_bytes(&r, s->key, sizeof s->key);
  base64_encode(s->key, sizeof s->key, s->key_b64, true);
  cl_rng_for(&s->net, o->seed, "network", index);
  s->marker = 1;
  if (o->srtp) {
#ifdef CL_HAVE_SRTP
    if (srtp_open(s) != 0)
      return -1;
    s->srtp_on = 1;
#else
    fprintf(stderr, "siprec-client: --srtp: this build has no libsrtp2\n");
    return -1;
#endif
  }
  if (o->write_payloads && !(s->payloads = open_out(o->write_payloads, opt->label, "payloads")))
    return -1;
  if (o->write_decoded &&
      (!(s->decoded = open_out(o->write_decoded, opt->label, "raw")) ||
       !(s->dec = cl_decoder_new(s->codec, o->decoded_rate))))
    return -1;
  return 0;
}

void cl_stream_close(cl_stream *s)
{
  free(s->pcm);
  cl_encoder_free(s->enc);
  cl_decoder_free(s->dec);
  if (s->payloads && fclose(s->payloads) != 0)
    fprintf(stderr, "siprec-client: writing %s's payloads failed\n", s->opt->label);
  if (s->decoded && fclose(s->decoded) != 0)
    fprintf(stderr, "siprec-client: writing %s's decode failed\n", s->opt->label);
  if (s->rtp_fd >= 0)
    close(s->rtp_fd);
  if (s->rtcp_fd >= 0)
    close(s->rtcp_fd);
#ifdef CL_HAVE_SRTP
  if (s->srtp)
    srtp_dealloc(s->srtp);
#endif
  memset(s, 0, sizeof *s);
  s->rtp_fd = s->rtcp_fd = -1;
}

int cl_stream_remote(cl_stream *s, const cl_sdp_media *m, int offered_mux)
{
  if (m->port == 0) {
    s->rejected = 1;
    s->have_dest = 0;
    return 0;
  }
  s->rejected = 0;
  struct sockaddr_storage a;
  if (strcmp(m->media, "audio") != 0 || parse_hostport(m->addr, (uint16_t)m->port, &a) != 0 ||
      a.ss_family != s->family) {
    fprintf(stderr, "siprec-client: stream %s: m-line %s at %s not usable from our socket\n",
            s->opt->label, m->media, m->addr);
    return -1;
  }
  if (s->srtp_on && !m->crypto[0]) {
    fprintf(stderr, "siprec-client: stream %s: --srtp but the SRS's SDP has no a=crypto\n",
            s->opt->label);
    return -1;
  }
  snprintf(s->remote_crypto, sizeof s->remote_crypto, "%s", m->crypto);
  s->dest = a;
  s->have_dest = 1;
  s->rtcp_dest = a;
  unsigned rp = m->port + 1;
  if (offered_mux && m->rtcp_mux)
    rp = m->port;
  else if (m->rtcp_port)
    rp = m->rtcp_port;
  cl_addr_set_port(&s->rtcp_dest, (uint16_t)(rp & 0xffff));
  /* The SRS's own direction: it must receive for us to send. */
  s->remote_inactive = m->dir == CL_DIR_INACTIVE || m->dir == CL_DIR_SENDONLY;
  return 0;
}

int cl_stream_can_send(const cl_stream *s)
{
  return s->have_dest && !s->rejected && !s->remote_inactive;
}

static void send_packet(cl_stream *s, const uint8_t *pkt, size_t len)
{
  if (sendto(s->rtp_fd, pkt, len, 0, (const struct sockaddr *)&s->dest,
             cl_addr_len((const struct sockaddr *)&s->dest)) < 0 &&
      errno != EAGAIN && errno != ECONNREFUSED)
    fprintf(stderr, "siprec-client: stream %s: sendto: %s\n", s->opt->label, strerror(errno));
}

/* Loss, then reordering: a packet held back goes out after the next one. */
static void emit(cl_stream *s, const uint8_t *pkt, size_t len)
{
  if (cl_rng_pct(&s->net, s->loss_pct)) {
    s->lost++;
    return;
  }
  if (s->holding) {
    send_packet(s, pkt, len);
    send_packet(s, s->held, s->held_len);
    s->holding = 0;
    s->reordered++;
    return;
  }
  if (len <= sizeof s->held && cl_rng_pct(&s->net, s->reorder_pct)) {
    memcpy(s->held, pkt, len);
    s->held_len = len;
    s->holding = 1;
    return;
  }
  send_packet(s, pkt, len);
}

void cl_stream_flush(cl_stream *s)
{
  if (s->holding) {
    send_packet(s, s->held, s->held_len);
    s->holding = 0;
  }
}

static void put16(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* The payload (and its reference decode) into the test files. */
static void record(cl_stream *s, const uint8_t *payload, size_t len)
{
  if (s->payloads) {
    uint8_t l[2];
    put16(l, (uint32_t)len);
    fwrite(l, 1, 2, s->payloads);
    fwrite(payload, 1, len, s->payloads);
  }
  if (s->decoded) {
    int16_t pcm[5760];
    int n = cl_decode(s->dec, payload, len, pcm, sizeof pcm / sizeof pcm[0]);
    if (n < 0) {
      fprintf(stderr, "siprec-client: stream %s: the reference decode failed\n", s->opt->label);
      return;
    }
    uint8_t le[2 * 5760];
    for (int i = 0; i < n; i++) {
      le[2 * i] = (uint8_t)(uint16_t)pcm[i];
      le[2 * i + 1] = (uint8_t)((uint16_t)pcm[i] >> 8);
    }
    fwrite(le, 2, (size_t)n, s->decoded);
  }
}

void cl_stream_tick(cl_stream *s, int send)
{
  if (s->finished)
    return;
  size_t frame = cl_codec_frame(s->codec);
  const int16_t *pcm = s->pcm + s->pos;
  int16_t last[5760];
  if (s->n - s->pos < frame) {
    /* The file's tail, padded with silence to a whole packet. */
    memset(last, 0, sizeof last);
    memcpy(last, pcm, (s->n - s->pos) * sizeof *pcm);
    pcm = last;
  }
  s->pos = s->n - s->pos <= frame ? s->n : s->pos + frame;
  s->finished = s->pos >= s->n;
  if (!send || !cl_stream_can_send(s)) {
    /* Paused: the clock runs on, nothing is encoded, the next packet sent
     * starts a talkspurt. */
    s->ts += cl_codec_ts_step(s->codec);
    s->marker = 1;
    return;
  }
  uint8_t pkt[RTP_HDR + MAX_PAYLOAD + TRAILER];
  int n = cl_encode(s->enc, pcm, pkt + RTP_HDR, MAX_PAYLOAD);
  if (n < 0) {
    fprintf(stderr, "siprec-client: stream %s: the encoder failed\n", s->opt->label);
    s->ts += cl_codec_ts_step(s->codec);
    return;
  }
  s->encoded++;
  record(s, pkt + RTP_HDR, (size_t)n);
  pkt[0] = 0x80;
  pkt[1] = (uint8_t)((s->marker ? 0x80 : 0) | s->codec->pt);
  put16(pkt + 2, s->seq);
  put32(pkt + 4, s->ts);
  put32(pkt + 8, s->ssrc);
  s->marker = 0;
  s->seq++;
  s->ts += cl_codec_ts_step(s->codec);
  int len = RTP_HDR + n;
#ifdef CL_HAVE_SRTP
  if (s->srtp_on && srtp_protect(s->srtp, pkt, &len) != srtp_err_status_ok) {
    fprintf(stderr, "siprec-client: stream %s: srtp_protect failed\n", s->opt->label);
    return;
  }
#endif
  /* Counted as the SRS would see them if nothing were lost: what was
   * handed to the network (--loss's drops are counted apart). */
  uint64_t lost = s->lost;
  emit(s, pkt, (size_t)len);
  if (s->lost == lost) {
    s->packets++;
    s->bytes += (uint64_t)n;
  }
}

void cl_stream_rtcp(cl_stream *s, int bye)
{
  if (s->rtcp_fd < 0 || !s->have_dest || s->rejected)
    return;
  uint8_t p[128 + TRAILER];
  /* SR: NTP time of now, the RTP time of the next packet, the counts. */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t ntp_sec = (uint64_t)now.tv_sec + 2208988800ULL;
  uint32_t frac = (uint32_t)(((uint64_t)now.tv_nsec << 32) / 1000000000ULL);
  p[0] = 0x80;
  p[1] = 200;
  put16(p + 2, 6);
  put32(p + 4, s->ssrc);
  put32(p + 8, (uint32_t)ntp_sec);
  put32(p + 12, frac);
  put32(p + 16, s->ts);
  put32(p + 20, (uint32_t)s->packets);
  put32(p + 24, (uint32_t)s->bytes);
  size_t o = 28;
  /* SDES with a CNAME (RFC 3550 6.1: every compound packet has one). */
  static const char cname[] = "siprec-client";
  size_t items = 2 + sizeof cname - 1 + 1; /* CNAME item, then END */
  size_t words = (4 + items + 3) / 4;
  memset(p + o, 0, words * 4);
  p[o] = 0x81;
  p[o + 1] = 202;
  put16(p + o + 2, (uint32_t)(words - 1));
  put32(p + o + 4, s->ssrc);
  p[o + 8] = 1;
  p[o + 9] = (uint8_t)(sizeof cname - 1);
  memcpy(p + o + 10, cname, sizeof cname - 1);
  o += words * 4;
  if (bye) {
    p[o] = 0x81;
    p[o + 1] = 203;
    put16(p + o + 2, 1);
    put32(p + o + 4, s->ssrc);
    o += 8;
  }
  int len = (int)o;
#ifdef CL_HAVE_SRTP
  if (s->srtp_on && srtp_protect_rtcp(s->srtp, p, &len) != srtp_err_status_ok) {
    fprintf(stderr, "siprec-client: stream %s: srtp_protect_rtcp failed\n", s->opt->label);
    return;
  }
#endif
  /* Over the RTP socket when muxed, else from the RTCP port. */
  int fd = cl_addr_port((struct sockaddr *)&s->rtcp_dest) == cl_addr_port((struct sockaddr *)&s->dest)
               ? s->rtp_fd
               : s->rtcp_fd;
  if (sendto(fd, p, (size_t)len, 0, (struct sockaddr *)&s->rtcp_dest,
             cl_addr_len((struct sockaddr *)&s->rtcp_dest)) >= 0)
    s->rtcp_sent++;
}
