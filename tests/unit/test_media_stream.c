/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sr_media_stream, the whole received-stream pipeline, on real speech
 * encoded with spandsp's G.711 in the test and sent as 20 ms RTP packets
 * on a fake clock: exactness in order and reordered, loss, latching,
 * discontinuities, pause, DTMF, comfort noise, no-media, codec changes,
 * resampling, RTCP wall clock, the end, and the memory bound. */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>

#ifdef SR_HAVE_OPUS
#include <opus.h>
#endif

#include "check_main.h"
#include "media/stream.h"
#include "rtp_build.h"

#define SPEECH_FILE "/usr/share/pocketsphinx/test/data/goforward.raw"
#define MS 1000000ull
#define PKT 160 /* 20 ms at 8 kHz */
#define T0 (1000 * MS)

/* ---------------------------------------------------------------------- */
/* Speech, encoded                                                          */

static int16_t *speech8;
static size_t nspeech8;

static void make_speech(void)
{
  nspeech8 = 8000 * 3;
  speech8 = calloc(nspeech8, sizeof *speech8);
  double phase = 0;
  for (size_t i = 0; i < nspeech8; i++) {
    double t = (double)i / 8000.0;
    phase += 2 * M_PI * (110.0 + 40.0 * sin(2 * M_PI * 0.7 * t)) / 8000.0;
    double v = 0;
    for (int h = 1; h <= 8; h++)
      v += sin(h * phase) / h;
    speech8[i] = (int16_t)(fabs(sin(M_PI * t / 0.2)) * v * 6000.0);
  }
}

static void load_speech(void)
{
  FILE *f = fopen(SPEECH_FILE, "rb");
  if (!f) {
    make_speech();
    return;
  }
  fseek(f, 0, SEEK_END);
  size_t n16 = (size_t)ftell(f) / 2;
  fseek(f, 0, SEEK_SET);
  int16_t *s16 = malloc(n16 * 2);
  ck_assert_uint_eq(fread(s16, 2, n16, f), n16);
  fclose(f);
  nspeech8 = n16 / 2;
  speech8 = malloc(nspeech8 * sizeof *speech8);
  for (size_t i = 0; i < nspeech8; i++)
    speech8[i] = (int16_t)(((int32_t)s16[2 * i] + s16[2 * i + 1]) / 2);
  free(s16);
}

/* Packets of the speech: payload k is samples [k*160, k*160+160). */
static size_t npkt;
static uint8_t (*pay_u)[PKT], (*pay_a)[PKT];
static int16_t *ref_u, *ref_a; /* each payload decoded directly by spandsp */

static void encode_all(void)
{
  npkt = nspeech8 / PKT;
  if (npkt > 200)
    npkt = 200; /* 4 s is plenty and keeps the test fast */
  pay_u = malloc(npkt * PKT);
  pay_a = malloc(npkt * PKT);
  ref_u = malloc(npkt * PKT * sizeof *ref_u);
  ref_a = malloc(npkt * PKT * sizeof *ref_a);
  g711_state_t *eu = g711_init(NULL, G711_ULAW), *ea = g711_init(NULL, G711_ALAW);
  g711_state_t *du = g711_init(NULL, G711_ULAW), *da = g711_init(NULL, G711_ALAW);
  for (size_t k = 0; k < npkt; k++) {
    g711_encode(eu, pay_u[k], speech8 + k * PKT, PKT);
    g711_encode(ea, pay_a[k], speech8 + k * PKT, PKT);
    g711_decode(du, ref_u + k * PKT, pay_u[k], PKT);
    g711_decode(da, ref_a + k * PKT, pay_a[k], PKT);
  }
  g711_free(eu);
  g711_free(ea);
  g711_free(du);
  g711_free(da);
}

static void setup(void)
{
  load_speech();
  encode_all();
}

static void teardown(void)
{
  free(speech8);
  free(pay_u);
  free(pay_a);
  free(ref_u);
  free(ref_a);
}

/* ---------------------------------------------------------------------- */
/* What the stream delivers                                                 */

#define MAX_FRAMES 4096
#define MAX_EVENTS 64
#define TIMELINE (8000 * 600)

typedef struct rec {
  size_t frame_len; /* 0: 20 ms at the frame's rate */
  uint32_t rate;
  uint64_t next_pos;
  bool ended;
  int16_t *tl; /* samples by position */
  unsigned *tl_flags;
  size_t nframes;
  struct {
    uint64_t pos, time_ns, arrival;
    int64_t wall;
    unsigned flags;
    uint32_t rate;
    int pt;
  } f[MAX_FRAMES];
  size_t nev;
  sr_ms_event ev[MAX_EVENTS];
  size_t ndtmf;
  sr_ms_dtmf dtmf[16];
} rec;

/* Another codec's rate without a fixed output rate: the stream converts
 * the position into the new rate's samples. */
static void follow_rate(rec *r, uint32_t rate)
{
  if (r->rate && rate != r->rate)
    r->next_pos = r->next_pos * rate / r->rate;
  r->rate = rate;
}

static void on_frame(void *user, const sr_ms_frame *f)
{
  rec *r = user;
  ck_assert(!r->ended);
  follow_rate(r, f->rate);
  ck_assert_uint_eq(f->count, r->frame_len ? r->frame_len : f->rate / 50);
  ck_assert_uint_eq(f->position, r->next_pos);
  r->next_pos = f->position + f->count;
  if (f->position + f->count <= TIMELINE) {
    memcpy(r->tl + f->position, f->samples, f->count * sizeof *f->samples);
    for (size_t i = 0; i < f->count; i++)
      r->tl_flags[f->position + i] = f->flags;
  }
  if (r->nframes < MAX_FRAMES) {
    r->f[r->nframes].pos = f->position;
    r->f[r->nframes].time_ns = f->time_ns;
    r->f[r->nframes].wall = f->wallclock_ns;
    r->f[r->nframes].arrival = f->arrival_ns;
    r->f[r->nframes].flags = f->flags;
    r->f[r->nframes].rate = f->rate;
    r->f[r->nframes].pt = f->pt;
    r->nframes++;
  }
}

static void on_event(void *user, const sr_ms_event *e)
{
  rec *r = user;
  ck_assert(!r->ended);
  follow_rate(r, e->rate);
  if (e->type == SR_MS_EV_GAP || e->type == SR_MS_EV_DISCONTINUITY ||
      e->type == SR_MS_EV_RESUMED || e->type == SR_MS_EV_PAUSED ||
      e->type == SR_MS_EV_ENDED) {
    ck_assert_uint_eq(e->position, r->next_pos); /* at a frame boundary */
    if (e->type != SR_MS_EV_ENDED)
      r->next_pos += e->samples;
  }
  if (e->type == SR_MS_EV_ENDED)
    r->ended = true;
  if (r->nev == MAX_EVENTS)
    r->nev--; /* a flood: keep the latest in the last place */
  r->ev[r->nev++] = *e;
}

static void on_dtmf(void *user, const sr_ms_dtmf *d)
{
  rec *r = user;
  if (r->ndtmf < 16)
    r->dtmf[r->ndtmf++] = *d;
}

static rec *rec_new(size_t frame_len)
{
  rec *r = calloc(1, sizeof *r);
  r->frame_len = frame_len;
  r->tl = calloc(TIMELINE, sizeof *r->tl);
  r->tl_flags = calloc(TIMELINE, sizeof *r->tl_flags);
  return r;
}

static void rec_free(rec *r)
{
  free(r->tl);
  free(r->tl_flags);
  free(r);
}

static size_t count_events(const rec *r, sr_ms_event_type t)
{
  size_t n = 0;
  for (size_t i = 0; i < r->nev; i++)
    n += r->ev[i].type == t;
  return n;
}

static const sr_ms_event *find_event(const rec *r, sr_ms_event_type t)
{
  for (size_t i = 0; i < r->nev; i++)
    if (r->ev[i].type == t)
      return &r->ev[i];
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* The sender                                                               */

static struct sockaddr_in addr4(const char *ip, uint16_t port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
  return a;
}

#define SRC_IP "192.0.2.10"
#define SRC_PORT 4000

static const sr_decoder_params codecs_ua[] = {
  { .encoding = "PCMU", .payload_type = 0, .clock_rate = 8000 },
  { .encoding = "PCMA", .payload_type = 8, .clock_rate = 8000 },
};

static sr_media_stream_config base_cfg(void)
{
  sr_media_stream_config c = {
    .codecs = codecs_ua, .n_codecs = 2, .dtmf_pt = 101, .expected_ip = SRC_IP,
    .expected_port = SRC_PORT,
  };
  return c;
}

typedef struct sender {
  sr_media_stream *s;
  rec *r;
  struct sockaddr_in from;
  uint16_t seq;
  uint32_t ts, ssrc;
  uint64_t now;
} sender;

static sender *sender_new(const sr_media_stream_config *cfg, size_t frame_len,
                          const siprec_allocator *alloc)
{
  sender *x = calloc(1, sizeof *x);
  x->r = rec_new(frame_len);
  sr_media_stream_callbacks cb = { on_frame, on_event, on_dtmf, x->r };
  ck_assert_int_eq(sr_media_stream_new(alloc, cfg, &cb, T0, &x->s), 0);
  x->from = addr4(SRC_IP, SRC_PORT);
  x->seq = 1000;
  x->ts = 5000;
  x->ssrc = 0x1234;
  x->now = T0;
  return x;
}

static void sender_free(sender *x)
{
  sr_media_stream_free(x->s);
  rec_free(x->r);
  free(x);
}

static size_t build(uint8_t *buf, int pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc,
                    const uint8_t *pay, size_t len)
{
  rtpb o = { .pt = (uint8_t)pt, .marker = marker, .seq = seq, .ts = ts, .ssrc = ssrc };
  size_t n = rtpb_build(buf, 2048, &o);
  memcpy(buf + n, pay, len);
  return n + len;
}

/* Runs the stream's timers up to `now`, as a host would. */
static void run_timers(sender *x, uint64_t now)
{
  uint64_t d;
  while (sr_media_stream_next_deadline(x->s, &d) && d <= now)
    sr_media_stream_expire(x->s, d);
}

static int feed_at(sender *x, const uint8_t *buf, size_t len, uint64_t at)
{
  run_timers(x, at);
  x->now = at;
  return sr_media_stream_feed(x->s, buf, len, (const struct sockaddr *)&x->from, at);
}

/* Sends payload k (of the PCMU or PCMA set) with the sender's next seq/ts. */
static int send_pkt(sender *x, int pt, size_t k, uint64_t at)
{
  uint8_t buf[2048];
  size_t n = build(buf, pt, false, x->seq++, x->ts, x->ssrc, pt == 8 ? pay_a[k] : pay_u[k], PKT);
  x->ts += PKT;
  return feed_at(x, buf, n, at);
}

static void end_at(sender *x, uint64_t at)
{
  run_timers(x, at);
  sr_media_stream_end(x->s, at);
  ck_assert(x->r->ended);
  ck_assert_int_eq(x->r->ev[x->r->nev - 1].type, SR_MS_EV_ENDED);
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

static void assert_same(const int16_t *a, const int16_t *b, size_t n, const char *what)
{
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(a[i] == b[i], "%s: sample %zu (packet %zu): %d != %d", what, i, i / PKT, a[i],
                  b[i]);
}

/* ---------------------------------------------------------------------- */
/* (a) in order, (b) reordered, (c) loss                                    */

START_TEST(test_in_order_exact)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  for (size_t k = 0; k < npkt; k++)
    ck_assert_int_eq(send_pkt(x, 0, k, T0 + k * 20 * MS), 0);
  end_at(x, T0 + npkt * 20 * MS);
  rec *r = x->r;
  ck_assert_uint_eq(r->nframes, npkt);
  ck_assert_uint_eq(r->next_pos, npkt * PKT);
  assert_same(r->tl, ref_u, npkt * PKT, "in order");
  for (size_t i = 0; i < r->nframes; i++) {
    ck_assert_uint_eq(r->f[i].pos, i * PKT);
    ck_assert_uint_eq(r->f[i].flags, 0);
    ck_assert_uint_eq(r->f[i].rate, 8000);
    ck_assert_uint_eq(r->f[i].time_ns, T0 + i * 20 * MS);
    ck_assert_uint_eq(r->f[i].arrival, T0 + i * 20 * MS);
  }
  ck_assert_int_eq(r->ev[0].type, SR_MS_EV_STARTED);
  ck_assert_uint_eq(r->nev, 2);
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.packets, npkt);
  ck_assert_uint_eq(c.bytes, npkt * (PKT + 12));
  ck_assert_uint_eq(c.lost, 0);
  ck_assert_uint_eq(c.decode_errors, 0);
  ck_assert_uint_eq(c.last_packet_ns, T0 + (npkt - 1) * 20 * MS);
  ck_assert(c.jitter_ms < 0.5);
  sender_free(x);
}
END_TEST

typedef struct arrival {
  size_t k;
  uint64_t at;
} arrival;

static int by_time(const void *a, const void *b)
{
  const arrival *x = a, *y = b;
  return x->at < y->at ? -1 : x->at > y->at;
}

START_TEST(test_reordered_exact)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  arrival *arr = calloc(npkt, sizeof *arr);
  size_t moved = 0;
  for (size_t k = 0; k < npkt; k++) {
    arr[k].k = k;
    arr[k].at = T0 + k * 20 * MS + (rnd() % 3) * MS;
    if (k > 0 && rnd() % 10 == 0) { /* 10 %: late by 1-4 packets (< depth) */
      arr[k].at += (1 + rnd() % 4) * 20 * MS + MS;
      moved++;
    }
  }
  qsort(arr, npkt, sizeof *arr, by_time);
  uint8_t buf[2048];
  for (size_t i = 0; i < npkt; i++) {
    size_t k = arr[i].k;
    size_t n = build(buf, 0, false, (uint16_t)(1000 + k), (uint32_t)(5000 + k * PKT), 0x1234,
                     pay_u[k], PKT);
    ck_assert_int_eq(feed_at(x, buf, n, arr[i].at), 0);
  }
  end_at(x, T0 + (npkt + 10) * 20 * MS);
  ck_assert_uint_gt(moved, npkt / 20);
  assert_same(x->r->tl, ref_u, npkt * PKT, "reordered");
  ck_assert_uint_eq(x->r->next_pos, npkt * PKT);
  for (size_t i = 0; i < x->r->nframes; i++)
    ck_assert_uint_eq(x->r->f[i].flags, 0);
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.lost, 0);
  ck_assert_uint_gt(c.reordered, 0);
  free(arr);
  sender_free(x);
}
END_TEST

/* An SRC whose clock runs 0.5 % slow: time_ns keeps to the RTP clock, the
 * arrival times show the drift (what a recorder corrects it from). Frames
 * of 10 ms from 20 ms packets: both halves take their packet's arrival. */
START_TEST(test_arrival_shows_drift)
{
  sr_media_stream_config cfg = base_cfg();
  cfg.frame_ms = 10;
  sender *x = sender_new(&cfg, PKT / 2, NULL);
  const uint64_t step = 20 * MS + 100 * 1000; /* 20.1 ms */
  ck_assert_uint_ge(npkt, 100);
  for (size_t k = 0; k < 100; k++)
    ck_assert_int_eq(send_pkt(x, 0, k, T0 + k * step), 0);
  end_at(x, T0 + 100 * step);
  rec *r = x->r;
  ck_assert_uint_eq(r->nframes, 200);
  for (size_t i = 0; i < r->nframes; i++) {
    ck_assert_uint_eq(r->f[i].time_ns, T0 + i * 10 * MS);
    ck_assert_uint_eq(r->f[i].arrival, T0 + (i / 2) * step);
  }
  /* 99 packets later, 9.9 ms of drift between the two */
  ck_assert_uint_eq(r->f[198].arrival - r->f[198].time_ns, 99 * 100 * 1000);
  sender_free(x);
}
END_TEST

START_TEST(test_loss_concealed)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  bool *lost = calloc(npkt, sizeof *lost);
  size_t nlost = 0;
  uint8_t buf[2048];
  for (size_t k = 0; k < npkt; k++) {
    if (k > 0 && k + 1 < npkt && rnd() % 20 == 0) {
      lost[k] = true;
      nlost++;
      continue;
    }
    size_t n = build(buf, 0, false, (uint16_t)(1000 + k), (uint32_t)(5000 + k * PKT), 0x1234,
                     pay_u[k], PKT);
    ck_assert_int_eq(feed_at(x, buf, n, T0 + k * 20 * MS), 0);
  }
  end_at(x, T0 + npkt * 20 * MS);
  rec *r = x->r;
  ck_assert_uint_gt(nlost, 2);
  ck_assert_uint_eq(r->next_pos, npkt * PKT); /* the right length */
  ck_assert_uint_eq(r->nframes, npkt);         /* nothing out of order: on_frame checks */
  ck_assert_uint_eq(count_events(r, SR_MS_EV_GAP), 0);
  for (size_t k = 0; k < npkt; k++) {
    bool concealed = r->tl_flags[k * PKT] & SR_MS_F_CONCEALED;
    ck_assert_msg(concealed == lost[k], "packet %zu: lost %d, concealed %d", k, lost[k],
                  concealed);
    /* made-up audio arrived with no packet */
    ck_assert_uint_eq(r->f[k].arrival, lost[k] ? 0 : T0 + k * 20 * MS);
    if (!lost[k] && !lost[k - (k > 0)])
      assert_same(r->tl + k * PKT, ref_u + k * PKT, PKT, "after no loss");
  }
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.lost, nlost);
  free(lost);
  sender_free(x);
}
END_TEST

/* A long loss is a gap: reported with its length, not concealed. */
START_TEST(test_long_gap)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  for (size_t k = 0; k < 40; k++) {
    if (k >= 10 && k < 25)
      continue; /* 300 ms lost */
    uint8_t buf[2048];
    size_t n = build(buf, 0, false, (uint16_t)(1000 + k), (uint32_t)(5000 + k * PKT), 0x1234,
                     pay_u[k], PKT);
    feed_at(x, buf, n, T0 + k * 20 * MS);
  }
  end_at(x, T0 + 40 * 20 * MS);
  const sr_ms_event *g = find_event(x->r, SR_MS_EV_GAP);
  ck_assert_ptr_nonnull(g);
  ck_assert_uint_eq(g->samples, 15 * PKT);
  ck_assert_uint_eq(g->position, 10 * PKT);
  ck_assert_uint_eq(x->r->next_pos, 40 * PKT);
  ck_assert(x->r->tl_flags[25 * PKT] & SR_MS_F_AFTER_GAP);
  assert_same(x->r->tl + 25 * PKT, ref_u + 25 * PKT, PKT, "after the gap");
  sender_free(x);
}
END_TEST


/* Duplicates and a sequence wrap change nothing in the audio. */
START_TEST(test_duplicates_and_wrap)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  x->seq = 65500;
  uint8_t buf[2048];
  for (size_t k = 0; k < 100; k++) {
    size_t n = build(buf, 0, k == 0, x->seq, x->ts, x->ssrc, pay_u[k], PKT);
    feed_at(x, buf, n, T0 + k * 20 * MS);
    feed_at(x, buf, n, T0 + k * 20 * MS + 5 * MS); /* again */
    x->seq++;
    x->ts += PKT;
  }
  end_at(x, T0 + 100 * 20 * MS);
  assert_same(x->r->tl, ref_u, 100 * PKT, "duplicated");
  ck_assert_uint_eq(x->r->next_pos, 100 * PKT);
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.duplicates, 100);
  ck_assert_uint_eq(c.lost, 0);
  sender_free(x);
}
END_TEST

/* The unprotect hook (SRTP plugs in here): a fake that wants a trailer. */
static int fake_unprotect(void *ctx, uint8_t *buf, size_t len, bool rtcp, size_t *out_len)
{
  (void)ctx;
  (void)rtcp;
  if (len < 4 || memcmp(buf + len - 4, "AUTH", 4) != 0)
    return SIPREC_EPARSE;
  *out_len = len - 4;
  return 0;
}

START_TEST(test_unprotect_hook)
{
  sr_media_stream_config cfg = base_cfg();
  cfg.unprotect = fake_unprotect;
  sender *x = sender_new(&cfg, PKT, NULL);
  uint8_t buf[2048];
  /* A forgery from the expected IP's other port neither plays nor latches. */
  size_t n = build(buf, 0, false, 999, 4840, x->ssrc, pay_u[0], PKT);
  struct sockaddr_in other = addr4(SRC_IP, SRC_PORT + 10);
  ck_assert_int_eq(sr_media_stream_feed(x->s, buf, n, (struct sockaddr *)&other, T0), 1);
  for (size_t k = 0; k < 50; k++) {
    n = build(buf, 0, false, x->seq++, x->ts, x->ssrc, pay_u[k], PKT);
    x->ts += PKT;
    memcpy(buf + n, "AUTH", 4);
    ck_assert_int_eq(feed_at(x, buf, n + 4, T0 + k * 20 * MS), 0);
  }
  end_at(x, T0 + 50 * 20 * MS);
  assert_same(x->r->tl, ref_u, 50 * PKT, "unprotected");
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.srtp_failures, 1);
  ck_assert_uint_eq(c.packets, 50);
  ck_assert_uint_eq(c.latch_drops, 0);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (d) latching                                                             */

static int feed_from(sender *x, const char *ip, uint16_t port, size_t k)
{
  struct sockaddr_in keep = x->from;
  x->from = addr4(ip, port);
  int rc = send_pkt(x, 0, k, x->now + 20 * MS);
  x->from = keep;
  return rc;
}

START_TEST(test_latching)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  ck_assert_int_eq(feed_from(x, "198.51.100.7", SRC_PORT, 0), 1); /* a stranger */
  ck_assert_int_eq(send_pkt(x, 0, 1, x->now + 20 * MS), 0);          /* latches */
  ck_assert_int_eq(feed_from(x, SRC_IP, SRC_PORT + 2, 2), 1);        /* same IP, other port */
  ck_assert_int_eq(feed_from(x, "198.51.100.7", 9, 3), 1);
  ck_assert_int_eq(send_pkt(x, 0, 4, x->now + 20 * MS), 0);
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.latch_drops, 3);
  ck_assert_uint_eq(c.packets, 2);
  /* Garbage from the latched source is counted, not latched or decoded. */
  uint8_t junk[40] = { 0x01, 0x02 };
  ck_assert_int_eq(feed_at(x, junk, sizeof junk, x->now + MS), 1);
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.malformed, 1);
  /* An SBC failover: the re-INVITE moves the source; it latches again. */
  cfg.expected_ip = "192.0.2.20";
  cfg.expected_port = 5000;
  ck_assert_int_eq(sr_media_stream_reconfigure(x->s, &cfg, x->now), 0);
  ck_assert_int_eq(send_pkt(x, 0, 5, x->now + 20 * MS), 1); /* the old one */
  ck_assert_int_eq(feed_from(x, "192.0.2.20", 5002, 6), 0);
  ck_assert_int_eq(feed_from(x, "192.0.2.20", 5000, 7), 1); /* latched to 5002 */
  sender_free(x);
}
END_TEST

START_TEST(test_latching_nat)
{
  sr_media_stream_config cfg = base_cfg();
  cfg.expected_ip = "10.0.0.5"; /* the SRC's private address in its SDP */
  cfg.signalling_ip = "203.0.113.9";
  sender *x = sender_new(&cfg, PKT, NULL);
  ck_assert_int_eq(feed_from(x, "198.51.100.7", 4000, 0), 1);
  ck_assert_int_eq(feed_from(x, "203.0.113.9", 31000, 1), 0); /* behind NAT */
  ck_assert_int_eq(feed_from(x, "203.0.113.9", 31000, 2), 0);
  ck_assert_int_eq(feed_from(x, "10.0.0.5", 4000, 3), 1); /* latched elsewhere */
  /* IPv4-mapped IPv6 from a dual-stack socket is the same peer. */
  struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(31000) };
  inet_pton(AF_INET6, "::ffff:203.0.113.9", &a6.sin6_addr);
  uint8_t buf[2048];
  size_t n = build(buf, 0, false, x->seq++, x->ts, x->ssrc, pay_u[4], PKT);
  x->ts += PKT;
  ck_assert_int_eq(sr_media_stream_feed(x->s, buf, n, (struct sockaddr *)&a6, x->now + 20 * MS),
                   0);
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.latch_drops, 2);
  ck_assert_uint_eq(c.packets, 3);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (e) discontinuities                                                      */

static uint64_t max_span(const rec *r)
{
  uint64_t m = 0;
  for (size_t i = 0; i < r->nev; i++)
    if (r->ev[i].samples > m)
      m = r->ev[i].samples;
  return m;
}

START_TEST(test_ssrc_change)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  for (size_t k = 0; k < 100; k++) {
    if (k == 50) { /* a transfer: new SSRC, sequence and timestamp */
      x->ssrc = 0xBEEF;
      x->seq = 40000;
      x->ts = 3000000000u;
    }
    ck_assert_int_eq(send_pkt(x, 0, k, T0 + k * 20 * MS), 0);
  }
  end_at(x, T0 + 100 * 20 * MS);
  rec *r = x->r;
  ck_assert_uint_eq(count_events(r, SR_MS_EV_DISCONTINUITY), 1);
  ck_assert_uint_eq(count_events(r, SR_MS_EV_GAP), 0);
  ck_assert_uint_lt(max_span(r), 8000);
  ck_assert_uint_eq(r->next_pos, 100 * PKT);
  ck_assert(r->tl_flags[50 * PKT] & SR_MS_F_AFTER_DISCONTINUITY);
  assert_same(r->tl + 50 * PKT, ref_u + 50 * PKT, 50 * PKT, "new SSRC");
  sender_free(x);
}
END_TEST

START_TEST(test_ts_jump)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  for (size_t k = 0; k < 100; k++) {
    if (k == 50)
      x->ts += 8000u * 3600u * 10u; /* ten hours ahead */
    if (k == 75)
      x->ts -= 8000u * 60u; /* a minute back */
    ck_assert_int_eq(send_pkt(x, 0, k, T0 + k * 20 * MS), 0);
  }
  end_at(x, T0 + 100 * 20 * MS);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_DISCONTINUITY), 2);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_GAP), 0);
  ck_assert_uint_lt(max_span(x->r), 8000);
  ck_assert_uint_eq(x->r->next_pos, 100 * PKT);
  sender_free(x);
}
END_TEST

/* Silence suppression without CN: the timestamp moves as the clock did,
 * so it is a gap of that length, not a discontinuity. */
START_TEST(test_silence_is_gap)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  uint64_t t = T0;
  for (size_t k = 0; k < 40; k++, t += 20 * MS) {
    if (k == 20) {
      x->ts += 3 * 8000; /* 3 s of nothing */
      t += 3000 * MS;
    }
    ck_assert_int_eq(send_pkt(x, 0, k, t), 0);
  }
  end_at(x, t);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_DISCONTINUITY), 0);
  const sr_ms_event *g = find_event(x->r, SR_MS_EV_GAP);
  ck_assert_ptr_nonnull(g);
  ck_assert_uint_eq(g->samples, 24000);
  ck_assert_uint_eq(x->r->next_pos, 40 * PKT + 24000);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (f) pause and resume                                                     */

START_TEST(test_pause_resume)
{
  sr_media_stream_config cfg = base_cfg();
  sr_media_stream_config c30 = cfg;
  c30.frame_ms = 30; /* 240 samples: the pause finds a partial frame */
  sender *x = sender_new(&c30, 240, NULL);
  uint64_t t = T0;
  for (size_t k = 0; k < 25; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  sr_media_stream_pause(x->s, t);
  const sr_ms_event *p = find_event(x->r, SR_MS_EV_PAUSED);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(p->position, 4080); /* 4000 padded to 17 frames */
  ck_assert(x->r->f[x->r->nframes - 1].flags & SR_MS_F_PADDED);
  ck_assert_int_eq(send_pkt(x, 0, 25, t + 20 * MS), 1); /* in flight: dropped */
  uint64_t d;
  ck_assert(!sr_media_stream_next_deadline(x->s, &d)); /* no no-media while paused */
  sr_media_stream_expire(x->s, t + 60000 * MS);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_NO_MEDIA), 0);
  t += 2000 * MS;
  sr_media_stream_resume(x->s, t);
  const sr_ms_event *rs = find_event(x->r, SR_MS_EV_RESUMED);
  ck_assert_ptr_nonnull(rs);
  ck_assert_uint_eq(rs->samples, 16000 - 80); /* the padding was part of it */
  x->ts += 16000; /* the sender's clock ran on */
  for (size_t k = 26; k < 50; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  end_at(x, t);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_GAP), 0);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_DISCONTINUITY), 0);
  uint64_t resumed_at = 25 * PKT + 16000;
  ck_assert(x->r->tl_flags[resumed_at] & SR_MS_F_AFTER_GAP);
  assert_same(x->r->tl + resumed_at, ref_u + 26 * PKT, 24 * PKT - 240, "after resume");
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (g) DTMF and comfort noise                                               */

static size_t te_payload(uint8_t *p, uint8_t event, bool end, uint16_t dur)
{
  p[0] = event;
  p[1] = (uint8_t)((end ? 0x80 : 0) | 10);
  p[2] = (uint8_t)(dur >> 8);
  p[3] = (uint8_t)dur;
  return 4;
}

START_TEST(test_dtmf)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  uint64_t t = T0;
  size_t k = 0;
  for (; k < 10; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  uint32_t ev_ts = x->ts;
  uint8_t buf[256], te[4];
  for (int i = 1; i <= 8; i++) { /* '5' held 160 ms, then three ends */
    bool end = i >= 6;
    te_payload(te, 5, end, (uint16_t)(i > 5 ? 5 * PKT : i * PKT));
    size_t n = build(buf, 101, i == 1, x->seq++, ev_ts, x->ssrc, te, 4);
    feed_at(x, buf, n, t);
    if (i <= 5) { /* audio goes on meanwhile */
      send_pkt(x, 0, k++, t);
    }
    t += 20 * MS;
  }
  for (; k < 30; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  end_at(x, t);
  rec *r = x->r;
  ck_assert_uint_eq(r->ndtmf, 2);
  ck_assert(r->dtmf[0].start && !r->dtmf[0].end);
  ck_assert(!r->dtmf[1].start && r->dtmf[1].end);
  ck_assert_int_eq(r->dtmf[0].digit, '5');
  ck_assert_uint_eq(r->dtmf[1].duration_ms, 100);
  ck_assert_uint_eq(r->dtmf[1].volume, 10);
  ck_assert_uint_eq(r->dtmf[0].position, 10 * PKT);
  ck_assert_uint_eq(r->next_pos, 30 * PKT); /* not audio */
  assert_same(r->tl, ref_u, 30 * PKT, "audio around DTMF");
  sender_free(x);
}
END_TEST

START_TEST(test_comfort_noise)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  uint64_t t = T0;
  for (size_t k = 0; k < 10; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  uint8_t buf[256], level = 40;
  size_t n = build(buf, 13, false, x->seq++, x->ts, x->ssrc, &level, 1);
  feed_at(x, buf, n, t);
  x->ts += 8000; /* a second of comfort noise */
  t += 1000 * MS;
  for (size_t k = 10; k < 20; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  end_at(x, t);
  rec *r = x->r;
  ck_assert_uint_eq(count_events(r, SR_MS_EV_GAP), 0);
  ck_assert_uint_eq(r->next_pos, 20 * PKT + 8000);
  double e = 0;
  for (size_t i = 10 * PKT; i < 10 * PKT + 8000; i++) {
    ck_assert(r->tl_flags[i] & SR_MS_F_COMFORT_NOISE);
    e += (double)r->tl[i] * r->tl[i];
  }
  ck_assert(e > 0); /* noise at -40 dBov, not digital silence */
  ck_assert(!(r->tl_flags[10 * PKT + 8000] & SR_MS_F_COMFORT_NOISE));
  assert_same(r->tl + 10 * PKT + 8000, ref_u + 10 * PKT, 10 * PKT, "after CN");
  sender_free(x);
}
END_TEST


/* A sender silent from the start: CN first, speech a second later. */
START_TEST(test_comfort_noise_first)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  uint8_t buf[256], level = 50;
  size_t n = build(buf, 13, true, x->seq++, x->ts, x->ssrc, &level, 1);
  feed_at(x, buf, n, T0);
  x->ts += 8000;
  for (size_t k = 0; k < 10; k++)
    send_pkt(x, 0, k, T0 + 1000 * MS + k * 20 * MS);
  end_at(x, T0 + 1200 * MS);
  rec *r = x->r;
  ck_assert_int_eq(r->ev[0].type, SR_MS_EV_STARTED);
  ck_assert_uint_eq(r->next_pos, 8000 + 10 * PKT);
  ck_assert(r->f[0].flags & SR_MS_F_COMFORT_NOISE);
  ck_assert_uint_eq(r->f[0].time_ns, T0);
  ck_assert_uint_eq(r->f[0].arrival, 0); /* noise is made, not received */
  ck_assert_uint_eq(r->f[50].time_ns, T0 + 1000 * MS);
  ck_assert_uint_eq(r->f[50].arrival, T0 + 1000 * MS);
  assert_same(r->tl + 8000, ref_u, 10 * PKT, "after CN");
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.decode_errors, 0);
  sender_free(x);
}
END_TEST

/* A sender that sent CN and vanished for a minute: 30 s of comfort noise,
 * the rest a gap; a packet later than the jitter depth is dropped, late. */
START_TEST(test_long_cn_and_late)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  uint64_t t = T0;
  for (size_t k = 0; k < 10; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  uint8_t buf[256], level = 70;
  size_t n = build(buf, 13, false, x->seq++, x->ts, x->ssrc, &level, 1);
  feed_at(x, buf, n, t);
  x->ts += 60 * 8000;
  t += 60000 * MS;
  uint16_t skipped = x->seq++; /* this one comes 300 ms late */
  uint32_t skipped_ts = x->ts;
  x->ts += PKT;
  for (size_t k = 11; k < 30; k++, t += 20 * MS)
    send_pkt(x, 0, k, t);
  n = build(buf, 0, false, skipped, skipped_ts, x->ssrc, pay_u[10], PKT);
  ck_assert_int_eq(feed_at(x, buf, n, t), 0);
  end_at(x, t);
  const sr_ms_event *g = find_event(x->r, SR_MS_EV_GAP);
  ck_assert_ptr_nonnull(g);
  ck_assert_uint_eq(g->position, 10 * PKT + 30 * 8000);
  ck_assert_uint_eq(g->samples, 30 * 8000 + PKT); /* the lost packet is the gap's */
  ck_assert(x->r->tl_flags[10 * PKT + 30 * 8000 - 1] & SR_MS_F_COMFORT_NOISE);
  ck_assert_uint_eq(x->r->next_pos, 30 * PKT + 60 * 8000);
  ck_assert(x->r->tl_flags[11 * PKT + 60 * 8000] & SR_MS_F_AFTER_GAP);
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.late, 1);
  ck_assert_uint_eq(c.lost, 1);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (h) no media                                                             */

START_TEST(test_no_media)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  uint64_t d;
  ck_assert(sr_media_stream_next_deadline(x->s, &d));
  ck_assert_uint_eq(d, T0 + 10000 * MS);
  send_pkt(x, 0, 0, T0 + 100 * MS);
  send_pkt(x, 0, 1, T0 + 120 * MS);
  ck_assert(sr_media_stream_next_deadline(x->s, &d));
  ck_assert_uint_eq(d, T0 + 10120 * MS);
  sr_media_stream_expire(x->s, T0 + 10119 * MS);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_NO_MEDIA), 0);
  sr_media_stream_expire(x->s, d);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_NO_MEDIA), 1);
  ck_assert(!sr_media_stream_next_deadline(x->s, &d)); /* once per silence */
  sr_media_stream_expire(x->s, T0 + 60000 * MS);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_NO_MEDIA), 1);
  send_pkt(x, 0, 2, T0 + 61000 * MS); /* media again re-arms it */
  sr_media_stream_expire(x->s, T0 + 71000 * MS);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_NO_MEDIA), 2);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (i) codec changes                                                        */

START_TEST(test_codec_change_pt)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  for (size_t k = 0; k < 60; k++)
    send_pkt(x, k < 30 ? 0 : 8, k, T0 + k * 20 * MS);
  end_at(x, T0 + 60 * 20 * MS);
  rec *r = x->r;
  ck_assert_uint_eq(count_events(r, SR_MS_EV_CODEC_CHANGED), 1);
  ck_assert_int_eq(find_event(r, SR_MS_EV_CODEC_CHANGED)->pt, 8);
  ck_assert_uint_eq(find_event(r, SR_MS_EV_CODEC_CHANGED)->position, 30 * PKT);
  ck_assert(r->tl_flags[30 * PKT] & SR_MS_F_CODEC_CHANGED);
  ck_assert(!(r->tl_flags[31 * PKT] & SR_MS_F_CODEC_CHANGED));
  ck_assert_int_eq(r->f[29].pt, 0);
  ck_assert_int_eq(r->f[30].pt, 8);
  assert_same(r->tl, ref_u, 30 * PKT, "PCMU");
  assert_same(r->tl + 30 * PKT, ref_a + 30 * PKT, 30 * PKT, "PCMA");
  ck_assert_uint_eq(r->next_pos, 60 * PKT);
  sender_free(x);
}
END_TEST

START_TEST(test_codec_change_reconfigure)
{
  sr_decoder_params u96 = { .encoding = "PCMU", .payload_type = 96, .clock_rate = 8000 };
  sr_decoder_params a96 = { .encoding = "PCMA", .payload_type = 96, .clock_rate = 8000 };
  sr_media_stream_config cfg = base_cfg();
  cfg.codecs = &u96;
  cfg.n_codecs = 1;
  sender *x = sender_new(&cfg, PKT, NULL);
  uint8_t buf[2048];
  for (size_t k = 0; k < 60; k++) {
    if (k == 30) { /* the re-INVITE maps 96 to PCMA */
      cfg.codecs = &a96;
      ck_assert_int_eq(sr_media_stream_reconfigure(x->s, &cfg, T0 + k * 20 * MS), 0);
    }
    size_t n = build(buf, 96, false, x->seq++, x->ts, x->ssrc, k < 30 ? pay_u[k] : pay_a[k], PKT);
    x->ts += PKT;
    ck_assert_int_eq(feed_at(x, buf, n, T0 + k * 20 * MS), 0);
  }
  end_at(x, T0 + 60 * 20 * MS);
  ck_assert_uint_eq(count_events(x->r, SR_MS_EV_CODEC_CHANGED), 1);
  assert_same(x->r->tl, ref_u, 30 * PKT, "PCMU");
  assert_same(x->r->tl + 30 * PKT, ref_a + 30 * PKT, 30 * PKT, "PCMA after re-INVITE");
  sender_free(x);
}
END_TEST


/* PCMU to G.722 (16 kHz audio on an 8 kHz clock) without an output rate:
 * the frames follow the decoder's rate, the position is converted. */
START_TEST(test_codec_change_rate)
{
  static const sr_decoder_params c[] = {
    { .encoding = "PCMU", .payload_type = 0, .clock_rate = 8000 },
    { .encoding = "G722", .payload_type = 9, .clock_rate = 8000 },
  };
  sr_media_stream_config cfg = base_cfg();
  cfg.codecs = c;
  sender *x = sender_new(&cfg, 0, NULL);
  g722_encode_state_t *enc = g722_encode_init(NULL, 64000, 0);
  g722_decode_state_t *ref = g722_decode_init(NULL, 64000, 0);
  int16_t up[320], want[30 * 320];
  uint8_t buf[2048], pay[160];
  for (size_t k = 0; k < 60; k++) {
    if (k < 30) {
      send_pkt(x, 0, k, T0 + k * 20 * MS);
      continue;
    }
    for (size_t i = 0; i < 320; i++)
      up[i] = speech8[k * PKT + i / 2];
    ck_assert_int_eq(g722_encode(enc, pay, up, 320), 160);
    ck_assert_int_eq(g722_decode(ref, want + (k - 30) * 320, pay, 160), 320);
    size_t n = build(buf, 9, false, x->seq++, x->ts, x->ssrc, pay, 160);
    x->ts += PKT;
    feed_at(x, buf, n, T0 + k * 20 * MS);
  }
  end_at(x, T0 + 60 * 20 * MS);
  rec *r = x->r;
  ck_assert_uint_eq(count_events(r, SR_MS_EV_CODEC_CHANGED), 1);
  ck_assert_uint_eq(find_event(r, SR_MS_EV_CODEC_CHANGED)->position, 9600);
  ck_assert_uint_eq(r->nframes, 60);
  ck_assert_uint_eq(r->f[29].rate, 8000);
  ck_assert_uint_eq(r->f[30].rate, 16000);
  ck_assert_uint_eq(r->f[30].pos, 9600);
  ck_assert_uint_eq(r->f[30].time_ns, T0 + 30 * 20 * MS);
  ck_assert_uint_eq(r->f[59].pos, 9600 + 29 * 320);
  assert_same(r->tl + 9600, want, 30 * 320, "G.722");
  g722_encode_free(enc);
  g722_decode_free(ref);
  sender_free(x);
}
END_TEST


/* Opus decoded at the host's 16 kHz by libopus itself (no resampler), a
 * loss rebuilt from the next packet's in-band FEC and flagged. */
START_TEST(test_opus_fec_16k)
{
#ifdef SR_HAVE_OPUS
  static const sr_decoder_params c = { .encoding = "opus", .payload_type = 111,
                                       .clock_rate = 48000, .channels = 2 };
  sr_media_stream_config cfg = base_cfg();
  cfg.codecs = &c;
  cfg.n_codecs = 1;
  cfg.out_rate = 16000;
  sender *x = sender_new(&cfg, 320, NULL);
  int err;
  OpusEncoder *enc = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, &err);
  ck_assert_int_eq(err, OPUS_OK);
  opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(20));
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
  uint8_t pay[1500], buf[2048];
  x->ts = 0;
  for (size_t k = 0; k < 100; k++) {
    int n = opus_encode(enc, speech8 + k * PKT, PKT, pay, sizeof pay);
    ck_assert_int_gt(n, 0);
    if (k % 25 == 12) { /* 4 losses */
      x->seq++;
      x->ts += 960;
      continue;
    }
    size_t len = build(buf, 111, false, x->seq++, x->ts, x->ssrc, pay, (size_t)n);
    x->ts += 960;
    feed_at(x, buf, len, T0 + k * 20 * MS);
  }
  end_at(x, T0 + 100 * 20 * MS);
  rec *r = x->r;
  ck_assert_uint_eq(r->next_pos, 100 * 320);
  ck_assert_uint_eq(count_events(r, SR_MS_EV_GAP), 0);
  for (size_t k = 0; k < 100; k++)
    ck_assert_msg(!(r->tl_flags[k * 320 + 100] & SR_MS_F_CONCEALED) == (k % 25 != 12),
                  "packet %zu", k);
  sr_ms_counters cn;
  sr_media_stream_counters(x->s, &cn);
  ck_assert_uint_eq(cn.lost, 4);
  ck_assert_uint_eq(cn.decode_errors, 0);
  opus_encoder_destroy(enc);
  sender_free(x);
#endif
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (j) resampling                                                           */

START_TEST(test_resample_16k)
{
#ifdef SR_HAVE_SPEEXDSP
  sr_media_stream_config cfg = base_cfg();
  cfg.out_rate = 16000;
  sender *x = sender_new(&cfg, 320, NULL);
  for (size_t k = 0; k < 100; k++)
    send_pkt(x, 0, k, T0 + k * 20 * MS);
  end_at(x, T0 + 100 * 20 * MS);
  rec *r = x->r;
  ck_assert_uint_eq(r->nframes, 100); /* on_frame checked 320 each */
  ck_assert_uint_eq(r->f[5].rate, 16000);
  ck_assert_uint_eq(r->next_pos, 100 * 320);
  /* The same speech: the energy of the 16 kHz output matches the input's. */
  double e8 = 0, e16 = 0;
  for (size_t i = 0; i < 100 * PKT; i++)
    e8 += (double)ref_u[i] * ref_u[i];
  for (size_t i = 0; i < 100 * 320; i++)
    e16 += (double)r->tl[i] * r->tl[i];
  ck_assert_msg(fabs(e16 / 2 - e8) < 0.1 * e8, "energy %g vs %g", e16 / 2, e8);
  sender_free(x);
#endif
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (j2) the quick counters a reader diffs after every datagram              */

typedef struct quick_watch {
  sr_ms_counters c;
  sr_ms_quick q;
} quick_watch;

static bool rare_moved(const sr_ms_counters *a, const sr_ms_counters *b)
{
  return a->rtcp_packets != b->rtcp_packets || a->lost != b->lost ||
         a->reordered != b->reordered || a->duplicates != b->duplicates || a->late != b->late ||
         a->latch_drops != b->latch_drops || a->srtp_failures != b->srtp_failures ||
         a->decode_errors != b->decode_errors || a->malformed != b->malformed ||
         a->dropped_paused != b->dropped_paused;
}

/* The quick read agrees with the full one, and its generation grew when
 * (at least) any counter but packets and bytes moved. */
static void quick_check(sender *x, quick_watch *w)
{
  sr_ms_counters c;
  sr_ms_quick q;
  sr_media_stream_counters(x->s, &c);
  sr_media_stream_quick(x->s, &q);
  ck_assert_uint_eq(q.packets, c.packets);
  ck_assert_uint_eq(q.bytes, c.bytes);
  ck_assert_uint_eq(q.last_packet_ns, c.last_packet_ns);
  ck_assert(q.clock ? q.jitter_ticks * 1000.0 / q.clock == c.jitter_ms : c.jitter_ms == 0);
  ck_assert_uint_ge(q.gen, w->q.gen);
  if (rare_moved(&w->c, &c))
    ck_assert_uint_gt(q.gen, w->q.gen);
  w->c = c;
  w->q = q;
}

static int send_seq(sender *x, int pt, uint16_t seq, size_t k, uint64_t at)
{
  uint8_t buf[2048];
  size_t n = build(buf, pt, false, seq, x->ts + (uint32_t)(uint16_t)(seq - x->seq) * PKT,
                   x->ssrc, pay_u[k], PKT);
  return feed_at(x, buf, n, at);
}

START_TEST(test_quick_counters)
{
  static const sr_decoder_params c3[] = {
    { .encoding = "PCMU", .payload_type = 0, .clock_rate = 8000 },
    { .encoding = "L16", .payload_type = 96, .clock_rate = 16000 },
  };
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, 0, NULL); /* frames follow the rate: 16 kHz below */
  quick_watch w = { 0 };
  quick_check(x, &w);
  ck_assert_int_eq(feed_from(x, "198.51.100.7", SRC_PORT, 0), 1); /* latch drop */
  quick_check(x, &w);
  uint64_t t = x->now;
  for (size_t k = 0; k < 5; k++) {
    ck_assert_int_eq(send_pkt(x, 0, k, t += 20 * MS), 0);
    quick_check(x, &w);
  }
  /* A copy of the latest packet: a duplicate, not reordered. */
  send_seq(x, 0, (uint16_t)(x->seq - 1), 4, t += 1 * MS);
  quick_check(x, &w);
  ck_assert_uint_eq(w.c.duplicates, 1);
  ck_assert_uint_eq(w.c.reordered, 0);
  /* Reordered: seq+1 before seq. */
  uint16_t s0 = x->seq;
  send_seq(x, 0, (uint16_t)(s0 + 1), 6, t += 20 * MS);
  quick_check(x, &w);
  send_seq(x, 0, s0, 5, t += 1 * MS);
  quick_check(x, &w);
  /* A duplicate of it. */
  send_seq(x, 0, s0, 5, t += 1 * MS);
  quick_check(x, &w);
  /* A loss declared by the timer, then the lost one arrives late. */
  send_seq(x, 0, (uint16_t)(s0 + 3), 8, t += 40 * MS);
  quick_check(x, &w);
  run_timers(x, t += 1000 * MS);
  quick_check(x, &w);
  send_seq(x, 0, (uint16_t)(s0 + 2), 7, t += 1 * MS);
  quick_check(x, &w);
  x->seq = (uint16_t)(s0 + 4);
  x->ts += 4 * PKT;
  /* A PT nobody offered: a decode error. */
  send_seq(x, 9, x->seq, 9, t += 20 * MS);
  x->seq++;
  x->ts += PKT;
  quick_check(x, &w);
  /* Garbage from the latched source. */
  uint8_t junk[40] = { 0x01, 0x02 };
  feed_at(x, junk, sizeof junk, t += 1 * MS);
  quick_check(x, &w);
  /* RTCP. */
  uint8_t buf[256];
  size_t off = 0;
  rtcpb_sr(buf, &off, x->ssrc, 1ull << 40, x->ts, 10, 10 * PKT, 0);
  ck_assert_int_eq(feed_at(x, buf, off, t += 1 * MS), 0);
  quick_check(x, &w);
  /* Paused: a packet dropped. */
  sr_media_stream_pause(x->s, t += 1 * MS);
  quick_check(x, &w);
  send_pkt(x, 0, 10, t += 20 * MS);
  quick_check(x, &w);
  sr_media_stream_resume(x->s, t += 1 * MS);
  quick_check(x, &w);
  /* A new clock (the buffer is replaced), then a loss in the new one. */
  cfg.codecs = c3 + 1;
  cfg.n_codecs = 1;
  ck_assert_int_eq(sr_media_stream_reconfigure(x->s, &cfg, t += 1 * MS), 0);
  quick_check(x, &w);
  uint64_t before = w.q.gen;
  x->ssrc++;
  for (size_t k = 0; k < 4; k++) {
    uint8_t pkt[2048];
    size_t n = build(pkt, 96, false, (uint16_t)(x->seq + (k == 3 ? 5 : k)), x->ts, x->ssrc,
                     pay_u[k], PKT);
    feed_at(x, pkt, n, t += 20 * MS);
    quick_check(x, &w);
  }
  run_timers(x, t += 1000 * MS);
  quick_check(x, &w);
  ck_assert_uint_gt(w.q.gen, before);
  /* Every counter moved at some point, each seen by the generation. */
  ck_assert_uint_gt(w.c.latch_drops, 0);
  ck_assert_uint_gt(w.c.reordered, 0);
  ck_assert_uint_gt(w.c.duplicates, 0);
  ck_assert_uint_gt(w.c.lost, 1);
  ck_assert_uint_gt(w.c.late, 0);
  ck_assert_uint_gt(w.c.decode_errors, 0);
  ck_assert_uint_gt(w.c.malformed, 0);
  ck_assert_uint_gt(w.c.rtcp_packets, 0);
  ck_assert_uint_gt(w.c.dropped_paused, 0);
  sender_free(x);
  /* SRTP failures, through the unprotect hook. */
  cfg = base_cfg();
  cfg.unprotect = fake_unprotect;
  x = sender_new(&cfg, PKT, NULL);
  w = (quick_watch){ 0 };
  quick_check(x, &w);
  send_pkt(x, 0, 0, T0 + 20 * MS); /* no trailer */
  quick_check(x, &w);
  ck_assert_uint_eq(w.c.srtp_failures, 1);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (k) RTCP wall clock                                                      */

#define NTP_UNIX_OFFSET 2208988800ull

START_TEST(test_rtcp_wallclock)
{
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, NULL);
  uint64_t unix_s = 1780000000ull;
  for (size_t k = 0; k < 60; k++) {
    if (k == 20 || k == 40) {
      uint8_t buf[256];
      size_t off = 0;
      /* Packet 20's timestamp is at unix_s (+ 0.4 s for packet 40). */
      uint64_t ntp = (unix_s + NTP_UNIX_OFFSET) << 32;
      if (k == 40)
        ntp += (uint64_t)(0.4 * 4294967296.0);
      rtcpb_sr(buf, &off, x->ssrc, ntp, x->ts, (uint32_t)k, (uint32_t)k * PKT, 0);
      if (k == 20) {
        ck_assert_int_eq(feed_at(x, buf, off, T0 + k * 20 * MS), 0); /* muxed */
      } else {
        struct sockaddr_in rtcp = addr4(SRC_IP, SRC_PORT + 1);
        ck_assert_int_eq(sr_media_stream_feed_rtcp(x->s, buf, off, (struct sockaddr *)&rtcp,
                                                   T0 + k * 20 * MS),
                         0);
      }
    }
    send_pkt(x, 0, k, T0 + k * 20 * MS);
  }
  end_at(x, T0 + 60 * 20 * MS);
  rec *r = x->r;
  ck_assert_int_eq(r->f[10].wall, 0);
  for (size_t i = 20; i < 60; i++) {
    int64_t want = (int64_t)(unix_s * 1000000000ull) + (int64_t)(i - 20) * 20000000;
    int64_t got = r->f[i].wall;
    ck_assert_msg(llabs(got - want) < 1000000, "frame %zu: %lld vs %lld", i, (long long)got,
                  (long long)want);
  }
  sr_ms_counters c;
  sr_media_stream_counters(x->s, &c);
  ck_assert_uint_eq(c.rtcp_packets, 2);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (l) the end                                                              */

START_TEST(test_end_flushes)
{
  sr_media_stream_config cfg = base_cfg();
  cfg.frame_ms = 30;
  sender *x = sender_new(&cfg, 240, NULL);
  uint8_t buf[2048];
  /* Packets 0..9, but 7 never comes: 8 and 9 wait in the jitter buffer. */
  for (size_t k = 0; k < 10; k++) {
    if (k == 7)
      continue;
    size_t n = build(buf, 0, false, (uint16_t)(1000 + k), (uint32_t)(5000 + k * PKT), 0x1234,
                     pay_u[k], PKT);
    feed_at(x, buf, n, T0 + k * 20 * MS);
  }
  uint64_t d;
  ck_assert(sr_media_stream_next_deadline(x->s, &d));
  ck_assert_uint_eq(d, T0 + 8 * 20 * MS + 200 * MS);
  sr_media_stream_end(x->s, T0 + 10 * 20 * MS); /* before the deadline */
  rec *r = x->r;
  ck_assert(r->ended);
  ck_assert_int_eq(r->ev[r->nev - 1].type, SR_MS_EV_ENDED);
  ck_assert_uint_eq(r->next_pos, 1680); /* 1600 samples padded to 7 frames */
  ck_assert(r->f[r->nframes - 1].flags & SR_MS_F_PADDED);
  ck_assert(r->tl_flags[7 * PKT] & SR_MS_F_CONCEALED);
  assert_same(r->tl + 9 * PKT, ref_u + 9 * PKT, 80, "flushed");
  ck_assert(!sr_media_stream_next_deadline(x->s, &d));
  ck_assert_int_eq(send_pkt(x, 0, 10, T0 + 11 * 20 * MS), 1); /* after the end */
  sr_media_stream_end(x->s, T0 + 12 * 20 * MS);             /* once */
  ck_assert_uint_eq(count_events(r, SR_MS_EV_ENDED), 1);
  sender_free(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (m) memory                                                               */

static size_t heap_now, heap_peak, heap_allocs;

static void *cnt_malloc(size_t n, void *user)
{
  (void)user;
  size_t *p = malloc(n + 16);
  if (!p)
    return NULL;
  p[0] = n;
  heap_now += n;
  heap_allocs++;
  if (heap_now > heap_peak)
    heap_peak = heap_now;
  return (char *)p + 16;
}

static void cnt_free(void *ptr, void *user)
{
  (void)user;
  if (!ptr)
    return;
  size_t *p = (size_t *)((char *)ptr - 16);
  heap_now -= p[0];
  free(p);
}

static void *cnt_realloc(void *ptr, size_t n, void *user)
{
  void *q = cnt_malloc(n, user);
  if (q && ptr) {
    size_t old = ((size_t *)((char *)ptr - 16))[0];
    memcpy(q, ptr, old < n ? old : n);
    cnt_free(ptr, user);
  }
  return q;
}

static const siprec_allocator counting = { cnt_malloc, cnt_realloc, cnt_free, NULL };

START_TEST(test_memory_g711)
{
  heap_now = heap_peak = heap_allocs = 0;
  sr_media_stream_config cfg = base_cfg();
  sender *x = sender_new(&cfg, PKT, &counting);
  size_t created = heap_now;
  for (size_t k = 0; k < 100; k++) {
    if (k == 50)
      continue; /* a hole: the jitter buffer's window is allocated */
    send_pkt(x, 0, k, T0 + k * 20 * MS);
    if (k == 49)
      x->seq++, x->ts += PKT;
  }
  run_timers(x, T0 + 2200 * MS);
  size_t steady = heap_now;
  fprintf(stderr,
          "media stream G.711, default depth: sizeof %zu, heap after creation %zu, steady "
          "%zu bytes (peak %zu) in %zu allocations\n",
          sr_media_stream_sizeof(), created, steady, heap_peak, heap_allocs);
  ck_assert_uint_le(steady, 5 * 1024); /* two streams within a 10 KiB session */
  sender_free(x);
  ck_assert_uint_eq(heap_now, 0);
}
END_TEST

START_TEST(test_memory_flood)
{
  heap_now = heap_peak = heap_allocs = 0;
  sr_media_stream_config cfg = base_cfg();
  cfg.cn_pt = 13;
  sender *x = sender_new(&cfg, PKT, &counting);
  send_pkt(x, 0, 0, T0);
  uint8_t buf[1600];
  uint64_t t = T0;
  static const int pts[] = { 0, 8, 13, 101, 96, 72 };
  for (int i = 0; i < 30000; i++) {
    t += (rnd() % 3) * MS;
    size_t len = rnd() % sizeof buf;
    for (size_t j = 0; j < len; j++)
      buf[j] = (uint8_t)rnd();
    if (rnd() % 4) { /* mostly RTP-shaped, to go deep */
      rtpb o = { .pt = (uint8_t)pts[rnd() % 6], .seq = (uint16_t)(x->seq + rnd() % 200 - 50),
                 .ts = x->ts + rnd() % 100000, .ssrc = rnd() % 8 ? x->ssrc : rnd() };
      size_t n = rtpb_build(buf, sizeof buf, &o);
      (void)n;
      x->seq++;
      x->ts += PKT;
    }
    feed_at(x, buf, len < 12 ? 12 : len, t);
  }
  end_at(x, t + 1000 * MS);
  fprintf(stderr, "media stream flood: peak heap %zu bytes\n", heap_peak);
  ck_assert_uint_le(heap_peak, 64 * 1024);
  sender_free(x);
  ck_assert_uint_eq(heap_now, 0);
}
END_TEST

START_TEST(test_bad_config)
{
  sr_media_stream *s = NULL;
  sr_media_stream_config cfg = base_cfg();
  cfg.n_codecs = 0;
  ck_assert_int_eq(sr_media_stream_new(NULL, &cfg, NULL, 0, &s), SIPREC_EINVAL);
  cfg = base_cfg();
  cfg.out_rate = 10;
  ck_assert_int_eq(sr_media_stream_new(NULL, &cfg, NULL, 0, &s), SIPREC_EINVAL);
  ck_assert_int_eq(sr_media_stream_new(NULL, NULL, NULL, 0, &s), SIPREC_EINVAL);
  cfg = base_cfg();
  ck_assert_int_eq(sr_media_stream_new(NULL, &cfg, NULL, 0, &s), 0);
  ck_assert_int_eq(sr_media_stream_feed(s, NULL, 0, NULL, 0), SIPREC_EINVAL);
  sr_media_stream_free(s);
}
END_TEST

static Suite *media_stream_suite(void)
{
  Suite *s = suite_create("media_stream");
  TCase *tc = tcase_create("stream");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_in_order_exact);
  tcase_add_test(tc, test_reordered_exact);
  tcase_add_test(tc, test_loss_concealed);
  tcase_add_test(tc, test_arrival_shows_drift);
  tcase_add_test(tc, test_long_gap);
  tcase_add_test(tc, test_duplicates_and_wrap);
  tcase_add_test(tc, test_unprotect_hook);
  tcase_add_test(tc, test_latching);
  tcase_add_test(tc, test_latching_nat);
  tcase_add_test(tc, test_ssrc_change);
  tcase_add_test(tc, test_ts_jump);
  tcase_add_test(tc, test_silence_is_gap);
  tcase_add_test(tc, test_pause_resume);
  tcase_add_test(tc, test_dtmf);
  tcase_add_test(tc, test_comfort_noise);
  tcase_add_test(tc, test_comfort_noise_first);
  tcase_add_test(tc, test_long_cn_and_late);
  tcase_add_test(tc, test_no_media);
  tcase_add_test(tc, test_codec_change_pt);
  tcase_add_test(tc, test_codec_change_reconfigure);
  tcase_add_test(tc, test_codec_change_rate);
  tcase_add_test(tc, test_resample_16k);
  tcase_add_test(tc, test_opus_fec_16k);
  tcase_add_test(tc, test_quick_counters);
  tcase_add_test(tc, test_rtcp_wallclock);
  tcase_add_test(tc, test_end_flushes);
  tcase_add_test(tc, test_memory_g711);
  tcase_add_test(tc, test_memory_flood);
  tcase_add_test(tc, test_bad_config);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(media_stream_suite());
}
