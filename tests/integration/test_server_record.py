#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""siprec-server's recordings and transcripts, end to end: one case per run.

    test_server_record.py --server PATH --client PATH --scenarios DIR CASE

Each case starts siprec-server on 127.0.0.1 (as test_sipp.py does) with
--out in its temporary folder, places calls with siprec-client (tests/tools)
sending real speech from pocketsphinx-testdata, and checks what the server
made of them against what the client sent (its --write-decoded reference:
the payloads decoded by the same codec library, Opus at 16 kHz as the
server asks libopus for it):

  transcript_g722, transcript_opus   three calls at once (in order, 10 %
      reordered, SRTP), two streams each: every stream's transcript is word
      for word pocketsphinx_continuous -infile on its reference decode, each
      line attributed to the stream's label and its sender (id, aor, name
      of the metadata); the recorded audio is the reference sample for
      sample; no slips at real time.
  files          a call paused by re-INVITE for 1 s: each mono file holds
      the audio sent (within 20 ms) on the call's timeline, the pause as
      1 s of silence (within 40 ms) with both streams still aligned after
      it, stereo.wav's channels equal the mono files sample for sample,
      modes 0700/0600, manifest.json's fields.
  sigkill        SIGKILL 2 s into a real-time call: every file parses (RIFF
      sizes), libsndfile opens it, and it holds the audio sent up to at
      most 0.5 s before the kill.
  metrics        four calls at once, /metrics scraped over HTTP during and
      after: sessions, streams, recordings, RTP packets as the clients
      counted them, no losses.
  media_flood    two calls while one of their RTP ports is flooded, as
      fast as a thread sends, from an address the stream never latched:
      the flood is dropped by latching, and every other stream's recording
      is its reference sample for sample.
  on_complete    --on-complete sees the finished folder (manifest and the
      whole transcript there); a command that hangs is killed, its children
      with it, at --on-complete-timeout-ms.
  disk_full      --out on a 4 MiB tmpfs nearly full: the call that fills it
      is logged and counted, its files stay valid; a new INVITE gets 503
      until space returns, then 200.
  writer_stall_fds  the writer stopped under 96 descriptors while calls come:
      the files it has still to make count, calls get 503 before the limit,
      and every admitted call's files are made once it goes on.
  writer_stall   the writer thread stopped alone (ptrace) with ten calls up
      and --record-queue-mb 1: the loop goes on, the audio past the bound
      is dropped, logged, counted, and written as silence of its length;
      once the writer goes on every file is its reference but for those
      spans and ends where its stream did, and a new call is recorded whole.
  cucm_bib       the two legs of a Cisco built-in-bridge recording, placed
      by the test's own SIP and RTP (PCMU) sender: one folder, stereo.wav
      made of both legs, one transcript with both speakers.

WAV files are read by the test's own RIFF parser (which checks every size
field), by libsndfile through ctypes and, where it can, by Python's `wave`
(Python before 3.12 refuses WAVE_FORMAT_EXTENSIBLE, which libsndfile's RF64
writer puts in every file). Exit 0 passed, 1 failed, 77 skipped (no client,
no pocketsphinx or its model, no test audio, no tmpfs mount allowed).
"""
import array
import ctypes
import ctypes.util
import hashlib
import json
import os
import random
import shutil
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import wave
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sipp  # noqa: E402
from test_sipp import Failure, Skip, check  # noqa: E402
from test_siprec_client import GOFORWARD, NUMBERS, client_arg, stream_arg  # noqa: E402

RATE = 16000
MS20 = RATE // 50
MODEL = '/usr/share/pocketsphinx/model/en-us'
ALICE = ('sip:alice@example.com', 'Alice')
BOB = ('sip:bob@example.com', 'Bob')


# ----------------------------------------------------------------------
# Prerequisites and programs

def need_audio():
    for path in (GOFORWARD, NUMBERS):
        if not os.path.exists(path):
            raise Skip(f'{path} missing (Debian package pocketsphinx-testdata)')


def need_client(ctx):
    if not ctx.args.client or not os.path.exists(ctx.args.client):
        raise Skip('siprec-client was not built')
    need_audio()


def need_pocketsphinx():
    if not shutil.which('pocketsphinx_continuous'):
        raise Skip('pocketsphinx_continuous missing (Debian package pocketsphinx)')
    for part in ('en-us', 'en-us.lm.bin', 'cmudict-en-us.dict'):
        if not os.path.exists(os.path.join(MODEL, part)):
            raise Skip(f'{MODEL}/{part} missing (Debian package pocketsphinx-en-us)')


def two_streams(codec, codec2=None):
    return ['--stream', stream_arg('1', codec, GOFORWARD, *reversed(ALICE)),
            '--stream', stream_arg('2', codec2 or codec, NUMBERS, *reversed(BOB))]


class Client:
    """siprec-client running against ctx's server; .result() its JSON."""

    def __init__(self, ctx, name, args, pace=1, seed=None):
        self.dir = os.path.join(ctx.work, name)
        os.makedirs(self.dir)
        cmd = [ctx.args.client, '--server', f'127.0.0.1:{ctx.server.port}', '--local', '127.0.0.1',
               '--pace', str(pace), '--write-decoded', self.dir, '--decoded-rate', str(RATE)]
        if seed is not None:
            cmd += ['--seed', str(seed)]
        self.cmd = cmd + list(args)
        self.err = open(os.path.join(self.dir, 'stderr'), 'w')
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        ctx.clients.append(self)

    def wait(self, timeout=60):
        """Its exit status, stdout and stderr once it ended."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f'client still running after {timeout}s: {self.cmd}')
        self.elapsed = time.monotonic() - self.started
        self.err.close()
        with open(os.path.join(self.dir, 'stderr')) as f:
            return self.proc.returncode, out, f.read()

    def result(self, expect_rc=0, timeout=60):
        rc, out, err = self.wait(timeout)
        if rc != expect_rc:
            print('--- client stderr\n' + err)
            raise Failure(f'client exit status {rc}, {expect_rc} expected')
        self.out = json.loads(out)
        return self.out

    def reference(self, label):
        """The client's reference decode of stream `label`, 16 kHz."""
        with open(os.path.join(self.dir, label + '.raw'), 'rb') as f:
            return array.array('h', f.read())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start(ctx, *args, nofile=None):
    # The cases compare with 16 kHz references (G.722, Opus at 16 kHz): the
    # server records at 8 kHz unless told (or transcribing).
    if '--record-rate' not in args:
        args = ('--record-rate', str(RATE)) + args
    srv = ctx.start_server(*args, nofile=nofile)
    ctx.clients = getattr(ctx, 'clients', [])
    return srv


def session_of(srv, call_id):
    """The session id and its last event (DIR/SESSION.json) of a Call-ID."""
    for sid, ev in srv.sessions().items():
        if ev['call_id'] == call_id:
            return sid, ev
    raise Failure(f'no session file for Call-ID {call_id}')


def free_tcp_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def scrape(port):
    """/metrics as {'name{labels}': value}, rendered now: the server serves
    a snapshot younger than a second as it is (and renders one at start),
    so wait that out first."""
    time.sleep(1.1)
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=5) as r:
        check(r.status == 200, f'/metrics: HTTP {r.status}')
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith('#'):
            name, _, value = line.rpartition(' ')
            values[name] = float(value)
    check(values['siprec_metrics_snapshot_age_seconds'] < 0.5,
          f"/metrics: a snapshot {values['siprec_metrics_snapshot_age_seconds']} s old")
    return values


# ----------------------------------------------------------------------
# WAV files

WAVE_FORMAT_PCM, WAVE_FORMAT_EXTENSIBLE = 1, 0xfffe
KSDATAFORMAT_SUBTYPE_PCM = bytes.fromhex('0100000000001000800000aa00389b71')


class Wav:
    """A 16-bit PCM WAV file, parsed chunk by chunk: every size field is
    checked against the file. `samples` holds the data chunk's frames
    (interleaved); `wave_ok` says whether Python's wave module read the
    same, None when it refused the format tag (WAVE_FORMAT_EXTENSIBLE
    before Python 3.12)."""

    def __init__(self, path):
        self.path = path
        with open(path, 'rb') as f:
            data = f.read()
        size = len(data)
        check(size >= 12 and data[:4] == b'RIFF' and data[8:12] == b'WAVE',
              f'{path}: not a RIFF WAVE file')
        riff = struct.unpack('<I', data[4:8])[0]
        check(riff + 8 == size, f'{path}: RIFF size {riff} for a file of {size} bytes')
        pos, fmt, self.data_size = 12, None, None
        while pos + 8 <= size:
            cid, csize = data[pos:pos + 4], struct.unpack('<I', data[pos + 4:pos + 8])[0]
            body = pos + 8
            check(body + csize <= size, f'{path}: chunk {cid!r} of {csize} bytes at {pos} '
                  f'runs past the end ({size})')
            if cid == b'fmt ':
                fmt = data[body:body + csize]
            elif cid == b'data':
                self.data_offset, self.data_size = body, csize
            pos = body + csize + (csize & 1)
        check(pos == size, f'{path}: {size - pos} bytes after the last chunk')
        check(fmt is not None and len(fmt) >= 16, f'{path}: no fmt chunk')
        check(self.data_size is not None, f'{path}: no data chunk')
        tag, self.channels, self.rate, avg, align, bits = struct.unpack('<HHIIHH', fmt[:16])
        if tag == WAVE_FORMAT_EXTENSIBLE:
            check(len(fmt) >= 40 and fmt[24:40] == KSDATAFORMAT_SUBTYPE_PCM,
                  f'{path}: WAVE_FORMAT_EXTENSIBLE but not PCM')
        else:
            check(tag == WAVE_FORMAT_PCM, f'{path}: format tag {tag:#x}')
        check(bits == 16 and align == 2 * self.channels and avg == align * self.rate,
              f'{path}: {bits} bits, block {align}, {avg} bytes/s for {self.channels} channels')
        check(self.data_size % align == 0, f'{path}: data size {self.data_size} not whole frames')
        self.tag = tag
        self.frames = self.data_size // align
        self.samples = array.array('h', data[self.data_offset:self.data_offset + self.data_size])
        self.wave_ok = self._by_wave()

    def _by_wave(self):
        try:
            w = wave.open(self.path, 'rb')
        except wave.Error as e:
            if self.tag == WAVE_FORMAT_EXTENSIBLE and 'unknown format' in str(e):
                return None
            raise Failure(f'{self.path}: the wave module refuses it: {e}')
        with w:
            got = (w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes())
            check(got == (self.channels, self.rate, 2, self.frames),
                  f'{self.path}: wave reads {got}')
            check(array.array('h', w.readframes(self.frames)) == self.samples,
                  f'{self.path}: wave reads other samples')
        return True

    def channel(self, i):
        return self.samples[i::self.channels]


class SF_INFO(ctypes.Structure):
    _fields_ = [('frames', ctypes.c_int64), ('samplerate', ctypes.c_int),
                ('channels', ctypes.c_int), ('format', ctypes.c_int),
                ('sections', ctypes.c_int), ('seekable', ctypes.c_int)]


def sndfile_read(path):
    """(channels, rate, samples) as libsndfile reads the file."""
    name = ctypes.util.find_library('sndfile') or 'libsndfile.so.1'
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise Skip(f'libsndfile cannot be loaded: {e}')
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SF_INFO)]
    lib.sf_readf_short.restype = ctypes.c_int64
    lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    lib.sf_close.argtypes = [ctypes.c_void_p]
    lib.sf_strerror.restype = ctypes.c_char_p
    lib.sf_strerror.argtypes = [ctypes.c_void_p]
    info = SF_INFO()
    sf = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))  # SFM_READ
    check(sf, f'{path}: libsndfile: {lib.sf_strerror(None).decode()}')
    try:
        buf = (ctypes.c_short * max(1, info.frames * info.channels))()
        got = lib.sf_readf_short(sf, buf, info.frames)
        check(got == info.frames, f'{path}: libsndfile read {got} of {info.frames} frames')
        return info.channels, info.samplerate, array.array('h', bytes(buf)[:2 * got * info.channels])
    finally:
        lib.sf_close(sf)


def read_wav(path, channels=1, rate=RATE):
    """The file, checked three ways (RIFF sizes, wave, libsndfile)."""
    w = Wav(path)
    check(w.channels == channels and w.rate == rate,
          f'{path}: {w.channels} channels at {w.rate} Hz, {channels} at {rate} expected')
    ch, rate, samples = sndfile_read(path)
    check((ch, rate) == (w.channels, w.rate) and samples == w.samples,
          f'{path}: libsndfile reads {ch} channels at {rate} Hz, {len(samples)} samples; '
          f'the RIFF chunks say {w.channels}, {w.rate}, {len(w.samples)}')
    return w


def find_audio(rec, ref, start=0, lo=0, hi=None, what=''):
    """Where ref[start:start + 100 ms] sits in rec (sample for sample), looked
    for in rec[lo:hi]; that index minus start: rec's index of ref[0]."""
    # The window starts at the first loud sample: silence matches anywhere.
    s = start
    while s < len(ref) and abs(ref[s]) < 200:
        s += 1
    check(s + 1600 <= len(ref), f'{what}: no speech in the reference from {start}')
    needle = ref[s:s + 1600].tobytes()
    hay = rec.tobytes()
    at = hay.find(needle, 2 * (lo + s - start), None if hi is None else 2 * (hi + s - start + 1600))
    while at >= 0 and at % 2:
        at = hay.find(needle, at + 1, None if hi is None else 2 * (hi + s - start + 1600))
    check(at >= 0, f'{what}: the reference audio from sample {s} is not in the recording '
          f'(searched {lo}..{hi})')
    return at // 2 - s


def envelope(x, start, blocks, size=16):
    """Sums of magnitudes over `size`-sample blocks from `start`."""
    return [sum(map(abs, x[start + i * size:start + (i + 1) * size])) for i in range(blocks)]


def correlation(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    na, nb = sum(x * x for x in a), sum(y * y for y in b)
    return dot / ((na * nb) ** 0.5) if na and nb else 0.0


def locate(rec, ref, start, expect, span, what):
    """Where ref[start:start + 1 s] sits in rec near index `expect` (within
    `span` samples), for audio that is not sample-exact (a decoder reset at a
    pause changes the samples, not where they are): the lag with the best
    match of 1 ms envelopes, refined sample by sample; that index and the
    samples' correlation there."""
    ref_env = envelope(ref, start, RATE // 16)
    best, lag = -1.0, None
    for k in range(max(0, expect - span) // 16, (expect + span) // 16 + 1):
        env = envelope(rec, k * 16, RATE // 16)
        c = correlation(ref_env, env)
        if c > best:
            best, lag = c, k * 16
    check(lag is not None, f'{what}: nothing to compare')
    seg = ref[start:start + RATE]
    corr, at = max((correlation(seg, rec[i:i + RATE]), i) for i in range(max(0, lag - 16), lag + 17))
    return at, corr


def check_equal(rec, at, ref, start, end, what, last=False):
    """rec[at + start:at + end] == ref[start:end], or where they part.
    last: ref[end - 1] is the stream's last sample, and the last two packets
    may be missing or concealed in rec: on loopback the client's BYE leaves
    right after them, and the server reads its SIP socket before the media
    socket about as often as after it (the session ends, and with it the
    jitter buffer, before those datagrams are read; a reordered pair then
    leaves a hole)."""
    if last:
        tail = rec[at + end - 2 * MS20:at + end]
        if tail != ref[end - 2 * MS20:end]:
            print(f'{what}: the last packets differ or are missing in the recording '
                  f'({len(tail)} of {2 * MS20} samples; they came with the BYE)')
            check(len(rec) >= at + end - 2 * MS20, f'{what}: more than the last two packets missing')
            end -= 2 * MS20
    got, want = rec[at + start:at + end], ref[start:end]
    if got == want:
        return
    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    raise Failure(f'{what}: the recording parts from the reference at reference sample '
                  f'{start + first} ({len(got)} vs {len(want)} samples compared)')


# ----------------------------------------------------------------------
# Transcripts

_oracle_cache = {}


def oracle(raw_path):
    """pocketsphinx_continuous -infile: its utterances' texts (the empty ones
    left out, as the server leaves them out)."""
    with open(raw_path, 'rb') as f:
        key = hashlib.sha256(f.read()).hexdigest()
    if key not in _oracle_cache:
        p = subprocess.run(['pocketsphinx_continuous', '-infile', raw_path, '-logfn', '/dev/null'],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, f'pocketsphinx_continuous on {raw_path}: exit {p.returncode}')
        _oracle_cache[key] = [l.strip() for l in p.stdout.splitlines() if l.strip()]
    return _oracle_cache[key]


def transcript(srv, sid):
    path = os.path.join(srv.out, sid, 'transcript.jsonl')
    check(os.path.exists(path), f'{path} missing')
    with open(path) as f:
        return [json.loads(l) for l in f]


def by_stream(lines):
    out = {}
    for l in sorted(lines, key=lambda l: l['start']):
        out.setdefault(l['stream'], []).append(l)
    return out


def sender_of(ev, label):
    """The metadata participant sending stream `label` of a session."""
    md = ev['metadata']
    stream = next(s for s in md['streams'] if s['label'] == label)
    check(len(stream['senders']) == 1, f'stream {label}: senders {stream["senders"]}')
    return next(p for p in md['participants'] if p['aor'] == stream['senders'][0])


def check_transcript(srv, sid, ev, cl, expect):
    """Each stream's lines: its label, its sender, pocketsphinx's words.
    expect: {label: (aor, name)}."""
    lines = transcript(srv, sid)
    for l in lines:
        check(l['session'] == sid and l['call_id'] == ev['call_id'],
              f'transcript line of another session: {l}')
        check(0 <= l['start'] <= l['end'], f'times {l}')
    got = by_stream(lines)
    check(sorted(got) == sorted(expect), f'transcript streams {sorted(got)}, {sorted(expect)} expected')
    for label, (aor, name) in expect.items():
        who = sender_of(ev, label)
        check((who['aor'], who['name']) == (aor, name), f'metadata sender of {label}: {who}')
        for l in got[label]:
            check(l['participant'] == {'id': who['id'], 'aor': aor, 'name': name},
                  f'stream {label}: line attributed to {l["participant"]}, {who} expected')
        words = [l['text'] for l in got[label]]
        want = oracle(os.path.join(cl.dir, label + '.raw'))
        check(words == want, f'stream {label}: the server heard {words}, '
              f'pocketsphinx_continuous on what was sent says {want}')
    return got


# ----------------------------------------------------------------------
# The cases

def manifest_of(srv, sid):
    with open(os.path.join(srv.out, sid, 'manifest.json')) as f:
        return json.load(f)


def case_transcript(ctx, codec):
    """Three calls at once: in order, 10 % reordered, SRTP."""
    need_client(ctx)
    need_pocketsphinx()
    srv = start(ctx, '--transcribe', 'pocketsphinx', '--transcribe-max', '12',
                '--on-complete', 'echo complete')
    variants = {'plain': [], 'reorder': ['--reorder', '10'], 'srtp': ['--srtp']}
    clients = {name: Client(ctx, name, extra + two_streams(codec), seed=100 + i)
               for i, (name, extra) in enumerate(variants.items())}
    for name, cl in clients.items():
        out = cl.result()
        check(out['status'] == 200 and out['bye'] == 'sent', f'{name}: client {out}')
        check(all(s['lost'] == 0 for s in out['streams']), f'{name}: losses {out}')
        if name == 'reorder':
            check(all(s['reordered'] > 0 for s in out['streams']), f'{name}: nothing reordered')
    # --on-complete runs once the transcript is complete.
    srv.wait_lines(r'^complete ', 3, 120)
    for name, cl in clients.items():
        sid, ev = session_of(srv, cl.out['call_id'])
        check(all(s['srtp'] == (name == 'srtp') for s in ev['streams']), f'{name}: {ev["streams"]}')
        got = check_transcript(srv, sid, ev, cl, {'1': ALICE, '2': BOB})
        check('go forward ten meters' in ' '.join(l['text'] for l in got['1']),
              f'{name}: "go forward ten meters" not heard on goforward.raw: {got["1"]}')
        # The audio the recogniser heard is the audio recorded: the reference.
        for label in ('1', '2'):
            ref = cl.reference(label)
            rec = read_wav(os.path.join(srv.out, sid, label + '.wav')).samples
            at = find_audio(rec, ref, what=f'{name} stream {label}')
            check_equal(rec, at, ref, 0, len(ref), f'{name} stream {label}', last=True)
        m = manifest_of(srv, sid)
        check(m['slips'] == 0 and m['write_errors'] == 0, f'{name}: manifest {m}')
    srv.stop()


def case_transcript_g722(ctx):
    case_transcript(ctx, 'g722')


def case_transcript_opus(ctx):
    case_transcript(ctx, 'opus')


def check_modes(folder):
    mode = stat.S_IMODE(os.lstat(folder).st_mode)
    check(mode == 0o700, f'{folder}: mode {mode:o}, 700 expected')
    for name in os.listdir(folder):
        st = os.lstat(os.path.join(folder, name))
        check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
              f'{folder}/{name}: mode {stat.S_IMODE(st.st_mode):o}, a 600 file expected')


def parse_utc(text):
    check(text.endswith('Z'), f'time {text!r} not UTC')
    return datetime.fromisoformat(text[:-1] + '+00:00').timestamp()


def case_files(ctx, *extra):
    """A real-time call, paused from 1 s to 2 s of media by re-INVITE."""
    need_client(ctx)
    # Unpaced media reads (every readiness): the other cases run paced, the
    # default, and the files must come out alike either way.
    srv = start(ctx, '--media-read-ms', '0', *extra)
    t0 = time.time()
    cl = Client(ctx, 'call', ['--pause-at', '1', '--resume-at', '2'] + two_streams('g722', 'opus'),
                seed=7)
    out = cl.result()
    t1 = time.time()
    check(out['status'] == 200 and out['bye'] == 'sent', f'client {out}')
    srv.wait_lines(r'^recording_done ')
    sid, ev = session_of(srv, out['call_id'])
    folder = os.path.join(srv.out, sid)
    check(sorted(os.listdir(folder)) == ['1.wav', '2.wav', 'manifest.json', 'stereo.wav'],
          f'{folder}: {sorted(os.listdir(folder))}')
    check_modes(folder)
    mono, at, total = {}, {}, {}
    for s in out['streams']:
        label = s['label']
        ref = cl.reference(label)
        # Sent: every packet but the 50 of the pause; the reference decode
        # is what was sent, back to back.
        check(len(ref) == s['packets'] * MS20, f'stream {label}: {len(ref)} reference samples '
              f'for {s["packets"]} packets')
        w = read_wav(os.path.join(folder, label + '.wav'))
        rec = mono[label] = w.samples
        # Before the pause: from the stream's first packet on the timeline.
        a = at[label] = find_audio(rec, ref, 0, 0, RATE, f'stream {label}')
        check(0 <= a < RATE // 10, f'stream {label}: first audio at {a / RATE:.3f} s of the call')
        check_equal(rec, a, ref, 0, RATE, f'stream {label} before the pause')
        # After it: the next packet's audio 1 s (50 packets of RTP time)
        # later. The server's decoder starts afresh after the pause (the
        # client's reference decoder does not), so the samples differ at
        # first (G.722's ADPCM converges within ~0.3 s, Opus never quite):
        # found by their envelope, then checked exactly where G.722 has
        # converged.
        b, corr = locate(rec, ref, RATE, a + 2 * RATE, RATE // 5, f'stream {label}')
        gap = b - a - RATE
        print(f'stream {label}: paused {gap / RATE:.4f} s in the file, correlation {corr:.3f}')
        check(abs(gap - RATE) <= RATE * 40 // 1000,
              f'stream {label}: the pause lasts {gap / RATE:.3f} s in the file, 1 s expected')
        check(corr > 0.9, f'stream {label}: the audio after the pause is not what was sent '
              f'(correlation {corr:.3f})')
        quiet = rec[a + RATE:b - 32]
        check(not any(quiet), f'stream {label}: {sum(1 for x in quiet if x)} samples of '
              f'the pause are not silent')
        if s['codec'] == 'g722':
            check_equal(rec, b - RATE, ref, RATE + RATE * 3 // 10, len(ref),
                        f'stream {label} after the pause', last=True)
        # The file: the call's start to the last packet, within 20 ms.
        total[label] = a + gap + len(ref)
        check(abs(w.frames - total[label]) <= MS20,
              f'stream {label}: {w.frames} frames, {total[label]} sent (from the call start)')
    # Both streams paused together: the timeline stays aligned across them.
    check(abs(at['1'] - at['2']) <= RATE * 40 // 1000,
          f'streams start {at["1"]} and {at["2"]} samples into the call')
    st = read_wav(os.path.join(folder, 'stereo.wav'), channels=2)
    n = max(len(m) for m in mono.values())
    check(st.frames == n, f'stereo.wav: {st.frames} frames, the longer mono file {n}')
    for ch, label in enumerate(('1', '2')):
        want = mono[label] + array.array('h', bytes(2 * (n - len(mono[label]))))
        check(st.channel(ch) == want, f'stereo.wav channel {ch}: not {label}.wav sample for sample')
    m = manifest_of(srv, sid)
    check(m['session'] == sid and m['call_id'] == out['call_id'] and m['end_reason'] == 'bye',
          f'manifest {m}')
    start_t, end_t = parse_utc(m['start']), parse_utc(m['end'])
    check(t0 - 1 <= start_t <= end_t <= t1 + 1 and abs((end_t - start_t) - cl.elapsed) < 1,
          f'manifest start {m["start"]} end {m["end"]}; the call took {cl.elapsed:.2f} s')
    check([(p['aor'], p['name']) for p in m['participants']] == [ALICE, BOB] and
          [p['id'] for p in m['participants']] == [p['id'] for p in ev['metadata']['participants']],
          f'manifest participants {m["participants"]}')
    files = {f['name']: f for f in m['files']}
    check(sorted(files) == ['1.wav', '2.wav', 'stereo.wav'], f'manifest files {m["files"]}')
    for name, frames, ch in (('1.wav', len(mono['1']), 1), ('2.wav', len(mono['2']), 1),
                             ('stereo.wav', n, 2)):
        f = files[name]
        check(f['channels'] == ch and f['rate'] == RATE and
              abs(f['duration'] - frames / RATE) <= 0.001, f'manifest {f}: {frames} frames')
    check(files['1.wav']['stream'] == '1' and files['2.wav']['stream'] == '2' and
          files['stereo.wav']['streams'] == ['1', '2'], f'manifest files {m["files"]}')
    check(m['slips'] == 0 and m['write_errors'] == 0, f'manifest slips {m["slips"]}, '
          f'write errors {m["write_errors"]}')
    srv.stop()


def case_files_epoll(ctx):
    """case_files with the media sockets read through epoll and recvmmsg
    (the default is io_uring where the kernel has it)."""
    case_files(ctx, '--media-io', 'epoll')


def case_sigkill(ctx):
    """SIGKILL 2 s into a real-time call; the files hold what was sent up to
    at most 0.5 s before it."""
    need_client(ctx)
    srv = start(ctx)
    # T1 20 ms: the BYE to the dead server gives up after 1.28 s.
    cl = Client(ctx, 'call', ['--t1-ms', '20'] + two_streams('g722', 'opus'), seed=9)
    srv.wait_lines(r'^session_started ', 1, 10)
    started = time.monotonic()
    time.sleep(2)
    srv.proc.kill()
    killed = time.monotonic()
    srv.proc.wait()
    out = cl.result(expect_rc=1)
    check(out['status'] == 200, f'client {out}')
    sid, _ = session_of(srv, out['call_id'])
    folder = os.path.join(srv.out, sid)
    check(sorted(os.listdir(folder)) == ['1.wav', '2.wav', 'stereo.wav'],
          f'{folder}: {sorted(os.listdir(folder))}')
    check_modes(folder)
    # The file's sample 0 is the session's start, no later than the log line.
    least = int((killed - started - 0.5) * RATE)
    mono = {}
    for label in ('1', '2'):
        ref = cl.reference(label)
        w = read_wav(os.path.join(folder, label + '.wav'))
        rec = mono[label] = w.samples
        a = find_audio(rec, ref, 0, 0, RATE, f'stream {label}')
        check(w.frames >= least, f'stream {label}: {w.frames / RATE:.3f} s in the file, at least '
              f'{least / RATE:.3f} s (the kill came {killed - started:.3f} s after the start)')
        check(w.frames - a <= len(ref), f'stream {label}: more audio than was sent')
        check_equal(rec, a, ref, 0, w.frames - a, f'stream {label}')
        print(f'stream {label}: {w.frames / RATE:.3f} s recorded, killed at '
              f'{killed - started:.3f} s (wave read it: {w.wave_ok})')
    st = read_wav(os.path.join(folder, 'stereo.wav'), channels=2)
    check(st.frames >= least, f'stereo.wav: {st.frames / RATE:.3f} s, at least {least / RATE:.3f}')
    for ch, label in enumerate(('1', '2')):
        check(st.channel(ch) == mono[label][:st.frames],
              f'stereo.wav channel {ch}: not {label}.wav sample for sample')
    print(f'stereo.wav: {st.frames / RATE:.3f} s')


def case_metrics(ctx):
    """Four calls at once; /metrics during and after."""
    need_client(ctx)
    port = free_tcp_port()
    # Paced media reads (the default): the counts below come out exact.
    srv = start(ctx, '--metrics', f'127.0.0.1:{port}')
    calls = [Client(ctx, f'call{i}', two_streams('g722', 'opus'), seed=20 + i) for i in range(4)]
    srv.wait_lines(r'^stream_started ', 8, 15)
    m = scrape(port)
    for key, want in (('siprec_sessions_active', 4), ('siprec_server_recordings', 4),
                      ('siprec_streams{state="recording"}', 8),
                      ('siprec_sessions_started_total', 4)):
        check(m.get(key) == want, f'during the calls: {key} {m.get(key)}, {want} expected')
    check(m['siprec_rtp_packets_total'] > 0, 'during the calls: no RTP counted')
    # Paced reads take two datagrams of a stream at once; their kernel arrival times keep the jitter the
    # network's (about 0 on loopback), where read times would make it ~20 ms.
    time.sleep(1.0)
    jitter = scrape(port)['siprec_rtp_jitter_max_seconds']
    check(jitter < 0.010, f'during the calls: jitter {jitter} s, the reads\' pace, not the network\'s')
    outs = [c.result() for c in calls]
    srv.wait_lines(r'^recording_done ', 4, 15)
    packets = sum(s['packets'] for o in outs for s in o['streams'])
    octets = sum(s['bytes'] for o in outs for s in o['streams'])
    check(all(s['lost'] == 0 for o in outs for s in o['streams']), 'the client lost packets')
    m = scrape(port)
    want = {
        'siprec_sessions_active': 0, 'siprec_sessions_started_total': 4,
        'siprec_sessions_ended_total{reason="bye"}': 4, 'siprec_server_recordings': 0,
        'siprec_server_recordings_done_total': 4, 'siprec_server_recording_errors_total': 0,
        # Whole RTP packets: the payloads and a 12-octet header each.
        'siprec_rtp_packets_total': packets, 'siprec_rtp_received_bytes_total': octets + 12 * packets,
        'siprec_server_media_datagrams_total': packets, 'siprec_rtp_packets_lost_total': 0,
        'siprec_rtp_decode_errors_total': 0, 'siprec_sip_responses_total{class="2xx"}': 8,
    }
    for key, value in want.items():
        check(m.get(key) == value, f'after the calls: {key} {m.get(key)}, {value} expected')
    for key, value in m.items():
        if key.startswith('siprec_sessions_ended_total{') and 'bye' not in key or \
                key.startswith('siprec_rtp_packets_dropped_total{'):
            check(value == 0, f'after the calls: {key} {value}')
    srv.stop()


def flood(port, stop, sent):
    """RTP datagrams at `port` from 127.0.0.2 (an address no stream latched)
    until `stop`; their count into sent[0]."""
    pkt = bytes([0x80, 0x00, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef]) + bytes(160)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.2', 0))
        s.connect(('127.0.0.1', port))
        s.setblocking(False)
        while not stop.is_set():
            for _ in range(512):
                try:
                    s.send(pkt)
                    sent[0] += 1
                except (BlockingIOError, ConnectionRefusedError):
                    pass


def case_media_flood(ctx):
    """Two calls while one of their RTP ports is flooded."""
    need_client(ctx)
    port = free_tcp_port()
    srv = start(ctx, '--metrics', f'127.0.0.1:{port}')
    calls = [Client(ctx, f'call{i}', two_streams('g722', 'opus'), seed=40 + i) for i in range(2)]
    srv.wait_lines(r'^stream_started ', 4, 15)
    target = None
    for _ in range(50):
        for sid, ev in srv.sessions().items():
            st = [x for x in ev.get('streams', []) if x.get('port')]
            if st:
                target = (sid, st[0]['label'], st[0]['port'])
                break
        if target:
            break
        time.sleep(0.1)
    check(target, 'no stream port in the session files')
    stop, sent = threading.Event(), [0]
    th = threading.Thread(target=flood, args=(target[2], stop, sent), daemon=True)
    th.start()
    try:
        outs = [c.result() for c in calls]
    finally:
        stop.set()
        th.join(5)
    srv.wait_lines(r'^recording_done ', 2, 15)
    packets = sum(s['packets'] for o in outs for s in o['streams'])
    m = scrape(port)
    drops = m.get('siprec_rtp_packets_dropped_total{reason="latching"}', 0)
    print(f'flood: {sent[0]} datagrams sent at port {target[2]}, {drops:.0f} dropped by '
          f'latching; the calls: {packets} packets')
    check(sent[0] > 10 * packets, f'the flood sent only {sent[0]} datagrams')
    check(drops > packets, f'{drops} datagrams dropped by latching: the flood did not arrive')
    check(m.get('siprec_server_recordings_done_total') == 2, 'recordings not done')
    # The flooded socket's buffer is full of the flood: its own stream may
    # lose packets there, in the kernel. Every other stream is exact.
    for cl in calls:
        sid, ev = session_of(srv, cl.out['call_id'])
        for label in ('1', '2'):
            if (sid, label) == target[:2]:
                continue
            what = f'{cl.dir} stream {label}'
            ref = cl.reference(label)
            rec = read_wav(os.path.join(srv.out, sid, label + '.wav')).samples
            check_equal(rec, find_audio(rec, ref, what=what), ref, 0, len(ref), what, last=True)
    srv.stop()


ON_COMPLETE = r'''#!/bin/sh
# The test's --on-complete command: $1 is the recording's folder.
w="$(dirname "$0")"
if [ -e "$w/hang" ]; then
    sleep 60 &
    echo "$$ $!" > "$w/hang.pids"
    wait
    echo survived > "$w/hang.survived"
    exit 0
fi
ls "$1" > "$w/marker.ls"
cp "$1/transcript.jsonl" "$w/marker.transcript"
echo "$1" > "$w/marker.folder"
'''


def alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(') ', 1)[1][0] != 'Z'
    except FileNotFoundError:
        return False


def case_on_complete(ctx):
    need_client(ctx)
    need_pocketsphinx()
    hooks = os.path.join(ctx.work, 'hooks')
    os.makedirs(hooks)
    script = os.path.join(hooks, 'on-complete.sh')
    with open(script, 'w') as f:
        f.write(ON_COMPLETE)
    os.chmod(script, 0o755)
    port = free_tcp_port()
    srv = start(ctx, '--transcribe', 'pocketsphinx', '--on-complete', script,
                '--on-complete-timeout-ms', '1000', '--metrics', f'127.0.0.1:{port}')
    out = Client(ctx, 'call1', two_streams('g722'), pace=0, seed=31).result()
    sid, _ = session_of(srv, out['call_id'])
    marker = os.path.join(hooks, 'marker.folder')
    deadline = time.monotonic() + 60
    while not os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    check(os.path.exists(marker), '--on-complete did not run within 60 s')
    time.sleep(0.2)
    with open(marker) as f:
        check(f.read().strip() == os.path.join(srv.out, sid), 'the command got another folder')
    with open(os.path.join(hooks, 'marker.ls')) as f:
        check(f.read().split() == ['1.wav', '2.wav', 'manifest.json', 'stereo.wav',
                                   'transcript.jsonl'], 'the folder when the command ran')
    with open(os.path.join(hooks, 'marker.transcript')) as f:
        seen = f.read()
    with open(os.path.join(srv.out, sid, 'transcript.jsonl')) as f:
        final = f.read()
    check(seen == final, 'transcript.jsonl grew after the command ran')
    check(sorted(by_stream([json.loads(l) for l in seen.splitlines()])) == ['1', '2'],
          f'the command saw a transcript without both streams: {seen!r}')
    # The next one hangs, with a child of its own: both killed at 1 s.
    open(os.path.join(hooks, 'hang'), 'w').close()
    Client(ctx, 'call2', two_streams('g722'), pace=0, seed=32).result()
    pids_path = os.path.join(hooks, 'hang.pids')
    deadline = time.monotonic() + 60
    while not os.path.exists(pids_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    check(os.path.exists(pids_path), 'the second --on-complete did not run within 60 s')
    began = time.monotonic()
    time.sleep(0.1)
    with open(pids_path) as f:
        shell, child = (int(x) for x in f.read().split())
    while alive(shell) and time.monotonic() - began < 5:
        time.sleep(0.02)
    took = time.monotonic() - began
    check(not alive(shell), 'the hanging command still runs 5 s later')
    check(0.7 <= took <= 2.0, f'the hanging command was killed {took:.2f} s after it began, '
          f'--on-complete-timeout-ms 1000')
    time.sleep(0.2)
    check(not alive(child), f'the hanging command\'s child {child} survived it')
    check(not os.path.exists(os.path.join(hooks, 'hang.survived')), 'the command went on')
    m = scrape(port)
    check(m['siprec_server_completions_total'] == 2 and
          m['siprec_server_completion_kills_total'] == 1 and
          m['siprec_server_completion_failures_total'] == 0, f'completion metrics {m}')
    with open(srv.err_path) as f:
        check('killed after 1000 ms' in f.read(), 'the kill was not logged')
    srv.stop()


def mount_tmpfs(ctx, path, size):
    os.makedirs(path)
    p = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size},mode=0755', 'tmpfs', path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise Skip(f'cannot mount a tmpfs: {p.stderr.strip()}')
    ctx.mounts = getattr(ctx, 'mounts', []) + [path]


def free_bytes(path):
    v = os.statvfs(path)
    return v.f_bavail * v.f_frsize


def case_disk_full(ctx):
    need_client(ctx)
    disk = os.path.join(ctx.work, 'disk')
    mount_tmpfs(ctx, disk, '4m')
    # Leave 1.25 MiB: more than --min-free-mb 1, less than the call needs
    # (two streams and stereo.wav at 48 kHz: 384 kB/s for 4 s).
    filler = os.path.join(disk, 'filler')
    with open(filler, 'wb') as f:
        f.write(b'\0' * (free_bytes(disk) - 1280 * 1024))
    port = free_tcp_port()
    srv = start(ctx, '--out', disk, '--min-free-mb', '1', '--record-rate', '48000',
                '--metrics', f'127.0.0.1:{port}')
    srv.out = disk
    out = Client(ctx, 'full', two_streams('g722'), seed=41).result()
    check(out['status'] == 200, f'client {out}')
    srv.wait_lines(r'^recording_done ', 1, 10)
    sid, _ = session_of(srv, out['call_id'])
    with open(srv.err_path) as f:
        err = f.read()
    # Logged where the write failed: during the call (a flush) or at its end
    # (the last flush, when the disk filled with the call's last audio).
    check(f'session {sid}: recording stopped: No space left on device' in err or
          f'session {sid}: closing the recording: No space left on device' in err,
          f'the full disk was not logged: {err!r}')
    check(f'session {sid}: manifest: No space left on device' in err or
          os.path.exists(os.path.join(disk, sid, 'manifest.json')), 'no manifest, no word of it')
    m = scrape(port)
    check(m['siprec_server_recording_errors_total'] == 1,
          f"siprec_server_recording_errors_total {m['siprec_server_recording_errors_total']}, 1 expected")
    folder = os.path.join(disk, sid)
    for name in ('1.wav', '2.wav', 'stereo.wav'):
        w = Wav(os.path.join(folder, name))
        check(w.rate == 48000 and w.frames > 0, f'{name}: {w.frames} frames at {w.rate} Hz')
        ch, rate, samples = sndfile_read(os.path.join(folder, name))
        check(samples == w.samples, f'{name}: libsndfile reads other samples')
    check(free_bytes(disk) < 1024 * 1024, f'{free_bytes(disk)} bytes free after the call')
    # Space short: 503 (the server looks at most once a second).
    time.sleep(1.1)
    out = Client(ctx, 'refused', two_streams('g722'), pace=0, seed=42).result(expect_rc=1)
    check(out['status'] == 503, f'a new call while the disk is full: {out["status"]}, 503 expected')
    os.unlink(filler)
    time.sleep(1.1)
    out = Client(ctx, 'back', two_streams('g722'), pace=0, seed=43).result()
    check(out['status'] == 200 and out['bye'] == 'sent', f'after space returned: {out}')
    srv.wait_lines(r'^recording_done ', 2, 10)
    with open(srv.err_path) as f:
        err = f.read()
    check('new sessions get 503' in err and 'space is back' in err, f'log: {err!r}')
    srv.stop()


# -- A disk that falls behind ---------------------------------------------

PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207


class ThreadStop:
    """One thread of another process stopped alone (ptrace SEIZE and
    INTERRUPT: no group stop, the process's other threads go on), as a
    writer blocked in a write to a dead disk is."""

    def __init__(self, tid):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.restype = ctypes.c_long
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        self.tid = tid
        if self.libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
            raise Skip(f'ptrace: {os.strerror(ctypes.get_errno())} (a thread cannot be stopped here)')
        check(self.libc.ptrace(PTRACE_INTERRUPT, tid, None, None) == 0,
              f'PTRACE_INTERRUPT: {os.strerror(ctypes.get_errno())}')
        os.waitpid(tid, 0x40000000)  # __WALL: it is stopped

    def release(self):
        check(self.libc.ptrace(PTRACE_DETACH, self.tid, None, None) == 0,
              f'PTRACE_DETACH: {os.strerror(ctypes.get_errno())}')


def thread_named(pid, name):
    for tid in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{tid}/comm') as f:
            if f.read().strip() == name:
                return int(tid)
    raise Failure(f'no thread {name} in siprec-server')


def check_dropped_as_silence(rec, at, ref, what):
    """rec holds ref from index `at`, but for spans turned to silence (audio
    dropped for a full queue): every sample is the reference's or 0, and
    the file ends where the stream did. @return the samples zeroed."""
    n = len(ref) - 2 * MS20  # the last two packets may come with the BYE
    check(len(rec) >= at + n, f'{what}: {len(rec)} samples, {at + n} at least (the timeline lost '
          f'the dropped spans\' length?)')
    got = rec[at:at + n]
    wrong = [i for i in range(n) if got[i] != ref[i] and got[i] != 0]
    check(not wrong, f'{what}: {len(wrong)} samples neither the reference nor silence, the first '
          f'at reference sample {wrong[0] if wrong else 0}')
    return sum(1 for i in range(n) if got[i] == 0 and ref[i] != 0)


def case_writer_stall(ctx):
    """The writer thread stopped as if its disk hung, with ten calls up and a
    1 MiB queue: the loop goes on, the audio beyond the bound is dropped,
    logged and counted, and written as silence of its length; once the
    writer goes on, every file is its reference but for those spans, ends
    where its stream did, and a new call is recorded whole."""
    need_client(ctx)
    port = free_tcp_port()
    srv = start(ctx, '--record-queue-mb', '1', '--metrics', f'127.0.0.1:{port}')
    stop = ThreadStop(thread_named(srv.proc.pid, 'rec-writer'))
    try:
        # 16 kHz, a buffer of 0.4 s a file handed over every 0.2 s: 51 kB a
        # call a flush, the 1 MiB queue full after two flushes. Released
        # 1 s in, before the streams' last second (of 2.5).
        calls = [Client(ctx, f'call{i}', ['--duration', '2.5'] + two_streams('g722', 'opus'),
                        seed=60 + i) for i in range(10)]
        srv.wait_lines(r'^stream_started ', 20, 15)  # the loop went on
        time.sleep(1.0)
    finally:
        stop.release()
    m = scrape(port)
    check(m['siprec_server_recording_dropped_frames_total'] > 0,
          'nothing dropped with the writer stopped 1 s')
    check(m['siprec_sessions_active'] == 10, f"{m['siprec_sessions_active']} sessions active")
    outs = [c.result() for c in calls]
    srv.wait_lines(r'^recording_done ', 10, 20)
    with open(srv.err_path) as f:
        err = f.read()
    check('recordings: the disk is behind by' in err, f'no word of the drops: {err!r}')
    check('recordings: the writer caught up;' in err, f'no word of the end of the drops: {err!r}')
    zeroed = 0
    for cl, out in zip(calls, outs):
        check(out['status'] == 200, f'client {out}')
        sid, _ = session_of(srv, out['call_id'])
        folder = os.path.join(srv.out, sid)
        check(os.path.exists(os.path.join(folder, 'manifest.json')), f'{folder}: no manifest')
        mono = {}
        for label in ('1', '2'):
            ref = cl.reference(label)
            w = read_wav(os.path.join(folder, label + '.wav'))
            mono[label] = w.samples
            # Found by its last second, which came after the writer went on.
            tail = len(ref) - RATE
            at = find_audio(w.samples, ref, tail, tail, tail + 2 * RATE, f'{sid} stream {label}')
            zeroed += check_dropped_as_silence(w.samples, at, ref, f'{sid} stream {label}')
        st = read_wav(os.path.join(folder, 'stereo.wav'), channels=2)
        for ch, label in enumerate(('1', '2')):
            side = st.channel(ch)
            check(len(side) >= len(mono[label]) - 2 * MS20 and
                  all(a == b or a == 0 or b == 0 for a, b in zip(side, mono[label])),
                  f'{sid} stereo.wav channel {ch}: neither {label}.wav nor silence')
    m = scrape(port)
    dropped = m['siprec_server_recording_dropped_frames_total']
    check(zeroed > 0, 'no audio turned to silence in the mono files')
    print(f'{dropped} frames dropped (all files), {zeroed} samples of speech silenced in the mono files')
    # The writer kept up again: a call now is recorded whole.
    cl = Client(ctx, 'after', ['--duration', '1'] + two_streams('g722', 'opus'), seed=70)
    out = cl.result()
    srv.wait_lines(r'^recording_done ', 11, 15)
    sid, _ = session_of(srv, out['call_id'])
    for label in ('1', '2'):
        ref = cl.reference(label)
        w = read_wav(os.path.join(srv.out, sid, label + '.wav'))
        at = find_audio(w.samples, ref, 0, 0, RATE, f'after: stream {label}')
        check_equal(w.samples, at, ref, 0, len(ref), f'after: stream {label}', last=True)
    check(scrape(port)['siprec_server_recording_dropped_frames_total'] == dropped,
          'frames dropped after the writer caught up')
    srv.stop()


# -- Cisco built-in bridge --------------------------------------------------

def ulaw(x):
    """G.711 mu-law of one 16-bit sample."""
    sign = 0x80 if x < 0 else 0
    x = min(abs(x), 32635) + 132
    exp = 7
    while exp > 0 and not x & (0x4000 >> (7 - exp)):
        exp -= 1
    return ~(sign | exp << 4 | (x >> (exp + 3)) & 0x0f) & 0xff


def pcmu_payloads(path):
    """The 16 kHz file at 8 kHz (pairs averaged), mu-law, 20 ms payloads."""
    with open(path, 'rb') as f:
        pcm = array.array('h', f.read())
    half = [(pcm[i] + pcm[i + 1]) // 2 for i in range(0, len(pcm) - 1, 2)]
    half += [0] * (-len(half) % 160)
    coded = bytes(ulaw(x) for x in half)
    return [coded[i:i + 160] for i in range(0, len(coded), 160)]


class BibLeg:
    """One leg of a CUCM built-in-bridge recording: a plain INVITE without
    a body (the From parameters name the leg and pair it), the SRS's offer
    in its 200, our answer in the ACK, PCMU, BYE. Modelled on
    tests/integration/sipp/cucm-bib.xml."""

    def __init__(self, port, leg):
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind(('127.0.0.1', 0))
        self.sip.settimeout(5)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(('127.0.0.1', 0))
        self.srv = ('127.0.0.1', port)
        self.lport = self.sip.getsockname()[1]
        n = random.getrandbits(32)
        self.call_id = f'{n:08x}-bib-{leg}@127.0.0.1'
        # Both legs name the same call (the recorded phone 1001 near, 2001
        # far); x-nearend or x-farend says which side this leg carries.
        self.from_ = (f'<sip:1001@127.0.0.1>;tag={n:x}~{leg};x-{leg};x-refci=25431346;'
                      f'x-nearendclusterid=CUCM-Cluster1;x-nearenddevice=SEP001122334455;'
                      f'x-nearendaddr=1001;x-farendrefci=25431345;'
                      f'x-farendclusterid=CUCM-Cluster1;x-farenddevice=SEP665544332211;'
                      f'x-farendaddr=2001')
        self.to = None
        self.seq = random.getrandbits(16)
        self.ts = random.getrandbits(32)
        self.ssrc = random.getrandbits(32)

    def request(self, method, cseq, body='', ctype=None):
        branch = f'z9hG4bK{random.getrandbits(48):x}'
        head = (f'{method} sip:7777@127.0.0.1:{self.srv[1]} SIP/2.0\r\n'
                f'Via: SIP/2.0/UDP 127.0.0.1:{self.lport};branch={branch}\r\n'
                f'From: {self.from_}\r\nTo: {self.to or "<sip:7777@127.0.0.1>"}\r\n'
                f'Call-ID: {self.call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n'
                f'User-Agent: Cisco-CUCM11.5\r\n'
                f'Contact: <sip:1001@127.0.0.1:{self.lport};transport=udp>;isFocus\r\n')
        if ctype:
            head += f'Content-Type: {ctype}\r\n'
        self.sip.sendto((head + f'Content-Length: {len(body)}\r\n\r\n' + body).encode(), self.srv)

    def final(self, method):
        while True:
            try:
                msg = self.sip.recv(65536).decode(errors='replace')
            except socket.timeout:
                raise Failure(f'BiB leg: no final answer to {method}')
            # 1xx; and RTCP: the server reports to our RTP port + 1, which
            # may be another leg's SIP socket.
            if msg.startswith('SIP/2.0 1') or not msg.startswith('SIP/2.0 '):
                continue
            check(msg.startswith('SIP/2.0 200 ') and f' {method}\r\n' in msg,
                  f'BiB leg: {msg.splitlines()[0]!r} to {method}')
            return msg

    def invite(self):
        self.request('INVITE', 101)
        ok = self.final('INVITE')
        head, body = ok.split('\r\n\r\n', 1)
        self.to = next(l.split(':', 1)[1].strip() for l in head.split('\r\n')
                       if l.lower().startswith('to:'))
        port = next(int(l.split()[1]) for l in body.split('\r\n') if l.startswith('m=audio '))
        check('a=recvonly' in body and ' 0' in body.split('m=audio', 1)[1].split('\r\n')[0],
              f'the SRS offer: {body!r}')
        self.media = ('127.0.0.1', port)
        sdp = ('v=0\r\no=CiscoSystemsCCM-SIP 2000 1 IN IP4 127.0.0.1\r\ns=SIP Call\r\n'
               'c=IN IP4 127.0.0.1\r\nt=0 0\r\n'
               f'm=audio {self.rtp.getsockname()[1]} RTP/AVP 0\r\n'
               'a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n')
        self.request('ACK', 101, sdp, 'application/sdp')

    def send(self, payload, first):
        hdr = struct.pack('!BBHII', 0x80, (0x80 if first else 0) | 0, self.seq, self.ts, self.ssrc)
        self.rtp.sendto(hdr + payload, self.media)
        self.seq = (self.seq + 1) & 0xffff
        self.ts = (self.ts + 160) & 0xffffffff

    def bye(self):
        self.request('BYE', 102)
        self.final('BYE')
        self.sip.close()
        self.rtp.close()


def case_cucm_bib(ctx):
    need_audio()
    need_pocketsphinx()
    srv = start(ctx, '--transcribe', 'pocketsphinx', '--on-complete', 'echo complete')
    near = BibLeg(srv.port, 'nearend')
    far = BibLeg(srv.port, 'farend')
    near.invite()
    far.invite()
    audio = {'near': pcmu_payloads(GOFORWARD), 'far': pcmu_payloads(NUMBERS)}
    n = max(len(a) for a in audio.values())
    t = time.monotonic()
    # Real time; each leg hangs up when its audio ends. (A leg that went
    # quiet more than stereo_lag_ms, 500, before its BYE would lose its last
    # 20 ms from stereo.wav, not from its mono file: the library hands over
    # a stream's last frame only with the next packet or at its end, and by
    # then the stereo file has moved on: see the report of this test.)
    for i in range(n + 1):
        for leg, payloads in ((near, audio['near']), (far, audio['far'])):
            if i < len(payloads):
                leg.send(payloads[i], i == 0)
            elif i == len(payloads):
                leg.bye()
        t += 0.02
        time.sleep(max(0, t - time.monotonic()))
    srv.wait_lines(r'^complete ', 1, 60)
    time.sleep(0.5)
    check(len(srv.matching(r'^complete ')) == 1, 'more than one recording completed')
    folders = [d for d in os.listdir(srv.out) if os.path.isdir(os.path.join(srv.out, d))]
    check(len(folders) == 1, f'recording folders {folders}: one for both legs expected')
    folder = os.path.join(srv.out, folders[0])
    names = sorted(os.listdir(folder))
    check('stereo.wav' in names and 'transcript.jsonl' in names and 'manifest.json' in names and
          len([x for x in names if x.endswith('.wav')]) == 3, f'{folder}: {names}')
    m = manifest_of(srv, folders[0])
    check(m['end_reason'] == 'bye' and sorted(p['aor'] for p in m['participants']) ==
          ['1001', '2001'], f'manifest {m}')
    # Each leg's stream is named by its leg (both legs label theirs "1"):
    # nearend.wav and farend.wav, and so in the manifest and the transcript.
    check('nearend.wav' in names and 'farend.wav' in names, f'{folder}: {names}')
    # Mono files in the order their streams came; stereo.wav is the first
    # two, left and right.
    order = [f['name'] for f in m['files'] if f['channels'] == 1]
    check(len(order) == 2, f'manifest files {m["files"]}')
    mono = {name: read_wav(os.path.join(folder, name)).samples for name in order}
    st = read_wav(os.path.join(folder, 'stereo.wav'), channels=2)
    for ch, name in enumerate(order):
        k = min(st.frames, len(mono[name]))
        check(k > RATE * 2 and st.channel(ch)[:k] == mono[name][:k],
              f'stereo.wav channel {ch}: not {name} sample for sample')
    # Which leg is which: near-end sent goforward.raw, the shorter.
    near_file, far_file = sorted(order, key=lambda n: len(mono[n]))
    lines = transcript(srv, folders[0])
    check({l['session'] for l in lines} == {folders[0]}, 'transcript lines of another session')
    check({l['stream'] for l in lines} == {'nearend', 'farend'},
          f'transcript streams {sorted({l["stream"] for l in lines})}: nearend and farend expected')
    said = {}
    for l in lines:
        said.setdefault((l['participant'] or {}).get('aor'), []).append(l['text'])
    print(f'transcript by speaker: {said}')
    check(sorted(said) == ['1001', '2001'], f'transcript speakers {sorted(said)}, 1001 and 2001 '
          f'expected: {lines}')
    # Each leg's words: pocketsphinx_continuous on that leg's recording.
    for who, name in (('1001', near_file), ('2001', far_file)):
        raw = os.path.join(ctx.work, name + '.raw')
        # From the leg's first sample: the silence before it (the time from
        # the call's start to the leg's first packet) is the timeline's, the
        # recogniser never heard it.
        first = next(i for i, x in enumerate(mono[name]) if x)
        with open(raw, 'wb') as f:
            f.write(mono[name][first:].tobytes())
        want = oracle(raw)
        check(said[who] == want, f'{who}: the server heard {said[who]}, pocketsphinx_continuous '
              f'on {name} says {want}')
    srv.stop()


def unulaw(b):
    """G.711 mu-law to 16-bit linear (ITU-T G.711's table)."""
    b = ~b & 0xff
    t = ((b & 0x0f) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return 0x84 - t if b & 0x80 else t - 0x84


def case_large_packets(ctx):
    """Two legs sending 60 ms PCMU packets (480-byte payloads, longer than
    the io_uring reader's small buffers): each file holds what was sent,
    but for at most the first packet (the one that showed a socket needs
    large buffers)."""
    need_audio()
    srv = start(ctx, '--record-rate', '8000', '--verbose')
    legs = [BibLeg(srv.port, 'nearend'), BibLeg(srv.port, 'farend')]
    for leg in legs:
        leg.invite()
    audio = pcmu_payloads(GOFORWARD)
    big = [b''.join(audio[i:i + 3]) for i in range(0, len(audio) - 2, 3)][:60]
    t = time.monotonic()
    for i, payload in enumerate(big):
        for leg in legs:
            leg.send(payload, i == 0)
            leg.ts = (leg.ts + 320) & 0xffffffff  # 480 samples a packet
        t += 0.06
        time.sleep(max(0, t - time.monotonic()))
    for leg in legs:
        leg.bye()
    srv.wait_lines(r'^recording_done ', 1, 15)
    folders = [d for d in os.listdir(srv.out) if os.path.isdir(os.path.join(srv.out, d))]
    check(len(folders) == 1, f'recording folders {folders}')
    folder = os.path.join(srv.out, folders[0])
    ref = array.array('h', (unulaw(x) for p in big for x in p))
    for name in ('nearend.wav', 'farend.wav'):
        rec = read_wav(os.path.join(folder, name), rate=8000).samples
        # From the second packet on, sample for sample (the last may have
        # come with the BYE, as check_equal says).
        at = find_audio(rec, ref, 480, what=name)
        check_equal(rec, at, ref, 480, len(ref) - 2 * 480, name)
        print(f'{name}: {len(rec)} samples, the sent audio from packet 2 at {at}')
    srv.stop()


def case_writer_stall_fds(ctx):
    """The writer thread stopped (its disk hung) while calls keep coming,
    under 96 descriptors: the folders and files it has still to create
    count against the descriptor budget, so calls get 503 before it runs
    out, and once the writer goes on every admitted call's files are made
    (none refused with EMFILE, no recording stopped)."""
    need_client(ctx)
    srv = start(ctx, nofile=96)
    stop = ThreadStop(thread_named(srv.proc.pid, 'rec-writer'))
    calls = []
    try:
        # Each call: four sockets, three files and a folder. Every INVITE is
        # answered (200 or 503) while the writer is stopped.
        for i in range(14):
            calls.append(Client(ctx, f'fd{i}', ['--duration', '6'] + two_streams('g722', 'opus'),
                                seed=80 + i))
            time.sleep(0.25)
        time.sleep(1.0)
    finally:
        stop.release()
    admitted, refused = [], 0
    for c in calls:
        rc, out, err = c.wait()
        if rc == 0:
            admitted.append(json.loads(out))
        else:
            check('answered 503' in err, f'client {c.dir}: exit {rc}, {err!r}')
            refused += 1
    print(f'{len(admitted)} calls admitted, {refused} refused with 503')
    check(refused > 0, 'no call refused: the budget never counted the files to be made')
    check(admitted, 'every call refused')
    srv.wait_lines(r'^recording_done ', len(admitted), 20)
    with open(srv.err_path) as f:
        err = f.read()
    check('Too many open files' not in err and 'recording stopped' not in err,
          f'a recording failed for descriptors: {err!r}')
    for out in admitted:
        sid, _ = session_of(srv, out['call_id'])
        for name in ('1.wav', '2.wav', 'stereo.wav', 'manifest.json'):
            path = os.path.join(srv.out, sid, name)
            check(os.path.getsize(path) > 44, f'{path}: missing or empty')
    srv.stop()


CASES = {name[5:]: fn for name, fn in globals().items()
         if name.startswith('case_') and name != 'case_transcript'}


class RecordCtx(test_sipp.Ctx):
    def __init__(self, args, work):
        super().__init__(args, work)
        self.clients, self.mounts = [], []

    def cleanup(self):
        for c in self.clients:
            c.kill()
        super().cleanup()
        for path in self.mounts:
            subprocess.run(['umount', path], capture_output=True)


if __name__ == '__main__':
    test_sipp.Ctx = RecordCtx
    sys.exit(test_sipp.main(CASES, __doc__, 'record', client_arg))
