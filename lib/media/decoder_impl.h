/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What decoder.c shares with the per-codec files (dec_*.c): the object
 * and the table of operations each codec fills. decoder.c checks the
 * arguments and the output bound before calling an operation, so an
 * operation may assume a valid payload length and room for its samples. */
#ifndef SR_MEDIA_DECODER_IMPL_H
#define SR_MEDIA_DECODER_IMPL_H

#include "../common/alloc.h"
#include "decoder.h"

typedef struct sr_decoder_ops {
  /* Sets up d->state from the parameters (d->alloc, codec, rates set). */
  int (*init)(sr_decoder *d, const sr_decoder_params *p);
  int (*samples)(const sr_decoder *d, const uint8_t *payload, size_t len);
  /* Decodes a payload sr_decoder_samples accepted, into room enough. */
  int (*decode)(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                unsigned *flags);
  /* Produces exactly n samples (n > 0). */
  void (*conceal)(sr_decoder *d, size_t n, int16_t *out, unsigned *flags);
  /* Optional (NULL: conceal). `next` is a packet samples() accepted. */
  int (*conceal_fec)(sr_decoder *d, const uint8_t *next, size_t len, size_t n, int16_t *out,
                     unsigned *flags);
  void (*reset)(sr_decoder *d);
  void (*fini)(sr_decoder *d);
} sr_decoder_ops;

struct sr_decoder {
  /* What every packet reads first, in 32 bytes: with malloc's 16-byte
   * alignment one cache line three times in four (a server with thousands
   * of streams has evicted it since the stream's last packet). */
  const sr_decoder_ops *ops;
  void *state;         /* the codec's own, freed by fini */
  sr_codec codec;
  uint32_t rate;       /* output samples per second */
  uint32_t clock_rate; /* RTP timestamp rate */
  unsigned channels;   /* in the payload; output is mono */
  siprec_allocator alloc;
};

extern const sr_decoder_ops sr_dec_g711_ops;
extern const sr_decoder_ops sr_dec_g722_ops;
extern const sr_decoder_ops sr_dec_g726_ops;
extern const sr_decoder_ops sr_dec_l16_ops;
extern const sr_decoder_ops sr_dec_cn_ops;
#ifdef SR_HAVE_OPUS
extern const sr_decoder_ops sr_dec_opus_ops;
#endif
#ifdef SR_HAVE_BCG729
extern const sr_decoder_ops sr_dec_g729_ops;
#endif

#endif
