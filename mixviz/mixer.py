"""`Mixer` and `MixCollate`: a configured mixing callable for training loops, over `mix_batch`.

What timm's `timm.data.Mixup` and torchvision's `transforms.v2.CutMix` / `v2.MixUp` offer, with
mixviz's methods: one or several methods with weights, a mixing probability, label smoothing,
soft targets out; and as a DataLoader `collate_fn`.

    mixer = mixviz.Mixer({"mixup": 0.5, "cutmix": 0.5}, num_classes=1000, seed=0)
    x_mixed, y_soft = mixer(x, y)           # y: indices (B,), one-hot or soft targets (B, N)
    loader = DataLoader(data, batch_size=64, collate_fn=mixviz.MixCollate(mixer))

Unlike timm (one method and one λ per batch, `switch_prob`, `mix_prob` per batch or per element),
every sample here draws its own method, whether it is mixed, and its own λ and box.
"""
from __future__ import annotations

import hashlib
import math
import numbers
import os
from typing import Any, Mapping, Sequence

import torch
import torch.distributed as dist
from torch.utils.data import default_collate, get_worker_info

from . import METHODS, MixError, mix_batch
from .labels import one_hot


def derive_seed(seed: int, rank: int = 0, worker_seed: int | None = None) -> int:
    """The seed a `Mixer(seed=seed)` uses on distributed rank `rank` and, inside a DataLoader worker, for
    the worker's own seed (torch's `get_worker_info().seed`, new for every worker and epoch).

    `seed` itself on rank 0 outside workers (so `Mixer(m, seed=s)` mixes as `mix_batch(m, ...,
    generator=torch.Generator().manual_seed(s))`); otherwise 63 bits of BLAKE2b over (seed, rank, worker_seed),
    so ranks and workers never share a stream and a run reproduces from its seeds."""
    if rank == 0 and worker_seed is None:
        return int(seed)
    return _hash63(f"mixviz.Mixer:{int(seed)}:{int(rank)}:{worker_seed}")


def _hash63(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


def _rank(in_worker: bool) -> int:
    """This process's global rank under torch.distributed; 0 without it. DataLoader workers started by
    spawn do not see the process group, so there the RANK variable that torchrun sets stands in."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", 0)) if in_worker else 0


def _raw_output(spec) -> bool:
    """True where the method's training output is not an image in [0, 1] (it overrides `display`, which maps
    the raw output back for viewing; BC+'s zero-mean input)."""
    cls = type(spec.impl)
    owners = [c for c in cls.__mro__ if "display" in vars(c)]
    return len(owners) > 1 and owners[0] is not owners[-1]


class Mixer:
    """A configured mixing step: `x_mixed, y_soft = mixer(x, y)`.

    methods: a name of `mixviz.METHODS`, or {name: weight} (weights > 0, normalised). With several, each
        sample draws its method; the samples of one method are mixed as one `mix_batch` call over their
        group (sorted by position), so sample i is mixed with the previous sample *of its own group* (a
        group of one sample is mixed with itself). Methods that need maps (`needs` != "none") compute them
        on every call unless `maps=` (B, H, W) is passed to the call.
    alpha: the α of Beta(α, α) for every method; None (the default, as in `mix_batch`): each method's own,
        its authors' value (1 for mixup and CutMix, as timm's and torchvision's default; 5 for SnapMix).
    prob: each sample is mixed with probability `prob`; the others keep their pixels and their one-hot
        (label-smoothed) target.
    num_classes: needed for class-index labels. label_smoothing: ε in [0, 1), (1 − ε)·y + ε/N on every target.
    generator / seed: the torch.Generator that `mix_batch` draws λ and boxes from; or `seed`, from which the
        mixer builds a CPU generator on its first call in each process: `derive_seed(seed, rank, worker)`, so
        that DDP ranks and DataLoader workers draw different boxes and a run reproduces from its seed. A
        generator you pass is used as is on every rank and in every worker. Neither: torch's global RNG.
    reuse_buffer: keep one output buffer per (shape, dtype, device) and mix into it (`mix_batch`'s `out=`),
        so a training loop allocates no image batch per step; the returned tensor is then overwritten by the
        next call. Inside DataLoader workers it is off (the batch is still being sent when the next one is mixed).
        Internal buffers, never returned (the float copy of a uint8 batch, the per-method groups), are kept
        between calls either way, for the last 4 shapes (per device) seen.
    **params: method parameters; each applies to every chosen method that has it.

    Per-sample choices (which method, whether to mix) are drawn on the CPU from a companion generator
    (seeded from `seed`, or from the given generator's `initial_seed()`; torch's global CPU RNG without
    either), and only where there is a choice: with one method and prob=1 the mixer draws exactly what
    `mix_batch` draws, so its output equals `mix_batch(method, x, y, generator=g)` with the same `g`.
    Nothing in the mixer's own path waits for the GPU: choices and group indices are CPU tensors, copied to
    the device from pinned memory without blocking; class indices on CUDA are not range-checked (the
    device asserts instead), on the CPU they are.

    `last_methods`: the last call's choice per sample, (B,) int64 on the CPU: an index into `methods`, −1 for
    samples left unmixed.

    x: (B, C, H, W) float in [0, 1] (float16, bfloat16, float32, float64: returned in the same dtype), or
    uint8 in 0–255, returned as uint8: mixed as it is where every chosen method only copies pixels (CutMix,
    the concat family, Cutout, …: Method.copies_pixels), else as float32 x/255, rounded. Methods whose training output is
    not an image (BC+, zero-mean) refuse uint8, and cannot share a batch with other methods or with
    unmixed samples. y_soft: float32 (B, N), or None where y is None.
    """

    def __init__(self, methods: str | Mapping[str, float] | Sequence[str] = "cutmix", alpha: float | None = None,
                 prob: float = 1.0, num_classes: int | None = None, label_smoothing: float = 0.0,
                 generator: torch.Generator | None = None, seed: int | None = None, reuse_buffer: bool = False,
                 **params: Any):
        names, weights = _parse_methods(methods)
        specs = [METHODS[n] for n in names]
        if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, numbers.Real)
                                  or not math.isfinite(alpha) or alpha <= 0):
            raise MixError(f"alpha must be a number > 0 or None (each method's own), got {alpha!r}")
        if isinstance(prob, bool) or not isinstance(prob, numbers.Real) or not 0 <= prob <= 1:
            raise MixError(f"prob (the chance that a sample is mixed) must lie in [0, 1], got {prob!r}")
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
                or not 0 <= label_smoothing < 1:
            raise MixError(f"label_smoothing ε must lie in [0, 1), got {label_smoothing!r}")
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral)
                                        or num_classes < 1):
            raise MixError(f"num_classes must be a whole number >= 1, got {num_classes!r}")
        if generator is not None and seed is not None:
            raise MixError("give a generator or a seed, not both")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise MixError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise MixError(f"seed must be a whole number, got {seed!r}")
        raw = [s.name for s in specs if _raw_output(s)]
        if raw and (len(names) > 1 or prob < 1):
            raise MixError(f"{raw[0]} returns a raw zero-mean input, not an image in [0, 1]: it cannot share a batch "
                           "with other methods or with unmixed samples (prob < 1); use it alone with prob=1")
        self.methods: tuple[str, ...] = names
        self.weights: tuple[float, ...] = weights
        self.alpha = None if alpha is None else float(alpha)
        self.prob = float(prob)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.label_smoothing = float(label_smoothing)
        self.reuse_buffer = bool(reuse_buffer)
        self.params = _split_params(specs, params)
        self.seed = None if seed is None else int(seed)
        self.generator = generator
        self.last_methods: torch.Tensor | None = None
        self._raw = bool(raw)
        self._choices: torch.Generator | None = None  # companion CPU generator for per-sample choices
        self._context: tuple | None = None  # what the generators were derived for
        self._buffers: dict[tuple, dict[tuple, torch.Tensor]] = {}  # (shape, device) -> (role, dtype) -> buffer

    def __repr__(self) -> str:
        methods = self.methods[0] if len(self.methods) == 1 else dict(zip(self.methods, self.weights))
        return (f"Mixer({methods!r}, alpha={self.alpha}, prob={self.prob}, num_classes={self.num_classes}, "
                f"label_smoothing={self.label_smoothing}, seed={self.seed})")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_buffers"] = {}
        state["last_methods"] = None
        return state

    # -- generators -----------------------------------------------------------------------------------------

    def _generators(self, in_worker: bool) -> tuple[torch.Generator | None, torch.Generator | None]:
        """(the generator for mix_batch, the companion for choices), derived again where the process changed."""
        if self.seed is not None:
            worker = get_worker_info()
            context = ("seed", _rank(in_worker), worker.seed if worker is not None else None)
            if context != self._context:
                s = derive_seed(self.seed, context[1], context[2])
                self.generator = torch.Generator().manual_seed(s)
                self._choices = torch.Generator().manual_seed(_hash63(f"mixviz.Mixer choices:{s}"))
                self._context = context
        elif self.generator is not None:
            context = ("generator", self.generator.initial_seed())
            if context != self._context:
                self._choices = torch.Generator().manual_seed(_hash63(f"mixviz.Mixer choices:{context[1]}"))
                self._context = context
        return self.generator, self._choices

    def _choose(self, batch: int, choices: torch.Generator | None) -> torch.Tensor | None:
        """(B,) int64 on the CPU: each sample's method index, −1 for unmixed; None where there is no choice."""
        several, some_unmixed = len(self.methods) > 1, self.prob < 1
        if not several and not some_unmixed:
            return None
        if several:
            cum = torch.tensor(self.weights, dtype=torch.float64).cumsum(0)
            u = torch.rand(batch, generator=choices, dtype=torch.float64) * cum[-1]
            pick = torch.searchsorted(cum, u, right=True).clamp_max_(len(self.methods) - 1)
        else:
            pick = torch.zeros(batch, dtype=torch.int64)
        if some_unmixed:
            mixed = torch.rand(batch, generator=choices, dtype=torch.float64) < self.prob
            pick = torch.where(mixed, pick, torch.full_like(pick, -1))
        return pick

    # -- buffers --------------------------------------------------------------------------------------------

    def _kept(self, role: str, shape, dtype, device) -> torch.Tensor:
        """The buffer for `role` at this (shape, dtype, device), made on first use and kept."""
        key = (tuple(shape), torch.device(device))
        kept = self._buffers.get(key)
        if kept is None:
            if len(self._buffers) >= 4:  # many shapes (variable sizes): keep memory bounded, drop the oldest
                self._buffers.pop(next(iter(self._buffers)))
            kept = self._buffers[key] = {}
        buf = kept.get((role, dtype))
        if buf is None:
            buf = kept[(role, dtype)] = torch.empty(shape, dtype=dtype, device=device)
        return buf

    def _result(self, role: str, shape, dtype, device, reuse: bool) -> torch.Tensor:
        """The tensor a call returns: the kept buffer with reuse_buffer, else a new one."""
        return self._kept(role, shape, dtype, device) if reuse else torch.empty(shape, dtype=dtype, device=device)

    # -- the call -------------------------------------------------------------------------------------------

    def _targets(self, y: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor | None:
        """(B, N) float32 targets on `device` from class indices or one-hot / soft targets, or None."""
        if y is None:
            return None
        if not isinstance(y, torch.Tensor):
            raise MixError(f"y must be a tensor of class indices (B,) or targets (B, N), got {type(y).__name__}")
        if y.shape[:1] != (batch,) or y.dim() not in (1, 2):
            raise MixError(f"y must be class indices ({batch},) or targets ({batch}, N), got shape {tuple(y.shape)}")
        if y.dim() == 1 and (y.is_floating_point() or y.is_complex() or y.dtype == torch.bool):
            raise MixError(f"class indices must be integers, got {y.dtype}")
        return one_hot(y.to(device, non_blocking=True), self.num_classes)

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None,
                 maps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Mix the batch x (B, C, H, W) with targets y; `maps` (B, H, W) for guided methods (else computed)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise MixError(f"x must be a (B, C, H, W) tensor, got {type(x).__name__} "
                           f"{tuple(x.shape) if isinstance(x, torch.Tensor) else ''}")
        if x.dtype != torch.uint8 and not x.is_floating_point():
            raise MixError(f"x must be float in [0, 1] or uint8 in 0–255, got {x.dtype}")
        b = x.shape[0]
        if b == 0:
            raise MixError("x is an empty batch")
        worker = get_worker_info() is not None
        reuse = self.reuse_buffer and not worker
        generator, choices = self._generators(worker)
        targets = self._targets(y, b, x.device)
        if maps is not None:
            maps = torch.as_tensor(maps)
            if maps.shape[:1] != (b,):
                raise MixError(f"maps must be one (H, W) map per image of x ({b}), got shape {tuple(maps.shape)}")
            maps = maps.to(x.device)
        # uint8 through a float copy, unless every chosen method only copies pixels (then as it is: same pixels)
        u8 = x.dtype == torch.uint8 and not all(METHODS[m].impl.copies_pixels for m in self.methods)
        if u8:
            if self._raw:
                raise MixError(f"{self.methods[0]} returns a raw zero-mean input, not an image in [0, 1], so it has no "
                               "uint8 form; pass x as float (x.float() / 255)")
            # internal float copy (kept between calls); copy_ then div_ is bit-identical to x.float() / 255
            # and several times faster on a CPU than torch.div(x, 255, out=...) with its casting loop
            xf = self._kept("in", x.shape, torch.float32, x.device).copy_(x).div_(255)
        else:
            xf = x

        pick = self._choose(b, choices)
        common = dict(generator=generator, alpha=self.alpha, label_smoothing=self.label_smoothing)
        if u8:  # the float result is internal; the uint8 one is returned
            out = self._kept("mixed", xf.shape, xf.dtype, xf.device)
        elif reuse:
            out = self._kept("out", xf.shape, xf.dtype, xf.device)
        else:
            out = None if pick is None else torch.empty_like(xf)
        if pick is None:
            m = self.methods[0]
            xm, y_soft = mix_batch(m, xf, targets, out=out, maps=maps, **common, **self.params[m])
            self.last_methods = torch.zeros(b, dtype=torch.int64)
        else:
            xm, y_soft = self._grouped(xf, targets, maps, pick, common, out)
            self.last_methods = pick
        if u8:
            xm = xm.mul_(255).round_().clamp_(0, 255)
            xm = self._result("u8", x.shape, torch.uint8, x.device, reuse).copy_(xm)
        return xm, y_soft

    def _grouped(self, x, targets, maps, pick, common, out):
        """One mix_batch call per chosen method over its samples, the unmixed copied; written back in order
        into `out`. The groups are gathered into, and mixed into, internal buffers kept between calls."""
        groups = [(m, (pick == i).nonzero().squeeze(1)) for i, m in enumerate(self.methods)]
        groups.append((None, (pick == -1).nonzero().squeeze(1)))
        groups = [(m, idx) for m, idx in groups if idx.numel()]
        order = torch.cat([idx for _, idx in groups])  # CPU: group sizes and offsets need no device sync
        if x.device.type == "cuda":
            order_dev = order.pin_memory().to(x.device, non_blocking=True)
        else:
            order_dev = order.to(x.device)
        gathered = self._kept("gathered", x.shape, x.dtype, x.device)
        staged = self._kept("staged", x.shape, x.dtype, x.device)
        staged_y = None if targets is None else torch.empty_like(targets)
        start = 0
        for m, idx in groups:
            n = idx.numel()
            rows = order_dev[start:start + n]
            part = staged[start:start + n]
            tg = None if targets is None else targets.index_select(0, rows)
            if m is None:
                torch.index_select(x, 0, rows, out=part)
                if tg is not None:
                    eps = self.label_smoothing
                    staged_y[start:start + n] = tg * (1 - eps) + eps / tg.shape[1] if eps else tg
            else:
                mg = None if maps is None else maps.index_select(0, rows)
                xg = torch.index_select(x, 0, rows, out=gathered[start:start + n])
                xm, ym = mix_batch(m, xg, tg, out=part, maps=mg, **common, **self.params[m])
                if xm.data_ptr() != part.data_ptr():
                    part.copy_(xm)
                if ym is not None:
                    staged_y[start:start + n] = ym
            start += n
        out.index_copy_(0, order_dev, staged)
        y_soft = None if staged_y is None else torch.empty_like(staged_y).index_copy_(0, order_dev, staged_y)
        return out, y_soft


def _parse_methods(methods) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(names, normalised weights) from a name, a {name: weight} mapping or a list of names (equal weights)."""
    if isinstance(methods, str):
        methods = {methods: 1.0}
    elif isinstance(methods, Mapping):
        methods = dict(methods)
    elif isinstance(methods, (list, tuple)):
        if len(set(methods)) != len(methods):
            raise MixError(f"methods lists a method twice: {list(methods)}")
        methods = {m: 1.0 for m in methods}
    else:
        raise MixError(f"methods must be a method name or a {{name: weight}} dict, got {type(methods).__name__}")
    if not methods:
        raise MixError("methods is empty: name at least one method")
    known = ", ".join(sorted(METHODS))
    for name, w in methods.items():
        if name not in METHODS:
            raise MixError(f"unknown method {name!r}; known methods: {known}")
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) or w <= 0:
            raise MixError(f"the weight of {name!r} must be a finite number > 0, got {w!r}")
    total = sum(float(w) for w in methods.values())
    return tuple(methods), tuple(float(w) / total for w in methods.values())


def _split_params(specs, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each method's share of `params` (validated); a parameter no chosen method has is an error."""
    for name in params:
        if not any(name == p.name for s in specs for p in s.params):
            have = "; ".join(f"{s.name}: {', '.join(p.name for p in s.params) or 'none'}" for s in specs)
            raise MixError(f"no chosen method has a parameter {name!r} (their parameters: {have})")
    return {s.name: {p.name: p.validate(params[p.name], s.name) for p in s.params if p.name in params} for s in specs}


class MixCollate:
    """A DataLoader `collate_fn` that stacks (image tensor, label) pairs with `default_collate` and mixes
    them with `mixer` (as torchvision's docs do with v2.CutMix, and timm's `FastCollateMixup`):

        DataLoader(data, batch_size=64, collate_fn=mixviz.MixCollate(mixviz.Mixer("cutmix", num_classes=10, seed=0)))

    Picklable (workers started by spawn receive a copy). With `seed=`, each worker derives its own stream
    from its worker seed, new every epoch (see `derive_seed`); uint8 images stay uint8, so workers send
    a quarter of the bytes."""

    def __init__(self, mixer: Mixer):
        if not callable(mixer):
            raise MixError(f"MixCollate needs a Mixer, got {type(mixer).__name__}")
        self.mixer = mixer

    def __repr__(self) -> str:
        return f"MixCollate({self.mixer!r})"

    def __call__(self, batch):
        x, y = default_collate(batch)
        return self.mixer(x, y)
