/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spandsp's headers in the order they need (telephony.h first), with the
 * private ones that give the states' sizes: the states then live in our
 * own allocations, through the host's allocator, and are set up by
 * spandsp's *_init on that memory instead of spandsp's malloc. */
#ifndef SR_MEDIA_SPANDSP_INC_H
#define SR_MEDIA_SPANDSP_INC_H

#include <stdbool.h>
#include <stdint.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/bitstream.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <spandsp/g726.h>
#include <spandsp/plc.h>
#include <spandsp/private/bitstream.h>
#include <spandsp/private/g722.h>
#include <spandsp/private/g726.h>

#endif
