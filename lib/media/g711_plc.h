/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spandsp's PLC for mono G.711 with its history kept lazily, sample for
 * sample the same concealment as plc_rx on every packet.
 *
 * Why: plc_rx copies each decoded packet into its 280-sample history (560
 * bytes of a state that a server with thousands of streams has evicted
 * from the cache since the stream's last packet): the largest cost of the
 * G.711 path after the decode itself, for a history read only when a
 * packet is lost. While no concealment is under way that history is just
 * the last 280 samples decoded, so the last 280 *code bytes* (1 byte a
 * sample, half the writes) say the same; they are decoded into the
 * history, normalised as spandsp's own fill would leave it, only when a
 * loss starts. After a concealment spandsp's history holds synthetic and
 * cross-faded samples, which no code byte says: plc_rx then runs on every
 * packet, as before, until 280 samples have passed it unmodified, and the
 * history is lazy again.
 *
 * Multi-channel G.711 (its samples are channel averages, not one code
 * byte each) is given law NULL: plain plc_rx on every packet. */
#ifndef SR_MEDIA_G711_PLC_H
#define SR_MEDIA_G711_PLC_H

#include <stddef.h>

#include "spandsp_inc.h"

typedef struct sr_g711_plc {
  /* What each packet touches, first: the ring and its indices. */
  const int16_t *law; /* code byte to sample; NULL: always eager */
  uint16_t pos;       /* where the ring's next byte goes */
  uint16_t filled;    /* code bytes in the ring (up to PLC_HISTORY_LEN) */
  uint16_t clean;     /* eager: samples through plc_rx unmodified since */
  bool eager;         /* plc.history is current; plc_rx runs */
  uint8_t ring[PLC_HISTORY_LEN]; /* the last code bytes received */
  plc_state_t plc;               /* spandsp's, read at a loss */
} sr_g711_plc;

/* A new concealer (as plc_init) decoding the ring through `law` (a 256
 * entry table), or NULL for input that is not one code byte a sample. */
void sr_g711_plc_init(sr_g711_plc *p, const int16_t *law);

/* Received: `amp` the n samples decoded from `codes` (codes[i] decodes to
 * amp[i] through law; ignored when law is NULL). After a concealment the
 * start of `amp` is cross-faded as plc_rx does (so it may change). */
void sr_g711_plc_rx(sr_g711_plc *p, const uint8_t *codes, int16_t *amp, size_t n);

/* Lost: n synthetic samples into `amp`, as sr_spandsp_plc_fillin. */
void sr_g711_plc_fillin(sr_g711_plc *p, int16_t *amp, size_t n);

#endif
