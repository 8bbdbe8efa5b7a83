"""Serve the app and take a screenshot of a page in headless Chromium (for the README and reviews).

    .venv/bin/python scripts/screenshot.py docs/screenshot.png [--width 1400] [--height 1000]

Needs Debian's chromium (apt-get install chromium) and the playwright package (no browser download).
"""
from __future__ import annotations

import argparse
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the app did not come up")


def shoot(url: str, out: Path, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        page.wait_for_selector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]', timeout=60000)
        page.wait_for_selector('[data-testid="stImage"] img', timeout=60000)
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60000)
        page.wait_for_timeout(1500)
        if page.locator('[data-testid="stException"]').count():
            raise RuntimeError("the page shows an exception")
        page.screenshot(path=str(out), full_page=False)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--query", default="", help="query string, e.g. method=cutmix")
    args = parser.parse_args()
    port = free_port()
    proc = serve(port)
    try:
        shoot(f"http://127.0.0.1:{port}/?{args.query}", args.output, args.width, args.height)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(args.output)


if __name__ == "__main__":
    main()
