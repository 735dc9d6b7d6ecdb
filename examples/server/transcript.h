/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A session's transcript: one JSON object per line (JSON Lines) in
 * DIR/SESSION/transcript.jsonl, one line per utterance, in the order the
 * workers deliver them (per stream in time order; streams interleave):
 *
 *   {"session":"ID","call_id":"...","stream":"LABEL",
 *    "participant":{"id":"...","aor":"...","name":"..."},
 *    "start":1.23,"end":4.56,"text":"..."}
 *
 * (on one line). "participant" is null when no one is known to speak on the
 * stream, and each of its fields is null when unknown; "stream" is null for
 * a stream without a=label; times are seconds from the session's start
 * with two decimals. Strings from the network that are not UTF-8 are read
 * as Latin-1, and everything is written in ASCII (\u escapes).
 */
#ifndef SIPREC_SERVER_TRANSCRIPT_H
#define SIPREC_SERVER_TRANSCRIPT_H

#include <stddef.h>

/** Who speaks on the stream; a field is NULL when unknown. */
typedef struct transcript_participant {
  const char *id;
  const char *aor;
  const char *name;
} transcript_participant;

/** One utterance of one stream of one session. */
typedef struct transcript_line {
  const char *session;  /**< siprec_session_id(): also the folder's name */
  const char *call_id;  /**< bytes from the network, `call_id_len` of them */
  size_t call_id_len;
  const char *stream;   /**< its label, NULL when none */
  const transcript_participant *participant; /**< NULL (or all fields NULL): null */
  double start, end;    /**< seconds from the session's start */
  const char *text;     /**< the recogniser's words (UTF-8) */
} transcript_line;

/** The line, without its newline, malloc'ed; NULL when out of memory or
 * `l` lacks its session or text. */
char *transcript_format(const transcript_line *l);

/**
 * Append the line to DIR/SESSION/transcript.jsonl (the folder made 0700
 * when missing; the file 0600, O_APPEND, one write(2) for the line and its
 * newline, so lines of concurrent writers never mix).
 * @return 0, or -1 with errno set (EINVAL: no dir, or a session id that is
 *         not one path component)
 */
int transcript_append(const char *dir, const transcript_line *l);

#endif
