/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "loadgen_srtp.h"

#include <nettle/ctr.h>
#include <srtp2/srtp.h>
#include <string.h>

/* RFC 3711 4.3.1 (rate 0): the AES-CM PRF keyed by the master key at
 * x = master salt XOR (label << 48), i.e. IV = (salt, with the label in
 * byte 7) followed by a zero 16-bit block counter. */
static void derive(const struct aes128_ctx *master, const uint8_t *msalt, uint8_t label,
                   uint8_t *out, size_t n)
{
  uint8_t iv[16] = { 0 };
  memcpy(iv, msalt, 14);
  iv[7] ^= label;
  memset(out, 0, n);
  ctr_crypt(master, (nettle_cipher_func *)aes128_encrypt, AES_BLOCK_SIZE, iv, n, out, out);
}

void lg_srtp_init(lg_srtp *s, const uint8_t master[LG_SRTP_MASTER])
{
  struct aes128_ctx m;
  uint8_t ke[16], ka[20];
  aes128_set_encrypt_key(&m, master);
  derive(&m, master + 16, 0x00, ke, sizeof ke);
  derive(&m, master + 16, 0x01, ka, sizeof ka);
  derive(&m, master + 16, 0x02, s->salt, sizeof s->salt);
  aes128_set_encrypt_key(&s->cipher, ke);
  hmac_sha1_set_key(&s->auth, sizeof ka, ka);
  memset(ke, 0, sizeof ke);
  memset(ka, 0, sizeof ka);
  memset(&m, 0, sizeof m);
}

size_t lg_srtp_protect(lg_srtp *s, uint8_t *p, size_t len, uint32_t roc)
{
  /* RFC 3711 4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16),
   * index = ROC * 2^16 + SEQ. */
  uint8_t iv[16], r[4] = { (uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8),
                           (uint8_t)roc };
  memcpy(iv, s->salt, 14);
  iv[14] = iv[15] = 0;
  for (int i = 0; i < 4; i++) {
    iv[4 + i] ^= p[8 + i]; /* SSRC */
    iv[8 + i] ^= r[i];
  }
  iv[12] ^= p[2]; /* SEQ */
  iv[13] ^= p[3];
  ctr_crypt(&s->cipher, (nettle_cipher_func *)aes128_encrypt, AES_BLOCK_SIZE, iv, len - 12,
            p + 12, p + 12);
  /* RFC 3711 4.2: the tag over the packet and the ROC; digest() leaves the
   * context keyed for the next packet. */
  hmac_sha1_update(&s->auth, len, p);
  hmac_sha1_update(&s->auth, sizeof r, r);
  hmac_sha1_digest(&s->auth, LG_SRTP_TAG, p + len);
  return len + LG_SRTP_TAG;
}

int lg_srtp_check(void)
{
  uint8_t master[LG_SRTP_MASTER];
  for (int i = 0; i < LG_SRTP_MASTER; i++)
    master[i] = (uint8_t)(i * 37 + 11);
  const uint32_t ssrc = 0x5eed1234;
  srtp_policy_t pol;
  memset(&pol, 0, sizeof pol);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
  pol.ssrc.type = ssrc_specific;
  pol.ssrc.value = ssrc;
  pol.key = master;
  pol.window_size = 128;
  srtp_t ref;
  if (srtp_init() != srtp_err_status_ok || srtp_create(&ref, &pol) != srtp_err_status_ok)
    return -1;
  lg_srtp mine;
  lg_srtp_init(&mine, master);
  int rc = 0;
  /* Three packets across a wrap: ROC 0 at 65534 and 65535, ROC 1 at 0. */
  static const uint16_t seqs[3] = { 65534, 65535, 0 };
  for (int k = 0; k < 3 && rc == 0; k++) {
    uint8_t a[12 + 160 + SRTP_MAX_TRAILER_LEN], b[sizeof a];
    memset(a, 0, sizeof a);
    a[0] = 0x80;
    a[2] = (uint8_t)(seqs[k] >> 8);
    a[3] = (uint8_t)seqs[k];
    a[4] = 0x12;
    a[8] = (uint8_t)(ssrc >> 24);
    a[9] = (uint8_t)(ssrc >> 16);
    a[10] = (uint8_t)(ssrc >> 8);
    a[11] = (uint8_t)ssrc;
    for (int i = 0; i < 160; i++)
      a[12 + i] = (uint8_t)(i * 3 + k);
    memcpy(b, a, sizeof a);
    int rl = 12 + 160;
    size_t ml = lg_srtp_protect(&mine, b, 12 + 160, k == 2 ? 1 : 0);
    if (srtp_protect(ref, a, &rl) != srtp_err_status_ok || (size_t)rl != ml || memcmp(a, b, ml))
      rc = -1;
  }
  srtp_dealloc(ref);
  return rc;
}
