/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "codecs.h"

#include "../common/static_pt.h"

/* In preference order. A static codec's payload type, clock rate and
 * channels are RFC 3551's (static_pt.h); a dynamic one says its own. */
static const struct {
  const char *name;
  int pt; /* dynamic only: 0 for a static codec */
  uint32_t rate;
  uint8_t channels;
} offered[] = {
  { "PCMU", 0, 0, 0 },
  { "PCMA", 0, 0, 0 },
  { "G722", 0, 0, 0 },
  { "opus", 96, 48000, 2 }, /* RFC 7587: always opus/48000/2 */
};
#define N_OFFERED (sizeof offered / sizeof offered[0])

bool sr_codec_offered(sr_span name, sr_codec *out)
{
  for (size_t i = 0; i < N_OFFERED; i++) {
    if (!sr_span_ieq(name, offered[i].name))
      continue;
    *out = (sr_codec){ offered[i].name, offered[i].pt, offered[i].rate, offered[i].channels };
    if (offered[i].rate == 0) {
      /* Every static name above is in the table (test_delayed_offer
       * writes each one). */
      const sr_static_pt *st = sr_static_pt_by_name(sr_span_cstr(offered[i].name));
      if (!st)
        return false;
      *out = (sr_codec){ offered[i].name, st->pt, st->rate, st->channels };
    }
    return true;
  }
  return false;
}

const char *sr_codec_default(size_t i)
{
  return i < N_OFFERED ? offered[i].name : NULL;
}
