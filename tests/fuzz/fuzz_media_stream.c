/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for sr_media_stream: datagrams from the expected
 * source and from strangers, RTCP on both ports, timers, pause and resume,
 * re-INVITEs and the end, on a fake clock.
 *
 * Input: a config octet (bits 0-1 frame 10/20/30/60 ms, bit 2 output at
 * 16 kHz, bits 3-5 jitter depth 20 << k ms, bit 6 the latched source's
 * port changes by one, bit 7 conceal 40 ms instead of 120), then records:
 * op (low 3 bits: 0-2 RTP from the source, 3 from a stranger, 4 on the
 * RTCP port, 5 expire at the next deadline, 6 pause or resume, 7
 * reconfigure with codec table (op >> 3) % 4), time advance in ms, 16-bit
 * big-endian length, that many octets (cut at the input's end). The
 * stream ends after the last record.
 *
 * Checks: every frame is exactly the frame duration at its rate; positions
 * never go back (at one rate); events at frame boundaries move the
 * position forward only; ENDED comes once, last; the heap stays bounded
 * while running and is all returned on free. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "media/stream.h"

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

#define MS 1000000ull

static size_t heap_bytes, heap_peak;

static void *cnt_malloc(size_t n, void *user)
{
  (void)user;
  size_t *p = malloc(sizeof(size_t) * 2 + n);
  if (!p)
    return NULL;
  p[0] = n;
  heap_bytes += n;
  if (heap_bytes > heap_peak)
    heap_peak = heap_bytes;
  return p + 2;
}

static void cnt_free(void *ptr, void *user)
{
  (void)user;
  if (!ptr)
    return;
  size_t *p = (size_t *)ptr - 2;
  heap_bytes -= p[0];
  free(p);
}

static void *cnt_realloc(void *ptr, size_t n, void *user)
{
  void *q = cnt_malloc(n, user);
  if (q && ptr) {
    size_t old = ((size_t *)ptr - 2)[0];
    memcpy(q, ptr, old < n ? old : n);
    cnt_free(ptr, user);
  }
  return q;
}

typedef struct run {
  uint32_t frame_ms;
  uint32_t rate;
  uint64_t next_pos;
  bool ended;
  unsigned sink;
} run;

/* A codec of another rate (no output rate set) converts the position
 * into the new rate's samples, as the stream does. */
static void follow_rate(run *r, uint32_t rate)
{
  if (r->rate && rate != r->rate)
    r->next_pos = r->next_pos * rate / r->rate;
  r->rate = rate;
}

static void on_frame(void *user, const sr_ms_frame *f)
{
  run *r = user;
  CHECK(!r->ended);
  CHECK(f->rate >= 1000 && f->count == (size_t)f->rate * r->frame_ms / 1000);
  follow_rate(r, f->rate);
  CHECK(f->position >= r->next_pos);
  r->next_pos = f->position + f->count;
  for (size_t i = 0; i < f->count; i++)
    r->sink += (unsigned)f->samples[i]; /* the sanitizers see every sample read */
}

static void on_event(void *user, const sr_ms_event *e)
{
  run *r = user;
  CHECK(!r->ended);
  follow_rate(r, e->rate);
  CHECK(e->position >= r->next_pos);
  bool at_boundary = e->type == SR_MS_EV_GAP || e->type == SR_MS_EV_DISCONTINUITY ||
                     e->type == SR_MS_EV_PAUSED || e->type == SR_MS_EV_RESUMED;
  if (at_boundary)
    r->next_pos = e->position + e->samples;
  CHECK(e->samples < (uint64_t)e->rate * 3600 * 24); /* never days of silence */
  if (e->type == SR_MS_EV_ENDED)
    r->ended = true;
}

static void on_dtmf(void *user, const sr_ms_dtmf *d)
{
  run *r = user;
  CHECK(!r->ended);
  CHECK(d->start || d->end);
}

static const sr_decoder_params all_codecs[] = {
  { .encoding = "PCMU", .payload_type = 0, .clock_rate = 8000 },
  { .encoding = "PCMA", .payload_type = 8, .clock_rate = 8000 },
  { .encoding = "G722", .payload_type = 9, .clock_rate = 8000 },
  { .encoding = "L16", .payload_type = 96, .clock_rate = 16000 },
  { .encoding = "opus", .payload_type = 111, .clock_rate = 48000, .channels = 2 },
  { .encoding = "G726-32", .payload_type = 2, .clock_rate = 8000 },
};

/* Tables a re-INVITE may bring: 8 kHz clocks, a 16 kHz one, a 48 kHz one. */
static void table(unsigned k, sr_media_stream_config *c)
{
  static const size_t start[4] = { 0, 3, 4, 1 }, count[4] = { 3, 1, 1, 5 };
  c->codecs = &all_codecs[start[k]];
  c->n_codecs = count[k];
}

static struct sockaddr_in addr4(const char *ip, uint16_t port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static void config(uint8_t b, sr_media_stream_config *c)
{
  static const uint32_t frames[4] = { 10, 20, 30, 60 };
  *c = (sr_media_stream_config){ .dtmf_pt = 101, .expected_ip = "192.0.2.10",
                                 .expected_port = 4000, .signalling_ip = "203.0.113.9" };
  table(0, c);
  c->frame_ms = frames[b & 3];
  c->out_rate = b & 4 ? 16000 : 0;
  c->jitter_ms = 20u << ((b >> 3) & 7);
  c->conceal_ms = b & 0x80 ? 40 : 0;
  c->no_media_ms = 3000;
}

static void op(sr_media_stream *s, uint8_t o, const uint8_t *d, size_t n, uint64_t now,
               const struct sockaddr *src, sr_media_stream_config *cfg)
{
  static const struct sockaddr_in stranger = { .sin_family = AF_INET, .sin_port = 0x0F27 };
  uint64_t dl;
  switch (o & 7) {
  case 3:
    CHECK(sr_media_stream_feed(s, d, n, (const struct sockaddr *)&stranger, now) >= 0);
    break;
  case 4:
    CHECK(sr_media_stream_feed_rtcp(s, d, n, src, now) >= 0);
    break;
  case 5:
    if (sr_media_stream_next_deadline(s, &dl))
      sr_media_stream_expire(s, dl > now ? dl : now);
    break;
  case 6:
    if (n & 1)
      sr_media_stream_pause(s, now);
    else
      sr_media_stream_resume(s, now);
    break;
  case 7:
    table((o >> 3) & 3, cfg);
    cfg->expected_ip = o & 0x20 ? "192.0.2.10" : "192.0.2.11";
    CHECK(sr_media_stream_reconfigure(s, cfg, now) == 0);
    break;
  default:
    CHECK(sr_media_stream_feed(s, d, n, src, now) >= 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const siprec_allocator hook = { cnt_malloc, cnt_realloc, cnt_free, NULL };
  if (size < 1)
    return 0;
  sr_media_stream_config cfg;
  config(data[0], &cfg);
  run r = { .frame_ms = cfg.frame_ms };
  sr_media_stream_callbacks cb = { on_frame, on_event, on_dtmf, &r };
  uint64_t now = 1000 * MS;
  sr_media_stream *s = NULL;
  heap_bytes = heap_peak = 0;
  CHECK(sr_media_stream_new(&hook, &cfg, &cb, now, &s) == 0);
  struct sockaddr_in a = addr4(data[0] & 0x40 ? "192.0.2.11" : "192.0.2.10", 4000);
  for (size_t off = 1; size - off >= 4;) {
    uint8_t o = data[off];
    now += data[off + 1] * MS;
    size_t n = ((size_t)data[off + 2] << 8) | data[off + 3];
    off += 4;
    if (n > size - off)
      n = size - off;
    op(s, o, data + off, n, now, (const struct sockaddr *)&a, &cfg);
    off += n;
    /* Jitter buffer (32 KiB of payload and its slots), codecs, scratch. */
    CHECK(heap_bytes <= 256 * 1024);
  }
  sr_media_stream_end(s, now + 1000 * MS);
  CHECK(r.ended);
  uint64_t dl;
  CHECK(!sr_media_stream_next_deadline(s, &dl));
  sr_media_stream_free(s);
  CHECK(heap_bytes == 0);
  return 0;
}
