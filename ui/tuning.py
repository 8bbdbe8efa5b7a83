"""How the server uses the machine: torch threads per script run, and the garbage collector.

Threads. Each script run works on one thread (app.py calls `one_thread()` first): its tensors are small,
and with sessions and the browser sharing the cores, split ops mostly wait for each other (a Mixing Lab
rerun took 150-200 ms on 2 threads and 55-90 ms on one, in the real server beside a browser). The
network's forward pass is big enough to gain, so it gets every core (ui/store.py; Xception 307 → 147 ms
on 2). OpenMP's thread count belongs to the calling thread, so other sessions keep theirs.
"""
from __future__ import annotations

import gc
import os

import torch

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def one_thread() -> None:
    """Torch on one thread for the rest of this script run."""
    torch.set_num_threads(1)


def freeze_startup_objects() -> None:
    """Collect garbage once, then move every object alive now (modules, torch, the model: millions) into
    the collector's permanent generation. streamlit's full collection after each script run then walks
    only what runs create, in milliseconds instead of ~450 ms (on 2 cores, holding the GIL: the server
    answered nobody meanwhile). It must run: a page's functions and its globals form reference cycles,
    and without it the tensors they hold piled up (the server grew 40% in bench/soak.py's 2 minutes)."""
    gc.collect()
    gc.freeze()
