"""One style for every figure: the palette (input k is drawn in INPUT_COLOURS[k] everywhere), the colours
of boxes and peaks drawn on maps, and the fonts and layout of plotly charts (bigger in lecture mode)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # plotly is imported by the functions that draw, when first called
    import plotly.graph_objects as go

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
INPUT_COLOURS = COLOURS[:4]  # input 1 blue, 2 orange, 3 green, 4 red: masks, label bars, captions
PEAK_COLOUR = "#ffffff"
# boxes drawn on the maps that guided a mix (RGB for PIL): where input 1 is replaced, where input 2 is taken
REPLACED, TAKEN, MARK = (230, 30, 30), (30, 200, 60), (255, 255, 255)


def font_size(big: bool) -> int:
    """The base font size of a chart: 20 px in lecture mode, 13 otherwise."""
    return 20 if big else 13


def plot_layout(fig: go.Figure, big: bool, height: int, top: int | None = None, grow: bool = True,
                **kw) -> go.Figure:
    """Fonts (bigger in lecture mode), margins and height (grown by a third in lecture mode if `grow`)."""
    top = top if top is not None else (40 if kw.get("title") else 10)
    size = font_size(big)
    fig.update_layout(height=int(height * (1.35 if big and grow else 1)), font=dict(size=size),
                      margin=dict(l=10, r=10, t=top, b=10), **kw)
    if kw.get("title"):
        fig.update_layout(title_font=dict(size=size + 2))
    # explicit sizes: Streamlit's plotly theme sets its own, smaller tick and legend fonts
    tick = size if big else size - 1  # a projector: no text under 20 px
    fig.update_xaxes(tickfont=dict(size=tick), title_font=dict(size=size))
    fig.update_yaxes(tickfont=dict(size=tick), title_font=dict(size=size))
    fig.update_layout(legend_font=dict(size=size))
    return fig
