/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory: sdp_parse() works in a su_home_t, which allocates with the C
 * library's malloc() and cannot be given the host's siprec_allocator; each
 * parse creates one home, and sr_sdp_parsed_free() releases everything. */
#include "parse.h"

#include <limits.h>
#include <string.h>
#include <sys/types.h>

#include <siprec/common.h>

#include "mline.h"
#include "text.h"

void sr_sdp_parsed_free(sr_sdp_parsed *p)
{
  if (p->parser)
    sdp_parser_free(p->parser);
  if (p->home)
    su_home_unref(p->home);
  p->parser = NULL;
  p->home = NULL;
}

/* What must hold before Sofia-SIP sees the text; trims what it would trip
 * on (trailing NULs, leading blank lines). */
static int precheck(const char **text, size_t *len, const char **why)
{
  const char *t = *text;
  size_t n = *len;
  while (n > 0 && t[n - 1] == '\0') /* a NUL some stacks append */
    n--;
  if (memchr(t, '\0', n)) {
    *why = "SDP: NUL byte";
    return SIPREC_EINVAL;
  }
  while (n > 0 && (*t == '\r' || *t == '\n' || sr_sdp_is_ws(*t)))
    t++, n--;
  if (n == 0) {
    *why = "SDP: empty";
    return SIPREC_EINVAL;
  }
  if (n > (size_t)(SSIZE_MAX / 2)) {
    *why = "SDP: too long";
    return SIPREC_ETOOBIG;
  }
  if (!sr_sdp_mlines_safe(t, n)) {
    *why = "SDP: malformed m= line";
    return SIPREC_EINVAL;
  }
  *text = t;
  *len = n;
  return 0;
}

/* Direction attributes are kept as attributes (sdp_f_mode_manual) so that
 * "none" can be told from sendrecv. */
static int run_parser(const char *text, size_t len, sr_sdp_parsed *p, const char **why)
{
  p->home = su_home_new(sizeof(su_home_t));
  if (!p->home) {
    *why = "out of memory";
    return SIPREC_ENOMEM;
  }
  /* sdp_parse copies the text (up to len) and NUL-terminates its copy. */
  p->parser = sdp_parse(p->home, text, (issize_t)len, sdp_f_c_missing | sdp_f_mode_manual);
  p->sdp = p->parser ? sdp_session(p->parser) : NULL;
  if (p->sdp)
    return 0;
  const char *e = p->parser ? sdp_parsing_error(p->parser) : NULL;
  int nomem = !p->parser || (e && strstr(e, "memory") != NULL);
  sr_sdp_parsed_free(p);
  *why = nomem ? "out of memory" : "SDP: parse error";
  return nomem ? SIPREC_ENOMEM : SIPREC_EINVAL;
}

int sr_sdp_parse(const char *text, size_t len, sr_sdp_parsed *p, const char **why)
{
  memset(p, 0, sizeof *p);
  if (!text) {
    *why = "SDP: missing";
    return SIPREC_EINVAL;
  }
  int rc = precheck(&text, &len, why);
  if (rc == 0)
    rc = run_parser(text, len, p, why);
  if (rc < 0)
    return rc;
  for (const sdp_media_t *m = p->sdp->sdp_media; m; m = m->m_next)
    p->n_media++;
  if (p->n_media == 0) {
    sr_sdp_parsed_free(p);
    *why = "SDP: no m= line";
    return SIPREC_EINVAL;
  }
  return 0;
}

int sr_sdp_parse_answer(const char *answer, size_t len, size_t n, size_t max, sr_sdp_parsed *p,
                        const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = NULL;
  if (n == 0 || n > max) {
    *why = "invalid argument";
    return SIPREC_EINVAL;
  }
  int rc = sr_sdp_parse(answer, len, p, why);
  if (rc < 0)
    return rc;
  if (p->n_media != n) {
    sr_sdp_parsed_free(p);
    *why = "SDP: the answer's m= lines differ from the offer's";
    return SIPREC_EINVAL;
  }
  return 0;
}
