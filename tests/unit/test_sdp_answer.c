/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's SDP offer/answer (lib/sdp/answer.c): every rule on small
 * hand-written offers, the delayed-offer pair, and the shared corpus against
 * its *.expect.json files. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <siprec/common.h>

#include "corpus.h"
#include "expect.h"
#include "sdp/answer.h"
#include "sip/multipart.h"
#include "check_main.h"

#define MAXS 16
#define OUT 8192

/* ---------------------------------------------------------------------- */
/* Fixtures                                                                 */

typedef struct ports {
  int next;      /* next port is 20000 + 2 * next */
  int fail_at;   /* call number that fails, -1 never */
  int calls;
  size_t idx[64];
} ports;

static int port_cb(void *user, size_t index, const sr_sdp_stream *st, uint16_t *port)
{
  ports *p = user;
  (void)st;
  if (p->calls == p->fail_at)
    return -1;
  if (p->calls < 64)
    p->idx[p->calls] = index;
  p->calls++;
  *port = (uint16_t)(20000 + 2 * p->next++);
  return 0;
}

static int rand_cb(void *user, void *buf, size_t len)
{
  unsigned char *b = buf;
  unsigned *seed = user;
  if (*seed == 0xdead)
    return -1;
  for (size_t i = 0; i < len; i++)
    b[i] = (unsigned char)(*seed)++;
  return 0;
}

typedef struct ctx {
  ports p;
  unsigned seed;
  sr_sdp_config cfg;
  sr_sdp_stream st[MAXS];
  size_t n;
  char out[OUT];
  const char *why;
  int rc;
} ctx;

static void ctx_init(ctx *c)
{
  memset(c, 0, sizeof *c);
  c->p.fail_at = -1;
  c->seed = 1;
  c->cfg.media_addr = "192.0.2.10";
  c->cfg.port = port_cb;
  c->cfg.port_user = &c->p;
  c->cfg.random = rand_cb;
  c->cfg.random_user = &c->seed;
  c->cfg.session_id = 1234;
  c->cfg.version = 5;
}

static int answer(ctx *c, const char *offer)
{
  c->why = NULL;
  c->rc = sr_sdp_answer(offer, strlen(offer), &c->cfg, c->st, MAXS, &c->n, c->out, sizeof c->out,
                        &c->why);
  return c->rc;
}

/* The answer text of the i-th m= section (from its m= line up to the next). */
static const char *msect(const char *out, int i, char *buf, size_t size)
{
  const char *p = out;
  for (int k = 0; k <= i; k++) {
    p = strstr(p, "m=");
    while (p && p != out && p[-1] != '\n')
      p = strstr(p + 1, "m=");
    if (!p)
      return NULL;
    if (k < i)
      p += 2;
  }
  const char *e = strstr(p + 2, "\r\nm=");
  size_t n = e ? (size_t)(e - p) + 2 : strlen(p);
  if (n >= size)
    n = size - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

static int count_mlines(const char *s)
{
  int n = 0;
  if (strncmp(s, "m=", 2) == 0)
    n++;
  for (const char *p = s; (p = strstr(p, "\nm=")) != NULL; p++)
    n++;
  return n;
}

/* Every line ends with CRLF, and there is no bare CR or LF. */
static int crlf_only(const char *s)
{
  size_t n = strlen(s);
  if (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n')
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\r' && s[i + 1] != '\n')
      return 0;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
      return 0;
  }
  return 1;
}

#define HDR "v=0\r\no=src 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

/* ---------------------------------------------------------------------- */
/* Basic answer, session part                                               */

START_TEST(test_basic)
{
  ctx c;
  ctx_init(&c);
  const char *offer = HDR "m=audio 49170 RTP/AVP 0 101\r\n"
                          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-15\r\na=ptime:20\r\na=sendonly\r\na=label:1\r\n";
  int rc = answer(&c, offer);
  ck_assert_int_gt(rc, 0);
  ck_assert_int_eq((size_t)rc, strlen(c.out));
  ck_assert_ptr_null(c.why);
  ck_assert_str_eq(c.out, "v=0\r\n"
                          "o=libsiprec 1234 5 IN IP4 192.0.2.10\r\n"
                          "s=-\r\n"
                          "c=IN IP4 192.0.2.10\r\n"
                          "t=0 0\r\n"
                          "m=audio 20000 RTP/AVP 0 101\r\n"
                          "a=rtpmap:0 PCMU/8000\r\n"
                          "a=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-15\r\n"
                          "a=ptime:20\r\n"
                          "a=recvonly\r\n"
                          "a=label:1\r\n");
  ck_assert_uint_eq(c.n, 1);
  sr_sdp_stream *s = &c.st[0];
  ck_assert_str_eq(s->media, "audio");
  ck_assert_str_eq(s->label, "1");
  ck_assert_int_eq(s->has_label, 1);
  ck_assert_int_eq(s->accepted, 1);
  ck_assert_uint_eq(s->port, 20000);
  ck_assert_int_eq(s->new_port, 1);
  ck_assert_int_eq(s->offer_dir, SR_SDP_SENDONLY);
  ck_assert_int_eq(s->answer_dir, SR_SDP_RECVONLY);
  ck_assert_int_eq(s->paused, 0);
  ck_assert_str_eq(s->codec, "PCMU");
  ck_assert_int_eq(s->pt, 0);
  ck_assert_uint_eq(s->clock_rate, 8000);
  ck_assert_uint_eq(s->channels, 1);
  ck_assert_int_eq(s->te_pt, 101);
  ck_assert_uint_eq(s->te_clock, 8000);
  ck_assert_str_eq(s->remote_addr, "192.0.2.1");
  ck_assert_uint_eq(s->remote_port, 49170);
  ck_assert_int_eq(s->srtp, 0);
  ck_assert_uint_eq(s->ptime, 20);
  ck_assert(crlf_only(c.out));
}
END_TEST

START_TEST(test_session_part)
{
  ctx c;
  ctx_init(&c);
  c.cfg.user = "rec-7";
  c.cfg.media_addr = "2001:db8::10";
  c.cfg.session_id = 18446744073709551615ull;
  c.cfg.version = 0;
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 8\r\n"), 0);
  ck_assert_ptr_nonnull(strstr(c.out, "v=0\r\no=rec-7 18446744073709551615 0 IN IP6 2001:db8::10\r\n"
                                      "s=-\r\nc=IN IP6 2001:db8::10\r\nt=0 0\r\nm=audio 20000 "));
  ck_assert(crlf_only(c.out));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Codecs                                                                   */

START_TEST(test_mline_order_decides)
{
  ctx c;
  ctx_init(&c);
  /* BroadWorks: PCMA first on the m= line, PCMU first among the rtpmaps. */
  const char *offer = HDR "m=audio 22294 RTP/AVP 8 101 0 9 18\r\n"
                          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                          "a=rtpmap:18 G729/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-15\r\na=sendonly\r\n";
  ck_assert_int_gt(answer(&c, offer), 0);
  ck_assert_str_eq(c.st[0].codec, "PCMA");
  ck_assert_int_eq(c.st[0].pt, 8);
  ck_assert_ptr_nonnull(strstr(c.out, "m=audio 20000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"));
  ck_assert_ptr_null(strstr(c.out, "PCMU"));
  ck_assert_ptr_null(strstr(c.out, "G722"));
}
END_TEST

START_TEST(test_static_without_rtpmap_and_case)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 18 9 0\r\na=sendonly\r\n"), 0);
  ck_assert_str_eq(c.st[0].codec, "G722");
  ck_assert_int_eq(c.st[0].pt, 9);
  ck_assert_uint_eq(c.st[0].clock_rate, 8000);
  ck_assert_ptr_nonnull(strstr(c.out, "m=audio 20000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n"));

  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 98 97\r\n"
                                  "a=rtpmap:98 L16/16000\r\na=rtpmap:97 pcma/8000\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].codec, "pcma"); /* the offer's spelling */
  ck_assert_int_eq(c.st[0].pt, 97);
  ck_assert_ptr_nonnull(strstr(c.out, "a=rtpmap:97 pcma/8000\r\n"));

  /* opus keeps its channel count. */
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 111\r\na=rtpmap:111 OPUS/48000/2\r\n"), 0);
  ck_assert_str_eq(c.st[0].codec, "OPUS");
  ck_assert_uint_eq(c.st[0].clock_rate, 48000);
  ck_assert_uint_eq(c.st[0].channels, 2);
  ck_assert_ptr_nonnull(strstr(c.out, "a=rtpmap:111 OPUS/48000/2\r\n"));

  /* A dynamic type without rtpmap names nothing. */
  ctx_init(&c);
  ck_assert_int_eq(answer(&c, HDR "m=audio 1000 RTP/AVP 96\r\n"), SIPREC_ENOTFOUND);
}
END_TEST

/* Static payload types named from RFC 3551's one table (lib/common), the
 * same on RTP/AVP (Sofia-SIP reads the formats) and RTP/AVPF (read here as
 * text): PT 2 is G726-32, PT 10 L16 stereo and PT 11 L16 mono at 44100. */
START_TEST(test_static_table_both_profiles)
{
  static const char *const codecs[] = {"L16", "G726-32", NULL};
  static const char *const profiles[] = {"RTP/AVP", "RTP/AVPF"};
  for (size_t i = 0; i < 2; i++) {
    char offer[256];
    ctx c;
    ctx_init(&c);
    c.cfg.codecs = codecs;
    snprintf(offer, sizeof offer, HDR "m=audio 1000 %s 2\r\n", profiles[i]);
    ck_assert_int_gt(answer(&c, offer), 0);
    ck_assert_str_eq(c.st[0].codec, "G726-32");
    ck_assert_uint_eq(c.st[0].clock_rate, 8000);
    ck_assert_uint_eq(c.st[0].channels, 1);
    ck_assert_ptr_nonnull(strstr(c.out, "a=rtpmap:2 G726-32/8000\r\n"));

    ctx_init(&c);
    c.cfg.codecs = codecs;
    snprintf(offer, sizeof offer, HDR "m=audio 1000 %s 10\r\n", profiles[i]);
    ck_assert_int_gt(answer(&c, offer), 0);
    ck_assert_str_eq(c.st[0].codec, "L16");
    ck_assert_uint_eq(c.st[0].clock_rate, 44100);
    ck_assert_uint_eq(c.st[0].channels, 2);
    ck_assert_ptr_nonnull(strstr(c.out, "a=rtpmap:10 L16/44100/2\r\n"));

    ctx_init(&c);
    c.cfg.codecs = codecs;
    snprintf(offer, sizeof offer, HDR "m=audio 1000 %s 11\r\n", profiles[i]);
    ck_assert_int_gt(answer(&c, offer), 0);
    ck_assert_uint_eq(c.st[0].channels, 1);
    ck_assert_ptr_nonnull(strstr(c.out, "a=rtpmap:11 L16/44100\r\n"));

    /* GSM is named (it is in the table) but not accepted here. */
    ctx_init(&c);
    c.cfg.codecs = codecs;
    snprintf(offer, sizeof offer, HDR "m=audio 1000 %s 3\r\n", profiles[i]);
    ck_assert_int_eq(answer(&c, offer), SIPREC_ENOTFOUND);
  }
}
END_TEST

START_TEST(test_config_order)
{
  static const char *const prefs[] = {"opus", "pcma", NULL};
  const char *offer = HDR "m=audio 1000 RTP/AVP 0 8 111\r\na=rtpmap:111 opus/48000/2\r\n";
  ctx c;
  ctx_init(&c);
  c.cfg.codecs = prefs;
  c.cfg.prefer_offer_order = 0;
  ck_assert_int_gt(answer(&c, offer), 0);
  ck_assert_str_eq(c.st[0].codec, "opus");

  ctx_init(&c);
  c.cfg.codecs = prefs;
  c.cfg.prefer_offer_order = 1;
  ck_assert_int_gt(answer(&c, offer), 0);
  ck_assert_str_eq(c.st[0].codec, "PCMA"); /* PCMU is not in the set */

  /* Only codecs of the set are taken. */
  static const char *const only_g722[] = {"G722", NULL};
  ctx_init(&c);
  c.cfg.codecs = only_g722;
  ck_assert_int_eq(answer(&c, offer), SIPREC_ENOTFOUND);
  ck_assert_str_eq(c.why, "no acceptable media");

  /* telephone-event in the configuration is still never the codec. */
  static const char *const te_first[] = {"telephone-event", "PCMU", NULL};
  ctx_init(&c);
  c.cfg.codecs = te_first;
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 101 0\r\n"
                                  "a=rtpmap:101 telephone-event/8000\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].codec, "PCMU");
  ck_assert_int_eq(c.st[0].te_pt, 101);
}
END_TEST

/* The offer's other accepted codecs, in its order, each named through the
 * accepted list it was answered with; at most SR_SDP_ALT_MAX. */
START_TEST(test_alternatives)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 0 3 111 101 9 8 18\r\n"
                                  "a=rtpmap:111 OPUS/48000/2\r\n"
                                  "a=rtpmap:101 telephone-event/8000\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].codec, "PCMU");
  /* GSM (3) is not accepted by default, telephone-event is no codec, G729
   * (18) is not in the default set. */
  ck_assert_uint_eq(c.st[0].n_alt, 3);
  static const struct {
    const char *name;
    unsigned pt, rate, channels;
  } want[] = { { "opus", 111, 48000, 2 }, { "G722", 9, 8000, 1 }, { "PCMA", 8, 8000, 1 } };
  for (size_t i = 0; i < 3; i++) {
    const struct sr_sdp_alt_codec *a = &c.st[0].alt[i];
    ck_assert_str_eq(sr_sdp_alt_encoding(NULL, a), want[i].name); /* the list's spelling */
    ck_assert_uint_eq(a->pt, want[i].pt);
    ck_assert_uint_eq(a->clock_rate, want[i].rate);
    ck_assert_uint_eq(a->channels, want[i].channels);
  }

  /* A configured list: its own spelling and index; four kept at most. */
  static const char *const mine[] = { "g726-32", "l16", "pcma", "PCMU", "G722", "opus", NULL };
  ctx_init(&c);
  c.cfg.codecs = mine;
  c.cfg.prefer_offer_order = 1;
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 0 8 96 97 98 9\r\n"
                                  "a=rtpmap:96 L16/16000\r\na=rtpmap:97 G726-32/8000\r\n"
                                  "a=rtpmap:98 opus/48000/2\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].codec, "PCMU");
  ck_assert_uint_eq(c.st[0].n_alt, SR_SDP_ALT_MAX);
  static const char *const names[] = { "pcma", "l16", "g726-32", "opus" };
  static const unsigned pts[] = { 8, 96, 97, 98 };
  for (size_t i = 0; i < SR_SDP_ALT_MAX; i++) {
    ck_assert_str_eq(sr_sdp_alt_encoding(mine, &c.st[0].alt[i]), names[i]);
    ck_assert_uint_eq(c.st[0].alt[i].pt, pts[i]);
  }
  ck_assert_uint_eq(c.st[0].alt[1].clock_rate, 16000);

  /* Read against a shorter list than it was answered with: no name, no
   * read past the list. */
  static const char *const short_list[] = { "PCMU", NULL };
  ck_assert_ptr_null(sr_sdp_alt_encoding(short_list, &c.st[0].alt[3]));
  ck_assert_str_eq(sr_sdp_alt_encoding(short_list, &(struct sr_sdp_alt_codec){ .codec = 0 }),
                   "PCMU");
  ck_assert_ptr_null(sr_sdp_alt_encoding(mine, NULL));
}
END_TEST

START_TEST(test_telephone_event)
{
  ctx c;
  ctx_init(&c);
  /* Listed first: echoed after the codec, never chosen. */
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 101 8\r\n"
                                  "a=rtpmap:101 TELEPHONE-EVENT/8000\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].codec, "PCMA");
  ck_assert_int_eq(c.st[0].te_pt, 101);
  ck_assert_ptr_nonnull(strstr(c.out, "m=audio 20000 RTP/AVP 8 101\r\n"
                                      "a=rtpmap:8 PCMA/8000\r\n"
                                      "a=rtpmap:101 TELEPHONE-EVENT/8000\r\n"
                                      "a=recvonly\r\n"));
  ck_assert_ptr_null(strstr(c.out, "fmtp")); /* none offered */

  /* Only telephone-event: nothing to record. */
  ctx_init(&c);
  ck_assert_int_eq(answer(&c, HDR "m=audio 1000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n"),
                   SIPREC_ENOTFOUND);

  /* Two clocks: the one of the codec wins. */
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 111 101 102\r\n"
                                  "a=rtpmap:111 opus/48000/2\r\n"
                                  "a=rtpmap:101 telephone-event/8000\r\n"
                                  "a=rtpmap:102 telephone-event/48000\r\na=fmtp:102 0-16\r\n"),
                   0);
  ck_assert_int_eq(c.st[0].te_pt, 102);
  ck_assert_uint_eq(c.st[0].te_clock, 48000);
  ck_assert_ptr_nonnull(strstr(c.out, "m=audio 20000 RTP/AVP 111 102\r\n"
                                      "a=rtpmap:111 opus/48000/2\r\n"
                                      "a=rtpmap:102 telephone-event/48000\r\n"
                                      "a=fmtp:102 0-16\r\n"));

  /* Any clock is echoed when the codec's is not offered. */
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 0 100\r\n"
                                  "a=rtpmap:100 telephone-event/16000\r\n"),
                   0);
  ck_assert_int_eq(c.st[0].te_pt, 100);
  ck_assert_uint_eq(c.st[0].te_clock, 16000);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Declined streams                                                         */

START_TEST(test_declined)
{
  ctx c;
  ctx_init(&c);
  const char *offer = HDR "m=audio 1000 RTP/AVP 0\r\na=sendonly\r\na=label:1\r\n"
                          "m=video 1002 RTP/AVP 96 97\r\na=rtpmap:96 H264/90000\r\na=label:2\r\n"
                          "m=audio 1004 RTP/AVP 18 3\r\na=label:3\r\n"
                          "m=application 1006 UDP/BFCP *\r\na=label:4\r\n"
                          "m=image 1008 udptl t38\r\n"
                          "m=audio 0 RTP/AVP 8\r\na=label:6\r\n"
                          "m=audio 1010 TCP/MSRP *\r\n"
                          "m=audio 99999 RTP/AVP 8\r\n"
                          "m=audio 1012 RTP/AVP 8\r\na=sendonly\r\na=label:9\r\n";
  ck_assert_int_gt(answer(&c, offer), 0);
  ck_assert_uint_eq(c.n, 9);
  ck_assert_int_eq(count_mlines(c.out), 9);
  char b[1024];
  ck_assert_str_eq(msect(c.out, 1, b, sizeof b), "m=video 0 RTP/AVP 96\r\n");
  ck_assert_str_eq(msect(c.out, 2, b, sizeof b), "m=audio 0 RTP/AVP 18\r\n");
  ck_assert_str_eq(msect(c.out, 3, b, sizeof b), "m=application 0 UDP/BFCP *\r\n");
  ck_assert_str_eq(msect(c.out, 4, b, sizeof b), "m=image 0 udptl t38\r\n");
  ck_assert_str_eq(msect(c.out, 5, b, sizeof b), "m=audio 0 RTP/AVP 8\r\n");
  ck_assert_str_eq(msect(c.out, 6, b, sizeof b), "m=audio 0 TCP/MSRP *\r\n");
  ck_assert_str_eq(msect(c.out, 7, b, sizeof b), "m=audio 0 RTP/AVP 8\r\n");
  ck_assert_str_eq(msect(c.out, 8, b, sizeof b),
                   "m=audio 20002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=recvonly\r\na=label:9\r\n");
  for (size_t i = 1; i < 8; i++) {
    ck_assert_int_eq(c.st[i].accepted, 0);
    ck_assert_uint_eq(c.st[i].port, 0);
    ck_assert_int_eq(c.st[i].new_port, 0);
    ck_assert_int_eq(c.st[i].pt, -1);
    ck_assert_str_eq(c.st[i].codec, "");
  }
  ck_assert_str_eq(c.st[1].media, "video");
  ck_assert_str_eq(c.st[1].label, "2"); /* recorded, not echoed */
  ck_assert_str_eq(c.st[3].media, "application");
  ck_assert_uint_eq(c.st[5].remote_port, 0);
  ck_assert_uint_eq(c.st[7].remote_port, 0);
  /* The callback ran for the accepted streams only, with their indexes. */
  ck_assert_int_eq(c.p.calls, 2);
  ck_assert_uint_eq(c.p.idx[0], 0);
  ck_assert_uint_eq(c.p.idx[1], 8);
}
END_TEST

START_TEST(test_nothing_acceptable)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_eq(answer(&c, HDR "m=video 1000 RTP/AVP 96\r\nm=audio 1002 RTP/AVP 18\r\n"),
                   SIPREC_ENOTFOUND);
  ck_assert_str_eq(c.why, "no acceptable media");
  ck_assert_uint_eq(c.n, 2);
  ck_assert_int_eq(c.p.calls, 0);
  ck_assert_str_eq(c.out, "");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Directions                                                               */

static void check_dir(const char *sess_attr, const char *media_attr, sr_sdp_dir offer,
                      sr_sdp_dir ans, int paused)
{
  char sdp[1024];
  snprintf(sdp, sizeof sdp,
           "v=0\r\no=src 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n%s"
           "m=audio 1000 RTP/AVP 0\r\n%s",
           sess_attr, media_attr);
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, sdp), 0);
  ck_assert_msg(c.st[0].offer_dir == offer, "%s|%s: offer dir %d", sess_attr, media_attr,
                c.st[0].offer_dir);
  ck_assert_msg(c.st[0].answer_dir == ans, "%s|%s: answer dir %d", sess_attr, media_attr,
                c.st[0].answer_dir);
  ck_assert_int_eq(c.st[0].paused, paused);
  ck_assert_int_eq(c.st[0].accepted, 1);
  const char *want = ans == SR_SDP_RECVONLY ? "a=recvonly\r\n" : "a=inactive\r\n";
  ck_assert_msg(strstr(c.out, want) != NULL, "%s", c.out);
  ck_assert_int_eq(!!strstr(c.out, "sendonly") + !!strstr(c.out, "sendrecv"), 0);
}

START_TEST(test_directions)
{
  check_dir("", "a=sendonly\r\n", SR_SDP_SENDONLY, SR_SDP_RECVONLY, 0);
  check_dir("", "a=sendrecv\r\n", SR_SDP_SENDRECV, SR_SDP_RECVONLY, 0);
  check_dir("", "", SR_SDP_SENDRECV, SR_SDP_RECVONLY, 0);
  check_dir("", "a=inactive\r\n", SR_SDP_INACTIVE, SR_SDP_INACTIVE, 1);
  check_dir("", "a=recvonly\r\n", SR_SDP_RECVONLY, SR_SDP_INACTIVE, 1);
  check_dir("a=sendonly\r\n", "", SR_SDP_SENDONLY, SR_SDP_RECVONLY, 0);
  check_dir("a=inactive\r\n", "", SR_SDP_INACTIVE, SR_SDP_INACTIVE, 1);
  check_dir("a=inactive\r\n", "a=sendonly\r\n", SR_SDP_SENDONLY, SR_SDP_RECVONLY, 0);
  check_dir("", "a=direction:both\r\na=sendonly\r\n", SR_SDP_SENDONLY, SR_SDP_RECVONLY, 0);
  check_dir("", "a=direction:both\r\n", SR_SDP_SENDRECV, SR_SDP_RECVONLY, 0);
  check_dir("", "a=SENDONLY\r\n", SR_SDP_SENDONLY, SR_SDP_RECVONLY, 0);
  /* Hold by address: paused, still answered recvonly. */
  check_dir("", "c=IN IP4 0.0.0.0\r\na=sendonly\r\n", SR_SDP_SENDONLY, SR_SDP_RECVONLY, 1);
  check_dir("", "c=IN IP6 ::\r\n", SR_SDP_SENDRECV, SR_SDP_RECVONLY, 1);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Connection, labels, ptime                                                */

START_TEST(test_connection_and_labels)
{
  ctx c;
  ctx_init(&c);
  /* No c= anywhere and no t= (OpenSIPS): accepted, address unknown. */
  ck_assert_int_gt(answer(&c, "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\n"
                              "m=audio 35011 RTP/AVP 0 8\r\na=label:1\r\na=sendonly\r\n"
                              "m=audio 35012 RTP/AVP 8 0\r\na=label:2\r\na=sendonly\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].remote_addr, "");
  ck_assert_str_eq(c.st[0].codec, "PCMU");
  ck_assert_str_eq(c.st[1].codec, "PCMA");
  ck_assert_int_eq(c.st[0].paused, 0);

  /* Media-level c= wins over the session's. */
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 0\r\nc=IN IP4 198.51.100.7\r\n"
                                  "a=label:a_leg\r\na=ptime:30\r\n"
                                  "m=audio 1002 RTP/AVP 0\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].remote_addr, "198.51.100.7");
  ck_assert_str_eq(c.st[1].remote_addr, "192.0.2.1");
  ck_assert_str_eq(c.st[0].label, "a_leg");
  ck_assert_int_eq(c.st[1].has_label, 0);
  ck_assert_str_eq(c.st[1].label, "");
  ck_assert_uint_eq(c.st[0].ptime, 30);
  ck_assert_uint_eq(c.st[1].ptime, 0);
  char b[1024];
  ck_assert_str_eq(msect(c.out, 0, b, sizeof b), "m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                                                 "a=ptime:30\r\na=recvonly\r\na=label:a_leg\r\n");
  ck_assert_str_eq(msect(c.out, 1, b, sizeof b),
                   "m=audio 20002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n");

  /* A label longer than the stream can keep is refused, not cut. */
  char sdp[1024], lab[SR_SDP_LABEL_MAX + 2];
  memset(lab, 'x', sizeof lab - 1);
  lab[sizeof lab - 1] = '\0';
  snprintf(sdp, sizeof sdp, HDR "m=audio 1000 RTP/AVP 0\r\na=label:%s\r\n", lab);
  ctx_init(&c);
  ck_assert_int_eq(answer(&c, sdp), SIPREC_EINVAL);
  lab[SR_SDP_LABEL_MAX - 1] = '\0';
  snprintf(sdp, sizeof sdp, HDR "m=audio 1000 RTP/AVP 0\r\na=label:%s\r\n", lab);
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, sdp), 0);
  ck_assert_str_eq(c.st[0].label, lab);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* SRTP                                                                     */

#define KEY40 "EUbICzTYMjbRzLx+wNGdsuL5V52zb0EgnHwA6zk2"
#define KEY64 "EUbICzTYMjbRzLx+wNGdsuL5V52zb0EgnHwA6zk2EUbICzTYMjbRzLx+wNGdsg=="

/* a=rtcp-mux offered: answered (RFC 5761); a=rtcp's port read (RFC 3605). */
START_TEST(test_rtcp_mux_and_rtcp)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 0\r\na=rtcp-mux\r\na=sendonly\r\n"
                                  "m=audio 1002 RTP/AVP 0\r\na=rtcp:1013 IN IP4 192.0.2.1\r\n"
                                  "a=sendonly\r\n"),
                   0);
  ck_assert_int_eq(c.st[0].rtcp_mux, 1);
  ck_assert_int_eq(c.st[1].rtcp_mux, 0);
  ck_assert_uint_eq(c.st[1].remote_rtcp_port, 1013);
  char buf[1024];
  ck_assert_ptr_nonnull(strstr(msect(c.out, 0, buf, sizeof buf), "a=rtcp-mux\r\n"));
  ck_assert_ptr_null(strstr(msect(c.out, 1, buf, sizeof buf), "a=rtcp-mux"));
}
END_TEST

static bool only_sha1_80(const char *suite)
{
  return strcmp(suite, "AES_CM_128_HMAC_SHA1_80") == 0;
}

/* The RFC 7714 GCM suites are taken with their key sizes; a suite the
 * media side cannot decrypt (suite_ok) is passed over for the next line,
 * and an m-line with none it takes is declined. */
START_TEST(test_srtp_gcm_and_suite_ok)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                                  "a=crypto:1 AEAD_AES_128_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA==\r\n"
                                  "a=sendonly\r\n"),
                   0);
  ck_assert_int_eq(c.st[0].srtp, 1);
  ck_assert_str_eq(c.st[0].crypto_suite, "AEAD_AES_128_GCM");
  ck_assert_uint_eq(strlen(c.st[0].local_key), 40);
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                                  "a=crypto:2 AEAD_AES_256_GCM inline:"
                                  "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKyw=\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].crypto_suite, "AEAD_AES_256_GCM");
  ck_assert_uint_eq(strlen(c.st[0].local_key), 60);
  /* suite_ok: the _32 line is passed over for the _80 one. */
  ctx_init(&c);
  c.cfg.suite_ok = only_sha1_80;
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                                  "a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:" KEY40 "\r\n"
                                  "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" KEY40 "\r\n"),
                   0);
  ck_assert_int_eq(c.st[0].crypto_tag, 7);
  /* Nothing it takes: declined (port 0). */
  ctx_init(&c);
  c.cfg.suite_ok = only_sha1_80;
  answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                 "a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:" KEY40 "\r\n");
  ck_assert_int_eq(c.st[0].accepted, 0);
}
END_TEST

/* The SRTP stream offered with one a=crypto line `line` (after the tag and
 * suite): 1 and its remote_key when taken, 0 when declined. */
static int crypto_line(const char *suite, const char *line, char *key_info)
{
  char offer[1024];
  ctx c;
  ctx_init(&c);
  snprintf(offer, sizeof offer, HDR "m=audio 1000 RTP/SAVP 0\r\na=crypto:1 %s %s\r\n", suite, line);
  int rc = answer(&c, offer);
  if (rc == SIPREC_ENOTFOUND)
    return 0;
  ck_assert_int_gt(rc, 0);
  ck_assert_int_eq(c.st[0].srtp, 1);
  strcpy(key_info, c.st[0].remote_key);
  return 1;
}

/* RFC 4568 key-info: the lifetime in both forms, the MKI, several keys;
 * the stream keeps the first key's key-info in one written form (what the
 * media layer keys libsrtp2 with); a malformed one makes the line unusable
 * (the stream is declined: 488 here, the only stream). */
START_TEST(test_srtp_key_info)
{
  static const char *const s80 = "AES_CM_128_HMAC_SHA1_80";
  static const struct {
    const char *params, *kept;
  } good[] = {
    { "", "" },
    { "|2^20", "|2^20" },
    { "|1048576", "|2^20" },               /* a power of two, written as one */
    { "|1000", "|1000" },
    { "|2^47", "|2^47" },
    { "|281474976710655", "|281474976710655" },
    { "|2^48", "" },                       /* RFC 3711's limit: the default */
    { "|2^63", "" },
    { "|18446744073709551615", "" },
    { "|1:4", "|1:4" },
    { "|0007:2", "|7:2" },
    { "|2^31|1:1", "|2^31|1:1" },
    { "|4294967295:4", "|4294967295:4" },
    { "|281474976710655|4294967295:128", "|281474976710655|4294967295:128" }, /* the longest */
    { "|2^20|1:4 FEC_ORDER=FEC_SRTP", "|2^20|1:4" }, /* session params: not ours */
    { "|2^20|1:4;inline:" KEY40 "|2:4", "|2^20|1:4" }, /* two keys: the first */
    { "|1:1;inline:" KEY40 "|2^10|2:1;inline:" KEY40 "|3:1", "|1:1" },
  };
  char kept[SR_SDP_KEY_INFO_MAX], want[SR_SDP_KEY_INFO_MAX + 8], line[512];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    snprintf(line, sizeof line, "inline:" KEY40 "%s", good[i].params);
    ck_assert_msg(crypto_line(s80, line, kept), "declined: %s", good[i].params);
    snprintf(want, sizeof want, KEY40 "%s", good[i].kept);
    ck_assert_str_eq(kept, want);
  }
  /* The longest key with the longest key-info fits. */
  ck_assert(crypto_line("AES_256_CM_HMAC_SHA1_80",
                        "inline:" KEY64 "|281474976710655|4294967295:128", kept));
  ck_assert_str_eq(kept, KEY64 "|281474976710655|4294967295:128");
  ck_assert_uint_eq(strlen(kept), SR_SDP_KEY_INFO_MAX - 1);

  static const char *const bad[] = {
    "|", "|2^", "|2^0", "|2^64", "|0", "|abc", "|2^31|", "|2^31|1:", "|1:0", "|:4", "|1:",
    "|1:129", "|256:1", "|65536:2", "|2^31|1:4|x", "|1:4|2^31", "|2^20|2^20",
    "|99999999999999999999999", "|2^31x", "*",
    "|4294967296:8",                         /* an MKI value past 2^32 - 1: not supported */
    ";inline:" KEY40,                        /* two keys without MKIs */
    "|1:4;inline:" KEY40,                    /* the second without one */
    "|1:4;inline:" KEY40 "|2:2",             /* MKIs of different lengths */
    "|1:4;inline:short|2:4",                 /* the second key malformed */
    "|1:4;",                                 /* an empty second key */
    "|1:4;" KEY40 "|2:4",                    /* the second without its method */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(line, sizeof line, "inline:" KEY40 "%s", bad[i]);
    ck_assert_msg(!crypto_line(s80, line, kept), "taken: %s", bad[i]);
  }
}
END_TEST

START_TEST(test_srtp)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                                  "a=crypto:3 F8_128_HMAC_SHA1_80 inline:" KEY40 "\r\n"
                                  "a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:" KEY40 "|2^31|1:1\r\n"
                                  "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" KEY40 "\r\n"
                                  "a=sendonly\r\n"),
                   0);
  sr_sdp_stream *s = &c.st[0];
  ck_assert_int_eq(s->srtp, 1);
  ck_assert_int_eq(s->crypto_tag, 5);
  ck_assert_str_eq(s->crypto_suite, "AES_CM_128_HMAC_SHA1_32");
  ck_assert_str_eq(s->remote_key, KEY40 "|2^31|1:1"); /* the key-info, for the media */
  /* 30 bytes 1, 2, ..., 30 from the random callback. */
  ck_assert_str_eq(s->local_key, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e");
  ck_assert_ptr_nonnull(strstr(c.out, "m=audio 20000 RTP/SAVP 0\r\n"));
  ck_assert_ptr_nonnull(
    strstr(c.out, "a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e\r\n"));
  ck_assert_ptr_null(strstr(c.out, "RTP/AVP"));
  ck_assert_int_eq(count_mlines(c.out), 1);
  ck_assert_ptr_null(strstr(c.out, "a=crypto:7"));

  /* AES-256: a 46-byte key. SAVPF is answered SAVPF. */
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVPF 96\r\na=rtpmap:96 opus/48000/2\r\n"
                                  "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" KEY64 "\r\n"),
                   0);
  ck_assert_str_eq(c.st[0].crypto_suite, "AES_256_CM_HMAC_SHA1_80");
  ck_assert_str_eq(c.st[0].remote_key, KEY64);
  ck_assert_uint_eq(strlen(c.st[0].local_key), 64);
  ck_assert_str_eq(c.st[0].codec, "opus");
  ck_assert_ptr_nonnull(strstr(c.out, "m=audio 20000 RTP/SAVPF 96\r\na=rtpmap:96 opus/48000/2\r\n"));

  /* No usable crypto line: declined, never downgraded. */
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                                  "m=audio 1002 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:short\r\n"
                                  "m=audio 1004 RTP/SAVP 0\r\na=crypto:x AES_CM_128_HMAC_SHA1_80 inline:" KEY40 "\r\n"
                                  "m=audio 1006 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY40 "\r\n"
                                  "m=audio 1008 RTP/AVP 0\r\n"),
                   0);
  char b[256];
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(c.st[i].accepted, 0);
    ck_assert_int_eq(c.st[i].srtp, 0);
    ck_assert_str_eq(msect(c.out, i, b, sizeof b), "m=audio 0 RTP/SAVP 0\r\n");
  }
  ck_assert_int_eq(c.st[4].accepted, 1);
  ck_assert_ptr_null(strstr(c.out, "crypto"));

  /* The random source fails. */
  ctx_init(&c);
  c.seed = 0xdead;
  ck_assert_int_eq(answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY40 "\r\n"),
                   SIPREC_ERANDOM);

  /* Without a random callback, the kernel's source is used. */
  ctx_init(&c);
  c.cfg.random = NULL;
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVP 0\r\n"
                                  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY40 "\r\n"),
                   0);
  ck_assert_uint_eq(strlen(c.st[0].local_key), 40);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Ports and re-offers                                                      */

START_TEST(test_port_failure)
{
  ctx c;
  ctx_init(&c);
  c.p.fail_at = 1;
  ck_assert_int_eq(answer(&c, HDR "m=audio 1000 RTP/AVP 0\r\nm=audio 1002 RTP/AVP 0\r\n"),
                   SIPREC_EAGAIN);
  ck_assert_ptr_nonnull(c.why);
  ck_assert_uint_eq(c.n, 2);
  ck_assert_int_eq(c.st[0].new_port, 1); /* the caller's to take back */
  ck_assert_uint_eq(c.st[0].port, 20000);
  ck_assert_int_eq(c.st[1].new_port, 0);
  ck_assert_int_eq(c.st[1].accepted, 0); /* no port: not accepted */
  ck_assert_uint_eq(c.st[1].port, 0);
}
END_TEST

START_TEST(test_reoffer_keeps_ports)
{
  ctx c;
  ctx_init(&c);
  const char *first = HDR "m=audio 1000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY40
                          "\r\na=label:a\r\n"
                          "m=audio 1002 RTP/AVP 0\r\na=label:b\r\n";
  ck_assert_int_gt(answer(&c, first), 0);
  sr_sdp_stream cur[2];
  memcpy(cur, c.st, sizeof cur);
  ck_assert_uint_eq(cur[0].port, 20000);
  ck_assert_uint_eq(cur[1].port, 20002);

  /* Re-INVITE: b moves first, a is paused, c is new, a second "b" gets a new port. */
  ctx d;
  ctx_init(&d);
  d.p.next = 10;
  d.seed = 100;
  d.cfg.current = cur;
  d.cfg.n_current = 2;
  d.cfg.version = 6;
  const char *re = HDR "m=audio 1002 RTP/AVP 8\r\na=label:b\r\n"
                       "m=audio 1000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY40
                       "\r\na=label:a\r\na=inactive\r\n"
                       "m=audio 1004 RTP/AVP 0\r\na=label:c\r\n"
                       "m=audio 1006 RTP/AVP 0\r\na=label:b\r\n";
  ck_assert_int_gt(answer(&d, re), 0);
  ck_assert_uint_eq(d.st[0].port, 20002);
  ck_assert_int_eq(d.st[0].new_port, 0);
  ck_assert_str_eq(d.st[0].codec, "PCMA");
  ck_assert_uint_eq(d.st[1].port, 20000);
  ck_assert_int_eq(d.st[1].new_port, 0);
  ck_assert_str_eq(d.st[1].local_key, cur[0].local_key);
  ck_assert_int_eq(d.st[1].paused, 1);
  ck_assert_uint_eq(d.st[2].port, 20020);
  ck_assert_int_eq(d.st[2].new_port, 1);
  ck_assert_uint_eq(d.st[3].port, 20022);
  ck_assert_int_eq(d.p.calls, 2);
  ck_assert_ptr_nonnull(strstr(d.out, "o=libsiprec 1234 6 IN IP4"));

  /* Without labels, the position decides. */
  ctx e;
  ctx_init(&e);
  ck_assert_int_gt(answer(&e, HDR "m=audio 1000 RTP/AVP 0\r\nm=audio 1002 RTP/AVP 0\r\n"), 0);
  memcpy(cur, e.st, sizeof cur);
  ctx f;
  ctx_init(&f);
  f.p.next = 50;
  f.cfg.current = cur;
  f.cfg.n_current = 2;
  ck_assert_int_gt(answer(&f, HDR "m=audio 1000 RTP/AVP 0\r\nm=audio 1002 RTP/AVP 0\r\n"
                                  "m=audio 1004 RTP/AVP 0\r\n"),
                   0);
  ck_assert_uint_eq(f.st[0].port, 20000);
  ck_assert_uint_eq(f.st[1].port, 20002);
  ck_assert_uint_eq(f.st[2].port, 20100);
  ck_assert_int_eq(f.p.calls, 1);
}
END_TEST

/* One matching rule (sr_sdp_continued) for the answer and for the session's
 * change report: every offered stream takes part in m-line order, declined
 * ones too, and each current stream is continued once at most. */
START_TEST(test_reoffer_one_matching_rule)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/AVP 0\r\na=label:a\r\n"
                                  "m=audio 1002 RTP/AVP 0\r\na=label:a\r\n"),
                   0);
  sr_sdp_stream cur[2];
  memcpy(cur, c.st, sizeof cur);

  /* A duplicated label continues the next current stream of that label. */
  ctx d;
  ctx_init(&d);
  d.p.next = 10;
  d.cfg.current = cur;
  d.cfg.n_current = 2;
  ck_assert_int_gt(answer(&d, HDR "m=audio 1000 RTP/AVP 0\r\na=label:a\r\n"
                                  "m=audio 1002 RTP/AVP 0\r\na=label:a\r\n"),
                   0);
  ck_assert_uint_eq(d.st[0].port, cur[0].port);
  ck_assert_uint_eq(d.st[1].port, cur[1].port);
  ck_assert_int_eq(d.p.calls, 0);

  /* A declined stream continues (ends) the first "a": the accepted one
   * after it continues the second. */
  ctx e;
  ctx_init(&e);
  e.p.next = 10;
  e.cfg.current = cur;
  e.cfg.n_current = 2;
  ck_assert_int_gt(answer(&e, HDR "m=video 1000 RTP/AVP 31\r\na=label:a\r\n"
                                  "m=audio 1002 RTP/AVP 0\r\na=label:a\r\n"),
                   0);
  ck_assert_int_eq(e.st[0].accepted, 0);
  ck_assert_uint_eq(e.st[1].port, cur[1].port);

  uint8_t used[2] = { 0 };
  ck_assert_ptr_eq(sr_sdp_continued(cur, 2, &e.st[0], 0, used), &cur[0]);
  ck_assert_ptr_eq(sr_sdp_continued(cur, 2, &e.st[1], 1, used), &cur[1]);
  ck_assert_ptr_null(sr_sdp_continued(cur, 2, &e.st[1], 2, used));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Errors and hostile input                                                 */

START_TEST(test_errors)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_eq(answer(&c, HDR), SIPREC_EINVAL);
  ck_assert_str_eq(c.why, "SDP: no m= line");
  ck_assert_int_eq(answer(&c, "hello world\r\n"), SIPREC_EINVAL);
  ck_assert_str_eq(c.why, "SDP: parse error");
  ck_assert_int_eq(answer(&c, ""), SIPREC_EINVAL);
  ck_assert_int_eq(answer(&c, "\r\n\r\n  \r\n"), SIPREC_EINVAL);
  ck_assert_int_eq(answer(&c, "v=0\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n"), SIPREC_EINVAL); /* no o= */
  ck_assert_int_eq(answer(&c, HDR "m=audio 1000 RTP/AVP 0 300\r\n"), SIPREC_EINVAL);
  ck_assert_int_eq(answer(&c, HDR "m=audio 1000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n"), SIPREC_EINVAL);
  ck_assert_int_eq(c.p.calls, 0);

  /* NUL inside; a trailing NUL is forgiven. */
  const char nul[] = HDR "m=audio 1000 RTP/AVP 0\r\n\0m=audio 1002 RTP/AVP 0\r\n";
  ck_assert_int_eq(sr_sdp_answer(nul, sizeof nul - 1, &c.cfg, c.st, MAXS, &c.n, c.out, OUT, &c.why),
                   SIPREC_EINVAL);
  const char tnul[] = HDR "m=audio 1000 RTP/AVP 0\r\n";
  ck_assert_int_gt(sr_sdp_answer(tnul, sizeof tnul, &c.cfg, c.st, MAXS, &c.n, c.out, OUT, &c.why), 0);

  /* Arguments. */
  const char *o = HDR "m=audio 1000 RTP/AVP 0\r\n";
  size_t ol = strlen(o);
  ck_assert_int_eq(sr_sdp_answer(NULL, 0, &c.cfg, c.st, MAXS, &c.n, c.out, OUT, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_sdp_answer(o, ol, NULL, c.st, MAXS, &c.n, c.out, OUT, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_sdp_answer(o, ol, &c.cfg, NULL, MAXS, &c.n, c.out, OUT, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_sdp_answer(o, ol, &c.cfg, c.st, MAXS, NULL, c.out, OUT, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_sdp_answer(o, ol, &c.cfg, c.st, MAXS, &c.n, NULL, OUT, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_sdp_answer(o, ol, &c.cfg, c.st, MAXS, &c.n, c.out, 0, NULL), SIPREC_EINVAL);
  sr_sdp_config bad = c.cfg;
  bad.media_addr = NULL;
  ck_assert_int_eq(sr_sdp_answer(o, ol, &bad, c.st, MAXS, &c.n, c.out, OUT, NULL), SIPREC_EINVAL);
  bad = c.cfg;
  bad.media_addr = "192.0.2.10\r\nX";
  ck_assert_int_eq(sr_sdp_answer(o, ol, &bad, c.st, MAXS, &c.n, c.out, OUT, NULL), SIPREC_EINVAL);
  bad = c.cfg;
  bad.user = "two words";
  ck_assert_int_eq(sr_sdp_answer(o, ol, &bad, c.st, MAXS, &c.n, c.out, OUT, NULL), SIPREC_EINVAL);
  bad = c.cfg;
  bad.port = NULL;
  ck_assert_int_eq(sr_sdp_answer(o, ol, &bad, c.st, MAXS, &c.n, c.out, OUT, NULL), SIPREC_EINVAL);

  /* Too many m= lines for `max`. */
  ck_assert_int_eq(sr_sdp_answer(o, ol, &c.cfg, c.st, 0, &c.n, c.out, OUT, &c.why), SIPREC_ETOOBIG);
  const char *two = HDR "m=audio 1000 RTP/AVP 0\r\nm=audio 1002 RTP/AVP 0\r\n";
  ck_assert_int_eq(sr_sdp_answer(two, strlen(two), &c.cfg, c.st, 1, &c.n, c.out, OUT, &c.why),
                   SIPREC_ETOOBIG);
  ck_assert_int_gt(sr_sdp_answer(two, strlen(two), &c.cfg, c.st, 2, &c.n, c.out, OUT, &c.why), 0);
}
END_TEST

START_TEST(test_lenient_text)
{
  ctx c;
  ctx_init(&c);
  /* Leading blank lines, LF only, no final line ending. */
  ck_assert_int_gt(answer(&c, "\r\n\r\nv=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
                              "m=audio 1000 RTP/AVP 0\na=label:1\na=sendonly"),
                   0);
  ck_assert_str_eq(c.st[0].label, "1");
  ck_assert_int_eq(c.st[0].offer_dir, SR_SDP_SENDONLY);
  ck_assert(crlf_only(c.out));
}
END_TEST

START_TEST(test_output_too_small)
{
  ctx c;
  ctx_init(&c);
  const char *offer = HDR "m=audio 1000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-15\r\na=label:1\r\nm=video 1002 RTP/AVP 96\r\n";
  int full = answer(&c, offer);
  ck_assert_int_gt(full, 0);
  char ref[OUT];
  memcpy(ref, c.out, (size_t)full + 1);
  for (size_t size = 1; size <= (size_t)full + 1; size++) {
    char *buf = malloc(size);
    ck_assert_ptr_nonnull(buf);
    ports p = {0, -1, 0, {0}};
    sr_sdp_config cfg = c.cfg;
    cfg.port_user = &p;
    int rc = sr_sdp_answer(offer, strlen(offer), &cfg, c.st, MAXS, &c.n, buf, size, &c.why);
    if (size <= (size_t)full) {
      ck_assert_int_eq(rc, SIPREC_ETOOBIG);
      ck_assert_str_eq(buf, "");
    } else {
      ck_assert_int_eq(rc, full);
      ck_assert_str_eq(buf, ref);
    }
    free(buf);
  }
}
END_TEST

START_TEST(test_hostile)
{
  sr_sdp_stream *st = calloc(5000, sizeof *st);
  char *big = malloc(5000 * 32 + 256);
  char *out = malloc(1 << 20);
  ck_assert(st && big && out);
  ctx c;
  ctx_init(&c);

  /* Thousands of m= lines. */
  size_t len = (size_t)sprintf(big, "%s", HDR);
  for (int i = 0; i < 4000; i++)
    len += (size_t)sprintf(big + len, "m=audio %d RTP/AVP 0\r\n", 1000 + i);
  size_t n;
  ck_assert_int_eq(sr_sdp_answer(big, len, &c.cfg, st, MAXS, &n, out, 1 << 20, &c.why),
                   SIPREC_ETOOBIG);
  ck_assert_int_gt(sr_sdp_answer(big, len, &c.cfg, st, 5000, &n, out, 1 << 20, &c.why), 0);
  ck_assert_uint_eq(n, 4000);
  ck_assert_int_eq(count_mlines(out), 4000);

  /* m= lines on which Debian's Sofia-SIP would loop for ever. */
  const char *loops[] = {
    HDR "m=audio 1 X \t\r\n",
    HDR "m=audio 1 X /a\r\n",
    HDR "m=audio 1 X 0//1\r\n",
    HDR "m=audio 1 X a\xd0" "b\r\n",
    HDR "m=audio 1000 RTP/AVP 0\r\n  m=video 1 RTP/AVPF \t\r\n",
    HDR "m=audio 1000 RTP/AVP\t0\r\n",
    HDR "m=audio 40000PRT /AVP 111 0 8\r\n",
    HDR "m=audio 1 RTP//AVP 0\r\n",
    HDR "m=audio 1 /RTP 0\r\n",
    HDR "m=audio 1/ RTP 0\r\n",
  };
  for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
    ck_assert_int_eq(sr_sdp_answer(loops[i], strlen(loops[i]), &c.cfg, st, MAXS, &n, out, 1 << 20,
                                   &c.why),
                     SIPREC_EINVAL);
    ck_assert_str_eq(c.why, "SDP: malformed m= line");
  }

  /* Huge numbers. */
  const char *huge[] = {
    HDR "m=audio 99999999999999999999999 RTP/AVP 0\r\n",
    HDR "m=audio 4294967296 RTP/AVP 0\r\n",
    "v=0\r\no=- 99999999999999999999999999 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n",
    HDR "m=audio 1000 RTP/AVP 0\r\na=ptime:99999999999999999999\r\n",
    HDR "m=audio 1000 RTP/AVP 96\r\na=rtpmap:96 opus/99999999999999999999/2\r\n",
    HDR "m=audio 1000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/99999999999\r\n",
    HDR "m=audio 1000 RTP/SAVP 0\r\na=crypto:99999999999999 AES_CM_128_HMAC_SHA1_80 inline:" KEY40 "\r\n",
    HDR "m=audio 1000/99999999999 RTP/AVP 0\r\n",
    HDR "t=99999999999999999999 0\r\nm=audio 1000 RTP/AVP 0\r\n",
    HDR "m=audio 1000 RTP/AVPF 0 99999999999999999 -1 abc 96\r\na=rtpmap:96\r\na=rtpmap:\r\n"
        "a=rtpmap:96 /\r\na=rtpmap:96 x/\r\na=fmtp:\r\na=fmtp:96\r\na=label:\r\na=crypto\r\n",
    HDR "m=\r\n",
    HDR "m=audio\r\n",
    HDR "m=audio 1000\r\n",
    HDR "m=audio 1000 RTP/AVP\r\n",
    HDR "m=audio 1000 RTP/SAVP 0\r\na=crypto:\r\na=crypto:1\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\r\n",
    HDR "m=audio 1000 RTP/AVP 0\r\nc=IN IP4\r\n",
    HDR "m=audio 1000 RTP/AVP 0\r\nc=IN IP4 " "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
  };
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    ports p = {0, -1, 0, {0}};
    c.cfg.port_user = &p;
    int rc = sr_sdp_answer(huge[i], strlen(huge[i]), &c.cfg, st, MAXS, &n, out, 1 << 20, &c.why);
    ck_assert_msg(rc > 0 || rc == SIPREC_EINVAL || rc == SIPREC_ENOTFOUND, "%zu: %d", i, rc);
    if (rc > 0) {
      ck_assert_int_eq((size_t)rc, strlen(out));
      ck_assert_int_eq(count_mlines(out), (int)n);
      ck_assert(crlf_only(out));
      for (size_t k = 0; k < n; k++)
        ck_assert(strlen(st[k].remote_addr) < SR_SDP_ADDR_MAX);
    }
  }
  free(st);
  free(big);
  free(out);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Delayed offer                                                            */

START_TEST(test_delayed_offer)
{
  ctx c;
  ctx_init(&c);
  sr_sdp_stream st[2];
  int rc = sr_sdp_offer(&c.cfg, 2, st, c.out, sizeof c.out);
  ck_assert_int_gt(rc, 0);
  ck_assert_str_eq(c.out, "v=0\r\no=libsiprec 1234 5 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
                          "m=audio 20000 RTP/AVP 0 8 9 96 101\r\n"
                          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\n"
                          "a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-15\r\na=recvonly\r\na=label:1\r\n"
                          "m=audio 20002 RTP/AVP 0 8 9 96 101\r\n"
                          "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\n"
                          "a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "a=fmtp:101 0-15\r\na=recvonly\r\na=label:2\r\n");
  ck_assert_str_eq(st[1].label, "2");
  ck_assert_int_eq(st[1].has_label, 1);
  ck_assert_uint_eq(st[1].port, 20002);
  ck_assert_int_eq(st[1].new_port, 1);
  ck_assert_str_eq(st[0].media, "audio");

  /* The SRC's answer in the ACK. */
  const char *ans = "v=0\r\no=src 7 7 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                    "m=audio 30000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
                    "m=audio 0 RTP/AVP 0\r\n";
  const char *why = NULL;
  ck_assert_int_eq(sr_sdp_read_answer(ans, strlen(ans), st, 2, &why), 1);
  ck_assert_int_eq(st[0].accepted, 1);
  ck_assert_str_eq(st[0].codec, "PCMA");
  ck_assert_int_eq(st[0].pt, 8);
  ck_assert_uint_eq(st[0].clock_rate, 8000);
  ck_assert_int_eq(st[0].te_pt, 101);
  ck_assert_str_eq(st[0].remote_addr, "192.0.2.1");
  ck_assert_uint_eq(st[0].remote_port, 30000);
  ck_assert_int_eq(st[0].answer_dir, SR_SDP_SENDONLY);
  ck_assert_int_eq(st[0].paused, 0);
  ck_assert_uint_eq(st[0].port, 20000);
  ck_assert_int_eq(st[1].accepted, 0);
  ck_assert_uint_eq(st[1].port, 20002); /* still the caller's to release */

  /* opus chosen, inactive. */
  const char *ans2 = "v=0\r\no=src 7 8 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                     "m=audio 30000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\na=inactive\r\n"
                     "m=audio 30002 RTP/AVP 101 9\r\na=rtpmap:101 telephone-event/8000\r\n";
  ck_assert_int_eq(sr_sdp_read_answer(ans2, strlen(ans2), st, 2, &why), 2);
  ck_assert_str_eq(st[0].codec, "opus");
  ck_assert_uint_eq(st[0].channels, 2);
  ck_assert_int_eq(st[0].paused, 1);
  ck_assert_str_eq(st[1].codec, "G722");
  ck_assert_int_eq(st[1].te_pt, 101);

  /* Wrong m= line count, parse errors: nothing changes. */
  sr_sdp_stream keep[2];
  memcpy(keep, st, sizeof keep);
  const char *one = "v=0\r\no=src 7 8 IN IP4 192.0.2.1\r\ns=-\r\nm=audio 30000 RTP/AVP 0\r\n";
  ck_assert_int_eq(sr_sdp_read_answer(one, strlen(one), st, 2, &why), SIPREC_EINVAL);
  ck_assert_ptr_nonnull(why);
  ck_assert_int_eq(sr_sdp_read_answer("junk", 4, st, 2, &why), SIPREC_EINVAL);
  ck_assert_int_eq(memcmp(keep, st, sizeof keep), 0);
  ck_assert_int_eq(sr_sdp_read_answer(ans, strlen(ans), NULL, 2, &why), SIPREC_EINVAL);

  /* A configured codec list; unknown names are skipped. */
  static const char *const prefs[] = {"opus", "bogus", "PCMA", "opus", NULL};
  ctx_init(&c);
  c.cfg.codecs = prefs;
  ck_assert_int_gt(sr_sdp_offer(&c.cfg, 1, st, c.out, sizeof c.out), 0);
  ck_assert_ptr_nonnull(strstr(c.out, "m=audio 20000 RTP/AVP 96 8 101\r\n"));
  static const char *const none[] = {"bogus", NULL};
  c.cfg.codecs = none;
  ck_assert_int_eq(sr_sdp_offer(&c.cfg, 1, st, c.out, sizeof c.out), SIPREC_EINVAL);

  /* Errors. */
  ctx_init(&c);
  c.p.fail_at = 1;
  ck_assert_int_eq(sr_sdp_offer(&c.cfg, 2, st, c.out, sizeof c.out), SIPREC_EAGAIN);
  ctx_init(&c);
  ck_assert_int_eq(sr_sdp_offer(&c.cfg, 0, st, c.out, sizeof c.out), SIPREC_EINVAL);
  ck_assert_int_eq(sr_sdp_offer(&c.cfg, 2, st, c.out, 100), SIPREC_ETOOBIG);
  ck_assert_int_eq(sr_sdp_offer(NULL, 2, st, c.out, sizeof c.out), SIPREC_EINVAL);
}
END_TEST

/* Our own answers read back with the SDP parser: every answer of the
 * corpus and of the tests above must be well-formed SDP. */
static void check_reparse(const char *out, size_t n)
{
  sr_sdp_stream tmp[64];
  const char *why = NULL;
  ck_assert(n <= 64);
  int rc = sr_sdp_read_answer(out, strlen(out), tmp, n, &why);
  ck_assert_msg(rc >= 0, "answer does not parse back: %s\n%s", why ? why : "", out);
}

/* ---------------------------------------------------------------------- */
/* Threads                                                                  */

static void *thread_main(void *arg)
{
  const char *ref = arg;
  for (int i = 0; i < 200; i++) {
    ctx *c = malloc(sizeof *c);
    if (!c)
      return (void *)1;
    ctx_init(c);
    int rc = answer(c, HDR "m=audio 1000 RTP/SAVP 0 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY40
                           "\r\na=label:1\r\nm=video 1002 RTP/AVP 96\r\n");
    int bad = rc <= 0 || strcmp(c->out, ref) != 0;
    free(c);
    if (bad)
      return (void *)1;
  }
  return NULL;
}

START_TEST(test_threads)
{
  ctx c;
  ctx_init(&c);
  ck_assert_int_gt(answer(&c, HDR "m=audio 1000 RTP/SAVP 0 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY40
                                  "\r\na=label:1\r\nm=video 1002 RTP/AVP 96\r\n"),
                   0);
  check_reparse(c.out, c.n);
  pthread_t t[8];
  for (int i = 0; i < 8; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, c.out), 0);
  for (int i = 0; i < 8; i++) {
    void *r;
    pthread_join(t[i], &r);
    ck_assert_ptr_null(r);
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The shared corpus                                                        */

static int extract_sdp(const char *msg, size_t len, const char **sdp, size_t *sdp_len)
{
  const char *sep = strstr(msg, "\r\n\r\n");
  size_t sl = 4;
  const char *lf = strstr(msg, "\n\n");
  if (!sep || (lf && lf < sep))
    sep = lf, sl = 2;
  if (!sep)
    return -1;
  const char *body = sep + sl;
  size_t body_len = len - (size_t)(body - msg);
  const char *ct = msg;
  size_t ctl = 0;
  for (const char *l = msg; l && l < sep; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
    if (strncasecmp(l, "Content-Type:", 13) == 0) {
      ct = l + 13;
      const char *e = strchr(ct, '\n');
      ctl = (size_t)(e - ct);
      break;
    }
  }
  if (ctl == 0)
    return -1;
  sr_span t = sr_mime_type(ct, ctl);
  if (sr_span_ieq(t, "application/sdp")) {
    *sdp = body;
    *sdp_len = body_len;
    return 0;
  }
  sr_span b;
  if (!sr_mime_param(ct, ctl, "boundary", &b))
    return -1;
  sr_mime_part parts[8];
  unsigned fl;
  int np = sr_multipart_split(body, body_len, b.p, b.n, parts, 8, &fl);
  for (int i = 0; i < np; i++) {
    if (sr_span_ieq(parts[i].content_type, "application/sdp")) {
      *sdp = parts[i].body.p;
      *sdp_len = parts[i].body.n;
      return 0;
    }
  }
  return -1;
}

static const char *dir_name(sr_sdp_dir d)
{
  static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
  return names[d];
}

static int run_sample(const char *dir, const char *file, const char *name, void *user)
{
  (void)file;
  (void)user;
  char path[8192], err[512];
  size_t len;
  snprintf(path, sizeof path, "%s/%s.expect.json", dir, name);
  expect ex;
  ck_assert_msg(expect_read(path, &ex, err, sizeof err) == 0, "%s", err);
  if (ex.status < 200 || ex.status > 299)
    return 0;
  snprintf(path, sizeof path, "%s/%s.sip", dir, name);
  char *msg = read_file(path, &len);
  ck_assert_ptr_nonnull(msg);
  const char *sdp;
  size_t sdp_len;
  ck_assert_msg(extract_sdp(msg, len, &sdp, &sdp_len) == 0, "%s: no SDP", name);

  ctx *c = malloc(sizeof *c);
  ck_assert_ptr_nonnull(c);
  ctx_init(c);
  int rc = sr_sdp_answer(sdp, sdp_len, &c->cfg, c->st, MAXS, &c->n, c->out, sizeof c->out, &c->why);
  ck_assert_msg(rc > 0, "%s: answer failed %d (%s)", name, rc, c->why ? c->why : "");
  ck_assert(crlf_only(c->out));
  check_reparse(c->out, c->n);

  ck_assert_msg(ex.has_streams && ex.has_srtp, "%s: schema", name);
  ck_assert_msg(ex.n_streams == c->n, "%s: %zu streams answered, %zu expected", name, c->n,
                ex.n_streams);
  int next_port = 20000;
  for (size_t i = 0; i < c->n; i++) {
    const expect_stream *e = &ex.streams[i];
    const sr_sdp_stream *s = &c->st[i];
    ck_assert_msg(!strcasecmp(e->media, s->media), "%s[%zu]: media %s", name, i, s->media);
    if (e->has_label)
      ck_assert_msg(s->has_label && !strcmp(e->label, s->label), "%s[%zu]: label '%s'", name, i,
                    s->label);
    else
      ck_assert_msg(!s->has_label, "%s[%zu]: unexpected label", name, i);
    ck_assert_msg(e->accepted == s->accepted, "%s[%zu]: accepted %d", name, i, s->accepted);
    char b[2048];
    ck_assert_ptr_nonnull(msect(c->out, (int)i, b, sizeof b));
    if (s->accepted) {
      ck_assert_msg(s->port == next_port, "%s[%zu]: port %u", name, i, s->port);
      next_port += 2;
      ck_assert_msg(!strcmp(e->direction, dir_name(s->answer_dir)), "%s[%zu]: direction %s",
                    name, i, dir_name(s->answer_dir));
      ck_assert_msg(!strcasecmp(e->codec, s->codec), "%s[%zu]: codec %s", name, i, s->codec);
      char want[64];
      snprintf(want, sizeof want, "a=%s\r\n", dir_name(s->answer_dir));
      ck_assert_msg(strstr(b, want) != NULL, "%s[%zu]: no %s in %s", name, i, want, b);
      ck_assert_int_eq(s->srtp, ex.srtp);
      ck_assert_int_eq(strstr(b, "RTP/SAVP") != NULL, ex.srtp);
      ck_assert_int_eq(strstr(b, "a=crypto:") != NULL, ex.srtp);
    } else {
      ck_assert_msg(strncmp(b, "m=", 2) == 0 && strchr(b, '\n') == b + strlen(b) - 1,
                    "%s[%zu]: declined section has more than the m= line: %s", name, i, b);
      ck_assert_ptr_nonnull(strstr(b, " 0 "));
    }
  }
  ck_assert_int_eq(count_mlines(c->out), (int)c->n);
  free(c);
  free(msg);
  return 1;
}

START_TEST(test_corpus)
{
  int answered = corpus_each(run_sample, NULL);
  ck_assert_msg(answered >= 17, "%d samples answered from %s", answered, corpus_dir());
}
END_TEST

int main(void)
{
  Suite *s = suite_create("sdp_answer");
  TCase *tc = tcase_create("answer");
  tcase_add_test(tc, test_basic);
  tcase_add_test(tc, test_session_part);
  tcase_add_test(tc, test_mline_order_decides);
  tcase_add_test(tc, test_static_without_rtpmap_and_case);
  tcase_add_test(tc, test_static_table_both_profiles);
  tcase_add_test(tc, test_config_order);
  tcase_add_test(tc, test_alternatives);
  tcase_add_test(tc, test_telephone_event);
  tcase_add_test(tc, test_declined);
  tcase_add_test(tc, test_nothing_acceptable);
  tcase_add_test(tc, test_directions);
  tcase_add_test(tc, test_connection_and_labels);
  tcase_add_test(tc, test_srtp);
  tcase_add_test(tc, test_srtp_key_info);
  tcase_add_test(tc, test_srtp_gcm_and_suite_ok);
  tcase_add_test(tc, test_rtcp_mux_and_rtcp);
  tcase_add_test(tc, test_port_failure);
  tcase_add_test(tc, test_reoffer_keeps_ports);
  tcase_add_test(tc, test_reoffer_one_matching_rule);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_lenient_text);
  tcase_add_test(tc, test_output_too_small);
  tcase_add_test(tc, test_hostile);
  tcase_add_test(tc, test_delayed_offer);
  tcase_add_test(tc, test_threads);
  tcase_add_test(tc, test_corpus);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
