/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Include after <check.h>. */
#ifndef SIPREC_TESTS_FAST_CHECK_H
#define SIPREC_TESTS_FAST_CHECK_H

#include <stdint.h>

/* Check records every passing assertion with a write to a file, which costs
 * microseconds each and dominated the exhaustive loops of these tests: these
 * versions act only on failure (ck_abort_msg), with the same messages. */
#undef ck_assert
#undef ck_assert_msg
#undef ck_assert_int_eq
#undef ck_assert_int_ne
#undef ck_assert_int_lt
#undef ck_assert_int_le
#undef ck_assert_int_gt
#undef ck_assert_int_ge
#undef ck_assert_uint_eq
#undef ck_assert_uint_ne
#undef ck_assert_uint_lt
#undef ck_assert_uint_le
#undef ck_assert_uint_gt
#undef ck_assert_uint_ge
#undef ck_assert_ptr_eq
#undef ck_assert_ptr_ne
#undef ck_assert_ptr_null
#undef ck_assert_ptr_nonnull
#define ck_assert(X)                                                                      \
  do {                                                                                    \
    if (!(X))                                                                             \
      ck_abort_msg("Assertion '%s' failed", #X);                                          \
  } while (0)
#define ck_assert_msg(X, ...)                                                             \
  do {                                                                                    \
    if (!(X))                                                                             \
      ck_abort_msg(__VA_ARGS__);                                                          \
  } while (0)
#define FAST_CMP_INT(X, OP, Y)                                                            \
  do {                                                                                    \
    intmax_t fx_ = (intmax_t)(X), fy_ = (intmax_t)(Y);                                    \
    if (!(fx_ OP fy_))                                                                    \
      ck_abort_msg("Assertion '%s' failed: %s == %jd, %s == %jd", #X " " #OP " " #Y, #X,  \
                   fx_, #Y, fy_);                                                         \
  } while (0)
#define FAST_CMP_UINT(X, OP, Y)                                                           \
  do {                                                                                    \
    uintmax_t fx_ = (uintmax_t)(X), fy_ = (uintmax_t)(Y);                                 \
    if (!(fx_ OP fy_))                                                                    \
      ck_abort_msg("Assertion '%s' failed: %s == %ju, %s == %ju", #X " " #OP " " #Y, #X,  \
                   fx_, #Y, fy_);                                                         \
  } while (0)
#define FAST_CMP_PTR(X, OP, Y)                                                            \
  do {                                                                                    \
    const void *fx_ = (const void *)(X), *fy_ = (const void *)(Y);                        \
    if (!(fx_ OP fy_))                                                                    \
      ck_abort_msg("Assertion '%s' failed: %s == %p, %s == %p", #X " " #OP " " #Y, #X,    \
                   (void *)(uintptr_t)fx_, #Y, (void *)(uintptr_t)fy_);                   \
  } while (0)
#define ck_assert_int_eq(X, Y) FAST_CMP_INT(X, ==, Y)
#define ck_assert_int_ne(X, Y) FAST_CMP_INT(X, !=, Y)
#define ck_assert_int_lt(X, Y) FAST_CMP_INT(X, <, Y)
#define ck_assert_int_le(X, Y) FAST_CMP_INT(X, <=, Y)
#define ck_assert_int_gt(X, Y) FAST_CMP_INT(X, >, Y)
#define ck_assert_int_ge(X, Y) FAST_CMP_INT(X, >=, Y)
#define ck_assert_uint_eq(X, Y) FAST_CMP_UINT(X, ==, Y)
#define ck_assert_uint_ne(X, Y) FAST_CMP_UINT(X, !=, Y)
#define ck_assert_uint_lt(X, Y) FAST_CMP_UINT(X, <, Y)
#define ck_assert_uint_le(X, Y) FAST_CMP_UINT(X, <=, Y)
#define ck_assert_uint_gt(X, Y) FAST_CMP_UINT(X, >, Y)
#define ck_assert_uint_ge(X, Y) FAST_CMP_UINT(X, >=, Y)
#define ck_assert_ptr_eq(X, Y) FAST_CMP_PTR(X, ==, Y)
#define ck_assert_ptr_ne(X, Y) FAST_CMP_PTR(X, !=, Y)
#define ck_assert_ptr_null(X) FAST_CMP_PTR(X, ==, NULL)
#define ck_assert_ptr_nonnull(X) FAST_CMP_PTR(X, !=, NULL)

#endif
