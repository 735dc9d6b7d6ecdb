/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error strings, run-time version, the allocator hook and SipHash. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <siprec/common.h>
#include <siprec/version.h>

#include "common/alloc.h"
#include "common/random.h"
#include "common/sdes_key.h"
#include "common/siphash.h"
#include "common/static_pt.h"
#include "check_main.h"

/* ---------------------------------------------------------------------- */
/* Error strings                                                            */

/* ---------------------------------------------------------------------- */
/* RFC 3551's static payload types                                          */

START_TEST(test_static_pt)
{
  static const struct {
    unsigned pt;
    const char *name;
    uint32_t rate;
    uint8_t channels;
  } want[] = {
    { 0, "PCMU", 8000, 1 }, { 2, "G726-32", 8000, 1 }, { 3, "GSM", 8000, 1 },
    { 4, "G723", 8000, 1 }, { 8, "PCMA", 8000, 1 },    { 9, "G722", 8000, 1 },
    { 10, "L16", 44100, 2 }, { 11, "L16", 44100, 1 },  { 13, "CN", 8000, 1 },
    { 18, "G729", 8000, 1 },
  };
  size_t found = 0;
  for (unsigned pt = 0; pt < 256; pt++) {
    const sr_static_pt *e = sr_static_pt_get(pt);
    if (!e)
      continue;
    ck_assert_uint_lt(found, sizeof want / sizeof want[0]);
    ck_assert_uint_eq(pt, want[found].pt);
    ck_assert_uint_eq(e->pt, pt);
    ck_assert_str_eq(e->name, want[found].name);
    ck_assert_uint_eq(e->rate, want[found].rate);
    ck_assert_uint_eq(e->channels, want[found].channels);
    found++;
  }
  ck_assert_uint_eq(found, sizeof want / sizeof want[0]);
  /* By name: the lowest number, any case; nothing for a dynamic codec. */
  ck_assert_uint_eq(sr_static_pt_by_name(sr_span_cstr("pcma"))->pt, 8);
  ck_assert_uint_eq(sr_static_pt_by_name(sr_span_cstr("L16"))->pt, 10);
  ck_assert_ptr_null(sr_static_pt_by_name(sr_span_cstr("opus")));
  ck_assert_ptr_null(sr_static_pt_by_name(sr_span_of("PCMUX", 5)));
  ck_assert_ptr_null(sr_static_pt_by_name(sr_span_of("PCM", 3)));
  ck_assert_ptr_null(sr_static_pt_by_name(sr_span_cstr(NULL)));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* SDES key-info (RFC 4568)                                                 */

static int key_info(const char *text, sr_sdes_key_info *ki)
{
  return sr_sdes_key_info_parse(sr_span_cstr(text), ki);
}

START_TEST(test_sdes_key_info)
{
  sr_sdes_key_info ki;
  char out[128];
  ck_assert_int_eq(key_info("QUJD", &ki), 0);
  ck_assert_uint_eq(ki.key.n, 4);
  ck_assert_uint_eq(ki.lifetime, 0);
  ck_assert_uint_eq(ki.mki_len, 0);
  ck_assert_int_eq(key_info("QUJD|2^31", &ki), 0);
  ck_assert_uint_eq(ki.key.n, 4);
  ck_assert_uint_eq(ki.lifetime, 1ull << 31);
  ck_assert_int_eq(key_info("QUJD|1000|258:2", &ki), 0);
  ck_assert_uint_eq(ki.lifetime, 1000);
  ck_assert_uint_eq(ki.mki, 258);
  ck_assert_uint_eq(ki.mki_len, 2);
  ck_assert_int_eq(key_info("QUJD|0:128", &ki), 0);
  ck_assert_uint_eq(ki.mki_len, 128);
  ck_assert_int_eq(key_info("QUJD|18446744073709551615:8", &ki), 0);
  ck_assert_uint_eq(ki.mki, UINT64_MAX);
  ck_assert_int_eq(key_info("QUJD|2^63|1:1", &ki), 0);
  ck_assert_uint_eq(ki.lifetime, 1ull << 63);
  /* The key's characters are the caller's to check. */
  ck_assert_int_eq(key_info("a;b c", &ki), 0);
  ck_assert_uint_eq(ki.key.n, 5);

  static const char *const bad[] = {
    "", "|2^31", "QUJD|", "QUJD|2^", "QUJD|2^0", "QUJD|2^64", "QUJD|0", "QUJD|-1",
    "QUJD|abc", "QUJD|2^31|", "QUJD|2^31|1:", "QUJD|1:0", "QUJD|1:129", "QUJD|256:1",
    "QUJD|1:4|2^31", "QUJD|2^31|1:4|x", "QUJD|18446744073709551616",
    "QUJD|18446744073709551616:8", "QUJD|:4", "QUJD|1:4x", "QUJD|2^31 ",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(&ki, 0x55, sizeof ki);
    ck_assert_msg(key_info(bad[i], &ki) == -1, "%s", bad[i]);
    ck_assert_uint_eq(ki.key.n, 0); /* zeroed */
    ck_assert_uint_eq(ki.mki_len, 0);
  }
  ck_assert_int_eq(sr_sdes_key_info_parse(sr_span_of(NULL, 0), &ki), -1);
  /* Only the span is read: what follows it is not part of it. */
  ck_assert_int_eq(sr_sdes_key_info_parse(sr_span_of("QUJD|2^31|1:4;x", 13), &ki), 0);
  ck_assert_uint_eq(ki.mki_len, 4);

  /* Written back: one form, which parses to the same values. */
  static const struct {
    const char *in, *out;
  } forms[] = {
    { "QUJD", "QUJD" },
    { "QUJD|1048576", "QUJD|2^20" },
    { "QUJD|2^1", "QUJD|2^1" },
    { "QUJD|1", "QUJD|1" },
    { "QUJD|3", "QUJD|3" },
    { "QUJD|00012:0003", "QUJD|12:3" },
    { "QUJD|2^63|18446744073709551615:128", "QUJD|2^63|18446744073709551615:128" },
  };
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    ck_assert_int_eq(key_info(forms[i].in, &ki), 0);
    ck_assert_int_eq(sr_sdes_key_info_write(&ki, out, sizeof out), (int)strlen(forms[i].out));
    ck_assert_str_eq(out, forms[i].out);
    sr_sdes_key_info again;
    ck_assert_int_eq(key_info(out, &again), 0);
    ck_assert_uint_eq(again.lifetime, ki.lifetime);
    ck_assert_uint_eq(again.mki, ki.mki);
    ck_assert_uint_eq(again.mki_len, ki.mki_len);
  }
  /* Too small: -1 and "". */
  ck_assert_int_eq(key_info("QUJD|2^20|1:4", &ki), 0);
  ck_assert_int_eq(sr_sdes_key_info_write(&ki, out, 14), 13);
  ck_assert_int_eq(sr_sdes_key_info_write(&ki, out, 13), -1);
  ck_assert_str_eq(out, "");
  ck_assert_int_eq(sr_sdes_key_info_write(&ki, out, 3), -1);
  ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_strerror_known_codes)
{
  static const int codes[] = { SIPREC_OK,      SIPREC_EINVAL, SIPREC_ENOMEM, SIPREC_ERANDOM,
                               SIPREC_EBUSY,
                               SIPREC_ETOOBIG, SIPREC_ENOTFOUND, SIPREC_EEXIST, SIPREC_EAGAIN,
                               SIPREC_EPARSE };
  const size_t n = sizeof codes / sizeof codes[0];
  const char *unknown = siprec_strerror(-12345);
  ck_assert_ptr_nonnull(unknown);
  ck_assert_str_eq(unknown, "unknown error");
  ck_assert_str_eq(siprec_strerror(-3), "unknown error"); /* retired: was ENOTPOW2 */
  for (size_t i = 0; i < n; i++) {
    const char *s = siprec_strerror(codes[i]);
    ck_assert_msg(s != NULL, "code %d gives NULL", codes[i]);
    ck_assert_msg(strlen(s) > 0, "code %d gives an empty string", codes[i]);
    ck_assert_msg(strcmp(s, unknown) != 0, "code %d is described as unknown", codes[i]);
    /* Each code has its own description. */
    for (size_t j = 0; j < i; j++)
      ck_assert_msg(strcmp(s, siprec_strerror(codes[j])) != 0, "codes %d and %d share \"%s\"",
                    codes[i], codes[j], s);
  }
  ck_assert_str_eq(siprec_strerror(SIPREC_ENOMEM), "out of memory");
}
END_TEST

START_TEST(test_strerror_unknown_codes)
{
  static const int codes[] = { 1, 42, SIPREC_EPARSE - 1, -100, -2147483647 - 1, 2147483647 };
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *s = siprec_strerror(codes[i]);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "unknown error");
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Version                                                                  */

START_TEST(test_version)
{
  ck_assert_ptr_nonnull(siprec_version());
  ck_assert_str_eq(siprec_version(), SIPREC_VERSION_STRING);
  ck_assert_uint_eq(siprec_version_number(), (unsigned)SIPREC_VERSION_NUMBER);
  /* The number and the string describe the same version. */
  char buf[64];
  snprintf(buf, sizeof buf, "%u.%u.%u", (siprec_version_number() >> 16) & 0xff,
           (siprec_version_number() >> 8) & 0xff, siprec_version_number() & 0xff);
  ck_assert_str_eq(buf, siprec_version());
  ck_assert(SIPREC_VERSION_AT_LEAST(SIPREC_VERSION_MAJOR, SIPREC_VERSION_MINOR,
                                    SIPREC_VERSION_PATCH));
  ck_assert(!SIPREC_VERSION_AT_LEAST(SIPREC_VERSION_MAJOR + 1, 0, 0));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Allocator hook                                                           */

typedef struct counting {
  int mallocs, reallocs, frees;
} counting;

static void *c_malloc(size_t n, void *user)
{
  ((counting *)user)->mallocs++;
  return malloc(n);
}

static void *c_realloc(void *p, size_t n, void *user)
{
  ((counting *)user)->reallocs++;
  return realloc(p, n);
}

static void c_free(void *p, void *user)
{
  ((counting *)user)->frees++;
  free(p);
}

START_TEST(test_alloc_init)
{
  siprec_allocator a;
  ck_assert_int_eq(sr_alloc_init(&a, NULL), 0);
  ck_assert(a.malloc != NULL);
  ck_assert(a.realloc != NULL);
  ck_assert(a.free != NULL);
  void *p = sr_malloc(&a, 10);
  ck_assert_ptr_nonnull(p);
  p = sr_realloc(&a, p, 100);
  ck_assert_ptr_nonnull(p);
  sr_free(&a, p);
  sr_free(&a, NULL); /* accepted */

  counting c = { 0, 0, 0 };
  siprec_allocator hook = { c_malloc, c_realloc, c_free, &c };
  ck_assert_int_eq(sr_alloc_init(&a, &hook), 0);
  ck_assert_ptr_eq(a.user, &c);
  p = sr_malloc(&a, 0); /* never called with size 0: still a valid block */
  ck_assert_ptr_nonnull(p);
  p = sr_realloc(&a, p, 32);
  ck_assert_ptr_nonnull(p);
  void *q = sr_realloc(&a, NULL, 8); /* NULL pointer: a malloc */
  ck_assert_ptr_nonnull(q);
  sr_free(&a, p);
  sr_free(&a, q);
  sr_free(&a, NULL); /* never passed to the hook */
  ck_assert_int_eq(c.mallocs, 2);
  ck_assert_int_eq(c.reallocs, 1);
  ck_assert_int_eq(c.frees, 2);

  /* A struct lacking any of the three functions is rejected. */
  siprec_allocator bad;
  siprec_allocator out;
  bad = hook;
  bad.malloc = NULL;
  ck_assert_int_eq(sr_alloc_init(&out, &bad), SIPREC_EINVAL);
  bad = hook;
  bad.realloc = NULL;
  ck_assert_int_eq(sr_alloc_init(&out, &bad), SIPREC_EINVAL);
  bad = hook;
  bad.free = NULL;
  ck_assert_int_eq(sr_alloc_init(&out, &bad), SIPREC_EINVAL);
  memset(&bad, 0, sizeof bad);
  ck_assert_int_eq(sr_alloc_init(&out, &bad), SIPREC_EINVAL);
  ck_assert_int_eq(c.mallocs, 2); /* nothing was called */
}
END_TEST

START_TEST(test_calloc)
{
  counting c = { 0, 0, 0 };
  siprec_allocator hook = { c_malloc, c_realloc, c_free, &c };
  siprec_allocator a;
  ck_assert_int_eq(sr_alloc_init(&a, &hook), 0);

  unsigned char *p = sr_calloc(&a, 7, 13);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < 7 * 13; i++)
    ck_assert_uint_eq(p[i], 0);
  sr_free(&a, p);

  /* n * size overflows: NULL, without calling the hook. */
  int before = c.mallocs;
  ck_assert_ptr_null(sr_calloc(&a, SIZE_MAX / 2 + 1, 2));
  ck_assert_ptr_null(sr_calloc(&a, 2, SIZE_MAX / 2 + 1));
  ck_assert_ptr_null(sr_calloc(&a, SIZE_MAX, SIZE_MAX));
  ck_assert_int_eq(c.mallocs, before);

  /* Zero sizes still give a freeable block. */
  p = sr_calloc(&a, 0, 16);
  ck_assert_ptr_nonnull(p);
  sr_free(&a, p);
  ck_assert_int_eq(c.mallocs, c.frees);
}
END_TEST

START_TEST(test_calloc_aligned)
{
  counting c = { 0, 0, 0 };
  siprec_allocator hook = { c_malloc, c_realloc, c_free, &c };
  siprec_allocator a;
  ck_assert_int_eq(sr_alloc_init(&a, &hook), 0);
  static const size_t aligns[] = { 1, 2, 8, 16, 64, 128, 4096 };
  static const size_t sizes[] = { 0, 1, 63, 64, 65, 1000 };
  void *blocks[sizeof aligns / sizeof aligns[0]][sizeof sizes / sizeof sizes[0]];
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
    for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
      unsigned char *p = sr_calloc_aligned(&a, sizes[j], aligns[i]);
      ck_assert_ptr_nonnull(p);
      ck_assert_msg(((uintptr_t)p & (aligns[i] - 1)) == 0, "%p not aligned to %zu", (void *)p,
                    aligns[i]);
      for (size_t k = 0; k < sizes[j]; k++)
        ck_assert_uint_eq(p[k], 0);
      memset(p, 0xa5, sizes[j]); /* the whole block is usable */
      blocks[i][j] = p;
    }
  }
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++)
    for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++)
      sr_free_aligned(&a, blocks[i][j]);
  sr_free_aligned(&a, NULL);
  ck_assert_int_eq(c.mallocs, c.frees);

  /* Size overflow: NULL, hook not called. */
  int before = c.mallocs;
  ck_assert_ptr_null(sr_calloc_aligned(&a, SIZE_MAX - 10, 64));
  ck_assert_int_eq(c.mallocs, before);
}
END_TEST

static void *null_malloc(size_t n, void *user)
{
  (void)n;
  (void)user;
  return NULL;
}

START_TEST(test_calloc_failing_hook)
{
  counting c = { 0, 0, 0 };
  siprec_allocator hook = { null_malloc, c_realloc, c_free, &c };
  siprec_allocator a;
  ck_assert_int_eq(sr_alloc_init(&a, &hook), 0);
  ck_assert_ptr_null(sr_calloc(&a, 4, 4));
  ck_assert_ptr_null(sr_calloc_aligned(&a, 100, 64));
  ck_assert_ptr_null(sr_malloc(&a, 5));
  ck_assert_int_eq(c.frees, 0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* SipHash                                                                  */

/* SipHash-2-4 of in = 00 01 02 ... (i-1) with k = 00 01 ... 0f, i = 0..63:
 * the vectors of the reference implementation (vectors.h of the SipHash
 * paper's code), as 64-bit numbers. */
static const uint64_t sip24_vectors[64] = {
  0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
  0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL, 0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
  0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
  0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
  0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL, 0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
  0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
  0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL,
  0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL, 0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL,
  0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
  0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
  0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL, 0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL,
  0xf935451de4f21df2ULL, 0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
  0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL, 0xa192d576b245165aULL,
  0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL, 0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL,
  0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
  0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};

static sr_siphash_key ref_key(void)
{
  uint8_t k[16];
  for (int i = 0; i < 16; i++)
    k[i] = (uint8_t)i;
  return sr_siphash_key_from_bytes(k);
}

START_TEST(test_siphash24_named_vectors)
{
  sr_siphash_key k = ref_key();
  uint8_t msg[15];
  for (int i = 0; i < 15; i++)
    msg[i] = (uint8_t)i;
  ck_assert_uint_eq(sr_siphash24(k, msg, 0), 0x726fdb47dd0e0e31ULL);
  ck_assert_uint_eq(sr_siphash24(k, msg, 15), 0xa129ca6149be45e5ULL);
}
END_TEST

START_TEST(test_siphash24_all_vectors)
{
  sr_siphash_key k = ref_key();
  /* Misaligned copies too: the implementation must not rely on alignment. */
  uint8_t buf[64 + 8];
  for (size_t shift = 0; shift < 8; shift++) {
    for (int i = 0; i < 64; i++)
      buf[shift + (size_t)i] = (uint8_t)i;
    for (size_t len = 0; len < 64; len++)
      ck_assert_msg(sr_siphash24(k, buf + shift, len) == sip24_vectors[len],
                    "len %zu shift %zu: %016llx != %016llx", len, shift,
                    (unsigned long long)sr_siphash24(k, buf + shift, len),
                    (unsigned long long)sip24_vectors[len]);
  }
}
END_TEST

START_TEST(test_siphash13)
{
  /* SipHash-1-3 with the all-zero key, as published by other SipHash-1-3
   * implementations (and checked against an independent implementation). */
  const uint8_t zero[16] = { 0 };
  sr_siphash_key z = sr_siphash_key_from_bytes(zero);
  ck_assert_uint_eq(sr_siphash13(z, "", 0), 0xd1fba762150c532cULL);
  ck_assert_uint_eq(sr_siphash13(z, "siphash", 7), 0x8264ceeccb16bcbeULL);

  /* Deterministic, differs from 2-4, and depends on key, length and bytes. */
  sr_siphash_key k = ref_key();
  uint8_t msg[64];
  for (int i = 0; i < 64; i++)
    msg[i] = (uint8_t)i;
  for (size_t len = 0; len < 64; len++) {
    uint64_t h = sr_siphash13(k, msg, len);
    ck_assert_uint_eq(h, sr_siphash13(k, msg, len));
    ck_assert_msg(h != sr_siphash24(k, msg, len), "1-3 equals 2-4 at len %zu", len);
    ck_assert_msg(h != sr_siphash13(z, msg, len), "key ignored at len %zu", len);
    if (len)
      ck_assert_msg(h != sr_siphash13(k, msg, len - 1), "length ignored at %zu", len);
  }
  uint8_t a[40], b[40];
  memset(a, 'x', sizeof a);
  memcpy(b, a, sizeof b);
  for (size_t i = 0; i < sizeof a; i++) {
    b[i] ^= 0x80;
    ck_assert_msg(sr_siphash13(k, a, sizeof a) != sr_siphash13(k, b, sizeof b),
                  "byte %zu ignored", i);
    b[i] ^= 0x80;
  }
  /* Zero bytes are not the same as no bytes. */
  ck_assert(sr_siphash13(k, "\0", 1) != sr_siphash13(k, "", 0));
  ck_assert(sr_siphash13(k, "\0\0", 2) != sr_siphash13(k, "\0", 1));
}
END_TEST

START_TEST(test_key_from_bytes)
{
  uint8_t b[16];
  for (int i = 0; i < 16; i++)
    b[i] = (uint8_t)i;
  sr_siphash_key k = sr_siphash_key_from_bytes(b);
  ck_assert_uint_eq(k.k0, 0x0706050403020100ULL);
  ck_assert_uint_eq(k.k1, 0x0f0e0d0c0b0a0908ULL);

  uint8_t c[16] = { 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
                    0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe };
  k = sr_siphash_key_from_bytes(c);
  ck_assert_uint_eq(k.k0, 0x0123456789abcdefULL);
  ck_assert_uint_eq(k.k1, 0xfedcba9876543210ULL);

  /* Unaligned source. */
  uint8_t d[17];
  memcpy(d + 1, c, 16);
  k = sr_siphash_key_from_bytes(d + 1);
  ck_assert_uint_eq(k.k0, 0x0123456789abcdefULL);
  ck_assert_uint_eq(k.k1, 0xfedcba9876543210ULL);
}
END_TEST

/* The pooled random source: no two draws alike, large draws too, and a
 * forked child never repeats its parent's bytes. */
START_TEST(test_random_pool)
{
  unsigned char a[16], b[16], big[1000];
  ck_assert_int_eq(sr_random_bytes(a, sizeof a), 0);
  ck_assert_int_eq(sr_random_bytes(b, sizeof b), 0);
  ck_assert(memcmp(a, b, sizeof a) != 0);
  for (int i = 0; i < 100; i++) { /* through several refills */
    memcpy(a, b, sizeof a);
    ck_assert_int_eq(sr_random_bytes(b, sizeof b), 0);
    ck_assert(memcmp(a, b, sizeof a) != 0);
  }
  memset(big, 0, sizeof big);
  ck_assert_int_eq(sr_random_bytes(big, sizeof big), 0);
  size_t zeros = 0;
  for (size_t i = 0; i < sizeof big; i++)
    zeros += big[i] == 0;
  ck_assert_uint_lt(zeros, 30);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    unsigned char c[16];
    int ok = sr_random_bytes(c, sizeof c) == 0 && write(fds[1], c, sizeof c) == sizeof c;
    _exit(ok ? 0 : 1);
  }
  unsigned char parent[16], child[16];
  ck_assert_int_eq(sr_random_bytes(parent, sizeof parent), 0);
  ck_assert_int_eq(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
  int st;
  waitpid(pid, &st, 0);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  ck_assert(memcmp(parent, child, sizeof parent) != 0);
  close(fds[0]);
  close(fds[1]);
}
END_TEST

static Suite *common_suite(void)
{
  Suite *s = suite_create("common");
  TCase *tc = tcase_create("errors_version");
  tcase_add_test(tc, test_strerror_known_codes);
  tcase_add_test(tc, test_strerror_unknown_codes);
  tcase_add_test(tc, test_version);
  suite_add_tcase(s, tc);

  tc = tcase_create("alloc");
  tcase_add_test(tc, test_alloc_init);
  tcase_add_test(tc, test_calloc);
  tcase_add_test(tc, test_calloc_aligned);
  tcase_add_test(tc, test_calloc_failing_hook);
  suite_add_tcase(s, tc);

  tc = tcase_create("sdes_key");
  tcase_add_test(tc, test_sdes_key_info);
  suite_add_tcase(s, tc);

  tc = tcase_create("static_pt");
  tcase_add_test(tc, test_static_pt);
  suite_add_tcase(s, tc);

  tc = tcase_create("siphash");
  tcase_add_test(tc, test_siphash24_named_vectors);
  tcase_add_test(tc, test_siphash24_all_vectors);
  tcase_add_test(tc, test_siphash13);
  tcase_add_test(tc, test_key_from_bytes);
  tcase_add_test(tc, test_random_pool);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(common_suite());
}
