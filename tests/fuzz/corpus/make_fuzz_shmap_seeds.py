#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seed inputs of tests/fuzz/corpus/fuzz_shmap/ (input format: see
# the comment at the top of tests/fuzz/fuzz_shmap.c). Run from this directory.
import os

def newkey(cls, lb=0, seed=1, nulmask=3):
    """cls 0 empty, 1 short, 2 around 54 bytes, 3 long; nulmask 0 all NUL, 1 NUL/1, 3 random"""
    b = cls | {0: 0x00, 1: 0x04, 3: 0x0c}[nulmask]
    return bytes([b, lb & 0xff, seed & 0xff])
def modelkey(i): return bytes([0xc0, i & 0xff])
def poolkey(i): return bytes([0x80, i & 0xff])
def nullkey(): return bytes([0x20, 0, 0])  # empty key passed as a NULL pointer
HEAP, TAG, NUL = 4, 1, 0
def val(kind, tag=0): return bytes([kind | (tag & 3) << 3])
STORE, LOAD, LOS, LAD, DEL, SWAP, CAS, CAD, RANGE, LEN, INSPECT, UPDATE, STATS, CHECK = range(14)
CLEAR, INVALID = 0x99, 0x1d

def hdr(shards_log2, equal=0, fail=0, dtor_map=0, counting=0, b1=0, b2=0):
    return bytes([shards_log2 | equal << 3 | fail << 4 | dtor_map << 5 | counting << 6, b1, b2])

def keys_mix():
    return [newkey(0), newkey(1, 3, 7), newkey(2, 6, 9), newkey(2, 7, 9), newkey(3, 0, 5),
            newkey(3, 200, 5, 0), newkey(1, 4, 2, 0), newkey(1, 5, 2, 0), nullkey()]

seeds = {}
# Every single-key operation on present and absent keys, queries, clear.
s = hdr(3)
for k in keys_mix():
    s += bytes([STORE]) + k + val(HEAP)
s += bytes([LOAD]) + modelkey(1) + b'\x01' + bytes([LOAD]) + newkey(1, 1, 99) + b'\x01'
s += bytes([LOS]) + modelkey(2) + val(TAG) + b'\x01' + bytes([LOS]) + newkey(1, 2, 50) + val(TAG) + b'\x01'
s += bytes([LAD]) + modelkey(3) + b'\x01' + bytes([LAD]) + poolkey(0) + b'\x00'
s += bytes([DEL]) + modelkey(0) + bytes([DEL]) + newkey(2, 1, 77)
s += bytes([SWAP]) + modelkey(4) + val(HEAP) + b'\x01' + bytes([SWAP]) + newkey(3, 9, 3) + val(NUL) + b'\x01'
s += bytes([CAS]) + modelkey(1) + b'\x01' + val(TAG) + bytes([CAS]) + modelkey(2) + b'\x00\x00' + val(HEAP)
s += bytes([CAD]) + modelkey(5) + b'\x01' + bytes([CAD]) + modelkey(0) + b'\x02'
s += bytes([INSPECT]) + modelkey(1) + b'\x05\x01' + bytes([INSPECT]) + newkey(1, 0, 123) + b'\x05'
s += bytes([UPDATE]) + modelkey(2) + b'\x01\x07' + val(HEAP) + b'\x01'
s += bytes([UPDATE]) + modelkey(3) + b'\x00\x08' + b'\x00'
s += bytes([STATS, 70, 3, STATS, 2, 8, LEN, CHECK, INVALID, RANGE]) + b'\x00' * 16
s += bytes([CLEAR, CHECK])
seeds['basic'] = s

# One shard: a range whose callback deletes, overwrites, loads, ranges again,
# stops the walk, and clears.
s = hdr(0, counting=1)
for i in range(8):
    s += bytes([STORE]) + newkey(1, i, 10 + i) + val(HEAP if i & 1 else TAG)
s += bytes([RANGE, 7, 8]) + val(HEAP) + bytes([9, 0, 5, RANGE, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 4, 3])
s += bytes([RANGE, 5, DEL]) + modelkey(0) + bytes([6, STORE]) + newkey(1, 3, 200) + val(HEAP)
s += bytes([0, 5, CLEAR, 0, 0, 0, CHECK])
seeds['range_mutate'] = s

# 16 shards: walk order, empty shards skipped, deferred destruction, and a
# destructor that calls the map.
s = hdr(4, dtor_map=1)
for i in range(24):
    s += bytes([STORE]) + newkey(1 + (i % 3), i, i) + val(HEAP)
s += bytes([RANGE, 7, 0, 8]) + val(HEAP) + bytes([5, CAS]) + modelkey(3) + b'\x01' + val(HEAP)
s += bytes([5, UPDATE]) + modelkey(4) + b'\x01\x02' + val(HEAP) + b'\x01' + b'\x00' * 40
s += bytes([CHECK, CLEAR])
seeds['range_16_shards'] = s

# Failing allocator (1 in 2) with the equality callback.
s = hdr(2, equal=1, fail=1, b1=0, b2=0x5a)
for i in range(40):
    s += bytes([STORE if i % 2 else LOS]) + newkey(3 if i % 5 == 0 else 1, i * 7, i) + val(HEAP, i)
    if i % 2 == 0:
        s += b'\x01'
s += bytes([CAS]) + modelkey(1) + b'\x00\x03' + val(TAG, 2) + bytes([CAD]) + modelkey(2) + b'\x01'
s += bytes([RANGE, 7, 7, 5, CLEAR, 8]) + val(HEAP) + b'\x00' * 8
s += bytes([RANGE, 5, UPDATE]) + modelkey(0) + b'\x01\x01' + val(HEAP) + b'\x00' * 8
seeds['fail_alloc_equal'] = s

# NUL-only and 0/1 keys of neighbouring lengths around the 54-byte limit.
s = hdr(6)
for lb in range(4, 10):
    s += bytes([STORE]) + newkey(2, lb, 1, 0) + val(TAG)
for lb in range(0, 6):
    s += bytes([SWAP]) + newkey(3, lb, 1, 1) + val(HEAP) + b'\x01'
for i in range(10):
    s += bytes([LAD]) + poolkey(i) + b'\x01'
s += bytes([STATS, 64, 1, CHECK])
seeds['long_nul_keys'] = s

# Inspect and update under the lock, calling the map from the callbacks.
s = hdr(5, counting=1)
for i in range(6):
    s += bytes([STORE]) + newkey(1, i, 40 + i) + val(HEAP)
for i in range(6):
    s += bytes([INSPECT]) + modelkey(i) + bytes([i, 1])
    s += bytes([UPDATE]) + modelkey(i) + bytes([i & 1, 3]) + (val(HEAP) if i & 1 else b'') + b'\x01'
s += bytes([CHECK, INVALID])
seeds['inspect_update'] = s

os.makedirs('fuzz_shmap', exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join('fuzz_shmap', 'seed_' + name), 'wb') as f:
        f.write(data)
