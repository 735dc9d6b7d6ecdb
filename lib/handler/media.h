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
/* The slot of stream `index`, made when missing (the session's lock
 * held); NULL out of memory (media_slot.c). */
sr_session_media *sr_media_slot(siprec_handler *h, siprec_session *s, size_t index);
/* Lock m while holding the session's lock: a media callback of this
 * session reading it meanwhile proceeds (session.c's read_lock). */
void sr_media_lock(siprec_session *s, sr_session_media *m);

/* Snapshots (media_resume.c). Up to `max` resume points of s's streams
 * (its lock held) into out: how many. */
struct sr_session_media_resume;
size_t sr_media_resume_collect(siprec_handler *h, siprec_session *s,
                               struct sr_session_media_resume *out, size_t max);
/* A restored session (its lock held): each stream's media, when it is
 * made, continues from its resume point. 0 or SIPREC_ENOMEM. */
int sr_media_resume_keep(siprec_handler *h, siprec_session *s,
                         const struct sr_session_media_resume *in, size_t n);
/* A stream of s just made (m's lock held): its resume point applied, once. */
void sr_media_resume_apply(siprec_session *s, sr_session_media *m);
/* After a datagram (m's lock held): whether the stream moved enough for a
 * snapshot (latched, a new SSRC, a sequence wrap, or the media interval
 * passed). */
int sr_media_resume_due(siprec_handler *h, sr_session_media *m, uint64_t now);

/* The handler's media counter `index` (siprec_media_counter). */
uint64_t sr_media_stat(siprec_handler *h, unsigned index);

#endif
