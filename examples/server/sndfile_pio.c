/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libsndfile on positioned writes; see sndfile_pio.h. */
#include "sndfile_pio.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static sf_count_t pio_length(void *user)
{
  const struct sndfile_pio *io = user;
  return io->len;
}

static sf_count_t pio_seek(sf_count_t offset, int whence, void *user)
{
  struct sndfile_pio *io = user;
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? io->pos : io->len;
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
    return -1;
  if (offset < -base) {
    errno = EINVAL;
    return -1;
  }
  io->pos = base + offset;
  return io->pos;
}

static sf_count_t pio_read(void *ptr, sf_count_t count, void *user)
{
  struct sndfile_pio *io = user;
  ssize_t r = pread(io->fd, ptr, (size_t)count, (off_t)io->pos);
  if (r <= 0)
    return 0;
  io->pos += r;
  return r;
}

/* All of it, or as much as went before an error (errno kept for the
 * caller: ENOSPC is counted). */
static sf_count_t pio_write(const void *ptr, sf_count_t count, void *user)
{
  struct sndfile_pio *io = user;
  const char *p = ptr;
  sf_count_t done = 0;
  while (done < count) {
    ssize_t w = pwrite(io->fd, p + done, (size_t)(count - done), (off_t)(io->pos + done));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    done += w;
  }
  io->pos += done;
  if (io->pos > io->len)
    io->len = io->pos;
  return done;
}

static sf_count_t pio_tell(void *user)
{
  const struct sndfile_pio *io = user;
  return io->pos;
}

SNDFILE *sndfile_pio_open(struct sndfile_pio *io, int fd, SF_INFO *info)
{
  static SF_VIRTUAL_IO vio = { pio_length, pio_seek, pio_read, pio_write, pio_tell };
  io->fd = fd;
  io->pos = io->len = 0;
  return sf_open_virtual(&vio, SFM_WRITE, info, io);
}
