/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replace a small file whole; see file_replace.h. */
#include "file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int file_replace(const char *dir, const char *name, const char *a, size_t a_len, const char *b,
                 size_t b_len, mode_t mode, int durable)
{
  char tmp[512];
  if (!name[0] || strchr(name, '/') ||
      snprintf(tmp, sizeof tmp, ".%s.tmp", name) >= (int)sizeof tmp)
    return -EINVAL;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return -errno;
  /* A temporary left by a crash (or anything planted under its name) is
   * removed, then made anew: O_EXCL, so it is ours with our mode. */
  unlinkat(dfd, tmp, 0);
  int rc = 0;
  int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    rc = -errno;
  } else {
    rc = write_all(fd, a, a_len);
    if (!rc && b)
      rc = write_all(fd, b, b_len);
    /* Data on disk before the name points at it. */
    if (!rc && durable && fsync(fd) < 0)
      rc = -errno;
    if (close(fd) < 0 && !rc && errno != EINTR)
      rc = -errno;
    if (!rc && renameat(dfd, tmp, dfd, name) < 0)
      rc = -errno;
    if (rc)
      unlinkat(dfd, tmp, 0);
    else if (durable)
      fsync(dfd); /* the rename itself */
  }
  close(dfd);
  return rc;
}
