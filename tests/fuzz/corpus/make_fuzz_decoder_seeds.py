#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seed inputs of tests/fuzz/corpus/fuzz_decoder/ (input format:
# see the comment at the top of tests/fuzz/fuzz_decoder.c). Run from this
# directory. Each seed is one codec of the harness's table with packets of
# the sizes it takes, a concealed gap, an FEC gap, a reset and a DTMF press.
import os
import random

DECODE, CONCEAL, FEC, RESET = range(4)
# (index in the harness's table, name, payload size of one packet)
CODECS = [(0, 'pcmu', 160), (1, 'pcma_stereo', 240), (2, 'g722', 160), (3, 'g726_32_pt2', 80),
          (4, 'aal2_g726_32', 80), (5, 'g726_24', 60), (6, 'g726_40', 100), (7, 'g726_16', 40),
          (8, 'l16_16k', 240), (9, 'l16_pt10', 240), (10, 'cn', 1), (11, 'opus48', 60),
          (12, 'opus16', 60), (13, 'opus8', 60), (14, 'g729', 20)]

def rec(op, payload=b'', scale=5):
    return bytes([op | scale << 2, len(payload)]) + payload

def packet(rng, name, size):
    if name.startswith('opus'):
        # TOC: SILK wideband 20 ms, mono, one frame; then SILK-ish bytes.
        return bytes([0x48]) + bytes(rng.randrange(256) for _ in range(size - 1))
    if name == 'cn':
        return bytes([rng.randrange(30, 90)])
    return bytes(rng.randrange(256) for _ in range(size))

def dtmf(event, end, dur):
    return bytes([event, (0x80 if end else 0) | 10, dur >> 8, dur & 0xff])

os.makedirs('fuzz_decoder', exist_ok=True)
for idx, name, size in CODECS:
    rng = random.Random(idx)
    s = bytes([idx])
    for k in range(6):
        s += rec(DECODE, packet(rng, name, size))
    s += rec(CONCEAL, scale=4) + rec(DECODE, packet(rng, name, size))
    s += rec(FEC, packet(rng, name, size), scale=8) + rec(DECODE, packet(rng, name, size))
    s += rec(RESET) + rec(DECODE, packet(rng, name, size))
    s += rec(DECODE, dtmf(5, 0, 160)) + rec(DECODE, dtmf(5, 1, 480)) * 3
    with open(os.path.join('fuzz_decoder', 'seed_' + name), 'wb') as f:
        f.write(s)
