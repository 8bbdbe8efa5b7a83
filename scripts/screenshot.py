"""Serve the app and take a screenshot of a page in headless Chromium (for the README and reviews).

    .venv/bin/python scripts/screenshot.py docs/screenshot.png [--width 1400] [--height 1000]

Needs Debian's chromium (apt-get install chromium) and the playwright package (no browser download).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from serve import free_port, launch, serve, settle, stop


def shoot(url: str, out: Path, width: int, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        settle(page)
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
    parser.add_argument("--page", default="", help="page path, e.g. gallery")
    args = parser.parse_args()
    port = free_port()
    proc = serve(port)
    try:
        shoot(f"http://127.0.0.1:{port}/{args.page}?{args.query}", args.output, args.width, args.height)
    finally:
        stop(proc)
    print(args.output)


if __name__ == "__main__":
    main()
