"""The Theory page through streamlit's AppTest: every widget changes what the page shows, lecture mode
hides the fine controls and enlarges the figures, and nothing raises."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from apptest_helpers import switch_page

from mixviz import theory

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DEFAULT_STEPS = theory.TOY_STEPS  # what a user gets, and what the first run trains with
FAST_STEPS = 120  # the toy's training steps in the later runs


def arr(v):
    """A plotly JSON array: a list, or numpy's {"dtype", "bdata"(, "shape")} encoding."""
    if isinstance(v, dict):
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape([int(n) for n in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray(v)


def specs(at):
    out = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(out) == 4, len(out)  # Beta, smoothing, ERM, mixup
    return dict(zip(("beta", "smooth", "erm", "mixup"), out))


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def widget(at, kind, key):
    return next(w for w in at.get(kind) if w.key == key)


@pytest.fixture(scope="module")
def at():
    at = AppTest.from_file(APP, default_timeout=120).run()
    ok(at)
    switch_page(at, "theory").run()  # with the user's default number of training steps
    ok(at)
    return at


@pytest.fixture(autouse=True)
def fast_toy(monkeypatch):
    monkeypatch.setattr(theory, "TOY_STEPS", FAST_STEPS)


def test_defaults(at):
    s = specs(at)
    assert [h.value for h in at.header] == ["λ ~ Beta(α, α)", "Label smoothing", "Empirical and vicinal risk",
                                            "The toy figure, live"]
    assert s["erm"]["layout"]["title"]["text"] == "ERM"
    assert s["mixup"]["layout"]["title"]["text"] == "mixup, α = 1"
    np.testing.assert_allclose(arr(s["beta"]["data"][1]["y"]), 1.0)  # α = 1: uniform
    assert len(at.latex) >= 5
    assert any(f"{DEFAULT_STEPS} full-batch" in m.value for m in at.markdown)  # the user's default steps


def test_beta_widgets(at):
    before = specs(at)["beta"]
    widget(at, "select_slider", "theory_alpha").set_value(0.1)
    widget(at, "select_slider", "theory_samples").set_value(500)
    widget(at, "number_input", "theory_seed").set_value(7)
    at.run()
    ok(at)
    beta = specs(at)["beta"]
    hist, line = beta["data"]
    x, y = arr(line["x"]), arr(line["y"])
    assert not np.allclose(y, arr(before["data"][1]["y"]))
    np.testing.assert_allclose(y, stats.beta.pdf(x, 0.1, 0.1), rtol=1e-12)
    counts, _ = np.histogram(theory.beta_samples(0.1, 500, seed=7), bins=theory.BETA_BINS, range=(0, 1),
                             density=True)
    np.testing.assert_allclose(arr(hist["y"]), counts)  # 500 samples from seed 7 ...
    other, _ = np.histogram(theory.beta_samples(0.1, 500, seed=0), bins=theory.BETA_BINS, range=(0, 1), density=True)
    assert not np.allclose(counts, other)               # ... not from seed 0
    assert hist["name"] == "500 samples"
    assert "∞" in beta["layout"]["annotations"][0]["text"]


def test_smoothing_widgets(at):
    widget(at, "slider", "theory_eps").set_value(0.3)
    widget(at, "select_slider", "theory_classes").set_value(5)
    widget(at, "slider", "theory_label_lam").set_value(0.7)
    at.run()
    ok(at)
    target, smoothed = specs(at)["smooth"]["data"]
    names = list(target["x"])
    assert names == ["cat", "dog", "each of the other 3"]  # the sidebar's first two photos name the classes
    np.testing.assert_allclose(arr(target["y"]), [0.7, 0.3, 0.0])
    np.testing.assert_allclose(arr(smoothed["y"]), [0.7 * 0.7 + 0.3 / 5, 0.7 * 0.3 + 0.3 / 5, 0.3 / 5], rtol=1e-12)


def test_toy_widgets(at):
    widget(at, "select_slider", "theory_toy_alpha").set_value(4.0)
    widget(at, "number_input", "theory_toy_seed").set_value(2)
    at.run()
    ok(at)
    s = specs(at)
    assert s["erm"]["layout"]["title"]["text"] == "ERM"
    assert s["mixup"]["layout"]["title"]["text"] == "mixup, α = 4"
    points, _ = theory.toy_data(2)
    shown = np.concatenate([arr(t["x"]) for t in s["erm"]["data"] if t["type"] == "scatter"])
    np.testing.assert_allclose(np.sort(shown), np.sort(points[:, 0]), rtol=1e-6)  # the seed's data
    expected = theory.train_toy(4.0, seed=2, steps=FAST_STEPS)
    np.testing.assert_allclose(arr(s["mixup"]["data"][0]["z"]), expected.prob, atol=1e-12)
    assert not at.get("progress")  # the bar is gone once training is done


def through_the_sidebar(at, lecture: bool) -> None:
    """Switch lecture mode with the sidebar's toggle (app.py draws the sidebar on every run)."""
    at.sidebar.toggle(key="lecture").set_value(lecture).run()
    ok(at)


def test_lecture_mode(at):
    small = specs(at)
    through_the_sidebar(at, lecture=True)
    assert at.session_state["_inputs"].lecture
    keys = {w.key for kind in ("select_slider", "slider", "number_input") for w in at.get(kind)}
    assert {"theory_alpha", "theory_eps", "theory_classes", "theory_toy_alpha"} <= keys
    assert not keys & {"theory_seed", "theory_samples", "theory_label_lam", "theory_toy_seed"}
    big = specs(at)
    for name in big:
        assert big[name]["layout"]["height"] > small[name]["layout"]["height"]
    through_the_sidebar(at, lecture=False)
    assert {w.key for w in at.get("number_input")} == {"theory_seed", "theory_toy_seed"}
