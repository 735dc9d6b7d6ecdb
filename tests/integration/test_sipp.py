#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""siprec-server against sipp: one case per run.

    test_sipp.py --server PATH --scenarios DIR CASE

Each case starts siprec-server on 127.0.0.1 (port 0: the server picks one
free for UDP and TCP and prints it) with a temporary --out directory, runs
sipp scenarios from DIR against it (tests/integration/sipp/*.xml, written in
the style of real SBCs), and checks both sides: sipp's exit code, its
statistics and the responses it received, and the server's log lines and
session files. The server is stopped with SIGTERM at the end and must exit 0
(under ASan that includes no leak); it is killed on any failure. Exit 0
passed, 1 failed, 77 skipped (no sipp, or no IPv6 loopback for that case).
The framing case uses raw sockets instead of sipp.
"""
import argparse
import glob
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
HEX32 = re.compile(r'^[0-9a-f]{32}$')


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def family(host):
    return socket.AF_INET6 if ':' in host else socket.AF_INET


def hostport(host, port):
    return f'[{host}]:{port}' if ':' in host else f'{host}:{port}'


def free_port(host):
    """A port free for UDP and TCP on host, for sipp's -p."""
    for _ in range(50):
        with socket.socket(family(host), socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(family(host), socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                    return port
                except OSError:
                    continue
    raise Failure('no free port for sipp')


class Server:
    """siprec-server on HOST port 0, its stdout lines collected as they come."""

    def __init__(self, binary, work, args, host, nofile=None):
        self.out = os.path.join(work, 'out')
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        self.err_path = os.path.join(work, 'server.stderr')
        self.err = open(self.err_path, 'w')
        cmd = [binary, '--listen', hostport(host, 0), '--out', self.out] + args
        # nofile: the descriptor limit to start under, as `prlimit --nofile`
        # (a number, or soft and hard).
        if isinstance(nofile, int):
            nofile = (nofile, nofile)
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, nofile)) if nofile else None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, errors='replace',
                                     preexec_fn=limit)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_lines(r'^ready$', 1, 10)
        udp = self.wait_lines(r'^listening udp ', 1, 0)[0]
        self.port = int(udp.rsplit(':', 1)[1])

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip('\n'))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def matching(self, pattern):
        with self.cond:
            return [l for l in self.lines if re.search(pattern, l)]

    def wait_lines(self, pattern, count=1, timeout=10.0):
        """The lines matching pattern, once there are at least count of them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [l for l in self.lines if re.search(pattern, l)]
                left = deadline - time.monotonic()
                if len(got) >= count:
                    return got
                if self.eof or left <= 0:
                    raise Failure(f'server: {len(got)} of {count} line(s) matching '
                                  f'{pattern!r} after {timeout}s')
                self.cond.wait(left)

    def stop(self):
        """SIGTERM; the server must end every session and exit 0."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            raise Failure('server: still running 15 s after SIGTERM')
        self.reader.join(5)
        check(rc == 0, f'server: exit status {rc} after SIGTERM (see its stderr below)')
        check(self.matching(r'^stopped$'), 'server: no "stopped" line')

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def sessions(self):
        """Every session file, by session id."""
        files = {}
        for path in glob.glob(os.path.join(self.out, '*.json')):
            with open(path) as f:
                files[os.path.basename(path)[:-5]] = json.load(f)
        return files

    def dump(self):
        print('--- server stdout (last 40 lines)')
        with self.cond:
            print('\n'.join(self.lines[-40:]))
        print('--- server stderr (last 40 lines)')
        with open(self.err_path, errors='replace') as f:
            print(''.join(f.readlines()[-40:]))


class Sipp:
    """One sipp run of a scenario against the server."""

    def __init__(self, ctx, scenario, transport='u1', calls=1, extra=(), timeout=20,
                 trace_msg=True):
        self.ctx = ctx
        self.name = f'{os.path.splitext(scenario)[0]}-{transport}'
        base = os.path.join(ctx.work, self.name)
        self.msg_path, self.err_path = base + '.messages.log', base + '.errors.log'
        self.stat_path, self.out_path = base + '.stat.csv', base + '.out'
        self.calls, self.timeout = calls, timeout
        if not shutil.which('sipp'):
            raise Skip('sipp is not installed (Debian package sip-tester)')
        cmd = ['sipp', '-sf', os.path.join(ctx.scenarios, scenario), '-m', str(calls),
               '-i', ctx.host, '-p', str(free_port(ctx.host)), '-t', transport,
               '-timeout', f'{timeout}s', '-timeout_error', '-nostdin',
               '-trace_err', '-error_file', self.err_path,
               '-trace_stat', '-stf', self.stat_path]
        if trace_msg:
            cmd += ['-trace_msg', '-message_file', self.msg_path]
        cmd += list(extra) + [hostport(ctx.host, ctx.server.port)]
        self.out = open(self.out_path, 'w')
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=ctx.work, stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT)
        ctx.sipps.append(self)

    def running(self):
        return self.proc.poll() is None

    def wait(self, expect_ok=True):
        """Wait for sipp; check its exit code and, when it passed, its stats
        (expect_ok None: no check, the caller reads stat_calls())."""
        try:
            rc = self.proc.wait(self.timeout + 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure(f'sipp {self.name}: still running after {self.timeout + 15}s')
        self.elapsed = time.monotonic() - self.started
        self.out.close()
        if expect_ok is None:
            return self
        if not expect_ok:
            check(rc != 0, f'sipp {self.name}: exit 0, a failure was expected')
            return self
        if rc != 0:
            self.dump()
            raise Failure(f'sipp {self.name}: exit status {rc}')
        ok, failed = self.stat_calls()
        check(ok == self.calls and failed == 0,
              f'sipp {self.name}: statistics say {ok} successful, {failed} failed calls, '
              f'{self.calls} expected')
        return self

    def stat_calls(self):
        """SuccessfulCall(C) and FailedCall(C) from the last -trace_stat line."""
        with open(self.stat_path) as f:
            rows = [l.rstrip('\n').split(';') for l in f if l.strip()]
        check(len(rows) >= 2, f'sipp {self.name}: empty statistics file')
        head, last = rows[0], rows[-1]
        return int(last[head.index('SuccessfulCall(C)')]), int(last[head.index('FailedCall(C)')])

    def received(self):
        """First lines of the messages sipp received, in order."""
        if not os.path.exists(self.msg_path):  # sipp writes it once a message moves
            return []
        with open(self.msg_path, errors='replace') as f:
            text = f.read()
        return re.findall(r'message received \[\d+\] bytes :\s*\n+([^\r\n]*)', text)

    def statuses(self):
        return [int(l.split()[1]) for l in self.received() if l.startswith('SIP/2.0 ')]

    def dump(self):
        for path in (self.out_path, self.err_path):
            if os.path.exists(path):
                print(f'--- {os.path.basename(path)} (last 40 lines)')
                with open(path, errors='replace') as f:
                    print(''.join(f.readlines()[-40:]))


class Ctx:
    def __init__(self, args, work):
        self.args = args
        self.binary, self.scenarios = os.path.abspath(args.server), os.path.abspath(args.scenarios)
        self.work = work
        self.host = '127.0.0.1'
        self.server = None
        self.sipps = []

    def start_server(self, *args, host='127.0.0.1', nofile=None):
        self.host = host
        self.server = Server(self.binary, self.work, list(args), host, nofile)
        return self.server

    def sipp(self, *args, **kw):
        return Sipp(self, *args, **kw)

    def cleanup(self):
        for s in self.sipps:
            if s.running():
                s.proc.kill()
                s.proc.wait()
        if self.server:
            self.server.kill()


# ----------------------------------------------------------------------
# What the server wrote

def only_session(srv):
    files = srv.sessions()
    check(len(files) == 1, f'{len(files)} session files, 1 expected: {sorted(files)}')
    sid, event = next(iter(files.items()))
    check(HEX32.match(sid), f'session file name {sid!r} is not 32 hex digits')
    return sid, event


def check_ended(event, reason, streams):
    check(event['event'] == 'session_ended', f'last event {event["event"]}, session_ended expected')
    check(event.get('reason') == reason, f'reason {event.get("reason")!r}, {reason!r} expected')
    check(len(event['streams']) == streams,
          f'{len(event["streams"])} streams in the file, {streams} expected')


def check_log_of(srv, sid, events):
    """The session's log lines are exactly these events, in order."""
    got = [l.split()[0] for l in srv.matching(rf'^session_\w+ id={sid} ')]
    check(got == events, f'log lines for {sid}: {got}, expected {events}')


def check_recvonly(event, codecs):
    """Every stream accepted recvonly, with this codec (one for all, or a list)."""
    if isinstance(codecs, str):
        codecs = [codecs] * len(event['streams'])
    for st, codec in zip(event['streams'], codecs):
        check(st['media'] == 'audio' and st['direction'] == 'recvonly' and st['codec'] == codec
              and st['port'] > 0, f'stream {st}: an accepted recvonly {codec} stream expected')


# ----------------------------------------------------------------------
# The cases

def case_call(ctx, transport):
    srv = ctx.start_server()
    s = ctx.sipp('acme-call.xml', transport=transport).wait()
    check(s.statuses()[-2:] == [200, 200], f'responses {s.statuses()}: 200 (INVITE), 200 (BYE)')
    srv.wait_lines(r'^session_ended ')
    sid, ev = only_session(srv)
    check_ended(ev, 'bye', 2)
    check_recvonly(ev, 'PCMU')
    check([st['label'] for st in ev['streams']] == ['16777227', '16777228'], 'labels')
    md = ev['metadata']
    check(md['status'] == 'ok', f"metadata status {md['status']}")
    check([p['aor'] for p in md['participants']] == ['sip:9000@192.0.2.102', 'sip:1002@192.0.2.10'],
          f"participants {md['participants']}")
    check([st['participants'] for st in ev['streams']] ==
          [['sip:9000@192.0.2.102'], ['sip:1002@192.0.2.10']], 'who speaks on each stream')
    check_log_of(srv, sid, ['session_started', 'session_ended'])
    srv.stop()


def case_udp_call(ctx):
    case_call(ctx, 'u1')


def case_tcp_call(ctx):
    case_call(ctx, 't1')


def case_rtp_ports(ctx):
    srv = ctx.start_server('--rtp-ports', '31000-31009')
    ctx.sipp('acme-call.xml').wait()
    srv.wait_lines(r'^session_ended ')
    ports = [st['port'] for st in only_session(srv)[1]['streams']]
    check(all(31000 <= p <= 31009 and p % 2 == 0 for p in ports),
          f'ports {ports}: even ports within --rtp-ports 31000-31009 expected')
    srv.stop()


OPTIONS = ('OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\n'
           'Via: SIP/2.0/{t} 127.0.0.1:5999;branch=z9hG4bK-frame-{n}\r\n'
           'Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=f{n}\r\n'
           'To: <sip:srs@127.0.0.1>\r\nCall-ID: frame-{n}@127.0.0.1\r\n'
           'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n')


def recv_until_closed(sock, timeout=5.0):
    sock.settimeout(timeout)
    data = b''
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, True
        except socket.timeout:
            return data, False
        if not chunk:
            return data, True
        data += chunk


def case_framing(ctx):
    """Raw sockets: what a stream or a datagram can do wrong."""
    srv = ctx.start_server()
    addr = ('127.0.0.1', srv.port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5)
        u.sendto(b'\x00\xffnot SIP at all\r\n\r\n', addr)  # dropped, nothing breaks
        u.sendto(OPTIONS.format(t='UDP', n=1).encode(), addr)
        check(u.recv(65536).startswith(b'SIP/2.0 200 '), 'UDP OPTIONS after garbage: no 200')
    with socket.create_connection(addr, timeout=5) as c:
        c.sendall(b'\r\n\r\n')  # RFC 5626 keep-alive ping
        check(c.recv(16) == b'\r\n', 'no CRLF pong to a double-CRLF ping')
        msg = OPTIONS.format(t='TCP', n=2).encode()
        c.sendall(msg[:40])  # one message in two writes: framed, not taken half
        time.sleep(0.2)
        c.sendall(msg[40:] + OPTIONS.format(t='TCP', n=3).encode())  # and two in one
        got = b''
        c.settimeout(5)
        while got.count(b'SIP/2.0 200 ') < 2:
            chunk = c.recv(65536)
            check(chunk, f'connection closed after {got!r}')
            got += chunk
        check(b'frame-2@' in got and b'frame-3@' in got, 'both OPTIONS answered on the connection')
        # No Content-Length on a stream: it cannot be framed, so it is closed.
        c.sendall(b'OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999\r\n\r\n')
        rest, closed = recv_until_closed(c)
        check(closed and b'SIP/2.0' not in rest, f'a broken stream was answered {rest!r} '
              f'or left open (closed: {closed})')
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:  # still serving
        u.settimeout(5)
        u.sendto(OPTIONS.format(t='UDP', n=4).encode(), addr)
        check(u.recv(65536).startswith(b'SIP/2.0 200 '), 'no 200 after the broken stream')
    srv.stop()


def case_ipv6_call(ctx):
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s6:
            s6.bind(('::1', 0))
    except OSError:
        print('no IPv6 loopback here')
        return SKIP
    srv = ctx.start_server(host='::1')
    ctx.sipp('acme-call.xml').wait()
    srv.wait_lines(r'^session_ended ')
    check_ended(only_session(srv)[1], 'bye', 2)
    srv.stop()


def case_reinvite_add_stream(ctx):
    srv = ctx.start_server()
    ctx.sipp('cisco-reinvite-add.xml').wait()
    srv.wait_lines(r'^session_ended ')
    sid, ev = only_session(srv)
    check_ended(ev, 'bye', 3)
    check_recvonly(ev, ['PCMU', 'PCMU', 'PCMA'])  # the new stream offered only PCMA
    check([st['label'] for st in ev['streams']] == ['1', '2', '3'], 'labels 1, 2, 3')
    check(len({st['port'] for st in ev['streams']}) == 3, 'three distinct ports')
    check_log_of(srv, sid, ['session_started', 'session_updated', 'session_ended'])
    check(srv.matching(rf'^session_updated id={sid} streams=3 '), 'the update names 3 streams')
    srv.stop()


def case_pause_resume(ctx, transport='u1'):
    srv = ctx.start_server()
    s = ctx.sipp('avaya-pause-resume.xml', transport=transport)
    # Watch the session file while the call runs: every state it went through.
    seen = []
    while s.running():
        for ev in srv.sessions().values():
            dirs = tuple(st['direction'] for st in ev['streams'])
            if not seen or seen[-1] != (ev['event'], dirs):
                seen.append((ev['event'], dirs))
        time.sleep(0.02)
    s.wait()
    srv.wait_lines(r'^session_ended ')
    sid, ev = only_session(srv)
    check_ended(ev, 'bye', 2)
    check_recvonly(ev, 'G722')
    states = [d for _, d in seen]
    want = [('recvonly',) * 2, ('inactive',) * 2, ('recvonly',) * 2]
    compact = [d for i, d in enumerate(states) if i == 0 or states[i - 1] != d]
    check(compact == want, f'directions seen in the file: {compact}, expected {want}')
    check_log_of(srv, sid, ['session_started', 'session_updated', 'session_updated',
                            'session_ended'])
    srv.stop()


def case_pause_resume_tcp(ctx):
    case_pause_resume(ctx, 't1')


def case_ack_odd_cseq(ctx):
    """An SBC numbering its ACKs with its own counter: every ACK settles its
    2xx (no 200 comes again after it) and the resume is not refused 491."""
    srv = ctx.start_server()
    s = ctx.sipp('ack-odd-cseq.xml').wait()
    check(s.statuses().count(200) == 4,
          f'responses {s.statuses()}: one 200 each for INVITE, two re-INVITEs and BYE '
          '(a 2xx retransmitted after its ACK was not matched)')
    srv.wait_lines(r'^session_ended ')
    sid, ev = only_session(srv)
    check_ended(ev, 'bye', 2)
    check_recvonly(ev, 'G722')
    check_log_of(srv, sid, ['session_started', 'session_updated', 'session_updated',
                            'session_ended'])
    srv.stop()


def case_cucm_bib(ctx):
    """Cisco CUCM built-in-bridge recording: two plain, body-less INVITEs
    per call, one per leg; each a recording of one stream whose speaker the
    From parameters name, both legs paired by one key."""
    srv = ctx.start_server()
    ctx.sipp('cucm-bib.xml', calls=2,
             extra=['-inf', os.path.join(ctx.scenarios, 'cucm-bib.csv')]).wait()
    srv.wait_lines(r'^session_ended ', 2)
    files = srv.sessions()
    check(len(files) == 2, f'{len(files)} session files, one per leg expected')
    legs = {}
    for sid, ev in files.items():
        check_ended(ev, 'bye', 1)
        check_recvonly(ev, 'PCMU')
        bib = ev.get('bib')
        check(bib is not None, f'session {sid}: not recognised as a built-in-bridge leg')
        legs[bib['leg']] = (bib, ev)
        check_log_of(srv, sid, ['session_started', 'session_updated', 'session_ended'])
    check(sorted(legs) == ['far-end', 'near-end'], f'legs {sorted(legs)}')
    keys = {b['pairing_key'] for b, _ in legs.values()}
    check(len(keys) == 1, f'pairing keys {keys}: one for both legs expected')
    check(all(b['refci'] == '25431346' and b['farend_refci'] == '25431345'
              for b, _ in legs.values()), 'refci values')
    for leg, who in (('near-end', '1001'), ('far-end', '2001')):
        md = legs[leg][1]['metadata']
        check(md['status'] == 'headers', f'{leg}: metadata status {md["status"]}')
        check(legs[leg][1]['streams'][0]['participants'] == [who],
              f'{leg}: who speaks {legs[leg][1]["streams"][0]["participants"]}, {who} expected')
    srv.stop()


def case_forged_flood(ctx):
    """5,000 SIPREC INVITEs from 250 loopback addresses at 1,000/s, never
    ACKed (forged sources), while sipp places 20 real calls: at least 19 of
    them get 200; no BYE goes to a forged address; each forged address gets
    at most 4 bytes per byte it sent; the log stays short."""
    t1_ms = 100  # 64*T1 = 6.4 s: every forged transaction ends within the test
    srv = ctx.start_server('--t1-ms', str(t1_ms))
    torture = os.path.join(ctx.scenarios, '..', '..', 'data', 'torture', 'siprec-control.sip')
    with open(torture, 'rb') as f:
        template = f.read()
    old_cid = re.search(rb'\r\nCall-ID: ([^\r]*)', template).group(1)
    socks = []
    for i in range(250):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f'127.0.1.{i + 1}', 0))
        s.setblocking(False)
        socks.append(s)
    sent = [0] * 250
    got = [0] * 250
    byes = 0

    def drain():
        nonlocal byes
        for i, s in enumerate(socks):
            while True:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    break
                got[i] += len(data)
                byes += data.startswith(b'BYE ')

    legit = None
    start = time.monotonic()
    for n in range(5000):
        if n == 500:  # half a second in: the flood is at its height
            legit = ctx.sipp('acme-call.xml', calls=20, timeout=30, trace_msg=False,
                             extra=['-r', '4', '-l', '20'])
        i = n % 250
        msg = template.replace(old_cid, b'forged-%d@127.0.1.%d' % (n, i + 1))
        socks[i].sendto(msg, ('127.0.0.1', srv.port))
        sent[i] += len(msg)
        if n % 10 == 9:
            drain()
            lag = start + (n + 1) / 1000.0 - time.monotonic()
            if lag > 0:
                time.sleep(lag)
    flood_s = time.monotonic() - start
    legit.wait(expect_ok=None)
    ok, failed = legit.stat_calls()
    # Every forged transaction ends by 64*T1 after its INVITE: take all replies.
    end = time.monotonic() + 64 * t1_ms / 1000.0 + 1.5
    while time.monotonic() < end:
        drain()
        time.sleep(0.05)
    drain()
    for s in socks:
        s.close()
    ratios = [g / s for g, s in zip(got, sent)]
    total = sum(got) / sum(sent)
    with open(srv.err_path, errors='replace') as f:
        log_lines = sum(1 for _ in f)
    print(f'flood of 5000 INVITEs in {flood_s:.1f} s from 250 addresses: {ok} of 20 legit calls '
          f'succeeded ({failed} failed); {sum(got)} bytes sent to forged sources for '
          f'{sum(sent)} received ({total:.2f}x, worst address {max(ratios):.2f}x); '
          f'{byes} BYEs to forged sources; {log_lines} log lines')
    check(flood_s < 10, f'the flood took {flood_s:.1f} s: this machine could not send it')
    check(ok >= 19, f'{ok} of 20 legit calls succeeded during the flood')
    check(byes == 0, f'{byes} BYEs sent to addresses that never ACKed')
    check(max(ratios) <= 4.0, f'a forged address got {max(ratios):.2f} bytes per byte sent')
    check(log_lines < 200, f'{log_lines} log lines for one flood')
    srv.stop()


def case_cancel(ctx):
    srv = ctx.start_server('--defer-ms', '3000')
    s = ctx.sipp('ribbon-cancel.xml').wait()
    st = s.statuses()
    check(sorted(st) == [100, 200, 487], f'responses {st}: 100, then 200 and 487 once each')
    srv.wait_lines(r'^session_ended ')
    sid, ev = only_session(srv)
    check_ended(ev, 'cancel', 2)
    check_log_of(srv, sid, ['session_deferred', 'session_ended'])
    srv.stop()


def case_deferred_accept(ctx):
    srv = ctx.start_server('--defer-ms', '400')
    s = ctx.sipp('acme-call.xml').wait()
    check(s.statuses() == [100, 200, 200], f'responses {s.statuses()}: 100, 200, 200 (BYE)')
    check(s.elapsed >= 0.6, f'the call took {s.elapsed:.2f}s: 400 ms deferral + 200 ms hold')
    srv.wait_lines(r'^session_ended ')
    sid, ev = only_session(srv)
    check_ended(ev, 'bye', 2)
    check_log_of(srv, sid, ['session_deferred', 'session_started', 'session_ended'])
    srv.stop()


def case_options(ctx):
    srv = ctx.start_server('--allow', '127.0.0.0/8')
    s = ctx.sipp('options-ping.xml').wait()
    check(s.statuses() == [200], f'responses {s.statuses()}, one 200 expected')
    check(srv.sessions() == {}, 'OPTIONS made a session file')
    srv.stop()


def case_allow_drops(ctx):
    srv = ctx.start_server('--allow', '192.0.2.0/24', '--allow', '::1/128')
    s = ctx.sipp('options-ping.xml', timeout=3).wait(expect_ok=False)
    check(s.statuses() == [], f'responses {s.statuses()} to a source outside --allow')
    srv.stop()


def case_plain_invite(ctx):
    srv = ctx.start_server()
    s = ctx.sipp('plain-invite.xml').wait()
    st = [c for c in s.statuses() if c != 100]
    check(st == [403], f'final responses {st}: one 403 (no retransmission after the ACK)')
    check(not srv.matching(r'^session_started '), 'a plain call was started')
    srv.stop()


def case_lost_ack(ctx):
    srv = ctx.start_server('--t1-ms', '50', '--t2-ms', '400')
    s = ctx.sipp('lost-ack.xml', timeout=15).wait()
    got = s.received()
    n200 = sum(1 for l in got if l.startswith('SIP/2.0 200'))
    check(n200 >= 4, f'{n200} copies of the 200: the server must retransmit it')
    check(not any(l.startswith('BYE ') for l in got),
          'a BYE towards an address that never ACKed')
    srv.wait_lines(r'^session_ended ')
    # 64*T1 = 3.2 s after the 200: not before.
    check(3.0 <= time.monotonic() - s.started, 'the session ended before 64*T1')
    sid, ev = only_session(srv)
    check_ended(ev, 'ack-timeout', 2)
    check_recvonly(ev, 'PCMA')
    check_log_of(srv, sid, ['session_started', 'session_ended'])
    srv.stop()


def case_session_timer(ctx):
    srv = ctx.start_server('--min-se', '1')
    s = ctx.sipp('wait-bye.xml', extra=['-key', 'se', '3'], timeout=15).wait()
    check(any(l.startswith('BYE ') for l in s.received()), 'no BYE from the server')
    # RFC 4028: the refresh was due within 3 s; the SRS gives up near then.
    check(1.5 <= s.elapsed <= 8, f'the BYE came after {s.elapsed:.1f}s, about 3 s expected')
    srv.wait_lines(r'^session_ended ')
    check_ended(only_session(srv)[1], 'session-timer', 2)
    srv.stop()


def case_shutdown(ctx, transport):
    srv = ctx.start_server()
    s = ctx.sipp('wait-bye.xml', transport=transport, extra=['-key', 'se', '1800'])
    srv.wait_lines(r'^session_started ')
    time.sleep(0.2)  # the ACK
    srv.stop()
    s.wait()  # sipp passes only when it got the BYE and answered it
    check(any(l.startswith('BYE ') for l in s.received()), 'no BYE from the server')
    sid, ev = only_session(srv)
    check_ended(ev, 'shutdown', 2)
    check_log_of(srv, sid, ['session_started', 'session_ended'])


def case_shutdown_udp(ctx):
    case_shutdown(ctx, 'u1')


def case_shutdown_drain(ctx):
    """SIGTERM drains: the BYE goes unanswered for 1.6 s, the server sends it
    again meanwhile and exits only once it is answered
    (siprec_handler_shutdown)."""
    srv = ctx.start_server()
    s = ctx.sipp('drain-bye.xml', extra=['-key', 'se', '1800'])
    srv.wait_lines(r'^session_started ')
    time.sleep(0.2)  # the ACK
    t0 = time.monotonic()
    srv.stop()
    took = time.monotonic() - t0
    s.wait()
    byes = [l for l in s.received() if l.startswith('BYE ')]
    check(len(byes) >= 2, f'{len(byes)} BYE from the server, a retransmission expected')
    check(1.4 <= took < 5, f'the server stopped {took:.1f} s after SIGTERM: it should wait '
          'for the answer to its BYE (1.6 s), no longer')
    check_ended(only_session(srv)[1], 'shutdown', 2)


def case_shutdown_tcp(ctx):
    case_shutdown(ctx, 't1')


def case_max_sessions(ctx):
    srv = ctx.start_server('--max-sessions', '1')
    # Two overlapping calls: the second is refused, which sipp counts as failed.
    s = ctx.sipp('load-call.xml', calls=2, extra=['-l', '2', '-r', '10']).wait(expect_ok=False)
    check(s.stat_calls() == (1, 1), f'sipp statistics {s.stat_calls()}: one call through, one not')
    check(503 in s.statuses(), f'responses {s.statuses()}: a 503 for the second call')
    srv.wait_lines(r'^session_ended ')
    check_ended(only_session(srv)[1], 'bye', 2)
    srv.stop()


def case_load(ctx):
    calls = 200
    srv = ctx.start_server()
    ctx.sipp('load-call.xml', calls=calls, timeout=40, trace_msg=False,
             extra=['-l', str(calls), '-r', '400']).wait()
    srv.wait_lines(r'^session_ended ', calls, 15)
    files = srv.sessions()
    check(len(files) == calls, f'{len(files)} session files, {calls} expected')
    bad = [sid for sid, ev in files.items()
           if ev['event'] != 'session_ended' or ev.get('reason') != 'bye' or len(ev['streams']) != 2]
    check(not bad, f'{len(bad)} sessions did not end with bye and two streams')
    check(len({ev['call_id'] for ev in files.values()}) == calls, 'call ids not distinct')
    # How many were open at once, from the order of the log lines.
    open_now = peak = 0
    for line in srv.matching(r'^session_(started|ended) '):
        open_now += 1 if line.startswith('session_started') else -1
        peak = max(peak, open_now)
    print(f'{calls} calls, at most {peak} open at once')
    check(peak >= calls * 9 // 10, f'only {peak} calls open at once, about {calls} expected')
    srv.stop()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith('case_')
         and name not in ('case_call', 'case_shutdown')}


def main(cases=None, doc=None, prefix='sipp', add_args=None):
    """Run the case named on the command line: this file's, or those of a
    script built on it (`cases`, its `doc`, `add_args` for its options)."""
    cases = cases or CASES
    ap = argparse.ArgumentParser(description=(doc or __doc__).split('\n')[0])
    ap.add_argument('--server', required=True)
    ap.add_argument('--scenarios', required=True)
    if add_args:
        add_args(ap)
    ap.add_argument('case', choices=sorted(cases))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix=f'{prefix}-{args.case}-')
    ctx = Ctx(args, work)
    try:
        if cases[args.case](ctx) == SKIP:
            return SKIP
    except Skip as e:
        print(f'SKIP {args.case}: {e}')
        return SKIP
    except Failure as e:
        print(f'FAIL {args.case}: {e}')
        if ctx.server:
            ctx.server.dump()
        print(f'(files kept in {work})')
        return 1
    finally:
        ctx.cleanup()
    shutil.rmtree(work, ignore_errors=True)
    print(f'PASS {args.case}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
