/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"

void srv_opts_usage(FILE *f)
{
  fprintf(f,
          "usage: siprec-server [OPTION]...\n"
          "A SIPREC Session Recording Server (RFC 7866) on libsiprec and libuv.\n"
          "  --listen ADDR:PORT     UDP and TCP on ADDR:PORT, repeatable; IPv6 as [::1]:5060;\n"
          "                         port 0: one free port, the same for UDP and TCP\n"
          "                         (default 127.0.0.1:5060); give concrete addresses, they\n"
          "                         go into Contact\n"
          "  --out DIR              write each session's last event to DIR/SESSION.json and\n"
          "                         its recording to DIR/SESSION/ (one WAV per stream,\n"
          "                         stereo.wav for two streams, manifest.json,\n"
          "                         transcript.jsonl; mode 0600)\n"
          "  --record off|wav|flac  the recordings' format (default wav with --out; WAV\n"
          "                         becomes RF64 past 4 GiB)\n"
          "  --record-rate HZ       the audio's sample rate, files and recogniser, 8000 to\n"
          "                         48000 (default 8000, the telephone rate, which costs\n"
          "                         no resampling for G.711; 16000 with --transcribe, and\n"
          "                         to keep wideband codecs' (G.722, Opus) upper band)\n"
          "  --transcribe off|pocketsphinx\n"
          "                         transcribe each stream (Debian pocketsphinx-en-us);\n"
          "                         utterances go to DIR/SESSION/transcript.jsonl and stdout\n"
          "  --transcribe-max N     streams transcribed at once (default two per core);\n"
          "                         beyond, streams are recorded, not transcribed\n"
          "  --transcribe-workers N recogniser threads (default one per core)\n"
          "  --on-complete CMD      run CMD FOLDER once a recording and its transcript are\n"
          "                         complete (via /bin/sh)\n"
          "  --on-complete-timeout-ms N\n"
          "                         kill it after N ms (default 60000)\n"
          "  --on-complete-max N    at most N at once, the others wait (default 4)\n"
          "  --min-free-mb N        new sessions get 503 while the recordings' file system\n"
          "                         has less free (default 100; 0: no check)\n"
          "  --record-queue-mb N    recorded audio waiting for the disk, at most (default\n"
          "                         256, at least 1); beyond, it is dropped and written\n"
          "                         as silence\n"
          "  --metrics ADDR:PORT    Prometheus metrics at http://ADDR:PORT/metrics\n");
  fprintf(f,
          "  --state DIR            keep every session's snapshot in DIR (a file each, mode\n"
          "                         0600) and restore them at start: a server killed mid-call\n"
          "                         and started again goes on with its calls, recording into\n"
          "                         the same folders (LABEL.2.wav...; docs/recovery.md)\n"
          "  --state-key FILE       the 32 raw bytes sealing SRTP keys in snapshots (default:\n"
          "                         DIR/key, made once with random bytes, mode 0600)\n"
          "  --on-term bye|handover on SIGTERM, end each session with a BYE (default), or\n"
          "                         hand them over to the next process (needs --state: no\n"
          "                         BYE, snapshots kept, recordings closed, no manifest yet)\n"
          "  --redis ADDR:PORT      keep the snapshots in Redis instead (with --state DIR for\n"
          "                         the seal key and the recordings' resume state), shared\n"
          "                         with other nodes: each renews a heartbeat and takes over\n"
          "                         the sessions of a node whose heartbeat stops (new ports,\n"
          "                         a re-INVITE to each SRC; docs/deployment.md)\n"
          "  --redis-sentinel ADDR:PORT[,ADDR:PORT...]\n"
          "                         find the Redis master through these sentinels instead\n"
          "  --redis-master NAME    the master's name at the sentinels (default mymaster)\n"
          "  --redis-prefix P       the keys' prefix (default siprec:)\n"
          "  --redis-ttl S          a session's keys expire S s after its last change or\n"
          "                         refresh (default 3600; refreshed every S/3 while it lives)\n"
          "  --node ID              this node's name among them (default: the first\n"
          "                         --listen's ADDR:PORT)\n"
          "  --heartbeat-ms N       renew the heartbeat every N ms (default 500)\n"
          "  --node-ttl-ms N        a node whose heartbeat is N ms old is dead (default 1500)\n"
          "  --allow CIDR           take messages only from these sources, repeatable\n"
          "                         (e.g. 192.0.2.0/24, ::1/128, 198.51.100.7)\n"
          "  --media-address ADDR   the address put in SDP answers\n"
          "  --rtp-ports LO-HI      the RTP port range (default 20000-39999)\n"
          "  --media-read-ms N      paced media reads: the media sockets are read every N ms\n"
          "                         while busy, a few datagrams a system call (each with\n"
          "                         its kernel arrival time), for less CPU; audio is\n"
          "                         delivered up to N ms later (default %d, at most %d;\n"
          "                         0: at every readiness)\n"
          "  --media-io io_uring|epoll\n"
          "                         how the media sockets are read: io_uring (the default\n"
          "                         where the build and the kernel have it, Linux 6.1+; a\n"
          "                         read of every socket is one system call) or epoll and\n"
          "                         recvmmsg (a system call a socket)\n"
          "  --max-sessions N       refuse INVITEs with 503 beyond N sessions (0: no limit)\n"
          "  --max-pending-per-source N\n"
          "                         unsettled INVITEs taken from one address (default 32)\n"
          "  --max-pending N        unsettled INVITEs from all addresses together (default: a\n"
          "                         quarter of --max-sessions, or 1000; 0: no bound); at the\n"
          "                         bound the oldest one answered but not ACKed is dropped\n"
          "  --max-pending-ports N  RTP ports those may hold (default: a quarter of\n"
          "                         --rtp-ports; 0: no bound)\n"
          "  --t1-ms N, --t2-ms N   RFC 3261 timers T1 and T2 (default 500 and 4000)\n"
          "  --session-expires S    RFC 4028 interval the SRS proposes (default 1800; 0: none)\n"
          "  --min-se S             smallest Session-Expires taken (default 90)\n"
          "  --ping-interval-ms N   OPTIONS pings to SRCs without a session timer (0: none)\n"
          "  --idle-limit-ms N      end a session after N ms without a message (0: no limit)\n"
          "  --defer-ms N           defer every new session (100 Trying) and accept it N ms\n"
          "                         later, as a licence check would\n"
          "  --defer-timeout-ms N   refuse (503) a deferred session not decided within N ms\n"
          "  --verbose              the library's debug log on stderr\n"
          "  --help                 this text\n",
          SRV_MEDIA_READ_MS, SRV_MEDIA_READ_MS_MAX);
  fprintf(f,
          "TCP connections and descriptors (0: no bound):\n"
          "  --tcp-max-conns N      connections open at once (default %d)\n"
          "  --tcp-max-conns-per-ip N\n"
          "                         ... from one address (default %d)\n"
          "  --tcp-idle-timeout-ms N\n"
          "                         close a connection without traffic and without\n"
          "                         sessions after N ms (default %d)\n"
          "  --tcp-message-timeout-ms N\n"
          "                         close a connection whose message (or first message\n"
          "                         since the accept) is not complete N ms after it began\n"
          "                         (default %d)\n"
          "  --tcp-max-queue BYTES  answers kept for a peer that does not read; reading\n"
          "                         from it stops at half, resumes at a quarter, and it\n"
          "                         is closed beyond (default %d)\n"
          "  --tcp-write-timeout-ms N\n"
          "                         close a connection whose reading stayed stopped that\n"
          "                         long (default %d)\n"
          "  --fd-reserve N         descriptors connections always leave free, for session\n"
          "                         files (default %d); the soft descriptor limit is raised\n"
          "                         to the hard one at start\n"
          "Connections outside --allow are closed when accepted. Logs one line per\n"
          "session start, update, end (and deferral) on stdout; SIGTERM or SIGINT ends\n"
          "every session with a BYE and exits 0.\n",
          SRV_TCP_MAX_CONNS, SRV_TCP_MAX_CONNS_PER_IP, SRV_TCP_IDLE_TIMEOUT_MS,
          SRV_TCP_MESSAGE_TIMEOUT_MS, SRV_TCP_MAX_QUEUE, SRV_TCP_WRITE_TIMEOUT_MS,
          SRV_FD_RESERVE);
}

static int parse_cidr(const char *text, struct srv_cidr *c)
{
  char addr[64];
  const char *slash = strchr(text, '/');
  size_t n = slash ? (size_t)(slash - text) : strlen(text);
  if (n == 0 || n >= sizeof addr)
    return -1;
  memcpy(addr, text, n);
  addr[n] = '\0';
  memset(c, 0, sizeof *c);
  unsigned max;
  if (inet_pton(AF_INET, addr, c->net) == 1) {
    c->family = AF_INET;
    max = 32;
  } else if (inet_pton(AF_INET6, addr, c->net) == 1) {
    c->family = AF_INET6;
    max = 128;
  } else {
    return -1;
  }
  c->bits = max;
  if (slash) {
    char *end;
    long b = strtol(slash + 1, &end, 10);
    if (slash[1] == '\0' || *end != '\0' || b < 0 || b > (long)max)
      return -1;
    c->bits = (unsigned)b;
  }
  return 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
  unsigned whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, whole) != 0)
    return 0;
  if (rest == 0)
    return 1;
  unsigned char mask = (unsigned char)(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

int srv_opts_allowed(const struct srv_opts *o, const struct sockaddr *sa)
{
  if (o->nallow == 0)
    return 1;
  const unsigned char *bytes;
  int family = sa->sa_family;
  if (family == AF_INET) {
    bytes = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
  } else if (family == AF_INET6) {
    bytes = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    /* A v4-mapped source on a dual-stack socket is judged as IPv4. */
    if (IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
      bytes += 12;
      family = AF_INET;
    }
  } else {
    return 0;
  }
  for (size_t i = 0; i < o->nallow; i++)
    if (o->allow[i].family == family && prefix_equal(o->allow[i].net, bytes, o->allow[i].bits))
      return 1;
  return 0;
}

static int parse_number(const char *flag, const char *text, long max, long *out)
{
  char *end;
  errno = 0;
  long v = text ? strtol(text, &end, 10) : -1;
  if (!text || errno || *text == '\0' || *end != '\0' || v < 0 || v > max) {
    fprintf(stderr, "siprec-server: %s wants a number from 0 to %ld\n", flag, max);
    return -1;
  }
  *out = v;
  return 0;
}

/* The flags that take a plain number, and where each goes. */
struct number_flag {
  const char *name;
  long max;
  size_t offset;
};

#define NUMBER_FLAG(n, m, field) { n, m, offsetof(struct srv_opts, field) }
static const struct number_flag number_flags[] = {
  NUMBER_FLAG("--max-sessions", 1000000000L, max_sessions),
  NUMBER_FLAG("--max-pending-per-source", 1000000000L, max_pending_per_source),
  NUMBER_FLAG("--max-pending", 1000000000L, max_pending),
  NUMBER_FLAG("--max-pending-ports", 1000000000L, max_pending_ports),
  NUMBER_FLAG("--t1-ms", 60000, t1_ms),
  NUMBER_FLAG("--t2-ms", 600000, t2_ms),
  NUMBER_FLAG("--session-expires", 86400, session_expires_s),
  NUMBER_FLAG("--min-se", 86400, min_se_s),
  NUMBER_FLAG("--ping-interval-ms", 86400000L, ping_interval_ms),
  NUMBER_FLAG("--idle-limit-ms", 86400000L, idle_limit_ms),
  NUMBER_FLAG("--defer-ms", 3600000L, defer_ms),
  NUMBER_FLAG("--defer-timeout-ms", 3600000L, defer_timeout_ms),
  NUMBER_FLAG("--tcp-max-conns", 1000000000L, tcp_max_conns),
  NUMBER_FLAG("--tcp-max-conns-per-ip", 1000000000L, tcp_max_conns_per_ip),
  NUMBER_FLAG("--tcp-idle-timeout-ms", 86400000L, tcp_idle_timeout_ms),
  NUMBER_FLAG("--tcp-message-timeout-ms", 86400000L, tcp_message_timeout_ms),
  NUMBER_FLAG("--tcp-write-timeout-ms", 86400000L, tcp_write_timeout_ms),
  NUMBER_FLAG("--tcp-max-queue", 1073741824L, tcp_max_queue),
  NUMBER_FLAG("--fd-reserve", 1000000L, fd_reserve),
  NUMBER_FLAG("--record-rate", 48000, record_rate),
  NUMBER_FLAG("--media-read-ms", SRV_MEDIA_READ_MS_MAX, media_read_ms),
  NUMBER_FLAG("--transcribe-max", 100000, transcribe_max),
  NUMBER_FLAG("--transcribe-workers", 1024, transcribe_workers),
  NUMBER_FLAG("--on-complete-timeout-ms", 86400000L, on_complete_timeout_ms),
  NUMBER_FLAG("--on-complete-max", 1000, on_complete_max),
  NUMBER_FLAG("--min-free-mb", 100000000L, min_free_mb),
  NUMBER_FLAG("--record-queue-mb", 1048576L, record_queue_mb),
  NUMBER_FLAG("--redis-ttl", 31536000L, redis_ttl_s),
  NUMBER_FLAG("--heartbeat-ms", 3600000L, heartbeat_ms),
  NUMBER_FLAG("--node-ttl-ms", 3600000L, node_ttl_ms),
};

static int parse_rtp_ports(const char *text, struct srv_opts *o)
{
  char *end;
  long lo = text ? strtol(text, &end, 10) : -1;
  if (!text || *end != '-')
    return -1;
  const char *h = end + 1;
  long hi = strtol(h, &end, 10);
  if (*h == '\0' || *end != '\0' || lo < 1 || hi > 65535 || lo > hi)
    return -1;
  o->rtp_low = lo;
  o->rtp_high = hi;
  return 0;
}

int srv_opts_parse(struct srv_opts *o, int argc, char **argv)
{
  memset(o, 0, sizeof *o);
  for (size_t k = 0; k < sizeof number_flags / sizeof number_flags[0]; k++)
    *(long *)((char *)o + number_flags[k].offset) = -1;
  o->rtp_low = o->rtp_high = -1;
  o->tcp_max_conns = SRV_TCP_MAX_CONNS;
  o->tcp_max_conns_per_ip = SRV_TCP_MAX_CONNS_PER_IP;
  o->tcp_idle_timeout_ms = SRV_TCP_IDLE_TIMEOUT_MS;
  o->tcp_message_timeout_ms = SRV_TCP_MESSAGE_TIMEOUT_MS;
  o->tcp_write_timeout_ms = SRV_TCP_WRITE_TIMEOUT_MS;
  o->tcp_max_queue = SRV_TCP_MAX_QUEUE;
  o->fd_reserve = SRV_FD_RESERVE;
  o->record = -2; /* not given */

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help")) {
      srv_opts_usage(stdout);
      return 1;
    }
    if (!strcmp(a, "--verbose")) {
      o->verbose = 1;
      continue;
    }
    const struct number_flag *nf = NULL;
    for (size_t k = 0; k < sizeof number_flags / sizeof number_flags[0]; k++)
      if (!strcmp(a, number_flags[k].name))
        nf = &number_flags[k];
    if (nf) {
      if (parse_number(a, v, nf->max, (long *)((char *)o + nf->offset)) < 0)
        return -1;
      i++;
      continue;
    }
    if (!v) {
      fprintf(stderr, "siprec-server: unknown option or missing value: %s (see --help)\n", a);
      return -1;
    }
    i++;
    if (!strcmp(a, "--listen")) {
      if (o->nlisten == SRV_MAX_LISTEN || parse_hostport(v, SRV_SIP_PORT, &o->listen[o->nlisten]) < 0) {
        fprintf(stderr, "siprec-server: --listen %s: want ADDR:PORT or [V6]:PORT (at most %d)\n",
                v, SRV_MAX_LISTEN);
        return -1;
      }
      o->nlisten++;
    } else if (!strcmp(a, "--allow")) {
      if (o->nallow == SRV_MAX_ALLOW || parse_cidr(v, &o->allow[o->nallow]) < 0) {
        fprintf(stderr, "siprec-server: --allow %s: want ADDR or ADDR/BITS (at most %d)\n", v,
                SRV_MAX_ALLOW);
        return -1;
      }
      o->nallow++;
    } else if (!strcmp(a, "--out")) {
      o->out_dir = v;
    } else if (!strcmp(a, "--record")) {
      if (!strcmp(v, "off"))
        o->record = -1;
      else if (!strcmp(v, "wav"))
        o->record = 0;
      else if (!strcmp(v, "flac"))
        o->record = 1;
      else {
        fprintf(stderr, "siprec-server: --record %s: want off, wav or flac\n", v);
        return -1;
      }
    } else if (!strcmp(a, "--media-io")) {
      if (!strcmp(v, "io_uring"))
        o->media_epoll = 0;
      else if (!strcmp(v, "epoll"))
        o->media_epoll = 1;
      else {
        fprintf(stderr, "siprec-server: --media-io %s: want io_uring or epoll\n", v);
        return -1;
      }
    } else if (!strcmp(a, "--transcribe")) {
      if (strcmp(v, "off") && strcmp(v, "pocketsphinx")) {
        fprintf(stderr, "siprec-server: --transcribe %s: want off or pocketsphinx\n", v);
        return -1;
      }
      o->transcribe = strcmp(v, "off") ? v : NULL;
    } else if (!strcmp(a, "--state")) {
      o->state_dir = v;
    } else if (!strcmp(a, "--state-key")) {
      o->state_key = v;
    } else if (!strcmp(a, "--on-term")) {
      if (strcmp(v, "bye") && strcmp(v, "handover")) {
        fprintf(stderr, "siprec-server: --on-term %s: want bye or handover\n", v);
        return -1;
      }
      o->on_term_handover = !strcmp(v, "handover");
    } else if (!strcmp(a, "--redis")) {
      o->redis = v;
    } else if (!strcmp(a, "--redis-sentinel")) {
      o->redis_sentinel = v;
    } else if (!strcmp(a, "--redis-master")) {
      o->redis_master = v;
    } else if (!strcmp(a, "--redis-prefix")) {
      o->redis_prefix = v;
    } else if (!strcmp(a, "--node")) {
      o->node = v;
    } else if (!strcmp(a, "--on-complete")) {
      o->on_complete = v;
    } else if (!strcmp(a, "--metrics")) {
      if (!strchr(v, ':') || parse_hostport(v, SRV_SIP_PORT, &o->metrics) < 0) {
        fprintf(stderr, "siprec-server: --metrics %s: want ADDR:PORT\n", v);
        return -1;
      }
      o->has_metrics = 1;
    } else if (!strcmp(a, "--media-address")) {
      o->media_address = v;
    } else if (!strcmp(a, "--rtp-ports")) {
      if (parse_rtp_ports(v, o) < 0) {
        fprintf(stderr, "siprec-server: --rtp-ports %s: want LO-HI within 1-65535\n", v);
        return -1;
      }
    } else {
      fprintf(stderr, "siprec-server: unknown option %s (see --help)\n", a);
      return -1;
    }
  }
  if (o->nlisten == 0)
    parse_hostport("127.0.0.1", SRV_SIP_PORT, &o->listen[o->nlisten++]);
  if (o->record == -2)
    o->record = o->out_dir ? 0 : -1;
  if (o->record_rate < 0)
    o->record_rate = o->transcribe ? 16000 : 8000;
  if (o->media_read_ms < 0)
    o->media_read_ms = SRV_MEDIA_READ_MS;
  if (o->record_rate < 8000) {
    fprintf(stderr, "siprec-server: --record-rate %ld: from 8000 to 48000\n", o->record_rate);
    return -1;
  }
  if (o->transcribe && o->record_rate != 16000) {
    fprintf(stderr, "siprec-server: --transcribe pocketsphinx hears 16 kHz: --record-rate 16000\n");
    return -1;
  }
  if ((o->state_key || o->on_term_handover) && !o->state_dir) {
    fprintf(stderr, "siprec-server: --state-key and --on-term handover need --state\n");
    return -1;
  }
  if ((o->redis || o->redis_sentinel) && !o->state_dir) {
    fprintf(stderr, "siprec-server: --redis and --redis-sentinel need --state (the seal key, "
                    "the recordings' resume state)\n");
    return -1;
  }
  if (o->redis && o->redis_sentinel) {
    fprintf(stderr, "siprec-server: --redis or --redis-sentinel, not both\n");
    return -1;
  }
  if (o->on_complete && !o->out_dir) {
    fprintf(stderr, "siprec-server: --on-complete needs --out\n");
    return -1;
  }
  if (o->on_complete_timeout_ms < 0)
    o->on_complete_timeout_ms = 60000;
  if (o->on_complete_max < 1)
    o->on_complete_max = 4;
  if (o->min_free_mb < 0)
    o->min_free_mb = 100;
  return 0;
}
