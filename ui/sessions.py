"""Closed sessions give their memory back.

Streamlit 1.67 keeps a session whose websocket closed for `server.disconnectedSessionTTL` seconds (so that a
student whose network blinks comes back to it), in a TTL cache. When that time is up, or when more than 128
closed sessions wait, the cache drops the session without shutting it down (streamlit/streamlit#12506): the
session's uploaded files and its references to media files (the pictures it was shown, the live picture's
sweeps) stay in the server's managers for good. Measured here: 60 sessions that left held 229 media files
(42 MB) and 31 uploads two minutes after their TTL.

`shut_down_expired(runtime)` swaps that cache for one that shuts a session down when it expires or is pushed
out (and only then: a session taken back by its returning browser is left alone), and returns a coroutine that
reaps expired sessions every `every` seconds (the cache itself reaps only when another session closes).
Streamlit's own shutdown then frees the files, and the reaper hands the freed memory back to the system
(glibc's malloc_trim; with at most two malloc arenas, `fewer_arenas`, far more of it can be handed back).
This reaches into the runtime's private attributes (no public hook exists); asgi.py calls it once at start-up,
and tests/test_sessions_memory.py checks it against the installed Streamlit."""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc

from streamlit.runtime.caching.ttl_cache import TTLCache

DEFAULT_EVERY = 15.0  # seconds between reaps


class ShuttingDownCache(TTLCache):
    """A TTL cache of SessionInfo that shuts a session down when it expires or is evicted, never when it is
    deleted (a browser resuming its session deletes it from the storage before using it again)."""

    shut = 0  # sessions shut down so far

    def expire(self, at_time: float | None = None):
        removed = super().expire(at_time)
        for _, info in removed:
            self._shut(info)
        return removed

    def _evict_lru(self, reason):
        info = super()._evict_lru(reason)
        self._shut(info)
        return info

    def _shut(self, info) -> None:
        session = getattr(info, "session", None)
        if session is not None:
            session.shutdown()
            self.shut += 1


def _libc():
    """glibc, or None elsewhere (musl, macOS): malloc_trim and mallopt are glibc's."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


LIBC = _libc()
M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def fewer_arenas(n: int = 2) -> None:
    """At most `n` malloc arenas. glibc gives threads up to 8 per core; Streamlit runs every script run on a new
    thread, and memory freed in an arena that other threads' objects pin is never returned."""
    if LIBC is not None:
        LIBC.mallopt(M_ARENA_MAX, n)


def give_back() -> None:
    """Collect cycles, then return malloc's free pages to the system (glibc keeps them otherwise)."""
    gc.collect()
    if LIBC is not None:
        LIBC.malloc_trim(0)


def shut_down_expired(runtime, every: float | None = None):
    """Install the cache in `runtime`'s session storage (keeping its size and TTL) and return the reaping
    coroutine, to be run on the server's event loop (AppSession.shutdown must run there). It reaps every
    `every` seconds (default: 15, or a quarter of a shorter TTL)."""
    storage = runtime._session_mgr._session_storage
    old = storage._cache
    every = every or min(DEFAULT_EVERY, max(1.0, old.ttl / 4))
    new = ShuttingDownCache(maxsize=old.maxsize, ttl=old.ttl)
    for key, info in list(old.items()):
        new[key] = info
    storage._cache = new

    async def reap() -> None:
        given = 0
        while True:
            await asyncio.sleep(every)
            new.expire()
            if new.shut != given:  # here or when another session closed
                given = new.shut
                give_back()

    return reap()
