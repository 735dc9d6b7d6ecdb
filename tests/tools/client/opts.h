/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-client's command line. */
#ifndef CL_OPTS_H
#define CL_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "codec.h"

#define CL_MAX_STREAMS 8

typedef struct cl_stream_opt {
  char label[64];
  const cl_codec *codec;
  char file[1024];
  unsigned rate; /* the file's sample rate */
  char name[128];
  char aor[256];
} cl_stream_opt;

typedef struct cl_opts {
  struct sockaddr_storage server, local; /* local's port: the SIP port, 0 any */
  cl_stream_opt streams[CL_MAX_STREAMS];
  size_t n_streams;
  uint64_t seed;
  double pace;        /* 1 real time, 0 as fast as possible, F: F times real time */
  double reorder_pct, loss_pct;
  int srtp, rtcp, rtcp_mux;
  double pause_at, resume_at; /* seconds of media, < 0: none */
  double duration;            /* seconds of media, < 0: the audio's */
  const char *write_payloads, *write_decoded;
  unsigned decoded_rate; /* Opus's reference decode rate, 0: 48000 */
  unsigned t1_ms;
  double answer_timeout; /* seconds for a final answer once a 1xx came */
  const char *user;      /* the Request-URI's user part at the SRS */
  int verbose;
} cl_opts;

void cl_usage(FILE *f);
/* 0, 1 after --help, -1 with a message on stderr. */
int cl_opts_parse(cl_opts *o, int argc, char **argv);

#endif
