/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --on-complete: a command run on each finished recording's folder, as
 * `/bin/sh -c 'CMD "$1"' siprec-on-complete FOLDER` (so CMD may carry its
 * own arguments and the folder is one argument whatever it holds), at most
 * on_complete_max at once (the others wait in order), each killed after
 * on_complete_timeout_ms with every process it started (its own process
 * group). Its output goes where the server's goes. */
#include "calls_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Recordings waiting for their turn beyond this are not run (counted). */
#define WAITING_MAX 10000

struct completion {
  struct calls *c;
  struct completion *next;
  char *folder;
  uv_process_t proc;
  uv_timer_t timer;
  int handles; /* open handles; freed when both closed */
  int killed;
};

static void start_next(struct calls *c);

static void handle_closed(uv_handle_t *h)
{
  struct completion *x = h->data;
  if (--x->handles == 0) {
    free(x->folder);
    free(x);
  }
}

static void unlink_running(struct calls *c, struct completion *x)
{
  for (struct completion **p = &c->running; *p; p = &(*p)->next)
    if (*p == x) {
      *p = x->next;
      c->n_running--;
      return;
    }
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int signo)
{
  struct completion *x = proc->data;
  struct calls *c = x->c;
  if (x->killed) {
    c->st.completions_killed++;
    fprintf(stderr, "siprec-server: --on-complete on %s: killed after %u ms\n", x->folder,
            c->cfg.on_complete_timeout_ms);
  } else if (status != 0 || signo != 0) {
    c->st.completions_failed++;
    fprintf(stderr, "siprec-server: --on-complete on %s: exit %lld signal %d\n", x->folder,
            (long long)status, signo);
  }
  unlink_running(c, x);
  uv_timer_stop(&x->timer);
  uv_close((uv_handle_t *)&x->timer, handle_closed);
  uv_close((uv_handle_t *)proc, handle_closed);
  start_next(c);
}

/* The command and everything it started: it runs in a process group of its
 * own (UV_PROCESS_DETACHED: setsid), and the whole group is killed. Killing
 * only the shell left a hanging script and its children running, holding
 * the server's stdout (found by tests/integration/test_server_record.py). */
static void kill_group(struct completion *x)
{
  x->killed = 1;
  if (uv_kill(-x->proc.pid, SIGKILL) < 0)
    uv_process_kill(&x->proc, SIGKILL);
}

static void on_timeout(uv_timer_t *t)
{
  kill_group(t->data);
}

static void start_one(struct calls *c, struct completion *x)
{
  char script[4096];
  snprintf(script, sizeof script, "%s \"$1\"", c->cfg.on_complete);
  char *args[] = { "/bin/sh", "-c", script, "siprec-on-complete", x->folder, NULL };
  uv_stdio_container_t io[3] = {
    { .flags = UV_IGNORE }, { .flags = UV_INHERIT_FD, .data.fd = 1 },
    { .flags = UV_INHERIT_FD, .data.fd = 2 },
  };
  uv_process_options_t o = {
    .exit_cb = on_exit_cb, .file = args[0], .args = args, .stdio = io, .stdio_count = 3,
    .flags = UV_PROCESS_DETACHED, /* its own process group, killed as one */
  };
  x->proc.data = x;
  x->timer.data = x;
  uv_timer_init(c->cfg.loop, &x->timer);
  x->handles = 1;
  int rc = uv_spawn(c->cfg.loop, &x->proc, &o);
  x->handles = 2; /* uv_spawn initialises the process handle even when it fails */
  if (rc < 0) {
    c->st.completions_failed++;
    fprintf(stderr, "siprec-server: --on-complete: cannot start: %s\n", uv_strerror(rc));
    uv_close((uv_handle_t *)&x->timer, handle_closed);
    uv_close((uv_handle_t *)&x->proc, handle_closed);
    return;
  }
  c->st.completions_run++;
  x->next = c->running;
  c->running = x;
  c->n_running++;
  uv_timer_start(&x->timer, on_timeout, c->cfg.on_complete_timeout_ms, 0);
}

static void start_next(struct calls *c)
{
  while (c->waiting && c->n_running < c->cfg.on_complete_max && c->async_open) {
    struct completion *x = c->waiting;
    c->waiting = x->next;
    c->n_waiting--;
    start_one(c, x);
  }
}

void calls_complete_run(struct calls *c, const char *folder)
{
  if (c->n_waiting >= WAITING_MAX) {
    c->st.completions_failed++;
    fprintf(stderr, "siprec-server: --on-complete: %u waiting already, %s skipped\n",
            c->n_waiting, folder);
    return;
  }
  struct completion *x = calloc(1, sizeof *x);
  if (!x || !(x->folder = strdup(folder))) {
    free(x);
    c->st.completions_failed++;
    return;
  }
  x->c = c;
  /* FIFO: append. */
  struct completion **p = &c->waiting;
  while (*p)
    p = &(*p)->next;
  *p = x;
  c->n_waiting++;
  start_next(c);
}

void calls_complete_close(struct calls *c)
{
  /* Running commands are left to finish on their own (their handles close
   * with the loop's last turns: killed now, so the loop does not wait). */
  for (struct completion *x = c->running; x; x = x->next)
    kill_group(x);
  while (c->waiting) {
    struct completion *x = c->waiting;
    c->waiting = x->next;
    fprintf(stderr, "siprec-server: --on-complete on %s: not run (stopping)\n", x->folder);
    free(x->folder);
    free(x);
  }
  c->n_waiting = 0;
}
