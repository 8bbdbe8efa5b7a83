"""bench/classroom.py --validate: the same students' actions in real Chromium (Playwright, Debian's chromium),
and the server's part of each action measured from the browser's side, to check the load generator's figures.

In the browser the server's part of an action is taken from Chromium's own network events (the DevTools
protocol's Network domain, which is what Playwright's websocket `framesent`/`framereceived` events report,
with the browser's timestamps): from the first websocket message the action sent (a `rerun_script`, or an
upload's `file_urls_request`) to the `script_finished` of the run it asked for and the end of every `/media/`
request made meanwhile, summed over the runs of the action, exactly as the generator times itself. What the
browser adds on top is measured in the page: from the first websocket send (a hook on WebSocket.send) to the
last change the action made to the page (a MutationObserver on the main area and the sidebar: elements added
or removed, text, an image's src, the scrubber's data-ready) or the last image loaded, after the page has been
quiet for 400 ms; the time between the action's runs (the browser typing into a select) is left out.
"""
from __future__ import annotations

import asyncio
import base64
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from classroom import PAGES, Server, ServerClock, classroom, ms, pct, pin, warm
from streamlit_client import RUN_TIMEOUT, covered, photo, proto
from serve import CHROMIUM_ARGS, DRAWN, RUNNING, chromium
from soak import choose  # picks an option in a select as a person does

QUIET_S = 0.4
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'
# In every page, before streamlit's scripts: when the page sends on its websocket, and when it last changed
HOOKS = """(() => {
  const c = window.__cls = {sends: [], last: 0, changes: 0, loads: 0};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (...a) { c.sends.push(performance.now()); return send.apply(this, a); };
  const skip = (n) => { const e = n && (n.nodeType === 1 ? n : n.parentElement);
    return !e || !e.closest('[data-testid=stMain], [data-testid=stSidebar]')
      || !!e.closest('[data-testid=stStatusWidget], [data-testid=stHeader], [data-testid=stToolbar]'); };
  const seen = () => { c.last = performance.now(); c.changes += 1; };
  document.addEventListener("load", (e) => {
    if (e.target && e.target.tagName === "IMG" && !skip(e.target)) { c.loads += 1; seen(); } }, true);
  const watch = () => new MutationObserver((records) => { if (records.some((r) => !skip(r.target))) seen(); })
    .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                             attributeFilter: ["src", "data-ready", "data-version"]});
  if (document.body) watch(); else document.addEventListener("DOMContentLoaded", watch);
  c.mark = () => { c.sends = []; c.last = 0; c.changes = 0; c.loads = 0; return performance.now(); };
})()"""


@dataclass
class Net:
    """One page's websocket frames and media requests, with Chromium's timestamps (seconds)."""

    events: list = field(default_factory=list)  # (ts, "sent"|"recv"|"media", data)
    media: dict = field(default_factory=dict)  # request id -> [start, end or None, status, url]
    session: str = ""  # the streamlit session of this page (from its new_session)

    def attach(self, cdp) -> None:
        bm, _, fm, _ = proto()

        def frame(direction: str, e: dict) -> None:
            r = e["response"]
            if r.get("opcode") != 2:
                return
            data = base64.b64decode(r["payloadData"])
            try:
                if direction == "sent":
                    kind, status = bm.BackMsg.FromString(data).WhichOneof("type"), None
                else:
                    msg = fm.ForwardMsg.FromString(data)
                    kind = msg.WhichOneof("type")
                    if kind == "new_session" and msg.new_session.initialize.session_id:
                        self.session = msg.new_session.initialize.session_id
                    status = fm.ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished) \
                        if kind == "script_finished" else None
            except Exception:  # noqa: BLE001 - a frame this streamlit cannot read: counted, not named
                kind, status = "?", None
            self.events.append((e["timestamp"], direction, (kind, status, len(data))))

        def request(e: dict) -> None:
            url = e["request"]["url"]
            if ("/media/" in url and "/static/" not in url) or "/_stcore/upload_file/" in url:
                self.media[e["requestId"]] = [e["timestamp"], None, None, url]
                self.events.append((e["timestamp"], "media" if "/media/" in url else "put", e["requestId"]))

        def response(e: dict) -> None:
            if e["requestId"] in self.media:
                self.media[e["requestId"]][2] = e["response"]["status"]

        def finished(e: dict) -> None:
            if e["requestId"] in self.media:
                self.media[e["requestId"]][1] = e["timestamp"]

        def failed(e: dict) -> None:
            if e["requestId"] in self.media:
                self.media[e["requestId"]][1:3] = [e["timestamp"], f"failed: {e.get('errorText')}"]

        cdp.on("Network.webSocketFrameSent", lambda e: frame("sent", e))
        cdp.on("Network.webSocketFrameReceived", lambda e: frame("recv", e))
        cdp.on("Network.requestWillBeSent", request)
        cdp.on("Network.responseReceived", response)
        cdp.on("Network.loadingFinished", finished)
        cdp.on("Network.loadingFailed", failed)

    def segments(self, mark: int) -> list[dict]:
        """The runs asked for since event `mark`: each from its rerun_script sent to its script_finished (not
        FINISHED_EARLY_FOR_RERUN), with the media requested until the next run began; an upload's run also has its
        file_urls_request (sent, answered) and its PUT before it."""
        segs: list[dict] = []

        def new() -> dict:
            segs.append({"start": None, "finished": None, "urls": None, "media": [], "messages": 0, "bytes": 0})
            return segs[-1]

        for ts, what, data in self.events[mark:]:
            seg = segs[-1] if segs else None
            if what == "sent" and data[0] == "file_urls_request":
                seg = new() if seg is None or seg["finished"] is not None or seg["start"] is not None else seg
                seg["urls"] = [ts, None]
            elif what == "sent" and data[0] == "rerun_script":
                if seg is None or seg["finished"] is not None or seg["start"] is not None:
                    seg = new()
                seg["start"] = ts
            elif what == "recv" and seg is not None and seg["finished"] is None:
                seg["messages"] += 1
                seg["bytes"] += data[2]
                if data[0] == "file_urls_response" and seg["urls"] and seg["urls"][1] is None:
                    seg["urls"][1] = ts
                if data[0] == "script_finished" and data[1] != "FINISHED_EARLY_FOR_RERUN" and seg["start"] is not None:
                    seg["finished"] = ts
            elif what in ("media", "put") and seg is not None:
                seg["media"].append(data)
        return segs

    def complete(self, mark: int) -> bool:
        segs = self.segments(mark)
        return bool(segs) and all(s["finished"] is not None for s in segs) and \
            all(self.media[r][1] is not None for s in segs for r in s["media"])

    def last_event(self) -> float:
        return max((e[0] for e in self.events), default=0.0)


@dataclass
class BAction:
    kind: str
    student: int
    detail: tuple
    server_s: float | None = None
    finished_s: float | None = None
    runs: int = 0
    media: int = 0
    gaps_s: float = 0.0
    page_s: float | None = None  # in the page: first send -> last change, the gaps between runs left out
    error: str | None = None
    session: str = ""
    spans: list = field(default_factory=list)  # per run: (first message sent, script_finished, [(media start, end)])


async def wait_runs(page, net: Net, mark: int, timeout: float = RUN_TIMEOUT) -> None:
    """Until a run was asked for since `mark`, every run asked for has finished with its media, the status
    widget is gone, and neither the socket nor the page has changed for QUIET_S."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if net.complete(mark):
            quiet = await page.evaluate("() => performance.now() - window.__cls.last")
            if await page.locator(RUNNING).count() == 0 and quiet > QUIET_S * 1000:
                await asyncio.sleep(0.05)
                if net.complete(mark):  # nothing new was asked for meanwhile
                    return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the runs did not finish within {timeout:.0f} s")


async def open_sidebar(page) -> None:
    nav = page.locator('[data-testid="stSidebarNav"]')
    if not await nav.is_visible():
        await page.locator('[data-testid="stExpandSidebarButton"] button, [data-testid="stExpandSidebarButton"]').first.click()
        await nav.wait_for(state="visible")


async def perform(page, net: Net, step: tuple, base: str) -> list[int]:
    """Do one action as a person does; returns the event marks at which each of its runs was asked for (a
    method switch to another family is two: the Family select, then the Method select)."""
    kind = step[0]
    mark = len(net.events)
    if kind == "open":
        await page.goto(base + "/")
        await page.wait_for_selector(DRAWN)
        await page.wait_for_selector(LIVE)  # the Mixing Lab's live picture has fetched its sweep
        await wait_runs(page, net, mark)
        return [mark]
    if kind == "lam":
        thumb = page.locator('[data-testid="stSlider"]').filter(has_text="λ").get_by_role("slider").first
        now = float(await thumb.input_value())
        if abs(abs(step[1] - now) - 0.01) > 1e-6:
            raise RuntimeError(f"λ is {now} here, the plan moves it to {step[1]}")
        await thumb.focus()
        await thumb.press("ArrowRight" if step[1] > now else "ArrowLeft")
    elif kind == "method":
        marks = []
        if await choose(page, "Family", step[1]):
            marks.append(mark)
            await wait_runs(page, net, mark)
        mark = len(net.events)
        if await choose(page, "Method", step[2]):
            marks.append(mark)
            await wait_runs(page, net, mark)
        return marks
    elif kind == "reroll":
        await page.get_by_role("button", name="Re-roll").click()
    elif kind == "page":
        await open_sidebar(page)
        await page.locator('[data-testid="stSidebarNav"] a').filter(has_text=PAGES[step[1]]).first.click()
    elif kind == "lecture":
        if step[1] == "next":
            await page.get_by_role("button", name="Next").click()
        elif not await choose(page, "Step", step[2]):
            return []
    elif kind == "upload":
        uploader = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]')
        await uploader.set_input_files([{"name": step[1], "mimeType": "image/jpeg", "buffer": photo(step[2])}])
    else:
        raise ValueError(f"unknown action {step!r}")
    await wait_runs(page, net, mark)
    return [mark]


class Tab:
    """One student in a browser tab (its own browser context: its own cookies, its own session)."""

    def __init__(self, browser, base: str, index: int):
        self.browser, self.base, self.index = browser, base, index
        self.errors: list[str] = []
        self.net = Net()

    async def open(self) -> BAction:
        self.context = await self.browser.new_context(viewport={"width": 1400, "height": 1000})
        await self.context.add_init_script(HOOKS)
        self.page = await self.context.new_page()
        self.page.set_default_timeout(RUN_TIMEOUT * 1000)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        cdp = await self.context.new_cdp_session(self.page)
        await cdp.send("Network.enable")
        self.net.attach(cdp)
        return await self.do(("open",))

    async def do(self, step: tuple) -> BAction:
        a = BAction(step[0], self.index, tuple(step))
        self.errors.clear()
        try:
            if step[0] != "open":
                await self.page.evaluate("() => window.__cls.mark()")
            marks = await perform(self.page, self.net, tuple(step), self.base)
            measure(a, self.net, marks)
            a.session = self.net.session
            a.page_s = await drawn(self.page, a)
            if await self.page.locator('[data-testid="stException"]').count():
                self.errors.append("an exception is shown")
        except Exception as e:  # noqa: BLE001 - a timeout or a vanished element: reported as this action's error
            a.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        if self.errors and a.error is None:
            a.error = "; ".join(self.errors)
        return a

    async def close(self) -> None:
        await self.context.close()


def measure(a: BAction, net: Net, marks: list[int]) -> None:
    """The action's server part from the network events after each of its marks (see the module's docstring)."""
    total = finished = gaps = 0.0
    prev_end = None
    for m in marks:
        for seg in net.segments(m)[:1]:
            ends = [net.media[r][1] for r in seg["media"]]
            end = max([seg["finished"]] + ends)
            requests = [(net.media[r][0], net.media[r][1], urlsplit(net.media[r][3]).path) for r in seg["media"]]
            urls = tuple(seg["urls"]) if seg["urls"] else None
            a.spans.append((seg["start"], seg["finished"], requests, urls))
            total += covered([(seg["start"], seg["finished"])] + requests + [urls] * bool(urls))
            finished += seg["finished"] - seg["start"]
            a.media += sum(1 for r in seg["media"] if "/media/" in net.media[r][3])
            a.runs += 1
            bad = [f"{net.media[r][3]}: {net.media[r][2]}" for r in seg["media"]
                   if net.media[r][2] not in ((200,) if "/media/" in net.media[r][3] else (200, 204))]
            if bad:
                a.error = "; ".join(bad)
            if prev_end is not None:
                gaps += seg["start"] - prev_end
            prev_end = end
    a.server_s, a.finished_s, a.gaps_s = (total, finished, gaps) if a.runs else (None, None, 0.0)


async def drawn(page, a: BAction) -> float | None:
    """Seconds from the action's first websocket send to the page's last change (page clock), less the gaps."""
    got = await page.evaluate("() => ({first: window.__cls.sends[0], last: window.__cls.last})")
    if got["first"] is None or not got["last"]:
        return None
    return max(0.0, (got["last"] - got["first"]) / 1000 - a.gaps_s)


# ------------------------------------------------------------------------------------------------ compare

def rows(gen: list, brw: list, kinds: list[str]) -> list[dict]:
    """Per kind, p50 and p95 of: the server part as the generator timed it (`server_s`), as the browser's
    websocket frames and media responses give it (`server_s`), and as the server saw each client's action
    (`clock_s`; `run_s`: its runs only); the medians of per-action ratios (the same student's same step in both
    clients); runs and media per action; in the browser, first send → page drawn and what that adds to the
    server part."""
    def of(acts, kind):
        return [a for a in acts if (a.kind != "open" if kind == "all" else a.kind == kind) and a.error is None
                and a.server_s is not None]

    def paired(kind, gen_attr, brw_attr):
        pairs = {}
        for who, acts, attr in ((0, gen, gen_attr), (1, brw, brw_attr)):
            for a in of(acts, kind):
                pairs.setdefault((a.student, a.seq), [None, None])[who] = getattr(a, attr, None)
        got = [x / y for x, y in pairs.values() if x and y]
        return statistics.median(got) if got else None

    def p(acts, attr):
        v = [getattr(a, attr) for a in acts if getattr(a, attr, None) is not None]
        return pct(v, 50), pct(v, 95)

    out = []
    for kind in kinds + ["all"]:
        g, b = of(gen, kind), of(brw, kind)
        if not g and not b:
            continue
        extra = [a.page_s - (a.clock_s if getattr(a, "clock_s", None) is not None else a.server_s) for a in b
                 if a.page_s is not None]
        out.append({
            "kind": kind, "n": (len(g), len(b)),
            "gen": p(g, "server_s"), "brw": p(b, "server_s"), "gen_server": p(g, "clock_s"),
            "brw_server": p(b, "clock_s"), "gen_run": p(g, "run_s"), "brw_run": p(b, "run_s"),
            "frames": paired(kind, "server_s", "server_s"), "key": paired(kind, "server_s", "clock_s"),
            "both_server": paired(kind, "clock_s", "clock_s"), "runs_only": paired(kind, "run_s", "run_s"),
            "errors": (sum(1 for a in gen if a.kind == kind and a.error), sum(1 for a in brw if a.kind == kind and a.error)),
            "media": (sum(a.media for a in g) / max(1, len(g)), sum(a.media for a in b) / max(1, len(b))),
            "runs": (sum(a.runs for a in g) / max(1, len(g)), sum(a.runs for a in b) / max(1, len(b))),
            "page": (pct([a.page_s for a in b if a.page_s is not None], 50), pct(extra, 50))})
    return out


def within(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f} ({'yes' if abs(r - 1) <= 0.2 else 'no'})"


def print_rows(n: int, table: list[dict]) -> None:
    print(f"#### {n} session{'s' if n > 1 else ''} at once")
    print()
    print("| action | n: generator, browser | generator as it timed itself, p50 / p95 (ms) | browser, from its websocket "
          "frames and media responses, p50 / p95 (ms) | per-action ratio generator / browser frames | the browser's "
          "action at the server, p50 / p95 (ms) | **per-action ratio generator / browser at the server** | the "
          "generator's action at the server, p50 (ms) | runs only at the server: generator / browser p50 (ms), "
          "per-action ratio | runs per action | media per action | browser: first send → page drawn p50 (ms) | "
          "drawing adds p50 (ms) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|")
    for r in table:
        name = "**all but open**" if r["kind"] == "all" else r["kind"]
        print(f"| {name} | {r['n'][0]}, {r['n'][1]} | {ms(r['gen'][0])} / {ms(r['gen'][1])} | "
              f"{ms(r['brw'][0])} / {ms(r['brw'][1])} | {within(r['frames'])} | "
              f"{ms(r['brw_server'][0])} / {ms(r['brw_server'][1])} | **{within(r['key'])}** | {ms(r['gen_server'][0])} | "
              f"{ms(r['gen_run'][0])} / {ms(r['brw_run'][0])}, {within(r['runs_only'])} | "
              f"{r['runs'][0]:.1f}, {r['runs'][1]:.1f} | {r['media'][0]:.1f}, {r['media'][1]:.1f} | "
              f"{ms(r['page'][0])} | {ms(r['page'][1])} |")
    print()


async def lockstep(base: str, plans: dict, think: tuple, seed: int, spacing: float, block: int,
                   pool) -> tuple[list, list]:
    """The same students in both clients, taking turns: every student opens the app in the generator and in a
    Chromium tab (arriving `spacing` seconds apart), then the generator's students do the next `block` steps of
    their plans (thinking between them, all at once), then the browser's tabs do the same steps, and so on,
    the first client alternating by block, so that both meet this shared machine's load of the same minute.
    Before each block a third set of the same students (generator sessions, not timed) does its steps without
    pausing, so that neither measured client pays for what the server's caches no longer hold (a sweep or the
    maps evicted since the plans were recorded): whoever came first would pay it."""
    from playwright.async_api import async_playwright

    from classroom import act
    from streamlit_client import Student, timed

    gen_acts, brw_acts = [], []
    students = {i: Student(base, i, pool) for i in plans}
    warmers = {i: Student(base, i, pool) for i in plans}
    pauses = {who: {i: random.Random(seed * 104729 + i) for i in plans} for who in ("generator", "browser")}
    began = time.perf_counter()

    async def gen_open(i: int, s) -> None:
        await asyncio.sleep(i * spacing)
        gen_acts.append(await timed(s, "open", lambda: s.open(), time.perf_counter() - began, ("open",)))

    async def brw_open(i: int, t: Tab) -> None:
        await asyncio.sleep(i * spacing)
        brw_acts.append(await t.open())

    async def warm_steps(i: int, steps: list) -> None:
        for step in steps:
            await act(warmers[i], None, tuple(step), began)

    async def gen_steps(i: int, steps: list) -> None:
        for step in steps:
            await asyncio.sleep(pauses["generator"][i].uniform(*think))
            gen_acts.append(await act(students[i], None, tuple(step), began))

    async def brw_steps(i: int, t: Tab, steps: list) -> None:
        for step in steps:
            await asyncio.sleep(pauses["browser"][i].uniform(*think))
            brw_acts.append(await t.do(tuple(step)))

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
        tabs = {i: Tab(browser, base, i) for i in plans}
        try:
            await asyncio.gather(*(w.open() for w in warmers.values()))
            await asyncio.gather(*(gen_open(i, s) for i, s in students.items()))
            await asyncio.gather(*(brw_open(i, t) for i, t in tabs.items()))
            longest = max((len(v) for v in plans.values()), default=0)
            for b, k in enumerate(range(0, longest, block)):
                await asyncio.gather(*(warm_steps(i, plans[i][k:k + block]) for i in plans))
                turns = [lambda: asyncio.gather(*(gen_steps(i, plans[i][k:k + block]) for i in plans)),
                         lambda: asyncio.gather(*(brw_steps(i, tabs[i], plans[i][k:k + block]) for i in plans))]
                for turn in (turns if b % 2 else turns[::-1]):
                    await turn()
        finally:
            for s in list(students.values()) + list(warmers.values()):
                await s.close()
            for t in tabs.values():
                await t.close()
            await browser.close()
    for acts in (gen_acts, brw_acts):
        seq: dict[int, int] = {}
        for a in acts:  # each student's actions are in the order it did them
            a.seq = seq[a.student] = seq.get(a.student, -1) + 1
    return gen_acts, brw_acts


def validate(args) -> dict:
    """Record each student's plan (the generator acting live, which also warms the server's caches), then for
    each size replay those plans with the generator and in Chromium, in lockstep (see `lockstep`)."""
    from concurrent.futures import ThreadPoolExecutor

    sizes = sorted(set(args.sizes))
    spacing = 0.5  # seconds between the students' arrivals, the same in both clients
    with Server(args.url, args.pid, args.server_log, clock=True) as server:
        cores = sorted(os.sched_getaffinity(0))
        pinned = not args.no_pin and server.pid is not None and len(cores) >= 2
        if pinned:  # the clients' own work (Chromium drawing) must not take the server's core
            pin(server.pid, {cores[0]})
            os.sched_setaffinity(0, set(cores[1:]))
            print(f"The server runs on core {cores[0]}, the clients (Chromium or the generator) on core(s) "
                  f"{', '.join(map(str, cores[1:]))}.")
        else:
            print("The server and the clients share every core.")
        print()
        warm_s = asyncio.run(warm(server.url))
        log_start = len(server.log_text() or "")
        rec = asyncio.run(classroom(server.url, max(sizes), 10_000, (0.2, 0.5), args.seed, 0.0, server.pid,
                                    max_actions=args.actions))
        plans = {i: [tuple(s) for s in rec.plans.get(i, [])] for i in range(max(sizes))}
        recorded_errors = [a.error for a in rec.actions if a.error]
        print(f"Plans recorded by {max(sizes)} live students, {args.actions} actions each, which also warmed the "
              f"server ({len(recorded_errors)} errors); the server's first visit took {warm_s:.1f} s.")
        print()
        results = {}
        with ThreadPoolExecutor(max_workers=32) as pool:
            for n in sizes:
                mine = {i: plans[i] for i in range(n)}
                load = os.getloadavg()[0]
                gen, brw = asyncio.run(lockstep(server.url, mine, tuple(args.think), args.seed, spacing, 4, pool))
                events, http = server.clock.read() if server.clock is not None else ({}, {})
                for a in gen + brw:
                    ev = events.get(a.session)
                    a.clock_s = ServerClock.part(ev, http, a.spans) if ev else None
                    a.run_s = ServerClock.part(ev, http, a.spans, requests=False) if ev else None
                kinds = [k for k in ("open", "lam", "method", "reroll", "page", "lecture", "upload")
                         if any(a.kind == k for a in gen + brw)]
                table = rows(gen, brw, kinds)
                print_rows(n, table)
                print(f"(load average at the start: {load:.1f})")
                print()
                errs = [f"{who} student {a.student} {a.kind} {a.detail}: {a.error}"
                        for who, acts in (("generator", gen), ("browser", brw)) for a in acts if a.error]
                for e in errs[:10]:
                    print(f"- error: {e}")
                if errs:
                    print()
                results[n] = {"table": table, "errors": errs, "load": load,
                              "actions": {"generator": [vars(a) for a in gen], "browser": [vars(a) for a in brw]}}
        log = server.log_text()
        tracebacks = (log or "")[log_start:].count("Traceback")
    print(f"Tracebacks in the server's log: {tracebacks}.")
    print()
    print("Each figure is an action's server part: per run it asked for, the union of the time from its "
          "rerun_script to its script_finished, of each media request the run caused (asked → answered), and for an "
          "upload of its request for file URLs and its PUT; summed over the action's runs (a method switch across "
          "families is two runs). The generator times it itself; the browser's figure is taken from Chromium's "
          "DevTools events for its websocket frames and media requests (what Playwright's framesent/framereceived "
          "report); \"at the server\" takes the same ends from the server's own clock (bench/classroom_hook). A "
          "per-action ratio pairs the same student's same step in the two clients (median). Drawing adds: in the "
          "browser, first websocket send → last change to the page, less the action's part at the server.")
    return {"plans": plans, "rounds": results, "tracebacks": tracebacks, "warm_s": warm_s, "pinned": pinned}
