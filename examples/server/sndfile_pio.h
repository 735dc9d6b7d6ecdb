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
 * The header's rewrites go through a shared mapping of the file's first
 * page where the file system allows it (below): a store instead of a
 * pwrite, which on ext4 also dirtied the inode (mtime) each time, 2.6 us
 * of the writer's 9 us a flush. The page is in the page cache either way,
 * so a process killed at once leaves the same file; fsync writes it.
 *
 * Writing only: the file must be new and empty (O_EXCL) and opened
 * O_RDWR (a shared writable mapping needs it); nothing else may write to
 * the descriptor, move its offset or truncate the file while libsndfile
 * has it (a truncated mapped page is SIGBUS: recordings are private to
 * the server's user).
 */
#ifndef SIPREC_SERVER_SNDFILE_PIO_H
#define SIPREC_SERVER_SNDFILE_PIO_H

#include <sndfile.h>
#include <stddef.h>

struct sndfile_pio {
  int fd;
  sf_count_t pos, len; /* libsndfile's position; the file's length */
  char *head;          /* the first page, mapped; NULL: not (yet) */
  size_t head_len;     /* its length; 0: never mapped (pwrite only) */
};

/** Open `fd` for writing as `info` says; `io` must outlive the SNDFILE.
 * @return the SNDFILE, or NULL (sf_strerror(NULL) says why) */
SNDFILE *sndfile_pio_open(struct sndfile_pio *io, int fd, SF_INFO *info);

/** After sf_close(): unmap what was mapped (the descriptor stays open). */
void sndfile_pio_release(struct sndfile_pio *io);

#endif
