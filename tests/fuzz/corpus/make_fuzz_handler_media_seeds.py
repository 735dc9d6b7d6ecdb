#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seeds for fuzz_handler_media: a codec byte, then records `op len(2) data`
(see the harness): RTP on both streams, reordered, RTCP on the odd port,
time with expire, re-INVITEs (pause, resume, drop a stream), the BYE.
usage: make_fuzz_handler_media_seeds.py OUT_DIR"""
import os
import struct
import sys


def rtp(seq, ts, ssrc=0x1234, pt=0, n=160, marker=0):
    return struct.pack("!BBHII", 0x80, (marker << 7) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF,
                       ssrc) + bytes((seq * 7 + i) & 0xFF for i in range(n))


def rec(op, data=b""):
    return struct.pack("!BH", op, len(data)) + data


def dgram(port_index, data, stream2_src=False, stranger=False):
    # op % 8 == 0: a datagram; port (op >> 3) % 5; 0x40 the second stream's
    # source, 0x80 a stranger; the clock moves by op >> 5 ms.
    op = (port_index << 3) | (0x40 if stream2_src else 0) | (0x80 if stranger else 0)
    return rec(op, data)


def sr(ssrc=0x1234):
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 0xE1234567, 0, 160, 2, 320)


def seeds():
    out = {}
    s = bytes([0])
    for k in range(20):
        s += dgram(0, rtp(k, k * 160))
        s += dgram(2, rtp(k, k * 160, ssrc=0x5678), stream2_src=True)
        s += rec(4, bytes([2]))
    s += dgram(1, sr())
    s += rec(7 | 0x80)
    out["pcmu_two_streams"] = s
    s = bytes([1])
    for k in [0, 1, 3, 2, 5, 4, 7, 9, 8]:
        s += dgram(0, rtp(k, k * 160, pt=8))
    s += rec(4, bytes([30])) + rec(4, bytes([30]))
    out["pcma_reorder_loss"] = s
    s = bytes([2])
    for k in range(10):
        s += dgram(0, rtp(k, k * 160, pt=9))
    s += rec(6 | 0x80) + rec(4, bytes([50])) + rec(6 | 0x80)
    for k in range(10, 20):
        s += dgram(0, rtp(k, k * 160, pt=9))
    s += rec(6 | 0x40) + rec(7 | 0x80)
    out["g722_pause_resume_drop"] = s
    s = bytes([3])
    for k in range(10):
        s += dgram(0, rtp(k, k * 160, pt=2, n=80))
    s += dgram(0, rtp(3, 3 * 160, pt=2, n=80), stranger=True)
    s += dgram(4, rtp(1, 1))
    s += rec(4, bytes([255])) + rec(4, bytes([255]))
    out["g726_stranger_unknown_port_nomedia"] = s
    s = bytes([0])
    for k in range(5):
        s += dgram(0, rtp(k, k * 160, pt=101, n=4, marker=k == 0)[:12] + struct.pack("!BBH", 5, 0x0A, 160 * (k + 1)))
    out["dtmf"] = s
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
