/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session timers (RFC 4028) as the UAS: what a refreshing request asks for,
 * what the 2xx says, and 422 for an interval below the SRS's Min-SE. */
#include "session_timer.h"

#define NS_PER_S UINT64_C(1000000000)

static int has_tag(const sr_span *tags, unsigned n, const char *tag)
{
  for (unsigned i = 0; i < n; i++)
    if (sr_span_ieq(tags[i], tag))
      return 1;
  return 0;
}

int sr_session_timer_negotiate(const sr_sip_msg *m, uint32_t session_expires_s,
                               uint32_t min_se_s, uint32_t *se, int *srs_refresher,
                               sr_strbuf *extra)
{
  int uac_supports = has_tag(m->supported, m->n_supported, "timer") ||
                     has_tag(m->require, m->n_require, "timer");
  uint32_t want = m->session_expires;
  *se = 0;
  *srs_refresher = 0;
  if (want) {
    if (want < min_se_s) {
      sr_strbuf_printf(extra, "Min-SE: %u\r\n", min_se_s);
      return 422;
    }
  } else if (uac_supports && session_expires_s) {
    /* RFC 4028 9: the UAS may ask for a timer the UAC supports but did not
     * request; never below the UAC's own Min-SE. */
    want = session_expires_s;
    if (m->min_se > want)
      want = m->min_se;
  } else {
    return 0;
  }
  /* The request's refresher stands; without one, the UAC refreshes when it
   * can, since the SRS has nothing to renegotiate. */
  int uas = m->refresher == SR_REFRESHER_UAS || (m->refresher == SR_REFRESHER_NONE && !uac_supports);
  *se = want;
  *srs_refresher = uas;
  sr_strbuf_printf(extra, "Session-Expires: %u;refresher=%s\r\n", want, uas ? "uas" : "uac");
  if (uac_supports)
    sr_strbuf_str(extra, "Require: timer\r\n");
  return 0;
}

void sr_session_timer_restart(sr_session_timer *t, uint64_t now)
{
  if (!t->se_s)
    return;
  uint64_t se = (uint64_t)t->se_s * NS_PER_S;
  /* RFC 4028 10: the side that is not the refresher sends BYE at
   * SE - min(32 s, SE/3); the refresher refreshes at SE/2. */
  uint64_t margin = se / 3 < 32 * NS_PER_S ? se / 3 : 32 * NS_PER_S;
  t->expire_at = now + (t->srs_refresher ? se : se - margin);
  t->refresh_at = now + se / 2;
}

uint64_t sr_session_timer_expires(const sr_session_timer *t)
{
  return t->se_s ? t->expire_at : UINT64_MAX;
}

uint64_t sr_session_timer_refresh(const sr_session_timer *t)
{
  return t->se_s && t->srs_refresher ? t->refresh_at : UINT64_MAX;
}
