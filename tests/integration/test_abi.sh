#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ABI checks of the shared library.
#   usage: test_abi.sh path/to/libsiprec.so SOURCE_ROOT
# - the SONAME is libsiprec.so.0;
# - every exported (dynamic, defined) function starts with siprec_ and has
#   the version SIPREC_0.1, or SIPREC_EXPERIMENTAL_0.1 when the header
#   declares it in its experimental section (#ifdef SIPREC_EXPERIMENTAL);
# - the exported functions are exactly the SIPREC_API declarations of
#   include/siprec/*.h;
# - every SIPREC_API declaration has a doc comment ending on the line above.
set -u -o pipefail

lib=${1:?usage: test_abi.sh LIBSIPREC_SO SOURCE_ROOT}
src=${2:?usage: test_abi.sh LIBSIPREC_SO SOURCE_ROOT}
want_soname=libsiprec.so.0
want_version=SIPREC_0.1
exp_version=SIPREC_EXPERIMENTAL_0.1
status=0

fail() {
  echo "FAIL: $*" >&2
  status=1
}

for tool in readelf awk sort comm; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found" >&2; exit 1; }
done
[ -f "$lib" ] || { echo "FAIL: no such library: $lib" >&2; exit 1; }
[ -d "$src/include/siprec" ] || { echo "FAIL: no headers under $src/include/siprec" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- SONAME ---------------------------------------------------------------
soname=$(LC_ALL=C readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "$want_soname" ]; then
  fail "SONAME is '${soname:-<none>}', expected $want_soname"
fi

# --- exported symbols -----------------------------------------------------
# readelf -W --dyn-syms: Num: Value Size Type Bind Vis Ndx Name[@[@]version]
LC_ALL=C readelf -W --dyn-syms "$lib" >"$tmp/dynsyms" || { echo "FAIL: readelf failed on $lib" >&2; exit 1; }
awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && $6 == "DEFAULT" \
     { print $4, $8 }' "$tmp/dynsyms" >"$tmp/exported"

: >"$tmp/exported_funcs"
while read -r type name; do
  [ -n "$name" ] || continue
  sym=${name%%@*}
  ver=
  case $name in *@*) ver=${name##*@} ;; esac
  if { [ "$sym" = "$want_version" ] || [ "$sym" = "$exp_version" ]; } && [ "$type" = OBJECT ] ||
     [ "$sym" = "$ver" ]; then
    continue # the version definition symbol itself
  fi
  case $sym in
    siprec_*) ;;
    *) fail "exported symbol '$sym' ($type) does not start with siprec_" ;;
  esac
  echo "$sym $ver" >>"$tmp/exported_versions"
  if [ "$type" = FUNC ] || [ "$type" = IFUNC ]; then
    echo "$sym" >>"$tmp/exported_funcs"
  else
    fail "exported symbol '$sym' is a $type, not a function (the API exports functions only)"
  fi
done <"$tmp/exported"
sort -u "$tmp/exported_funcs" -o "$tmp/exported_funcs"
if [ ! -s "$tmp/exported_funcs" ]; then
  fail "no exported siprec_ function found in $lib"
fi

# --- declarations in the headers ----------------------------------------------
# A declaration starts on a line beginning with SIPREC_API; the function name
# is the identifier right before the first '(' (which may be on the next line).
# The line above it must end a comment ('*/').
: >"$tmp/declared"
for h in "$src"/include/siprec/*.h; do
  awk -v file="$h" '
    function report(msg) { print "DOC " file ":" FNR ": " msg; }
    {
      if (pending != "") {
        text = pending " " $0
        pending = ""
        if (match(text, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
          name = substr(text, RSTART, RLENGTH)
          sub(/[ \t]*\($/, "", name)
          print "DECL " name " " pexp
        } else {
          print "BAD " file ":" start ": cannot find the function name"
        }
      }
      if ($0 ~ /^#ifdef SIPREC_EXPERIMENTAL/) inexp = 1
      if ($0 ~ /^#endif \/\* SIPREC_EXPERIMENTAL/) inexp = 0
      if ($0 ~ /^SIPREC_API[ \t]/) {
        start = FNR
        if (prev !~ /\*\/[ \t]*$/)
          print "NODOC " file ":" FNR ": " $0
        line = $0
        sub(/^SIPREC_API[ \t]+/, "", line)
        if (match(line, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
          name = substr(line, RSTART, RLENGTH)
          sub(/[ \t]*\($/, "", name)
          print "DECL " name " " inexp
        } else {
          pending = line
          pexp = inexp
        }
      }
      prev = $0
    }
    END { if (pending != "") print "BAD " file ":" start ": declaration runs off the end" }
  ' "$h" >>"$tmp/declared"
done
while read -r kind rest; do
  case $kind in
    NODOC) fail "SIPREC_API declaration without a doc comment ('*/') on the line above: $rest" ;;
    BAD) fail "$rest" ;;
  esac
done <"$tmp/declared"
awk '$1 == "DECL" { print $2 }' "$tmp/declared" | sort -u >"$tmp/declared_funcs"
# The version each symbol must carry: its section's node.
awk -v s="$want_version" -v e="$exp_version" '$1 == "DECL" { print $2, ($3 == 1 ? e : s) }' \
  "$tmp/declared" | sort -u >"$tmp/declared_versions"
touch "$tmp/exported_versions"
sort -u "$tmp/exported_versions" -o "$tmp/exported_versions"
while read -r sym ver; do
  want=$(awk -v n="$sym" '$1 == n { print $2 }' "$tmp/declared_versions")
  [ -n "$want" ] || continue # reported below as not declared
  if [ "$ver" != "$want" ]; then
    fail "exported symbol '$sym' has version '${ver:-<none>}', expected $want"
  fi
done <"$tmp/exported_versions"
if [ ! -s "$tmp/declared_funcs" ]; then
  fail "no SIPREC_API declaration found in $src/include/siprec/*.h"
fi

while read -r f; do
  fail "declared with SIPREC_API but not exported: $f"
done < <(comm -23 "$tmp/declared_funcs" "$tmp/exported_funcs")
while read -r f; do
  fail "exported but not declared with SIPREC_API in include/siprec/*.h: $f"
done < <(comm -13 "$tmp/declared_funcs" "$tmp/exported_funcs")

ndecl=$(wc -l <"$tmp/declared_funcs")
nexp=$(wc -l <"$tmp/exported_funcs")
if [ "$status" -eq 0 ]; then
  nexpv=$(grep -c " $exp_version\$" "$tmp/exported_versions" || true)
  echo "ABI ok: SONAME $soname, $nexp exported functions ($nexpv of them $exp_version, the rest $want_version), $ndecl declared and documented"
fi
exit "$status"
