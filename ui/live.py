"""The live scrubber: a sweep of the picture (mixviz.sweep: the same draws, only one value moving) sent to the
browser once per change of method, images, seed or parameters, as one file of frames and masks behind a
media URL (ui/frames.py: JPEG frames, or exactly as two pictures and the frame at which each pixel switches)
plus a small JSON header; the component (ui/scrubber/, a custom component v2: no iframe, no build
step) swaps frames while the control is dragged and reports the value once on release.

What is swept: λ where the method has one and λ is fixed (steps of 0.02 through the current λ, and 0 and 1:
51 or 52 values); the seed where λ is drawn (a strip of 50 seeded draws, seeds in blocks of 50, each frame's
drawn λ marked); else the method's first numeric parameter (about 21 of its slider's values, through the
current one).
The file is content-addressed and cached across sessions (everyone who opens the same link shares it); the
header is a few kilobytes, sent on every run."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

import mixviz
from mixviz.threads import CORES, torch_threads
from mixviz.types import MethodSpec
from mixviz.viz.style import INPUT_COLOURS
from ui import frames

HERE = Path(__file__).resolve().parent / "scrubber"
LAM_STEPS = 50  # λ from 0 to 1 in steps of 0.02: 51 frames
SEED_BLOCK = 50  # with λ drawn, the strip shows the seeds of the current block of 50
PARAM_FRAMES = 21  # a parameter's sweep: one mix call per value (a parameter is per call, not per sample)

_component = st.components.v2.component(
    "mixviz_scrubber", css=(HERE / "scrubber.css").read_text(encoding="utf-8"),
    js=(HERE / "scrubber.js").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Target:
    """What the scrubber moves: `over` ("lam", "seed" or a parameter's name), its values and the current one."""

    over: str
    values: tuple
    current: float | int


def lam_grid(current: float) -> tuple[float, ...]:
    """λ in steps of 0.02 through the current λ, and 0 and 1: 0, 0.02, …, 1 for an even λ; 0, 0.01, 0.03, …,
    0.99, 1 for an odd one. The λ slider's steps of 0.01 then alternate between two sweeps, each cached once,
    instead of making a new one per step."""
    steps = round(float(current) * LAM_STEPS, 6)
    offset = steps - int(steps)
    grid = {round((k + offset) / LAM_STEPS, 4) for k in range(LAM_STEPS + 1)} | {0.0, 1.0, float(current)}
    return tuple(sorted(v for v in grid if 0 <= v <= 1))


def param_grid(spec: MethodSpec, name: str, current) -> tuple:
    """The parameter's slider values from min to max, every stride-th one counted from the current value (at
    most about PARAM_FRAMES of them) with both ends; each rounded as the slider holds it. Moving the slider
    cycles through `stride` sweeps, each cached once."""
    p = spec.param(name)
    n = int(round((p.max - p.min) / p.step)) + 1
    stride = -(-n // PARAM_FRAMES)
    at = int(round((current - p.min) / p.step))
    picks = {i for i in range(n) if (i - at) % stride == 0} | {0, n - 1}
    decimals = max(0, -int(np.floor(np.log10(p.step)))) if p.kind == "float" else 0
    as_type = (lambda v: round(float(v), decimals + 2)) if p.kind == "float" else int
    return tuple(sorted({as_type(p.min + i * p.step) for i in picks} | {as_type(current)}))


def target_of(spec: MethodSpec, lam: float | None, seed: int, params: dict) -> Target:
    """What the scrubber moves for this method and these controls (see the module's docstring)."""
    if spec.uses_lam and lam is not None:
        return Target("lam", lam_grid(lam), float(lam))
    numeric = [p for p in spec.params if p.kind in ("int", "float")]
    if spec.uses_lam or not numeric:
        block = seed - seed % SEED_BLOCK
        return Target("seed", tuple(range(block, block + SEED_BLOCK)), int(seed))
    p = numeric[0]
    current = params.get(p.name, p.default)
    values = param_grid(spec, p.name, current)
    return Target(p.name, values, values[min(range(len(values)), key=lambda i: abs(values[i] - current))])


def _value_text(over: str, value, r) -> str:
    if over == "lam":
        return f"{value:.2f}"
    if over == "seed":
        return f"{value}" + (f" (λ {r.lam:.2f})" if r.lam is not None else "")
    return f"{value:g}"


def _note(over: str, r) -> str:
    """What a frame's caption says beyond the bars: a draw that is no mix, corrected λ, weights that do not sum
    to 1."""
    parts = [r.info["degenerate"].rstrip(".")] if "degenerate" in r.info else []
    if r.lam_corrected is not None and r.lam is not None and abs(r.lam_corrected - r.lam) > 5e-4:
        parts.append(f"corrected λ (the label's share) {r.lam_corrected:.3f}")
    total = float(sum(r.label.values()))
    if r.label_rule not in ("union",) and abs(total - 1) > 5e-4:
        parts.append(f"label weights sum to {total:.3f}, not 1")
    return "; ".join(parts)


def _box(spec: MethodSpec, sweep) -> dict | None:
    """Where a draggable box is (methods with a "centre" point parameter): its centre and size per frame."""
    if not any(p.name == "centre" and p.kind == "point" for p in spec.params):
        return None
    info = [r.info for r in sweep.results]
    if not all("centre" in i and "box_size" in i for i in info):
        return None
    return {"centres": [list(map(float, i["centre"])) for i in info],
            "sizes": [list(map(float, i["box_size"])) for i in info],
            "hint": "drag the box to move it"}


def sweep_file(method: str, images_key: tuple, _x: torch.Tensor, labels: tuple[str, ...], over: str, values: tuple,
             seed: int, lam: float | None, alpha: float | None, params: tuple, _maps: torch.Tensor | None,
             classes: tuple[int, ...] | None) -> tuple[bytes, dict]:
    """The sweep's file and header (without the URL and the current index). `images_key` names `_x` (the
    photos' keys and size: the cache key); `_maps` come from the per-image cache, named by the same key.
    The sweep is made on every core (torch here, the JPEGs in ui/frames.py), like the network's forward pass:
    it is made once per change, and its frames are big enough to gain (mixup's compute 43 → 28 ms on 2)."""
    spec = mixviz.METHODS[method]
    with torch_threads(CORES):
        sweep = mixviz.sweep(method, _x, list(labels), over=over, values=values, seed=seed, lam=lam, alpha=alpha,
                             maps=_maps, classes=classes, **dict(params))
    blob, layout = frames.encode(sweep.results)
    results = sweep.results
    header = {
        "version": hashlib.sha1(blob).hexdigest()[:16], "layout": layout, "size": list(results[0].image.shape[1:]),
        "name": "λ" if over == "lam" else over, "caption": f"{spec.title} of {' and '.join(labels)}",
        "values": list(sweep.values), "value_text": [_value_text(over, v, r) for v, r in zip(sweep.values, results)],
        "names": [str(n) for n in results[0].label], "colours": list(INPUT_COLOURS[:len(results[0].label)]),
        "weights": [[float(w) for w in r.label.values()] for r in results],
        "mask_means": [[float(m.float().mean()) for m in r.masks] for r in results],
        "notes": [_note(over, r) for r in results], "box": _box(spec, sweep),
        "bar_title": ("label: multi-hot union of the inputs' classes" if results[0].label_rule == "union"
                      else "label weights"),
        "marks": [r.lam for r in results] if over == "seed" and results[0].lam is not None else None,
        "marks_caption": (f"λ drawn with seeds {values[0]}–{values[-1]} (α = {alpha:g}); the thick mark is "
                          "this seed's" if over == "seed" and alpha else f"λ drawn with seeds {values[0]}–{values[-1]}"),
    }
    return blob, header


# ≤ 48 × 1.5 MB, shared by every session (bench/live.py times sweep_file itself)
prepared = st.cache_resource(max_entries=48, show_spinner=False)(sweep_file)


SWEEP_TYPE = "video/x-mixviz-sweep"  # a sequence of frames; `video/*` is a type the server does not gzip


def media_url(blob: bytes, key: str) -> str:
    """The sweep file served by streamlit's media endpoint (content-addressed: the same file, the same URL). Its
    parts are JPEG and deflated already: gzip made a 1.17 MB sweep 8% smaller for 30 ms of the server's CPU on
    every fetch (7.9% of its CPU under a class of ten, py-spy), which a type of its own spares (Starlette's
    GZipMiddleware leaves `video/*` alone, as it does JPEG)."""
    from streamlit import runtime

    return runtime.get_instance().media_file_mgr.add(blob, SWEEP_TYPE, f"mixviz-scrubber.{key}")


def scrubber(blob: bytes, header: dict, index: int, key: str, on_value, on_centre, smoothing: dict | None,
             big: bool = False, reference: dict | None = None) -> None:
    """Mount the component. Its triggers ("value" on release, "centre" on a dropped box) reach `on_value` and
    `on_centre` (callbacks: they run before the next run, which then draws the rest of the page to match).

    The data changes only when the browser must show something new: after a release the browser already shows
    the released frame, so the same data goes out and streamlit sends nothing for it. `seq` counts the moves
    the server makes (another control, a link); the browser follows a new seq. `released(key, version, index)`
    tells this what the browser shows. `big`: sized for a projector (scrubber.css's .mv-big). `reference`: another
    label to mark on the bars, {"name": "the slide", "weights": [one per input, in the header's order]}."""
    ss = st.session_state
    version = header["version"]
    shown = ss.pop(f"{key}_released", None) or ss.get(f"{key}_shown")
    sent = ss.get(f"{key}_sent")
    if sent and sent[0] == version and shown == (version, index):
        index_sent, seq = sent[1], sent[2]
    else:
        index_sent, seq = index, (sent[2] + 1 if sent else 0)
    ss[f"{key}_sent"], ss[f"{key}_shown"] = (version, index_sent, seq), (version, index)
    data = {**header, "url": media_url(blob, key), "index": int(index_sent), "seq": seq, "smoothing": smoothing, "big": big,
            "reference": reference}
    # as one JSON string: a dict would have each of its values checked for being a dataframe (0.5 ms a run)
    _component(key=key, data=json.dumps(data, separators=(",", ":")), on_value_change=on_value,
               on_centre_change=on_centre, width="stretch", height="content")


def released(key: str, version: str, index: int) -> None:
    """The browser released its control on frame `index` of sweep `version` (call from the release callback)."""
    st.session_state[f"{key}_released"] = (version, int(index))


def animations(method: str, x: torch.Tensor, labels: tuple[str, ...], target: Target, seed: int, lam: float | None,
               alpha: float | None, params: dict, maps: torch.Tensor | None, classes, progress, fps: float = 12
               ) -> dict[str, bytes]:
    """The scrubber's sweep as a GIF and an MP4 for slides (mixviz.viz.animation: each frame captioned with its
    value and label); `progress(text)` says what is being encoded."""
    from mixviz.viz.animation import encode, sweep_frames

    progress(f"Drawing {len(target.values)} frames…")
    sweep = mixviz.sweep(method, x, list(labels), over=target.over, values=target.values, seed=seed, lam=lam,
                         alpha=alpha, maps=maps, classes=classes, **params)
    pictures = sweep_frames(sweep)
    files = {}
    for fmt in ("gif", "mp4"):
        progress(f"Encoding the {fmt.upper()} ({len(pictures)} frames)…")
        files[fmt] = encode(pictures, fmt, fps)
    return files
