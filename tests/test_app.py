"""The app through streamlit's AppTest: every method renders without an exception."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import mixviz

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def test_every_method_renders(app):
    for name in mixviz.METHODS:
        app.selectbox[0].select(name).run()
        assert not app.exception, (name, [e.value for e in app.exception])
        assert not app.error, (name, [e.value for e in app.error])
        assert len(app.image) >= 1 + 2 * mixviz.METHODS[name].n_inputs


def test_lambda_slider_changes_the_label(app):
    app.selectbox[0].select("mixup").run()
    lam = next(s for s in app.slider if s.label == "λ")
    lam.set_value(0.2).run()
    assert not app.exception
    assert any("0.200" in str(m.value) for m in app.metric)


def test_model_guided_methods_say_which_model_made_the_maps(app):
    app.selectbox[0].select("snapmix").run()
    assert not app.exception
    model = mixviz.load_model()
    shown = [i.value for i in app.info] + [c.value for c in app.caption]
    assert any(model.title in text for text in shown)
    if model.notice:  # the offline fallback is named as such
        assert model.notice in shown
