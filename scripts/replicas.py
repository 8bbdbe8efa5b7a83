"""App replicas behind Debian's nginx on loopback, configured from what deploy/nginx ships (deploy/nginx/render.py
changes only the `listen` line and the replicas' addresses): what tests/e2e/test_replicas.py and bench/classroom.py
(`--replicas N`) start. nginx's access log says which replica served each request and by which affinity key."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from serve import ROOT, free_port, serve, stop

sys.path.insert(0, str(ROOT))
from deploy.nginx.render import render  # noqa: E402

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)),
                                      None)
LOG_LINE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) \d+ upstream=(?P<upstream>.*?) '
                      r'key=(?P<key>\S+) cookie=(?P<cookie>\S+) upgrade=(?P<upgrade>\S+)')
AFFINITY = "mixviz_affinity"


def served_by(line: dict) -> str:
    """The replica that answered a request of nginx's access log (the last address nginx tried)."""
    return line["upstream"].split(", ")[-1]


class Nginx:
    """nginx in front of the given replicas, on a free loopback port; its access log (stdout) in a file."""

    def __init__(self, replicas: list[str]):
        if NGINX is None:
            raise RuntimeError("no nginx binary: `apt-get install -y nginx` (scripts/install_system.sh does)")
        self.dir = Path(tempfile.mkdtemp(prefix="mixviz-nginx-"))
        self.dir.chmod(0o755)  # nginx's workers (user nobody when the test runs as root) spool large responses here
        self.port = free_port()
        conf = render(self.dir, f"127.0.0.1:{self.port}", replicas)
        self.access = self.dir / "access.log"
        with open(self.access, "wb") as out:
            self.proc = subprocess.Popen([NGINX, "-p", f"{self.dir}/", "-c", str(conf), "-e", str(self.dir / "error.log"),
                                          "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                errors = self.errors()
                self.close()
                raise RuntimeError(f"nginx did not answer: {errors}")
            time.sleep(0.2)

    def lines(self) -> list[dict]:
        return [m.groupdict() for m in map(LOG_LINE.search, self.access.read_text().splitlines()) if m]

    def errors(self) -> str:
        path = self.dir / "error.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_replicas(n: int, log, env: dict | None = None) -> dict[str, subprocess.Popen]:
    """`n` app servers (scripts/serve.py) on loopback ports, started side by side: {address: process}. If one
    fails to start, the others are stopped and its error raised."""
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(serve, port, log, env=env) for port in ports]
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        for f in futures:
            if f.exception() is None:
                stop(f.result())
        raise failed[0]
    return {f"127.0.0.1:{port}": f.result() for port, f in zip(ports, futures)}


def stop_replicas(replicas: dict[str, subprocess.Popen]) -> None:
    for proc in replicas.values():
        if proc.poll() is None:
            stop(proc)
