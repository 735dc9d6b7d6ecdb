/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One sound file of a recording and the audio buffered for it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder_internal.h"

int rec_sink_open(struct rec_sink *s, int dirfd, const char *name, enum rec_format fmt,
                  uint32_t rate, int channels)
{
  memset(s, 0, sizeof *s);
  SF_INFO info = {
    .samplerate = (int)rate,
    .channels = channels,
    .format = fmt == REC_FLAC ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16 : SF_FORMAT_RF64 | SF_FORMAT_PCM_16,
  };
  if (!sf_format_check(&info))
    return -EINVAL;
  /* About a second of audio: rec_tick() flushes far sooner, the bound only
   * matters for a caller that does not tick. */
  s->cap = rate;
  s->buf = malloc(s->cap * (size_t)channels * sizeof *s->buf);
  if (!s->buf)
    return -ENOMEM;
  /* O_EXCL: never write into a file that was there (or a link planted in
   * its place); 0600: recordings are private. */
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    free(s->buf);
    s->buf = NULL;
    return -e;
  }
  /* The descriptor stays ours, to fsync it after libsndfile's last write. */
  s->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
  if (!s->sf) {
    close(fd);
    unlinkat(dirfd, name, 0);
    free(s->buf);
    s->buf = NULL;
    return -EIO;
  }
  /* Plain WAV while under 4 GiB, RF64 past it (set before any audio). */
  if (fmt == REC_WAV)
    sf_command(s->sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
  s->channels = channels;
  s->fd = fd;
  return 0;
}

static int write_buffer(struct rec_sink *s)
{
  if (!s->len)
    return 0;
  errno = 0;
  sf_count_t w = sf_writef_short(s->sf, s->buf, (sf_count_t)s->len);
  int e = errno;
  if (w > 0)
    s->written += (uint64_t)w;
  if (w != (sf_count_t)s->len) {
    /* What the write left out is gone: the file ends at what it took. */
    s->frames = s->written;
    s->len = 0;
    return -(e ? e : EIO);
  }
  s->len = 0;
  return 0;
}

int rec_sink_put(struct rec_sink *s, const int16_t *frames, size_t n)
{
  if (!s->sf)
    return 0;
  size_t ch = (size_t)s->channels;
  while (n) {
    if (s->len == s->cap) {
      int rc = write_buffer(s);
      if (rc)
        return rc;
    }
    size_t k = s->cap - s->len;
    if (k > n)
      k = n;
    int16_t *dst = s->buf + s->len * ch;
    if (frames) {
      memcpy(dst, frames, k * ch * sizeof *dst);
      frames += k * ch;
    } else {
      memset(dst, 0, k * ch * sizeof *dst);
    }
    s->len += k;
    s->frames += k;
    n -= k;
  }
  return 0;
}

int rec_sink_flush(struct rec_sink *s)
{
  if (!s->sf)
    return 0;
  int rc = write_buffer(s);
  /* A valid header after every flush: a process killed now leaves a file
   * that says how much audio it holds (for FLAC this does nothing). Also
   * after a failed write, so the file describes what it took. */
  sf_command(s->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
  return rc;
}

int rec_sink_close(struct rec_sink *s, int discard, int sync)
{
  int rc = 0;
  if (s->sf) {
    if (discard) {
      s->frames = s->written;
      s->len = 0;
    }
    rc = rec_sink_flush(s);
    /* sf_close() writes FLAC's last block and STREAMINFO. */
    if (sf_close(s->sf) && !rc)
      rc = -EIO;
    s->sf = NULL;
    /* Durable once closed: the recording is done and reported. */
    if (sync && fsync(s->fd) < 0 && !rc && errno != EINVAL)
      rc = -errno;
    if (close(s->fd) < 0 && !rc && errno != EINTR)
      rc = -errno;
    s->fd = -1;
  }
  free(s->buf);
  s->buf = NULL;
  s->len = s->cap = 0;
  return rc;
}
