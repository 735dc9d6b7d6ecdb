/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A session's own snapshot records (session_snapshot.c): written into a
 * body and secrets that lib/store wraps, read back into a fresh session. */
#ifndef SR_SESSION_SNAPSHOT_H
#define SR_SESSION_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/metadata.h>

#include "../media/stream.h"
#include "../store/snap.h"

typedef struct siprec_session siprec_session;

/* Where a stream's received media stood (lib/media's resume point), and
 * its SRTP rollover counter with the highest sequence number delivered
 * under it (so decryption goes on across a wrap after a restore). */
typedef struct sr_session_media_resume {
  uint32_t index; /* the stream's m-line */
  sr_media_resume m;
  uint8_t has_roc;
  uint32_t roc;
  uint16_t srtp_seq;
} sr_session_media_resume;

/* Write s (its lock held) at host time `now`: its records into `body`, its
 * SRTP keys into `secrets` (NULL: left out), and `media` resume points.
 * Returns the writers' error (0, SIPREC_ENOMEM or SIPREC_ETOOBIG). */
int sr_session_snapshot_write(const siprec_session *s, uint64_t now,
                              const sr_session_media_resume *media, size_t n_media,
                              sr_snap_w *body, sr_snap_w *secrets);

/* Read a body (and the unsealed secrets, or NULL) into a fresh session
 * made by sr_session_new: its deadlines against `base` (the reader's now
 * less the time that passed since the writing), its metadata documents
 * applied again under `limits`. The resume points go into media[0..*n_media)
 * (*n_media in: the room; out: how many). 0, SIPREC_EPARSE or
 * SIPREC_ENOMEM; on error the caller frees the session. */
int sr_session_snapshot_read(siprec_session *s, const void *body, size_t body_len,
                             const void *secrets, size_t secrets_len, uint64_t base,
                             const siprec_metadata_limits *limits,
                             sr_session_media_resume *media, size_t *n_media);

/* A resume point's records (session_snapshot_media.c), its host time as an
 * offset from `now` / against `base`. */
void sr_session_media_resume_put(sr_snap_w *w, const sr_session_media_resume *m, uint64_t now);
int sr_session_media_resume_get(sr_session_media_resume *m, const sr_snap_val *v, uint64_t base);

#endif
