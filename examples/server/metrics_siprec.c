/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "metrics_siprec.h"

#include <stdlib.h>

#define LABEL(n, v) ((const struct mt_label[]){ { (n), (v) } })

/* A counter family without labels, from one handler counter. */
static void counter(struct mt_writer *w, const char *name, const char *help, uint64_t v)
{
  mt_family(w, name, MT_COUNTER, help);
  mt_value(w, v);
}

static void gauge(struct mt_writer *w, const char *name, const char *help, uint64_t v)
{
  mt_family(w, name, MT_GAUGE, help);
  mt_value(w, v);
}

static void sip_families(siprec_handler *h, struct mt_writer *w)
{
  gauge(w, "siprec_sessions_active", "Recording sessions open now: offered and not ended.",
        siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ACTIVE, 0));
  counter(w, "siprec_sessions_started_total", "Recording sessions answered 200.",
          siprec_handler_stat(h, SIPREC_STAT_SESSIONS_STARTED, 0));

  mt_family(w, "siprec_sessions_ended_total", MT_COUNTER, "Recording sessions ended, by reason.");
  /* Every reason siprec/session.h names; the last one bounds the loop. */
  for (unsigned r = SIPREC_END_BYE; r <= SIPREC_END_HANDOVER; r++)
    mt_sample(w, LABEL("reason", siprec_end_reason_name((siprec_end_reason)r)), 1,
              siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ENDED, r));

  gauge(w, "siprec_invite_transactions_pending",
        "INVITE transactions not settled yet (deferred, or answered and not ACKed).",
        siprec_handler_stat(h, SIPREC_STAT_PENDING, 0));

  mt_family(w, "siprec_sip_responses_total", MT_COUNTER, "SIP responses written, by class.");
  static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "6xx" };
  for (unsigned c = 0; c < 6; c++)
    mt_sample(w, LABEL("class", classes[c]), 1, siprec_handler_stat(h, SIPREC_STAT_RESPONSES, c + 1));

  mt_family(w, "siprec_sip_messages_dropped_total", MT_COUNTER,
            "SIP messages given no answer, by reason.");
  static const struct {
    siprec_drop_reason reason;
    const char *name;
  } drops[] = {
    { SIPREC_DROP_UNPARSABLE, "unparsable" },
    { SIPREC_DROP_RESPONSE, "response" },
    { SIPREC_DROP_ACK, "ack" },
    { SIPREC_DROP_RETRANSMISSION, "retransmission" },
  };
  for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++)
    mt_sample(w, LABEL("reason", drops[i].name), 1,
              siprec_handler_stat(h, SIPREC_STAT_DROPPED, drops[i].reason));

  counter(w, "siprec_sip_requests_sent_total", "SIP requests the SRS originated (BYE, OPTIONS, UPDATE).",
          siprec_handler_stat(h, SIPREC_STAT_REQUESTS_SENT, 0));
  counter(w, "siprec_log_lines_suppressed_total", "Log lines left out by the library's rate limit.",
          siprec_handler_stat(h, SIPREC_STAT_LOG_SUPPRESSED, 0));
}

static uint64_t media(siprec_handler *h, siprec_media_counter c)
{
  return siprec_handler_stat(h, SIPREC_STAT_MEDIA, c);
}

static void media_families(siprec_handler *h, struct mt_writer *w)
{
  counter(w, "siprec_rtp_packets_total", "RTP packets taken.", media(h, SIPREC_MEDIA_PACKETS));
  counter(w, "siprec_rtp_received_bytes_total",
          "Octets of the RTP packets taken, as received (RTP header included).",
          media(h, SIPREC_MEDIA_BYTES));
  counter(w, "siprec_rtp_packets_lost_total", "RTP packets never received.",
          media(h, SIPREC_MEDIA_LOST));
  counter(w, "siprec_rtp_packets_reordered_total", "RTP packets put back in order.",
          media(h, SIPREC_MEDIA_REORDERED));

  mt_family(w, "siprec_rtp_packets_dropped_total", MT_COUNTER,
            "RTP packets dropped, by reason: duplicate copies, late (past the jitter depth), "
            "latching (not from the latched source), srtp (authentication, replay or format).");
  mt_sample(w, LABEL("reason", "duplicate"), 1, media(h, SIPREC_MEDIA_DUPLICATES));
  mt_sample(w, LABEL("reason", "late"), 1, media(h, SIPREC_MEDIA_LATE));
  mt_sample(w, LABEL("reason", "latching"), 1, media(h, SIPREC_MEDIA_LATCH_DROPS));
  mt_sample(w, LABEL("reason", "srtp"), 1, media(h, SIPREC_MEDIA_SRTP_FAILURES));

  counter(w, "siprec_rtp_decode_errors_total", "RTP payloads a codec refused.",
          media(h, SIPREC_MEDIA_DECODE_ERRORS));
  counter(w, "siprec_rtcp_packets_total", "RTCP packets taken.", media(h, SIPREC_MEDIA_RTCP));
  counter(w, "siprec_media_datagrams_unmatched_total",
          "Media datagrams for a port no open stream has.", media(h, SIPREC_MEDIA_NOT_FOUND));
}

/* What the walk over the open sessions adds up. */
struct tally {
  uint64_t deferred, started;
  uint64_t recording, paused, declined;
  uint64_t receiving;
  uint64_t jitter_max_ms, jitter_sum_ms;
};

static void tally_session(const siprec_session *s, struct tally *t)
{
  if (siprec_session_is_pending(s)) {
    t->deferred++;
    return; /* not answered: its streams are offers, not recordings yet */
  }
  t->started++;
  size_t n = siprec_session_stream_count(s);
  for (size_t i = 0; i < n; i++) {
    siprec_stream_info info = { .size = sizeof info };
    if (siprec_session_stream(s, i, &info) != 0)
      continue; /* removed since the count: nothing to add */
    if (info.port == 0)
      t->declined++;
    else if (info.direction == SIPREC_DIR_RECVONLY)
      t->recording++;
    else
      t->paused++;
    siprec_stream_stats st = { .size = sizeof st };
    if (siprec_session_stream_stats(s, i, &st) != 0 || st.packets == 0)
      continue;
    t->receiving++;
    t->jitter_sum_ms += st.jitter_ms;
    if (st.jitter_ms > t->jitter_max_ms)
      t->jitter_max_ms = st.jitter_ms;
  }
}

/* The open sessions, listed with a reference each. The list may grow
 * between the count and the listing (another thread's INVITE): the margin
 * absorbs that, and a session beyond it is left out of this rendering. */
static int walk_sessions(siprec_handler *h, struct tally *t)
{
  size_t n = siprec_handler_sessions(h, NULL, 0);
  if (n == 0)
    return 0;
  size_t cap = n + 16;
  siprec_session **all = calloc(cap, sizeof *all);
  if (!all)
    return MT_ENOMEM;
  size_t got = siprec_handler_sessions(h, all, cap);
  if (got > cap)
    got = cap;
  for (size_t i = 0; i < got; i++) {
    tally_session(all[i], t);
    siprec_session_unref(all[i]);
  }
  free(all);
  return 0;
}

static void session_families(const struct tally *t, struct mt_writer *w)
{
  mt_family(w, "siprec_sessions", MT_GAUGE,
            "Open recording sessions by state: deferred (waiting for the host's decision), "
            "started (answered 200).");
  mt_sample(w, LABEL("state", "deferred"), 1, t->deferred);
  mt_sample(w, LABEL("state", "started"), 1, t->started);

  mt_family(w, "siprec_streams", MT_GAUGE,
            "Streams of the started sessions: recording (recvonly), paused (inactive), declined.");
  mt_sample(w, LABEL("state", "recording"), 1, t->recording);
  mt_sample(w, LABEL("state", "paused"), 1, t->paused);
  mt_sample(w, LABEL("state", "declined"), 1, t->declined);

  gauge(w, "siprec_streams_receiving", "Streams of the started sessions that received RTP.",
        t->receiving);
  mt_family(w, "siprec_rtp_jitter_max_seconds", MT_GAUGE,
            "Largest interarrival jitter (RFC 3550) of the receiving streams, 0 when none.");
  mt_sample_double(w, NULL, 0, (double)t->jitter_max_ms / 1000.0);
  mt_family(w, "siprec_rtp_jitter_mean_seconds", MT_GAUGE,
            "Mean interarrival jitter (RFC 3550) of the receiving streams, 0 when none.");
  mt_sample_double(w, NULL, 0,
                   t->receiving ? (double)t->jitter_sum_ms / (double)t->receiving / 1000.0 : 0.0);
}

int metrics_siprec_render(siprec_handler *h, struct mt_writer *w, metrics_siprec_extra_fn extra,
                          void *user)
{
  if (!h || !w)
    return MT_EINVAL;
  struct tally t = { 0 };
  int rc = walk_sessions(h, &t);
  if (rc)
    return rc;
  sip_families(h, w);
  session_families(&t, w);
  media_families(h, w);
  if (mt_error(w))
    return mt_error(w);
  if (extra) {
    rc = extra(user, w);
    if (rc < 0)
      return rc;
  }
  return mt_error(w);
}
