"""The Theory page's figures (plotly `graph_objects`): Beta(α, α)'s density with samples, label smoothing's
bars, and the mixup paper's toy figure (the maths is in mixviz.theory)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..theory import BETA_BINS, TOY_EXTENT, SmoothingBars, ToyResult, beta_curve, beta_ymax, check_alpha

if TYPE_CHECKING:  # plotly is imported by the functions that draw, when first called
    import plotly.graph_objects as go

TOY_COLOURS = ("#2ca02c", "#ff7f0e")   # class 0 green, class 1 orange, as in the paper's figure


def beta_figure(alpha: float, samples: np.ndarray | None = None, height: int = 380) -> go.Figure:
    """Beta(α, α)'s density with a density-normalised histogram of `samples` behind it.
    For α < 1 the y axis is cut (the density is infinite at 0 and 1) and the figure says so."""
    import plotly.graph_objects as go

    alpha = check_alpha(alpha)
    x, pdf = beta_curve(alpha)
    ymax = beta_ymax(alpha)
    fig = go.Figure()
    tallest = 0.0
    if samples is not None and len(samples):
        counts, edges = np.histogram(np.clip(samples, 0, 1), bins=BETA_BINS, range=(0, 1), density=True)
        tallest = float(counts.max())
        fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), name=f"{len(samples)} samples",
                    marker=dict(color="rgba(99, 110, 250, 0.45)", line=dict(width=0)),
                    hovertemplate="λ in [%{customdata[0]:.3f}, %{customdata[1]:.3f}): density %{y:.3f}<extra></extra>",
                    customdata=np.stack([edges[:-1], edges[1:]], axis=1))
    fig.add_scatter(x=x, y=pdf, mode="lines", name=f"Beta({alpha:g}, {alpha:g}) density",
                    line=dict(color="#d62728", width=3), hovertemplate="λ = %{x:.3f}: %{y:.3f}<extra></extra>")
    notes = []
    if alpha < 1:
        notes.append(f"the density → ∞ at 0 and 1; the y axis is cut at {ymax:.1f}")
    if tallest > ymax:
        notes.append(f"tallest bar: {tallest:.1f}")
    if notes:
        fig.add_annotation(text="; ".join(notes), xref="paper", yref="paper", x=0.5, y=1.0, yanchor="bottom",
                           showarrow=False, font=dict(size=13))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), bargap=0,
                      legend=dict(orientation="h", x=0, y=-0.18),
                      xaxis=dict(title="λ", range=[0, 1]), yaxis=dict(title="density", range=[0, ymax]))
    return fig


def smoothing_figure(bars: SmoothingBars, eps: float, height: int = 320) -> go.Figure:
    """Grouped bars: the target y and the smoothed target (1 − ε)·y + ε/K."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(x=bars.names, y=bars.target, name="target y", marker_color="#7f7f7f",
                text=[f"{v:.3g}" for v in bars.target], textposition="outside")
    fig.add_bar(x=bars.names, y=bars.smoothed, name=f"smoothed, ε = {eps:g}", marker_color="#1f77b4",
                text=[f"{v:.3g}" for v in bars.smoothed], textposition="outside")
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis=dict(title="weight", range=[0, 1.15]), legend=dict(orientation="h", x=0, y=1.12))
    return fig


def toy_figure(result: ToyResult, height: int = 420, colorbar: bool = True) -> go.Figure:
    """p(y = 1 | x) as a heat map (blue: class 1), the ½ level as a line, and the training points."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_heatmap(x=result.xs, y=result.ys, z=result.prob, zmin=0, zmax=1, colorscale="Blues", showscale=colorbar, zsmooth="best",
                    colorbar=dict(title=dict(text="p(y=1|x)", side="right"), thickness=12),
                    hovertemplate="x = (%{x:.2f}, %{y:.2f})<br>p(y=1|x) = %{z:.3f}<extra></extra>", name="p(y=1|x)")
    fig.add_contour(x=result.xs, y=result.ys, z=result.prob, showscale=False, hoverinfo="skip", name="p = ½",
                    contours=dict(start=0.5, end=0.5, size=1, coloring="lines"),
                    line=dict(color="black", width=1.5, dash="dot"), colorscale=[[0, "black"], [1, "black"]])
    for c, colour in enumerate(TOY_COLOURS):
        pts = result.points[result.labels == c]
        fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"class {c}",
                        marker=dict(color=colour, size=6, line=dict(color="white", width=0.5)),
                        hovertemplate=f"class {c}<extra></extra>")
    x0, x1, y0, y1 = TOY_EXTENT
    fig.update_layout(title=dict(text=result.title, x=0.5, xanchor="center", font=dict(size=20)), height=height,
                      margin=dict(l=10, r=10, t=50, b=10), showlegend=False,
                      xaxis=dict(range=[x0, x1], showgrid=False, zeroline=False),
                      yaxis=dict(range=[y0, y1], showgrid=False, zeroline=False))
    return fig
