/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A node takes a session over from another's snapshot and re-INVITEs the
 * SRC (siprec_handler_take_over), through the public API: the re-INVITE's
 * lines and offer, its 2xx ACKed (again for copies) and applied (media from
 * the SRC's new address taken, from the old one not), its UDP schedule and
 * Timer B, 491 retried, glare, non-2xx, a snapshot taken mid re-INVITE. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <siprec/siprec.h>

#include "../common/check_main.h"
#include "../common/handler_fixture.h"
#include "../common/snapshot_host.h"

static void on_audio(void *user, const siprec_audio_frame *fr)
{
  (void)user;
  (void)fr;
}

static void callbacks(siprec_handler_callbacks *cbs)
{
  fx_snapshot_callbacks(cbs);
  siprec_handler_callbacks_set_audio(cbs, on_audio);
}

static void init(fixture *f, int host_ports)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_snapshots(cfg, 1, 0), 0);
  fx_callbacks_hook = callbacks;
  fx_init(f, cfg, host_ports);
  fx_callbacks_hook = NULL;
  siprec_handler_config_free(cfg);
}

static struct sockaddr_in node_b;
static char tag[64];
static uint16_t old_port[2];

/* Node A (the built-in pool) holds a confirmed call and hands it over;
 * node B (the host's ports) takes it over at 5 s. */
static siprec_session *take_over(fixture *b, const char *call_id)
{
  fixture a;
  init(&a, 0);
  fx_start_call(&a, call_id, tag, sizeof tag);
  char msg[4096];
  fx_request(msg, sizeof msg, "ACK", call_id, tag, 1, "ack1", NULL, NULL);
  fx_feed(&a, msg, 1100 * MS);
  siprec_session *s = NULL;
  ck_assert_uint_eq(siprec_handler_sessions(a.h, &s, 1), 1);
  for (size_t i = 0; i < 2; i++) {
    siprec_stream_info info = { .size = sizeof info };
    ck_assert_int_eq(siprec_session_stream(s, i, &info), 0);
    old_port[i] = info.port;
  }
  siprec_session_unref(s);
  ck_assert_int_eq(siprec_handler_shutdown(a.h, SIPREC_SHUTDOWN_HANDOVER, 3000 * MS), 0);
  siprec_handler_free(a.h);
  init(b, 1);
  memset(&node_b, 0, sizeof node_b);
  node_b.sin_family = AF_INET;
  node_b.sin_port = htons(5080);
  inet_pton(AF_INET, "192.0.2.20", &node_b.sin_addr);
  int sent = b->ev.sent;
  ck_assert_int_eq(siprec_handler_take_over(b->h, fx_snap.bytes, fx_snap.len,
                                            (struct sockaddr *)&node_b, 5000 * MS, &s),
                   0);
  ck_assert_int_eq(b->ev.sent, sent + 1);
  return s;
}

/* The SRC's final response to the last request B sent, with `sdp` (or none). */
static void respond(fixture *f, int status, const char *sdp, char *out, size_t size)
{
  fx_answer_last_sent(f, status, sdp ? "Content-Type: application/sdp\r\n" : NULL, out, size);
  if (!sdp)
    return;
  char *cl = strstr(out, "Content-Length: 0\r\n\r\n");
  ck_assert_ptr_nonnull(cl);
  snprintf(cl, size - (size_t)(cl - out), "Content-Length: %zu\r\n\r\n%s", strlen(sdp), sdp);
}

/* The SRC answers from its new media address. */
static const char answer_sdp[] =
    "v=0\r\no=SRC 1 3 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
    "m=audio 12000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
    "m=audio 12002 RTP/AVP 0\r\na=sendonly\r\n";

static void header(const char *msg, const char *name, char *out, size_t size)
{
  const char *p = strstr(msg, name);
  ck_assert_ptr_nonnull(p);
  const char *e = strstr(p, "\r\n");
  snprintf(out, size, "%.*s", (int)(e - p), p);
}

START_TEST(test_reinvite_lines)
{
  fixture b;
  siprec_session *s = take_over(&b, "to-lines");
  const char *inv = b.ev.last_sent;
  ck_assert_int_eq(strncmp(inv, "INVITE sip:", 11), 0);
  ck_assert_ptr_nonnull(strstr(inv, "Via: SIP/2.0/UDP 192.0.2.20:5080;branch=z9hG4bK"));
  ck_assert_ptr_nonnull(strstr(inv, "CSeq: 1 INVITE\r\n"));
  ck_assert_ptr_nonnull(strstr(inv, "Contact: <sip:srs@192.0.2.20:5080>;+sip.srs\r\n"));
  char from[256];
  header(inv, "From: ", from, sizeof from);
  ck_assert_ptr_nonnull(strstr(from, tag));
  ck_assert_ptr_nonnull(strstr(inv, "Content-Type: application/sdp\r\n"));
  ck_assert_ptr_nonnull(strstr(inv, "c=IN IP4 192.0.2.20\r\n"));
  /* The session's o= version was 1 (its answer): now 2. */
  ck_assert_ptr_nonnull(strstr(inv, " 2 IN IP4 192.0.2.20\r\n"));
  for (size_t i = 0; i < 2; i++) {
    siprec_stream_info info = { .size = sizeof info };
    ck_assert_int_eq(siprec_session_stream(s, i, &info), 0);
    ck_assert_uint_ne(info.port, old_port[i]);
    char m[64];
    snprintf(m, sizeof m, "m=audio %u RTP/AVP 0%s\r\n", info.port, i == 0 ? " 101" : "");
    ck_assert_ptr_nonnull(strstr(inv, m));
  }
  ck_assert_ptr_nonnull(strstr(inv, "a=label:1\r\n"));
  ck_assert_ptr_nonnull(strstr(inv, "a=label:2\r\n"));
  ck_assert_ptr_nonnull(strstr(inv, "a=recvonly\r\n"));
  /* Another one while it is pending: EAGAIN. */
  ck_assert_int_eq(siprec_handler_reoffer(b.h, s, 5100 * MS), SIPREC_EAGAIN);
  siprec_session_unref(s);
  siprec_handler_free(b.h);
}
END_TEST

/* The SRC's 2xx names a new Contact: the dialog's remote target follows
 * (RFC 3261 12.2.1.2), its ACK and later requests go there. */
START_TEST(test_2xx_contact_refreshes_target)
{
  fixture b;
  siprec_session *s = take_over(&b, "to-contact");
  char ok[8192], with[8400];
  respond(&b, 200, answer_sdp, ok, sizeof ok);
  char *ct = strstr(ok, "Content-Type: ");
  ck_assert_ptr_nonnull(ct);
  snprintf(with, sizeof with, "%.*sContact: <sip:src@198.51.100.7:5070>\r\n%s",
           (int)(ct - ok), ok, ct);
  fx_feed(&b, with, 5200 * MS);
  static const char ack[] = "ACK sip:src@198.51.100.7:5070 SIP/2.0\r\n";
  static const char bye[] = "BYE sip:src@198.51.100.7:5070 SIP/2.0\r\n";
  ck_assert_msg(strncmp(b.ev.last_sent, ack, sizeof ack - 1) == 0, "%.300s", b.ev.last_sent);
  ck_assert_int_eq(siprec_handler_end_session(b.h, s, 6000 * MS), 0);
  ck_assert_msg(strncmp(b.ev.last_sent, bye, sizeof bye - 1) == 0, "%.300s", b.ev.last_sent);
  siprec_session_unref(s);
  siprec_handler_free(b.h);
}
END_TEST

/* The SRC's own target refresh (RFC 3261 12.2.2): its re-INVITE names a
 * new Contact (an SBC pair that failed over); the SRS's BYE goes there. */
START_TEST(test_src_reinvite_refreshes_target)
{
  fixture f;
  init(&f, 0);
  char t[64], msg[4096], moved[4200];
  fx_start_call(&f, "src-refresh", t, sizeof t);
  fx_request(msg, sizeof msg, "ACK", "src-refresh", t, 1, "ack1", NULL, NULL);
  fx_feed(&f, msg, 1100 * MS);
  fx_request(msg, sizeof msg, "INVITE", "src-refresh", t, 2, "re2", NULL, fx_sdp2);
  static const char old[] = "Contact: <sip:src@192.0.2.1:5060>";
  char *c = strstr(msg, old);
  ck_assert_ptr_nonnull(c);
  snprintf(moved, sizeof moved, "%.*sContact: <sip:src@198.51.100.9:5070>%s", (int)(c - msg), msg,
           c + sizeof old - 1);
  ck_assert_int_gt(fx_feed(&f, moved, 2000 * MS), 0);
  ck_assert_int_eq(f.status, 200);
  fx_request(msg, sizeof msg, "ACK", "src-refresh", t, 2, "ack2", NULL, NULL);
  fx_feed(&f, msg, 2100 * MS);
  siprec_session *s = NULL;
  ck_assert_uint_eq(siprec_handler_sessions(f.h, &s, 1), 1);
  ck_assert_int_eq(siprec_handler_end_session(f.h, s, 3000 * MS), 0);
  static const char bye[] = "BYE sip:src@198.51.100.9:5070 SIP/2.0\r\n";
  ck_assert_msg(strncmp(f.ev.last_sent, bye, sizeof bye - 1) == 0, "%.300s", f.ev.last_sent);
  siprec_session_unref(s);
  siprec_handler_free(f.h);
}
END_TEST

START_TEST(test_2xx_moves_media)
{
  fixture b;
  siprec_session *s = take_over(&b, "to-2xx");
  char inv[8192], ok[8192];
  snprintf(inv, sizeof inv, "%s", b.ev.last_sent);
  respond(&b, 200, answer_sdp, ok, sizeof ok);
  int updated = b.ev.updated, sent = b.ev.sent;
  fx_feed(&b, ok, 5200 * MS);
  ck_assert_int_eq(b.ev.updated, updated + 1);
  ck_assert_int_eq(b.ev.sent, sent + 1);
  char ack[8192];
  snprintf(ack, sizeof ack, "%s", b.ev.last_sent);
  ck_assert_int_eq(strncmp(ack, "ACK sip:", 8), 0);
  ck_assert_ptr_nonnull(strstr(ack, "CSeq: 1 ACK\r\n"));
  char vi[256], va[256];
  header(inv, "Via: ", vi, sizeof vi);
  header(ack, "Via: ", va, sizeof va);
  ck_assert_str_ne(vi, va); /* a 2xx's ACK is a transaction of its own */
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(s, 0, &info), 0);
  ck_assert_str_eq(info.remote_address, "198.51.100.7");
  ck_assert_uint_eq(info.remote_port, 12000);
  /* Media from the new address is taken, and latched: the old source's
   * is not (before any packet, the SRC's signalling address would pass
   * the latch rule, so the new source comes first). */
  struct sockaddr_in old_src = b.src, new_src = b.src;
  old_src.sin_port = htons(10000);
  inet_pton(AF_INET, "198.51.100.7", &new_src.sin_addr);
  new_src.sin_port = htons(12000);
  siprec_stream_stats st = { .size = sizeof st };
  for (uint16_t k = 0; k < 3; k++)
    ck_assert_int_eq(fx_feed_rtp(&b, s, 0, &new_src, (uint16_t)(200 + k), 9000u + 160u * k,
                                 5320 * MS + k * 20 * MS),
                     0);
  ck_assert_int_eq(siprec_session_stream_stats(s, 0, &st), 0);
  ck_assert_uint_eq(st.packets, 3);
  fx_feed_rtp(&b, s, 0, &old_src, 100, 1000, 5400 * MS);
  ck_assert_int_eq(siprec_session_stream_stats(s, 0, &st), 0);
  ck_assert_uint_eq(st.packets, 3);
  /* The 2xx again: the same ACK again. */
  fx_feed(&b, ok, 5800 * MS);
  ck_assert_int_eq(b.ev.sent, sent + 2);
  ck_assert_str_eq(b.ev.last_sent, ack);
  ck_assert_int_eq(b.ev.updated, updated + 1);
  /* Now another re-offer may go (the host's). */
  ck_assert_int_eq(siprec_handler_reoffer(b.h, s, 6000 * MS), 0);
  ck_assert_ptr_nonnull(strstr(b.ev.last_sent, "CSeq: 2 INVITE\r\n"));
  ck_assert_ptr_nonnull(strstr(b.ev.last_sent, " 3 IN IP4 192.0.2.20\r\n"));
  siprec_session_unref(s);
  siprec_handler_free(b.h);
}
END_TEST

START_TEST(test_udp_schedule_timer_b)
{
  fixture b;
  siprec_session *s = take_over(&b, "to-timer-b");
  char inv[8192];
  snprintf(inv, sizeof inv, "%s", b.ev.last_sent);
  int sent = b.ev.sent;
  /* T1 = 500 ms: again at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s after 5 s. */
  static const uint64_t at[] = { 500, 1500, 3500, 7500, 15500, 31500 };
  for (size_t i = 0; i < 6; i++) {
    siprec_handler_expire(b.h, 5000 * MS + at[i] * MS - 1);
    ck_assert_int_eq(b.ev.sent, sent + (int)i);
    ck_assert_uint_eq(siprec_handler_next_deadline(b.h), 5000 * MS + at[i] * MS);
    siprec_handler_expire(b.h, 5000 * MS + at[i] * MS);
    ck_assert_int_eq(b.ev.sent, sent + (int)i + 1);
    ck_assert_str_eq(b.ev.last_sent, inv);
  }
  /* Timer B (64*T1): a BYE, the session ends. */
  int ended = b.ev.ended;
  siprec_handler_expire(b.h, 5000 * MS + 32000 * MS);
  ck_assert_int_eq(b.ev.ended, ended + 1);
  ck_assert_int_eq(b.ev.last_reason, SIPREC_END_KEEPALIVE);
  ck_assert_int_eq(strncmp(b.ev.last_sent, "BYE ", 4), 0);
  siprec_session_unref(s);
  siprec_handler_free(b.h);
}
END_TEST

START_TEST(test_491_glare_non2xx)
{
  fixture b;
  siprec_session *s = take_over(&b, "to-491");
  char inv[8192], resp[8192], msg[4096];
  snprintf(inv, sizeof inv, "%s", b.ev.last_sent);
  /* Glare: the SRC's own re-INVITE, and an UPDATE with an offer, get 491. */
  fx_request(msg, sizeof msg, "INVITE", "to-491", tag, 2, "glare1", NULL, fx_sdp2);
  fx_feed(&b, msg, 5100 * MS);
  ck_assert_int_eq(b.status, 491);
  fx_request(msg, sizeof msg, "UPDATE", "to-491", tag, 3, "glare2", NULL, fx_sdp2);
  fx_feed(&b, msg, 5100 * MS);
  ck_assert_int_eq(b.status, 491);
  /* Our INVITE answered 491: ACKed with its own branch, retried in 2.1-4 s. */
  respond(&b, 491, NULL, resp, sizeof resp);
  fx_feed(&b, resp, 5200 * MS);
  ck_assert_int_eq(strncmp(b.ev.last_sent, "ACK ", 4), 0);
  ck_assert_ptr_nonnull(strstr(b.ev.last_sent, "CSeq: 1 ACK\r\n"));
  char vi[256], va[256];
  header(inv, "Via: ", vi, sizeof vi);
  header(b.ev.last_sent, "Via: ", va, sizeof va);
  ck_assert_str_eq(vi, va); /* hop by hop: the INVITE's transaction */
  int sent = b.ev.sent;
  siprec_handler_expire(b.h, 5200 * MS + 2099 * MS);
  ck_assert_int_eq(b.ev.sent, sent);
  uint64_t next = siprec_handler_next_deadline(b.h);
  ck_assert_uint_ge(next, 5200 * MS + 2100 * MS);
  ck_assert_uint_le(next, 5200 * MS + 4000 * MS);
  siprec_handler_expire(b.h, next);
  ck_assert_int_eq(b.ev.sent, sent + 1);
  ck_assert_ptr_nonnull(strstr(b.ev.last_sent, "CSeq: 2 INVITE\r\n"));
  /* 488: ACKed, the session as it was (the SRC's address unchanged). */
  respond(&b, 488, NULL, resp, sizeof resp);
  int updated = b.ev.updated;
  fx_feed(&b, resp, next + 100 * MS);
  ck_assert_int_eq(strncmp(b.ev.last_sent, "ACK ", 4), 0);
  ck_assert_int_eq(b.ev.updated, updated);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(s, 0, &info), 0);
  ck_assert_str_eq(info.remote_address, "192.0.2.1");
  /* The SRC's re-INVITE is taken again now (CSeq after the glare's). */
  fx_request(msg, sizeof msg, "INVITE", "to-491", tag, 4, "after", NULL, fx_sdp2);
  fx_feed(&b, msg, next + 200 * MS);
  ck_assert_int_eq(b.status, 200);
  siprec_session_unref(s);
  siprec_handler_free(b.h);
}
END_TEST

START_TEST(test_snapshot_mid_reinvite)
{
  fixture b;
  siprec_session *s = take_over(&b, "to-snap");
  char inv[8192], ok[8192];
  snprintf(inv, sizeof inv, "%s", b.ev.last_sent);
  respond(&b, 200, answer_sdp, ok, sizeof ok);
  /* B dies with its re-INVITE out: a restart of B restores it mid re-INVITE. */
  unsigned char copy[65536];
  size_t len = fx_snap.len;
  memcpy(copy, fx_snap.bytes, len);
  siprec_session_unref(s);
  ck_assert_int_eq(siprec_handler_shutdown(b.h, SIPREC_SHUTDOWN_HANDOVER, 5100 * MS), 0);
  siprec_handler_free(b.h);
  fixture c;
  init(&c, 1);
  ck_assert_int_eq(siprec_handler_restore(c.h, copy, len, 5200 * MS, &s), 0);
  /* Its retransmission schedule goes on: the next T1 after the last
   * snapshot's time, as an offset (no wall-clock time passed). */
  uint64_t next = siprec_handler_next_deadline(c.h);
  ck_assert_uint_ge(next, 5200 * MS);
  ck_assert_uint_le(next, 5700 * MS);
  siprec_handler_expire(c.h, next - 1);
  ck_assert_str_eq(c.ev.last_sent, "");
  siprec_handler_expire(c.h, next);
  ck_assert_str_eq(c.ev.last_sent, inv);
  int updated = c.ev.updated;
  fx_feed(&c, ok, next + 100 * MS);
  ck_assert_int_eq(strncmp(c.ev.last_sent, "ACK ", 4), 0);
  ck_assert_int_eq(c.ev.updated, updated + 1);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(s, 1, &info), 0);
  ck_assert_str_eq(info.remote_address, "198.51.100.7");
  ck_assert_uint_eq(info.remote_port, 12002);
  siprec_session_unref(s);
  siprec_handler_free(c.h);
}
END_TEST

START_TEST(test_bad_arguments)
{
  fixture b;
  init(&b, 1);
  siprec_session *s = (siprec_session *)&b; /* never read */
  struct sockaddr bad = { .sa_family = AF_UNIX };
  ck_assert_int_eq(siprec_handler_take_over(b.h, "x", 1, NULL, 0, &s), SIPREC_EINVAL);
  ck_assert_ptr_null(s);
  ck_assert_int_eq(siprec_handler_take_over(b.h, "x", 1, &bad, 0, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_take_over(b.h, "garbage", 7, (struct sockaddr *)&b.srs, 0, NULL),
                   SIPREC_EPARSE);
  ck_assert_int_eq(siprec_handler_reoffer(NULL, NULL, 0), SIPREC_EINVAL);
  siprec_handler_free(b.h);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("handler_takeover");
  TCase *tc = tcase_create("takeover");
  tcase_add_test(tc, test_reinvite_lines);
  tcase_add_test(tc, test_2xx_moves_media);
  tcase_add_test(tc, test_2xx_contact_refreshes_target);
  tcase_add_test(tc, test_src_reinvite_refreshes_target);
  tcase_add_test(tc, test_udp_schedule_timer_b);
  tcase_add_test(tc, test_491_glare_non2xx);
  tcase_add_test(tc, test_snapshot_mid_reinvite);
  tcase_add_test(tc, test_bad_arguments);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
