"""The Theory page through streamlit's AppTest: every widget changes what the page shows, lecture mode
hides the fine controls and enlarges the figures, the Train button trains the corrupted-label models (a tiny
setting here) whose numbers the figures then show, and nothing raises."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from apptest_helpers import switch_page

from mixviz import memorise, theory
from views import theory as theory_page

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DEFAULT_STEPS = theory.TOY_STEPS  # what a user gets, and what the first run trains with
FAST_STEPS = 120  # the toy's training steps in the later runs
TINY = memorise.Config(hidden=16, epochs=4, n_train=200)  # the corrupted-label models here: well under a second
TINY_SEEDS = (0, 1)
CHARTS = {"theory_beta_chart": "beta", "theory_smoothing_chart": "smooth", "theory_toy_erm": "erm",
          "theory_toy_mixup": "mixup", "theory_memorise_chart": "memorise", "theory_gradients_chart": "gradients"}


def arr(v):
    """A plotly JSON array: a list, or numpy's {"dtype", "bdata"(, "shape")} encoding."""
    if isinstance(v, dict):
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape([int(n) for n in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray(v)


def specs(at):
    """The page's plotly figures by name (CHARTS), from each chart's key (its element id ends with it)."""
    out = {CHARTS[c.proto.id.split("-", 2)[2]]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    assert {"beta", "smooth", "erm", "mixup"} <= set(out), sorted(out)
    return out


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
    monkeypatch.setattr(theory_page, "MEMORISE_CONFIG", TINY)
    monkeypatch.setattr(theory_page, "MEMORISE_SEEDS", TINY_SEEDS)


def test_defaults(at):
    s = specs(at)
    assert [h.value for h in at.header] == ["λ ~ Beta(α, α)", "Label smoothing", "Empirical and vicinal risk",
                                            "The toy figure, live", "Memorising corrupted labels",
                                            "Gradients between training points", "Methods we can explain but not run"]
    assert "memorise" not in s and "gradients" not in s  # nothing trained yet: an invitation to press Train
    assert sum("Press **Train**" in i.value for i in at.info) == 2
    assert [h.value for h in at.subheader][-2:] == ["TL-Align: token-label alignment for vision transformers",
                                                    "TransformMix: learned transformations and mixing masks"]
    assert any("No live demo" in i.value for i in at.info)
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


def test_train_shows_the_corrupted_label_models(at, monkeypatch):
    seen = []
    real = memorise.train

    def spy(*args, progress=None, **kwargs):  # the page's own training, its progress reports recorded
        seen.append([])
        return real(*args, progress=lambda f: (seen[-1].append(f), progress(f)), **kwargs)

    monkeypatch.setattr(memorise, "train", spy)
    at.button(key="theory_memorise_train").click().run()
    ok(at)
    assert len(seen) == 3 and all(f == sorted(f) and f[-1] == 1.0 and len(f) == TINY.epochs for f in seen)
    assert not at.get("progress")  # the bar is gone once training is done
    s = specs(at)
    expected = real(0.5, 32.0, TINY_SEEDS, TINY)  # deterministic: the page's numbers are this code's
    erm_test = [t for t in s["memorise"]["data"] if t.get("name") == "ERM"]
    assert len(erm_test) == 3  # one column per corruption share
    np.testing.assert_allclose(arr(erm_test[2]["y"]), 100 * expected.test_error[0].mean(0))
    rows = at.table[0].value
    assert list(rows["Label corruption"]) == ["0 %", "0 %", "20 %", "20 %", "50 %", "50 %"]
    assert list(rows["Method"])[-2:] == ["ERM", "mixup (α = 32)"]
    last = memorise.table2(expected)[0].last
    assert rows["Test error, last"].iloc[4] == f"{last[0]:.1f} ± {last[1]:.1f}"
    # the gradients section draws the same models: at 0 % first, then at the share picked
    between = memorise.between(real(0.0, 1.0, TINY_SEEDS, TINY))
    grad = [t for t in s["gradients"]["data"] if t.get("xaxis") == "x2" and t.get("line", {}).get("width") == 2.5]
    np.testing.assert_allclose(arr(grad[0]["y"]), between.grad_norm[0].mean(0), rtol=1e-6)
    at.button_group(key="theory_gradients_share").set_value(0.2).run()
    ok(at)
    between = memorise.between(real(0.2, 8.0, TINY_SEEDS, TINY))
    grad = [t for t in specs(at)["gradients"]["data"] if t.get("xaxis") == "x2" and t.get("line", {}).get("width") == 2.5]
    np.testing.assert_allclose(arr(grad[1]["y"]), between.grad_norm[1].mean(0), rtol=1e-6)
    at.run()  # a later run shows the stored models, trains nothing, and offers no Train
    ok(at)
    assert len(seen) == 3 and "memorise" in specs(at)
    assert not {b.key for b in at.button} & {"theory_memorise_train", "theory_gradients_train"}


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
