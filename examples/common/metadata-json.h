/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recording metadata model (siprec/metadata.h) as JSON, in the shape the
 * example hosts print and store:
 * {"status":"ok"|"absent"|"unreadable"|"headers",
 *  "participants":[{"id":STR,"aor":STR,"name":STR|null}],
 *  "streams":[{"id":STR,"label":STR|null,"senders":[AOR...],"receivers":[AOR...]}],
 *  "sessions":[{"id":STR,"sip_session_ids":[STR...]}],
 *  "extensions":[{"namespace":STR,"path":STR,"text":STR}]}
 * every list in document order; plus "error" (why it is unreadable) when
 * there is one.
 */
#ifndef SIPREC_EXAMPLES_METADATA_JSON_H
#define SIPREC_EXAMPLES_METADATA_JSON_H

#include <jansson.h>

#include <siprec/siprec.h>

/** The object for model `m` (NULL: the absent model). The caller owns it. */
json_t *metadata_json(const siprec_metadata *m);

/** The AORs of who sends on m-line `mline` of a bound model, and the rule
 * that tied them (into *rule, "none" when nothing did). */
json_t *mline_senders_json(const siprec_metadata *m, size_t mline, const char **rule);

/** A change set as [{"kind":STR,"change":STR,"id":STR}] ("id2" for the
 * session of a participant-session association). */
json_t *metadata_changes_json(const siprec_metadata_changes *c);

#endif
