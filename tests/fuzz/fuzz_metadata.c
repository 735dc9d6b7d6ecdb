/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the metadata parser and the merge
 * (include/siprec/metadata.h). Input: a sequence of documents separated by
 * NUL bytes (which XML text cannot hold), applied one after the other, each
 * over the snapshot the previous one made, with its change set; then each
 * document again alone under tight limits; then the last snapshot bound to
 * m-lines. Checks: return codes and statuses are documented ones; an
 * unreadable document keeps the previous content and its own raw bytes; ids
 * are unique and found again at their index; every index an accessor hands
 * out is in range; change sets agree with the snapshots they join; a
 * partial update never loses a participant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/metadata.h>

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

#define MAX_DOCS 8

static void check_model(const siprec_metadata *m)
{
  size_t np = siprec_metadata_participant_count(m), ns = siprec_metadata_stream_count(m);
  for (size_t i = 0; i < np; i++) {
    const char *id, *aor, *name, *lang;
    CHECK(siprec_metadata_participant(m, i, &id, &aor, &name, &lang) == 0);
    size_t j = SIZE_MAX;
    if (id)
      CHECK(siprec_metadata_participant_find(m, id, &j) == 0 && j == i);
    size_t nn = siprec_metadata_participant_nameid(m, i, 0, &aor, &name, &lang);
    for (size_t k = 0; k < nn; k++)
      CHECK(siprec_metadata_participant_nameid(m, i, k, &aor, NULL, NULL) == nn);
    size_t s, n = siprec_metadata_participant_sends(m, i, 0, NULL);
    for (size_t k = 0; k < n; k++) {
      CHECK(siprec_metadata_participant_sends(m, i, k, &s) == n && s < ns);
      /* The same association seen from the stream. */
      int found = 0;
      size_t q, nq = siprec_metadata_stream_sender(m, s, 0, NULL);
      for (size_t r = 0; r < nq; r++) {
        siprec_metadata_stream_sender(m, s, r, &q);
        found |= q == i;
      }
      CHECK(found);
    }
    n = siprec_metadata_participant_receives(m, i, 0, NULL);
    for (size_t k = 0; k < n; k++)
      CHECK(siprec_metadata_participant_receives(m, i, k, &s) == n && s < ns);
  }
  CHECK(siprec_metadata_participant(m, np, NULL, NULL, NULL, NULL) == SIPREC_EINVAL);
  for (size_t i = 0; i < ns; i++) {
    const char *id, *sess, *label;
    CHECK(siprec_metadata_stream(m, i, &id, &sess, &label) == 0);
    size_t j;
    if (id)
      CHECK(siprec_metadata_stream_find(m, id, &j) == 0 && j == i);
    if (label)
      CHECK(siprec_metadata_stream_find_label(m, label, &j) == 0 && j <= i);
    size_t p, prev = SIZE_MAX, n = siprec_metadata_stream_sender(m, i, 0, NULL);
    for (size_t k = 0; k < n; k++) {
      CHECK(siprec_metadata_stream_sender(m, i, k, &p) == n && p < np);
      CHECK(prev == SIZE_MAX || p > prev); /* participant order, no repeats */
      prev = p;
    }
    n = siprec_metadata_stream_receiver(m, i, 0, NULL);
    for (size_t k = 0; k < n; k++)
      CHECK(siprec_metadata_stream_receiver(m, i, k, &p) == n && p < np);
  }
  for (size_t i = 0; i < siprec_metadata_session_count(m); i++) {
    const char *v;
    CHECK(siprec_metadata_session(m, i, &v, NULL, NULL, NULL) == 0);
    size_t n = siprec_metadata_session_sip_session_id(m, i, 0, NULL);
    for (size_t k = 0; k < n; k++) {
      CHECK(siprec_metadata_session_sip_session_id(m, i, k, &v) == n);
      CHECK(v != NULL);
    }
  }
  for (size_t i = 0; i < siprec_metadata_group_count(m); i++)
    CHECK(siprec_metadata_group(m, i, NULL, NULL, NULL) == 0);
  for (size_t i = 0; i < siprec_metadata_participant_session_count(m); i++)
    CHECK(siprec_metadata_participant_session(m, i, NULL, NULL, NULL, NULL) == 0);
  for (size_t i = 0; i < siprec_metadata_session_recording_count(m); i++)
    CHECK(siprec_metadata_session_recording(m, i, NULL, NULL, NULL) == 0);
  for (size_t i = 0; i < siprec_metadata_extension_count(m); i++) {
    const char *ns_uri, *path, *text, *owner;
    siprec_metadata_kind kind;
    CHECK(siprec_metadata_extension(m, i, &ns_uri, &path, &text) == 0);
    CHECK(ns_uri && path && text && path[0]);
    CHECK(siprec_metadata_extension_owner(m, i, &kind, &owner) == 0);
    CHECK(kind <= SIPREC_METADATA_RECORDING);
    CHECK(kind != SIPREC_METADATA_RECORDING || owner == NULL);
  }
}

static void check_changes(const siprec_metadata_changes *ch, const siprec_metadata *to)
{
  size_t n = siprec_metadata_changes_count(ch), sum = 0;
  for (int k = 0; k <= SIPREC_METADATA_SESSION_RECORDING; k++)
    for (int c = 0; c <= SIPREC_METADATA_CHANGED; c++)
      sum += siprec_metadata_changes_tally(ch, (siprec_metadata_kind)k, (siprec_metadata_change)c);
  CHECK(sum == n);
  siprec_metadata_kind prev = SIPREC_METADATA_PARTICIPANT;
  for (size_t i = 0; i < n; i++) {
    siprec_metadata_kind kind;
    siprec_metadata_change change;
    const char *key, *key2;
    CHECK(siprec_metadata_changes_get(ch, i, &kind, &change, &key, &key2) == 0);
    CHECK(key != NULL && kind >= prev && kind <= SIPREC_METADATA_SESSION_RECORDING);
    prev = kind;
    if (kind == SIPREC_METADATA_PARTICIPANT)
      CHECK((siprec_metadata_participant_find(to, key, NULL) == 0) ==
            (change != SIPREC_METADATA_REMOVED));
    if (kind == SIPREC_METADATA_STREAM)
      CHECK((siprec_metadata_stream_find(to, key, NULL) == 0) ==
            (change != SIPREC_METADATA_REMOVED));
  }
  CHECK(siprec_metadata_changes_get(ch, n, NULL, NULL, NULL, NULL) == SIPREC_EINVAL);
}

static void check_bind(const siprec_metadata *m)
{
  size_t ns = siprec_metadata_stream_count(m), np = siprec_metadata_participant_count(m);
  /* The labels in reverse order, with an unlabelled and an unknown m-line. */
  const char *labels[6];
  size_t n = 0;
  for (size_t i = ns; i-- > 0 && n < 4;)
    siprec_metadata_stream(m, i, NULL, NULL, &labels[n++]);
  labels[n++] = NULL;
  labels[n++] = "no such label";
  siprec_metadata *b;
  int rc = siprec_metadata_bind(&b, m, labels, n, NULL);
  CHECK(rc == 0 || rc == SIPREC_ENOMEM);
  if (rc)
    return;
  CHECK(siprec_metadata_mline_count(b) == n);
  CHECK(siprec_metadata_participant_count(b) == np);
  for (size_t i = 0; i < n; i++) {
    size_t s, p;
    siprec_metadata_rule rule;
    CHECK(siprec_metadata_mline(b, i, &s, &rule) == 0);
    CHECK(s == SIZE_MAX || s < ns);
    CHECK(rule <= SIPREC_METADATA_RULE_PARTICIPANT_ORDER);
    size_t k = siprec_metadata_mline_sender(b, i, 0, NULL);
    CHECK((rule == SIPREC_METADATA_RULE_NONE) == (k == 0));
    for (size_t j = 0; j < k; j++)
      CHECK(siprec_metadata_mline_sender(b, i, j, &p) == k && p < np);
  }
  siprec_metadata_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static siprec_metadata_limits *tight;
  if (!tight) {
    CHECK(siprec_metadata_limits_new(&tight, NULL) == 0);
    siprec_metadata_limits_set_max_depth(tight, 4);
    siprec_metadata_limits_set_max_elements(tight, 40);
    siprec_metadata_limits_set_max_attributes(tight, 2);
    siprec_metadata_limits_set_max_bytes(tight, 2048);
  }
  siprec_metadata *cur = NULL;
  size_t start = 0;
  for (int d = 0; d < MAX_DOCS && start <= size; d++) {
    const uint8_t *nul = start < size ? memchr(data + start, 0, size - start) : NULL;
    size_t len = nul ? (size_t)(nul - (data + start)) : size - start;
    /* A copy of the exact size, so reads past the end are caught. */
    char *doc = malloc(len ? len : 1);
    CHECK(doc != NULL);
    memcpy(doc, data + start, len);
    start += len + 1;

    siprec_metadata *next = NULL;
    siprec_metadata_changes *ch = NULL;
    int rc = siprec_metadata_apply(&next, &ch, cur, doc, len, NULL, NULL);
    CHECK(rc == 0 || rc == SIPREC_ENOMEM);
    if (rc == 0) {
      siprec_metadata_status st = siprec_metadata_get_status(next);
      size_t rl;
      const char *raw = siprec_metadata_raw(next, &rl);
      CHECK(rl == len && raw && memcmp(raw, doc, len) == 0 && raw[len] == '\0');
      if (st == SIPREC_METADATA_UNREADABLE) {
        int e = siprec_metadata_error(next);
        CHECK(e == SIPREC_EPARSE || e == SIPREC_ETOOBIG);
        CHECK(siprec_metadata_error_detail(next)[0] != '\0');
        CHECK(siprec_metadata_participant_count(next) == siprec_metadata_participant_count(cur));
        CHECK(siprec_metadata_changes_count(ch) == 0);
      } else {
        CHECK(st == SIPREC_METADATA_OK && siprec_metadata_error(next) == 0);
        if (siprec_metadata_get_datamode(next) == SIPREC_METADATA_DATAMODE_PARTIAL)
          CHECK(siprec_metadata_participant_count(next) >= siprec_metadata_participant_count(cur));
      }
      check_model(next);
      check_changes(ch, next);
      siprec_metadata_changes_free(ch);
      siprec_metadata_unref(cur);
      cur = next;
    }

    siprec_metadata *alone = NULL;
    rc = siprec_metadata_parse(&alone, doc, len, tight, NULL);
    CHECK(rc == 0 || rc == SIPREC_ENOMEM);
    if (rc == 0) {
      CHECK(siprec_metadata_participant_count(alone) <= 40);
      check_model(alone);
      siprec_metadata_unref(alone);
    }
    free(doc);
  }
  if (cur)
    check_bind(cur);
  siprec_metadata_unref(cur);
  return 0;
}
