/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transcription pool's results, on its worker threads: each utterance
 * becomes a line of DIR/SESSION/transcript.jsonl and of the log; a closed
 * stream is handed back to the loop, which owns the call. */
#include "calls_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

void calls_stream_set_who(struct call_stream *cs, const siprec_speaker *sp)
{
  transcript_participant fresh = { NULL, NULL, NULL };
  if (sp) {
    fresh.id = dup_or_null(sp->id);
    fresh.aor = dup_or_null(sp->aor);
    fresh.name = dup_or_null(sp->name);
  }
  struct call *k = cs->call;
  if (k)
    pthread_mutex_lock(&k->lock);
  transcript_participant old = cs->who;
  cs->who = fresh;
  if (k)
    pthread_mutex_unlock(&k->lock);
  free((char *)old.id);
  free((char *)old.aor);
  free((char *)old.name);
}

void calls_on_result(void *arg, const transcribe_result *r)
{
  struct calls *c = arg;
  struct call_stream *cs = r->user;
  if (r->closed) {
    struct call_notice *n = malloc(sizeof *n);
    if (!n)
      return; /* the call then waits for shutdown; nothing is lost but its command */
    n->cs = cs;
    /* Sent under the lock: calls_close() takes it before it closes the
     * handle, so no worker is inside uv_async_send() then. */
    pthread_mutex_lock(&c->notices_lock);
    n->next = c->notices;
    c->notices = n;
    if (c->async_open)
      uv_async_send(&c->async);
    pthread_mutex_unlock(&c->notices_lock);
    return;
  }
  struct call *k = cs->call;
  pthread_mutex_lock(&k->lock);
  const transcript_participant *who = cs->who.id || cs->who.aor || cs->who.name ? &cs->who : NULL;
  transcript_line l = {
    .session = k->folder, .call_id = k->call_id, .call_id_len = k->call_id_len,
    .stream = cs->label, .participant = who, .start = r->start, .end = r->end, .text = r->text,
  };
  char *line = transcript_format(&l);
  int rc = c->cfg.dir ? transcript_append(c->cfg.dir, &l) : 0;
  pthread_mutex_unlock(&k->lock);
  atomic_fetch_add(&c->lines, 1);
  if (rc < 0)
    fprintf(stderr, "siprec-server: session %s: cannot append to its transcript\n", k->folder);
  if (line && !c->cfg.quiet) {
    /* One write of the whole line: the loop prints too. */
    printf("transcript %s\n", line);
    fflush(stdout);
  }
  free(line);
}

void calls_drain(struct calls *c)
{
  pthread_mutex_lock(&c->notices_lock);
  struct call_notice *n = c->notices;
  c->notices = NULL;
  pthread_mutex_unlock(&c->notices_lock);
  while (n) {
    struct call_notice *next = n->next;
    struct call *k = n->cs->call;
    if (--k->pending == 0)
      calls_release(c, k);
    free(n);
    n = next;
  }
}

void calls_on_async(uv_async_t *a)
{
  calls_drain(a->data);
}
