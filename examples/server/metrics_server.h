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

/** Where the figures come from; any pointer but `h` may be NULL. */
struct metrics_server_src {
  siprec_handler *h;
  struct media_net *media;
  struct calls *calls;
  transcribe_pool *pool;
};

/** metrics_http's render callback (`user`: a struct metrics_server_src). */
int metrics_server_render(void *user, struct mt_writer *w);

#endif
