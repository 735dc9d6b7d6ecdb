/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's SIP transactions as plain state (RFC 3261 17). */
#include "transaction.h"

#include <string.h>

static uint64_t min_u64(uint64_t a, uint64_t b)
{
  return a < b ? a : b;
}

/* The next retransmission after one at `now`: twice the interval, at most T2. */
static void backoff(uint64_t *interval, uint64_t *at, const sr_tx_timers *tm, uint64_t now)
{
  *interval = *interval * 2 > tm->t2 ? tm->t2 : *interval * 2;
  *at = now + *interval;
}

/* ---------------------------------------------------------------------- */
/* INVITE server transaction                                                */

void sr_invite_tx_init(sr_invite_tx *t)
{
  memset(t, 0, sizeof *t);
  t->budget = SIZE_MAX;
}

void sr_invite_tx_release(sr_invite_tx *t, const siprec_allocator *mem)
{
  sr_sip_str_drop(mem, &t->branch);
  sr_sip_str_drop(mem, &t->echo);
  sr_sip_str_drop(mem, &t->response);
  t->response_len = 0;
}

void sr_invite_tx_arm(sr_invite_tx *t, const sr_tx_timers *tm, uint64_t now)
{
  t->active = 1;
  t->interval = tm->t1;
  t->retx_at = now + tm->t1;
  t->deadline = now + 64 * tm->t1;
}

void sr_invite_tx_defer(sr_invite_tx *t, uint64_t until)
{
  t->deadline = until;
}

int sr_invite_tx_cancel(sr_invite_tx *t, uint64_t now)
{
  if (t->cancelled)
    return 0;
  t->cancelled = 1;
  t->deadline = now;
  return 1;
}

void sr_invite_tx_charge(sr_invite_tx *t, size_t len)
{
  if (t->budget != SIZE_MAX)
    t->budget = t->budget > len ? t->budget - len : 0;
}

uint64_t sr_invite_tx_next(const sr_invite_tx *t, int reliable)
{
  return reliable ? t->deadline : min_u64(t->deadline, t->retx_at);
}

sr_tx_do sr_invite_tx_due(sr_invite_tx *t, int reliable, const sr_tx_timers *tm, uint64_t now)
{
  if (now >= t->deadline)
    return SR_TX_GIVE_UP;
  if (reliable || now < t->retx_at)
    return SR_TX_WAIT;
  if (t->budget != SIZE_MAX) {
    if (t->budget < t->response_len) {
      t->retx_at = t->deadline; /* silent until the transaction times out */
      return SR_TX_HOLD;
    }
    t->budget -= t->response_len;
  }
  backoff(&t->interval, &t->retx_at, tm, now);
  return SR_TX_SEND;
}

void sr_invite_tx_settle(sr_invite_tx *t, const siprec_allocator *mem)
{
  t->active = 0;
  sr_sip_str_drop(mem, &t->response);
  t->response_len = 0;
}

int sr_invite_tx_is_branch(const sr_invite_tx *t, const sr_sip_msg *m)
{
  return t->branch && strlen(t->branch) == m->branch.n &&
         memcmp(t->branch, m->branch.p, m->branch.n) == 0;
}

int sr_invite_tx_acks_2xx(const sr_invite_tx *t, int waits_2xx, uint32_t ack_cseq)
{
  return waits_2xx && t->active &&
         (ack_cseq == t->cseq || !t->settled_cseq || ack_cseq != t->settled_cseq);
}

int sr_invite_tx_settled_by(const sr_invite_tx *t, int waits_2xx, uint32_t invite_cseq)
{
  return waits_2xx && t->active && invite_cseq > t->cseq;
}

/* ---------------------------------------------------------------------- */
/* Non-INVITE server transaction                                            */

void sr_request_tx_release(sr_request_tx *t, const siprec_allocator *mem)
{
  sr_sip_str_drop(mem, &t->response);
  t->response_len = 0;
}

int sr_request_tx_complete(sr_request_tx *t, const siprec_allocator *mem, uint32_t cseq,
                           const char *response, size_t len, const sr_tx_timers *tm, uint64_t now)
{
  if (sr_sip_str_set(mem, &t->response, response, len) < 0)
    return SIPREC_ENOMEM;
  t->response_len = len;
  t->cseq = cseq;
  t->deadline = now + 64 * tm->t1;
  return 0;
}

int sr_request_tx_is_copy(const sr_request_tx *t, uint32_t cseq)
{
  return t->response && cseq == t->cseq;
}

uint64_t sr_request_tx_next(const sr_request_tx *t)
{
  return t->deadline;
}

sr_tx_do sr_request_tx_due(const sr_request_tx *t, uint64_t now)
{
  return now >= t->deadline ? SR_TX_GIVE_UP : SR_TX_WAIT;
}

/* ---------------------------------------------------------------------- */
/* Client transaction                                                       */

void sr_client_tx_release(sr_client_tx *t, const siprec_allocator *mem)
{
  sr_client_tx_clear(t, mem);
}

void sr_client_tx_start(sr_client_tx *t, int purpose, const sr_tx_timers *tm, uint64_t now)
{
  t->purpose = purpose;
  t->interval = tm->t1;
  t->retx_at = now + t->interval;
  t->deadline = now + 64 * t->interval; /* Timer F */
}

void sr_client_tx_clear(sr_client_tx *t, const siprec_allocator *mem)
{
  t->purpose = 0;
  t->invite = 0;
  sr_sip_str_drop(mem, &t->request);
  t->request_len = 0;
}

/* A response answers the SRS's request of `cseq`, `method` and top Via
 * branch z9hG4bK`branch` (RFC 3261 17.1.3). */
static int answers(const sr_sip_msg *m, uint32_t cseq, const char *method,
                   const char branch[SR_TAG_LEN + 1])
{
  static const char prefix[] = "z9hG4bK";
  const size_t pn = sizeof prefix - 1;
  return m->cseq == cseq && sr_span_ieq(m->cseq_method_name, method) &&
         m->branch.n == pn + SR_TAG_LEN && memcmp(m->branch.p + pn, branch, SR_TAG_LEN) == 0;
}

int sr_client_tx_matches(const sr_client_tx *t, const sr_sip_msg *m, const char *method)
{
  return t->purpose && answers(m, t->cseq, method, t->branch);
}

void sr_client_tx_provisional(sr_client_tx *t, const sr_tx_timers *tm, uint64_t now)
{
  if (t->invite) {
    t->retx_at = UINT64_MAX;
    t->deadline = now + 64 * tm->t1;
    return;
  }
  t->interval = tm->t2;
  t->retx_at = now + t->interval;
}

uint64_t sr_client_tx_next(const sr_client_tx *t, int reliable)
{
  if (!t->purpose)
    return UINT64_MAX;
  return reliable ? t->deadline : min_u64(t->deadline, t->retx_at);
}

sr_tx_do sr_client_tx_due(sr_client_tx *t, int reliable, const sr_tx_timers *tm, uint64_t now)
{
  if (!t->purpose)
    return SR_TX_WAIT;
  if (now >= t->deadline)
    return SR_TX_GIVE_UP;
  if (reliable || now < t->retx_at)
    return SR_TX_WAIT;
  if (t->invite) {
    /* Timer A doubles without a cap (RFC 3261 17.1.1.2). */
    t->interval *= 2;
    t->retx_at = now + t->interval;
    return SR_TX_SEND;
  }
  backoff(&t->interval, &t->retx_at, tm, now);
  return SR_TX_SEND;
}

/* ---------------------------------------------------------------------- */
/* The kept ACK of the SRS's INVITE                                         */

void sr_ack_tx_release(sr_ack_tx *t, const siprec_allocator *mem)
{
  sr_sip_str_drop(mem, &t->ack);
  t->ack_len = 0;
}

int sr_ack_tx_keep(sr_ack_tx *t, const siprec_allocator *mem, const char *ack, size_t len,
                   uint32_t cseq, const char branch[SR_TAG_LEN + 1], const sr_tx_timers *tm,
                   uint64_t now)
{
  if (sr_sip_str_set(mem, &t->ack, ack, len) < 0) {
    sr_ack_tx_release(t, mem);
    return SIPREC_ENOMEM;
  }
  t->ack_len = len;
  t->cseq = cseq;
  memcpy(t->branch, branch, sizeof t->branch);
  t->deadline = now + 64 * tm->t1;
  return 0;
}

int sr_ack_tx_matches(const sr_ack_tx *t, const sr_sip_msg *m)
{
  return t->ack && m->status >= 200 && answers(m, t->cseq, "INVITE", t->branch);
}

uint64_t sr_ack_tx_next(const sr_ack_tx *t)
{
  return t->ack ? t->deadline : UINT64_MAX;
}

sr_tx_do sr_ack_tx_due(const sr_ack_tx *t, uint64_t now)
{
  return t->ack && now >= t->deadline ? SR_TX_GIVE_UP : SR_TX_WAIT;
}
