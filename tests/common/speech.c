/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "speech.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Three seconds of vowel-like sound: a pitch gliding around 110 Hz with
 * twelve harmonics, syllables of 200 ms, and some noise. */
static int make_speech(speech *sp)
{
  sp->n16 = 16000 * 3;
  sp->s16 = calloc(sp->n16, sizeof *sp->s16);
  if (!sp->s16)
    return -1;
  uint32_t seed = 12345;
  double phase = 0;
  for (size_t i = 0; i < sp->n16; i++) {
    double t = (double)i / 16000.0;
    double f0 = 110.0 + 40.0 * sin(2 * M_PI * 0.7 * t);
    phase += 2 * M_PI * f0 / 16000.0;
    double env = fabs(sin(M_PI * t / 0.2));
    double v = 0;
    for (int h = 1; h <= 12; h++)
      v += sin(h * phase) / h;
    seed = seed * 1103515245u + 12345u;
    v = env * (v * 6000.0 + (double)((int32_t)(seed >> 16) - 32768) / 16.0);
    sp->s16[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
  }
  return 0;
}

/* The file's samples, little-endian whatever the host's byte order. */
static int read_speech(speech *sp, FILE *f)
{
  if (fseek(f, 0, SEEK_END) != 0)
    return -1;
  long size = ftell(f);
  if (size < 4 || fseek(f, 0, SEEK_SET) != 0)
    return -1;
  sp->n16 = (size_t)size / 2;
  uint8_t *raw = malloc(sp->n16 * 2);
  sp->s16 = malloc(sp->n16 * sizeof *sp->s16);
  int rc = -1;
  if (raw && sp->s16 && fread(raw, 2, sp->n16, f) == sp->n16) {
    for (size_t i = 0; i < sp->n16; i++)
      sp->s16[i] = (int16_t)(uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
    rc = 0;
  }
  free(raw);
  return rc;
}

int speech_load(speech *sp)
{
  memset(sp, 0, sizeof *sp);
  FILE *f = fopen(SPEECH_FILE, "rb");
  int rc;
  if (f) {
    rc = read_speech(sp, f);
    fclose(f);
    sp->real = true;
  } else {
    rc = make_speech(sp);
  }
  /* 16 kHz to 8 kHz crudely, a pair averaged: the codecs do not mind the
   * aliasing, and every test derives its reference from the same samples. */
  sp->n8 = sp->n16 / 2;
  if (rc == 0 && !(sp->s8 = malloc(sp->n8 * sizeof *sp->s8)))
    rc = -1;
  if (rc < 0) {
    speech_free(sp);
    return -1;
  }
  for (size_t i = 0; i < sp->n8; i++)
    sp->s8[i] = (int16_t)(((int32_t)sp->s16[2 * i] + sp->s16[2 * i + 1]) / 2);
  return 0;
}

void speech_free(speech *sp)
{
  free(sp->s16);
  free(sp->s8);
  memset(sp, 0, sizeof *sp);
}
