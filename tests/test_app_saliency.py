"""The Saliency page through streamlit's AppTest: four maps with their peaks, the SaliencyMix vs SnapMix
comparison run live, every widget, no repeated forward pass on a slider move, no traceback."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import switch_page

import mixviz
from mixviz.imaging import fit_within, load_image
from mixviz.viz.map_figures import peak
from mixviz.samples import samples
from mixviz.maps.saliency import static_saliency

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "saliency"  # the page's url path
MAPS = ("Fine-grained saliency", "Spectral residual", "Gradient saliency", "CAM")


@pytest.fixture(scope="module")
def model():
    return mixviz.load_model()  # the instance ui.models.model() serves


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=180).run()
    switch_page(at, PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def panels(at) -> dict[str, tuple[str, str]]:
    """title -> (image url, caption) of the map panels and the mix panels."""
    out = {}
    for img in at.main.image:
        for url, caption in zip(img.value, img.captions):
            out[caption.split(":")[0]] = (url, caption)
    return out


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def set_lecture(at, on: bool):
    """Lecture mode on or off, as the sidebar's toggle sets it."""
    at.sidebar.toggle(key="lecture").set_value(on).run()


def test_four_maps_with_their_peaks(app):
    ok(app)
    assert app.title[0].value == "Saliency"
    shown = panels(app)
    for title in MAPS:
        assert "peak at row" in shown[title][1], title
    peaks = table(app, "peak row")
    assert list(peaks["map"]) == list(MAPS)
    assert peaks["distance to the CAM's peak (px)"].iloc[3] == 0
    # the fine-grained peak is OpenCV's own arg max on the image the page shows
    cat = fit_within(load_image(samples()["cat"].path), 384)
    y, x = peak(static_saliency(cat, "fine_grained"))
    assert (peaks["peak row"].iloc[0], peaks["peak column"].iloc[0]) == (y, x)
    assert f"peak at row {y}, column {x}" in shown["Fine-grained saliency"][1]
    assert "Chelsea" in texts(app)  # the photo's credit


def test_comparison_table(app, model):
    t = next(t.value for t in app.table)
    assert list(t.columns) == ["SaliencyMix", "SnapMix"]
    assert list(t.index) == ["Algorithm", "Map", "Input size limits", "Classes it can see"]
    size = model.recipe.size
    assert f"{size}×{size}" in t.loc["Input size limits", "SnapMix"]
    assert "Statistical" in t.loc["Map", "SaliencyMix"] and "Learned" in t.loc["Map", "SnapMix"]


def test_both_methods_run_live_on_the_pair(app):
    m = metrics(app)
    assert m["λ drawn"] == "0.500"  # the λ every page shares (the Mixing Lab, opened first, starts it at 0.5)
    assert float(m["ρa + ρb"]) == pytest.approx(float(m["ρa (slot 1)"]) + float(m["ρb (slot 2)"]), abs=2e-3)
    shown = panels(app)
    assert "SaliencyMix" in shown and "SnapMix" in shown
    assert "German Shepherd" in texts(app)  # the second photo's credit


def test_opacity_moves_no_forward_pass(app, forward_passes):
    before = panels(app)
    app.slider(key="sal_alpha").set_value(0.2).run()
    ok(app)
    after = panels(app)
    for title in MAPS:
        assert after[title][0] != before[title][0], title
    app.slider(key="sal_lam").set_value(0.45).run()
    ok(app)
    assert forward_passes == []


def test_class_changes_gradient_and_cam_only(app):
    radio = app.radio(key="sal_rank")  # the top-5 shortcuts
    second = radio.options[1].split(" (")[0]
    before = panels(app)
    radio.set_value(1).run()
    ok(app)
    after = panels(app)
    assert f"explain “{second}”" in texts(app)
    assert after["CAM"][0] != before["CAM"][0] and after["Gradient saliency"][0] != before["Gradient saliency"][0]
    assert after["Fine-grained saliency"][0] == before["Fine-grained saliency"][0]
    radio.set_value(0).run()


def test_clipping_changes_only_the_gradient_map(app):
    before = panels(app)
    app.toggle(key="sal_clip").set_value(False).run()
    ok(app)
    after = panels(app)
    assert after["Gradient saliency"][0] != before["Gradient saliency"][0]
    assert after["Spectral residual"][0] == before["Spectral residual"][0]
    app.toggle(key="sal_clip").set_value(True).run()


def test_image_choice(app, model):
    app.radio(key="sal_rank").set_value(2).run()
    app.selectbox(key="sal_image").set_value(1).run()  # slot 2: the dog
    ok(app)
    assert app.selectbox(key="sal_class").value == model.classes.index("German shepherd")  # its own class again
    assert app.radio(key="sal_rank").value == 0
    assert "German Shepherd" in texts(app).split("Gradient saliency and CAM explain")[1]
    app.selectbox(key="sal_image").set_value(0).run()


def test_lambda_and_seed(app):
    app.slider(key="sal_lam").set_value(0.3).run()
    ok(app)
    m = metrics(app)
    assert m["λ drawn"] == "0.300" and float(m["λ′ after clipping the box"]) >= 0.3
    smix = panels(app)["SaliencyMix"][0]
    app.number_input(key="sal_seed").set_value(7).run()
    ok(app)
    assert metrics(app)["ρa (slot 1)"] != m["ρa (slot 1)"]  # SnapMix's boxes moved
    assert panels(app)["SaliencyMix"][0] == smix  # SaliencyMix's box follows the peak, not the seed
    app.number_input(key="sal_seed").set_value(0).run()
    app.slider(key="sal_lam").set_value(0.6).run()


def test_lecture_mode(app):
    set_lecture(app, True)
    ok(app)
    keys = {w.key for w in app.main.get("toggle") + app.main.get("number_input")}
    assert "sal_clip" not in keys and "sal_seed" not in keys
    assert all(title in panels(app) for title in MAPS)
    assert "Montabone & Soto (2010)" not in texts(app)  # the long captions go
    set_lecture(app, False)
    ok(app)


def test_an_error_is_a_message_not_a_traceback(app, monkeypatch):
    import ui.cam_maps

    def broken(key, class_index, model):
        raise mixviz.MixError("gradient saliency failed for a test")

    monkeypatch.setattr(ui.cam_maps, "gradient", broken)
    app.run()
    assert not app.exception
    assert any("failed for a test" in e.value for e in app.error)
    assert "λ drawn" in metrics(app)  # the comparison still runs
    monkeypatch.undo()
    app.run()
    ok(app)
