/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One recording session: dialog, streams, metadata, and the INVITE
 * transaction state the handler needs for retransmissions. Its whole state
 * is plain data owned by the session (no pointers into message buffers), so
 * that it can later be serialised and restored elsewhere. */
#ifndef SR_SESSION_INTERNAL_H
#define SR_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <siprec/handler.h>
#include <siprec/session.h>

#include "../sdp/answer.h"

typedef enum sr_session_state {
  SR_SESSION_ANSWERED = 0, /* 2xx sent, waiting for the ACK */
  SR_SESSION_CONFIRMED,    /* ACKed */
  SR_SESSION_ENDED,
} sr_session_state;

#define SR_TAG_LEN 16
#define SR_SESSION_MAX_HEADER_PARTICIPANTS 8

struct siprec_session {
  _Atomic unsigned refs;
  pthread_mutex_t lock;
  const siprec_allocator *mem;
  void *user;

  char id[33];
  char *call_id;
  size_t call_id_len;
  int is_siprec;
  sr_session_state state;
  int awaiting_answer; /* our 2xx carried the offer (delayed offer): the ACK answers */

  /* Dialog (the SRS is the UAS). */
  char local_tag[SR_TAG_LEN + 1];
  char *remote_tag;
  char *remote_target;  /* the SRC's Contact URI */
  char *route_set;      /* Record-Route lines of the INVITE, in order, as Route: lines */
  char *remote_from;    /* the SRC's From header line (for our requests' To) */
  char *local_to;       /* our To header line with our tag (for our requests' From) */
  uint32_t remote_cseq;
  uint32_t local_cseq;
  siprec_transport transport;
  struct sockaddr_storage remote;
  struct sockaddr_storage local;
  uint64_t conn_id;

  /* The INVITE transaction whose 2xx waits for its ACK. */
  char *invite_branch;
  uint32_t invite_cseq;
  char *last_2xx; /* the 2xx as sent, for retransmissions */
  size_t last_2xx_len;
  uint64_t retx_at;      /* next retransmission, host clock */
  uint64_t retx_interval;
  uint64_t ack_deadline;
  _Atomic uint64_t deadline; /* min of the two above, readable without the lock */

  /* Media and metadata. */
  sr_sdp_stream streams[SR_SDP_MAX_STREAMS];
  size_t n_streams;
  char *last_answer; /* the SDP of the last answer, offered again when asked */
  size_t last_answer_len;
  uint64_t sdp_session_id;
  uint64_t sdp_version;
  char *metadata;
  size_t metadata_len;
  char *cisco[SR_SESSION_MAX_HEADER_PARTICIPANTS];
  size_t cisco_len[SR_SESSION_MAX_HEADER_PARTICIPANTS];
  size_t n_cisco;

  /* Handler bookkeeping: the list of sessions with a pending timer. */
  struct siprec_session *timer_next, *timer_prev;
  int on_timer_list;
};

/* A new session with one reference, or NULL. `id_bytes` are 16 random bytes. */
siprec_session *sr_session_new(const siprec_allocator *mem, const char *call_id, size_t len,
                               const uint8_t id_bytes[16]);

/* Replace *dst by a NUL-terminated copy of (p, n). 0 or SIPREC_ENOMEM. */
int sr_session_set_str(siprec_session *s, char **dst, const char *p, size_t n);

static inline void sr_session_lock(siprec_session *s)
{
  pthread_mutex_lock(&s->lock);
}

static inline void sr_session_unlock(siprec_session *s)
{
  pthread_mutex_unlock(&s->lock);
}

#endif
