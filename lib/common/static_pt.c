/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "static_pt.h"

/* RFC 3551 section 6, table 4, the entries this library names: those it
 * can decode and those SRCs offer bare (GSM, G723: named so that the answer
 * and the logs say what was offered, though nothing decodes them). The
 * other static numbers (DVI4, LPC, QCELP, MPA, G728) name nothing here; on
 * RTP/AVP Sofia-SIP's parser still names them by its own table. In payload
 * type order. */
static const sr_static_pt table[] = {
  { "PCMU", 8000, 1, 0 },    { "G726-32", 8000, 1, 2 }, { "GSM", 8000, 1, 3 },
  { "G723", 8000, 1, 4 },    { "PCMA", 8000, 1, 8 },    { "G722", 8000, 1, 9 },
  { "L16", 44100, 2, 10 },   { "L16", 44100, 1, 11 },   { "CN", 8000, 1, 13 },
  { "G729", 8000, 1, 18 },
};
#define N_TABLE (sizeof table / sizeof table[0])

const sr_static_pt *sr_static_pt_get(unsigned pt)
{
  for (size_t i = 0; i < N_TABLE; i++)
    if (table[i].pt == pt)
      return &table[i];
  return NULL;
}

const sr_static_pt *sr_static_pt_by_name(sr_span name)
{
  for (size_t i = 0; i < N_TABLE; i++)
    if (sr_span_ieq(name, table[i].name))
      return &table[i];
  return NULL;
}
