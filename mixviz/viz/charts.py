"""Plotly charts of a mix: the soft label and the Beta(α, α) density with the drawn λ marked."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .style import INPUT_COLOURS, plot_layout
from ..theory import beta_curve

if TYPE_CHECKING:  # plotly is imported by the functions that draw, when first called
    import plotly.graph_objects as go


def label_chart(label: dict, other: float | None = None, union: bool = False, height: int = 220) -> go.Figure:
    """Horizontal bars of a {class: weight} label. `other`: the weight ε/K every other class gets under
    label smoothing. The title says when the weights do not sum to 1 (SnapMix) or form a union (SpliceMix)."""
    import plotly.graph_objects as go

    names = [str(k) for k in label]
    values = [float(v) for v in label.values()]
    colours = [INPUT_COLOURS[i % len(INPUT_COLOURS)] for i in range(len(names))]
    if other is not None:
        names.append("each other class")
        values.append(other)
        colours.append("#999999")
    total = sum(label.values())
    if union:
        title = "label: multi-hot union of the inputs' classes"
    elif abs(total - 1) > 5e-4 and other is None:
        title = f"label weights sum to {total:.3f}, not 1"
    else:
        title = "label weights"
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=colours,
                           text=[f"{v:.3f}" for v in values], textposition="auto"))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(range=[0, max(1.0, max(values) * 1.05)]), yaxis=dict(autorange="reversed"))
    return fig


def beta_chart(alpha: float | None, lam: float | None, corrected: float | None = None, height: int = 220,
               big: bool = False) -> go.Figure:
    """Beta(α, α) density (none when λ is fixed) with the drawn or fixed λ and the corrected λ marked; `big`:
    lecture-mode fonts."""
    import plotly.graph_objects as go

    fig = go.Figure()
    top = 1.0
    if alpha is not None:
        x, y = beta_curve(alpha, n=400, edge=0.0025)
        top = float(min(y.max(), 8.0))
        fig.add_trace(go.Scatter(x=x, y=np.minimum(y, top), mode="lines", name=f"Beta({alpha:g}, {alpha:g})",
                                 fill="tozeroy", line_color="#636efa"))
    for value, name, colour in ((lam, "λ fixed" if alpha is None else "λ drawn", "#d62728"),
                                (corrected, "corrected λ (label)", "#2ca02c")):
        if value is not None:
            fig.add_trace(go.Scatter(x=[value, value], y=[0, top], mode="lines", name=f"{name} {value:.3f}",
                                     line=dict(color=colour, width=3, dash="dash" if "corrected" in name else None)))
    fig.update_layout(xaxis=dict(range=[0, 1], title=None if big else "λ"),
                      yaxis=dict(range=[0, top * 1.05], showticklabels=alpha is not None),
                      legend=dict(orientation="h", y=-0.5 if big else -0.35))
    return plot_layout(fig, big, height, top=40, grow=False,
                       title="λ" if alpha is None else f"λ ~ Beta({alpha:g}, {alpha:g})")
