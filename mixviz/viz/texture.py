"""The Texture & style page's figures (plotly `graph_objects`): Gram matrices as heat maps and the loss of a
synthesis by step on a log scale (the maths is in mixviz.maps.texture)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import torch

from .style import plot_layout

if TYPE_CHECKING:  # plotly is imported by the functions that draw, when first called
    import plotly.graph_objects as go


def gram_figure(matrices: Sequence[torch.Tensor], titles: Sequence[str], big: bool = False,
                height: int = 360) -> go.Figure:
    """Gram matrices (N × N) side by side on one colour scale (the largest entry of any sets its top), channel i
    down, channel j across."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    matrices = [m.detach().float().cpu() for m in matrices]
    top = max(float(m.max()) for m in matrices)
    low = min(0.0, min(float(m.min()) for m in matrices))
    fig = make_subplots(rows=1, cols=len(matrices), subplot_titles=list(titles), horizontal_spacing=0.06)
    for k, m in enumerate(matrices, start=1):
        fig.add_trace(go.Heatmap(z=m.numpy(), zmin=low, zmax=top, colorscale="Viridis",
                                 showscale=k == len(matrices),
                                 hovertemplate="G[%{y}, %{x}] / M = %{z:.4g}<extra></extra>"), row=1, col=k)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{k if k > 1 else ''}", constrain="domain",
                         title="channel i" if k == 1 else None, row=1, col=k)
        fig.update_xaxes(constrain="domain", title="channel j", row=1, col=k)
    plot_layout(fig, big, height, top=40)
    fig.update_annotations(font_size=15 if not big else 21)
    return fig


def loss_figure(losses: Sequence[float], steps: int | None = None, title: str = "", big: bool = False,
                height: int = 300) -> go.Figure:
    """The losses L(x_0), L(x_1), … (the start, then the image after each step) on a log scale; `steps` (the
    steps asked for) fixes the x axis, so a stopped run shows how far it got."""
    import plotly.graph_objects as go

    xs = list(range(len(losses)))
    fig = go.Figure(go.Scatter(x=xs, y=list(losses), mode="lines", line=dict(color="#1f77b4", width=2),
                               hovertemplate="after %{x} steps: %{y:.4g}<extra></extra>"))
    fig.update_yaxes(type="log", title="loss (log scale)", exponentformat="power")
    fig.update_xaxes(title="L-BFGS steps", range=[0, max(steps or 0, len(losses) - 1) + 1])
    return plot_layout(fig, big, height, title=title or None)
