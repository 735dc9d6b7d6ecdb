/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small file replaced durably (file_replace: written to a .tmp, fsynced,
 * renamed, the folder fsynced) by the recordings' writer thread, after the
 * audio handed to it before, with a completion back on the producer's
 * thread. For the files siprec-server must not wait for on its event loop:
 * each fsync waits for a disk busy with every call's audio, and a loop that
 * waits stops reading every socket (a recording's manifest.json, a call's
 * resume state).
 */
#ifndef SIPREC_SERVER_WRITER_FILE_H
#define SIPREC_SERVER_WRITER_FILE_H

#include "rec_writer.h"

/** DIR/NAME becomes `text` (taken: freed once written) followed by `tail`
 * (a constant, or NULL), mode 0600, on `w`'s thread; then `done(arg, rc)`
 * (rc 0 or a negative errno; done may be NULL) runs in rec_writer_poll().
 * @return 0, or -1 when nothing was taken (w NULL, or no memory): the
 * caller writes it itself */
int writer_file_replace(rec_writer *w, const char *dir, const char *name, char *text,
                        const char *tail, void (*done)(void *arg, int rc), void *arg);

#endif
