/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small durable files on the writer thread; see writer_file.h. */
#include "writer_file.h"

#include <stdlib.h>
#include <string.h>

#include "file_replace.h"

struct writer_file {
  rec_wgroup *g; /* a group without files: the write is its finish's work */
  char *dir, *name, *text;
  const char *tail;
  int rc;
  void (*done)(void *arg, int rc);
  void *arg;
};

static void write_now(void *arg)
{
  struct writer_file *j = arg;
  j->rc = file_replace(j->dir, j->name, j->text, strlen(j->text), j->tail,
                       j->tail ? strlen(j->tail) : 0, 0600, 1);
}

/* Everything of j but its text (the caller's until it is taken). */
static void job_free(struct writer_file *j)
{
  rec_wgroup_free(j->g);
  free(j->dir);
  free(j->name);
  free(j);
}

static void written(void *arg)
{
  struct writer_file *j = arg;
  if (j->done)
    j->done(j->arg, j->rc);
  free(j->text);
  job_free(j);
}

int writer_file_replace(rec_writer *w, const char *dir, const char *name, char *text,
                        const char *tail, void (*done)(void *arg, int rc), void *arg)
{
  if (!w)
    return -1;
  struct writer_file *j = calloc(1, sizeof *j);
  if (!j)
    return -1;
  j->dir = strdup(dir);
  j->name = strdup(name);
  j->g = rec_wgroup_new(w);
  if (!j->dir || !j->name || !j->g) {
    job_free(j);
    return -1;
  }
  j->text = text;
  j->tail = tail;
  j->done = done;
  j->arg = arg;
  rec_wgroup_finish_work(j->g, write_now, written, j);
  return 0;
}
