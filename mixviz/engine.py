"""The two entry points, `mix` (a few images, everything explained) and `mix_batch` (training batches), and
the one path both take through a method's lifecycle (`run`; see mixviz.methods.base): `mix` is the
batch-of-one case.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Hashable, Sequence

import torch

from . import labels as L
from .imaging import ImageLike, to_batch
from .methods.base import Call, Method
from .registry import get, map_kind
from .sampling import DrawContext, make_generator, pick_device, real_dtype
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
        seed: int = 0, device: str | torch.device | None = None, lam: float | None = None, alpha: float | None = None,
        label_smoothing: float = 0.0, num_classes: int | None = None, image_size: tuple[int, int] | None = None,
        maps: torch.Tensor | None = None, classes: Sequence[int] | None = None, **params: Any) -> MixResult:
    """Mix `images` (as many as the method takes) with `method` and explain the result.

    lam=None draws λ ~ Beta(alpha, alpha) from `seed` (alpha=None: the method's default, its authors'
    value; methods whose spec has alpha None draw as their authors do, see MethodSpec.lam_draw);
    a number fixes it. Images of different sizes
    are scaled to cover the first image's size (or `image_size`, (H, W)) and centre-cropped. Label smoothing needs
    `num_classes`. Tensors in the result live on `device` (cuda, then mps, then cpu when None).
    Guided methods take `maps` (K, H, W), one per input at the common size, or compute them; methods
    guided by a class map (SnapMix, TdAttenMix, Puzzle Mix) compute it for each image's class in
    `classes` (indices of the model's classes, one per image; default: the model's top prediction).
    """
    p = prepare(method, images, labels, device, lam, alpha, label_smoothing, num_classes, image_size, classes, params)
    x, k = p.x, p.spec.n_inputs
    _, ch, h, w = x.shape
    ctx = DrawContext(1, ch, h, w, x.device, x.dtype, make_generator(seed), lam, p.alpha)
    sources = [slice(i, i + 1) for i in range(k)]
    out = torch.empty_like(x[:1])
    c, guide, _ = run(p.spec.impl, ctx, p.config, x, out, lambda c: (sources, [(slice(0, 1), sources)]), maps,
                      p.classes)
    c.xs = [x[s] for s in sources]
    return results(p, c, out, guide)[0]


@dataclass
class Prepared:
    """A `mix` call's arguments checked and resolved: the method, its α and configuration, the images (K, C, H, W)
    on the device, the label of each input, the classes of class-guided maps, and the smoothing."""

    spec: MethodSpec
    alpha: float
    config: dict[str, Any]
    x: torch.Tensor
    names: list[Hashable]
    classes: tuple[int, ...] | None
    label_smoothing: float
    num_classes: int | None


def prepare(method: str, images, labels, device, lam, alpha, label_smoothing: float, num_classes: int | None,
            image_size, classes, params: dict[str, Any]) -> Prepared:
    """Check `mix`'s arguments (see there) and bring the images to one size on the device, or MixError."""
    spec = get(method)
    alpha = _alpha(spec, alpha)
    _check_common(alpha, lam)
    config = resolve_params(spec, params)
    x = to_batch(images, size=image_size)
    k = spec.n_inputs
    if x.shape[0] != k:
        raise MixError(f"{spec.title} mixes {k} image{'s' if k > 1 else ''}; got {x.shape[0]}")
    names = _names(spec, labels, label_smoothing, num_classes)
    chosen = _check_classes(classes, k)
    return Prepared(spec, alpha, config, x.to(pick_device(device)), names, chosen, label_smoothing, num_classes)


def results(p: Prepared, c: Call, out: torch.Tensor, guide: torch.Tensor | None) -> list[MixResult]:
    """The MixResult of each sample of the call `c` (whose inputs c.xs are the images p.x, input j of every
    sample being image j), which wrote `out`: masks, weights and the shown image for the whole call at once,
    then each sample's label and info (impl.info on the call restricted to it, Call.take)."""
    impl = p.spec.impl
    dev = out.device
    images = impl.display(c, out)
    masks = impl.masks(c)
    used = impl.used(c, masks)
    weights = impl.weights(c)
    if p.spec.n_inputs == 2:
        same = torch.full((weights.shape[0],), p.names[0] == p.names[1], dtype=torch.bool, device=weights.device)
        weights = impl.class_weights(c, weights, same)
    weights = weights.to(dev, real_dtype(dev))
    rule = impl.label_rule(c)
    lam = c.draws.get("lam")
    lams = lam.tolist() if lam is not None else [None] * weights.shape[0]
    common = {"method": p.spec.name, "label_rule": rule, "maps": guide}
    whole, absent = coverage(masks)
    return [_result(p, c, i, out, common, image=images[i], masks=masks[i], used=used[i], weights=weights[i],
                    shares=shares, lam=lams[i], degenerate=_degenerate(whole[i], absent[i], p.names))
            for i, shares in enumerate(weights.tolist())]


def _result(p: Prepared, c: Call, i: int, out: torch.Tensor, common: dict, shares: list[float],
            degenerate: str | None, **fields: Any) -> MixResult:
    """Sample i's MixResult, from its slices of the call's tensors (`fields`), its label weights `shares` and
    what it comes to if it is no mix of all its inputs (`degenerate`, from `coverage`)."""
    impl, names, rule = p.spec.impl, p.names, common["label_rule"]
    label = L.label_dict(names, shares, union=rule == "union")
    info = impl.info(c.take(slice(i, i + 1), [x[i:i + 1] for x in c.xs]))
    if impl.distinct_classes and len(set(names)) < len(names):
        info["note"] = f"{p.spec.title} mixes images of different classes; these share a class"
    if degenerate:
        info["degenerate"] = degenerate
    if p.label_smoothing:
        label, other = L.smooth_label(label, p.label_smoothing, p.num_classes)
        info["label_smoothing"] = {"eps": p.label_smoothing, "num_classes": p.num_classes, "each_other_class": other}
    if type(impl).display is not Method.display:
        info["raw"] = out[i]  # what training sees, before `display` made it viewable
    lam = fields["lam"]
    corrected = info.get("lam_corrected")
    if corrected is None and rule == "area" and lam is not None and shares[0] != lam:
        corrected = shares[0]  # λ's share after rounding to whole rows, pixels or a drawn field
    return MixResult(label=label, info=info, lam_corrected=float(corrected) if corrected is not None else None,
                     **common, **fields)


def degenerate_note(masks: torch.Tensor, names: Sequence[Hashable]) -> str | None:
    """What a draw that is no mix of all its inputs comes to, from its (K, H, W) masks (K ≥ 2): one input takes
    every pixel, or some input shows in none (a Random 2×2 draw can take every quadrant from one image); None
    for a mix of all of them, however uneven."""
    whole, absent = coverage(masks[None])
    return _degenerate(whole[0], absent[0], names)


def coverage(masks: torch.Tensor) -> tuple[list[list[bool]], list[list[bool]]]:
    """For (B, K, H, W) masks: per sample and input, whether it takes every pixel, and whether it takes none. One
    pass over the batch (a sweep's frames at once): min and max of each mask."""
    low, high = torch.aminmax(masks.reshape(masks.shape[0], masks.shape[1], -1), dim=2)
    return (low == 1).tolist(), (high == 0).tolist()


def _degenerate(whole: list[bool], none: list[bool], names: Sequence[Hashable]) -> str | None:
    if len(whole) < 2:
        return None
    absent = [str(n) for n, gone in zip(names, none) if gone]
    if any(whole):
        taker = str(names[whole.index(True)])
        others = [str(n) for k, n in enumerate(names) if k != whole.index(True)]
        return f"No mixing: every pixel is {taker}'s, nothing of {_either(others)}."
    return f"The mix shows nothing of {_either(absent)}." if absent else None


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _names(spec: MethodSpec, labels: Sequence[Hashable] | None, label_smoothing: float,
           num_classes: int | None) -> list[Hashable]:
    """The label of each input ("image 1", … by default), with the smoothing arguments checked, or MixError."""
    k = spec.n_inputs
    names = list(labels) if labels is not None else [f"image {i + 1}" for i in range(k)]
    if len(names) != k:
        raise MixError(f"{spec.title} needs {k} labels, one per image; got {len(names)}")
    L.check_eps(label_smoothing)
    if label_smoothing and num_classes is None:
        raise MixError("label smoothing needs num_classes (the number of classes K in (1−ε)y + ε/K)")
    return names


def _alpha(spec: MethodSpec, alpha: float | None) -> float:
    """The caller's α, else the method's default (its authors' value; 1 where its draw uses none)."""
    if alpha is not None:
        return alpha
    return spec.alpha if spec.alpha is not None else 1.0


def _check_classes(classes: Sequence[int] | None, k: int) -> tuple[int, ...] | None:
    """`classes` as k class indices, or MixError."""
    if classes is None:
        return None
    try:
        chosen = tuple(operator.index(c) for c in classes)
    except TypeError:
        chosen = ()
    if len(chosen) != k or min(chosen) < 0:
        raise MixError(f"classes must be {k} class indices, one per image; got {classes!r}")
    return chosen


def run(impl: Method, ctx: DrawContext, config: dict, x: torch.Tensor, out: torch.Tensor, pairing,
        maps: torch.Tensor | None = None, classes: Sequence[int] | None = None) -> tuple[Call, torch.Tensor | None, list]:
    """A method's lifecycle on the images x (N, C, H, W), writing the mixed batch into `out`.

    `pairing(c)` (after the draw) gives the sources of each input (sources[j] indexes x: the images
    that are input j of every sample; an int j: image j is input j of every sample, as in a sweep) and the
    segments the batch is applied in ((samples, sources) with slices where they can be, so inputs are views,
    not copies). Returns the call (without pixels: xs is None), the guide maps (N, H, W) or None, and the
    sources."""
    c = Call(ctx, config)
    c.draws = impl.draw(c)
    sources, segments = pairing(c)
    guide = guide_maps(impl, config, x, maps, classes)
    c.inputs = _route(impl.per_image(c, x, guide), sources, ctx.batch)
    c.draws.update(impl.plan(c))
    for samples, srcs in segments:
        if isinstance(samples, torch.Tensor):
            samples = samples.to(x.device)
        n = len(range(*samples.indices(ctx.batch))) if isinstance(samples, slice) else samples.numel()
        xs = _inputs_of(impl, x, srcs, out[samples] if isinstance(samples, slice) else None, n)
        part = c.take(samples, xs)
        if isinstance(samples, slice):
            impl.apply(part, out[samples])
        else:
            mixed = torch.empty_like(xs[0])
            impl.apply(part, mixed)
            out.index_copy_(0, samples, mixed)
    return c, guide, sources


def _inputs_of(impl: Method, x: torch.Tensor, sources: list, dest: torch.Tensor | None,
               n: int) -> list[torch.Tensor]:
    """The inputs of a segment of n samples: views where a source is a slice (or an int j: image j for every
    sample, a view that repeats it n times), gathered rows otherwise. A pointwise
    method (Method.pointwise) has one gathered input gathered straight into its segment of `out` (`dest`),
    which it then blends in place: no 38 MB temporary, whose page faults cost more than the blend."""
    xs = []
    for s in sources:
        if isinstance(s, int):
            xs.append(x[s:s + 1].expand(n, *x.shape[1:]))
        elif isinstance(s, slice):
            xs.append(x[s])
        elif dest is not None and impl.pointwise:
            xs.append(torch.index_select(x, 0, s.to(x.device), out=dest))
            dest = None
        else:
            xs.append(x.index_select(0, s.to(x.device)))
    return xs


def guide_maps(impl: Method, config: dict, x: torch.Tensor, maps: torch.Tensor | None,
               classes: Sequence[int] | None = None, cache: dict | None = None) -> torch.Tensor | None:
    """(N, H, W) the maps that steer `impl` on each image of x: the caller's `maps` (checked), else those
    the method declares (Method.guide_maps), computed by their registered kinds (mixviz.registry.MAP_KINDS;
    per-class kinds for `classes`, default each image's top prediction) and combined; None for a method
    that declares none. `cache` (a dict kept by the caller for the same x and classes) holds each declared map
    once computed, so that calls with other configurations compute none twice."""
    if maps is not None:
        return _check_maps(maps, x, impl.maps_any_size)
    needs = impl.guide_maps(config)
    if not needs:
        return None
    cache = {} if cache is None else cache
    computed = {}
    for need in needs:
        key = (need.kind, need.options)
        if key not in cache:
            kind = map_kind(need.kind)
            cache[key] = kind.compute(x, dict(need.options), list(classes) if kind.per_class and classes else None,
                                      None).to(x.device)
        computed[need.key] = cache[key]
    return impl.combine_maps(config, computed)


def _check_maps(maps: torch.Tensor, x: torch.Tensor, any_size: bool = False) -> torch.Tensor:
    """`maps` as (N, H, W) floats on x's device, one per image of x (any (h, w) where the method pools
    them to a grid), or MixError."""
    maps = torch.as_tensor(maps)
    if any_size and maps.dim() == 3 and maps.shape[0] == x.shape[0] and maps.shape[1] * maps.shape[2] > 0:
        return maps.to(x.device, torch.float32)
    if maps.shape != (x.shape[0], *x.shape[2:]):
        raise MixError(f"maps must be one (H, W) map per image, {(x.shape[0], *x.shape[2:])}, got {tuple(maps.shape)}")
    return maps.to(x.device, torch.float32)


def _route(stats: dict[str, torch.Tensor], sources: list, batch: int = 1) -> list[dict[str, torch.Tensor]]:
    """Per-image statistics, as rows for each input (see Method.per_image; an int source j repeats image j's
    statistics for each of the `batch` samples, as a view)."""
    def rows(v, src):
        return v[src:src + 1].expand(batch, *v.shape[1:]) if isinstance(src, int) else v[src]
    return [{name: rows(v, src) for name, v in stats.items()} for src in sources]


def _segments(batch: int, k: int, device=None):
    """Split the batch so input j of sample i, x[(i − j) mod B], is a slice wherever it can be.

    Yields (samples, [source of input j]) with each item a slice (no copy) or an index tensor on `device`.
    """
    if batch >= k:
        if k > 1:
            head = torch.arange(k - 1, device=device)
            yield head, [(head - j) % batch for j in range(k)]
        yield slice(k - 1, batch), [slice(k - 1 - j, batch - j) for j in range(k)]
    else:
        every = torch.arange(batch, device=device)
        yield every, [(every - j) % batch for j in range(k)]


def mix_batch(method: str, x: torch.Tensor, y: torch.Tensor | None = None, num_classes: int | None = None,
              generator: torch.Generator | None = None, lam: float | torch.Tensor | None = None,
              alpha: float | None = None, label_smoothing: float = 0.0, out: torch.Tensor | None = None,
              maps: torch.Tensor | None = None, **params: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mix a training batch x (B, C, H, W), float in [0, 1], on its own device; returns (x_mixed, y_soft).
    Methods that only copy pixels (CutMix, the concat family, Cutout, …: Method.copies_pixels) also mix a
    uint8 batch as it is, with the pixels the float batch would get.

    Sample i is mixed with x[i − 1] (and x[i − 2], x[i − 3] for four-input methods), as torchvision's
    `roll` pairing does, except where a method picks partners from the labels (BC and BC+ pair each
    sample with one of another class); every sample draws its own λ, box or mask from `generator`. y holds class
    indices (B,) with `num_classes`, or soft targets (B, N); y_soft is float32 (B, N).

    `out`: a preallocated tensor like x that receives the mixed batch and is returned, so a training
    loop can reuse one buffer instead of allocating B·C·H·W floats each step. x is never modified;
    `out` must not share memory with x. BC+ returns its raw zero-mean input (not in [0, 1]).
    Guided methods take `maps` (B, H, W), one per image of x, or compute them (slower: per image).
    """
    spec = get(method)
    alpha = _alpha(spec, alpha)
    _check_common(alpha, lam)
    config = resolve_params(spec, params)
    out = _check_batch(x, out, spec)
    L.check_eps(label_smoothing)
    b, ch, h, w = x.shape
    targets = None
    if y is not None:
        if not isinstance(y, torch.Tensor) or y.shape[0] != b:
            raise MixError(f"y must be a tensor with one row per sample ({b}), got "
                           f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
        targets = L.one_hot(y.to(x.device), num_classes)
    impl = spec.impl

    def pairing(c):
        k = impl.n_sources(c)
        every = torch.arange(b, device=x.device)
        partner = impl.partners(c, targets.argmax(1)) if targets is not None else None
        if partner is None:
            return [(every - j) % b for j in range(k)], list(_segments(b, k, x.device))
        return [every, partner], [(slice(0, b), [slice(0, b), partner])]  # samples in order: write out directly

    ctx = DrawContext(b, ch, h, w, x.device, x.dtype, generator, lam, alpha)
    c, _, sources = run(impl, ctx, config, x, out, pairing, maps)
    if targets is None:
        return out, None
    weights = impl.weights(c).to(device=x.device, dtype=targets.dtype)
    chosen = [targets[s] for s in sources]
    if len(chosen) == 2:
        weights = impl.class_weights(c, weights, (chosen[0] == chosen[1]).all(1))
    if impl.label_rule(c) == "union":
        y_soft = torch.stack([r * (weights[:, j:j + 1] > 0) for j, r in enumerate(chosen)]).amax(0)
    else:
        y_soft = sum(weights[:, j:j + 1] * r for j, r in enumerate(chosen))
    return out, L.smooth(y_soft, label_smoothing)


def _check_batch(x: torch.Tensor, out: torch.Tensor | None, spec: MethodSpec) -> torch.Tensor:
    """`out` checked against the batch x (a new tensor like x where None), or MixError. uint8 batches are
    mixed as they are by methods that only copy pixels (Method.copies_pixels: the same pixels a float
    batch would get, rounded); the others need floats."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise MixError(f"x must be a (B, C, H, W) tensor, got {type(x).__name__} "
                       f"{tuple(x.shape) if isinstance(x, torch.Tensor) else ''}")
    if not x.is_floating_point() and not (x.dtype == torch.uint8 and spec.impl.copies_pixels):
        raise MixError(f"x must be a float tensor in [0, 1], got {x.dtype}; convert with x.float() / 255"
                       + (" (uint8 batches are mixed as they are only by methods that copy pixels)"
                          if x.dtype == torch.uint8 else ""))
    if x.shape[0] == 0:
        raise MixError("x is an empty batch")
    if out is None:
        return torch.empty_like(x)
    if out.shape != x.shape or out.dtype != x.dtype or out.device != x.device:
        raise MixError(f"out must match x ({tuple(x.shape)}, {x.dtype}, {x.device}); got "
                       f"{tuple(out.shape)}, {out.dtype}, {out.device}")
    if out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr():
        raise MixError("out must not share memory with x: the partners of later samples would be overwritten")
    return out
