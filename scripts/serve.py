"""Serve the app on a loopback port and drive Debian's Chromium with Playwright (no browser download):
the helpers that scripts/screenshot.py, the browser tests and the benchmarks share."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DRAWN = '[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]'
RUNNING = '[data-testid="stStatusWidget"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, log=subprocess.DEVNULL, timeout: float = 90.0, app: Path = ROOT / "asgi.py",
          env: dict | None = None) -> subprocess.Popen:
    """`streamlit run asgi.py` (the app, warmed before it listens; or another script) on 127.0.0.1:port, returned
    once /_stcore/health answers ok."""
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode}")
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the app did not answer /_stcore/health in time")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc (Linux: the servers and containers this runs on)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process has used so far (user + system, its ended threads included), from /proc."""
    return _ticks(Path(f"/proc/{pid}/stat")) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of a process alive now, by thread id, from /proc. What a
    process used beyond its live threads' share was used by threads that have ended: streamlit starts a
    thread for each script run."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(task.name)] = _ticks(task / "stat") / os.sysconf("SC_CLK_TCK")
        except FileNotFoundError:  # the thread ended meanwhile
            pass
    return out


def _ticks(stat: Path) -> int:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium is not installed: run `apt-get install -y chromium` (see ENVIRONMENT.md)")
    return path


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)


def settle(page, marker: str = '[data-testid="stImage"] img', timeout: float = 90_000) -> None:
    """Wait until the page is drawn, shows `marker`, and no script run is in progress."""
    page.wait_for_selector(DRAWN, timeout=timeout)
    page.wait_for_selector(marker, timeout=timeout)
    page.wait_for_selector(RUNNING, state="detached", timeout=timeout)
