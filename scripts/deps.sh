# shellcheck shell=bash
# Debian 12 packages each job needs, and the installer both scripts share.

# Building the library and its examples; Sofia-SIP's static archive and
# headers (libsofia-sip-ua-dev) are linked into the library.
BUILD_PACKAGES=(meson ninja-build gcc g++ libc6-dev pkg-config libsofia-sip-ua-dev libjansson-dev)
# The test suite: Check, the second compiler with its sanitizer and libFuzzer
# runtimes (libclang-rt-14-dev), valgrind, and liburcu so the benchmarks are
# compiled in every run even though they are not run as tests; libssl-dev
# because a static consumer links Sofia-SIP's Libs.private (-lssl -lcrypto);
# llvm-14 for llvm-symbolizer, so sanitizer reports name files and lines.
# shellcheck disable=SC2034 # used by the scripts that source this file
TEST_PACKAGES=("${BUILD_PACKAGES[@]}" check clang libclang-rt-14-dev valgrind liburcu-dev libssl-dev llvm-14 python3)

# install_packages PKG...: apt-get install what is missing (needs root).
install_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
