#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/minimal-host.c against sipp.

    test_minimal_host.py --host PATH --scenarios DIR

Starts the minimal host on 127.0.0.1 (port 0: it picks a free one and prints
it) with its own RTP port range, and checks what docs/embedding.md promises
of it:
- three overlapping SIPREC calls (acme-call.xml) pass in sipp, and the host
  prints offered, started and ended for each, in that order, once, with two
  streams whose even ports come from its range and who speaks on each;
- a call still open at SIGTERM (wait-bye.xml) gets a BYE, which sipp
  answers; the session ends with reason shutdown, every port is given back
  and the host exits 0;
- listening on 0.0.0.0, it answers a call with 127.0.0.1 (the address the
  call came to, from IP_PKTINFO) in its Contact and SDP, and --duration-s
  makes it exit 0 by itself.
Exit 0 passed, 1 failed, 77 skipped (no sipp).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_sipp import SKIP, Failure, Sipp, check  # noqa: E402  (sipp runs and their checks)

LOW, HIGH = 31200, 31239
LINE = re.compile(r'^(offered|started|updated|ended) id=([0-9a-f]{32}) call-id=(\S+) '
                  r'streams=(\d+)(.*)$')
STREAM = re.compile(r'\[(\d+) label=(\S+) port=(\d+) codec=(\S+) speaker=([^\]]*)\]')
# Who speaks on each stream, by label: acme-call.xml's metadata says it by
# associations; wait-bye.xml's has none, so the n-th participant speaks on
# the n-th m-line.
SPEAKERS = {'16777227': 'sip:9000@192.0.2.102', '16777228': 'sip:1002@192.0.2.10',
            'leg-a': 'sip:+442071234567@ims.example.net',
            'leg-b': 'sip:+442079876543@ims.example.net'}


class Host:
    """minimal-host, its stdout lines collected as they come."""

    def __init__(self, binary, work, *args, listen='127.0.0.1:0'):
        self.lines, self.eof, self.cond = [], False, threading.Condition()
        self.err_path = os.path.join(work, 'host.stderr')
        self.err = open(self.err_path, 'w')
        self.proc = subprocess.Popen([os.path.abspath(binary), '--listen', listen, *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, errors='replace')
        threading.Thread(target=self._read, daemon=True).start()
        first = self.wait_lines(r'^listening ')[0]
        m = re.match(rf'^listening {re.escape(listen.split(":")[0])}:(\d+) rtp-ports {LOW}-{HIGH}$', first)
        check(m, f'first line {first!r}')
        self.port = int(m.group(1))

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip('\n'))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait_lines(self, pattern, count=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [l for l in self.lines if re.search(pattern, l)]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    raise Failure(f'host: {len(got)} of {count} line(s) matching {pattern!r}')
                self.cond.wait(left)

    def wait_exit(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f'host: still running after {timeout} s')
        with self.cond:
            self.cond.wait_for(lambda: self.eof, 5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def dump(self):
        with self.cond:
            print('--- host stdout\n' + '\n'.join(self.lines[-40:]))
        with open(self.err_path, errors='replace') as f:
            print('--- host stderr (last 40 lines)\n' + ''.join(f.readlines()[-40:]))


class Ctx:
    """What test_sipp's Sipp needs to know of its surroundings."""

    def __init__(self, work, scenarios, host):
        self.work, self.scenarios, self.host = work, scenarios, '127.0.0.1'
        self.server, self.sipps = host, []


def events(host):
    """Per session id: its events in order, with call-id, streams and the rest."""
    by_id = {}
    with host.cond:
        lines = list(host.lines)
    for line in lines:
        m = LINE.match(line)
        if m:
            event, sid, cid, n, rest = m.groups()
            streams = [dict(index=int(i), label=lab, port=int(p), codec=c, speaker=sp)
                       for i, lab, p, c, sp in STREAM.findall(rest)]
            check(len(streams) == int(n), f'{n} streams announced, {len(streams)} printed: {line}')
            by_id.setdefault(sid, []).append(dict(event=event, call_id=cid, streams=streams,
                                                  rest=rest))
    return by_id


def check_session(sid, evs, reason, codec):
    check([e['event'] for e in evs] == ['offered', 'started', 'ended'],
          f'{sid}: events {[e["event"] for e in evs]}, offered started ended expected')
    check(len({e['call_id'] for e in evs}) == 1, f'{sid}: the call-id changed')
    check(re.search(rf' reason={reason} ', evs[-1]['rest'] + ' '),
          f'{sid}: ended {evs[-1]["rest"]!r}, reason {reason} expected')
    for e in evs:
        check(len(e['streams']) == 2, f'{sid} {e["event"]}: {len(e["streams"])} streams, 2 expected')
        for st in e['streams']:
            check(LOW <= st['port'] <= HIGH and st['port'] % 2 == 0 and st['port'] + 1 <= HIGH,
                  f'{sid}: port {st["port"]} is not an even port of {LOW}-{HIGH}')
            check(st['codec'] == codec, f'{sid}: codec {st["codec"]}')
            check(st['speaker'] == SPEAKERS.get(st['label']),
                  f'{sid}: stream {st["label"]} spoken by {st["speaker"]!r}')
    return {st['port'] for st in evs[0]['streams']}


def run(args, work):
    if not shutil.which('sipp'):
        print('SKIP: sipp is not installed (Debian package sip-tester)')
        return SKIP
    host = Host(args.host, work, '--rtp-ports', f'{LOW}-{HIGH}')
    ctx = Ctx(work, os.path.abspath(args.scenarios), host)
    try:
        # Three calls open at once: their ports must not overlap.
        Sipp(ctx, 'acme-call.xml', calls=3, extra=['-l', '3', '-r', '10']).wait()
        host.wait_lines(r'^ended ', 3)
        sessions = events(host)
        check(len(sessions) == 3, f'{len(sessions)} sessions printed, 3 expected')
        check(len({evs[0]['call_id'] for evs in sessions.values()}) == 3, 'call-ids not distinct')
        ports = [check_session(sid, evs, 'bye', 'PCMU') for sid, evs in sessions.items()]
        check(len(set().union(*ports)) == 6, f'ports {ports}: 6 distinct ones expected')

        # A call open at SIGTERM: BYE from the host, answered, then a clean exit.
        s = Sipp(ctx, 'wait-bye.xml', extra=['-key', 'se', '1800'])
        host.wait_lines(r'^started ', 4)
        time.sleep(0.3)  # the ACK
        host.proc.send_signal(signal.SIGTERM)
        s.wait()  # sipp passes only when it got the BYE and answered it
        check(any(l.startswith('BYE ') for l in s.received()), 'sipp got no BYE')
        rc = host.wait_exit(15)
        check(rc == 0, f'host: exit status {rc} after SIGTERM')
        host.wait_lines(r'^stopping sessions=1$', 1, 0)
        last = [evs for sid, evs in events(host).items() if sid not in sessions]
        check(len(last) == 1, f'{len(last)} new sessions, 1 expected')
        check_session('wait-bye', last[0], 'shutdown', 'PCMA')
        host.wait_lines(r'^stopped ports-in-use=0$', 1, 0)
    except Failure:
        host.dump()
        raise
    finally:
        for s in ctx.sipps:
            if s.running():
                s.proc.kill()
                s.proc.wait()
        host.kill()

    # On 0.0.0.0 the host learns the address each datagram came to
    # (IP_PKTINFO): the answer's Contact and SDP name 127.0.0.1, never the
    # wildcard. --duration-s: then it stops by itself.
    started = time.monotonic()
    host = Host(args.host, work, '--rtp-ports', f'{LOW}-{HIGH}', '--duration-s', '3',
                listen='0.0.0.0:0')
    ctx = Ctx(work, os.path.abspath(args.scenarios), host)
    try:
        s = Sipp(ctx, 'acme-call.xml').wait()
        with open(s.msg_path, errors='replace') as f:
            text = f.read()
        check(f'Contact: <sip:srs@127.0.0.1:{host.port}>' in text,
              'on 0.0.0.0: no Contact with 127.0.0.1 and the port in the 200')
        check(re.search(r'^\s*o=libsiprec .* IN IP4 127\.0\.0\.1\s*$', text, re.M)
              and '0.0.0.0' not in text, 'on 0.0.0.0: the SDP answer does not name 127.0.0.1')
        rc = host.wait_exit(15)
        check(rc == 0 and time.monotonic() - started >= 3, f'--duration-s 3: exit status {rc} '
              f'after {time.monotonic() - started:.1f} s')
        check_session('wildcard', list(events(host).values())[0], 'bye', 'PCMU')
        host.wait_lines(r'^stopped ports-in-use=0$', 1, 0)
    except Failure:
        host.dump()
        raise
    finally:
        for s in ctx.sipps:
            if s.running():
                s.proc.kill()
                s.proc.wait()
        host.kill()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--host', required=True)
    ap.add_argument('--scenarios', required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix='minimal-host-')
    try:
        rc = run(args, work)
    except Failure as e:
        print(f'FAIL: {e}\n(files kept in {work})')
        return 1
    shutil.rmtree(work, ignore_errors=True)
    if rc == 0:
        print('PASS')
    return rc


if __name__ == '__main__':
    sys.exit(main())
