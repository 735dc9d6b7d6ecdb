/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A writer of the Prometheus text exposition format, version 0.0.4, into a
 * growable buffer: families (their # HELP and # TYPE lines, once each) and
 * their samples, with escaped label values.
 *
 * A sample takes its name from the family declared last, so a sample can
 * never stray from its family's HELP/TYPE block; a family declared twice
 * is an error rather than a second block, which Prometheus would refuse.
 *
 * Errors are sticky: the first one (a bad name, a duplicate family, a
 * sample before any family, no memory) is kept, later calls do nothing and
 * return it, and the caller checks once at the end (mt_error()). So a
 * renderer of many families needs no check after every line.
 *
 * Not thread-safe: one writer per thread at a time.
 */
#ifndef SIPREC_SERVER_METRICS_TEXT_H
#define SIPREC_SERVER_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* What mt_error() and every call return. */
enum {
  MT_OK = 0,
  MT_EINVAL = -1,    /* a bad metric or label name, NULL, a family's second declaration,
                      * a sample before any family, a label name twice in one sample */
  MT_ENOMEM = -2,    /* the buffer could not grow */
  MT_ETOOBIG = -3,   /* more than MT_MAX_BYTES of text */
};

/* The most text one writer holds: a ceiling far above any real exposition,
 * so a runaway renderer fails instead of eating the host's memory. */
#define MT_MAX_BYTES ((size_t)64 << 20)

/* Metric types of the 0.0.4 format that this writer emits. */
enum mt_type { MT_COUNTER, MT_GAUGE };

/* One label of a sample. */
struct mt_label {
  const char *name;
  const char *value; /* any bytes but NUL: escaped on output */
};

struct mt_writer {
  char *text; /* NUL-terminated output; NULL until the first byte */
  size_t len, cap;
  char **families; /* the names declared, for the once-per-family rule */
  size_t n_families, cap_families;
  int error; /* sticky, 0 until something failed */
};

/* An empty writer (no allocation yet). */
void mt_init(struct mt_writer *w);

/* Empty the text and forget the families (and the error); the memory is
 * kept for the next rendering. */
void mt_reset(struct mt_writer *w);

/* Free everything; the writer is empty again afterwards. */
void mt_free(struct mt_writer *w);

/**
 * Declare the family `name` (metric name: [a-zA-Z_:][a-zA-Z0-9_:]*; a
 * counter's name ends in _total by convention, the caller's business):
 * writes its # HELP (escaped) and # TYPE lines. The samples that follow
 * belong to it.
 * @return MT_OK or the (sticky) error; MT_EINVAL when `name` was declared before
 */
int mt_family(struct mt_writer *w, const char *name, enum mt_type type, const char *help);

/**
 * A sample of the current family with `n` labels (label names:
 * [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", each once).
 * @return MT_OK or the (sticky) error
 */
int mt_sample(struct mt_writer *w, const struct mt_label *labels, size_t n, uint64_t value);

/* The same with a floating-point value (NaN, +Inf, -Inf written as the
 * format spells them). */
int mt_sample_double(struct mt_writer *w, const struct mt_label *labels, size_t n, double value);

/* The same without labels. */
int mt_value(struct mt_writer *w, uint64_t value);

/* The first error since mt_init()/mt_reset(), or MT_OK. */
int mt_error(const struct mt_writer *w);

/* The text written so far ("" when none); *len (may be NULL) its length. */
const char *mt_text(const struct mt_writer *w, size_t *len);

#endif
