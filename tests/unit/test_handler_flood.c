/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* INVITE floods from forged UDP sources, on a fake clock: the overall bound
 * on unsettled INVITEs and the shedding of the oldest unACKed session, no
 * BYE towards an address that never ACKed, at most 4 bytes sent to a forged
 * source per byte it sent, Retry-After that says when a slot frees, and log
 * lines that stay few and counted. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/siprec.h>

#include "check_main.h"
#include "handler_fixture.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define S (1000 * MS)

static struct sockaddr_in forged_addr(unsigned i)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5060) };
  a.sin_addr.s_addr = htonl(0x0a000000u + 1 + i); /* 10.0.0.(i+1) */
  return a;
}

static int is_forged(const struct sockaddr *sa)
{
  return sa->sa_family == AF_INET &&
         (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 10;
}

/* Bytes and BYEs towards each forged address (index by the low 16 bits). */
typedef struct ledger {
  uint64_t sent[65536], received[65536];
  int byes;
} ledger;

static unsigned slot(const struct sockaddr *sa)
{
  return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) & 0xffff;
}

static void count_send(void *arg, const void *data, size_t len, const struct sockaddr *dest)
{
  ledger *l = arg;
  if (!is_forged(dest))
    return;
  l->sent[slot(dest)] += len;
  l->byes += len > 4 && memcmp(data, "BYE ", 4) == 0;
}

/* An INVITE from a forged source (never ACKed), accounted both ways. */
static int forged_invite(fixture *f, ledger *l, unsigned src, unsigned n, uint64_t now)
{
  char msg[4096], cid[64];
  snprintf(cid, sizeof cid, "forged-%u", n);
  fx_request(msg, sizeof msg, "INVITE", cid, NULL, 1, cid, "Require: siprec\r\n", fx_sdp2);
  struct sockaddr_in a = forged_addr(src);
  int rc = fx_feed_from(f, &a, msg, now);
  l->received[slot((struct sockaddr *)&a)] += strlen(msg);
  if (rc > 0)
    l->sent[slot((struct sockaddr *)&a)] += (size_t)rc;
  return f->status;
}

/* A handler with `cfg` (taken; NULL: defaults) whose sends to forged
 * addresses go into the returned ledger. */
static ledger *flood_setup(fixture *f, siprec_handler_config *cfg)
{
  fx_init(f, cfg, 0);
  siprec_handler_config_free(cfg);
  ledger *l = calloc(1, sizeof *l);
  ck_assert_ptr_nonnull(l);
  f->ev.send_hook = count_send;
  f->ev.send_hook_arg = l;
  return l;
}

static siprec_handler_config *config_pending(size_t sessions, size_t ports)
{
  siprec_handler_config *cfg;
  ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
  ck_assert_int_eq(siprec_handler_config_set_max_pending(cfg, sessions, ports), 0);
  return cfg;
}

/* The flood: 5,000 INVITEs from 250 forged addresses at 1,000/s,
 * never ACKed, with default settings; 20 calls of a real SRC meanwhile. */
START_TEST(test_forged_flood)
{
  fixture f;
  ledger *l = flood_setup(&f, NULL);
  int legit_ok = 0, legit_placed = 0;
  size_t most_pending = 0;
  uint64_t t0 = 1 * S;
  char msg[4096], tag[64], cid[32];
  for (unsigned i = 0; i < 5000; i++) {
    uint64_t now = t0 + i * MS;
    forged_invite(&f, l, i % 250, i, now);
    size_t pending = (size_t)siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0);
    if (pending > most_pending)
      most_pending = pending;
    if (i % 250 == 125) {
      /* A real SRC: INVITE, and its ACK a round trip later. */
      snprintf(cid, sizeof cid, "legit-%u", i);
      fx_request(msg, sizeof msg, "INVITE", cid, NULL, 1, cid, "Require: siprec\r\n", fx_sdp2);
      fx_feed(&f, msg, now);
      legit_placed++;
      if (f.status == 200) {
        fx_to_tag(&f, tag, sizeof tag);
        fx_request(msg, sizeof msg, "ACK", cid, tag, 1, cid, NULL, NULL);
        fx_feed(&f, msg, now + 2 * MS);
        legit_ok++;
      }
    }
    siprec_handler_expire(f.h, now);
  }
  /* Long after: every forged transaction has timed out. */
  for (uint64_t t = t0 + 5 * S; t < t0 + 60 * S; t += 100 * MS)
    siprec_handler_expire(f.h, t);
  ck_assert_int_eq(legit_placed, 20);
  ck_assert_msg(legit_ok >= 19, "%d of 20 legit calls got 200", legit_ok);
  /* Every legit call that got 200 is still up (none was shed once ACKed). */
  ck_assert_uint_eq(fx_active(f.h), (size_t)legit_ok);
  /* The default bounds: 1,000 sessions without a session limit, and a
   * quarter of the built-in pool's 10,000 RTP port slots (2,500). */
  ck_assert_msg(most_pending <= 1000, "%zu unsettled INVITEs at once", most_pending);
  ck_assert_int_eq(l->byes, 0);
  uint64_t sent = 0, received = 0;
  double worst = 0;
  for (unsigned i = 0; i < 250; i++) {
    unsigned k = slot((const struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET,
      .sin_addr.s_addr = htonl(0x0a000000u + 1 + i) });
    sent += l->sent[k];
    received += l->received[k];
    double r = (double)l->sent[k] / (double)l->received[k];
    if (r > worst)
      worst = r;
  }
  ck_assert_msg(worst <= 4.0, "a forged address got %.2f bytes per byte it sent", worst);
  fprintf(stderr, "forged flood: %d/20 legit calls answered 200; at most %zu unsettled; "
          "%llu bytes sent to forged sources for %llu received (%.2fx, worst address %.2fx); "
          "%llu sessions shed\n", legit_ok, most_pending, (unsigned long long)sent,
          (unsigned long long)received, (double)sent / (double)received, worst,
          (unsigned long long)siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ENDED,
                                                  SIPREC_END_OVERLOAD));
  siprec_handler_free(f.h);
  free(l);
}
END_TEST

/* At the bound the oldest answered-but-unACKed session goes, without a BYE;
 * deferred ones are never shed: with only those, 503. */
START_TEST(test_shed_oldest_not_deferred)
{
  fixture f;
  ledger *l = flood_setup(&f, config_pending(3, 0));
  for (unsigned i = 0; i < 3; i++)
    ck_assert_int_eq(forged_invite(&f, l, i, i, 1 * S + i * MS), 200);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0), 3);
  /* The fourth sheds the first. */
  ck_assert_int_eq(forged_invite(&f, l, 3, 3, 1 * S + 10 * MS), 200);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_OVERLOAD);
  ck_assert_str_eq(siprec_end_reason_name(SIPREC_END_OVERLOAD), "overload");
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0), 3);
  ck_assert_uint_eq(fx_active(f.h), 3);
  ck_assert_int_eq(f.ev.byes_sent, 0);
  /* The shed session is gone: its INVITE's copy is a new INVITE. */
  char msg[4096], tag[64];
  /* ACK the three that remain: they are settled, not sheddable any more. */
  for (unsigned i = 1; i < 4; i++) {
    char cid[32];
    snprintf(cid, sizeof cid, "forged-%u", i);
    struct sockaddr_in a = forged_addr(i);
    fx_request(msg, sizeof msg, "INVITE", cid, NULL, 1, cid, "Require: siprec\r\n", fx_sdp2);
    fx_feed_from(&f, &a, msg, 1 * S + 20 * MS); /* a copy: the same 200 */
    fx_to_tag(&f, tag, sizeof tag);
    fx_request(msg, sizeof msg, "ACK", cid, tag, 1, cid, NULL, NULL);
    fx_feed_from(&f, &a, msg, 1 * S + 21 * MS);
  }
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0), 0);
  /* Three deferred sessions fill the bound; nothing can be shed. */
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  for (unsigned i = 10; i < 13; i++)
    ck_assert_int_eq(forged_invite(&f, l, i, i, 2 * S), 100);
  ck_assert_int_eq(forged_invite(&f, l, 13, 13, 2 * S), 503);
  ck_assert_ptr_nonnull(strstr(f.resp, "SIP/2.0 503 Too many unsettled INVITEs\r\n"));
  /* Retry-After: when a slot is sure to be free (the defer timeout, 10 s,
   * or 64*T1 = 32 s, whichever is longer). */
  ck_assert_ptr_nonnull(strstr(f.resp, "\r\nRetry-After: 32\r\n"));
  ck_assert_int_eq(f.ev.ended, 1);
  siprec_session_unref(f.ev.deferred);
  siprec_handler_free(f.h);
  free(l);
}
END_TEST

/* The session limit sheds unACKed sessions too, never established ones. */
START_TEST(test_session_limit_sheds)
{
  siprec_handler_config *cfg = config_pending(0, 0);
  ck_assert_int_eq(siprec_handler_config_set_max_sessions(cfg, 8), 0);
  fixture f;
  ledger *l = flood_setup(&f, cfg);
  char msg[4096], tag[64], cid[32];
  /* Six established calls. */
  for (unsigned i = 0; i < 6; i++) {
    snprintf(cid, sizeof cid, "est-%u", i);
    fx_request(msg, sizeof msg, "INVITE", cid, NULL, 1, cid, "Require: siprec\r\n", fx_sdp2);
    fx_feed(&f, msg, 1 * S);
    ck_assert_int_eq(f.status, 200);
    fx_to_tag(&f, tag, sizeof tag);
    fx_request(msg, sizeof msg, "ACK", cid, tag, 1, cid, NULL, NULL);
    fx_feed(&f, msg, 1 * S);
  }
  /* The default unsettled bound is a quarter of the limit: 2. A flood keeps
   * at most 2 and sheds its own oldest each time. */
  for (unsigned i = 0; i < 50; i++) {
    ck_assert_int_eq(forged_invite(&f, l, i, i, 2 * S + i * MS), 200);
    ck_assert_uint_le(siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0), 2);
  }
  ck_assert_uint_eq(fx_active(f.h), 8);
  /* A real call still gets in (shedding a forged one); the established stay. */
  fx_request(msg, sizeof msg, "INVITE", "real", NULL, 1, "real", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  fx_to_tag(&f, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "real", tag, 1, "real", NULL, NULL);
  fx_feed(&f, msg, 3 * S);
  /* Seven established, one unsettled: another real call sheds that one. */
  fx_request(msg, sizeof msg, "INVITE", "real2", NULL, 1, "real2", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 3 * S);
  ck_assert_int_eq(f.status, 200);
  fx_to_tag(&f, tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "real2", tag, 1, "real2", NULL, NULL);
  fx_feed(&f, msg, 3 * S);
  /* Now every session is established: the limit answers 503. */
  ck_assert_int_eq(forged_invite(&f, l, 99, 99, 3 * S), 503);
  ck_assert_ptr_nonnull(strstr(f.resp, "Too many recording sessions"));
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_SESSIONS_ENDED, SIPREC_END_OVERLOAD), 50);
  siprec_handler_free(f.h);
  free(l);
}
END_TEST

/* The port share: unsettled sessions hold at most a quarter of the pool. */
START_TEST(test_port_share)
{
  siprec_handler_config *cfg = config_pending(0, 0);
  ck_assert_int_eq(siprec_handler_config_set_rtp_ports(cfg, 20000, 20039), 0); /* 20 slots */
  fixture f;
  ledger *l = flood_setup(&f, cfg);
  /* Five ports for unsettled sessions: two two-stream sessions; the third
   * sheds the first. */
  ck_assert_int_eq(forged_invite(&f, l, 0, 0, 1 * S), 200);
  ck_assert_int_eq(forged_invite(&f, l, 1, 1, 1 * S), 200);
  ck_assert_int_eq(f.ev.ended, 0);
  ck_assert_int_eq(forged_invite(&f, l, 2, 2, 1 * S), 200);
  ck_assert_int_eq(f.ev.ended, 1);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0), 2);
  siprec_handler_free(f.h);
  free(l);
}
END_TEST

/* Under normal load RFC 3261's full schedule; above half the bound, the
 * bytes for a 2xx stay within 4 times the INVITE's. */
START_TEST(test_retransmission_budget)
{
  fixture f;
  ledger *l = flood_setup(&f, config_pending(4, 0));
  for (unsigned i = 0; i < 4; i++)
    ck_assert_int_eq(forged_invite(&f, l, i, i, 1 * S), 200);
  for (uint64_t t = 1 * S; t <= 40 * S; t += 100 * MS)
    siprec_handler_expire(f.h, t);
  ck_assert_int_eq(f.ev.ended, 4);
  ck_assert_int_eq(l->byes, 0);
  for (unsigned i = 0; i < 4; i++) {
    struct sockaddr_in a = forged_addr(i);
    unsigned k = slot((struct sockaddr *)&a);
    double r = (double)l->sent[k] / (double)l->received[k];
    if (i < 2) /* below half the bound: the 2xx and its 10 retransmissions */
      ck_assert_msg(r > 8, "session %u: %.2fx, the full schedule expected", i, r);
    else
      ck_assert_msg(r <= 4.0, "session %u: %.2fx sent per byte received", i, r);
  }
  siprec_handler_free(f.h);
  free(l);
}
END_TEST

/* Lifting the bounds (a benchmark): no shedding at all. */
START_TEST(test_bounds_lifted)
{
  siprec_handler_config *cfg = config_pending(SIZE_MAX, SIZE_MAX);
  ck_assert_int_eq(siprec_handler_config_set_max_pending_per_source(cfg, 0), 0);
  ck_assert_int_eq(siprec_handler_config_set_max_sessions(cfg, 0), 0);
  fixture f;
  ledger *l = flood_setup(&f, cfg);
  for (unsigned i = 0; i < 3000; i++)
    ck_assert_int_eq(forged_invite(&f, l, 0, i, 1 * S), 200);
  ck_assert_int_eq(f.ev.ended, 0);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_PENDING, 0), 3000);
  siprec_handler_free(f.h);
  free(l);
}
END_TEST

/* No BYE before the 2xx's ACK, whoever ends the session (RFC 3261 15): the
 * host, the shutdown; an ACKed session gets its BYE. */
START_TEST(test_no_bye_before_ack)
{
  fixture f;
  ledger *l = flood_setup(&f, NULL);
  f.ev.refuse_with = SIPREC_DECISION_DEFER;
  char msg[4096], tag[64];
  fx_request(msg, sizeof msg, "INVITE", "nb-1", NULL, 1, "nb1", "Require: siprec\r\n", fx_sdp2);
  fx_feed(&f, msg, 1 * S);
  ck_assert_int_eq(siprec_handler_accept_session(f.h, f.ev.deferred, 1 * S), 0);
  ck_assert_int_eq(siprec_handler_end_session(f.h, f.ev.deferred, 1 * S + 10 * MS), 0);
  ck_assert_int_eq(f.ev.last_reason, SIPREC_END_HOST);
  ck_assert_int_eq(f.ev.byes_sent, 0);
  siprec_session_unref(f.ev.deferred);
  f.ev.deferred = NULL;
  f.ev.refuse_with = 0;
  fx_start_call(&f, "nb-2", tag, sizeof tag); /* never ACKed */
  fx_start_call(&f, "nb-3", tag, sizeof tag);
  fx_request(msg, sizeof msg, "ACK", "nb-3", tag, 1, "nb3a", NULL, NULL);
  fx_feed(&f, msg, 1 * S);
  siprec_handler_free(f.h);
  ck_assert_int_eq(f.ev.ended, 3);
  ck_assert_int_eq(f.ev.byes_sent, 1);
  ck_assert_ptr_nonnull(strstr(f.ev.last_sent, "Call-ID: nb-3\r\n"));
  free(l);
}
END_TEST

typedef struct log_lines {
  int warnings;
  char last[512];
  int summaries;
} log_lines;

static void on_log(void *user, siprec_log_level level, const char *message)
{
  log_lines *l = user;
  if (level <= SIPREC_LOG_WARNING)
    l->warnings++;
  l->summaries += strstr(message, " left out of the log in ") != NULL;
  snprintf(l->last, sizeof l->last, "%s", message);
}

/* A flood of refused INVITEs makes a few log lines and a count. */
START_TEST(test_log_rate_limit)
{
  log_lines lines = { 0 };
  siprec_handler_config *cfg = config_pending(0, 0);
  ck_assert_int_eq(siprec_handler_config_set_max_pending_per_source(cfg, 1), 0);
  ck_assert_int_eq(siprec_handler_config_set_log_level(cfg, SIPREC_LOG_WARNING), 0);
  fixture f;
  ledger *l = flood_setup(&f, cfg);
  f.ev.log_hook = on_log;
  f.ev.log_hook_arg = &lines;
  ck_assert_int_eq(forged_invite(&f, l, 0, 0, 1 * S), 200);
  for (unsigned i = 1; i <= 100; i++)
    ck_assert_int_eq(forged_invite(&f, l, 0, i, 1 * S + i * MS), 503);
  ck_assert_int_eq(lines.warnings, 10);
  ck_assert_uint_eq(siprec_handler_stat(f.h, SIPREC_STAT_LOG_SUPPRESSED, 0), 90);
  /* The next window opens with the count of what was left out. */
  forged_invite(&f, l, 0, 101, 12 * S);
  ck_assert_int_eq(lines.summaries, 1);
  ck_assert_int_eq(lines.warnings, 12);
  /* A message dropped because its echoed header lines pass 4 KiB leaves a
   * trace at the default warning level. */
  char msg[16384], pad[5000];
  memset(pad, 'a', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  snprintf(msg, sizeof msg,
           "OPTIONS sip:srs@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK%s\r\n"
           "From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:srs@192.0.2.10>\r\nCall-ID: big-via\r\n"
           "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", pad);
  ck_assert_int_eq(fx_feed(&f, msg, 13 * S), 0);
  ck_assert_int_eq(lines.warnings, 13);
  ck_assert_msg(strstr(lines.last, "4 KiB") != NULL, "log: %s", lines.last);
  siprec_handler_free(f.h);
  free(l);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("handler_flood");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_forged_flood);
  tcase_add_test(tc, test_shed_oldest_not_deferred);
  tcase_add_test(tc, test_session_limit_sheds);
  tcase_add_test(tc, test_port_share);
  tcase_add_test(tc, test_retransmission_budget);
  tcase_add_test(tc, test_bounds_lifted);
  tcase_add_test(tc, test_log_rate_limit);
  tcase_add_test(tc, test_no_bye_before_ack);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
