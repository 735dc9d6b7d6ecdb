/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "codecs.h"

/* The defaults come first, in the order they are preferred. */
static const sr_codec codecs[] = {
  { "PCMU", 0, 8000, 1, SR_CODEC_STATIC_PT | SR_CODEC_OFFERED | SR_CODEC_DEFAULT },
  { "PCMA", 8, 8000, 1, SR_CODEC_STATIC_PT | SR_CODEC_OFFERED | SR_CODEC_DEFAULT },
  { "G722", 9, 8000, 1, SR_CODEC_STATIC_PT | SR_CODEC_OFFERED | SR_CODEC_DEFAULT },
  { "opus", 96, 48000, 2, SR_CODEC_OFFERED | SR_CODEC_DEFAULT },
  /* Known only to name a static payload type an offer may use bare. */
  { "G726-32", 2, 8000, 1, SR_CODEC_STATIC_PT }, /* RFC 3551's packing, as Metaswitch
                                                  * offers it without rtpmap */
  { "GSM", 3, 8000, 1, SR_CODEC_STATIC_PT },
  { "G723", 4, 8000, 1, SR_CODEC_STATIC_PT },
  { "CN", 13, 8000, 1, SR_CODEC_STATIC_PT },
  { "G729", 18, 8000, 1, SR_CODEC_STATIC_PT },
};
#define N_CODECS (sizeof codecs / sizeof codecs[0])

const sr_codec *sr_codec_at(size_t i)
{
  return i < N_CODECS ? &codecs[i] : NULL;
}

const sr_codec *sr_codec_by_name(sr_span name)
{
  for (size_t i = 0; i < N_CODECS; i++)
    if (sr_span_ieq(name, codecs[i].name))
      return &codecs[i];
  return NULL;
}

const sr_codec *sr_codec_by_static_pt(unsigned pt)
{
  for (size_t i = 0; i < N_CODECS; i++)
    if ((codecs[i].flags & SR_CODEC_STATIC_PT) && (unsigned)codecs[i].pt == pt)
      return &codecs[i];
  return NULL;
}

const char *sr_codec_default(size_t i)
{
  for (size_t k = 0; k < N_CODECS; k++)
    if ((codecs[k].flags & SR_CODEC_DEFAULT) && i-- == 0)
      return codecs[k].name;
  return NULL;
}
