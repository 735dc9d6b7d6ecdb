/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which current stream a re-offered stream continues: see answer.h. One
 * rule for the answer (ports and keys kept) and for the session's report
 * of what changed, so that the two never tell different stories. */
#include "answer.h"

#include <string.h>

const sr_sdp_stream *sr_sdp_continued(const sr_sdp_stream *old, size_t n_old,
                                      const sr_sdp_stream *st, size_t index, uint8_t *used)
{
  if (st->has_label) {
    for (size_t j = 0; j < n_old; j++)
      if (!used[j] && old[j].has_label && strcmp(old[j].label, st->label) == 0) {
        used[j] = 1;
        return &old[j];
      }
    return NULL;
  }
  if (index < n_old && !old[index].has_label && !used[index]) {
    used[index] = 1;
    return &old[index];
  }
  return NULL;
}
