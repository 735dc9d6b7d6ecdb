/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One recording session: dialog, streams, metadata, and the transaction
 * state the handler needs for retransmissions and timers. Its whole state
 * is plain data owned by the session (no pointers into message buffers), so
 * that it can later be serialised and restored elsewhere. */
#ifndef SR_SESSION_INTERNAL_H
#define SR_SESSION_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <siprec/common.h>
#include <siprec/metadata.h>
#include <siprec/session.h>

#include "../sdp/answer.h"
#include "../sip/dialog.h"
#include "../sip/session_timer.h"
#include "../sip/transaction.h"

typedef enum sr_session_state {
  SR_SESSION_PENDING = 0, /* offered and deferred: 100 Trying sent, the host decides */
  SR_SESSION_ANSWERED,    /* 2xx to the first INVITE sent, waiting for its ACK */
  SR_SESSION_CONFIRMED,   /* ACKed: the dialog is up */
  SR_SESSION_REJECTED,    /* a non-2xx final answered the first INVITE; waiting for its ACK */
  SR_SESSION_CLOSING,     /* ended by the SRS: its BYE (UDP) waits for an answer */
  SR_SESSION_LINGER,      /* ended by the SRC's BYE (UDP): its 200 answers copies until Timer J */
  SR_SESSION_ENDED,
} sr_session_state;

/* What an outstanding request of the SRS is for. */
typedef enum sr_uac_purpose {
  SR_UAC_NONE = 0,
  SR_UAC_PING,     /* OPTIONS keep-alive */
  SR_UAC_REFRESH,  /* UPDATE refreshing the session timer (the SRS is the refresher) */
  SR_UAC_METADATA, /* UPDATE asking for a metadata snapshot */
  SR_UAC_BYE,      /* the SRS ended the session (CLOSING) */
  SR_UAC_REOFFER,  /* re-INVITE with a new offer of the SRS (another node took the
                    * session over, or the host asked: siprec_handler_reoffer) */
} sr_uac_purpose;

#define SR_SESSION_MAX_HEADER_PARTICIPANTS 8

/* The metadata documents since the last complete one, when partial ones
 * followed it: a snapshot replays them (a merged model has no document of
 * its own). Made at the first partial document; most SRCs send only
 * complete ones and never need it. */
#define SR_SESSION_MD_CHAIN_MAX 32
typedef struct sr_md_chain {
  size_t n;
  char *doc[SR_SESSION_MD_CHAIN_MAX];
  size_t len[SR_SESSION_MD_CHAIN_MAX];
} sr_md_chain;

/* The parties a non-SIPREC recording client named in its headers (Cisco
 * X-Cisco-Recording-Participant values, or a built-in-bridge leg's
 * address), made at the first one: a SIPREC session has none and keeps
 * no room for them (136 bytes in every session when they were inline). */
typedef struct sr_header_parties {
  size_t n;
  char *value[SR_SESSION_MAX_HEADER_PARTICIPANTS]; /* NUL-terminated copies */
  size_t len[SR_SESSION_MAX_HEADER_PARTICIPANTS];
} sr_header_parties;

/* One stream's media state (siprec/media.h), made at its first datagram
 * and kept until the session is destroyed (a feeding thread may hold its
 * pointer without the session's lock). Everything but count[].n and
 * jitter_ms (read without it) is guarded by `lock`; the session's lock,
 * when both are taken, comes first. */
typedef struct sr_media_stream sr_media_stream; /* ../media/stream.h */
typedef struct sr_srtp sr_srtp;                 /* ../media/srtp.h */
enum { SR_MSTAT_PACKETS = 0, SR_MSTAT_BYTES, SR_MSTAT_LOST, SR_MSTAT_REORDERED,
       SR_MSTAT_DUPLICATES, SR_MSTAT_LATE, SR_MSTAT_LATCH_DROPS, SR_MSTAT_SRTP_FAILURES,
       SR_MSTAT_DECODE_ERRORS, SR_MSTAT_NOT_FOUND, SR_MSTAT_RTCP, SR_MSTATS };
typedef struct sr_session_media {
  /* What every datagram reads or writes comes first, in three cache lines
   * (a busy server has evicted them since the stream's last datagram). */
  pthread_mutex_t lock;
  sr_media_stream *ms; /* NULL: none yet, or ended (made again by the next datagram) */
  void *handler;       /* the handler that made it (for its callbacks) */
  size_t index;
  sr_srtp *srtp_ctx;   /* its inbound SRTP context from the offer's key; NULL when this
                        * build cannot decrypt it (every datagram an SRTP failure) */
  uint16_t port;       /* the local RTP port it was made for */
  int srtp;            /* RTP/SAVP */
  int ended;           /* ENDED delivered; nothing more is fed */
  int has_label;
  /* The speaker, from `model` (a reference held: the strings are its). */
  const char *spk_id, *spk_aor, *spk_name;
  uint64_t armed_at;   /* the deadline a media timer shard holds for it; 0: none */
  uint64_t last_packet_ns;
  uint64_t activity_ns; /* the last time it kept its session alive */
  uint64_t seen_gen;    /* the stream's counter generation `seen` is of */
  uint64_t jitter_key;  /* clock << 32 | jitter ticks that jitter_ms is of */
  int seen_valid;       /* seen_gen is the stream's (0: read them all) */
  _Atomic uint32_t jitter_ms;
  /* Per counter (SR_MSTAT_*, packets and bytes first): the stream's count
   * already added (`seen`), and the total (`n`, read without the lock). */
  struct {
    uint64_t seen;
    _Atomic uint64_t n;
  } count[SR_MSTATS];
  /* What it was configured from (a change reconfigures). */
  char key[SR_SDP_KEY_INFO_MAX]; /* the offer's key-info it was made with */
  int paused;
  char codec[SR_SDP_CODEC_MAX];
  int pt, te_pt;
  char remote_addr[SR_SDP_ADDR_MAX];
  uint16_t remote_port;
  struct sr_sdp_alt_codec alt[SR_SDP_ALT_MAX];
  uint8_t n_alt;
  char label[SR_SDP_LABEL_MAX];
  siprec_metadata *model;
  int watched;         /* no datagram yet: the no-media watchdog runs without a stream */
  int nm_raised;       /* that watchdog raised NO_MEDIA (ENDED follows at the end) */
  /* Snapshots: where a restored session's stream continues from (NULL:
   * nowhere, or applied), and what the last snapshot saw of it. */
  struct sr_session_media_resume *resume;
  uint64_t snap_at;
  uint32_t snap_ssrc, snap_cycles;
  int snap_latched;
} sr_session_media;

/* The thread holding a stream's media lock while its callbacks run: the
 * session's accessors, called from those callbacks, may then proceed
 * without the session's lock when its holder waits for that very media
 * lock (media_waiting names it): the holder is blocked and changes
 * nothing until the callback returns and the media lock is released, so
 * reading is safe. Without this, a callback reading the session would deadlock
 * with a thread ending the session (session lock, then media lock). */
extern _Thread_local const siprec_session *sr_media_holder;
extern _Thread_local size_t sr_media_holder_index; /* the stream whose lock it holds */

struct siprec_session {
  _Atomic unsigned refs;
  pthread_mutex_t lock;
  siprec_allocator mem; /* a copy of the handler's */
  void *user;

  char id[33];
  int is_siprec;
  sr_session_state state;
  int awaiting_answer; /* our 2xx carried the offer (delayed offer): the ACK answers */
  int snap_live;       /* a snapshot of it went to the host (its end deletes it) */

  /* The dialog (the SRS is the UAS): identity, CSeqs, the path to the SRC. */
  sr_dialog dialog;

  /* The INVITE server transaction: its final response waits for the ACK
   * (active), or, deferred, for the host's decision (PENDING). */
  sr_invite_tx invite_tx;
  /* LINGER: the SRC's BYE answered, copies absorbed until Timer J. */
  sr_request_tx bye_tx;

  /* Handler bookkeeping: its unsettled INVITE (pending.c; the handler's
   * pending lock guards the pq_ fields). */
  int counts_pending;    /* holds one of its source's unsettled-INVITE slots */
  uint8_t pq_src[16];    /* that source's address bytes (the remote may change by ACL) */
  uint8_t pq_src_len;
  int pq_in;             /* in the handler's queue of unsettled INVITEs */
  int pq_sheddable;      /* answered 200, waiting for its ACK: may be shed under a flood */
  size_t pq_ports;       /* built-in pool ports it holds, counted against the bound */
  siprec_session *pq_prev, *pq_next;

  /* The one outstanding request of the SRS (OPTIONS, UPDATE, BYE); its
   * purpose is an sr_uac_purpose. */
  sr_client_tx uac_tx;
  /* The ACK of the final response to the SRS's re-INVITE, sent again for
   * each copy of that response; and when a re-INVITE of the SRS is due
   * again (0: none): after a 491, or once nothing else is in the way. */
  sr_ack_tx ack_tx;
  uint64_t reoffer_at;

  /* Keep-alive: the session timer (RFC 4028), else OPTIONS pings, and the idle limit. */
  sr_session_timer timer;
  uint64_t ping_at;
  _Atomic uint64_t last_activity;

  /* Media and metadata. */
  sr_sdp_stream *streams; /* n_streams of them, exactly */
  size_t n_streams;
  uint8_t *stream_changes; /* siprec_change bits of the last update, per stream */
  unsigned changes;
  char *last_answer; /* the SDP of the last answer, offered again when asked */
  size_t last_answer_len;
  uint64_t sdp_session_id;
  uint64_t sdp_version;
  siprec_metadata *model;              /* NULL until metadata (or Cisco headers) came;
                                        * bound to the streams' m-lines */
  siprec_metadata_changes *md_changes; /* what the last metadata update changed */
  sr_md_chain *md_chain;               /* NULL: the model's own document says it all */
  /* What an update replaced, kept until its updated callback has returned:
   * pointers the host got from accessors stay valid until then. */
  sr_sdp_stream *retired_streams;
  uint8_t *retired_changes;
  siprec_metadata *retired_model;
  siprec_metadata_changes *retired_md_changes;
  sr_header_parties *cisco; /* NULL: none */
  /* The communication session's key (failover.c) and the recording
   * session this one continues after its SRC failed over; NULL: none. */
  char *cs_key, *continues;
  /* A Cisco built-in-bridge leg (siprec_session_bib_leg()). */
  siprec_bib_leg bib_leg;
  char *bib_key, *bib_refci, *bib_farend_refci;

  /* Media (siprec/media.h), per stream index; made lazily. */
  _Atomic(sr_session_media *) media[SR_SDP_MAX_STREAMS];
  /* The session lock's holder waits for media lock `media_waiting - 1`
   * (0: it waits for none). */
  _Atomic int media_waiting;

  /* Handler bookkeeping: the timer heap (guarded by the handler's timer lock). */
  size_t heap_index; /* SIZE_MAX when not in the heap */
  uint64_t heap_key;
};

/* A new session with one reference, or NULL. `id_bytes` are 16 random bytes. */
siprec_session *sr_session_new(const siprec_allocator *mem, const char *call_id, size_t len,
                               const uint8_t id_bytes[16]);

/* Replace *dst by a NUL-terminated copy of (p, n). 0 or SIPREC_ENOMEM. */
int sr_session_set_str(siprec_session *s, char **dst, const char *p, size_t n);

/* Free *dst and set it NULL. */
void sr_session_drop_str(siprec_session *s, char **dst);

/* Add a header participant's value (p, n) after those the session has; one
 * past SR_SESSION_MAX_HEADER_PARTICIPANTS is ignored. 0 or SIPREC_ENOMEM
 * (nothing added). */
int sr_session_add_header_participant(siprec_session *s, const char *p, size_t n);

/* How many header participants the session has. */
static inline size_t sr_session_header_participants(const siprec_session *s)
{
  return s->cisco ? s->cisco->n : 0;
}

/* Replace the session's streams by a copy of streams[0..n), with zeroed
 * change bits; the old ones are retired. 0 or SIPREC_ENOMEM (the old
 * streams are kept then). */
int sr_session_set_streams(siprec_session *s, const sr_sdp_stream *streams, size_t n);

/* Apply a metadata document to the session's model (session_metadata.c):
 * the old model and change set are retired, the new model is bound to the
 * streams. *changed is set when it differs from what the session had. A
 * document that cannot be read still gives a model (status unreadable).
 * 0 or SIPREC_ENOMEM (the session keeps its model). */
int sr_session_apply_metadata(siprec_session *s, const char *p, size_t n,
                              const siprec_metadata_limits *limits, int *changed);

/* Forget the metadata document chain. */
void sr_session_md_chain_clear(siprec_session *s);

/* Bind the model to the current streams' labels again (after an SDP
 * change). 0 or SIPREC_ENOMEM (the old binding stays). */
int sr_session_bind_metadata(siprec_session *s);

/* A recording without metadata whose client named its parties in
 * X-Cisco-Recording-Participant headers: the model from those.
 * 0 or SIPREC_ENOMEM. */
int sr_session_metadata_from_headers(siprec_session *s);

/* Free what an ended session no longer needs while it lingers to answer
 * copies of the SRC's BYE: its streams, metadata, SDP and route set. Only
 * when nobody but the handler holds it (`handler_refs` references), since a
 * host holding a reference may still read it. */
void sr_session_shed(siprec_session *s, unsigned handler_refs);

/* Free what updates retired: called once the updated callback returned. */
void sr_session_flush_retired(siprec_session *s);

static inline void sr_session_lock(siprec_session *s)
{
  pthread_mutex_lock(&s->lock);
}

static inline void sr_session_unlock(siprec_session *s)
{
  pthread_mutex_unlock(&s->lock);
}

#endif
