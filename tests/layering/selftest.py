#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Self-test of check_layering.py: plants violations in a small fake tree
(governed by the real docs/architecture.md) and checks each is caught and
named, and that the clean tree passes.

usage: selftest.py [SOURCE_ROOT]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(SRC, "tests", "layering", "check_layering.py")
CC = os.environ.get("CC_FOR_SELFTEST") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")

# The clean fake tree: a folder arrow the table allows (sip -> common, by
# include and by call), one public header per owner, an example host.
CLEAN = {
    "lib/common/util.h": '#include <siprec/common.h>\nint sr_util(int x);\n',
    "lib/common/util.c": '#include "util.h"\n#include <string.h>\nint sr_util(int x) { return x + (int)strlen("a"); }\n',
    "lib/sip/ping.h": '#include "../common/util.h"\nint sr_ping(int n);\n',
    "lib/sip/ping.c": '#include "ping.h"\n#include <sofia-sip/sip.h>\nint sr_ping(int n) { return sr_util(n); }\n',
    "lib/sip/pong.h": 'int sr_pong(int n);\n',
    "lib/sip/pong.c": '#include "pong.h"\n#include "ping.h"\nint sr_pong(int n) { return sr_ping(n) + 1; }\n',
    "lib/shmap/map.c": '#include "common/util.h"\n#include <siprec/shmap.h>\nint sr_map(int n);\nint sr_map(int n) { return sr_util(n); }\n',
    "lib/handler/handler.c": '#include "../sip/pong.h"\n#include <siprec/handler.h>\nint sr_h(int n);\nint sr_h(int n) { return sr_pong(n); }\n',
    "include/siprec/common.h": '#include <stddef.h>\n',
    "include/siprec/shmap.h": '#include <stdint.h>\n#include <siprec/common.h>\n',
    "include/siprec/handler.h": '#include <sys/socket.h>\n#include <siprec/common.h>\n',
    "include/siprec/siprec.h": '#include <siprec/common.h>\n#include <siprec/handler.h>\n',
    "examples/common/json.h": '#include <jansson.h>\n',
    "examples/host.c": '#include <siprec/siprec.h>\n#include <uv.h>\n#include "json.h"\n#include <stdio.h>\n',
}

# name -> (files to change or add, strings the report must contain)
PLANTS = {
    "circle of calls between two files": (
        {"lib/sip/ping.c": '#include "ping.h"\n#include "pong.h"\n'
                           'int sr_ping(int n) { return n > 0 ? sr_pong(n - 1) : 0; }\n'},
        ["circle of calls between 2 files of lib/: lib/sip/ping.c, lib/sip/pong.c",
         "lib/sip/ping.c -> lib/sip/pong.c: sr_pong",
         "lib/sip/pong.c -> lib/sip/ping.c: sr_ping"]),
    "circle of calls between three files in two folders": (
        {"lib/common/util.c": '#include "util.h"\nint sr_h(int n);\n'
                              'int sr_util(int x) { return x ? sr_h(x - 1) : 0; }\n'},
        ["circle of calls between 4 files of lib/",
         "lib/common/util.c -> lib/handler/handler.c: sr_h",
         "lib/common/util.c calls lib/handler/handler.c: arrow lib/common -> lib/handler"]),
    "forbidden include between folders": (
        {"lib/shmap/map.c": '#include "../sip/ping.h"\nint sr_map(int n);\nint sr_map(int n) { return n; }\n'},
        ['lib/shmap/map.c:1: #include "../sip/ping.h": arrow lib/shmap -> lib/sip']),
    "forbidden call between folders": (
        {"lib/shmap/map.c": 'int sr_ping(int n);\nint sr_map(int n);\nint sr_map(int n) { return sr_ping(n); }\n'},
        ["lib/shmap/map.c calls lib/sip/ping.c: arrow lib/shmap -> lib/sip",
         "sr_ping"]),
    "include of a public header owned by a forbidden folder": (
        {"lib/common/util.h": '#include <siprec/handler.h>\nint sr_util(int x);\n'},
        ["lib/common/util.h:1: #include <siprec/handler.h>: arrow lib/common -> lib/handler"]),
    "outside library the row does not name": (
        {"lib/shmap/map.c": '#include <expat.h>\nint sr_map(int n);\nint sr_map(int n) { return n; }\n'},
        ["lib/shmap/map.c:1: #include <expat.h>: lib/shmap/ may not use expat"]),
    "public header including Sofia-SIP": (
        {"include/siprec/handler.h": '#include <sofia-sip/sip.h>\n'},
        ["include/siprec/handler.h:1: #include <sofia-sip/sip.h>: a public header includes only libc"]),
    "public header including a private header": (
        {"include/siprec/shmap.h": '#include "../../lib/common/util.h"\n'},
        ['include/siprec/shmap.h:1: #include "../../lib/common/util.h": a public header includes only libc']),
    "public header arrow against the table": (
        {"include/siprec/shmap.h": '#include <siprec/handler.h>\n'},
        ["include/siprec/shmap.h:1: #include <siprec/handler.h>: arrow lib/shmap -> lib/handler"]),
    "example including lib/ internals (relative)": (
        {"examples/host.c": '#include <siprec/siprec.h>\n#include "../lib/sip/ping.h"\n'},
        ['examples/host.c:2: #include "../lib/sip/ping.h": examples see only the public API']),
    "example including lib/ internals (include path)": (
        {"examples/host.c": '#include <siprec/siprec.h>\n#include <common/util.h>\n'},
        ["examples/host.c:2: #include <common/util.h>: examples see only the public API"]),
    "lib/ including a test file": (
        {"lib/sip/pong.c": '#include "../../tests/fake.h"\nint sr_pong(int n);\nint sr_pong(int n) { return n; }\n',
         "tests/fake.h": '\n'},
        ['lib/sip/pong.c:1: #include "../../tests/fake.h" reaches tests/fake.h']),
}


def write_tree(root, files):
    for rel, text in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def build(root, with_db=True):
    """Compiles lib/**/*.c as meson would into ROOT/build (stubs for outside
    headers, which the compiler never needs: the fake sources do not use them)."""
    b = os.path.join(root, "build")
    shutil.rmtree(b, ignore_errors=True)
    objdir = os.path.join(b, "lib", "libsiprec.so.0.1.0.p")
    os.makedirs(objdir)
    stubs = os.path.join(root, "stubs")
    for h in ("sofia-sip/sip.h", "expat.h", "jansson.h", "uv.h"):
        os.makedirs(os.path.dirname(os.path.join(stubs, h)), exist_ok=True)
        open(os.path.join(stubs, h), "w").close()
    db = []
    for d, _, names in os.walk(os.path.join(root, "lib")):
        for n in sorted(names):
            if not n.endswith(".c"):
                continue
            src = os.path.join(d, n)
            rel = os.path.relpath(src, os.path.join(root, "lib"))
            out = "lib/libsiprec.so.0.1.0.p/" + rel.replace(os.sep, "_") + ".o"
            cmd = [CC, "-c", "-fPIC", "-I" + os.path.join(root, "lib"), "-I" + os.path.join(root, "include"),
                   "-I" + stubs, "-o", os.path.join(b, out), src]
            subprocess.run(cmd, check=True)
            db.append({"directory": b, "file": os.path.relpath(src, b), "output": out,
                       "command": " ".join(cmd)})
    if with_db:
        with open(os.path.join(b, "compile_commands.json"), "w") as f:
            json.dump(db, f)
    return b


def run_check(root, b):
    r = subprocess.run([sys.executable, SCRIPT, "--root", root,
                        "--arch", os.path.join(SRC, "docs", "architecture.md"), b],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    return r.returncode, r.stdout


def main():
    if CC is None:
        print("selftest: no C compiler (cc) found")
        return 77
    failures = 0
    tmp = tempfile.mkdtemp(prefix="layering-selftest-")
    try:
        # The clean tree passes, with and without a compilation database.
        for with_db in (True, False):
            root = os.path.join(tmp, "clean-%s" % ("db" if with_db else "nodb"))
            write_tree(root, CLEAN)
            rc, out = run_check(root, build(root, with_db))
            if rc != 0 or "layering: ok" not in out:
                print("FAIL: the clean tree (compile_commands.json: %s) did not pass (exit %d):\n%s" % (
                    with_db, rc, out))
                failures += 1
            else:
                print("ok: the clean tree passes (compile_commands.json: %s)" % with_db)
        for i, (name, (files, wants)) in enumerate(PLANTS.items()):
            root = os.path.join(tmp, "plant-%d" % i)
            tree = dict(CLEAN)
            tree.update(files)
            write_tree(root, tree)
            rc, out = run_check(root, build(root, with_db=(i % 2 == 0)))
            missing = [w for w in wants if w not in out]
            if rc != 1 or missing:
                print("FAIL: %s: exit %d, expected 1; not in the report: %s\n--- report:\n%s" % (
                    name, rc, missing, out))
                failures += 1
            else:
                print("ok: caught %s" % name)
        # The script refuses a build directory without objects (exit 2, not 0).
        root = os.path.join(tmp, "noobj")
        write_tree(root, CLEAN)
        os.makedirs(os.path.join(root, "build"))
        rc, out = run_check(root, os.path.join(root, "build"))
        if rc != 2:
            print("FAIL: an empty build directory gave exit %d, expected 2:\n%s" % (rc, out))
            failures += 1
        else:
            print("ok: an empty build directory is an error")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("layering self-test: %s" % ("ok" if failures == 0 else "%d FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
