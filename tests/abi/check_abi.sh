#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compares the ABI of the built libsiprec.so.0 with the baseline under
# tests/abi/ (libabigail: Debian abigail-tools).
#
#   usage: check_abi.sh [--update] [--baseline FILE] [--headers DIR]...
#                       [--suppressions FILE] LIB
#
# LIB is the built shared library (build/gcc/lib/libsiprec.so.0). Only types
# of the public headers count (--headers: include/siprec and the build's
# generated include/siprec; private types are dropped), so a change inside
# the library's own structures is not an ABI change.
#
# Fails (exit 1), printing abidiff's report, on an incompatible change: a
# function or variable removed or changed (a parameter, a return type, a
# public struct's layout), an ELF symbol removed, the SONAME changed. Passes
# (exit 0) when nothing changed or the changes are only additions, which it
# lists. Functions of the experimental version nodes (SIPREC_EXPERIMENTAL_*)
# are left out by the suppressions (default tests/abi/libsiprec.abignore).
# --update writes the current ABI as the new baseline instead
# (docs/abi.md says when). Exit 77 (skipped) without abidw/abidiff.
set -u -o pipefail

update=0 baseline='' lib='' suppressions=''
headers=()
here=$(cd "$(dirname "$0")" && pwd)
while [ $# -gt 0 ]; do
  case $1 in
    --update) update=1 ;;
    --baseline) baseline=$2; shift ;;
    --headers) headers+=("$2"); shift ;;
    --suppressions) suppressions=$2; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    -*) echo "check_abi: unknown option $1" >&2; exit 2 ;;
    *) lib=$1 ;;
  esac
  shift
done
[ -n "$lib" ] || { echo "usage: check_abi.sh [--update] [--baseline FILE] [--headers DIR]... LIB" >&2; exit 2; }
[ -n "$baseline" ] || baseline=$here/libsiprec.so.0.abi
[ -n "$suppressions" ] || suppressions=$here/libsiprec.abignore
[ ${#headers[@]} -gt 0 ] || headers=("$here/../../include/siprec")
[ -f "$lib" ] || { echo "check_abi: no such library: $lib" >&2; exit 2; }
for tool in abidw abidiff; do
  command -v "$tool" >/dev/null || { echo "check_abi: $tool not found (Debian abigail-tools): skipped"; exit 77; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hd_args=()
for d in "${headers[@]}"; do
  [ -d "$d" ] || continue
  hd_args+=(--headers-dir "$d")
done
[ ${#hd_args[@]} -gt 0 ] || { echo "check_abi: none of the header directories exists: ${headers[*]}" >&2; exit 2; }

# The same flags for the baseline and for every build, so that the two sides
# differ only where the ABI does: no paths of this machine in the file.
if ! abidw "${hd_args[@]}" --drop-private-types --no-corpus-path --no-comp-dir-path \
     --short-locs --out-file "$tmp/current.abi" "$lib" 2>"$tmp/abidw.err"; then
  echo "check_abi: abidw failed on $lib:" >&2
  cat "$tmp/abidw.err" >&2
  exit 1
fi
if ! grep -q '<elf-symbol name=' "$tmp/current.abi"; then
  echo "check_abi: abidw found no exported symbol in $lib" >&2
  exit 1
fi

if ! grep -q '<function-decl ' "$tmp/current.abi"; then
  echo "check_abi: no function types in $lib: build it with debug information (-g, meson's debug/debugoptimized)" >&2
  exit 1
fi

if [ "$update" -eq 1 ]; then
  cp "$tmp/current.abi" "$baseline"
  n=$(grep -c '<elf-symbol name=' "$baseline")
  echo "check_abi: baseline written: $baseline ($n ELF symbols)"
  exit 0
fi
[ -f "$baseline" ] || { echo "check_abi: no baseline $baseline (run with --update to make one)" >&2; exit 1; }

# Both sides are abidw output already reduced to the public headers' types
# (abidiff's own --hd1/--hd2 on ABI XML input trips an assertion in
# libabigail 2.2, and would filter nothing more).
suppr_args=()
[ -f "$suppressions" ] && suppr_args=(--suppressions "$suppressions")
abidiff "${suppr_args[@]}" "$baseline" "$tmp/current.abi" >"$tmp/report" 2>&1
rc=$?
status=0
# abidiff's exit status is a bit set: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible change. A changed struct or parameter is only "4": the
# summaries say what kind of change it is.
if [ $((rc & 3)) -ne 0 ]; then
  echo "check_abi: abidiff failed (exit $rc):"
  status=1
elif [ $((rc & 8)) -ne 0 ]; then
  echo "check_abi: INCOMPATIBLE ABI change against $(basename "$baseline"):"
  status=1
elif [ $((rc & 4)) -ne 0 ]; then
  bad=$(grep -E 'changes summary: ' "$tmp/report" |
        grep -E '[1-9][0-9]* Removed|[1-9][0-9]* Changed' || true)
  soname=$(grep -E 'SONAME changed|architecture changed' "$tmp/report" || true)
  if [ -n "$bad$soname" ]; then
    echo "check_abi: INCOMPATIBLE ABI change against $(basename "$baseline") (removed or changed interfaces):"
    status=1
  fi
fi
if [ "$status" -ne 0 ]; then
  cat "$tmp/report"
  echo "check_abi: FAIL (a deliberate break: see docs/abi.md; an API still moving: tests/abi/check_abi.sh --update)"
  exit 1
fi
added=$(grep -E "^ *\[A\] " "$tmp/report" || true)
nsyms=$(grep -c '<elf-symbol name=' "$tmp/current.abi")
if [ -n "$added" ]; then
  echo "check_abi: ok, compatible additions against $(basename "$baseline"):"
  echo "$added"
  echo "(abidiff's report:)"
  cat "$tmp/report"
else
  echo "check_abi: ok, no ABI change against $(basename "$baseline") ($nsyms ELF symbols)"
fi
exit 0
