"""Pre-warm (asgi.py): a replica answers /_stcore/health only once the serving model is loaded and the default
page's pictures are made, so a health check sends no student to a cold replica. Read from Streamlit's own cache
metrics (/_stcore/metrics) at the moment health first answers, and from the first student's visit (bench/
classroom.py's protocol client): it finds the default pictures cached and computes nothing new."""
import asyncio
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from streamlit_client import Student
from serve import ROOT, free_port, stop

LAB_CACHES = ("ui.models.model", "ui.live.sweep_file", "ui.images.at_size")


def metrics(base: str) -> dict[tuple[str, str], float]:
    """{(cache, "bytes" | "hit" | "miss"): value} from Streamlit's Prometheus text."""
    text = urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=10).read().decode()
    out = {}
    for m in re.finditer(r'^cache_memory_bytes\{[^}]*cache="([^"]+)"\} (\S+)$', text, re.M):
        out[m.group(1), "bytes"] = float(m.group(2))
    for m in re.finditer(r'^cache_lookups_total\{cache="([^"]+)",[^}]*result="(hit|miss)"\} (\S+)$', text, re.M):
        out[m.group(1), m.group(2)] = float(m.group(3))
    return out


@pytest.fixture(scope="module")
def first_health():
    """The server started as `bash run.sh app` starts it, polled from its first second: (base URL, the health
    answers before the first "ok", the metrics at that first "ok", the server's log)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile("w+b", suffix=".log")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "asgi.py"), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    before, at_ok = [], None
    try:
        deadline = time.monotonic() + 120
        while at_ok is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read()
            except OSError as e:
                before.append(type(e).__name__)
                time.sleep(0.05)
                continue
            if answer == b"ok":
                at_ok = metrics(base)
            else:
                before.append(answer.decode())
        assert at_ok is not None, Path(log.name).read_text()[-3000:]
        yield base, before, at_ok, lambda: Path(log.name).read_text(errors="replace")
    finally:
        stop(proc)
        log.close()


def test_health_answers_only_once_the_model_and_the_default_pictures_are_ready(first_health):
    _, before, at_ok, log = first_health
    assert before, "health was first asked after the server was up: nothing seen while it warmed"
    assert "ok" not in before
    for cache in LAB_CACHES:  # the model, the default photos at the common size, the Mixing Lab's live sweep
        assert at_ok.get((cache, "miss"), 0) >= 1 and at_ok.get((cache, "bytes"), 0) >= 1, (cache, at_ok)
    assert re.search(r"mixviz warm: \S+ loaded in [\d.]+ s, the default page ran in [\d.]+ s; now serving", log())


def test_the_first_student_finds_the_default_pictures_made(first_health):
    base, _, at_ok, log = first_health

    async def visit():
        with ThreadPoolExecutor(max_workers=4) as pool:
            s = Student(base, 0, pool)
            try:
                runs = await s.open()
                for r in runs:
                    await asyncio.gather(*r.media)
            finally:
                await s.close()

    asyncio.run(visit())
    after = metrics(base)
    for cache in LAB_CACHES:  # looked up again, and nothing computed anew
        assert after[cache, "miss"] == at_ok[cache, "miss"], (cache, at_ok, after)
        assert after[cache, "hit"] > at_ok.get((cache, "hit"), 0), (cache, at_ok, after)
    assert "Traceback" not in log()
