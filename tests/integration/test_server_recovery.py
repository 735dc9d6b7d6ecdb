#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""siprec-server survives a restart mid-call (--state): one case per run.

    test_server_recovery.py --server PATH --client PATH --scenarios DIR CASE

Each case starts siprec-server on 127.0.0.1 with --state and --out in its
temporary folder and places one real-time call with siprec-client (two
streams, G.722 and Opus, about 12 s of audio, paused by re-INVITE at 7 s
of media and resumed at 8 s, so that its in-dialog requests come after
the restart):

  sigkill    SIGKILL about 4 s into the call, the server started again 1 s
      later with the same --state, --out, SIP port and RTP range.
  handover   --on-term handover: SIGTERM instead (the server exits 0
      without a BYE), then the same restart.
  sigkill_redis  as sigkill, with the snapshots in Redis (--redis, a
      redis-server the test starts) instead of files: the restarted node
      (same --node) finds its sessions in its own set there.
  stop_claiming  no call: --redis and --node, Redis stopped (SIGSTOP) while
      the node's claim rounds are out, SIGTERM to the server meanwhile, then
      Redis woken: the server must exit 0 (the rounds call back into a
      stopped cluster; under ASan, no use after free).

Then: the client's re-INVITEs and BYE got 200 (exit 0, no complaint on its
stderr), the session folder holds two segments (1.wav, 2.wav, stereo.wav,
then 1.2.wav, 2.2.wav, stereo.2.wav), manifest.json lists them with their
offsets, every file parses and libsndfile reads it, and the audio lost on
the session's timeline (the call's length minus what the segments cover,
each from where its audio starts to its end) is at most the downtime plus
1.0 s for every stream. Exit 0 passed, 1 failed, 77 skipped.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sipp  # noqa: E402
from test_sipp import Failure, check  # noqa: E402
from test_server_record import (ALICE, BOB, GOFORWARD, NUMBERS, RATE, Client,  # noqa: E402
                                need_client, read_wav)
from test_siprec_client import client_arg, stream_arg  # noqa: E402
from redis_fixture import Redis, free_port  # noqa: E402

KILL_AFTER = 4.0   # s into the call
DOWNTIME = 1.0     # s between the death and the new start
RTP_PORTS = '31000-31099'


class RServer(test_sipp.Server):
    """siprec-server on an exact SIP port (0: any), with --state."""

    def __init__(self, binary, work, state, port, extra, tag):
        self.out = os.path.join(work, 'out')
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        self.err_path = os.path.join(work, f'server-{tag}.stderr')
        self.err = open(self.err_path, 'w')
        cmd = [binary, '--listen', f'127.0.0.1:{port}', '--out', self.out, '--state', state,
               '--rtp-ports', RTP_PORTS, '--record-rate', str(RATE)] + extra
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, errors='replace')
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_lines(r'^ready$', 1, 10)
        udp = self.wait_lines(r'^listening udp ', 1, 0)[0]
        self.port = int(udp.rsplit(':', 1)[1])


def long_audio(ctx, src, seconds, name):
    """src repeated to at least `seconds` of 16 kHz audio."""
    with open(src, 'rb') as f:
        data = f.read()
    out = data
    while len(out) < seconds * RATE * 2:
        out += data
    path = os.path.join(ctx.work, name)
    with open(path, 'wb') as f:
        f.write(out[:int(seconds * RATE) * 2])
    return path


def covered(samples):
    """The span a segment's file covers on its own timeline: from its first
    sound (before it, the silence the recorder puts before a stream's
    anchor) to its end, in samples."""
    first = next((i for i, x in enumerate(samples) if x != 0), len(samples))
    return first, len(samples)


def run(ctx, stop, redis=None):
    need_client(ctx)
    state = os.path.join(ctx.work, 'state')
    extra = ['--on-term', 'handover'] if stop == 'term' else []
    port = 0
    if redis:
        port = free_port('127.0.0.1')
        extra += ['--redis', f'127.0.0.1:{redis.port}', '--node', 'recovery-node']
    srv = ctx.server = RServer(ctx.binary, ctx.work, state, port, extra, 'first')
    ctx.clients = []
    a = long_audio(ctx, GOFORWARD, 12, 'a.raw')
    b = long_audio(ctx, NUMBERS, 12, 'b.raw')
    cl = Client(ctx, 'call', ['--t1-ms', '100', '--pause-at', '7', '--resume-at', '8',
                              '--stream', stream_arg('1', 'g722', a, *reversed(ALICE)),
                              '--stream', stream_arg('2', 'opus', b, *reversed(BOB))], seed=5)
    srv.wait_lines(r'^session_started ', 1, 10)
    time.sleep(KILL_AFTER)
    if stop == 'kill':
        srv.proc.kill()
        srv.proc.wait()
    else:
        srv.proc.send_signal(15)
        check(srv.proc.wait(10) == 0, 'the first server did not exit 0 after SIGTERM')
        check(srv.matching(r'handing them over'), 'no hand-over on SIGTERM')
    down = time.monotonic()
    srv.reader.join(5)
    srv.err.close()
    time.sleep(DOWNTIME)
    srv2 = ctx.server = RServer(ctx.binary, ctx.work, state, srv.port, extra, 'second')
    downtime = time.monotonic() - down
    srv2.wait_lines(r'^session_restored ', 1, 5)
    srv2.wait_lines(r'^restore_done restored=1 failed=0', 1, 5)
    out = cl.result(timeout=40)
    with open(os.path.join(cl.dir, 'stderr')) as f:
        cerr = f.read()
    check(out['status'] == 200 and out['bye'] == 'sent' and 'error' not in out, f'client {out}')
    check('the SRS answered' not in cerr, f'client stderr: {cerr}')
    srv2.wait_lines(r'^recording_done ', 1, 10)
    srv2.stop()
    if stop == 'kill':
        check(not srv.matching(r'^recording_done '), 'the killed server finished the recording')

    sid = srv2.wait_lines(r'^session_restored ', 1, 0)[0].split('id=')[1].split()[0]
    folder = os.path.join(srv2.out, sid)
    names = sorted(os.listdir(folder))
    want = ['1.2.wav', '1.wav', '2.2.wav', '2.wav', 'manifest.json', 'stereo.2.wav', 'stereo.wav']
    check(names == want, f'{folder}: {names}')
    with open(os.path.join(folder, 'manifest.json')) as f:
        m = json.load(f)
    check([s['segment'] for s in m['segments']] == [1, 2], f'manifest segments {m["segments"]}')
    off2 = m['segments'][1]['offset']
    check(m['segments'][0]['offset'] == 0 and KILL_AFTER < off2 < KILL_AFTER + downtime + 1.5,
          f'segment 2 at {off2} s (killed {KILL_AFTER} s in, down {downtime:.2f} s)')
    files = {f['name']: f for f in m['files']}
    check(sorted(files) == [n for n in want if n.endswith('.wav')], f'manifest files {m["files"]}')
    # The resume state went with the manifest; the snapshot with the BYE.
    check(os.listdir(os.path.join(state, 'rec')) == [], 'resume state left behind')
    snaps = [n for n in os.listdir(state) if re.fullmatch(r'[kh][0-9a-f]+', n)]
    if redis:
        check(snaps == [], f'snapshots in files with --redis: {snaps}')
        snaps = redis.session_keys()
    check(snaps == [], f'snapshots left behind: {snaps}')

    for label in ('1', '2'):
        segs = []
        for name, seg in ((f'{label}.wav', 1), (f'{label}.2.wav', 2)):
            w = read_wav(os.path.join(folder, name))
            f = files[name]
            check(f['segment'] == seg and abs(f['duration'] - w.frames / RATE) <= 0.001,
                  f'manifest {f}: {w.frames} frames')
            first, end = covered(w.samples)
            base = round(f['offset'] * RATE)
            segs.append((base + first, base + end))
        for name in ('stereo.wav', 'stereo.2.wav'):
            read_wav(os.path.join(folder, name), channels=2)
        length = segs[-1][1]
        recorded = sum(e - s for s, e in segs)
        check(segs[0][1] <= segs[1][0], f'stream {label}: segments overlap: {segs}')
        lost = (length - recorded) / RATE
        print(f'stream {label}: segments {[(s / RATE, e / RATE) for s, e in segs]}, '
              f'lost {lost:.3f} s, downtime {downtime:.3f} s')
        check(lost <= downtime + 1.0, f'stream {label}: {lost:.3f} s lost, the downtime was '
              f'{downtime:.3f} s')
        check(abs(length / RATE - cl.elapsed) < 1.5,
              f'stream {label}: the timeline ends at {length / RATE:.2f} s, the call took '
              f'{cl.elapsed:.2f} s')


def case_sigkill(ctx):
    """SIGKILL mid-call, restart."""
    run(ctx, 'kill')


def case_handover(ctx):
    """SIGTERM with --on-term handover, restart."""
    run(ctx, 'term')


def case_sigkill_redis(ctx):
    """SIGKILL mid-call, restart, the snapshots in Redis."""
    if not shutil.which('redis-server') or not shutil.which('redis-cli'):
        raise test_sipp.Skip('redis-server is not installed')
    redis = Redis(ctx.work)
    try:
        run(ctx, 'kill', redis)
    finally:
        redis.kill()


def case_stop_claiming(ctx):
    """SIGTERM while a claim round waits on a stalled Redis."""
    if not shutil.which('redis-server') or not shutil.which('redis-cli'):
        raise test_sipp.Skip('redis-server is not installed')
    redis = Redis(ctx.work)
    try:
        extra = ['--redis', f'127.0.0.1:{redis.port}', '--node', 'stopping-node']
        srv = ctx.server = RServer(ctx.binary, ctx.work, os.path.join(ctx.work, 'state'),
                                   free_port('127.0.0.1'), extra, 'only')
        # Rounds start once the connection is a node's time to live old
        # (1.5 s) and come at each heartbeat (0.5 s).
        time.sleep(2.5)
        redis.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(1.2)  # rounds sent to the stalled Redis, unanswered
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # the server stops while they are out
        finally:
            redis.proc.send_signal(signal.SIGCONT)
        srv.stop()  # the replies or the close call back into a stopped cluster
    finally:
        redis.kill()


CASES = {'sigkill': case_sigkill, 'handover': case_handover, 'sigkill_redis': case_sigkill_redis,
         'stop_claiming': case_stop_claiming}

if __name__ == '__main__':
    sys.exit(test_sipp.main(CASES, __doc__, 'recovery', client_arg))
