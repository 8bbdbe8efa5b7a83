"""Helpers for AppTest tests of the app's pages: switch to a page, open the Mixing Lab on a method and photos,
read its label."""
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

import mixviz

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def switch_page(at: AppTest, url_path: str) -> AppTest:
    """Switch to the page registered under `url_path` ("gallery", "cam_explorer"; "mixing_lab" is the default
    page). The pages are functions (st.Page(views.gallery.render, url_path="gallery")), and AppTest.switch_page
    finds only pages that are files, so this picks the registered page's hash the way a browser's URL does.
    Call after a first run (st.navigation registers the pages); does not rerun."""
    pages = {info.get("url_pathname") or info.get("page_name"): page_hash
             for page_hash, info in at._registered_pages.items()}
    page_hash = pages.get(url_path) or calc_hash(url_path)
    assert page_hash in at._registered_pages, f"no page at /{url_path}: {sorted(pages)}"
    at._page_hash = page_hash
    return at


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


def live_data(at) -> dict:
    """The data the live scrubber (a custom component: AppTest cannot draw it) gets, as the browser does."""
    found = at.get("bidi_component")
    assert found, "no live picture on the page"
    return json.loads(json.loads(found[0].proto.json))  # the component's data is one JSON string


def label_bars(at) -> dict:
    """{class: weight} of the label bars the live picture shows at its current value (with label smoothing,
    (1 − ε)·w + ε/K and "each other class" ε/K, as the component draws them)."""
    data = live_data(at)
    names, weights = list(data["names"]), list(data["weights"][data["index"]])
    if data.get("smoothing"):
        eps, k = data["smoothing"]["eps"], data["smoothing"]["classes"]
        weights = [(1 - eps) * w + eps / k for w in weights] + [eps / k]
        names.append("each other class")
    return dict(zip(names, weights))
