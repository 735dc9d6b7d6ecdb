/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream's media slot in its session (siprec/media.h's state per
 * stream): made on demand, and locked from under the session's lock. Used
 * by the media path (media.c) and by snapshots (media_resume.c). */
#include <pthread.h>

#include "../common/alloc.h"
#include "media.h"

/* The slot of stream `index`, made when missing (the session's lock held). */
sr_session_media *sr_media_slot(siprec_handler *h, siprec_session *s, size_t index)
{
  sr_session_media *m = atomic_load_explicit(&s->media[index], memory_order_acquire);
  if (m)
    return m;
  m = sr_calloc(&s->mem, 1, sizeof *m);
  if (!m)
    return NULL;
  if (pthread_mutex_init(&m->lock, NULL) != 0) {
    sr_free(&s->mem, m);
    return NULL;
  }
  m->handler = h;
  m->index = index;
  atomic_store_explicit(&s->media[index], m, memory_order_release);
  return m;
}

/* Lock m while holding the session's lock: a media callback of this
 * session reading it meanwhile proceeds (session.c's read_lock). */
void sr_media_lock(siprec_session *s, sr_session_media *m)
{
  if (pthread_mutex_trylock(&m->lock) == 0)
    return;
  atomic_store(&s->media_waiting, (int)m->index + 1);
  pthread_mutex_lock(&m->lock);
  atomic_store(&s->media_waiting, 0);
}

