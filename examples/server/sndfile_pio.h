/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsndfile writing a new file through its virtual I/O, with positioned
 * writes on the descriptor and the position and length kept here.
 *
 * Why: on a descriptor (sf_open_fd) libsndfile asks the kernel for what it
 * could know: a header update (every flush of every recording, for crash
 * safety) is an lseek to 0, the header's write, an lseek back and an
 * fstat, and a write of audio asks for the position again: six system
 * calls a flush where two (the audio, the header) do the work. At 1,500
 * calls that was 130,000 calls a second on the writer thread.
 *
 * Writing only: the file must be new and empty (O_EXCL); nothing else may
 * write to the descriptor or move its offset while libsndfile has it.
 */
#ifndef SIPREC_SERVER_SNDFILE_PIO_H
#define SIPREC_SERVER_SNDFILE_PIO_H

#include <sndfile.h>

struct sndfile_pio {
  int fd;
  sf_count_t pos, len; /* libsndfile's position; the file's length */
};

/** Open `fd` for writing as `info` says; `io` must outlive the SNDFILE.
 * @return the SNDFILE, or NULL (sf_strerror(NULL) says why) */
SNDFILE *sndfile_pio_open(struct sndfile_pio *io, int fd, SF_INFO *info);

#endif
