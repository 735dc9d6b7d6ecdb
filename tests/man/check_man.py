#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every exported function of the library appears in a man page.

usage: check_man.py [--man-dir DIR] LIB

LIB is the built shared library (build/gcc/lib/libsiprec.so.0); DIR the
section 3 pages (default: docs/man of this tree). Each function that
`nm -D --defined-only LIB` lists must be named (as a whole word) in at
least one page DIR/*.3; and every `name(3)` reference of a page (SEE ALSO)
to a siprec_ page must name a page of DIR (a file name.3). Exits 1 naming
the missing functions and the dangling references, 0 when all hold, 2 on a
setup error. Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys


def exported_functions(lib):
    nm = shutil.which("nm")
    if nm is None:
        print("check_man: nm not found (binutils)", file=sys.stderr)
        sys.exit(2)
    r = subprocess.run([nm, "-D", "--defined-only", lib], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        print("check_man: nm -D %s: %s" % (lib, r.stderr.strip()), file=sys.stderr)
        sys.exit(2)
    funcs = set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[-2], parts[-1].split("@")[0]
        if kind in ("T", "W", "i"):
            funcs.add(name)
    return funcs


def plain(text):
    """The words of a page with the roff escapes that can split them removed."""
    text = re.sub(r"\\f[BIRP]|\\f\(..|\\f\[[^]]*\]", "", text)
    text = text.replace("\\&", "").replace("\\-", "-").replace("\\e", "\\")
    return text


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lib")
    ap.add_argument("--man-dir", default=os.path.normpath(os.path.join(here, "..", "..", "docs", "man")))
    args = ap.parse_args()
    if not os.path.isdir(args.man_dir):
        print("check_man: no man page directory %s" % args.man_dir, file=sys.stderr)
        return 2
    funcs = exported_functions(args.lib)
    if not funcs:
        print("check_man: no exported function in %s" % args.lib, file=sys.stderr)
        return 2
    pages = {}
    for n in sorted(os.listdir(args.man_dir)):
        if n.endswith(".3"):
            with open(os.path.join(args.man_dir, n), encoding="utf-8", errors="replace") as f:
                pages[n[:-2]] = plain(f.read())
    words = {}
    for page, text in pages.items():
        for w in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)):
            words.setdefault(w, []).append(page)
    missing = sorted(f for f in funcs if f not in words)
    dangling = []
    for page, text in sorted(pages.items()):
        for ref in sorted(set(re.findall(r"\b(siprec_[a-z0-9_]*)\s*\(3\)", text))):
            if ref not in pages:
                dangling.append((page, ref))
    status = 0
    if missing:
        status = 1
        print("exported functions of %s in no man page of %s (%d):" % (
            os.path.basename(args.lib), os.path.relpath(args.man_dir), len(missing)))
        for f in missing:
            print("  " + f)
    if dangling:
        status = 1
        print("references to man pages that do not exist:")
        for page, ref in dangling:
            print("  %s.3 names %s(3)" % (page, ref))
    if status == 0:
        print("man pages: ok (%d exported functions, each in one of %d pages: %s)" % (
            len(funcs), len(pages), ", ".join(p + "(3)" for p in sorted(pages))))
    else:
        print("man pages: FAIL (%d of %d exported functions undocumented, %d dangling references)" % (
            len(missing), len(funcs), len(dangling)))
    return status


if __name__ == "__main__":
    sys.exit(main())
