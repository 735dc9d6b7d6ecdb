#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""siprec-client (tests/tools) against siprec-server: one case per run.

    test_siprec_client.py --server PATH --client PATH --scenarios DIR CASE

Each case starts siprec-server on 127.0.0.1 (port 0, as test_sipp.py does),
runs the client with real speech from pocketsphinx-testdata as fast as it
can (--pace 0), and checks the client's JSON (status, packets, bytes, the
BYE) against what the files and options imply, and the server's log lines
and session file against what the client offered. The server does not
receive the media yet: only signalling and the client's own counts are
checked. Exit 0 passed, 1 failed, 77 skipped (no client built, no test
audio).
"""
import json
import math
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sipp  # noqa: E402
from test_sipp import SKIP, Failure, Skip, check  # noqa: E402

AUDIO = '/usr/share/pocketsphinx/test/data'
GOFORWARD = os.path.join(AUDIO, 'goforward.raw')
NUMBERS = os.path.join(AUDIO, 'numbers.raw')


def packets_in(path, rate=16000):
    """20 ms packets in a raw s16le file (the last one padded)."""
    return math.ceil(os.path.getsize(path) // 2 / (rate // 50))


def stream_arg(label, codec, path, name, aor):
    return f'label={label},codec={codec},file={path},rate=16000,name={name},aor={aor}'


TWO_STREAMS = ['--stream', stream_arg('1', 'g722', GOFORWARD, 'Alice', 'sip:alice@example.com'),
               '--stream', stream_arg('2', 'opus', NUMBERS, 'Bob', 'sip:bob@example.com')]


def run_client(ctx, *args, timeout=30, expect_rc=0):
    """The client against ctx's server; its JSON."""
    if not ctx.args.client or not os.path.exists(ctx.args.client):
        raise Skip('siprec-client was not built')
    for path in (GOFORWARD, NUMBERS):
        if not os.path.exists(path):
            raise Skip(f'{path} missing (Debian package pocketsphinx-testdata)')
    cmd = [ctx.args.client, '--server', f'127.0.0.1:{ctx.server.port}', '--local', '127.0.0.1',
           '--pace', '0'] + list(args)
    started = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f'client still running after {timeout}s: {cmd}')
    ctx.client_seconds = time.monotonic() - started
    if p.returncode != expect_rc:
        print('--- client stderr\n' + p.stderr)
        raise Failure(f'client exit status {p.returncode}, {expect_rc} expected')
    lines = p.stdout.strip().split('\n')
    check(len(lines) == 1, f'client printed {len(lines)} lines, one JSON object expected')
    return json.loads(lines[0])


def check_two_streams(out, srv):
    check(out['status'] == 200, f"status {out['status']}")
    check(out['bye'] == 'sent', f"bye {out['bye']!r}, 'sent' expected")
    st = out['streams']
    check([s['label'] for s in st] == ['1', '2'] and [s['codec'] for s in st] == ['g722', 'opus'],
          f'streams {st}')
    for s, path in zip(st, (GOFORWARD, NUMBERS)):
        want = packets_in(path)
        check(s['packets'] == want and s['lost'] == 0, f'stream {s}: {want} packets expected')
        check(s['bytes'] > 0 and s['dest'] and not s['rejected'], f'stream {s}')
    # G.722 at 64 kbit/s: 160 octets every 20 ms, exactly.
    check(st[0]['bytes'] == 160 * st[0]['packets'], f'G.722 bytes {st[0]["bytes"]}')
    srv.wait_lines(r'^session_ended ')
    sid, ev = test_sipp.only_session(srv)
    test_sipp.check_ended(ev, 'bye', 2)
    check(ev['call_id'] == out['call_id'], f"call ids {ev['call_id']} and {out['call_id']}")
    test_sipp.check_recvonly(ev, ['G722', 'opus'])
    # The client sends to what the answer said.
    check([s['dest'] for s in st] == [f"127.0.0.1:{s['port']}" for s in ev['streams']],
          f"destinations {[s['dest'] for s in st]}, answer ports {[s['port'] for s in ev['streams']]}")
    md = ev['metadata']
    check(md['status'] == 'ok', f"metadata status {md['status']}")
    check([(p['aor'], p['name']) for p in md['participants']] ==
          [('sip:alice@example.com', 'Alice'), ('sip:bob@example.com', 'Bob')],
          f"participants {md['participants']}")
    check([s['participants'] for s in ev['streams']] ==
          [['sip:alice@example.com'], ['sip:bob@example.com']], 'who speaks on each stream')
    return ev


def case_two_streams(ctx):
    srv = ctx.start_server()
    out = run_client(ctx, '--seed', '1', *TWO_STREAMS)
    check_two_streams(out, srv)
    srv.stop()


def case_srtp(ctx):
    srv = ctx.start_server()
    out = run_client(ctx, '--seed', '2', '--srtp', *TWO_STREAMS)
    ev = check_two_streams(out, srv)
    for s in out['streams']:
        check(s['srtp'] and (s['srs_crypto'] or '').split()[1:2] == ['AES_CM_128_HMAC_SHA1_80'],
              f'stream {s}: the answer\'s a=crypto expected')
    check(all(s['srtp'] for s in ev['streams']), f"server streams {ev['streams']}: srtp expected")
    srv.stop()


def case_pause_resume(ctx):
    srv = ctx.start_server()
    out = run_client(ctx, '--seed', '3', '--pause-at', '1', '--resume-at', '2', *TWO_STREAMS)
    check(out['status'] == 200 and out['bye'] == 'sent', f'client {out}')
    # One second of 50 packets not sent on each stream (both are longer than 2 s).
    for s, path in zip(out['streams'], (GOFORWARD, NUMBERS)):
        check(s['packets'] == packets_in(path) - 50, f'stream {s}: a second paused expected')
    srv.wait_lines(r'^session_ended ')
    sid, ev = test_sipp.only_session(srv)
    test_sipp.check_log_of(srv, sid, ['session_started', 'session_updated', 'session_updated',
                                      'session_ended'])
    srv.stop()


def case_deterministic(ctx):
    """The same --seed, the same SSRCs, losses and payload bytes; another seed, others."""
    srv = ctx.start_server()
    runs = []
    for seed in ('11', '11', '12'):
        d = os.path.join(ctx.work, f'run{len(runs)}')
        os.makedirs(d)
        out = run_client(ctx, '--seed', seed, '--loss', '10', '--reorder', '10',
                         '--write-payloads', d, '--write-decoded', d, *TWO_STREAMS)
        check(out['status'] == 200, f'client {out}')
        for s in out['streams']:
            check(s['lost'] > 0 and s['reordered'] > 0, f'stream {s}: losses and swaps expected')
        files = {}
        for s in out['streams']:
            with open(os.path.join(d, s['label'] + '.payloads'), 'rb') as f:
                files[s['label']] = f.read()
        runs.append((out, files, d))
    key = [[(s['ssrc'], s['packets'], s['lost'], s['reordered']) for s in r[0]['streams']]
           for r in runs]
    check(key[0] == key[1], f'same seed, different streams: {key[0]} {key[1]}')
    check(key[0] != key[2], 'another seed, the same SSRCs and losses')
    check(runs[0][0]['call_id'] != runs[1][0]['call_id'], 'two runs with one Call-ID')
    # Each payload file: every packet encoded (sent or lost), 2-octet lengths.
    out, files, d = runs[0]
    for s in out['streams']:
        data, n, pos = files[s['label']], 0, 0
        while pos < len(data):
            length = int.from_bytes(data[pos:pos + 2], 'big')
            check(0 < length <= 1500, f'payload length {length}')
            pos += 2 + length
            n += 1
        check(pos == len(data), 'payload file ends inside a payload')
        check(n == s['packets'] + s['lost'], f"{n} payloads for {s['packets']} sent + {s['lost']} lost")
        # The reference decode: 20 ms a payload at the codec's rate.
        rate = {'g722': 16000, 'opus': 48000}[s['codec']]
        size = os.path.getsize(os.path.join(d, s['label'] + '.raw'))
        check(size == n * rate // 50 * 2, f"decoded {size} octets for {n} payloads at {rate}")
    check(runs[0][1] == runs[1][1], 'same seed, different payload bytes')
    srv.stop()


def case_bye_received(ctx):
    """The SRS hangs up (SIGTERM) in the middle: 200, exit 0, "received"."""
    srv = ctx.start_server()
    if not ctx.args.client or not os.path.exists(ctx.args.client):
        raise Skip('siprec-client was not built')
    cmd = [ctx.args.client, '--server', f'127.0.0.1:{srv.port}', '--pace', '1',
           '--stream', stream_arg('1', 'pcmu', GOFORWARD, 'Alice', 'sip:alice@example.com')]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        srv.wait_lines(r'^session_started ')
        time.sleep(0.5)
        srv.stop()
        stdout, _ = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0, f'client exit status {p.returncode}')
    out = json.loads(stdout)
    check(out['bye'] == 'received' and out['status'] == 200, f'client {out}')
    s = out['streams'][0]
    check(0 < s['packets'] < packets_in(GOFORWARD), f'stream {s}: part of the file sent')


def case_refused(ctx):
    """A 100, then a non-2xx answer: ACKed, exit 1, its status in the JSON."""
    # Every session deferred for a second but refused (503) after 200 ms.
    srv = ctx.start_server('--defer-ms', '1000', '--defer-timeout-ms', '200')
    out = run_client(ctx, *TWO_STREAMS, expect_rc=1)
    check(out['status'] == 503 and out['bye'] is None and 'error' in out, f'client {out}')
    check(all(s['packets'] == 0 for s in out['streams']), 'media sent without a 2xx')
    # The 503 was ACKed: the server retransmits nothing and ends the session.
    srv.wait_lines(r'^session_ended ')
    srv.stop()


def case_no_answer(ctx):
    """Nothing answers: the INVITE is retransmitted for 64*T1, then 408, exit 1."""
    srv = ctx.start_server('--allow', '192.0.2.1/32')  # drops everything from 127.0.0.1
    out = run_client(ctx, '--t1-ms', '20', *TWO_STREAMS, expect_rc=1)
    check(out['status'] == 408 and out['bye'] is None and 'error' in out, f'client {out}')
    check(1.2 <= ctx.client_seconds < 10, f'gave up after {ctx.client_seconds:.1f}s, 1.28 s expected')
    check(all(s['packets'] == 0 for s in out['streams']), 'media sent without an answer')
    srv.stop()


class FakeSrs:
    """A scripted SRS on raw UDP sockets: it answers the client's INVITE,
    then drives the dialog itself and watches where the RTP goes."""

    def __init__(self):
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(('127.0.0.1', 0))
        self.sip.settimeout(5)
        self.port = self.sip.getsockname()[1]
        self.rtp = []
        for _ in range(2):
            r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            r.bind(('127.0.0.1', 0))
            r.setblocking(False)
            self.rtp.append(r)
        self.cseq = 100
        self.peer = None

    def close(self):
        for sock in [self.sip] + self.rtp:
            sock.close()

    def recv(self, want):
        """The next SIP message whose first line starts with want."""
        while True:
            try:
                data, self.peer = self.sip.recvfrom(65536)
            except socket.timeout:
                raise Failure(f'fake SRS: no {want!r} within 5 s')
            text = data.decode(errors='replace')
            if text.startswith(want):
                return text

    @staticmethod
    def header(msg, name):
        for line in msg.split('\r\n\r\n', 1)[0].split('\r\n')[1:]:
            k, _, v = line.partition(':')
            if k.strip().lower() == name.lower():
                return v.strip()
        raise Failure(f'fake SRS: no {name} in {msg[:200]!r}')

    @staticmethod
    def body(msg):
        return msg.split('\r\n\r\n', 1)[1]

    def sdp(self, port, direction):
        return ('v=0\r\no=fake 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
                'm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:1\r\na=%s\r\n'
                % (self.cseq, port, direction))

    def send(self, text):
        self.sip.sendto(text.encode(), self.peer)

    def answer_invite(self, port):
        inv = self.recv('INVITE ')
        check('Require: siprec' in inv and '+sip.src' in self.header(inv, 'Contact'),
              'the INVITE lacks Require: siprec or +sip.src')
        check('application/rs-metadata+xml' in inv and 'a=label:1' in inv, 'INVITE body')
        self.call_id = self.header(inv, 'Call-ID')
        self.client_from = self.header(inv, 'From')
        self.client_uri = self.header(inv, 'Contact').split('<')[1].split('>')[0]
        self.to = self.header(inv, 'To') + ';tag=fakesrs'
        body = self.sdp(port, 'recvonly')
        self.send(f'SIP/2.0 200 OK\r\nVia: {self.header(inv, "Via")}\r\n'
                  f'From: {self.client_from}\r\nTo: {self.to}\r\nCall-ID: {self.call_id}\r\n'
                  f'CSeq: {self.header(inv, "CSeq")}\r\nContact: <sip:srs@127.0.0.1:{self.port}>;+sip.srs\r\n'
                  f'Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}')
        self.recv('ACK ')

    def request(self, method, sdp=None, ack=True):
        """An in-dialog request from the SRS; the client's 2xx (and its ACK)."""
        self.cseq += 1
        branch = f'z9hG4bKfake{self.cseq}'
        ctype = f'Content-Type: application/sdp\r\n' if sdp else ''
        sdp = sdp or ''
        self.send(f'{method} {self.client_uri} SIP/2.0\r\n'
                  f'Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch}\r\n'
                  f'Max-Forwards: 70\r\nFrom: {self.to}\r\nTo: {self.client_from}\r\n'
                  f'Call-ID: {self.call_id}\r\nCSeq: {self.cseq} {method}\r\n'
                  f'Contact: <sip:srs@127.0.0.1:{self.port}>;+sip.srs\r\n'
                  f'{ctype}Content-Length: {len(sdp)}\r\n\r\n{sdp}')
        resp = self.recv('SIP/2.0 ')
        check(resp.startswith('SIP/2.0 200 ') and branch in resp,
              f'{method}: {resp.splitlines()[0]!r}, 200 expected')
        if method == 'INVITE' and ack:
            self.send(f'ACK {self.client_uri} SIP/2.0\r\n'
                      f'Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch}ack\r\n'
                      f'Max-Forwards: 70\r\nFrom: {self.to}\r\nTo: {self.client_from}\r\n'
                      f'Call-ID: {self.call_id}\r\nCSeq: {self.cseq} ACK\r\nContent-Length: 0\r\n\r\n')
        return resp

    def rtp_port(self, i):
        return self.rtp[i].getsockname()[1]

    def drain(self, seconds):
        """RTP packets on each port within seconds, and the marker bits seen."""
        counts, markers = [0, 0], [0, 0]
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for i, r in enumerate(self.rtp):
                while True:
                    try:
                        pkt = r.recv(2048)
                    except BlockingIOError:
                        break
                    counts[i] += 1
                    markers[i] += pkt[1] >> 7
            time.sleep(0.01)
        return counts, markers


def case_srs_reinvite(ctx):
    """A scripted SRS moves the stream to another port by re-INVITE, sets it
    inactive, resumes it by UPDATE, pings it, and hangs up: the RTP follows
    each answer."""
    if not ctx.args.client or not os.path.exists(ctx.args.client):
        raise Skip('siprec-client was not built')
    srs = FakeSrs()
    port_b = srs.rtp_port(1)
    cmd = [ctx.args.client, '--server', f'127.0.0.1:{srs.port}', '--pace', '1', '--seed', '5',
           '--stream', f'label=1,codec=pcmu,file={GOFORWARD},rate=16000']
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        srs.answer_invite(srs.rtp_port(0))
        counts, _ = srs.drain(0.4)
        check(counts[0] >= 10 and counts[1] == 0, f'RTP {counts}: port A only expected')
        resp = srs.request('INVITE', srs.sdp(srs.rtp_port(1), 'recvonly'))
        check('a=sendonly' in srs.body(resp), 'the answer to the move is not sendonly')
        srs.drain(0.1)  # packets already on their way to A
        counts, _ = srs.drain(0.4)
        check(counts[0] == 0 and counts[1] >= 10, f'RTP {counts}: moved to port B expected')
        resp = srs.request('INVITE', srs.sdp(srs.rtp_port(1), 'inactive'))
        check('a=inactive' in srs.body(resp), 'the answer to inactive is not inactive')
        srs.drain(0.1)
        counts, _ = srs.drain(0.4)
        check(counts == [0, 0], f'RTP {counts} while inactive')
        resp = srs.request('UPDATE', srs.sdp(srs.rtp_port(1), 'recvonly'))
        check('a=sendonly' in srs.body(resp), 'the answer to the resume is not sendonly')
        counts, markers = srs.drain(0.4)
        check(counts[1] >= 10 and markers[1] == 1, f'RTP {counts}, markers {markers}: resumed '
              'on B with one marked packet expected')
        srs.request('OPTIONS')
        srs.request('BYE')
        stdout, _ = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        srs.close()
    check(p.returncode == 0, f'client exit status {p.returncode}')
    out = json.loads(stdout)
    check(out['bye'] == 'received' and out['reinvites_answered'] == 2 and
          out['updates_answered'] == 1 and out['options_answered'] == 1, f'client {out}')
    check(out['streams'][0]['dest'] == f'127.0.0.1:{port_b}', f"dest {out['streams'][0]}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith('case_')}


def client_arg(ap):
    ap.add_argument('--client', default='', help='the siprec-client binary ("" skips)')


if __name__ == '__main__':
    sys.exit(test_sipp.main(CASES, __doc__, 'client', client_arg))
