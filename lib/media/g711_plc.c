/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "g711_plc.h"

#include <string.h>

#include "spandsp_plc.h"

#define HIST ((size_t)PLC_HISTORY_LEN)

void sr_g711_plc_init(sr_g711_plc *p, const int16_t *law)
{
  p->law = law;
  p->pos = 0;
  p->filled = 0;
  p->clean = 0;
  p->eager = law == NULL;
  plc_init(&p->plc);
}

/* A short copy of a size only known at run time, in 16-byte moves: this
 * runs for every packet, and compilers expand a memcpy whose size they
 * bound (here by HIST) into `rep movs`, whose start-up costs more than
 * the whole copy of a packet. */
static void copy_short(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    memcpy(dst + i, src + i, 16);
  if (n - i >= 8) {
    memcpy(dst + i, src + i, 8);
    i += 8;
  }
  for (; i < n; i++)
    dst[i] = src[i];
}

static void push_codes(sr_g711_plc *p, const uint8_t *codes, size_t n)
{
  if (n >= HIST) {
    copy_short(p->ring, codes + n - HIST, HIST);
    p->pos = 0;
    p->filled = HIST;
    return;
  }
  size_t first = HIST - p->pos < n ? HIST - p->pos : n;
  copy_short(p->ring + p->pos, codes, first);
  copy_short(p->ring, codes + first, n - first);
  p->pos = (uint16_t)((p->pos + n) % HIST);
  p->filled = (uint16_t)(p->filled + n < HIST ? p->filled + n : HIST);
}

/* spandsp's history as eager plc_rx calls would have left it, normalised
 * (oldest first, buf_ptr 0) as its fill does first: zeros (plc_init's)
 * before the bytes received, then the last bytes decoded. */
static void materialise(sr_g711_plc *p)
{
  int16_t *h = p->plc.history;
  size_t k = p->filled, zeros = HIST - k;
  memset(h, 0, zeros * sizeof *h);
  size_t at = (p->pos + HIST - k) % HIST;
  for (size_t i = 0; i < k; i++) {
    h[zeros + i] = p->law[p->ring[at]];
    if (++at == HIST)
      at = 0;
  }
  p->plc.buf_ptr = 0;
}

void sr_g711_plc_rx(sr_g711_plc *p, const uint8_t *codes, int16_t *amp, size_t n)
{
  if (!p->eager) {
    /* History lazy and no gap open (missing_samples is 0): plc_rx would
     * only have saved amp, which the code bytes say. */
    push_codes(p, codes, n);
    return;
  }
  /* After a fill the next packet is cross-faded (missing_samples is
   * set): the count of clean samples starts again after it. */
  bool modified = p->plc.missing_samples != 0;
  plc_rx(&p->plc, amp, (int)n);
  if (!p->law)
    return;
  push_codes(p, codes, n);
  size_t clean = modified ? 0 : p->clean + n;
  p->clean = (uint16_t)(clean < HIST ? clean : HIST);
  /* The whole history is decoded code bytes again. */
  if (p->clean >= HIST)
    p->eager = false;
}

void sr_g711_plc_fillin(sr_g711_plc *p, int16_t *amp, size_t n)
{
  if (!p->eager) {
    materialise(p);
    p->eager = true;
  }
  sr_spandsp_plc_fillin(&p->plc, amp, (int)n);
}
