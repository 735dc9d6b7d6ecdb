/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Framing SIP messages on stream transports: the public entry point of
 * lib/sip/frame.c. */
#include "../sip/frame.h"
#include "handler_internal.h"

SIPREC_API long siprec_handler_frame(const void *data, size_t len, size_t max)
{
  return sr_sip_frame(data, len, max);
}
