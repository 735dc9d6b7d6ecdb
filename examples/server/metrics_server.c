/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "metrics_server.h"

#include "metrics_siprec.h"

/* One unlabelled sample of a family of its own. */
static void one(struct mt_writer *w, const char *name, enum mt_type type, const char *help,
                uint64_t v)
{
  mt_family(w, name, type, help);
  mt_value(w, v);
}

static int extra(void *user, struct mt_writer *w)
{
  const struct metrics_server_src *src = user;
  if (src->media) {
    struct media_net_stats m;
    media_net_stats(src->media, &m);
    one(w, "siprec_server_media_sockets", MT_GAUGE, "Media sockets open", m.sockets_open);
    one(w, "siprec_server_media_io_uring", MT_GAUGE,
        "1 when the media sockets are read through io_uring, 0 through epoll", (uint64_t)m.uring);
    one(w, "siprec_server_media_datagrams_total", MT_COUNTER,
        "Datagrams read from media sockets and fed to the library", m.datagrams);
    one(w, "siprec_server_media_read_errors_total", MT_COUNTER, "Failed reads of media sockets",
        m.read_errors);
    one(w, "siprec_server_media_port_refusals_total", MT_COUNTER,
        "Media ports refused for the descriptor budget (the INVITE got 503)", m.budget_refused);
  }
  if (src->calls) {
    struct calls_stats c;
    calls_stats_get(src->calls, &c);
    one(w, "siprec_server_recordings", MT_GAUGE, "Recordings open", c.recordings_open);
    one(w, "siprec_server_recordings_done_total", MT_COUNTER, "Recordings closed", c.recordings_done);
    one(w, "siprec_server_recording_errors_total", MT_COUNTER,
        "Recordings a failed write stopped (a full disk)", c.record_errors);
    one(w, "siprec_server_recording_dropped_frames_total", MT_COUNTER,
        "Audio frames dropped on the recordings' full writer queue (written as silence)",
        c.record_dropped_frames);
    one(w, "siprec_server_recording_writer_queue_bytes", MT_GAUGE,
        "Recorded audio waiting for the writer thread", c.record_queue_bytes);
    one(w, "siprec_server_transcript_lines_total", MT_COUNTER, "Utterances transcribed",
        c.transcript_lines);
    one(w, "siprec_server_streams_not_transcribed_total", MT_COUNTER,
        "Streams recorded but not transcribed (--transcribe-max)", c.not_transcribed);
    one(w, "siprec_server_completions_total", MT_COUNTER, "--on-complete commands started",
        c.completions_run);
    one(w, "siprec_server_completion_failures_total", MT_COUNTER,
        "--on-complete commands that failed or were not run", c.completions_failed);
    one(w, "siprec_server_completion_kills_total", MT_COUNTER,
        "--on-complete commands killed for their time limit", c.completions_killed);
  }
  if (src->pool) {
    transcribe_pool_stats p;
    transcribe_pool_stats_get(src->pool, &p);
    one(w, "siprec_server_transcription_queue_frames", MT_GAUGE,
        "Audio frames waiting for a recogniser", p.queued);
    one(w, "siprec_server_transcription_dropped_frames_total", MT_COUNTER,
        "Audio frames dropped on a full transcription queue", p.dropped);
    one(w, "siprec_server_transcription_streams", MT_GAUGE, "Streams being transcribed",
        p.streams_active);
    one(w, "siprec_server_transcription_refused_streams_total", MT_COUNTER,
        "Streams refused by the transcription limit", p.streams_refused);
    one(w, "siprec_server_transcription_engine_failures_total", MT_COUNTER,
        "Recognisers that could not be made or failed", p.engine_failures);
  }
  if (src->store_stats && src->store) {
    struct metrics_store_stats st = { 0 };
    src->store_stats(src->store, &st);
    one(w, "siprec_server_sessions_restored_total", MT_COUNTER,
        "Sessions restored from their snapshots or taken over from another node", st.restored);
    one(w, "siprec_server_restore_failures_total", MT_COUNTER,
        "Snapshots that could not be restored or taken over", st.restore_failures);
    if (st.redis) {
      one(w, "siprec_server_redis_up", MT_GAUGE, "Connected to the Redis master", (uint64_t)st.up);
      one(w, "siprec_server_redis_connects_total", MT_COUNTER, "Connections made to Redis",
          st.connects);
      one(w, "siprec_server_redis_writes_total", MT_COUNTER, "Snapshot writes that landed in Redis",
          st.writes);
      one(w, "siprec_server_redis_write_retries_total", MT_COUNTER,
          "Snapshot writes sent again after Redis was away", st.write_retries);
      one(w, "siprec_server_redis_lost_sessions_total", MT_COUNTER,
          "Sessions let go: another node took them over", st.lost);
      one(w, "siprec_server_redis_claimed_sessions_total", MT_COUNTER,
          "Sessions claimed from nodes whose heartbeat stopped", st.claimed);
      one(w, "siprec_server_redis_taken_sessions_total", MT_COUNTER,
          "Sessions of another node taken for a request that reached this one", st.taken);
    }
  }
  return mt_error(w);
}

int metrics_server_render(void *user, struct mt_writer *w)
{
  const struct metrics_server_src *src = user;
  return metrics_siprec_render(src->h, w, extra, user);
}
