#!/usr/bin/env bash
# Installs the build into a scratch DESTDIR and builds consumers the way a
# packager's user would: pkg-config for flags, C and C++, shared and static.
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'echo "test_install: failed at line $LINENO: $BASH_COMMAND"' ERR

meson install -C "$build" --no-rebuild --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; exit 1; }

pc=$(find "$tmp/root" -name siprec.pc | head -n 1)
[ -n "$pc" ] || { echo "siprec.pc not installed"; exit 1; }
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
# The .pc names the configured prefix; point it into the DESTDIR tree.
prefix=$(pkg-config --variable=prefix siprec)
pkgconf() { pkg-config --define-variable=prefix="$tmp/root$prefix" "$@"; }

for h in siprec.h common.h shmap.h version.h; do
  inc=$(pkgconf --variable=includedir siprec)
  [ -f "$inc/siprec/$h" ] || { echo "header siprec/$h not installed under $inc"; exit 1; }
done
find "$tmp/root" -name 'siprec_shmap.3*' | grep -q . || { echo "man page not installed"; exit 1; }
[ "$(pkgconf --modversion siprec)" = "$(sed -n 's/^ *version : .\([0-9.]*\).*/\1/p' "$src/meson.build" | head -n 1)" ] ||
  { echo "pkg-config version differs from the project's"; exit 1; }

cat >"$tmp/consumer.c" <<'C'
#include <siprec/siprec.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
  siprec_shmap *m;
  if (strcmp(siprec_version(), SIPREC_VERSION_STRING) != 0) return 1;
  if (siprec_shmap_new(&m, NULL, NULL) != 0) return 2;
  if (siprec_shmap_store(m, "call-1@host", 11, (void *)m) != 0) return 3;
  void *v = NULL;
  if (siprec_shmap_load(m, "call-1@host", 11, &v) != 1 || v != (void *)m) return 4;
  siprec_shmap_free(m);
  puts("consumer ok");
  return 0;
}
C
cp "$tmp/consumer.c" "$tmp/consumer.cpp"
libdir=$(pkgconf --variable=libdir siprec)

# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/c-shared" "$tmp/consumer.c" $(pkgconf --cflags --libs siprec)
LD_LIBRARY_PATH=$libdir "$tmp/c-shared"
# shellcheck disable=SC2046
c++ -std=c++11 -Wall -Wextra -Werror -o "$tmp/cxx-shared" "$tmp/consumer.cpp" $(pkgconf --cflags --libs siprec)
LD_LIBRARY_PATH=$libdir "$tmp/cxx-shared"
# libsiprec.a linked statically, the libraries siprec.pc names for it as
# shared ones: Debian's NSS (under libsrtp2) has no static archives, so a
# fully static program cannot be made; test_pkgconfig.sh does the fully
# static link where every archive exists.
static_libs=$(pkgconf --static --libs siprec)
static_libs=${static_libs//-lsiprec/-Wl,-Bstatic -lsiprec -Wl,-Bdynamic}
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/c-static" "$tmp/consumer.c" \
  $(pkgconf --static --cflags siprec) $static_libs
"$tmp/c-static"
static_deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/c-static")
if grep -q libsiprec <<<"$static_deps"; then
  echo "the static consumer loads libsiprec.so"; exit 1
fi
# The shared consumer must really resolve libsiprec.so.0 by its SONAME.
# (ldd's output is taken whole: `ldd | grep -q` under pipefail fails at
# random when grep exits first and ldd gets SIGPIPE.)
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/c-shared")
grep -q 'libsiprec.so.0 =>' <<<"$deps" ||
  { echo "consumer not linked against libsiprec.so.0"; exit 1; }
echo "install, pkg-config, C/C++ shared and static consumers: ok"
