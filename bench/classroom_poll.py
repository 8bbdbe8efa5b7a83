"""A live class poll at once (issue 15), without browsers: a lecturer and N students speaking Streamlit's own protocol
to replicas behind nginx that share one PostgreSQL, and a replica killed while the room answers.

    python bench/classroom.py --poll 100 [--replicas 2] [--kill-at 15] [--within 30] [--arrive 5] [--seed 0]
                              [--json out.json]

What happens, as in a lecture hall:
  * a PostgreSQL of its own (scripts/postgres.py) and `--replicas` app servers (MIXVIZ_DATABASE_URL its URL,
    MIXVIZ_POLL_TOKEN a fresh random secret, MIXVIZ_CORES each replica's share of the machine) behind Debian's nginx
    configured as deploy/nginx ships it (scripts/replicas.py); one replica is served directly, with no nginx;
  * the lecturer opens the Mixing Lab at LAB, types the token into "Ask the room" (`lab_poll_token`), clicks
    `lab_poll_open`, lands on `/poll?code=…&host=1` and stays there: its live fragment reruns every second (a
    timer per fragment at a fixed period, as the browser's setInterval) and draws "### N answers · poll open";
  * N students open the join link `/poll?code=…`, arriving over `--arrive` seconds, and each answers once at a
    random moment within `--within` seconds of the first arrival, as a person does: slider 0 (`poll_…_share0`,
    a rerun), slider 1 (a rerun), how sure (`poll_…_sure`, a rerun), then Send (`poll_…_send`); shares are
    random in steps of 5 summing to at most 100, with a pause of 0.3–1.2 s between the steps. The answer is
    acknowledged when the page shows "Your answer is saved". Their pages keep their own timed fragment (the
    poll's state, at its fragment's run_every) until the end;
  * `--kill-at` seconds after the first arrival the busiest replica (the most students in nginx's log) is
    SIGKILLed. Its pages reconnect as the browser's do (Student.reconnect: a new websocket, a new session on the
    other replica, one run with every widget's state); a student whose answer was not acknowledged yet sees the
    page come back without "saved" and answers again (its sliders keep their values: the widget states travel
    with the run), one whose answer was acknowledged must see "saved" again (its id is the `mixviz_student`
    cookie that asgi.py sets on the first HTTP response and the websocket carries, so the new replica finds its
    row). A lecturer page that comes back asking for the token again gets it typed again (and the report says so).

It measures: answers acknowledged against rows in PostgreSQL for the poll (0 lost, 0 duplicated), acknowledged
students without a row, errors (exception elements and error alerts on any page, websocket closes outside the kill,
runs that do not finish within POLL_TIMEOUT, tracebacks in the servers' log; a "too fast" refusal after a retry is
counted apart), the answer latency (Send's rerun_script sent → the "saved" run's script_finished), and the
answer-to-visible time on the lecturer's page: for each answer, from its click (and from its acknowledgement) to the
first lecturer update whose count reaches the answer's rank in the database's order (created_at, id; read after the
run). And where everyone was served (nginx's access log), the reconnects, and the servers' and PostgreSQL's CPU
and RSS. Benchmarks print tables and never assert timings; tests/test_poll_class.py runs a small class."""
from __future__ import annotations

import asyncio
import os
import random
import re
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from classroom import Server, affinity, ms  # noqa: E402  (puts scripts/ and bench/ on sys.path)
from live import pct  # noqa: E402
from serve import free_port, rss_mb, serve  # noqa: E402
from streamlit_client import Action, Run, Student, StudentError, timed  # noqa: E402

LAB = "method=mixup&img=boat,airplane&lam=0.7&seed=3"  # the Mixing Lab view the lecturer polls the room on
SAVED = "Your answer is saved"  # the student page's acknowledgement (views/poll.py)
TOO_FAST = "You answered less than"  # TooFast's message (ui/poll_store.py)
COOKIE = "mixviz_student"  # ui/student_id.py: the anonymous student id
COUNT = re.compile(r"^### (\d+) answers? · poll (open|closed)")  # the lecturer's live line
POLL_TIMEOUT = 30.0  # seconds a run may take before it counts as an error
LECTURER_TIMEOUT = 120.0  # the lecturer's first runs (the Mixing Lab computes its picture and the network's view)
PAUSE = (0.3, 1.2)  # seconds a student takes between two steps of its answer
CATCH_UP = 15.0  # seconds the lecturer's page is given after the last answer to show every one


# ------------------------------------------------------------------------------------------------- a tab

class PollTab(Student):
    """A Student whose timed fragment reruns keep a fixed period, as the browser's setInterval does (the base
    client waits its interval after each run), and that notes every count the lecturer's live line shows."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.counts: list[tuple[float, int]] = []  # (perf_counter when the line arrived, the count it showed)
        self.timed_runs: list[tuple[float, float]] = []  # each timed fragment rerun: (perf_counter sent, seconds to script_finished)

    def _auto(self, fragment_id: str, interval: float) -> None:
        held = self.auto.get(fragment_id)
        if not fragment_id or interval <= 0 or (held and held[0] == interval):
            return
        self._stop_auto([fragment_id])
        lost = self.lost

        async def every() -> None:
            due = time.perf_counter() + interval
            while not self.closing:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                due += interval
                async with self.busy:
                    if self.closing or lost.is_set():
                        return
                    self.problems = []
                    try:
                        run = await self._rerun(fragment_id=fragment_id, auto=True)
                        self.auto_reruns += 1
                        self.timed_runs.append((run.start, run.finished - run.start))
                    except StudentError as e:
                        self._problem(str(e))
                    if not lost.is_set():  # a run the kill cut is the reconnect's to redo, not an error
                        self.background += [f"timed rerun of fragment {fragment_id[:8]}: {p}" for p in self.problems]
                    self.problems = []
                due = max(due, time.perf_counter())  # a run longer than the period: the next one at once

        self.auto[fragment_id] = (interval, asyncio.get_running_loop().create_task(every()))

    def _delta(self, msg) -> None:
        super()._delta(msg)
        d = msg.delta
        if d.WhichOneof("type") == "new_element" and d.new_element.WhichOneof("type") == "markdown":
            m = COUNT.match(d.new_element.markdown.body)
            if m:
                self.counts.append((time.perf_counter(), int(m.group(1))))

    async def _read(self) -> None:
        try:
            await super()._read()
        finally:  # a run the kill cut, whose waiter (a timed rerun) was cancelled first: its error is the reconnect's
            if self.done is not None and self.done.done() and not self.done.cancelled():
                self.done.exception()

    def alerts(self) -> list[str]:
        return [el.body for _, (t, el, _) in sorted(self.tree.items()) if t == "alert"]

    def saved(self) -> bool:
        return any(SAVED in body for body in self.alerts())

    def live(self) -> bool:
        """The lecturer's live line is on the page."""
        return any(COUNT.match(t) for t in self.markdown())

    async def choose(self, key: str, option: str) -> Run:
        """A segmented control's option, as the frontend sends it (string_array_value with the option's text)."""
        return await self.change(key, string_array_value=[option])

    def picked(self, key: str) -> str | None:
        found = self.widget(key)
        s = found and self.states.get(found[1].id)
        return s.string_array_value.data[0] if s and s.WhichOneof("value") == "string_array_value" and \
            s.string_array_value.data else None


# ----------------------------------------------------------------------------------------------- the people

@dataclass
class Pupil:
    index: int
    arrival: float  # seconds after the class began
    start_at: float  # when it starts answering (slider 0)
    pauses: tuple[float, float, float]
    shares: tuple[int, int]  # percent, steps of 5, summing to at most 100
    sure: int  # 1..5
    cookie: str = ""
    key: str = ""  # nginx's affinity cookie
    clicks: list[float] = field(default_factory=list)  # perf_counter of each Send's rerun_script
    acked_at: float | None = None  # perf_counter when "saved" was drawn
    latency: float | None = None  # the acknowledged click → its "saved" run finished
    ack_via: str = ""  # "click", or "reconnect" (the page that came back showed the answer saved)
    sends: int = 0
    too_fast: int = 0
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)


@dataclass
class Class:
    began: float = 0.0
    code: str = ""
    token: str = ""
    killed_at: float | None = None  # seconds after the class began
    pupils: list[Pupil] = field(default_factory=list)
    lecturer_actions: list[Action] = field(default_factory=list)
    lecturer_errors: list[str] = field(default_factory=list)
    lecturer_key: str = ""
    token_asked_again: list[float] = field(default_factory=list)  # seconds after the class began
    tab: PollTab | None = None  # the lecturer's
    samples: list[dict] = field(default_factory=list)
    auto_reruns: int = 0
    timed_runs: list[tuple[float, float]] = field(default_factory=list)  # the students' timed fragment reruns (sent, s)
    load: tuple = ()  # the machine's load averages (1, 5, 15 min) at the start and at the end of the class
    client_cpu: float = 0.0
    wall: float = 0.0


def plan(n: int, seed: int, arrive: float, within: float) -> list[Pupil]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        arrival = arrive * i / max(1, n)
        s0 = 5 * rng.randint(0, 20)
        s1 = 5 * rng.randint(0, 20 - s0 // 5)
        if rng.random() < 0.5:
            s0, s1 = s1, s0
        pauses = tuple(rng.uniform(*PAUSE) for _ in range(3))
        click = rng.uniform(min(within, arrival + 3.0), within)  # the moment of Send
        out.append(Pupil(i, arrival, max(arrival + 1.0, click - sum(pauses)), pauses, (s0, s1), rng.randint(1, 5)))
    return out


async def idle(s: Student, until: float | None = None, end: asyncio.Event | None = None) -> bool:
    """Wait until `until` (perf_counter), or `end`, whichever first; True when the websocket closed meanwhile."""
    if s.lost.is_set():
        return True
    waits = [asyncio.ensure_future(s.lost.wait())] + ([asyncio.ensure_future(end.wait())] if end else [])
    timeout = None if until is None else max(0.0, until - time.perf_counter())
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
    return s.lost.is_set()


async def back(s: Student, c: Class, who: str, errors: list[str]) -> Action:
    """The page reconnects as the browser's does; the Action says how long it took from the socket's close."""
    lost_at = s.lost_at
    a = await timed(s, "reconnect", s.reconnect, lost_at - c.began, detail=("reconnect",))
    a.since_lost = time.perf_counter() - lost_at
    if a.error:
        errors.append(f"{who} reconnect: {a.error}")
    return a


def classify(p: Pupil, a: Action, s: Student, what: str) -> str:
    """'ok', 'lost' (its replica died under it), 'too fast' (TooFast's message alone) or 'error'."""
    if a.error is None:
        return "ok"
    if s.lost.is_set():
        a.interrupted = True
        p.interrupted.append(f"{what} at {a.at:.1f} s: {a.error}")
        return "lost"
    problems = [x for x in a.error.split("; ") if x]
    if problems and all(TOO_FAST in x for x in problems):
        p.too_fast += 1
        return "too fast"
    p.errors.append(f"{what} at {a.at:.1f} s: {a.error}")
    return "error"


async def answer(s: PollTab, p: Pupil, c: Class, rng: random.Random) -> str:
    """Slider 0, slider 1, how sure, Send, with a person's pauses: only what the page does not show already (after
    a reconnect the sliders keep their values). 'acked', 'lost', 'error'."""
    code = c.code
    labels = [o.content for o in s.widget(f"poll_{code}_sure")[1].options] if s.widget(f"poll_{code}_sure") else []
    steps = []
    for k in (0, 1):
        key = f"poll_{code}_share{k}"
        if (s.current(key) or [None])[0] != p.shares[k]:
            steps.append((f"share{k}", lambda key=key, v=p.shares[k]: s.change(key, double_array_value=[float(v)])))
    if labels and s.picked(f"poll_{code}_sure") != labels[p.sure - 1]:
        steps.append(("sure", lambda: s.choose(f"poll_{code}_sure", labels[p.sure - 1])))
    for j, (what, step) in enumerate(steps):
        a = await timed(s, what, lambda step=step: asyncio.gather(step()), time.perf_counter() - c.began)
        p.actions.append(a)
        verdict = classify(p, a, s, what)
        if verdict != "ok":
            return "lost" if verdict == "lost" else "error"
        if await idle(s, time.perf_counter() + p.pauses[min(j, 2)]):
            return "lost"
    for _ in range(5):  # a refusal (too fast) is sent again a second later, as the message asks
        p.sends += 1
        a = await timed(s, "send", lambda: asyncio.gather(s.change(f"poll_{code}_send", trigger_value=True)),
                        time.perf_counter() - c.began)
        p.actions.append(a)
        if a.spans:
            p.clicks.append(a.spans[0][0])
        elif s.run is not None:
            p.clicks.append(s.run.start)
        verdict = classify(p, a, s, "send")
        if verdict == "too fast":
            if await idle(s, time.perf_counter() + 1.0 + rng.uniform(0, 0.5)):
                return "lost"
            continue
        if verdict != "ok":
            return "lost" if verdict == "lost" else "error"
        if not s.saved():
            p.errors.append(f"send at {a.at:.1f} s: the page did not say the answer was saved ({s.alerts()})")
            return "error"
        start, finished = a.spans[-1][0], a.spans[-1][1]
        p.acked_at, p.latency, p.ack_via = finished, finished - start, "click"
        return "acked"
    p.errors.append("five sends refused as too fast")
    return "error"


async def pupil_life(p: Pupil, base: str, c: Class, pool, end: asyncio.Event, seed: int) -> None:
    rng = random.Random(seed * 7919 + p.index)
    await asyncio.sleep(max(0.0, c.began + p.arrival - time.perf_counter()))
    s = PollTab(base, p.index, pool, POLL_TIMEOUT)
    try:
        a = await timed(s, "open", lambda: s.open("poll", f"code={c.code}"), time.perf_counter() - c.began)
        p.actions.append(a)
        p.cookie, p.key = s.http.cookies.get(COOKIE, ""), s.key
        if a.error:
            p.errors.append(f"open: {a.error}")
            return
        if s.widget(f"poll_{c.code}_send") is None:
            p.errors.append(f"open: no Send button on the student's page ({s.markdown()[:3]})")
            return
        while p.acked_at is None:
            if await idle(s, c.began + p.start_at):
                verdict = "lost"
            else:
                verdict = await answer(s, p, c, rng)
            if verdict == "error":
                return
            if verdict == "lost":
                r = await back(s, c, f"student {p.index}", p.errors)
                p.actions.append(r)
                if r.error:
                    return
                if s.saved() and p.clicks:  # its click landed before the replica died: the new one shows it saved
                    p.acked_at, p.ack_via = time.perf_counter(), "reconnect"
                    p.latency = p.acked_at - p.clicks[-1]
        while not end.is_set():  # the page stays open; the poll's state at its run_every
            if await idle(s, None, end):
                r = await back(s, c, f"student {p.index}", p.errors)
                p.actions.append(r)
                if r.error:
                    return
                if not s.saved():
                    p.errors.append(f"after the reconnect at {r.at:.1f} s the page does not show the saved answer "
                                    f"(cookie {p.cookie[:6]}…)")
    finally:
        await s.close()
        p.errors += [f"{e}" for e in s.background]
        c.auto_reruns += s.auto_reruns
        c.timed_runs += s.timed_runs


async def lecturer(base: str, c: Class, pool, opened: asyncio.Event, end: asyncio.Event) -> None:
    """Opens the poll from the Mixing Lab ("Ask the room"), then watches the live answers until `end`."""
    s = c.tab = PollTab(base, -1, pool, LECTURER_TIMEOUT)
    errors = c.lecturer_errors
    try:
        steps = [("open", lambda: s.open("", LAB)),
                 ("token", lambda: asyncio.gather(s.change("lab_poll_token", string_value=c.token))),
                 ("open poll", lambda: asyncio.gather(s.change("lab_poll_open", trigger_value=True)))]
        for what, act in steps:
            a = await timed(s, what, act, 0.0)
            c.lecturer_actions.append(a)
            if a.error:
                errors.append(f"lecturer {what}: {a.error}")
                return
        q = dict(part.split("=", 1) for part in s.query.split("&") if "=" in part)
        if s.page_path != "poll" or "code" not in q or not s.live():
            errors.append(f"lecturer: the poll did not open (page {s.page_path}, address {s.query!r}, {s.markdown()[:4]})")
            return
        c.code, c.lecturer_key = q["code"], s.key
        s.timeout = POLL_TIMEOUT
        opened.set()
        while not end.is_set():
            if not await idle(s, None, end):
                continue
            r = await back(s, c, "lecturer", errors)
            c.lecturer_actions.append(r)
            if r.error:
                return
            if not s.live() and s.widget("poll_host_token") is not None:  # a new session: the token is asked again
                c.token_asked_again.append(time.perf_counter() - c.began)
                a = await timed(s, "token again", lambda: asyncio.gather(s.change("poll_host_token", string_value=c.token)),
                                time.perf_counter() - c.began)
                c.lecturer_actions.append(a)
                if a.error:
                    errors.append(f"lecturer token again: {a.error}")
            if not s.live():
                errors.append(f"lecturer: after the reconnect the page does not show the live answers ({s.markdown()[:3]})")
                return
    finally:
        if not opened.is_set():
            opened.set()  # nobody waits for a poll that will not open
        await s.close()
        errors += list(s.background)
        c.auto_reruns += s.auto_reruns


# ---------------------------------------------------------------------------------------------- the servers

class PollServers(Server):
    """`replicas` app servers behind nginx (or one, directly) with the poll's environment: Server's own start,
    with `env` added to every replica's."""

    def __init__(self, replicas: int, env: dict[str, str]):
        super().__init__(replicas=replicas)
        self.env = env
        self.keys: set[str] = set()  # the affinity cookies of the lecturer and the students (busiest())

    def __enter__(self) -> PollServers:
        self.log_path = Path(tempfile.mkstemp(prefix="mixviz_poll_class_", suffix=".log")[1])
        self._log = open(self.log_path, "wb")
        env = {**self.env, "MIXVIZ_CORES": str(max(1, (os.cpu_count() or 1) // self.n))}
        try:
            if self.n > 1:
                from replicas import Nginx, start_replicas

                self.replicas = start_replicas(self.n, self._log, env=env)
                self.nginx = Nginx(list(self.replicas))
                self.url, self.pid = self.nginx.url, [p.pid for p in self.replicas.values()]
            else:
                port = free_port()
                self.proc = serve(port, log=self._log, env=env)
                self.url, self.pid = f"http://127.0.0.1:{port}", [self.proc.pid]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def busiest(self) -> str:
        """The replica that serves the most of `keys` (the class's affinity cookies) in nginx's log: Server's own
        counts every key, the ones nginx drew for requests without a cookie (its own health checks) too."""
        from replicas import served_by

        held: dict[str, set] = {addr: set() for addr in self.replicas}
        for line in self.nginx.lines():
            if line["key"] in self.keys:
                held.setdefault(served_by(line), set()).add(line["key"])
        return max(self.replicas, key=lambda addr: len(held[addr]))

    def processes(self) -> dict[str, int]:
        """address -> pid of every server (one served directly: its own address)."""
        if self.replicas:
            return {addr: p.pid for addr, p in self.replicas.items()}
        return {self.url.split("//", 1)[1]: self.proc.pid}


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (every process, this session's or not), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(postmaster: int) -> tuple[float, float]:
    """(CPU seconds, RSS MB) of a PostgreSQL server: the postmaster with its ended children (cutime, cstime) and its
    live ones (a backend per connection, the background workers). RSS counts shared buffers once per process that
    touched them: an upper bound."""
    tick = os.sysconf("SC_CLK_TCK")
    f = _stat(postmaster)
    cpu = sum(int(x) for x in f[11:15]) / tick
    rss = rss_mb(postmaster)
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            g = _stat(int(d.name))
            if int(g[1]) == postmaster:
                cpu += (int(g[11]) + int(g[12])) / tick
                rss += rss_mb(int(d.name))
        except (FileNotFoundError, ProcessLookupError, RuntimeError, ValueError, IndexError):
            pass
    return cpu, rss


async def sampler(c: Class, procs: dict[str, int], postmaster: int | None, stop_at: asyncio.Event,
                  every: float = 1.0) -> None:
    """Each second: every replica's CPU seconds and RSS (None once killed), PostgreSQL's, the lecturer's count."""
    from serve import cpu_seconds

    loop = asyncio.get_running_loop()

    def one() -> dict:
        row = {"t": time.perf_counter() - c.began, "replicas": {}, "machine": machine_cpu(),
               "generator": time.process_time()}
        for addr, pid in procs.items():
            try:
                row["replicas"][addr] = (cpu_seconds(pid), rss_mb(pid))
            except (FileNotFoundError, ProcessLookupError, RuntimeError):
                row["replicas"][addr] = None
        if postmaster:
            try:
                row["postgres"] = postgres_cpu(postmaster)
            except (FileNotFoundError, ProcessLookupError, RuntimeError):
                row["postgres"] = None
        return row

    while not stop_at.is_set():
        row = await loop.run_in_executor(None, one)
        row["shown"] = shown(c)
        row["acked"] = sum(p.acked_at is not None for p in c.pupils)
        c.samples.append(row)
        try:
            await asyncio.wait_for(stop_at.wait(), every)
        except asyncio.TimeoutError:
            pass


async def lecture(base: str, n: int, seed: int, arrive: float, within: float, token: str, server: PollServers,
                  postmaster: int | None, kill_at: float | None) -> Class:
    """The lecturer opens the poll; then the class begins: the students arrive and answer, a replica is killed at
    `kill_at`; it ends once every student is acknowledged (or failed) and the lecturer's page shows every answer."""
    c = Class(token=token)
    c.pupils = plan(n, seed, arrive, within)
    opened, end, stop_at = asyncio.Event(), asyncio.Event(), asyncio.Event()
    cpu0, load0 = time.process_time(), os.getloadavg()
    with ThreadPoolExecutor(max_workers=64) as pool:
        c.began = time.perf_counter()  # until the poll opens, the lecturer's own time
        host = asyncio.create_task(lecturer(base, c, pool, opened, end))
        await opened.wait()
        if not c.code:
            await host
            return c
        c.began = time.perf_counter()

        async def killer() -> None:
            await asyncio.sleep(kill_at)
            server.keys = {p.key for p in c.pupils if p.key} | {c.lecturer_key}
            _, now = server.kill()
            c.killed_at = time.perf_counter() - c.began
            await asyncio.get_running_loop().run_in_executor(None, now)

        murder = asyncio.create_task(killer()) if kill_at is not None else None
        watcher = asyncio.create_task(sampler(c, server.processes(), postmaster, stop_at))
        pupils = [asyncio.create_task(pupil_life(p, base, c, pool, end, seed)) for p in c.pupils]
        try:
            deadline = c.began + within + 60.0  # the answers, and their retries after the kill
            while time.perf_counter() < deadline and not all(p.acked_at or p.errors or t.done()
                                                             for p, t in zip(c.pupils, pupils)):
                await asyncio.sleep(0.2)
            # the lecturer's page gets CATCH_UP seconds to show every answer; the class lasts --within at least
            acked = sum(p.acked_at is not None for p in c.pupils)
            until = max(time.perf_counter() + CATCH_UP, c.began + within + 2.0)
            while time.perf_counter() < until and not host.done():
                if time.perf_counter() > c.began + within + 2.0 and shown(c) >= acked:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.5)  # one more update: a row written and never acknowledged would show up here
        finally:
            end.set()
            for p, got in zip(c.pupils, await asyncio.gather(*pupils, return_exceptions=True)):
                if isinstance(got, BaseException):
                    p.errors.append(failed(got))
            got = (await asyncio.gather(host, return_exceptions=True))[0]
            if isinstance(got, BaseException):
                c.lecturer_errors.append(failed(got))
            stop_at.set()
            await watcher
            if murder is not None:
                murder.cancel()
    c.load = (os.getloadavg(), load0)[::-1]
    c.wall = time.perf_counter() - c.began
    c.client_cpu = time.process_time() - cpu0
    return c


def failed(e: BaseException) -> str:
    """A bug of this generator, as an error with where it happened."""
    import traceback

    where = traceback.extract_tb(e.__traceback__)[-1]
    return f"the generator failed: {type(e).__name__}: {e} ({Path(where.filename).name}:{where.lineno})"


def shown(c: Class) -> int:
    """The count the lecturer's page shows now (-1 before its first)."""
    return c.tab.counts[-1][1] if c.tab is not None and c.tab.counts else -1


# ------------------------------------------------------------------------------------------------- reports

def stored(url: str, code: str) -> list[dict]:
    """The poll's rows in PostgreSQL, in the database's answer order (created_at, then id: results()'s order)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT a.id, a.student, a.created_at, a.updated_at FROM answers a JOIN polls p "
                                     "ON p.id = a.poll_id WHERE p.code = :code ORDER BY a.created_at, a.id"),
                                {"code": code}).all()
    finally:
        engine.dispose()
    return [{"id": r.id, "student": r.student, "created_at": r.created_at, "updated_at": r.updated_at} for r in rows]


def stats(values: list[float]) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "max": max(values, default=None)}


def phases(runs: list[tuple[float, float]], c: Class, after: float = 5.0) -> dict:
    """Timed reruns before the kill, in the `after` seconds after it (the killed replica's pages all reconnecting to
    the other), and later."""
    if c.killed_at is None:
        return {"all": stats([d for _, d in runs])}
    k = c.began + c.killed_at
    return {"before": stats([d for t, d in runs if t < k]), "kill": stats([d for t, d in runs if k <= t < k + after]),
            "later": stats([d for t, d in runs if t >= k + after])}


def report(c: Class, rows: list[dict], log_text: str | None, server: PollServers, args) -> dict:
    pupils = c.pupils
    acked = [p for p in pupils if p.acked_at is not None]
    rank = {r["student"]: k for k, r in enumerate(rows, 1)}
    acked_ids = {p.cookie for p in acked}
    lost = [p.index for p in acked if p.cookie not in rank]
    strays = [r["student"][:6] for r in rows if r["student"] not in acked_ids]
    students_in_rows = len({r["student"] for r in rows})
    errors = [f"student {p.index} {e}" for p in pupils for e in p.errors] + [f"{e}" for e in c.lecturer_errors]
    if not c.code:
        errors.append("the poll did not open")
    if log_text:
        n = log_text.count("Traceback")
        if n:
            errors.append(f"{n} traceback(s) in the servers' log ({server.log_path})")
    no_cookie = [p.index for p in pupils if not p.cookie]
    if no_cookie:
        errors.append(f"{len(no_cookie)} students got no {COOKIE} cookie: {no_cookie[:10]}")
    # answer-to-visible on the lecturer's page
    counts = c.tab.counts if c.tab is not None else []
    from_click, from_ack, never = [], [], []
    per_answer = []
    for p in acked:
        k = rank.get(p.cookie)
        if k is None:
            continue
        click = p.clicks[-1]
        seen = next((t for t, n in counts if n >= k and t >= click), None)
        if seen is None:
            never.append(p.index)
            continue
        from_click.append(seen - click)
        from_ack.append(seen - p.acked_at)
        per_answer.append({"student": p.index, "rank": k, "click": click - c.began, "acked": p.acked_at - c.began,
                           "visible": seen - c.began})
    if never:
        errors.append(f"{len(never)} acknowledged answers never reached the lecturer's count: students {never[:10]}")
    final = counts[-1][1] if counts else None
    gaps = [b[0] - a[0] for a, b in zip(counts, counts[1:])]
    # where everyone was served, and the reconnects
    aff, killed_students, lecturer_on = None, [], None
    if server.nginx is not None:
        from replicas import served_by

        lines = server.nginx.lines()
        keys = {p.index: p.key for p in pupils if p.key}
        aff = affinity(lines, keys, server.killed)
        first: dict[str, str] = {}
        for line in lines:
            first.setdefault(line["key"], served_by(line))
        killed_students = [p.index for p in pupils if p.key and first.get(p.key) == server.killed]
        lecturer_on = first.get(c.lecturer_key)
    reconnects = []
    for who, acts in [(p.index, p.actions) for p in pupils] + [(-1, c.lecturer_actions)]:
        for a in acts:
            if a.kind == "reconnect":
                reconnects.append({"who": who, "lost_at": a.at, "since_lost": a.since_lost, "error": a.error,
                                   "since_kill": None if c.killed_at is None or a.since_lost is None
                                   else a.at + a.since_lost - c.killed_at})
    came_back = {x["who"] for x in reconnects if x["error"] is None and x["who"] >= 0}
    not_back = [i for i in killed_students if i not in came_back]
    if c.killed_at is not None and not_back:
        errors.append(f"{len(not_back)} students of the killed replica did not come back: {not_back[:10]}")
    resent = [p.index for p in acked if p.interrupted and p.ack_via == "click"]
    # CPU and memory
    cpu = []
    s = c.samples
    for a, b in zip(s, s[1:]):
        dt = b["t"] - a["t"]
        row = {"t": b["t"], "shown": b["shown"], "acked": b["acked"], "replicas": {}}
        for addr in b["replicas"]:
            x, y = a["replicas"].get(addr), b["replicas"].get(addr)
            row["replicas"][addr] = None if x is None or y is None else ((y[0] - x[0]) / dt, y[1])
        if a.get("postgres") and b.get("postgres"):
            row["postgres"] = ((b["postgres"][0] - a["postgres"][0]) / dt, b["postgres"][1])
        row["machine"] = (b["machine"] - a["machine"]) / dt
        ours = sum(v[0] for v in row["replicas"].values() if v) + (row["postgres"][0] if "postgres" in row else 0.0) \
            + (b["generator"] - a["generator"]) / dt
        row["others"] = max(0.0, row["machine"] - ours)  # other processes on this machine (nginx, other work)
        cpu.append(row)
    mean = {}
    for addr in server.processes():
        got = [r["replicas"][addr][0] for r in cpu if r["replicas"].get(addr)]
        mean[addr] = {"cores_mean": sum(got) / len(got) if got else None, "cores_max": max(got, default=None),
                      "rss_peak": max((r["replicas"][addr][1] for r in cpu if r["replicas"].get(addr)), default=None)}
    pg = [r["postgres"][0] for r in cpu if r.get("postgres")]
    machine = [r["machine"] for r in cpu]
    others = [r["others"] for r in cpu]
    return {
        "cores": os.cpu_count(), "machine_cores_mean": sum(machine) / len(machine) if machine else None,
        "others_cores_mean": sum(others) / len(others) if others else None, "others_cores_max": max(others, default=None),
        "load_average": c.load,
        "students": len(pupils), "replicas": args.replicas, "kill_at": args.kill_at, "within": args.within,
        "arrive": args.arrive, "seed": args.seed, "code": c.code, "seconds": c.wall, "killed_at": c.killed_at,
        "opened": sum(1 for p in pupils if p.actions and p.actions[0].error is None),
        "acknowledged": len(acked), "by_click": sum(p.ack_via == "click" for p in acked),
        "by_reconnect": sum(p.ack_via == "reconnect" for p in acked), "rows": len(rows),
        "students_in_rows": students_in_rows, "lost": lost, "strays": strays,
        "duplicated": len(rows) - len(acked) if len(rows) > len(acked) else 0,
        "updated_rows": sum(1 for r in rows if r["updated_at"] != r["created_at"]),
        "errors": errors, "too_fast": sum(p.too_fast for p in pupils), "resent": resent,
        "interrupted": [f"student {p.index} {x}" for p in pupils for x in p.interrupted],
        "latency": stats([p.latency for p in acked if p.ack_via == "click"]),
        "latency_reconnect": stats([p.latency for p in acked if p.ack_via == "reconnect"]),
        "visible_from_click": stats(from_click), "visible_from_ack": stats(from_ack),
        "never_visible": never, "lecturer_final": final, "lecturer_updates": len(counts),
        "lecturer_gap": stats(gaps), "per_answer": per_answer,
        "token_asked_again": c.token_asked_again, "lecturer_on": lecturer_on, "killed": server.killed,
        "affinity": aff, "killed_students": killed_students, "reconnects": reconnects, "not_back": not_back,
        "auto_reruns": c.auto_reruns, "client_cores": c.client_cpu / max(1e-9, c.wall), "cpu": cpu, "servers": mean,
        "postgres_cores_mean": sum(pg) / len(pg) if pg else None, "postgres_cores_max": max(pg, default=None),
        "postgres_rss_peak": max((r["postgres"][1] for r in cpu if r.get("postgres")), default=None),
        "student_timed": stats([d for _, d in c.timed_runs]),
        "student_timed_phases": phases(c.timed_runs, c),
        "lecturer_timed": stats([d for _, d in (c.tab.timed_runs if c.tab is not None else [])]),
        "lecturer_timed_phases": phases(c.tab.timed_runs if c.tab is not None else [], c),
        "steps": {kind: stats([a.finished_s for p in pupils for a in p.actions if a.kind == kind and a.error is None])
                  for kind in ("open", "share0", "share1", "sure", "send")},
    }


def print_poll(r: dict) -> None:
    kill = f", the busiest killed {r['killed_at']:.1f} s in" if r["killed_at"] is not None else ""
    print(f"### A class poll: {r['students']} students, {r['replicas']} replica(s)"
          f"{' behind nginx' if r['replicas'] > 1 else ''}, PostgreSQL{kill}")
    print()
    print(f"Poll {r['code']}: students arrived over {r['arrive']:g} s and each answered once within {r['within']:g} s "
          f"(two sliders, how sure, Send); the class took {r['seconds']:.0f} s. Errors: {len(r['errors'])}.")
    print()
    lat, vc, va, gap = r["latency"], r["visible_from_click"], r["visible_from_ack"], r["lecturer_gap"]
    row = lambda s: f"{ms(s['p50'])} / {ms(s['p95'])} / {ms(s['p99'])} / {ms(s['max'])}"  # noqa: E731
    print("| | |")
    print("|---|---:|")
    print(f"| students whose join link opened | {r['opened']} of {r['students']} |")
    print(f"| answers acknowledged (\"Your answer is saved\") | {r['acknowledged']} ({r['by_click']} at their click, "
          f"{r['by_reconnect']} shown saved by the page that came back after the kill) |")
    print(f"| rows in PostgreSQL for the poll (distinct students) | {r['rows']} ({r['students_in_rows']}) |")
    print(f"| lost (acknowledged, no row) / duplicated (rows over acknowledged) / rows of no acknowledged student | "
          f"{len(r['lost'])} / {r['duplicated']} / {len(r['strays'])} |")
    print(f"| rows changed by a second answer | {r['updated_rows']} |")
    print(f"| errors | {len(r['errors'])} |")
    print(f"| \"too fast\" refusals (a send again within 1 s; counted apart) | {r['too_fast']} |")
    print(f"| answers sent again after the kill cut them | {len(r['resent'])} |")
    print(f"| answer latency, Send → \"saved\" drawn: p50 / p95 / p99 / max (ms) | {row(lat)} (n {lat['n']}) |")
    if r["latency_reconnect"]["n"]:
        print(f"| the same, acknowledged by the page that came back (ms) | {row(r['latency_reconnect'])} "
              f"(n {r['latency_reconnect']['n']}) |")
    print(f"| answer → visible on the lecturer's page, from the click: p50 / p95 / p99 / max (ms) | {row(vc)} "
          f"(n {vc['n']}) |")
    print(f"| the same from the acknowledgement (ms) | {row(va)} |")
    print(f"| the lecturer's live line: updates, the time between two: p50 / p95 / p99 / max (ms) | "
          f"{r['lecturer_updates']}: {row(gap)} |")
    print(f"| its last count | {r['lecturer_final']} |")
    print()
    verdict = vc["p95"] is not None and vc["p95"] <= 2.0
    print(f"p95 answer-to-visible (from the click) {ms(vc['p95'])} ms: {'within' if verdict else 'OVER'} the 2 s target.")
    print()
    steps = r["steps"]
    print("Each student step, rerun_script sent → script_finished, p50 / p95 / max (ms): "
          + "; ".join(f"{k} {ms(v['p50'])} / {ms(v['p95'])} / {ms(v['max'])}" for k, v in steps.items() if v["n"])
          + f". Timed fragment reruns: the students' poll state (views.poll.STUDENT_EVERY) {ms(r['student_timed']['p50'])} / "
          f"{ms(r['student_timed']['p95'])} / {ms(r['student_timed']['max'])}, the lecturer's live answers (views.poll.LIVE_EVERY) "
          f"{ms(r['lecturer_timed']['p50'])} / {ms(r['lecturer_timed']['p95'])} / {ms(r['lecturer_timed']['max'])}.")
    if r["killed_at"] is not None:
        print("The same by phase, before the kill / the 5 s after it / later, p50 / p95 (ms): students "
              + "; ".join(f"{ms(v['p50'])} / {ms(v['p95'])}" for v in r["student_timed_phases"].values())
              + "; lecturer " + "; ".join(f"{ms(v['p50'])} / {ms(v['p95'])}" for v in r["lecturer_timed_phases"].values())
              + ".")
    print()
    for e in r["errors"][:20]:
        print(f"- error: {e}")
    if len(r["errors"]) > 20:
        print(f"- … and {len(r['errors']) - 20} more")
    aff = r["affinity"]
    if aff:
        placed = ", ".join(f"{n} on {addr}" for addr, n in sorted(aff["per_replica"].items()))
        print(f"Placement (nginx's access log): {placed}; the lecturer on {r['lecturer_on']}. {aff['stayed']} students "
              f"stayed on their replica, {aff['moved']} moved once from the killed replica to another, "
              f"{len(aff['wandered'])} went elsewhere{': ' + str(aff['wandered'][:5]) if aff['wandered'] else ''}"
              f"{', ' + str(len(aff['unseen'])) + ' not seen in the log' if aff['unseen'] else ''}.")
        print()
    if r["killed_at"] is not None:
        back = [x for x in r["reconnects"] if x["error"] is None and x["since_kill"] is not None]
        pk = sorted(x["since_kill"] for x in back)
        pl = sorted(x["since_lost"] for x in back)
        lect = [x for x in back if x["who"] == -1]
        print(f"The kill: {r['killed']} ({len(r['killed_students'])} students"
              f"{' and the lecturer' if r['lecturer_on'] == r['killed'] else ''}). {len(back)} pages were drawn again by "
              f"the other replica, from the kill p50 {pct(pk, 50) or 0:.2f} s, max {max(pk, default=0):.2f} s (from their "
              f"socket's close p50 {pct(pl, 50) or 0:.2f} s, max {max(pl, default=0):.2f} s); "
              f"{len(r['not_back'])} of the killed replica's students did not come back. {len(r['interrupted'])} steps "
              "were in flight on the killed replica (not errors: the page redraws, the student answers again)."
              + (f" The lecturer's page came back in {lect[0]['since_kill']:.2f} s" if lect else "")
              + (f" and asked for the token again ({len(r['token_asked_again'])}×; typed again at once)"
                 if r["token_asked_again"] else ""))
        for e in r["interrupted"][:8]:
            print(f"- interrupted: {e}")
        print()
    cpu = r["cpu"]
    if cpu:
        addrs = list(r["servers"])
        print("| s | " + " | ".join(f"{a} cores / RSS MB" for a in addrs) + " | PostgreSQL cores | the machine's busy "
              "cores (others') | acknowledged | lecturer shows |")
        print("|---:|" + "---:|" * len(addrs) + "---:|---:|---:|---:|")
        stride = max(1, len(cpu) // 14)
        for x in cpu[::stride] + ([cpu[-1]] if (len(cpu) - 1) % stride else []):
            cells = [("killed" if x["replicas"].get(a) is None else f"{x['replicas'][a][0]:.2f} / {x['replicas'][a][1]:.0f}")
                     for a in addrs]
            pgc = f"{x['postgres'][0]:.2f}" if x.get("postgres") else "–"
            print(f"| {x['t']:.0f} | " + " | ".join(cells) + f" | {pgc} | {x['machine']:.2f} ({x['others']:.2f}) | "
                  f"{x['acked']} | {x['shown']} |")
        print()
        print("Servers over the class: " + "; ".join(
            f"{a} {v['cores_mean']:.2f} cores mean, {v['cores_max']:.2f} max, RSS peak {v['rss_peak']:.0f} MB"
            for a, v in r["servers"].items() if v["cores_mean"] is not None)
              + (f"; PostgreSQL {r['postgres_cores_mean']:.2f} cores mean, {r['postgres_cores_max']:.2f} max"
                 if r["postgres_cores_mean"] is not None else "")
              + f"; this generator, on the same machine, {r['client_cores']:.2f} cores. The pages asked for "
              f"{r['auto_reruns']} timed fragment reruns. The machine ({r['cores']} cores) was busy "
              f"{r['machine_cores_mean']:.2f} cores on average, {r['others_cores_mean']:.2f} of them (max "
              f"{r['others_cores_max']:.2f}) other processes' (nginx, and whatever else runs here); load average "
              f"{r['load_average'][0][0]:.2f} at the start, {r['load_average'][1][0]:.2f} at the end.")
    print()


def run_poll(args) -> dict:
    from postgres import Postgres, available

    why = available()
    if why:
        raise SystemExit(f"--poll needs PostgreSQL: {why}")
    token = secrets.token_urlsafe(16)
    with Postgres({"max_connections": "200"}) as pg:
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        env = {"MIXVIZ_DATABASE_URL": pg.url, "MIXVIZ_POLL_TOKEN": token}
        with PollServers(args.replicas, env) as server:
            before = len(server.log_text() or "")
            c = asyncio.run(lecture(server.url, args.poll, args.seed, args.arrive, args.within, token, server,
                                    postmaster, args.kill_at))
            rows = stored(pg.url, c.code) if c.code else []
            log = server.log_text()
            r = report(c, rows, None if log is None else log[before:], server, args)
            r["url"] = f"{args.replicas} replicas behind nginx (scripts/replicas.py)" if args.replicas > 1 else \
                "one server (scripts/serve.py)"
    return r
