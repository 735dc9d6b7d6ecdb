# shellcheck shell=bash
# Debian 12 packages each job needs, and the installer both scripts share.

# Building the library and its examples; Sofia-SIP's static archive and
# headers (libsofia-sip-ua-dev) are linked into the library; expat
# (libexpat1-dev) parses the recording metadata; siprec-server runs on
# libuv (libuv1-dev); lib/media decodes with spandsp (G.711 concealment,
# G.722, G.726: required), libopus and speexdsp (meson features, on when
# found); libsrtp2 (libsrtp2-dev, meson feature `srtp`, on when found)
# decrypts SRTP, on Nettle's AES-CM and HMAC-SHA1 (nettle-dev, meson feature
# `srtp_nettle`, on when found: Debian's libsrtp2 runs them on NSS, which
# slows down with every open context); siprec-server's recorder writes WAV/RF64 and FLAC files
# with libsndfile (libsndfile1-dev; without it the server has no --record);
# it serves its Prometheus metrics (--metrics)
# with libmicrohttpd (libmicrohttpd-dev; without it, no metrics);
# siprec-server transcribes with pocketsphinx
# (libpocketsphinx-dev: `--transcribe pocketsphinx` is built when found).
# Session snapshots seal their SRTP keys with libsodium's AEAD
# (libsodium-dev, meson feature `sodium`, on when found; without it a
# snapshot carries no SRTP key, so an SRTP session restores undecryptable).
# siprec-server keeps them in Redis for several nodes (--redis) with
# hiredis's asynchronous client and its libuv adapter (libhiredis-dev,
# meson feature `hiredis`, on when found). It reads its media sockets
# through io_uring with liburing (liburing-dev, meson feature `liburing`,
# on when found; epoll without it or on a kernel before 6.1).
# The demo: the build (siprec-client, its caller, needs libopus, spandsp and
# jansson from the list above), pocketsphinx's en-us model
# (pocketsphinx-en-us) for the transcripts, pocketsphinx-testdata for the
# two participants' speech (goforward.raw, numbers.raw), and python3 for
# the JSON of its report (meson brings it too; named since the script runs it).
BUILD_PACKAGES=(meson ninja-build gcc g++ libc6-dev pkg-config libsofia-sip-ua-dev libjansson-dev libexpat1-dev libuv1-dev libspandsp-dev libopus-dev libspeexdsp-dev libsrtp2-dev nettle-dev libsndfile1-dev libmicrohttpd-dev libpocketsphinx-dev libsodium-dev libhiredis-dev liburing-dev)
# shellcheck disable=SC2034 # used by the scripts that source this file
DEMO_PACKAGES=("${BUILD_PACKAGES[@]}" pocketsphinx-en-us pocketsphinx-testdata python3)
# The test suite: Check, the second compiler with its sanitizer and libFuzzer
# runtimes (libclang-rt-14-dev), valgrind, and liburcu so the benchmarks are
# compiled in every run even though they are not run as tests; libssl-dev
# because a static consumer links Sofia-SIP's Libs.private (-lssl -lcrypto);
# llvm-14 for llvm-symbolizer, so sanitizer reports name files and lines;
# sip-tester (sipp) and kamailio for the handler benchmark's calls-per-second
# run (tests/bench/cps_vs_kamailio.py) and the integration tests; golang-go
# for the map benchmark's Go sync.Map anchor (tests/bench/bench_shmap runs
# `go run` on ../shared/bench/anchors/syncmap; without Go its targets against
# sync.Map are skipped); abigail-tools (abidw, abidiff) for the ABI check
# against tests/abi/'s baseline; pocketsphinx-testdata for real speech
# (16 kHz recordings) that the codec tests encode and decode; libbcg729-dev
# for the build with the G.729 decoder (meson feature bcg729, GPL-3+, off by
# default), which scripts/run-tests tests apart; pocketsphinx-en-us (the
# model) and pocketsphinx (pocketsphinx_continuous, the oracle whose words
# the transcription must equal) for tests/integration/test_transcribe (the
# server load generator's SRTP, tests/bench/loadgen_srtp.c, uses Nettle
# too, already in BUILD_PACKAGES); redis-server (and its redis-cli) for
# the Redis store's unit test and the nodes' failover tests, which start it.
# shellcheck disable=SC2034 # used by the scripts that source this file
TEST_PACKAGES=("${BUILD_PACKAGES[@]}" check clang libclang-rt-14-dev valgrind liburcu-dev libssl-dev llvm-14 python3 sip-tester kamailio golang-go abigail-tools pocketsphinx-testdata libbcg729-dev pocketsphinx-en-us pocketsphinx redis-server)

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
