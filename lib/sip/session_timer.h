/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session timers (RFC 4028) of a dialog where the SRS is the UAS: plain
 * state, what a refreshing request negotiates, and when the session
 * expires or the SRS refreshes it. Times are the host's clock in ns. */
#ifndef SR_SIP_SESSION_TIMER_H
#define SR_SIP_SESSION_TIMER_H

#include <stdint.h>

#include "../common/strbuf.h"
#include "message.h"

typedef struct sr_session_timer {
  uint32_t se_s;       /* negotiated Session-Expires (s), 0 when none */
  int srs_refresher;   /* the SRS refreshes (else the SRC does) */
  uint64_t expire_at;  /* the session ends unless refreshed before */
  uint64_t refresh_at; /* the SRS refreshes then, when it is the refresher */
} sr_session_timer;

/* Negotiate for a request the SRS answers 2xx, with the SRS's own
 * Session-Expires (`session_expires_s`, 0: none asked for) and Min-SE:
 * 0 with *se (0: no timer), *srs_refresher and the 2xx's header lines
 * added to `extra`, or 422 with its Min-SE line there. */
int sr_session_timer_negotiate(const sr_sip_msg *m, uint32_t session_expires_s,
                               uint32_t min_se_s, uint32_t *se, int *srs_refresher,
                               sr_strbuf *extra);

/* The timer runs again from `now` (nothing when there is none). */
void sr_session_timer_restart(sr_session_timer *t, uint64_t now);

/* When the session expires, and when the SRS refreshes it (UINT64_MAX: never). */
uint64_t sr_session_timer_expires(const sr_session_timer *t);
uint64_t sr_session_timer_refresh(const sr_session_timer *t);

#endif
