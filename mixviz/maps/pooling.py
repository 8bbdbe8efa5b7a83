"""Pooling illustrations: max and average pooling of a small matrix, window by window, and global
average vs global max pooling of a real feature map (as in Lin et al., Network in Network, 2014)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..types import MixError


@dataclass(frozen=True)
class Window:
    """One pooling window: output cell (row, col), the input rows [top, bottom) and columns
    [left, right) it covers, and for max pooling the input cell that won."""

    row: int
    col: int
    top: int
    bottom: int
    left: int
    right: int
    argmax: tuple[int, int] | None


@dataclass(frozen=True)
class Pooled:
    output: np.ndarray
    windows: list[Window]


def pool2d(matrix, kind: str = "max", size: int = 2, stride: int = 2) -> Pooled:
    """Max ("max") or average ("avg") pooling of a 2-D matrix, with no padding (torch's pooling),
    and every window it used, so a page can highlight them one by one."""
    m = torch.as_tensor(np.asarray(matrix, dtype=np.float64))
    if m.dim() != 2 or m.numel() == 0:
        raise MixError(f"pooling takes a non-empty 2-D matrix, got shape {tuple(m.shape)}")
    if kind not in ("max", "avg"):
        raise MixError(f"pooling kind must be 'max' or 'avg', got {kind!r}")
    if not (isinstance(size, int) and isinstance(stride, int) and size >= 1 and stride >= 1):
        raise MixError(f"kernel size and stride must be whole numbers ≥ 1, got {size} and {stride}")
    h, w = m.shape
    if size > h or size > w:
        raise MixError(f"a {size}×{size} kernel does not fit in a {h}×{w} matrix")
    x = m[None, None]
    if kind == "max":
        out, idx = F.max_pool2d(x, size, stride, return_indices=True)
        idx = idx[0, 0]
    else:
        out, idx = F.avg_pool2d(x, size, stride), None
    out = out[0, 0]
    windows = []
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            top, left = r * stride, c * stride
            arg = None if idx is None else divmod(int(idx[r, c]), w)
            windows.append(Window(r, c, top, top + size, left, left + size, arg))
    return Pooled(out.numpy(), windows)


@dataclass(frozen=True)
class GlobalPooled:
    average: torch.Tensor  # (C,) global average pooling: what GAP networks (Xception, EfficientNet) feed their head
    maximum: torch.Tensor  # (C,) global max pooling of the same map


def global_pool(features: torch.Tensor) -> GlobalPooled:
    """Global average and global max pooling of a (C, h, w) feature map."""
    if features.dim() != 3:
        raise MixError(f"a feature map is (C, h, w), got shape {tuple(features.shape)}")
    flat = features.detach().float().flatten(1)
    return GlobalPooled(flat.mean(1), flat.amax(1))
