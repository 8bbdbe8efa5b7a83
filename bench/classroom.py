"""A class at once, without browsers: N students, each speaking Streamlit's own websocket protocol to the app.

    python bench/classroom.py [--students 10] [--seconds 120] [--think 3 10] [--ramp 10] [--seed 0]
                              [--url http://127.0.0.1:PORT [--pid PID] [--server-log PATH]] [--json out.json]
    python bench/classroom.py --validate [--sizes 1 3 5] [--actions 16] [--think 1 3] [--json out.json]
    python bench/classroom.py --poll N [--replicas 2 --kill-at 15] [--within 30] [--arrive 5] [--json out.json]
                              (a live class poll on PostgreSQL: bench/classroom_poll.py)

An HTTP client that fetches `/` measures nothing: the page is a static shell until its websocket opens. Each
student here does what the browser's own code does (streamlit's frontend, read in its sources and in the
installed package's built JS): it gets the XSRF cookie (`_streamlit_xsrf`, set by `/_stcore/health` and
`/_stcore/host-config`), opens `/_stcore/stream` with the subprotocols `streamlit, <the cookie's token>`, sends
the first `rerun_script` (a ClientState with the page's name and the query string), and reads the ForwardMsgs:
`new_session`, `navigation` (the pages and their script hashes), `delta`s (the elements, at their delta paths),
`page_info_changed` (the address), `script_finished`. Like the frontend it keeps every widget's state (the
value the element carries when the server sets it, else the one it had, else its default), sends all of them
with every rerun (a widget inside a fragment reruns that fragment: `fragment_id`), forgets the widgets a run
no longer draws, keeps the cacheable messages the server may later send by `ref_hash` (and tells it which it
holds), and fetches every media file a run references as a browser does: each image URL once per page (the
browser's memory cache), the live scrubber's sweep file whenever its component's data names a new one.

A student learns the widget ids from the deltas by their keys (an id ends in its key: `$$ID-<hash>-lab_lam`),
then acts, one action every `--think` seconds (seeded):
  lam      the Mixing Lab's λ slider (`lab_lam`) one step (0.01) left or right
  method   another method: the Family select (`lab_family`) if it changes, then the Method select (`lab_method`)
  reroll   the Re-roll button (`lab_reroll`, a trigger)
  page     another page (ClientState.page_script_hash, as the sidebar's links do)
  lecture  on the Lecture page: Next (`lec_next`) or a step from its list (`lec_step`)
  upload   a new photo (a random crop of a bundled one) into the sidebar's uploader (`uploads`): a
           `file_urls_request`, a PUT to `/_stcore/upload_file/<session>/<file>` with the XSRF cookie and
           header, then a rerun with the uploader's state
and `open` is the first run of a new session. Each action is timed from its first message sent to the last
run it asked for finished (`script_finished`) and every media file that run referenced fetched.

It reports the students, actions per second, p50/p95/p99 per kind of action, the errors (exception elements
and error alerts in the deltas, websocket close frames, runs that do not finish in time, media or uploads
that fail, tracebacks in the server's log) and the server's CPU and RSS over time. It starts its own server
(scripts/serve.py) unless given `--url`.

The protocol itself (a student's websocket session, its element tree and widget states, the timing of one
action) is bench/streamlit_client.py; this file is the students' behaviour, the class, the servers and the reports.

`--validate` runs the same actions in Debian's Chromium (Playwright; bench/classroom_browser.py) for 1, 3 and
5 sessions and compares the server's part of each action (first message sent → runs finished and media
served, taken in the browser from its websocket frames and media requests) with the generator's.
Benchmarks print tables and never assert timings.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "bench")]
from serve import cpu_seconds, free_port, rss_mb, serve, stop  # noqa: E402
from live import pct  # noqa: E402  (the percentile every bench reports)
from streamlit_client import RUN_TIMEOUT, Action, Run, Student, covered, timed  # noqa: E402  (the protocol)

KINDS = ("open", "lam", "method", "reroll", "page", "lecture", "upload")
PAGES = {"mixing_lab": "Mixing Lab", "lecture": "Lecture", "gallery": "Gallery", "cam_explorer": "CAM Explorer",
         "saliency": "Saliency", "theory": "Theory"}  # url path -> title (app.py's st.navigation)
PAGE_WEIGHTS = {"mixing_lab": 4, "lecture": 3, "gallery": 1, "cam_explorer": 1, "saliency": 1, "theory": 1}
# what a student does next, by the page it is on (weights); an action the page does not offer is left out
ACTION_WEIGHTS = {"mixing_lab": {"lam": 5, "method": 2, "reroll": 2, "page": 1.5, "upload": 0.6},
                  "lecture": {"lecture": 4, "page": 1.5, "upload": 0.3},
                  None: {"page": 1, "upload": 0.2}}


# ----------------------------------------------------------------------------------------------- behaviour

class Plan:
    """What a student does next, chosen (seeded) from what its page shows now; every action it chose is kept in
    `steps`, concrete enough for another client (the browser) to do the same."""

    def __init__(self, rng: random.Random, student: int, seed: int):
        self.rng, self.student, self.seed = rng, student, seed
        self.uploads = 0
        self.steps: list[tuple] = []

    def next(self, s: Student) -> tuple:
        rng = self.rng
        page = s.page_path if s.page_path in ("mixing_lab", "lecture") else None
        needs = {"lam": ("lab_lam",), "method": ("lab_family", "lab_method"), "reroll": ("lab_reroll",),
                 "lecture": ("lec_step",), "upload": ("uploads",)}  # a method without λ has no λ slider
        weights = {k: w for k, w in ACTION_WEIGHTS[page].items()
                   if all(s.widget(key) is not None for key in needs.get(k, ()))}
        if not weights:
            weights = {"page": 1}
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        if kind == "lam":
            lam = (s.current("lab_lam") or [0.5])[0]
            step = -0.01 if lam >= 0.99 else 0.01 if lam <= 0.01 else rng.choice((-0.01, 0.01))
            out = ("lam", round(lam + step, 2))
        elif kind == "method":
            fam = s.widget("lab_family")[1]
            family = rng.choice(list(fam.options))
            out = ("method", family, None)  # the title is chosen once the family's methods are shown (resolve)
        elif kind == "reroll":
            out = ("reroll",)
        elif kind == "page":
            choices = [p for p in PAGE_WEIGHTS if p != s.page_path]
            out = ("page", rng.choices(choices, weights=[PAGE_WEIGHTS[p] for p in choices])[0])
        elif kind == "lecture":
            nxt = s.widget("lec_next")
            step = s.widget("lec_step")
            if nxt is not None and not nxt[1].disabled and rng.random() < 0.75:
                out = ("lecture", "next")
            else:
                out = ("lecture", "step", rng.choice(list(step[1].options)))
        else:
            self.uploads += 1
            name = f"class{self.student}_{self.uploads}.jpg"
            out = ("upload", name, self.seed * 1_000_003 + self.student * 1009 + self.uploads)
        return out

    def pick_method(self, s: Student) -> str:
        """A method of the family now shown, other than the one selected (or the one selected, if alone)."""
        options = list(s.widget("lab_method")[1].options)
        current = s.current("lab_method")
        others = [o for o in options if o != current] or options
        return self.rng.choice(others)


async def act(student: Student, plan: Plan | None, step: tuple | None, began: float) -> Action:
    """One action: `step` as given (a replay), or the plan's next (a live student)."""
    if step is None:
        step = plan.next(student)
    at = time.perf_counter() - began
    if step[0] == "method":
        family, title = step[1], step[2]

        async def method() -> list[Run]:
            runs = []
            if student.current("lab_family") != family:
                runs += await student.select("lab_family", family)
            chosen = title or plan.pick_method(student)
            if student.current("lab_method") != chosen:
                runs += await student.select("lab_method", chosen)
            student.chosen = chosen
            return runs

        student.chosen = title
        a = await timed(student, "method", method, at)
        a.detail = ("method", family, student.chosen)
    else:
        a = await timed(student, step[0], lambda: student.do(step), at, detail=step)
    if plan is not None:
        plan.steps.append(a.detail)
    return a


# ------------------------------------------------------------------------------------------------ the class

@dataclass
class Tally:
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    samples: list[tuple] = field(default_factory=list)  # (seconds, RSS MB, server CPU s, actions done)
    plans: dict[int, list] = field(default_factory=dict)
    wall: float = 0.0  # seconds the class took
    auto_reruns: int = 0  # timed fragment reruns the students' pages asked for (st.fragment(run_every=…))
    killed_at: float | None = None  # seconds into the class when a replica was killed (--kill-at)
    keys: dict[int, str] = field(default_factory=dict)  # student -> nginx's affinity cookie
    client_cpu: float = 0.0  # CPU seconds this generator used (it shares the machine with the server)


def restored(before: tuple, after: tuple) -> tuple[tuple, str | None]:
    """(the reconnect's detail, an error or None): the page, address and label lines after a reconnect are those
    before it. A student's uploaded photos stay on the replica that took them (in memory, never on disk), and a
    link cannot carry them (the Mixing Lab's link box says so): when the address had no `img`, the new replica
    shows the default photos, with the rest of the address the same."""
    if after == before:
        return ("reconnect",), None
    drop = lambda q: "&".join(p for p in q.split("&") if not p.startswith("img="))  # noqa: E731
    if before[0] == "mixing_lab" and "img=" not in before[1] and (after[0], drop(after[1])) == (before[0], before[1]):
        return ("reconnect", "uploads lost"), None
    return ("reconnect",), f"the view was not restored: {before} before, {after} after"


async def student_life(base: str, index: int, pool, tally: Tally, began: float, deadline: float, think: tuple,
                       seed: int, delay: float, steps: list | None = None, max_actions: int = 10_000,
                       timeout: float = RUN_TIMEOUT, reconnect: bool = False) -> None:
    """One student: waits `delay`, opens the app, then acts until `deadline` (or `max_actions`, or the end of
    `steps` when replaying), thinking `think` seconds between actions. With `reconnect`, a websocket the server
    closes is opened again at once, as the browser's page does (replicas behind nginx); otherwise the student
    stops there (its page would say the connection is lost)."""
    rng = random.Random(seed * 7919 + index)
    think_rng = random.Random(seed * 104729 + index)
    await asyncio.sleep(delay)
    s = Student(base, index, pool, timeout)
    plan = Plan(rng, index, seed) if steps is None else None
    try:
        a = await timed(s, "open", lambda: s.open(), time.perf_counter() - began, detail=("open",))
        tally.actions.append(a)
        if a.error:
            return
        tally.keys[index] = s.key
        count = 0
        todo = list(steps) if steps is not None else None
        while count < max_actions and time.perf_counter() < deadline and (todo is None or todo):
            pause = think_rng.uniform(*think)
            if time.perf_counter() + pause >= deadline:
                break
            try:
                await asyncio.wait_for(s.lost.wait(), pause)
            except asyncio.TimeoutError:
                a = await act(s, plan, todo.pop(0) if todo is not None else None, began)
                tally.actions.append(a)
                count += 1
                if not (a.error and s.lost.is_set()):
                    continue
                a.interrupted = True  # the socket closed under it
            if not reconnect:
                break  # the socket is gone: this student's page would show "connection lost"
            lost_at, view = s.lost_at, s.view()
            a = await timed(s, "reconnect", s.reconnect, lost_at - began, detail=("reconnect",))
            a.since_lost = time.perf_counter() - lost_at
            if a.error is None:
                a.detail, a.error = restored(view, s.view())
            tally.actions.append(a)
            if a.error:
                break
    finally:
        if plan is not None:
            tally.plans[index] = plan.steps
        await s.close()
        tally.errors += [f"student {index}: {e}" for e in s.background]
        tally.auto_reruns += s.auto_reruns


async def monitor(pids: list[int], tally: Tally, began: float, stop_at: asyncio.Event, every: float = 1.0,
                  killed: set[int] = frozenset()) -> None:
    """Sample the servers' RSS and CPU (summed over the replicas; a replica killed on purpose keeps the CPU it
    had used and no memory)."""
    used: dict[int, float] = {}
    while not stop_at.is_set():
        if pids:
            rss = 0.0
            for pid in pids:
                try:
                    rss += rss_mb(pid)
                    used[pid] = cpu_seconds(pid)
                except (FileNotFoundError, ProcessLookupError, RuntimeError):
                    if pid not in killed:
                        tally.errors.append(f"the server's process {pid} is gone")
                        return
            tally.samples.append((time.perf_counter() - began, rss, sum(used.values()), len(tally.actions)))
        try:
            await asyncio.wait_for(stop_at.wait(), every)
        except asyncio.TimeoutError:
            pass


async def classroom(base: str, students: int, seconds: float, think: tuple, seed: int, ramp: float,
                    pid: int | list[int] | None = None, plans: dict | None = None, max_actions: int = 10_000,
                    timeout: float = RUN_TIMEOUT, kill: tuple | None = None) -> Tally:
    """`students` students on `base` for `seconds` (after a ramp of `ramp` seconds over which they arrive), or,
    with `plans` (student -> steps), each doing its steps. `pid`: the server's process (or the replicas'). `kill`:
    (seconds into the class, a function that picks a replica and returns its pid and a function that kills it);
    the students then reconnect as their pages would."""
    tally = Tally()
    pids = [] if pid is None else [pid] if isinstance(pid, int) else list(pid)
    killed: set[int] = set()
    began = time.perf_counter()
    deadline = began + ramp + seconds
    stop_at = asyncio.Event()

    async def killer() -> None:
        await asyncio.sleep(kill[0])
        pid, now = kill[1]()
        killed.add(pid)
        tally.killed_at = time.perf_counter() - began
        await asyncio.get_running_loop().run_in_executor(None, now)

    cpu0 = time.process_time()
    with ThreadPoolExecutor(max_workers=min(64, 4 + 4 * students)) as pool:
        watch = asyncio.create_task(monitor(pids, tally, began, stop_at, killed=killed))
        murder = asyncio.create_task(killer()) if kill else None
        try:
            await asyncio.gather(*(student_life(base, i, pool, tally, began, deadline, think, seed,
                                                ramp * i / max(1, students), None if plans is None else plans[i],
                                                max_actions, timeout, reconnect=kill is not None)
                                   for i in range(students)))
        finally:
            stop_at.set()
            await watch
            if murder is not None:
                murder.cancel()
    tally.wall = time.perf_counter() - began
    tally.client_cpu = time.process_time() - cpu0
    return tally


# ------------------------------------------------------------------------------------------------- reports

def ms(v: float | None) -> str:
    return "–" if v is None else f"{1000 * v:.0f}"


def summary(tally: Tally, students: int, log_text: str | None = None, log_path: Path | None = None) -> dict:
    acts = tally.actions
    errors = [f"student {a.student} {a.kind} at {a.at:.1f} s: {a.error}" for a in acts
              if a.error and not a.interrupted] + tally.errors
    if log_text is not None:
        tracebacks = log_text.count("Traceback")
        if tracebacks:
            errors.append(f"{tracebacks} traceback(s) in the server log" + (f" ({log_path})" if log_path else ""))
    kinds = {}
    for kind in KINDS + ("reconnect",):
        got = [a for a in acts if a.kind == kind and a.error is None]
        if not got and not any(a.kind == kind for a in acts):
            continue
        t = [a.server_s for a in got]
        kinds[kind] = {"n": len(got), "errors": sum(1 for a in acts if a.kind == kind and a.error),
                       "p50": pct(t, 50), "p95": pct(t, 95), "p99": pct(t, 99),
                       "finished_p50": pct([a.finished_s for a in got], 50),
                       "runs": sum(a.runs for a in got), "media": sum(a.media for a in got),
                       "media_kb": sum(a.media_kb for a in got), "messages": sum(a.messages for a in got)}
    wall = tally.wall or 1.0
    work = [a for a in acts if a.kind not in ("open", "reconnect") and not a.interrupted]
    return {"students": students, "seconds": wall, "actions": len(work), "per_second": len(work) / wall,
            "auto_reruns": tally.auto_reruns,
            "kinds": kinds, "errors": errors, "samples": tally.samples, "killed_at": tally.killed_at,
            "client_cores": tally.client_cpu / wall,
            "interrupted": [f"student {a.student} {a.kind} at {a.at:.1f} s: {a.error}" for a in acts if a.interrupted],
            "reconnects": [{"student": a.student, "lost_at": a.at, "since_lost": a.since_lost, "error": a.error,
                            "uploads_lost": "uploads lost" in a.detail,
                            "since_kill": None if tally.killed_at is None or a.since_lost is None
                            else a.at + a.since_lost - tally.killed_at} for a in acts if a.kind == "reconnect"],
            "all": {"p50": pct([a.server_s for a in work if a.error is None], 50),
                    "p95": pct([a.server_s for a in work if a.error is None], 95),
                    "p99": pct([a.server_s for a in work if a.error is None], 99)}}


def print_summary(r: dict, title: str) -> None:
    print(f"### {title}")
    print()
    print(f"{r['students']} students for {r['seconds']:.0f} s: {r['actions']} actions after opening "
          f"({r['per_second']:.2f} per second), {len(r['errors'])} errors"
          + (f"; their pages also asked for {r['auto_reruns']} timed fragment reruns (run_every)." if r["auto_reruns"]
             else "."))
    print()
    print("| action | n | errors | p50 (ms) | p95 (ms) | p99 (ms) | of it to script_finished, p50 (ms) | runs | "
          "media files | media KB | messages back |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, k in r["kinds"].items():
        print(f"| {kind} | {k['n']} | {k['errors']} | {ms(k['p50'])} | {ms(k['p95'])} | {ms(k['p99'])} | "
              f"{ms(k['finished_p50'])} | {k['runs']} | {k['media']} | {k['media_kb']:.0f} | {k['messages']} |")
    a = r["all"]
    print(f"| **every action but open** | {r['actions']} | | {ms(a['p50'])} | {ms(a['p95'])} | {ms(a['p99'])} | | | | | |")
    print()
    print("(An action's time: per run it asked for, from its rerun_script sent to its script_finished, with every "
          "media file the run referenced fetched meanwhile or after (the union of those spans), summed over the "
          "action's runs: a method switch to another family is two runs; an upload adds its request for file URLs "
          "and its PUT. \"Of it to script_finished\": the runs alone.)")
    print()
    for e in r["errors"][:20]:
        print(f"- error: {e}")
    if len(r["errors"]) > 20:
        print(f"- … and {len(r['errors']) - 20} more")
    aff = r.get("affinity")
    if aff:
        placed = ", ".join(f"{n} on {addr}" for addr, n in sorted(aff["per_replica"].items()))
        wandered = f": {aff['wandered'][:5]}" if aff["wandered"] else ""
        unseen = f", {len(aff['unseen'])} not seen in the log" if aff["unseen"] else ""
        print(f"Affinity (nginx's access log, every request of each student): {placed}; {aff['stayed']} stayed on "
              f"their replica throughout, {aff['moved']} moved once from the killed replica to another, "
              f"{len(aff['wandered'])} went elsewhere{wandered}{unseen}.")
        print()
    if r.get("killed_at") is not None:
        back = [x for x in r["reconnects"] if x["error"] is None]
        kill_s = sorted(x["since_kill"] for x in back)
        lost_s = sorted(x["since_lost"] for x in back)
        print(f"A replica was killed {r['killed_at']:.1f} s into the class: {len(r['reconnects'])} students lost their "
              f"websocket and {len(back)} were drawn again by another replica, from the kill "
              f"p50 {pct(kill_s, 50) or 0:.2f} s, max {max(kill_s, default=0):.2f} s (from their socket's close "
              f"p50 {pct(lost_s, 50) or 0:.2f} s, max {max(lost_s, default=0):.2f} s); {len(r['interrupted'])} actions "
              "were in flight on the killed replica (not counted as errors; the page redraws them). "
              f"{sum(x['uploads_lost'] for x in back)} of them had uploaded photos in their slots: those stayed on the "
              "killed replica, and the new one shows the default photos (the rest of the address restored).")
        for e in r["interrupted"][:10]:
            print(f"- interrupted: {e}")
        print()
    samples = r["samples"]
    if samples:
        print("| seconds | server RSS (MB) | server CPU (cores, since the row before) | actions done |")
        print("|---:|---:|---:|---:|")
        stride = max(1, len(samples) // 12)
        rows = samples[::stride] + ([samples[-1]] if (len(samples) - 1) % stride else [])
        prev = rows[0]
        for row in rows:
            dt = row[0] - prev[0]
            cores = (row[2] - prev[2]) / dt if dt > 0 else 0.0
            print(f"| {row[0]:.0f} | {row[1]:.0f} | {cores:.2f} | {row[3]} |")
            prev = row
        whole = (samples[-1][2] - samples[0][2]) / max(1e-9, samples[-1][0] - samples[0][0])
        print()
        print(f"Server: RSS {samples[0][1]:.0f} → {samples[-1][1]:.0f} MB (peak {max(s[1] for s in samples):.0f}), "
              f"{whole:.2f} cores on average over the run; this generator, on the same machine, "
              f"{r.get('client_cores', 0):.2f} cores.")
    print()


# -------------------------------------------------------------------------------------------------- server

class Server:
    """The app on a free loopback port (scripts/serve.py), its log in a temporary file; or `replicas` of it behind
    Debian's nginx configured as deploy/nginx ships it (scripts/replicas.py); or a given URL. With `clock`, the
    server writes its own times of each session's messages (bench/classroom_hook)."""

    def __init__(self, url: str | None = None, pid: int | None = None, log: Path | None = None, clock: bool = False,
                 replicas: int = 1):
        self.url, self.pid, self.log_path, self.proc, self.own = url, pid, log, None, url is None
        self.clock: ServerClock | None = None
        self._clock = clock
        self.replicas: dict[str, object] = {}  # address -> process, behind nginx
        self.nginx = None
        self.n = replicas
        self.killed: str | None = None  # the replica kill() chose

    def __enter__(self) -> "Server":
        if self.own:
            self.log_path = Path(tempfile.mkstemp(prefix="mixviz_classroom_", suffix=".log")[1])
            self._log = open(self.log_path, "wb")
            env = None
            if self._clock:
                self.clock = ServerClock(Path(tempfile.mkstemp(prefix="mixviz_classroom_clock_", suffix=".log")[1]))
                env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "bench" / "classroom_hook")]
                                                     + [p for p in [os.environ.get("PYTHONPATH")] if p]),
                       "CLASSROOM_HOOK_LOG": str(self.clock.path)}
            if self.n > 1:
                from replicas import Nginx, start_replicas

                # one replica per core where the machine has them, as deploy/ runs them: each replica's torch and
                # JPEG threads sized to its share (MIXVIZ_CORES), not to the whole machine
                share = max(1, (os.cpu_count() or 1) // self.n)
                self.replicas = start_replicas(self.n, self._log, env={**(env or {}), "MIXVIZ_CORES": str(share)})
                self.nginx = Nginx(list(self.replicas))
                self.url, self.pid = self.nginx.url, [p.pid for p in self.replicas.values()]
            else:
                port = free_port()
                self.proc = serve(port, log=self._log, env=env)
                self.url, self.pid = f"http://127.0.0.1:{port}", self.proc.pid
        return self

    def busiest(self) -> str:
        """The replica that has served the most students so far (distinct affinity keys in nginx's log)."""
        from replicas import served_by

        keys: dict[str, set] = {addr: set() for addr in self.replicas}
        for line in self.nginx.lines():
            keys.setdefault(served_by(line), set()).add(line["key"])
        return max(self.replicas, key=lambda addr: len(keys[addr]))

    def kill(self) -> tuple[int, object]:
        """(pid, a function that kills it at once) for the busiest replica, as a crash or an OOM kill would."""
        self.killed = self.busiest()
        proc = self.replicas[self.killed]

        def now() -> None:
            proc.kill()
            proc.wait(timeout=10)

        return proc.pid, now

    def __exit__(self, *exc) -> None:
        if self.nginx is not None:
            self.nginx.close()
        if self.replicas:
            from replicas import stop_replicas

            stop_replicas(self.replicas)
        if self.proc is not None:
            stop(self.proc)
        if self.own:
            self._log.close()
            if self.clock is not None:
                self.clock.path.unlink(missing_ok=True)
            if "Traceback" not in (self.log_text() or ""):
                self.log_path.unlink(missing_ok=True)  # kept only when it has something to read

    def log_text(self) -> str | None:
        if self.log_path is None or not Path(self.log_path).exists():
            return None
        return Path(self.log_path).read_text(errors="replace")


class ServerClock:
    """The server's own times (bench/classroom_hook): when each session's requests arrived and its
    script_finished and file URLs left, and when each media file or upload was asked for and answered; on
    CLOCK_MONOTONIC, the clock of time.perf_counter here and of Chromium's DevTools timestamps."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> tuple[dict[str, list], dict[str, list]]:
        """(session id -> its events (time, what, detail)), (path -> [[asked, answered, taken], …])."""
        sessions, events, http = {}, {}, {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            t, conn, what, detail = line.split(" ", 3)
            if conn == "http":
                path, answered = detail.rsplit(" ", 1)
                http.setdefault(path, []).append([float(t), float(answered), False])
                continue
            if what == "session":
                sessions[conn] = detail
            events.setdefault(conn, []).append((float(t), what, detail))
        return {sessions[c]: ev for c, ev in events.items() if c in sessions}, http

    @staticmethod
    def part(events: list, http: dict, spans: list, requests: bool = True) -> float | None:
        """An action's server part as the server saw it: per run, from its rerun_script arriving to its
        script_finished leaving, with each media request and PUT the client made for it from arriving to answered
        (matched by path: the first not yet matched that arrived after the client asked) and an upload's
        file_urls_request to its answer; their union, summed over the runs. Without `requests`, the runs only."""
        total = 0.0
        for start, _, extra, urls in spans:
            came = next((t for t, what, detail in events if what == "in" and detail == "rerun_script" and t >= start), None)
            left = next((t for t, what, detail in events if what == "finished" and t > start
                         and detail != "FINISHED_EARLY_FOR_RERUN"), None)
            if came is None or left is None:
                return None
            parts = [(came, left)]
            for asked, _, path in (extra if requests else []):
                seen = next((h for h in sorted(http.get(path, [])) if not h[2] and h[0] >= asked - 0.001), None)
                if seen is None:
                    continue  # answered from the browser's own cache: the server did nothing
                seen[2] = True
                parts.append((seen[0], seen[1]))
            if urls and requests:
                came_u = next((t for t, what, detail in events if what == "in" and detail == "file_urls_request"
                               and t >= urls[0]), None)
                left_u = next((t for t, what, _ in events if what == "urls" and t > urls[0]), None)
                if came_u is None or left_u is None:
                    return None
                parts.append((came_u, left_u))
            total += covered(parts)
        return total


def pin(pid: int, cores: set[int]) -> None:
    """Keep every thread of process `pid` (and the threads they start later) on `cores`."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cores)
        except (ProcessLookupError, FileNotFoundError):  # the thread ended meanwhile
            pass


async def warm(base: str, timeout: float = RUN_TIMEOUT) -> float:
    """One visitor opens the Mixing Lab (the model loads, the first pictures are made); seconds it took."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        s = Student(base, -1, pool, timeout)
        try:
            runs = await s.open()
            for r in runs:
                await asyncio.gather(*r.media)
        finally:
            await s.close()
    return time.perf_counter() - start


def affinity(lines: list[dict], keys: dict[int, str], killed: str | None) -> dict:
    """From nginx's access log: which replica served each student's requests, in order. A student `stayed` when
    one replica served all of them, `moved` when they went from the killed replica to another once, and
    `wandered` otherwise (with the sequence)."""
    from replicas import served_by

    by_key: dict[str, list[str]] = {}
    for line in lines:
        by_key.setdefault(line["key"], []).append(served_by(line))
    out = {"stayed": 0, "moved": 0, "wandered": [], "unseen": [], "per_replica": {}}
    for student, key in sorted(keys.items()):
        seq = by_key.get(key)
        if not key or not seq:
            out["unseen"].append(student)
            continue
        changes = [seq[0]] + [b for a, b in zip(seq, seq[1:]) if b != a]
        out["per_replica"][seq[0]] = out["per_replica"].get(seq[0], 0) + 1
        if len(changes) == 1:
            out["stayed"] += 1
        elif len(changes) == 2 and changes[0] == killed:
            out["moved"] += 1
        else:
            out["wandered"].append((student, changes))
    return out


async def churn(base: str, sessions: int, at_once: int, pid: int, seed: int, wait: float, first: int = 0) -> dict:
    """Sessions that go away: `sessions` students, `at_once` at a time, each opens the app, does three actions of
    its plan (an upload for one in four) and closes its tab. The server's RSS: before (warm), at its peak, and
    every 5 s for `wait` seconds after the last one left (a closed session's state, media and uploads go after
    server.disconnectedSessionTTL). With `first`, a first round of that many sessions comes and goes before (the
    caches, which are bounded, fill), and the RSS `wait` seconds after it is a second baseline."""
    rss: list[tuple[float, float]] = []
    began = time.perf_counter()
    errors: list[str] = []
    done = 0
    gate = asyncio.Semaphore(at_once)

    async def one(i: int, pool) -> None:
        nonlocal done
        async with gate:
            rng = random.Random(seed * 7919 + i)
            s = Student(base, i, pool)
            plan = Plan(rng, i, seed)
            try:
                a = await timed(s, "open", lambda: s.open(), 0.0)
                steps = [None, None, ("upload", f"churn{i}.jpg", i) if i % 4 == 0 else None]
                acts = [a] + [await act(s, plan, step, began) for step in steps] if a.error is None else [a]
                errors.extend(f"session {i} {x.kind}: {x.error}" for x in acts if x.error)
            finally:
                await s.close()
                errors.extend(f"session {i}: {e}" for e in s.background)
                done += 1

    async def watch(stop_at: asyncio.Event) -> None:
        while not stop_at.is_set():
            rss.append((time.perf_counter() - began, rss_mb(pid)))
            try:
                await asyncio.wait_for(stop_at.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    baseline = rss_mb(pid)
    filled = None
    stop_at = asyncio.Event()
    with ThreadPoolExecutor(max_workers=min(64, 4 + 4 * at_once)) as pool:
        if first:
            await asyncio.gather(*(one(sessions + i, pool) for i in range(first)))
            await asyncio.sleep(wait)
            filled = rss_mb(pid)
            began = time.perf_counter()
        watcher = asyncio.create_task(watch(stop_at))
        await asyncio.gather(*(one(i, pool) for i in range(sessions)))
        left = time.perf_counter() - began
        after = []
        while time.perf_counter() - began < left + wait:
            await asyncio.sleep(5)
            after.append((time.perf_counter() - began - left, rss_mb(pid)))
        stop_at.set()
        await watcher
    return {"sessions": sessions, "at_once": at_once, "baseline": baseline, "peak": max(r for _, r in rss),
            "left_at": left, "after": after, "errors": errors, "first": first, "filled": filled}


def print_churn(r: dict) -> None:
    print(f"### Sessions that go away: {r['sessions']} sessions, {r['at_once']} at a time")
    print()
    print(f"Each opened the app, did three actions (an upload for one in four) and closed its tab; all had left "
          f"after {r['left_at']:.0f} s. {len(r['errors'])} errors.")
    print()
    print("| | server RSS (MB) | against the warm baseline |")
    print("|---|---:|---:|")
    base = r["baseline"]
    filled = r.get("filled")
    print(f"| warm baseline (the server warmed, before the first) | {base:.0f} | |")
    if filled:
        print(f"| after a first round of {r['first']} sessions came and went (the bounded caches filled) | "
              f"{filled:.0f} | {100 * (filled / base - 1):+.1f}% |")
    print(f"| peak | {r['peak']:.0f} | {100 * (r['peak'] / base - 1):+.1f}% |")
    stride = max(1, len(r["after"]) // 8)
    for t, v in r["after"][::stride] + ([r["after"][-1]] if (len(r["after"]) - 1) % stride else []):
        print(f"| {t:.0f} s after the last left | {v:.0f} | {100 * (v / base - 1):+.1f}% |"
              + (f" {100 * (v / filled - 1):+.1f}% against the round before |" if filled else ""))
    print()
    for e in r["errors"][:10]:
        print(f"- error: {e}")


def run_churn(args) -> dict:
    with Server(args.url, args.pid, args.server_log) as server:
        asyncio.run(warm(server.url))
        return asyncio.run(churn(server.url, args.churn, args.at_once, server.pid, args.seed, args.wait,
                                 args.first))


def run_class(args) -> dict:
    with Server(args.url, args.pid, args.server_log, replicas=args.replicas) as server:
        warm_s = asyncio.run(warm(server.url)) if not args.no_warm else None
        before = len(server.log_text() or "")
        kill = None
        if args.kill_at is not None:
            kill = (args.ramp + args.kill_at, server.kill)
        tally = asyncio.run(classroom(server.url, args.students, args.seconds, tuple(args.think), args.seed,
                                      args.ramp, server.pid, kill=kill))
        log = server.log_text()
        r = summary(tally, args.students, None if log is None else log[before:], server.log_path)
        r["warm_s"] = warm_s
        r["url"] = server.url if not server.own else (
            f"{args.replicas} replicas behind nginx (scripts/replicas.py)" if args.replicas > 1
            else "own server (scripts/serve.py)")
        r["plans"] = tally.plans
        if server.nginx is not None:
            r["affinity"] = affinity(server.nginx.lines(), tally.keys, server.killed)
            r["replicas"] = list(server.replicas)
    return r


def capacity(args) -> dict:
    """One class per size in `args.capacity`, each on fresh servers: the largest that keeps p95 ≤ --target
    seconds with no error (the issue's 5-minute runs at an action every ~5 s: --seconds 300 --think 3 7)."""
    rows = []
    for n in args.capacity:
        args.students = n
        r = run_class(args)
        print_summary(r, f"{n} students, {args.replicas} replica(s)")
        samples = r["samples"]
        cores = (samples[-1][2] - samples[0][2]) / max(1e-9, samples[-1][0] - samples[0][0]) if samples else 0.0
        rows.append({"students": n, "per_second": r["per_second"], "p50": r["all"]["p50"], "p95": r["all"]["p95"],
                     "p99": r["all"]["p99"], "errors": len(r["errors"]), "cores": cores,
                     "client_cores": r["client_cores"], "peak_mb": max((x[1] for x in samples), default=0.0),
                     "ok": not r["errors"] and r["all"]["p95"] is not None and r["all"]["p95"] <= args.target})
    print(f"### Capacity: {args.replicas} replica(s), {args.seconds:.0f} s per class after a {args.ramp:.0f} s ramp, "
          f"an action every {args.think[0]:g}–{args.think[1]:g} s per student")
    print()
    print(f"| students | actions per second | p50 / p95 / p99 (ms) | errors | server cores (mean) | generator cores | "
          f"server RSS peak (MB) | p95 ≤ {1000 * args.target:.0f} ms and no error |")
    print("|---:|---:|---|---:|---:|---:|---:|---|")
    for x in rows:
        print(f"| {x['students']} | {x['per_second']:.2f} | {ms(x['p50'])} / {ms(x['p95'])} / {ms(x['p99'])} | "
              f"{x['errors']} | {x['cores']:.2f} | {x['client_cores']:.2f} | {x['peak_mb']:.0f} | "
              f"{'yes' if x['ok'] else 'no'} |")
    held = [x["students"] for x in rows if x["ok"]]
    print()
    print(f"Largest class held: {max(held) if held else 'none of these'}.")
    return {"rows": rows, "largest": max(held) if held else None}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=120, help="how long they act after the ramp")
    ap.add_argument("--think", type=float, nargs=2, default=[3.0, 10.0], metavar=("MIN", "MAX"),
                    help="seconds between a student's actions (uniform, seeded)")
    ap.add_argument("--ramp", type=float, default=10.0, help="the students arrive over this many seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="an app already served (default: start one)")
    ap.add_argument("--pid", type=int, help="with --url: the server's process id, for its CPU and RSS")
    ap.add_argument("--server-log", type=Path, help="with --url: the server's log, for its tracebacks")
    ap.add_argument("--replicas", type=int, default=1, help="serve this many replicas behind nginx (deploy/nginx's "
                    "config, scripts/replicas.py) and send the class through it")
    ap.add_argument("--kill-at", type=float, help="with --replicas 2 or more: kill the busiest replica this many "
                    "seconds after the ramp; its students reconnect as their pages would")
    ap.add_argument("--churn", type=int, metavar="N", help="instead of a class: N sessions that each open the app, "
                    "act three times and leave; the server's RSS before, at the peak and after")
    ap.add_argument("--at-once", type=int, default=10, help="--churn: sessions open at the same time")
    ap.add_argument("--wait", type=float, default=150, help="--churn: seconds to watch the RSS after the last left")
    ap.add_argument("--first", type=int, default=0, help="--churn: a first round of this many sessions before")
    ap.add_argument("--capacity", type=int, nargs="+", metavar="N", help="one class per size N, each on fresh "
                    "servers, and a table of which kept p95 within --target with no error")
    ap.add_argument("--target", type=float, default=1.0, help="--capacity: the p95 a class must keep (seconds)")
    ap.add_argument("--no-warm", action="store_true", help="no visit before the class (the first student meets a cold server)")
    ap.add_argument("--validate", action="store_true", help="compare with the same actions in Chromium")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 3, 5], help="--validate: sessions per round")
    ap.add_argument("--actions", type=int, default=16, help="--validate: actions per session")
    ap.add_argument("--no-pin", action="store_true", help="--validate: leave the server and the clients on every "
                    "core (by default the server runs on the first core, the browser or the generator on the others)")
    ap.add_argument("--poll", type=int, metavar="N", help="instead of a class: a live class poll (bench/classroom_poll.py): "
                    "a lecturer opens it from the Mixing Lab, N students answer it, PostgreSQL stores it")
    ap.add_argument("--within", type=float, default=30.0, help="--poll: each student answers within this many seconds")
    ap.add_argument("--arrive", type=float, default=5.0, help="--poll: the students open the join link over this many seconds")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        ap.error("this load generator only talks to a server on this machine (127.0.0.1)")
    if args.replicas > 1 and args.url:
        ap.error("--replicas starts its own servers and nginx: leave out --url")
    if args.kill_at is not None and args.replicas < 2:
        ap.error("--kill-at needs --replicas 2 or more (someone must take the students over)")
    if args.poll and args.url:
        ap.error("--poll starts its own PostgreSQL and servers: leave out --url")
    if args.poll:
        from classroom_poll import print_poll, run_poll

        result = run_poll(args)
        print_poll(result)
    elif args.validate:
        from classroom_browser import validate

        if args.think == [3.0, 10.0]:
            args.think = [1.0, 3.0]
        result = validate(args)
    elif args.capacity:
        result = capacity(args)
    elif args.churn:
        result = run_churn(args)
        print_churn(result)
    else:
        result = run_class(args)
        print_summary(result, f"A class at once: {args.students} students, the Streamlit protocol, no browser")
        if result.get("warm_s") is not None:
            print(f"(Before the class one visitor opened the Mixing Lab: {result['warm_s']:.1f} s.)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
