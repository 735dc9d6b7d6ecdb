# SPDX-License-Identifier: LGPL-2.1-or-later
# The body parts of a raw SIP message, for the seed writers here: a
# message's header section and body, and the first part of the body whose
# part headers match a pattern (or the whole body when the message's own
# Content-Type does).
import re


def split_head(b):
    for sep in (b'\r\n\r\n', b'\n\n'):
        i = b.find(sep)
        if i >= 0:
            j = b.find(b'\n\n')
            if sep == b'\r\n\r\n' and 0 <= j < i:
                return b[:j], b[j + 2:]
            return b[:i], b[i + len(sep):]
    return b, b''


def part_of(msg, type_prefix, part_headers):
    """The body when the Content-Type starts with type_prefix, else the first
    multipart part whose headers match the regex part_headers, else None."""
    head, body = split_head(msg)
    m = re.search(rb'(?im)^content-type:[ \t]*([^\r\n]*)', head)
    ct = m.group(1) if m else b''
    if ct.lower().startswith(type_prefix):
        return body
    bm = re.search(rb'(?i)boundary\s*=\s*"?([^";\r\n]+)"?', ct)
    if not bm:
        return None
    delim = b'--' + bm.group(1).strip()
    for part in body.split(delim)[1:]:
        part = part[2:] if part.startswith(b'\r\n') else part[1:] if part.startswith(b'\n') else part
        ph, pb = split_head(part)
        if re.search(part_headers, ph):
            return re.sub(rb'\r?\n$', b'', pb)
    return None
