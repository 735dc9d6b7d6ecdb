/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shared corpus (../shared/corpus, see its INDEX.md): every NAME.sip is
 * fed to a handler with default settings as one UDP datagram from
 * 192.0.2.1:5060 to 192.0.2.10:5060, and the answer is checked against
 * NAME.expect.json, as the SRC would see it: the status, and per offered
 * m-line whether it was accepted, its direction, codec and label, and SRTP;
 * and as the host sees it: the session's metadata model (status,
 * participants, who sends on each labelled stream, also through the m-line
 * binding). A sample added to the folder is tested without new code. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <siprec/siprec.h>

#include "corpus.h"
#include "det_random.h"
#include "expect.h"
#include "expect_metadata.h"
#include "check_main.h"

/* Copies into fixed buffers below truncate on purpose (SDP lines, labels). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif


typedef struct started_info {
  int started;
  size_t streams;
  siprec_metadata *model;
  char labels[EXPECT_MAX_STREAMS][128];
  int has_label[EXPECT_MAX_STREAMS];
} started_info;

static void on_started(void *user, siprec_session *s)
{
  started_info *i = user;
  i->started++;
  i->streams = siprec_session_stream_count(s);
  i->model = siprec_session_metadata(s);
  for (size_t k = 0; k < i->streams && k < EXPECT_MAX_STREAMS; k++) {
    siprec_stream_info info = { .size = sizeof info };
    const char *label = siprec_session_stream(s, k, &info) == 0 ? info.label : NULL;
    i->has_label[k] = label != NULL;
    snprintf(i->labels[k], sizeof i->labels[k], "%s", label ? label : "");
  }
}

/* Who the m-line binding says sends on each labelled stream: the same as the
 * metadata's own associations wherever the sample says who sends. */
static void check_binding(const char *name, const started_info *info, const expect *ex)
{
  const siprec_metadata *m = info->model;
  ck_assert_uint_eq(siprec_metadata_mline_count(m),
                    siprec_metadata_get_status(m) == SIPREC_METADATA_ABSENT ? 0 : info->streams);
  for (size_t l = 0; ex->has_stream_participants && l < ex->n_stream_participants; l++) {
    const expect_label *e = &ex->stream_participants[l];
    size_t k = 0;
    while (k < info->streams && !(info->has_label[k] && !strcmp(info->labels[k], e->label)))
      k++;
    ck_assert_msg(k < info->streams, "%s: no m-line labelled '%s'", name, e->label);
    siprec_metadata_rule rule;
    ck_assert_int_eq(siprec_metadata_mline(m, k, NULL, &rule), 0);
    ck_assert_msg(rule == SIPREC_METADATA_RULE_LABEL, "%s: m-line '%s' bound by %s", name,
                  e->label, siprec_metadata_rule_name(rule));
    size_t n = siprec_metadata_mline_sender(m, k, 0, NULL);
    ck_assert_msg(n == e->n_aors, "%s: %zu senders bound to '%s', expected %zu", name, n,
                  e->label, e->n_aors);
  }
}

/* One answered m-line as the SRC reads it. */
typedef struct answer_stream {
  char media[32];
  unsigned port;
  char proto[32];
  char first_fmt[16];
  char label[128];
  int has_label;
  char direction[16];
  char codec[32];
  int crypto;
} answer_stream;

static const char *static_codec(const char *pt)
{
  if (!strcmp(pt, "0"))
    return "PCMU";
  if (!strcmp(pt, "8"))
    return "PCMA";
  if (!strcmp(pt, "9"))
    return "G722";
  if (!strcmp(pt, "18"))
    return "G729";
  return "";
}

static size_t parse_answer(const char *sdp, answer_stream *out, size_t max)
{
  size_t n = 0;
  answer_stream *cur = NULL;
  const char *p = sdp;
  while (*p) {
    const char *e = strstr(p, "\r\n");
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
    if (!strncmp(line, "m=", 2) && n < max) {
      cur = &out[n++];
      memset(cur, 0, sizeof *cur);
      sscanf(line + 2, "%31s %u %31s %15s", cur->media, &cur->port, cur->proto, cur->first_fmt);
      snprintf(cur->codec, sizeof cur->codec, "%s", static_codec(cur->first_fmt));
    } else if (cur && !strncmp(line, "a=rtpmap:", 9)) {
      char pt[16], name[64];
      if (sscanf(line + 9, "%15s %63[^/]", pt, name) == 2 && !strcmp(pt, cur->first_fmt))
        snprintf(cur->codec, sizeof cur->codec, "%s", name);
    } else if (cur && !strncmp(line, "a=label:", 8)) {
      snprintf(cur->label, sizeof cur->label, "%s", line + 8);
      cur->has_label = 1;
    } else if (cur && (!strcmp(line, "a=recvonly") || !strcmp(line, "a=sendonly") ||
                       !strcmp(line, "a=inactive") || !strcmp(line, "a=sendrecv"))) {
      snprintf(cur->direction, sizeof cur->direction, "%s", line + 2);
    } else if (cur && !strncmp(line, "a=crypto:", 9)) {
      cur->crypto = 1;
    }
    if (!e)
      break;
    p = e + 2;
  }
  return n;
}

static int check_sample(const char *dir, const char *name, const char *stem, void *user)
{
  (void)stem;
  (void)user;
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/%.*s.expect.json", dir, (int)(strlen(name) - 4), name);
  expect ex;
  ck_assert_msg(expect_read(path, &ex, err, sizeof err) == 0, "%s", err);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t len;
  char *msg = read_file(path, &len);
  ck_assert_msg(msg != NULL, "cannot read %s", path);

  siprec_handler_callbacks *cbs;
  ck_assert_int_eq(siprec_handler_callbacks_new(&cbs, NULL), 0);
  siprec_handler_callbacks_set_random(cbs, det_random);
  siprec_handler_callbacks_set_session_started(cbs, on_started);
  started_info info;
  memset(&info, 0, sizeof info);
  siprec_handler *h;
  ck_assert_int_eq(siprec_handler_new(&h, NULL, cbs, &info, NULL), 0);
  siprec_handler_callbacks_free(cbs);

  struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(5060) };
  struct sockaddr_in srs = { .sin_family = AF_INET, .sin_port = htons(5060) };
  inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &srs.sin_addr);
  static char resp[65536];
  const siprec_path via = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&srs,
                            (struct sockaddr *)&src, 0 };
  size_t rlen = 0;
  int n = siprec_handler_process(h, msg, len, &via, 1000000000ull, resp, sizeof resp - 1, &rlen);
  n = n == SIPREC_PROCESS_RESPONSE ? (int)rlen : n;
  ck_assert_msg(n > 12, "%s: no response (%d)", name, n);
  resp[n] = '\0';
  int status = atoi(resp + 8);
  if (ex.status)
    ck_assert_msg(status == ex.status, "%s: status %d, expected %d: %.60s", name, status, ex.status,
                  resp);
  else
    ck_assert_msg(status / 100 == ex.status_class, "%s: status %d, expected %dxx: %.60s", name,
                  status, ex.status_class, resp);

  if (status / 100 == 2 && ex.has_streams) {
    ck_assert_msg(info.started == 1, "%s: no session-started event", name);
    ck_assert_uint_eq(info.streams, ex.n_streams);
    ck_assert_msg(strstr(resp, "\r\nContent-Type: application/sdp\r\n") != NULL,
                  "%s: the 200 is not plain application/sdp", name);
    ck_assert_msg(strstr(resp, ";+sip.srs") != NULL, "%s: Contact lacks +sip.srs", name);
    const char *body = strstr(resp, "\r\n\r\n");
    ck_assert(body != NULL);
    answer_stream as[EXPECT_MAX_STREAMS];
    size_t na = parse_answer(body + 4, as, EXPECT_MAX_STREAMS);
    ck_assert_msg(na == ex.n_streams, "%s: %zu answered m-lines, %zu offered", name, na,
                  ex.n_streams);
    for (size_t i = 0; i < na; i++) {
      const expect_stream *e = &ex.streams[i];
      ck_assert_msg(!strcmp(as[i].media, e->media), "%s stream %zu: media %s, expected %s", name,
                    i, as[i].media, e->media);
      ck_assert_msg((as[i].port != 0) == e->accepted, "%s stream %zu: port %u, accepted %d", name,
                    i, as[i].port, e->accepted);
      if (!e->accepted)
        continue;
      if (e->has_label)
        ck_assert_msg(as[i].has_label && !strcmp(as[i].label, e->label),
                      "%s stream %zu: label '%s', expected '%s'", name, i, as[i].label, e->label);
      ck_assert_msg(!strcmp(as[i].direction, e->direction), "%s stream %zu: %s, expected %s", name,
                    i, as[i].direction, e->direction);
      ck_assert_msg(!strcasecmp(as[i].codec, e->codec), "%s stream %zu: codec %s, expected %s",
                    name, i, as[i].codec, e->codec);
      if (ex.has_srtp) {
        int savp = strstr(as[i].proto, "SAVP") != NULL;
        ck_assert_msg(savp == ex.srtp && as[i].crypto == ex.srtp,
                      "%s stream %zu: proto %s crypto %d, srtp expected %d", name, i, as[i].proto,
                      as[i].crypto, ex.srtp);
      }
    }
  }
  if (status / 100 == 2 && (ex.has_participants || ex.metadata[0])) {
    expect_check_metadata(name, info.model, &ex);
    check_binding(name, &info, &ex);
  }
  siprec_metadata_unref(info.model);
  siprec_handler_free(h);
  free(msg);
  return 1;
}

START_TEST(test_corpus_folder)
{
  int samples = corpus_each(check_sample, NULL);
  ck_assert_msg(samples >= 18, "%d samples in %s", samples, corpus_dir());
}
END_TEST

int main(void)
{
  Suite *s = suite_create("corpus");
  TCase *tc = tcase_create("corpus");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_corpus_folder);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
