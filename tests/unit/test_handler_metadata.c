/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session's metadata model through the handler: metadata arriving late
 * in an UPDATE, partial updates in re-INVITEs with their change sets and
 * the m-line binding following new streams, unreadable metadata that never
 * fails the call, and Cisco network-based recordings named by headers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <siprec/siprec.h>

#include "check_main.h"
#include "handler_fixture.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define S (1000 * MS)
#define NS "urn:ietf:params:xml:ns:recording:1"

static const char complete_doc[] =
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

/* A transfer: Carol joins, sending on a new stream labelled 3. */
static const char partial_doc[] =
  "<recording xmlns='" NS "'><datamode>partial</datamode>"
  "<participant participant_id='pc'><nameID aor='sip:carol@example.com'/></participant>"
  "<stream stream_id='s3' session_id='cs1'><label>3</label></stream>"
  "<participantstreamassoc participant_id='pc'><send>s3</send></participantstreamassoc>"
  "</recording>";

/* A request with a multipart body: SDP (may be NULL) and metadata. */
static void multipart(char *out, size_t size, const char *method, const char *call_id,
                      const char *tag, unsigned cseq, const char *branch, const char *sdp,
                      const char *xml)
{
  char body[8192];
  int n = 0;
  if (sdp)
    n += snprintf(body + n, sizeof body - (size_t)n,
                  "--b1\r\nContent-Type: application/sdp\r\n\r\n%s", sdp);
  n += snprintf(body + n, sizeof body - (size_t)n,
                "--b1\r\nContent-Type: application/rs-metadata+xml\r\n"
                "Content-Disposition: recording-session\r\n\r\n%s\r\n--b1--\r\n",
                xml);
  snprintf(out, size,
           "%s sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s\r\n"
           "From: <sip:src@192.0.2.1>;tag=src1\r\nTo: <sip:srs@192.0.2.10>%s%s\r\n"
           "Call-ID: %s\r\nCSeq: %u %s\r\nContact: <sip:src@192.0.2.1>;+sip.src\r\n"
           "Require: siprec\r\nContent-Type: multipart/mixed;boundary=b1\r\n"
           "Content-Length: %d\r\n\r\n%s",
           method, branch, tag ? ";tag=" : "", tag ? tag : "", call_id, cseq, method, n, body);
}

static siprec_session *take_session(fixture *f, const char *call_id, char *tag, size_t size,
                                    const char *msg)
{
  f->ev.refuse_with = SIPREC_DECISION_DEFER; /* to get a reference to the session */
  fx_feed(f, msg, 1 * S);
  ck_assert_int_eq(f->status, 100);
  siprec_session *s = f->ev.deferred;
  f->ev.deferred = NULL;
  ck_assert_int_eq(siprec_handler_accept_session(f->h, s, 1 * S), 0);
  fx_feed(f, msg, 1 * S);
  ck_assert_int_eq(f->status, 200);
  fx_to_tag(f, tag, size);
  char ack[2048];
  fx_request(ack, sizeof ack, "ACK", call_id, tag, 1, "ack", NULL, NULL);
  fx_feed(f, ack, 1 * S);
  f->ev.refuse_with = 0;
  return s;
}

static const char *sender_of_mline(const siprec_metadata *m, size_t mline)
{
  size_t p;
  if (siprec_metadata_mline_sender(m, mline, 0, &p) == 0)
    return NULL;
  const char *aor = NULL;
  siprec_metadata_participant(m, p, NULL, &aor, NULL, NULL);
  return aor;
}

START_TEST(test_late_and_partial_metadata)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[16384], tag[64];
  /* SDP alone first: a SIPREC session without metadata yet. */
  fx_request(msg, sizeof msg, "INVITE", "m-1", NULL, 1, "m1", "Require: siprec\r\n", fx_sdp2);
  siprec_session *s = take_session(&f, "m-1", tag, sizeof tag, msg);
  ck_assert_uint_eq(siprec_session_header_participant(s, 0, NULL, NULL), 0);
  siprec_metadata *m = siprec_session_metadata(s);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_ABSENT);

  /* The metadata comes in an UPDATE without SDP. */
  multipart(msg, sizeof msg, "UPDATE", "m-1", tag, 2, "m1u", NULL, complete_doc);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(f.ev.last_changes, SIPREC_CHANGE_METADATA);
  m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_OK);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2);
  ck_assert_str_eq(sender_of_mline(m, 0), "sip:alice@example.com");
  ck_assert_str_eq(sender_of_mline(m, 1), "sip:bob@example.com");
  siprec_metadata_rule rule;
  ck_assert_int_eq(siprec_metadata_mline(m, 1, NULL, &rule), 0);
  ck_assert_int_eq(rule, SIPREC_METADATA_RULE_LABEL);
  const siprec_metadata_changes *c = siprec_session_metadata_changes(s);
  ck_assert_uint_eq(siprec_metadata_changes_tally(c, SIPREC_METADATA_PARTICIPANT,
                                                  SIPREC_METADATA_ADDED), 2);
  size_t raw_len;
  ck_assert_ptr_nonnull(siprec_session_metadata_xml(s, &raw_len));
  ck_assert_uint_eq(raw_len, strlen(complete_doc));

  /* The same document again: nothing changed but a refresh. */
  fx_feed(&f, msg, 2 * S + 10 * MS);
  ck_assert_int_eq(f.status, 500); /* the same CSeq: out of order */
  multipart(msg, sizeof msg, "UPDATE", "m-1", tag, 3, "m1u2", NULL, complete_doc);
  fx_feed(&f, msg, 2 * S + 20 * MS);
  ck_assert_uint_eq(f.ev.last_changes, SIPREC_CHANGE_REFRESH);
  ck_assert_ptr_null(siprec_session_metadata_changes(s));

  /* A transfer: a re-INVITE adds stream 3 and, partially, Carol on it. */
  multipart(msg, sizeof msg, "INVITE", "m-1", tag, 4, "m1r", fx_sdp3, partial_doc);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert(f.ev.last_changes & SIPREC_CHANGE_METADATA);
  ck_assert(f.ev.last_changes & SIPREC_CHANGE_STREAMS_ADDED);
  c = siprec_session_metadata_changes(s);
  ck_assert_uint_eq(siprec_metadata_changes_tally(c, SIPREC_METADATA_PARTICIPANT,
                                                  SIPREC_METADATA_ADDED), 1);
  ck_assert_uint_eq(siprec_metadata_changes_tally(c, SIPREC_METADATA_STREAM,
                                                  SIPREC_METADATA_ADDED), 1);
  siprec_metadata *m2 = siprec_session_metadata(s);
  ck_assert_uint_eq(siprec_metadata_participant_count(m2), 3);
  ck_assert_uint_eq(siprec_metadata_mline_count(m2), 3);
  ck_assert_str_eq(sender_of_mline(m2, 2), "sip:carol@example.com");
  /* The snapshot taken before is as it was. */
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2);
  siprec_metadata_unref(m);
  siprec_metadata_unref(m2);
  /* Ended by BYE, a session the host still holds stays readable. */
  fx_request(msg, sizeof msg, "ACK", "m-1", tag, 4, "m1ra", NULL, NULL);
  fx_feed(&f, msg, 3 * S);
  fx_request(msg, sizeof msg, "BYE", "m-1", tag, 5, "m1b", NULL, NULL);
  fx_feed(&f, msg, 4 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(siprec_session_stream_count(s), 3);
  m = siprec_session_metadata(s);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 3);
  siprec_metadata_unref(m);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_unreadable_metadata)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[16384], tag[64];
  multipart(msg, sizeof msg, "INVITE", "u-1", NULL, 1, "u1", fx_sdp2,
            "<recording xmlns='" NS "'><participant participant_id='x'>");
  siprec_session *s = take_session(&f, "u-1", tag, sizeof tag, msg);
  siprec_metadata *m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_UNREADABLE);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_EPARSE);
  ck_assert_ptr_nonnull(siprec_metadata_raw(m, NULL));
  ck_assert_uint_eq(siprec_session_stream_count(s), 2);
  siprec_metadata_unref(m);
  /* A later good document mends it. */
  multipart(msg, sizeof msg, "UPDATE", "u-1", tag, 2, "u1u", NULL, complete_doc);
  fx_feed(&f, msg, 2 * S);
  m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_OK);
  siprec_metadata_unref(m);
  /* A billion-laughs document is refused, not expanded, and the call goes on. */
  multipart(msg, sizeof msg, "UPDATE", "u-1", tag, 3, "u1l", NULL,
            "<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'>"
            "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]><recording xmlns='" NS "'>&b;</recording>");
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_UNREADABLE);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2); /* the content before it stays */
  siprec_metadata_unref(m);
  /* A re-INVITE whose offer is refused (488) leaves the metadata as it was. */
  multipart(msg, sizeof msg, "INVITE", "u-1", tag, 4, "u1r",
            "v=0\r\no=x 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
            "m=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
            partial_doc);
  fx_feed(&f, msg, 4 * S);
  ck_assert_int_eq(f.status, 488);
  m = siprec_session_metadata(s);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2);
  siprec_metadata_unref(m);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_cisco_headers)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[8192], tag[64];
  snprintf(msg, sizeof msg,
           "INVITE sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcc\r\n"
           "From: <sip:cube@192.0.2.1>;tag=src1\r\nTo: <sip:srs@192.0.2.10>\r\n"
           "Call-ID: cisco-1\r\nCSeq: 1 INVITE\r\nContact: <sip:cube@192.0.2.1>\r\n"
           "X-Cisco-Recording-Participant: <sip:1001@192.0.2.50>;media-index=\"1\"\r\n"
           "X-Cisco-Recording-Participant: sip:2002@192.0.2.60;media-index=\"0\"\r\n"
           "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
           strlen(fx_sdp2), fx_sdp2);
  siprec_session *s = take_session(&f, "cisco-1", tag, sizeof tag, msg);
  ck_assert(!siprec_session_is_siprec(s));
  siprec_metadata *m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_HEADERS);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2);
  const char *aor = NULL;
  siprec_metadata_participant(m, 0, NULL, &aor, NULL, NULL);
  ck_assert_str_eq(aor, "sip:1001@192.0.2.50");
  ck_assert_str_eq(sender_of_mline(m, 0), "sip:2002@192.0.2.60");
  ck_assert_str_eq(sender_of_mline(m, 1), "sip:1001@192.0.2.50");
  siprec_metadata_rule rule;
  siprec_metadata_mline(m, 0, NULL, &rule);
  ck_assert_int_eq(rule, SIPREC_METADATA_RULE_HEADERS);
  /* The header values themselves, in order. */
  const char *value = NULL;
  size_t len = 0;
  ck_assert_uint_eq(siprec_session_header_participant(s, 1, &value, &len), 2);
  ck_assert_str_eq(value, "sip:2002@192.0.2.60;media-index=\"0\"");
  ck_assert_uint_eq(len, strlen(value));
  ck_assert_uint_eq(siprec_session_header_participant(s, 0, &value, NULL), 2);
  ck_assert_str_eq(value, "<sip:1001@192.0.2.50>;media-index=\"1\"");
  value = NULL;
  ck_assert_uint_eq(siprec_session_header_participant(s, 2, &value, &len), 2);
  ck_assert_ptr_null(value); /* past the last: untouched */
  /* A re-INVITE keeps the header binding. */
  fx_request(msg, sizeof msg, "INVITE", "cisco-1", tag, 2, "cc2", NULL, fx_sdp2);
  fx_feed(&f, msg, 2 * S);
  siprec_metadata *m2 = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m2), SIPREC_METADATA_HEADERS);
  ck_assert_str_eq(sender_of_mline(m2, 0), "sip:2002@192.0.2.60");
  siprec_metadata_unref(m2);
  siprec_metadata_unref(m);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_metadata_limits)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  siprec_metadata_limits *lim;
  ck_assert_int_eq(siprec_metadata_limits_new(&lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_bytes(lim, 100), 0);
  ck_assert_int_eq(siprec_handler_config_set_metadata_limits(cfg, lim), 0);
  siprec_metadata_limits_free(lim);
  fixture f;
  fx_init(&f, cfg, 0);
  siprec_handler_config_free(cfg);
  char msg[16384], tag[64];
  multipart(msg, sizeof msg, "INVITE", "l-1", NULL, 1, "l1", fx_sdp2, complete_doc);
  siprec_session *s = take_session(&f, "l-1", tag, sizeof tag, msg);
  siprec_metadata *m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_UNREADABLE);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_ETOOBIG);
  siprec_metadata_unref(m);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

static char last_log[512];

static void keep_log(void *user, siprec_log_level level, const char *message)
{
  (void)user;
  if (level <= SIPREC_LOG_WARNING)
    snprintf(last_log, sizeof last_log, "%s", message);
}

/* A partial update that would take the merged model past its limit is not
 * applied: the call goes on (200), the model stays, its status says
 * refused, and the log says why. */
START_TEST(test_merged_model_limit)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  siprec_metadata_limits *lim;
  ck_assert_int_eq(siprec_metadata_limits_new(&lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_participants(lim, 2), 0);
  ck_assert_int_eq(siprec_handler_config_set_metadata_limits(cfg, lim), 0);
  ck_assert_int_eq(siprec_handler_config_set_log_level(cfg, SIPREC_LOG_WARNING), 0);
  siprec_metadata_limits_free(lim);
  fixture f;
  fx_init(&f, cfg, 0);
  f.ev.log_hook = keep_log;
  siprec_handler_config_free(cfg);
  last_log[0] = '\0';
  char msg[16384], tag[64];
  multipart(msg, sizeof msg, "INVITE", "g-1", NULL, 1, "g1", fx_sdp2, complete_doc);
  siprec_session *s = take_session(&f, "g-1", tag, sizeof tag, msg);
  siprec_metadata *m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_OK);
  siprec_metadata_unref(m);
  multipart(msg, sizeof msg, "UPDATE", "g-1", tag, 2, "g1u", NULL, partial_doc);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  m = siprec_session_metadata(s);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_REFUSED);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_ETOOBIG);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2);
  ck_assert_uint_eq(siprec_metadata_stream_count(m), 2);
  siprec_metadata_unref(m);
  ck_assert_msg(strstr(last_log, "metadata update not applied") &&
                  strstr(last_log, "limit of 2 participants"),
                "log: %s", last_log);
  ck_assert_int_eq(siprec_session_stream_count(s), 2);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* An SRC's own failover: a new INVITE for the same communication session */

static struct {
  int superseded;
} fo;

static void fo_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)user;
  (void)s;
  fo.superseded += r == SIPREC_END_SUPERSEDED;
}

static void fo_callbacks(siprec_handler_callbacks *cbs)
{
  siprec_handler_callbacks_set_session_ended(cbs, fo_ended);
}

/* A handler (`cfg`, NULL for the defaults) counting superseded sessions. */
static void fo_init(fixture *f, siprec_handler_config *cfg)
{
  fx_callbacks_hook = fo_callbacks;
  fx_init(f, cfg, 0);
  fx_callbacks_hook = NULL;
  memset(&fo, 0, sizeof fo);
}

/* The old session had media until 2 s; a new INVITE for the same
 * communication session at `at` (metadata `xml`, or Session-ID `sid` when
 * xml is NULL). Returns the new session (a reference). */
static siprec_session *failover_at(fixture *f, siprec_session **old_out, const char *xml,
                                   const char *sid, uint64_t at)
{
  char msg[16384], tag[64];
  if (xml)
    multipart(msg, sizeof msg, "INVITE", "fo-old", NULL, 1, "old1", fx_sdp2, xml);
  else
    fx_request(msg, sizeof msg, "INVITE", "fo-old", NULL, 1, "old1", sid, fx_sdp2);
  siprec_session *old = take_session(f, "fo-old", tag, sizeof tag, msg);
  struct sockaddr_in rtp = f->src;
  rtp.sin_port = htons(10000);
  for (uint16_t k = 0; k < 50; k++)
    ck_assert_int_eq(fx_feed_rtp(f, old, 0, &rtp, k, 160u * k, 1 * S + k * 20 * MS), 0);
  if (xml)
    multipart(msg, sizeof msg, "INVITE", "fo-new", NULL, 1, "new1", fx_sdp2, xml);
  else
    fx_request(msg, sizeof msg, "INVITE", "fo-new", NULL, 1, "new1", sid, fx_sdp2);
  f->ev.refuse_with = SIPREC_DECISION_DEFER;
  fx_feed(f, msg, at);
  ck_assert_int_eq(f->status, 100);
  siprec_session *s = f->ev.deferred;
  f->ev.deferred = NULL;
  f->ev.refuse_with = 0;
  *old_out = old;
  return s;
}

START_TEST(test_failover_by_metadata_session)
{
  fixture f;
  fo_init(&f, NULL);
  siprec_session *old;
  /* 3 s after the old session's last packet (2 s of silence is enough). */
  siprec_session *s = failover_at(&f, &old, complete_doc, NULL, 5 * S);
  ck_assert_ptr_nonnull(siprec_session_continues(s));
  ck_assert_str_eq(siprec_session_continues(s), siprec_session_id(old));
  ck_assert_int_eq(fo.superseded, 0); /* not before the new one is answered */
  ck_assert_int_eq(siprec_handler_accept_session(f.h, s, 5 * S), 0);
  ck_assert_int_eq(fo.superseded, 1);
  ck_assert_ptr_nonnull(strstr(f.ev.sent_log, "BYE"));
  ck_assert_str_eq(siprec_end_reason_name(SIPREC_END_SUPERSEDED), "superseded");
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ENDED, SIPREC_END_SUPERSEDED), 1);
  siprec_session_unref(s);
  siprec_session_unref(old);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_failover_by_session_id)
{
  fixture f;
  fo_init(&f, NULL);
  siprec_session *old;
  siprec_session *s = failover_at(&f, &old, NULL,
                                  "Require: siprec\r\nSession-ID: ab12ab12ab12ab12ab12ab12ab12ab12"
                                  ";remote=00000000000000000000000000000000\r\n",
                                  5 * S);
  ck_assert_ptr_nonnull(siprec_session_continues(s));
  ck_assert_int_eq(siprec_handler_accept_session(f.h, s, 5 * S), 0);
  ck_assert_int_eq(fo.superseded, 1);
  siprec_session_unref(s);
  siprec_session_unref(old);
  siprec_handler_free(f.h);
}
END_TEST

/* Another live recording session of the same call (its media still
 * flows), a null Session-ID, or failover detection switched off: no
 * failover. */
START_TEST(test_failover_not_when_live)
{
  fixture f;
  fo_init(&f, NULL);
  siprec_session *old;
  /* 1 s after the last packet: within the 2 s. */
  siprec_session *s = failover_at(&f, &old, complete_doc, NULL, 2 * S + 900 * MS);
  ck_assert_ptr_null(siprec_session_continues(s));
  ck_assert_int_eq(siprec_handler_accept_session(f.h, s, 3 * S), 0);
  ck_assert_int_eq(fo.superseded, 0);
  siprec_session_unref(s);
  siprec_session_unref(old);
  siprec_handler_free(f.h);

  fo_init(&f, NULL);
  s = failover_at(&f, &old, NULL,
                  "Require: siprec\r\nSession-ID: 00000000000000000000000000000000\r\n", 9 * S);
  ck_assert_ptr_null(siprec_session_continues(s));
  siprec_session_unref(s);
  siprec_session_unref(old);
  siprec_handler_free(f.h);

  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_failover_silence(cfg, 0), 0);
  ck_assert_int_eq(siprec_handler_config_set_failover_silence(cfg, 3600001), SIPREC_EINVAL);
  fo_init(&f, cfg);
  siprec_handler_config_free(cfg);
  s = failover_at(&f, &old, complete_doc, NULL, 9 * S);
  ck_assert_ptr_null(siprec_session_continues(s));
  siprec_session_unref(s);
  siprec_session_unref(old);
  siprec_handler_free(f.h);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_metadata");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_late_and_partial_metadata);
  tcase_add_test(tc, test_unreadable_metadata);
  tcase_add_test(tc, test_cisco_headers);
  tcase_add_test(tc, test_metadata_limits);
  tcase_add_test(tc, test_merged_model_limit);
  tcase_add_test(tc, test_failover_by_metadata_session);
  tcase_add_test(tc, test_failover_by_session_id);
  tcase_add_test(tc, test_failover_not_when_live);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
