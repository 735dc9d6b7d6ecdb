/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hostport.h"
#include "util.h"

void cl_usage(FILE *f)
{
  fprintf(f,
          "usage: siprec-client --server ADDR:PORT --stream SPEC [--stream SPEC]... [OPTION]...\n"
          "A SIPREC recording client (SRC, RFC 7866): places one recording call over UDP,\n"
          "streams each file as RTP in 20 ms packets, ends it with BYE, and prints one JSON\n"
          "object on stdout.\n"
          "  --server ADDR:PORT   the SRS (IPv6 as [::1]:5060)\n"
          "  --local ADDR[:PORT]  the address to send from and put in SIP and SDP\n"
          "                       (default 127.0.0.1, or ::1 for an IPv6 server; port 0: any)\n"
          "  --stream SPEC        a stream, repeatable (at most %d): comma-separated\n"
          "                       label=L,codec=C,file=PATH,rate=HZ,name=NAME,aor=URI\n"
          "                       codec: %s (default pcmu)\n"
          "                       file: raw s16le mono at rate (default 8000), resampled\n"
          "                       to the codec's rate; label defaults to the stream's number\n"
          "                       from 1, aor to sip:partyN@example.com\n"
          "  --seed N             the media's randomness (SSRCs, first sequence numbers and\n"
          "                       timestamps, SRTP keys, loss, reordering) from N (default:\n"
          "                       from getrandom); SIP's Call-ID, tags, branches and the\n"
          "                       metadata's ids are fresh on every run\n"
          "  --pace F             1: real time (default); 0: as fast as possible; F: F times\n"
          "  --loss PCT           drop PCT%% of the packets (not sent)\n"
          "  --reorder PCT        swap PCT%% of the packets with the next one\n"
          "  --srtp               RTP/SAVP with SDES (a=crypto AES_CM_128_HMAC_SHA1_80)\n"
          "  --rtcp               RTCP sender reports every 5 s of media, and an RTCP BYE\n"
          "  --rtcp-mux           offer a=rtcp-mux (RTCP on the RTP port when answered)\n"
          "  --pause-at SEC       at SEC of media, re-INVITE every stream a=inactive\n"
          "  --resume-at SEC      at SEC of media, re-INVITE them sendonly again\n"
          "  --duration SEC       end the call after SEC of media (default: when every\n"
          "                       file has been sent; a stream stops at its file's end)\n"
          "  --write-payloads DIR DIR/LABEL.payloads: every encoded payload in send order\n"
          "                       (before loss and reordering), each after its length as\n"
          "                       2 octets big-endian\n"
          "  --write-decoded DIR  DIR/LABEL.raw: those payloads decoded by the same library,\n"
          "                       s16le mono at the codec's rate (G.722 16000, Opus 48000,\n"
          "                       the others 8000)\n"
          "  --decoded-rate HZ    Opus's reference decode at HZ instead (8000, 12000,\n"
          "                       16000, 24000 or 48000), as libopus gives it to an SRS\n"
          "                       that asks for its recording rate\n"
          "  --user NAME          the Request-URI's user part (default srs)\n"
          "  --t1-ms N            RFC 3261 T1 (default 500): INVITE and BYE retransmissions\n"
          "                       and their 64*T1 timeout\n"
          "  --answer-timeout SEC wait at most SEC for a final answer after a 1xx\n"
          "                       (default 60)\n"
          "  --verbose            every SIP message sent and received on stderr\n"
          "  --help               this text\n"
          "Exit status: 0 when the call was answered 2xx and ended by a BYE (ours answered\n"
          "200, or the SRS's); 1 on a non-2xx answer or any failure; 2 on a usage error.\n",
          CL_MAX_STREAMS, cl_codec_names());
}

static int parse_double(const char *opt, const char *text, double min, double max, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end != '\0' || !(v >= min && v <= max)) {
    fprintf(stderr, "siprec-client: %s: %s is not a number in [%g, %g]\n", opt, text, min, max);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_unsigned(const char *opt, const char *text, unsigned long long max,
                          unsigned long long *out)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 0);
  if (errno || end == text || *end != '\0' || text[0] == '-' || v > max) {
    fprintf(stderr, "siprec-client: %s: %s is not a number up to %llu\n", opt, text, max);
    return -1;
  }
  *out = v;
  return 0;
}

static int set_field(char *dst, size_t cap, const char *key, const char *v)
{
  size_t n = strlen(v);
  if (n == 0 || n >= cap) {
    fprintf(stderr, "siprec-client: --stream: %s is empty or too long\n", key);
    return -1;
  }
  memcpy(dst, v, n + 1);
  return 0;
}

static int parse_stream(cl_opts *o, const char *spec)
{
  if (o->n_streams == CL_MAX_STREAMS) {
    fprintf(stderr, "siprec-client: at most %d streams\n", CL_MAX_STREAMS);
    return -1;
  }
  cl_stream_opt *s = &o->streams[o->n_streams];
  memset(s, 0, sizeof *s);
  s->rate = 8000;
  s->codec = cl_codec_find("pcmu");
  char buf[2048];
  if (strlen(spec) >= sizeof buf) {
    fprintf(stderr, "siprec-client: --stream: too long\n");
    return -1;
  }
  strcpy(buf, spec);
  char *save = NULL;
  for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq) {
      fprintf(stderr, "siprec-client: --stream: %s is not key=value\n", kv);
      return -1;
    }
    *eq = '\0';
    const char *v = eq + 1;
    int rc = 0;
    if (strcmp(kv, "label") == 0) {
      rc = set_field(s->label, sizeof s->label, kv, v);
    } else if (strcmp(kv, "codec") == 0) {
      s->codec = cl_codec_find(v);
      if (!s->codec) {
        fprintf(stderr, "siprec-client: --stream: codec %s unknown (%s)\n", v, cl_codec_names());
        return -1;
      }
    } else if (strcmp(kv, "file") == 0) {
      rc = set_field(s->file, sizeof s->file, kv, v);
    } else if (strcmp(kv, "rate") == 0) {
      unsigned long long r = 0;
      rc = parse_unsigned("--stream rate", v, 192000, &r);
      if (rc == 0 && r < 1000) {
        fprintf(stderr, "siprec-client: --stream: rate %llu too low\n", r);
        rc = -1;
      }
      s->rate = (unsigned)r;
    } else if (strcmp(kv, "name") == 0) {
      rc = set_field(s->name, sizeof s->name, kv, v);
    } else if (strcmp(kv, "aor") == 0) {
      rc = set_field(s->aor, sizeof s->aor, kv, v);
    } else {
      fprintf(stderr, "siprec-client: --stream: unknown key %s\n", kv);
      return -1;
    }
    if (rc)
      return -1;
  }
  if (!s->file[0]) {
    fprintf(stderr, "siprec-client: --stream: file= is required\n");
    return -1;
  }
  size_t idx = o->n_streams + 1;
  if (!s->label[0])
    snprintf(s->label, sizeof s->label, "%zu", idx);
  if (!s->aor[0])
    snprintf(s->aor, sizeof s->aor, "sip:party%zu@example.com", idx);
  /* Labels go into SDP and XML: no line breaks, no spaces, unique. */
  if (strpbrk(s->label, " \t\r\n") || strpbrk(s->aor, "\r\n") || strpbrk(s->name, "\r\n")) {
    fprintf(stderr, "siprec-client: --stream: label with spaces or a line break in a value\n");
    return -1;
  }
  for (size_t i = 0; i < o->n_streams; i++)
    if (strcmp(o->streams[i].label, s->label) == 0) {
      fprintf(stderr, "siprec-client: --stream: label %s given twice\n", s->label);
      return -1;
    }
  o->n_streams++;
  return 0;
}

enum {
  O_SERVER = 256, O_LOCAL, O_STREAM, O_SEED, O_PACE, O_LOSS, O_REORDER, O_SRTP, O_RTCP,
  O_RTCP_MUX, O_PAUSE, O_RESUME, O_DURATION, O_WPAY, O_WDEC, O_DECRATE, O_USER, O_T1, O_ANSWER_TO,
  O_VERBOSE, O_HELP
};

int cl_opts_parse(cl_opts *o, int argc, char **argv)
{
  static const struct option longopts[] = {
    { "server", required_argument, NULL, O_SERVER },
    { "local", required_argument, NULL, O_LOCAL },
    { "stream", required_argument, NULL, O_STREAM },
    { "seed", required_argument, NULL, O_SEED },
    { "pace", required_argument, NULL, O_PACE },
    { "loss", required_argument, NULL, O_LOSS },
    { "reorder", required_argument, NULL, O_REORDER },
    { "srtp", no_argument, NULL, O_SRTP },
    { "rtcp", no_argument, NULL, O_RTCP },
    { "rtcp-mux", no_argument, NULL, O_RTCP_MUX },
    { "pause-at", required_argument, NULL, O_PAUSE },
    { "resume-at", required_argument, NULL, O_RESUME },
    { "duration", required_argument, NULL, O_DURATION },
    { "write-payloads", required_argument, NULL, O_WPAY },
    { "write-decoded", required_argument, NULL, O_WDEC },
    { "decoded-rate", required_argument, NULL, O_DECRATE },
    { "user", required_argument, NULL, O_USER },
    { "t1-ms", required_argument, NULL, O_T1 },
    { "answer-timeout", required_argument, NULL, O_ANSWER_TO },
    { "verbose", no_argument, NULL, O_VERBOSE },
    { "help", no_argument, NULL, O_HELP },
    { NULL, 0, NULL, 0 },
  };
  memset(o, 0, sizeof *o);
  o->pace = 1;
  o->pause_at = o->resume_at = o->duration = -1;
  o->t1_ms = 500;
  o->answer_timeout = 60;
  o->user = "srs";
  int have_server = 0, have_local = 0, have_seed = 0, c;
  unsigned long long u = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    int rc = 0;
    switch (c) {
    case O_SERVER:
      if (parse_hostport(optarg, 5060, &o->server) != 0 || cl_addr_port((void *)&o->server) == 0) {
        fprintf(stderr, "siprec-client: --server %s: not ADDR:PORT\n", optarg);
        rc = -1;
      }
      have_server = 1;
      break;
    case O_LOCAL:
      if (parse_hostport(optarg, 0, &o->local) != 0) {
        fprintf(stderr, "siprec-client: --local %s: not an address\n", optarg);
        rc = -1;
      }
      have_local = 1;
      break;
    case O_STREAM: rc = parse_stream(o, optarg); break;
    case O_SEED:
      rc = parse_unsigned("--seed", optarg, UINT64_MAX, &u);
      o->seed = u;
      have_seed = 1;
      break;
    case O_PACE: rc = parse_double("--pace", optarg, 0, 1000, &o->pace); break;
    case O_LOSS: rc = parse_double("--loss", optarg, 0, 100, &o->loss_pct); break;
    case O_REORDER: rc = parse_double("--reorder", optarg, 0, 100, &o->reorder_pct); break;
    case O_SRTP: o->srtp = 1; break;
    case O_RTCP: o->rtcp = 1; break;
    case O_RTCP_MUX: o->rtcp_mux = 1; break;
    case O_PAUSE: rc = parse_double("--pause-at", optarg, 0, 86400, &o->pause_at); break;
    case O_RESUME: rc = parse_double("--resume-at", optarg, 0, 86400, &o->resume_at); break;
    case O_DURATION: rc = parse_double("--duration", optarg, 0.02, 86400, &o->duration); break;
    case O_WPAY: o->write_payloads = optarg; break;
    case O_WDEC: o->write_decoded = optarg; break;
    case O_DECRATE:
      rc = parse_unsigned("--decoded-rate", optarg, 48000, &u);
      o->decoded_rate = (unsigned)u;
      /* libopus decodes to these rates only. */
      if (rc == 0 && u != 8000 && u != 12000 && u != 16000 && u != 24000 && u != 48000) {
        fprintf(stderr, "siprec-client: --decoded-rate: 8000, 12000, 16000, 24000 or 48000\n");
        rc = -1;
      }
      break;
    case O_USER:
      o->user = optarg;
      if (!*optarg || strpbrk(optarg, " \t\r\n<>@;:")) {
        fprintf(stderr, "siprec-client: --user %s: not a SIP user part\n", optarg);
        rc = -1;
      }
      break;
    case O_T1:
      rc = parse_unsigned("--t1-ms", optarg, 10000, &u);
      o->t1_ms = (unsigned)u;
      if (rc == 0 && u < 10) {
        fprintf(stderr, "siprec-client: --t1-ms: at least 10\n");
        rc = -1;
      }
      break;
    case O_ANSWER_TO: rc = parse_double("--answer-timeout", optarg, 1, 3600, &o->answer_timeout); break;
    case O_VERBOSE: o->verbose = 1; break;
    case O_HELP: cl_usage(stdout); return 1;
    default:
      fprintf(stderr, "siprec-client: unknown option or missing value: %s\n", argv[optind - 1]);
      rc = -1;
    }
    if (rc)
      return -1;
  }
  if (optind < argc) {
    fprintf(stderr, "siprec-client: unexpected argument %s\n", argv[optind]);
    return -1;
  }
  if (!have_server || o->n_streams == 0) {
    fprintf(stderr, "siprec-client: --server and at least one --stream are required (--help)\n");
    return -1;
  }
  if (!have_local)
    parse_hostport(o->server.ss_family == AF_INET6 ? "::1" : "127.0.0.1", 0, &o->local);
  if (o->local.ss_family != o->server.ss_family) {
    fprintf(stderr, "siprec-client: --local and --server are of different families\n");
    return -1;
  }
  if ((o->pause_at >= 0) != (o->resume_at >= 0) ||
      (o->pause_at >= 0 && o->resume_at <= o->pause_at)) {
    fprintf(stderr, "siprec-client: --pause-at and --resume-at go together, resume after pause\n");
    return -1;
  }
  if (!have_seed && getrandom(&o->seed, sizeof o->seed, 0) != (ssize_t)sizeof o->seed)
    o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  return 0;
}
