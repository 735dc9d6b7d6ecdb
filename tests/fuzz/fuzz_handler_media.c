/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the recorded media through the handler: a call is
 * answered (its codec picked by the input's first byte among those built),
 * then the input is a list of records `op len(2) data[len]`: a datagram to
 * a stream's RTP or RTCP port or to a port nobody has, from the SRC or a
 * stranger (one siprec_handler_media() call each, or, when the first
 * byte's top bit is set, held and fed in batches of up to seven with
 * siprec_handler_media_batch()); the clock moving with
 * next_deadline/expire; a re-INVITE pausing or resuming the first stream,
 * or removing the second; the BYE.
 * Then the handler is freed. Checks: frames have the frame duration and
 * advance in position; nothing of a stream comes after its ENDED, and
 * ENDED comes before the session's ended; every datagram gets 0 or
 * SIPREC_ENOTFOUND; and (sanitizers) nothing crashes, leaks or reads out of
 * bounds. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/siprec.h>

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

#define MS UINT64_C(1000000)

static struct state {
  siprec_handler *h;
  int ended;          /* the session's ended callback ran */
  int stream_ended[4];
  uint64_t next_pos[4];
  int started[4];
  uint64_t rng;
} st;

static int fuzz_random(void *user, void *buf, size_t len)
{
  (void)user;
  unsigned char *b = buf;
  for (size_t i = 0; i < len; i++) {
    st.rng = st.rng * 6364136223846793005ull + 1442695040888963407ull;
    b[i] = (unsigned char)(st.rng >> 33);
  }
  return 0;
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)user;
  (void)s;
  (void)r;
  st.ended = 1;
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)user;
  (void)data;
  (void)len;
  (void)path;
}

static void on_audio(void *user, const siprec_audio_frame *f)
{
  (void)user;
  CHECK(f->stream < 4);
  CHECK(!st.stream_ended[f->stream]);
  CHECK(!st.ended);
  CHECK(f->n_samples == (size_t)f->sample_rate / 50); /* 20 ms */
  CHECK(f->position >= st.next_pos[f->stream] || f->flags & SIPREC_AUDIO_CODEC_CHANGED);
  st.next_pos[f->stream] = f->position + f->n_samples;
}

static void on_event(void *user, const siprec_stream_event *e)
{
  (void)user;
  CHECK(e->stream < 4);
  CHECK(!st.stream_ended[e->stream]);
  CHECK(!st.ended);
  if (e->type == SIPREC_STREAM_ENDED)
    st.stream_ended[e->stream] = 1;
  if (e->type == SIPREC_STREAM_STARTED || e->type == SIPREC_STREAM_CODEC_CHANGED ||
      e->type == SIPREC_STREAM_DISCONTINUITY || e->type == SIPREC_STREAM_GAP ||
      e->type == SIPREC_STREAM_RESUMED)
    st.next_pos[e->stream] = 0; /* the timeline may be converted or jump: not checked */
}

static void on_dtmf(void *user, const siprec_dtmf_event *d)
{
  (void)user;
  CHECK(d->stream < 4);
  CHECK(!st.stream_ended[d->stream]);
}

static const char *const codec_lines[] = {
  "m=audio 10000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n",
  "m=audio 10000 RTP/AVP 8 101\r\n",
  "m=audio 10000 RTP/AVP 9 101\r\n",
  "m=audio 10000 RTP/AVP 2 101\r\n",
  "m=audio 10000 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\n",
  "m=audio 10000 RTP/AVP 112 101\r\na=rtpmap:112 L16/16000\r\n",
  "m=audio 10000 RTP/AVP 113 101\r\na=rtpmap:113 AAL2-G726-32/8000\r\n",
};

static size_t request(char *out, size_t size, const char *method, unsigned cseq,
                      const char *tag, const char *codec, const char *dir1, int second)
{
  char sdp[1024] = "";
  if (codec)
    snprintf(sdp, sizeof sdp,
             "v=0\r\no=SRC 1 %u IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
             "%sa=rtpmap:101 telephone-event/8000\r\na=%s\r\na=label:1\r\n"
             "m=audio %d RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n",
             cseq, codec, dir1, second ? 10002 : 0);
  int n = snprintf(out, size,
                   "%s sip:srs@192.0.2.10 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfm%u\r\n"
                   "From: <sip:src@192.0.2.1>;tag=src1\r\nTo: <sip:srs@192.0.2.10>%s%s\r\n"
                   "Call-ID: fuzz-media\r\nCSeq: %u %s\r\n"
                   "Contact: <sip:src@192.0.2.1:5060>;+sip.src\r\nRequire: siprec\r\n"
                   "%sContent-Length: %zu\r\n\r\n%s",
                   method, cseq, tag ? ";tag=" : "", tag ? tag : "", cseq, method,
                   codec ? "Content-Type: application/sdp\r\n" : "", strlen(sdp), sdp);
  return (size_t)n;
}

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static void sip(const char *msg, size_t len, uint64_t now, char *tag, size_t tag_size)
{
  struct sockaddr_in src = sin4("192.0.2.1", 5060), srs = sin4("192.0.2.10", 5060);
  siprec_path p = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&srs, (struct sockaddr *)&src, 0 };
  char resp[8192];
  size_t n = 0;
  int rc = siprec_handler_process(st.h, msg, len, &p, now, resp, sizeof resp - 1, &n);
  if (rc == SIPREC_PROCESS_RESPONSE && tag) {
    resp[n] = '\0';
    const char *t = strstr(resp, "\r\nTo: ");
    t = t ? strstr(t, ";tag=") : NULL;
    if (t) {
      t += 5;
      size_t k = strcspn(t, ";\r\n");
      snprintf(tag, tag_size, "%.*s", (int)k, t);
    }
  }
}

/* Datagrams held for one siprec_handler_media_batch() (the input's first
 * byte's top bit): fed when BATCH are held, before any other step, and at
 * the end, each with the result a single call would give. */
enum { BATCH = 7 };
static struct {
  struct sockaddr_in local[BATCH], from[BATCH];
  siprec_path path[BATCH];
  siprec_datagram d[BATCH];
  size_t n;
} held;

static void feed_held(void)
{
  int rc[BATCH];
  if (!held.n)
    return;
  CHECK(siprec_handler_media_batch(st.h, held.d, held.n, rc) == 0);
  for (size_t i = 0; i < held.n; i++)
    CHECK(rc[i] == 0 || rc[i] == SIPREC_ENOTFOUND);
  held.n = 0;
}

static void feed_datagram(int batched, const uint8_t *data, size_t len,
                          const struct sockaddr_in *local, const struct sockaddr_in *from,
                          uint64_t now)
{
  if (!batched) {
    siprec_path p = { SIPREC_TRANSPORT_UDP, (const struct sockaddr *)local,
                      (const struct sockaddr *)from, 0 };
    int r = siprec_handler_media(st.h, data, len, &p, now);
    CHECK(r == 0 || r == SIPREC_ENOTFOUND);
    return;
  }
  size_t i = held.n++;
  held.local[i] = *local;
  held.from[i] = *from;
  held.path[i] = (siprec_path){ SIPREC_TRANSPORT_UDP, (const struct sockaddr *)&held.local[i],
                                (const struct sockaddr *)&held.from[i], 0 };
  held.d[i] = (siprec_datagram){ data, len, &held.path[i], now };
  if (held.n == BATCH)
    feed_held();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  memset(&st, 0, sizeof st);
  if (size < 1)
    return 0;
  siprec_handler_callbacks *cbs;
  if (siprec_handler_callbacks_new(&cbs, NULL) != 0)
    return 0;
  siprec_handler_callbacks_set_random(cbs, fuzz_random);
  siprec_handler_callbacks_set_send(cbs, on_send);
  siprec_handler_callbacks_set_session_ended(cbs, on_ended);
  siprec_handler_callbacks_set_audio(cbs, on_audio);
  siprec_handler_callbacks_set_stream_event(cbs, on_event);
  siprec_handler_callbacks_set_dtmf(cbs, on_dtmf);
  siprec_handler_config *cfg;
  if (siprec_handler_config_new(&cfg, NULL) != 0) {
    siprec_handler_callbacks_free(cbs);
    return 0;
  }
  siprec_handler_config_set_no_media_timeout(cfg, 500);
  int rc = siprec_handler_new(&st.h, cfg, cbs, NULL, NULL);
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);
  if (rc != 0)
    return 0;
  const char *codec = codec_lines[(data[0] & 0x7f) % (sizeof codec_lines / sizeof codec_lines[0])];
  int batched = data[0] & 0x80;
  held.n = 0;
  data++;
  size--;
  char msg[4096], tag[64] = "";
  uint64_t now = 1000 * MS;
  size_t n = request(msg, sizeof msg, "INVITE", 1, NULL, codec, "sendonly", 1);
  sip(msg, n, now, tag, sizeof tag);
  n = request(msg, sizeof msg, "ACK", 1, tag, NULL, NULL, 0);
  sip(msg, n, now, NULL, 0);
  /* The answered ports: 20000 and 20002 (the built-in pool, first call). */
  const uint16_t ports[] = { 20000, 20001, 20002, 20003, 4242 };
  struct sockaddr_in srs = sin4("192.0.2.10", 0);
  unsigned cseq = 1;
  int paused = 0, second = 1;
  while (size >= 3) {
    uint8_t op = data[0];
    size_t len = (size_t)data[1] << 8 | data[2];
    data += 3;
    size -= 3;
    if (len > size)
      len = size;
    switch (op % 8) {
    case 0: case 1: case 2: case 3: {
      /* A datagram: port by op bits, source the SRC's media or a stranger. */
      srs.sin_port = htons(ports[(op >> 3) % 5]);
      struct sockaddr_in from = (op & 0x80) ? sin4("198.51.100.7", 10000)
                                            : sin4("192.0.2.1", (op & 0x40) ? 10002 : 10000);
      feed_datagram(batched, data, len, &srs, &from, now);
      now += (op >> 5) * MS;
      break;
    }
    case 4: case 5: {
      feed_held();
      /* Time: up to the next deadline, or a jump. */
      uint64_t d = siprec_handler_next_deadline(st.h);
      uint64_t step = (uint64_t)(len ? data[0] : 1) * 10 * MS;
      now = d != UINT64_MAX && d > now && d - now < step ? d : now + step;
      siprec_handler_expire(st.h, now);
      break;
    }
    case 6:
      feed_held();
      /* Re-INVITE: pause/resume stream 1, or drop stream 2. */
      if (op & 0x80)
        paused = !paused;
      /* The second m-line offered again after its removal is a new stream
       * at the same index: its events start over after the old one's
       * ENDED (media.h). */
      if (!(op & 0x40) && !second) {
        st.stream_ended[1] = 0;
        st.next_pos[1] = 0;
      }
      second = !(op & 0x40);
      n = request(msg, sizeof msg, "INVITE", ++cseq, tag, codec, paused ? "inactive" : "sendonly",
                  second);
      sip(msg, n, now, NULL, 0);
      n = request(msg, sizeof msg, "ACK", cseq, tag, NULL, NULL, 0);
      sip(msg, n, now, NULL, 0);
      break;
    default:
      feed_held();
      if (op & 0x80) {
        n = request(msg, sizeof msg, "BYE", ++cseq, tag, NULL, NULL, 0);
        sip(msg, n, now, NULL, 0);
      }
      break;
    }
    data += len;
    size -= len;
  }
  feed_held();
  siprec_handler_free(st.h);
  CHECK(st.ended);
  return 0;
}
