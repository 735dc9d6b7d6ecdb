#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seed inputs of tests/fuzz/corpus/fuzz_metadata/: the metadata
# part of every sample of the shared corpus (an rs-metadata part, or the
# part whose disposition is recording-session), byte for byte, and a few
# sequences of documents from tests/data/metadata joined by NUL bytes, the
# harness's separator (a complete document, then partial updates). The
# quirk files themselves are read as seeds from tests/data/metadata.
#   usage (from this directory): ./make_fuzz_metadata_seeds.py [SHARED_DIR]
import os
import re
import sys

from sip_parts import part_of

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join('..', '..', '..', '..', 'shared')
src = os.path.join(shared, 'corpus')
data = os.path.join('..', '..', 'data', 'metadata')
dst = 'fuzz_metadata'
os.makedirs(dst, exist_ok=True)


def metadata_of(msg):
    return part_of(msg, b'application/rs-metadata',
                   rb'(?im)^(content-type:[ \t]*application/rs-metadata|'
                   rb'content-disposition:[ \t]*recording-session)')


for name in sorted(os.listdir(src)):
    if not name.endswith('.sip'):
        continue
    with open(os.path.join(src, name), 'rb') as f:
        xml = metadata_of(f.read())
    if xml:
        with open(os.path.join(dst, name[:-4]), 'wb') as f:
            f.write(xml)


def read(name):
    with open(os.path.join(data, name), 'rb') as f:
        return f.read()


sequences = {
    'seq-complete-partial-leave': ['rfc7865-complete.xml', 'partial-leave.xml'],
    'seq-complete-add-replace': ['rfc7865-complete.xml', 'partial-add-stream.xml',
                                 'complete-replace.xml'],
    'seq-unreadable-between': ['rfc7865-complete.xml', 'malformed-unclosed.xml',
                               'partial-add-stream.xml'],
    'seq-draft-then-rfc': ['draft-siprec.xml', 'vendor-extensions.xml', 'duplicate-ids.xml'],
}
for name, files in sequences.items():
    with open(os.path.join(dst, name), 'wb') as f:
        f.write(b'\0'.join(read(x) for x in files))
