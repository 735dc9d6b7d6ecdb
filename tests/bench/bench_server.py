#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench_server: how many two-stream G.711 calls examples/siprec-server
holds on one core, and what a packet costs it against a bare receiver.

tests/bench/loadgen places N concurrent SIPREC calls over UDP on 127.0.0.1
(INVITE with SDP and rs-metadata, ACK, 20 ms PCMU RTP on both streams at
real-time pace, BYE), pinned to its own core (--gen-cpu) under SCHED_FIFO so
that other work cannot make it late; siprec-server runs pinned to another
core (--server-cpu) with recording on (when its --help offers it) and
counters served at --metrics. N is stepped up (--steps); each step is a
fresh server, the calls set up at --rate per second, then held --hold
seconds. Over the hold it reads the server's media counters (COUNTERS below,
over HTTP), the kernel's UDP RcvbufErrors (/proc/net/snmp) and the CPU time
of the server's loop thread and of the whole server (/proc/PID/task/*/schedstat).

A step holds when every call was answered, the generator sent its packets
on time (at most 1 in 100 late: on_time()), at most 1 packet in 100,000 was
lost, late or dropped (the server's lost + late + latching drops, or the
kernel's receive-buffer drops when more) and the loop thread used under
90 % of a core. A stall of the generator's own of 20 ms or more (a shared
machine's noise) is shown (gen_max_lag) and named in a step that lost
packets; a round of server-vs-recvmmsg counts under the same rule. The
ladder stops at the first step that misses (run once more before it
counts, --retry).

  calls-held           the largest N held: goal >= 1,000 (the first missing
                       step's reason is the next bottleneck)
  server-vs-recvmmsg   at that N, the server's CPU per packet against
                       tests/bench/recvmmsg_baseline (epoll + recvmmsg over
                       the same number of sockets, RTP headers parsed) fed the
                       same RTP by loadgen --no-sip: goal <= 1.5x; interleaved
                       rounds (--reps), the median ratio with its spread
  calls-held-srtp      the ladder again with SRTP (SDES
                       AES_CM_128_HMAC_SHA1_80): goal >= 0.6 of calls-held

CPU per packet is CPU time over the hold divided by the packets the
generator sent in it (its own count at the hold's edges, exact; the
server's counters may be rendered on a timer). Prints `step ...` lines, then
`target NAME: VALUE (goal ...) met|missed [...]` or `target NAME: skipped
(why)`. Every process it starts is stopped before it exits. See
docs/performance.md ("bench_server")."""

import argparse
import atexit
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

# The server's counters, by role: the names /metrics gives them, a bare name
# summed over every label set, NAME{label="value"} that one sample. Adjust
# here when the names change (examples/server/metrics_siprec.c).
COUNTERS = {
    "packets": "siprec_rtp_packets_total",
    "lost": "siprec_rtp_packets_lost_total",
    "late": 'siprec_rtp_packets_dropped_total{reason="late"}',
    "latch_drops": 'siprec_rtp_packets_dropped_total{reason="latching"}',
}
# How old the snapshot served was (a gauge, read as is). /metrics renders at
# most once a second and serves the last rendering in between, so a reading
# stands for the counters up to that long before it; older means the loop
# did not come to render within the second /metrics waits for it.
AGE = "siprec_metrics_snapshot_age_seconds"
AGE_LIMIT = 1.5
# siprec-server flags used when its --help names them: the counters' address,
# and where recordings go (the first one its --help lists).
METRICS_FLAG = "--metrics"
RECORD_FLAGS = ["--out"]

LOSS_LIMIT = 1e-5   # lost + late per packet
LOOP_LIMIT = 0.90   # of one core
CALLS_GOAL = 1000
RATIO_GOAL = 1.5
SRTP_GOAL = 0.6
PORTS_PER_CALL = 4  # two streams, each an even RTP port and its RTCP port

HERE = os.path.dirname(os.path.abspath(__file__))
# meson writes this file into the build directory with the programs' paths;
# run from the source tree, it looks in ROOT/build.
PATHS = {
    "server": "@BENCH_SERVER_BIN@",
    "loadgen": "@BENCH_LOADGEN_BIN@",
    "baseline": "@BENCH_BASELINE_BIN@",
}
FALLBACK = {
    "server": os.path.join("examples", "siprec-server"),
    "loadgen": os.path.join("tests", "bench", "loadgen"),
    "baseline": os.path.join("tests", "bench", "recvmmsg_baseline"),
}

children = []


def log(msg):
    print(msg, flush=True)


def note(msg):
    print("# " + msg, flush=True)


def cleanup():
    for p in children:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(cleanup)


def default_path(role):
    p = PATHS[role]
    if not p.startswith("@"):
        return p
    root = os.path.dirname(os.path.dirname(HERE))
    return os.path.join(root, "build", FALLBACK[role])


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------
# Readings


def cpu_ns(pid):
    """(loop thread, whole process) CPU time in ns from schedstat."""
    def one(path):
        with open(path) as f:
            return int(f.read().split()[0])
    loop = one("/proc/%d/task/%d/schedstat" % (pid, pid))
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            total += one("/proc/%d/task/%s/schedstat" % (pid, tid))
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended between the listing and the read
    return loop, total


def rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    head, vals = rows[0], rows[1]
    return int(vals[head.index("RcvbufErrors")])


def socket_drops(pid):
    """Datagrams the kernel dropped on the UDP sockets of process pid (the
    drops column of /proc/net/udp: a full receive buffer, mostly). The
    RcvbufErrors of /proc/net/snmp count every process's sockets, and other
    work on the machine may overflow its own."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if len(cols) >= 13 and cols[9] in inodes:
                        drops += int(cols[-1])
        except OSError:
            pass
    return drops


def on_time(summary):
    """Did the generator send its packets on time over the hold: at most 1 in
    100 late? (Its pace_ok also wants no stall of 20 ms or more; a stall
    alone, on a shared machine, bunches at most that 1 % of the packets
    and changes neither what the server is offered nor, measurably, what a
    packet costs it: it is shown, and explains a step that lost packets.)"""
    return bool(summary) and summary.get("hold_packets", 0) > 0 and \
        summary["hold_late_packets"] * 100 <= summary["hold_packets"]


def read_counters(url):
    """{role: value} of COUNTERS from Prometheus text; a role whose metric is
    absent is missing from the result. None when /metrics cannot be read."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    by_name = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)", line)
        if not m:
            continue
        try:
            v = float(m.group(3))
        except ValueError:
            continue
        by_name[m.group(1)] = by_name.get(m.group(1), 0.0) + v
        if m.group(2):
            key = m.group(1) + m.group(2)
            by_name[key] = by_name.get(key, 0.0) + v
    out = {role: by_name[name] for role, name in COUNTERS.items() if name in by_name}
    if AGE in by_name:
        out["age"] = by_name[AGE]
    return out


class Reading:
    def __init__(self, pid, metrics_url, gen_line):
        self.t = time.monotonic()
        self.loop_ns, self.total_ns = cpu_ns(pid)
        self.rcvbuf = rcvbuf_errors()
        self.drops = socket_drops(pid)
        self.counters = read_counters(metrics_url) if metrics_url else None
        m = re.search(r"\bsent=(\d+)", gen_line)
        self.sent = int(m.group(1)) if m else 0


# ---------------------------------------------------------------------------
# Processes


def start(cmd, cpu, stdout, stderr=None, rt=0):
    prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
    if rt:
        prefix += ["chrt", "-f", str(rt)]
    p = subprocess.Popen(prefix + cmd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                         text=True)
    children.append(p)
    return p


def stop(p, sig=signal.SIGTERM, wait=15):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    children.remove(p)


def wait_for_line(path, text, proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path) as f:
            if text in f.read():
                return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def run_loadgen(args, cmd, on_up, on_held, timeout):
    """Run loadgen to its end; on_up/on_held(line) at its phase lines.
    Returns (summary dict or None, stderr text)."""
    errf = tempfile.TemporaryFile(mode="w+")
    p = start(cmd, args.gen_cpu, subprocess.PIPE, errf, rt=0)
    timer = threading.Timer(timeout, lambda: p.poll() is None and p.kill())
    timer.start()
    summary = None
    try:
        for line in p.stdout:
            if line.startswith("# up"):
                on_up(line)
            elif line.startswith("# held"):
                on_held(line)
            elif line.startswith("{"):
                try:
                    summary = json.loads(line)
                except ValueError:
                    pass
        p.wait()
    finally:
        timer.cancel()
        stop(p)
    errf.seek(0)
    err = errf.read()
    errf.close()
    return summary, err


def loadgen_cmd(args, calls, hold):
    cmd = [args.loadgen, "--calls", str(calls), "--rate", str(args.rate), "--hold", str(hold),
           "--per-socket", str(args.per_socket), "--cpu", str(args.gen_cpu)]
    if args.gen_rt:
        cmd += ["--rt", str(args.gen_rt)]
    return cmd


def loadgen_timeout(args, calls, hold):
    ramp = calls / args.rate
    return 2 * ramp + hold + 32 + 10 + 30


# ---------------------------------------------------------------------------
# One step against the server


class Step:
    """What one run measured."""

    def __init__(self, calls, srtp):
        self.calls, self.srtp = calls, srtp
        self.ok, self.why, self.judged, self.gen_ok = False, "", False, False
        self.loss = self.loop = self.total = self.ns_per_pkt = self.received = None
        self.retry = False  # a miss worth running again (not a missing feature)
        self.detail = ""


def server_cmd(args, sip_port, metrics_port, out_dir):
    cmd = [args.server, "--listen", "127.0.0.1:%d" % sip_port, "--media-address", "127.0.0.1",
           "--rtp-ports", args.rtp_ports, "--session-expires", "0",
           "--max-pending-per-source", "0"]
    if args.record_flag:
        cmd += [args.record_flag, out_dir]
    if args.has_metrics:
        cmd += [METRICS_FLAG, "127.0.0.1:%d" % metrics_port]
    return cmd + args.server_arg


def run_server(args, calls, srtp, hold):
    st = Step(calls, srtp)
    work = tempfile.mkdtemp(prefix="bench_server.")
    try:
        return measure_server(args, st, work, hold)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure_server(args, st, work, hold):
    sip_port = free_port(socket.SOCK_DGRAM)
    metrics_port = free_port(socket.SOCK_STREAM)
    out_path = os.path.join(work, "server.out")
    out_dir = os.path.join(work, "rec")
    os.mkdir(out_dir)
    with open(out_path, "w") as out, open(os.path.join(work, "server.err"), "w") as err:
        srv = start(server_cmd(args, sip_port, metrics_port, out_dir), args.server_cpu, out, err)
    try:
        if not wait_for_line(out_path, "ready", srv, 10):
            st.why = "siprec-server did not start (see its stderr)"
            with open(os.path.join(work, "server.err")) as f:
                note("server stderr: " + f.read().strip()[-500:])
            return st
        url = "http://127.0.0.1:%d/metrics" % metrics_port if args.has_metrics else None
        marks = {}
        cmd = loadgen_cmd(args, st.calls, hold) + ["--server", "127.0.0.1:%d" % sip_port]
        if st.srtp:
            cmd.append("--srtp")
        summary, err = run_loadgen(
            args, cmd, lambda line: marks.__setitem__("up", Reading(srv.pid, url, line)),
            lambda line: marks.__setitem__("held", Reading(srv.pid, url, line)),
            loadgen_timeout(args, st.calls, hold))
        alive = srv.poll() is None
    finally:
        stop(srv)
    if not alive:
        with open(os.path.join(work, "server.err")) as f:
            note("siprec-server exited with %s: %s" % (srv.returncode, f.read().strip()[-800:]))
    if err.strip() and (args.verbose or not summary):
        note("loadgen stderr: " + err.strip()[-500:])
    judge_server(st, summary, marks, alive)
    return st


def judge_server(st, s, marks, alive):
    if not s or "up" not in marks or "held" not in marks:
        st.why = "the generator did not finish its hold"
        return
    if not alive:
        st.why = "siprec-server died"
        return
    a, b = marks["up"], marks["held"]
    wall = b.t - a.t
    sent = b.sent - a.sent
    st.gen_ok = on_time(s)
    st.loop = (b.loop_ns - a.loop_ns) / 1e9 / wall
    st.total = (b.total_ns - a.total_ns) / 1e9 / wall
    st.ns_per_pkt = (b.total_ns - a.total_ns) / sent if sent else None
    rcvbuf = b.rcvbuf - a.rcvbuf
    drops = b.drops - a.drops
    parts = ["answered=%d/%d" % (s["answered"], st.calls), "sent=%d" % sent,
             "loop=%.1f%%" % (100 * st.loop), "server=%.1f%%" % (100 * st.total),
             "cpu/pkt=%s" % ("%.0fns" % st.ns_per_pkt if st.ns_per_pkt else "-"),
             "socket_drops=%d rcvbuf_errors=%d" % (drops, rcvbuf),
             "gen_late=%d gen_max_lag=%.1fms gen_cpu=%.0f%%" % (
                 s["hold_late_packets"], s["hold_max_lag_ms"], 100 * s["hold_cpu_share"])]
    have = a.counters is not None and b.counters is not None and "packets" in b.counters
    age0 = age1 = 0.0
    expected = sent
    if have:
        d = {k: b.counters.get(k, 0) - a.counters.get(k, 0) for k in COUNTERS}
        bad = d["lost"] + d["late"] + d["latch_drops"]
        st.received = d["packets"]
        # The fewest packets the two snapshots can have counted: those sent
        # over the hold but for the last snapshot's age, at the hold's rate.
        # (The first snapshot's age only adds packets, sent while the calls
        # were still being set up, at a rate unknown here.)
        age0, age1 = a.counters.get("age", 0.0), b.counters.get("age", 0.0)
        expected = sent - sent / wall * age1 if wall > 0 else sent
        st.loss = max(bad, drops) / max(1, sent)
        parts += ["received=%d lost=%d late=%d latch_drops=%d" % (
            d["packets"], d["lost"], d["late"], d["latch_drops"]), "loss=%.2g" % st.loss,
            "metrics_age=%.2f/%.2fs" % (age0, age1)]
        missing = [COUNTERS[k] for k in COUNTERS if k not in b.counters]
        if missing:
            parts.append("(not in /metrics: %s)" % ", ".join(missing))
    st.detail = " ".join(parts)
    if s["answered"] != st.calls:
        st.why = "%d of %d calls answered (last failure %d, %d setup timeouts)" % (
            s["answered"], st.calls, s["last_fail_status"], s["setup_timeouts"])
    elif s["streams_declined"]:
        st.why = "%d streams declined" % s["streams_declined"]
    elif not st.gen_ok:
        st.why = "the generator could not keep pace (its limit, not the server's)"
    elif not have:
        st.why = "no media counters (%s)" % ("no --metrics" if a.counters is None
                                             else COUNTERS["packets"] + " not served")
    elif max(age0, age1) > AGE_LIMIT or st.received < 0.99 * expected:
        # /metrics serves its last snapshot when the loop does not render a
        # new one within a second: counters that did not move say nothing
        # of the loss between the two readings.
        st.why = ("stale counters: %d packets counted of at least %.0f sent between the "
                  "snapshots (ages %.2f s and %.2f s; a loop busier than /metrics waits)" % (
                      st.received, expected, age0, age1))
    elif st.loss > LOSS_LIMIT:
        st.why = "loss %.2g > %g" % (st.loss, LOSS_LIMIT)
        if not s.get("pace_ok"):
            st.why += (" after the generator stalled for up to %.1f ms (its limit, perhaps, "
                       "not the server's)" % s["hold_max_lag_ms"])
    elif st.loop >= LOOP_LIMIT:
        st.why = "loop at %.1f%% of a core" % (100 * st.loop)
    else:
        st.ok = True
    st.retry = not st.ok and (have or s["answered"] != st.calls)
    st.judged = have


# ---------------------------------------------------------------------------
# One run of the bare receiver


def run_baseline(args, calls, hold):
    """CPU ns per packet of recvmmsg_baseline fed loadgen --no-sip; None when
    it failed (and why)."""
    n = calls * 2
    lo = args.baseline_port
    if lo + n - 1 > 65535:
        return None, "no room for %d ports from %d" % (n, lo)
    p = start([args.baseline, "--ports", "%d-%d" % (lo, lo + n - 1), "--seconds",
               str(int(loadgen_timeout(args, calls, hold)) + 60)], args.server_cpu, subprocess.PIPE)
    marks = {}
    lines = []
    reader = threading.Thread(target=lambda: [lines.append(x) for x in p.stdout], daemon=True)
    reader.start()

    def snap(key, line):
        want = sum(1 for x in lines if x.startswith("snapshot")) + 1
        loop, total = cpu_ns(p.pid)
        p.send_signal(signal.SIGUSR1)
        end = time.monotonic() + 5
        while time.monotonic() < end and sum(1 for x in lines if x.startswith("snapshot")) < want:
            time.sleep(0.005)
        m = re.search(r"\bsent=(\d+)", line)
        marks[key] = (time.monotonic(), total, int(m.group(1)) if m else 0, rcvbuf_errors())

    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not any(x.startswith("ready") for x in lines):
            if p.poll() is not None:
                return None, "recvmmsg_baseline did not start"
            time.sleep(0.02)
        cmd = loadgen_cmd(args, calls, hold) + ["--no-sip", "--dest", "127.0.0.1:%d" % lo]
        summary, err = run_loadgen(args, cmd, lambda l: snap("up", l),
                                   lambda l: snap("held", l), loadgen_timeout(args, calls, hold))
        if not summary:
            note("loadgen stderr: " + err.strip()[-500:])
    finally:
        stop(p)
        reader.join(5)
    if not summary or "up" not in marks or "held" not in marks:
        return None, "the generator did not finish"
    if not on_time(summary):
        return None, "the generator could not keep pace"
    (t0, c0, s0, r0), (t1, c1, s1, r1) = marks["up"], marks["held"]
    snaps = [x for x in lines if x.startswith("snapshot")]
    pk = [int(re.search(r"packets=(\d+)", x).group(1)) for x in snaps[-2:]]
    received = pk[1] - pk[0] if len(pk) == 2 else -1
    note("baseline %d calls: sent=%d received=%d rcvbuf_errors=%d cpu=%.1f%% cpu/pkt=%.0fns" % (
        calls, s1 - s0, received, r1 - r0, 100 * (c1 - c0) / 1e9 / (t1 - t0),
        (c1 - c0) / max(1, s1 - s0)))
    return (c1 - c0) / max(1, s1 - s0), None


# ---------------------------------------------------------------------------
# The ladder and the verdicts


def verdict(name, value, fmt, unit, at_most, goal_text, goal, detail):
    """One line in bench_media's format; the value is judged as printed."""
    shown = float(fmt % value)
    met = shown <= goal if at_most else shown >= goal
    log("target %s: %s%s (goal %s %s) %s  [%s]" % (
        name, fmt % value, unit, "<=" if at_most else ">=", goal_text,
        "met" if met else "missed", detail))


def ladder(args, srtp):
    """(largest N held or 0, the first step that missed or None, all judged)."""
    held, first_miss, judged = 0, None, True
    for n in args.steps:
        st = None
        for attempt in range(1 + args.retry):
            st = run_server(args, n, srtp, args.hold)
            log("step %s calls=%d %s: %s%s" % ("srtp" if srtp else "plain", n,
                                               "held" if st.ok else "missed", st.detail,
                                               "" if st.ok else " (%s)" % st.why))
            if st.ok or not st.retry:
                break  # held, or a miss that would miss again
        judged = judged and st.judged
        if not st.ok:
            first_miss = st
            break
        held = n
    return held, first_miss, judged


def miss_text(st):
    return "next: %d calls missed on %s" % (st.calls, st.why) if st else \
        "every step held: more calls need larger --steps"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="steps 100, 500, 1000, 10 s holds, one round for the ratio")
    ap.add_argument("--hold", type=int, help="seconds each step is held (default 60, quick 10)")
    ap.add_argument("--steps", help="comma-separated call counts")
    ap.add_argument("--rate", type=int, default=200, help="call setups per second (200)")
    ap.add_argument("--retry", type=int, default=1, help="re-runs of a missing step (1)")
    ap.add_argument("--reps", type=int, help="rounds of server-vs-recvmmsg (5, quick 1)")
    ap.add_argument("--ratio-hold", type=int, help="seconds per round (default --hold, <= 20)")
    ap.add_argument("--ratio-calls", type=int, help="N for server-vs-recvmmsg (default calls-held)")
    ap.add_argument("--server", default=default_path("server"))
    ap.add_argument("--loadgen", default=default_path("loadgen"))
    ap.add_argument("--baseline", default=default_path("baseline"))
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--gen-cpu", type=int, default=1)
    ap.add_argument("--gen-rt", type=int, default=10,
                    help="the generator's SCHED_FIFO priority (0: none)")
    ap.add_argument("--per-socket", type=int, default=1, help="loadgen --per-socket")
    ap.add_argument("--rtp-ports", default="20000-39999", help="the server's --rtp-ports")
    ap.add_argument("--baseline-port", type=int, default=40000)
    ap.add_argument("--server-arg", action="append", default=[],
                    help="one more argument for siprec-server (repeatable)")
    ap.add_argument("--no-srtp", action="store_true", help="skip calls-held-srtp")
    ap.add_argument("--no-baseline", action="store_true", help="skip server-vs-recvmmsg")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    args.hold = args.hold or (10 if args.quick else 60)
    args.reps = args.reps or (1 if args.quick else 5)
    args.ratio_hold = args.ratio_hold or min(args.hold, 20)
    if args.steps:
        args.steps = [int(x) for x in args.steps.split(",")]
    else:
        args.steps = [100, 500, 1000] if args.quick else \
            [100, 250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000]
    lo, _, hi = args.rtp_ports.partition("-")
    room = (int(hi) - int(lo) + 1) // PORTS_PER_CALL
    if max(args.steps) > room:
        note("--rtp-ports %s holds %d calls: steps above it dropped" % (args.rtp_ports, room))
        args.steps = [n for n in args.steps if n <= room]

    for role in ("server", "loadgen", "baseline"):
        path = getattr(args, role)
        if not os.access(path, os.X_OK):
            log("bench_server: %s not found at %s" % (role, path))
            for name in ("calls-held", "server-vs-recvmmsg", "calls-held-srtp"):
                log("target %s: skipped (%s not built)" % (name, os.path.basename(path)))
            return 0
    helptext = subprocess.run([args.server, "--help"], capture_output=True, text=True).stdout
    args.has_metrics = METRICS_FLAG in helptext
    args.record_flag = next((f for f in RECORD_FLAGS if re.search(re.escape(f) + r"\b", helptext)),
                            None)
    if args.gen_rt and os.geteuid() != 0:
        note("not root: the generator runs without SCHED_FIFO (other work may make it late)")
        args.gen_rt = 0
    lg_help = subprocess.run([args.loadgen, "--help"], capture_output=True, text=True).stdout
    with open("/proc/loadavg") as f:
        note("load average before: " + f.read().strip())
    note("server %s (cpu %d), loadgen (cpu %d, SCHED_FIFO %d), %d calls/s, hold %d s" % (
        args.server, args.server_cpu, args.gen_cpu, args.gen_rt, args.rate, args.hold))
    if not args.has_metrics:
        note("siprec-server --help has no %s: losses cannot be read, targets skipped" %
             METRICS_FLAG)
    note("recording flag: %s" % (args.record_flag or "none in --help (not recording)"))

    held, miss, judged = ladder(args, srtp=False)
    if not judged:
        log("target calls-held: skipped (%s)" % (miss.why if miss else "no media counters"))
    else:
        verdict("calls-held", held, "%d", "", False, "1,000", CALLS_GOAL,
                "%s; loss <= %g, loop < %d%% of a core, %d s holds" % (
                    miss_text(miss), LOSS_LIMIT, 100 * LOOP_LIMIT, args.hold))

    n = args.ratio_calls or (held if judged else 0)
    if args.no_baseline:
        log("target server-vs-recvmmsg: skipped (--no-baseline)")
    elif not n:
        log("target server-vs-recvmmsg: skipped (%s)" % (
            "no step held" if judged else "calls-held has no figure"))
    else:
        ratio_rounds(args, n)

    if args.no_srtp:
        log("target calls-held-srtp: skipped (--no-srtp)")
    elif "not in this build" in lg_help:
        log("target calls-held-srtp: skipped (loadgen built without libsrtp2 and Nettle)")
    elif not judged or not held:
        log("target calls-held-srtp: skipped (calls-held has no figure)")
    else:
        sheld, smiss, sjudged = ladder(args, srtp=True)
        if not sjudged:
            log("target calls-held-srtp: skipped (%s)" % smiss.why)
        else:
            verdict("calls-held-srtp", sheld / held, "%.2f", "x", False, "0.6x", SRTP_GOAL,
                    "srtp %d / plain %d calls; %s" % (sheld, held, miss_text(smiss)))
    with open("/proc/loadavg") as f:
        note("load average after: " + f.read().strip())
    return 0


def ratio_rounds(args, n):
    """Interleaved rounds (server first in even rounds, the baseline first in
    odd ones), each with its own fresh process; the median per-round ratio."""
    ratios, srv, base = [], [], []
    for r in range(args.reps):
        got = {}
        for who in (("server", "baseline") if r % 2 == 0 else ("baseline", "server")):
            if who == "server":
                st = run_server(args, n, False, args.ratio_hold)
                log("step ratio-server calls=%d %s" % (n, st.detail or st.why))
                if not st.judged or not st.gen_ok:
                    note("server round not counted: %s" % (st.why or "generator behind"))
                elif st.received < 0.9 * st.calls * 2 * 50 * args.ratio_hold:
                    note("server round not counted: it received %d packets" % st.received)
                else:
                    got["server"] = st.ns_per_pkt
            else:
                v, why = run_baseline(args, n, args.ratio_hold)
                if v is None:
                    note("baseline round failed: " + why)
                else:
                    got["baseline"] = v
        if len(got) == 2:
            srv.append(got["server"])
            base.append(got["baseline"])
            ratios.append(got["server"] / got["baseline"])
    if not ratios:
        log("target server-vs-recvmmsg: skipped (no round measured both)")
        return
    verdict("server-vs-recvmmsg", statistics.median(ratios), "%.2f", "x", True, "1.5x", RATIO_GOAL,
            "%d calls, %d rounds %.2fx-%.2fx; server %.0f ns/pkt (%.0f-%.0f) / recvmmsg %.0f "
            "ns/pkt (%.0f-%.0f)" % (n, len(ratios), min(ratios), max(ratios),
                                    statistics.median(srv), min(srv), max(srv),
                                    statistics.median(base), min(base), max(base)))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
