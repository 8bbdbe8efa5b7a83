"""Base classes for the batched methods: draw parameters once, then apply them to pixels.

A method sees K inputs `xs`, each (B, C, H, W), where input k of sample i is the k-th image
mixed into sample i. `draw` returns a dict of per-sample tensors (first dimension B) and
global values (keys starting with "_"); `apply` writes the mixed batch into `out`.
"""
from __future__ import annotations

from typing import Any

import torch

from ..sampling import Draw

Params = dict[str, Any]


def take(p: Params, index: slice | torch.Tensor) -> Params:
    """The per-sample entries of `p` restricted to `index`; global ("_"-prefixed) entries kept."""
    return {k: (v if k.startswith("_") or not isinstance(v, torch.Tensor) else v[index]) for k, v in p.items()}


class Method:
    """Interface every registered method implements (see module docstring)."""

    spec: Any = None
    distinct_classes = False  # the paper mixes only images of different classes
    maps_any_size = False  # True where `maps` may be a coarse grid (the method pools them itself)

    def draw(self, d: Draw) -> Params:
        raise NotImplementedError

    def per_image(self, x: torch.Tensor, params: dict, maps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Statistics of each image of x (N, C, H, W) that `apply` needs, computed once per call (from
        the caller's `maps` (N, H, W) where the method is guided by maps): the engine hands input j the
        rows of its own images as p["_inputs"][j]. None by default."""
        return {}

    def plan(self, p: Params) -> Params:
        """Per-sample choices that need both the draws and the routed per-image statistics
        (p["_inputs"]), such as where TdAttenMix moves its square or Puzzle Mix's graph cut. The engine
        calls it once per call, for the whole batch, and merges the result into p. None by default."""
        return {}

    def apply(self, xs: list[torch.Tensor], p: Params, out: torch.Tensor) -> None:
        raise NotImplementedError

    def masks(self, p: Params, like: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W): share of input k in each output pixel."""
        raise NotImplementedError

    def masks_for(self, p: Params, xs: list[torch.Tensor]) -> torch.Tensor:
        """Like `masks`, for methods whose shares depend on the pixels too."""
        return self.masks(p, xs[0])

    def used(self, p: Params, xs: list[torch.Tensor], masks: torch.Tensor) -> torch.Tensor:
        """(B, K, H, W): in each input's own coordinates, how much of each of its pixels the mix shows,
        given the call's `masks` (from `masks_for`). The masks themselves, for methods that leave every
        pixel where it was; methods that move, crop or resize an input say where its pixels came from."""
        return masks

    def weights_for(self, p: Params, k: int, height: int, width: int) -> torch.Tensor:
        """(B, k): label weight of each of the k inputs (most methods draw it as p["w"])."""
        return p["w"]

    def class_weights(self, weights: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
        """The label weights (B, 2) given, per sample, whether its two inputs share a class (`same`, (B,)
        bool): unchanged for most methods, whose weights then add up on that class."""
        return weights

    def label_rule(self, p: Params) -> str:
        """The rule that makes the label of this call (see MethodSpec.label_rule)."""
        return self.spec.label_rule

    def n_sources(self, p: Params) -> int:
        """How many inputs one output sample draws from (the batch engine pairs that many)."""
        return self.spec.n_inputs

    def union_label(self, p: Params) -> bool:
        """True where the target is the multi-hot union of the inputs' labels, not a weighted sum."""
        return self.label_rule(p) == "union"

    def partners(self, d: "Draw", y: torch.Tensor) -> torch.Tensor | None:
        """(B,) the index in the batch of each sample's second input, where the method chooses it from
        the labels y (B,); None: sample i is mixed with x[i − 1], x[i − 2], … (the default)."""
        return None

    def display(self, out: torch.Tensor, xs: list[torch.Tensor], p: Params) -> torch.Tensor:
        """The mixed batch as a person should see it, in [0, 1] (identity for most methods)."""
        return out

    def info(self, p: Params, xs: list[torch.Tensor]) -> dict:
        """Sample 0's drawn parameters as plain Python values, for captions and tests."""
        info = {}
        for k, v in p.items():
            if k.startswith("_") or k in ("w", "mask"):
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

    def mask1(self, p: Params, like: torch.Tensor) -> torch.Tensor:
        """(B, 1 or C, H or 1, W or 1) share of input 1, in `like`'s dtype and device."""
        raise NotImplementedError

    def apply(self, xs, p, out):
        torch.lerp(xs[0], xs[1], self.mask1(p, xs[0]), out=out)

    def masks(self, p, like):
        m = self.mask1(p, like).float()
        b, _, h, w = like.shape
        m = m.mean(1, keepdim=True).expand(b, 1, h, w)
        return torch.cat([1 - m, m], dim=1)


class TwoInputPaste(TwoInputMask):
    """Input 0 with a per-sample rectangle of content taken from input 1 (moved or resized).

    The rectangles differ in size per sample, so the content is copied with one slice copy per
    sample: on CPU that is several times faster than a vectorised gather of every pixel, and on a
    GPU it is a handful of small copies. `mask1` (the rectangle) serves the masks and labels.
    """

    def paste(self, x1: torch.Tensor, p: Params, out: torch.Tensor) -> None:
        """Write input 1's content into the rectangles of `out` (which already holds input 0)."""
        raise NotImplementedError

    def apply(self, xs, p, out):
        out.copy_(xs[0])
        self.paste(xs[1], p, out)


class OneInputMask(Method):
    """One input, with parts replaced by a constant fill: out = m·x + (1 − m)·fill."""

    def mask0(self, p: Params, like: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def apply(self, xs, p, out):
        """p["_fill"]: the value of removed pixels, one per channel."""
        m = self.mask0(p, xs[0])
        fill = p["_fill"]
        if not any(fill):
            torch.mul(xs[0], m, out=out)
        else:
            colour = torch.tensor(fill, dtype=xs[0].dtype, device=xs[0].device).view(1, -1, 1, 1)
            torch.lerp(colour, xs[0], m, out=out)

    def masks(self, p, like):
        b, _, h, w = like.shape
        return self.mask0(p, like).float().expand(b, 1, h, w)

    def weights_for(self, p, k, height, width):
        b = next(v for name, v in p.items() if isinstance(v, torch.Tensor) and not name.startswith("_")).shape[0]
        return torch.ones(b, 1, dtype=torch.float64)


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
