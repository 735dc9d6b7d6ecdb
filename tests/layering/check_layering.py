#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Holds the code to the folder table of docs/architecture.md.

usage: check_layering.py [--root SRC] [--arch FILE] [--quiet] BUILD_DIR

Reads the table `folder | its job | may use` (and `public header | owned by`)
of docs/architecture.md, then checks
  - the #include lines of lib/**/*.{c,h}, include/siprec/*.h and examples/**:
    an include of another folder of lib/ (directly or through the public
    header that folder owns) must be allowed by the table; an outside header
    must be libc or a library named in the folder's row;
  - public headers include only libc headers and <siprec/...>;
  - examples/ include nothing of lib/;
  - from the library's object files in BUILD_DIR (nm): which file of lib/
    defines and which uses each global symbol; a use across folders must be
    allowed by the table, and the graph "file uses file" has no circle (each
    strongly connected component is reported with its edges and symbols).
Exits 1 naming the files on any violation, 0 when all holds, 2 on a usage or
setup error (no table, no objects, no nm).
Python 3 standard library only.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

# C11 and POSIX.1-2017 headers, plus the glibc/Linux ones a POSIX host uses:
# what "libc" means in the table.
LIBC_HEADERS = set("""
assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h
stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h
time.h uchar.h wchar.h wctype.h
aio.h arpa/inet.h cpio.h dirent.h dlfcn.h fcntl.h fmtmsg.h fnmatch.h ftw.h
glob.h grp.h iconv.h langinfo.h libgen.h monetary.h mqueue.h ndbm.h net/if.h
netdb.h netinet/in.h netinet/tcp.h nl_types.h poll.h pthread.h pwd.h regex.h
sched.h search.h semaphore.h spawn.h strings.h sys/ipc.h sys/mman.h sys/msg.h
sys/resource.h sys/select.h sys/sem.h sys/shm.h sys/socket.h sys/stat.h
sys/statvfs.h sys/time.h sys/times.h sys/types.h sys/uio.h sys/un.h
sys/utsname.h sys/wait.h syslog.h tar.h termios.h ulimit.h unistd.h utime.h
utmpx.h wordexp.h
alloca.h byteswap.h endian.h execinfo.h features.h getopt.h ifaddrs.h malloc.h
sys/epoll.h sys/eventfd.h sys/param.h sys/prctl.h sys/random.h sys/signalfd.h
sys/statfs.h sys/syscall.h sys/timerfd.h sys/vfs.h
""".split())
# The compiler's own intrinsics headers (no library behind them: a vector
# path guarded by the CPU it needs) count as libc.
LIBC_HEADERS |= {"immintrin.h", "x86intrin.h", "arm_neon.h"}

# Outside libraries the table may name (lower case, as written in the "may
# use" column) and the include names that belong to each.
OUTSIDE_LIBRARIES = {
    "sofia-sip": ("sofia-sip/",),
    "expat": ("expat.h", "expat_external.h", "expat_config.h"),
    "libsrtp2": ("srtp2/",),
    "nettle": ("nettle/",),
    "spandsp": ("spandsp.h", "spandsp/"),
    "libopus": ("opus/", "opus.h"),
    "bcg729": ("bcg729/",),
    "speexdsp": ("speex/",),
    "libsodium": ("sodium.h", "sodium/"),
    "libuv": ("uv.h", "uv/"),
    "jansson": ("jansson.h", "jansson_config.h"),
    "libsndfile": ("sndfile.h",),
    "libmicrohttpd": ("microhttpd.h",),
    "pocketsphinx": ("pocketsphinx.h", "pocketsphinx/", "sphinxbase/"),
    "hiredis": ("hiredis/",),
    "liburing": ("liburing.h", "liburing/"),
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_EXTS = (".c", ".h", ".cpp", ".cc", ".hpp")


class Rules:
    """The table of docs/architecture.md."""

    def __init__(self):
        self.folders = {}      # "lib/sip" -> set of lib folders it may use
        self.outside = {}      # "lib/sip" -> set of outside library names (+ "libc")
        self.lib_names = set() # "sip", ...
        self.header_owner = {} # "handler.h" -> set of lib folders ("lib/handler")
        self.examples_outside = set()


def split_row(line):
    cells = line.strip().strip("|").split("|")
    return [c.strip() for c in cells]


def tables(text):
    """Yields (header cells, rows) of each markdown table."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and \
                re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            head = [c.lower() for c in split_row(lines[i])]
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            yield head, rows
        else:
            i += 1


def outside_names(cell):
    plain = re.sub(r"`[^`]*`", " ", cell).lower()
    names = set()
    if re.search(r"\blibc\b", plain):
        names.add("libc")
    for lib in OUTSIDE_LIBRARIES:
        if lib in plain:
            names.add(lib)
    return names


def read_rules(path):
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        raise SystemExit("check_layering: cannot read %s: %s" % (path, e))
    rules = Rules()
    folder_rows = None
    owner_rows = None
    for head, rows in tables(text):
        if head[:3] == ["folder", "its job", "may use"]:
            folder_rows = rows
        elif head[:2] == ["public header", "owned by"]:
            owner_rows = rows
    if folder_rows is None:
        print("check_layering: %s has no table `folder | its job | may use`" % path,
              file=sys.stderr)
        sys.exit(2)
    lib_rows = []
    for row in folder_rows:
        if len(row) < 3:
            continue
        for f in re.findall(r"`([^`]+)`", row[0]):
            f = f.strip().rstrip("/")
            if f.startswith("lib/") and f.count("/") == 1:
                rules.lib_names.add(f[4:])
                lib_rows.append((f, row[2]))
            elif f == "examples":
                rules.examples_outside = outside_names(row[2])
    for folder, cell in lib_rows:
        used = set()
        for tok in re.findall(r"`([^`]+)`", cell):
            tok = tok.strip().rstrip("/")
            if tok.startswith("lib/"):
                tok = tok[4:]
            if tok in rules.lib_names:
                used.add("lib/" + tok)
        rules.folders[folder] = used
        rules.outside[folder] = outside_names(cell)
    for row in owner_rows or []:
        if len(row) < 2:
            continue
        owners = set()
        if "all of them" in row[1].lower():
            owners = set(rules.folders)
        for tok in re.findall(r"`([^`]+)`", row[1]):
            tok = tok.strip().rstrip("/")
            if tok.startswith("lib/"):
                tok = tok[4:]
            if tok in rules.lib_names:
                owners.add("lib/" + tok)
        for h in re.findall(r"`([^`]+)`", row[0]):
            rules.header_owner[h.strip()] = owners
    return rules


class Checker:
    def __init__(self, root, rules):
        self.root = os.path.abspath(root)
        self.rules = rules
        self.violations = []   # (kind, text)

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def fail(self, kind, text):
        self.violations.append((kind, text))

    def lib_folder(self, relpath):
        parts = relpath.split(os.sep)
        if len(parts) >= 3 and parts[0] == "lib":
            return "lib/" + parts[1]
        return None

    def files_under(self, top, exts=SOURCE_EXTS):
        out = []
        base = os.path.join(self.root, top)
        for d, _, names in os.walk(base):
            for n in names:
                if n.endswith(exts) or n.endswith(".h.in"):
                    out.append(os.path.join(d, n))
        return sorted(out)

    @staticmethod
    def includes(path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    m = INCLUDE_RE.match(line)
                    if m:
                        yield no, m.group(1), m.group(2).strip()
        except OSError:
            return

    def public_header(self, name):
        """'siprec/x.h' -> 'x.h' when it is (or is generated as) a public header."""
        if not name.startswith("siprec/"):
            return None
        h = name[len("siprec/"):]
        d = os.path.join(self.root, "include", "siprec")
        if os.path.exists(os.path.join(d, h)) or os.path.exists(os.path.join(d, h + ".in")):
            return h
        return h  # a <siprec/...> that does not exist: still the public namespace

    def owners(self, header):
        return self.rules.header_owner.get(header, set())

    @staticmethod
    def outside_library(name):
        if name in LIBC_HEADERS:
            return "libc"
        for lib, pats in OUTSIDE_LIBRARIES.items():
            for p in pats:
                if name == p or (p.endswith("/") and name.startswith(p)):
                    return lib
        return None

    def resolve_quote(self, path, name, extra_dirs):
        cands = [os.path.join(os.path.dirname(path), name)]
        cands += [os.path.join(self.root, d, name) for d in extra_dirs]
        for c in cands:
            c = os.path.normpath(c)
            if os.path.exists(c) or os.path.exists(c + ".in"):
                return c
        return None

    def allowed(self, src_folder, dst_folder):
        return dst_folder == src_folder or dst_folder in self.rules.folders.get(src_folder, set())

    def check_arrow(self, where, src_folder, dst_folder, how):
        if dst_folder not in self.rules.folders:
            self.fail("include", "%s: %s uses %s/, which the table does not know" % (where, how, dst_folder))
        elif not self.allowed(src_folder, dst_folder):
            self.fail("include", "%s: %s: arrow %s -> %s against the table (%s may use: %s)" % (
                where, how, src_folder, dst_folder, src_folder,
                ", ".join(sorted(f[4:] for f in self.rules.folders.get(src_folder, ()))) or "no folder of lib/"))

    # --- 1. lib/ -----------------------------------------------------------
    def check_lib_includes(self):
        n = 0
        for path in self.files_under("lib", (".c", ".h")):
            rel = self.rel(path)
            folder = self.lib_folder(rel)
            if folder is None:
                continue
            n += 1
            if folder not in self.rules.folders:
                self.fail("include", "%s: folder %s/ is not in the table of docs/architecture.md" % (rel, folder))
                continue
            for no, kind, name in self.includes(path):
                where = "%s:%d" % (rel, no)
                how = "#include %s" % (('"%s"' % name) if kind == '"' else ("<%s>" % name))
                if kind == '"':
                    target = self.resolve_quote(path, name, ["lib", "include"])
                    if target is None:
                        self.fail("include", "%s: %s resolves to no file of the tree" % (where, how))
                        continue
                    trel = self.rel(target)
                    if trel.startswith("lib" + os.sep):
                        dst = self.lib_folder(trel)
                        if dst is None:
                            self.fail("include", "%s: %s is outside every folder of lib/" % (where, how))
                        else:
                            self.check_arrow(where, folder, dst, how)
                        continue
                    if trel.startswith(os.path.join("include", "siprec") + os.sep):
                        name = "siprec/" + os.path.basename(trel).replace(".h.in", ".h")
                        kind = "<"
                    else:
                        self.fail("include", "%s: %s reaches %s, outside lib/ and include/siprec/" % (
                            where, how, trel))
                        continue
                h = self.public_header(name)
                if h is not None:
                    owners = self.owners(h)
                    if not owners:
                        self.fail("include", "%s: %s: public header %s has no owner in the table" % (where, how, h))
                    for dst in sorted(owners):
                        self.check_arrow(where, folder, dst, how)
                    continue
                lib = self.outside_library(name)
                if lib is None:
                    self.fail("include", "%s: %s: an outside header of no library the table names" % (where, how))
                elif lib not in self.rules.outside.get(folder, set()):
                    self.fail("include", "%s: %s: %s/ may not use %s (table: %s)" % (
                        where, how, folder, lib, ", ".join(sorted(self.rules.outside.get(folder, ()))) or "nothing"))
        return n

    # --- 2. public headers --------------------------------------------------
    def check_public_headers(self):
        n = 0
        d = os.path.join(self.root, "include", "siprec")
        if not os.path.isdir(d):
            return 0
        for name in sorted(os.listdir(d)):
            if not (name.endswith(".h") or name.endswith(".h.in")):
                continue
            path = os.path.join(d, name)
            hname = name[:-3] if name.endswith(".in") else name
            n += 1
            rel = self.rel(path)
            src_owners = self.owners(hname)
            for no, kind, inc in self.includes(path):
                where = "%s:%d" % (rel, no)
                how = "#include %s" % (('"%s"' % inc) if kind == '"' else ("<%s>" % inc))
                target_h = None
                if kind == '"':
                    t = self.resolve_quote(path, inc, [])
                    if t is not None and os.path.dirname(t) == os.path.normpath(d):
                        target_h = os.path.basename(t).replace(".h.in", ".h")
                    else:
                        self.fail("public", "%s: %s: a public header includes only libc and <siprec/...> headers" % (
                            where, how))
                        continue
                elif inc.startswith("siprec/"):
                    target_h = inc[len("siprec/"):]
                    if not (os.path.exists(os.path.join(d, target_h)) or
                            os.path.exists(os.path.join(d, target_h + ".in"))):
                        self.fail("public", "%s: %s: no such public header" % (where, how))
                        continue
                elif inc in LIBC_HEADERS:
                    continue
                else:
                    self.fail("public", "%s: %s: a public header includes only libc and <siprec/...> headers" % (
                        where, how))
                    continue
                # An arrow between public headers follows their owners' rows
                # (the umbrella, owned by all, is exempt).
                if len(src_owners) == 1:
                    src = next(iter(src_owners))
                    for dst in sorted(self.owners(target_h)):
                        self.check_arrow(where, src, dst, how)
        return n

    # --- 3. examples --------------------------------------------------------
    def check_examples(self):
        n = 0
        ex = os.path.join(self.root, "examples")
        for path in self.files_under("examples"):
            rel = self.rel(path)
            n += 1
            for no, kind, name in self.includes(path):
                where = "%s:%d" % (rel, no)
                how = "#include %s" % (('"%s"' % name) if kind == '"' else ("<%s>" % name))
                if kind == '"':
                    target = self.resolve_quote(path, name, [])
                    if target is None:
                        # The examples' own include directories (examples/common, ...).
                        for d, _, names in os.walk(ex):
                            c = os.path.normpath(os.path.join(d, name))
                            if os.path.exists(c):
                                target = c
                                break
                    if target is not None:
                        trel = self.rel(target)
                        if trel.startswith("examples" + os.sep):
                            continue
                        if trel.startswith(os.path.join("include", "siprec") + os.sep):
                            continue
                        if trel.startswith("lib" + os.sep):
                            self.fail("examples", "%s: %s: examples see only the public API, not lib/ internals (%s)" % (
                                where, how, trel))
                            continue
                        self.fail("examples", "%s: %s reaches %s, outside examples/ and include/siprec/" % (
                            where, how, trel))
                        continue
                    if os.path.exists(os.path.join(self.root, "lib", name)):
                        self.fail("examples", "%s: %s: examples see only the public API, not lib/ internals (lib/%s)" % (
                            where, how, name))
                    else:
                        self.fail("examples", "%s: %s resolves to no file of the tree" % (where, how))
                    continue
                if name.startswith("siprec/"):
                    continue
                if os.path.exists(os.path.join(self.root, "lib", name)):
                    self.fail("examples", "%s: %s: examples see only the public API, not lib/ internals (lib/%s)" % (
                        where, how, name))
                    continue
                lib = self.outside_library(name)
                if lib is None or (lib != "libc" and lib not in self.rules.examples_outside):
                    self.fail("examples", "%s: %s: an outside header the examples' row does not name" % (where, how))
        return n

    # --- 4. objects ---------------------------------------------------------
    def lib_objects(self, build):
        """[(source relpath, object path)] of the library's objects in BUILD."""
        objs = {}
        cc_json = os.path.join(build, "compile_commands.json")
        if os.path.exists(cc_json):
            with open(cc_json, encoding="utf-8") as f:
                for e in json.load(f):
                    out = e.get("output", "")
                    if not re.match(r"^lib/libsiprec[^/]*\.p/", out):
                        continue
                    src = os.path.normpath(os.path.join(e.get("directory", build), e["file"]))
                    rel = self.rel(src)
                    if not rel.startswith("lib" + os.sep):
                        continue
                    obj = os.path.join(build, out)
                    if os.path.exists(obj) and rel not in objs:
                        objs[rel] = obj
        if not objs:
            # No compilation database: meson names an object after its source
            # path below lib/ with '/' turned into '_'.
            by_name = {}
            for p in self.files_under("lib", (".c",)):
                rel = self.rel(p)
                by_name[rel[len("lib/"):].replace(os.sep, "_") + ".o"] = rel
            libdir = os.path.join(build, "lib")
            if os.path.isdir(libdir):
                for d in sorted(os.listdir(libdir)):
                    if d.startswith("libsiprec") and d.endswith(".p"):
                        for o in sorted(os.listdir(os.path.join(libdir, d))):
                            if o in by_name and by_name[o] not in objs:
                                objs[by_name[o]] = os.path.join(libdir, d, o)
        return sorted(objs.items())

    def check_calls(self, build):
        nm = shutil.which("nm")
        if nm is None:
            print("check_layering: nm not found (binutils)", file=sys.stderr)
            sys.exit(2)
        objs = self.lib_objects(build)
        if not objs:
            print("check_layering: no object file of lib/ in %s (build it first)" % build, file=sys.stderr)
            sys.exit(2)
        defined = {}   # symbol -> file
        used = {}      # file -> set of symbols
        # One nm for every object (-A names each line's object): a process
        # per object cost 77 ms each on a slow machine, 9 s in all.
        rel_of = {obj: rel for rel, obj in objs}
        r = subprocess.run([nm, "-P", "-A"] + [obj for _, obj in objs], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        if r.returncode != 0:
            print("check_layering: nm: %s" % r.stderr.strip(), file=sys.stderr)
            sys.exit(2)
        for rel, _ in objs:
            used[rel] = set()
        for line in r.stdout.splitlines():
            obj, _, rest = line.partition(": ")
            rel = rel_of.get(obj)
            parts = rest.split()
            if rel is None or len(parts) < 2:
                continue
            sym, t = parts[0], parts[1]
            if t == "U":
                used[rel].add(sym)
            elif t in ("T", "D", "B", "R", "C", "G", "S", "V", "W", "i"):
                defined.setdefault(sym, rel)
        edges = {}     # (a, b) -> sorted symbols
        for a, syms in used.items():
            for s in syms:
                b = defined.get(s)
                if b is not None and b != a:
                    edges.setdefault((a, b), set()).add(s)
        for (a, b), syms in sorted(edges.items()):
            fa, fb = self.lib_folder(a), self.lib_folder(b)
            if fa is None or fb is None or fa == fb:
                continue
            if fa not in self.rules.folders or fb not in self.rules.folders:
                self.fail("call", "%s calls %s (%s): a folder the table does not know" % (
                    a, b, ", ".join(sorted(syms))))
            elif not self.allowed(fa, fb):
                self.fail("call", "%s calls %s: arrow %s -> %s against the table (%s)" % (
                    a, b, fa, fb, ", ".join(sorted(syms))))
        for comp in sccs(sorted(used), edges):
            lines = ["circle of calls between %d files of lib/: %s" % (len(comp), ", ".join(comp))]
            cs = set(comp)
            for (a, b), syms in sorted(edges.items()):
                if a in cs and b in cs:
                    lines.append("    %s -> %s: %s" % (a, b, ", ".join(sorted(syms))))
            self.fail("circle", "\n".join(lines))
        return len(objs), len(edges)


def sccs(nodes, edges):
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    succ = {n: [] for n in nodes}
    for (a, b) in edges:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])
    for n in succ:
        succ[n].sort()
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(succ):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter[0]
                counter[0] += 1
                stack.append(v)
                on.add(v)
            recurse = False
            for j in range(i, len(succ[v])):
                w = succ[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return sorted(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", help="a meson build directory holding the library's objects")
    ap.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")),
                    help="the source tree (default: this script's ../..)")
    ap.add_argument("--arch", help="the architecture document (default: ROOT/docs/architecture.md)")
    args = ap.parse_args()
    arch = args.arch or os.path.join(args.root, "docs", "architecture.md")
    rules = read_rules(arch)
    ck = Checker(args.root, rules)
    nlib = ck.check_lib_includes()
    npub = ck.check_public_headers()
    nex = ck.check_examples()
    nobj, nedges = ck.check_calls(os.path.abspath(args.build))
    titles = {
        "include": "folder arrows against the table (#include)",
        "public": "public headers including what is not libc nor <siprec/...>",
        "examples": "examples including lib/ internals or unnamed headers",
        "call": "folder arrows against the table (calls, from nm)",
        "circle": "circles of calls between files of lib/ (from nm)",
    }
    for kind in ("include", "public", "examples", "call", "circle"):
        items = [t for k, t in ck.violations if k == kind]
        if items:
            print("%s:" % titles[kind])
            for t in items:
                print("  " + t)
    summary = "%d files of lib/, %d public headers, %d example files, %d objects, %d file-to-file edges" % (
        nlib, npub, nex, nobj, nedges)
    if ck.violations:
        print("layering: FAIL, %d violations (%s; rules: %s)" % (len(ck.violations), summary,
                                                             os.path.relpath(arch, args.root)))
        return 1
    print("layering: ok (%s)" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
