/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec-server's own metric families next to the library's
 * (metrics_siprec.h): media sockets, recordings, transcription queues and
 * drops, completion commands. Rendered on the loop thread
 * (metrics_http.h's render callback).
 */
#ifndef SIPREC_SERVER_METRICS_SERVER_H
#define SIPREC_SERVER_METRICS_SERVER_H

#include <siprec/siprec.h>

#include "calls.h"
#include "media_net.h"
#include "metrics_text.h"
#include "transcribe_pool.h"

/** The snapshot store's figures (--state, --redis). */
struct metrics_store_stats {
  int redis;                /* the store is Redis (else files) */
  int up;                   /* Redis: connected to a master now */
  uint64_t restored;        /* sessions restored or taken over here */
  uint64_t restore_failures;
  uint64_t writes;          /* Redis: snapshot writes that landed */
  uint64_t write_retries;   /* Redis: writes sent again after it was away */
  uint64_t lost;            /* Redis: writes refused, another node holds the session */
  uint64_t claimed;         /* Redis: sessions claimed from dead nodes */
  uint64_t taken;           /* Redis: sessions taken for a request */
  uint64_t connects;        /* Redis: connections made */
};

/** Where the figures come from; any pointer but `h` may be NULL. */
struct metrics_server_src {
  siprec_handler *h;
  struct media_net *media;
  struct calls *calls;
  transcribe_pool *pool;
  /* The store's figures, when there is one. */
  void (*store_stats)(const void *store, struct metrics_store_stats *out);
  const void *store;
};

/** metrics_http's render callback (`user`: a struct metrics_server_src). */
int metrics_server_render(void *user, struct mt_writer *w);

#endif
