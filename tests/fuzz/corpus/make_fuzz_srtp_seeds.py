#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seed inputs of tests/fuzz/corpus/fuzz_srtp/ (input format: see
# the comment at the top of tests/fuzz/fuzz_srtp.c). Run from this directory.
import os
import struct

RTP, RTCP, TAMPER, RAW = 0, 1, 2, 3


def rtp(seq, ts, ssrc=0, pt=0, payload=160, cc=0, ext_words=None, pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext_words is not None else 0) | cc
    b = struct.pack('!BBHII', b0, pt, seq & 0xffff, ts & 0xffffffff, ssrc)
    b += b''.join(struct.pack('!I', 0x100 + i) for i in range(cc))
    if ext_words is not None:
        b += struct.pack('!HH', 0xBEDE, ext_words) + bytes(4 * ext_words)
    b += bytes((seq * 7 + i) & 0xff for i in range(payload))
    if pad:
        b += bytes(pad - 1) + bytes([pad])
    return b


def sr(ssrc, n):
    body = struct.pack('!IQIII', ssrc, (3908988800 << 32) + n, 160 * n, n, 160 * n)
    return struct.pack('!BBH', 0x80, 200, (4 + len(body)) // 4 - 1) + body


def rec(op, data):
    return bytes([op]) + struct.pack('!H', len(data)) + data


seeds = {}
for suite in range(6):
    s = bytes([suite])
    for i in range(10):
        s += rec(RTP, rtp(i, 160 * i, ssrc=i & 1))
    s += rec(RTCP, sr(0, 1))
    s += rec(TAMPER | (5 << 3), rtp(3, 480))
    s += rec(RAW, rtp(11, 1760) + bytes(10))
    seeds['suite%d' % suite] = s
s = bytes([0])
for i in range(65530, 65546):
    s += rec(RTP, rtp(i, 160 * i))
s += rec(RTP, rtp(65531, 0))  # a replay: the sender refuses it
seeds['wrap'] = s
s = bytes([4])
s += rec(RTP, rtp(1, 0, cc=3, ext_words=2, pad=4)) + rec(RTP, rtp(2, 160, ext_words=0, pad=1))
s += rec(RTCP | 4, sr(2, 2)) + rec(TAMPER | 4, sr(1, 3)) + rec(RAW | 4, sr(1, 4) + bytes(20))
s += rec(RAW, bytes([0x80, 0x00])) + rec(RTP, rtp(5000, 0, payload=0))
seeds['odd_packets'] = s

os.makedirs('fuzz_srtp', exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join('fuzz_srtp', 'seed_' + name), 'wb') as f:
        f.write(data)
