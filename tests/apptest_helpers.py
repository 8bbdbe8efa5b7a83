"""Helpers for AppTest tests of the app's pages: open the Mixing Lab on a method and photos, read its label."""
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

import mixviz

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def mixing_lab(method: str, *photos: str) -> AppTest:
    """The Mixing Lab on `method`, with the bundled `photos` in the first slots."""
    at = AppTest.from_file(APP, default_timeout=180).run()
    for i, name in enumerate(photos):
        at.sidebar.selectbox(key=f"slot{i}").select(f"sample:{name}").run()
    at.selectbox(key="lab_family").select(mixviz.METHODS[method].family).run()
    at.selectbox(key="lab_method").select(method).run()
    ok(at)
    return at


def label_bars(at) -> dict:
    """{class: weight} of the page's label chart."""
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    return dict(zip(bars["y"], bars["x"]))
