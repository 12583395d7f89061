"""A real multi-node Ray cluster on loopback, for tests and benchmarks (not a test itself).

A head without CPUs (it only coordinates) and worker nodes, each started as `ray start --block` in a process group of
its own, with its own CPUs, a resource named after it and its own environment variables. Every process of the cluster
is stopped at the end: each group is sent SIGTERM, then SIGKILL, and anything still running from the cluster's own
temporary folder is killed by pid.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = Path(sys.executable).parent / 'ray'

# `ray start` turns token authentication on by default (the token in ~/.ray/auth_token); a driver must ask for it by
# name, before ray is imported (Ray reads its configuration once): import this module first
os.environ.setdefault('RAY_AUTH_MODE', 'token')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class RayCluster:
    "Start with `RayCluster()`, add nodes with `add_node`, connect with `address`; `stop()` (or `with`) ends every process."

    def __init__(self, timeout: float = 600):
        self.dir = Path(tempfile.mkdtemp(prefix='cbray-', dir='/tmp'))  # short: Ray's socket paths live under it
        self.port, self.timeout, self.procs = free_port(), timeout, []
        self.address = f'127.0.0.1:{self.port}'
        self._start('head', ['--head', f'--port={self.port}', '--num-cpus=0', '--include-dashboard=false', f'--temp-dir={self.dir}/t'])
        import ray
        self.ray = ray
        deadline = time.monotonic() + timeout
        while 'Ray runtime started' not in self.log('head') and self.procs[0][1].poll() is None and time.monotonic() < deadline:
            time.sleep(1)
        while True:  # the head takes a while on a busy machine
            try:
                ray.init(address=self.address, log_to_driver=False, logging_level='ERROR')
                break
            except Exception:
                if time.monotonic() > deadline or self.procs[0][1].poll() is not None:
                    self.stop()
                    raise RuntimeError(f"the Ray head did not start: {self.log('head')[-2000:]}")
                time.sleep(2)

    def _start(self, name: str, args: list, env: dict | None = None):
        log = open(self.dir / f'{name}.log', 'w')
        p = subprocess.Popen([str(RAY), 'start', '--block', '--node-ip-address=127.0.0.1', '--disable-usage-stats',
                              '--object-store-memory=100000000', *args],
                             stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True)
        self.procs.append((name, p, log))

    def log(self, name: str) -> str:
        return (self.dir / f'{name}.log').read_text(errors='replace')

    def nodes(self) -> list:
        "The live nodes, as `ray.nodes()` lists them."
        return [n for n in self.ray.nodes() if n.get('Alive')]

    def add_node(self, name: str, cpus: int = 1, env: dict | None = None) -> str:
        "Start a worker node with `cpus` CPUs and a resource `name`; wait until it has joined; its node id."
        self._start(name, [f'--address={self.address}', f'--num-cpus={cpus}', f'--resources={json.dumps({name: 1})}'], env)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            ids = [n['NodeID'] for n in self.nodes() if name in n.get('Resources', {})]
            if ids: return ids[0]
            if self.procs[-1][1].poll() is not None: break
            time.sleep(1)
        raise RuntimeError(f"node {name} did not join: {self.log(name)[-2000:]}")

    def stop(self):
        "Stop every process of the cluster: the driver connection, each node's group, then any straggler under its folder."
        try: self.ray.shutdown()
        except Exception: pass
        for name, p, log in reversed(self.procs):
            try: os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError: pass
        for name, p, log in reversed(self.procs):
            try: p.wait(timeout=60)
            except subprocess.TimeoutExpired: pass
            try: os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError: pass
            p.wait()
            log.close()
        for pid in self.stragglers():
            try: os.kill(pid, signal.SIGKILL)
            except ProcessLookupError: pass

    def stragglers(self) -> list:
        "Pids of processes whose command line names this cluster's folder (ours: nobody else knows it)."
        out, mark = [], str(self.dir).encode()
        for d in Path('/proc').iterdir():
            if d.name.isdigit() and int(d.name) != os.getpid():
                try:
                    if mark in (d / 'cmdline').read_bytes(): out.append(int(d.name))
                except OSError: pass
        return out

    def __enter__(self): return self
    def __exit__(self, *exc): self.stop()
