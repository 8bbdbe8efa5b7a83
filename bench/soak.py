"""Many users at once: the real server and N browser sessions (Playwright, one Chromium) for a while, each
switching methods, moving the λ slider and uploading photos, now and then a broken file.

    python bench/soak.py [--sessions 10] [--seconds 120] [--seed 0] [--methods ...] [--json soak.json]

Reports the errors (target 0): exceptions on a page, actions that time out, page errors in the browser,
tracebacks in the server's log. Then the time from an action to the new picture on the page (p50/p95):
a λ slider step, a method switch, an upload. And the server's resident memory: idle, after a warm-up
(model loaded, every method's maps for the sample photos), at the end of the soak, and once the
sessions have closed; target growth from the warm-up to the end ≤ 20%.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
from serve import CHROMIUM_ARGS, DRAWN, RUNNING, chromium, cpu_seconds, free_port, rss_mb, serve, stop  # noqa: E402

EXCEPTION = '[data-testid="stException"]'
# The mixed picture: its caption, the image's address, and whether the browser has drawn it
# the Mixing Lab after a run: its label line and its first input, shaded where the mix uses it (both drawn by
# the server on every run; the live picture above them is the browser's own)
MIXED = """() => { const f = [...document.querySelectorAll('[data-testid=stImage]')]
    .find(e => e.innerText.includes('input 1:'));
  const label = [...document.querySelectorAll('[data-testid=stMarkdownContainer]')]
    .find(e => e.innerText.startsWith('Label: '));
  if (!f || !label) return null; const img = f.querySelector('img');
  return {text: label.innerText + f.innerText, src: img ? img.src : '',
          done: !!img && img.complete && img.naturalWidth > 0}; }"""
TIMEOUT_MS = 90_000


@dataclass
class Tally:
    """What the sessions saw: seconds per kind of action, and every error with its session."""

    times: dict[str, list[float]] = field(default_factory=lambda: {"slider": [], "method": [], "upload": []})
    errors: list[str] = field(default_factory=list)
    actions: int = 0
    rss: list[float] = field(default_factory=list)


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has used so far (all but idle and iowait), from /proc/stat; a process's
    own: serve.cpu_seconds."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return (sum(map(int, fields)) - int(fields[3]) - int(fields[4])) / os.sysconf("SC_CLK_TCK")


def methods(only: list[str] | None = None, with_lam: bool = True) -> list[tuple[str, str, str]]:
    """(name, its title, its family's title) of the methods with a λ slider (every family has some; all
    methods where not `with_lam`), or of those named in `only`."""
    import mixviz
    from mixviz.registry import FAMILIES

    return [(n, s.title, FAMILIES[s.family]) for n, s in mixviz.METHODS.items()
            if (s.uses_lam or not with_lam) and (only is None or n in only)]


def photo(rng: random.Random, tag: str) -> tuple[str, bytes]:
    """A new upload: a random crop of a bundled photo, so its content (and cache key) is new."""
    from PIL import Image

    from mixviz.samples import samples

    s = rng.choice(list(samples().values()))
    img = Image.open(s.path).convert("RGB")
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.6, 0.95)), int(h * rng.uniform(0.6, 0.95))
    x, y = rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
    buf = io.BytesIO()
    img.crop((x, y, x + cw, y + ch)).save(buf, format="JPEG", quality=88)
    return f"{tag}.jpg", buf.getvalue()


def broken_files() -> list[tuple[str, bytes]]:
    """Files the app must refuse with a message: the refused part of the hostile corpus."""
    from corpus import corpus

    return [(c.name, c.data) for c in corpus() if c.size is None]


async def settle(page) -> None:
    """Until the page is drawn, shows the mixed picture, and no script run is in progress."""
    await page.wait_for_selector(DRAWN, timeout=TIMEOUT_MS)
    await page.wait_for_function(f"() => {{ const m = ({MIXED})(); return m && m.done; }}", timeout=TIMEOUT_MS)
    await page.wait_for_selector(RUNNING, state="detached", timeout=TIMEOUT_MS)


async def new_picture(page, before: dict | None) -> None:
    """Until the mixed picture differs from `before` (caption or image) and is drawn."""
    await page.wait_for_function(
        f"""b => {{ const m = ({MIXED})();
               return m && m.done && (!b || m.text !== b.text || m.src !== b.src); }}""",
        arg=before, timeout=TIMEOUT_MS)


async def move_slider(page, rng) -> float:
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="λ").get_by_role("slider").first
    value = float(await thumb.get_attribute("aria-valuenow") or 0.5)
    key = "ArrowLeft" if value > 0.8 else "ArrowRight" if value < 0.2 else rng.choice(["ArrowLeft", "ArrowRight"])
    before = await page.evaluate(MIXED)
    await thumb.focus()
    start = time.perf_counter()
    await thumb.press(key)
    await new_picture(page, before)
    return time.perf_counter() - start


async def choose(page, label: str, option: str) -> bool:
    """Pick `option` in the selectbox `label` as a person does (type to filter, click); False if already chosen."""
    box = page.get_by_role("combobox", name=label)
    if await box.input_value() == option:
        return False
    await box.click()
    await box.press("Control+a")
    await box.press_sequentially(option)
    await page.get_by_role("option", name=option, exact=True).click()
    return True


async def switch_method(page, rng, catalogue) -> float:
    current = await page.get_by_role("combobox", name="Method").input_value()
    name, title, family = rng.choice([m for m in catalogue if m[1] != current])
    before = await page.evaluate(MIXED)
    start = time.perf_counter()
    if await choose(page, "Family", family):
        # the Method select shows the family's methods once that run is over (a short fragment run may never
        # show the status widget, so waiting for it to go is not enough)
        titles = [t for _, t, f in methods(None, with_lam=False) if f == family]
        box = page.get_by_role("combobox", name="Method")
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while await box.input_value() not in titles and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await page.wait_for_selector(RUNNING, state="detached", timeout=TIMEOUT_MS)
    await choose(page, "Method", title)
    await page.wait_for_function("t => [...document.querySelectorAll('h3')].some(h => h.innerText.trim() === t)",
                                 arg=title, timeout=TIMEOUT_MS)
    await new_picture(page, before)
    return time.perf_counter() - start


async def upload(page, rng, tag: str, broken) -> float:
    files = [photo(rng, tag)]
    if rng.random() < 0.3:
        files.append(rng.choice(broken))
    uploader = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]')
    start = time.perf_counter()
    await uploader.set_input_files([{"name": n, "mimeType": "image/jpeg", "buffer": d} for n, d in files])
    stem = files[0][0].rsplit(".", 1)[0]
    await page.wait_for_function(
        "s => [...document.querySelectorAll('[data-testid=stImage]')].some(e => e.innerText.includes(s))",
        arg=stem, timeout=TIMEOUT_MS)
    await new_picture(page, None)
    elapsed = time.perf_counter() - start
    if len(files) == 2:  # the broken one is named in a message
        await page.wait_for_function(
            "n => [...document.querySelectorAll('[data-testid=stAlertContentError]')]"
            ".some(e => e.innerText.includes(n))",
            arg=files[1][0], timeout=TIMEOUT_MS)
    return elapsed


async def session(browser, url: str, index: int, deadline: float, tally: Tally, seed: int, catalogue, broken) -> None:
    rng = random.Random(seed * 1000 + index)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda e: tally.errors.append(f"session {index}: page error: {e}"))
    start_method = rng.choice(catalogue)[0]
    await page.goto(f"{url}/?method={start_method}&lam=0.5")
    await settle(page)
    uploads = 0
    while time.monotonic() < deadline:
        kind = rng.choices(["slider", "method", "upload"], weights=[6, 3, 1])[0]
        try:
            if kind == "slider":
                took = await move_slider(page, rng)
            elif kind == "method":
                took = await switch_method(page, rng, catalogue)
            else:
                uploads += 1
                took = await upload(page, rng, f"soak{index}_{uploads}", broken)
            tally.times[kind].append(took)
            tally.actions += 1
        except Exception as e:  # a timeout or a vanished element: an error a user would have met
            tally.errors.append(f"session {index}: {kind} failed: {type(e).__name__}: {str(e).splitlines()[0]}")
            await page.goto(f"{url}/?method={start_method}&lam=0.5")
            await settle(page)
        if await page.locator(EXCEPTION).count():
            tally.errors.append(f"session {index}: an exception is shown after {kind}")
        await asyncio.sleep(rng.uniform(0.2, 1.0))  # a person's pause between moves
    await context.close()


async def sample_rss(pid: int, tally: Tally, stop_at: float) -> None:
    while time.monotonic() < stop_at:
        tally.rss.append(rss_mb(pid))
        await asyncio.sleep(1.0)


async def warm_up(browser, url: str, catalogue) -> None:
    """One visitor opens every method once: the model loads and the sample photos' maps are computed."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    for name, _, _ in catalogue:
        await page.goto(f"{url}/?method={name}&lam=0.5")
        await settle(page)
    await context.close()


def percentile_ms(values: list[float], q: float) -> int | None:
    """The q-th percentile of seconds, in whole ms (None when nothing was timed)."""
    if len(values) < 2:
        return round(1000 * values[0]) if values else None
    return round(1000 * statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


async def soak(sessions: int, seconds: float, seed: int, only: list[str] | None = None) -> dict:
    from playwright.async_api import async_playwright

    catalogue, broken = methods(only), broken_files()
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="mixviz_soak_", suffix=".log")[1])
    with open(log_path, "wb") as log:
        proc = serve(port, log=log)
        url = f"http://127.0.0.1:{port}"
        try:
            idle = rss_mb(proc.pid)
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
                await warm_up(browser, url, catalogue)
                await asyncio.sleep(3)
                warm = rss_mb(proc.pid)
                tally = Tally()
                deadline = time.monotonic() + seconds
                began = time.perf_counter()
                cpu_server, cpu_all = cpu_seconds(proc.pid), machine_cpu_seconds()
                await asyncio.gather(sample_rss(proc.pid, tally, deadline),
                                     *(session(browser, url, i, deadline, tally, seed, catalogue, broken)
                                       for i in range(sessions)))
                wall = time.perf_counter() - began
                cpu_server, cpu_all = cpu_seconds(proc.pid) - cpu_server, machine_cpu_seconds() - cpu_all
                end = rss_mb(proc.pid)
                await browser.close()
            await asyncio.sleep(5)
            closed = rss_mb(proc.pid)
        finally:
            stop(proc)
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    if tracebacks:
        tally.errors.append(f"{tracebacks} traceback(s) in the server log {log_path}")
    else:
        log_path.unlink()
    return {
        "sessions": sessions, "seconds": round(wall, 1), "actions": tally.actions, "errors": tally.errors,
        "ms": {k: {"n": len(v), "p50": percentile_ms(v, 50), "p95": percentile_ms(v, 95)}
               for k, v in tally.times.items()},
        "rss_mb": {"idle": round(idle), "warm": round(warm), "peak": round(max(tally.rss + [end])),
                   "end": round(end), "closed": round(closed)},
        "growth": round(end / warm - 1, 3),
        "rss_mb_every_5s": [round(v) for v in tally.rss[::5]],
        "cores": {"machine": os.cpu_count(), "busy": round(cpu_all / wall, 2), "server": round(cpu_server / wall, 2)},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", nargs="+", help="only these methods (default: every method with λ)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    r = asyncio.run(soak(args.sessions, args.seconds, args.seed, args.methods))
    print(f"{r['sessions']} sessions for {r['seconds']} s: {r['actions']} actions, {len(r['errors'])} errors")
    for e in r["errors"][:20]:
        print("  ", e)
    for kind, m in r["ms"].items():
        if not m["n"]:
            print(f"{kind:>7}: none in this run")
            continue
        print(f"{kind:>7} → new picture: p50 {m['p50']} ms, p95 {m['p95']} ms ({m['n']} times)")
    mem = r["rss_mb"]
    print(f"server RSS (MB): idle {mem['idle']}, after warm-up {mem['warm']}, peak {mem['peak']}, "
          f"end {mem['end']}, sessions closed {mem['closed']}; growth warm-up → end {100 * r['growth']:.1f}%")
    c = r["cores"]
    print(f"cores busy on average: {c['busy']} of {c['machine']}, the server {c['server']} of them "
          "(the rest: the browsers)")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
