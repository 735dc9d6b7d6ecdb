/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A recording's manifest: FOLDER/manifest.json (FOLDER is DIR/SESSION, the
 * recorder's folder), mode 0600, written atomically (a temporary file,
 * fsync, rename, fsync of the folder): a reader sees the old manifest or
 * the new one, never a part. Its shape:
 *
 *   {"session":"...","call_id":"...","start":"2024-05-01T10:00:00.000Z",
 *    "end":"...","end_reason":"bye",
 *    "participants":[{"id":"...","aor":"sip:...","name":"..."}],
 *    "files":[{"name":"caller.wav","stream":"caller","channels":1,
 *              "rate":16000,"duration":12.34},
 *             {"name":"stereo.wav","streams":["caller","callee"],
 *              "channels":2,"rate":16000,"duration":12.34}],
 *    "slips":0,"write_errors":0}
 *
 * A recording in segments (manifest_info.segment) adds "segment" and
 * "offset" (seconds from "start") to each file and a "segments" list.
 *
 * Strings from the network (Call-ID, labels, participants) are escaped by
 * jansson; bytes that are not UTF-8 are taken as Latin-1; a field given as
 * NULL is written as null. Times are UTC with milliseconds.
 * No global state; any thread.
 */
#ifndef SIPREC_SERVER_MANIFEST_H
#define SIPREC_SERVER_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"

struct manifest_participant {
  const char *id, *aor, *name;
};

/** An earlier segment of the recording (a server restarted mid-call went
 * on in new files): its number, where it starts on the session's
 * timeline, its files as they are on disk. */
struct manifest_segment {
  unsigned segment;
  double offset; /**< seconds from the session's start */
  const struct rec_file *files;
  size_t n_files;
};

struct manifest_info {
  const char *session;
  const char *call_id;   /**< bytes, not NUL-terminated */
  size_t call_id_len;
  int64_t start_unix_ns; /**< wall clock (CLOCK_REALTIME) */
  int64_t end_unix_ns;
  const char *end_reason;
  const struct manifest_participant *participants;
  size_t n_participants;
  const struct rec_summary *rec; /**< the files, slips, write errors (rec_close()) */
  /** 0: one recording, no segment fields. Else rec's files are segment
   * `segment`, starting `offset` s into the session; the `prior` ones are
   * listed first: every file gets "segment" and "offset", and
   * "segments":[{"segment":1,"offset":0.0},...] lists them all. */
  unsigned segment;
  double offset;
  const struct manifest_segment *prior;
  size_t n_prior;
};

/** Write `m` to m->rec->folder/manifest.json: manifest_text, then
 * manifest_store.
 * @return 0, -EINVAL, -ENOMEM, or the errno of a failed file operation */
int manifest_write(const struct manifest_info *m);
/** The manifest of `m` as text (*out malloc'd, the caller frees it).
 * @return 0, -EINVAL or -ENOMEM */
int manifest_text(const struct manifest_info *m, char **out);
/** `text` as FOLDER/manifest.json, durably (fsync of the file and the
 * folder: it waits for the disk, so siprec-server runs it on its writer
 * thread, not its loop). Any thread. @return 0 or a negative errno */
int manifest_store(const char *folder, const char *text);

/** UTC ISO-8601 with milliseconds ("2024-05-01T10:00:00.123Z") into out
 * (at least 32 bytes). @return 0 or -EINVAL */
int manifest_utc(int64_t unix_ns, char *out, size_t size);

#endif
