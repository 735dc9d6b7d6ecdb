/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A snapshot's envelope: the records lib/store owns around the session's
 * own (its store key, session id, time of writing, the sealed secrets),
 * so a host can inspect a snapshot and the store can seal one without
 * knowing what a session is. The session's records are one nested body. */
#ifndef SR_STORE_ENVELOPE_H
#define SR_STORE_ENVELOPE_H

#include "seal.h"
#include "snap.h"

/* Tags 1..15 are the envelope's; the session's records live in BODY. */
enum {
  SR_SNAP_T_KEY = 1,        /* the store key: the session's Call-ID */
  SR_SNAP_T_SESSION_ID = 2, /* siprec_session_id() */
  SR_SNAP_T_WALL = 3,       /* UTC ns when written */
  SR_SNAP_T_SECRETS = 4,    /* sealed: nonce || ciphertext || tag of a record list */
  SR_SNAP_T_BODY = 16,      /* the session's records (lib/session) */
};

typedef struct sr_snap_envelope {
  const char *key;
  size_t key_len;
  const char *session_id;
  uint64_t wall_ns;
} sr_snap_envelope;

/* The whole snapshot into `out` (initialised by the caller): the envelope,
 * `body`, and `secrets` sealed under `seal_key` (both NULL, or secrets
 * empty: none written). 0, or SIPREC_ENOMEM, SIPREC_ETOOBIG,
 * SIPREC_ERANDOM. */
int sr_snap_write(const sr_snap_envelope *env, const sr_snap_w *body, const sr_snap_w *secrets,
                  const uint8_t *seal_key, sr_snap_w *out);

typedef struct sr_snap_parsed {
  unsigned version;
  sr_snap_val key, session_id, body, sealed; /* len 0 (p NULL for sealed): absent */
  uint64_t wall_ns;
} sr_snap_parsed;

/* Check a snapshot and find its parts. 0, SIPREC_EPARSE (not one,
 * truncated, corrupted, no key or body) or SIPREC_ETOOBIG (newer format). */
int sr_snap_read(const void *data, size_t len, sr_snap_parsed *out);

/* The secrets' record list, unsealed into buf (at least p->sealed.len
 * bytes): 0 with *len, or SIPREC_ENOTFOUND (none), SIPREC_EPARSE (wrong
 * key, tampered, another session's), SIPREC_EINVAL (no sealing here). */
int sr_snap_unseal(const sr_snap_parsed *p, const uint8_t *seal_key, uint8_t *buf, size_t *len);

#endif
