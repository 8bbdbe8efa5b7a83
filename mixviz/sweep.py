"""`sweep`: frames of one picture where only one value moves (λ, a parameter, or the seed), each frame what
`mix` makes at that value. A λ sweep is one batched call of the method, one sample per frame, in which every
sample draws what a call on one sample draws (DrawContext's shared mode) and only λ differs.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable, Hashable, Sequence

import numpy as np
import torch

from .engine import Prepared, guide_maps, mix, prepare, resolve_params, results, run
from .imaging import ImageLike
from .registry import get
from .sampling import DrawContext, make_generator
from .types import MethodSpec, MixError, MixResult, ParamSpec, Sweep

MAX_FRAMES = 201


def sweep(method: str, images: Sequence[ImageLike] | torch.Tensor, labels: Sequence[Hashable] | None = None, *,
          over: str | None = None, values: Sequence | None = None, frames: int = 51, seed: int = 0,
          lam: float | None = None, alpha: float | None = None, device: str | torch.device | None = None,
          image_size: tuple[int, int] | None = None, maps: torch.Tensor | None = None,
          classes: Sequence[int] | None = None, label_smoothing: float = 0.0, num_classes: int | None = None,
          **params: Any) -> Sweep:
    """Frames of `method` on `images` where only `over` moves: frame i equals mixviz.mix(method, images, labels,
    seed=…, lam=…, alpha=alpha, maps=maps, classes=classes, **params) at values[i] (the other arguments as `mix`).

    over: "lam" (the default where the method has λ), else the name of an int or float parameter (default: its
    first), else "seed".
    - "lam": values are λ values in [0, 1], in the given order (default: `frames` evenly from 0 to 1); frame i is
      mix(…, seed=seed, lam=values[i]). One batched call of the method makes every frame: the frames share the
      draws of `seed` (box centres, fields, noise) and differ in λ only. `lam` is not used.
    - a parameter: values within its range (default: its slider's grid from min to max by step, thinned evenly
      to at most `frames` values, always with the value in `params`, or the default); frame i is
      mix(…, seed=seed, lam=lam, **{over: values[i]}), one call per value, since the configuration is per call.
      Values the method rejects (SmoothMix's sigma_min above its sigma_max) are left out of the sweep.
    - "seed": values are seeds (default: seed, seed + 1, … , `frames` of them); frame i is
      mix(…, seed=values[i], lam=lam): with lam None, a strip of seeded Beta(α, α) draws.

    Guided methods use the caller's `maps` (K, H, W) for every frame, or compute their maps once for the sweep.
    At most 201 frames. MixError for an unknown `over`, values out of range, frames out of 1 … 201, or what
    `mix` would refuse (the wrong number of images or labels, unknown parameters).
    """
    spec = get(method)
    over = _over(spec, over)
    frames = _count(frames, "frames")
    p = prepare(method, images, labels, device, lam, alpha, label_smoothing, num_classes, image_size, classes, params)
    if over == "lam":
        lams = _lams(values, frames)
        return Sweep(spec.name, over, lams, tuple(_lam_frames(p, lams, seed, maps)))
    if over == "seed":
        seeds = _seeds(values, frames, seed)
        return Sweep(spec.name, over, *_per_call(p, seeds, lambda v: {"seed": v}, lam, maps, params))
    grid = _param_values(spec, spec.param(over), p.config[over], values, frames)
    return Sweep(spec.name, over, *_per_call(p, grid, lambda v: {"seed": seed, over: v}, lam, maps, params))


def _numeric(spec: MethodSpec) -> list[str]:
    return [q.name for q in spec.params if q.kind in ("int", "float")]


def _over(spec: MethodSpec, over: str | None) -> str:
    """What moves: `over` checked, or the default (λ, else the first int or float parameter, else the seed)."""
    options = (["lam"] if spec.uses_lam else []) + _numeric(spec) + ["seed"]
    if over is None:
        return options[0]
    if over == "lam" and not spec.uses_lam:
        raise MixError(f"{spec.title} has no λ to sweep; sweep one of: {', '.join(options)}")
    if over not in options:
        raise MixError(f"{spec.name} cannot be swept over {over!r} (only λ, an int or float parameter, or the "
                       f"seed moves); over must be one of: {', '.join(options)}")
    return over


def _count(n: Any, what: str) -> int:
    """`n` as a whole number of frames in 1 … MAX_FRAMES, or MixError."""
    try:
        if isinstance(n, bool):
            raise TypeError
        n = operator.index(n)
    except TypeError:
        raise MixError(f"{what} must be a whole number of frames from 1 to {MAX_FRAMES}, got {n!r}") from None
    if not 1 <= n <= MAX_FRAMES:
        raise MixError(f"{what} must be a whole number of frames from 1 to {MAX_FRAMES}, got {n}")
    return n


def _given(values: Sequence) -> tuple:
    """The caller's values as a tuple of 1 … MAX_FRAMES items, or MixError."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise MixError(f"values must be a sequence of values, one per frame, got {values!r}")
    values = tuple(values)
    _count(len(values), f"the number of values ({len(values)})")
    return values


def _lams(values: Sequence | None, frames: int) -> tuple[float, ...]:
    """λ per frame: the caller's, each a number in [0, 1], or `frames` of them evenly from 0 to 1."""
    if values is None:
        return tuple(float(v) for v in np.linspace(0.0, 1.0, frames))
    lams = []
    for v in _given(values):
        try:
            if isinstance(v, (bool, str, bytes)):
                raise TypeError
            number = float(v)
        except (TypeError, ValueError):
            raise MixError(f"each λ of a sweep must be a number in [0, 1], got {v!r}") from None
        if not 0 <= number <= 1:
            raise MixError(f"each λ of a sweep must be a number in [0, 1], got {v!r}")
        lams.append(number)
    return tuple(lams)


def _seed(v: Any) -> int:
    """`v` as a seed, a whole number in [0, 2⁶³), or MixError."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < 2**63:
        raise MixError(f"each seed of a sweep must be a whole number in [0, 2⁶³), got {v!r}")
    return int(v)


def _seeds(values: Sequence | None, frames: int, seed: Any) -> tuple[int, ...]:
    """The seed per frame: the caller's, or `frames` of them from `seed` on."""
    if values is None:
        start = _seed(seed)
        return tuple(_seed(v) for v in range(start, start + frames))
    return tuple(_seed(v) for v in _given(values))


def _param_values(spec: MethodSpec, p: ParamSpec, current: Any, values: Sequence | None, frames: int) -> tuple:
    """The values of parameter p per frame: the caller's, each validated, or p's grid from min to max by step,
    thinned evenly to at most `frames` values, with `current` among them."""
    if values is not None:
        return tuple(p.validate(v, spec.name) for v in _given(values))
    step = p.step or (p.max - p.min) / 100
    n = int(math.floor((p.max - p.min) / step + 1e-9)) + 1

    def value(i: int):
        v = p.min + i * step
        return int(round(v)) if p.kind == "int" else round(v, 10)

    def thinned(k: int) -> list:
        return [value(i) for i in sorted({int(i) for i in np.round(np.linspace(0, n - 1, k))})] if k > 0 else []

    def near(v) -> bool:
        return abs(v - current) <= 1e-9 * step

    grid = thinned(min(n, frames))
    if not any(near(v) for v in grid):
        grid = sorted(thinned(min(n, frames - 1)) + [current])
    return tuple(current if near(v) else v for v in grid)


def _lam_frames(p: Prepared, lams: tuple[float, ...], seed: int, maps: torch.Tensor | None) -> list[MixResult]:
    """One batched call of the method, sample i at λ = lams[i] with every sample's draws those of `seed`."""
    impl, x = p.spec.impl, p.x
    b, (_, ch, h, w) = len(lams), x.shape
    ctx = DrawContext(b, ch, h, w, x.device, x.dtype, make_generator(seed), torch.tensor(lams, dtype=torch.float64),
                      p.alpha, shared=True)
    sources = list(range(p.spec.n_inputs))  # image j is input j of every sample
    out = torch.empty(b, ch, h, w, dtype=x.dtype, device=x.device)
    c, guide, _ = run(impl, ctx, p.config, x, out, lambda c: (sources, [(slice(0, b), sources)]), maps, p.classes)
    c.xs = [x[j:j + 1].expand(b, ch, h, w) for j in sources]
    return results(p, c, out, guide)


def _per_call(p: Prepared, values: tuple, arguments: Callable[[Any], dict], lam: float | None,
              maps: torch.Tensor | None, params: dict) -> tuple[tuple, tuple]:
    """(values, results): one `mix` call per value, with arguments(value) (the seed, a parameter) over `params`;
    values the method rejects are left out. A guided method's maps are the caller's, or computed once."""
    spec, cache = p.spec, {}
    kept, frames, rejected = [], [], []
    for v in values:
        args = {**params, **arguments(v)}
        seed = args.pop("seed")
        try:
            guide = guide_maps(spec.impl, resolve_params(spec, args), p.x, maps, p.classes, cache)
            frames.append(mix(spec.name, p.x, p.names, seed=seed, device=p.x.device, lam=lam, alpha=p.alpha,
                              label_smoothing=p.label_smoothing, num_classes=p.num_classes, maps=guide,
                              classes=p.classes, **args))
        except MixError as e:
            rejected.append(str(e))
            continue
        kept.append(v)
    if not kept:
        raise MixError(f"{spec.name}: no value of the sweep could be used ({rejected[0]})")
    return tuple(kept), tuple(frames)
