"""A method's parameter widgets, generated from its ParamSpecs."""
from __future__ import annotations

import streamlit as st

from mixviz.types import MethodSpec


def param_widgets(spec: MethodSpec, prefix: str) -> dict:
    """One widget per parameter (select, toggle or slider with the spec's range), keyed per method."""
    values = {}
    for p in spec.params:
        key = f"{prefix}_{spec.name}_{p.name}"
        if p.kind == "choice":
            values[p.name] = st.selectbox(p.name, p.choices, index=p.choices.index(p.default), help=p.help, key=key)
        elif p.kind == "bool":
            values[p.name] = st.toggle(p.name, value=p.default, help=p.help, key=key)
        elif p.kind == "int":
            values[p.name] = st.slider(p.name, int(p.min), int(p.max), int(p.default), int(p.step or 1),
                                       help=p.help, key=key)
        else:
            values[p.name] = st.slider(p.name, float(p.min), float(p.max), float(p.default), float(p.step),
                                       help=p.help, key=key)
    return values
