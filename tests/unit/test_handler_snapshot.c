/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session snapshots through the public API (siprec/store.h): a session is
 * written at a point of its life, restored into a second handler, and the
 * two then answer the same following messages (and fall due at the same
 * times) byte for byte: in every state a test can reach. Also: the host is
 * asked for the state of dialogs it does not hold, corrupted and truncated
 * snapshots are refused, the seal, the hand-over, and the committed
 * snapshot of format version 1. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/siprec.h>

#include "../common/check_main.h"
#include "../common/det_random.h"
#include "../common/handler_fixture.h"
#include "../common/snapshot_host.h"
#include "../common/base64.h"
#include "../common/rtp_build.h"
#include "../common/srtp_fixture.h"

/* ---------------------------------------------------------------------- */
/* The host's side: the last snapshot of each call kept, a fake wall clock. */

/* Audio frames and stream events of stream 0, as a recorder sees them. */
static struct {
  uint64_t first_pos, last_end; /* of the frames since the last reset */
  int frames;
  uint64_t gap_samples;
} au;

static void on_audio(void *user, const siprec_audio_frame *fr)
{
  (void)user;
  if (fr->stream != 0)
    return;
  if (!au.frames++)
    au.first_pos = fr->position;
  au.last_end = fr->position + fr->n_samples;
}

static void on_stream_event(void *user, const siprec_stream_event *ev)
{
  (void)user;
  if (ev->stream == 0 && (ev->type == SIPREC_STREAM_GAP || ev->type == SIPREC_STREAM_DISCONTINUITY))
    au.gap_samples += ev->samples;
}

/* The media callbacks only where a case looks at media: they arm the
 * no-media watchdog, whose deadlines the signalling twins need not share. */
static int with_media;

static void snapshot_callbacks(siprec_handler_callbacks *cbs)
{
  fx_snapshot_callbacks(cbs);
  if (with_media) {
    siprec_handler_callbacks_set_audio(cbs, on_audio);
    siprec_handler_callbacks_set_stream_event(cbs, on_stream_event);
  }
}

static const uint8_t seal_key[SIPREC_SNAPSHOT_KEY_LEN] = "0123456789abcdef0123456789abcdef";

/* A handler with snapshots on (the twin has the same configuration). */
static void init(fixture *f, int session_timer, int seal)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_snapshots(cfg, 1, 0), 0);
  if (seal)
    ck_assert_int_eq(siprec_handler_config_set_snapshot_key(cfg, seal_key), 0);
  if (session_timer)
    ck_assert_int_eq(siprec_handler_config_set_session_timer(cfg, 90, 90), 0);
  fx_callbacks_hook = snapshot_callbacks;
  fx_init(f, cfg, 0);
  fx_callbacks_hook = NULL;
  siprec_handler_config_free(cfg);
}

/* ---------------------------------------------------------------------- */
/* Scenarios: a continuation run on the first handler, then on the restored
 * twin; every step's output kept. */

typedef enum { FEED, EXPIRE, ANSWER, ACCEPT } step_kind;
typedef struct step {
  step_kind kind;
  uint64_t at;
  char msg[4096];
  int status; /* ANSWER: the SRC's answer to the last request the SRS sent */
} step;

typedef struct trace {
  char out[16][32768]; /* per step: the response, then every message sent */
  int rc[16];
} trace;

static char sent_buf[8192];
static void record_sent(void *arg, const void *data, size_t len, const struct sockaddr *dest)
{
  (void)arg;
  (void)dest;
  size_t used = strlen(sent_buf);
  snprintf(sent_buf + used, sizeof sent_buf - used, "[sent]%.*s", (int)len, (const char *)data);
}

static void run(fixture *f, siprec_session *held, const step *steps, size_t n, trace *t)
{
  f->ev.send_hook = record_sent;
  det_random_seed(77); /* both handlers draw the same bytes from here on */
  for (size_t i = 0; i < n; i++) {
    const step *s = &steps[i];
    sent_buf[0] = '\0';
    int rc = 0;
    f->resp[0] = '\0';
    switch (s->kind) {
    case FEED: rc = fx_feed(f, s->msg, s->at); break;
    case EXPIRE: rc = siprec_handler_expire(f->h, s->at); break;
    case ACCEPT: rc = siprec_handler_accept_session(f->h, held, s->at); break;
    case ANSWER: {
      char ans[4096];
      fx_answer_last_sent(f, s->status, NULL, ans, sizeof ans);
      rc = fx_feed(f, ans, s->at);
      break;
    }
    }
    t->rc[i] = rc;
    snprintf(t->out[i], sizeof t->out[i], "%s|%s|next=%llu", f->resp, sent_buf,
             (unsigned long long)siprec_handler_next_deadline(f->h));
  }
  f->ev.send_hook = NULL;
}

/* Run `steps` on `a` (whose last snapshot was taken at the end of its
 * prefix), then restore that snapshot into a fresh twin at `restore_at`
 * and run them again: the same outputs, step by step. */
static void twin_check(fixture *a, siprec_session *held_a, const step *steps, size_t n,
                       uint64_t restore_at, int session_timer, int seal)
{
  ck_assert_int_gt(fx_snap.written, 0);
  unsigned char saved[sizeof fx_snap.bytes];
  size_t saved_len = fx_snap.len;
  memcpy(saved, fx_snap.bytes, saved_len);
  static trace ta, tb;
  memset(&ta, 0, sizeof ta);
  memset(&tb, 0, sizeof tb);
  run(a, held_a, steps, n, &ta);

  fixture b;
  init(&b, session_timer, seal);
  siprec_session *held_b = NULL;
  ck_assert_int_eq(siprec_handler_restore(b.h, saved, saved_len, restore_at, &held_b), 0);
  ck_assert_ptr_nonnull(held_b);
  ck_assert_str_eq(siprec_session_id(held_b), siprec_session_id(held_a));
  run(&b, held_b, steps, n, &tb);
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(ta.rc[i] == tb.rc[i], "step %zu: rc %d, restored %d", i, ta.rc[i], tb.rc[i]);
    ck_assert_msg(strcmp(ta.out[i], tb.out[i]) == 0, "step %zu differs:\n%s\n---- restored:\n%s",
                  i, ta.out[i], tb.out[i]);
  }
  siprec_session_unref(held_b);
  siprec_handler_free(b.h);
}

static siprec_session *first_session(fixture *f)
{
  siprec_session *s = NULL;
  ck_assert_uint_eq(siprec_handler_sessions(f->h, &s, 1), 1);
  return s;
}

/* A call answered at 1 s and ACKed at 1.1 s: its To-tag into `tag`. */
static void start_confirmed(fixture *f, const char *call_id, char *tag, size_t size)
{
  fx_start_call(f, call_id, tag, size);
  char msg[4096];
  fx_request(msg, sizeof msg, "ACK", call_id, tag, 1, "ack1", NULL, NULL);
  fx_feed(f, msg, 1100 * MS);
}

static void feed_step(step *s, uint64_t at, const char *method, const char *call_id,
                      const char *tag, unsigned cseq, const char *branch, const char *extra,
                      const char *body)
{
  s->kind = FEED;
  s->at = at;
  fx_request(s->msg, sizeof s->msg, method, call_id, tag, cseq, branch, extra, body);
}

static const char sdp_paused[] =
  "v=0\r\no=SRC 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\na=inactive\r\na=label:1\r\n"
  "m=audio 10002 RTP/AVP 0\r\na=inactive\r\na=label:2\r\n";

static const char sdp_srtp[] =
  "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\nm=audio 10000 RTP/SAVP 0\r\na=sendonly\r\na=label:1\r\n"
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";

/* ANSWERED: the 2xx waits for its ACK (retransmitted meanwhile). */
START_TEST(test_twin_before_ack)
{
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  fx_start_call(&a, "c-ack", tag, sizeof tag);
  siprec_session *s = first_session(&a);
  static step st[4];
  st[0] = (step){ EXPIRE, 1500 * MS, "", 0 }; /* the 2xx again, at T1 */
  feed_step(&st[1], 1600 * MS, "ACK", "c-ack", tag, 1, "ack1", NULL, NULL);
  feed_step(&st[2], 2000 * MS, "BYE", "c-ack", tag, 2, "bye1", NULL, NULL);
  feed_step(&st[3], 2100 * MS, "BYE", "c-ack", tag, 2, "bye1", NULL, NULL); /* its copy */
  twin_check(&a, s, st, 4, 1000 * MS, 0, 0);
  siprec_session_unref(s);
  siprec_handler_free(a.h);
}
END_TEST

/* CONFIRMED, then a re-INVITE that pauses, one that resumes, an UPDATE,
 * OPTIONS; its SDP versions go on. */
START_TEST(test_twin_confirmed_reinvites)
{
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  start_confirmed(&a, "c-re", tag, sizeof tag);
  siprec_session *s = first_session(&a);
  static step st[7];
  feed_step(&st[0], 5000 * MS, "INVITE", "c-re", tag, 2, "re2", NULL, sdp_paused);
  feed_step(&st[1], 5010 * MS, "ACK", "c-re", tag, 2, "ack2", NULL, NULL);
  feed_step(&st[2], 6000 * MS, "INVITE", "c-re", tag, 3, "re3", NULL, fx_sdp2);
  feed_step(&st[3], 6500 * MS, "INVITE", "c-re", tag, 3, "re3", NULL, fx_sdp2); /* a copy */
  feed_step(&st[4], 6600 * MS, "ACK", "c-re", tag, 3, "ack3", NULL, NULL);
  feed_step(&st[5], 7000 * MS, "OPTIONS", "c-re", tag, 4, "op4", NULL, NULL);
  feed_step(&st[6], 8000 * MS, "BYE", "c-re", tag, 5, "bye5", NULL, NULL);
  twin_check(&a, s, st, 7, 1100 * MS, 0, 0);
  siprec_session_unref(s);
  siprec_handler_free(a.h);
}
END_TEST

/* Restored mid re-INVITE (its 2xx waiting for the ACK), and paused. */
START_TEST(test_twin_mid_reinvite_paused)
{
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  start_confirmed(&a, "c-mid", tag, sizeof tag);
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "c-mid", tag, 2, "re2", NULL, sdp_paused);
  ck_assert_int_gt(fx_feed(&a, msg, 2000 * MS), 0);
  ck_assert_int_eq(a.status, 200);
  siprec_session *s = first_session(&a);
  static step st[4];
  feed_step(&st[0], 2100 * MS, "INVITE", "c-mid", tag, 2, "re2", NULL, sdp_paused); /* copy */
  st[1] = (step){ EXPIRE, 2500 * MS, "", 0 };
  feed_step(&st[2], 2600 * MS, "ACK", "c-mid", tag, 2, "ack2", NULL, NULL);
  feed_step(&st[3], 3000 * MS, "BYE", "c-mid", tag, 3, "bye3", NULL, NULL);
  twin_check(&a, s, st, 4, 2000 * MS, 0, 0);
  siprec_session_unref(s);
  siprec_handler_free(a.h);
}
END_TEST

/* A session timer whose refresher is the SRS: the refresh (UPDATE) falls
 * due at the same time and reads the same; answered; then the SRC's BYE. */
START_TEST(test_twin_session_timer_refresh)
{
  fixture a;
  init(&a, 1, 0);
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "c-st", NULL, 1, "inv1",
             "Require: siprec\r\nSupported: timer\r\nSession-Expires: 90;refresher=uas\r\n",
             fx_sdp2);
  ck_assert_int_gt(fx_feed(&a, msg, 1000 * MS), 0);
  ck_assert_int_eq(a.status, 200);
  char tag[64];
  fx_to_tag(&a, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "c-st", tag, 1, "ack1", NULL, NULL);
  fx_feed(&a, msg, 1100 * MS);
  siprec_session *s = first_session(&a);
  static step st[4];
  st[0] = (step){ EXPIRE, 46000 * MS, "", 0 }; /* the refresh at half the interval */
  st[1] = (step){ ANSWER, 46100 * MS, "", 200 };
  st[2] = (step){ EXPIRE, 100000 * MS, "", 0 };
  feed_step(&st[3], 101000 * MS, "BYE", "c-st", tag, 2, "bye2", NULL, NULL);
  /* Restored 20 s of wall time later: the deadlines keep their places. */
  fx_wall_ns += 20000 * MS;
  twin_check(&a, s, st, 4, 21100 * MS, 1, 0);
  fx_wall_ns -= 20000 * MS;
  siprec_session_unref(s);
  siprec_handler_free(a.h);
}
END_TEST

/* PENDING (deferred by the host): the restored session is accepted. */
START_TEST(test_twin_deferred)
{
  fixture a;
  init(&a, 0, 0);
  a.ev.refuse_with = SIPREC_DECISION_DEFER;
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "c-def", NULL, 1, "inv1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&a, msg, 1000 * MS);
  ck_assert_int_eq(a.status, 100);
  ck_assert_ptr_nonnull(a.ev.deferred);
  siprec_session *s = a.ev.deferred;
  a.ev.deferred = NULL;
  static step st[3];
  st[0] = (step){ ACCEPT, 2000 * MS, "", 0 };
  st[1] = (step){ EXPIRE, 2500 * MS, "", 0 };
  feed_step(&st[2], 2600 * MS, "INVITE", "c-def", NULL, 1, "inv1", "Require: siprec\r\n",
            fx_sdp2); /* a late copy of the INVITE gets the 200 again */
  twin_check(&a, s, st, 3, 1000 * MS, 0, 0);
  siprec_session_unref(s);
  siprec_handler_free(a.h);
}
END_TEST

/* SRTP, with the keys sealed: a re-INVITE with the same offer keeps the
 * SRS's key (the answer is the same), which takes the secrets back. */
START_TEST(test_twin_srtp_sealed)
{
  fixture a;
  init(&a, 0, 1);
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "c-srtp", NULL, 1, "inv1", "Require: siprec\r\n",
             sdp_srtp);
  ck_assert_int_gt(fx_feed(&a, msg, 1000 * MS), 0);
  ck_assert_int_eq(a.status, 200);
  char tag[64];
  fx_to_tag(&a, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "c-srtp", tag, 1, "ack1", NULL, NULL);
  fx_feed(&a, msg, 1100 * MS);
  siprec_snapshot_info info;
  ck_assert_int_eq(siprec_snapshot_inspect(fx_snap.bytes, fx_snap.len, &info), 0);
  ck_assert_int_eq(info.has_secrets, 1);
  ck_assert_uint_eq(info.version, SIPREC_SNAPSHOT_VERSION);
  ck_assert_str_eq(info.key, "c-srtp");
  /* No key in clear anywhere in the bytes. */
  static const char key_b64[] = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
  ck_assert_ptr_null(memmem(fx_snap.bytes, fx_snap.len, key_b64, strlen(key_b64)));
  siprec_session *s = first_session(&a);
  static step st[2];
  feed_step(&st[0], 3000 * MS, "INVITE", "c-srtp", tag, 2, "re2", NULL, sdp_srtp);
  feed_step(&st[1], 3100 * MS, "ACK", "c-srtp", tag, 2, "ack2", NULL, NULL);
  twin_check(&a, s, st, 2, 1100 * MS, 0, 1);
  siprec_session_unref(s);
  siprec_handler_free(a.h);
}
END_TEST

/* Sealed with one key, opened with another: refused. */
START_TEST(test_wrong_seal_key_refused)
{
  fixture a;
  init(&a, 0, 1);
  char msg[4096];
  fx_request(msg, sizeof msg, "INVITE", "c-seal", NULL, 1, "inv1", "Require: siprec\r\n",
             sdp_srtp);
  fx_feed(&a, msg, 1000 * MS);
  ck_assert_int_eq(a.status, 200);
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_snapshots(cfg, 1, 0), 0);
  uint8_t other[SIPREC_SNAPSHOT_KEY_LEN] = { 1 };
  ck_assert_int_eq(siprec_handler_config_set_snapshot_key(cfg, other), 0);
  fixture b;
  fx_callbacks_hook = snapshot_callbacks;
  fx_init(&b, cfg, 0);
  fx_callbacks_hook = NULL;
  siprec_handler_config_free(cfg);
  ck_assert_int_eq(siprec_handler_restore(b.h, fx_snap.bytes, fx_snap.len, 1000 * MS, NULL),
                   SIPREC_EPARSE);
  ck_assert_uint_eq(fx_active(b.h), 0);
  siprec_handler_free(b.h);
  siprec_handler_free(a.h);
}
END_TEST

/* The host is asked for a dialog it does not hold; restores it; feeds the
 * request again. Absent from its store: 481. */
START_TEST(test_state_wanted)
{
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  start_confirmed(&a, "c-want", tag, sizeof tag);
  unsigned char saved[sizeof fx_snap.bytes];
  size_t saved_len = fx_snap.len;
  memcpy(saved, fx_snap.bytes, saved_len);

  fixture b;
  init(&b, 0, 0);
  char bye[4096];
  fx_request(bye, sizeof bye, "BYE", "c-want", tag, 2, "bye2", NULL, NULL);
  const siprec_path path = { SIPREC_TRANSPORT_UDP, (const struct sockaddr *)&b.srs,
                             (const struct sockaddr *)&b.src, 0 };
  char out[8192];
  size_t n = 0;
  int rc = siprec_handler_process(b.h, bye, strlen(bye), &path, 2000 * MS, out, sizeof out, &n);
  ck_assert_int_eq(rc, SIPREC_PROCESS_STATE_WANTED);
  ck_assert_uint_eq(n, strlen("c-want"));
  ck_assert_int_eq(memcmp(out, "c-want", n), 0);
  ck_assert_int_eq(b.ev.sent, 0);
  /* Not in the store: 481. */
  rc = siprec_handler_process_absent(b.h, bye, strlen(bye), &path, 2000 * MS, out, sizeof out, &n);
  ck_assert_int_eq(rc, SIPREC_PROCESS_RESPONSE);
  ck_assert_int_eq(strncmp(out, "SIP/2.0 481 ", 12), 0);
  /* Restored: the BYE gets its 200 with the dialog's tags. */
  ck_assert_int_eq(siprec_handler_restore(b.h, saved, saved_len, 2000 * MS, NULL), 0);
  ck_assert_int_eq(siprec_handler_restore(b.h, saved, saved_len, 2000 * MS, NULL), SIPREC_EEXIST);
  ck_assert_int_gt(fx_feed(&b, bye, 2000 * MS), 0);
  ck_assert_int_eq(b.status, 200);
  char tag_b[64];
  fx_to_tag(&b, tag_b, sizeof tag_b);
  ck_assert_str_eq(tag_b, tag);
  ck_assert_int_eq(b.ev.ended, 1);
  ck_assert_int_eq(b.ev.last_reason, SIPREC_END_BYE);
  /* The end deletes it from the store. */
  ck_assert_int_ge(fx_snap.deleted, 1);
  /* Without snapshots: 481 at once, as always. */
  fixture c;
  fx_init(&c, NULL, 0);
  ck_assert_int_gt(fx_feed(&c, bye, 2000 * MS), 0);
  ck_assert_int_eq(c.status, 481);
  siprec_handler_free(c.h);
  siprec_handler_free(b.h);
  siprec_handler_free(a.h);
}
END_TEST

/* Every truncation and every flipped byte of a snapshot is refused with a
 * clear error, never a crash, and leaves the handler empty. */
START_TEST(test_corrupted_refused)
{
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  fx_start_call(&a, "c-bad", tag, sizeof tag);
  unsigned char saved[sizeof fx_snap.bytes];
  size_t saved_len = fx_snap.len;
  memcpy(saved, fx_snap.bytes, saved_len);
  siprec_handler_free(a.h);
  fixture b;
  init(&b, 0, 0);
  for (size_t cut = 0; cut < saved_len; cut++)
    ck_assert_int_eq(siprec_handler_restore(b.h, saved, cut, 1000 * MS, NULL), SIPREC_EPARSE);
  for (size_t i = 0; i < saved_len; i++) {
    saved[i] ^= 0x20;
    int rc = siprec_handler_restore(b.h, saved, saved_len, 1000 * MS, NULL);
    ck_assert_msg(rc == SIPREC_EPARSE || (i == 6 && rc == SIPREC_ETOOBIG),
                  "byte %zu flipped: %d", i, rc);
    saved[i] ^= 0x20;
  }
  ck_assert_uint_eq(fx_active(b.h), 0);
  ck_assert_int_eq(siprec_handler_restore(b.h, saved, saved_len, 1000 * MS, NULL), 0);
  ck_assert_uint_eq(fx_active(b.h), 1);
  siprec_handler_free(b.h);
}
END_TEST

/* Hand-over: no BYE, ended as HANDOVER, the snapshot kept (not deleted);
 * the next process restores it and the call goes on. */
START_TEST(test_handover)
{
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  start_confirmed(&a, "c-ho", tag, sizeof tag);
  char msg[4096];
  int deleted = fx_snap.deleted, sent = a.ev.sent;
  ck_assert_int_eq(siprec_handler_shutdown(a.h, SIPREC_SHUTDOWN_HANDOVER, 2000 * MS), 0);
  ck_assert_int_eq(a.ev.sent, sent); /* no BYE */
  ck_assert_int_eq(a.ev.ended, 1);
  ck_assert_int_eq(a.ev.last_reason, SIPREC_END_HANDOVER);
  ck_assert_str_eq(siprec_end_reason_name(SIPREC_END_HANDOVER), "handover");
  ck_assert_int_eq(fx_snap.deleted, deleted);
  ck_assert_uint_eq(siprec_handler_next_deadline(a.h), UINT64_MAX);
  siprec_handler_free(a.h);
  fixture b;
  init(&b, 0, 0);
  ck_assert_int_eq(siprec_handler_restore(b.h, fx_snap.bytes, fx_snap.len, 3000 * MS, NULL), 0);
  fx_request(msg, sizeof msg, "BYE", "c-ho", tag, 2, "bye2", NULL, NULL);
  ck_assert_int_gt(fx_feed(&b, msg, 3000 * MS), 0);
  ck_assert_int_eq(b.status, 200);
  siprec_handler_free(b.h);
  /* Without snapshots there is no hand-over. */
  fixture c;
  fx_init(&c, NULL, 0);
  ck_assert_int_eq(siprec_handler_shutdown(c.h, SIPREC_SHUTDOWN_HANDOVER, 1), SIPREC_EINVAL);
  siprec_handler_free(c.h);
}
END_TEST

/* Released to the node that took it over: no BYE, ended as HANDOVER, the
 * snapshot not deleted; its next request is not this handler's any more
 * (wanted from the store). A pending or ended session is refused. */
START_TEST(test_release_session)
{
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  start_confirmed(&a, "c-rel", tag, sizeof tag);
  siprec_session *s = NULL;
  ck_assert_uint_eq(siprec_handler_sessions(a.h, &s, 1), 1);
  int deleted = fx_snap.deleted, sent = a.ev.sent;
  ck_assert_int_eq(siprec_handler_release_session(a.h, s, 2000 * MS), 0);
  ck_assert_int_eq(a.ev.sent, sent); /* no BYE */
  ck_assert_int_eq(a.ev.ended, 1);
  ck_assert_int_eq(a.ev.last_reason, SIPREC_END_HANDOVER);
  ck_assert_int_eq(fx_snap.deleted, deleted);
  ck_assert_uint_eq(fx_active(a.h), 0);
  ck_assert_int_eq(siprec_handler_release_session(a.h, s, 2000 * MS), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_handler_release_session(a.h, NULL, 2000 * MS), SIPREC_EINVAL);
  siprec_session_unref(s);
  char msg[4096];
  fx_request(msg, sizeof msg, "BYE", "c-rel", tag, 2, "bye-rel", NULL, NULL);
  ck_assert_int_eq(fx_feed(&a, msg, 2100 * MS), SIPREC_PROCESS_STATE_WANTED);
  ck_assert_uint_eq(siprec_handler_next_deadline(a.h), UINT64_MAX);
  siprec_handler_free(a.h);
}
END_TEST

/* The committed snapshot of format version 1 (tests/data/snapshot/): read
 * by this and every later version; its BYE answered with its tags. With
 * SIPREC_WRITE_SNAPSHOT_FIXTURE set, the test writes it instead. */
START_TEST(test_format_v1_fixture)
{
  const char *data = getenv("SIPREC_TEST_DATA");
  ck_assert_ptr_nonnull(data);
  char path[1024], tag_path[1024];
  snprintf(path, sizeof path, "%s/snapshot/v1-confirmed.snap", data);
  snprintf(tag_path, sizeof tag_path, "%s/snapshot/v1-confirmed.tag", data);
  if (getenv("SIPREC_WRITE_SNAPSHOT_FIXTURE")) {
    fixture a;
    init(&a, 0, 0);
    char tag[64];
    start_confirmed(&a, "fixture-v1", tag, sizeof tag);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(fx_snap.bytes, 1, fx_snap.len, fp), fx_snap.len);
    fclose(fp);
    fp = fopen(tag_path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "%s\n", tag);
    fclose(fp);
    siprec_handler_free(a.h);
  }
  static unsigned char buf[65536];
  FILE *fp = fopen(path, "rb");
  ck_assert_msg(fp != NULL, "%s missing", path);
  size_t n = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  char tag[64] = "";
  fp = fopen(tag_path, "r");
  ck_assert_msg(fp != NULL, "%s missing", tag_path);
  ck_assert_ptr_nonnull(fgets(tag, sizeof tag, fp));
  fclose(fp);
  tag[strcspn(tag, "\n")] = '\0';
  siprec_snapshot_info info;
  ck_assert_int_eq(siprec_snapshot_inspect(buf, n, &info), 0);
  ck_assert_uint_eq(info.version, 1);
  ck_assert_str_eq(info.key, "fixture-v1");
  fixture b;
  init(&b, 0, 0);
  siprec_session *s = NULL;
  ck_assert_int_eq(siprec_handler_restore(b.h, buf, n, 5000 * MS, &s), 0);
  ck_assert_str_eq(siprec_session_id(s), info.session_id);
  ck_assert_uint_eq(siprec_session_stream_count(s), 2);
  siprec_session_unref(s);
  char msg[4096];
  fx_request(msg, sizeof msg, "BYE", "fixture-v1", "WRONG", 2, "bye2", NULL, NULL);
  fx_feed(&b, msg, 5000 * MS);
  ck_assert_int_eq(b.status, 481); /* another tag: not its dialog */
  fx_request(msg, sizeof msg, "BYE", "fixture-v1", tag, 2, "bye2", NULL, NULL);
  fx_feed(&b, msg, 5000 * MS);
  ck_assert_int_eq(b.status, 200);
  ck_assert_int_eq(b.ev.ended, 1);
  siprec_handler_free(b.h);
}
END_TEST

/* The media goes on after a restore: the latched source is the only one
 * taken, and the audio's positions continue across the downtime as a gap
 * of its length instead of starting again at 0. */
START_TEST(test_media_resumes)
{
  with_media = 1;
  fixture a;
  init(&a, 0, 0);
  char tag[64];
  start_confirmed(&a, "c-media", tag, sizeof tag);
  siprec_session *s = first_session(&a);
  struct sockaddr_in rtp_src = a.src;
  rtp_src.sin_port = htons(10000);
  memset(&au, 0, sizeof au);
  int written = fx_snap.written;
  /* 1 s of audio from 2 s on. */
  for (uint16_t k = 0; k < 50; k++)
    ck_assert_int_eq(fx_feed_rtp(&a, s, 0, &rtp_src, (uint16_t)(100 + k), 1000u + 160u * k,
                              2000 * MS + k * 20 * MS), 0);
  ck_assert_int_gt(fx_snap.written, written); /* the latch wrote one at once */
  /* The interval's snapshot (5 s) is not due yet: take the last one now,
   * as a hand-over would. */
  ck_assert_int_eq(siprec_handler_shutdown(a.h, SIPREC_SHUTDOWN_HANDOVER, 3000 * MS), 0);
  uint64_t end_a = au.last_end;
  ck_assert_uint_ge(end_a, 7000); /* 50 packets less the jitter buffer's tail */
  siprec_session_unref(s);
  siprec_handler_free(a.h);

  /* 2 s later, in another process. */
  fixture b;
  init(&b, 0, 0);
  fx_wall_ns += 2000 * MS;
  ck_assert_int_eq(siprec_handler_restore(b.h, fx_snap.bytes, fx_snap.len, 5000 * MS, &s), 0);
  fx_wall_ns -= 2000 * MS;
  memset(&au, 0, sizeof au);
  /* A stranger's packet is not taken: the latch came back. */
  struct sockaddr_in stranger = b.other;
  stranger.sin_port = htons(10000);
  ck_assert_int_eq(fx_feed_rtp(&b, s, 0, &stranger, 250, 1000u + 160u * 150, 5000 * MS), 0);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(s, 0, &st), 0);
  ck_assert_uint_eq(st.packets, 0);
  /* The SRC's stream goes on 2 s (100 packets) after where the snapshot
   * left it: positions go on from there. */
  for (uint16_t k = 0; k < 50; k++)
    ck_assert_int_eq(fx_feed_rtp(&b, s, 0, &rtp_src, (uint16_t)(250 + k), 1000u + 160u * (150 + k),
                              5000 * MS + k * 20 * MS), 0);
  ck_assert_int_eq(siprec_session_stream_stats(s, 0, &st), 0);
  ck_assert_uint_eq(st.packets, 50);
  ck_assert_int_gt(au.frames, 0);
  /* Packet 150 starts at sample 150 * 160 of the stream's timeline. */
  ck_assert_uint_eq(au.first_pos, 150u * 160u);
  ck_assert_uint_gt(au.gap_samples, 0);
  siprec_session_unref(s);
  siprec_handler_free(b.h);
  with_media = 0;
}
END_TEST

#ifdef SR_HAVE_SRTP
/* SRTP after a restore across a sequence wrap: the rollover counter came
 * back with the snapshot, so the packets after the wrap decrypt. Without
 * it the restored receiver would assume ROC 0 and refuse every one. */
START_TEST(test_srtp_roc_resumes)
{
  with_media = 1;
  uint8_t key[30];
  srtp_fx_make_key(key, sizeof key, 7);
  char b64[64];
  base64_encode(key, sizeof key, b64, true);
  char sdp[1024];
  snprintf(sdp, sizeof sdp,
           "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
           "t=0 0\r\nm=audio 10000 RTP/SAVP 0\r\na=sendonly\r\na=label:1\r\n"
           "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n", b64);
  fixture a;
  init(&a, 0, 1);
  char msg[4096], tag[64];
  fx_request(msg, sizeof msg, "INVITE", "c-roc", NULL, 1, "inv1", "Require: siprec\r\n", sdp);
  ck_assert_int_gt(fx_feed(&a, msg, 1000 * MS), 0);
  ck_assert_int_eq(a.status, 200);
  fx_to_tag(&a, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "c-roc", tag, 1, "ack1", NULL, NULL);
  fx_feed(&a, msg, 1100 * MS);
  siprec_session *s = first_session(&a);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(s, 0, &info), 0);
  srtp_t tx;
  const uint32_t ssrc = 0x5eed5eed;
  ck_assert_int_eq(srtp_fx_tx_create("AES_CM_128_HMAC_SHA1_80", key, ssrc, &tx), 0);
  struct sockaddr_in rtp_src = a.src;
  rtp_src.sin_port = htons(10000);
  static srtp_fx_pkt pk;
  /* Sends packet k: sequence 65500 + k (wrapping after 36 packets). */
#define SEND(f, k, now)                                                                            \
  do {                                                                                             \
    rtpb o = { .pt = 0, .seq = (uint16_t)(65500u + (k)), .ts = 160u * (k), .ssrc = ssrc,           \
               .payload_len = 160 };                                                               \
    pk.plain_n = rtpb_build(pk.plain, sizeof pk.plain, &o);                                        \
    ck_assert_int_eq(srtp_fx_protect(tx, &pk, SRTP_FX_RTP), 0);                                    \
    struct sockaddr_in local_ = (f)->srs;                                                          \
    local_.sin_port = htons(info.port);                                                            \
    siprec_path p_ = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local_,                           \
                       (struct sockaddr *)&rtp_src, 0 };                                           \
    ck_assert_int_eq(siprec_handler_media((f)->h, pk.prot, pk.prot_n, &p_, (now)), 0);             \
  } while (0)
  for (unsigned k = 0; k < 100; k++)
    SEND(&a, k, 2000 * MS + k * 20 * MS);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(s, 0, &st), 0);
  ck_assert_uint_eq(st.packets, 100);
  ck_assert_uint_eq(st.srtp_failures, 0);
  ck_assert_int_eq(siprec_handler_shutdown(a.h, SIPREC_SHUTDOWN_HANDOVER, 4000 * MS), 0);
  siprec_session_unref(s);
  siprec_handler_free(a.h);

  fixture b;
  init(&b, 0, 1);
  ck_assert_int_eq(siprec_handler_restore(b.h, fx_snap.bytes, fx_snap.len, 5000 * MS, &s), 0);
  for (unsigned k = 150; k < 200; k++)
    SEND(&b, k, 5000 * MS + (k - 150) * 20 * MS);
#undef SEND
  ck_assert_int_eq(siprec_session_stream_stats(s, 0, &st), 0);
  ck_assert_uint_eq(st.srtp_failures, 0);
  ck_assert_uint_eq(st.packets, 50);
  srtp_dealloc(tx);
  siprec_session_unref(s);
  siprec_handler_free(b.h);
  with_media = 0;
}
END_TEST
#endif

static Suite *suite(void)
{
  Suite *s = suite_create("handler_snapshot");
  TCase *tc = tcase_create("snapshot");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_twin_before_ack);
  tcase_add_test(tc, test_twin_confirmed_reinvites);
  tcase_add_test(tc, test_twin_mid_reinvite_paused);
  tcase_add_test(tc, test_twin_session_timer_refresh);
  tcase_add_test(tc, test_twin_deferred);
  tcase_add_test(tc, test_twin_srtp_sealed);
  tcase_add_test(tc, test_wrong_seal_key_refused);
  tcase_add_test(tc, test_state_wanted);
  tcase_add_test(tc, test_corrupted_refused);
  tcase_add_test(tc, test_handover);
  tcase_add_test(tc, test_release_session);
  tcase_add_test(tc, test_format_v1_fixture);
  tcase_add_test(tc, test_media_resumes);
#ifdef SR_HAVE_SRTP
  tcase_add_test(tc, test_srtp_roc_resumes);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
