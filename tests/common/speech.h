/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Real speech for the media tests: pocketsphinx-testdata's goforward.raw
 * (16 kHz, s16le, mono; a man saying "go forward ten meters"), and the same
 * at 8 kHz for the narrowband codecs. Without the package, a speech-like
 * signal made here (a gliding voiced pitch with harmonics, syllables and
 * some noise), so the tests still run, on something less real. */
#ifndef SIPREC_TESTS_SPEECH_H
#define SIPREC_TESTS_SPEECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPEECH_FILE "/usr/share/pocketsphinx/test/data/goforward.raw"

typedef struct speech {
  int16_t *s16; /* 16 kHz */
  size_t n16;
  int16_t *s8; /* the same at 8 kHz: each pair of samples averaged */
  size_t n8;
  bool real; /* from SPEECH_FILE, not made here */
} speech;

/* Load (or make) it. Returns 0, or -1 when out of memory or the file could
 * not be read whole (nothing is then allocated). */
int speech_load(speech *sp);
void speech_free(speech *sp);

#endif
