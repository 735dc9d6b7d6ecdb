/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "metadata.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base64.h"

#define MAX 16

/* RFC 7865's identifiers are base64 of 16 octets (a UUID's worth). */
static void new_id(cl_rng *rng, char out[25])
{
  uint8_t b[16];
  cl_rng_bytes(rng, b, sizeof b);
  base64_encode(b, sizeof b, out, true);
}

static int put(char *out, size_t cap, size_t *o, const char *text)
{
  size_t n = strlen(text);
  if (*o + n >= cap)
    return -1;
  memcpy(out + *o, text, n + 1);
  *o += n;
  return 0;
}

static int put_escaped(char *out, size_t cap, size_t *o, const char *text)
{
  if (cl_xml_escape(out, cap, text) != 0)
    return -1;
  *o = strlen(out);
  return 0;
}

int cl_metadata_write(const cl_md_stream *s, size_t n, cl_rng *rng, char *out, size_t cap)
{
  if (n == 0 || n > MAX || cap == 0)
    return -1;
  char session_id[25], stream_id[MAX][25], part_id[MAX][25];
  size_t owner[MAX]; /* the participant (by its first stream) of each stream */
  new_id(rng, session_id);
  for (size_t i = 0; i < n; i++) {
    if (!s[i].label || !s[i].aor)
      return -1;
    new_id(rng, stream_id[i]);
    new_id(rng, part_id[i]);
    owner[i] = i;
    for (size_t k = 0; k < i; k++)
      if (strcmp(s[k].aor, s[i].aor) == 0) {
        owner[i] = owner[k];
        break;
      }
  }
  char now[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);

  char line[512];
  size_t o = 0;
  out[0] = '\0';
  snprintf(line, sizeof line,
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
           "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\r\n"
           "<datamode>complete</datamode>\r\n"
           "<session session_id=\"%s\">\r\n<start-time>%s</start-time>\r\n</session>\r\n",
           session_id, now);
  if (put(out, cap, &o, line))
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (owner[i] != i)
      continue;
    snprintf(line, sizeof line, "<participant participant_id=\"%s\">\r\n<nameID aor=\"",
             part_id[i]);
    if (put(out, cap, &o, line) || put_escaped(out, cap, &o, s[i].aor) || put(out, cap, &o, "\">"))
      return -1;
    if (s[i].name && s[i].name[0] &&
        (put(out, cap, &o, "<name>") || put_escaped(out, cap, &o, s[i].name) ||
         put(out, cap, &o, "</name>")))
      return -1;
    if (put(out, cap, &o, "</nameID>\r\n</participant>\r\n"))
      return -1;
  }
  for (size_t i = 0; i < n; i++) {
    snprintf(line, sizeof line, "<stream stream_id=\"%s\" session_id=\"%s\">\r\n<label>",
             stream_id[i], session_id);
    if (put(out, cap, &o, line) || put_escaped(out, cap, &o, s[i].label) ||
        put(out, cap, &o, "</label>\r\n</stream>\r\n"))
      return -1;
  }
  snprintf(line, sizeof line,
           "<sessionrecordingassoc session_id=\"%s\">\r\n<associate-time>%s</associate-time>\r\n"
           "</sessionrecordingassoc>\r\n",
           session_id, now);
  if (put(out, cap, &o, line))
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (owner[i] != i)
      continue;
    snprintf(line, sizeof line,
             "<participantsessionassoc participant_id=\"%s\" session_id=\"%s\">\r\n"
             "<associate-time>%s</associate-time>\r\n</participantsessionassoc>\r\n",
             part_id[i], session_id, now);
    if (put(out, cap, &o, line))
      return -1;
  }
  /* Each participant sends its own streams and receives everyone else's. */
  for (size_t i = 0; i < n; i++) {
    if (owner[i] != i)
      continue;
    snprintf(line, sizeof line, "<participantstreamassoc participant_id=\"%s\">\r\n",
             part_id[i]);
    if (put(out, cap, &o, line))
      return -1;
    for (size_t k = 0; k < n; k++) {
      snprintf(line, sizeof line, owner[k] == i ? "<send>%s</send>\r\n" : "<recv>%s</recv>\r\n",
               stream_id[k]);
      if (put(out, cap, &o, line))
        return -1;
    }
    if (put(out, cap, &o, "</participantstreamassoc>\r\n"))
      return -1;
  }
  if (put(out, cap, &o, "</recording>\r\n"))
    return -1;
  return (int)o;
}
