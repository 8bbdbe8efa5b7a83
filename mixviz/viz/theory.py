"""The Theory page's figures (plotly `graph_objects`): Beta(α, α)'s density with samples, label smoothing's
bars, the mixup paper's toy figure (the maths is in mixviz.theory), and its corrupted-label curves and
gradients between training points (the maths is in mixviz.memorise)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..memorise import METHODS, Between, Memorised
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


METHOD_COLOURS = {"ERM": (214, 39, 40), "mixup": (31, 119, 180)}   # red, blue


def _method_name(method: str, alpha: float) -> str:
    return method if method == "ERM" else f"mixup (α = {alpha:g})"


def _band(fig, x, values: np.ndarray, method: str, name: str, row: int, col: int, show: bool, dash: str = "solid",
          unit: str = "%", group: str | None = None) -> None:
    """The mean over the seeds (axis 0 of `values`) as a line, and the band from their minimum to maximum."""
    r, g, b = METHOD_COLOURS[method]
    group = group or name
    lo, hi, mean = values.min(0), values.max(0), values.mean(0)
    fig.add_scatter(x=x, y=hi, mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False,
                    legendgroup=group, row=row, col=col)
    fig.add_scatter(x=x, y=lo, mode="lines", line=dict(width=0), fill="tonexty", fillcolor=f"rgba({r}, {g}, {b}, 0.18)",
                    hoverinfo="skip", showlegend=False, legendgroup=group, row=row, col=col)
    fig.add_scatter(x=x, y=mean, mode="lines", name=name, legendgroup=group, showlegend=show,
                    line=dict(color=f"rgb({r}, {g}, {b})", width=2.5, dash=dash), row=row, col=col,
                    hovertemplate=f"{name}: %{{y:.3g}}{unit} (mean of {len(values)} seeds)<extra></extra>")


def memorise_figure(results: Sequence[Memorised], height: int = 620) -> go.Figure:
    """Table 2 of the mixup paper over the epochs, one column per corruption share: the test error (top) and
    the training accuracy on the labels as given (bottom: solid on the corrupted examples, dashed on the
    others; dotted grey: the share of replaced labels that drew their true class, where a model that ignores
    the corruption lands). Lines are the mean over the seeds, bands their minimum to maximum."""
    from plotly.subplots import make_subplots

    cols = len(results)
    fig = make_subplots(rows=2, cols=cols, shared_xaxes=True, vertical_spacing=0.1, horizontal_spacing=0.05,
                        subplot_titles=[f"{100 * r.corruption:g} % of labels corrupted (α = {r.alpha:g})"
                                        for r in results])
    for c, r in enumerate(results, start=1):
        x = r.epochs
        for k, method in enumerate(METHODS):
            name = _method_name(method, r.alpha) if cols == 1 else method
            _band(fig, x, 100 * r.test_error[k], method, name, 1, c, show=c == 1)
            if np.isfinite(r.fit_corrupted[k]).all():
                _band(fig, x, 100 * r.fit_corrupted[k], method, f"{name}: corrupted examples", 2, c, show=False,
                      group=name)
            _band(fig, x, 100 * r.fit_clean[k], method, f"{name}: clean examples", 2, c, show=False, dash="dash",
                  group=name)
        if np.isfinite(r.kept).all():
            level = 100 * float(np.mean(r.kept))
            fig.add_scatter(x=[x[0], x[-1]], y=[level, level], mode="lines", showlegend=False, row=2, col=c,
                            line=dict(color="#7f7f7f", width=1.5, dash="dot"),
                            hovertemplate=f"replaced labels that drew their true class: {level:.1f}%<extra></extra>")
        else:
            fig.add_annotation(text="no corrupted labels (dashed: all examples)", x=0.5, y=0.3, xref="x domain",
                               yref="y domain", showarrow=False, font=dict(size=12, color="#7f7f7f"), row=2, col=c)
        fig.update_xaxes(title_text="epoch", row=2, col=c)
    fig.update_yaxes(title_text="test error (%)", row=1, col=1)
    fig.update_yaxes(title_text="training accuracy (%)", row=2, col=1)
    fig.update_yaxes(rangemode="tozero", row=1)
    fig.update_yaxes(range=[0, 102], row=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), hovermode="x",
                      legend=dict(orientation="h", x=0, y=-0.12))
    return fig


def between_figure(result: Between, height: int = 380) -> go.Figure:
    """Figure 2 of the mixup paper: at x = λ·x_i + (1 − λ)·x_j, the share of predictions that are neither y_i
    nor y_j (left) and the mean norm of the loss's gradient with respect to x (right), against λ; ERM and mixup,
    the mean over the seeds with their minimum to maximum."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("(a) predictions that are neither y_i nor y_j", "(b) ‖∇ₓ loss‖ at x"))
    for k, method in enumerate(METHODS):
        name = _method_name(method, result.alpha)
        _band(fig, result.lams, 100 * result.miss[k], method, name, 1, 1, show=True)
        _band(fig, result.lams, result.grad_norm[k], method, name, 1, 2, show=False, unit="")
    fig.update_xaxes(title_text="λ (x = λ·x_i + (1 − λ)·x_j)", range=[0, 1])
    fig.update_yaxes(title_text="misses (%)", rangemode="tozero", col=1)
    fig.update_yaxes(title_text="gradient norm", rangemode="tozero", col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), hovermode="x",
                      legend=dict(orientation="h", x=0, y=-0.22))
    return fig
