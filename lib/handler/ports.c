/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Receive ports of a session's streams: the host's callbacks, or the
 * built-in pool (a bitmap over the even ports of the configured range). */
#include "dialog.h"

int sr_handler_port_alloc(siprec_handler *h, siprec_session *s, size_t index, uint16_t *port)
{
  if (h->cbs.port_alloc)
  {
    int rc;
    *port = 0; /* a new port: only a restore names one (sr_handler_port_claim) */
    SR_CALLBACK(s, rc = h->cbs.port_alloc(h->user, s, index, port));
    return rc < 0 ? SIPREC_EAGAIN : 0;
  }
  int rc = SIPREC_EAGAIN;
  pthread_mutex_lock(&h->ports_lock);
  for (size_t k = 0; k < h->n_ports; k++) {
    size_t i = (h->port_next + k) % h->n_ports;
    if (!h->port_used[i]) {
      h->port_used[i] = 1;
      h->port_next = (i + 1) % h->n_ports;
      *port = (uint16_t)(h->cfg.rtp_low + (h->cfg.rtp_low & 1) + 2 * i);
      rc = 0;
      break;
    }
  }
  pthread_mutex_unlock(&h->ports_lock);
  return rc;
}

int sr_handler_port_claim(siprec_handler *h, siprec_session *s, size_t index, uint16_t port)
{
  if (h->cbs.port_alloc) {
    uint16_t got = port; /* the callback sees the port the session had */
    int rc;
    SR_CALLBACK(s, rc = h->cbs.port_alloc(h->user, s, index, &got));
    if (rc < 0)
      return SIPREC_EAGAIN;
    if (got != port) {
      /* Another port would need a new offer to the SRC: not this call's. */
      if (h->cbs.port_free)
        SR_CALLBACK(s, h->cbs.port_free(h->user, s, index, got));
      return SIPREC_EAGAIN;
    }
    return 0;
  }
  unsigned base = h->cfg.rtp_low + (h->cfg.rtp_low & 1);
  if (port < base || (port - base) % 2)
    return SIPREC_EAGAIN;
  size_t i = (size_t)(port - base) / 2;
  int rc = SIPREC_EAGAIN;
  pthread_mutex_lock(&h->ports_lock);
  if (i < h->n_ports && !h->port_used[i]) {
    h->port_used[i] = 1;
    rc = 0;
  }
  pthread_mutex_unlock(&h->ports_lock);
  return rc;
}

void sr_handler_port_free(siprec_handler *h, siprec_session *s, size_t index, uint16_t port)
{
  if (port == 0)
    return;
  sr_media_ports_clear(h, s, port); /* datagrams find it no more, before it goes back */
  if (h->cbs.port_alloc) {
    if (h->cbs.port_free)
      SR_CALLBACK(s, h->cbs.port_free(h->user, s, index, port));
    return;
  }
  unsigned base = h->cfg.rtp_low + (h->cfg.rtp_low & 1);
  if (port < base || (port - base) % 2)
    return;
  size_t i = (size_t)(port - base) / 2;
  pthread_mutex_lock(&h->ports_lock);
  if (i < h->n_ports)
    h->port_used[i] = 0;
  pthread_mutex_unlock(&h->ports_lock);
}

void sr_handler_release_ports(siprec_handler *h, siprec_session *s, const sr_sdp_stream *streams,
                              size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (streams[i].accepted)
      sr_handler_port_free(h, s, i, streams[i].port);
}

void sr_handler_release_new_ports(siprec_handler *h, siprec_session *s,
                                  const sr_sdp_stream *streams, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (streams[i].new_port)
      sr_handler_port_free(h, s, i, streams[i].port);
}

