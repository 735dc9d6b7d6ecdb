/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may speak in a dialog (the source rule of handler.h, CANCEL under it
 * too), and what vendor equipment sends: ACKs numbered with a counter of
 * their own, a re-INVITE that shows the previous 2xx arrived, and the two
 * legs of a Cisco CUCM built-in-bridge recording. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/siprec.h>

#include "check_main.h"
#include "expect.h"
#include "handler_fixture.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define S (1000 * MS)

static const struct sockaddr *sa(const void *p)
{
  return p;
}

static void ack(fixture *f, const char *cid, const char *tag, unsigned cseq, uint64_t now)
{
  char msg[4096], branch[64];
  snprintf(branch, sizeof branch, "%s-ack%u", cid, cseq);
  fx_request(msg, sizeof msg, "ACK", cid, tag, cseq, branch, NULL, NULL);
  ck_assert_int_eq(fx_feed(f, msg, now), 0);
}

/* A CANCEL only from the SRC: its From-tag, from its address. */
/* One UDP message from `from` to `local`: the response's length, 0 for
 * none, or the error. */
static int process_udp(siprec_handler *h, const char *m, size_t len, const struct sockaddr *from,
                       const struct sockaddr *local, uint64_t now, char *resp, size_t size)
{
  const siprec_path path = { SIPREC_TRANSPORT_UDP, local, from, 0 };
  size_t n = 0;
  int rc = siprec_handler_process(h, m, len, &path, now, resp, size, &n);
  return rc == SIPREC_PROCESS_RESPONSE ? (int)n : rc;
}

START_TEST(test_cancel_source)
{
  fixture f;
  fx_init(&f, NULL, 0);
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "c-1", NULL, 1, "c1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(f.status, 100);
  /* From another address: 481, the INVITE goes on. */
  fx_request(msg, sizeof msg, "CANCEL", "c-1", NULL, 1, "c1", NULL, NULL);
  fx_feed_from(&f, &f.other, msg, 1 * S + 10 * MS);
  ck_assert_int_eq(f.status, 481);
  /* From another port of the SRC's host: 481 too (UDP: exact address). */
  struct sockaddr_in port2 = f.src;
  port2.sin_port = htons(5070);
  fx_feed_from(&f, &port2, msg, 1 * S + 20 * MS);
  ck_assert_int_eq(f.status, 481);
  /* From the SRC's address with another From-tag: 481. */
  char forged[4096];
  snprintf(forged, sizeof forged, "%s", msg);
  char *t = strstr(forged, "tag=src1");
  ck_assert_ptr_nonnull(t);
  memcpy(t, "tag=evil", 8);
  fx_feed(&f, forged, 1 * S + 30 * MS);
  ck_assert_int_eq(f.status, 481);
  siprec_handler_expire(f.h, 2 * S);
  ck_assert_int_eq(f.ev.ended, 0);
  ck_assert_int_eq(f.ev.sent, 0);
  ck_assert(siprec_session_is_pending(f.ev.deferred));
  /* The SRC's own CANCEL: 200, then 487 for the INVITE. */
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  siprec_handler_expire(f.h, 2 * S);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_CANCEL);
  ck_assert(strncmp(f.ev.last_sent, "SIP/2.0 487 ", 12) == 0);
  siprec_session_unref(f.ev.deferred);
  siprec_handler_free(f.h);
}
END_TEST

/* The source rule: over UDP the SRC's exact address; over TCP any
 * connection from its host; anything else only through the ACL. */
START_TEST(test_source_rule)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_start_call(&f, "src-1", tag, sizeof tag);
  ack(&f, "src-1", tag, 1, 1 * S);
  struct sockaddr_in port2 = f.src;
  port2.sin_port = htons(5070);
  /* A re-INVITE moving the media, from another port of the SRC's host. */
  const char moved[] = "v=0\r\no=SRC 1 2 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\n"
                       "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=sendonly\r\na=label:1\r\n"
                       "m=audio 40002 RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n";
  fx_request(msg, sizeof msg, "INVITE", "src-1", tag, 2, "src1r", NULL, moved);
  fx_feed_from(&f, &port2, msg, 2 * S);
  ck_assert_int_eq(f.status, 481);
  ck_assert_int_eq(f.ev.acl_calls, 1);
  ck_assert_int_eq(f.ev.updated, 0);
  /* A BYE from there: 481, the session stays. */
  fx_request(msg, sizeof msg, "BYE", "src-1", tag, 3, "src1b", NULL, NULL);
  fx_feed_from(&f, &port2, msg, 2 * S);
  ck_assert_int_eq(f.status, 481);
  ck_assert_int_eq(f.ev.ended, 0);
  /* The same from the SRC's own address: taken. */
  fx_request(msg, sizeof msg, "OPTIONS", "src-1", tag, 4, "src1o", NULL, NULL);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  /* Over TCP, a new connection from the SRC's host (another port) is the
   * SRC: a stream's handshake proves its address. */
  fx_request(msg, sizeof msg, "OPTIONS", "src-1", tag, 5, "src1t", NULL, NULL);
  fx_feed_ex(&f, sa(&port2), sa(&f.srs), SIPREC_TRANSPORT_TCP, 42, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  /* The ACL lets an SBC's mate in; its address is the SRC's from then on. */
  f.ev.acl_allow = 1;
  fx_request(msg, sizeof msg, "INVITE", "src-1", tag, 6, "src1r2", NULL, moved);
  fx_feed_from(&f, &port2, msg, 4 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.updated, 1);
  f.ev.acl_allow = 0;
  fx_request(msg, sizeof msg, "ACK", "src-1", tag, 6, "src1a6", NULL, NULL);
  fx_feed_from(&f, &port2, msg, 4 * S);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_DROPPED, SIPREC_DROP_ACK), 0);
  /* The old address is no longer the SRC's. */
  fx_request(msg, sizeof msg, "BYE", "src-1", tag, 7, "src1b2", NULL, NULL);
  fx_feed(&f, msg, 5 * S);
  ck_assert_int_eq(f.status, 481);
  fx_feed_from(&f, &port2, msg, 5 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.ended, 1);
  siprec_handler_free(f.h);
}
END_TEST

/* Pause and resume by re-INVITE, the ACKs numbered by the SBC's own
 * counter: each ACK settles its 2xx, and the resume is not refused 491. */
START_TEST(test_ack_odd_cseq)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64];
  fx_start_call(&f, "odd", tag, sizeof tag);
  ack(&f, "odd", tag, 1, 1 * S);
  const char paused[] = "v=0\r\no=SRC 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                        "t=0 0\r\nm=audio 10000 RTP/AVP 0\r\na=inactive\r\na=label:1\r\n"
                        "m=audio 10002 RTP/AVP 0\r\na=inactive\r\na=label:2\r\n";
  fx_request(msg, sizeof msg, "INVITE", "odd", tag, 2, "odd-p", NULL, paused);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.last_changes & SIPREC_CHANGE_STREAMS_PAUSED, SIPREC_CHANGE_STREAMS_PAUSED);
  ack(&f, "odd", tag, 9, 2 * S + 10 * MS); /* CSeq 9 for the 2xx to CSeq 2 */
  /* Taken: the 2xx is not retransmitted. */
  int sent = f.ev.sent;
  siprec_handler_expire(f.h, 2 * S + 600 * MS);
  siprec_handler_expire(f.h, 4 * S);
  ck_assert_int_eq(f.ev.sent, sent);
  /* Resume: 200, not 491. */
  fx_request(msg, sizeof msg, "INVITE", "odd", tag, 3, "odd-r", NULL, fx_sdp2);
  fx_feed(&f, msg, 5 * S);
  ck_assert_int_eq(f.status, 200);
  ck_assert_int_eq(f.ev.last_changes & SIPREC_CHANGE_STREAMS_RESUMED, SIPREC_CHANGE_STREAMS_RESUMED);
  ack(&f, "odd", tag, 2, 5 * S + 10 * MS); /* lower than the INVITE's: taken too */
  siprec_handler_expire(f.h, 6 * S);
  ck_assert_int_eq(f.ev.sent, sent);
  ck_assert_int_eq(f.ev.ended, 0);
  siprec_handler_free(f.h);
}
END_TEST

/* A re-INVITE with a higher CSeq while the previous 2xx waits for its ACK
 * shows that 2xx arrived; the late ACK of the settled one does not settle
 * the new 2xx. */
START_TEST(test_reinvite_settles)
{
  fixture f;
  fx_init(&f, NULL, 0);
  char msg[4096], tag[64], resp[16384];
  fx_start_call(&f, "set", tag, sizeof tag);
  fx_request(msg, sizeof msg, "INVITE", "set", tag, 2, "set-2", NULL, fx_sdp3);
  fx_feed(&f, msg, 1 * S + 100 * MS);
  ck_assert_int_eq(f.status, 200);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0), 0);
  strcpy(resp, f.resp);
  /* The first INVITE's late ACK: absorbed, the re-INVITE's 2xx still waits. */
  ack(&f, "set", tag, 1, 1 * S + 200 * MS);
  siprec_handler_expire(f.h, 1 * S + 600 * MS);
  ck_assert_int_eq(f.ev.sent, 1);
  ck_assert_str_eq(f.ev.last_sent, resp);
  /* Its own ACK settles it. */
  ack(&f, "set", tag, 2, 1 * S + 700 * MS);
  siprec_handler_expire(f.h, 4 * S);
  ck_assert_int_eq(f.ev.sent, 1);
  ck_assert_int_eq(f.ev.ended, 0);
  siprec_handler_free(f.h);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Cisco CUCM built-in bridge                                               */

static char *torture_file(const char *name, size_t *len)
{
  char path[4096];
  const char *dir = getenv("SIPREC_TEST_DATA");
  snprintf(path, sizeof path, "%s/torture/%s.sip", dir ? dir : "tests/data", name);
  char *m = read_file(path, len);
  ck_assert_msg(m != NULL, "cannot read %s", path);
  return m;
}

/* The value of header `name` in `msg` (up to its CRLF), into out. */
static void header_value(const char *msg, const char *name, char *out, size_t size)
{
  char key[64];
  snprintf(key, sizeof key, "\r\n%s: ", name);
  const char *p = strstr(msg, key);
  ck_assert_msg(p != NULL, "no %s", name);
  p += strlen(key);
  snprintf(out, size, "%.*s", (int)strcspn(p, "\r"), p);
}

/* An in-dialog request of a BiB leg, its From as the INVITE's (or `from`). */
static void bib_request(char *out, size_t size, const char *invite, const char *method,
                        unsigned cseq, const char *to_tag, const char *from, const char *body)
{
  char from_v[1024], to_v[256], cid[256];
  header_value(invite, "From", from_v, sizeof from_v);
  header_value(invite, "To", to_v, sizeof to_v);
  header_value(invite, "Call-ID", cid, sizeof cid);
  snprintf(out, size,
           "%s sip:srs@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s%u\r\n"
           "From: %s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: %u %s\r\nMax-Forwards: 70\r\n"
           "User-Agent: Cisco-CUCM11.5\r\n%sContent-Length: %zu\r\n\r\n%s",
           method, method, cseq, from ? from : from_v, to_v, to_tag, cid, cseq, method,
           body ? "Content-Type: application/sdp\r\n" : "", body ? strlen(body) : 0,
           body ? body : "");
}

static int count_of(const char *hay, const char *needle)
{
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

typedef struct bib_leg_seen {
  siprec_bib_leg leg;
  char key[256], refci[64], farend[64];
  char speaker[64];
  siprec_metadata_status status;
} bib_leg_seen;

static void read_leg(siprec_session *s, bib_leg_seen *out)
{
  const char *key = NULL, *refci = NULL, *farend = NULL;
  out->leg = siprec_session_bib_leg(s, &key, &refci, &farend);
  ck_assert_int_ne(out->leg, SIPREC_BIB_NONE);
  snprintf(out->key, sizeof out->key, "%s", key);
  snprintf(out->refci, sizeof out->refci, "%s", refci);
  snprintf(out->farend, sizeof out->farend, "%s", farend);
  ck_assert_int_eq(siprec_session_is_siprec(s), 0);
  siprec_metadata *m = siprec_session_metadata(s);
  ck_assert_ptr_nonnull(m);
  out->status = siprec_metadata_get_status(m);
  /* Who speaks on the leg's one stream. */
  size_t who = SIZE_MAX;
  ck_assert_uint_eq(siprec_metadata_mline_sender(m, 0, 0, &who), 1);
  const char *aor = NULL;
  ck_assert_int_eq(siprec_metadata_participant(m, who, NULL, &aor, NULL, NULL), 0);
  snprintf(out->speaker, sizeof out->speaker, "%s", aor ? aor : "");
  siprec_metadata_unref(m);
}

static bib_leg_seen seen[2];
static int n_seen;

static void on_bib_started(void *user, siprec_session *s)
{
  (void)user;
  if (n_seen < 2)
    read_leg(s, &seen[n_seen++]);
}

START_TEST(test_cucm_bib)
{
  siprec_handler_callbacks *cbs;
  ck_assert_int_eq(siprec_handler_callbacks_new(&cbs, NULL), 0);
  siprec_handler_callbacks_set_session_started(cbs, on_bib_started);
  siprec_handler *h;
  ck_assert_int_eq(siprec_handler_new(&h, NULL, cbs, NULL, NULL), 0);
  siprec_handler_callbacks_free(cbs);
  n_seen = 0;
  struct sockaddr_in cucm = { .sin_family = AF_INET, .sin_port = htons(5060) }, srs = cucm;
  inet_pton(AF_INET, "192.0.2.1", &cucm.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &srs.sin_addr);
  static const char *const legs[] = { "vendor-cucm-bib-nearend", "vendor-cucm-bib-farend" };
  char *invite[2], tags[2][64], resp[8192], msg[8192];
  for (int i = 0; i < 2; i++) {
    size_t len;
    invite[i] = torture_file(legs[i], &len);
    int n = process_udp(h, invite[i], len, sa(&cucm), sa(&srs), 1 * S, resp, sizeof resp - 1);
    ck_assert_int_gt(n, 0);
    resp[n] = '\0';
    ck_assert_msg(strncmp(resp, "SIP/2.0 200 ", 12) == 0, "%s", resp);
    /* The delayed offer of a BiB leg: one recvonly audio stream. */
    ck_assert_int_eq(count_of(resp, "\r\nm=audio "), 1);
    ck_assert_int_eq(count_of(resp, "\r\nm="), 1);
    ck_assert_ptr_nonnull(strstr(resp, "\r\na=recvonly\r\n"));
    const char *t = strstr(strstr(resp, "\r\nTo: "), ";tag=") + 5;
    snprintf(tags[i], sizeof tags[i], "%.*s", (int)strcspn(t, ";\r"), t);
  }
  ck_assert_int_eq(n_seen, 2);
  ck_assert_int_eq(seen[0].leg, SIPREC_BIB_NEAR_END);
  ck_assert_int_eq(seen[1].leg, SIPREC_BIB_FAR_END);
  /* One key pairs the two legs; the refci values as sent. */
  ck_assert_str_eq(seen[0].key, seen[1].key);
  ck_assert_str_eq(seen[0].refci, "25431346");
  ck_assert_str_eq(seen[0].farend, "25431345");
  /* Who speaks on each leg, from the headers. */
  ck_assert_int_eq(seen[0].status, SIPREC_METADATA_HEADERS);
  ck_assert_str_eq(seen[0].speaker, "1001");
  ck_assert_str_eq(seen[1].speaker, "2001");
  /* The ACKs answer the offers (the phone's SDP). */
  const char answer[] = "v=0\r\no=CiscoSystemsCCM-SIP 2000 1 IN IP4 192.0.2.1\r\ns=SIP Call\r\n"
                        "c=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 24580 RTP/AVP 0 101\r\n"
                        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                        "a=fmtp:101 0-15\r\na=sendonly\r\n";
  for (int i = 0; i < 2; i++) {
    bib_request(msg, sizeof msg, invite[i], "ACK", 101, tags[i], NULL, answer);
    ck_assert_int_eq(process_udp(h, msg, strlen(msg), sa(&cucm), sa(&srs), 1 * S + 50 * MS, resp, sizeof resp),
                     0);
  }
  ck_assert_uint_eq(fx_active(h), 2);
  ck_assert_uint_eq(siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ENDED, SIPREC_END_NO_MEDIA), 0);
  /* The last requests of a call may carry sloppy From parameters (a
   * misspelt x-farrend): the dialog is matched by its tags. */
  char from_v[1024];
  header_value(invite[1], "From", from_v, sizeof from_v);
  char *p = strstr(from_v, ";x-farend;");
  ck_assert_ptr_nonnull(p);
  char sloppy[1100];
  snprintf(sloppy, sizeof sloppy, "%.*s;x-farrend;%s", (int)(p - from_v), from_v, p + 10);
  for (int i = 0; i < 2; i++) {
    bib_request(msg, sizeof msg, invite[i], "BYE", 102, tags[i], i ? sloppy : NULL, NULL);
    int n = process_udp(h, msg, strlen(msg), sa(&cucm), sa(&srs), 2 * S, resp, sizeof resp - 1);
    ck_assert_int_gt(n, 0);
    resp[n] = '\0';
    ck_assert_msg(strncmp(resp, "SIP/2.0 200 ", 12) == 0, "%s", resp);
  }
  ck_assert_uint_eq(fx_active(h), 0);
  ck_assert_uint_eq(siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ENDED, SIPREC_END_BYE), 2);
  siprec_handler_free(h);
  free(invite[0]);
  free(invite[1]);
}
END_TEST

/* A plain INVITE without the BiB marks is still refused. */
START_TEST(test_plain_still_refused)
{
  siprec_handler *h;
  ck_assert_int_eq(siprec_handler_new(&h, NULL, NULL, NULL, NULL), 0);
  size_t len;
  char *m = torture_file("vendor-cucm-bib-nearend", &len);
  char *x = strstr(m, ";x-refci=");
  ck_assert_ptr_nonnull(x);
  memcpy(x, ";x-refcj=", 9); /* no x-refci: not a BiB leg */
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5060) };
  inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
  char resp[8192];
  int n = process_udp(h, m, len, sa(&a), sa(&a), 0, resp, sizeof resp - 1);
  ck_assert_int_gt(n, 0);
  resp[n] = '\0';
  ck_assert(strncmp(resp, "SIP/2.0 403 ", 12) == 0);
  siprec_handler_free(h);
  free(m);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_vendor");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_cancel_source);
  tcase_add_test(tc, test_source_rule);
  tcase_add_test(tc, test_ack_odd_cseq);
  tcase_add_test(tc, test_reinvite_settles);
  tcase_add_test(tc, test_cucm_bib);
  tcase_add_test(tc, test_plain_still_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
