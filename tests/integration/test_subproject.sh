#!/usr/bin/env bash
# Builds a host project that embeds libsiprec as a meson subproject and finds
# it through dependency('siprec') (meson.override_dependency).
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/host/subprojects"
ln -s "$(cd "$src" && pwd)" "$tmp/host/subprojects/siprec"
cat >"$tmp/host/meson.build" <<'M'
project('host', 'c', default_options : ['c_std=c11'])
subproject('siprec')
executable('host', 'host.c', dependencies : dependency('siprec'))
M
cat >"$tmp/host/host.c" <<'C'
#include <siprec/siprec.h>
#include <stdio.h>
int main(void)
{
  siprec_shmap *m;
  int rc = siprec_shmap_new(&m, NULL, NULL);
  if (rc != 0) { printf("%s\n", siprec_strerror(rc)); return 1; }
  siprec_shmap_free(m);
  printf("host built with libsiprec %s as a subproject\n", siprec_version());
  return 0;
}
C
(cd "$tmp/host" && meson setup build >"$tmp/setup.log" 2>&1 && meson compile -C build >"$tmp/compile.log" 2>&1) ||
  { cat "$tmp/setup.log" "$tmp/compile.log" 2>/dev/null | tail -40; exit 1; }
"$tmp/host/build/host"
