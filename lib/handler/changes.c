/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a new answer changed in a session's streams, for the updated event.
 * A new stream continues an old one with the same label; without labels,
 * the one at the same position: sr_sdp_continued(), the rule the SDP answer
 * keeps ports by. */
#include <string.h>

#include "dialog.h"

static int recording(const sr_sdp_stream *st)
{
  return st->accepted && st->answer_dir == SR_SDP_RECVONLY && !st->paused;
}

unsigned sr_streams_diff(const sr_sdp_stream *old, size_t n_old, const sr_sdp_stream *next,
                         size_t n, uint8_t *per_stream)
{
  uint8_t used[SR_SDP_MAX_STREAMS] = { 0 };
  unsigned all = 0;
  if (n_old > SR_SDP_MAX_STREAMS)
    n_old = SR_SDP_MAX_STREAMS;
  for (size_t i = 0; i < n; i++) {
    const sr_sdp_stream *st = &next[i];
    const sr_sdp_stream *was = sr_sdp_continued(old, n_old, st, i, used);
    unsigned c = 0;
    if (!was || !was->accepted) {
      if (st->accepted)
        c = SIPREC_CHANGE_STREAMS_ADDED;
    } else if (!st->accepted) {
      c = SIPREC_CHANGE_STREAMS_REMOVED;
    } else {
      if (recording(was) && !recording(st))
        c |= SIPREC_CHANGE_STREAMS_PAUSED;
      else if (!recording(was) && recording(st))
        c |= SIPREC_CHANGE_STREAMS_RESUMED;
      if (was->pt != st->pt || strcmp(was->codec, st->codec) != 0 ||
          was->clock_rate != st->clock_rate)
        c |= SIPREC_CHANGE_CODEC;
    }
    per_stream[i] = (uint8_t)c;
    all |= c;
  }
  for (size_t j = 0; j < n_old; j++)
    if (!used[j] && old[j].accepted)
      all |= SIPREC_CHANGE_STREAMS_REMOVED;
  return all;
}
