/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "corpus_metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "corpus.h"
#include "expect.h"
#include "handler/dialog.h"
#include "sip/message.h"

int corpus_metadata_part(const char *msg, size_t msg_len, char **xml, size_t *len)
{
  siprec_allocator mem;
  sr_alloc_init(&mem, NULL);
  sr_sip_msg view;
  const char *why = NULL;
  if (sr_sip_parse(&mem, msg, msg_len, &view, &why) != SR_SIP_OK)
    return -1;
  sr_span sdp, part;
  int rc = sr_handler_body(&view, &sdp, &part, &why) == 0 ? part.p != NULL : -1;
  if (rc == 1) {
    *xml = malloc(part.n + 1);
    if (*xml) {
      memcpy(*xml, part.p, part.n);
      (*xml)[part.n] = '\0';
      *len = part.n;
    } else {
      rc = -1;
    }
  }
  sr_sip_msg_free(&view);
  return rc;
}

int corpus_metadata_file(const char *file, char **xml, size_t *len)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", corpus_dir(), file);
  size_t n;
  char *msg = read_file(path, &n);
  if (!msg)
    return -1;
  int rc = corpus_metadata_part(msg, n, xml, len);
  free(msg);
  return rc;
}
