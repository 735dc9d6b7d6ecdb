/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libsndfile on positioned writes; see sndfile_pio.h. */
#include "sndfile_pio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

/* File systems on which a store to a page already written needs no new
 * space, so a mapped header cannot fault with SIGBUS when the disk is
 * full: ext2/3/4 (the page's blocks are reserved or allocated by the
 * first write) and tmpfs (the page is there). Not btrfs or ZFS: they
 * copy on write and reserve space at each fault. Elsewhere: pwrite. */
static size_t head_mappable(int fd)
{
#ifdef __linux__
  struct statfs st;
  if (fstatfs(fd, &st) < 0)
    return 0;
  unsigned long type = (unsigned long)st.f_type;
  if (type != 0xEF53ul /* EXT4_SUPER_MAGIC */ && type != 0x01021994ul /* TMPFS_MAGIC */)
    return 0;
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? (size_t)page : 0;
#else
  (void)fd;
  return 0;
#endif
}

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

/* A rewrite inside the first page, of bytes the file has already: through
 * the mapping (made at the first such rewrite). @return 1 when done there */
static int write_mapped(struct sndfile_pio *io, const void *ptr, sf_count_t count)
{
  if (!io->head_len || io->pos < 0 || count < 0 || io->pos + count > io->len ||
      io->pos + count > (sf_count_t)io->head_len)
    return 0;
  if (!io->head) {
    void *m = mmap(NULL, io->head_len, PROT_READ | PROT_WRITE, MAP_SHARED, io->fd, 0);
    if (m == MAP_FAILED) {
      io->head_len = 0; /* pwrite from now on */
      return 0;
    }
    io->head = m;
  }
  memcpy(io->head + io->pos, ptr, (size_t)count);
  return 1;
}

/* All of it, or as much as went before an error (errno kept for the
 * caller: ENOSPC is counted). */
static sf_count_t pio_write(const void *ptr, sf_count_t count, void *user)
{
  struct sndfile_pio *io = user;
  if (write_mapped(io, ptr, count)) {
    io->pos += count;
    return count;
  }
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
  io->head = NULL;
  io->head_len = head_mappable(fd);
  return sf_open_virtual(&vio, SFM_WRITE, info, io);
}

void sndfile_pio_release(struct sndfile_pio *io)
{
  if (io->head)
    munmap(io->head, io->head_len);
  io->head = NULL;
  io->head_len = 0;
}
