"""How the server uses the machine. Threads: each script run works on one thread (app.py runs the page in
`mixviz.threads.torch_threads(1)`), and the network's forward pass takes every core (ui/models.py; Xception
307 → 147 ms on 2): see mixviz/threads.py. Memory: the garbage collector's permanent generation, below."""
from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect garbage once, then move every object alive now (modules, torch, the model: millions) into
    the collector's permanent generation. streamlit's full collection after each script run then walks
    only what runs create, in milliseconds instead of ~450 ms (on 2 cores, holding the GIL: the server
    answered nobody meanwhile). It must run: a page's functions and its globals form reference cycles,
    and without it the tensors they hold piled up (the server grew 40% in bench/soak.py's 2 minutes)."""
    gc.collect()
    gc.freeze()
