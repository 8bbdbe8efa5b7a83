"""What the browser tests share: one app server per test module (its log in tests/e2e/server.log), Debian's
Chromium through Playwright, and a fresh 1400×1000 page per test (or 1280×720: `projector`). Screenshots go to
tests/e2e/screenshots/ (not committed) for a person to look at."""
from pathlib import Path

import pytest
from serve import free_port, launch, serve, stop

SHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="module")
def server():
    port = free_port()
    SHOTS.mkdir(exist_ok=True)
    log = open(SHOTS.parent / "server.log", "ab")
    proc = serve(port, log=log)
    yield f"http://127.0.0.1:{port}", proc
    stop(proc)
    log.close()


@pytest.fixture(scope="module")
def app_url(server):
    return server[0]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    context.close()



@pytest.fixture
def projector(browser):
    """A fresh page the size of a 1280×720 projector."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    context.close()
