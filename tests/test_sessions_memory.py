"""Closed sessions give their memory back (ui/sessions.py). Streamlit 1.67 drops a closed session from its
storage when its time to reconnect is up without shutting it down (streamlit/streamlit#12506), so its uploads and
its media files stayed in the server for good. Checked on the cache itself, and on a served app through
Streamlit's own metrics: a student uploads a photo and leaves; once the TTL is up the uploads and media held by
the server go back to what they were before the student came. (Against app.py served without the fix, the
upload's bytes are still there.)"""
import asyncio
import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from streamlit_client import Student, photo
from serve import free_port, serve, stop

from ui.sessions import ShuttingDownCache

TTL = 12  # seconds a closed session waits for its browser; the reaper looks every TTL / 4
METRICS_TTL = 5.2  # Streamlit serves its memory metrics from a 5 s cache


@dataclass
class FakeSession:
    id: str
    shut: bool = False

    def shutdown(self) -> None:
        self.shut = True


@dataclass
class Info:
    session: FakeSession


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_expired_and_pushed_out_sessions_are_shut_down_taken_back_ones_are_not():
    clock = Clock()
    cache = ShuttingDownCache(maxsize=2, ttl=10, timer=clock)
    a, b, c, d = (Info(FakeSession(k)) for k in "abcd")
    cache["a"], cache["b"] = a, b
    del cache["b"]  # its browser came back: the session is in use again
    assert not b.session.shut
    cache["c"] = c
    cache["d"] = d  # a third closed session pushes out the oldest
    assert a.session.shut and not c.session.shut and cache.shut == 1
    clock.now = 11
    assert [k for k, _ in cache.expire()] == ["c", "d"]
    assert c.session.shut and d.session.shut and cache.shut == 3 and len(cache) == 0


_last_read = [0.0]


def held(base: str) -> dict[str, float]:
    """Bytes the server holds in uploads and media files (Streamlit's /_stcore/metrics), read fresh: after its
    5 s cache of them has run out since the last read."""
    time.sleep(max(0.0, _last_read[0] + METRICS_TTL - time.monotonic()))
    _last_read[0] = time.monotonic()
    text = urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=10).read().decode()
    out = {"UploadedFileManager": 0.0, "st_memory_media_file_storage": 0.0}
    for kind, value in re.findall(r'^cache_memory_bytes\{cache_type="([^"]+)",cache=""\} (\S+)$', text, re.M):
        out[kind] = float(value)
    return out


def test_a_student_who_left_leaves_no_upload_or_media_behind_once_the_ttl_is_up():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(port, env={"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(TTL)})
    try:
        before = held(base)

        async def visit() -> None:
            with ThreadPoolExecutor(max_workers=4) as pool:
                s = Student(base, 0, pool)
                try:
                    await s.open()
                    runs = await s.upload("student.jpg", photo(5))
                    for r in runs:
                        await asyncio.gather(*r.media)
                finally:
                    await s.close()

        asyncio.run(visit())
        left = held(base)
        assert left["UploadedFileManager"] > before["UploadedFileManager"]  # kept while the student may come back
        assert left["st_memory_media_file_storage"] > before["st_memory_media_file_storage"]
        deadline = time.monotonic() + TTL + TTL / 4 + 2 * METRICS_TTL  # the TTL, the reaper, fresh metrics
        after = held(base)
        while time.monotonic() < deadline and after != before:
            after = held(base)
        assert after["UploadedFileManager"] == before["UploadedFileManager"], (before, left, after)
        assert after["st_memory_media_file_storage"] <= before["st_memory_media_file_storage"], (before, left, after)
    finally:
        stop(proc)
