#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Two builds of bench_handler, interleaved on one machine in one session.

    compare_handler_builds.py OLD_BENCH NEW_BENCH [--rounds N] [--full]

Runs OLD, NEW, OLD, NEW, ... (N rounds, default 7; `--quick --no-cps` each
unless --full) and reads each run's invite-200/parse and call/parse ratios
and its idle-session KiB. Prints, per build, the median and the range of
each figure, then per figure the median of the per-round ratios NEW/OLD with
their range, and a verdict line per ratio against the 10 % bound of issue 10
(NEW at most 1.10 times OLD). Only ratios measured in the same run are
compared, so machine load cancels out as far as it can.
"""
import argparse
import re
import statistics
import subprocess
import sys

FIGURES = ("invite-vs-parse", "call-vs-parse", "idle-session-kib")


def run(bench, full):
    args = [bench] + ([] if full else ["--quick", "--no-cps"])
    out = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        sys.exit(f"{bench} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    text = out.stdout + out.stderr
    m = re.search(r"^ratio\tinvite-200/parse\t([\d.]+)x\tcall/parse\t([\d.]+)x", text, re.M)
    k = re.search(r"^idle-session\tbytes\t\d+\tblocks\t[\d.]+\tKiB\t([\d.]+)", text, re.M)
    if not m or not k:
        sys.exit(f"{bench}: no ratio or idle-session line in its output")
    return {"invite-vs-parse": float(m.group(1)), "call-vs-parse": float(m.group(2)),
            "idle-session-kib": float(k.group(1))}


def span(values, unit):
    return f"{statistics.median(values):.2f}{unit} ({min(values):.2f}-{max(values):.2f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--full", action="store_true", help="full runs instead of --quick --no-cps")
    a = ap.parse_args()
    rounds = {"old": [], "new": []}
    for i in range(a.rounds):
        for which, bench in (("old", a.old), ("new", a.new)):
            r = run(bench, a.full)
            rounds[which].append(r)
            print(f"# round {i + 1} {which}: " +
                  ", ".join(f"{f} {r[f]:.2f}" for f in FIGURES), flush=True)
    for which in ("old", "new"):
        print(f"{which}: " + ", ".join(
            f"{f} {span([r[f] for r in rounds[which]], '' if f.endswith('kib') else 'x')}"
            for f in FIGURES))
    ok = True
    for f in FIGURES:
        per_round = [n[f] / o[f] for o, n in zip(rounds["old"], rounds["new"])]
        med = statistics.median(per_round)
        bound = 1.10
        met = med <= bound
        ok &= met or f == "idle-session-kib"
        kind = "target" if f != "idle-session-kib" else "info"
        print(f"{kind} {f}-new-vs-old: {med:.3f} (goal <= {bound:.2f}) "
              f"{'met' if met else 'missed'}  [rounds {min(per_round):.3f}-{max(per_round):.3f}, "
              f"{len(per_round)} interleaved pairs]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
