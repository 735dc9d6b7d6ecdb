/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store.h"

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

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int write_file(const char *dir, const char *id, const char *text)
{
  char path[4096], tmp[4096];
  if (snprintf(path, sizeof path, "%s/%s.json", dir, id) >= (int)sizeof path ||
      snprintf(tmp, sizeof tmp, "%s/.%s.json.tmp", dir, id) >= (int)sizeof tmp) {
    fprintf(stderr, "siprec-server: --out path too long\n");
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "siprec-server: %s: %s\n", tmp, strerror(errno));
    return -1;
  }
  int bad = write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0;
  bad |= close(fd) < 0;
  /* rename() replaces the old file in one step: readers see the old event or
   * the new one, never a mix. */
  if (bad || rename(tmp, path) < 0) {
    fprintf(stderr, "siprec-server: %s: %s\n", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
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
