/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's log lines, and the rate limit on the kinds a flood repeats:
 * 5,000 refused INVITEs must not make 5,000 lines, and the ones left out
 * are counted, not lost without a trace. */
#include <stdarg.h>
#include <stdio.h>

#include "handler_internal.h"

#define NS_PER_S UINT64_C(1000000000)

static void deliver(siprec_handler *h, siprec_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void deliver(siprec_handler *h, siprec_log_level level, const char *fmt, va_list ap)
{
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  const void *prev = sr_in_callback; /* host requests from the log callback: EBUSY */
  sr_in_callback = h;
  h->cbs.log(h->user, level, line);
  sr_in_callback = prev;
}

void sr_handler_log(siprec_handler *h, siprec_log_level level, const char *fmt, ...)
{
  if (!h->cbs.log || level > h->cfg.log_level)
    return;
  va_list ap;
  va_start(ap, fmt);
  deliver(h, level, fmt, ap);
  va_end(ap);
}

static const char *const class_names[SR_LOG_CLASSES] = {
  [SR_LOG_REFUSED] = "error answers",
  [SR_LOG_DROPPED] = "dropped messages",
  [SR_LOG_FOREIGN_SOURCE] = "requests from foreign addresses",
  [SR_LOG_SHED] = "shed sessions",
};

void sr_handler_log_limited(siprec_handler *h, sr_log_class cls, uint64_t now,
                            siprec_log_level level, const char *fmt, ...)
{
  if (!h->cbs.log || level > h->cfg.log_level || (unsigned)cls >= SR_LOG_CLASSES)
    return;
  uint64_t summary = 0;
  int pass;
  pthread_mutex_lock(&h->log_lock);
  struct sr_log_window *w = &h->log_windows[cls];
  if (w->lines == 0 || now < w->start || now - w->start >= SR_LOG_WINDOW_S * NS_PER_S) {
    summary = w->suppressed;
    w->suppressed = 0;
    w->start = now;
    w->lines = 0;
  }
  pass = w->lines < SR_LOG_BURST;
  if (pass)
    w->lines++;
  else
    w->suppressed++;
  pthread_mutex_unlock(&h->log_lock);
  if (summary)
    sr_handler_log(h, level, "%llu more %s left out of the log in %d s",
                   (unsigned long long)summary, class_names[cls], SR_LOG_WINDOW_S);
  if (!pass) {
    atomic_fetch_add_explicit(&h->stats.log_suppressed, 1, memory_order_relaxed);
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  deliver(h, level, fmt, ap);
  va_end(ap);
}
