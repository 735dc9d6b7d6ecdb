/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which host callback runs on this thread, if any: host requests made from
 * inside one get SIPREC_EBUSY instead of waiting on a lock their own thread
 * holds. A file of its own so that every part of the handler that calls
 * the host (logging included) can mark it without depending on another. */
#include "handler_internal.h"

_Thread_local const void *sr_in_callback;
