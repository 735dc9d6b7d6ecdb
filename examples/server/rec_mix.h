/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stereo file's audio made of two mono channels: what each channel
 * gave and the stereo file has not taken yet (a hold), and the rule that
 * says how far the stereo file may go. No I/O: the recorder's writer
 * thread feeds it the mono files' audio as it writes them and writes what
 * comes out (rec_writer_mix.c), so the loop that reads the media never
 * copies or interleaves a frame twice.
 *
 * The rule. The stereo file goes as far as both channels have audio. A
 * channel that lags more than `lag` frames behind the other (a stream on
 * hold, or gone quiet without ending) is silence there, and its audio for
 * that span, if it comes later, is not taken (it is in its mono file). An
 * ended channel is silence after its end. At the end (`final`) the stereo
 * file goes as far as the longer channel.
 */
#ifndef SIPREC_SERVER_REC_MIX_H
#define SIPREC_SERVER_REC_MIX_H

#include <stddef.h>
#include <stdint.h>

/* One channel's audio not taken yet: samples for the timeline span
 * [tl, tl + len). */
struct rec_hold {
  int16_t *buf;
  size_t off, len, cap;
  uint64_t tl;
  int ended; /* no more audio comes: silence after it */
};

struct rec_mix {
  struct rec_hold *ch[2]; /* left, right */
  uint64_t pos;           /* timeline frames the stereo file has */
  uint64_t lag;           /* the allowance, in frames */
};

/* Channel audio: n frames (NULL: silence) at timeline `tl`, of which what
 * lies before `from` (the stereo file's position) is not kept. Audio must
 * come in order without gaps (a mono file's). @return 0 or -ENOMEM */
int rec_hold_take(struct rec_hold *h, uint64_t from, const int16_t *frames, size_t n, uint64_t tl);
void rec_hold_free(struct rec_hold *h);

/* The timeline frame the rule lets the stereo file reach now (everything
 * when `final`); at least m->pos. */
uint64_t rec_mix_target(const struct rec_mix *m, int final);
/* The k stereo frames from m->pos into `out` (2k samples), each channel's
 * audio or silence around it; advances m->pos and drops what the holds
 * no longer need. */
void rec_mix_fill(struct rec_mix *m, int16_t *out, size_t k);

#endif
