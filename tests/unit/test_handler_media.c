/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's media (siprec/media.h), through the public API only: a
 * call answered, RTP built in the test fed through siprec_handler_media(),
 * frames and events checked for session, stream, label, speaker, position
 * and order; latching, RTCP, unknown ports, reordering released by
 * next_deadline/expire, pause and resume by re-INVITE, ENDED before the
 * session's ended, EBUSY from the callbacks, no-media, counters; and real
 * speech (pocketsphinx-testdata's goforward.raw, encoded with spandsp in
 * the test) delivered sample for sample as spandsp decodes it. */
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/g711.h>

#include "check_main.h"
#include "handler_fixture.h"
#include "rtp_build.h"
#include "speech.h"
#include "srtp_fixture.h" /* with libsrtp2: a sender (and lib/media/srtp.h) */

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define S (1000 * MS)
#define PKT 160
#define NS "urn:ietf:params:xml:ns:recording:1"

/* ---------------------------------------------------------------------- */
/* Speech, encoded with spandsp                                             */

static speech sp; /* pocketsphinx-testdata's goforward.raw at 8 kHz (tests/common/speech.h) */
static size_t npkt;
static uint8_t (*pay)[PKT];
static int16_t *ref; /* each payload decoded directly by spandsp */

static void setup(void)
{
  ck_assert_int_eq(speech_load(&sp), 0);
  npkt = sp.n8 / PKT;
  if (npkt > 150)
    npkt = 150;
  pay = malloc(npkt * PKT);
  ref = malloc(npkt * PKT * sizeof *ref);
  g711_state_t *enc = g711_init(NULL, G711_ULAW), *dec = g711_init(NULL, G711_ULAW);
  for (size_t k = 0; k < npkt; k++) {
    g711_encode(enc, pay[k], sp.s8 + k * PKT, PKT);
    g711_decode(dec, ref + k * PKT, pay[k], PKT);
  }
  g711_free(enc);
  g711_free(dec);
}

static void teardown(void)
{
  speech_free(&sp);
  free(pay);
  free(ref);
}

/* ---------------------------------------------------------------------- */
/* What the callbacks deliver                                               */

#define MAX_FRAMES 1024
#define MAX_EVENTS 64

typedef struct got_frame {
  siprec_session *session;
  size_t stream;
  char label[16], spk_id[16], spk_aor[64], spk_name[32];
  uint32_t rate;
  size_t n;
  uint64_t position, time_ns, arrival_ns;
  unsigned flags;
} got_frame;

typedef struct got_event {
  size_t stream;
  siprec_stream_event_type type;
  uint64_t samples;
  int session_ended_before; /* the session's ended callback had run */
} got_event;

static struct media_log {
  fixture *f;
  got_frame frames[MAX_FRAMES];
  size_t n_frames;
  int16_t audio[2][MAX_FRAMES * PKT]; /* per stream, in delivery order */
  size_t n_audio[2];
  got_event events[MAX_EVENTS];
  size_t n_events;
  int dtmf;
  char last_digit;
  /* From inside the audio callback: host requests and accessors. */
  int quiet; /* set before threads feed: the callbacks record nothing */
  int try_reenter;
  int reenter_rc, media_rc, batch_rc;
  size_t streams_seen;
} L;

static void copy_str(char *dst, size_t size, const char *src)
{
  snprintf(dst, size, "%s", src ? src : "");
}

static void on_audio(void *user, const siprec_audio_frame *fr)
{
  (void)user;
  if (L.quiet)
    return;
  ck_assert_uint_ge(fr->size, sizeof *fr);
  if (L.n_frames < MAX_FRAMES) {
    got_frame *g = &L.frames[L.n_frames++];
    g->session = fr->session;
    g->stream = fr->stream;
    copy_str(g->label, sizeof g->label, fr->label);
    copy_str(g->spk_id, sizeof g->spk_id, fr->speaker.id);
    copy_str(g->spk_aor, sizeof g->spk_aor, fr->speaker.aor);
    copy_str(g->spk_name, sizeof g->spk_name, fr->speaker.name);
    g->rate = fr->sample_rate;
    g->n = fr->n_samples;
    g->position = fr->position;
    g->time_ns = fr->time_ns;
    g->arrival_ns = fr->arrival_ns;
    g->flags = fr->flags;
  }
  if (fr->stream < 2 && L.n_audio[fr->stream] + fr->n_samples <= MAX_FRAMES * PKT) {
    memcpy(L.audio[fr->stream] + L.n_audio[fr->stream], fr->samples,
           fr->n_samples * sizeof *fr->samples);
    L.n_audio[fr->stream] += fr->n_samples;
  }
  if (L.try_reenter) {
    L.reenter_rc = siprec_handler_end_session(L.f->h, fr->session, 0);
    uint8_t junk[12] = { 0x80 };
    struct sockaddr_in local = L.f->srs;
    local.sin_port = htons(20000);
    siprec_path p = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local,
                      (struct sockaddr *)&L.f->src, 0 };
    L.media_rc = siprec_handler_media(L.f->h, junk, sizeof junk, &p, 0);
    const siprec_datagram d = { junk, sizeof junk, &p, 0 };
    L.batch_rc = siprec_handler_media_batch(L.f->h, &d, 1, NULL);
    L.streams_seen = siprec_session_stream_count(fr->session); /* accessors work */
  }
}

static void on_stream_event(void *user, const siprec_stream_event *e)
{
  (void)user;
  if (L.quiet)
    return;
  ck_assert_uint_ge(e->size, sizeof *e);
  if (L.n_events < MAX_EVENTS) {
    got_event *g = &L.events[L.n_events++];
    g->stream = e->stream;
    g->type = e->type;
    g->samples = e->samples;
    g->session_ended_before = L.f ? L.f->ev.ended : 0;
  }
}

static void on_dtmf(void *user, const siprec_dtmf_event *d)
{
  (void)user;
  L.dtmf++;
  L.last_digit = d->digit;
}

static void media_callbacks(siprec_handler_callbacks *cbs)
{
  siprec_handler_callbacks_set_audio(cbs, on_audio);
  siprec_handler_callbacks_set_stream_event(cbs, on_stream_event);
  siprec_handler_callbacks_set_dtmf(cbs, on_dtmf);
}

static size_t count_events(size_t stream, siprec_stream_event_type type)
{
  size_t n = 0;
  for (size_t i = 0; i < L.n_events; i++)
    n += L.events[i].stream == stream && L.events[i].type == type;
  return n;
}

/* ---------------------------------------------------------------------- */
/* A call                                                                   */

static const char doc[] =
  "<?xml version='1.0' encoding='UTF-8'?>\r\n<recording xmlns='" NS "'>"
  "<datamode>complete</datamode>"
  "<session session_id='cs1'><sipSessionID>ab12;remote=cd34</sipSessionID></session>"
  "<participant participant_id='pa'><nameID aor='sip:alice@example.com'><name>Alice</name>"
  "</nameID></participant>"
  "<participant participant_id='pb'><nameID aor='sip:bob@example.com'/></participant>"
  "<stream stream_id='s1' session_id='cs1'><label>1</label></stream>"
  "<stream stream_id='s2' session_id='cs1'><label>2</label></stream>"
  "<participantstreamassoc participant_id='pa'><send>s1</send><recv>s2</recv>"
  "</participantstreamassoc>"
  "<participantstreamassoc participant_id='pb'><send>s2</send><recv>s1</recv>"
  "</participantstreamassoc></recording>";

static const char sdp_paused[] =
  "v=0\r\no=SRC 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\na=inactive\r\na=label:1\r\n"
  "m=audio 10002 RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n";

static const char sdp_one[] = /* stream 2 removed */
  "v=0\r\no=SRC 1 4 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\na=label:1\r\n"
  "m=audio 0 RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n";

static void multipart(char *out, size_t size, const char *call_id, const char *sdp)
{
  char body[8192];
  int n = snprintf(body, sizeof body,
                   "--b1\r\nContent-Type: application/sdp\r\n\r\n%s"
                   "--b1\r\nContent-Type: application/rs-metadata+xml\r\n"
                   "Content-Disposition: recording-session\r\n\r\n%s\r\n--b1--\r\n",
                   sdp, doc);
  snprintf(out, size,
           "INVITE sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s\r\n"
           "From: <sip:src@192.0.2.1>;tag=src1\r\nTo: <sip:srs@192.0.2.10>\r\n"
           "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:src@192.0.2.1>;+sip.src\r\n"
           "Require: siprec\r\nContent-Type: multipart/mixed;boundary=b1\r\n"
           "Content-Length: %d\r\n\r\n%s",
           call_id, call_id, n, body);
}

typedef struct call {
  fixture f;
  siprec_session *s; /* referenced */
  char tag[64];
  uint16_t port[2];
  unsigned cseq;
} call;

/* A fresh handler with the media callbacks, the log emptied; cfg may be
 * NULL. */
static void call_init(call *c, siprec_handler_config *cfg)
{
  memset(&L, 0, sizeof L);
  memset(c, 0, sizeof *c);
  L.f = &c->f;
  fx_callbacks_hook = media_callbacks;
  fx_init(&c->f, cfg, 0);
  fx_callbacks_hook = NULL;
}

/* A call with metadata answered and ACKed at 1 s; cfg may be NULL. */
static void call_start(call *c, siprec_handler_config *cfg)
{
  call_init(c, cfg);
  char msg[16384];
  multipart(msg, sizeof msg, "media-call", fx_sdp2);
  ck_assert_int_gt(fx_feed(&c->f, msg, 1 * S), 0);
  ck_assert_int_eq(c->f.status, 200);
  fx_to_tag(&c->f, c->tag, sizeof c->tag);
  char ack[2048];
  fx_request(ack, sizeof ack, "ACK", "media-call", c->tag, 1, "ack1", NULL, NULL);
  fx_feed(&c->f, ack, 1 * S);
  ck_assert_uint_eq(siprec_handler_sessions(c->f.h, &c->s, 1), 1);
  for (size_t i = 0; i < 2; i++) {
    siprec_stream_info info = { .size = sizeof info };
    ck_assert_int_eq(siprec_session_stream(c->s, i, &info), 0);
    c->port[i] = info.port;
    ck_assert_uint_ne(info.port, 0);
    ck_assert_uint_eq(info.rtcp_port, info.port + 1);
  }
  c->cseq = 1;
}

static void call_free(call *c)
{
  siprec_session_unref(c->s);
  siprec_handler_free(c->f.h);
  L.f = NULL;
}

/* A re-INVITE with `sdp`, answered 200 and ACKed. */
static void reinvite(call *c, const char *sdp, uint64_t now)
{
  char msg[8192], branch[32];
  c->cseq++;
  snprintf(branch, sizeof branch, "re%u", c->cseq);
  fx_request(msg, sizeof msg, "INVITE", "media-call", c->tag, c->cseq, branch, NULL, sdp);
  ck_assert_int_gt(fx_feed(&c->f, msg, now), 0);
  ck_assert_int_eq(c->f.status, 200);
  snprintf(branch, sizeof branch, "ack%u", c->cseq);
  fx_request(msg, sizeof msg, "ACK", "media-call", c->tag, c->cseq, branch, NULL, NULL);
  fx_feed(&c->f, msg, now);
}

static void bye(call *c, uint64_t now)
{
  char msg[2048];
  c->cseq++;
  fx_request(msg, sizeof msg, "BYE", "media-call", c->tag, c->cseq, "bye", NULL, NULL);
  fx_feed(&c->f, msg, now);
  ck_assert_int_eq(c->f.status, 200);
}

/* Feed a datagram to local port `port` from `from` (NULL: the SRC's
 * media, 192.0.2.1:10000 + 2 * stream). */
static int feed_raw(call *c, uint16_t port, const struct sockaddr_in *from, const void *buf,
                    size_t len, uint64_t now)
{
  struct sockaddr_in local = c->f.srs;
  local.sin_port = htons(port);
  struct sockaddr_in src = c->f.src;
  src.sin_port = htons((uint16_t)(10000 + (port == c->port[1] || port == c->port[1] + 1) * 2));
  siprec_path p = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local,
                    (struct sockaddr *)(from ? from : &src), 0 };
  return siprec_handler_media(c->f.h, buf, len, &p, now);
}

/* RTP packet k of the speech (PT 0) on stream `stream`. */
static int feed_pkt(call *c, size_t stream, size_t k, uint32_t ssrc, uint64_t now,
                    const struct sockaddr_in *from)
{
  uint8_t buf[12 + PKT];
  size_t len = rtpb_media(buf, sizeof buf, 0, k == 0, (uint16_t)(1000 + k),
                          (uint32_t)(5000 + k * PKT), ssrc, pay[k % npkt], PKT);
  return feed_raw(c, c->port[stream], from, buf, len, now);
}

/* call_start, then packets 0..n-1 of stream 0 (SSRC 0x1111) every 20 ms
 * from 2 s, each taken; returns the time after them. */
static uint64_t call_start_talking(call *c, size_t n)
{
  call_start(c, NULL);
  uint64_t t = 2 * S;
  for (size_t k = 0; k < n; k++, t += 20 * MS)
    ck_assert_int_eq(feed_pkt(c, 0, k, 0x1111, t, NULL), 0);
  return t;
}

static uint64_t media_stat(call *c, siprec_media_counter k)
{
  return siprec_handler_stat(c->f.h, SIPREC_STAT_MEDIA, k);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                    */

START_TEST(test_frames_attributed_and_exact)
{
  call c;
  call_start(&c, NULL);
  uint64_t t = 2 * S;
  for (size_t k = 0; k < npkt; k++, t += 20 * MS) {
    ck_assert_int_eq(feed_pkt(&c, 0, k, 0x1111, t, NULL), 0);
    if (k < 25)
      ck_assert_int_eq(feed_pkt(&c, 1, k, 0x2222, t + MS, NULL), 0);
  }
  /* In order: every packet's frame is out at once. */
  ck_assert_uint_eq(L.n_audio[0], npkt * PKT);
  ck_assert_uint_eq(L.n_audio[1], 25 * PKT);
  ck_assert_msg(memcmp(L.audio[0], ref, npkt * PKT * sizeof *ref) == 0,
                "the delivered speech is not spandsp's decode");
  ck_assert(memcmp(L.audio[1], ref, 25 * PKT * sizeof *ref) == 0);
  uint64_t pos[2] = { 0, 0 };
  for (size_t i = 0; i < L.n_frames; i++) {
    const got_frame *g = &L.frames[i];
    ck_assert_ptr_eq(g->session, c.s);
    ck_assert_uint_eq(g->rate, 8000);
    ck_assert_uint_eq(g->n, 160); /* 20 ms */
    ck_assert_uint_eq(g->position, pos[g->stream]);
    /* each frame is one packet: its arrival is that packet's feed time */
    ck_assert_uint_eq(g->arrival_ns, 2 * S + pos[g->stream] / PKT * 20 * MS + g->stream * MS);
    pos[g->stream] += g->n;
    ck_assert_str_eq(g->label, g->stream == 0 ? "1" : "2");
    ck_assert_str_eq(g->spk_id, g->stream == 0 ? "pa" : "pb");
    ck_assert_str_eq(g->spk_aor, g->stream == 0 ? "sip:alice@example.com" : "sip:bob@example.com");
    ck_assert_str_eq(g->spk_name, g->stream == 0 ? "Alice" : "");
  }
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_STARTED), 1);
  ck_assert_uint_eq(L.events[0].type, SIPREC_STREAM_STARTED);
  /* Counters: per stream and the handler's. */
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.packets, npkt);
  ck_assert_uint_eq(st.bytes, npkt * (12 + PKT)); /* datagram octets */
  ck_assert_uint_eq(st.lost, 0);
  ck_assert_uint_eq(st.latch_drops, 0);
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 1, &st), 0);
  ck_assert_uint_eq(st.packets, 25);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_PACKETS), npkt + 25);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_BYTES), (npkt + 25) * (12 + PKT));
  siprec_stream_stats small = { .size = sizeof small - 1 };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &small), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 9, &st), SIPREC_EINVAL);
  /* The session ends: both streams ENDED, before the session's ended. */
  bye(&c, t);
  ck_assert_int_eq(c.f.ev.ended, 1);
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_ENDED), 1);
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_ENDED), 1);
  for (size_t i = 0; i < L.n_events; i++)
    if (L.events[i].type == SIPREC_STREAM_ENDED)
      ck_assert_int_eq(L.events[i].session_ended_before, 0);
  /* Its ports lead nowhere now. */
  ck_assert_int_eq(feed_pkt(&c, 0, 0, 0x1111, t, NULL), SIPREC_ENOTFOUND);
  /* Once the BYE's transaction is over nothing is left to wait for: the
   * ended streams left no media deadline behind. */
  siprec_handler_expire(c.f.h, t + 40 * S);
  ck_assert_uint_eq(siprec_handler_next_deadline(c.f.h), UINT64_MAX);
  call_free(&c);
}
END_TEST

START_TEST(test_wrong_source_rtcp_unknown_port)
{
  call c;
  call_start(&c, NULL);
  uint64_t t = 2 * S;
  /* A stranger first: dropped, counted, nothing latched. */
  ck_assert_int_eq(feed_pkt(&c, 0, 0, 0x9999, t, &c.f.other), 0);
  ck_assert_uint_eq(L.n_frames, 0);
  ck_assert_int_eq(feed_pkt(&c, 0, 0, 0x1111, t, NULL), 0);
  ck_assert_int_eq(feed_pkt(&c, 0, 1, 0x9999, t + 20 * MS, &c.f.other), 0);
  ck_assert_int_eq(feed_pkt(&c, 0, 1, 0x1111, t + 20 * MS, NULL), 0);
  ck_assert_uint_eq(L.n_frames, 2);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.latch_drops, 2);
  ck_assert_uint_eq(st.packets, 2);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_LATCH_DROPS), 2);
  /* RTCP on the odd port: a sender report. */
  uint8_t rtcp[256];
  size_t off = 0;
  rtcpb_sr(rtcp, &off, 0x1111, UINT64_C(0xE1234567) << 32, 5000, 2, 320, 0);
  ck_assert_int_eq(feed_raw(&c, (uint16_t)(c.port[0] + 1), NULL, rtcp, off, t + 30 * MS), 0);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_RTCP), 1);
  /* A port nobody answered with. */
  ck_assert_int_eq(feed_raw(&c, 4242, NULL, rtcp, off, t), SIPREC_ENOTFOUND);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_NOT_FOUND), 1);
  /* Above 8 KiB: no audio packet, dropped as a decode error. */
  static uint8_t big[9000] = { 0x80 };
  ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, big, sizeof big, t + 40 * MS), 0);
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.decode_errors, 1);
  /* Bad arguments. */
  ck_assert_int_eq(siprec_handler_media(c.f.h, rtcp, off, NULL, t), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_media(NULL, rtcp, off, NULL, t), SIPREC_EINVAL);
  call_free(&c);
}
END_TEST

START_TEST(test_reorder_released_by_expire)
{
  call c;
  call_start(&c, NULL);
  uint64_t t = 2 * S;
  /* 0 2 1 4 3 ...: every swap within the depth, the speech exact. */
  size_t n = 61;
  ck_assert_int_eq(feed_pkt(&c, 0, 0, 0x1111, t, NULL), 0);
  t += 20 * MS;
  for (size_t k = 1; k + 1 < n; k += 2, t += 40 * MS) {
    ck_assert_int_eq(feed_pkt(&c, 0, k + 1, 0x1111, t, NULL), 0);
    ck_assert_int_eq(feed_pkt(&c, 0, k, 0x1111, t + 20 * MS, NULL), 0);
  }
  ck_assert_uint_eq(L.n_audio[0], n * PKT);
  ck_assert(memcmp(L.audio[0], ref, n * PKT * sizeof *ref) == 0);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_ge(st.reordered, 1);
  /* A hole: 61 and 62 wait for 60 until its deadline, which the handler's
   * next_deadline reports; expire releases them, 60 concealed. */
  ck_assert_int_eq(feed_pkt(&c, 0, n + 1, 0x1111, t, NULL), 0);
  ck_assert_int_eq(feed_pkt(&c, 0, n + 2, 0x1111, t + 20 * MS, NULL), 0);
  ck_assert_uint_eq(L.n_audio[0], n * PKT);
  /* (A deadline armed earlier may come first: expire then re-arms.) */
  uint64_t d = 0;
  for (int i = 0; i < 4 && L.n_audio[0] == n * PKT; i++) {
    d = siprec_handler_next_deadline(c.f.h);
    ck_assert_uint_le(d, t + 400 * MS);
    siprec_handler_expire(c.f.h, d);
  }
  ck_assert_uint_gt(d, t); /* not before the hole's own deadline */
  ck_assert_uint_eq(L.n_audio[0], (n + 3) * PKT);
  ck_assert(L.frames[L.n_frames - 3].flags & SIPREC_AUDIO_CONCEALED);
  /* Delivered at the deadline, each with its own arrival: none for the
   * concealment, the feed times for the two that waited. */
  ck_assert_uint_eq(L.frames[L.n_frames - 3].arrival_ns, 0);
  ck_assert_uint_eq(L.frames[L.n_frames - 2].arrival_ns, t);
  ck_assert_uint_eq(L.frames[L.n_frames - 1].arrival_ns, t + 20 * MS);
  /* The packet after the loss is blended into the concealment (spandsp's
   * PLC); the one after it is exact again. */
  ck_assert(memcmp(L.audio[0] + (n + 2) * PKT, ref + (n + 2) * PKT, PKT * sizeof *ref) == 0);
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.lost, 1);
  call_free(&c);
}
END_TEST

START_TEST(test_pause_resume_remove_by_reinvite)
{
  call c;
  call_start(&c, NULL);
  uint64_t t = 2 * S;
  for (size_t k = 0; k < 10; k++, t += 20 * MS) {
    feed_pkt(&c, 0, k, 0x1111, t, NULL);
    feed_pkt(&c, 1, k, 0x2222, t, NULL);
  }
  reinvite(&c, sdp_paused, t);
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_PAUSED), 1);
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_PAUSED), 0);
  t += 1 * S;
  reinvite(&c, fx_sdp2, t);
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_RESUMED), 1);
  for (size_t i = 0; i < L.n_events; i++)
    if (L.events[i].type == SIPREC_STREAM_RESUMED)
      ck_assert_uint_gt(L.events[i].samples, 0);
  size_t before = L.n_audio[0];
  for (size_t k = 10; k < 20; k++, t += 20 * MS)
    feed_pkt(&c, 0, k, 0x1111, t, NULL);
  ck_assert_uint_gt(L.n_audio[0], before);
  /* Stream 2 removed: ENDED, its port leads nowhere; stream 1 goes on. */
  reinvite(&c, sdp_one, t);
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_ENDED), 1);
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_ENDED), 0);
  ck_assert_int_eq(feed_pkt(&c, 1, 30, 0x2222, t, NULL), SIPREC_ENOTFOUND);
  ck_assert_int_eq(feed_pkt(&c, 0, 30, 0x1111, t, NULL), 0);
  bye(&c, t);
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_ENDED), 1);
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_ENDED), 1);
  call_free(&c);
}
END_TEST

START_TEST(test_requests_from_callback_busy)
{
  call c;
  call_start(&c, NULL);
  L.try_reenter = 1;
  ck_assert_int_eq(feed_pkt(&c, 0, 0, 0x1111, 2 * S, NULL), 0);
  ck_assert_uint_eq(L.n_frames, 1);
  ck_assert_int_eq(L.reenter_rc, SIPREC_EBUSY);
  ck_assert_int_eq(L.media_rc, SIPREC_EBUSY);
  ck_assert_int_eq(L.batch_rc, SIPREC_EBUSY);
  ck_assert_uint_eq(L.streams_seen, 2);
  ck_assert_int_eq(c.f.ev.ended, 0);
  call_free(&c);
}
END_TEST

START_TEST(test_no_media_and_idle)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_no_media_timeout(cfg, 1000), 0);
  ck_assert_int_eq(siprec_handler_config_set_jitter_depth(cfg, 10), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_config_set_jitter_depth(cfg, 100), 0);
  ck_assert_int_eq(siprec_handler_config_set_frame_duration(cfg, 5), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_config_set_frame_duration(cfg, 20), 0);
  ck_assert_int_eq(siprec_handler_config_set_audio_rate(cfg, 96000), SIPREC_EINVAL);
  call c;
  call_start(&c, cfg);
  siprec_handler_config_free(cfg);
  uint64_t t = 2 * S;
  for (size_t k = 0; k < 5; k++, t += 20 * MS)
    feed_pkt(&c, 0, k, 0x1111, t, NULL);
  /* Silence: the watchdog fires once, from the last packet on. */
  uint64_t d = siprec_handler_next_deadline(c.f.h);
  ck_assert_uint_le(d, t + 1 * S);
  for (int i = 0; i < 5 && count_events(0, SIPREC_STREAM_NO_MEDIA) == 0; i++) {
    d = siprec_handler_next_deadline(c.f.h);
    ck_assert_uint_ne(d, UINT64_MAX);
    siprec_handler_expire(c.f.h, d);
  }
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_NO_MEDIA), 1);
  /* Stream 2 never got one datagram: an empty recording is noticed too,
   * from the answer on, and once. */
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_NO_MEDIA), 1);
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_STARTED), 0);
  siprec_handler_expire(c.f.h, t + 30 * S);
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_NO_MEDIA), 1);
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_NO_MEDIA), 1);
  /* Its ENDED closes it with the session, before the session's ended. */
  bye(&c, t + 31 * S);
  ck_assert_uint_eq(count_events(1, SIPREC_STREAM_ENDED), 1);
  for (size_t i = 0; i < L.n_events; i++)
    if (L.events[i].type == SIPREC_STREAM_ENDED)
      ck_assert_int_eq(L.events[i].session_ended_before, 0);
  call_free(&c);
}
END_TEST

/* Two threads feed two sessions' streams at once (TSan's target). */
typedef struct feeder {
  call *c;
  size_t stream;
} feeder;

static void *feed_thread(void *arg)
{
  feeder *fd = arg;
  uint64_t t = 2 * S;
  for (size_t k = 0; k < npkt; k++, t += 20 * MS)
    feed_pkt(fd->c, fd->stream, k, 0x1111 + (uint32_t)fd->stream, t, NULL);
  return NULL;
}

START_TEST(test_two_threads_two_streams)
{
  call c;
  call_start(&c, NULL);
  L.quiet = 1;
  pthread_t th[2];
  feeder fd[2] = { { &c, 0 }, { &c, 1 } };
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, feed_thread, &fd[i]), 0);
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_PACKETS), 2 * npkt);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 1, &st), 0);
  ck_assert_uint_eq(st.packets, npkt);
  call_free(&c);
}
END_TEST

/* Media keeps the session alive for the idle limit, with no touch. */
START_TEST(test_media_keeps_session_alive)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_idle_limit(cfg, 3000), 0);
  call c;
  call_start(&c, cfg);
  siprec_handler_config_free(cfg);
  uint64_t t = 2 * S;
  for (size_t k = 0; k < 300; k++, t += 20 * MS) { /* 6 s of media */
    feed_pkt(&c, 0, k % npkt, 0x1111, t, NULL);
    if (k % 10 == 0) {
      uint64_t d = siprec_handler_next_deadline(c.f.h);
      if (d <= t)
        siprec_handler_expire(c.f.h, t);
    }
  }
  ck_assert_int_eq(c.f.ev.ended, 0);
  /* Silence: the idle limit ends it, its stream ENDED first. */
  siprec_handler_expire(c.f.h, t + 3 * S);
  ck_assert_int_eq(c.f.ev.ended, 1);
  ck_assert_int_eq(c.f.ev.last_reason, SIPREC_END_IDLE);
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_ENDED), 1);
  call_free(&c);
}
END_TEST

/* An SBC failover: a re-INVITE moves the SRC's media to another address;
 * the stream re-latches there and the old source is dropped. */
static const char sdp_moved[] =
  "v=0\r\no=SRC 1 3 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 203.0.113.5\r\n"
  "t=0 0\r\nm=audio 16000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\na=label:1\r\n"
  "m=audio 10002 RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n";

START_TEST(test_source_moved_by_reinvite)
{
  call c;
  uint64_t t = call_start_talking(&c, 5);
  ck_assert_uint_eq(L.n_frames, 5);
  reinvite(&c, sdp_moved, t);
  struct sockaddr_in moved = c.f.src;
  inet_pton(AF_INET, "203.0.113.5", &moved.sin_addr);
  moved.sin_port = htons(16000);
  for (size_t k = 5; k < 10; k++, t += 20 * MS) {
    ck_assert_int_eq(feed_pkt(&c, 0, k, 0x3333, t, &moved), 0);
    ck_assert_int_eq(feed_pkt(&c, 0, k, 0x1111, t, NULL), 0); /* the old source: dropped */
  }
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.latch_drops, 5);
  ck_assert_uint_eq(st.packets, 10);
  ck_assert_uint_ge(L.n_audio[0], 9 * PKT);
  call_free(&c);
}
END_TEST

/* Real speech with 10 % reordering within the depth: identical; with 5 %
 * loss: the right length, in order, the lost spans concealed and flagged. */
START_TEST(test_speech_reordered_and_lossy)
{
  call c;
  call_start(&c, NULL);
  uint64_t t = 2 * S, seed = 7;
  size_t order[1024];
  for (size_t k = 0; k < npkt; k++)
    order[k] = k;
  size_t swaps = 0;
  for (size_t k = 1; k + 1 < npkt; k++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    if ((seed >> 33) % 20 == 0) { /* 5 % of pairs: 10 % of packets out of order */
      size_t x = order[k];
      order[k] = order[k + 1];
      order[k + 1] = x;
      k++;
      swaps++;
    }
  }
  ck_assert_uint_gt(swaps, 0);
  for (size_t k = 0; k < npkt; k++, t += 20 * MS)
    ck_assert_int_eq(feed_pkt(&c, 0, order[k], 0x1111, t, NULL), 0);
  ck_assert_uint_eq(L.n_audio[0], npkt * PKT);
  ck_assert(memcmp(L.audio[0], ref, npkt * PKT * sizeof *ref) == 0);

  /* Stream 2: 5 % loss, never two in a row, never the first or last. */
  uint8_t lost[1024] = { 0 };
  size_t n_lost = 0;
  for (size_t k = 2; k + 2 < npkt; k++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    if ((seed >> 33) % 20 == 0 && !lost[k - 1]) {
      lost[k] = 1;
      n_lost++;
    }
  }
  ck_assert_uint_gt(n_lost, 0);
  size_t first = L.n_frames;
  t = 2 * S;
  for (size_t k = 0; k < npkt; k++, t += 20 * MS) {
    if (!lost[k])
      ck_assert_int_eq(feed_pkt(&c, 1, k, 0x2222, t, NULL), 0);
    uint64_t d = siprec_handler_next_deadline(c.f.h);
    if (d <= t)
      siprec_handler_expire(c.f.h, t);
  }
  for (int i = 0; i < 8; i++) { /* a hole near the end waits for its deadline */
    uint64_t d = siprec_handler_next_deadline(c.f.h);
    if (d > t + 500 * MS)
      break;
    siprec_handler_expire(c.f.h, d);
  }
  ck_assert_uint_eq(L.n_audio[1], npkt * PKT);
  size_t concealed = 0;
  uint64_t pos = 0;
  for (size_t i = first; i < L.n_frames; i++) {
    if (L.frames[i].stream != 1)
      continue;
    ck_assert_uint_eq(L.frames[i].position, pos);
    pos += L.frames[i].n;
    if (L.frames[i].flags & SIPREC_AUDIO_CONCEALED) {
      ck_assert(lost[pos / PKT - 1]);
      concealed++;
    }
  }
  ck_assert_uint_eq(concealed, n_lost);
  for (size_t k = 0; k < npkt; k++) /* what was received and not blended is exact */
    if (!lost[k] && (k == 0 || !lost[k - 1]))
      ck_assert(memcmp(L.audio[1] + k * PKT, ref + k * PKT, PKT * sizeof *ref) == 0);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 1, &st), 0);
  ck_assert_uint_eq(st.lost, n_lost);
  call_free(&c);
}
END_TEST

/* Batches: both streams' speech interleaved, 10 % reordered, a datagram
 * of no stream and one without a path among them, fed seven at a time.
 * Each datagram's result is its own; the audio is spandsp's decode, in
 * order; the counters are exact when each batch returns. */
START_TEST(test_batch_as_one_at_a_time)
{
  call c;
  call_start(&c, NULL);
  enum { PER = 7 };
  static uint8_t buf[2 * 1024 + 2][12 + PKT];
  siprec_datagram d[2 * 1024 + 2];
  int rc[2 * 1024 + 2];
  struct sockaddr_in local[2], src[2], nowhere = c.f.srs;
  nowhere.sin_port = htons(9); /* no stream has it */
  siprec_path path[2], stray;
  for (size_t i = 0; i < 2; i++) {
    local[i] = c.f.srs;
    local[i].sin_port = htons(c.port[i]);
    src[i] = c.f.src;
    src[i].sin_port = htons((uint16_t)(10000 + 2 * i));
    path[i] = (siprec_path){ SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local[i],
                             (struct sockaddr *)&src[i], 0 };
  }
  stray = (siprec_path){ SIPREC_TRANSPORT_UDP, (struct sockaddr *)&nowhere,
                         (struct sockaddr *)&src[0], 0 };
  size_t n = 0, swaps = 0;
  uint64_t seed = 11, t = 2 * S;
  for (size_t k = 0; k < npkt; k++, t += 20 * MS)
    for (size_t st = 0; st < 2; st++) {
      size_t len = rtpb_media(buf[n], sizeof buf[n], 0, k == 0, (uint16_t)(1000 + k),
                              (uint32_t)(5000 + k * PKT), st ? 0x2222 : 0x1111,
                              pay[k % npkt], PKT);
      d[n] = (siprec_datagram){ buf[n], len, &path[st], t + st * MS };
      n++;
      if (k == npkt / 2 && st == 1) {
        d[n++] = (siprec_datagram){ buf[0], 12 + PKT, &stray, t };
        d[n++] = (siprec_datagram){ buf[0], 12 + PKT, NULL, t };
      }
    }
  for (size_t i = 2; i + 2 < n; i++) { /* swap with the same stream's next */
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    if ((seed >> 33) % 10 == 0 && d[i].path == d[i + 2].path && d[i].path != &stray) {
      siprec_datagram x = d[i];
      d[i] = d[i + 2];
      d[i + 2] = x;
      i += 2;
      swaps++;
    }
  }
  ck_assert_uint_gt(swaps, 0);
  uint64_t packets = 0;
  for (size_t i = 0; i < n; i += PER) {
    size_t m = n - i < PER ? n - i : PER;
    ck_assert_int_eq(siprec_handler_media_batch(c.f.h, &d[i], m, &rc[i]), 0);
    for (size_t j = i; j < i + m; j++) {
      ck_assert_int_eq(rc[j], d[j].path == &stray ? SIPREC_ENOTFOUND
                              : d[j].path == NULL ? SIPREC_EINVAL : 0);
      packets += rc[j] == 0;
    }
    ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_PACKETS), packets);
    ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_BYTES), packets * (12 + PKT));
  }
  ck_assert_uint_eq(packets, 2 * npkt);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_NOT_FOUND), 1);
  for (size_t st = 0; st < 2; st++) {
    ck_assert_uint_eq(L.n_audio[st], npkt * PKT);
    ck_assert(memcmp(L.audio[st], ref, npkt * PKT * sizeof *ref) == 0);
  }
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_REORDERED), swaps);
  /* No results wanted; nothing to feed; the arguments checked. */
  ck_assert_int_eq(siprec_handler_media_batch(c.f.h, d, 1, NULL), 0);
  ck_assert_int_eq(siprec_handler_media_batch(c.f.h, NULL, 0, NULL), 0);
  ck_assert_int_eq(siprec_handler_media_batch(c.f.h, NULL, 1, rc), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_media_batch(NULL, d, 1, rc), SIPREC_EINVAL);
  call_free(&c);
}
END_TEST

/* The SRC switches to another payload type of the offer without a new
 * one: CODEC_CHANGED, and the audio goes on decoded. */
static const char sdp_two_codecs[] =
  "v=0\r\no=SRC 1 5 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\na=label:1\r\n"
  "m=audio 10002 RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n";

START_TEST(test_codec_switch_within_offer)
{
  call c;
  uint64_t t = call_start_talking(&c, 5);
  reinvite(&c, sdp_two_codecs, t); /* PCMU still, PCMA allowed */
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_CODEC_CHANGED), 0);
  for (size_t k = 5; k < 10; k++, t += 20 * MS) {
    uint8_t buf[12 + PKT];
    buf[0] = 0x80;
    buf[1] = 8;
    rtpb_put16(buf + 2, (uint16_t)(1000 + k));
    rtpb_put32(buf + 4, (uint32_t)(5000 + k * PKT));
    rtpb_put32(buf + 8, 0x1111);
    memset(buf + 12, 0xD5, PKT); /* A-law silence */
    ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, buf, sizeof buf, t), 0);
  }
  ck_assert_uint_eq(count_events(0, SIPREC_STREAM_CODEC_CHANGED), 1);
  ck_assert_uint_eq(L.n_audio[0], 10 * PKT);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.decode_errors, 0);
  call_free(&c);
}
END_TEST

#ifdef SR_HAVE_SRTP
/* RTP/SAVP with the offer's key. Datagrams that are no SRTP of that key
 * are counted as SRTP failures, nothing decoded. */
static const char sdp_savp[] =
  "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/SAVP 0\r\n"
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
  "a=sendonly\r\na=label:1\r\n";

/* The key sdp_savp and sdp_savp_mki offer, parsed; libsrtp2 initialised
 * (the module runs srtp_init) so that the test may make its sender. */
static void offer_key(sr_srtp_key *key)
{
  ck_assert_int_eq(sr_srtp_parse_key("AES_CM_128_HMAC_SHA1_80",
                                     "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", key), 0);
  ck_assert(sr_media_srtp_suite_supported("AES_CM_128_HMAC_SHA1_80"));
}

/* A one-stream RTP/SAVP call (`sdp`; `id` its Call-ID and branch)
 * answered 200 at 1 s, its stream keyed: c as call_start makes it but for
 * c->port[1], 1, no stream's (feed_raw then sends from stream 0's source). */
static void savp_call_start(call *c, const char *id, const char *sdp)
{
  call_init(c, NULL);
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", id, NULL, 1, id, "Require: siprec\r\n", sdp);
  ck_assert_int_gt(fx_feed(&c->f, msg, 1 * S), 0);
  ck_assert_int_eq(c->f.status, 200);
  ck_assert_uint_eq(siprec_handler_sessions(c->f.h, &c->s, 1), 1);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(c->s, 0, &info), 0);
  ck_assert_ptr_nonnull(info.srtp_suite);
  c->port[0] = info.port;
  c->port[1] = 1;
}

START_TEST(test_srtp_garbage_counted)
{
  call c;
  savp_call_start(&c, "savp", sdp_savp);
  uint8_t buf[12 + PKT] = { 0x80 };
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, buf, sizeof buf, 2 * S), 0);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.srtp_failures, 3);
  ck_assert_uint_eq(st.packets, 0);
  ck_assert_uint_eq(media_stat(&c, SIPREC_MEDIA_SRTP_FAILURES), 3);
  ck_assert_uint_eq(L.n_frames, 0);
  call_free(&c);
}
END_TEST
#endif


#ifdef SR_HAVE_SRTP
/* SRTP with the offer's key: protected with libsrtp2 in the test, the
 * speech comes out decrypted and exact; a tampered packet is an SRTP
 * failure, never audio. */
START_TEST(test_srtp_decoded)
{
  call c;
  savp_call_start(&c, "savp2", sdp_savp);
  /* The sender: the offer's key. */
  sr_srtp_key key;
  offer_key(&key);
  srtp_t tx = NULL;
  ck_assert_int_eq(srtp_fx_tx_create("AES_CM_128_HMAC_SHA1_80", key.key, 0, &tx), 0);
  size_t n = npkt < 50 ? npkt : 50;
  uint64_t t = 2 * S;
  for (size_t k = 0; k < n; k++, t += 20 * MS) {
    uint8_t buf[12 + PKT + SRTP_MAX_TRAILER_LEN];
    int len = (int)rtpb_media(buf, sizeof buf, 0, k == 0, (uint16_t)(1000 + k),
                              (uint32_t)(5000 + k * PKT), 0x5e5e, pay[k], PKT);
    ck_assert_int_eq(srtp_protect(tx, buf, &len), srtp_err_status_ok);
    if (k == 10) { /* a forged copy first: the tag does not hold */
      uint8_t bad[sizeof buf];
      memcpy(bad, buf, (size_t)len);
      bad[20] ^= 0x40;
      ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, bad, (size_t)len, t), 0);
    }
    ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, buf, (size_t)len, t), 0);
  }
  siprec_handler_expire(c.f.h, t + 1 * S);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_eq(st.srtp_failures, 1);
  ck_assert_uint_eq(st.packets, n);
  /* The audio is the payloads decoded directly, sample for sample. */
  ck_assert_uint_eq(L.n_audio[0], n * PKT);
  ck_assert_msg(memcmp(L.audio[0], ref, n * PKT * sizeof *ref) == 0,
                "the decrypted speech is not spandsp's decode");
  srtp_dealloc(tx);
  call_free(&c);
}
END_TEST
#endif

#ifdef SR_HAVE_SRTP
/* An SRC that puts an MKI in every packet (a=crypto "|2^20|7:2"): the
 * handler keys libsrtp2 with that MKI, so its packets come out decrypted
 * and exact; packets of the same key under another MKI (a second master
 * key the SRS was never given) are SRTP failures, never audio. */
static const char sdp_savp_mki[] =
  "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/SAVP 0\r\n"
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|7:2\r\n"
  "a=sendonly\r\na=label:1\r\n";

static srtp_t mki_sender(uint8_t *key, uint8_t *mki)
{
  srtp_policy_t pol;
  ck_assert_int_eq(srtp_fx_policy("AES_CM_128_HMAC_SHA1_80", &pol), 0);
  srtp_master_key_t mk = { key, mki, 2 };
  srtp_master_key_t *mks[1] = { &mk };
  pol.keys = mks;
  pol.num_master_keys = 1;
  pol.ssrc.type = ssrc_any_outbound;
  srtp_t tx = NULL;
  ck_assert_int_eq(srtp_create(&tx, &pol), srtp_err_status_ok);
  return tx;
}

START_TEST(test_srtp_mki_decoded)
{
  call c;
  savp_call_start(&c, "mki", sdp_savp_mki);
  sr_srtp_key key;
  offer_key(&key);
  uint8_t mki_good[2] = { 0, 7 }, mki_bad[2] = { 0, 8 };
  srtp_t tx = mki_sender(key.key, mki_good), other = mki_sender(key.key, mki_bad);
  size_t n = npkt < 50 ? npkt : 50, wrong = 0;
  uint64_t t = 2 * S;
  for (size_t k = 0; k < n; k++, t += 20 * MS) {
    uint8_t buf[12 + PKT + SRTP_MAX_TRAILER_LEN];
    buf[0] = 0x80;
    buf[1] = k == 0 ? 0x80 : 0x00;
    rtpb_put16(buf + 2, (uint16_t)(1000 + k));
    rtpb_put32(buf + 4, (uint32_t)(5000 + k * PKT));
    rtpb_put32(buf + 8, 0x5e5e);
    memcpy(buf + 12, pay[k], PKT);
    uint8_t copy[sizeof buf];
    memcpy(copy, buf, 12 + PKT);
    int len = 12 + PKT;
    ck_assert_int_eq(srtp_protect_mki(tx, buf, &len, 1, 0), srtp_err_status_ok);
    ck_assert_int_eq(len, 12 + PKT + 2 + 10); /* the MKI is on the wire */
    if (k % 10 == 5) { /* the same packet under the other MKI first: refused */
      int l2 = 12 + PKT;
      ck_assert_int_eq(srtp_protect_mki(other, copy, &l2, 1, 0), srtp_err_status_ok);
      ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, copy, (size_t)l2, t), 0);
      wrong++;
    }
    ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, buf, (size_t)len, t), 0);
  }
  siprec_handler_expire(c.f.h, t + 1 * S);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  ck_assert_uint_gt(wrong, 0);
  ck_assert_uint_eq(st.srtp_failures, wrong);
  ck_assert_uint_eq(st.packets, n);
  ck_assert_uint_eq(L.n_audio[0], n * PKT);
  ck_assert_msg(memcmp(L.audio[0], ref, n * PKT * sizeof *ref) == 0,
                "the decrypted speech is not spandsp's decode");
  srtp_dealloc(tx);
  srtp_dealloc(other);
  call_free(&c);
}
END_TEST
#endif

/* RFC 4733 telephone-event on the offer's PT 101: a DTMF event. */
START_TEST(test_dtmf)
{
  call c;
  uint64_t t = call_start_talking(&c, 5);
  for (unsigned i = 0; i < 4; i++, t += 20 * MS) {
    uint8_t buf[16];
    buf[0] = 0x80;
    buf[1] = (uint8_t)((i == 0 ? 0x80 : 0) | 101);
    rtpb_put16(buf + 2, (uint16_t)(1005 + i));
    rtpb_put32(buf + 4, 5000 + 5 * PKT); /* one event: one timestamp */
    rtpb_put32(buf + 8, 0x1111);
    buf[12] = 5;                                   /* '5' */
    buf[13] = (uint8_t)((i == 3 ? 0x80 : 0) | 10); /* E on the last; -10 dBm0 */
    rtpb_put16(buf + 14, (uint16_t)(160 * (i + 1)));
    ck_assert_int_eq(feed_raw(&c, c.port[0], NULL, buf, sizeof buf, t), 0);
  }
  ck_assert_int_ge(L.dtmf, 1);
  ck_assert_int_eq(L.last_digit, '5');
  call_free(&c);
}
END_TEST

/* By default every codec the build decodes is accepted, G.726-32 as bare
 * static payload type 2 among them; a host naming codecs keeps its list. */
static const char sdp_g726[] =
  "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/AVP 2\r\na=sendonly\r\na=label:1\r\n";

START_TEST(test_default_codecs_are_the_built_ones)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "g726", NULL, 1, "g726", "Require: siprec\r\n", sdp_g726);
  ck_assert_int_gt(fx_feed(&f, msg, 1 * S), 0);
  ck_assert_int_eq(f.status, 200);
  ck_assert_ptr_nonnull(strstr(f.resp, "m=audio 20000 RTP/AVP 2"));
  siprec_session *s;
  ck_assert_uint_eq(siprec_handler_sessions(f.h, &s, 1), 1);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(s, 0, &info), 0);
  ck_assert_str_eq(info.codec, "G726-32");
  ck_assert_int_eq(info.payload_type, 2);
  siprec_session_unref(s);
  siprec_handler_free(f.h);

  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  const char *const mine[] = { "PCMU", NULL };
  ck_assert_int_eq(siprec_handler_config_set_codecs(cfg, mine, 0), 0);
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  ck_assert_int_gt(fx_feed(&f, msg, 1 * S), 0);
  ck_assert_int_eq(f.status, 488);
  siprec_handler_free(f.h);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_media");
  TCase *tc = tcase_create("media");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_frames_attributed_and_exact);
  tcase_add_test(tc, test_wrong_source_rtcp_unknown_port);
  tcase_add_test(tc, test_reorder_released_by_expire);
  tcase_add_test(tc, test_pause_resume_remove_by_reinvite);
  tcase_add_test(tc, test_requests_from_callback_busy);
  tcase_add_test(tc, test_no_media_and_idle);
  tcase_add_test(tc, test_two_threads_two_streams);
  tcase_add_test(tc, test_default_codecs_are_the_built_ones);
  tcase_add_test(tc, test_media_keeps_session_alive);
  tcase_add_test(tc, test_source_moved_by_reinvite);
  tcase_add_test(tc, test_dtmf);
#ifdef SR_HAVE_SRTP
  tcase_add_test(tc, test_srtp_garbage_counted);
  tcase_add_test(tc, test_srtp_decoded);
  tcase_add_test(tc, test_srtp_mki_decoded);
#endif
  tcase_add_test(tc, test_codec_switch_within_offer);
  tcase_add_test(tc, test_speech_reordered_and_lossy);
  tcase_add_test(tc, test_batch_as_one_at_a_time);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
