"""How many CPU threads torch uses, for a block of code.

Small tensors gain nothing from more threads, and on busy cores extra threads only wait for each other:
the Theory page's toy trained ten times slower on 2 threads than on one, and a Mixing Lab rerun took
150–200 ms on 2 threads against 55–90 ms on one beside a browser. A network's forward pass is big enough
to gain from every core. OpenMP's thread count belongs to the calling thread, so other threads (other
sessions of the app) keep theirs.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import torch



def _cores() -> int:
    """The cores this process may use: MIXVIZ_CORES when set (a container whose CPU limit is below the host's
    cores, or several replicas sharing one machine: torch would otherwise start a thread per host core in
    each), else the cores it is allowed to run on."""
    given = os.environ.get("MIXVIZ_CORES", "").strip()
    if given:
        try:
            n = int(given)
        except ValueError:
            raise ValueError(f"MIXVIZ_CORES must be a whole number of cores, not {given!r}") from None
        if n < 1:
            raise ValueError(f"MIXVIZ_CORES must be at least 1, not {n}")
        return n
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


CORES = _cores()


@contextmanager
def torch_threads(n: int = 1):
    """Run torch on `n` CPU threads inside the block; the old count comes back afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
