/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replace a small file whole, so that a reader (or a server started after
 * a crash) finds the old contents or the new, never a part: the bytes go to
 * DIR/.NAME.tmp (removed first, then made anew with O_EXCL: ours, `mode`),
 * which is renamed over DIR/NAME. `durable`: the file is fsynced before the
 * rename and the folder after it (the manifest, the resume state); without,
 * a power cut may lose the newest version (the session event files).
 * One writer for siprec-server's manifest.json, SESSION.json events and
 * resume states.
 */
#ifndef SIPREC_SERVER_FILE_REPLACE_H
#define SIPREC_SERVER_FILE_REPLACE_H

#include <stddef.h>
#include <sys/types.h>

/** Write `a` then `b` (`b` may be NULL) as DIR/NAME (NAME: no '/').
 * @return 0 or a negative errno */
int file_replace(const char *dir, const char *name, const char *a, size_t a_len, const char *b,
                 size_t b_len, mode_t mode, int durable);

#endif
