/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON the example hosts print or store for a session event, one shape
 * for all of them so that a file written by siprec-server and a line printed
 * by siprec-replay read the same.
 */
#ifndef SIPREC_EXAMPLES_SESSION_JSON_H
#define SIPREC_EXAMPLES_SESSION_JSON_H

#include <jansson.h>
#include <stddef.h>

#include <siprec/siprec.h>

/** A JSON string of `n` bytes from the network; bytes that are not UTF-8 are
 * taken as Latin-1 rather than lost. Never NULL unless out of memory. */
json_t *json_from_bytes(const char *p, size_t n);

/**
 * The event object {"event":EVENT,"call_id":...,"reason":REASON,"streams":[...],
 * "metadata":{...}} for session `s`; `reason` is left out when NULL (it is
 * given only for "session_ended"). The caller owns the result.
 */
json_t *session_event_json(const char *event, siprec_session *s, const char *reason);

#endif
