/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every file of the handler uses: randomness and tags, counting what
 * goes out, finding a session by Call-ID, and which session a callback
 * runs for. */
#include <string.h>

#include "../common/hex.h"
#include "../common/random.h"
#include "dialog.h"


void sr_handler_count_message(siprec_handler *h, const char *data, size_t len)
{
  static const char prefix[] = "SIP/2.0 ";
  if (len > sizeof prefix && memcmp(data, prefix, sizeof prefix - 1) == 0) {
    unsigned cls = (unsigned)(data[sizeof prefix - 1] - '0');
    if (cls >= 1 && cls <= 6)
      atomic_fetch_add_explicit(&h->stats.responses[cls], 1, memory_order_relaxed);
  } else {
    atomic_fetch_add_explicit(&h->stats.requests_sent, 1, memory_order_relaxed);
  }
}

int sr_handler_random(siprec_handler *h, void *buf, size_t len)
{
  if (h->cbs.random)
    return h->cbs.random(h->user, buf, len) < 0 ? SIPREC_ERANDOM : 0;
  return sr_random_bytes(buf, len);
}

void sr_handler_tag(siprec_handler *h, char out[SR_TAG_LEN + 1])
{
  uint8_t r[SR_TAG_LEN / 2];
  if (sr_handler_random(h, r, sizeof r) < 0)
    memset(r, 0x5a, sizeof r); /* a tag need only be unique in the dialog's scope */
  sr_hex_encode(r, sizeof r, out);
}

static int take_ref(const void *key, size_t len, void *value, void *user)
{
  (void)key;
  (void)len;
  siprec_session_ref(value);
  *(siprec_session **)user = value;
  return 1;
}

siprec_session *sr_handler_find(siprec_handler *h, const sr_span *call_id)
{
  siprec_session *s = NULL;
  if (siprec_shmap_inspect(h->sessions, call_id->p, call_id->n, take_ref, &s) != 1)
    return NULL;
  return s;
}

