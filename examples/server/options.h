/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's command line: what to listen on, who may talk to it, where
 * it writes, and the handler settings it passes on.
 */
#ifndef SIPREC_SERVER_OPTIONS_H
#define SIPREC_SERVER_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define SRV_MAX_LISTEN 16
#define SRV_MAX_ALLOW 64
/* The port of an address given without one (examples/common/hostport.h):
 * SIP's own (RFC 3261). */
#define SRV_SIP_PORT 5060

/* The defaults of the TCP and descriptor bounds (--help says them). */
#define SRV_TCP_MAX_CONNS 1024
#define SRV_TCP_MAX_CONNS_PER_IP 64
#define SRV_TCP_IDLE_TIMEOUT_MS 300000
#define SRV_TCP_MESSAGE_TIMEOUT_MS 10000
#define SRV_TCP_WRITE_TIMEOUT_MS 10000
#define SRV_TCP_MAX_QUEUE 262144
#define SRV_FD_RESERVE 64
/* Paced media reads (--media-read-ms): the default and the largest pause.
 * At 60 a socket holds three datagrams of a 20 ms stream at each read. The
 * audio reaches the recorder and its file that much later: a SIGKILL loses
 * at most N + 225 (the write interval, calls.h) + 200 (the jitter depth,
 * with a hole pending) ms of it, 485 at the default; the largest, 75, keeps
 * that within the 0.5 s bound. The recorder reads an SRC's clock drift from
 * the packets' kernel arrival times, which pacing does not move. */
#define SRV_MEDIA_READ_MS 60
#define SRV_MEDIA_READ_MS_MAX 75

/** An address block from --allow. */
struct srv_cidr {
  int family; /* AF_INET or AF_INET6 */
  unsigned char net[16];
  unsigned bits;
};

/** Every flag; a handler setting left at -1 was not given (the handler's
 * default); the TCP bounds start at the defaults above. */
struct srv_opts {
  struct sockaddr_storage listen[SRV_MAX_LISTEN];
  size_t nlisten;
  struct srv_cidr allow[SRV_MAX_ALLOW];
  size_t nallow;
  const char *out_dir;       /* NULL: write no files */
  const char *media_address; /* NULL: the address each INVITE came to */
  long rtp_low, rtp_high;
  long max_sessions;
  long t1_ms, t2_ms;
  long session_expires_s, min_se_s;
  long ping_interval_ms;
  long idle_limit_ms;
  long defer_ms;         /* defer every new session, accept it this much later */
  long defer_timeout_ms; /* the handler's limit for a deferred session */
  long max_pending_per_source;
  long max_pending, max_pending_ports; /* -1: the library's default; 0: no bound */
  /* TCP connections and descriptors (net_limits), the defaults above when
   * not given */
  long tcp_max_conns, tcp_max_conns_per_ip;
  long tcp_idle_timeout_ms, tcp_message_timeout_ms, tcp_write_timeout_ms;
  long tcp_max_queue;
  long fd_reserve;
  /* Recording and transcription (examples/server/calls.h) */
  int record;               /* -1 off, 0 wav, 1 flac (rec_format); wav by default with --out */
  long media_read_ms;       /* paced media reads: the pause after a wakeup (0: none) */
  int media_epoll;          /* --media-io epoll: not io_uring even where it works */
  long record_rate;         /* Hz, the frames' and the files' rate (default 16000) */
  const char *transcribe;   /* NULL or "pocketsphinx" */
  long transcribe_max;      /* streams at once; -1: from the cores */
  long transcribe_workers;  /* threads; -1: one per core */
  const char *on_complete;  /* command run on each finished recording's folder */
  long on_complete_timeout_ms, on_complete_max;
  long min_free_mb;         /* new sessions get 503 below this much free space */
  long record_queue_mb;     /* the recordings' writer queue, at most; -1: its default */
  /* Recovery (docs/recovery.md) */
  const char *state_dir;    /* --state: session snapshots kept here; NULL: none */
  const char *state_key;    /* --state-key: the 32-byte seal key's file */
  int on_term_handover;     /* --on-term handover: SIGTERM hands sessions over */
  /* Several nodes on one Redis (docs/deployment.md) */
  const char *redis;          /* --redis ADDR:PORT (standalone) */
  const char *redis_sentinel; /* --redis-sentinel ADDR:PORT[,...] */
  const char *redis_master;   /* --redis-master NAME (default mymaster) */
  const char *redis_prefix;   /* --redis-prefix P (default siprec:) */
  long redis_ttl_s;           /* --redis-ttl S: a session key's TTL (default 3600) */
  const char *node;           /* --node ID (default: the first --listen's ADDR:PORT) */
  long heartbeat_ms;          /* --heartbeat-ms N (default 500) */
  long node_ttl_ms;           /* --node-ttl-ms N: silent this long, a node is dead (1500) */
  struct sockaddr_storage metrics; /* --metrics ADDR:PORT */
  int has_metrics;
  int verbose;
};

/** Print the usage text, every flag. */
void srv_opts_usage(FILE *f);

/**
 * Fill `o` from argv; without --listen, 127.0.0.1:5060.
 * @return 0, 1 when --help was printed (exit 0), -1 after printing why the
 *         command line is wrong (exit 2)
 */
int srv_opts_parse(struct srv_opts *o, int argc, char **argv);

/** Non-zero when `sa` may talk to the server: no --allow given, or it falls
 * in one of the blocks. */
int srv_opts_allowed(const struct srv_opts *o, const struct sockaddr *sa);

#endif
