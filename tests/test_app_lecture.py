"""The Lecture page through AppTest: every step draws without an error, each mix step's live picture gets the
library's label (ui.lecture_steps.mix_of) and the slide's label to mark beside it, Previous and Next walk the
steps in the deck's order, a λ released on the live picture moves only that step, and a step's link opens it.
(What a person sees at 1280×720, and the arrow keys, are checked in Chromium: tests/e2e/test_lecture.py.)"""
import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import APP, label_bars, live_data, ok, switch_page
from ui.lecture_steps import BY_SLUG, STEPS, mix_of


@pytest.fixture(scope="module")
def lecture() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    switch_page(at, "lecture").run()
    ok(at)
    return at


def title(at) -> str:
    """The step's number and title, as the page's header row writes them."""
    return next(h.proto.body for h in at.get("html") if "mixviz-step-title" in h.proto.body)


def test_every_step_draws_and_each_mix_shows_the_librarys_label_beside_the_slides(lecture):
    at = lecture
    for n, step in enumerate(STEPS):
        at.selectbox(key="lec_step").select(step.slug).run()
        ok(at)
        assert f"{n + 1}/{len(STEPS)} · {step.title}" in title(at)
        assert at.query_params["step"] in (step.slug, [step.slug])
        if step.kind != "mix":
            continue
        expected = {str(k): float(v) for k, v in mix_of(step).label.items()}
        shown = label_bars(at)
        assert shown.keys() == expected.keys() and all(abs(shown[k] - expected[k]) < 1e-6 for k in expected), step.slug
        data = live_data(at)
        assert data["big"] is True
        if step.slide:
            slide = dict(step.slide)
            assert data["reference"] == {"name": "slide", "weights": [slide.get(k, 0.0) for k in data["names"]]}


def test_previous_and_next_walk_the_steps_in_order(lecture):
    at = lecture
    at.selectbox(key="lec_step").select(STEPS[0].slug).run()
    assert at.button(key="lec_prev").disabled
    at.button(key="lec_next").click().run()
    assert at.selectbox(key="lec_step").value == STEPS[1].slug
    at.button(key="lec_next").click().run()
    at.button(key="lec_prev").click().run()
    assert at.selectbox(key="lec_step").value == STEPS[1].slug
    at.selectbox(key="lec_step").select(STEPS[-1].slug).run()
    assert at.button(key="lec_next").disabled
    ok(at)


def test_a_released_lambda_moves_its_step_only_until_another_step_is_shown(lecture):
    at = lecture
    at.selectbox(key="lec_step").select("mixup").run()
    at.session_state["lec_lam"] = 0.4  # what the live picture's release callback writes (views.mixing_lab._released)
    at.run()
    assert label_bars(at) == pytest.approx({"boat": 0.4, "airplane": 0.6})
    at.selectbox(key="lec_step").select("cutmix").run()
    at.selectbox(key="lec_step").select("mixup").run()
    assert label_bars(at) == pytest.approx({"boat": 0.7, "airplane": 0.3})  # the step's own λ again
    ok(at)


def test_a_step_link_opens_that_step_and_a_bad_one_is_named():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["step"] = "ricap"
    at.run()
    switch_page(at, "lecture").run()
    ok(at)
    assert BY_SLUG["ricap"].title in title(at) and set(label_bars(at)) == {"boat", "airplane", "cow", "dog"}
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["step"] = "no-such-step"
    at.run()
    assert any("no such lecture step" in w.value for w in at.warning)
