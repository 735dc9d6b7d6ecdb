#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A consumer of the installed library that knows only the install prefix:
# installs the build into a scratch DESTDIR, then with PKG_CONFIG_LIBDIR set
# to that prefix's pkgconfig directory alone (no system .pc file is seen, so
# neither sofia-sip-ua.pc nor expat.pc can help),
#   - `pkg-config --cflags --libs siprec` succeeds and names neither
#     Sofia-SIP nor expat (the shared library hides both);
#   - a C program built with exactly those flags runs against the prefix's
#     libsiprec.so.0 (LD_LIBRARY_PATH);
#   - `pkg-config --static --libs siprec` still gives what libsiprec.a needs,
#     and a static link with it runs.
#   usage: test_pkgconfig.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'echo "test_pkgconfig: failed at line $LINENO: $BASH_COMMAND"' ERR

meson install -C "$build" --no-rebuild --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; exit 1; }
pc=$(find "$tmp/root" -name siprec.pc | head -n 1)
[ -n "$pc" ] || { echo "siprec.pc not installed"; exit 1; }
echo "siprec.pc installed as ${pc#"$tmp/root"}"
export PKG_CONFIG_LIBDIR
PKG_CONFIG_LIBDIR=$(dirname "$pc")
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
# The .pc names the configured prefix; the install went under DESTDIR.
prefix=$(pkg-config --variable=prefix siprec)
pkgconf() { pkg-config --define-variable=prefix="$tmp/root$prefix" "$@"; }

cflags=$(pkgconf --cflags siprec)
libs=$(pkgconf --libs siprec)
echo "pkg-config --cflags --libs siprec: $cflags $libs"
if grep -qi 'sofia\|expat' <<<"$cflags $libs"; then
  echo "a consumer of the shared library is given Sofia-SIP or expat flags: $cflags $libs"
  exit 1
fi
static_libs=$(pkgconf --static --libs siprec)
echo "pkg-config --static --libs siprec: $static_libs"
for l in -lsiprec -lsofia-sip-ua -lexpat; do
  grep -qw -- "$l" <<<"$static_libs" || { echo "pkg-config --static lacks $l"; exit 1; }
done

cat >"$tmp/consumer.c" <<'C'
#include <siprec/siprec.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
  siprec_metadata *m;
  static const char doc[] = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>"
                            "<participant participant_id='p'/></recording>";
  if (strcmp(siprec_version(), SIPREC_VERSION_STRING) != 0) return 1;
  if (siprec_metadata_parse(&m, doc, sizeof doc - 1, NULL, NULL) != 0) return 2;
  if (siprec_metadata_participant_count(m) != 1) return 3;
  siprec_metadata_unref(m);
  printf("consumer ok: libsiprec %s, %s\n", siprec_version(), siprec_strerror(SIPREC_ENOMEM));
  return 0;
}
C
libdir=$(pkgconf --variable=libdir siprec)
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/shared" "$tmp/consumer.c" $cflags $libs
LD_LIBRARY_PATH=$libdir "$tmp/shared"
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/shared")
grep -q "libsiprec.so.0 => $libdir/" <<<"$deps" ||
  { echo "the consumer does not load the prefix's libsiprec.so.0:"; echo "$deps"; exit 1; }
# A fully static link when every library named has its archive; NSS (under
# libsrtp2, meson feature srtp) ships none, and then libsiprec.a alone is
# linked statically, the libraries it names shared: either way every symbol
# libsiprec.a needs must come from what pkg-config names.
link_mode=(-static)
for l in $static_libs; do
  case $l in
  -lsiprec) ;;
  -l*)
    a=lib${l#-l}.a
    [ "$(cc -print-file-name="$a")" != "$a" ] || { link_mode=(); break; }
    ;;
  esac
done
if [ ${#link_mode[@]} -eq 0 ]; then
  echo "no static archive of every library (NSS): libsiprec.a static, the rest shared"
  static_libs=${static_libs//-lsiprec/-Wl,-Bstatic -lsiprec -Wl,-Bdynamic}
fi
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Wextra -Werror "${link_mode[@]}" -o "$tmp/static" "$tmp/consumer.c" \
  $(pkgconf --static --cflags siprec) $static_libs 2>"$tmp/static.log" ||
  { cat "$tmp/static.log"; exit 1; }
"$tmp/static"
if [ ${#link_mode[@]} -eq 0 ] && ldd "$tmp/static" | grep -q libsiprec; then
  echo "the static consumer loads libsiprec.so"; exit 1
fi
echo "pkg-config with the prefix alone: shared and static consumers ok"
