/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Framing SIP messages on stream transports: the public entry point of
 * lib/sip/frame.c. */
#include "../sip/frame.h"
#include "handler_internal.h"

SIPREC_API int siprec_handler_frame(const void *data, size_t len, size_t max, size_t *msg_len)
{
  if ((!data && len) || !msg_len)
    return SIPREC_EINVAL;
  *msg_len = 0;
  long n = sr_sip_frame(data, len, max);
  if (n < 0)
    return SIPREC_EPARSE;
  *msg_len = (size_t)n;
  return n > 0;
}
