/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store.h"
#include "file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session-json.h"

static void log_line(const char *event, siprec_session *s, const char *reason)
{
  size_t n;
  const char *cid = siprec_session_call_id(s, &n);
  /* The Call-ID comes from the network: quoted and escaped as JSON. */
  json_t *j = json_from_bytes(cid, n);
  char *quoted = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
  printf("%s id=%s streams=%zu%s%s call_id=%s\n", event, siprec_session_id(s),
         siprec_session_stream_count(s), reason ? " reason=" : "", reason ? reason : "",
         quoted ? quoted : "\"\"");
  fflush(stdout);
  free(quoted);
  json_decref(j);
}

/* DIR/ID.json, replaced whole: readers see the old event or the new one,
 * never a mix. Not synced: an event file is a view, not state. */
static int write_file(const char *dir, const char *id, const char *text)
{
  char name[256];
  snprintf(name, sizeof name, "%s.json", id);
  int rc = file_replace(dir, name, text, strlen(text), "\n", 1, 0644, 0);
  if (rc < 0)
    fprintf(stderr, "siprec-server: %s/%s: %s\n", dir, name, strerror(-rc));
  return rc;
}

int store_event(const char *dir, const char *event, siprec_session *s, const char *reason)
{
  log_line(event, s, reason);
  if (!dir)
    return 0;
  json_t *o = session_event_json(event, s, reason);
  char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  json_decref(o);
  if (!text) {
    fprintf(stderr, "siprec-server: out of memory writing session %s\n", siprec_session_id(s));
    return -1;
  }
  int rc = write_file(dir, siprec_session_id(s), text);
  free(text);
  return rc;
}
