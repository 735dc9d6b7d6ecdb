#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seed inputs of tests/fuzz/corpus/fuzz_media_stream/ (input
# format: see the comment at the top of tests/fuzz/fuzz_media_stream.c).
# Run from this directory.
import os
import struct

def rtp(seq, ts, ssrc=0x1234, pt=0, marker=False, payload=None, n=160):
    if payload is None:
        payload = bytes((seq * 7 + i) & 0xff for i in range(n))
    return struct.pack('!BBHII', 0x80, (0x80 if marker else 0) | pt, seq & 0xffff,
                       ts & 0xffffffff, ssrc) + payload

def sr(ssrc, ntp, rtp_ts):
    body = struct.pack('!IQIII', ssrc, ntp, rtp_ts, 10, 1600)
    return struct.pack('!BBH', 0x80, 200, (4 + len(body)) // 4 - 1) + body

def rec(data, op=0, dt=20):
    return bytes([op, dt]) + struct.pack('!H', len(data)) + data

STRANGER, RTCP, EXPIRE, PAUSE, RECONF = 3, 4, 5, 6, 7
NTP = (3908988800 << 32)
seeds = {}
# 20 ms frames, 200 ms... depth 20 << 3 = 160 ms.
seeds['in_order'] = bytes([0x19]) + b''.join(rec(rtp(i, 160 * i)) for i in range(50))
s = bytes([0x19])
order = [0, 1, 3, 2, 4, 6, 7, 5, 8, 10, 11, 12, 14, 15, 16, 17, 18, 19]
for i in order:
    s += rec(rtp(i, 160 * i))
s += rec(b'', EXPIRE, 250)
seeds['reorder_loss'] = s
s = bytes([0x1d])  # 16 kHz output
for i in range(20):
    s += rec(rtp(i, 160 * i))
s += rec(sr(0x1234, NTP, 3200), 0, 0)
for i in range(20, 40):
    s += rec(rtp(i, 160 * i + (80000000 if i >= 30 else 0)))
for i in range(40, 60):
    s += rec(rtp(i + 5000, 160 * i, ssrc=0x9999))
s += rec(sr(0x9999, NTP, 100), RTCP, 0)
seeds['jump_ssrc_rtcp_16k'] = s
s = bytes([0x1a])  # 30 ms frames
for i in range(10):
    s += rec(rtp(i, 160 * i))
s += rec(b'x', PAUSE, 10) + rec(rtp(10, 1600), 0, 10) + rec(b'', PAUSE, 200)
for i in range(11, 20):
    s += rec(rtp(i, 160 * i + 16000))
s += rec(b'', RECONF | (1 << 3) | 0x20, 0)
for i in range(20, 30):
    s += rec(rtp(i, 320 * i, pt=96, n=640))
s += rec(rtp(1, 1, pt=0), STRANGER)
s += rec(b'', EXPIRE, 250) + rec(b'', EXPIRE, 250) * 14
seeds['pause_reconf_l16'] = s
s = bytes([0x11])
seq = 0
for i in range(10):
    s += rec(rtp(seq, 160 * i)); seq += 1
for d in (160, 320, 480, 640, 640, 640):
    end = d == 640
    te = struct.pack('!BBH', 5, (0x80 if end else 0) | 10, d)
    s += rec(rtp(seq, 1600, pt=101, payload=te)); seq += 1
s += rec(rtp(seq, 2400, pt=13, payload=bytes([40]))); seq += 1
for i in range(15, 25):
    s += rec(rtp(seq, 160 * i + 8000), 0, 20 if i > 15 else 200); seq += 1
s += rec(rtp(seq, 160 * 25 + 8000, pt=8)); seq += 1
s += rec(rtp(seq, 160 * 26 + 8000, pt=9)); seq += 1
seeds['dtmf_cn_codecs'] = s
s = bytes([0x10])
s += rec(b'', RECONF | (2 << 3) | 0x20, 0)
for i in range(20):
    s += rec(rtp(i, 960 * i, pt=111, payload=bytes([0x78]) + bytes(40)))
seeds['opus'] = s

for name, data in seeds.items():
    with open(os.path.join('fuzz_media_stream', 'seed_' + name), 'wb') as f:
        f.write(data)
