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


def poll_chart(classes, summary, label=None, prediction=None, big: bool = False, height: int = 300) -> go.Figure:
    """A class poll's answers per class (and "something else"): the room's mean share with its 95% interval as
    error bars, beside the method's label and the network's probability when given (mixviz.agreement)."""
    import plotly.graph_objects as go

    names = [*classes, "something else"]
    fig = go.Figure()
    if summary.count:  # the value at the bar's foot, clear of the interval's whiskers at its top
        fig.add_bar(name=f"the room (mean of {summary.count})", x=names, y=summary.mean, marker_color=INPUT_COLOURS[0],
                    error_y=dict(type="data", symmetric=False, array=summary.high - summary.mean,
                                 arrayminus=summary.mean - summary.low),
                    text=[f"{v:.2f}" for v in summary.mean], textposition="inside", insidetextanchor="start", textangle=0)
    else:  # the classes on the axis before anyone answers
        fig.add_bar(name="the room (no answers yet)", x=names, y=[0.0] * len(names), marker_color=INPUT_COLOURS[0])
    if label is not None:
        fig.add_bar(name="the method's label", x=names, y=label, marker_color=INPUT_COLOURS[1],
                    text=[f"{v:.2f}" for v in label], textposition="outside")
    if prediction is not None:
        fig.add_bar(name="the network", x=names, y=prediction, marker_color="#777777",
                    text=[f"{v:.2f}" for v in prediction], textposition="outside")
    return plot_layout(fig, big, height, top=30, barmode="group",
                       yaxis=dict(range=[0, 1.22], title="share", tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1]),
                       legend=dict(orientation="h", y=1.12, x=0))


def poll_histogram(classes, summary, big: bool = False, height: int = 260) -> go.Figure:
    """How many answers gave each class each share (bins of 0.1): the spread the mean hides."""
    import plotly.graph_objects as go

    names = [*classes, "something else"]
    centres = (summary.edges[:-1] + summary.edges[1:]) / 2
    colours = [*INPUT_COLOURS[:len(classes)], "#999999"]
    fig = go.Figure([go.Bar(name=n, x=centres, y=summary.counts[k], marker_color=colours[k % len(colours)], width=0.1 / len(names))
                     for k, n in enumerate(names)])
    return plot_layout(fig, big, height, top=30, barmode="group",
                       xaxis=dict(title="share of the picture", range=[0, 1], dtick=0.1),
                       yaxis=dict(title="answers"), legend=dict(orientation="h", y=1.15, x=0))
