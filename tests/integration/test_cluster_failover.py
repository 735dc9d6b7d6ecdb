#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Several siprec-server nodes behind Kamailio, sharing Redis (issue 13):
one case per run.

    test_cluster_failover.py --server PATH --client PATH --config PATH CASE

Starts redis-server (127.0.0.1, a free port, no persistence), nodes A
(127.0.0.2) and B (127.0.0.3) with --redis, one seal key, each its own
--out, --state and RTP range, and Kamailio (127.0.0.1) with
examples/kamailio/kamailio.cfg dispatching to both; siprec-client places
the calls through Kamailio (one PCMU stream each, real time).

  failover       50 calls at once (10 s of media); 5 s into them node A gets
      SIGKILL. B must notice (A's heartbeat expires), claim each of A's
      sessions and re-INVITE its client through Kamailio with B's ports and
      Contact. Then: every client's BYE is answered 200 (through Kamailio,
      by B); each of A's calls has A's segment (1.wav) and B's continuation
      as the next segment of the same timeline (1.2.wav, its offset in B's
      manifest the time of the kill, from the resume state A shared), and
      the audio lost between them (the call's media length minus what the
      two files cover, each from its first sound to its end) is at most
      3.0 s; no session is held by both nodes, none is lost; the store is
      empty at the end.
  redis_restart  10 calls; 3 s in, Redis is killed and started again
      empty. Every live session must be back in Redis within 3 s of its
      return (the nodes write them again); then A gets SIGKILL and B takes
      its sessions over from the rewritten state, as above.
  stall     10 calls; 4 s in, node A is stopped (SIGSTOP: a loop stalled,
      a node cut off) for 3 s: B takes A's sessions over as if A had died.
      Woken up (SIGCONT), A finds that another node owns them and lets
      each go without a BYE (session_ended reason=handover); the clients'
      BYEs reach B. No session is held by two nodes.
  request   6 short calls (6 s of media), the nodes slow to declare a node
      dead (--node-ttl-ms 20000); 2 s in, A gets SIGKILL. Its clients'
      BYEs go to A (their Contact), time out at Kamailio, and are sent to
      B by its failure route; B takes each session from Redis (a request
      for a dialog it does not hold) and answers 200: no claim needed.
  sentinel  Redis as a master, a replica and a sentinel; the nodes find
      the master through the sentinel (--redis-sentinel). 10 calls; 2 s in,
      the master is killed: the sentinel promotes the replica, both nodes
      follow it (asking the sentinel again, checking ROLE), and then A's
      SIGKILL is handled from the new master, as above.

Printed: the time from the kill to each take-over (B's session_restored),
the audio lost per call, Redis's catch-up time. Exit 0 passed, 1 failed,
77 skipped (no kamailio, redis-server, client or test audio).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sipp  # noqa: E402
from test_sipp import Failure, check  # noqa: E402
from test_kamailio_front import long_audio, start_kamailio  # noqa: E402
from test_server_record import read_wav  # noqa: E402
from test_server_recovery import covered  # noqa: E402
from test_siprec_client import GOFORWARD  # noqa: E402
from redis_fixture import Redis, Sentinel, free_port  # noqa: E402

NODE_A, NODE_B, PROXY = '127.0.0.2', '127.0.0.3', '127.0.0.1'
RTP = {NODE_A: '36400-36599', NODE_B: '36600-36799'}
RATE = 16000
LOST_LIMIT = 3.0   # s of audio lost per call at a node's death
SECONDS = 14       # each call's media (some cases shorter: run())


class Node(test_sipp.Server):
    """siprec-server on HOST:PORT with --redis; its stdout lines timed."""

    def __init__(self, binary, work, host, redis_args, key):
        self.host = host
        self.port = free_port(host)
        self.out = os.path.join(work, f'out-{host}')
        self.lines = []
        self.times = []
        self.eof = False
        self.cond = threading.Condition()
        self.err_path = os.path.join(work, f'server-{host}.stderr')
        self.err = open(self.err_path, 'w')
        cmd = [binary, '--listen', f'{host}:{self.port}', '--out', self.out,
               '--state', os.path.join(work, f'state-{host}'), '--state-key', key,
               '--rtp-ports', RTP[host],
               '--record-rate', str(RATE), '--metrics', f'{host}:0'] + redis_args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, errors='replace')
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_lines(r'^ready$', 1, 10)
        self.uri = f'sip:{host}:{self.port}'
        found = self.matching(r'^metrics http://')
        self.metrics_url = found[0].split()[1] if found else None

    def metric(self, name):
        """A metric's value from /metrics (None when absent or not built)."""
        if not self.metrics_url:
            return None
        with urllib.request.urlopen(self.metrics_url, timeout=5) as r:
            for line in r.read().decode().split('\n'):
                if line.startswith(name + ' '):
                    return float(line.split()[1])
        return None

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip('\n'))
                self.times.append(time.monotonic())
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def timed(self, pattern):
        with self.cond:
            return [(t, l) for t, l in zip(self.times, self.lines) if re.search(pattern, l)]

    def started_at(self, sid):
        """When this test saw session sid start (monotonic)."""
        return next(t for t, l in self.timed(r'^session_started ') if f'id={sid} ' in l)

    def sessions(self, what='started'):
        """session id -> call id, of the session_WHAT lines."""
        out = {}
        for _, l in self.timed(rf'^session_{what} '):
            m = re.search(r'id=(\S+) .*call_id="([^"]*)"', l)
            if m:
                out[m.group(1)] = m.group(2)
        return out

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.reader.join(5)

    def stderr_has(self, text):
        self.err.flush()
        with open(self.err_path) as f:
            return text in f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.err.close()


class Client:
    def __init__(self, args, work, n, proxy_port, audio, seconds):
        self.name = f'call{n}'
        self.err_path = os.path.join(work, f'{self.name}.stderr')
        self.errf = open(self.err_path, 'w')
        self.proc = subprocess.Popen(
            [args.client, '--server', f'{PROXY}:{proxy_port}', '--local', PROXY, '--pace', '1',
             '--duration', str(seconds), '--seed', str(100 + n),
             '--stream', f'label=1,codec=pcmu,file={audio},rate=16000'],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.errf, text=True)

    def result(self, timeout):
        import json
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise Failure(f'{self.name}: still running after {timeout} s')
        finally:
            self.errf.close()
        try:
            return json.loads(out)
        except ValueError:
            raise Failure(f'{self.name}: exit {self.proc.returncode}, no JSON: {out!r}')


def file_cover(path):
    """Seconds of a segment's file from its first sound to its end."""
    w = read_wav(path)
    first, n = covered(w.samples)
    return (n - first) / RATE


def need(args):
    for prog in ('kamailio', 'redis-server', 'redis-cli'):
        if not shutil.which(prog):
            raise test_sipp.Skip(f'{prog} is not installed')
    if not args.client or not os.path.exists(args.client):
        raise test_sipp.Skip('siprec-client was not built')
    if not os.path.exists(GOFORWARD):
        raise test_sipp.Skip('no test audio (pocketsphinx-testdata)')


def check_requests(a, b, clients, on_a, on_b, redis, seconds):
    """The request case's checks: every BYE answered 200, A's through B,
    which took each of A's sessions for it."""
    results = [(cl, cl.result(seconds + 40)) for cl in clients]
    for cl, out in results:
        check(out.get('status') == 200 and out.get('bye_status') == 200 and
              'error' not in out and cl.proc.returncode == 0,
              f'{cl.name}: exit {cl.proc.returncode}, {out}')
    taken = b.metric('siprec_server_redis_taken_sessions_total')
    claimed = b.metric('siprec_server_redis_claimed_sessions_total')
    check(taken == len(on_a) and claimed == 0,
          f'B took {taken} and claimed {claimed} sessions; A had {len(on_a)}')
    print(f'all {len(clients)} BYEs answered 200, those of A\'s {len(on_a)} calls by B, which '
          f'took each from Redis for its BYE')
    b.stop()
    ended = [re.search(r'id=(\S+)', l).group(1) for _, l in b.timed(r'^session_ended ')]
    check(sorted(ended) == sorted(list(on_a) + list(on_b)),
          f'B ended {len(ended)} sessions, {len(on_a) + len(on_b)} expected (each once)')
    left = redis.session_keys()
    check(not left, f'{len(left)} session keys left in Redis after every call ended')
    return 0


def run(args, work, case):
    need(args)
    calls = 50 if case == 'failover' else 6 if case == 'request' else 10
    # Long enough for the case's events and some audio on B after them.
    seconds = {'request': 6, 'failover': 10, 'stall': 10}.get(case, SECONDS)
    procs = {}
    try:
        redis = procs['redis'] = Redis(work)
        redis_args = ['--redis', f'127.0.0.1:{redis.port}']
        if case == 'sentinel':
            replica = procs['replica'] = Redis(work, extra=['--replicaof', '127.0.0.1',
                                                            str(redis.port)], name='replica')
            sentinel = procs['sentinel'] = Sentinel(work, redis.port)
            redis_args = ['--redis-sentinel', f'127.0.0.1:{sentinel.port}']
        if case == 'request':
            redis_args += ['--node-ttl-ms', '20000']
        key = os.path.join(work, 'seal.key')
        with open(key, 'wb') as f:
            f.write(os.urandom(32))
        a = procs['a'] = Node(args.server, work, NODE_A, redis_args, key)
        b = procs['b'] = Node(args.server, work, NODE_B, redis_args, key)
        ds = os.path.join(work, 'dispatcher.list')
        with open(ds, 'w') as f:
            f.write(f'1 {a.uri}\n1 {b.uri}\n')
        kam = procs['kam'] = start_kamailio(shutil.which('kamailio'), args.config, work, ds)
        kport = kam.port
        time.sleep(1.5)  # both nodes probed active
        audio = long_audio(work, seconds + 2)
        clients = []
        for n in range(calls):
            clients.append(Client(args, work, n, kport, audio, seconds))
            time.sleep(0.02)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and \
                len(a.sessions()) + len(b.sessions()) < calls:
            time.sleep(0.1)
        on_a, on_b = a.sessions(), b.sessions()
        check(len(on_a) + len(on_b) == calls,
              f'{len(on_a)} + {len(on_b)} sessions started, {calls} calls placed')
        check(on_a and on_b, f'the calls are not spread: A {len(on_a)}, B {len(on_b)}')
        print(f'{calls} calls: {len(on_a)} on A, {len(on_b)} on B')

        if case == 'redis_restart':
            time.sleep(3)
            port = redis.port
            redis.kill()
            time.sleep(0.5)
            redis = procs['redis'] = Redis(work, port)
            back = time.monotonic()
            live = 0
            while time.monotonic() < back + 5:
                live = len(redis.session_keys())
                if live >= calls:
                    break
                time.sleep(0.05)
            caught_up = time.monotonic() - back
            print(f'redis restarted empty: {live} of {calls} sessions written again '
                  f'in {caught_up:.2f} s')
            check(live == calls, f'{live} of {calls} sessions in Redis 5 s after its restart')
            check(caught_up <= 3.0, f'the nodes took {caught_up:.1f} s to catch up (3 s allowed)')
            time.sleep(1)
        elif case == 'sentinel':
            time.sleep(2)
            redis.kill()
            gone = time.monotonic()
            new = f'redis 127.0.0.1:{replica.port}: connected'
            while time.monotonic() < gone + 10 and \
                    not (a.stderr_has(new) and b.stderr_has(new)):
                time.sleep(0.05)
            moved = time.monotonic() - gone
            check(a.stderr_has(new) and b.stderr_has(new),
                  'the nodes did not follow the sentinel to the promoted replica in 10 s')
            print(f'master killed: both nodes on the promoted replica after {moved:.2f} s')
            redis = procs['redis'] = replica
            live = len(redis.session_keys())
            check(live == calls, f'{live} of {calls} sessions on the new master')
        elif case == 'request':
            time.sleep(2)
        else:
            time.sleep(5)

        killed = time.monotonic()
        if case == 'stall':
            a.proc.send_signal(signal.SIGSTOP)
        else:
            a.kill()
        if case == 'request':
            return check_requests(a, b, clients, on_a, on_b, redis, seconds)
        deadline = killed + 10
        while time.monotonic() < deadline and len(b.sessions('restored')) < len(on_a):
            time.sleep(0.05)
        taken = b.timed(r'^session_restored ')
        check(len(taken) == len(on_a), f'B took over {len(taken)} of A\'s {len(on_a)} sessions')
        check(set(b.sessions('restored')) == set(on_a),
              'B took over other sessions than A\'s')
        delays = sorted(t - killed for t, _ in taken)
        print(f'take-over after the kill: first {delays[0]:.2f} s, median '
              f'{statistics.median(delays):.2f} s, last {delays[-1]:.2f} s')
        if case == 'stall':
            time.sleep(max(0.0, killed + 3.0 - time.monotonic()))
            a.proc.send_signal(signal.SIGCONT)
            woke = time.monotonic()
            deadline = woke + 5
            while time.monotonic() < deadline and \
                    len(a.timed(r'^session_ended .*reason=handover')) < len(on_a):
                time.sleep(0.05)
            let_go = a.timed(r'^session_ended .*reason=handover')
            check(len(let_go) == len(on_a),
                  f'A let {len(let_go)} of its {len(on_a)} sessions go after it woke up')
            check(not a.timed(r'^session_ended (?!.*reason=handover)'),
                  'A ended a session otherwise than by letting it go')
            print(f'A woke up and let its {len(on_a)} sessions go within '
                  f'{max(t for t, _ in let_go) - woke:.2f} s')

        results = [(cl, cl.result(seconds + 40)) for cl in clients]
        for cl, out in results:
            check(out.get('status') == 200 and out.get('bye_status') == 200 and
                  'error' not in out and cl.proc.returncode == 0,
                  f'{cl.name}: exit {cl.proc.returncode}, {out}')
        print(f'all {calls} BYEs answered 200')
        claimed = b.metric('siprec_server_redis_claimed_sessions_total')
        up = b.metric('siprec_server_redis_up')
        check(claimed == len(on_a) and up == 1,
              f'B\'s metrics ({b.metrics_url}): claimed {claimed} (expected {len(on_a)}), '
              f'redis_up {up}')
        print(f'B\'s metrics: siprec_server_redis_claimed_sessions_total {claimed:.0f}')
        b.stop()
        ended = b.timed(r'^recording_done ')
        # Every session B held ended once, there: its own and A's.
        ended_ids = [re.search(r'id=(\S+)', l).group(1) for _, l in ended]
        check(sorted(ended_ids) == sorted(list(on_b) + list(on_a)),
              f'B finished {len(ended_ids)} recordings, {len(on_a) + len(on_b)} expected '
              '(each once)')

        lost = []
        for sid in on_a:
            # B goes on with the next segment of the same timeline (A shared
            # the recording's resume state in Redis): 1.2.wav beside A's 1.wav.
            fa = os.path.join(a.out, sid, '1.wav')
            fb = os.path.join(b.out, sid, '1.2.wav')
            check(os.path.exists(fa) and os.path.exists(fb),
                  f'session {sid}: A\'s segment {os.path.exists(fa)}, '
                  f'B\'s continuation {os.path.exists(fb)} '
                  f'({sorted(os.listdir(os.path.join(b.out, sid)))})')
            with open(os.path.join(b.out, sid, 'manifest.json')) as f:
                m = json.load(f)
            segs = m['segments']
            check([x['segment'] for x in segs] == [1, 2] and segs[0]['offset'] == 0,
                  f'session {sid}: manifest segments {segs}')
            started = a.started_at(sid)
            check(abs(segs[1]['offset'] - (killed - started)) < 3.0,
                  f'session {sid}: segment 2 at {segs[1]["offset"]} s, the kill '
                  f'{killed - started:.2f} s into the session')
            lost.append(seconds - file_cover(fa) - file_cover(fb))
        for sid in on_b:
            got = file_cover(os.path.join(b.out, sid, '1.wav'))
            check(got >= seconds - 1.0, f'session {sid} on B: {got:.2f} s of {seconds} s recorded')
        lost.sort()
        if case != 'stall':
            # (A stalled, not dead, keeps its timeline running to its
            # release, in silence: its segment overlaps B's; nothing to
            # measure there.)
            print(f'audio lost per taken-over call: min {lost[0]:.2f} s, median '
                  f'{statistics.median(lost):.2f} s, max {lost[-1]:.2f} s (limit {LOST_LIMIT} s)')
            check(lost[-1] <= LOST_LIMIT, f'a call lost {lost[-1]:.2f} s of audio')
        left = redis.session_keys()
        check(not left, f'{len(left)} session keys left in Redis after every call ended')
        return 0
    finally:
        for name in ('a', 'b'):
            if name in procs and procs[name].proc.poll() is None:
                procs[name].proc.kill()
                procs[name].proc.wait()
        if 'kam' in procs:
            procs['kam'].stop()
        for name in ('sentinel', 'replica', 'redis'):
            if name in procs:
                procs[name].kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', required=True)
    ap.add_argument('--client', default='')
    ap.add_argument('--config', required=True)
    ap.add_argument('--keep', action='store_true', help='keep the work folder')
    ap.add_argument('case', choices=['failover', 'redis_restart', 'sentinel', 'stall',
                                     'request'])
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix=f'cluster-{args.case}-')
    try:
        rc = run(args, work, args.case)
        print(f'{args.case}: passed')
    except test_sipp.Skip as e:
        print(f'skipped: {e}')
        rc = 77
    except Failure as e:
        print(f'FAILED: {e} (work folder {work})')
        args.keep = True
        rc = 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
