/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What siprec-server records of a session: one line on stdout per event,
 * and the session's last event as DIR/SESSION.json (SESSION is
 * siprec_session_id(), never the Call-ID), replaced atomically so that a
 * reader never sees half a file.
 */
#ifndef SIPREC_SERVER_STORE_H
#define SIPREC_SERVER_STORE_H

#include <siprec/siprec.h>

/**
 * Record `event` ("session_started", "session_updated", "session_ended";
 * `reason` only for the last) of `s`: the log line, and the file when
 * `dir` is not NULL. @return 0, or -1 when the file could not be written
 * (said on stderr)
 */
int store_event(const char *dir, const char *event, siprec_session *s, const char *reason);

#endif
