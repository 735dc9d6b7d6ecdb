/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/metadata.h
 * siprec_metadata: the recording metadata of RFC 7865 (who takes part in the
 * recorded call, which streams carry whom, which communication session this
 * is), parsed from what real recording clients send and kept current through
 * a session's updates.
 *
 * The model
 * ---------
 * A `siprec_metadata` is an immutable, reference-counted snapshot. Each
 * update (siprec_metadata_apply()) builds a new snapshot from the previous one
 * and the update's XML, and reports what changed in a change set; a host
 * thread may keep reading an older snapshot meanwhile. The model holds
 * - participants (participant_id; nameID aor, name and its xml:lang), in
 *   document order;
 * - streams (stream_id, session_id, label), in document order, and who sends
 *   on and who receives each one (participantstreamassoc send/recv);
 * - communication sessions (session_id, the sipSessionID list of RFC 7989
 *   Session-IDs, group-ref, start-time, stop-time) and groups (group_id,
 *   associate-time, disassociate-time);
 * - the associations participant-session and session-recording with their
 *   associate-time and disassociate-time;
 * - every element the model does not hold, in another namespace (vendor
 *   call ids, extension numbers, trunk names) or an unknown one of the
 *   recording namespace, as (namespace, path, text) in document order;
 * - the status: ok, absent, unreadable (an error code and a detail, the raw
 *   bytes kept), headers (participants from a non-SIPREC client's headers)
 *   or refused (read, but the merged model would pass one of its limits:
 *   not applied, the previous content kept, the error and raw bytes given).
 * A NULL `const siprec_metadata *` is valid everywhere a snapshot is read: it
 * is the absent model (status SIPREC_METADATA_ABSENT, nothing in it).
 *
 * What is taken
 * -------------
 * The namespaces `urn:ietf:params:xml:ns:recording:1`, the older
 * `urn:ietf:params:xml:ns:recording` without `:1`, and the pre-RFC draft's
 * `urn:ietf:params:xml:ns:siprec` (root `<recording_metadata>`, `<dataMode>`,
 * `id=`/`session=`/`group=` attributes, `<aor>` and `<name>` directly under
 * `<participant>`, `<send>`/`<recv>` inside `<participant>`, holding the
 * stream id as text or in `<id>` children, `associate-time` inside
 * `<participant>` and `<session>`), prefixed or default; a document with no
 * namespace at all is read as the RFC's. Element and attribute names of the
 * model compare without case (`dataMode`, `sipsessionid`). Text and
 * attribute values are taken with XML entities decoded and surrounding
 * white space trimmed, and are otherwise kept as written (an AOR without a
 * scheme gets none; timestamps are the text as sent). Single quotes, CRLF or
 * LF, a missing XML declaration, a UTF-8 byte order mark or white space
 * before the document, and bytes after the root element's end are accepted.
 *
 * Hardening: a document with a DOCTYPE is refused (so no entity is ever
 * declared or expanded: a billion-laughs document is refused at its first
 * line); the size, element depth, element count and attributes per element
 * are bounded (siprec_metadata_limits). Refused and malformed documents
 * give an unreadable snapshot, never a crash; the recording goes on.
 *
 * Updates
 * -------
 * A `complete` document (the default when `<datamode>` is missing) replaces
 * the model; a `partial` one is merged into the previous snapshot by id:
 * each participant, stream, session and group by its id, each
 * participant-session association by its (participant, session) pair, each
 * session-recording association by its session, each participant-stream
 * association by its participant. Fields and lists the update carries
 * replace the previous ones (a participantstreamassoc replaces both the send
 * and the recv list of its participant); what it leaves out stays. Nothing
 * is removed by a partial update: a participant who leaves gets a
 * disassociate-time. Vendor extensions of the objects a partial update
 * names replace theirs. An unreadable update keeps the previous content
 * (participants, streams...) and reports the error and its raw bytes.
 * Within one document, a second element with the id of an earlier one is
 * merged into it as a partial update would be.
 *
 * Cost: a snapshot's content is held in persistent vectors and hash maps
 * (32-way trees) whose untouched parts, records and strings are shared with
 * the snapshot it was merged from, so a partial update costs what it names
 * (times the trees' depth, log32 of the model's size), not the size of the
 * model; a complete document costs its own size. Replaced records stay in
 * memory until they are half of the model's, when the model is made again
 * from its live records (amortized over the updates that replaced them).
 * Two costs still follow the model: an update giving extension entries to
 * objects that already had some rebuilds the extension list, and one
 * changing a stream's label rebuilds the label index; and a stream named by
 * many participants' associations has its list of senders made again when
 * one of them changes.
 *
 * JSON
 * ----
 * The library writes no JSON; the examples' `metadata` member maps onto the
 * accessors one to one: "status" is siprec_metadata_status_name(); each of
 * "participants" is siprec_metadata_participant() (id, aor, name); each of
 * "streams" is siprec_metadata_stream() (id, label) with "senders" and
 * "receivers" from siprec_metadata_stream_sender()/_receiver() mapped to
 * AORs; each of "sessions" is siprec_metadata_session() with its
 * siprec_metadata_session_sip_session_id() list; each of "extensions" is
 * siprec_metadata_extension(). Every list is in document order, and the
 * change set names its kinds and changes with siprec_metadata_kind_name()
 * and siprec_metadata_change_name().
 *
 * Thread safety: snapshots and change sets are immutable; every function
 * reading them may be called from any thread at once, and references may be
 * taken and dropped from any thread. Limits objects are not thread-safe
 * while being set; a set one may be shared by concurrent parses.
 *
 * Memory: a snapshot's memory, and expat's while it parses, comes from the
 * allocator hook given to the call that made it (expat's allocations are
 * routed to it through XML_ParserCreate_MM). Strings returned by accessors
 * are NUL-terminated and live as long as the snapshot (or change set) they
 * came from.
 */
#ifndef SIPREC_METADATA_H
#define SIPREC_METADATA_H

#include <stddef.h>

#include <siprec/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Stable API
 * ====================================================================== */

/** A snapshot of the metadata model. Opaque, immutable, reference-counted. */
typedef struct siprec_metadata siprec_metadata;

/** Parser limits. Opaque; built with the setters below. */
typedef struct siprec_metadata_limits siprec_metadata_limits;

/** What one update changed. Opaque, immutable. */
typedef struct siprec_metadata_changes siprec_metadata_changes;

/** Default largest document, in bytes (1 MiB). */
#define SIPREC_METADATA_DEFAULT_MAX_BYTES (1024u * 1024u)
/** Default deepest element nesting (the root is depth 1). */
#define SIPREC_METADATA_DEFAULT_MAX_DEPTH 32u
/** Default most elements in one document. */
#define SIPREC_METADATA_DEFAULT_MAX_ELEMENTS 100000u
/** Default most attributes on one element. */
#define SIPREC_METADATA_DEFAULT_MAX_ATTRIBUTES 64u
/** Default most participants in a session's merged model. */
#define SIPREC_METADATA_DEFAULT_MAX_PARTICIPANTS 10000u
/** Default most streams in a session's merged model. */
#define SIPREC_METADATA_DEFAULT_MAX_STREAMS 10000u
/** Default most communication sessions, and most groups, in a merged model. */
#define SIPREC_METADATA_DEFAULT_MAX_SESSIONS 10000u
/** Default most associations of each kind (participant-session,
 * participant-stream, session-recording) in a merged model: twice the
 * participants, as a participant may be in two sessions (a transfer). */
#define SIPREC_METADATA_DEFAULT_MAX_ASSOCIATIONS 20000u
/** Default most extension entries in a merged model (one document's
 * element limit). */
#define SIPREC_METADATA_DEFAULT_MAX_EXTENSIONS 100000u
/** Largest depth a limits object accepts. */
#define SIPREC_METADATA_MAX_DEPTH 1024u

/** The state of a snapshot. The names are those of the JSON the examples
 * write (siprec_metadata_status_name()). */
typedef enum siprec_metadata_status {
  SIPREC_METADATA_ABSENT = 0,     /**< no metadata arrived (yet) */
  SIPREC_METADATA_OK = 1,         /**< the last document was read */
  SIPREC_METADATA_UNREADABLE = 2, /**< the last document could not be read */
  SIPREC_METADATA_HEADERS = 3,    /**< no metadata: participants from SIP headers */
  SIPREC_METADATA_REFUSED = 4,    /**< the last document was read but not applied: the
                                   * merged model would pass a limit (see "Limits of
                                   * the merged model"); the content is the previous one */
} siprec_metadata_status;

/** The `<datamode>` of the last document applied. */
typedef enum siprec_metadata_datamode {
  SIPREC_METADATA_DATAMODE_NONE = 0,     /**< no document was read */
  SIPREC_METADATA_DATAMODE_COMPLETE = 1, /**< complete (also when not stated) */
  SIPREC_METADATA_DATAMODE_PARTIAL = 2,  /**< partial */
} siprec_metadata_datamode;

/** The namespace the last document read was written in. */
typedef enum siprec_metadata_schema {
  SIPREC_METADATA_SCHEMA_NONE = 0,      /**< no document was read */
  SIPREC_METADATA_SCHEMA_RFC7865 = 1,   /**< urn:ietf:params:xml:ns:recording:1 */
  SIPREC_METADATA_SCHEMA_RECORDING = 2, /**< urn:ietf:params:xml:ns:recording (no :1) */
  SIPREC_METADATA_SCHEMA_DRAFT = 3,     /**< urn:ietf:params:xml:ns:siprec (pre-RFC) */
  SIPREC_METADATA_SCHEMA_NO_NAMESPACE = 4, /**< <recording> without any namespace */
} siprec_metadata_schema;

/** The kinds of object a change or an extension's owner names. */
typedef enum siprec_metadata_kind {
  SIPREC_METADATA_PARTICIPANT = 0,         /**< key: participant_id */
  SIPREC_METADATA_STREAM = 1,              /**< key: stream_id */
  SIPREC_METADATA_SESSION = 2,             /**< key: session_id */
  SIPREC_METADATA_GROUP = 3,               /**< key: group_id */
  SIPREC_METADATA_PARTICIPANT_SESSION = 4, /**< keys: participant_id, session_id */
  SIPREC_METADATA_PARTICIPANT_STREAM = 5,  /**< key: participant_id (send/recv lists) */
  SIPREC_METADATA_SESSION_RECORDING = 6,   /**< key: session_id */
  SIPREC_METADATA_RECORDING = 7,           /**< the document itself (no key) */
} siprec_metadata_kind;

/** What happened to an object in an update. */
typedef enum siprec_metadata_change {
  SIPREC_METADATA_ADDED = 0,
  SIPREC_METADATA_REMOVED = 1, /**< only a complete update removes */
  SIPREC_METADATA_CHANGED = 2,
} siprec_metadata_change;

/* ---------------------------------------------------------------------- */
/* Limits                                                                   */

/**
 * Create a limits object with the defaults: 1 MiB, depth 32, 100,000
 * elements, 64 attributes per element; for the merged model 10,000
 * participants, streams, sessions and groups, 20,000 associations of each
 * kind and 100,000 extension entries.
 * @param out  receives the object
 * @param mem  allocator for the object, or NULL
 * @return 0, SIPREC_EINVAL or SIPREC_ENOMEM
 */
SIPREC_API int siprec_metadata_limits_new(siprec_metadata_limits **out,
                                          const siprec_allocator *mem);

/** Free a limits object (NULL is accepted). */
SIPREC_API void siprec_metadata_limits_free(siprec_metadata_limits *limits);

/** Largest document in bytes (at least 1). A larger one is unreadable with
 * SIPREC_ETOOBIG and is not kept. @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_bytes(siprec_metadata_limits *limits, size_t max);

/** Deepest element nesting, the root being 1 (1 to SIPREC_METADATA_MAX_DEPTH).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_depth(siprec_metadata_limits *limits, unsigned max);

/** Most elements in one document (at least 1). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_elements(siprec_metadata_limits *limits,
                                                       size_t max);

/** Most attributes on one element (namespace declarations not counted).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_attributes(siprec_metadata_limits *limits,
                                                         unsigned max);

/* Limits of the merged model. A session's model grows by its partial
 * updates (each may add new ids), so the model has limits of its own,
 * checked on the result of each update (complete or partial): an update
 * whose result would hold more is not applied. siprec_metadata_apply() then
 * gives a snapshot with status SIPREC_METADATA_REFUSED, the previous content,
 * siprec_metadata_error() SIPREC_ETOOBIG and a detail naming the limit; the
 * recording goes on. Each setter takes at least 1 and at most UINT32_MAX / 2
 * (record indexes are 32-bit). @return 0 or SIPREC_EINVAL */

/** Most participants in the merged model (default 10,000). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_participants(siprec_metadata_limits *limits,
                                                           size_t max);

/** Most streams in the merged model (default 10,000). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_streams(siprec_metadata_limits *limits, size_t max);

/** Most communication sessions, and most groups, in the merged model
 * (default 10,000 each). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_sessions(siprec_metadata_limits *limits,
                                                       size_t max);

/** Most associations of each kind (participant-session, participant-stream,
 * session-recording) in the merged model (default 20,000 each).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_associations(siprec_metadata_limits *limits,
                                                           size_t max);

/** Most extension entries in the merged model (default 100,000).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_limits_set_max_extensions(siprec_metadata_limits *limits,
                                                         size_t max);

/* ---------------------------------------------------------------------- */
/* Building snapshots                                                       */

/**
 * Apply one metadata document (the bytes of an rs-metadata body part) to the
 * current snapshot, giving the next one. See "Updates" above.
 * @param out      receives the new snapshot (one reference, the caller's)
 * @param changes  receives what changed from `current` (free it with
 *                 siprec_metadata_changes_free()), or NULL when not wanted
 * @param current  the snapshot to update, or NULL (no metadata yet)
 * @param xml, len the document, exactly as received
 * @param limits   parser limits, or NULL for the defaults
 * @param mem      allocator for the new snapshot and the parse, or NULL
 * @return 0 when `*out` was set, whatever the document held (an unreadable
 *         document gives a snapshot with status SIPREC_METADATA_UNREADABLE);
 *         SIPREC_EINVAL or SIPREC_ENOMEM (nothing was made)
 */
SIPREC_API int siprec_metadata_apply(siprec_metadata **out, siprec_metadata_changes **changes,
                                     const siprec_metadata *current, const void *xml, size_t len,
                                     const siprec_metadata_limits *limits,
                                     const siprec_allocator *mem);

/**
 * Parse one document on its own: siprec_metadata_apply() with no current
 * snapshot and no change set.
 * @return 0, SIPREC_EINVAL or SIPREC_ENOMEM
 */
SIPREC_API int siprec_metadata_parse(siprec_metadata **out, const void *xml, size_t len,
                                     const siprec_metadata_limits *limits,
                                     const siprec_allocator *mem);

/** Take a reference; returns `m`. NULL is accepted (and returned). */
SIPREC_API siprec_metadata *siprec_metadata_ref(siprec_metadata *m);

/** Drop a reference; the last one frees the snapshot. NULL is accepted. */
SIPREC_API void siprec_metadata_unref(siprec_metadata *m);

/* ---------------------------------------------------------------------- */
/* Status                                                                   */

/** The snapshot's status (SIPREC_METADATA_ABSENT for NULL). */
SIPREC_API siprec_metadata_status siprec_metadata_get_status(const siprec_metadata *m);

/** "ok", "absent", "unreadable", "headers" or "refused"; "unknown" for
 * other values. */
SIPREC_API const char *siprec_metadata_status_name(siprec_metadata_status status);

/**
 * Why the last document was unreadable or refused: 0 when it was applied;
 * SIPREC_EPARSE (not well-formed XML, a DOCTYPE, not a recording document,
 * or no metadata element in it), SIPREC_ETOOBIG (a limit was passed: of the
 * document, or of the merged model, status SIPREC_METADATA_REFUSED).
 */
SIPREC_API int siprec_metadata_error(const siprec_metadata *m);

/** A short English description of the error, with the line and column for
 * XML errors, e.g. "line 4, column 2: mismatched tag"; "" when none. */
SIPREC_API const char *siprec_metadata_error_detail(const siprec_metadata *m);

/**
 * The bytes of the last document applied, exactly as given (also when
 * unreadable; not kept when over the size limit), or NULL with *len 0.
 * `len` may be NULL.
 */
SIPREC_API const char *siprec_metadata_raw(const siprec_metadata *m, size_t *len);

/** The datamode of the last document read. */
SIPREC_API siprec_metadata_datamode siprec_metadata_get_datamode(const siprec_metadata *m);

/** The namespace of the last document read. */
SIPREC_API siprec_metadata_schema siprec_metadata_get_schema(const siprec_metadata *m);

/* ---------------------------------------------------------------------- */
/* Participants                                                             */

/** Number of participants. */
SIPREC_API size_t siprec_metadata_participant_count(const siprec_metadata *m);

/**
 * Participant `index` (document order). Output pointers may be NULL. `aor`,
 * `name` and `lang` are those of its first nameID (or, in the draft schema,
 * its `<aor>`/`<name>`); each is NULL when not given.
 * @return 0 or SIPREC_EINVAL (index out of range)
 */
SIPREC_API int siprec_metadata_participant(const siprec_metadata *m, size_t index,
                                           const char **id, const char **aor, const char **name,
                                           const char **lang);

/**
 * The nameIDs of participant `index`: returns their number; when
 * `k` < that number, `aor`, `name` and `lang` (each may be NULL) receive
 * those of nameID `k`.
 */
SIPREC_API size_t siprec_metadata_participant_nameid(const siprec_metadata *m, size_t index,
                                                     size_t k, const char **aor,
                                                     const char **name, const char **lang);

/** Find a participant by participant_id. @return 0 (and *index),
 * SIPREC_ENOTFOUND or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_participant_find(const siprec_metadata *m, const char *id,
                                                size_t *index);

/** The streams participant `index` sends on: returns their number; when
 * `k` < that number, *stream receives the stream index of the k-th (in
 * stream order). */
SIPREC_API size_t siprec_metadata_participant_sends(const siprec_metadata *m, size_t index,
                                                    size_t k, size_t *stream);

/** The streams participant `index` receives, as siprec_metadata_participant_sends(). */
SIPREC_API size_t siprec_metadata_participant_receives(const siprec_metadata *m, size_t index,
                                                       size_t k, size_t *stream);

/* ---------------------------------------------------------------------- */
/* Streams                                                                  */

/** Number of streams. */
SIPREC_API size_t siprec_metadata_stream_count(const siprec_metadata *m);

/**
 * Stream `index` (document order). Output pointers may be NULL; `label` is
 * NULL when the stream has no `<label>`, "" when it is empty.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_metadata_stream(const siprec_metadata *m, size_t index, const char **id,
                                      const char **session_id, const char **label);

/** Find a stream by stream_id. @return 0, SIPREC_ENOTFOUND or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_stream_find(const siprec_metadata *m, const char *id,
                                           size_t *index);

/** Find the first stream with this label (the SDP a=label). @return 0,
 * SIPREC_ENOTFOUND or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_stream_find_label(const siprec_metadata *m, const char *label,
                                                 size_t *index);

/**
 * Who sends on stream `index`: returns the number of participants the
 * associations name as senders; when `k` < that number, *participant
 * receives the participant index of the k-th (in participant order).
 */
SIPREC_API size_t siprec_metadata_stream_sender(const siprec_metadata *m, size_t index, size_t k,
                                                size_t *participant);

/** Who receives stream `index`, as siprec_metadata_stream_sender(). */
SIPREC_API size_t siprec_metadata_stream_receiver(const siprec_metadata *m, size_t index,
                                                  size_t k, size_t *participant);

/* ---------------------------------------------------------------------- */
/* Sessions, groups, associations                                           */

/** Number of communication sessions. */
SIPREC_API size_t siprec_metadata_session_count(const siprec_metadata *m);

/** Session `index`: its session_id, group-ref, start-time and stop-time
 * (each NULL when absent; outputs may be NULL). @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_session(const siprec_metadata *m, size_t index, const char **id,
                                       const char **group_ref, const char **start_time,
                                       const char **stop_time);

/** The sipSessionIDs (RFC 7989) of session `index`: returns their number;
 * when `k` < that number, *value receives the k-th. */
SIPREC_API size_t siprec_metadata_session_sip_session_id(const siprec_metadata *m, size_t index,
                                                         size_t k, const char **value);

/** Number of groups. */
SIPREC_API size_t siprec_metadata_group_count(const siprec_metadata *m);

/** Group `index`: group_id, associate-time, disassociate-time.
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_group(const siprec_metadata *m, size_t index, const char **id,
                                     const char **associate_time,
                                     const char **disassociate_time);

/** Number of participant-session associations (participantsessionassoc, or
 * a draft participant's session attribute and times). */
SIPREC_API size_t siprec_metadata_participant_session_count(const siprec_metadata *m);

/** Participant-session association `index`. A disassociate-time means the
 * participant left that session. @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_participant_session(const siprec_metadata *m, size_t index,
                                                   const char **participant_id,
                                                   const char **session_id,
                                                   const char **associate_time,
                                                   const char **disassociate_time);

/** Number of session-recording associations (sessionrecordingassoc, or a
 * draft session's times). */
SIPREC_API size_t siprec_metadata_session_recording_count(const siprec_metadata *m);

/** Session-recording association `index`. @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_session_recording(const siprec_metadata *m, size_t index,
                                                 const char **session_id,
                                                 const char **associate_time,
                                                 const char **disassociate_time);

/* ---------------------------------------------------------------------- */
/* Extensions                                                               */

/** Number of extension entries. One entry is kept for each element the
 * model does not hold that has no child element (its text), and for each
 * attribute in another namespace or on such an element (its value). */
SIPREC_API size_t siprec_metadata_extension_count(const siprec_metadata *m);

/**
 * Extension entry `index` (document order): the element's (or attribute's)
 * namespace URI ("" for none), its path of local names from the root joined
 * by '/', an attribute's last step being "@name" (e.g.
 * "recording/group/callData/callid"), and its trimmed text.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_metadata_extension(const siprec_metadata *m, size_t index, const char **ns,
                                         const char **path, const char **text);

/** The object an extension entry sits in: *kind and its key (*id, NULL for
 * SIPREC_METADATA_RECORDING, an entry outside any object).
 * @return 0 or SIPREC_EINVAL */
SIPREC_API int siprec_metadata_extension_owner(const siprec_metadata *m, size_t index,
                                               siprec_metadata_kind *kind, const char **id);

/* ---------------------------------------------------------------------- */
/* Change sets                                                              */

/** Number of entries in a change set (0 for NULL). Entries come grouped by
 * kind in siprec_metadata_kind order; within a kind, added and changed
 * objects in the new snapshot's order, then removed ones in the old one's. */
SIPREC_API size_t siprec_metadata_changes_count(const siprec_metadata_changes *c);

/**
 * Change entry `index`: the object's kind, what happened, and its key
 * (`key2` is the session_id of a participant-session association, NULL for
 * the other kinds). Outputs may be NULL.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_metadata_changes_get(const siprec_metadata_changes *c, size_t index,
                                           siprec_metadata_kind *kind,
                                           siprec_metadata_change *change, const char **key,
                                           const char **key2);

/** How many entries of this kind and change the set holds. */
SIPREC_API size_t siprec_metadata_changes_tally(const siprec_metadata_changes *c,
                                                siprec_metadata_kind kind,
                                                siprec_metadata_change change);

/** Free a change set (NULL is accepted). */
SIPREC_API void siprec_metadata_changes_free(siprec_metadata_changes *c);

/** "participant", "stream", "session", "group", "participant-session",
 * "participant-stream", "session-recording", "recording"; "unknown" otherwise. */
SIPREC_API const char *siprec_metadata_kind_name(siprec_metadata_kind kind);

/** "added", "removed", "changed"; "unknown" otherwise. */
SIPREC_API const char *siprec_metadata_change_name(siprec_metadata_change change);

/* ---------------------------------------------------------------------- */
/* Who speaks on which m-line                                               */

/**
 * How an SDP m-line was tied to the people speaking on it, in the order the
 * rules are tried (siprec_metadata_bind()).
 */
typedef enum siprec_metadata_rule {
  SIPREC_METADATA_RULE_NONE = 0,   /**< nothing ties the m-line to anyone */
  SIPREC_METADATA_RULE_LABEL = 1,  /**< its a=label named a stream whose associations name senders */
  SIPREC_METADATA_RULE_STREAM_ORDER = 2, /**< no stream has its label: the n-th m-line
                                          * is the n-th stream, whose associations name senders */
  SIPREC_METADATA_RULE_PARTICIPANT_ORDER = 3, /**< no association names a sender for it:
                                               * the n-th m-line is the n-th participant's */
  SIPREC_METADATA_RULE_HEADERS = 4, /**< a header's media index (no metadata) */
} siprec_metadata_rule;

/**
 * Tie the session's SDP m-lines to the model: a new snapshot of the same
 * content that also says, for each m-line, which stream it is, who sends on
 * it and which rule said so. For m-line n (0-based), in this order:
 * 1. its label equals a stream's `<label>` (the first such stream) and the
 *    associations name that stream's senders: SIPREC_METADATA_RULE_LABEL;
 * 2. no stream has its label (or it has none) and the n-th stream in
 *    document order, not claimed by another m-line's label, has senders:
 *    SIPREC_METADATA_RULE_STREAM_ORDER;
 * 3. otherwise, when there is an n-th participant in document order, it is
 *    taken as the sender: SIPREC_METADATA_RULE_PARTICIPANT_ORDER (the stream
 *    found by rule 1 or 2, if any, is still reported);
 * 4. otherwise SIPREC_METADATA_RULE_NONE.
 * Snapshots made by siprec_metadata_apply() have no m-lines: bind again
 * after each update and each SDP change.
 * @param out     receives the new snapshot
 * @param m       the snapshot to bind (NULL: the absent model)
 * @param labels  `n` labels, one per m-line in SDP order; NULL entries for
 *                m-lines without a=label (labels may be NULL when n is 0)
 * @param mem     allocator for the new snapshot, or NULL
 * @return 0, SIPREC_EINVAL or SIPREC_ENOMEM
 */
SIPREC_API int siprec_metadata_bind(siprec_metadata **out, const siprec_metadata *m,
                                    const char *const *labels, size_t n,
                                    const siprec_allocator *mem);

/** Number of m-lines bound (0 before siprec_metadata_bind()). */
SIPREC_API size_t siprec_metadata_mline_count(const siprec_metadata *m);

/**
 * M-line `mline`: the stream it is (*stream set to SIZE_MAX when none) and
 * the rule that tied it. Outputs may be NULL.
 * @return 0 or SIPREC_EINVAL
 */
SIPREC_API int siprec_metadata_mline(const siprec_metadata *m, size_t mline, size_t *stream,
                                     siprec_metadata_rule *rule);

/** Who sends on m-line `mline`: returns their number; when `k` < that
 * number, *participant receives the k-th participant index. */
SIPREC_API size_t siprec_metadata_mline_sender(const siprec_metadata *m, size_t mline, size_t k,
                                               size_t *participant);

/** "none", "label", "stream-order", "participant-order", "headers";
 * "unknown" otherwise. */
SIPREC_API const char *siprec_metadata_rule_name(siprec_metadata_rule rule);

/* ======================================================================
 * Experimental API: declared only when the host defines SIPREC_EXPERIMENTAL;
 * may change in any release, without an ABI promise.
 * ====================================================================== */
#ifdef SIPREC_EXPERIMENTAL

/**
 * A snapshot for a recording that carries no metadata (a Cisco
 * network-based recording): status SIPREC_METADATA_HEADERS, participant i
 * with id "header-i" and the AOR `aors[i]`, bound to m-line `mlines[i]`
 * (SIPREC_METADATA_RULE_HEADERS; a negative entry binds it to none). The
 * host (the handler) extracts AORs and media indexes from the headers.
 * @param mlines  `n` m-line indexes, or NULL for none
 * @return 0, SIPREC_EINVAL or SIPREC_ENOMEM
 */
SIPREC_API int siprec_metadata_from_headers(siprec_metadata **out, const char *const *aors,
                                            const int *mlines, size_t n,
                                            const siprec_allocator *mem);

#endif /* SIPREC_EXPERIMENTAL */

#ifdef __cplusplus
}
#endif

#endif
