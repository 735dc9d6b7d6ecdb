/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A session's recording metadata: each document the SRC sends is applied to
 * the session's model (lib/metadata) and the result bound to the session's
 * m-lines, so the host can ask who speaks on stream N. Replaced snapshots
 * and change sets are retired, not freed, until the updated callback that
 * reports the change has returned. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/alloc.h"
#include "session_internal.h"

static void replace_model(siprec_session *s, siprec_metadata *next)
{
  siprec_metadata_unref(s->retired_model);
  s->retired_model = s->model;
  s->model = next;
}

int sr_session_bind_metadata(siprec_session *s)
{
  /* Header participants come bound to their media index already. */
  if (!s->model || siprec_metadata_get_status(s->model) == SIPREC_METADATA_HEADERS)
    return 0;
  const char *labels[SR_SDP_MAX_STREAMS];
  size_t n = s->n_streams < SR_SDP_MAX_STREAMS ? s->n_streams : SR_SDP_MAX_STREAMS;
  for (size_t i = 0; i < n; i++)
    labels[i] = s->streams[i].has_label ? s->streams[i].label : NULL;
  siprec_metadata *bound = NULL;
  int rc = siprec_metadata_bind(&bound, s->model, labels, n, &s->mem);
  if (rc < 0)
    return rc;
  replace_model(s, bound);
  return 0;
}

void sr_session_md_chain_clear(siprec_session *s)
{
  if (!s->md_chain)
    return;
  for (size_t i = 0; i < s->md_chain->n; i++)
    sr_free(&s->mem, s->md_chain->doc[i]);
  sr_free(&s->mem, s->md_chain);
  s->md_chain = NULL;
}

static int chain_push(siprec_session *s, const char *p, size_t n)
{
  sr_md_chain *c = s->md_chain;
  char *copy = sr_malloc(&s->mem, n + 1);
  if (!copy)
    return SIPREC_ENOMEM;
  memcpy(copy, p, n);
  copy[n] = '\0';
  c->doc[c->n] = copy;
  c->len[c->n++] = n;
  return 0;
}

/* The documents a snapshot replays: none after a complete document (its
 * model's raw is enough), else the complete one and every partial since.
 * Past the chain's room, or out of memory, it is dropped: a snapshot then
 * replays only the newest document (logged by the caller as a model that
 * may come back incomplete). */
static void chain_track(siprec_session *s, const char *old, size_t old_len, const char *p,
                        size_t n)
{
  if (siprec_metadata_get_datamode(s->model) != SIPREC_METADATA_DATAMODE_PARTIAL) {
    sr_session_md_chain_clear(s);
    return;
  }
  if (!s->md_chain) {
    s->md_chain = sr_calloc(&s->mem, 1, sizeof *s->md_chain);
    if (!s->md_chain || (old && chain_push(s, old, old_len) < 0)) {
      sr_session_md_chain_clear(s);
      return;
    }
  }
  if (s->md_chain->n >= SR_SESSION_MD_CHAIN_MAX || chain_push(s, p, n) < 0)
    sr_session_md_chain_clear(s);
}

int sr_session_apply_metadata(siprec_session *s, const char *p, size_t n,
                              const siprec_metadata_limits *limits, int *changed)
{
  size_t old_len = 0;
  const char *old = siprec_metadata_raw(s->model, &old_len);
  *changed = !old || old_len != n || memcmp(old, p, n) != 0;
  if (!*changed)
    return 0; /* the same document again (many SRCs repeat it in every re-INVITE) */
  siprec_metadata *next = NULL;
  siprec_metadata_changes *changes = NULL;
  int rc = siprec_metadata_apply(&next, &changes, s->model, p, n, limits, &s->mem);
  if (rc < 0) {
    *changed = 0;
    return rc;
  }
  replace_model(s, next);
  chain_track(s, old, old_len, p, n); /* `old` is the retired model's: still valid */
  siprec_metadata_changes_free(s->retired_md_changes);
  s->retired_md_changes = s->md_changes;
  s->md_changes = changes;
  return sr_session_bind_metadata(s);
}

/* One X-Cisco-Recording-Participant value: `<sip:aor>;media-index="0"` or
 * `sip:aor;media-index=0`. The AOR goes into `aor` (NUL-terminated); the
 * m-line index is returned, -1 when the value names none. */
static int cisco_participant(const char *v, size_t n, char *aor, size_t size)
{
  const char *end = v + n;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  const char *a = v, *ae;
  if (v < end && *v == '<') {
    a = v + 1;
    ae = memchr(a, '>', (size_t)(end - a));
    if (!ae)
      ae = end;
  } else {
    ae = memchr(a, ';', (size_t)(end - a));
    if (!ae)
      ae = end;
    while (ae > a && (ae[-1] == ' ' || ae[-1] == '\t'))
      ae--;
  }
  size_t an = (size_t)(ae - a) < size - 1 ? (size_t)(ae - a) : size - 1;
  memcpy(aor, a, an);
  aor[an] = '\0';
  static const char key[] = "media-index=";
  for (const char *q = ae; q + sizeof key - 1 <= end; q++) {
    if (strncasecmp(q, key, sizeof key - 1) != 0)
      continue;
    q += sizeof key - 1;
    while (q < end && (*q == '"' || *q == ' '))
      q++;
    int idx = 0, digits = 0;
    while (q < end && isdigit((unsigned char)*q) && idx < 1000) {
      idx = idx * 10 + (*q++ - '0');
      digits++;
    }
    return digits ? idx : -1;
  }
  return -1;
}

int sr_session_metadata_from_headers(siprec_session *s)
{
  enum { AOR_MAX = 256 };
  char aors[SR_SESSION_MAX_HEADER_PARTICIPANTS][AOR_MAX];
  const char *ptrs[SR_SESSION_MAX_HEADER_PARTICIPANTS];
  int mlines[SR_SESSION_MAX_HEADER_PARTICIPANTS];
  int any_index = 0;
  size_t n = sr_session_header_participants(s);
  for (size_t i = 0; i < n; i++) {
    mlines[i] = cisco_participant(s->cisco->value[i], s->cisco->len[i], aors[i], AOR_MAX);
    ptrs[i] = aors[i];
    any_index |= mlines[i] >= 0;
  }
  /* Without any media-index the headers come in m-line order. */
  for (size_t i = 0; i < n && !any_index; i++)
    mlines[i] = (int)i;
  siprec_metadata *m = NULL;
  int rc = siprec_metadata_from_headers(&m, ptrs, mlines, n, &s->mem);
  if (rc < 0)
    return rc;
  replace_model(s, m);
  return 0;
}
