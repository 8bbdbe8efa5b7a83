"""A throwaway PostgreSQL server for tests and benchmarks: Debian's binaries (`apt-get install -y postgresql`, which
scripts/install_system.sh does; they live in /usr/lib/postgresql/VERSION/bin, not on PATH), a fresh cluster in a
temporary directory, listening on a free port of 127.0.0.1 and on a unix socket in that directory, trust
authentication (loopback only; for tests). initdb refuses to run as root, so as root every server command runs as the
`postgres` user (`runuser -u postgres --`) in a directory it owns. Debian's own cluster service is never used.

    with Postgres() as pg:          # or pg = Postgres().start() ... pg.stop()
        PollStore(pg.url)           # postgresql+psycopg://postgres@127.0.0.1:PORT/postgres

`python scripts/postgres.py` starts one, prints its URL and keeps it until Ctrl-C (bench/ uses it that way)."""
from __future__ import annotations

import argparse
import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INSTALL = "`apt-get install -y postgresql` (scripts/install_system.sh does)"


def _version(bin_dir: str) -> tuple[int, ...]:
    m = re.search(r"/postgresql/([\d.]+)/bin$", bin_dir)
    return tuple(int(p) for p in m.group(1).split(".") if p) if m else ()


def bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin that has initdb and pg_ctl, or None."""
    found = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
             if os.access(f"{d}/initdb", os.X_OK) and os.access(f"{d}/pg_ctl", os.X_OK)]
    return Path(max(found, key=_version)) if found else None


def available() -> str | None:
    """Why a server cannot be started here, or None when it can."""
    if bin_dir() is None:
        return f"no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb and pg_ctl): {INSTALL}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return f"running as root and there is no `postgres` user to run the server as: {INSTALL}"
        if shutil.which("runuser") is None:
            return "running as root and there is no `runuser` (util-linux) to run the server as `postgres`"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A PostgreSQL server of its own; `.url`, `.port`, `.dir`; stop() (also on exit from `with`) ends it with
    `pg_ctl stop -m fast` and removes its directory. `settings` are extra server settings (`-c name=value`)."""

    def __init__(self, settings: dict[str, str] | None = None):
        self.settings = dict(settings or {})
        self.port: int | None = None
        self.dir: Path | None = None
        self.bin = bin_dir()
        self._running = False

    # -- the commands, as the postgres user when we are root

    def _as_owner(self, argv: list) -> list[str]:
        argv = [str(a) for a in argv]
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, argv: list, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self._as_owner(argv), cwd=self.dir, capture_output=True, text=True, timeout=timeout)

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def log(self) -> Path:
        return self.dir / "log"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _options(self) -> str:
        extra = "".join(f" -c {k}={v}" for k, v in self.settings.items())
        return f"-k {self.dir} -p {self.port} -h 127.0.0.1{extra}"

    # -- life

    def start(self) -> Postgres:
        why = available()
        if why:
            raise RuntimeError(why)
        self.dir = Path(tempfile.mkdtemp(prefix="mixviz-pg-"))
        atexit.register(self.stop)  # also when a test run is interrupted before its fixture's teardown
        try:
            if os.geteuid() == 0:
                user = pwd.getpwnam("postgres")
                os.chown(self.dir, user.pw_uid, user.pw_gid)
            init = self._run([self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                              "--locale=C", "--no-sync", "--no-instructions"], timeout=120)
            if init.returncode != 0:
                raise RuntimeError(f"initdb failed: {init.stdout}{init.stderr}")
            for attempt in range(3):  # a free port can be taken between free_port() and the server's bind
                self.port = free_port()
                started = self._run([self.bin / "pg_ctl", "-D", self.data, "-o", self._options(), "-l", self.log,
                                     "-w", "-t", "60", "start"], timeout=90)
                if started.returncode == 0:
                    self._running = True
                    return self
                if attempt == 2 or "could not bind" not in self.log_tail():
                    raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{self.log_tail()}")
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every client connection is cut, the data stays."""
        done = self._run([self.bin / "pg_ctl", "-D", self.data, "-o", self._options(), "-l", self.log, "-m", "fast",
                          "-w", "-t", "60", "restart"], timeout=90)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed: {done.stdout}{done.stderr}\n{self.log_tail()}")

    def createdb(self, name: str) -> str:
        """A new, empty database on this server; its URL."""
        done = self._run([self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", name])
        if done.returncode != 0:
            raise RuntimeError(f"createdb {name} failed: {done.stdout}{done.stderr}")
        return self.url_for(name)

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            if self._running or (self.data / "postmaster.pid").exists():
                self._run([self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop"], timeout=90)
        finally:
            self._running = False
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            atexit.unregister(self.stop)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-c", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                    help="a server setting (repeatable), e.g. -c max_connections=200")
    args = ap.parse_args()
    why = available()
    if why:
        sys.exit(why)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop() runs on the way out
    with Postgres(dict(s.split("=", 1) for s in args.settings)) as pg:
        print(pg.url, flush=True)
        print(f"PostgreSQL in {pg.dir}; Ctrl-C stops it and removes it", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
