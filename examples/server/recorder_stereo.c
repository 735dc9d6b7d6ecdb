/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stereo file of a recording's first two streams. Its audio is made
 * by the writer thread from the two mono files (rec_writer.h,
 * rec_wfile_create_stereo): the loop opens it, flushes it with the others
 * and closes it, and never touches a frame of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder_internal.h"

int rec_stereo_start(rec_recording *r)
{
  struct rec_stereo *st = &r->stereo;
  const char *ext = r->format == REC_FLAC ? "flac" : "wav";
  char name[64];
  /* A later segment's stereo file (recovery) is stereo.N.EXT. */
  if (r->segment > 1)
    snprintf(name, sizeof name, "stereo.%u.%s", r->segment, ext);
  else
    snprintf(name, sizeof name, "stereo.%s", ext);
  SF_INFO info = {
    .samplerate = (int)r->rate,
    .channels = 2,
    .format = r->format == REC_FLAC ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16
                                    : SF_FORMAT_RF64 | SF_FORMAT_PCM_16,
  };
  /* Taken (a folder reused without its resume state): no stereo file. */
  int rc = rec_name_free_on_disk(r, name) ? 0 : -EEXIST;
  if (!rc && !(st->name = strdup(name)))
    rc = -ENOMEM;
  if (!rc) {
    memset(&st->sink, 0, sizeof st->sink);
    st->sink.wf = rec_wfile_create_stereo(r->g, name, &info, r->streams[0]->sink.wf,
                                          r->streams[1]->sink.wf, st->lag);
    if (!st->sink.wf)
      rc = -errno;
  }
  if (rc) {
    free(st->name);
    st->name = NULL;
    rec_stereo_give_up(r);
    return rc;
  }
  st->sink.channels = 2;
  st->sink.open = 1;
  st->state = REC_STEREO_ACTIVE;
  return 0;
}

void rec_stereo_give_up(rec_recording *r)
{
  r->stereo.state = REC_STEREO_NONE;
  for (size_t i = 0; i < r->n_streams && i < 2; i++)
    rec_wfile_unkeep(r->streams[i]->sink.wf);
}
