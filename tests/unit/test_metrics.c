/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's Prometheus endpoint (examples/server/metrics_*.c):
 * - the text writer: the 0.0.4 format byte for byte, escaping, one HELP and
 *   TYPE per family, its errors;
 * - a real handler with sessions and media made through the public API,
 *   rendered, parsed back by the strict reader below and compared with
 *   siprec_handler_stat() and the sessions' own accessors;
 * - HTTP on loopback with a plain socket client: status, Content-Type, body,
 *   404, 405, HEAD, IPv6, freshness and its rate bound, a stalled loop, the
 *   idle timeout, the connection bounds.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "check_main.h"
#include "handler_fixture.h"
#include "metrics_http.h"
#include "metrics_siprec.h"
#include "metrics_text.h"
#include "rtp_build.h"

/* ---------------------------------------------------------------------- */
/* A strict reader of the exposition format                                 */

#define MAX_SAMPLES 512
#define MAX_FAMILIES 128

struct sample {
  char name[128];
  char labels[256]; /* "k=v,k=v" in written order, values unescaped */
  double value;
};

struct family {
  char name[128];
  char type[16];
  int help, typed; /* how many HELP / TYPE lines */
  int samples;
};

struct parsed {
  struct sample s[MAX_SAMPLES];
  size_t n;
  struct family f[MAX_FAMILIES];
  size_t nf;
};

static struct family *family_of(struct parsed *p, const char *name, size_t len)
{
  for (size_t i = 0; i < p->nf; i++)
    if (strlen(p->f[i].name) == len && memcmp(p->f[i].name, name, len) == 0)
      return &p->f[i];
  ck_assert_uint_lt(p->nf, MAX_FAMILIES);
  ck_assert_uint_lt(len, sizeof p->f[0].name);
  struct family *f = &p->f[p->nf++];
  memset(f, 0, sizeof *f);
  memcpy(f->name, name, len);
  return f;
}

/* A label value: after the opening quote; returns the byte after the closing
 * quote, the unescaped value appended to `out`. */
static const char *read_value(const char *v, char *out, size_t size)
{
  size_t o = strlen(out);
  for (;;) {
    char c = *v++;
    ck_assert_msg(c != '\0' && c != '\n', "unterminated label value");
    if (c == '"')
      break;
    if (c == '\\') {
      char e = *v++;
      ck_assert_msg(e == '\\' || e == '"' || e == 'n', "bad escape \\%c", e);
      c = e == 'n' ? '\n' : e;
    }
    ck_assert_uint_lt(o + 1, size);
    out[o++] = c;
  }
  out[o] = '\0';
  return v;
}

/* Parse `text`: every line a comment (HELP, TYPE) or a sample; each family's
 * HELP and TYPE once, before its samples; a family's samples together. */
static void parse(const char *text, size_t len, struct parsed *p)
{
  memset(p, 0, sizeof *p);
  ck_assert_msg(len > 0 && text[len - 1] == '\n', "the text ends with a newline");
  const char *end = text + len;
  struct family *current = NULL;
  for (const char *line = text; line < end;) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    ck_assert(nl != NULL);
    if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
      const char *name = line + 7;
      size_t n = strcspn(name, " \n");
      ck_assert_msg(name[n] == ' ', "a HELP/TYPE line without text");
      struct family *f = family_of(p, name, n);
      ck_assert_msg(f->samples == 0, "%s: HELP/TYPE after its samples", f->name);
      if (line[2] == 'H') {
        f->help++;
      } else {
        f->typed++;
        ck_assert_uint_lt((size_t)(nl - name - n - 1), sizeof f->type);
        memcpy(f->type, name + n + 1, (size_t)(nl - name - n - 1));
        ck_assert_msg(strcmp(f->type, "counter") == 0 || strcmp(f->type, "gauge") == 0,
                      "type %s", f->type);
      }
      ck_assert_msg(f->help <= 1 && f->typed <= 1, "%s: HELP or TYPE twice", f->name);
      current = f;
    } else {
      ck_assert_msg(line[0] != '#', "an unknown comment");
      ck_assert_uint_lt(p->n, MAX_SAMPLES);
      struct sample *s = &p->s[p->n++];
      memset(s, 0, sizeof *s);
      size_t n = strcspn(line, "{ \n");
      ck_assert(n > 0 && n < sizeof s->name);
      memcpy(s->name, line, n);
      ck_assert_msg(current && strcmp(current->name, s->name) == 0,
                    "sample %s outside its family's block", s->name);
      current->samples++;
      const char *q = line + n;
      if (*q == '{') {
        q++;
        while (*q != '}') {
          size_t k = strcspn(q, "=}\n");
          ck_assert_msg(q[k] == '=' && q[k + 1] == '"', "a label without =\"");
          size_t o = strlen(s->labels);
          ck_assert_uint_lt(o + k + 2, sizeof s->labels);
          if (o)
            s->labels[o++] = ',';
          memcpy(s->labels + o, q, k + 1);
          s->labels[o + k + 1] = '\0';
          q = read_value(q + k + 2, s->labels, sizeof s->labels);
          if (*q == ',')
            q++;
          else
            ck_assert_msg(*q == '}', "labels not closed");
        }
        q++;
      }
      ck_assert_msg(*q == ' ', "no space before the value");
      char *after;
      s->value = strtod(q + 1, &after);
      ck_assert_msg(after == nl, "the value runs to the end of its line");
    }
    line = nl + 1;
  }
  for (size_t i = 0; i < p->nf; i++)
    ck_assert_msg(p->f[i].help == 1 && p->f[i].typed == 1 && p->f[i].samples > 0,
                  "%s: HELP %d TYPE %d samples %d", p->f[i].name, p->f[i].help, p->f[i].typed,
                  p->f[i].samples);
}

static const struct sample *find(const struct parsed *p, const char *name, const char *labels)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].labels, labels) == 0)
      return &p->s[i];
  return NULL;
}

static double value(const struct parsed *p, const char *name, const char *labels)
{
  const struct sample *s = find(p, name, labels);
  ck_assert_msg(s != NULL, "no sample %s{%s}", name, labels);
  return s->value;
}

static const char *type_of(struct parsed *p, const char *name)
{
  return family_of(p, name, strlen(name))->type;
}

/* ---------------------------------------------------------------------- */
/* The text writer                                                          */

START_TEST(test_text_format)
{
  struct mt_writer w;
  mt_init(&w);
  ck_assert_str_eq(mt_text(&w, NULL), "");
  ck_assert_int_eq(mt_family(&w, "a_total", MT_COUNTER, "Help with \\ and\nnewline, \"quotes\" kept."),
                   MT_OK);
  ck_assert_int_eq(mt_sample(&w, (struct mt_label[]){ { "k", "x\\y\"z\nw" }, { "j", "" } }, 2, 7),
                   MT_OK);
  ck_assert_int_eq(mt_value(&w, UINT64_MAX), MT_OK);
  ck_assert_int_eq(mt_family(&w, "b:ratio", MT_GAUGE, ""), MT_OK);
  ck_assert_int_eq(mt_sample_double(&w, NULL, 0, 0.25), MT_OK);
  ck_assert_int_eq(mt_sample_double(&w, (struct mt_label[]){ { "v", "nan" } }, 1, NAN), MT_OK);
  ck_assert_int_eq(mt_sample_double(&w, (struct mt_label[]){ { "v", "inf" } }, 1, INFINITY), MT_OK);
  ck_assert_int_eq(mt_sample_double(&w, (struct mt_label[]){ { "v", "-inf" } }, 1, -INFINITY),
                   MT_OK);
  ck_assert_int_eq(mt_sample_double(&w, (struct mt_label[]){ { "v", "third" } }, 1, 1.0 / 3.0),
                   MT_OK);
  size_t len;
  const char *t = mt_text(&w, &len);
  ck_assert_str_eq(t, "# HELP a_total Help with \\\\ and\\nnewline, \"quotes\" kept.\n"
                      "# TYPE a_total counter\n"
                      "a_total{k=\"x\\\\y\\\"z\\nw\",j=\"\"} 7\n"
                      "a_total 18446744073709551615\n"
                      "# HELP b:ratio \n"
                      "# TYPE b:ratio gauge\n"
                      "b:ratio 0.25\n"
                      "b:ratio{v=\"nan\"} NaN\n"
                      "b:ratio{v=\"inf\"} +Inf\n"
                      "b:ratio{v=\"-inf\"} -Inf\n"
                      "b:ratio{v=\"third\"} 0.33333333333333331\n");
  ck_assert_uint_eq(len, strlen(t));
  /* The reader takes it back: the value with its escapes undone. */
  struct parsed *p = malloc(sizeof *p);
  parse(t, len, p);
  ck_assert_uint_eq(p->nf, 2);
  ck_assert_double_eq(value(p, "a_total", "k=x\\y\"z\nw,j="), 7);
  ck_assert_double_eq(value(p, "b:ratio", "v=third"), 1.0 / 3.0);
  ck_assert_str_eq(type_of(p, "a_total"), "counter");
  free(p);

  /* Reset keeps nothing of the families: a_total may come again. */
  mt_reset(&w);
  ck_assert_str_eq(mt_text(&w, &len), "");
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(mt_family(&w, "a_total", MT_COUNTER, "again"), MT_OK);
  ck_assert_int_eq(mt_value(&w, 1), MT_OK);
  ck_assert_str_eq(mt_text(&w, NULL), "# HELP a_total again\n# TYPE a_total counter\na_total 1\n");
  mt_free(&w);
  ck_assert_str_eq(mt_text(&w, NULL), "");
}
END_TEST

/* Each misuse fails, the error sticks, and nothing more is written. */
static void expect_sticky(struct mt_writer *w, int error)
{
  size_t before;
  mt_text(w, &before);
  ck_assert_int_eq(mt_error(w), error);
  ck_assert_int_eq(mt_family(w, "later", MT_GAUGE, "h"), error);
  ck_assert_int_eq(mt_value(w, 1), error);
  size_t after;
  mt_text(w, &after);
  ck_assert_uint_eq(before, after);
}

START_TEST(test_text_errors)
{
  struct mt_writer w;
  mt_init(&w);
  /* A sample before any family. */
  ck_assert_int_eq(mt_value(&w, 1), MT_EINVAL);
  expect_sticky(&w, MT_EINVAL);

  /* The same family twice. */
  mt_reset(&w);
  ck_assert_int_eq(mt_family(&w, "x", MT_GAUGE, "h"), MT_OK);
  ck_assert_int_eq(mt_value(&w, 1), MT_OK);
  ck_assert_int_eq(mt_family(&w, "y", MT_GAUGE, "h"), MT_OK);
  ck_assert_int_eq(mt_family(&w, "x", MT_GAUGE, "h"), MT_EINVAL);
  expect_sticky(&w, MT_EINVAL);
  ck_assert_ptr_null(strstr(mt_text(&w, NULL), "later"));

  static const char *const bad_names[] = { "", "1x", "a-b", "a b", "é", "a\n" };
  for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
    mt_reset(&w);
    ck_assert_int_eq(mt_family(&w, bad_names[i], MT_GAUGE, "h"), MT_EINVAL);
    expect_sticky(&w, MT_EINVAL);
  }
  mt_reset(&w);
  ck_assert_int_eq(mt_family(&w, NULL, MT_GAUGE, "h"), MT_EINVAL);
  mt_reset(&w);
  ck_assert_int_eq(mt_family(&w, "x", MT_GAUGE, NULL), MT_EINVAL);
  mt_reset(&w);
  ck_assert_int_eq(mt_family(&w, "x", (enum mt_type)7, "h"), MT_EINVAL);

  /* Label names: no colon, no leading "__", each once; values not NULL. */
  static const struct mt_label bad_labels[][2] = {
    { { "a:b", "v" }, { "c", "v" } }, { { "__x", "v" }, { "c", "v" } },
    { { "c", "v" }, { "c", "w" } },   { { "", "v" }, { "c", "v" } },
    { { "c", NULL }, { "d", "v" } },  { { NULL, "v" }, { "d", "v" } },
  };
  for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
    mt_reset(&w);
    ck_assert_int_eq(mt_family(&w, "x", MT_GAUGE, "h"), MT_OK);
    ck_assert_int_eq(mt_sample(&w, bad_labels[i], 2, 1), MT_EINVAL);
    expect_sticky(&w, MT_EINVAL);
  }
  mt_reset(&w);
  ck_assert_int_eq(mt_family(&w, "x", MT_GAUGE, "h"), MT_OK);
  ck_assert_int_eq(mt_sample(&w, NULL, 1, 1), MT_EINVAL);

  /* The ceiling: a runaway renderer fails instead of growing without end. */
  mt_reset(&w);
  size_t chunk = (size_t)1 << 20;
  char *help = malloc(chunk + 1);
  memset(help, 'h', chunk);
  help[chunk] = '\0';
  int rc = MT_OK;
  char name[32];
  for (unsigned i = 0; rc == MT_OK && i < 200; i++) {
    snprintf(name, sizeof name, "f%u", i);
    rc = mt_family(&w, name, MT_GAUGE, help);
  }
  ck_assert_int_eq(rc, MT_ETOOBIG);
  size_t len;
  mt_text(&w, &len);
  ck_assert_uint_le(len, MT_MAX_BYTES);
  expect_sticky(&w, MT_ETOOBIG);
  free(help);
  mt_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The handler's families                                                   */

static void on_audio(void *user, const siprec_audio_frame *frame)
{
  (void)user;
  (void)frame;
}

static void with_audio(siprec_handler_callbacks *cbs)
{
  siprec_handler_callbacks_set_audio(cbs, on_audio);
}

struct call {
  siprec_session *s;
  uint16_t port[2];
  char tag[64];
};

/* An answered, ACKed call with two streams; its session referenced. */
static void start_call(fixture *f, const char *call_id, struct call *c)
{
  fx_start_call(f, call_id, c->tag, sizeof c->tag);
  char ack[2048];
  fx_request(ack, sizeof ack, "ACK", call_id, c->tag, 1, "ack1", NULL, NULL);
  fx_feed(f, ack, 1000 * MS);
  siprec_session *all[8];
  size_t n = siprec_handler_sessions(f->h, all, 8);
  c->s = NULL;
  for (size_t i = 0; i < n && i < 8; i++) {
    size_t len;
    const char *cid = siprec_session_call_id(all[i], &len);
    if (len == strlen(call_id) && memcmp(cid, call_id, len) == 0 && !c->s)
      c->s = all[i];
    else
      siprec_session_unref(all[i]);
  }
  ck_assert_ptr_nonnull(c->s);
  for (size_t i = 0; i < 2; i++) {
    siprec_stream_info info = { .size = sizeof info };
    ck_assert_int_eq(siprec_session_stream(c->s, i, &info), 0);
    c->port[i] = info.port;
  }
}

/* RTP packet `seq` of stream `stream` from `from_port` of the SRC's host. */
static int feed_rtp(fixture *f, struct call *c, size_t stream, uint16_t seq, uint16_t from_port,
                    uint64_t now)
{
  uint8_t buf[12 + 160];
  rtpb o = rtpb_audio(seq, (uint32_t)seq * 160u, 0x1000u + (uint32_t)stream);
  size_t len = rtpb_build(buf, sizeof buf, &o);
  struct sockaddr_in local = f->srs, src = f->src;
  local.sin_port = htons(c->port[stream]);
  src.sin_port = htons(from_port);
  siprec_path p = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local, (struct sockaddr *)&src, 0 };
  return siprec_handler_media(f->h, buf, len, &p, now);
}

/* Calls, media and refusals with something in (nearly) every counter. */
static void make_traffic(fixture *f, struct call *c)
{
  start_call(f, "metrics-call", c);
  /* Stream 0 in order with jittery arrival; stream 1 with a copy, a swap
   * and a hole. */
  for (uint16_t k = 0; k < 30; k++)
    ck_assert_int_eq(feed_rtp(f, c, 0, (uint16_t)(100 + k), 10000,
                              (1000 + 20 * k + (k % 3) * 7) * MS),
                     0);
  static const uint16_t order[] = { 0, 1, 2, 2, 4, 3, 5, 6, 9, 10, 11, 12 };
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    ck_assert_int_eq(feed_rtp(f, c, 1, (uint16_t)(500 + order[i]), 10002, (1000 + 20 * i) * MS),
                     0);
  /* Not from the latched source, and to a port no stream has. */
  ck_assert_int_eq(feed_rtp(f, c, 0, 200, 12345, 1700 * MS), 0);
  struct call stray = *c;
  stray.port[0] = 9;
  ck_assert_int_eq(feed_rtp(f, &stray, 0, 1, 10000, 1700 * MS), SIPREC_ENOTFOUND);
  siprec_handler_expire(f->h, 3000 * MS); /* the jitter buffer gives the hole up */

  /* A second call, ended by BYE; an unparsable message; an OPTIONS (200). */
  struct call gone;
  start_call(f, "metrics-gone", &gone);
  char msg[4096];
  fx_request(msg, sizeof msg, "BYE", "metrics-gone", gone.tag, 2, "bye2", NULL, NULL);
  fx_feed(f, msg, 3000 * MS);
  ck_assert_int_eq(f->status, 200);
  siprec_session_unref(gone.s);
  fx_feed(f, "this is not SIP\r\n\r\n", 3000 * MS);
  /* A deferred one. */
  f->ev.refuse_with = SIPREC_DECISION_DEFER;
  fx_request(msg, sizeof msg, "INVITE", "metrics-deferred", NULL, 1, "inv3", "Require: siprec\r\n",
             fx_sdp2);
  fx_feed(f, msg, 3000 * MS);
  ck_assert_int_eq(f->status, 100);
  f->ev.refuse_with = SIPREC_DECISION_ACCEPT;
  /* And a refused one (the offered callback says 486). */
  f->ev.refuse_with = 486;
  fx_request(msg, sizeof msg, "INVITE", "metrics-refused", NULL, 1, "inv4", "Require: siprec\r\n",
             fx_sdp2);
  fx_feed(f, msg, 3000 * MS);
  ck_assert_int_eq(f->status, 486);
  f->ev.refuse_with = SIPREC_DECISION_ACCEPT;
}

static int extra_calls;

static int extra_hook(void *user, struct mt_writer *w)
{
  extra_calls++;
  mt_family(w, "siprec_server_queue_depth", MT_GAUGE, "A host's own family.");
  mt_sample(w, (struct mt_label[]){ { "queue", "transcription" } }, 1, *(uint64_t *)user);
  return 0;
}

static int failing_hook(void *user, struct mt_writer *w)
{
  (void)user;
  (void)w;
  return -42;
}

static int duplicate_hook(void *user, struct mt_writer *w)
{
  (void)user;
  return mt_family(w, "siprec_sessions_active", MT_GAUGE, "a second block of a library family");
}

static void check_against_handler(struct parsed *p, siprec_handler *h)
{
  /* Every handler counter, by the same index the header gives it. */
  ck_assert_double_eq(value(p, "siprec_sessions_active", ""),
                      (double)siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ACTIVE, 0));
  ck_assert_double_eq(value(p, "siprec_sessions_started_total", ""),
                      (double)siprec_handler_stat(h, SIPREC_STAT_SESSIONS_STARTED, 0));
  for (unsigned r = 0; r <= SIPREC_END_HANDOVER; r++) {
    char l[64];
    snprintf(l, sizeof l, "reason=%s", siprec_end_reason_name((siprec_end_reason)r));
    ck_assert_double_eq(value(p, "siprec_sessions_ended_total", l),
                        (double)siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ENDED, r));
  }
  ck_assert_double_eq(value(p, "siprec_invite_transactions_pending", ""),
                      (double)siprec_handler_stat(h, SIPREC_STAT_PENDING, 0));
  for (unsigned c = 1; c <= 6; c++) {
    char l[32];
    snprintf(l, sizeof l, "class=%uxx", c);
    ck_assert_double_eq(value(p, "siprec_sip_responses_total", l),
                        (double)siprec_handler_stat(h, SIPREC_STAT_RESPONSES, c));
  }
  static const char *const drops[] = { "unparsable", "response", "ack", "retransmission" };
  for (unsigned d = 0; d < 4; d++) {
    char l[64];
    snprintf(l, sizeof l, "reason=%s", drops[d]);
    ck_assert_double_eq(value(p, "siprec_sip_messages_dropped_total", l),
                        (double)siprec_handler_stat(h, SIPREC_STAT_DROPPED, d));
  }
  ck_assert_double_eq(value(p, "siprec_sip_requests_sent_total", ""),
                      (double)siprec_handler_stat(h, SIPREC_STAT_REQUESTS_SENT, 0));
  ck_assert_double_eq(value(p, "siprec_log_lines_suppressed_total", ""),
                      (double)siprec_handler_stat(h, SIPREC_STAT_LOG_SUPPRESSED, 0));
  static const struct {
    const char *name, *labels;
    siprec_media_counter c;
  } media[] = {
    { "siprec_rtp_packets_total", "", SIPREC_MEDIA_PACKETS },
    { "siprec_rtp_received_bytes_total", "", SIPREC_MEDIA_BYTES },
    { "siprec_rtp_packets_lost_total", "", SIPREC_MEDIA_LOST },
    { "siprec_rtp_packets_reordered_total", "", SIPREC_MEDIA_REORDERED },
    { "siprec_rtp_packets_dropped_total", "reason=duplicate", SIPREC_MEDIA_DUPLICATES },
    { "siprec_rtp_packets_dropped_total", "reason=late", SIPREC_MEDIA_LATE },
    { "siprec_rtp_packets_dropped_total", "reason=latching", SIPREC_MEDIA_LATCH_DROPS },
    { "siprec_rtp_packets_dropped_total", "reason=srtp", SIPREC_MEDIA_SRTP_FAILURES },
    { "siprec_rtp_decode_errors_total", "", SIPREC_MEDIA_DECODE_ERRORS },
    { "siprec_media_datagrams_unmatched_total", "", SIPREC_MEDIA_NOT_FOUND },
    { "siprec_rtcp_packets_total", "", SIPREC_MEDIA_RTCP },
  };
  for (size_t i = 0; i < sizeof media / sizeof media[0]; i++)
    ck_assert_msg(value(p, media[i].name, media[i].labels) ==
                    (double)siprec_handler_stat(h, SIPREC_STAT_MEDIA, media[i].c),
                  "%s{%s}", media[i].name, media[i].labels);
  /* Units and kinds by the conventions. */
  for (size_t i = 0; i < p->nf; i++) {
    const struct family *f = &p->f[i];
    size_t n = strlen(f->name);
    ck_assert_msg(strncmp(f->name, "siprec_", 7) == 0, "%s", f->name);
    int total = n > 6 && strcmp(f->name + n - 6, "_total") == 0;
    ck_assert_msg(total == (strcmp(f->type, "counter") == 0), "%s is a %s", f->name, f->type);
  }
}

/* The handler rendered into w (emptied first) with the host's `extra`,
 * parsed into p and checked against the handler's own counters. */
static void render_checked(siprec_handler *h, struct mt_writer *w, metrics_siprec_extra_fn extra,
                           void *user, struct parsed *p)
{
  mt_reset(w);
  ck_assert_int_eq(metrics_siprec_render(h, w, extra, user), 0);
  size_t len;
  const char *text = mt_text(w, &len);
  parse(text, len, p);
  check_against_handler(p, h);
}

START_TEST(test_siprec_render)
{
  fixture f;
  fx_callbacks_hook = with_audio;
  fx_init(&f, NULL, 0);
  fx_callbacks_hook = NULL;
  struct call c;
  make_traffic(&f, &c);

  uint64_t depth = 17;
  struct mt_writer w;
  mt_init(&w);
  extra_calls = 0;
  struct parsed *p = malloc(sizeof *p);
  render_checked(f.h, &w, extra_hook, &depth, p);
  ck_assert_int_eq(extra_calls, 1);

  /* The traffic reached what it was meant to: a test of zeros proves nothing. */
  ck_assert_double_eq(value(p, "siprec_sessions_ended_total", "reason=bye"), 1);
  ck_assert_double_eq(value(p, "siprec_sessions_ended_total", "reason=refused"), 1);
  ck_assert_double_eq(value(p, "siprec_sessions_started_total", ""), 2);
  ck_assert_double_eq(value(p, "siprec_sip_messages_dropped_total", "reason=unparsable"), 1);
  ck_assert_double_ge(value(p, "siprec_sip_responses_total", "class=2xx"), 3);
  ck_assert_double_eq(value(p, "siprec_sip_responses_total", "class=4xx"), 1);
  /* Taken: every packet from the latched source, the copy included (then
   * dropped as a duplicate); not the foreign one. */
  ck_assert_double_eq(value(p, "siprec_rtp_packets_total", ""), 30 + 12);
  ck_assert_double_eq(value(p, "siprec_rtp_received_bytes_total", ""), (30 + 12) * 172);
  ck_assert_double_eq(value(p, "siprec_rtp_packets_dropped_total", "reason=duplicate"), 1);
  ck_assert_double_eq(value(p, "siprec_rtp_packets_dropped_total", "reason=latching"), 1);
  ck_assert_double_ge(value(p, "siprec_rtp_packets_reordered_total", ""), 1);
  ck_assert_double_ge(value(p, "siprec_rtp_packets_lost_total", ""), 2);
  ck_assert_double_eq(value(p, "siprec_media_datagrams_unmatched_total", ""), 1);

  /* The walk over the sessions, against their own accessors: the deferred
   * one apart, the started call's two streams recording and receiving. */
  ck_assert_double_eq(value(p, "siprec_sessions", "state=deferred"), 1);
  ck_assert_double_eq(value(p, "siprec_sessions", "state=started"), 1);
  ck_assert_double_eq(value(p, "siprec_sessions", "state=deferred") +
                        value(p, "siprec_sessions", "state=started"),
                      value(p, "siprec_sessions_active", ""));
  ck_assert_double_eq(value(p, "siprec_streams", "state=recording"), 2);
  ck_assert_double_eq(value(p, "siprec_streams", "state=paused"), 0);
  ck_assert_double_eq(value(p, "siprec_streams", "state=declined"), 0);
  ck_assert_double_eq(value(p, "siprec_streams_receiving", ""), 2);
  uint32_t jmax = 0, jsum = 0;
  for (size_t i = 0; i < 2; i++) {
    siprec_stream_stats st = { .size = sizeof st };
    ck_assert_int_eq(siprec_session_stream_stats(c.s, i, &st), 0);
    jmax = st.jitter_ms > jmax ? st.jitter_ms : jmax;
    jsum += st.jitter_ms;
  }
  ck_assert_uint_gt(jmax, 0); /* the arrival times were uneven on purpose */
  ck_assert_double_eq_tol(value(p, "siprec_rtp_jitter_max_seconds", ""), jmax / 1000.0, 1e-12);
  ck_assert_double_eq_tol(value(p, "siprec_rtp_jitter_mean_seconds", ""), jsum / 2000.0, 1e-12);
  ck_assert_str_eq(type_of(p, "siprec_rtp_jitter_max_seconds"), "gauge");

  /* The host's family comes last, in the same text. */
  ck_assert_double_eq(value(p, "siprec_server_queue_depth", "queue=transcription"), 17);
  ck_assert_str_eq(p->f[p->nf - 1].name, "siprec_server_queue_depth");

  /* A hook's failure, or its duplicate family, fails the rendering. */
  mt_reset(&w);
  ck_assert_int_eq(metrics_siprec_render(f.h, &w, failing_hook, NULL), -42);
  mt_reset(&w);
  ck_assert_int_eq(metrics_siprec_render(f.h, &w, duplicate_hook, NULL), MT_EINVAL);
  ck_assert_int_eq(metrics_siprec_render(NULL, &w, NULL, NULL), MT_EINVAL);

  /* After the end: gauges back to zero, counters kept. */
  siprec_session_unref(c.s);
  siprec_session_unref(f.ev.deferred);
  f.ev.deferred = NULL;
  char msg[2048];
  fx_request(msg, sizeof msg, "BYE", "metrics-call", c.tag, 2, "bye9", NULL, NULL);
  fx_feed(&f, msg, 4000 * MS);
  render_checked(f.h, &w, NULL, NULL, p);
  ck_assert_double_eq(value(p, "siprec_sessions", "state=started"), 0);
  ck_assert_double_eq(value(p, "siprec_streams", "state=recording"), 0);
  ck_assert_double_eq(value(p, "siprec_streams_receiving", ""), 0);
  ck_assert_double_eq(value(p, "siprec_rtp_jitter_mean_seconds", ""), 0);
  ck_assert_double_eq(value(p, "siprec_sessions_ended_total", "reason=bye"), 2);
  ck_assert_double_eq(value(p, "siprec_rtp_packets_total", ""), 30 + 12);
  ck_assert_ptr_null(find(p, "siprec_server_queue_depth", "queue=transcription"));
  free(p);
  mt_free(&w);
  siprec_handler_free(f.h);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* HTTP                                                                     */

/* The server's loop, run on a thread of its own as in siprec-server. */
struct srv {
  uv_loop_t loop;
  uv_async_t stop;
  uv_thread_t thread;
  struct metrics_http *m;
  fixture f;
  uint16_t port;
  atomic_int renders;
  atomic_int stall_ms; /* the next rendering takes this long */
};

static int render(void *user, struct mt_writer *w)
{
  struct srv *s = user;
  int stall = atomic_exchange(&s->stall_ms, 0);
  if (stall)
    usleep((useconds_t)stall * 1000u);
  atomic_fetch_add(&s->renders, 1);
  return metrics_siprec_render(s->f.h, w, NULL, NULL);
}

static void on_stop(uv_async_t *a)
{
  struct srv *s = a->data;
  metrics_http_stop(s->m);
  uv_close((uv_handle_t *)&s->stop, NULL);
}

static void run_loop(void *arg)
{
  struct srv *s = arg;
  uv_run(&s->loop, UV_RUN_DEFAULT);
}

/* Start on `ip` port 0; returns -1 (and nothing started) when the address
 * cannot be bound here (no IPv6 on the machine). */
static int srv_start(struct srv *s, const char *ip, const struct metrics_http_config *cfg)
{
  memset(s, 0, sizeof *s);
  fx_init(&s->f, NULL, 0);
  ck_assert_int_eq(uv_loop_init(&s->loop), 0);
  struct sockaddr_storage ss;
  if (strchr(ip, ':'))
    ck_assert_int_eq(uv_ip6_addr(ip, 0, (struct sockaddr_in6 *)&ss), 0);
  else
    ck_assert_int_eq(uv_ip4_addr(ip, 0, (struct sockaddr_in *)&ss), 0);
  char err[256];
  /* Called before the loop's thread runs: this thread is the loop's now. */
  if (metrics_http_start(&s->m, &s->loop, (struct sockaddr *)&ss, cfg, render, s, err,
                         sizeof err) != 0) {
    ck_assert_msg(strstr(err, "bind") != NULL, "%s", err);
    uv_loop_close(&s->loop);
    siprec_handler_free(s->f.h);
    return -1;
  }
  ck_assert_int_eq(atomic_load(&s->renders), 1); /* the first snapshot, at the start */
  s->port = metrics_http_port(s->m);
  ck_assert_uint_ne(s->port, 0);
  ck_assert_int_eq(uv_async_init(&s->loop, &s->stop, on_stop), 0);
  s->stop.data = s;
  ck_assert_int_eq(uv_thread_create(&s->thread, run_loop, s), 0);
  return 0;
}

static void srv_stop(struct srv *s)
{
  uv_async_send(&s->stop);
  uv_thread_join(&s->thread);
  ck_assert_int_eq(uv_loop_close(&s->loop), 0); /* every handle closed, the module's too */
  siprec_session_unref(s->f.ev.deferred);
  siprec_handler_free(s->f.h);
}

static int connect_to(const char *ip, uint16_t port)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (strchr(ip, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, ip, &a->sin_addr);
    len = sizeof *a;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_msg(connect(fd, (struct sockaddr *)&ss, len) == 0, "connect: %s", strerror(errno));
  return fd;
}

static void send_all(int fd, const char *text)
{
  size_t n = strlen(text);
  ck_assert_int_eq(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* What came back before EOF or `ms` of silence; returns the bytes read, -1
 * when the peer neither answered nor closed in time. *closed set at EOF. */
static ssize_t read_reply(int fd, char *buf, size_t size, int ms, int *closed)
{
  size_t got = 0;
  *closed = 0;
  for (;;) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    int r = poll(&pfd, 1, ms);
    if (r == 0)
      return got ? (ssize_t)got : -1;
    ck_assert_int_eq(r, 1);
    ssize_t n = recv(fd, buf + got, size - 1 - got, 0);
    if (n <= 0) { /* EOF, or a reset: closed either way */
      *closed = 1;
      break;
    }
    got += (size_t)n;
    ck_assert_uint_lt(got, size - 1);
  }
  buf[got] = '\0';
  return (ssize_t)got;
}

struct reply {
  int status;
  char content_type[128];
  char allow[64];
  const char *body;
  size_t body_len;
  char raw[1 << 16];
};

static void http(const char *ip, uint16_t port, const char *method, const char *path,
                 struct reply *r)
{
  int fd = connect_to(ip, port);
  char req[256];
  snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", method,
           path);
  send_all(fd, req);
  int closed;
  ssize_t n = read_reply(fd, r->raw, sizeof r->raw, 5000, &closed);
  close(fd);
  ck_assert_msg(n > 0 && closed, "no complete reply to %s %s", method, path);
  ck_assert_int_eq(sscanf(r->raw, "HTTP/1.1 %d ", &r->status), 1);
  char *end = strstr(r->raw, "\r\n\r\n");
  ck_assert_ptr_nonnull(end);
  *end = '\0';
  r->body = end + 4;
  r->body_len = (size_t)n - (size_t)(end + 4 - r->raw);
  r->content_type[0] = r->allow[0] = '\0';
  for (char *line = strstr(r->raw, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, "Content-Type: ", 14) == 0)
      sscanf(line + 16, "%127[^\r]", r->content_type);
    if (strncasecmp(line + 2, "Allow: ", 7) == 0)
      sscanf(line + 9, "%63[^\r]", r->allow);
  }
}

static void check_metrics_reply(struct reply *r, struct srv *s, struct parsed *p)
{
  ck_assert_int_eq(r->status, 200);
  ck_assert_msg(strncmp(r->content_type, "text/plain; version=0.0.4", 25) == 0, "%s",
                r->content_type);
  parse(r->body, r->body_len, p);
  check_against_handler(p, s->f.h);
  ck_assert_double_ge(value(p, "siprec_metrics_snapshot_age_seconds", ""), 0);
  ck_assert_double_ge(value(p, "siprec_metrics_render_duration_seconds", ""), 0);
  ck_assert_double_eq(value(p, "siprec_metrics_render_failures_total", ""), 0);
}

/* Descriptors open in this process: the module leaves none behind (its
 * listening socket, libmicrohttpd's epoll and wake-up descriptors). */
static int open_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  ck_assert_ptr_nonnull(d);
  int n = 0;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

static const struct metrics_http_config fresh = { .min_interval_ms = 1, .wait_ms = 2000 };

START_TEST(test_http_get)
{
  /* libuv opens its process-wide signal pipe at the first loop, for good. */
  uv_loop_t warm;
  ck_assert_int_eq(uv_loop_init(&warm), 0);
  ck_assert_int_eq(uv_loop_close(&warm), 0);
  int fds_before = open_fds();
  struct srv *s = malloc(sizeof *s);
  ck_assert_int_eq(srv_start(s, "127.0.0.1", &fresh), 0);
  struct reply *r = malloc(sizeof *r);
  struct parsed *p = malloc(sizeof *p);
  http("127.0.0.1", s->port, "GET", "/metrics", r);
  check_metrics_reply(r, s, p);
  ck_assert_double_eq(value(p, "siprec_sessions_active", ""), 0);

  /* A call made between two scrapes is in the second: rendered on request. */
  char tag[64];
  fx_start_call(&s->f, "http-call", tag, sizeof tag);
  http("127.0.0.1", s->port, "GET", "/metrics", r);
  check_metrics_reply(r, s, p);
  ck_assert_double_eq(value(p, "siprec_sessions_active", ""), 1);
  ck_assert_double_eq(value(p, "siprec_sessions", "state=started"), 1);
  /* The start's snapshot, and this scrape's (the first may have found the
   * start's younger than the 1 ms interval). */
  ck_assert_int_ge(atomic_load(&s->renders), 2);

  /* A query string names the same resource. */
  http("127.0.0.1", s->port, "GET", "/metrics?x=1", r);
  ck_assert_int_eq(r->status, 200);

  /* HEAD: the same headers, no body. */
  http("127.0.0.1", s->port, "HEAD", "/metrics", r);
  ck_assert_int_eq(r->status, 200);
  ck_assert_msg(strncmp(r->content_type, "text/plain; version=0.0.4", 25) == 0, "%s",
                r->content_type);
  ck_assert_uint_eq(r->body_len, 0);

  static const char *const elsewhere[] = { "/", "/metrics/", "/metricsx", "/Metrics", "/x/metrics" };
  for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++) {
    http("127.0.0.1", s->port, "GET", elsewhere[i], r);
    ck_assert_msg(r->status == 404, "%s: %d", elsewhere[i], r->status);
    ck_assert_ptr_null(strstr(r->body, "siprec_"));
  }
  static const char *const methods[] = { "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    http("127.0.0.1", s->port, methods[i], "/metrics", r);
    ck_assert_msg(r->status == 405, "%s: %d", methods[i], r->status);
    ck_assert_str_eq(r->allow, "GET, HEAD");
  }
  http("127.0.0.1", s->port, "POST", "/other", r);
  ck_assert_int_eq(r->status, 404);

  /* A method with a body: 405 without reading it into anything. */
  int fd = connect_to("127.0.0.1", s->port);
  send_all(fd, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               "Connection: close\r\n\r\nhello");
  char buf[4096];
  int closed;
  ck_assert_int_gt(read_reply(fd, buf, sizeof buf, 3000, &closed), 0);
  ck_assert_msg(strncmp(buf, "HTTP/1.1 405", 12) == 0, "%.40s", buf);
  close(fd);

  /* Headers beyond the connection's memory pool: refused, and the server
   * serves on. */
  fd = connect_to("127.0.0.1", s->port);
  send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
  char *big = malloc(64 * 1024 + 1);
  memset(big, 'b', 64 * 1024);
  big[64 * 1024] = '\0';
  send(fd, big, 64 * 1024, MSG_NOSIGNAL); /* the server may hang up midway */
  free(big);
  send(fd, "\r\n\r\n", 4, MSG_NOSIGNAL);
  ssize_t n = read_reply(fd, buf, sizeof buf, 3000, &closed);
  ck_assert(closed);
  ck_assert(n <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0);
  close(fd);

  /* Not HTTP at all: libmicrohttpd answers 400 or hangs up, and serves on. */
  fd = connect_to("127.0.0.1", s->port);
  send_all(fd, "\x01\x02 garbage \xff\r\n\r\n");
  read_reply(fd, buf, sizeof buf, 3000, &closed);
  ck_assert(closed);
  ck_assert(strncmp(buf, "HTTP/1.1 200", 12) != 0);
  close(fd);
  http("127.0.0.1", s->port, "GET", "/metrics", r);
  ck_assert_int_eq(r->status, 200);

  srv_stop(s);
  ck_assert_int_eq(open_fds(), fds_before);
  free(p);
  free(r);
  free(s);
}
END_TEST

START_TEST(test_http_ipv6)
{
  struct srv *s = malloc(sizeof *s);
  if (srv_start(s, "::1", &fresh) != 0) {
    free(s);
    return; /* no IPv6 loopback here */
  }
  struct reply *r = malloc(sizeof *r);
  struct parsed *p = malloc(sizeof *p);
  http("::1", s->port, "GET", "/metrics", r);
  check_metrics_reply(r, s, p);
  srv_stop(s);
  free(p);
  free(r);
  free(s);
}
END_TEST

/* Scrapers, however fast, make the loop render at most once per interval. */
START_TEST(test_http_rate_bound)
{
  struct srv *s = malloc(sizeof *s);
  struct metrics_http_config cfg = { .min_interval_ms = 60000 };
  ck_assert_int_eq(srv_start(s, "127.0.0.1", &cfg), 0);
  struct reply *r = malloc(sizeof *r);
  char tag[64];
  fx_start_call(&s->f, "rate-call", tag, sizeof tag); /* after the first snapshot */
  for (int i = 0; i < 20; i++) {
    http("127.0.0.1", s->port, "GET", "/metrics", r);
    ck_assert_int_eq(r->status, 200);
    ck_assert_ptr_nonnull(strstr(r->body, "\nsiprec_sessions_active 0\n"));
  }
  ck_assert_int_eq(atomic_load(&s->renders), 1);
  srv_stop(s);
  free(r);
  free(s);
}
END_TEST

/* A loop that does not answer in time: the last snapshot is served, with
 * its age; the HTTP side never waits longer than wait_ms. */
START_TEST(test_http_stalled_loop)
{
  struct srv *s = malloc(sizeof *s);
  struct metrics_http_config cfg = { .min_interval_ms = 1, .wait_ms = 100 };
  ck_assert_int_eq(srv_start(s, "127.0.0.1", &cfg), 0);
  struct reply *r = malloc(sizeof *r);
  struct parsed *p = malloc(sizeof *p);
  usleep(300 * 1000);
  atomic_store(&s->stall_ms, 1500);
  char tag[64];
  fx_start_call(&s->f, "stalled-call", tag, sizeof tag);
  uint64_t t0 = uv_hrtime();
  http("127.0.0.1", s->port, "GET", "/metrics", r);
  uint64_t took_ms = (uv_hrtime() - t0) / 1000000;
  ck_assert_int_eq(r->status, 200);
  ck_assert_uint_lt(took_ms, 1000);
  parse(r->body, r->body_len, p);
  ck_assert_double_eq(value(p, "siprec_sessions_active", ""), 0); /* the old snapshot */
  ck_assert_double_ge(value(p, "siprec_metrics_snapshot_age_seconds", ""), 0.3);
  /* Once the loop is back, the call shows. */
  usleep(1600 * 1000);
  http("127.0.0.1", s->port, "GET", "/metrics", r);
  parse(r->body, r->body_len, p);
  ck_assert_double_eq(value(p, "siprec_sessions_active", ""), 1);
  ck_assert_double_lt(value(p, "siprec_metrics_snapshot_age_seconds", ""), 1);
  srv_stop(s);
  free(p);
  free(r);
  free(s);
}
END_TEST

/* A client that connects and says nothing is closed after the timeout;
 * one that sends half a request too. */
START_TEST(test_http_idle_timeout)
{
  struct srv *s = malloc(sizeof *s);
  struct metrics_http_config cfg = { .timeout_s = 1 };
  ck_assert_int_eq(srv_start(s, "127.0.0.1", &cfg), 0);
  for (int half = 0; half < 2; half++) {
    int fd = connect_to("127.0.0.1", s->port);
    if (half)
      send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    uint64_t t0 = uv_hrtime();
    char buf[4096];
    int closed;
    ssize_t n = read_reply(fd, buf, sizeof buf, 5000, &closed);
    uint64_t took_ms = (uv_hrtime() - t0) / 1000000;
    ck_assert_msg(closed, "the idle client is still connected after 5 s");
    ck_assert(n <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0);
    ck_assert_uint_ge(took_ms, 900);
    ck_assert_uint_lt(took_ms, 4000);
    close(fd);
  }
  srv_stop(s);
  free(s);
}
END_TEST

/* n connections to s held open, taken by the server when this returns. */
static void hold(struct srv *s, int *fds, int n)
{
  for (int i = 0; i < n; i++)
    fds[i] = connect_to("127.0.0.1", s->port);
  usleep(200 * 1000); /* let the server take them */
}

/* The server still answers GET /metrics with 200; then it is stopped and
 * freed. */
static void serves_then_stop(struct srv *s)
{
  struct reply *r = malloc(sizeof *r);
  http("127.0.0.1", s->port, "GET", "/metrics", r);
  ck_assert_int_eq(r->status, 200);
  srv_stop(s);
  free(r);
  free(s);
}

/* Connections at once are bounded: beyond the bound a client waits (or is
 * turned away) while the held ones stay, and is served once they go. */
START_TEST(test_http_connection_bound)
{
  struct srv *s = malloc(sizeof *s);
  struct metrics_http_config cfg = { .max_connections = 3, .max_per_ip = 3, .timeout_s = 30 };
  ck_assert_int_eq(srv_start(s, "127.0.0.1", &cfg), 0);
  int held[3];
  hold(s, held, 3);
  int extra = connect_to("127.0.0.1", s->port); /* the kernel's backlog takes it */
  send_all(extra, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  char buf[1 << 16];
  int closed;
  ssize_t n = read_reply(extra, buf, sizeof buf, 700, &closed);
  ck_assert_msg(n < 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0,
                "a fourth connection was served while three were held");
  for (int i = 0; i < 3; i++)
    close(held[i]);
  if (n < 0) { /* it waited: now it is served */
    n = read_reply(extra, buf, sizeof buf, 5000, &closed);
    ck_assert_msg(n > 0 && strncmp(buf, "HTTP/1.1 200", 12) == 0, "the waiting client: %zd", n);
  }
  close(extra);
  serves_then_stop(s);
}
END_TEST

/* One address holds at most max_per_ip; its next connections are closed at
 * once, and a flood of them leaves the server serving. */
START_TEST(test_http_per_ip_bound)
{
  struct srv *s = malloc(sizeof *s);
  struct metrics_http_config cfg = { .max_connections = 8, .max_per_ip = 2, .timeout_s = 30 };
  ck_assert_int_eq(srv_start(s, "127.0.0.1", &cfg), 0);
  int held[2];
  hold(s, held, 2);
  enum { FLOOD = 40 };
  int fds[FLOOD];
  for (int i = 0; i < FLOOD; i++)
    fds[i] = connect_to("127.0.0.1", s->port);
  for (int i = 0; i < FLOOD; i++) {
    char buf[256];
    int closed;
    uint64_t t0 = uv_hrtime();
    read_reply(fds[i], buf, sizeof buf, 3000, &closed);
    ck_assert_msg(closed, "connection %d beyond the per-address bound stayed open", i);
    ck_assert_uint_lt((uv_hrtime() - t0) / 1000000, 2000);
    close(fds[i]);
  }
  for (int i = 0; i < 2; i++)
    close(held[i]);
  usleep(200 * 1000);
  serves_then_stop(s);
}
END_TEST

START_TEST(test_http_start_errors)
{
  uv_loop_t loop;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  struct sockaddr_in a;
  ck_assert_int_eq(uv_ip4_addr("127.0.0.1", 0, &a), 0);
  struct metrics_http *m = NULL;
  char err[256];
  int dummy;
  /* No render function, no address, an address of another family. */
  ck_assert_int_eq(metrics_http_start(&m, &loop, (struct sockaddr *)&a, NULL, NULL, &dummy, err,
                                      sizeof err),
                   -1);
  ck_assert(err[0] != '\0');
  ck_assert_int_eq(
    metrics_http_start(&m, &loop, NULL, NULL, failing_hook, NULL, err, sizeof err),
    -1);
  struct sockaddr unix_like = { .sa_family = AF_UNIX };
  ck_assert_int_eq(metrics_http_start(&m, &loop, &unix_like, NULL, failing_hook,
                                      NULL, NULL, 0),
                   -1);
  /* A port in use: said with the reason. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  ck_assert_int_eq(metrics_http_start(&m, &loop, (struct sockaddr *)&a, NULL,
                                      failing_hook, NULL, err, sizeof err),
                   -1);
  ck_assert_msg(strstr(err, "bind") && strstr(err, strerror(EADDRINUSE)), "%s", err);
  ck_assert_ptr_null(m);
  close(fd);
  metrics_http_stop(NULL);
  ck_assert_uint_eq(metrics_http_port(NULL), 0);

  /* A renderer that always fails: 503 until a snapshot exists, counted. */
  ck_assert_int_eq(uv_ip4_addr("127.0.0.1", 0, &a), 0);
  ck_assert_int_eq(metrics_http_start(&m, &loop, (struct sockaddr *)&a,
                                      &(struct metrics_http_config){ .wait_ms = 50 },
                                      failing_hook, NULL, err, sizeof err),
                   0);
  struct reply *r = malloc(sizeof *r);
  /* Nobody runs the loop: the request waits wait_ms and gets 503. */
  http("127.0.0.1", metrics_http_port(m), "GET", "/metrics", r);
  ck_assert_int_eq(r->status, 503);
  free(r);
  metrics_http_stop(m);
  uv_run(&loop, UV_RUN_DEFAULT); /* the close callback frees the module */
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("metrics");
  TCase *tc = tcase_create("text");
  tcase_add_test(tc, test_text_format);
  tcase_add_test(tc, test_text_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("siprec");
  tcase_add_test(tc, test_siprec_render);
  suite_add_tcase(s, tc);
  tc = tcase_create("http");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_http_get);
  tcase_add_test(tc, test_http_ipv6);
  tcase_add_test(tc, test_http_rate_bound);
  tcase_add_test(tc, test_http_stalled_loop);
  tcase_add_test(tc, test_http_idle_timeout);
  tcase_add_test(tc, test_http_connection_bound);
  tcase_add_test(tc, test_http_per_ip_bound);
  tcase_add_test(tc, test_http_start_errors);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
