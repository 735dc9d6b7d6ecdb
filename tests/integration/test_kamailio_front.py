#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Kamailio (examples/kamailio/kamailio.cfg) in front of two siprec-server
nodes: dispatching, probing and failover (issue 13).

    test_kamailio_front.py --server PATH --client PATH --config PATH

Starts node A on 127.0.0.2 and node B on 127.0.0.3 (SIP port 0, each its
own --out and --rtp-ports, no shared store), then Kamailio on 127.0.0.1 at a
free port with the config and a dispatcher list naming both, and checks
with siprec-client (one PCMU stream, real time) placing calls through it:

  (a) four calls are spread round-robin, two on each node, recorded (their
      session folders hold WAVs), and their BYEs answered 200;
  (d) the client honours Record-Route: its BYE carries
      Route: <sip:127.0.0.1:PORT;lr...> and the node's Contact as
      Request-URI (loose routing);
  (b) a long call is placed; its node ("A" from here on, whichever it is)
      gets SIGKILL; Kamailio's OPTIONS probes mark it inactive within 3 s
      (the time is measured and printed); three new calls then all go to
      the other node ("B") without a failover and succeed;
  (c) the long call hangs up (SIGTERM to the client): its BYE, Route to
      Kamailio and Request-URI at A, times out there and Kamailio's failure
      route re-sends it to B, which has no store and answers 481; the
      client gets that 481 through Kamailio within 4 s of its BYE;
  (e) A started again on its address and port is marked active again;
  (h) a fake node (127.0.0.4, no dispatcher destination) takes a call of A
      over: its re-INVITE through Kamailio carries its own Contact, and the
      client's BYE then goes to it, through Kamailio (target refresh);
  (f) A killed again, two calls at once: round-robin gives one to the dead
      A, whose INVITE times out (1 s) and is re-sent to B: both succeed;
  (g) B, stopped with SIGTERM, ends a call with its own BYE, which reaches
      the client through Kamailio (loose-routed, no failover).

Everything runs on loopback and is stopped at the end (Kamailio, which
forks, in its own process group). Exit 0 passed, 1 failed, 77 skipped (no
kamailio, no client, no test audio).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sipp  # noqa: E402
from test_sipp import SKIP, Failure, Skip, check  # noqa: E402
from test_siprec_client import GOFORWARD  # noqa: E402

NODE_A, NODE_B, PROXY = '127.0.0.2', '127.0.0.3', '127.0.0.1'
# RTP ranges of their own: other tests use 31000-31099.
RTP = {NODE_A: '36200-36299', NODE_B: '36300-36399'}
MARK_LIMIT = 3.0   # s from the kill to "inactive" in Kamailio's log
BYE_LIMIT = 4.0    # s from the BYE to its final answer (DLG_TIMEOUT is 1.5 s)


class Lines:
    """A pipe's lines as they come, each with the monotonic time it was read."""

    def __init__(self, pipe, copy=None):
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.copy = copy
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for line in pipe:
            if self.copy:
                self.copy.write(line)
                self.copy.flush()
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip('\r\n')))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def matching(self, pattern, since=0.0):
        with self.cond:
            return [(t, l) for t, l in self.lines if t >= since and re.search(pattern, l)]

    def wait(self, pattern, timeout, since=0.0, what='a line'):
        """The first (time, line) matching pattern, read after `since`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, l in self.lines:
                    if t >= since and re.search(pattern, l):
                        return t, l
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    raise Failure(f'{what}: nothing matching {pattern!r} after {timeout} s')
                self.cond.wait(left)


class Node(test_sipp.Server):
    """siprec-server on HOST:PORT (0: any free one) in its own folder."""

    def __init__(self, binary, work, host, port=0, tag=''):
        os.makedirs(work, exist_ok=True)
        self.host = host
        self.out = os.path.join(work, 'out')
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        self.err_path = os.path.join(work, f'server{tag}.stderr')
        self.err = open(self.err_path, 'w')
        cmd = [binary, '--listen', f'{host}:{port}', '--out', self.out, '--rtp-ports', RTP[host]]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, errors='replace')
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_lines(r'^ready$', 1, 10)
        udp = self.wait_lines(r'^listening udp ', 1, 0)[0]
        self.port = int(udp.rsplit(':', 1)[1])
        self.uri = f'sip:{host}:{self.port}'

    def call_ids(self):
        return [re.search(r'call_id="([^"]*)"', l).group(1)
                for l in self.matching(r'^session_started ')]


class Kamailio:
    """kamailio -DD -E with the config, in a process group of its own (it forks)."""

    def __init__(self, binary, cfg, work, port, ds_list):
        self.rundir = os.path.join(work, 'kamailio-run')
        os.makedirs(self.rundir)
        self.log_path = os.path.join(work, 'kamailio.log')
        self.log = open(self.log_path, 'w')
        cmd = [binary, '-f', cfg, '-DD', '-E', '-Y', self.rundir,
               '-A', f'LISTEN_ADDR={PROXY}', '-A', f'LISTEN_PORT={port}',
               '-A', f'DS_LIST="{ds_list}"', '-A', 'CHILDREN=2', '-A', 'TCP_CHILDREN=1']
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors='replace',
                                     start_new_session=True)
        self.out = Lines(self.proc.stderr, self.log)
        self.port = port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        # Its children, should any have outlived the main process.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.out.thread.join(5)
        self.log.close()

    def dump(self):
        print('--- kamailio log (last 30 lines)')
        with self.out.cond:
            print('\n'.join(l for _, l in self.out.lines[-30:]))


class Client:
    """siprec-client through Kamailio, --verbose: its stderr read as it comes."""

    def __init__(self, args, work, name, proxy_port, seconds, audio):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.cmd = [args.client, '--server', f'{PROXY}:{proxy_port}', '--local', PROXY,
                    '--pace', '1', '--duration', str(seconds), '--verbose',
                    '--stream', f'label=1,codec=pcmu,file={audio},rate=16000']
        self.errlog = open(os.path.join(self.dir, 'stderr'), 'w')
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors='replace')
        self.err = Lines(self.proc.stderr, self.errlog)

    def result(self, timeout=30):
        # Not communicate(): it would read stderr too, from under the reader.
        # The JSON is one short line, well within the pipe's buffer.
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f'client {self.name} still running after {timeout} s')
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        self.err.thread.join(5)
        self.errlog.close()
        try:
            self.out = json.loads(out)
        except ValueError:
            raise Failure(f'client {self.name}: exit {self.proc.returncode}, no JSON: {out!r}')
        return self.out

    def messages(self, banner, start):
        """The header lines of each message after `banner` in its --verbose
        output whose first line starts with `start`, with the time."""
        with self.err.cond:
            lines = list(self.err.lines)
        found = []
        for i, (t, l) in enumerate(lines):
            if l == banner and i + 1 < len(lines) and lines[i + 1][1].startswith(start):
                msg = []
                for _, m in lines[i + 1:]:
                    if m == '':
                        break
                    msg.append(m)
                found.append((t, msg))
        return found

    def sent(self, method):
        """Each request of that method it sent."""
        return self.messages('--- sent to the SRS:', method + ' ')

    def received(self, start):
        return self.messages('--- received:', start)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def need(args):
    kam = shutil.which('kamailio') or shutil.which('kamailio', path='/usr/sbin:/usr/local/sbin')
    if not kam:
        raise Skip('kamailio is not installed (Debian package kamailio)')
    if not args.client or not os.path.exists(args.client):
        raise Skip('siprec-client was not built')
    if not os.path.exists(GOFORWARD):
        raise Skip(f'{GOFORWARD} missing (Debian package pocketsphinx-testdata)')
    return kam


def long_audio(work, seconds):
    with open(GOFORWARD, 'rb') as f:
        data = f.read()
    out = data
    while len(out) < seconds * 16000 * 2:
        out += data
    path = os.path.join(work, 'long.raw')
    with open(path, 'wb') as f:
        f.write(out)
    return path


def start_kamailio(binary, cfg, work, ds_list, attempts=3):
    """Kamailio at a port free for UDP and TCP, answering through a node.
    The port is free when picked, but another test's connection may take it
    before Kamailio binds it (an ephemeral port): then another port."""
    for attempt in range(attempts):
        kam = Kamailio(binary, cfg, os.path.join(work, f'kamailio-{attempt}') if attempt else work,
                       test_sipp.free_port(PROXY), ds_list)
        try:
            wait_ready(kam.port, proc=kam.proc)
            return kam
        except Failure:
            kam.stop()
            if attempt + 1 == attempts or not kam_bind_failed(kam):
                raise
            print(f'kamailio: port {kam.port} taken meanwhile: another port')


def kam_bind_failed(kam):
    with open(kam.log_path, errors='replace') as f:
        return 'Address already in use' in f.read()


def wait_ready(port, timeout=10.0, proc=None):
    """An out-of-dialog OPTIONS through Kamailio answered (by a node)."""
    deadline = time.monotonic() + timeout
    n = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((PROXY, 0))
        s.settimeout(0.3)
        me = s.getsockname()[1]
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise Failure(f'kamailio exited ({proc.returncode}) before it answered')
            n += 1
            s.sendto((f'OPTIONS sip:srs@{PROXY}:{port} SIP/2.0\r\n'
                      f'Via: SIP/2.0/UDP {PROXY}:{me};branch=z9hG4bK-ready-{n}\r\n'
                      'Max-Forwards: 70\r\n'
                      f'From: <sip:test@{PROXY}>;tag=ready\r\nTo: <sip:srs@{PROXY}>\r\n'
                      f'Call-ID: ready-{n}@{PROXY}\r\nCSeq: 1 OPTIONS\r\n'
                      'Content-Length: 0\r\n\r\n').encode(), (PROXY, port))
            try:
                if s.recv(65536).startswith(b'SIP/2.0 200 '):
                    return
            except socket.timeout:
                pass
    raise Failure(f'kamailio: no 200 to an OPTIONS through it after {timeout} s')


def header(msg, name):
    """A header's value in a message's lines (the first of that name)."""
    for line in msg[1:]:
        n, _, v = line.partition(':')
        if n.strip().lower() == name.lower():
            return v.strip()
    raise Failure(f'no {name} in {msg[0]!r}')


def tag(value):
    return re.search(r';tag=([^;>\s]+)', value).group(1)


class FakeNode:
    """A node on 127.0.0.4 that takes a dialog over as a real one will once
    the store is shared: it re-INVITEs the client through Kamailio with its
    own Contact, then answers the BYE that comes to it. It is no dispatcher
    destination, so Kamailio routes its requests as any in-dialog request."""

    def __init__(self):
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the media's sink
        self.sip.bind(('127.0.0.4', 0))
        self.rtp.bind(('127.0.0.4', 0))
        self.port, self.rtp_port = self.sip.getsockname()[1], self.rtp.getsockname()[1]
        self.contact = f'sip:srs@127.0.0.4:{self.port}'

    def close(self):
        self.sip.close()
        self.rtp.close()

    def recv(self, start, timeout):
        """The next message whose first line starts with `start`, as lines."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            check(left > 0, f'fake node: no {start!r} within {timeout} s')
            self.sip.settimeout(left)
            try:
                data = self.sip.recv(65536).decode(errors='replace')
            except socket.timeout:
                continue
            lines = data.split('\r\n\r\n', 1)[0].split('\r\n')
            if lines[0].startswith(start):
                return lines

    def take_over(self, cl, proxy_port):
        """Re-INVITE cl's dialog (its client's view, from its --verbose
        output) with our Contact and SDP, and ACK the 2xx."""
        self.proxy_port = proxy_port
        invite = cl.sent('INVITE')[0][1]
        ok = cl.received('SIP/2.0 200 ')[0][1]
        call_id, client_tag = header(invite, 'Call-ID'), tag(header(invite, 'From'))
        node_tag = tag(header(ok, 'To'))
        client = re.search(r'<([^>]+)>', header(invite, 'Contact')).group(1)
        sdp = ('v=0\r\no=SRS 2 2 IN IP4 127.0.0.4\r\ns=-\r\nc=IN IP4 127.0.0.4\r\nt=0 0\r\n'
               f'm=audio {self.rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:1\r\n'
               'a=recvonly\r\n')
        common = (f'Route: <sip:{PROXY}:{proxy_port};lr>\r\nMax-Forwards: 70\r\n'
                  f'From: <sip:srs@{PROXY}:{proxy_port}>;tag={node_tag}\r\n'
                  f'To: <sip:siprec-client@{PROXY}>;tag={client_tag}\r\n'
                  f'Call-ID: {call_id}\r\n')
        self.sip.sendto((f'INVITE {client} SIP/2.0\r\n'
                         f'Via: SIP/2.0/UDP 127.0.0.4:{self.port};branch=z9hG4bK-takeover-1\r\n'
                         + common + 'CSeq: 900 INVITE\r\n'
                         f'Contact: <{self.contact}>;+sip.srs\r\n'
                         f'Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n'
                         + sdp).encode(), (PROXY, proxy_port))
        self.recv('SIP/2.0 200 ', 5)
        self.sip.sendto((f'ACK {client} SIP/2.0\r\n'
                         f'Via: SIP/2.0/UDP 127.0.0.4:{self.port};branch=z9hG4bK-takeover-2\r\n'
                         + common + 'CSeq: 900 ACK\r\nContent-Length: 0\r\n\r\n').encode(),
                        (PROXY, proxy_port))

    def answer_bye(self, timeout):
        """The BYE that came to us, answered 200 (to Kamailio, its top Via)."""
        bye = self.recv('BYE ', timeout)
        vias = [l for l in bye[1:] if l.lower().startswith('via:')]
        keep = [l for l in bye[1:] if l.split(':', 1)[0].strip().lower() in
                ('from', 'to', 'call-id', 'cseq')]
        self.sip.sendto(('SIP/2.0 200 OK\r\n' + '\r\n'.join(vias + keep) +
                         '\r\nContent-Length: 0\r\n\r\n').encode(), (PROXY, self.proxy_port))
        return bye


def check_call(cl, out, bye_status=200):
    check(out.get('status') == 200 and out.get('bye') == 'sent' and
          out.get('bye_status') == bye_status and 'error' not in out and
          cl.proc.returncode == 0,
          f'client {cl.name}: exit {cl.proc.returncode}, {out} (BYE {bye_status} expected)')


def check_recorded(node, call_id):
    """The session of call_id on node ended with WAVs in its folder."""
    line = node.wait_lines(rf'^session_started .*call_id="{re.escape(call_id)}"', 1, 5)[0]
    sid = line.split('id=')[1].split()[0]
    done = node.wait_lines(rf'^recording_done id={sid} ', 1, 10)[0]
    folder = os.path.join(node.out, sid)
    wavs = sorted(n for n in os.listdir(folder) if n.endswith('.wav'))
    check(wavs and ' files=0 ' not in done, f'{folder}: no WAV ({sorted(os.listdir(folder))})')
    for name in wavs:
        size = os.path.getsize(os.path.join(folder, name))
        check(size > 44 + 8000, f'{folder}/{name}: {size} bytes, less than 0.5 s of audio')


def run(args, work, state):
    kam_bin = need(args)
    a = state['a'] = Node(args.server, os.path.join(work, 'a'), NODE_A)
    b = state['b'] = Node(args.server, os.path.join(work, 'b'), NODE_B)
    ds_list = os.path.join(work, 'dispatcher.list')
    with open(ds_list, 'w') as f:
        f.write(f'1 {a.uri} 0 0\n1 {b.uri} 0 0\n')
    kam = state['kam'] = start_kamailio(kam_bin, args.config, work, ds_list)
    nodes = {a.uri: a, b.uri: b}
    clients = state['clients']

    # (a) and (d): four calls, staggered so that round-robin meets them in turn.
    calls = []
    for i in range(4):
        calls.append(Client(args, work, f'call{i}', kam.port, 1.5, GOFORWARD))
        clients.append(calls[-1])
        time.sleep(0.25)
    for cl in calls:
        check_call(cl, cl.result())
    where = {cl.out['call_id']: [n for n in nodes.values() if cl.out['call_id'] in n.call_ids()]
             for cl in calls}
    check(all(len(w) == 1 for w in where.values()), f'calls on nodes: {where}')
    split = {n.host: sum(w[0] is n for w in where.values()) for n in nodes.values()}
    print(f'(a) four calls through kamailio: {split} (node: calls)')
    check(list(split.values()) == [2, 2], f'round-robin: {split}, 2 and 2 expected')
    for cl in calls:
        check_recorded(where[cl.out['call_id']][0], cl.out['call_id'])
    byes = calls[0].sent('BYE')
    check(len(byes) >= 1, 'call0 sent no BYE')
    bye = byes[0][1]
    node = where[calls[0].out['call_id']][0]
    check(re.fullmatch(rf'BYE sip:[^@]+@{re.escape(node.host)}:{node.port} SIP/2\.0', bye[0]),
          f'(d) BYE Request-URI {bye[0]!r}: the node\'s Contact expected')
    route = [h for h in bye if h.lower().startswith('route:')]
    check(len(route) == 1 and re.fullmatch(
        rf'Route: <sip:{re.escape(PROXY)}:{kam.port};lr[;>].*', route[0]),
        f'(d) BYE Route headers {route}: <sip:{PROXY}:{kam.port};lr> expected')
    print(f'(d) the BYE: {bye[0]} with {route[0]}')

    # (b): a long call; its node dies; the probes take it out of the set.
    before = {n.uri: len(n.call_ids()) for n in nodes.values()}
    long_call = Client(args, work, 'long', kam.port, 30, long_audio(work, 30))
    clients.append(long_call)
    deadline = time.monotonic() + 5
    while True:
        grew = [n for n in nodes.values() if len(n.call_ids()) > before[n.uri]]
        if grew:
            break
        check(time.monotonic() < deadline, 'the long call reached no node')
        time.sleep(0.05)
    victim = grew[0]
    survivor = b if victim is a else a
    time.sleep(1.0)  # some media first
    victim.proc.kill()
    killed = time.monotonic()
    victim.proc.wait()
    t, _ = kam.out.wait(rf'dispatcher: node {re.escape(victim.uri)} inactive', MARK_LIMIT + 2,
                        since=killed, what='kamailio marking the dead node inactive')
    marked = t - killed
    print(f'(b) kamailio marked the dead node {victim.uri} inactive {marked:.3f} s after its '
          f'SIGKILL (limit {MARK_LIMIT} s)')
    check(marked <= MARK_LIMIT, f'inactive {marked:.3f} s after the kill, {MARK_LIMIT} s allowed')
    fresh = []
    for i in range(3):
        fresh.append(Client(args, work, f'after{i}', kam.port, 1.0, GOFORWARD))
        clients.append(fresh[-1])
        time.sleep(0.25)
    for cl in fresh:
        check_call(cl, cl.result())
        check(cl.out['call_id'] in survivor.call_ids(),
              f'{cl.name}: call {cl.out["call_id"]} not on the live node')
    invite_failovers = kam.out.matching(r'failover: INVITE ', since=t)
    check(not invite_failovers, f'new calls were tried on the dead node: {invite_failovers}')
    print(f'(b) three new calls, all on {survivor.uri}, no failover needed')

    # (c): the long call hangs up; its BYE reaches the survivor through the
    # failure route, and the survivor, with no store, answers 481.
    long_call.proc.send_signal(signal.SIGTERM)
    out = long_call.result()
    check_call(long_call, out, bye_status=481)
    byes = long_call.sent('BYE')
    check(len(byes) >= 1, 'the long call sent no BYE')
    bye_at, bye = byes[0]
    check(bye[0].split()[1].endswith(f'@{victim.host}:{victim.port}'),
          f'the long call\'s BYE went to {bye[0]}, the dead node expected')
    answer_at, _ = long_call.err.wait(r'^SIP/2\.0 481 ', 0, since=bye_at,
                                      what='the 481 to the long call\'s BYE')
    took = answer_at - bye_at
    call_id = re.escape(out['call_id'])
    fo = kam.out.matching(rf'failover: BYE {call_id}: node {re.escape(victim.uri)} failed '
                          rf'\(408\), re-sent to {re.escape(survivor.uri)}$')
    check(fo, f'no failover of the BYE to {survivor.uri} in kamailio\'s log')
    print(f'(c) the BYE to the dead node was failed over to {survivor.uri}: 481 {took:.3f} s '
          f'after the BYE (limit {BYE_LIMIT} s)')
    check(took <= BYE_LIMIT, f'the BYE was answered {took:.3f} s after it was sent')

    # (e): the dead node comes back on its address and port.
    again = state['again'] = Node(args.server, os.path.join(work, 'a2'), victim.host,
                                  victim.port, '-again')
    started = time.monotonic()
    t, _ = kam.out.wait(rf'dispatcher: node {re.escape(victim.uri)} active', 5, since=started,
                        what='kamailio marking the restarted node active')
    print(f'(e) the restarted node was active again {t - started:.3f} s after it started')

    # (h): a takeover as a node with the shared store will do it: a fake
    # node re-INVITEs a call of the restarted node with its own Contact;
    # the client's BYE then goes to it, through Kamailio. Two calls, so that
    # round-robin puts one on the restarted node (killed in (f), and its
    # orphaned session with it).
    fake = state['fake'] = FakeNode()
    counts = {n.uri: len(n.call_ids()) for n in (again, survivor)}
    long_path = long_audio(work, 30)
    moved = []
    for i in range(2):
        moved.append(Client(args, work, f'moved{i}', kam.port, 30, long_path))
        clients.append(moved[-1])
        time.sleep(0.25)
    for n in (again, survivor):
        n.wait_lines(r'^session_started ', counts[n.uri] + 1, 5)
    for cl in moved:
        cl.err.wait(r'^SIP/2\.0 200 ', 5, what=f'{cl.name}: the 200 to its INVITE')
    on_again = [cl for cl in moved
                if header(cl.sent('INVITE')[0][1], 'Call-ID') in again.call_ids()]
    check(len(on_again) == 1, f'{len(on_again)} of the two calls on the restarted node')
    cl = on_again[0]
    fake.take_over(cl, kam.port)
    time.sleep(0.2)
    cl.proc.send_signal(signal.SIGTERM)
    bye = fake.answer_bye(5)
    out = cl.result()
    check_call(cl, out)
    check(out['reinvites_answered'] == 1, f'{cl.name}: {out["reinvites_answered"]} re-INVITEs')
    check(bye[0] == f'BYE {fake.contact} SIP/2.0', f'the BYE after the takeover: {bye[0]!r}')
    check(bye[1].startswith(f'Via: SIP/2.0/UDP {PROXY}:{kam.port};'),
          f'the BYE after the takeover did not come through kamailio: {bye[1]!r}')
    for other in moved:
        if other is not cl:
            other.proc.send_signal(signal.SIGTERM)
            check_call(other, other.result())
    print(f'(h) after a takeover re-INVITE from {fake.contact}, the client\'s BYE went there '
          'through kamailio')

    # (f): it dies again, and two calls come before any probe could notice
    # (a probe waits 1 s for its answer): round-robin gives one of them to
    # the dead node, whose INVITE times out and goes to the next node.
    again.proc.kill()
    killed = time.monotonic()
    again.proc.wait()
    pair = []
    for i in range(2):
        pair.append(Client(args, work, f'retry{i}', kam.port, 1.0, GOFORWARD))
        clients.append(pair[-1])
        time.sleep(0.05)
    for cl in pair:
        check_call(cl, cl.result())
        check(cl.out['call_id'] in survivor.call_ids(),
              f'{cl.name}: call {cl.out["call_id"]} not on the live node')
    ids = '|'.join(re.escape(cl.out['call_id']) for cl in pair)
    fo = kam.out.matching(rf'failover: INVITE ({ids}): node {re.escape(victim.uri)} failed '
                          rf'\(408\), re-sent to {re.escape(survivor.uri)}$', since=killed)
    check(len(fo) == 1, f'INVITE failovers to {survivor.uri}: {fo}, one expected')
    print('(f) two calls just after the second kill: one INVITE failed over, both on '
          f'{survivor.uri}')

    # (g): the node's own request goes to the client through Kamailio: the
    # survivor, stopped (SIGTERM, no hand-over), ends its call with a BYE
    # to its route set.
    before = len(survivor.call_ids())
    last = Client(args, work, 'ended', kam.port, 30, long_audio(work, 30))
    clients.append(last)
    survivor.wait_lines(r'^session_started ', before + 1, 5)
    time.sleep(0.5)
    survivor.stop()
    out = last.result()
    check(out.get('status') == 200 and out.get('bye') == 'received' and 'error' not in out and
          last.proc.returncode == 0, f'client ended: exit {last.proc.returncode}, {out}')
    print('(g) the stopped node\'s BYE reached the client through kamailio')
    # Checked before the stop: on SIGTERM its TCP main process logs a
    # CRITICAL "receive_fd(): EOF" for each worker gone, which is no fault.
    errors = kam.out.matching(r' (ERROR|CRITICAL|ALERT|BUG):')
    check(not errors, f'kamailio errors: {errors[:5]}')
    kam.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--server', required=True)
    ap.add_argument('--client', default='', help='the siprec-client binary ("" skips)')
    ap.add_argument('--config', required=True, help='examples/kamailio/kamailio.cfg')
    args = ap.parse_args()
    args.server, args.config = os.path.abspath(args.server), os.path.abspath(args.config)
    work = tempfile.mkdtemp(prefix='kamailio-front-')
    state = {'clients': []}
    started = time.monotonic()
    try:
        run(args, work, state)
    except Skip as e:
        print(f'SKIP: {e}')
        return SKIP
    except Failure as e:
        print(f'FAIL: {e}')
        for key in ('a', 'b', 'again'):
            if state.get(key):
                print(f'=== node {key}')
                state[key].dump()
        if state.get('kam'):
            state['kam'].dump()
        print(f'(files kept in {work})')
        return 1
    finally:
        for cl in state['clients']:
            cl.kill()
        for key in ('a', 'b', 'again'):
            if state.get(key):
                state[key].kill()
        if state.get('kam'):
            state['kam'].stop()
        if state.get('fake'):
            state['fake'].close()
    shutil.rmtree(work, ignore_errors=True)
    print(f'PASS ({time.monotonic() - started:.1f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
