/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Answering an SRC's offer (see answer.h) in three steps: decide every
 * m-line, give the accepted ones ports and keys, write the answer.
 *
 * Memory: the only allocations are Sofia-SIP's parser's (parse.c), released
 * before the call returns. Results go into the caller's stream array and
 * output buffer, and the scratch tables live on the stack (a few
 * kilobytes). No global state: many threads may answer at once. */
#include "answer.h"

#include <string.h>

#include "../common/strbuf.h"
#include "config.h"
#include "crypto.h"
#include "decide.h"
#include "parse.h"
#include "write.h"

/* Step 1: every m-line, in order. Returns how many are accepted, or
 * SIPREC_EINVAL. */
static int decide_all(const sr_sdp_config *cfg, const sr_sdp_parsed *p, sr_sdp_stream *streams,
                      const char **why)
{
  int n_acc = 0;
  size_t i = 0;
  for (const sdp_media_t *m = p->sdp->sdp_media; m; m = m->m_next, i++) {
    int rc = sr_sdp_decide(cfg, p->sdp, m, &streams[i], why);
    if (rc < 0)
      return rc;
    n_acc += streams[i].accepted != 0;
  }
  return n_acc;
}

/* The current stream this one continues, if it still holds a port. */
static const sr_sdp_stream *kept(const sr_sdp_stream *cur)
{
  return cur && cur->accepted && cur->port != 0 ? cur : NULL;
}

/* A continued stream keeps its port, and its key when the suite's key
 * length still fits; any other gets a new port from the caller. */
static int take_port(const sr_sdp_config *cfg, const sr_sdp_stream *cur, size_t i,
                     sr_sdp_stream *st, size_t key_bytes, const char **why)
{
  if (cur) {
    st->port = cur->port;
    if (key_bytes && cur->srtp && strlen(cur->local_key) == sr_b64_len(key_bytes))
      memcpy(st->local_key, cur->local_key, sizeof st->local_key);
    return 0;
  }
  uint16_t port = 0;
  if (cfg->port(cfg->port_user, i, st, &port) < 0 || port == 0) {
    *why = "no media port available";
    return SIPREC_EAGAIN;
  }
  st->port = port;
  st->new_port = 1;
  return 0;
}

/* Step 2: ports and keys of the accepted streams, in m-line order. Every
 * stream, declined or not, takes its part in matching the current ones. */
static int ports_and_keys(const sr_sdp_config *cfg, sr_sdp_stream *streams, size_t n,
                          const char **why)
{
  uint8_t used[SR_SDP_MAX_STREAMS] = { 0 };
  size_t n_cur = cfg->n_current < SR_SDP_MAX_STREAMS ? cfg->n_current : SR_SDP_MAX_STREAMS;
  for (size_t i = 0; i < n; i++) {
    sr_sdp_stream *st = &streams[i];
    const sr_sdp_stream *cur = sr_sdp_continued(cfg->current, n_cur, st, i, used);
    if (!st->accepted)
      continue;
    size_t kb = st->srtp ? sr_sdp_suite_key_bytes(st->crypto_suite) : 0;
    int rc = take_port(cfg, kept(cur), i, st, kb, why);
    if (rc < 0)
      return rc;
    if (kb && !st->local_key[0] && (rc = sr_sdp_key_make(cfg, kb, st->local_key)) < 0) {
      *why = "random source failed";
      return rc;
    }
  }
  return 0;
}

/* After a failure: only streams that hold a port stay accepted, so that a
 * caller releasing the ports of accepted streams never sees port 0. */
static void unwind(sr_sdp_stream *streams, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (streams[i].port == 0)
      streams[i].accepted = 0;
}

/* Step 3: the answer text. */
static int write_answer(const sr_sdp_config *cfg, const sr_sdp_parsed *p,
                        const sr_sdp_stream *streams, char *out, size_t out_size, const char **why)
{
  sr_strbuf b = sr_strbuf_on(out, out_size);
  sr_sdp_write_session(&b, cfg);
  size_t i = 0;
  for (const sdp_media_t *m = p->sdp->sdp_media; m; m = m->m_next, i++)
    sr_sdp_write_answer_media(&b, m, &streams[i]);
  int rc = sr_sdp_write_end(&b);
  if (rc < 0)
    *why = "answer does not fit the buffer";
  return rc;
}

static int answer_parsed(const sr_sdp_config *cfg, const sr_sdp_parsed *p, sr_sdp_stream *streams,
                         size_t max, size_t *n, char *out, size_t out_size, const char **why)
{
  if (p->n_media > max) {
    *why = "SDP: too many m= lines";
    return SIPREC_ETOOBIG;
  }
  int rc = decide_all(cfg, p, streams, why);
  if (rc < 0)
    return rc;
  *n = p->n_media;
  if (rc == 0) {
    *why = "no acceptable media";
    return SIPREC_ENOTFOUND;
  }
  rc = ports_and_keys(cfg, streams, p->n_media, why);
  if (rc < 0) {
    unwind(streams, p->n_media);
    return rc;
  }
  return write_answer(cfg, p, streams, out, out_size, why);
}

int sr_sdp_answer(const char *offer, size_t offer_len, const sr_sdp_config *cfg,
                  sr_sdp_stream *streams, size_t max, size_t *n, char *out, size_t out_size,
                  const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = NULL;
  if (n)
    *n = 0;
  if (!sr_sdp_config_ok(cfg) || !n || !out || out_size == 0 || (!streams && max)) {
    *why = "invalid argument";
    return SIPREC_EINVAL;
  }
  out[0] = '\0';
  sr_sdp_parsed p;
  int rc = sr_sdp_parse(offer, offer_len, &p, why);
  if (rc < 0)
    return rc;
  rc = answer_parsed(cfg, &p, streams, max, n, out, out_size, why);
  sr_sdp_parsed_free(&p);
  return rc;
}
