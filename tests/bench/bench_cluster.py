#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench_cluster: what the multi-node recording costs (issue 13): the
session store of examples/siprec-server (files or Redis) against the same
server without one, and Kamailio (examples/kamailio/kamailio.cfg) in front
of a node.

Interleaved repetitions (--reps) of four runs, in this order each time:

  none      siprec-server without a store (the baseline)
  files     the same with --state DIR (write + fsync + rename per snapshot
            on libuv's pool)
  redis     the same with --state DIR --state-key FILE --redis ADDR:PORT
            --node ID, against a fresh redis-server (one EVAL per write)
  kamailio  one node (with Redis, on 127.0.0.2) behind Kamailio; sipp
            places the calls through it

The first three are bench_server.py's step (it is imported): loadgen places
--calls two-stream PCMU SIPREC calls at --rate per second and holds them
--hold seconds with RTP at real-time pace; the server's CPU (all threads,
/proc/PID/task/*/schedstat) is read at the hold's edges ("# up", "# held"),
and for Redis redis-server's CPU the same way and its INFO commandstats
(cmdstat_eval calls: one per snapshot written; the node's heartbeat and its
watch of the other nodes are SET and SMEMBERS). redis-server's CPU while
the node is up but has no call (a --idle window before the calls) is
subtracted from its CPU per write.

The Kamailio run uses sipp, not loadgen: loadgen keeps no route set (it
sends its ACK and BYE to --server with the Request-URI it started with),
and Kamailio answers a Route-less in-dialog request addressed to itself
with 404. sipp's scenario is cps_vs_kamailio.py's INVITE (the corpus's
rfc7866-basic.sip body) with the 200's Record-Route and Contact followed
(ACK and BYE to [next_url] with [routes]), the call held --hold seconds
without media (Kamailio never sees the RTP). Kamailio's CPU is the sum
over every process of its process group (it forks), over the sipp run;
divided by the calls it includes its OPTIONS probing of the node and its
timers over the run; "marginal" subtracts its CPU rate in an idle window
before the calls.

Prints `step ...` lines per run, then `cost NAME: ...` lines (median and
min-max over the repetitions): persist-files, persist-redis,
kamailio-per-call, capacity. Every process it starts is stopped before it
exits (also on Ctrl-C and SIGTERM). Everything on 127.0.0.0/8, free ports.
See docs/performance.md ("bench_cluster")."""

import argparse
import atexit
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# meson writes this file into the build directory (next to its bench_server.py,
# which has the programs' paths) with the source tree's paths filled in; run
# from the source tree it uses its own folder and ROOT/build.
SOURCE_DIR = "@BENCH_SOURCE_DIR@"
KAMAILIO_CFG = "@BENCH_KAMAILIO_CFG@"
if SOURCE_DIR.startswith("@"):
    SOURCE_DIR = HERE
if KAMAILIO_CFG.startswith("@"):
    KAMAILIO_CFG = os.path.join(os.path.dirname(os.path.dirname(SOURCE_DIR)), "examples",
                                "kamailio", "kamailio.cfg")
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, HERE)
if SOURCE_DIR != HERE:
    sys.path.append(SOURCE_DIR)
import bench_server as bs  # noqa: E402
import cps_vs_kamailio as cps  # noqa: E402

VARIANTS = ("none", "files", "redis", "kamailio")
PROXY, NODE = "127.0.0.1", "127.0.0.2"

log, note = bs.log, bs.note
groups = []  # process groups started here (Kamailio): killed at exit
scratch = []  # folders removed at exit (after the processes that write there)


def cleanup():
    for p in groups:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.poll()
    bs.cleanup()
    for d in scratch:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(cleanup)


def free_port(host, kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def set_flag(cmd, flag, value):
    """cmd with FLAG's value replaced (bench_server's server command puts
    the server on 127.0.0.1)."""
    out = list(cmd)
    out[out.index(flag) + 1] = value
    return out


# ---------------------------------------------------------------------------
# Readings


def group_cpu_ns(pgid):
    """CPU time (ns, schedstat) of every live process of a process group:
    Kamailio forks its workers, timers and probing into the group it starts
    in. /proc/PID/stat would do too, but its clock ticks (10 ms) are coarse
    against a run's few hundred ms."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            # Field 5 (pgrp) is the third after the command's closing ")".
            if int(st[st.rfind(")") + 2:].split()[2]) != pgid:
                continue
            total += bs.cpu_ns(int(d))[1]
        except (OSError, ValueError, IndexError):
            pass  # a process that ended between the listing and the read
    return total


def resp(port, *args, timeout=5):
    """One Redis command over RESP; the reply's payload (str, int or None).
    A few lines instead of redis-cli: no process started at the hold's edges."""
    req = "*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a.encode()), a) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req.encode())
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("redis closed the connection")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n")
        kind, val = head[:1], head[1:].decode()
        if kind == b"$":
            n = int(val)
            if n < 0:
                return None
            while len(rest) < n + 2:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("redis closed the connection")
                rest += chunk
            return rest[:n].decode("utf-8", "replace")
        if kind == b":":
            return int(val)
        if kind == b"-":
            raise OSError("redis: " + val)
        return val


def eval_stats(port):
    """(calls, usec) of EVAL from INFO commandstats."""
    text = resp(port, "INFO", "commandstats") or ""
    m = re.search(r"^cmdstat_eval:calls=(\d+),usec=(\d+)", text, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


class Mark:
    """What is read at a hold's edge besides bench_server's Reading."""

    def __init__(self, redis):
        self.t = time.monotonic()
        self.redis_ns = bs.cpu_ns(redis.proc.pid)[1] if redis else 0
        self.evals, self.eval_us = eval_stats(redis.port) if redis else (0, 0)


# ---------------------------------------------------------------------------
# Processes


class Redis:
    """redis-server on 127.0.0.1, a free port, no persistence, pinned."""

    def __init__(self, args, work):
        self.port = free_port("127.0.0.1", socket.SOCK_STREAM)
        self.logf = open(os.path.join(work, "redis.log"), "w")
        self.proc = bs.start([args.redis_server, "--port", str(self.port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], args.server_cpu, self.logf,
                             subprocess.STDOUT)
        end = time.monotonic() + 10
        while True:
            try:
                if resp(self.port, "PING", timeout=1) == "PONG":
                    return
            except OSError:
                pass
            if time.monotonic() > end or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self):
        if self.proc in bs.children:
            bs.stop(self.proc)
        self.logf.close()


class Kamailio:
    """kamailio -DD -E in a process group of its own, as the integration
    tests and cps_vs_kamailio.py run it."""

    def __init__(self, args, work, port, ds_list):
        rundir = os.path.join(work, "kamailio-run")
        os.makedirs(rundir)
        self.port = port
        self.log_path = os.path.join(work, "kamailio.log")
        self.logf = open(self.log_path, "w")
        cmd = ["taskset", "-c", str(args.server_cpu), args.kamailio, "-f", args.kamailio_cfg,
               "-DD", "-E", "-Y", rundir, "-A", "LISTEN_ADDR=%s" % PROXY,
               "-A", "LISTEN_PORT=%d" % port, "-A", 'DS_LIST="%s"' % ds_list,
               "-A", "CHILDREN=%d" % args.kamailio_children, "-A", "TCP_CHILDREN=1"] + \
            args.kamailio_arg
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.logf, start_new_session=True)
        groups.append(self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:  # its workers, should any have outlived the main process
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        groups.remove(self.proc)
        self.logf.close()

    def tail(self):
        with open(self.log_path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-3:])


def options_200(port, proc, timeout=10.0):
    """An out-of-dialog OPTIONS through Kamailio answered 200 (by the node)."""
    end = time.monotonic() + timeout
    n = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((PROXY, 0))
        s.settimeout(0.3)
        me = s.getsockname()[1]
        while time.monotonic() < end and proc.poll() is None:
            n += 1
            s.sendto(("OPTIONS sip:srs@%s:%d SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-bcl-%d\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:bench@%s>;tag=bcl\r\n"
                      "To: <sip:srs@%s>\r\nCall-ID: bcl-ready-%d-%d\r\nCSeq: 1 OPTIONS\r\n"
                      "Content-Length: 0\r\n\r\n" % (PROXY, port, PROXY, me, n, PROXY, PROXY,
                                                      os.getpid(), n)).encode(), (PROXY, port))
            try:
                if s.recv(65536).startswith(b"SIP/2.0 200 "):
                    return True
            except (socket.timeout, ConnectionRefusedError):
                pass
    return False


def start_node(args, work, variant, host, redis):
    """siprec-server as bench_server runs it, plus the store's flags.
    Returns (process, SIP port, metrics URL or None, stderr path)."""
    sip_port = free_port(host)
    metrics_port = free_port("127.0.0.1", socket.SOCK_STREAM)
    out_dir = os.path.join(work, "rec")
    os.mkdir(out_dir)
    cmd = bs.server_cmd(args, sip_port, metrics_port, out_dir)
    if host != "127.0.0.1":
        cmd = set_flag(set_flag(cmd, "--listen", "%s:%d" % (host, sip_port)),
                       "--media-address", host)
    if variant != "none":
        cmd += ["--state", os.path.join(args.state_parent, os.path.basename(work) + "-state"),
                "--state-key", args.key_path]
    if redis:
        cmd += ["--redis", "127.0.0.1:%d" % redis.port, "--node", "bench-%s" % variant]
    out_path = os.path.join(work, "server.out")
    err_path = os.path.join(work, "server.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        srv = bs.start(cmd, args.server_cpu, out, err)
    if not bs.wait_for_line(out_path, "ready", srv, 10):
        raise RuntimeError("siprec-server did not start: " + tail(err_path))
    if redis and not bs.wait_for_line(err_path, ": connected", srv, 10):
        raise RuntimeError("siprec-server did not connect to Redis: " + tail(err_path))
    url = "http://127.0.0.1:%d/metrics" % metrics_port if args.has_metrics else None
    return srv, sip_port, url, err_path


def tail(path, n=600):
    try:
        with open(path, errors="replace") as f:
            return f.read().strip()[-n:] or "no output"
    except OSError:
        return "no output"


def idle_rates(args, *reads):
    """Each read()'s growth per second (a CPU time in ns) over --idle
    seconds with nothing to do but the processes' own timers."""
    time.sleep(0.5)  # the start's own work done
    t0, v0 = time.monotonic(), [r() for r in reads]
    time.sleep(args.idle)
    t1, v1 = time.monotonic(), [r() for r in reads]
    return [(b - a) / (t1 - t0) for a, b in zip(v0, v1)]


def group_size(pgid):
    n = 0
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            n += int(st[st.rfind(")") + 2:].split()[2]) == pgid
        except (OSError, ValueError, IndexError):
            pass
    return n


# ---------------------------------------------------------------------------
# One run of loadgen against a node: none, files, redis


def run_persist(args, variant, rep):
    work = tempfile.mkdtemp(prefix="bench_cluster.%s." % variant, dir=args.work_parent)
    redis = srv = None
    try:
        redis = Redis(args, work) if variant == "redis" else None
        srv, sip_port, url, err_path = start_node(args, work, variant, "127.0.0.1", redis)
        # Every variant waits the same idle window before its calls, so each
        # hold starts as long after the server's start (a start's own
        # transients fall on all alike).
        srv_idle, redis_idle = idle_rates(
            args, lambda: bs.cpu_ns(srv.pid)[1],
            (lambda: bs.cpu_ns(redis.proc.pid)[1]) if redis else (lambda: 0))
        marks, extra = {}, {}

        def edge(key, line):
            marks[key] = bs.Reading(srv.pid, url, line)
            extra[key] = Mark(redis)

        cmd = bs.loadgen_cmd(args, args.calls, args.hold) + ["--server", "127.0.0.1:%d" % sip_port]
        summary, err = bs.run_loadgen(args, cmd, lambda l: edge("up", l),
                                      lambda l: edge("held", l),
                                      bs.loadgen_timeout(args, args.calls, args.hold))
        alive = srv.poll() is None
        if not alive:
            note("siprec-server exited with %s: %s" % (srv.returncode, tail(err_path)))
        if err.strip() and (args.verbose or not summary):
            note("loadgen stderr: " + err.strip()[-500:])
    finally:
        if srv is not None:
            bs.stop(srv)
        if redis is not None:
            redis.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(os.path.join(args.state_parent, os.path.basename(work) + "-state"),
                          ignore_errors=True)
    st = bs.Step(args.calls, False)
    bs.judge_server(st, summary, marks, alive)
    r = {"ok": False}
    # A generator that fell behind for a moment (a burst of other work on
    # this shared machine) still sent the hold's packets: the CPU per session
    # stands as long as nearly all of them went out. bench_server's loss
    # verdicts need more, and the step line says when they would fail.
    want = args.calls * 2 * 50 * args.hold
    sent = marks["held"].sent - marks["up"].sent if "held" in marks and "up" in marks else 0
    counted = summary and "held" in marks and alive and \
        summary.get("answered") == args.calls and sent >= 0.99 * want
    if not counted:
        log("step %d %s calls=%d not counted: %s %s" % (rep, variant, args.calls, st.why,
                                                        st.detail))
        return r
    a, b = marks["up"], marks["held"]
    ea, eb = extra["up"], extra["held"]
    wall = b.t - a.t
    sessions = args.calls * wall  # session-seconds over the hold
    r.update(ok=True, wall=wall, server_us=(b.total_ns - a.total_ns) / 1e3 / sessions)
    parts = ["server=%.2fus/session/s (idle %.0fus/s)" % (r["server_us"], srv_idle / 1e3)]
    if redis:
        evals = eb.evals - ea.evals
        redis_ns = eb.redis_ns - ea.redis_ns
        r.update(writes=evals / sessions, redis_us=redis_ns / 1e3 / sessions,
                 redis_idle_us_s=redis_idle / 1e3,
                 per_write_us=(redis_ns - redis_idle * wall) / 1e3 / evals if evals else None,
                 eval_us=(eb.eval_us - ea.eval_us) / evals if evals else None)
        parts += ["evals=%d writes=%.3f/session/s" % (evals, r["writes"]),
                  "redis=%.2fus/session/s (idle %.0fus/s)" % (r["redis_us"], redis_idle / 1e3),
                  "redis/write=%s" % ("%.1fus" % r["per_write_us"] if evals else "-"),
                  "in-command/eval=%s" % ("%.1fus" % r["eval_us"] if evals else "-")]
    log("step %d %s calls=%d hold=%.1fs %s [%s%s]" % (
        rep, variant, args.calls, wall, " ".join(parts), st.detail,
        "" if st.ok else "; bench_server would not count it: %s" % st.why))
    return r


# ---------------------------------------------------------------------------
# One run through Kamailio

SIPP_TAIL = """]]></send>
<recv response="100" optional="true"/>
<recv response="200" rtd="true" rrs="true"/>
<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
Max-Forwards: 70
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 1 ACK
Content-Length: 0

]]></send>
<pause milliseconds="{hold_ms}"/>
<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
Max-Forwards: 70
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 2 BYE
Content-Length: 0

]]></send>
<recv response="200" crlf="true"/>
</scenario>
"""


def make_scenario(args, path):
    """cps_vs_kamailio's scenario (its INVITE and the corpus body), its tail
    replaced by one that follows the 200's route set and holds the call."""
    cps.make_scenario(args.sip, path)
    with open(path) as f:
        text = f.read()
    if not text.endswith(cps.SCENARIO_TAIL):
        raise ValueError("cps_vs_kamailio's scenario changed: its tail is not where expected")
    text = text[:-len(cps.SCENARIO_TAIL)] + SIPP_TAIL.format(hold_ms=args.hold * 1000)
    with open(path, "w") as f:
        f.write(text)


def run_kamailio(args, rep):
    work = tempfile.mkdtemp(prefix="bench_cluster.kamailio.", dir=args.work_parent)
    redis = srv = kam = None
    r = {"ok": False}
    try:
        redis = Redis(args, work)
        srv, node_port, _, err_path = start_node(args, work, "kamailio", NODE, redis)
        ds = os.path.join(work, "dispatcher.list")
        with open(ds, "w") as f:
            f.write("1 sip:%s:%d\n" % (NODE, node_port))
        kam = Kamailio(args, work, free_port(PROXY), ds)
        if not options_200(kam.port, kam.proc):
            log("step %d kamailio not counted: no 200 to an OPTIONS through it (%s)" % (
                rep, kam.tail()))
            return r
        time.sleep(1.5)  # the node probed active, as the integration test waits
        kam_idle, node_idle = idle_rates(args, lambda: group_cpu_ns(kam.proc.pid),
                                         lambda: bs.cpu_ns(srv.pid)[1])
        procs = group_size(kam.proc.pid)
        scen = os.path.join(work, "siprec-rr.xml")
        make_scenario(args, scen)
        stat = os.path.join(work, "stat.csv")
        errors = os.path.join(work, "sipp-errors.log")
        n = args.calls
        cmd = ["taskset", "-c", str(args.gen_cpu), args.sipp, "%s:%d" % (PROXY, kam.port),
               "-sf", scen, "-t", "u1", "-i", PROXY, "-p", str(free_port(PROXY)),
               "-r", str(args.rate), "-m", str(n), "-l", str(n), "-recv_timeout", "10000",
               "-timeout", "%ds" % (args.hold + 60), "-timeout_error",
               "-trace_stat", "-stf", stat, "-fd", "1", "-nostdin",
               "-trace_err", "-error_file", errors]
        t0, k0, n0, m0 = time.monotonic(), group_cpu_ns(kam.proc.pid), bs.cpu_ns(srv.pid)[1], \
            Mark(redis)
        sipp = bs.start(cmd, None, subprocess.DEVNULL, subprocess.DEVNULL)
        try:
            rc = sipp.wait(args.hold + 90)
        except subprocess.TimeoutExpired:
            rc = -1
        bs.stop(sipp)
        t1, k1, n1, m1 = time.monotonic(), group_cpu_ns(kam.proc.pid), bs.cpu_ns(srv.pid)[1], \
            Mark(redis)
        alive = srv.poll() is None and kam.proc.poll() is None
    finally:
        if kam is not None:
            kam.stop()
        if srv is not None:
            bs.stop(srv)
        if redis is not None:
            redis.stop()
    row = cps.read_stat_csv(stat) if os.path.exists(stat) else None
    ok = int(row.get("SuccessfulCall(C)", 0)) if row else 0
    failed = int(row.get("FailedCall(C)", 0)) if row else n
    retrans = int(row.get("Retransmissions(C)", 0)) if row else 0
    why = []
    if rc != 0:
        why.append("sipp status %d" % rc)
    if ok != n or failed:
        why.append("%d of %d calls failed" % (n - ok, n))
    if not alive:
        why.append("siprec-server or kamailio exited: %s" % tail(err_path))
    if why:
        why += ["sipp: %s" % line for line in cps.sipp_errors(errors)]
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(os.path.join(args.state_parent, os.path.basename(work) + "-state"),
                      ignore_errors=True)
    wall = t1 - t0
    kam_ns = k1 - k0
    r.update(wall=wall, kam_us=kam_ns / 1e3 / n, kam_marginal_us=(kam_ns - kam_idle * wall) / 1e3 / n,
             kam_idle_us_s=kam_idle / 1e3, node_us=(n1 - n0) / 1e3 / n,
             node_marginal_us=(n1 - n0 - node_idle * wall) / 1e3 / n,
             evals_per_call=(m1.evals - m0.evals) / n)
    log("step %d kamailio calls=%d run=%.1fs ok=%d failed=%d retrans=%d kamailio=%.1fus/call "
        "(marginal %.1fus/call, idle %.0fus/s, %d processes) node=%.1fus/call (marginal "
        "%.1fus/call, idle %.0fus/s) evals/call=%.2f%s" % (
            rep, n, wall, ok, failed, retrans, r["kam_us"], r["kam_marginal_us"],
            r["kam_idle_us_s"], procs, r["node_us"], r["node_marginal_us"], node_idle / 1e3,
            r["evals_per_call"],
            "" if not why else " not counted: " + "; ".join(why)))
    r["ok"] = not why
    return r


# ---------------------------------------------------------------------------
# The figures


def spread(values, fmt):
    """'median (min-max)' of values, each in fmt."""
    if not values:
        return "-"
    med = fmt % statistics.median(values)
    if len(values) == 1:
        return med
    return "%s (%s%s%s)" % (med, fmt % min(values), " to " if min(values) < 0 else "-",
                            fmt % max(values))


def paired(runs, variant, key):
    """Per repetition with both counted: (baseline value, variant value)."""
    return [(rs["none"][key], rs[variant][key]) for rs in runs
            if rs.get("none", {}).get("ok") and rs.get(variant, {}).get("ok")]


def report(args, runs):
    def col(variant, key):
        return [rs[variant][key] for rs in runs
                if rs.get(variant, {}).get("ok") and rs[variant].get(key) is not None]

    for variant, name in (("files", "persist-files"), ("redis", "persist-redis")):
        if variant not in args.variants:
            continue
        pairs = paired(runs, variant, "server_us")
        if "none" not in args.variants or not pairs:
            log("cost %s: skipped (%s)" % (name, "no baseline in --variants"
                                            if "none" not in args.variants
                                            else "no repetition measured both"))
            continue
        ratios = [v / b for b, v in pairs]
        extra = [v - b for b, v in pairs]
        writes = col("redis", "writes")
        text = "%sx of the baseline, extra %s us CPU per session per second (baseline %s us, " \
               "%s %s us per session per second)" % (
                   spread(ratios, "%.3f"), spread(extra, "%.2f"),
                   spread([b for b, _ in pairs], "%.2f"), variant,
                   spread([v for _, v in pairs], "%.2f"))
        if variant == "files" and not writes:
            text += "; snapshot writes not counted (no Redis run: the file store has no " \
                    "cheap exact counter)"
        elif variant == "files":
            text += "; snapshot writes %s per session per second (the Redis runs' EVAL " \
                    "count: the handler emits the same snapshots whichever store takes them; " \
                    "no cheap exact counter of the file store's renames)" % spread(writes, "%.3f")
        else:
            text += "; redis-server %s us per session per second (its idle %s us/s " \
                    "included), %s us per write (idle subtracted; %s us inside the EVAL " \
                    "by its own count); snapshot writes %s per session per second " \
                    "(cmdstat_eval)" % (
                        spread(col("redis", "redis_us"), "%.2f"),
                        spread(col("redis", "redis_idle_us_s"), "%.0f"),
                        spread(col("redis", "per_write_us"), "%.1f"),
                        spread(col("redis", "eval_us"), "%.1f"), spread(writes, "%.3f"))
        log("cost %s: %s [%d reps, %d calls, %d s holds]" % (name, text, len(pairs), args.calls,
                                                             args.hold))

    if "kamailio" in args.variants:
        k = col("kamailio", "kam_us")
        if not k:
            log("cost kamailio-per-call: skipped (no run counted)")
        else:
            log("cost kamailio-per-call: %s us CPU per call (all its processes over the run, "
                "its OPTIONS probing and timers included), marginal %s us (its idle rate "
                "%s us/s subtracted); the node %s us per call in the same runs, marginal %s "
                "(signalling only, Redis store, %s EVALs per call) [%d reps, %d calls at %d/s "
                "held %d s, %d UDP workers]" % (
                    spread(k, "%.1f"), spread(col("kamailio", "kam_marginal_us"), "%.1f"),
                    spread(col("kamailio", "kam_idle_us_s"), "%.0f"),
                    spread(col("kamailio", "node_us"), "%.1f"),
                    spread(col("kamailio", "node_marginal_us"), "%.1f"),
                    spread(col("kamailio", "evals_per_call"), "%.2f"), len(k), args.calls,
                    args.rate, args.hold, args.kamailio_children))

    parts = []
    node = col("redis", "server_us")
    if node:
        parts.append("a node holds %.0f calls per core (Redis store: 1e6 / %.2f us per "
                     "session per second, media and recording included)" % (
                         1e6 / statistics.median(node), statistics.median(node)))
    km = col("kamailio", "kam_marginal_us")
    if km and statistics.median(km) > 0:
        parts.append("Kamailio routes %.0f calls per second per core (1e6 / %.1f us marginal "
                     "per call)" % (1e6 / statistics.median(km), statistics.median(km)))
    pw, writes = col("redis", "per_write_us"), col("redis", "writes")
    if pw and writes and statistics.median(pw) > 0:
        per_core = 1e6 / statistics.median(pw)
        parts.append("Redis takes %.0f snapshot writes per second per core (1e6 / %.1f us), "
                     "the writes of %.0f sessions (at %.3f writes per session per second)" % (
                         per_core, statistics.median(pw),
                         per_core / statistics.median(writes), statistics.median(writes)))
    if parts:
        log("cost capacity: " + "; ".join(parts) + " [medians; one core each, this machine]")
    else:
        log("cost capacity: skipped (no figure to base it on)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=200, help="concurrent calls (200)")
    ap.add_argument("--hold", type=int, default=20, help="seconds they are held (20)")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions (3)")
    ap.add_argument("--rate", type=int, default=200, help="call setups per second (200)")
    ap.add_argument("--idle", type=float, default=3.0,
                    help="seconds of the idle window before the calls (3)")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="which runs, comma-separated (default %s)" % ",".join(VARIANTS))
    ap.add_argument("--server", default=bs.default_path("server"))
    ap.add_argument("--loadgen", default=bs.default_path("loadgen"))
    ap.add_argument("--redis-server", default=shutil.which("redis-server") or
                    "/usr/bin/redis-server")
    ap.add_argument("--kamailio", default=shutil.which("kamailio") or "/usr/sbin/kamailio")
    ap.add_argument("--kamailio-cfg", default=KAMAILIO_CFG)
    ap.add_argument("--kamailio-children", type=int, default=2,
                    help="Kamailio's UDP workers (2, one per core here)")
    ap.add_argument("--kamailio-arg", action="append", default=[],
                    help="one more argument for kamailio (repeatable)")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--sip", default=cps.DEFAULT_SIP, help="the INVITE whose body sipp sends")
    ap.add_argument("--server-cpu", type=int, default=0,
                    help="core of the server, redis-server and Kamailio (0)")
    ap.add_argument("--gen-cpu", type=int, default=1, help="core of loadgen and sipp (1)")
    ap.add_argument("--gen-rt", type=int, default=10,
                    help="loadgen's SCHED_FIFO priority (0: none)")
    ap.add_argument("--per-socket", type=int, default=1, help="loadgen --per-socket")
    ap.add_argument("--rtp-ports", default="20000-39999", help="the server's --rtp-ports")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="one more argument for siprec-server (repeatable)")
    ap.add_argument("--state-parent", default=None,
                    help="folder the file store's state folders go in (default: the temporary "
                         "folder's, so its file system)")
    ap.add_argument("--keep", action="store_true", help="keep the work folders")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad or args.calls < 1 or args.hold < 1 or args.reps < 1 or args.rate < 1:
        ap.error("bad --variants (%s), --calls, --hold, --reps or --rate" % ",".join(bad))
    lo, _, hi = args.rtp_ports.partition("-")
    if args.calls > (int(hi) - int(lo) + 1) // bs.PORTS_PER_CALL:
        ap.error("--rtp-ports %s cannot hold %d calls" % (args.rtp_ports, args.calls))

    need = {"server": args.server, "loadgen": args.loadgen}
    if set(args.variants) & {"redis", "kamailio"}:
        need["redis-server"] = args.redis_server
    if "kamailio" in args.variants:
        need.update(kamailio=args.kamailio, sipp=args.sipp)
    missing = [("%s (%s)" % (k, p)) for k, p in need.items() if not os.access(p, os.X_OK)]
    if "kamailio" in args.variants and not os.path.exists(args.kamailio_cfg):
        missing.append("the Kamailio config (%s)" % args.kamailio_cfg)
    if missing:
        log("bench_cluster: not found: %s" % ", ".join(missing))
        for name in ("persist-files", "persist-redis", "kamailio-per-call", "capacity"):
            log("cost %s: skipped (%s not found)" % (name, missing[0]))
        return 0

    helptext = subprocess.run([args.server, "--help"], capture_output=True, text=True).stdout
    args.has_metrics = bs.METRICS_FLAG in helptext
    args.record_flag = next((f for f in bs.RECORD_FLAGS
                             if re.search(re.escape(f) + r"\b", helptext)), None)
    if args.gen_rt and os.geteuid() != 0:
        note("not root: the generator runs without SCHED_FIFO (other work may make it late)")
        args.gen_rt = 0

    top = tempfile.mkdtemp(prefix="bench_cluster.")
    if not args.keep:
        scratch.append(top)
    args.work_parent = top
    args.state_parent = args.state_parent or top
    args.key_path = os.path.join(top, "seal.key")
    with open(args.key_path, "wb") as f:
        f.write(os.urandom(32))
    fstype = subprocess.run(["stat", "-f", "-c", "%T", args.state_parent], capture_output=True,
                            text=True).stdout.strip() or "?"
    with open("/proc/loadavg") as f:
        note("load average before: " + f.read().strip())
    note("bench_cluster: %d calls at %d/s held %d s, %d interleaved reps of %s; server, "
         "redis-server, kamailio on cpu %d, loadgen/sipp on cpu %d (SCHED_FIFO %d); "
         "recording %s; file store in %s (statfs type %s)" % (
             args.calls, args.rate, args.hold, args.reps, ",".join(args.variants),
             args.server_cpu, args.gen_cpu, args.gen_rt, args.record_flag or "off",
             args.state_parent, fstype))
    note("server %s" % args.server)
    t_start = time.monotonic()
    runs = []
    for rep in range(1, args.reps + 1):
        rs = {}
        for v in args.variants:
            try:
                rs[v] = run_kamailio(args, rep) if v == "kamailio" else run_persist(args, v, rep)
            except (RuntimeError, OSError, ValueError) as e:
                log("step %d %s not counted: %s" % (rep, v, e))
                rs[v] = {"ok": False}
        runs.append(rs)
    report(args, runs)
    with open("/proc/loadavg") as f:
        note("load average after: " + f.read().strip())
    note("wall time %.0f s" % (time.monotonic() - t_start))
    return 0


if __name__ == "__main__":
    # SIGTERM and SIGHUP unwind like ^C: the atexit handlers stop everything.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main())
