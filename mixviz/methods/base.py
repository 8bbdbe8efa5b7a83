"""The method protocol: every registered method is a `Method`, and the engine (mixviz.engine) runs each one
through the same lifecycle, once per call, for the whole batch:

    draw        c -> draws              per-sample values from the generator (λ, boxes, fields)
    guide maps  c.config -> MapNeeds    the per-image maps a guided method is steered by (computed by the
                                        maps layer from MAP_KINDS unless the caller passes `maps`)
    per_image   c, x, maps -> stats     statistics of each image (saliency peaks, means); the engine routes
                                        them so that c.inputs[j] holds input j's rows for every sample
    plan        c -> more draws         choices that need both draws and statistics (TdAttenMix's squares)
    apply       c, out                  writes the mixed batch
    masks       c -> (B, K, H, W)       share of input k in each output pixel
    used        c, masks -> (B, K, H, W)  the same, in each input's own coordinates
    weights     c -> (B, K)             label weight of each input (each method says how)

Every hook takes the call `c` (a `Call`) first. `c.config` is the static configuration: the method's
validated ParamSpec values, the same for every sample. `c.draws` holds the drawn values: tensors whose
first dimension is the batch, and plain Python values drawn once per call (Puzzle Mix's grid). Kornia's
mix augmentations (augmentation/_2d/mix/base.py) keep per-sample params apart from static flags the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from ..sampling import DrawContext
from ..types import MapNeed

Draws = dict[str, Any]


@dataclass
class Call:
    """One call of a method on a batch, as every hook sees it.

    ctx: where and how the call draws (batch size, image size, device, generator, fixed λ, α).
    config: the validated parameter values.
    draws: the drawn values (see the module docstring), with `plan`'s results merged in.
    inputs: per input j, the per-image statistics of its source images, one row per sample.
    xs: the K inputs, each (B, C, H, W); None where a hook runs without pixels (mix_batch's labels).
    """

    ctx: DrawContext
    config: dict[str, Any]
    draws: Draws = field(default_factory=dict)
    inputs: list[dict[str, torch.Tensor]] = field(default_factory=list)
    xs: list[torch.Tensor] | None = None

    @property
    def height(self) -> int:
        return self.ctx.height

    @property
    def width(self) -> int:
        return self.ctx.width

    @property
    def batch(self) -> int:
        """Samples in this call (fewer than ctx.batch in a part of the batch, see `take`)."""
        return self.xs[0].shape[0] if self.xs else self.ctx.batch

    def take(self, samples: slice | torch.Tensor, xs: list[torch.Tensor]) -> "Call":
        """The call restricted to `samples`, with their inputs `xs`: per-sample draws and statistics indexed,
        per-call values kept."""
        def rows(d):
            return {k: (v[samples] if isinstance(v, torch.Tensor) else v) for k, v in d.items()}
        return replace(self, draws=rows(self.draws), inputs=[rows(s) for s in self.inputs], xs=xs)


class Method:
    """The interface every registered method implements (see the module docstring)."""

    spec: Any = None
    distinct_classes = False  # the paper mixes only images of different classes
    maps_any_size = False  # True where `maps` may be a coarse grid (the method pools them itself)
    guide_views: tuple[str, ...] = ()  # names of the pictures (mixviz.viz.guides.GUIDE_VIEWS) that explain a mix
    copies_pixels = False  # every output pixel is an input pixel or a constant fill: apply runs on uint8 too
    pointwise = False  # apply reads each output pixel from that pixel of its inputs only (one may be `out` itself)

    def draw(self, c: Call) -> Draws:
        raise NotImplementedError

    def guide_maps(self, config: dict) -> tuple[MapNeed, ...]:
        """The per-image maps this method is steered by, for `config`; () for methods that need none."""
        return ()

    def combine_maps(self, config: dict, maps: dict[str, torch.Tensor]) -> torch.Tensor:
        """(N, H, W) the one map per image the method uses, from its needed maps (keyed by MapNeed.key):
        the single map by default; TdAttenMix mixes two."""
        (only,) = maps.values()
        return only

    def per_image(self, c: Call, x: torch.Tensor, maps: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Statistics of each image of x (N, C, H, W) that later hooks need, from its guide `maps` (N, H, W)
        where the method has any. None by default."""
        return {}

    def plan(self, c: Call) -> Draws:
        """Per-sample choices that need both the draws and the routed statistics (c.inputs). None by default."""
        return {}

    def n_sources(self, c: Call) -> int:
        """How many inputs one output sample draws from (the batch engine pairs that many)."""
        return self.spec.n_inputs

    def partners(self, c: Call, y: torch.Tensor) -> torch.Tensor | None:
        """(B,) the index in the batch of each sample's second input, where the method chooses it from the
        labels y (B,); None: sample i is mixed with x[i − 1], x[i − 2], … (the default)."""
        return None

    def apply(self, c: Call, out: torch.Tensor) -> None:
        raise NotImplementedError

    def masks(self, c: Call) -> torch.Tensor:
        """(B, K, H, W): share of input k in each output pixel."""
        raise NotImplementedError

    def used(self, c: Call, masks: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W): in each input's own coordinates, how much of each of its pixels the mix shows, given
        the call's `masks`: the masks themselves for methods that leave every pixel where it was; methods
        that move, crop or resize an input say where its pixels came from."""
        return masks

    def weights(self, c: Call) -> torch.Tensor:
        """(B, K): label weight of each input."""
        raise NotImplementedError

    def class_weights(self, c: Call, weights: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
        """The label weights (B, 2) given, per sample, whether its two inputs share a class (`same`, (B,)
        bool): unchanged for most methods, whose weights then add up on that class."""
        return weights

    def label_rule(self, c: Call) -> str:
        """The rule that makes the label of this call (see MethodSpec.label_rule)."""
        return self.spec.label_rule

    def display(self, c: Call, out: torch.Tensor) -> torch.Tensor:
        """The mixed batch as a person should see it, in [0, 1] (identity for most methods)."""
        return out

    def info(self, c: Call) -> dict:
        """Sample 0's drawn values as plain Python values, for captions and tests."""
        info = {}
        for k, v in c.draws.items():
            if k in ("weights", "mask"):
                continue
            if isinstance(v, torch.Tensor):
                if v[0].numel() > 16:
                    continue
                v = v[0].tolist()
            info[k] = v
        return info


class TwoInputMask(Method):
    """Two inputs blended by the share map m of input 1: out = (1 − m)·x0 + m·x1, one lerp.

    torch.lerp is exact at m = 0 and m = 1, so hard masks copy pixels unchanged.
    """

    def mask1(self, c: Call, dtype: torch.dtype) -> torch.Tensor:
        """(B, 1 or C, H or 1, W or 1) share of input 1, in `dtype` on the call's device."""
        raise NotImplementedError

    def apply(self, c, out):
        if not out.is_floating_point():  # an integer batch: a method that copies pixels selects them
            torch.where(self.mask1(c, torch.float32) > 0.5, c.xs[1], c.xs[0], out=out)
            return
        torch.lerp(c.xs[0], c.xs[1], self.mask1(c, c.xs[0].dtype), out=out)

    def masks(self, c):
        m = self.mask1(c, torch.float32)
        m = m.mean(1, keepdim=True).expand(m.shape[0], 1, c.height, c.width)
        return torch.cat([1 - m, m], dim=1)


class TwoInputPaste(TwoInputMask):
    """Input 0 with a per-sample rectangle of content taken from input 1 (moved or resized).

    The rectangles differ in size per sample, so the content is copied with one slice copy per
    sample: on CPU that is several times faster than a vectorised gather of every pixel, and on a
    GPU it is a handful of small copies. `mask1` (the rectangle) serves the masks and labels.
    """

    def paste(self, c: Call, out: torch.Tensor) -> None:
        """Write input 1's content into the rectangles of `out` (which already holds input 0)."""
        raise NotImplementedError

    def apply(self, c, out):
        out.copy_(c.xs[0])
        self.paste(c, out)


class OneInputMask(Method):
    """One input, with parts replaced by a constant fill: out = m·x + (1 − m)·fill."""

    copies_pixels = True

    def mask0(self, c: Call, dtype: torch.dtype) -> torch.Tensor:
        """(B, 1, H, W) share of the input kept, in `dtype` on the call's device."""
        raise NotImplementedError

    def fill(self, c: Call) -> tuple[float, ...]:
        """The value of removed pixels, one per channel."""
        raise NotImplementedError

    def apply(self, c, out):
        x = c.xs[0]
        fill = self.fill(c)
        if not out.is_floating_point():  # uint8: the fill rounded to 0–255, as a float mix rounded would be
            colour = c.ctx.to_device(torch.tensor([round(255 * f) for f in fill], dtype=x.dtype)).view(1, -1, 1, 1)
            torch.where(self.mask0(c, torch.float32) > 0.5, x, colour, out=out)
            return
        m = self.mask0(c, x.dtype)
        if not any(fill):
            torch.mul(x, m, out=out)
        else:
            colour = c.ctx.to_device(torch.tensor(fill, dtype=x.dtype)).view(1, -1, 1, 1)
            torch.lerp(colour, x, m, out=out)

    def masks(self, c):
        m = self.mask0(c, torch.float32)
        return m.expand(m.shape[0], 1, c.height, c.width)

    def weights(self, c):
        """The label is kept: weight 1 for the one input."""
        return torch.ones(c.batch, 1, dtype=torch.float64)


def outer(rows: torch.Tensor, cols: torch.Tensor, dtype) -> torch.Tensor:
    """(B, 1, H, W) product of per-sample row (B, H) and column (B, W) indicators or weights."""
    return rows.to(dtype)[:, None, :, None] * cols.to(dtype)[:, None, None, :]


def cell_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """Cell k of `parts` along an axis of n pixels spans [⌈kn/parts⌉, ⌈(k+1)n/parts⌉)."""
    return [(-(-k * n // parts), -(-(k + 1) * n // parts)) for k in range(parts)]


def cell_index(n: int, parts: int, device=None) -> torch.Tensor:
    """(n,) the cell (as `cell_bounds` cuts them) that each of n pixels falls in."""
    sizes = torch.tensor([b - a for a, b in cell_bounds(n, parts)], device=device)
    return torch.repeat_interleave(torch.arange(parts, device=device), sizes)


def band(n: int, start: torch.Tensor, stop: torch.Tensor) -> torch.Tensor:
    """(B, n) bool: index i lies in [start, stop) of each sample."""
    idx = torch.arange(n, device=start.device)[None]
    return (idx >= start[:, None]) & (idx < stop[:, None])
