/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's side of the recorded media (media.c), for the signalling
 * files: calls go from them to media.c, never back. */
#ifndef SR_HANDLER_MEDIA_H
#define SR_HANDLER_MEDIA_H

#include "handler_internal.h"

/* The session's streams or metadata changed (its lock held): each stream
 * with media state follows (ENDED when removed or given another port,
 * PAUSED/RESUMED, reconfigured for a new codec or source, speaker
 * refreshed). */
void sr_media_sync(siprec_handler *h, siprec_session *s, uint64_t now);
/* The session was answered (its lock held): accepted, active streams that
 * receive nothing raise NO_MEDIA after the no-media timeout, also without
 * one datagram (an empty recording), when the host has a stream-event
 * callback. */
void sr_media_watch(siprec_handler *h, siprec_session *s, uint64_t now);
/* The session ends (its lock held): every stream's last frames, then
 * ENDED; before the session's ended callback. */
void sr_media_end_all(siprec_handler *h, siprec_session *s, uint64_t now);
/* Streams whose deadline is due at `now`: expired. How many. */
int sr_media_expire(siprec_handler *h, uint64_t now);
/* The handler's media counter `index` (siprec_media_counter). */
uint64_t sr_media_stat(siprec_handler *h, unsigned index);

#endif
