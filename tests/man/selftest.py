#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Self-test of check_man.py: a tiny shared library exporting three
functions, and man pages that document all of them (passes), then one with a
function missing (must fail naming it), then one naming a page that does not
exist in SEE ALSO (must fail naming it).

usage: selftest.py [CHECK_MAN_PY]
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(HERE, "check_man.py")
CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")

LIB_C = """
__attribute__((visibility("default"))) int siprec_alpha_new(void) { return 1; }
__attribute__((visibility("default"))) int siprec_alpha_free(void) { return 2; }
__attribute__((visibility("default"))) int siprec_beta_get(void) { return 3; }
int sr_hidden(void);
int sr_hidden(void) { return 4; }
"""

PAGE_ALPHA = """.TH SIPREC_ALPHA 3
.SH NAME
siprec_alpha \\- the alpha API
.SH SYNOPSIS
.BI "int siprec_alpha_new(void);"
.SH DESCRIPTION
.BR siprec_alpha_free ()
frees.
.SH SEE ALSO
.BR siprec_beta (3)
"""
PAGE_BETA = """.TH SIPREC_BETA 3
.SH NAME
siprec_beta \\- \\fBsiprec_beta_get\\fP()
.SH SEE ALSO
.BR siprec_alpha (3)
"""


def run(lib, mandir):
    r = subprocess.run([sys.executable, CHECK, "--man-dir", mandir, lib], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    return r.returncode, r.stdout


def main():
    if CC is None:
        print("man self-test: no C compiler: skipped")
        return 77
    failures = 0
    tmp = tempfile.mkdtemp(prefix="man-selftest-")
    try:
        with open(os.path.join(tmp, "lib.c"), "w") as f:
            f.write(LIB_C)
        lib = os.path.join(tmp, "libfake.so.0")
        subprocess.run([CC, "-shared", "-fPIC", "-fvisibility=hidden", "-o", lib,
                        os.path.join(tmp, "lib.c")], check=True)

        def case(name, pages, want_rc, wants, unwanted=()):
            nonlocal failures
            d = os.path.join(tmp, name.replace(" ", "_"))
            os.makedirs(d)
            for n, text in pages.items():
                with open(os.path.join(d, n), "w") as f:
                    f.write(text)
            rc, out = run(lib, d)
            bad = [w for w in wants if w not in out] + [u for u in unwanted if u in out]
            if rc != want_rc or bad:
                print("FAIL: %s: exit %d (want %d); wrong about %s:\n%s" % (name, rc, want_rc, bad, out))
                failures += 1
            else:
                print("ok: %s (exit %d)" % (name, rc))

        case("all documented", {"siprec_alpha.3": PAGE_ALPHA, "siprec_beta.3": PAGE_BETA}, 0,
             ["man pages: ok (3 exported functions"], ["sr_hidden"])
        case("a function missing", {"siprec_alpha.3": PAGE_ALPHA.replace("siprec_alpha_free", "it"),
                                     "siprec_beta.3": PAGE_BETA}, 1,
             ["in no man page", "  siprec_alpha_free\n", "1 of 3 exported functions undocumented"],
             ["  siprec_alpha_new\n", "  siprec_beta_get\n"])
        case("a whole page missing", {"siprec_alpha.3": PAGE_ALPHA}, 1,
             ["  siprec_beta_get\n", "siprec_alpha.3 names siprec_beta(3)"])
        case("a prefix is not a mention", {"siprec_alpha.3": PAGE_ALPHA,
                                           "siprec_beta.3": PAGE_BETA.replace("siprec_beta_get", "siprec_beta_getter")},
             1, ["  siprec_beta_get\n"])
        case("a dangling reference", {"siprec_alpha.3": PAGE_ALPHA + ".BR siprec_gamma (3)\n",
                                      "siprec_beta.3": PAGE_BETA}, 1,
             ["siprec_alpha.3 names siprec_gamma(3)"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("man self-test: %s" % ("ok" if failures == 0 else "%d FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
