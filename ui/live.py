"""The live scrubber: a sweep of the picture (mixviz.sweep: the same draws, only one value moving) sent to the
browser once per change of method, images, seed or parameters, as one file of JPEG frames and masks behind a
media URL plus a small JSON header; the component (ui/scrubber/, a custom component v2: no iframe, no build
step) swaps frames while the control is dragged and reports the value once on release.

What is swept: λ where the method has one and λ is fixed (steps of 0.02 through the current λ, and 0 and 1:
51 or 52 values); the seed where λ is drawn (a strip of 50 seeded draws, seeds in blocks of 50, each frame's
drawn λ marked); else the method's first numeric parameter (about 21 of its slider's values, through the
current one).
The file is content-addressed and cached across sessions (everyone who opens the same link shares it); the
header is a few kilobytes, sent on every run. Its JPEG quality drops from 80 to 60 or 40 where a sweep of noisy
pictures (random pixels) would pass BUDGET (judged from one frame, so the file is encoded once)."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image

import mixviz
from mixviz.types import MethodSpec
from mixviz.viz.style import INPUT_COLOURS

HERE = Path(__file__).resolve().parent / "scrubber"
LAM_STEPS = 50  # λ from 0 to 1 in steps of 0.02: 51 frames
SEED_BLOCK = 50  # with λ drawn, the strip shows the seeds of the current block of 50
PARAM_FRAMES = 21  # a parameter's sweep: one mix call per value (a parameter is per call, not per sample)
MASK_SIDE = 160  # masks travel at most this many pixels on their longer side (they are shown small)
QUALITIES = (80, 60, 40)  # JPEG qualities, tried in turn until the file is within BUDGET
BUDGET = 1_400_000  # bytes of frames and masks per sweep (the header adds a few kilobytes)

_component = st.components.v2.component(
    "mixviz_scrubber", css=(HERE / "scrubber.css").read_text(encoding="utf-8"),
    js=(HERE / "scrubber.js").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Target:
    """What the scrubber moves: `over` ("lam", "seed" or a parameter's name), its values and the current one."""

    over: str
    values: tuple
    current: float | int

    @property
    def index(self) -> int:
        return self.values.index(self.current)


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


class _Encoder:
    """Pictures (C, H, W) float in [0, 1] to JPEG files at `quality`, through two buffers reused for every
    picture of a size: no temporary per frame (on these machines the page faults of fresh tensors cost more
    than the arithmetic)."""

    def __init__(self, quality: int):
        self.quality, self.buffers = quality, {}

    def __call__(self, pixels: torch.Tensor) -> bytes:
        c, h, w = pixels.shape
        if (c, h, w) not in self.buffers:
            self.buffers[c, h, w] = (torch.empty(h, w, c), torch.empty(h, w, c, dtype=torch.uint8))
        real, out = self.buffers[c, h, w]
        torch.mul(pixels.permute(1, 2, 0), 255, out=real)
        out.copy_(real.add_(0.5).clamp_(0, 255))  # float to uint8 truncates: rounded by the 0.5
        a = out.numpy()
        buf = io.BytesIO()
        Image.fromarray(a[..., 0] if c == 1 else a).save(buf, format="JPEG", quality=self.quality)
        return buf.getvalue()


def _small(masks: torch.Tensor) -> torch.Tensor:
    """(K, H, W) masks at most about MASK_SIDE a side, each pixel the mean of an f×f block (a random-pixel mask
    becomes a grey of its density, which compresses: as single pixels it would be megabytes of noise); the last
    H mod f rows and W mod f columns are left out."""
    f = max(1, -(-max(masks.shape[1:]) // MASK_SIDE))
    return torch.nn.functional.avg_pool2d(masks.cpu().float()[None], (min(f, masks.shape[1]), min(f, masks.shape[2])))[0]


def _files(sweep, quality: int) -> tuple[bytes, list, list, tuple[int, int]]:
    """The sweep's frames, each a JPEG, and its masks as one JPEG sheet (row i: frame i's masks, input by input),
    in one file, with each JPEG's (offset, length)."""
    jpeg = _Encoder(quality)
    parts, frames, at = [], [], 0
    sheet = None
    for i, r in enumerate(sweep.results):
        blob = jpeg(r.image.cpu())
        frames.append([at, len(blob)])
        parts.append(blob)
        at += len(blob)
        small = _small(r.masks)
        k, h, w = small.shape
        if sheet is None:
            sheet = torch.empty(len(sweep.results) * h, k * w)
        sheet[i * h:(i + 1) * h].view(h, k, w).copy_(small.permute(1, 0, 2))
    blob = jpeg(sheet[None])
    parts.append(blob)
    return b"".join(parts), frames, [at, len(blob)], (h, w)


def _quality(sweep) -> int:
    """The highest of QUALITIES at which the sweep's file should stay within BUDGET, judged from its middle frame
    and masks (the noisiest frame of a λ sweep: as many pixels from each image), so the file is encoded once."""
    middle = sweep.results[len(sweep.results) // 2]
    small = _small(middle.masks)
    row = small.permute(1, 0, 2).reshape(1, small.shape[1], -1)  # the frame's row of the mask sheet
    for quality in QUALITIES:
        jpeg = _Encoder(quality)
        frame = len(jpeg(middle.image.cpu())) + len(jpeg(row.contiguous()))
        if frame * len(sweep.results) <= BUDGET:
            return quality
    return QUALITIES[-1]


def _value_text(over: str, value, r) -> str:
    if over == "lam":
        return f"{value:.2f}"
    if over == "seed":
        return f"{value}" + (f" (λ {r.lam:.2f})" if r.lam is not None else "")
    return f"{value:g}"


def _note(over: str, r) -> str:
    """What a frame's caption says beyond the bars: corrected λ, weights that do not sum to 1."""
    parts = []
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
    photos' keys and size: the cache key); `_maps` come from the per-image cache, named by the same key."""
    spec = mixviz.METHODS[method]
    sweep = mixviz.sweep(method, _x, list(labels), over=over, values=values, seed=seed, lam=lam, alpha=alpha,
                         maps=_maps, classes=classes, **dict(params))
    blob, frames, masks, mask_size = _files(sweep, _quality(sweep))
    results = sweep.results
    header = {
        "version": hashlib.sha1(blob).hexdigest()[:16], "mime": "image/jpeg", "frames": frames, "mask_sheet": masks,
        "size": list(results[0].image.shape[1:]), "mask_size": list(mask_size),
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


def media_url(blob: bytes, key: str) -> str:
    """The sweep file served by streamlit's media endpoint (content-addressed: the same file, the same URL)."""
    from streamlit import runtime

    return runtime.get_instance().media_file_mgr.add(blob, "application/octet-stream", f"mixviz-scrubber.{key}")


def scrubber(blob: bytes, header: dict, index: int, key: str, on_value, on_centre, smoothing: dict | None) -> None:
    """Mount the component. Its triggers ("value" on release, "centre" on a dropped box) reach `on_value` and
    `on_centre` (callbacks: they run before the next run, which then draws the rest of the page to match).

    The data changes only when the browser must show something new: after a release the browser already shows
    the released frame, so the same data goes out and streamlit sends nothing for it. `seq` counts the moves
    the server makes (another control, a link); the browser follows a new seq. `released(key, version, index)`
    tells this what the browser shows."""
    ss = st.session_state
    version = header["version"]
    shown = ss.pop(f"{key}_released", None) or ss.get(f"{key}_shown")
    sent = ss.get(f"{key}_sent")
    if sent and sent[0] == version and shown == (version, index):
        index_sent, seq = sent[1], sent[2]
    else:
        index_sent, seq = index, (sent[2] + 1 if sent else 0)
    ss[f"{key}_sent"], ss[f"{key}_shown"] = (version, index_sent, seq), (version, index)
    data = {**header, "url": media_url(blob, key), "index": int(index_sent), "seq": seq, "smoothing": smoothing}
    _component(key=key, data=data, on_value_change=on_value, on_centre_change=on_centre, width="stretch",
               height="content")


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
    frames = sweep_frames(sweep)
    files = {}
    for fmt in ("gif", "mp4"):
        progress(f"Encoding the {fmt.upper()} ({len(frames)} frames)…")
        files[fmt] = encode(frames, fmt, fps)
    return files
