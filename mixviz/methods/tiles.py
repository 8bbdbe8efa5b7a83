"""Methods that assemble the output from whole rows, columns, tiles or pixels of the inputs.

The concatenation family of Summers & Dinneen (WACV 2019), surveyed by Lewy & Mańdziuk (Artificial
Intelligence Review, 2023); RICAP (Takahashi, Matsubara & Uehara, ACML 2018); SpliceMix (Wang et al.,
arXiv:2311.15200, 2023). In the concat family a fixed λ sets the split or the probability of taking the
first image, and the label is the actual share. A drawn λ ~ Beta(α, α) with α = 1 is the reference's
uniform split or probability, except for the row and column intervals, whose band the reference draws
from two uniform ends (see _Interval), and which therefore take no α.
"""
from __future__ import annotations

import torch

from ..registry import register
from ..sampling import real
from ..types import ParamSpec
from .base import Call, Method, TwoInputMask, TwoInputPaste, band, cell_bounds

SD = "Summers & Dinneen. Improved Mixed-Example Data Augmentation. WACV 2019."
SHARE = r",\quad \tilde y = \bar M y_A + (1-\bar M) y_B"


def _rows_from(split: torch.Tensor, h: int, dtype) -> torch.Tensor:
    """(B, 1, H, 1): 1 where the row index is at least `split` (per sample)."""
    return (torch.arange(h, device=split.device)[None] >= split[:, None]).to(dtype).view(-1, 1, h, 1)


def _cols_from(split: torch.Tensor, w: int, dtype) -> torch.Tensor:
    """(B, 1, 1, W): 1 where the column index is at least `split` (per sample)."""
    return (torch.arange(w, device=split.device)[None] >= split[:, None]).to(dtype).view(-1, 1, 1, w)


def _w(share0: torch.Tensor) -> torch.Tensor:
    """Label weights (B, 2) from the first image's share of the pixels."""
    share0 = real(share0)
    return torch.stack([share0, 1 - share0], 1)


class _ShareDrawn(TwoInputMask):
    """A two-input method whose draw records the first image's actual share of the pixels as "share0"."""

    copies_pixels = True

    def weights(self, c):
        """The actual shares of the pixels: the first image's and the rest."""
        return _w(c.draws["share0"])


@register(name="vertical_concat", title="Vertical concat", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The top rows come from the first image and the bottom rows from the second; the split is at "
                  "row round(λH).",
          formula=r"M_{ij} = [\,i < \mathrm{round}(\lambda H)\,],\quad \tilde x = M\odot x_A + (1-M)\odot x_B" + SHARE)
class VerticalConcat(_ShareDrawn):
    """The first round(λ·N) rows (or, for HorizontalConcat, columns) from the first image."""

    rows = True

    def draw(self, c):
        d = c.ctx
        lam = d.lam_or_beta()
        n = d.height if self.rows else d.width
        split = torch.round(lam * n).long()
        return {"lam": lam, "split": split, "share0": split / n}

    def mask1(self, c, dtype):
        if self.rows:
            return _rows_from(c.draws["split"], c.height, dtype)
        return _cols_from(c.draws["split"], c.width, dtype)


@register(name="horizontal_concat", title="Horizontal concat", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The left columns come from the first image and the right columns from the second; the split "
                  "is at column round(λW).",
          formula=r"M_{ij} = [\,j < \mathrm{round}(\lambda W)\,],\quad \tilde x = M\odot x_A + (1-M)\odot x_B" + SHARE)
class HorizontalConcat(VerticalConcat):
    rows = False


@register(name="mixed_concat", title="Mixed concat", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The image is split into 2×2 quadrants at row round(λ₁H) and column round(λ₂W); the top-left and "
                  "bottom-right quadrants come from the first image. A fixed λ sets both fractions.",
          formula=r"M_{ij} = [\,i < \lambda_1 H\,]\,[\,j < \lambda_2 W\,]"
                  r" + [\,i \ge \lambda_1 H\,]\,[\,j \ge \lambda_2 W\,],\quad "
                  r"\bar M = \lambda_1\lambda_2 + (1-\lambda_1)(1-\lambda_2)" + SHARE)
class MixedConcat(_ShareDrawn):
    """Rows split by λ₁·H and columns by λ₂·W, so non-square images split where the label says
    (the reference code uses a column draw for the row split, which only works on squares)."""

    def draw(self, c):
        d = c.ctx
        lam = d.lam_or_beta()
        lam2 = lam.clone() if d.lam is not None else d.beta(d.alpha)
        sr, sc = torch.round(lam * d.height).long(), torch.round(lam2 * d.width).long()
        area0 = sr * sc + (d.height - sr) * (d.width - sc)
        return {"lam": lam, "lam2": lam2, "split_row": sr, "split_col": sc, "share0": area0 / (d.height * d.width)}

    def mask1(self, c, dtype):
        below = _rows_from(c.draws["split_row"], c.height, dtype)
        right = _cols_from(c.draws["split_col"], c.width, dtype)
        return torch.lerp(right, 1 - right, below)  # below XOR right, built in one broadcast pass


@register(name="random_2x2", title="Random 2×2", family="tiles", n_inputs=2, params=(), paper=SD,
          summary="The image is split into four quadrants at a random row and column in the middle half; each "
                  "quadrant comes from the first image with probability λ, else from the second.",
          formula=r"s_r \sim U[\tfrac H4, \tfrac{3H}4),\ s_c \sim U[\tfrac W4, \tfrac{3W}4),"
                  r"\quad c_q \sim \mathrm{Bernoulli}(\lambda)\ \text{per quadrant}" + SHARE)
class Random2x2(_ShareDrawn):
    def draw(self, c):
        d = c.ctx
        lam = d.lam_or_beta()
        splits = []
        for n in (d.height, d.width):
            lo = round(0.25 * n)
            hi = max(lo + 1, n - lo)
            splits.append(lo + d.randint(hi - lo))
        sr, sc = splits
        cells = real(d.rand(d.batch, 4)) < lam[:, None]
        h, w = d.height, d.width
        areas = torch.stack([sr * sc, sr * (w - sc), (h - sr) * sc, (h - sr) * (w - sc)], 1)
        share0 = (areas * cells).sum(1) / (h * w)
        return {"lam": lam, "split_row": sr, "split_col": sc, "cells": cells, "share0": share0}

    def mask1(self, c, dtype):
        p = c.draws
        from_1 = (~p["cells"]).to(dtype).view(-1, 4, 1, 1)  # quadrants in reading order
        below, right = _rows_from(p["split_row"], c.height, dtype), _cols_from(p["split_col"], c.width, dtype)
        top = torch.lerp(from_1[:, 0:1], from_1[:, 1:2], right)
        bottom = torch.lerp(from_1[:, 2:3], from_1[:, 3:4], right)
        return torch.lerp(top, bottom, below)


INTERVAL_DRAW = ("the band's start is uniform and its end uniform between the start and the last {unit}, and the "
                 "band it shows starts at its own uniform place, as in the authors' code; α plays no part, and the "
                 "first image keeps about 76% of the picture on average")


class _Interval(TwoInputPaste, _ShareDrawn):
    """A band of rows or columns takes the second image's band of the same length, which starts at its own
    uniform place. With λ fixed the band is round((1−λ)·N) long at a uniform place. With λ drawn, the band
    is drawn as the reference code draws it: start s ~ U{0, …, N−1}, end e ~ U{s, …, N−1}, length e − s
    (skewed short: at N = 32 the first image keeps 76% on average), source start ~ U{0, …, N−length−1};
    λ is then the first image's share (N − length)/N, the reference's mixing coefficient."""

    axis = 2  # 2: rows, 3: columns

    def draw(self, c):
        d = c.ctx
        n = d.height if self.axis == 2 else d.width
        if d.lam is None:
            start = d.randint(n)
            length = d.randint(n - start)
            lam = real(n - length) / n
        else:
            lam = d.lam_or_beta()
            length = torch.round((1 - lam) * n).long()
            start = d.randint(n - length + 1)
        source = d.randint((n - length).clamp_min(1))
        return {"lam": lam, "start": start, "source_start": source, "length": length, "share0": (n - length) / n}

    def _band(self, c: Call, start: torch.Tensor, dtype) -> torch.Tensor:
        n = c.height if self.axis == 2 else c.width
        inside = band(n, start, start + c.draws["length"]).to(dtype)
        return inside.view(-1, 1, n, 1) if self.axis == 2 else inside.view(-1, 1, 1, n)

    def mask1(self, c, dtype):
        return self._band(c, c.draws["start"], dtype)

    def used(self, c, masks):
        """The first image outside its band; the second image in the band it gives."""
        return torch.cat([masks[:, :1], self._band(c, c.draws["source_start"], masks.dtype).expand_as(masks[:, 1:])], 1)

    def paste(self, c, out):
        x1, p = c.xs[1], c.draws
        bands = torch.stack([p["start"], p["source_start"], p["length"]], 1).tolist()
        for i, (start, source, length) in enumerate(bands):
            out[i].narrow(self.axis - 1, start, length).copy_(x1[i].narrow(self.axis - 1, source, length))


@register(name="random_row_interval", title="Random row interval", family="tiles", n_inputs=2, params=(),
          paper=SD, summary="A horizontal band of rows, at a random height, is taken from the second image (from a band "
                            "that starts at its own random height). A fixed λ makes it round((1−λ)H) rows; a drawn "
                            "band has two uniform ends, as in the authors' code, so it is usually short.",
          formula=r"M_{ij} = [\,i \notin [s, e)\,],\quad s \sim U\{0..H{-}1\},\ e \sim U\{s..H{-}1\}"
                  r"\ \text{or}\ e - s = \mathrm{round}((1-\lambda)H)" + SHARE,
          alpha=None, lam_draw=INTERVAL_DRAW.format(unit="row"))
class RandomRowInterval(_Interval):
    axis = 2


@register(name="random_column_interval", title="Random column interval", family="tiles", n_inputs=2, params=(),
          paper=SD, summary="A vertical band of columns, at a random place, is taken from the second image (from a band "
                            "that starts at its own random place). A fixed λ makes it round((1−λ)W) columns; a drawn "
                            "band has two uniform ends, as in the authors' code, so it is usually narrow.",
          formula=r"M_{ij} = [\,j \notin [s, e)\,],\quad s \sim U\{0..W{-}1\},\ e \sim U\{s..W{-}1\}"
                  r"\ \text{or}\ e - s = \mathrm{round}((1-\lambda)W)" + SHARE,
          alpha=None, lam_draw=INTERVAL_DRAW.format(unit="column"))
class RandomColumnInterval(_Interval):
    axis = 3


class _RandomField(_ShareDrawn):
    """Each unit (row, column, pixel or element) comes from the first image with probability λ."""

    def field_shape(self, c: Call) -> tuple[int, ...]:
        """The shape of the drawn field, (B, 1 or C, 1 or H, 1 or W)."""
        raise NotImplementedError

    def draw(self, c):
        lam = c.ctx.lam_or_beta()
        from_1 = c.ctx.bernoulli(1 - lam, *self.field_shape(c))  # 1: the unit comes from the second image
        share1 = real(from_1.flatten(1).sum(1)) / from_1[0].numel()
        return {"lam": lam, "mask": from_1, "share0": 1 - share1}

    def mask1(self, c, dtype):
        return c.draws["mask"].to(dtype)


def _field_summary(unit: str) -> str:
    return (f"Each {unit} is taken from the first image with probability λ and from the second otherwise; "
            f"the label is the actual share of {unit}s.")


@register(name="random_rows", title="Random rows", family="tiles", n_inputs=2, params=(), paper=SD,
          summary=_field_summary("row"), formula=r"M_{i\cdot} \sim \mathrm{Bernoulli}(\lambda)" + SHARE)
class RandomRows(_RandomField):
    def field_shape(self, c):
        return (c.ctx.batch, 1, c.height, 1)


@register(name="random_columns", title="Random columns", family="tiles", n_inputs=2, params=(), paper=SD,
          summary=_field_summary("column"), formula=r"M_{\cdot j} \sim \mathrm{Bernoulli}(\lambda)" + SHARE)
class RandomColumns(_RandomField):
    def field_shape(self, c):
        return (c.ctx.batch, 1, 1, c.width)


@register(name="random_pixels", title="Random pixels", family="tiles", n_inputs=2, params=(), paper=SD,
          summary=_field_summary("pixel"), formula=r"M_{ij} \sim \mathrm{Bernoulli}(\lambda)" + SHARE)
class RandomPixels(_RandomField):
    def field_shape(self, c):
        return (c.ctx.batch, 1, c.height, c.width)


@register(name="random_elements", title="Random elements", family="tiles", n_inputs=2, params=(), paper=SD,
          summary=_field_summary("element (one channel of one pixel)"),
          formula=r"M_{cij} \sim \mathrm{Bernoulli}(\lambda)" + SHARE)
class RandomElements(_RandomField):
    def field_shape(self, c):
        return (c.ctx.batch, c.ctx.channels, c.height, c.width)


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

    copies_pixels = True

    def draw(self, c):
        d = c.ctx
        beta = c.config["beta"]
        h, w = d.height, d.width
        bh = torch.round(h * d.beta(beta)).long()
        bw = torch.round(w * d.beta(beta)).long()
        th = torch.stack([bh, bh, h - bh, h - bh], 1)
        tw = torch.stack([bw, w - bw, bw, w - bw], 1)
        oy = d.randint((h - th + 1).flatten(), 4 * d.batch).view(d.batch, 4)
        ox = d.randint((w - tw + 1).flatten(), 4 * d.batch).view(d.batch, 4)
        return {"split_row": bh, "split_col": bw, "tile_h": th, "tile_w": tw, "crop_y": oy, "crop_x": ox}

    def weights(self, c):
        """Each tile's area share w_k h_k / (WH)."""
        return real(c.draws["tile_h"] * c.draws["tile_w"]) / (c.height * c.width)

    def _origins(self, p):
        zero = torch.zeros_like(p["split_row"])
        return (torch.stack([zero, zero, p["split_row"], p["split_row"]], 1),
                torch.stack([zero, p["split_col"], zero, p["split_col"]], 1))

    def apply(self, c, out):
        """One slice copy per tile: the crops differ in size per sample (see TwoInputPaste)."""
        xs, p = c.xs, c.draws
        top, left = self._origins(p)
        table = torch.stack([top, left, p["tile_h"], p["tile_w"], p["crop_y"], p["crop_x"]], 2).tolist()
        for i, tiles in enumerate(table):
            for k, (ty, tx, th, tw, cy, cx) in enumerate(tiles):
                out[i, :, ty:ty + th, tx:tx + tw] = xs[k][i, :, cy:cy + th, cx:cx + tw]

    @staticmethod
    def _tiles(top, left, c):
        b, h, w = top.shape[0], c.height, c.width
        rows = band(h, top.flatten(), (top + c.draws["tile_h"]).flatten()).view(b, 4, h, 1)
        cols = band(w, left.flatten(), (left + c.draws["tile_w"]).flatten()).view(b, 4, 1, w)
        return (rows & cols).float()

    def masks(self, c):
        return self._tiles(*self._origins(c.draws), c)

    def used(self, c, masks):
        """Each image's crop, where it was taken from that image."""
        return self._tiles(c.draws["crop_y"], c.draws["crop_x"], c)


GRIDS = {"1x2": (1, 2), "2x1": (2, 1), "2x2": (2, 2), "2x3": (2, 3), "3x2": (3, 2)}


@register(
    name="splicemix", title="SpliceMix", family="tiles", n_inputs=4,
    params=(ParamSpec("grid", "random", choices=("random", *GRIDS),
                      help="rows×columns of the splice; random: 1×2 (p 0.3), 2×2 (0.4) or 2×3 (0.3), "
                           "non-square grids transposed with p 0.5"),
            ParamSpec("drop_prob", 0.3, 0.0, 1.0, 0.05, "probability that some cells (1 to cells−1) are dropped to black"),
            ParamSpec("label", "union", choices=("union", "area"),
                      help="union: the paper's multi-hot label of the images still visible; area: weights by area")),
    paper="Wang et al. SpliceMix: A Cross-scale and Semantic Blending Augmentation Strategy for Multi-label Image "
          "Classification. arXiv:2311.15200, 2023.",
    summary="Several images are shrunk and spliced side by side in a grid, so objects appear at a smaller scale "
            "with new neighbours; some cells may be dropped. The multi-label target is the union of the labels "
            "still visible.",
    formula=r"\tilde x = \mathrm{Splice}_{r\times c}\big(\mathrm{Resize}(x_1), \dots, \mathrm{Resize}(x_{rc})\big),"
            r"\quad \tilde y = \bigvee_{k\ \text{not dropped}} y_k",
    uses_lam=False, label_rule="union",
)
class SpliceMix(Method):
    """Per-sample grids. Cell (r, c) holds source r·cols + c, resized to the cell (rows [⌈rH/R⌉,
    ⌈(r+1)H/R⌉), the same for columns; the reference resizes to ⌊H/R⌋ and then the whole splice to H
    when H is not a multiple of R). With fewer images than cells
    (`mix` with four images and a 2×3 grid) the images are used again in order. The paper appends
    B/4 spliced images to the batch; `mix_batch` returns one spliced image per sample."""

    def draw(self, c):
        d = c.ctx
        b = d.batch
        choice = c.config["grid"]
        if choice == "random":
            coin = real(d.rand(b))
            rows = torch.where(coin > 0.7, 1, 2)
            cols = torch.where(coin > 0.7, 2, torch.where(coin > 0.3, 2, 3))
            swap = d.rand(b) < 0.5
            rows, cols = torch.where(swap, cols, rows), torch.where(swap, rows, cols)
        else:
            n_rows, n_cols = GRIDS[choice]
            rows = torch.full((b,), n_rows, dtype=torch.long, device=d.device)
            cols = torch.full((b,), n_cols, dtype=torch.long, device=d.device)
        cells = rows * cols
        drop = d.rand(b) < c.config["drop_prob"]
        n_drop = torch.where(drop, 1 + d.randint(cells - 1), 0)
        keys = d.rand(b, 6).masked_fill(torch.arange(6, device=d.device)[None] >= cells[:, None], 2.0)
        rank = keys.argsort(1).argsort(1)
        dropped = rank < n_drop[:, None]
        return {"rows": rows, "cols": cols, "dropped": dropped}

    def n_sources(self, c):
        return int((c.draws["rows"] * c.draws["cols"]).max())

    def label_rule(self, c):
        return "union" if c.config["label"] == "union" else "area"

    def _layout(self, p, h, w):
        """Per sample: [(source j, top, bottom, left, right)] of the cells that are not dropped."""
        layout = []
        for rows, cols, dropped in zip(p["rows"].tolist(), p["cols"].tolist(), p["dropped"].tolist()):
            cells = [(r * cols + c, *ys, *xs) for r, ys in enumerate(cell_bounds(h, rows))
                     for c, xs in enumerate(cell_bounds(w, cols))]
            layout.append([c for c in cells if not dropped[c[0]] and c[2] > c[1] and c[4] > c[3]])
        return layout

    def apply(self, c, out):
        """Each cell is its source resized with F.interpolate (bilinear, align_corners=True, as the
        reference); one call per cell, since cells differ in size per sample."""
        xs = c.xs
        out.zero_()
        for i, cells in enumerate(self._layout(c.draws, out.shape[2], out.shape[3])):
            for j, top, bottom, left, right in cells:
                out[i:i + 1, :, top:bottom, left:right] = torch.nn.functional.interpolate(
                    xs[j % len(xs)][i:i + 1], size=(bottom - top, right - left), mode="bilinear", align_corners=True)

    def _shares(self, c, k):
        """(B, k, H, W): 1 where a cell shows input j (cells beyond k reuse the inputs in order)."""
        p, h, w = c.draws, c.height, c.width
        shares = torch.zeros(p["rows"].shape[0], k, h, w, device=p["rows"].device)
        for i, cells in enumerate(self._layout(p, h, w)):
            for j, top, bottom, left, right in cells:
                shares[i, j % k, top:bottom, left:right] = 1.0
        return shares

    def masks(self, c):
        return self._shares(c, len(c.xs))

    def used(self, c, masks):
        """The whole of each image that fills a cell (shrunk into it); nothing of the others."""
        return masks.flatten(2).amax(2)[:, :, None, None].expand_as(masks)

    def weights(self, c):
        """Each input's share of the pixels (the union label marks the inputs with any)."""
        k = len(c.xs) if c.xs is not None else self.n_sources(c)  # mix: its four images, reused in order
        return real(self._shares(c, k).flatten(2)).mean(2)
