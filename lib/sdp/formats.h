/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The payload formats of one RTP m= line: what each payload type stands
 * for (a=rtpmap, a=fmtp, or the static table), in the line's order. */
#ifndef SR_SDP_FORMATS_H
#define SR_SDP_FORMATS_H

#include <stddef.h>

#include <sofia-sip/sdp.h>

#include "../common/span.h"

typedef struct sr_sdp_fmt {
  const char *enc;   /* encoding name (not NUL-terminated), NULL when unknown */
  size_t enc_len;
  unsigned long rate;
  unsigned channels; /* 0 when the rtpmap gives none */
  const char *fmtp;  /* NUL-terminated, NULL when none */
  unsigned char present;
  unsigned char mapped;
} sr_sdp_fmt;

typedef struct sr_sdp_fmts {
  sr_sdp_fmt pt[128];
  unsigned char order[128]; /* distinct payload types in m= line order */
  size_t n;
} sr_sdp_fmts;

/* Fill the table of an RTP m= line. It points into the parsed SDP. */
void sr_sdp_fmts_read(const sdp_media_t *m, sr_sdp_fmts *t);

static inline sr_span sr_sdp_fmt_enc(const sr_sdp_fmt *f)
{
  return sr_span_of(f->enc, f->enc_len);
}

/* The first payload type in line order whose encoding is telephone-event
 * (RFC 4733) with clock rate *rate, else the first at any rate; -1 when
 * there is none. rate NULL: the first at any rate. */
int sr_sdp_fmts_telephone_event(const sr_sdp_fmts *t, const unsigned long *rate);

#endif
