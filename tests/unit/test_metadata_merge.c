/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The merged model of a session: its limits (an update that would pass
 * them is refused, the model stays), the memory of a session fed partial
 * updates of new ids without end, and the cost of a merge, counted through
 * the allocator hook so that it is checked without timing: what one merge
 * of 150 new ids allocates must not follow the size of the model. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/metadata.h>

#include "check_main.h"
#include "failalloc.h"
#include "metadata_gen.h"

static siprec_metadata *parse_with(const char *xml, size_t len, const siprec_metadata_limits *l)
{
  siprec_metadata *m = NULL;
  ck_assert_int_eq(siprec_metadata_parse(&m, xml, len, l, NULL), 0);
  return m;
}

static siprec_metadata_limits *limits_for(size_t participants)
{
  siprec_metadata_limits *l;
  ck_assert_int_eq(siprec_metadata_limits_new(&l, NULL), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_bytes(l, 64u << 20), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_elements(l, 8 * participants + 1000), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_participants(l, participants), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_associations(l, participants), 0);
  return l;
}

START_TEST(test_limit_setters)
{
  siprec_metadata_limits *l;
  ck_assert_int_eq(siprec_metadata_limits_new(&l, NULL), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_participants(l, 0), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_streams(l, 0), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_sessions(l, (size_t)UINT32_MAX), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_associations(NULL, 5), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_extensions(l, 0), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_streams(l, 3), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_sessions(l, 3), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_extensions(l, 3), 0);
  siprec_metadata_limits_free(l);
  ck_assert_str_eq(siprec_metadata_status_name(SIPREC_METADATA_REFUSED), "refused");
}
END_TEST

/* At the limit, an update adding ids is refused whole: the model is the one
 * before, the status and error say why; an update within the limit (new
 * data for known ids) is applied after it. */
START_TEST(test_limit_refuses_update)
{
  siprec_metadata_limits *l = limits_for(1000);
  size_t len;
  char *doc = metadata_gen(0, 1000, 0, &len);
  siprec_metadata *m = parse_with(doc, len, l);
  free(doc);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_OK);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 1000);
  char *upd = metadata_gen(1000, 1, 1, &len);
  siprec_metadata *r;
  siprec_metadata_changes *ch;
  ck_assert_int_eq(siprec_metadata_apply(&r, &ch, m, upd, len, l, NULL), 0);
  free(upd);
  ck_assert_int_eq(siprec_metadata_get_status(r), SIPREC_METADATA_REFUSED);
  ck_assert_int_eq(siprec_metadata_error(r), SIPREC_ETOOBIG);
  ck_assert_msg(strstr(siprec_metadata_error_detail(r), "1000 participants") != NULL, "%s",
                siprec_metadata_error_detail(r));
  ck_assert_uint_eq(siprec_metadata_participant_count(r), 1000);
  ck_assert_uint_eq(siprec_metadata_participant_session_count(r), 1000);
  ck_assert_uint_eq(siprec_metadata_changes_count(ch), 0);
  ck_assert_int_eq(siprec_metadata_participant_find(r, "p1000", NULL), SIPREC_ENOTFOUND);
  ck_assert_ptr_nonnull(siprec_metadata_raw(r, NULL)); /* the refused bytes, for the record */
  siprec_metadata_changes_free(ch);
  /* Known ids only: applied over the refused snapshot's content. */
  upd = metadata_gen(10, 5, 1, &len);
  siprec_metadata *r2;
  ck_assert_int_eq(siprec_metadata_apply(&r2, &ch, r, upd, len, l, NULL), 0);
  free(upd);
  ck_assert_int_eq(siprec_metadata_get_status(r2), SIPREC_METADATA_OK);
  ck_assert_uint_eq(siprec_metadata_participant_count(r2), 1000);
  siprec_metadata_changes_free(ch);
  /* A complete document over the limit is refused too (no model before). */
  doc = metadata_gen(0, 1001, 0, &len);
  siprec_metadata *big = parse_with(doc, len, l);
  free(doc);
  ck_assert_int_eq(siprec_metadata_get_status(big), SIPREC_METADATA_REFUSED);
  ck_assert_uint_eq(siprec_metadata_participant_count(big), 0);
  siprec_metadata_unref(big);
  siprec_metadata_unref(r2);
  siprec_metadata_unref(r);
  siprec_metadata_unref(m);
  siprec_metadata_limits_free(l);
}
END_TEST

/* 100 updates of 150 new participants with the default limits: the model
 * stops at 10,000 and the session's heap with it. */
START_TEST(test_default_limit_bounds_memory)
{
  failalloc fa;
  siprec_allocator hook;
  failalloc_init(&fa, &hook);
  size_t len;
  char *doc = metadata_gen(0, 1, 0, &len);
  siprec_metadata *m = NULL;
  ck_assert_int_eq(siprec_metadata_parse(&m, doc, len, NULL, &hook), 0);
  free(doc);
  size_t refused = 0;
  for (size_t i = 0; i < 100; i++) {
    char *upd = metadata_gen(1 + i * 150, 150, 1, &len);
    siprec_metadata *r;
    ck_assert_int_eq(siprec_metadata_apply(&r, NULL, m, upd, len, NULL, &hook), 0);
    free(upd);
    refused += siprec_metadata_get_status(r) == SIPREC_METADATA_REFUSED;
    siprec_metadata_unref(m);
    m = r;
  }
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 1 + 66 * 150);
  ck_assert_uint_eq(refused, 100 - 66);
  /* About 3.9 MB at 9,901 participants (bench_metadata --grow: the records'
   * arenas and strings, the raw document); 15,001 unbounded participants
   * would take half as much again. */
  ck_assert_msg(fa.bytes < 7u * 1000 * 1000, "heap %zu bytes", fa.bytes);
  siprec_metadata_unref(m);
  ck_assert_int_eq(fa.outstanding, 0);
  failalloc_destroy(&fa);
}
END_TEST

/* What one merge of 150 new participants allocates, and keeps, over a
 * model of `n` participants: a model copied whole would allocate in
 * proportion to `n`. */
static void merge_cost(size_t n, long *calls, size_t *kept)
{
  siprec_metadata_limits *l = limits_for(200000);
  size_t len;
  char *doc = metadata_gen(0, n, 0, &len);
  siprec_metadata *m = parse_with(doc, len, l);
  free(doc);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), n);
  char *upd = metadata_gen(n, 150, 1, &len);
  failalloc fa;
  siprec_allocator hook;
  failalloc_init(&fa, &hook);
  siprec_metadata *r;
  siprec_metadata_changes *ch;
  ck_assert_int_eq(siprec_metadata_apply(&r, &ch, m, upd, len, l, &hook), 0);
  ck_assert_int_eq(siprec_metadata_get_status(r), SIPREC_METADATA_OK);
  ck_assert_uint_eq(siprec_metadata_participant_count(r), n + 150);
  ck_assert_uint_eq(siprec_metadata_changes_count(ch), 300);
  *calls = fa.calls;
  *kept = fa.bytes; /* what the new snapshot and its change set hold of their own */
  siprec_metadata_changes_free(ch);
  siprec_metadata_unref(r);
  ck_assert_int_eq(fa.outstanding, 0);
  failalloc_destroy(&fa);
  free(upd);
  siprec_metadata_unref(m);
  siprec_metadata_limits_free(l);
}

START_TEST(test_merge_cost_follows_update)
{
  long calls_small, calls_big;
  size_t kept_small, kept_big;
  merge_cost(1000, &calls_small, &kept_small);
  merge_cost(100000, &calls_big, &kept_big);
  /* The trees are one or two levels deeper at 100,000 (log32): at most
   * twice the allocations and bytes; a copy would be about 100 times. */
  if (getenv("SIPREC_TEST_VERBOSE"))
    fprintf(stderr, "merge of 150: %ld allocations, %zu bytes kept at 1,000; %ld, %zu at 100,000\n",
            calls_small, kept_small, calls_big, kept_big);
  ck_assert_msg(calls_big <= 2 * calls_small, "allocations: %ld at 100,000 vs %ld at 1,000",
                calls_big, calls_small);
  ck_assert_msg(kept_big <= 2 * kept_small, "bytes: %zu at 100,000 vs %zu at 1,000", kept_big,
                kept_small);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("metadata_merge");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_limit_setters);
  tcase_add_test(tc, test_limit_refuses_update);
  tcase_add_test(tc, test_default_limit_bounds_memory);
  tcase_add_test(tc, test_merge_cost_follows_update);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
