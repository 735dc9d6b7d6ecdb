/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SR_HANDLER_INTERNAL_H
#define SR_HANDLER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <siprec/handler.h>
#include <siprec/media.h>
#include <siprec/shmap.h>

#include "../common/siphash.h"
#include "../metadata/limits.h"
#include "../sdp/answer.h"
#include "../session/session_internal.h"
#include "../sip/message.h"

#define SR_MAX_CODECS 8
#define SR_CODEC_NAME_MAX 32

/* Header lines every answer of the SRS carries the same way. */
#define SR_ALLOW_HEADER "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n"
#define SR_ACCEPT_HEADER                                                                           \
  "Accept: application/sdp, multipart/mixed, application/rs-metadata+xml, "                        \
  "application/rs-metadata\r\n"
#define SR_SUPPORTED_HEADER "Supported: siprec\r\n"

struct siprec_handler_config {
  siprec_allocator mem;
  unsigned shards;
  char *contact_user;
  char *user_agent; /* in the handler's copy, never NULL */
  char *media_address;
  uint16_t rtp_low, rtp_high;
  char codec_names[SR_MAX_CODECS][SR_CODEC_NAME_MAX];
  size_t n_codecs;
  int prefer_own_order;
  size_t max_sessions;
  size_t max_message;
  uint32_t t1_ms, t2_ms;
  int refuse_plain;
  uint32_t session_expires_s, min_se_s;
  uint32_t ping_ms, idle_ms, defer_ms;
  size_t max_pending_per_source;
  size_t max_pending, max_pending_ports; /* as set: 0 default, SIZE_MAX none */
  struct siprec_metadata_limits md_limits;
  siprec_log_level log_level;
  /* Media (siprec/media.h): 0 means the media stream's default. */
  uint32_t jitter_ms, frame_ms, audio_rate, no_media_ms;
  /* Snapshots (siprec/store.h). */
  int snapshots;
  uint32_t snapshot_media_ms;
  int has_seal_key;
  uint8_t seal_key[32];
  uint32_t failover_silence_ms; /* 0: an SRC's own failover is not looked for */
};

struct siprec_handler_callbacks {
  siprec_allocator mem;
  siprec_send_cb send;
  siprec_log_cb log;
  siprec_session_offered_cb offered;
  siprec_session_started_cb started;
  siprec_session_updated_cb updated;
  siprec_session_ended_cb ended;
  siprec_port_alloc_cb port_alloc;
  siprec_port_free_cb port_free;
  siprec_random_cb random;
  siprec_acl_cb acl;
  siprec_audio_cb audio;
  siprec_stream_event_cb stream_event;
  siprec_dtmf_cb dtmf;
  siprec_snapshot_cb snapshot;
  siprec_wallclock_cb wallclock;
};

/* Counters (siprec_handler_stat). */
#define SR_END_REASONS 13
#define SR_DROP_REASONS 4
typedef struct sr_handler_stats {
  _Atomic uint64_t active, started, requests_sent;
  _Atomic uint64_t ended[SR_END_REASONS];
  _Atomic uint64_t responses[7]; /* by class, 1-6 */
  _Atomic uint64_t dropped[SR_DROP_REASONS];
  _Atomic uint64_t log_suppressed;
} sr_handler_stats;

/* Kinds of log lines a flood can repeat without end: each kind is delivered
 * at most SR_LOG_BURST times per SR_LOG_WINDOW_S seconds, the rest counted
 * and summed up in one line when the next window opens. */
typedef enum sr_log_class {
  SR_LOG_REFUSED = 0,        /* error answers (refused INVITEs, 503s, ...) */
  SR_LOG_DROPPED,            /* messages dropped without an answer */
  SR_LOG_FOREIGN_SOURCE,     /* in-dialog requests from another address */
  SR_LOG_SHED,               /* unsettled sessions shed under a flood */
  SR_LOG_CLASSES
} sr_log_class;
#define SR_LOG_BURST 10
#define SR_LOG_WINDOW_S 10

#define SR_MEDIA_SHARDS 8
/* Reader slots of the port table (media_ports.c); also the rows of the
 * handler's media counters a thread adds to. */
#define SR_PORT_SLOTS 8

/* How often a media position alone brings a new snapshot, by default. */
#define SR_SNAPSHOT_MEDIA_MS 5000

/* Unsettled INVITE transactions per source address (pending.c). */
typedef struct sr_pending_entry sr_pending_entry;
#define SR_PENDING_BUCKETS 256

struct siprec_handler {
  siprec_allocator mem;
  struct siprec_handler_config cfg; /* strings owned */
  struct siprec_handler_callbacks cbs;
  const char *codec_list[SR_MAX_CODECS + 1];
  void *user;
  siprec_shmap *sessions;
  /* A communication session's key -> its latest recording session (a
   * reference): failover.c. */
  siprec_shmap *failover;
  _Atomic size_t n_sessions;

  /* The built-in port pool: a bitmap over the even ports of the range. */
  pthread_mutex_t ports_lock;
  uint8_t *port_used;
  size_t n_ports, port_next;

  /* Sessions with a timer, a binary min-heap on heap_key (timers.c); each
   * holds a reference to its session. */
  pthread_mutex_t timers_lock;
  siprec_session **heap;
  size_t heap_len, heap_cap;

  pthread_mutex_t pending_lock;
  sr_pending_entry *pending[SR_PENDING_BUCKETS];
  sr_siphash_key pending_key; /* random per handler: sources cannot pick one bucket */
  /* All unsettled INVITEs, oldest first, and their bounds (pending.c). */
  siprec_session *pq_head, *pq_tail;
  size_t pq_count, pq_ports;
  size_t pq_max, pq_max_ports; /* SIZE_MAX: no bound */

  /* Rate limits of repeated log lines (log.c). */
  pthread_mutex_t log_lock;
  struct sr_log_window {
    uint64_t start;
    unsigned lines;
    uint64_t suppressed;
  } log_windows[SR_LOG_CLASSES];

  /* Media: local port -> stream, lock-free for readers (media_ports.c);
   * the media's deadlines in shards (media_timers.c). */
  struct sr_port_page *_Atomic port_pages[256];
  struct sr_port_readers {
    /* Sections open, by phase and thread slot, a cache line each. */
    struct {
      _Atomic unsigned n;
      char pad[60];
    } count[2][SR_PORT_SLOTS];
    _Atomic uint64_t epoch; /* its parity is the phase new sections count in */
    _Atomic bool parked;    /* an entry in the two lists below */
    pthread_mutex_t lock;   /* the lists, and the epoch's changes */
    unsigned drain_phase;   /* the phase `draining` waits for */
    struct sr_port_ent *retired;  /* swapped out since the epoch last moved */
    struct sr_port_ent *draining; /* swapped out before it */
  } readers;
  struct sr_media_shard {
    pthread_mutex_t lock;
    struct sr_media_due *heap; /* min-heap on `at` */
    size_t len, cap;
  } media_shards[SR_MEDIA_SHARDS];
  /* The media counters in rows of their own cache lines, a thread adding
   * to the row of its slot (sr_media_thread_slot): threads feeding media do
   * not bounce one line (siprec_handler_stat sums the rows). */
  struct sr_media_stat_row {
    _Atomic uint64_t v[SR_MSTATS];
    uint64_t pad[24 - SR_MSTATS]; /* more than a cache line between rows' counters */
  } media_stats[SR_MEDIA_SHARDS];

  sr_handler_stats stats;
  int shutting_down; /* siprec_handler_free() is ending every session */
  _Atomic int draining; /* siprec_handler_shutdown(): new INVITEs get 503 */
};

/* A configured interval in the host's clock (ns). */
static inline uint64_t sr_ms(uint32_t ms)
{
  return (uint64_t)ms * UINT64_C(1000000);
}

/* The configured T1 and T2 in the host's clock. */
static inline sr_tx_timers sr_handler_tx_timers(const siprec_handler *h)
{
  sr_tx_timers tm = { sr_ms(h->cfg.t1_ms), sr_ms(h->cfg.t2_ms) };
  return tm;
}

/* Internal helpers shared by the handler's files. */
void sr_handler_log(siprec_handler *h, siprec_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sr_handler_random(siprec_handler *h, void *buf, size_t len);
void sr_handler_tag(siprec_handler *h, char out[SR_TAG_LEN + 1]);
int sr_handler_config_copy(struct siprec_handler_config *dst, const struct siprec_handler_config *src,
                           const siprec_allocator *mem);
void sr_handler_config_release(struct siprec_handler_config *cfg, const siprec_allocator *mem);
void sr_handler_config_defaults(struct siprec_handler_config *cfg);

/* Counting what goes out: a response or request the handler wrote. */
void sr_handler_count_message(siprec_handler *h, const char *data, size_t len);

/* Timers (timers.c): put `s` (its lock held) in the heap at its next
 * deadline, or out of it when it has none; take it out for good. */
void sr_timers_schedule(siprec_handler *h, siprec_session *s);
void sr_timers_remove(siprec_handler *h, siprec_session *s);
/* 1 when the timer heap holds a reference to `s`. */
int sr_timers_holds(siprec_handler *h, siprec_session *s);
void sr_timers_free(siprec_handler *h);
/* Sessions in the heap; and up to `max` due at `now`, taken out of it (its
 * references become the caller's): how many. */
size_t sr_timers_count(siprec_handler *h);
size_t sr_timers_take_due(siprec_handler *h, uint64_t now, siprec_session **due, size_t max);

/* The timers a session runs, in the order expire acts on those due at the
 * same time. */
typedef enum sr_timer {
  SR_TIMER_DECISION = 0,    /* PENDING: the host's decision, or the 487 after a CANCEL */
  SR_TIMER_INVITE_TX,       /* the INVITE transaction: retransmission, Timer H (ACK) */
  SR_TIMER_BYE_TX,          /* LINGER: Timer J of the SRC's BYE */
  SR_TIMER_CLIENT_TX,       /* the SRS's request: retransmission, Timer F */
  SR_TIMER_SESSION_EXPIRES, /* RFC 4028: the session timer ran out */
  SR_TIMER_IDLE,            /* the idle limit */
  SR_TIMER_KEEPALIVE,       /* the SRS refreshes the session timer, or pings with OPTIONS */
  SR_TIMER_ACK_KEPT,        /* the ACK of the SRS's re-INVITE is no longer kept */
  SR_TIMER_REOFFER,         /* the SRS's re-INVITE is due (again) */
  SR_TIMERS
} sr_timer;

/* When timer k of `s` (its lock held) falls due in its state, UINT64_MAX
 * when it does not run: the one table of which timer runs when, as the
 * session's transactions report their deadlines (timers.c). The heap is
 * keyed on the earliest; expire.c acts on the due ones. */
uint64_t sr_timer_at(const siprec_handler *h, const siprec_session *s, sr_timer k);

/* Unsettled INVITEs (pending.c). The effective overall bounds from the
 * config (at creation). */
#define SR_PENDING_DEFAULT 1000
void sr_pending_init(siprec_handler *h);
/* A slot of its source for new session `s` (from `addr`): 0, SIPREC_EAGAIN
 * when the source is at its bound, or SIPREC_ENOMEM. */
int sr_pending_take(siprec_handler *h, siprec_session *s, const struct sockaddr *addr);
/* Into the overall queue, holding `ports` pool ports: 0, or SIPREC_EAGAIN
 * at a bound. Sets the session's retransmission budget from the INVITE's
 * length when the queue is above half a bound. */
int sr_pending_enter(siprec_handler *h, siprec_session *s, size_t ports, size_t request_len);
/* Its 2xx is out: it may be shed from now on. */
void sr_pending_sheddable(siprec_handler *h, siprec_session *s);
/* The oldest sheddable session, with a reference, or NULL; and whether a
 * session (its lock held) is still sheddable. */
siprec_session *sr_pending_victim(siprec_handler *h);
int sr_pending_is_sheddable(siprec_handler *h, siprec_session *s);
/* Settled or ended: its slots go back (idempotent). */
void sr_pending_leave(siprec_handler *h, siprec_session *s);
size_t sr_pending_count(siprec_handler *h);
void sr_pending_free(siprec_handler *h);

/* A log line of a kind a flood repeats (log.c): rate-limited, counted. */
void sr_handler_log_limited(siprec_handler *h, sr_log_class cls, uint64_t now,
                            siprec_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---------------------------------------------------------------------- */
/* Media's port table (media_ports.c)                                        */

/* What a local port leads to: a session's stream, its RTP or RTCP port.
 * Immutable but for `m`, and `next_retired` once swapped out. */
typedef struct sr_port_ent {
  siprec_session *s;                    /* a reference the entry holds */
  struct sr_session_media *_Atomic m;   /* s->media[index] once made (cached) */
  size_t index;
  uint16_t rtp_port;
  int rtcp;
  struct sr_port_ent *next_retired;     /* swapped out, waiting for readers */
} sr_port_ent;
/* Where the last datagram of a port went: its media slot, stream, decoder
 * and the decoder's state. Kept beside the port's entry pointer in the
 * table's page, so that one line read hints the entry and all of these at
 * once rather than one pointer's line after another (each a cache miss
 * with thousands of streams). Only hints: a stale one costs a wasted
 * prefetch, nothing reads through them. */
typedef struct sr_port_hints {
  const void *m, *stream, *dec, *state;
} sr_port_hints;
/* A reader section of the port table: while it lasts, no entry it finds is
 * freed (sr_media_ports_enter/_leave; the scheme is in media_ports.c). */
typedef struct sr_port_section {
  unsigned phase, slot;
} sr_port_section;
void sr_media_ports_enter(siprec_handler *h, sr_port_section *sec);
void sr_media_ports_leave(siprec_handler *h, const sr_port_section *sec);
/* The entry of local port `port`, or NULL; valid until the caller leaves
 * the section it is in. The port's hints are copied to `hints` and, unless
 * the caller did already (`hinted`: sr_media_ports_prefetch_lines), what
 * they name is prefetched before the entry is read. */
sr_port_ent *sr_media_ports_find(siprec_handler *h, uint16_t port, bool hinted,
                                 sr_port_hints *hints);
/* Hints slot m's per-datagram lines (NULL: nothing). */
void sr_media_slot_prefetch(const struct sr_session_media *m);
/* A datagram of `port` comes soon (siprec_handler_media_batch): first its
 * cell of the table hinted, later, once the cell has arrived, what the
 * cell's hints name. Nothing is read through a hint, nothing changes. */
void sr_media_ports_prefetch_cell(siprec_handler *h, uint16_t port);
void sr_media_ports_prefetch_lines(siprec_handler *h, uint16_t port);
/* The port's hints are now `now` (`was`: what find gave): written only
 * when they moved, so that the page's line stays clean. */
void sr_media_ports_hint(siprec_handler *h, uint16_t port, const sr_port_hints *was,
                         const sr_port_hints *now);
/* Entries swapped out of the table that no section can hold any more:
 * freed (also done by every change of the table; siprec_handler_expire
 * calls it so that a quiet table gives them back too). */
void sr_media_ports_reclaim(siprec_handler *h);
/* This thread's slot (0 .. SR_PORT_SLOTS - 1): threads take slots in turn,
 * so two threads feeding media use different rows of shared counters. */
unsigned sr_media_thread_slot(void);
/* Session `s` (its lock held) answered with its streams: their ports (and
 * the RTCP ports, port + 1) lead to it. SIPREC_ENOMEM leaves ports out
 * (their datagrams are not found). */
int sr_media_ports_register(siprec_handler *h, siprec_session *s);
/* Port `port` of `s` (and its RTCP port) lead nowhere any more; called
 * before the port goes back. */
void sr_media_ports_clear(siprec_handler *h, siprec_session *s, uint16_t port);
void sr_media_ports_free(siprec_handler *h);

/* ---------------------------------------------------------------------- */
/* Media's deadlines (media_timers.c)                                       */

typedef struct sr_media_due {
  uint64_t at;
  siprec_session *s; /* a reference */
  size_t index;
} sr_media_due;
/* Stream `index` of `s` has work at `at` (a reference to s is taken). 0
 * or SIPREC_ENOMEM. */
int sr_media_timers_arm(siprec_handler *h, siprec_session *s, size_t index, uint64_t at);
/* Every entry of stream `index` of `s` out (it ended; the caller holds s). */
void sr_media_timers_disarm(siprec_handler *h, siprec_session *s, size_t index);
/* The earliest media deadline, UINT64_MAX when none. */
uint64_t sr_media_timers_next(siprec_handler *h);
/* Up to `max` entries due at `now`, taken out (their references the
 * caller's), from shard `shard`. */
size_t sr_media_timers_take_due(siprec_handler *h, unsigned shard, uint64_t now,
                                sr_media_due *out, size_t max);
void sr_media_timers_init(siprec_handler *h);
void sr_media_timers_free(siprec_handler *h);

/* ---------------------------------------------------------------------- */
/* Snapshots (snapshot_emit.c; restoring: snapshot_restore.c)            */

/* The wall clock (the host's callback, or CLOCK_REALTIME), UTC ns. */
uint64_t sr_handler_wallclock(siprec_handler *h);
/* Session `s` (its lock held) changed at `now`: its snapshot to the host
 * (with snapshots enabled, and while it is live: PENDING to CONFIRMED). */
void sr_snapshot_emit(siprec_handler *h, siprec_session *s, uint64_t now);
/* Session `s` (its lock held, not ENDED) changed at `now`: its timers
 * follow its state, and its snapshot goes to the host. */
void sr_session_changed(siprec_handler *h, siprec_session *s, uint64_t now);
/* It ended: the host may delete its snapshot (once, if one went out). */
void sr_snapshot_drop(siprec_handler *h, siprec_session *s);

/* ---------------------------------------------------------------------- */
/* An SRC's own failover (failover.c)                                      */

/* A new session (its lock held, metadata applied): its communication
 * session's key from `m`. 0 or SIPREC_ENOMEM. */
int sr_failover_key(siprec_handler *h, siprec_session *s, const sr_sip_msg *m);
/* Before the offered callback (s locked, in no map yet): s continues the
 * latest session of its key when that one has gone silent. */
void sr_failover_match(siprec_handler *h, siprec_session *s, uint64_t now);
/* s was answered (no lock held): the session it continues ends as
 * superseded, and s becomes its key's latest. */
void sr_failover_take_over(siprec_handler *h, siprec_session *s, uint64_t now);

/* Non-NULL while a host callback runs on this thread: the session it is
 * about, or the handler for the log callback (host requests made from
 * inside any callback get SIPREC_EBUSY instead of a deadlock). */
extern _Thread_local const void *sr_in_callback;

#endif
