#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Self-test of check_abi.sh: builds a tiny shared library (libt.so.0, with a
# public header dir and a private struct), takes its ABI as the baseline, then
# builds changed versions and checks that check_abi.sh
#   - fails, naming the interface, on a removed function, a changed function
#     signature and a changed public struct;
#   - passes on an addition (and lists it), on a change of a private struct
#     and on no change.
#   usage: selftest.sh [CHECK_ABI_SH]
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=${1:-$here/check_abi.sh}
cc=${CC:-cc}
for tool in abidw abidiff; do
  command -v "$tool" >/dev/null || { echo "abi self-test: $tool not found (Debian abigail-tools): skipped"; exit 77; }
done
command -v "$cc" >/dev/null || { echo "abi self-test: no C compiler: skipped"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

header_v1='struct t_handle;
struct t_config { int size; int flags; };
int t_open(struct t_handle **h, const struct t_config *c);
int t_count(const struct t_handle *h);
void t_close(struct t_handle *h);'
source_v1='#include <stdlib.h>
#include <t/t.h>
struct t_handle { int n; };
int t_open(struct t_handle **h, const struct t_config *c) { *h = calloc(1, sizeof **h); (*h)->n = c->flags; return 0; }
int t_count(const struct t_handle *h) { return h->n; }
void t_close(struct t_handle *h) { free(h); }'

# build DIR HEADER SOURCE [MAP]: DIR/inc/t/t.h and DIR/libt.so.0 (with the
# version script MAP when given)
build() {
  mkdir -p "$1/inc/t"
  printf '%s\n' "$2" >"$1/inc/t/t.h"
  printf '%s\n' "$3" >"$1/t.c"
  local vscript=()
  if [ -n "${4:-}" ]; then
    printf '%s\n' "$4" >"$1/t.map"
    vscript=("-Wl,--version-script=$1/t.map")
  fi
  "$cc" -g -O2 -shared -fPIC -I"$1/inc" -Wl,-soname,libt.so.0 "${vscript[@]}" -o "$1/libt.so.0" "$1/t.c"
}

# expect NAME STATUS WANT DIR HEADER SOURCE [MAP]: check_abi.sh's exit
# status and a string its report must hold (against $base).
base=$tmp/base.abi
expect() {
  local name=$1 want_rc=$2 want=$3 dir=$tmp/$4
  build "$dir" "$5" "$6" "${7:-}" || { echo "FAIL: $name: the library did not build"; failures=$((failures + 1)); return; }
  out=$("$check" --baseline "$base" --headers "$dir/inc" "$dir/libt.so.0" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$want" <<<"$out"; then
    echo "FAIL: $name: exit $rc (want $want_rc), report lacks '$want':"
    # shellcheck disable=SC2001
    printf '%s\n' "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok: $name (exit $rc)"
  fi
}

build "$tmp/v1" "$header_v1" "$source_v1" || { echo "FAIL: the first version did not build"; exit 1; }
"$check" --update --baseline "$tmp/base.abi" --headers "$tmp/v1/inc" "$tmp/v1/libt.so.0" >/dev/null ||
  { echo "FAIL: check_abi.sh --update made no baseline"; exit 1; }

expect "no change passes" 0 "no ABI change" same "$header_v1" "$source_v1"
expect "a removed function is caught" 1 "t_count" removed \
  "$(grep -v t_count <<<"$header_v1")" "$(grep -v t_count <<<"$source_v1")"
expect "a changed signature is caught" 1 "t_count" signature \
  "${header_v1/int t_count(const struct t_handle \*h)/long t_count(const struct t_handle *h, int x)}" \
  "${source_v1/int t_count(const struct t_handle \*h) \{ return h->n; \}/long t_count(const struct t_handle *h, int x) { return h->n + x; \}}"
expect "a changed public struct is caught" 1 "t_config" struct \
  "${header_v1/int size; int flags;/long size; int flags;}" "$source_v1"
expect "an addition passes and is listed" 0 "t_reset" added \
  "$header_v1
void t_reset(struct t_handle *h);" "$source_v1
void t_reset(struct t_handle *h) { h->n = 0; }"
expect "a private struct's change passes" 0 "no ABI change" private \
  "$header_v1" "${source_v1/struct t_handle \{ int n; \};/struct t_handle { long pad; int n; \};}"

# The experimental node: its changes pass (tests/abi/libsiprec.abignore),
# the stable node's are still caught.
map='SIPREC_0.1 { global: t_open; t_count; t_close; local: *; };
SIPREC_EXPERIMENTAL_0.1 { global: t_probe; } SIPREC_0.1;'
header_x="$header_v1
int t_probe(const struct t_handle *h);"
source_x="$source_v1
int t_probe(const struct t_handle *h) { return h->n * 2; }"
build "$tmp/x1" "$header_x" "$source_x" "$map" || { echo "FAIL: the versioned library did not build"; exit 1; }
base=$tmp/base-x.abi
"$check" --update --baseline "$base" --headers "$tmp/x1/inc" "$tmp/x1/libt.so.0" >/dev/null ||
  { echo "FAIL: check_abi.sh --update made no baseline of the versioned library"; exit 1; }
expect "an experimental function's change passes" 0 "check_abi: ok" x-changed \
  "${header_x/int t_probe(const struct t_handle \*h)/long t_probe(const struct t_handle *h, long k)}" \
  "${source_x/int t_probe(const struct t_handle \*h) \{ return h->n \* 2; \}/long t_probe(const struct t_handle *h, long k) { return h->n * k; \}}" \
  "$map"
expect "an experimental function's removal passes" 0 "check_abi: ok" x-removed \
  "$header_v1" "$source_v1" "${map%%$'\n'*}"
expect "a stable function's change in a versioned library is caught" 1 "t_count" x-stable \
  "${header_x/int t_count(const struct t_handle \*h)/long t_count(const struct t_handle *h, int x)}" \
  "${source_x/int t_count(const struct t_handle \*h) \{ return h->n; \}/long t_count(const struct t_handle *h, int x) { return h->n + x; \}}" \
  "$map"

if [ "$failures" -eq 0 ]; then
  echo "abi self-test: ok"
  exit 0
fi
echo "abi self-test: $failures FAILED"
exit 1
