/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The handler's counters as Prometheus metric families, read through the
 * public API only (siprec/handler.h: siprec_handler_stat() and
 * siprec_handler_sessions(); siprec/media.h: the SIPREC_STAT_MEDIA
 * counters and siprec_session_stream_stats()).
 *
 * Families (every name starts with siprec_; counters end in _total, times
 * are in seconds; every label value the library defines is written, zeros
 * included, so a series never appears out of nowhere):
 *   siprec_sessions_active                 gauge    open now (the library's count)
 *   siprec_sessions{state}                 gauge    listed sessions: deferred, started
 *   siprec_sessions_started_total          counter
 *   siprec_sessions_ended_total{reason}    counter  siprec_end_reason_name() of each reason
 *   siprec_invite_transactions_pending     gauge    unsettled INVITE transactions
 *   siprec_sip_responses_total{class}      counter  1xx..6xx
 *   siprec_sip_messages_dropped_total{reason} counter unparsable, response, ack, retransmission
 *   siprec_sip_requests_sent_total         counter  BYE, OPTIONS, UPDATE of the SRS
 *   siprec_log_lines_suppressed_total      counter
 *   siprec_streams{state}                  gauge    streams of started sessions: recording,
 *                                                   paused, declined
 *   siprec_streams_receiving               gauge    of them, those that received RTP
 *   siprec_rtp_jitter_max_seconds          gauge    over the receiving streams (0: none)
 *   siprec_rtp_jitter_mean_seconds         gauge    over the receiving streams (0: none)
 *   siprec_rtp_packets_total               counter
 *   siprec_rtp_received_bytes_total        counter  RTP header included
 *   siprec_rtp_packets_lost_total          counter
 *   siprec_rtp_packets_reordered_total     counter
 *   siprec_rtp_packets_dropped_total{reason} counter duplicate, late, latching, srtp
 *   siprec_rtp_decode_errors_total         counter
 *   siprec_rtcp_packets_total              counter
 *   siprec_media_datagrams_unmatched_total counter  for a port no open stream has
 *
 * The counters are the handler's, lock-free; the session and stream gauges
 * walk the open sessions (each accessor takes that session's or stream's
 * lock briefly), so a rendering costs time in proportion to the sessions
 * open: call it at a bounded rate (metrics_http.h does).
 */
#ifndef SIPREC_SERVER_METRICS_SIPREC_H
#define SIPREC_SERVER_METRICS_SIPREC_H

#include <siprec/siprec.h>

#include "metrics_text.h"

/** The host's own families, written after the library's into the same
 * writer. @return 0, or a negative value to fail the rendering */
typedef int (*metrics_siprec_extra_fn)(void *user, struct mt_writer *w);

/**
 * Write the families above for `h`, then the host's (`extra`, may be NULL).
 * @return 0, or a negative MT_* error (the writer's, or MT_ENOMEM for the
 *         session list), or the hook's negative value
 */
int metrics_siprec_render(siprec_handler *h, struct mt_writer *w, metrics_siprec_extra_fn extra,
                          void *user);

#endif
