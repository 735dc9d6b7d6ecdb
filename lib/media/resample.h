/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A streaming resampler from a decoder's rate to the one rate a host
 * wants (a recogniser's 16 kHz, say), over speexdsp's. The output is
 * aligned with the input (the filter's lead-in is skipped, not output as
 * zeros), so after sr_resampler_flush a stream of n input samples has
 * given exactly floor(n * out_rate / in_rate) output samples.
 *
 * Memory: the wrapper lives in the allocator hook's memory; speexdsp
 * allocates its filter state itself (calloc, no hook in Debian's build).
 * Built without speexdsp (meson feature `speexdsp`), only equal rates
 * (a copy) are available. Not thread-safe: one stream, one thread. */
#ifndef SR_MEDIA_RESAMPLE_H
#define SR_MEDIA_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

/* speexdsp's SPEEX_RESAMPLER_QUALITY_VOIP: its filters are 48 taps against
 * quality 5's 80, and the resampler was most of a recording server's CPU at
 * quality 5 (docs/performance.md, bench_server); telephone speech loses
 * nothing a listener or a recogniser hears. */
#define SR_RESAMPLE_QUALITY_DEFAULT 3

typedef struct sr_resampler sr_resampler;

/* A resampler from in_rate to out_rate (each 1000..192000) at speexdsp's
 * quality 0..10 (-1: SR_RESAMPLE_QUALITY_DEFAULT). Returns 0,
 * SIPREC_EINVAL, SIPREC_ENOMEM, or SIPREC_ENOTFOUND for different rates
 * in a build without speexdsp. */
int sr_resampler_new(const siprec_allocator *alloc, uint32_t in_rate, uint32_t out_rate,
                     int quality, sr_resampler **out);
void sr_resampler_free(sr_resampler *r);

/* The most samples sr_resampler_process can give for n input samples. */
size_t sr_resampler_out_max(const sr_resampler *r, size_t n);

/* The most samples sr_resampler_flush can give. */
size_t sr_resampler_flush_max(const sr_resampler *r);

/* Resamples all of in[0..n) into out[0..cap), keeping the filter's state
 * for the next call. Returns the samples written, SIPREC_ETOOBIG when cap
 * is below sr_resampler_out_max(r, n) (nothing done), or SIPREC_EINVAL. */
int sr_resampler_process(sr_resampler *r, const int16_t *in, size_t n, int16_t *out,
                         size_t cap);

/* Ends the stream: writes what the filter still holds (the last input's
 * tail) and starts afresh, as sr_resampler_reset. Returns the samples
 * written, SIPREC_ETOOBIG (cap below sr_resampler_flush_max) or
 * SIPREC_EINVAL. */
int sr_resampler_flush(sr_resampler *r, int16_t *out, size_t cap);

/* Drops the filter's state (after a discontinuity), as a new resampler. */
void sr_resampler_reset(sr_resampler *r);

#endif
