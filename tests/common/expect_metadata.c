/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "expect_metadata.h"

#include <check.h>
#include <string.h>

static const char *aor_of(const siprec_metadata *m, size_t i)
{
  const char *aor = NULL;
  ck_assert_int_eq(siprec_metadata_participant(m, i, NULL, &aor, NULL, NULL), 0);
  return aor;
}

void expect_check_metadata(const char *what, const siprec_metadata *m, const expect *ex)
{
  const char *status = siprec_metadata_status_name(siprec_metadata_get_status(m));
  if (ex->metadata[0])
    ck_assert_msg(strcmp(status, ex->metadata) == 0, "%s: metadata %s (%s), expected %s", what,
                  status, siprec_metadata_error_detail(m), ex->metadata);
  if (ex->has_participants) {
    ck_assert_msg(siprec_metadata_participant_count(m) == ex->n_participants,
                  "%s: %zu participants, expected %zu", what,
                  siprec_metadata_participant_count(m), ex->n_participants);
    for (size_t i = 0; i < ex->n_participants; i++)
      ck_assert_msg(aor_of(m, i) && strcmp(aor_of(m, i), ex->participants[i]) == 0,
                    "%s: participant %zu is '%s', expected '%s'", what, i, aor_of(m, i),
                    ex->participants[i]);
  }
  for (size_t l = 0; ex->has_stream_participants && l < ex->n_stream_participants; l++) {
    const expect_label *e = &ex->stream_participants[l];
    size_t s;
    ck_assert_msg(siprec_metadata_stream_find_label(m, e->label, &s) == 0,
                  "%s: no stream labelled '%s'", what, e->label);
    size_t n = siprec_metadata_stream_sender(m, s, 0, NULL);
    ck_assert_msg(n == e->n_aors, "%s: %zu senders on '%s', expected %zu", what, n, e->label,
                  e->n_aors);
    /* Compared as sets. */
    for (size_t k = 0; k < n; k++) {
      size_t p;
      siprec_metadata_stream_sender(m, s, k, &p);
      int found = 0;
      for (size_t j = 0; j < e->n_aors; j++)
        found |= aor_of(m, p) && strcmp(aor_of(m, p), e->aors[j]) == 0;
      ck_assert_msg(found, "%s: '%s' sends on '%s', not expected", what, aor_of(m, p), e->label);
    }
  }
}
