/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the body of an INVITE or UPDATE brings: its SDP and metadata parts,
 * the SDP config for answering an offer, metadata applied to a session. */
#include <stdio.h>
#include <string.h>

#include "../media/srtp.h"
#include "../sip/multipart.h"
#include "dialog.h"

#define MAX_PARTS 8

static int is_metadata_type(sr_span t)
{
  return sr_span_ieq(t, "application/rs-metadata+xml") || sr_span_ieq(t, "application/rs-metadata");
}

int sr_handler_apply_metadata(siprec_handler *h, siprec_session *s, sr_span metadata,
                              int *changed)
{
  int rc = sr_session_apply_metadata(s, metadata.p, metadata.n, &h->cfg.md_limits, changed);
  if (rc == 0 && *changed && siprec_metadata_get_status(s->model) == SIPREC_METADATA_REFUSED)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: metadata update not applied: %s", s->id,
                   siprec_metadata_error_detail(s->model));
  return rc;
}

int sr_handler_body(const sr_sip_msg *m, sr_span *sdp, sr_span *metadata, const char **why)
{
  sdp->p = metadata->p = NULL;
  sdp->n = metadata->n = 0;
  if (m->body.n == 0)
    return 0;
  if (m->content_type.n == 0 || sr_span_ieq(m->content_type, "application/sdp")) {
    *sdp = m->body; /* RFC 3261: a body without Content-Type is SDP in practice */
    return 0;
  }
  if (is_metadata_type(m->content_type)) {
    *metadata = m->body;
    return 0;
  }
  if (!sr_span_ieq(m->content_type, "multipart/mixed")) {
    *why = "Unsupported body type";
    return 415;
  }
  sr_mime_part parts[MAX_PARTS];
  unsigned flags;
  int n = m->boundary.n ? sr_multipart_split(m->body.p, m->body.n, m->boundary.p, m->boundary.n,
                                             parts, MAX_PARTS, &flags)
                        : SIPREC_EINVAL;
  if (n < 0) {
    *why = n == SIPREC_ETOOBIG ? "Too many body parts" : "Unreadable multipart body";
    return 400;
  }
  for (int i = 0; i < n; i++) {
    if (sr_span_ieq(parts[i].content_type, "application/sdp") && !sdp->p)
      *sdp = parts[i].body;
    else if (is_metadata_type(parts[i].content_type) && !metadata->p)
      *metadata = parts[i].body;
    else if (!metadata->p && sr_span_ieq(parts[i].disposition, "recording-session"))
      *metadata = parts[i].body; /* a damaged type, but the disposition says metadata */
  }
  if (!sdp->p && !metadata->p) {
    *why = "No SDP or metadata part in the multipart body";
    return 415;
  }
  return 0;
}

/* sr_sdp_config's port callback; user is { siprec_handler *, siprec_session * }. */
static int port_cb(void *user, size_t index, const sr_sdp_stream *stream, uint16_t *port)
{
  (void)stream;
  void **ctx = user;
  return sr_handler_port_alloc(ctx[0], ctx[1], index, port);
}

static int random_cb(void *user, void *buf, size_t len)
{
  return sr_handler_random(user, buf, len);
}

void sr_handler_sdp_config(siprec_handler *h, siprec_session *s, const struct sockaddr *local,
                           sr_sdp_config *cfg, char *addr_buf, size_t addr_size,
                           void *port_ctx[2])
{
  memset(cfg, 0, sizeof *cfg);
  port_ctx[0] = h;
  port_ctx[1] = s;
  cfg->port = port_cb;
  cfg->port_user = port_ctx;
  if (h->cfg.media_address)
    snprintf(addr_buf, addr_size, "%s", h->cfg.media_address);
  else if (sr_addr_text(local, addr_buf, addr_size, 0) < 0)
    snprintf(addr_buf, addr_size, "0.0.0.0");
  cfg->media_addr = addr_buf;
  cfg->codecs = h->codec_list;
  cfg->prefer_offer_order = !h->cfg.prefer_own_order;
  cfg->random = random_cb;
  cfg->random_user = h;
  cfg->session_id = s->sdp_session_id;
  cfg->version = s->sdp_version;
  cfg->user = "libsiprec";
  cfg->current = s->n_streams ? s->streams : NULL;
  cfg->n_current = s->n_streams;
  /* SRTP only with a suite media decrypts (the keys never leave the
   * library): none in a build without libsrtp2. */
  cfg->suite_ok = sr_media_srtp_suite_supported;
}

