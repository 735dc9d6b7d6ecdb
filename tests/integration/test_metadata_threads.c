/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Snapshots across threads, as a host uses them: one thread applies updates
 * (complete and partial, in turn) and publishes each new snapshot; reader
 * threads take a reference to the published one and read all of it with no
 * lock held while the next is built; other threads parse on their own at the
 * same time (expat's per-thread memory routing, the shared hash key). Run
 * under ThreadSanitizer in the concurrency suite. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/metadata.h>

#include "expect.h"
#include "check_main.h"

static char *doc_complete, *doc_partial;
static size_t len_complete, len_partial;

static pthread_mutex_t pub_mu = PTHREAD_MUTEX_INITIALIZER;
static siprec_metadata *published;
static int done;

static char *data_file(const char *name, size_t *len)
{
  const char *dir = getenv("SIPREC_TEST_DATA");
  char path[4096];
  snprintf(path, sizeof path, "%s/metadata/%s", dir ? dir : "tests/data", name);
  char *buf = read_file(path, len);
  ck_assert_msg(buf != NULL, "cannot read %s", path);
  return buf;
}

static siprec_metadata *take(void)
{
  pthread_mutex_lock(&pub_mu);
  siprec_metadata *m = siprec_metadata_ref(published);
  pthread_mutex_unlock(&pub_mu);
  return m;
}

enum { UPDATES = 400, READERS = 2, PARSERS = 2, PARSES = 300 };

static void *updater(void *arg)
{
  (void)arg;
  for (int i = 0; i < UPDATES; i++) {
    siprec_metadata *cur = take(), *next = NULL;
    siprec_metadata_changes *ch = NULL;
    const char *d = i % 2 ? doc_partial : doc_complete;
    size_t l = i % 2 ? len_partial : len_complete;
    if (siprec_metadata_apply(&next, &ch, cur, d, l, NULL, NULL) != 0)
      abort();
    siprec_metadata_changes_free(ch);
    siprec_metadata_unref(cur);
    pthread_mutex_lock(&pub_mu);
    siprec_metadata *old = published;
    published = next;
    pthread_mutex_unlock(&pub_mu);
    siprec_metadata_unref(old);
  }
  pthread_mutex_lock(&pub_mu);
  done = 1;
  pthread_mutex_unlock(&pub_mu);
  return NULL;
}

static int is_done(void)
{
  pthread_mutex_lock(&pub_mu);
  int d = done;
  pthread_mutex_unlock(&pub_mu);
  return d;
}

/* Everything in a snapshot, read; returns a checksum so nothing is skipped. */
static size_t read_all(const siprec_metadata *m)
{
  size_t sum = 0;
  for (size_t i = 0; i < siprec_metadata_participant_count(m); i++) {
    const char *id, *aor;
    siprec_metadata_participant(m, i, &id, &aor, NULL, NULL);
    sum += strlen(id) + (aor ? strlen(aor) : 0);
    sum += siprec_metadata_participant_sends(m, i, 0, NULL);
  }
  for (size_t i = 0; i < siprec_metadata_stream_count(m); i++) {
    size_t p;
    for (size_t k = 0; k < siprec_metadata_stream_sender(m, i, 0, NULL); k++) {
      siprec_metadata_stream_sender(m, i, k, &p);
      sum += p;
    }
  }
  for (size_t i = 0; i < siprec_metadata_participant_session_count(m); i++) {
    const char *dt;
    siprec_metadata_participant_session(m, i, NULL, NULL, NULL, &dt);
    sum += dt != NULL;
  }
  for (size_t i = 0; i < siprec_metadata_extension_count(m); i++) {
    const char *text;
    siprec_metadata_extension(m, i, NULL, NULL, &text);
    sum += strlen(text);
  }
  return sum;
}

static void *reader(void *arg)
{
  size_t *reads = arg;
  /* Reads on after the updates end, so each reader surely overlaps some. */
  while (!is_done() || *reads < 200) {
    siprec_metadata *m = take();
    if (m) {
      /* Two passes over the same snapshot see the same thing, whatever the
       * updater does meanwhile. */
      size_t a = read_all(m), b = read_all(m);
      if (a != b)
        abort();
      (*reads)++;
    }
    siprec_metadata_unref(m);
  }
  return NULL;
}

static void *parser(void *arg)
{
  (void)arg;
  for (int i = 0; i < PARSES; i++) {
    siprec_metadata *m;
    if (siprec_metadata_parse(&m, doc_complete, len_complete, NULL, NULL) != 0 ||
        siprec_metadata_participant_count(m) != 2)
      abort();
    siprec_metadata_unref(m);
  }
  return NULL;
}

START_TEST(test_threads)
{
  doc_complete = data_file("rfc7865-complete.xml", &len_complete);
  doc_partial = data_file("partial-add-stream.xml", &len_partial);
  pthread_t up, rd[READERS], ps[PARSERS];
  size_t reads[READERS] = { 0 };
  for (int i = 0; i < PARSERS; i++)
    ck_assert_int_eq(pthread_create(&ps[i], NULL, parser, NULL), 0);
  for (int i = 0; i < READERS; i++)
    ck_assert_int_eq(pthread_create(&rd[i], NULL, reader, &reads[i]), 0);
  ck_assert_int_eq(pthread_create(&up, NULL, updater, NULL), 0);
  pthread_join(up, NULL);
  for (int i = 0; i < READERS; i++)
    pthread_join(rd[i], NULL);
  for (int i = 0; i < PARSERS; i++)
    pthread_join(ps[i], NULL);
  ck_assert_uint_eq(siprec_metadata_participant_count(published), 3);
  for (int i = 0; i < READERS; i++)
    ck_assert_uint_ge(reads[i], 200);
  siprec_metadata_unref(published);
  published = NULL;
  free(doc_complete);
  free(doc_partial);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("metadata_threads");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_threads);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
