/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The end of every Check test program: run the suite (CK_FORK and CK_RUN_*
 * from the environment) and turn the result into the exit status. */
#ifndef SIPREC_TESTS_CHECK_MAIN_H
#define SIPREC_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int run_suite(Suite *s)
{
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
