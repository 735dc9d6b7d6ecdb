/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "codecs_built.h"

#include <stddef.h>
#include <strings.h>

/* Kept in step with decoder.c's table: a name here is a name it creates. */
static const char *const built[] = {
  "PCMU", "PCMA", "G722", "G726-16", "G726-24", "G726-32", "G726-40",
  "AAL2-G726-16", "AAL2-G726-24", "AAL2-G726-32", "AAL2-G726-40",
  "L16", "CN", "telephone-event",
#ifdef SR_HAVE_OPUS
  "opus",
#endif
#ifdef SR_HAVE_BCG729
  "G729",
#endif
};

bool sr_media_codec_built(const char *name)
{
  if (!name)
    return false;
  for (size_t i = 0; i < sizeof built / sizeof built[0]; i++)
    if (strcasecmp(name, built[i]) == 0)
      return true;
  return false;
}
