"""Pictures of maps for the CAM Explorer and Saliency pages: overlays with their peaks and boxes drawn
(PIL), plotly charts of predictions, CAM channels, pooling windows and global pooling, and the
SaliencyMix vs SnapMix comparison. Plain functions of tensors; no streamlit here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..maps.cam import CamResult, Prediction, predictions
from ..imaging import ImageLike, image_size, overlay, resize_map, to_pil
from ..maps.pooling import Pooled, global_pool
from ..types import MixError
from .style import COLOURS, PEAK_COLOUR, font_size, plot_layout

if TYPE_CHECKING:  # plotly is imported by the functions that draw, when first called
    import plotly.graph_objects as go

def number(v: float) -> str:
    """7 for 7.0, 8.75 for 8.75, 0.333 for 1/3: a matrix entry as a person would write it."""
    v = float(v)
    if v == int(v) and abs(v) < 1e9:
        return str(int(v))
    return f"{v:.3f}".rstrip("0").rstrip(".")


# --- peaks, boxes, overlays (PIL) ---------------------------------------------------------------------

def peak(values: torch.Tensor) -> tuple[int, int]:
    """(row, column) of the largest value of a (h, w) map (the first one on ties)."""
    v = torch.as_tensor(values).detach().float()
    if v.dim() != 2 or v.numel() == 0:
        raise MixError(f"a map is (h, w), got shape {tuple(v.shape)}")
    i = int(v.flatten().argmax())
    return divmod(i, v.shape[1])


def clipped(values: torch.Tensor, quantile: float | None = None) -> torch.Tensor:
    """The map with values above its `quantile` clipped to it, so that a few extreme pixels (gradient
    saliency) do not leave the rest of a min–max coloured map dark."""
    v = torch.as_tensor(values).detach().float()
    if quantile is None or v.numel() < 2:
        return v
    flat = v.flatten()
    if flat.numel() > 1_000_000:
        flat = flat[:: flat.numel() // 1_000_000 + 1]
    return v.clamp(max=float(torch.quantile(flat, quantile)))


def _radius(size: tuple[int, int]) -> int:
    return max(4, round(min(size) * 0.035))


def mark_peak(image: Image.Image, yx: tuple[int, int], colour: str = PEAK_COLOUR) -> Image.Image:
    """A copy of `image` with a ringed cross-hair at pixel (y, x), outlined in black so it shows on any
    background."""
    out = image.convert("RGB").copy()
    d = ImageDraw.Draw(out)
    y, x = yx
    r = _radius((out.height, out.width))
    w = max(2, r // 3)
    for col, extra in (("#000000", 2), (colour, 0)):
        d.ellipse((x - r - extra / 2, y - r - extra / 2, x + r + extra / 2, y + r + extra / 2), outline=col,
                  width=w + extra)
        d.line((x - 2 * r, y, x - r // 2, y), fill=col, width=w + extra)
        d.line((x + r // 2, y, x + 2 * r, y), fill=col, width=w + extra)
        d.line((x, y - 2 * r, x, y - r // 2), fill=col, width=w + extra)
        d.line((x, y + r // 2, x, y + 2 * r), fill=col, width=w + extra)
    return out


def draw_box(image: Image.Image, box: tuple[int, int, int, int], colour: str = "#ffffff",
             width: int | None = None) -> Image.Image:
    """A copy of `image` with the box rows [y1, y2), columns [x1, x2) outlined (black edge for contrast)."""
    out = image.convert("RGB").copy()
    y1, y2, x1, x2 = (int(v) for v in box)
    if y2 <= y1 or x2 <= x1:
        return out
    d = ImageDraw.Draw(out)
    w = width or max(2, round(min(out.size) * 0.012))
    d.rectangle((x1, y1, x2 - 1, y2 - 1), outline="#000000", width=w + 2)
    d.rectangle((x1 + 1, y1 + 1, x2 - 2, y2 - 2), outline=colour, width=w)
    return out


def box_of(info: dict, suffix: str = "") -> tuple[int, int, int, int]:
    """(y1, y2, x1, x2) of a box in a MixResult's info ("_src" for SnapMix's source box)."""
    return tuple(int(info[k + suffix]) for k in ("y1", "y2", "x1", "x2"))


@dataclass
class MapPanel:
    """One map shown on its image: the picture (overlay with the peak marked), the peak (y, x) in
    image pixels, and the map at image size."""

    picture: Image.Image
    peak: tuple[int, int]
    values: torch.Tensor


def map_panel(image: ImageLike, values: torch.Tensor, alpha: float = 0.5, quantile: float | None = None,
              cmap: str = "jet") -> MapPanel:
    """The map resized to the image, laid over it with opacity `alpha` (1: the map alone), its peak marked."""
    size = image_size(image)
    v = resize_map(values, size)
    shown = to_pil(overlay(image, clipped(v, quantile), alpha, cmap))
    yx = peak(v)
    return MapPanel(mark_peak(shown, yx), yx, v)


# --- CAM --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Channel:
    """One feature channel k of a CAM: its class weight w_k, its mean activation mean F_k, and
    term = w_k · mean F_k, its share of the logit."""

    index: int
    weight: float
    mean: float
    term: float


def strongest_channels(result: CamResult, model, k: int = 6) -> list[Channel]:
    """The k channels that add the most to the chosen class's logit (largest w_k · mean F_k)."""
    terms = result.channel_terms
    order = terms.argsort(descending=True)[: max(0, min(k, terms.numel()))]
    w = model.classifier.weight[result.class_index].detach().float().cpu()
    means = result.features.mean((1, 2))
    return [Channel(int(i), float(w[i]), float(means[i]), float(terms[i])) for i in order]


def channel_map(result: CamResult, model, index: int) -> torch.Tensor:
    """(h, w) w_k · F_k for channel k: the CAM is the sum of these over all channels."""
    w = float(model.classifier.weight.detach()[result.class_index, index])
    return w * result.features[index]


@dataclass(frozen=True)
class LogitParts:
    """How global average pooling turns the CAM into the logit: logit = mean(M_c) + b_c, and
    mean(M_c) = Σ_k w_k · mean(F_k)."""

    map_mean: float
    terms_sum: float
    bias: float
    logit: float


def logit_parts(result: CamResult) -> LogitParts:
    return LogitParts(float(result.low.mean()), float(result.channel_terms.sum()), result.bias,
                      float(result.logits[result.class_index]))


def topk_figure(topk: list[Prediction], chosen: int | None = None, big: bool = False) -> go.Figure:
    """Horizontal bars of the top-k probabilities, best on top; the chosen class highlighted."""
    import plotly.graph_objects as go

    names = [f"{p.name} ({p.index})" for p in topk][::-1]
    probs = [p.probability for p in topk][::-1]
    colours = ["#d62728" if p.index == chosen else "#9ecae1" for p in topk][::-1]
    fig = go.Figure(go.Bar(x=probs, y=names, orientation="h", marker_color=colours,
                           text=[f"{p:.1%}" for p in probs], textposition="auto",
                           hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title="softmax probability")
    return plot_layout(fig, big, 60 + 40 * len(topk), title=f"Top-{len(topk)} predictions")


def map_figure(values: torch.Tensor, title: str = "", big: bool = False, annotate: bool = True,
               colorscale: str = "Jet", zmid: float | None = None, height: int = 360) -> go.Figure:
    """A (h, w) map as a heatmap, row 0 on top, with each cell's value written in it when asked."""
    import plotly.graph_objects as go

    v = torch.as_tensor(values).detach().float().cpu().numpy()
    heat = go.Heatmap(z=v, colorscale=colorscale, zmid=zmid,
                      hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>",
                      texttemplate="%{z:.1f}" if annotate else None, textfont=dict(size=font_size(big) - 3))
    fig = go.Figure(heat)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showticklabels=False)
    fig.update_xaxes(constrain="domain", showticklabels=False)
    return plot_layout(fig, big, height, title=title)


def channels_figure(result: CamResult, model, channels: list[Channel], big: bool = False,
                    per_row: int = 6) -> go.Figure:
    """The maps w_k · F_k of the given channels side by side (at most `per_row` in a row), on one colour
    scale centred at 0, each titled with its channel and its term w_k · mean F_k."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    maps = [channel_map(result, model, ch.index).numpy() for ch in channels]
    if not maps:
        return plot_layout(go.Figure(), big, 100)
    bound = max(float(np.abs(m).max()) for m in maps) or 1.0
    cols = max(1, min(len(maps), per_row))
    rows = -(-len(maps) // cols)
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.02, vertical_spacing=0.16 / rows,
                        subplot_titles=[f"ch {ch.index}: {ch.term:+.2f}" for ch in channels])
    for i, (m, ch) in enumerate(zip(maps, channels)):
        fig.add_trace(go.Heatmap(z=m, zmin=-bound, zmax=bound, colorscale="RdBu_r", showscale=i == 0,
                                 colorbar=dict(title="wₖ·Fₖ", thickness=12),
                                 hovertemplate=f"channel {ch.index}<br>w={ch.weight:+.3f}, mean F={ch.mean:.3f}<br>"
                                               "w·F=%{z:.3f}<extra></extra>"), i // cols + 1, i % cols + 1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, ticks="", showgrid=False)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False)
    for i in range(1, len(maps) + 1):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    for a in fig.layout.annotations:
        a.font = dict(size=font_size(big) - 1)
    return plot_layout(fig, big, 50 + int(900 / max(cols, 2)) * rows, top=40 if big else 30, grow=False)


def terms_figure(result: CamResult, k: int = 15, big: bool = False) -> go.Figure:
    """The k largest and the most negative channel terms w_k · mean F_k, as bars."""
    import plotly.graph_objects as go

    terms = result.channel_terms
    top = terms.argsort(descending=True)[:k].tolist()
    low = [i for i in terms.argsort()[:3].tolist() if i not in top]
    idx = top + low
    fig = go.Figure(go.Bar(x=[f"ch {i}" for i in idx], y=[float(terms[i]) for i in idx],
                           marker_color=["#d62728" if float(terms[i]) >= 0 else "#1f77b4" for i in idx],
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_yaxes(title="w·mean F")
    return plot_layout(fig, big, 300, title=f"Strongest of {terms.numel()} channel terms (sum {float(terms.sum()):.2f})")


# --- pooling -------------------------------------------------------------------------------------------

def _tint(hex_colour: str, opacity: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{opacity})"


def _pooled_grids(pools: dict[str, Pooled], cell, shapes: list, notes: list, colour: dict, selected, dim: float,
                  h: int, w: int, fs: int) -> float:
    """Draw each pooled output grid to the right of the h×w input (cells through `cell`, windows tinted in
    their input window's colour); returns the x where the next grid would start."""
    x0 = w + 1.5
    for title, pooled in pools.items():
        title = title.replace(", ", "<br>")
        out = pooled.output
        oh, ow = out.shape
        top = (h - oh) / 2
        for wd in pooled.windows:
            is_sel = selected is not None and (wd.row, wd.col) == tuple(selected)
            cell(x0 + wd.col, top + wd.row, number(out[wd.row, wd.col]),
                 _tint(colour.get((wd.row, wd.col), "#ffffff"), 0.45 if is_sel or selected is None else dim))
            if is_sel:
                shapes.append(dict(type="rect", x0=x0 + wd.col, y0=top + wd.row, x1=x0 + wd.col + 1,
                                   y1=top + wd.row + 1, line=dict(color="#000", width=5)))
        notes.append(dict(x=x0 + ow / 2, y=top - 0.25, text=title, showarrow=False, yanchor="bottom",
                          font=dict(size=fs - 3)))
        if x0 == w + 1.5:
            notes.append(dict(x=x0 - 0.75, y=h / 2, text="→", showarrow=False, font=dict(size=fs + 8)))
        x0 += ow + 1.8
    return x0


def pooling_figure(matrix, pools: dict[str, Pooled], selected: tuple[int, int] | None = None,
                   big: bool = False) -> go.Figure:
    """The input matrix and each pooled output (`pools`: title -> Pooled) side by side. Every window
    has a colour: its input cells are tinted and framed in it and its output cell is tinted in it;
    the `selected` output cell (row, col) and its window are framed in black, and the winning cell
    of max pooling is written in bold."""
    import plotly.graph_objects as go

    m = np.asarray(matrix, dtype=float)
    h, w = m.shape
    fig = go.Figure()
    shapes, notes = [], []
    fs = font_size(big) + 4
    windows = next(iter(pools.values())).windows if pools else []
    colour = {(wd.row, wd.col): COLOURS[i % len(COLOURS)] for i, wd in enumerate(windows)}
    dim = 0.12 if selected is not None else 0.3
    cell_colour = {}
    for wd in windows:
        for y in range(wd.top, wd.bottom):
            for x in range(wd.left, wd.right):
                cell_colour.setdefault((y, x), colour[(wd.row, wd.col)])
    winners = set()
    for pooled in pools.values():
        for wd in pooled.windows:
            if wd.argmax is not None and (selected is None or (wd.row, wd.col) == tuple(selected)):
                winners.add(wd.argmax)

    def cell(x0, y0, text, fill, bold=False):
        shapes.append(dict(type="rect", x0=x0, y0=y0, x1=x0 + 1, y1=y0 + 1, line=dict(color="#888", width=1),
                           fillcolor=fill, layer="below"))
        notes.append(dict(x=x0 + 0.5, y=y0 + 0.5, text=f"<b>{text}</b>" if bold else text, showarrow=False,
                          font=dict(size=fs + (4 if bold else 0), color="#000")))

    for y in range(h):
        for x in range(w):
            c = cell_colour.get((y, x))
            sel = selected is not None and any((wd.row, wd.col) == tuple(selected) and wd.top <= y < wd.bottom
                                               and wd.left <= x < wd.right for wd in windows)
            cell(x, y, number(m[y, x]), _tint(c, 0.45 if sel else dim) if c else "white", bold=(y, x) in winners)
    for wd in windows:
        is_sel = selected is not None and (wd.row, wd.col) == tuple(selected)
        shapes.append(dict(type="rect", x0=wd.left + 0.06, y0=wd.top + 0.06, x1=wd.right - 0.06, y1=wd.bottom - 0.06,
                           line=dict(color=colour[(wd.row, wd.col)], width=3)))
        if is_sel:
            shapes.append(dict(type="rect", x0=wd.left, y0=wd.top, x1=wd.right, y1=wd.bottom,
                               line=dict(color="#000", width=5)))
    notes.append(dict(x=w / 2, y=-0.25, text=f"input {h}×{w}", showarrow=False, yanchor="bottom",
                      font=dict(size=fs - 3)))
    x0 = _pooled_grids(pools, cell, shapes, notes, colour, selected, dim, h, w, fs)
    fig.update_layout(shapes=shapes, annotations=notes, plot_bgcolor="white", showlegend=False)
    fig.update_xaxes(range=[-0.2, x0 - 1.2], visible=False)
    fig.update_yaxes(range=[h + 0.2, -1.4], visible=False, scaleanchor="x")
    # lecture mode: 378 px, about the height that cells as wide as the page's main column need (63 px at 1280 px)
    return plot_layout(fig, big, 280 if big else 300)


def window_text(matrix, pooled: Pooled, kind: str, row: int, col: int) -> str:
    """The arithmetic of one output cell: 'max(7, 9, 9, 10) = 10' or '(7 + 9 + 9 + 10) / 4 = 8.75'."""
    m = np.asarray(matrix, dtype=float)
    wd = next((wd for wd in pooled.windows if (wd.row, wd.col) == (row, col)), None)
    if wd is None:
        raise MixError(f"the pooled output has no cell ({row}, {col})")
    vals = [number(v) for v in m[wd.top:wd.bottom, wd.left:wd.right].flatten()]
    result = number(pooled.output[row, col])
    if kind == "max":
        return f"max({', '.join(vals)}) = {result}"
    return f"({' + '.join(vals)}) / {len(vals)} = {result}"


def global_pool_figure(features: torch.Tensor, channels: list[int], big: bool = False) -> go.Figure:
    """Global average vs global max pooling of the given channels of a (C, h, w) feature map."""
    import plotly.graph_objects as go

    g = global_pool(features)
    names = [f"ch {i}" for i in channels]
    fig = go.Figure([
        go.Bar(name="global average pooling", x=names, y=[float(g.average[i]) for i in channels],
               marker_color="#1f77b4"),
        go.Bar(name="global max pooling", x=names, y=[float(g.maximum[i]) for i in channels],
               marker_color="#ff7f0e"),
    ])
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.12, x=0))
    fig.update_yaxes(title="pooled activation")
    return plot_layout(fig, big, 320)


def global_pool_predictions(model, features: torch.Tensor, k: int = 1) -> dict[str, list[Prediction]]:
    """What the model's dense head predicts from the global average pool (what it was trained on)
    and, for comparison, from the global max pool of the same feature map."""
    g = global_pool(features)
    fc = model.classifier
    with torch.inference_mode():
        out = {}
        for name, pooled in (("average", g.average), ("max", g.maximum)):
            logits = fc(pooled.to(fc.weight.device, fc.weight.dtype)).float().cpu()
            out[name] = predictions(model, logits, k)
    return out


# --- SaliencyMix vs SnapMix ----------------------------------------------------------------------------

def comparison_rows(model_title: str, input_size: int, grid: tuple[int, int], short: bool = False,
                    classes: int = 1000) -> list[dict]:
    """SaliencyMix and SnapMix side by side: algorithm, kind of map, input size limits, classes it sees
    (the four rows of the lecture deck's table). `grid`: the (h, w) of the serving model's last feature map,
    the resolution of its CAM; `short`: a few words a cell, for a projector (`classes`: how many classes
    the model knows), else a paragraph a cell, with the reasons."""
    h, w = grid
    if short:
        return [
            {"": "Algorithm", "SaliencyMix": "Montabone & Soto saliency", "SnapMix": "Class activation map (CAM)"},
            {"": "Map", "SaliencyMix": "Statistical: no training", "SnapMix": f"Learned: {model_title}"},
            {"": "Input size limits", "SaliencyMix": "None: any size",
             "SnapMix": f"{input_size}×{input_size} input, {h}×{w} CAM"},
            {"": "Classes it can see", "SaliencyMix": "Any: it knows no classes",
             "SnapMix": f"Only its {classes:,} trained classes"},
        ]
    return [
        {"": "Algorithm",
         "SaliencyMix": "Saliency map of the source image; its peak (arg max) is the centre of a CutMix box of area "
                        "(1−λ)·HW, pasted at the same place in the target; λ is corrected by the clipped area, and "
                        "the label is area-proportional.",
         "SnapMix": "CAM of each image's class → semantic percent map S (shifted ≥ 0, sums to 1); a random box in "
                    "the target and an independent one in the source, resized into it; label weights "
                    "ρa = 1 − Σ_box S_a and ρb = Σ_box S_b (they need not sum to 1)."},
        {"": "Map",
         "SaliencyMix": "Statistical, bottom-up: Montabone–Soto fine-grained saliency (centre–surround contrast "
                        "on an integral image). No training, no model; the same pixels always give the same map.",
         "SnapMix": f"Learned, top-down: a trained classifier's last feature map weighted by the class's dense "
                    f"weights (here {model_title}). It changes as the network learns."},
        {"": "Input size limits",
         "SaliencyMix": "Any size: the map is computed at the image's own resolution (cost grows with the pixels); "
                        "pixel-sharp peaks.",
         "SnapMix": f"The network's input size: each image is resized to {input_size}×{input_size}, and the CAM "
                    f"has only {h}×{w} cells, upsampled, so its boxes weigh coarse blobs. It needs a "
                    "global-average-pool + linear head."},
        {"": "Classes it can see",
         "SaliencyMix": "None: class-agnostic. It finds whatever stands out (an object, text, a bright edge, "
                        "clutter), not necessarily the labelled object.",
         "SnapMix": "Only classes the classifier was trained on (the dataset's labels; here the 1000 ImageNet "
                    "classes), and the labelled class (here each photo's own ImageNet class, or an upload's top "
                    "prediction, since an upload has no label). An unknown object gets the CAM "
                    "of whatever class it resembles."},
    ]
