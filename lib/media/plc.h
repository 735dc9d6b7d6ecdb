/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Packet loss concealment at any sample rate, for the codecs without one
 * of their own whose rate spandsp's PLC was not made for: G.722 (16 kHz
 * audio) and L16. spandsp's plc_fillin is tuned for 8 kHz: its pitch
 * search spans 40..120 samples and its fade 50 ms as sample counts, so at
 * 16 kHz it looks for pitches of 133..400 Hz (missing most male voices,
 * whose period it then doubles badly) and fades in 25 ms. This one follows
 * the same design (G.711 Appendix I: find the pitch by the average
 * magnitude difference over the last 20 ms, repeat the last period with
 * its ends overlap-added, fade, blend the resumed speech in) with every
 * length in milliseconds: pitch 2.5..15 ms (400..67 Hz), full level for
 * the first 10 ms of a gap, then G.711 Appendix I's fade of 20 % per
 * 10 ms, silent from 60 ms. Not a repeat of the last 10 ms: that repeats
 * at 100 Hz whatever the voice's pitch, a buzz. The unit test shows the
 * difference on voices of 80..120 Hz (test_plc_16k_low_voices). */
#ifndef SR_MEDIA_PLC_H
#define SR_MEDIA_PLC_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

typedef struct sr_plc sr_plc;

/* A concealer for audio at `rate` (1000..192000) samples per second.
 * Returns NULL on a bad rate or allocation failure. */
sr_plc *sr_plc_new(const siprec_allocator *alloc, uint32_t rate);
void sr_plc_free(sr_plc *p);

/* Records received audio. After a concealed gap, the start of `amp` is
 * cross-faded with the continuing synthetic signal (so it may change). */
void sr_plc_rx(sr_plc *p, int16_t *amp, size_t len);

/* Writes `len` synthetic samples continuing the recorded audio. */
void sr_plc_fillin(sr_plc *p, int16_t *amp, size_t len);

/* Forgets the history, as a new concealer. */
void sr_plc_reset(sr_plc *p);

#endif
