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

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join('..', '..', '..', '..', 'shared')
src = os.path.join(shared, 'corpus')
data = os.path.join('..', '..', 'data', 'metadata')
dst = 'fuzz_metadata'
os.makedirs(dst, exist_ok=True)


def split_head(b):
    for sep in (b'\r\n\r\n', b'\n\n'):
        i = b.find(sep)
        if i >= 0:
            j = b.find(b'\n\n')
            if sep == b'\r\n\r\n' and 0 <= j < i:
                return b[:j], b[j + 2:]
            return b[:i], b[i + len(sep):]
    return b, b''


def metadata_of(msg):
    head, body = split_head(msg)
    m = re.search(rb'(?im)^content-type:[ \t]*([^\r\n]*)', head)
    ct = m.group(1) if m else b''
    if ct.lower().startswith(b'application/rs-metadata'):
        return body
    bm = re.search(rb'(?i)boundary\s*=\s*"?([^";\r\n]+)"?', ct)
    if not bm:
        return None
    delim = b'--' + bm.group(1).strip()
    for part in body.split(delim)[1:]:
        part = part[2:] if part.startswith(b'\r\n') else part[1:] if part.startswith(b'\n') else part
        ph, pb = split_head(part)
        if re.search(rb'(?im)^content-type:[ \t]*application/rs-metadata', ph) or \
           re.search(rb'(?im)^content-disposition:[ \t]*recording-session', ph):
            return re.sub(rb'\r?\n$', b'', pb)
    return None


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
