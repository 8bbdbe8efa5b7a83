"""The live scrubber's speed: the sweep the server makes for it, and what a person dragging it feels.

    python bench/live.py [--methods ...] [--rounds 3] [--browser-methods ...] [--drags 3] [--keys 5]
                         [--no-browser] [--floor-steps 30] [--quick] [--json live.json]

1. Server side, per method (default: every model-free method; a guided one when named, its maps made first
   by ui.maps.maps_for as the app caches them): ui.live.sweep_file at the app's picture size (boat and
   airplane through ui.images.batch, slots 3 and 4 as the sidebar fills them), in a run on 1 torch thread as
   the app's runs are (sweep_file makes the sweep itself on every core). What is swept, how many frames, the
   server time split into compute (mixviz.sweep) and encode (the rest: JPEGs and the header), and the payload
   (file + JSON header), the median of a few rounds.
   Targets: ≤ 150 ms and ≤ 1.5 MB for model-free methods.
2. In the browser (Debian's Chromium, the real server): per method, the link with λ 0.5 is opened; then
   - drags of the range thumb with the mouse: the input event → painted frame latency from the component's
     log (window.mixvizScrubber.log), p50/p95; target p95 ≤ 20 ms;
   - each release: the time from the range's change event (the mouse up) until the page's "Label:" line,
     drawn by the server, reads what the component's label bars read and the status widget is gone (or
     fading out); p50/p95, target p50 ≤ 300 ms with one session; and the server's CPU per release (utime +
     stime of its process),
     its wall time (the rerun message sent → script_finished received, from Chromium's own websocket
     timestamps) and what it sent back;
   - the same for keyboard steps (arrow keys on the focused range: each is a release), first away from the
     last drag's end, then back over the same values; each release is marked by whether this page had
     released its value before (the server's sweep cache then holds it).
   The server's CPU is split into the script run's thread and the rest (the event loop).
3. Streamlit's own cost of a fragment rerun, the floor under any release (bench/floor.py: a bare page with a
   slider and N lines, driven the same way).
4. The machine and the settings. Benchmarks print tables and never assert timings.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "bench")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # as app.py runs torch (set before torch is imported)
from serve import cpu_seconds, free_port, launch, rss_mb, serve, settle, stop, thread_cpu  # noqa: E402

BROWSER_METHODS = ("mixup", "cutmix", "fmix", "random_pixels")
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'
RANGE = '[data-testid="mixviz-scrubber"] input[type="range"]'
IMAGES = ("boat", "airplane")
KB = 1000
TARGET_SWEEP_MS, TARGET_PAYLOAD_KB, TARGET_PAINT_P95, TARGET_RELEASE_P50 = 150, 1500, 20, 300
DRAG_ENDS = (0.8, 0.3, 0.7, 0.2, 0.9, 0.4)  # where each drag is released: never where the last one was

# Arms a watcher for the next release (the range's change event): its time, the label the bars then read, and
# the first moment the server-drawn page agrees (the "Label:" line, the "λ fixed at" line, no status widget).
ARM = """() => {
  const ui = window.mixvizScrubber;
  const r = window.__mvRelease = {start: null, done: null, want: null, lam: null, index: null,
                                widget: false};
  const bars = () => {
    const t = ui.bars.innerText.split("\\n").map(s => s.trim()).filter(Boolean);
    const parts = [];
    for (let i = 0; i + 1 < t.length; i += 2) parts.push(`${t[i]} ${t[i + 1]}`);
    return "Label: " + parts.join(", ");
  };
  const texts = () => [...document.querySelectorAll('[data-testid=stMarkdownContainer]')].map(e => e.innerText.trim());
  const check = () => {
    if (r.start === null || r.done !== null) return;
    const all = texts();
    const widget = document.querySelector('[data-testid=stStatusWidget]');
    if (widget) r.widget = true;
    const leaving = widget && /StatusWidget-exit/.test(widget.className);  // its 200 ms fade-out has begun
    if (all.includes(r.want) && (r.lam === null || all.some(t => t.startsWith(r.lam))) && (!widget || leaving)) {
      r.done = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  ui.range.addEventListener("change", (e) => {
    r.start = e.timeStamp;
    r.index = ui.index;
    r.want = bars();
    r.lam = ui.data.name === "λ" ? `λ fixed at ${Number(ui.data.values[ui.index]).toFixed(2)}` : null;
    observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                                     attributeFilter: ["class"]});
    check();
  }, {once: true});
}"""
SENDS = """(() => { const send = WebSocket.prototype.send; window.__mvSent = [];
  WebSocket.prototype.send = function (...a) { window.__mvSent.push(performance.now()); return send.apply(this, a); };
})()"""
RELEASED = "() => window.__mvRelease && window.__mvRelease.done !== null"
# The log's last entries are pushed two animation frames after their event
LOG = """async () => { await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await new Promise(r => setTimeout(r, 50)); return window.mixvizScrubber.log; }"""


class ServerCpu:
    """The server's CPU seconds from `start()` to `stop()`, split into the script run's (the threads that ended
    meanwhile: streamlit runs each script run on a thread of its own) and the rest's (the threads that live
    on: the event loop, which sends the messages and serves the media files). `stop()` first waits (≤ 1 s)
    for the run's thread to end, so that its whole share lands in this release."""

    def __init__(self, pid: int):
        self.pid = pid

    def start(self) -> None:
        self.threads, self.total = thread_cpu(self.pid), cpu_seconds(self.pid)

    def stop(self) -> dict:
        deadline = time.monotonic() + 1.0
        while set(thread_cpu(self.pid)) - set(self.threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        now, total = thread_cpu(self.pid), cpu_seconds(self.pid)
        rest = sum(v - self.threads.get(t, 0.0) for t, v in now.items())
        return {"cpu_s": total - self.total, "script_s": total - self.total - rest, "rest_s": rest}


def pct(values: list[float], q: int) -> float | None:
    """The q-th percentile (inclusive method), or the one value, or None."""
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def ms(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f}"


def model_free() -> list[str]:
    import mixviz

    return [n for n, s in mixviz.METHODS.items() if s.needs == "none"]


# ---------------------------------------------------------------------------------------------- server side

def app_inputs(method: str):
    """The keys, labels and tensor the Mixing Lab mixes for this method with boat and airplane in slots 1 and 2."""
    import mixviz
    from ui.images import batch
    from ui.sidebar import DEFAULTS

    k = mixviz.METHODS[method].n_inputs
    names = (IMAGES + DEFAULTS[len(IMAGES):])[:k]
    keys = tuple(f"sample:{n}" for n in names)
    return keys, names, batch(keys)


def measure_sweep(method: str, rounds: int, warm: int = 0) -> dict:
    """ui.live.sweep_file as the app calls it on a cache miss, timed `rounds` times after `warm` untimed calls."""
    import mixviz
    import ui.live as live
    from mixviz.threads import torch_threads
    from ui import maps as ui_maps
    from ui import models

    spec = mixviz.METHODS[method]
    keys, labels, x = app_inputs(method)
    size = tuple(x.shape[2:])
    lam = 0.5 if spec.uses_lam else None  # the app's start: Fix λ on at 0.5
    target = live.target_of(spec, lam, 0, {})
    with torch_threads(1):
        t = time.perf_counter()
        classes = (tuple(models.default_class(key, size) for key in keys) if spec.needs != "none"
                   and ui_maps.class_maps(method) else None)
        maps = ui_maps.maps_for(method, keys, size, {}, classes)
        maps_s = time.perf_counter() - t
        compute, total = [], []
        real = mixviz.sweep

        def timed(*a, **kw):
            start = time.perf_counter()
            try:
                return real(*a, **kw)
            finally:
                compute.append(time.perf_counter() - start)

        mixviz.sweep = timed  # ui.live calls mixviz.sweep by attribute: this times the compute inside sweep_file
        try:
            for _ in range(warm + rounds):
                start = time.perf_counter()
                blob, header = live.sweep_file(method, (keys, size), x, labels, target.over, target.values, 0, lam,
                                               None, (), maps, classes)
                total.append(time.perf_counter() - start)
        finally:
            mixviz.sweep = real
    compute, total = compute[warm:], total[warm:]
    compute_ms, total_ms = statistics.median(compute) * 1e3, statistics.median(total) * 1e3
    encode_ms = statistics.median([t - c for t, c in zip(total, compute)]) * 1e3
    head = len(json.dumps(header))
    return {"method": method, "needs": spec.needs, "over": target.over, "frames": len(header["values"]),
            "layout": header["layout"]["kind"], "quality": header["layout"]["quality"],
            "size": list(size), "compute_ms": compute_ms, "encode_ms": encode_ms, "total_ms": total_ms,
            "blob_kb": len(blob) / KB, "header_kb": head / KB, "payload_kb": (len(blob) + head) / KB,
            "maps_s": maps_s if maps is not None else None, "rounds": rounds}


def server_side(methods: list[str], rounds: int) -> list[dict]:
    """Every method's sweep; the first method twice more before it is timed (imports, the first allocations, the
    thread pool and OpenMP's threads: the first sweep of a process took up to 5 times as long)."""
    return [measure_sweep(m, rounds, warm=2 if i == 0 else 0) for i, m in enumerate(methods)]


def print_server(rows: list[dict]) -> None:
    print(f"### Server: the sweep for the live picture (ui.live.sweep_file in a run on 1 torch thread, as the app's "
          f"runs are; the sweep itself on every core; median of {rows[0]['rounds']})")
    print()
    print(f"Targets for model-free methods: ≤ {TARGET_SWEEP_MS} ms server time, ≤ {TARGET_PAYLOAD_KB / 1000:g} MB "
          "payload (1 KB = 1000 bytes).")
    print()
    print("| method | over | frames | picture | sent as (JPEG quality) | compute (ms) | encode (ms) | total (ms) | "
          "payload (KB) | of it header (KB) | within targets |")
    print("|---|---|---:|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ok = ("yes" if r["total_ms"] <= TARGET_SWEEP_MS and r["payload_kb"] <= TARGET_PAYLOAD_KB else
              "no: " + ", ".join(w for w, bad in (("time", r["total_ms"] > TARGET_SWEEP_MS),
                                                  ("size", r["payload_kb"] > TARGET_PAYLOAD_KB)) if bad))
        if r["needs"] != "none":
            ok = f"(guided; maps first: {r['maps_s']:.1f} s)"
        h, w = r["size"]
        print(f"| {r['method']} | {r['over']} | {r['frames']} | {h}×{w} | {r['layout']} ({r['quality']}) | "
              f"{r['compute_ms']:.0f} | "
              f"{r['encode_ms']:.0f} | {r['total_ms']:.0f} | {r['payload_kb']:.0f} | {r['header_kb']:.1f} | {ok} |")
    print()


# -------------------------------------------------------------------------------------------------- browser

class Socket:
    """The page's websocket frames with Chromium's own timestamps (CDP Network events), decoded as Streamlit's
    messages: what the page asked and when, what came back and when."""

    def __init__(self, page):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.back, self.forward = BackMsg, ForwardMsg
        self.events: list[tuple[str, float, str, int]] = []  # (direction, seconds, message type, bytes)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameSent", lambda e: self._frame("sent", e))
        cdp.on("Network.webSocketFrameReceived", lambda e: self._frame("received", e))

    def _frame(self, direction: str, e: dict) -> None:
        r = e["response"]
        if r.get("opcode") != 2:
            return
        data = base64.b64decode(r["payloadData"])
        kind = "?"
        try:
            msg = (self.back if direction == "sent" else self.forward).FromString(data)
            kind = msg.WhichOneof("type") or "?"
        except Exception:  # a message this streamlit's protobuf does not know: counted, not named
            pass
        self.events.append((direction, e["timestamp"], kind, len(data)))

    def mark(self) -> int:
        return len(self.events)

    def run_after(self, mark: int) -> dict | None:
        """The first rerun requested after `mark`: seconds from the request to script_finished, messages and
        bytes that came back in between."""
        ev = self.events[mark:]
        start = next((i for i, e in enumerate(ev) if e[0] == "sent" and e[2] == "rerun_script"), None)
        if start is None:
            return None
        end = next((i for i in range(start, len(ev)) if ev[i][0] == "received" and ev[i][2] == "script_finished"),
                   None)
        if end is None:
            return None
        back = [e for e in ev[start:end + 1] if e[0] == "received"]
        return {"wall_s": ev[end][1] - ev[start][1], "messages": len(back), "bytes": sum(e[3] for e in back)}

    def wait_finished(self, page, mark: int, timeout: float = 30.0) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run_after(mark)
            if run:
                return run
            page.wait_for_timeout(20)  # lets playwright deliver the CDP events
        return None


def release(page, socket: Socket, pid: int, act) -> dict:
    """Arm the watcher, do `act` (which releases the range), wait for the page to agree and the run to end;
    the times and the server's CPU seconds in between."""
    page.evaluate(ARM)
    cpu = ServerCpu(pid)
    mark = socket.mark()
    cpu.start()
    act()
    page.wait_for_function(RELEASED, timeout=60_000)
    got = page.evaluate("() => window.__mvRelease")
    run = socket.wait_finished(page, mark)
    page.wait_for_selector(LIVE, timeout=60_000)
    used = cpu.stop()
    sent = page.evaluate("t => (window.__mvSent || []).find(s => s >= t)", got["start"])
    return {"consistent_ms": got["done"] - got["start"], "index": got["index"], "run": run, **used,
            "status_widget": got["widget"],
            "to_request_ms": None if sent is None else sent - got["start"]}


def drag(page, to: float) -> None:
    """Mouse down on the range's middle, to the left end, to the right end, then to `to`, like a person
    looking at the whole range before choosing (tests/e2e/test_live.py drags the same way)."""
    track = page.locator(RANGE).bounding_box()
    y = track["y"] + track["height"] / 2
    page.mouse.move(track["x"] + track["width"] / 2, y)
    page.mouse.down()
    for end, steps in ((0.0, 20), (1.0, 40), (to, 8)):
        page.mouse.move(track["x"] + track["width"] * end, y, steps=steps)


def browse_method(page, url: str, method: str, drags: int, keys: int, socket: Socket, pid: int) -> dict:
    opened = time.perf_counter()
    page.goto(f"{url}/?method={method}&img={','.join(IMAGES)}&lam=0.5&seed=0")
    settle(page, LIVE)
    open_s = time.perf_counter() - opened
    page.wait_for_timeout(300)
    out = {"method": method, "open_s": open_s, "paint_ms": [], "draw_ms": [], "events": 0, "drag": [],
           "keys": []}

    seen = {page.evaluate("() => window.mixvizScrubber.index")}  # the values the server has made a page for

    def timed(act) -> dict:
        r = release(page, socket, pid, act)
        r["seen"] = r["index"] in seen
        seen.add(r["index"])
        return r

    for i in range(drags):
        page.evaluate("() => { window.mixvizScrubber.log.length = 0; }")
        r = timed(lambda: (drag(page, DRAG_ENDS[i % len(DRAG_ENDS)]), page.mouse.up()))
        log = [e for e in page.evaluate(LOG) if e["event"] < e["painted"]]
        out["events"] += len(log)
        out["paint_ms"] += [e["painted"] - e["event"] for e in log]
        out["draw_ms"] += [e["drawn"] - e["event"] for e in log]
        out["drag"].append(r)
    if keys:
        page.locator(RANGE).focus()
        for key in ("ArrowLeft", "ArrowRight"):  # away from the last drag's end, then back over the same values
            for _ in range(keys):
                out["keys"].append(timed(lambda: page.keyboard.press(key)))
    out["rss_mb"] = rss_mb(pid)
    return out


def browser_side(methods: list[str], drags: int, keys: int) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="mixviz_live_", suffix=".log")[1])
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        proc = serve(port, log=log)
        serve_s = time.perf_counter() - started
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as p:
                browser = launch(p)
                version = browser.version
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_init_script(SENDS)
                page = context.new_page()
                page.set_default_timeout(120_000)
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                socket = Socket(page)
                rows = [browse_method(page, url, m, drags, keys, socket, proc.pid) for m in methods]
                context.close()
                browser.close()
        finally:
            stop(proc)
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    if not tracebacks:
        log_path.unlink()
    return {"chromium": version, "serve_s": serve_s, "methods": rows, "page_errors": errors,
            "tracebacks": tracebacks, "server_log": str(log_path) if tracebacks else None}


def _summary(samples: list[dict]) -> dict:
    """p50/p95 of release → consistent, and the medians of its parts: change event → rerun request sent,
    request → script_finished (the server's wall time, loopback included), and what is left (the page
    drawing the last messages); the server's CPU per release (mean) and what it sent back."""
    runs = [s["run"] for s in samples if s["run"]]
    parts = [(s["to_request_ms"], 1e3 * s["run"]["wall_s"]) for s in samples if s["run"] and s["to_request_ms"] is not None]
    tails = [s["consistent_ms"] - a - w for s, (a, w) in zip([s for s in samples if s["run"] and
                                                              s["to_request_ms"] is not None], parts)]
    med = lambda v: statistics.median(v) if v else None  # noqa: E731
    consistent = [s["consistent_ms"] for s in samples]
    return {"n": len(samples), "p50": pct(consistent, 50), "p95": pct(consistent, 95),
            "to_request": med([a for a, _ in parts]), "wall": med([w for _, w in parts]), "tail": med(tails),
            **{f"{k}_ms": 1e3 * statistics.mean([s[f"{k}_s"] for s in samples]) if samples else None
               for k in ("cpu", "script", "rest")},
            "messages": med([r["messages"] for r in runs]), "kb": med([r["bytes"] / KB for r in runs])}


def cpu_text(s: dict) -> str:
    """The server's CPU per release: all = the script run's + the rest's (the event loop's)."""
    return "–" if s["cpu_ms"] is None else f"{s['cpu_ms']:.0f} = {s['script_ms']:.0f} + {s['rest_ms']:.0f}"


def groups(r: dict) -> list[tuple[str, list[dict]]]:
    keys = r["keys"]
    return [(what, got) for what, got in (
        ("mouse up after a drag", r["drag"]),
        ("key step, λ not released before", [k for k in keys if not k["seen"]]),
        ("key step, λ released before", [k for k in keys if k["seen"]])) if got]


def print_browser(b: dict, drags: int, keys: int) -> None:
    rows = b["methods"]
    print(f"### Browser: dragging the live picture (Chromium {b['chromium']}, headless, one session)")
    print()
    print(f"{drags} drag(s) per method, each across the whole range and back (about 68 mouse moves). Latency: the "
          "range's input event → the start of the second animation frame after it (the frame that drew the "
          "new picture has been painted by then: an upper bound, up to one frame late; the time from the real "
          f"mouse to the event and the display's own delay are not in it). Target p95 ≤ {TARGET_PAINT_P95} ms.")
    print()
    print("| method | open → live picture (s, first visit) | input events | event → frame drawn p50 / p95 (ms) | "
          "event → painted p50 / p95 (ms) |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['method']} | {r['open_s']:.1f} | {r['events']} | {pct(r['draw_ms'], 50):.1f} / "
              f"{pct(r['draw_ms'], 95):.1f} | {ms(pct(r['paint_ms'], 50))} / {ms(pct(r['paint_ms'], 95))} |")
    print()
    print("### Browser: release → consistent page")
    print()
    print("From the range's change event (mouse up, or a key step) until the server-drawn \"Label:\" line reads "
          "what the component's bars read, \"λ fixed at\" shows the released λ and the status widget is gone or "
          "fading out (Streamlit shows it once a run has lasted 500 ms; the time is the DOM change's, its paint "
          "follows within a frame). Server CPU: utime + stime of the server's process per release (mean), = the "
          "script run's thread + the rest (the event loop: sending the messages, serving the media files). "
          "Server wall: the rerun message sent → script_finished received (Chromium's websocket "
          "timestamps). Back: messages and KB the server sent per release (median). A key step is one release; "
          "\"not released before\" and \"released before\" say whether this page had already released that λ "
          "(the server's sweep cache then holds it). "
          f"Target p50 ≤ {TARGET_RELEASE_P50} ms.")
    print()
    print("| method | release | n | p50 (ms) | p95 (ms) | event → request sent | server wall | page after "
          "script_finished | server CPU per release (ms): all = script run + rest | back: messages, KB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    pooled: dict[str, list[dict]] = {}
    for r in rows:
        for what, got in groups(r):
            pooled.setdefault(what, []).extend(got)
            s = _summary(got)
            back = "–" if s["messages"] is None else f"{s['messages']:.0f}, {s['kb']:.1f}"
            print(f"| {r['method']} | {what} | {s['n']} | {ms(s['p50'])} | {ms(s['p95'])} | {ms(s['to_request'])} | "
                  f"{ms(s['wall'])} | {ms(s['tail'])} | {cpu_text(s)} | {back} |")
    for what, got in pooled.items() if len(rows) > 1 else ():
        s = _summary(got)
        print(f"| **all** | {what} | {s['n']} | {ms(s['p50'])} | {ms(s['p95'])} | {ms(s['to_request'])} | "
              f"{ms(s['wall'])} | {ms(s['tail'])} | {cpu_text(s)} | |")
    print()
    print("(The three parts are medians of each sample's own parts, so they need not add up to the p50; the last "
          "is negative where the page already matched before script_finished arrived: Streamlit shows its status "
          "widget only once a run has lasted a moment, and the sections below the label may still be updating.)")
    print()
    everything = [s["consistent_ms"] for r in rows for _, got in groups(r) for s in got]
    paints = [v for r in rows for v in r["paint_ms"]]
    print(f"All methods: event → painted p95 {ms(pct(paints, 95))} ms (target ≤ {TARGET_PAINT_P95}); "
          f"release → consistent p50 {ms(pct(everything, 50))} ms, p95 {ms(pct(everything, 95))} ms "
          f"(target p50 ≤ {TARGET_RELEASE_P50}). Server RSS at the end {rows[-1]['rss_mb']:.0f} MB. "
          f"Page errors: {len(b['page_errors'])}; tracebacks in the server log: {b['tracebacks']}"
          + (f" ({b['server_log']})" if b["server_log"] else "") + ".")
    print()


# ----------------------------------------------------------------------------------------------------- main

def machine() -> dict:
    import streamlit
    import torch

    from mixviz.threads import CORES

    return {"cores": os.cpu_count(), "usable_cores": CORES, "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(), "torch": torch.__version__, "streamlit": streamlit.__version__,
            "load": [round(v, 2) for v in os.getloadavg()]}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", help="server side: these methods (default: every model-free one)")
    ap.add_argument("--rounds", type=int, default=3, help="server side: timed rounds per method (median)")
    ap.add_argument("--browser-methods", nargs="+", default=list(BROWSER_METHODS))
    ap.add_argument("--drags", type=int, default=3, help="drags (each ends in a release) per method")
    ap.add_argument("--keys", type=int, default=5, help="key steps right, then as many back, per method")
    ap.add_argument("--no-browser", action="store_true", help="only the server side")
    ap.add_argument("--floor-steps", type=int, default=30, help="bench/floor.py's releases per page (0: not run)")
    ap.add_argument("--quick", action="store_true", help="one method, one round: that the script works")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.quick:
        args.methods, args.rounds = (args.methods or ["mixup"])[:1], 1
        args.browser_methods, args.drags, args.keys, args.floor_steps = args.browser_methods[:1], 1, 2, 3
    began = time.perf_counter()
    m = machine()
    print(f"Machine: {m['cores']} cores ({m['usable_cores']} usable), {m['cpu']}; Python {m['python']}, "
          f"torch {m['torch']}, streamlit {m['streamlit']}; load average at the start {m['load'][0]} (1 min), "
          f"{m['load'][1]} (5 min). Pictures: {' and '.join(IMAGES)} at the app's size; "
          "λ fixed at 0.5, seed 0.")
    print()
    server = server_side(args.methods or model_free(), args.rounds)
    print_server(server)
    browser = None
    if not args.no_browser:
        browser = browser_side(args.browser_methods, args.drags, args.keys)
        print_browser(browser, args.drags, args.keys)
        if args.floor_steps:
            from floor import floor_side, print_floor

            browser["floor"] = floor_side(ServerCpu, Socket, steps=args.floor_steps)
            print_floor(browser["floor"])
    total = time.perf_counter() - began
    print(f"Whole run: {total:.0f} s (server start {browser['serve_s']:.1f} s)." if browser else
          f"Whole run: {total:.0f} s.")
    results = {"machine": m, "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
               "server": server, "browser": browser, "seconds": total}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
