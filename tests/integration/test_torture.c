/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The torture folder (tests/data/torture, see its INDEX.md): RFC 4475's
 * messages that apply to a UAS and hostile inputs. Every NAME.sip is fed to
 * a handler with default settings as one UDP datagram from 192.0.2.1:5060
 * to 192.0.2.10:5060 and the outcome checked against NAME.expect.json, plus
 * what holds for every message: no ERROR log, nothing on stdout/stderr, no
 * session left behind, at most a second. One loop-test iteration per file,
 * so each is reported on its own; a file pair added there is tested
 * without new code. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "corpus.h"
#include "expect.h"
#include "torture.h"

#define MAX_CASES 512

static char names[MAX_CASES][256];
static int n_cases;

static int collect(const char *dir, const char *file, const char *stem, void *user)
{
  (void)dir;
  (void)file;
  (void)user;
  if (n_cases == MAX_CASES)
    return 0;
  snprintf(names[n_cases++], sizeof names[0], "%s", stem);
  return 1;
}

START_TEST(test_torture_case)
{
  const char *dir = torture_dir(), *name = names[_i];
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/%s.expect.json", dir, name);
  expect ex;
  ck_assert_msg(expect_read(path, &ex, err, sizeof err) == 0, "%s", err);
  ck_assert_msg(ex.none || ex.status || ex.status_class, "%s: no outcome in %s", name, path);
  ck_assert_msg(ex.why[0], "%s: %s gives no \"why\"", name, path);
  snprintf(path, sizeof path, "%s/%s.sip", dir, name);
  size_t len;
  char *msg = read_file(path, &len);
  ck_assert_msg(msg != NULL, "cannot read %s", path);
  /* A copy of exactly the file's bytes, so that reading past them shows. */
  char *exact = malloc(len ? len : 1);
  ck_assert(exact != NULL);
  memcpy(exact, msg, len);
  free(msg);
  static torture_outcome o;
  int rc = torture_feed(exact, len, &o);
  free(exact);
  ck_assert_msg(rc == 0, "%s: %s", name, o.first_error);
  char why[1024];
  const char *problem = torture_check(&ex, &o, why, sizeof why);
  ck_assert_msg(problem == NULL, "%s: %s", name, problem);
}
END_TEST

START_TEST(test_torture_folder)
{
  /* RFC 4475 alone has 49 messages here; an unreadable folder shows as 0. */
  ck_assert_msg(n_cases >= 49, "%d cases in %s", n_cases, torture_dir());
}
END_TEST

int main(void)
{
  if (folder_each(torture_dir(), collect, NULL) < 0)
    n_cases = 0;
  Suite *s = suite_create("torture");
  TCase *tc = tcase_create("torture");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_torture_folder);
  tcase_add_loop_test(tc, test_torture_case, 0, n_cases);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
