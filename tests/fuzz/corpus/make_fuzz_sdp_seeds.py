#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the seed inputs of tests/fuzz/corpus/fuzz_sdp/: the SDP of every
# sample of the shared corpus (the body, or its application/sdp part), byte
# for byte, plus a few hand-written offers for the rules the corpus lacks.
#   usage (from this directory): ./make_fuzz_sdp_seeds.py [SHARED_DIR]
import os
import re
import sys

from sip_parts import part_of

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join('..', '..', '..', '..', 'shared')
src = os.path.join(shared, 'corpus')
dst = 'fuzz_sdp'
os.makedirs(dst, exist_ok=True)


def sdp_of(msg):
    return part_of(msg, b'application/sdp', rb'(?im)^content-type:[ \t]*application/sdp')


for name in sorted(os.listdir(src)):
    if not name.endswith('.sip'):
        continue
    with open(os.path.join(src, name), 'rb') as f:
        sdp = sdp_of(f.read())
    if sdp:
        with open(os.path.join(dst, name[:-4]), 'wb') as f:
            f.write(sdp)

HDR = 'v=0\r\no=src 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n'
KEY40 = 'EUbICzTYMjbRzLx+wNGdsuL5V52zb0EgnHwA6zk2'
KEY64 = KEY40 + 'EUbICzTYMjbRzLx+wNGdsg=='
extra = {
    'hand-srtp-suites': HDR + 'm=audio 1000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n'
        'a=crypto:1 F8_128_HMAC_SHA1_80 inline:' + KEY40 + '\r\n'
        'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:' + KEY40 + '|2^31|1:1\r\na=sendonly\r\na=label:1\r\n'
        'm=audio 1002 RTP/SAVPF 96\r\na=rtpmap:96 opus/48000/2\r\n'
        'a=crypto:9 AES_256_CM_HMAC_SHA1_80 inline:' + KEY64 + '\r\na=sendonly\r\na=label:2\r\n',
    'hand-directions': HDR + 'a=inactive\r\nm=audio 1000 RTP/AVP 8\r\n'
        'm=audio 1002 RTP/AVP 0\r\na=recvonly\r\nm=audio 1004 RTP/AVP 9\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n'
        'm=audio 1006 RTP/AVP 0\r\na=direction:both\r\na=sendonly\r\na=ptime:30\r\n',
    'hand-declined': HDR + 'm=audio 1000 RTP/AVP 18 3\r\nm=video 1002 RTP/AVP 96\r\n'
        'm=application 1004 UDP/BFCP *\r\nm=image 1006 udptl t38\r\nm=audio 0 RTP/AVP 0\r\n'
        'm=audio 1008 RTP/AVPF 0 101\r\na=rtpmap:101 telephone-event/48000\r\na=fmtp:101 0-15\r\n',
    'hand-lf-no-c': '\n\nv=0\no=- 1 0 IN IP4 0.0.0.0\ns=-\nm=audio 1 RTP/AVP 101 97\n'
        'a=rtpmap:101 telephone-event/8000\na=rtpmap:97 PCMA/8000\na=label:x',
    'hand-ipv6': 'v=0\r\no=src 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n'
        'm=audio 1000 RTP/AVP 9\r\na=label:1\r\n',
}
for name, text in extra.items():
    with open(os.path.join(dst, name), 'wb') as f:
        f.write(text.encode())
