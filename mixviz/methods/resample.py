"""Per-sample resampling used by the methods that move or resize an input (ResizeMix, RICAP, SpliceMix)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def bilinear_at(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """x (B, C, H, W) sampled bilinearly at per-sample pixel coordinates.

    rows (B, Ho) and cols (B, Wo) are source coordinates in pixel-index units (0 is the centre
    of the first pixel); values outside the image take the nearest border pixel.
    """
    b, _, h, w = x.shape
    gy = rows.to(x.dtype) * (2.0 / max(h - 1, 1)) - 1.0
    gx = cols.to(x.dtype) * (2.0 / max(w - 1, 1)) - 1.0
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)


def resize_coords(out_index: torch.Tensor, start: torch.Tensor, size: torch.Tensor, full: int,
                  align_corners: bool) -> torch.Tensor:
    """Source coordinate, in a `full`-pixel axis, of output pixel `out_index` of a window
    [start, start + size) that shows the whole axis resized (F.interpolate's conventions)."""
    local = (out_index - start).double()
    size = size.double()
    if align_corners:
        return local * (full - 1) / (size - 1).clamp_min(1)
    return ((local + 0.5) * full / size - 0.5).clamp_min(0)


def take_pixels(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """x[b, :, rows[b, i], cols[b, j]] for every sample: (B, C, Ho, Wo), integer coordinates."""
    b = torch.arange(x.shape[0], device=x.device)
    return x[b[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
