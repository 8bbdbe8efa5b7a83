"""A method's parameter widgets, generated from its ParamSpecs."""
from __future__ import annotations

import streamlit as st

from mixviz.types import MethodSpec, ParamSpec


def point_widget(p: ParamSpec, key: str) -> tuple[float, float] | None:
    """A point parameter (a box's centre, fractions of H and W): drawn with the seed, or fixed with two sliders.
    Dragging the box on the live picture sets them (keys f"{key}_fixed", f"{key}_y", f"{key}_x")."""
    ss = st.session_state
    for axis in ("y", "x"):
        ss.setdefault(f"{key}_{axis}", 0.5)
    if not st.toggle(f"fix the {p.name}", key=f"{key}_fixed", help=p.help or None):
        return None
    y = st.slider(f"{p.name}: row (fraction of the height)", 0.0, 1.0, step=0.001, key=f"{key}_y", format="%.3f")
    x = st.slider(f"{p.name}: column (fraction of the width)", 0.0, 1.0, step=0.001, key=f"{key}_x", format="%.3f")
    return (y, x)


def param_widgets(spec: MethodSpec, prefix: str) -> dict:
    """One widget per parameter (select, toggle, slider with the spec's range, or a point), keyed per method.
    Each starts at its default unless a link or the live picture set it (the session state, then, holds it)."""
    ss = st.session_state
    values = {}
    for p in spec.params:
        key = f"{prefix}_{spec.name}_{p.name}"
        if p.kind == "point":
            values[p.name] = point_widget(p, key)
            continue
        ss.setdefault(key, p.default)
        if p.kind == "choice":
            values[p.name] = st.selectbox(p.name, p.choices, help=p.help, key=key)
        elif p.kind == "bool":
            values[p.name] = st.toggle(p.name, help=p.help, key=key)
        elif p.kind == "int":
            values[p.name] = st.slider(p.name, int(p.min), int(p.max), step=int(p.step or 1), help=p.help, key=key)
        else:
            values[p.name] = st.slider(p.name, float(p.min), float(p.max), step=float(p.step), help=p.help, key=key)
    return values
