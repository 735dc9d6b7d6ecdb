/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Media from many threads (suite `concurrency`, run again under
 * ThreadSanitizer): two sessions, one feeding thread per stream, a thread
 * calling next_deadline/expire, and the signalling ending one session
 * while its datagrams still arrive (one stream of each session fed in
 * batches, siprec_handler_media_batch). Every frame delivered belongs to a
 * live stream, every stream of the ended session reports ENDED before the
 * session's ended callback, no datagram is fed into freed memory (ASan,
 * TSan), and the counters add up. And a port change while another
 * thread's batch runs an audio callback: it does not wait for the callback,
 * and what it swapped out of the port table is freed after that batch. */
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "failalloc.h"
#include "handler_fixture.h"
#include "rtp_build.h"

#define S (1000 * MS)
#define PACKETS 400

static _Atomic uint64_t frames, ended_streams, ended_before_session;
static _Atomic int sessions_ended;

static void on_audio(void *user, const siprec_audio_frame *fr)
{
  (void)user;
  ck_assert_uint_eq(fr->n_samples, 160);
  /* The session read from the callback, also while the signalling holds
   * the session and waits for this stream (the BYE). */
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(fr->session, fr->stream, &info), 0);
  ck_assert_str_eq(info.label, fr->label);
  atomic_fetch_add(&frames, 1);
}

static void on_event(void *user, const siprec_stream_event *e)
{
  (void)user;
  if (e->type == SIPREC_STREAM_ENDED) {
    atomic_fetch_add(&ended_streams, 1);
    if (atomic_load(&sessions_ended) == 0)
      atomic_fetch_add(&ended_before_session, 1);
  }
}

/* Snapshots written from the feeding threads (every datagram's media
 * interval of 1 ms), the signalling's and the expirer's at once: each one
 * whole. */
static _Atomic uint64_t snapshots, snapshots_bad;

static void on_snapshot(void *user, siprec_session *s, const char *key, size_t key_len,
                        const void *data, size_t len)
{
  (void)user;
  (void)s;
  (void)key_len;
  if (!data)
    return;
  siprec_snapshot_info info;
  if (siprec_snapshot_inspect(data, len, &info) != 0 || strncmp(info.key, key, key_len) != 0)
    atomic_fetch_add(&snapshots_bad, 1);
  atomic_fetch_add(&snapshots, 1);
}

static void hook(siprec_handler_callbacks *cbs)
{
  siprec_handler_callbacks_set_audio(cbs, on_audio);
  siprec_handler_callbacks_set_stream_event(cbs, on_event);
  siprec_handler_callbacks_set_snapshot(cbs, on_snapshot);
}

typedef struct feeder {
  siprec_handler *h;
  struct sockaddr_in local, remote;
  uint32_t ssrc;
  _Atomic int *go;
  int batch; /* datagrams a siprec_handler_media_batch() call; 0: one call each */
  int taken, not_found;
} feeder;

enum { BATCH_MAX = 8 };

static void tally(feeder *fd, int rc)
{
  if (rc == 0)
    fd->taken++;
  else if (rc == SIPREC_ENOTFOUND)
    fd->not_found++;
  else
    ck_abort_msg("siprec_handler_media: %d", rc);
}

static void feed_held(feeder *fd, siprec_datagram *dg, int *n)
{
  int rc[BATCH_MAX];
  ck_assert_int_eq(siprec_handler_media_batch(fd->h, dg, (size_t)*n, rc), 0);
  for (int i = 0; i < *n; i++)
    tally(fd, rc[i]);
  *n = 0;
}

static void *feed(void *arg)
{
  feeder *fd = arg;
  while (!atomic_load(fd->go))
    ;
  uint8_t bufs[BATCH_MAX][172];
  siprec_datagram dg[BATCH_MAX];
  int held = 0;
  memset(bufs, 0xFF, sizeof bufs);
  siprec_path p = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&fd->local,
                    (struct sockaddr *)&fd->remote, 0 };
  for (unsigned k = 0; k < PACKETS; k++) {
    uint8_t *buf = bufs[held];
    buf[0] = 0x80;
    /* Every eighth pair swapped: holes that the expire thread releases. */
    unsigned seq = k % 8 == 0 && k + 1 < PACKETS ? k + 1 : k % 8 == 1 ? k - 1 : k;
    buf[1] = 0;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    uint32_t ts = seq * 160;
    buf[4] = (uint8_t)(ts >> 24);
    buf[5] = (uint8_t)(ts >> 16);
    buf[6] = (uint8_t)(ts >> 8);
    buf[7] = (uint8_t)ts;
    buf[8] = (uint8_t)(fd->ssrc >> 24);
    buf[9] = (uint8_t)(fd->ssrc >> 16);
    buf[10] = (uint8_t)(fd->ssrc >> 8);
    buf[11] = (uint8_t)fd->ssrc;
    uint64_t now = 2 * S + (uint64_t)k * 20 * MS;
    if (!fd->batch) {
      tally(fd, siprec_handler_media(fd->h, buf, sizeof bufs[0], &p, now));
      continue;
    }
    dg[held++] = (siprec_datagram){ buf, sizeof bufs[0], &p, now };
    if (held == fd->batch)
      feed_held(fd, dg, &held);
  }
  if (held)
    feed_held(fd, dg, &held);
  return NULL;
}

static _Atomic int stop_expire;

static void *expirer(void *arg)
{
  siprec_handler *h = arg;
  uint64_t now = 2 * S;
  while (!atomic_load(&stop_expire)) {
    uint64_t d = siprec_handler_next_deadline(h);
    /* The fake clock keeps within the media's 10 s: no signalling timer
     * (pings after 60 s) ends a session meanwhile. */
    if (now < 2 * S + PACKETS * 20 * MS)
      now += 1 * MS;
    if (d <= now)
      siprec_handler_expire(h, now);
  }
  return NULL;
}

/* Two calls answered and ACKed, Call-IDs ids[0] and ids[1]: their To
 * tags into tag, their sessions (references) into ss in that order. */
static void start_two(fixture *f, const char *ids[2], char tag[2][64], siprec_session *ss[2])
{
  char msg[4096];
  for (int c = 0; c < 2; c++) {
    fx_request(msg, sizeof msg, "INVITE", ids[c], NULL, 1, ids[c], "Require: siprec\r\n", fx_sdp2);
    ck_assert_int_gt(fx_feed(f, msg, 1 * S), 0);
    ck_assert_int_eq(f->status, 200);
    fx_to_tag(f, tag[c], 64);
    fx_request(msg, sizeof msg, "ACK", ids[c], tag[c], 1, "ack", NULL, NULL);
    fx_feed(f, msg, 1 * S);
  }
  ck_assert_uint_eq(siprec_handler_sessions(f->h, ss, 2), 2);
  if (strncmp(siprec_session_call_id(ss[0], NULL), ids[0], strlen(ids[0])) != 0) {
    siprec_session *t = ss[0]; /* the map's order is not the calls' */
    ss[0] = ss[1];
    ss[1] = t;
  }
}

static void media_from_threads(int with_snapshots)
{
  atomic_store(&frames, 0);
  atomic_store(&ended_streams, 0);
  atomic_store(&ended_before_session, 0);
  atomic_store(&sessions_ended, 0);
  atomic_store(&stop_expire, 0);
  atomic_store(&snapshots, 0);
  atomic_store(&snapshots_bad, 0);
  fixture f;
  siprec_handler_config *cfg = NULL;
  if (with_snapshots) {
    ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
    ck_assert_int_eq(siprec_handler_config_set_snapshots(cfg, 1, 1), 0);
  }
  fx_callbacks_hook = hook;
  fx_init(&f, cfg, 0);
  fx_callbacks_hook = NULL;
  siprec_handler_config_free(cfg);
  char msg[4096], tag[2][64];
  const char *ids[2] = { "threads-a", "threads-b" };
  uint16_t ports[2][2];
  siprec_session *ss[2];
  start_two(&f, ids, tag, ss);
  for (int c = 0; c < 2; c++)
    for (size_t i = 0; i < 2; i++) {
      siprec_stream_info info = { .size = sizeof info };
      ck_assert_int_eq(siprec_session_stream(ss[c], i, &info), 0);
      ports[c][i] = info.port;
    }
  _Atomic int go = 0;
  feeder fd[4];
  pthread_t th[4], ex;
  for (int c = 0; c < 2; c++)
    for (int i = 0; i < 2; i++) {
      feeder *x = &fd[2 * c + i];
      memset(x, 0, sizeof *x);
      x->h = f.h;
      x->local = f.srs;
      x->local.sin_port = htons(ports[c][i]);
      x->remote = f.src;
      x->remote.sin_port = htons((uint16_t)(10000 + 2 * i));
      x->ssrc = 0x1000u + (uint32_t)(2 * c + i);
      x->batch = i ? 5 : 0; /* each session: one stream in batches */
      x->go = &go;
      ck_assert_int_eq(pthread_create(&th[2 * c + i], NULL, feed, x), 0);
    }
  ck_assert_int_eq(pthread_create(&ex, NULL, expirer, f.h), 0);
  atomic_store(&go, 1);
  /* The first session ends while its media flows. */
  while (atomic_load(&frames) < 100)
    ;
  fx_request(msg, sizeof msg, "BYE", ids[0], tag[0], 2, "bye", NULL, NULL);
  uint64_t before = atomic_load(&ended_streams);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  atomic_store(&sessions_ended, 1);
  uint64_t ended_a = atomic_load(&ended_streams) - before;
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  atomic_store(&stop_expire, 1);
  pthread_join(ex, NULL);
  /* The first session's streams that had media ENDED before its ended
   * callback; the second's flowed in full. */
  ck_assert_uint_le(ended_a, 2);
  ck_assert_uint_eq(atomic_load(&ended_before_session), ended_a);
  ck_assert_int_eq(fd[2].taken, PACKETS);
  ck_assert_int_eq(fd[3].taken, PACKETS);
  ck_assert_int_eq(fd[0].taken + fd[0].not_found, PACKETS);
  uint64_t taken = 0;
  for (int i = 0; i < 4; i++)
    taken += (uint64_t)fd[i].taken;
  uint64_t counted = siprec_handler_stat(f.h, SIPREC_STAT_MEDIA, SIPREC_MEDIA_PACKETS);
  ck_assert_uint_le(counted, taken);
  ck_assert_uint_ge(counted, 2 * PACKETS);
  ck_assert_uint_gt(atomic_load(&frames), 2 * PACKETS - 64);
  siprec_session_unref(ss[0]);
  siprec_session_unref(ss[1]);
  siprec_handler_free(f.h);
  ck_assert_uint_eq(atomic_load(&ended_streams), ended_a + 2);
  if (with_snapshots)
    ck_assert_uint_gt(atomic_load(&snapshots), 2 * PACKETS / 20);
  else
    ck_assert_uint_eq(atomic_load(&snapshots), 0);
  ck_assert_uint_eq(atomic_load(&snapshots_bad), 0);
}

START_TEST(test_media_from_threads)
{
  media_from_threads(0);
}
END_TEST

/* The same with snapshots written from every thread that changes a
 * session: the media's (session lock after the stream's), the
 * signalling's, the expirer's. */
START_TEST(test_media_from_threads_snapshots)
{
  media_from_threads(1);
}
END_TEST


/* The audio callback of one session's first frame waits until released. */
static siprec_session *_Atomic block_session;
static _Atomic int cb_blocked, cb_release;

static void on_audio_blocking(void *user, const siprec_audio_frame *fr)
{
  (void)user;
  if (fr->session == atomic_load(&block_session) && !atomic_exchange(&cb_blocked, 1))
    while (!atomic_load(&cb_release))
      sched_yield();
}

static void hook_blocking(siprec_handler_callbacks *cbs)
{
  siprec_handler_callbacks_set_audio(cbs, on_audio_blocking);
}

typedef struct batch_job {
  siprec_handler *h;
  siprec_datagram dg[2];
  int rc[2];
} batch_job;

static void *feed_batch(void *arg)
{
  batch_job *j = arg;
  ck_assert_int_eq(siprec_handler_media_batch(j->h, j->dg, 2, j->rc), 0);
  return NULL;
}

static long outstanding(failalloc *fa)
{
  pthread_mutex_lock(&fa->mu);
  long n = fa->outstanding;
  pthread_mutex_unlock(&fa->mu);
  return n;
}

/* Session B ends (its ports leave the table) while a batch of another
 * thread, which took B's datagram first, waits in A's audio callback: the
 * BYE is answered without waiting for the callback; B's port entries
 * outlive it only until the batch has returned and the next expire;
 * nothing is left once the handler is freed. */
START_TEST(test_port_change_during_callback)
{
  atomic_store(&cb_blocked, 0);
  atomic_store(&cb_release, 0);
  failalloc fa;
  siprec_allocator mem;
  failalloc_init(&fa, &mem);
  fx_allocator = &mem;
  fx_callbacks_hook = hook_blocking;
  fixture f;
  fx_init(&f, NULL, 0);
  fx_allocator = NULL;
  fx_callbacks_hook = NULL;
  char msg[4096], tag[2][64];
  const char *ids[2] = { "section-a", "section-b" };
  siprec_session *ss[2];
  start_two(&f, ids, tag, ss);
  atomic_store(&block_session, ss[0]);
  /* B's datagram, then A's, in one batch. */
  uint8_t pkt[2][172];
  struct sockaddr_in local[2], remote = f.src;
  siprec_path path[2];
  batch_job job = { .h = f.h };
  for (int c = 0; c < 2; c++) {
    siprec_stream_info info = { .size = sizeof info };
    ck_assert_int_eq(siprec_session_stream(ss[c], 0, &info), 0);
    local[c] = f.srs;
    local[c].sin_port = htons(info.port);
    rtpb o = { .pt = 0, .seq = 1, .ts = 160, .ssrc = 0x5000u + (uint32_t)c, .payload_len = 160 };
    size_t n = rtpb_build(pkt[c], sizeof pkt[c], &o);
    ck_assert_uint_gt(n, 0);
    path[c] = (siprec_path){ SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local[c],
                             (struct sockaddr *)&remote, 0 };
    job.dg[1 - c] = (siprec_datagram){ pkt[c], n, &path[c], 1 * S + 500 * MS };
  }
  remote.sin_port = htons(10000);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, feed_batch, &job), 0);
  while (!atomic_load(&cb_blocked))
    sched_yield();
  fx_request(msg, sizeof msg, "BYE", ids[1], tag[1], 2, "bye", NULL, NULL);
  fx_feed(&f, msg, 2 * S);
  ck_assert_int_eq(f.status, 200);
  siprec_session_unref(ss[1]);
  siprec_handler_expire(f.h, 2 * S);
  atomic_store(&cb_release, 1);
  pthread_join(th, NULL);
  ck_assert_int_eq(job.rc[0], 0);
  ck_assert_int_eq(job.rc[1], 0);
  /* B's four port entries (RTP and RTCP of two streams) were kept until
   * now, and go with this expire. */
  long kept = outstanding(&fa);
  siprec_handler_expire(f.h, 2 * S);
  ck_assert_int_ge(kept - outstanding(&fa), 4);
  siprec_session_unref(ss[0]);
  siprec_handler_free(f.h);
  ck_assert_int_eq(outstanding(&fa), 0);
  failalloc_destroy(&fa);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("media_threads");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_media_from_threads);
  tcase_add_test(tc, test_media_from_threads_snapshots);
  tcase_add_test(tc, test_port_change_during_callback);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
