"""The two entry points: `mix` (a few images, everything explained) and `mix_batch` (training batches).

Both run the same batched method code; `mix` is the batch-of-one case.
"""
from __future__ import annotations

from typing import Any, Hashable, Sequence

import torch

from . import labels as L
from .imaging import ImageLike, to_batch
from .methods.base import Method, take
from .registry import get
from .sampling import Draw, make_generator, pick_device, real_dtype
from .types import MethodSpec, MixError, MixResult


def resolve_params(spec: MethodSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The method's defaults overridden by `params`, each validated; unknown names are an error."""
    unknown = set(params) - {p.name for p in spec.params}
    if unknown:
        known = ", ".join(p.name for p in spec.params) or "none"
        raise MixError(f"{spec.name} has no parameter {sorted(unknown)[0]!r} (its parameters: {known})")
    return {p.name: p.validate(params.get(p.name, p.default), spec.name) for p in spec.params}


def _check_common(alpha: float, lam) -> None:
    if not (isinstance(alpha, (int, float)) and alpha > 0):
        raise MixError(f"alpha must be a number > 0, got {alpha!r}")
    if lam is not None and not isinstance(lam, torch.Tensor):
        if not isinstance(lam, (int, float)) or not 0 <= lam <= 1:
            raise MixError(f"λ must be a number in [0, 1], got {lam!r}")


def mix(method: str, images: Sequence[ImageLike] | torch.Tensor, labels: Sequence[Hashable] | None = None,
        seed: int = 0, device: str | torch.device | None = None, lam: float | None = None, alpha: float = 1.0,
        label_smoothing: float = 0.0, num_classes: int | None = None, image_size: tuple[int, int] | None = None,
        maps: torch.Tensor | None = None, **params: Any) -> MixResult:
    """Mix `images` (as many as the method takes) with `method` and explain the result.

    lam=None draws λ ~ Beta(alpha, alpha) from `seed`; a number fixes it. Images of different sizes
    are scaled to cover the first image's size (or `image_size`, (H, W)) and centre-cropped. Label smoothing needs
    `num_classes`. Tensors in the result live on `device` (cuda, then mps, then cpu when None).
    Guided methods take `maps` (K, H, W), one per input at the common size, or compute them.
    """
    spec = get(method)
    _check_common(alpha, lam)
    values = resolve_params(spec, params)
    x = to_batch(images, size=image_size)
    k = spec.n_inputs
    if x.shape[0] != k:
        raise MixError(f"{spec.title} mixes {k} image{'s' if k > 1 else ''}; got {x.shape[0]}")
    names = list(labels) if labels is not None else [f"image {i + 1}" for i in range(k)]
    if len(names) != k:
        raise MixError(f"{spec.title} needs {k} labels, one per image; got {len(names)}")
    L.check_eps(label_smoothing)
    if label_smoothing and num_classes is None:
        raise MixError("label smoothing needs num_classes (the number of classes K in (1−ε)y + ε/K)")

    dev = pick_device(device)
    x = x.to(dev)
    _, c, h, w = x.shape
    draw = Draw(1, c, h, w, dev, x.dtype, make_generator(seed), lam, float(alpha), values)
    impl = spec.impl
    p = impl.draw(draw)
    xs = [x[i:i + 1] for i in range(k)]
    stats = impl.per_image(x, values, _check_maps(maps, x, impl.maps_any_size))
    p["_inputs"] = _route(stats, [slice(i, i + 1) for i in range(k)])
    p.update(impl.plan(p))
    out = torch.empty_like(xs[0])
    impl.apply(xs, p, out)
    image = impl.display(out, xs, p)[0]
    masks = impl.masks_for(p, xs)[0]
    weights = impl.weights_for(p, k, h, w)[0].to(dev, real_dtype(dev))
    label = L.label_dict(names, weights.tolist(), union=impl.union_label(p))
    info = impl.info(p, xs)
    if impl.distinct_classes and len(set(names)) < len(names):
        info["note"] = f"{spec.title} mixes images of different classes; these share a class"
    if label_smoothing:
        label, other = L.smooth_label(label, label_smoothing, num_classes)
        info["label_smoothing"] = {"eps": label_smoothing, "num_classes": num_classes, "each_other_class": other}
    if type(impl).display is not Method.display:
        info["raw"] = out[0]  # what training sees, before `display` made it viewable
    lam_drawn = p.get("lam")
    return MixResult(method=spec.name, image=image, masks=masks, weights=weights, label=label,
                     lam=float(lam_drawn[0]) if lam_drawn is not None else None, info=info)


def _check_maps(maps: torch.Tensor | None, x: torch.Tensor, any_size: bool = False) -> torch.Tensor | None:
    """`maps` as (N, H, W) floats on x's device, one per image of x (any (h, w) where the method pools
    them to a grid), or MixError."""
    if maps is None:
        return None
    maps = torch.as_tensor(maps)
    if any_size and maps.dim() == 3 and maps.shape[0] == x.shape[0] and maps.shape[1] * maps.shape[2] > 0:
        return maps.to(x.device, torch.float32)
    if maps.shape != (x.shape[0], *x.shape[2:]):
        raise MixError(f"maps must be one (H, W) map per image, {(x.shape[0], *x.shape[2:])}, got {tuple(maps.shape)}")
    return maps.to(x.device, torch.float32)


def _route(stats: dict[str, torch.Tensor], sources: list) -> list[dict[str, torch.Tensor]]:
    """Per-image statistics, as rows for each input (see Method.per_image)."""
    return [{name: v[src] for name, v in stats.items()} for src in sources]


def _segments(batch: int, k: int):
    """Split the batch so input j of sample i, x[(i − j) mod B], is a slice wherever it can be.

    Yields (samples, [source of input j]) with each item a slice (no copy) or an index tensor.
    """
    if batch >= k:
        if k > 1:
            head = torch.arange(k - 1)
            yield head, [(head - j) % batch for j in range(k)]
        yield slice(k - 1, batch), [slice(k - 1 - j, batch - j) for j in range(k)]
    else:
        every = torch.arange(batch)
        yield every, [(every - j) % batch for j in range(k)]


def mix_batch(method: str, x: torch.Tensor, y: torch.Tensor | None = None, num_classes: int | None = None,
              generator: torch.Generator | None = None, lam: float | torch.Tensor | None = None,
              alpha: float = 1.0, label_smoothing: float = 0.0, out: torch.Tensor | None = None,
              maps: torch.Tensor | None = None, **params: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mix a training batch x (B, C, H, W), float in [0, 1], on its own device; returns (x_mixed, y_soft).

    Sample i is mixed with x[i − 1] (and x[i − 2], x[i − 3] for four-input methods), as torchvision's
    `roll` pairing does; every sample draws its own λ, box or mask from `generator`. y holds class
    indices (B,) with `num_classes`, or soft targets (B, N); y_soft is float32 (B, N).

    `out`: a preallocated tensor like x that receives the mixed batch and is returned, so a training
    loop can reuse one buffer instead of allocating B·C·H·W floats each step. x is never modified;
    `out` must not share memory with x. BC+ returns its raw zero-mean input (not in [0, 1]).
    Guided methods take `maps` (B, H, W), one per image of x, or compute them (slower: per image).
    """
    spec = get(method)
    _check_common(alpha, lam)
    values = resolve_params(spec, params)
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise MixError(f"x must be a (B, C, H, W) tensor, got {type(x).__name__} "
                       f"{tuple(x.shape) if isinstance(x, torch.Tensor) else ''}")
    if not x.is_floating_point():
        raise MixError(f"x must be a float tensor in [0, 1], got {x.dtype}; convert with x.float() / 255")
    b, c, h, w = x.shape
    if b == 0:
        raise MixError("x is an empty batch")
    if out is None:
        out = torch.empty_like(x)
    elif out.shape != x.shape or out.dtype != x.dtype or out.device != x.device:
        raise MixError(f"out must match x ({tuple(x.shape)}, {x.dtype}, {x.device}); got "
                       f"{tuple(out.shape)}, {out.dtype}, {out.device}")
    elif out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr():
        raise MixError("out must not share memory with x: the partners of later samples would be overwritten")
    L.check_eps(label_smoothing)
    targets = None
    if y is not None:
        if not isinstance(y, torch.Tensor) or y.shape[0] != b:
            raise MixError(f"y must be a tensor with one row per sample ({b}), got "
                           f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
        targets = L.one_hot(y.to(x.device), num_classes)

    impl = spec.impl
    draw = Draw(b, c, h, w, x.device, x.dtype, generator, lam, float(alpha), values)
    p = impl.draw(draw)
    k = impl.n_sources(p)
    stats = impl.per_image(x, values, _check_maps(maps, x, impl.maps_any_size))
    p["_inputs"] = _route(stats, [(torch.arange(b, device=x.device) - j) % b for j in range(k)])
    p.update(impl.plan(p))
    for samples, sources in _segments(b, k):
        if isinstance(samples, torch.Tensor):
            samples = samples.to(x.device)
        sources = [s if isinstance(s, slice) else s.to(x.device) for s in sources]
        xs = [x[s] if isinstance(s, slice) else x.index_select(0, s) for s in sources]
        q = take(p, samples)
        q["_inputs"] = _route(stats, sources)
        if isinstance(samples, slice):
            impl.apply(xs, q, out[samples])
        else:
            part = torch.empty_like(xs[0])
            impl.apply(xs, q, part)
            out.index_copy_(0, samples, part)

    if targets is None:
        return out, None
    weights = impl.weights_for(p, k, h, w).to(device=x.device, dtype=targets.dtype)
    rolled = [targets.roll(j, 0) for j in range(k)]
    if impl.union_label(p):
        y_soft = torch.stack([r * (weights[:, j:j + 1] > 0) for j, r in enumerate(rolled)]).amax(0)
    else:
        y_soft = sum(weights[:, j:j + 1] * r for j, r in enumerate(rolled))
    return out, L.smooth(y_soft, label_smoothing)
