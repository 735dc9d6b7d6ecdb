#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seed inputs of tests/fuzz/corpus/fuzz_rtp/ (input format: see
# the comment at the top of tests/fuzz/fuzz_rtp.c). Run from this directory.
import os
import struct

def rtp(seq, ts, ssrc=0x1234, pt=0, marker=False, payload=160, cc=0, ext_words=None, pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext_words is not None else 0) | cc
    b = struct.pack('!BBHII', b0, (0x80 if marker else 0) | pt, seq & 0xffff, ts & 0xffffffff, ssrc)
    b += b''.join(struct.pack('!I', 0x100 + i) for i in range(cc))
    if ext_words is not None:
        b += struct.pack('!HH', 0xBEDE, ext_words) + bytes(4 * ext_words)
    b += bytes((seq * 7 + i) & 0xff for i in range(payload))
    if pad:
        b += bytes(pad - 1) + bytes([pad])
    return b

def sr(ssrc, ntp, rtp_ts, rc=0):
    body = struct.pack('!IQIII', ssrc, ntp, rtp_ts, 10, 1600) + bytes(24 * rc)
    return struct.pack('!BBH', 0x80 | rc, 200, (4 + len(body)) // 4 - 1) + body

def rr(ssrc):
    return struct.pack('!BBHI', 0x80, 201, 1, ssrc)

def sdes(ssrc, cname):
    chunk = struct.pack('!IBB', ssrc, 1, len(cname)) + cname + b'\0'
    chunk += bytes(-len(chunk) % 4)
    return struct.pack('!BBH', 0x81, 202, len(chunk) // 4) + chunk

def bye(ssrc):
    return struct.pack('!BBHI', 0x81, 203, 1, ssrc)

def rec(data, op=0, dt=20):
    return bytes([op, dt]) + struct.pack('!H', len(data)) + data

EXPIRE, FLUSH = 2, 3
NTP = (3908988800 << 32)
seeds = {}
seeds['in_order'] = bytes([0x08, 0x40]) + b''.join(rec(rtp(i, 160 * i)) for i in range(20))
s = bytes([0x08, 0x40])
for i in [0, 1, 2, 4, 3, 6, 7, 5, 9, 12, 10, 11, 11, 8]:
    s += rec(rtp(i, 160 * i), dt=10)
s += rec(b'', EXPIRE, 250) + rec(b'', FLUSH, 0)
seeds['reorder_loss_dup'] = s
s = bytes([0x28, 0x10])
for i in range(65530, 65546):
    s += rec(rtp(i, 320 * i, marker=(i == 65530)))
seeds['wrap_16k'] = s
s = bytes([0x08, 0x40])
s += rec(sr(0x1234, NTP, 0) + sdes(0x1234, b'alice@example.com'))
for i in range(5):
    s += rec(rtp(i, 160 * i))
s += rec(rtp(5, 160 * 5 + 8000 * 3600))
s += rec(rtp(6, 160 * 6 + 8000 * 3600))
s += rec(rtp(7, 0, ssrc=0x9999)) + rec(rtp(8, 160, ssrc=0x9999)) + rec(rtp(3, 0))
s += rec(rr(0x9999) + bye(0x1234))
seeds['rtcp_jump_ssrc'] = s
s = bytes([0x00, 0x00])
s += rec(rtp(1, 0, cc=3, ext_words=2, pad=4)) + rec(rtp(2, 160, ext_words=0, pad=1))
s += rec(rtp(3, 320, pt=72)) + rec(bytes([0x00, 0x01, 0x00, 0x00]) + bytes(16))
s += rec(rtp(10, 1600)) + rec(rtp(5000, 0)) + rec(rtp(5001, 160))
seeds['odd_packets'] = s

os.makedirs('fuzz_rtp', exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join('fuzz_rtp', 'seed_' + name), 'wb') as f:
        f.write(data)
