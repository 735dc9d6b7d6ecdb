# SPDX-License-Identifier: LGPL-2.1-or-later
"""redis-server for the integration tests: started on 127.0.0.1 at a free
port (or a given one: a restart), no persistence, so that a restart comes
back empty; redis-cli to look inside."""
import os
import socket
import subprocess
import time

from test_sipp import check


def free_port(host, kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    def __init__(self, work, port=None):
        self.port = port or free_port('127.0.0.1', socket.SOCK_STREAM)
        self.log = open(os.path.join(work, 'redis.log'), 'a')
        self.proc = subprocess.Popen(
            ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--save', '',
             '--appendonly', 'no'], stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.cli('PING') != 'PONG':
            time.sleep(0.05)
        check(self.cli('PING') == 'PONG', 'redis-server did not start')

    def cli(self, *args):
        r = subprocess.run(['redis-cli', '-p', str(self.port)] + list(args),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def session_keys(self):
        out = subprocess.run(['redis-cli', '-p', str(self.port), '--scan', '--pattern',
                              'siprec:s:*'], capture_output=True, text=True, timeout=10).stdout
        return [k for k in out.split('\n') if k]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
