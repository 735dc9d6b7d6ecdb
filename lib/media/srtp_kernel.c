/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Nettle's AES-CM and HMAC-SHA1 as libsrtp2 cipher and auth types (see
 * srtp_kernel.h for the semantics kept). */
#include "srtp_kernel.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <nettle/hmac.h>
#include <nettle/sha1.h>

/* ---------------------------------------------------------------------- */
/* AES-ICM                                                                  */

#define ICM_SALT 14 /* octets of salt after the AES key (SRTP_SALT_LEN) */
#define BLOCK 16

typedef struct icm_state {
  union {
    struct aes128_ctx a128;
    struct aes192_ctx a192;
    struct aes256_ctx a256;
  } aes;
  nettle_cipher_func *encrypt; /* the key size's */
  size_t key_size;             /* AES key octets: 16, 24 or 32 */
  bool keyed;                  /* init was called */
  uint8_t offset[BLOCK];       /* salt || 00 00 */
  uint8_t ctr[BLOCK];          /* the next counter block */
  uint8_t ks[BLOCK];           /* the keystream block in use */
  unsigned ks_used;            /* octets of ks consumed; BLOCK: none left */
} icm_state;

/* srtp_cipher_t and its state in one allocation, freed by icm_dealloc. */
typedef struct icm_cipher {
  srtp_cipher_t c;
  icm_state s;
} icm_cipher;

/* Exact nettle_cipher_func signatures (no cast of Nettle's prototypes). */
static void enc128(const void *ctx, size_t n, uint8_t *dst, const uint8_t *src)
{
  aes128_encrypt(ctx, n, dst, src);
}

static void enc192(const void *ctx, size_t n, uint8_t *dst, const uint8_t *src)
{
  aes192_encrypt(ctx, n, dst, src);
}

static void enc256(const void *ctx, size_t n, uint8_t *dst, const uint8_t *src)
{
  aes256_encrypt(ctx, n, dst, src);
}

/* key_len counts the salt too (libsrtp2's *_KEY_LEN_WSALT). One type per
 * key size: the kernel looks types up by id, and srtp.c's key derivation
 * asks SRTP_AES_ICM_256 for 46-octet keys. */
static srtp_err_status_t icm_alloc(const srtp_cipher_type_t *type, size_t key_size,
                                   srtp_cipher_t **cp, int key_len)
{
  if (!cp || key_len != (int)(key_size + ICM_SALT))
    return srtp_err_status_bad_param;
  icm_cipher *ic = calloc(1, sizeof *ic);
  if (!ic) {
    *cp = NULL;
    return srtp_err_status_alloc_fail;
  }
  ic->c.type = type;
  ic->c.state = &ic->s;
  ic->c.key_len = key_len;
  ic->c.algorithm = (int)type->id;
  ic->s.key_size = key_size;
  ic->s.encrypt = key_size == 16 ? enc128 : key_size == 24 ? enc192 : enc256;
  ic->s.ks_used = BLOCK;
  *cp = &ic->c;
  return srtp_err_status_ok;
}

static srtp_err_status_t icm_alloc_128(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
  (void)tag_len; /* no tag in counter mode */
  return icm_alloc(&sr_nettle_aes_icm_128, 16, cp, key_len);
}

static srtp_err_status_t icm_alloc_192(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
  (void)tag_len;
  return icm_alloc(&sr_nettle_aes_icm_192, 24, cp, key_len);
}

static srtp_err_status_t icm_alloc_256(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
  (void)tag_len;
  return icm_alloc(&sr_nettle_aes_icm_256, 32, cp, key_len);
}

static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t c)
{
  if (!c)
    return srtp_err_status_ok;
  icm_cipher *ic = (icm_cipher *)c; /* c is ic->c, its first member */
  explicit_bzero(ic, sizeof *ic);   /* round keys and keystream */
  free(ic);
  return srtp_err_status_ok;
}

/* The AES key, then the salt as the counter's offset with its last two
 * octets zero (libsrtp2: "for srtp compatibility"). The counter starts at
 * the offset, as after a zero IV. */
static srtp_err_status_t icm_init(void *sv, const uint8_t *key)
{
  icm_state *s = sv;
  if (!key)
    return srtp_err_status_bad_param;
  switch (s->key_size) {
  case 16:
    aes128_set_encrypt_key(&s->aes.a128, key);
    break;
  case 24:
    aes192_set_encrypt_key(&s->aes.a192, key);
    break;
  default:
    aes256_set_encrypt_key(&s->aes.a256, key);
    break;
  }
  memset(s->offset, 0, sizeof s->offset);
  memcpy(s->offset, key + s->key_size, ICM_SALT);
  memcpy(s->ctr, s->offset, BLOCK);
  s->ks_used = BLOCK;
  s->keyed = true;
  return srtp_err_status_ok;
}

/* counter = offset XOR iv (all 16 octets of iv: SRTP puts the SSRC and
 * the index there, the key derivation its label), keystream from its
 * first octet. */
static srtp_err_status_t icm_set_iv(void *sv, uint8_t *iv, srtp_cipher_direction_t dir)
{
  (void)dir; /* counter mode: the same both ways */
  icm_state *s = sv;
  if (!iv)
    return srtp_err_status_bad_param;
  for (int i = 0; i < BLOCK; i++)
    s->ctr[i] = s->offset[i] ^ iv[i];
  s->ks_used = BLOCK;
  return srtp_err_status_ok;
}

/* XOR the keystream into buf in place, continuing where the last call
 * stopped: first what is left of a partial block, then whole blocks
 * (Nettle's ctr_crypt advances the counter), then a last partial block
 * whose unused keystream is kept for the next call. */
static srtp_err_status_t icm_encrypt(void *sv, uint8_t *buf, unsigned int *len)
{
  icm_state *s = sv;
  if (!len || (*len && !buf) || !s->keyed)
    return srtp_err_status_bad_param;
  size_t n = *len;
  while (n && s->ks_used < BLOCK) {
    *buf++ ^= s->ks[s->ks_used++];
    n--;
  }
  size_t whole = n - n % BLOCK;
  if (whole) {
    ctr_crypt(&s->aes, s->encrypt, BLOCK, s->ctr, whole, buf, buf);
    buf += whole;
    n -= whole;
  }
  if (n) {
    memset(s->ks, 0, BLOCK);
    ctr_crypt(&s->aes, s->encrypt, BLOCK, s->ctr, BLOCK, s->ks, s->ks);
    for (size_t i = 0; i < n; i++)
      buf[i] ^= s->ks[i];
    s->ks_used = (unsigned)n;
  }
  return srtp_err_status_ok; /* *len unchanged: no padding, no tag */
}

/* ---------------------------------------------------------------------- */
/* HMAC-SHA1                                                                */

typedef struct hmac_state {
  struct hmac_sha1_ctx keyed; /* as left by set_key: what start returns to */
  struct hmac_sha1_ctx run;   /* the message in progress */
  bool fed;                   /* run took octets since it was last reset */
} hmac_state;

typedef struct hmac_auth {
  srtp_auth_t a;
  hmac_state s;
} hmac_auth;

/* A tag of at most the digest's 20 octets; any key length (Nettle hashes
 * a long key as RFC 2104 says). */
static srtp_err_status_t mac_alloc(srtp_auth_pointer_t *ap, int key_len, int out_len)
{
  if (!ap || key_len < 0 || out_len < 0 || out_len > SHA1_DIGEST_SIZE)
    return srtp_err_status_bad_param;
  hmac_auth *ha = calloc(1, sizeof *ha);
  if (!ha) {
    *ap = NULL;
    return srtp_err_status_alloc_fail;
  }
  ha->a.type = &sr_nettle_hmac_sha1;
  ha->a.state = &ha->s;
  ha->a.out_len = out_len;
  ha->a.key_len = key_len;
  ha->a.prefix_len = 0; /* no keystream prefix: not a universal hash */
  /* Keyed with the empty key until init, so no call reads garbage. */
  hmac_sha1_set_key(&ha->s.keyed, 0, (const uint8_t *)"");
  ha->s.run = ha->s.keyed;
  *ap = &ha->a;
  return srtp_err_status_ok;
}

static srtp_err_status_t mac_dealloc(srtp_auth_pointer_t a)
{
  if (!a)
    return srtp_err_status_ok;
  hmac_auth *ha = (hmac_auth *)a;
  explicit_bzero(ha, sizeof *ha);
  free(ha);
  return srtp_err_status_ok;
}

/* Keyed and started: libsrtp2's self-test computes right after init. */
static srtp_err_status_t mac_init(void *sv, const uint8_t *key, int key_len)
{
  hmac_state *s = sv;
  if (key_len < 0 || (key_len && !key))
    return srtp_err_status_bad_param;
  hmac_sha1_set_key(&s->keyed, (size_t)key_len, key_len ? key : (const uint8_t *)"");
  s->run = s->keyed;
  s->fed = false;
  return srtp_err_status_ok;
}

/* Nettle's digest already leaves `run` as after set_key: the copy (three
 * SHA-1 states) is needed only for a message abandoned half-way. */
static srtp_err_status_t mac_start(void *sv)
{
  hmac_state *s = sv;
  if (s->fed) {
    s->run = s->keyed;
    s->fed = false;
  }
  return srtp_err_status_ok;
}

static srtp_err_status_t mac_update(void *sv, const uint8_t *msg, int n)
{
  hmac_state *s = sv;
  if (n < 0 || (n && !msg))
    return srtp_err_status_bad_param;
  if (n) {
    hmac_sha1_update(&s->run, (size_t)n, msg);
    s->fed = true;
  }
  return srtp_err_status_ok;
}

/* The last octets, then the first tag_len octets of the digest. Nettle's
 * digest leaves `run` keyed and started again. */
static srtp_err_status_t mac_compute(void *sv, const uint8_t *msg, int n, int tag_len,
                                      uint8_t *tag)
{
  hmac_state *s = sv;
  if (tag_len < 0 || tag_len > SHA1_DIGEST_SIZE || (tag_len && !tag))
    return srtp_err_status_bad_param;
  srtp_err_status_t st = mac_update(sv, msg, n);
  if (st != srtp_err_status_ok)
    return st;
  uint8_t digest[SHA1_DIGEST_SIZE];
  hmac_sha1_digest(&s->run, sizeof digest, digest);
  s->fed = false;
  memcpy(tag, digest, (size_t)tag_len);
  explicit_bzero(digest, sizeof digest);
  return srtp_err_status_ok;
}

/* ---------------------------------------------------------------------- */
/* Self-test data (libsrtp2 refuses a type without)                        */

static const uint8_t zeros[32];

/* RFC 3711 B.2: session key 2B7E1516..., salt F0F1...FD, index 0. */
static const uint8_t b2_key[30] = {
  0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f,
  0x3c, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd
};
static uint8_t iv_zero[16];
static const uint8_t b2_keystream[32] = {
  0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
  0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab
};

/* RFC 3711 B.3: the key derivation's AES-CM runs, keyed with the master
 * key and salt, the label in the IV's octet 7: the 14-octet session salt
 * (label 2) and the 20-octet auth key (label 1) end in partial blocks. */
static const uint8_t b3_master[30] = {
  0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41,
  0x39, 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6
};
static uint8_t iv_label1[16] = { [7] = 0x01 };
static uint8_t iv_label2[16] = { [7] = 0x02 };
static const uint8_t b3_auth_key[20] = { 0xce, 0xbe, 0x32, 0x1f, 0x6f, 0xf7, 0x71,
                                         0x6b, 0x6f, 0xd4, 0xab, 0x49, 0xaf, 0x25,
                                         0x6a, 0x15, 0x6d, 0x38, 0xba, 0xa4 };
static const uint8_t b3_salt[14] = { 0x30, 0xcb, 0xbc, 0x08, 0x86, 0x3d, 0x8c,
                                     0x85, 0xd4, 0x9d, 0xb3, 0x4a, 0x9a, 0xe1 };

static const srtp_cipher_test_case_t b3_salt_case = {
  .key_length_octets = 30,
  .key = b3_master,
  .idx = iv_label2,
  .plaintext_length_octets = 14,
  .plaintext = zeros,
  .ciphertext_length_octets = 14,
  .ciphertext = b3_salt,
};
static const srtp_cipher_test_case_t b3_auth_case = {
  .key_length_octets = 30,
  .key = b3_master,
  .idx = iv_label1,
  .plaintext_length_octets = 20,
  .plaintext = zeros,
  .ciphertext_length_octets = 20,
  .ciphertext = b3_auth_key,
  .next_test_case = &b3_salt_case,
};
static const srtp_cipher_test_case_t icm_128_case = {
  .key_length_octets = 30,
  .key = b2_key,
  .idx = iv_zero,
  .plaintext_length_octets = 32,
  .plaintext = zeros,
  .ciphertext_length_octets = 32,
  .ciphertext = b2_keystream,
  .next_test_case = &b3_auth_case,
};

/* RFC 6188 section 7.1: AES-192 and AES-256 keystreams, salt F0F1...FD. */
static const uint8_t r6188_key_192[38] = {
  0xea, 0xb2, 0x34, 0x76, 0x4e, 0x51, 0x7b, 0x2d, 0x3d, 0x16, 0x0d, 0x58, 0x7d,
  0x8c, 0x86, 0x21, 0x97, 0x40, 0xf6, 0x5f, 0x99, 0xb6, 0xbc, 0xf7, 0xf0, 0xf1,
  0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd
};
static const uint8_t r6188_ks_192[32] = {
  0x35, 0x09, 0x6c, 0xba, 0x46, 0x10, 0x02, 0x8d, 0xc1, 0xb5, 0x75, 0x03, 0x80, 0x4c, 0xe3, 0x7c,
  0x5d, 0xe9, 0x86, 0x29, 0x1d, 0xcc, 0xe1, 0x61, 0xd5, 0x16, 0x5e, 0xc4, 0x56, 0x8f, 0x5c, 0x9a
};
static const uint8_t r6188_key_256[46] = {
  0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70, 0xa8, 0x5e, 0xc9, 0x3c, 0x40, 0xb1, 0xf0, 0x92,
  0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82, 0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98,
  0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd
};
static const uint8_t r6188_ks_256[32] = {
  0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25, 0x11, 0xc6, 0x77, 0xd0, 0x8b, 0x55, 0x15, 0xa4,
  0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8, 0x54, 0xf6, 0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac
};
static const srtp_cipher_test_case_t icm_192_case = {
  .key_length_octets = 38,
  .key = r6188_key_192,
  .idx = iv_zero,
  .plaintext_length_octets = 32,
  .plaintext = zeros,
  .ciphertext_length_octets = 32,
  .ciphertext = r6188_ks_192,
};
static const srtp_cipher_test_case_t icm_256_case = {
  .key_length_octets = 46,
  .key = r6188_key_256,
  .idx = iv_zero,
  .plaintext_length_octets = 32,
  .plaintext = zeros,
  .ciphertext_length_octets = 32,
  .ciphertext = r6188_ks_256,
};

/* RFC 2202 section 3, test cases 1 to 5 (4: a 25-octet key; 5 truncated
 * to 96 bits, as RFC 2202 gives it). */
static const uint8_t h1_key[20] = { 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b };
static const uint8_t h1_tag[20] = { 0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
                                    0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00 };
static const uint8_t h2_tag[20] = { 0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
                                    0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79 };
static const uint8_t h3_key[20] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
static const uint8_t h3_data[50] = {
  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd
};
static const uint8_t h3_tag[20] = { 0x12, 0x5d, 0x73, 0x42, 0xb9, 0xac, 0x11, 0xcd, 0x91, 0xa3,
                                    0x9a, 0xf4, 0x8a, 0xa1, 0x7b, 0x4f, 0x63, 0xf1, 0x75, 0xd3 };
static const uint8_t h4_key[25] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
                                    0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19 };
static const uint8_t h4_data[50] = {
  0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
  0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
  0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
  0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd
};
static const uint8_t h4_tag[20] = { 0x4c, 0x90, 0x07, 0xf4, 0x02, 0x62, 0x50, 0xc6, 0xbc, 0x84,
                                    0x14, 0xf9, 0xbf, 0x50, 0xc8, 0x6c, 0x2d, 0x72, 0x35, 0xda };
static const uint8_t h5_key[20] = { 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c,
                                    0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c };
static const uint8_t h5_tag[12] = { 0x4c, 0x1a, 0x03, 0x42, 0x4b, 0x55,
                                    0xe0, 0x7f, 0xe7, 0xf2, 0x7b, 0xe1 };

static const srtp_auth_test_case_t hmac_case5 = {
  20, h5_key, 20, (const uint8_t *)"Test With Truncation", 12, h5_tag, NULL
};
static const srtp_auth_test_case_t hmac_case4 = { 25, h4_key, 50, h4_data, 20, h4_tag, &hmac_case5 };
static const srtp_auth_test_case_t hmac_case3 = { 20, h3_key, 50, h3_data, 20, h3_tag, &hmac_case4 };
static const srtp_auth_test_case_t hmac_case2 = {
  4, (const uint8_t *)"Jefe", 28, (const uint8_t *)"what do ya want for nothing?", 20, h2_tag,
  &hmac_case3
};
static const srtp_auth_test_case_t hmac_case1 = {
  20, h1_key, 8, (const uint8_t *)"Hi There", 20, h1_tag, &hmac_case2
};

/* ---------------------------------------------------------------------- */
/* The types and their installation                                        */

const srtp_cipher_type_t sr_nettle_aes_icm_128 = {
  .alloc = icm_alloc_128,
  .dealloc = icm_dealloc,
  .init = icm_init,
  .encrypt = icm_encrypt,
  .decrypt = icm_encrypt,
  .set_iv = icm_set_iv,
  .description = "AES-128 counter mode using Nettle",
  .test_data = &icm_128_case,
  .id = SRTP_AES_ICM_128,
};

const srtp_cipher_type_t sr_nettle_aes_icm_192 = {
  .alloc = icm_alloc_192,
  .dealloc = icm_dealloc,
  .init = icm_init,
  .encrypt = icm_encrypt,
  .decrypt = icm_encrypt,
  .set_iv = icm_set_iv,
  .description = "AES-192 counter mode using Nettle",
  .test_data = &icm_192_case,
  .id = SRTP_AES_ICM_192,
};

const srtp_cipher_type_t sr_nettle_aes_icm_256 = {
  .alloc = icm_alloc_256,
  .dealloc = icm_dealloc,
  .init = icm_init,
  .encrypt = icm_encrypt,
  .decrypt = icm_encrypt,
  .set_iv = icm_set_iv,
  .description = "AES-256 counter mode using Nettle",
  .test_data = &icm_256_case,
  .id = SRTP_AES_ICM_256,
};

const srtp_auth_type_t sr_nettle_hmac_sha1 = {
  .alloc = mac_alloc,
  .dealloc = mac_dealloc,
  .init = mac_init,
  .compute = mac_compute,
  .update = mac_update,
  .start = mac_start,
  .description = "HMAC-SHA1 using Nettle",
  .test_data = &hmac_case1,
  .id = SRTP_HMAC_SHA1,
};

static atomic_uint installed;

unsigned sr_srtp_kernel_install(void)
{
  static const struct {
    const srtp_cipher_type_t *type;
    unsigned bit;
  } ciphers[] = {
    { &sr_nettle_aes_icm_128, SR_SRTP_KERNEL_AES_ICM_128 },
    { &sr_nettle_aes_icm_192, SR_SRTP_KERNEL_AES_ICM_192 },
    { &sr_nettle_aes_icm_256, SR_SRTP_KERNEL_AES_ICM_256 },
  };
  unsigned done = 0;
  /* Each replace runs the type's self-test and the replaced type's test
   * data first; a refusal leaves libsrtp2's own type in place. */
  for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++)
    if (srtp_replace_cipher_type(ciphers[i].type, ciphers[i].type->id) == srtp_err_status_ok)
      done |= ciphers[i].bit;
  if (srtp_replace_auth_type(&sr_nettle_hmac_sha1, SRTP_HMAC_SHA1) == srtp_err_status_ok)
    done |= SR_SRTP_KERNEL_HMAC_SHA1;
  atomic_store(&installed, done);
  return done;
}

unsigned sr_srtp_kernel_installed(void)
{
  return atomic_load(&installed);
}
