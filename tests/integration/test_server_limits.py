#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""siprec-server against hostile TCP peers (issue 9): one case per run.

    test_server_limits.py --server PATH --scenarios DIR CASE

never_reads   a peer sending OPTIONS nonstop without reading: the server's
              memory stays bounded and the connection is closed
slow_reader   a peer that reads only late gets every answer, in order
slow_conns    half-sent and silent connections from several 127.0.0.x
              addresses: the per-address and total bounds hold, a legit TCP
              call succeeds meanwhile, all are closed at the message timeout
              (one byte now and then does not keep them)
fd_reserve    under a low descriptor limit, a flood of connections leaves
              descriptors for a legit call's session file
allow_accept  a connection from outside --allow is closed when accepted
idle          a connection without traffic and sessions is closed, one
              carrying a session is not (idle_deferred: a deferred one)
nofile        the soft descriptor limit raised; a reserve too large lowered
emfile        without a reserve, EMFILE on accept does not spin the loop
measure_rss, measure_fds
              not tests: the figures of the closing note (see --help)

Servers are started as test_sipp.py starts them (127.0.0.1, port 0, --out);
every socket is on 127.0.0.0/8. Exit 0 passed, 1 failed, 77 skipped.
"""
import os
import re
import resource
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sipp  # noqa: E402
from test_sipp import SKIP, Failure, check  # noqa: E402


def options(n, transport='TCP'):
    return test_sipp.OPTIONS.format(t=transport, n=n).encode()


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise Failure('no VmRSS')


def fd_count(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


def connect_from(src, port, data=b''):
    """A TCP connection from src to the server; data sent at once."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(('127.0.0.1', port))
    if data:
        s.sendall(data)
    return s


def closed_by_peer(sock):
    """Non-zero once the server closed sock (EOF or reset); never blocks."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        sock.setblocking(False)
        return sock.recv(65536) == b''
    except (ConnectionResetError, BrokenPipeError):
        return True
    except BlockingIOError:
        return False


def wait_closed(sock, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if closed_by_peer(sock):
            return True
        time.sleep(0.05)
    return False


def udp_options_ok(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5)
        u.sendto(options(900, 'UDP'), ('127.0.0.1', port))
        return u.recv(65536).startswith(b'SIP/2.0 200 ')


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ----------------------------------------------------------------------
# A peer that never reads

def spam_without_reading(srv, seconds, stop_above_kib):
    """OPTIONS nonstop on one connection, never reading; returns
    (closed after s or None, RSS at start, highest RSS) in KiB."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(('127.0.0.1', srv.port))
    s.settimeout(0.05)
    pid = srv.proc.pid
    start = peak = rss_kib(pid)
    t0 = time.monotonic()
    n, closed = 0, None
    try:
        while time.monotonic() - t0 < seconds:
            batch = b''.join(options(n + i) for i in range(64))
            n += 64
            try:
                s.sendall(batch)
            except socket.timeout:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - t0
                break
            peak = max(peak, rss_kib(pid))
            if peak - start > stop_above_kib:
                break
    finally:
        s.close()
    return closed, start, peak


def case_never_reads(ctx):
    srv = ctx.start_server('--tcp-write-timeout-ms', '1500')
    closed, start, peak = spam_without_reading(srv, 8, 64 * 1024)
    print(f'RSS {start} KiB -> at most {peak} KiB; closed after {closed} s')
    check(peak - start < 64 * 1024, f'RSS grew {peak - start} KiB under a peer that never reads')
    check(closed is not None, 'the connection of a peer that never reads stayed open 8 s')
    check(udp_options_ok(srv.port), 'no answer after the never-reading peer')
    srv.stop()


def read_answer(sock, n, what):
    """Everything sock receives up to the end of the answer to options(n)."""
    chunks, tail = [], b''
    end = re.compile(rb'Call-ID: frame-%d@[^\r]*\r\n(?:[^\r]+\r\n)*\r\n' % n)
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            chunk = b''
        check(chunk, f'closed before {what}')
        chunks.append(chunk)
        # Only the newest bytes can end it: a response is under 4 KiB.
        tail = (tail + chunk)[-8192:]
        if end.search(tail):
            return b''.join(chunks)


def case_slow_reader(ctx):
    """A peer that reads late, not never: paused, resumed, every request
    answered in order, the connection kept."""
    srv = ctx.start_server('--tcp-max-queue', '65536', '--tcp-write-timeout-ms', '5000')
    count = 20000
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(('127.0.0.1', srv.port))
    sender = threading.Thread(target=s.sendall, daemon=True,
                              args=(b''.join(options(i) for i in range(count)),))
    sender.start()
    time.sleep(1.5)  # nothing read: the server's queue fills and it pauses
    s.settimeout(10)
    got = read_answer(s, count - 1, 'answers')
    sender.join(5)
    ids = [int(x) for x in re.findall(rb'Call-ID: frame-(\d+)@', got)]
    check(ids == list(range(count)), f'{len(ids)} answers, not the {count} requests in order')
    s.sendall(options(count))
    read_answer(s, count, 'an answer after the late read')
    s.close()
    srv.stop()


def case_measure_rss(ctx):
    """RSS under one never-reading OPTIONS-spamming peer, default flags."""
    srv = ctx.start_server()
    closed, start, peak = spam_without_reading(srv, ctx.args.seconds, 1 << 30)
    end = rss_kib(srv.proc.pid)
    print(f'measure_rss: {ctx.args.seconds} s: VmRSS start {start} KiB, peak {peak} KiB, '
          f'end {end} KiB; connection closed after {closed} s')
    srv.stop()


# ----------------------------------------------------------------------
# Connections without limits

PARTIAL = b'OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999\r\n'


def open_many(srcs, per_src, port):
    """per_src connections from each address, half of them half-sending a
    request and half silent; {src: [socket]}."""
    socks = {}
    for src in srcs:
        socks[src] = [connect_from(src, port, PARTIAL if i % 2 else b'') for i in range(per_src)]
    return socks


def held(socks, settle=0.0, at_most=None):
    """How many of socks the server still holds, by address: after `settle`
    s, or once no address has more than at_most (at most 3 s: a loaded
    machine may take a while to accept and refuse them all)."""
    time.sleep(settle)
    deadline = time.monotonic() + 3
    while True:
        got = {src: sum(1 for s in ss if not closed_by_peer(s)) for src, ss in socks.items()}
        if at_most is None or max(got.values()) <= at_most or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def settled_fds(pid):
    """The server's descriptor count once two samples 0.2 s apart agree."""
    last = fd_count(pid)
    for _ in range(25):
        time.sleep(0.2)
        now = fd_count(pid)
        if now == last:
            return now
        last = now
    return last


def trickle(socks):
    """One more byte on every half-sent connection still open."""
    for ss in socks.values():
        for i, s in enumerate(ss):
            if i % 2:
                try:
                    s.send(b'X')
                except OSError:
                    pass


def close_all(socks):
    for ss in socks.values():
        for s in ss:
            s.close()


def case_slow_conns(ctx):
    srv = ctx.start_server('--tcp-message-timeout-ms', '5000', '--tcp-max-conns', '70',
                           '--tcp-max-conns-per-ip', '20')
    base = fd_count(srv.proc.pid)
    t0 = time.monotonic()
    first = open_many(['127.0.0.2', '127.0.0.3', '127.0.0.4'], 25, srv.port)
    got = held(first, 0.2, 20)
    check(all(n == 20 for n in got.values()), f'held by address {got}: 20 each expected '
          '(--tcp-max-conns-per-ip 20)')
    # A legit call over TCP meanwhile.
    ctx.sipp('acme-call.xml', transport='t1').wait()
    srv.wait_lines(r'^session_ended ')
    test_sipp.check_ended(test_sipp.only_session(srv)[1], 'bye', 2)
    time.sleep(0.3)  # sipp's connection closed
    trickle(first)
    second = open_many(['127.0.0.5'], 25, srv.port)
    got2 = held(second, 0.2, 10)['127.0.0.5']
    total = sum(held(first).values()) + got2
    print(f'held: {got}, then {got2} more from 127.0.0.5, {total} in all, after '
          f'{time.monotonic() - t0:.1f} s; server fds {fd_count(srv.proc.pid)} (base {base})')
    check(got2 == 10 and total == 70, f'{total} held ({got2} from 127.0.0.5): 70 expected '
          '(--tcp-max-conns 70)')
    # A byte now and then does not keep a message open past its timeout.
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and (sum(held(first).values()) +
                                           sum(held(second).values())):
        trickle(first)
        trickle(second)
        time.sleep(0.25)
    left = sum(held(first).values()) + sum(held(second).values())
    took = time.monotonic() - t0
    print(f'all closed after {took:.1f} s; server fds {fd_count(srv.proc.pid)}')
    check(left == 0, f'{left} half-sent or silent connections still open {took:.1f} s on '
          '(--tcp-message-timeout-ms 5000)')
    check(settled_fds(srv.proc.pid) <= base, f'server holds {fd_count(srv.proc.pid)} descriptors, '
          f'{base} before')
    close_all(first)
    close_all(second)
    srv.stop()


def case_fd_reserve(ctx):
    # 64 descriptors; the flood may take all but 16 of them.
    srv = ctx.start_server('--fd-reserve', '16', '--tcp-max-conns-per-ip', '10', nofile=64)
    raise_nofile()
    flood = open_many([f'127.0.0.{i}' for i in range(2, 12)], 10, srv.port)
    fds = settled_fds(srv.proc.pid)
    got = sum(held(flood).values())
    print(f'flood: {got} of 100 connections held, server fds {fds} of 64')
    check(fds <= 64 - 16, f'server at {fds} descriptors: the reserve of 16 is gone')
    ctx.sipp('acme-call.xml').wait()
    srv.wait_lines(r'^session_ended ')
    test_sipp.check_ended(test_sipp.only_session(srv)[1], 'bye', 2)
    close_all(flood)
    srv.stop()


def case_nofile(ctx):
    """The soft descriptor limit raised to the hard one; a reserve larger
    than half of it lowered, not refusing every connection."""
    srv = ctx.start_server(nofile=(32, 48))
    with open(f'/proc/{srv.proc.pid}/limits') as f:
        line = next(l for l in f if l.startswith('Max open files'))
    check(line.split()[3:5] == ['48', '48'], f'{line.strip()}: 48 48 expected')
    with connect_from('127.0.0.1', srv.port, options(1)) as c:
        c.settimeout(5)
        check(c.recv(65536).startswith(b'SIP/2.0 200 '), 'no 200 on TCP with the default '
              '--fd-reserve under 48 descriptors')
    with open(srv.err_path) as f:
        check('--fd-reserve 64 lowered to 24' in f.read(), 'the lowered reserve is not said')
    srv.stop()


def cpu_seconds(pid):
    fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def case_emfile(ctx):
    """Without a reserve, accept fails with EMFILE: the loop must not spin
    on the pending connections (libuv accepts and closes them on a spare
    descriptor) and UDP is still served."""
    srv = ctx.start_server('--fd-reserve', '0', '--tcp-max-conns', '0',
                           '--tcp-max-conns-per-ip', '0', nofile=40)
    raise_nofile()
    flood = open_many([f'127.0.0.{i}' for i in range(2, 8)], 15, srv.port)
    fds = settled_fds(srv.proc.pid)
    c0 = cpu_seconds(srv.proc.pid)
    time.sleep(2)
    used = cpu_seconds(srv.proc.pid) - c0
    print(f'{fds} descriptors of 40; {used:.2f} s of CPU in 2 s')
    check(fds >= 38, f'{fds} descriptors: the flood should have taken them all')
    check(used < 0.5, f'{used:.2f} s of CPU in 2 s at EMFILE: the loop spins')
    check(udp_options_ok(srv.port), 'no UDP answer at EMFILE')
    close_all(flood)
    srv.stop()


def slow_flood(port, total, sources, seconds, interval, pid):
    """total half-sent connections from `sources` addresses, one more byte
    on each every `interval` s; the server's descriptors sampled."""
    raise_nofile()
    srcs = [f'127.0.1.{i + 1}' for i in range(sources)]
    socks = {src: [] for src in srcs}
    t0 = time.monotonic()
    for i in range(total):
        src = srcs[i % sources]
        try:
            socks[src].append(connect_from(src, port, b'O'))
        except OSError as e:
            print(f'connect {i}: {e}')
    samples = []
    next_byte = time.monotonic() + interval
    while time.monotonic() - t0 < seconds:
        samples.append((round(time.monotonic() - t0, 1), fd_count(pid), rss_kib(pid)))
        if time.monotonic() >= next_byte:
            for ss in socks.values():
                for s in ss:
                    try:
                        s.send(b'P')
                    except OSError:
                        pass
            next_byte += interval
        time.sleep(1)
    close_all(socks)
    return samples


def case_measure_fds(ctx):
    """Descriptors held under 1,000 slow half-sent connections."""
    srv = ctx.start_server()
    base = fd_count(srv.proc.pid)
    samples = slow_flood(srv.port, 1000, ctx.args.sources, ctx.args.seconds, 5, srv.proc.pid)
    print(f'measure_fds: base {base}; 1000 connections from {ctx.args.sources} address(es), '
          f'a byte each every 5 s; (s, fds, VmRSS KiB): {samples[::3]}')
    srv.stop()


# ----------------------------------------------------------------------
# --allow at accept, idle connections

def case_allow_accept(ctx):
    srv = ctx.start_server('--allow', '127.0.0.1/32')
    with connect_from('127.0.0.2', srv.port) as out:
        check(wait_closed(out, 2), 'a connection from outside --allow stayed open 2 s')
    with connect_from('127.0.0.1', srv.port, options(1)) as ok:
        ok.settimeout(5)
        check(ok.recv(65536).startswith(b'SIP/2.0 200 '), 'no 200 on an allowed connection')
    srv.stop()


def case_idle(ctx, *more):
    srv = ctx.start_server('--tcp-idle-timeout-ms', '800', *more)
    s = ctx.sipp('wait-bye.xml', transport='t1', extra=['-key', 'se', '1800'])
    srv.wait_lines(r'^session_started ')
    with connect_from('127.0.0.1', srv.port, options(1)) as idle:
        idle.settimeout(5)
        check(idle.recv(65536).startswith(b'SIP/2.0 200 '), 'no 200 to the OPTIONS')
        t0 = time.monotonic()
        check(wait_closed(idle, 3), 'an idle connection stayed open 3 s '
              '(--tcp-idle-timeout-ms 800)')
        print(f'idle connection closed after {time.monotonic() - t0:.1f} s')
    time.sleep(1)  # the session's connection is as idle, and must stay
    srv.stop()
    s.wait()  # sipp passes only when it got the BYE on its connection
    test_sipp.check_ended(test_sipp.only_session(srv)[1], 'shutdown', 2)


def case_idle_deferred(ctx):
    """The same, the session accepted later (not while its INVITE is read)."""
    case_idle(ctx, '--defer-ms', '300')


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith('case_')}


def options_of_measures(ap):
    ap.add_argument('--seconds', type=int, default=10, help='measure_*: how long')
    ap.add_argument('--sources', type=int, default=1, help='measure_fds: source addresses')


def main():
    if not sys.platform.startswith('linux'):
        print('SKIP: reads /proc')
        return SKIP
    return test_sipp.main(CASES, __doc__, 'limits', options_of_measures)


if __name__ == '__main__':
    sys.exit(main())
