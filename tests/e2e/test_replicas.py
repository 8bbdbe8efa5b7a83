"""Two app replicas behind a real nginx, on loopback, configured from what deploy/nginx ships (deploy/nginx/render.py
changes only the `listen` line and the replicas' addresses), driven by Chromium: each browser session stays on one
replica (nginx's access log says which served every request, the websocket included), two sessions can sit on
different replicas, and when the replica of one is killed, that page opens a websocket to the other by itself
while the other session carries on, and its view comes back from its address without a reload. The seconds from the
kill to the new websocket and to the redrawn page are printed (run with -s to see them): measured, not asserted.

Streamlit 1.67's page asks the new replica for a script run only in some states (a run or fragment run in
progress, or a fragment with run_every on the page): app.py's rerun_on_reconnect is that fragment. Without it the
page would keep its old drawing until a reload; the test then reloads, as a student would, and fails."""
import os
import secrets
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from replicas import NGINX, Nginx, served_by, start_replicas, stop_replicas
from serve import settle

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")), reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)"),
    pytest.mark.skipif(NGINX is None, reason="no nginx binary: `apt-get install -y nginx` (scripts/install_system.sh does)"),
]
SHOTS = Path(__file__).resolve().parent / "screenshots"
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'
EXCEPTION = '[data-testid="stException"]'
LAB = "/?method=cutmix&img=boat,airplane&lam=0.7"


@pytest.fixture(scope="module")
def replicas():
    """Two app replicas on loopback ports, started side by side: {address: process}."""
    SHOTS.mkdir(exist_ok=True)
    with open(SHOTS.parent / "server.log", "ab") as log:
        procs = start_replicas(2, log)
        yield procs
        stop_replicas(procs)


@pytest.fixture(scope="module")
def nginx(replicas):
    n = Nginx(list(replicas))
    yield n
    n.close()


def key_for(nginx: Nginx, upstream: str, limit: int = 200) -> str:
    """An affinity key that nginx routes to `upstream` (found by asking /_stcore/health with random keys)."""
    for _ in range(limit):
        key = secrets.token_hex(16)
        req = urllib.request.Request(f"{nginx.url}/_stcore/health", headers={"Cookie": f"mixviz_affinity={key}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.read() == b"ok"
            assert not any("mixviz_affinity" in c for c in r.headers.get_all("Set-Cookie") or [])  # a valid key stays
        deadline = time.monotonic() + 2  # nginx writes the line once the response is sent
        while time.monotonic() < deadline:
            seen = [line for line in nginx.lines() if line["key"] == key]
            if seen:
                break
            time.sleep(0.02)
        if seen and seen[-1]["upstream"] == upstream:
            return key
    raise AssertionError(f"no key out of {limit} went to {upstream}")


def shown_label(page) -> dict:
    text = page.locator('[data-testid="mixviz-label"]').inner_text().split("\n")
    return {name: float(value) for name, value in zip(text[::2], text[1::2])}


def view(page) -> tuple:
    """What the Mixing Lab shows: the method in the address, the method's heading, the label bars."""
    q = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    heading = page.locator('[data-testid="stMain"] h3').first.inner_text()
    return q.get("method"), heading, shown_label(page)


class Stream:
    """The Streamlit websockets of a page: when each opened and closed, when the page sent on it, and when a script
    run finished on it (its ForwardMsgs decoded with streamlit's own protobuf)."""

    def __init__(self, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.sockets: list[dict] = []

        def on_socket(ws):
            if "/_stcore/stream" not in ws.url:
                return
            s = {"opened": time.monotonic(), "closed": None, "sent": [], "finished": []}
            self.sockets.append(s)

            def received(payload):
                if isinstance(payload, (bytes, bytearray)):
                    msg = ForwardMsg.FromString(bytes(payload))
                    if msg.WhichOneof("type") == "script_finished":
                        s["finished"].append((time.monotonic(), ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)))

            ws.on("framereceived", received)
            ws.on("framesent", lambda _: s["sent"].append(time.monotonic()))
            ws.on("close", lambda _: s.update(closed=time.monotonic()))

        page.on("websocket", on_socket)

    def wait(self, page, done, seconds: float) -> bool:
        """Let the page run until done() or `seconds` have passed; done()'s last answer."""
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        return bool(done())


def test_sessions_stay_on_their_replica_and_move_when_it_dies(replicas, nginx, browser):
    a_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    a = a_ctx.new_page()
    a.set_default_timeout(60_000)
    a_stream = Stream(a)
    a.goto(nginx.url + LAB)
    settle(a, LIVE)
    assert a.locator(EXCEPTION).count() == 0
    shown = view(a)
    assert shown[:2] == ("cutmix", "CutMix") and set(shown[2]) == {"boat", "airplane"}, shown
    a_key = next(c["value"] for c in a_ctx.cookies() if c["name"] == "mixviz_affinity")
    a_lines = [line for line in nginx.lines() if line["key"] == a_key]
    a_home = served_by(a_lines[0])
    assert a_lines[0]["cookie"] == "-" and all(line["cookie"] == a_key for line in a_lines[1:])  # set once, then sent
    assert {line["upstream"] for line in a_lines} == {a_home}, a_lines  # every request of the page on one replica
    (b_home,) = set(replicas) - {a_home}

    # a second student, whose key (found beforehand) sends it to the other replica
    b_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    b_ctx.add_cookies([{"name": "mixviz_affinity", "value": key_for(nginx, b_home), "url": nginx.url}])
    b = b_ctx.new_page()
    b.set_default_timeout(60_000)
    b_stream = Stream(b)
    b.goto(nginx.url + "/?method=mixup&img=cow,dog&lam=0.4")
    settle(b, LIVE)
    b_key = next(c["value"] for c in b_ctx.cookies() if c["name"] == "mixviz_affinity")
    assert {line["upstream"] for line in nginx.lines() if line["key"] == b_key} == {b_home}

    # kill the first student's replica: the page opens a new websocket by itself, which nginx sends to the other one
    before = len(nginx.lines())
    killed = time.monotonic()
    replicas[a_home].kill()
    replicas[a_home].wait(timeout=10)
    assert a_stream.wait(a, lambda: len(a_stream.sockets) >= 2, 30), "the page opened no new websocket in 30 s"
    new = a_stream.sockets[1]
    report = [f"replica {a_home} killed; the page's websocket closed after {a_stream.sockets[0]['closed'] - killed:.2f} s "
              f"and a new one to {b_home} opened after {new['opened'] - killed:.2f} s"]
    # Streamlit's page asks the new server for a script run right away when it will (a run or a fragment was in
    # progress, or the page has a fragment with run_every); otherwise it keeps the old drawing and waits
    asked = a_stream.wait(a, lambda: new["sent"], 3)
    if asked:
        assert a_stream.wait(a, lambda: new["finished"], 60), "the page asked for a run on the new replica: none finished"
        settle(a, LIVE)
        report.append(f"the page was redrawn by {b_home} by itself, {time.monotonic() - killed:.2f} s after the kill")
    else:
        # what a student does when the page stops answering: reload it (the address holds the whole view)
        report.append("Streamlit asked the new replica for no script run (the page kept its old drawing; a widget "
                      "inside a fragment would now do nothing)")
        reload_at = time.monotonic()
        a.reload()
        assert a_stream.wait(a, lambda: len(a_stream.sockets) >= 3 and a_stream.sockets[2]["finished"], 60)
        settle(a, LIVE)
        report.append(f"reloaded, it was drawn by {b_home} {time.monotonic() - reload_at:.2f} s after the reload")
    print("\n" + "; ".join(report))
    a.screenshot(path=str(SHOTS / "replica_failover.png"), full_page=True)
    assert a.locator(EXCEPTION).count() == 0
    assert view(a) == shown  # the same method, photos and λ, restored from the address
    moved = nginx.lines()[before:]
    assert any(line["key"] == a_key and line["upstream"].startswith(a_home + ", ") and served_by(line) == b_home
               for line in moved), moved  # nginx tried the dead replica first, then failed over
    assert all(served_by(line) == b_home for line in moved if line["key"] == a_key and line["status"] != "101")

    # the other student saw nothing: the same websocket, no exception
    assert len(b_stream.sockets) == 1 and b_stream.sockets[0]["closed"] is None
    assert b.locator(EXCEPTION).count() == 0

    # closing the pages writes their websockets' lines: each on its replica (the first page's old one on the dead one)
    b_ctx.close()
    a_ctx.close()
    want = {(a_key, a_home), (a_key, b_home), (b_key, b_home)}
    deadline = time.monotonic() + 10
    while not want <= (sockets := {(line["key"], served_by(line)) for line in nginx.lines() if line["status"] == "101"}) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert want <= sockets, sockets
    assert all(line["upgrade"] == "websocket" for line in nginx.lines() if line["status"] == "101")
    assert asked, "after the failover the page asked the new replica for no script run: it needed a reload " \
                  "(app.py's rerun_on_reconnect fragment is what makes Streamlit 1.67's page ask)"
