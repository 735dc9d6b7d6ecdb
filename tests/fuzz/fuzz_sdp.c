/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the SRS's SDP offer/answer (lib/sdp/answer.c).
 * Input: the offer text, as it would come out of an INVITE body. It is
 * answered three times: normally, as a re-offer continuing the first
 * answer's streams, and into a small buffer; and it is read as the SRC's
 * answer to a two-stream delayed offer. Checks: return codes are documented
 * ones; a success gives a NUL-terminated answer inside the buffer, CRLF
 * lines only, one answer m= line per offered m= line, and the answer parses
 * back; every string of every stream is NUL-terminated in its array;
 * accepted streams have a port and a codec, declined ones neither; an
 * accepted SRTP stream's key-info is one the media layer keys libsrtp2
 * with (sr_srtp_parse_key), so the SDP never takes a key media refuses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/common.h>

#include "media/srtp.h"
#include "sdp/answer.h"

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

#define MAXS 24
#define OUT_SIZE 16384

static int port_cb(void *user, size_t index, const sr_sdp_stream *st, uint16_t *port)
{
  unsigned *next = user;
  (void)st;
  CHECK(index < MAXS);
  *port = (uint16_t)(20000 + 2 * (*next)++);
  return 0;
}

static int rand_cb(void *user, void *buf, size_t len)
{
  (void)user;
  CHECK(len <= 64);
  memset(buf, 0x5a, len);
  return 0;
}

static int terminated(const char *s, size_t size)
{
  return memchr(s, '\0', size) != NULL;
}

static void check_stream(const sr_sdp_stream *s)
{
  CHECK(terminated(s->media, sizeof s->media));
  CHECK(terminated(s->label, sizeof s->label));
  CHECK(terminated(s->codec, sizeof s->codec));
  CHECK(terminated(s->remote_addr, sizeof s->remote_addr));
  CHECK(terminated(s->crypto_suite, sizeof s->crypto_suite));
  CHECK(terminated(s->remote_key, sizeof s->remote_key));
  CHECK(terminated(s->local_key, sizeof s->local_key));
  CHECK(s->has_label == (s->label[0] != '\0'));
  if (s->accepted) {
    CHECK(s->port != 0 && s->codec[0] && s->pt >= 0 && s->pt < 128);
    CHECK(s->answer_dir == SR_SDP_RECVONLY || s->answer_dir == SR_SDP_INACTIVE);
    if (s->srtp) {
      CHECK(s->local_key[0] && s->remote_key[0] && s->crypto_suite[0]);
      sr_srtp_key k;
      CHECK(sr_srtp_parse_key(s->crypto_suite, s->remote_key, &k) == 0);
    }
  } else {
    CHECK(s->port == 0 && s->codec[0] == '\0' && s->pt == -1 && !s->new_port);
  }
}

static size_t count_mlines(const char *s)
{
  size_t n = strncmp(s, "m=", 2) == 0;
  for (const char *p = s; (p = strstr(p, "\nm=")) != NULL; p++)
    n++;
  return n;
}

static void check_text(const char *out, size_t size, int rc)
{
  CHECK((size_t)rc < size);
  CHECK(out[rc] == '\0' && strlen(out) == (size_t)rc);
  CHECK(rc >= 2 && out[rc - 2] == '\r' && out[rc - 1] == '\n');
  for (int i = 0; i < rc; i++) {
    if (out[i] == '\r')
      CHECK(out[i + 1] == '\n');
    if (out[i] == '\n')
      CHECK(i > 0 && out[i - 1] == '\r');
  }
}

static void check_answer(int rc, const char *out, size_t size, const sr_sdp_stream *st, size_t n,
                         const char *why)
{
  CHECK(rc > 0 || rc == SIPREC_EINVAL || rc == SIPREC_ENOTFOUND || rc == SIPREC_ETOOBIG ||
        rc == SIPREC_ENOMEM);
  if (rc <= 0) {
    CHECK(why != NULL);
    CHECK(out[0] == '\0');
    return;
  }
  check_text(out, size, rc);
  CHECK(n >= 1 && n <= MAXS);
  CHECK(count_mlines(out) == n);
  size_t acc = 0;
  for (size_t i = 0; i < n; i++) {
    check_stream(&st[i]);
    acc += st[i].accepted != 0;
  }
  CHECK(acc > 0);
  /* Well-formed: the answer parses back, with as many m= lines. */
  sr_sdp_stream back[MAXS];
  memcpy(back, st, n * sizeof *st);
  const char *w = NULL;
  CHECK(sr_sdp_read_answer(out, (size_t)rc, back, n, &w) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 200000)
    return 0;
  /* A copy of exactly `size` bytes: reads past the end are caught. */
  char *offer = malloc(size ? size : 1);
  char *out = malloc(OUT_SIZE);
  sr_sdp_stream *st = malloc(MAXS * sizeof *st);
  sr_sdp_stream *st2 = malloc(MAXS * sizeof *st2);
  CHECK(offer && out && st && st2);
  memcpy(offer, data, size);

  unsigned next = 0;
  sr_sdp_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.media_addr = "192.0.2.10";
  cfg.port = port_cb;
  cfg.port_user = &next;
  cfg.random = rand_cb;
  cfg.session_id = 1;
  cfg.version = 1;

  size_t n = 0;
  const char *why = NULL;
  int rc = sr_sdp_answer(offer, size, &cfg, st, MAXS, &n, out, OUT_SIZE, &why);
  check_answer(rc, out, OUT_SIZE, st, n, why);

  if (rc > 0) {
    /* The same offer as a re-offer: every accepted stream continues. */
    cfg.current = st;
    cfg.n_current = n;
    cfg.version = 2;
    static const char *const prefs[] = {"opus", "G722", "PCMA", "PCMU", NULL};
    cfg.codecs = prefs;
    size_t n2 = 0;
    int rc2 = sr_sdp_answer(offer, size, &cfg, st2, MAXS, &n2, out, OUT_SIZE, &why);
    check_answer(rc2, out, OUT_SIZE, st2, n2, why);
    CHECK(rc2 > 0 || rc2 == SIPREC_ETOOBIG);
    if (rc2 > 0) {
      CHECK(n2 == n);
      for (size_t i = 0; i < n; i++) {
        CHECK(st2[i].accepted == st[i].accepted);
        if (!st2[i].accepted || st2[i].new_port)
          continue;
        /* A kept port is one of the current streams', used once. */
        size_t j;
        for (j = 0; j < n && !(st[j].accepted && st[j].port == st2[i].port); j++)
          ;
        CHECK(j < n);
        for (size_t k = 0; k < i; k++)
          CHECK(!(st2[k].accepted && !st2[k].new_port && st2[k].port == st2[i].port));
      }
    }
    cfg.current = NULL;
    cfg.n_current = 0;
    cfg.codecs = NULL;

    /* Into a buffer that is too small for most answers. */
    char small[200];
    size_t n3 = 0;
    int rc3 = sr_sdp_answer(offer, size, &cfg, st2, MAXS, &n3, small, sizeof small, &why);
    CHECK(rc3 == SIPREC_ETOOBIG || rc3 > 0);
    if (rc3 > 0)
      check_text(small, sizeof small, rc3);
    else
      CHECK(small[0] == '\0');
  }

  /* The input as the SRC's answer to a delayed offer of two streams. */
  cfg.version = 3;
  sr_sdp_stream ds[2];
  rc = sr_sdp_offer(&cfg, 2, ds, out, OUT_SIZE);
  CHECK(rc > 0);
  check_text(out, OUT_SIZE, rc);
  rc = sr_sdp_read_answer(offer, size, ds, 2, &why);
  CHECK(rc == SIPREC_EINVAL || rc == SIPREC_ENOMEM || (rc >= 0 && rc <= 2));
  for (int i = 0; i < 2; i++) {
    CHECK(terminated(ds[i].codec, sizeof ds[i].codec));
    CHECK(terminated(ds[i].remote_addr, sizeof ds[i].remote_addr));
    CHECK(ds[i].port != 0);
  }

  free(offer);
  free(out);
  free(st);
  free(st2);
  return 0;
}
