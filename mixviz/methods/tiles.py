"""Methods that assemble the output from whole rows, columns, tiles or pixels of the inputs.

The concatenation family of Summers & Dinneen (WACV 2019), surveyed by Lewy & Mańdziuk (2022);
RICAP (Takahashi, Matsubara & Uehara, ACML 2018); SpliceMix (Wang et al., 2023).
In the concat family λ (fixed, or Beta(α, α); α = 1 is the reference's uniform draw) sets the
split or the probability of taking the first image, and the label is the actual share.
"""
from __future__ import annotations

import torch

from ..registry import register
from ..types import MixError, ParamSpec
from .base import Method, TwoInputMask
from .resample import bilinear_at, resize_coords, take_pixels

SD = "Summers & Dinneen. Improved Mixed-Example Data Augmentation. WACV 2019."
SHARE = r"\quad \tilde y = \bar M y_A + (1-\bar M) y_B"


def _grid(h: int, w: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.arange(h, device=device).view(1, 1, h, 1), torch.arange(w, device=device).view(1, 1, 1, w)


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.view(-1, 1, 1, 1)


def _w(share0: torch.Tensor) -> torch.Tensor:
    share0 = share0.double()
    return torch.stack([share0, 1 - share0], 1)


@register(name="vertical_concat", title="Vertical concat", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The top rows come from the first image and the bottom rows from the second; the split is at "
                  "row round(λH).",
          formula=r"M_{ij} = [\,i < \mathrm{round}(\lambda H)\,],\quad \tilde x = M\odot x_A + (1-M)\odot x_B" + SHARE)
class VerticalConcat(TwoInputMask):
    def draw(self, d):
        lam = d.lam_or_beta()
        split = torch.round(lam * d.height).long()
        return {"lam": lam, "split": split, "w": _w(split / d.height)}

    def mask0(self, p, like):
        rows, _ = _grid(like.shape[2], like.shape[3], like.device)
        return (rows < _col(p["split"])).to(like.dtype)


@register(name="horizontal_concat", title="Horizontal concat", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The left columns come from the first image and the right columns from the second; the split "
                  "is at column round(λW).",
          formula=r"M_{ij} = [\,j < \mathrm{round}(\lambda W)\,],\quad \tilde x = M\odot x_A + (1-M)\odot x_B" + SHARE)
class HorizontalConcat(TwoInputMask):
    def draw(self, d):
        lam = d.lam_or_beta()
        split = torch.round(lam * d.width).long()
        return {"lam": lam, "split": split, "w": _w(split / d.width)}

    def mask0(self, p, like):
        _, cols = _grid(like.shape[2], like.shape[3], like.device)
        return (cols < _col(p["split"])).to(like.dtype)


@register(name="mixed_concat", title="Mixed concat", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The image is split into 2×2 quadrants at row round(λ₁H) and column round(λ₂W); the top-left and "
                  "bottom-right quadrants come from the first image. A fixed λ sets both fractions.",
          formula=r"M_{ij} = [\,i < \lambda_1 H\,] = [\,j < \lambda_2 W\,],\quad "
                  r"\bar M = \lambda_1\lambda_2 + (1-\lambda_1)(1-\lambda_2)" + SHARE)
class MixedConcat(TwoInputMask):
    """Rows split by λ₁·H and columns by λ₂·W, so non-square images split where the label says
    (the reference code uses a column draw for the row split, which only works on squares)."""

    def draw(self, d):
        lam = d.lam_or_beta()
        lam2 = lam.clone() if d.lam is not None else d.beta(d.alpha)
        sr, sc = torch.round(lam * d.height).long(), torch.round(lam2 * d.width).long()
        area0 = sr * sc + (d.height - sr) * (d.width - sc)
        return {"lam": lam, "lam2": lam2, "split_row": sr, "split_col": sc,
                "w": _w(area0 / (d.height * d.width))}

    def mask0(self, p, like):
        rows, cols = _grid(like.shape[2], like.shape[3], like.device)
        return ((rows < _col(p["split_row"])) == (cols < _col(p["split_col"]))).to(like.dtype)


@register(name="random_2x2", title="Random 2×2", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The image is split into four quadrants at a random row and column in the middle half; each "
                  "quadrant comes from the first image with probability λ, else from the second.",
          formula=r"s_r \sim U[\tfrac H4, \tfrac{3H}4),\ s_c \sim U[\tfrac W4, \tfrac{3W}4),"
                  r"\quad c_q \sim \mathrm{Bernoulli}(\lambda)\ \text{per quadrant}" + SHARE)
class Random2x2(TwoInputMask):
    def draw(self, d):
        lam = d.lam_or_beta()
        splits = []
        for n in (d.height, d.width):
            lo = round(0.25 * n)
            hi = max(lo + 1, n - lo)
            splits.append(lo + d.randint(hi - lo))
        sr, sc = splits
        cells = d.rand(d.batch, 4).double() < lam[:, None]
        h, w = d.height, d.width
        areas = torch.stack([sr * sc, sr * (w - sc), (h - sr) * sc, (h - sr) * (w - sc)], 1)
        share0 = (areas * cells).sum(1) / (h * w)
        return {"lam": lam, "split_row": sr, "split_col": sc, "cells": cells, "w": _w(share0)}

    def mask0(self, p, like):
        rows, cols = _grid(like.shape[2], like.shape[3], like.device)
        quadrant = 2 * (rows >= _col(p["split_row"])).long() + (cols >= _col(p["split_col"])).long()
        return p["cells"].to(like.dtype).gather(1, quadrant.flatten(1)).view(quadrant.shape)


class _Interval(TwoInputMask):
    """A band of (1−λ)·N rows or columns at a uniform place takes the second image's band that starts at
    another uniform place (as in the reference code, the band may be shifted)."""

    axis = 2  # 2: rows, 3: columns

    def draw(self, d):
        lam = d.lam_or_beta()
        n = d.height if self.axis == 2 else d.width
        length = torch.round((1 - lam) * n).long()
        start, source = d.randint(n - length + 1), d.randint(n - length + 1)
        return {"lam": lam, "start": start, "source_start": source, "length": length, "w": _w((n - length) / n)}

    def _inside(self, p, like):
        n = like.shape[self.axis]
        idx = torch.arange(n, device=like.device)[None]
        inside = (idx >= p["start"][:, None]) & (idx < (p["start"] + p["length"])[:, None])
        return idx, inside

    def mask0(self, p, like):
        _, inside = self._inside(p, like)
        shape = (-1, 1, like.shape[2], 1) if self.axis == 2 else (-1, 1, 1, like.shape[3])
        return (~inside).to(like.dtype).view(shape)

    def source1(self, x1, p):
        idx, inside = self._inside(p, x1)
        src = torch.where(inside, idx + (p["source_start"] - p["start"])[:, None], idx)
        b, _, h, w = x1.shape
        if self.axis == 2:
            return take_pixels(x1, src, torch.arange(w, device=x1.device).expand(b, w))
        return take_pixels(x1, torch.arange(h, device=x1.device).expand(b, h), src)


@register(name="random_row_interval", title="Random row interval", family="tiles", n_inputs=2, params=(),
          paper=SD, summary="A horizontal band of round((1−λ)H) rows, at a random height, is taken from the second "
                            "image (from a band that starts at its own random height).",
          formula=r"M_{ij} = [\,i \notin [s, s + (1-\lambda)H)\,]" + SHARE)
class RandomRowInterval(_Interval):
    axis = 2


@register(name="random_column_interval", title="Random column interval", family="tiles", n_inputs=2, params=(),
          paper=SD, summary="A vertical band of round((1−λ)W) columns, at a random place, is taken from the second "
                            "image (from a band that starts at its own random place).",
          formula=r"M_{ij} = [\,j \notin [s, s + (1-\lambda)W)\,]" + SHARE)
class RandomColumnInterval(_Interval):
    axis = 3


class _RandomField(TwoInputMask):
    """Each unit (row, column, pixel or element) comes from the first image with probability λ."""

    def field_shape(self, d):
        raise NotImplementedError

    def draw(self, d):
        lam = d.lam_or_beta()
        u = d.rand(*self.field_shape(d), on_device=True)
        mask = u < lam.to(u.dtype).view(-1, 1, 1, 1)
        return {"lam": lam, "mask": mask, "w": _w(mask.flatten(1).double().mean(1))}

    def mask0(self, p, like):
        return p["mask"].to(like.dtype)


def _field(name, title, unit, shape_fn, formula):
    cls = type(title.replace(" ", ""), (_RandomField,), {"field_shape": lambda self, d: shape_fn(d)})
    summary = (f"Each {unit} is taken from the first image with probability λ and from the second otherwise; "
               f"the label is the actual share of {unit}s.")
    return register(name=name, title=title, family="tiles", n_inputs=2, params=(), paper=SD,
                    summary=summary, formula=formula + SHARE)(cls)


RandomRows = _field("random_rows", "Random rows", "row", lambda d: (d.batch, 1, d.height, 1),
                    r"M_{i\cdot} \sim \mathrm{Bernoulli}(\lambda)")
RandomColumns = _field("random_columns", "Random columns", "column", lambda d: (d.batch, 1, 1, d.width),
                       r"M_{\cdot j} \sim \mathrm{Bernoulli}(\lambda)")
RandomPixels = _field("random_pixels", "Random pixels", "pixel", lambda d: (d.batch, 1, d.height, d.width),
                      r"M_{ij} \sim \mathrm{Bernoulli}(\lambda)")
RandomElements = _field("random_elements", "Random elements", "element (one channel of one pixel)",
                        lambda d: (d.batch, d.channels, d.height, d.width),
                        r"M_{cij} \sim \mathrm{Bernoulli}(\lambda)")


@register(
    name="ricap", title="RICAP", family="tiles", n_inputs=4,
    params=(ParamSpec("beta", 0.3, 0.05, 5.0, 0.05, "β of Beta(β, β) that draws the split point"),),
    paper="Takahashi, Matsubara & Uehara. RICAP: Random Image Cropping and Patching Data Augmentation for "
          "Deep CNNs. ACML 2018.",
    summary="A split point (w, h) drawn from Beta(β, β) cuts the output into four tiles; each tile is a crop, at a "
            "random position and not resized, of a different image. Labels are weighted by tile area.",
    formula=r"w = \mathrm{round}(W\,\mathrm{Beta}(\beta,\beta)),\ h = \mathrm{round}(H\,\mathrm{Beta}(\beta,\beta)),"
            r"\quad \tilde y = \sum_{k=1}^{4} \frac{w_k h_k}{WH}\, y_k",
    uses_lam=False,
)
class Ricap(Method):
    """Tiles in reading order: 0 top-left (h × w), 1 top-right, 2 bottom-left, 3 bottom-right."""

    def draw(self, d):
        beta = d.params["beta"]
        h, w = d.height, d.width
        bh = torch.round(h * d.beta(beta)).long()
        bw = torch.round(w * d.beta(beta)).long()
        th = torch.stack([bh, bh, h - bh, h - bh], 1)
        tw = torch.stack([bw, w - bw, bw, w - bw], 1)
        oy = d.randint((h - th + 1).flatten(), 4 * d.batch).view(d.batch, 4)
        ox = d.randint((w - tw + 1).flatten(), 4 * d.batch).view(d.batch, 4)
        return {"split_row": bh, "split_col": bw, "tile_h": th, "tile_w": tw, "crop_y": oy, "crop_x": ox,
                "w": (th * tw).double() / (h * w)}

    def _tile(self, p, like):
        rows, cols = _grid(like.shape[2], like.shape[3], like.device)
        return 2 * (rows >= _col(p["split_row"])).long() + (cols >= _col(p["split_col"])).long()

    def apply(self, xs, p, out):
        b, _, h, w = xs[0].shape
        rows = torch.arange(h, device=out.device)[None]
        cols = torch.arange(w, device=out.device)[None]
        tile = self._tile(p, xs[0])
        for k in range(4):
            top = p["split_row"][:, None] if k >= 2 else 0
            left = p["split_col"][:, None] if k % 2 else 0
            src_r = (rows - top + p["crop_y"][:, k, None]).clamp(0, h - 1)
            src_c = (cols - left + p["crop_x"][:, k, None]).clamp(0, w - 1)
            crop = take_pixels(xs[k], src_r, src_c)
            if k == 0:
                out.copy_(crop)
            else:
                out.copy_(torch.where(tile == k, crop, out))

    def masks(self, p, like):
        tile = self._tile(p, like)
        return torch.cat([(tile == k).float() for k in range(4)], 1).expand(-1, 4, like.shape[2], like.shape[3])


GRIDS = {"1x2": (1, 2), "2x1": (2, 1), "2x2": (2, 2), "2x3": (2, 3), "3x2": (3, 2)}


@register(
    name="splicemix", title="SpliceMix", family="tiles", n_inputs=4,
    params=(ParamSpec("grid", "random", choices=("random", *GRIDS),
                      help="rows×columns of the splice; random: 1×2 (p 0.3), 2×2 (0.4) or 2×3 (0.3), "
                           "non-square grids transposed with p 0.5"),
            ParamSpec("drop_prob", 0.3, 0.0, 1.0, 0.05, "probability that some cells (1 to cells−1) are dropped to black"),
            ParamSpec("label", "union", choices=("union", "area"),
                      help="union: the paper's multi-hot label of the images still visible; area: weights by area")),
    paper="Wang, Zhang, Huang, Zhang & Wang. SpliceMix: A Cross-scale and Semantic Blending Augmentation Strategy "
          "for Multi-label Image Classification. arXiv:2311.15200, 2023.",
    summary="Several images are shrunk and spliced side by side in a grid, so objects appear at a smaller scale "
            "with new neighbours; some cells may be dropped. The multi-label target is the union of the labels "
            "still visible.",
    formula=r"\tilde x = \mathrm{Splice}_{r\times c}\big(\mathrm{Resize}(x_1), \dots, \mathrm{Resize}(x_{rc})\big),"
            r"\quad \tilde y = \bigvee_{k\ \text{not dropped}} y_k",
    uses_lam=False, label_rule="union",
)
class SpliceMix(Method):
    """Per-sample grids. Cell (r, c) holds source r·cols + c, bilinearly resized (align_corners=True, as in
    the reference) to a cell of rows [round(rH/R), round((r+1)H/R)). With fewer images than cells
    (`mix` with four images and a 2×3 grid) the images are used again in order. The paper appends
    B/4 spliced images to the batch; `mix_batch` returns one spliced image per sample."""

    def draw(self, d):
        b = d.batch
        choice = d.params["grid"]
        if choice == "random":
            coin = d.rand(b).double()
            rows = torch.where(coin > 0.7, 1, 2)
            cols = torch.where(coin > 0.7, 2, torch.where(coin > 0.3, 2, 3))
            swap = d.rand(b) < 0.5
            rows, cols = torch.where(swap, cols, rows), torch.where(swap, rows, cols)
        else:
            r, c = GRIDS[choice]
            rows = torch.full((b,), r, dtype=torch.long, device=d.device)
            cols = torch.full((b,), c, dtype=torch.long, device=d.device)
        cells = rows * cols
        drop = d.rand(b) < d.params["drop_prob"]
        n_drop = torch.where(drop, 1 + d.randint(cells - 1), 0)
        keys = d.rand(b, 6).masked_fill(torch.arange(6, device=d.device)[None] >= cells[:, None], 2.0)
        rank = keys.argsort(1).argsort(1)
        dropped = rank < n_drop[:, None]
        return {"rows": rows, "cols": cols, "dropped": dropped, "_label": d.params["label"]}

    def n_sources(self, p):
        return int((p["rows"] * p["cols"]).max())

    def union_label(self, p):
        return p["_label"] == "union"

    @staticmethod
    def _axis(n: int, parts: torch.Tensor):
        """Cell index of each of n pixels split into `parts` cells (cell k spans [⌈kn/parts⌉, ⌈(k+1)n/parts⌉)),
        and each pixel's source coordinate when the whole axis is resized into its cell."""
        idx = torch.arange(n, device=parts.device)[None]
        parts = parts[:, None]
        k = idx * parts // n
        start = (k * n + parts - 1) // parts
        end = ((k + 1) * n + parts - 1) // parts
        return k, resize_coords(idx, start, end - start, n, True)

    def _cells(self, p, h, w):
        """Cell index map (B, 1, H, W) and per-sample source coordinates of each output row and column."""
        kr, src_r = self._axis(h, p["rows"])
        kc, src_c = self._axis(w, p["cols"])
        cell = kr[:, None, :, None] * p["cols"][:, None, None, None] + kc[:, None, None, :]
        return cell, src_r, src_c

    def apply(self, xs, p, out):
        b, _, h, w = xs[0].shape
        cell, src_r, src_c = self._cells(p, h, w)
        keep = ~p["dropped"]
        out.zero_()
        for j in range(self.n_sources(p)):
            present = (cell == j) & keep[:, j, None, None, None]
            if bool(present.any()):
                out.copy_(torch.where(present, bilinear_at(xs[j % len(xs)], src_r, src_c), out))

    def _shares(self, p, like, k):
        _, _, h, w = like.shape
        cell, _, _ = self._cells(p, h, w)
        keep = ~p["dropped"]
        shares = torch.zeros(cell.shape[0], k, h, w, device=like.device)
        for j in range(self.n_sources(p)):
            shares[:, j % k] += ((cell[:, 0] == j) & keep[:, j, None, None]).float()
        return shares

    def masks_for(self, p, xs):
        return self._shares(p, xs[0], len(xs))

    def weights_for(self, p, k, h, w):
        like = torch.empty(1, 1, h, w, device=p["rows"].device).expand(p["rows"].shape[0], 1, h, w)
        return self._shares(p, like, k).flatten(2).double().mean(2)
