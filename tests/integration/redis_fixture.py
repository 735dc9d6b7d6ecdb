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
    """redis-server; `extra` arguments (e.g. --replicaof HOST PORT)."""

    def __init__(self, work, port=None, extra=(), name='redis'):
        self.port = port or free_port('127.0.0.1', socket.SOCK_STREAM)
        self.log = open(os.path.join(work, f'{name}.log'), 'a')
        self.proc = subprocess.Popen(
            ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--save', '',
             '--appendonly', 'no'] + list(extra), stdin=subprocess.DEVNULL, stdout=self.log,
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


class Sentinel:
    """redis-server --sentinel watching `master` as mymaster: quorum 1, down
    after 1 s."""

    def __init__(self, work, master_port):
        self.port = free_port('127.0.0.1', socket.SOCK_STREAM)
        conf = os.path.join(work, 'sentinel.conf')  # sentinel rewrites it: its own file
        with open(conf, 'w') as f:
            f.write(f'port {self.port}\nbind 127.0.0.1\n'
                    f'sentinel monitor mymaster 127.0.0.1 {master_port} 1\n'
                    'sentinel down-after-milliseconds mymaster 1000\n'
                    'sentinel failover-timeout mymaster 5000\n'
                    'sentinel parallel-syncs mymaster 1\n')
        self.log = open(os.path.join(work, 'sentinel.log'), 'a')
        self.proc = subprocess.Popen(['redis-server', conf, '--sentinel'],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.master():
            time.sleep(0.05)
        check(self.master(), 'redis sentinel did not start')

    def master(self):
        """The (host, port) the sentinel names, or None."""
        r = subprocess.run(['redis-cli', '-p', str(self.port), 'SENTINEL',
                            'get-master-addr-by-name', 'mymaster'], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=10).stdout.split()
        return (r[0], int(r[1])) if len(r) == 2 and r[1].isdigit() else None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
