"""What a fragment rerun costs streamlit itself: the server's CPU per released slider step on a bare page
(bench/floor_app.py: a slider in a fragment and N markdown lines under it), served and driven in Chromium as
bench/live.py drives the Mixing Lab, for a few N. Its intercept and slope are streamlit's own cost per rerun
and per element drawn, the floor under any page's release.

    python bench/floor.py [--elements 0 16 32] [--steps 30]

(bench/live.py runs it after the Mixing Lab and prints the same table.) Benchmarks print tables and never
assert timings."""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "scripts")]
from serve import free_port, launch, serve, stop  # noqa: E402

ELEMENTS = (0, 16, 32)
SLIDER = '[data-testid="stSlider"] input'
RUNNING = '[data-testid="stStatusWidget"]'


def measure(playwright, elements: int, steps: int, cpu_of, socket_of) -> dict:
    """Serve the bare page with `elements` lines, press → `steps` times on its focused slider (each a release
    and a fragment rerun), and return the server's CPU per step (cpu_of(pid): a bench/live.ServerCpu) and the
    messages that came back per rerun (socket_of(page): a bench/live.Socket)."""
    port = free_port()
    proc = serve(port, app=HERE / "floor_app.py", env={"FLOOR_ELEMENTS": str(elements)})
    try:
        browser = launch(playwright)
        page = browser.new_page()
        socket = socket_of(page)
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("text=value 500")
        page.wait_for_selector(RUNNING, state="detached")
        page.locator(SLIDER).focus()
        samples, runs, value = [], [], 500
        for i in range(steps + 3):  # the first three warm the page up
            cpu, mark = cpu_of(proc.pid), socket.mark()
            cpu.start()
            page.keyboard.press("ArrowRight")
            value += 1
            page.wait_for_selector(f"text=value {value}")
            run = socket.wait_finished(page, mark)
            page.wait_for_selector(RUNNING, state="detached")
            used = cpu.stop()
            if i >= 3:
                samples.append(used)
                runs.append(run)
        browser.close()
    finally:
        stop(proc)
    mean = lambda k: 1e3 * statistics.mean(s[k] for s in samples)  # noqa: E731
    done = [r for r in runs if r]
    return {"elements": elements, "steps": len(samples), "cpu_ms": mean("cpu_s"), "script_ms": mean("script_s"),
            "rest_ms": mean("rest_s"), "messages": statistics.median(r["messages"] for r in done) if done else None}


def fit(rows: list[dict]) -> tuple[float, float]:
    """Least squares: CPU per rerun = a + b · messages (ms, ms per message)."""
    xs, ys = [r["messages"] for r in rows], [r["cpu_ms"] for r in rows]
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


def floor_side(cpu_of, socket_of, elements=ELEMENTS, steps: int = 30) -> list[dict]:
    """measure() for each number of lines (cpu_of, socket_of: bench/live.py's ServerCpu and Socket)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        return [measure(p, n, steps, cpu_of, socket_of) for n in elements]


def print_floor(rows: list[dict]) -> None:
    print("### Streamlit's own cost of a fragment rerun (bench/floor.py)")
    print()
    print("A bare page (bench/floor_app.py): a slider in a fragment and N markdown lines under it that follow its "
          "value, served and driven as above (→ on the focused slider: a release and a fragment rerun each). "
          "Server CPU per release as above (mean): all = script run + rest.")
    print()
    print("| lines under the slider | releases | messages back per release | server CPU per release (ms) |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['elements']} | {r['steps']} | {r['messages']:.0f} | "
              f"{r['cpu_ms']:.1f} = {r['script_ms']:.1f} + {r['rest_ms']:.1f} |")
    if len(rows) > 1:
        a, b = fit(rows)
        print()
        print(f"Fit: {a:.1f} ms per rerun + {b:.2f} ms per message sent back.")
    print()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=int, nargs="+", default=list(ELEMENTS))
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    from live import ServerCpu, Socket

    print_floor(floor_side(ServerCpu, Socket, args.elements, args.steps))
