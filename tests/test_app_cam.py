"""The CAM Explorer page through streamlit's AppTest: every widget changes what it should, the pooled
outputs of the seed matrix are exact, a slider move repeats no forward pass, errors never show a
traceback."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import switch_page

import mixviz
from mixviz.maps.pooling import pool2d

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "cam_explorer"  # the page's url path
MAX_TEXT = "Max pooling → `[[10, 10], [6, 3]]`, average pooling → `[[8.75, 6.5], [2.5, 1]]`"


@pytest.fixture(scope="module")
def model():
    return mixviz.load_model()  # the instance ui.models.model() serves (load_model builds each model once)


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(APP, default_timeout=180).run()
    switch_page(at, PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def cam_caption(at) -> str:
    return next(c for img in at.main.image for c in img.captions if c.startswith("CAM of"))


def cam_url(at) -> str:
    return next(img.value[0] for img in at.main.image if img.captions[0].startswith("CAM of"))


def chart(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith(key)).proto.spec)


def table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def set_lecture(at, on: bool):
    """Lecture mode on or off, as the sidebar's toggle sets it."""
    at.sidebar.toggle(key="lecture").set_value(on).run()


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_page_renders_with_everything_it_promises(app, model):
    ok(app)
    assert app.title[0].value == "CAM Explorer"
    assert cam_caption(app).startswith("CAM of “Egyptian cat”")  # the photo's own class, not the top prediction
    assert "the photo's ImageNet class" in cam_caption(app)
    assert app.selectbox(key="cam_class").value == model.classes.index("Egyptian cat")
    assert MAX_TEXT in texts(app)
    rows = table(app, "output shape")
    cam_row = rows[rows["layer"].str.contains("CAM features")].iloc[0]
    c, h, w = (2048, 10, 10) if model.name == "xception" else (1280, 7, 7)
    assert cam_row["output shape"] == f"{c} × {h} × {w}"
    assert f"Total parameters: {sum(p.numel() for p in model.net.parameters()):,}" in texts(app)
    assert f"{c} channels of {h}×{w}" in texts(app)
    for key in ("cam_topk", "cam_low", "cam_strongest", "cam_global"):
        assert chart(app, key)["data"], key
    notes = [a["text"] for a in chart(app, "cam_pool")["layout"]["annotations"]]
    assert {"8.75", "6.5", "2.5", "1", "3", "6"} <= set(notes)
    if model.notice:  # one line, the whole notice in its tooltip
        line = next(c for c in app.caption if "no Xception weights on this server" in c.value)
        assert line.proto.help == model.notice and model.title in line.value and not app.info


def test_opacity_slider_changes_the_overlay_without_a_forward_pass(app, forward_passes):
    before = cam_url(app)
    app.slider(key="cam_alpha").set_value(0.9).run()
    ok(app)
    assert "opacity 0.90" in cam_caption(app) and cam_url(app) != before
    app.slider(key="cam_channels").set_value(3).run()
    app.radio(key="cam_rank").set_value(2).run()  # another class: its CAM comes from the cached features
    app.radio(key="cam_rank").set_value(0).run()
    ok(app)
    assert forward_passes == []


def test_choosing_a_top5_class_changes_the_cam(app):
    radio = app.radio(key="cam_rank")
    second = radio.options[1].split(" (")[0]
    before = cam_url(app)
    radio.set_value(1).run()
    ok(app)
    assert f"“{second}”" in cam_caption(app) and cam_url(app) != before
    top = chart(app, "cam_topk")["data"][0]
    assert top["marker"]["color"][-2] == "#d62728"  # the second bar from the top is highlighted
    assert f"logit for “{second}”" in texts(app)
    radio.set_value(0).run()


def test_any_imagenet_class(app, model):
    app.selectbox(key="cam_class").set_value(1).run()
    ok(app)
    assert f"“{model.classes[1]}” (class 1," in cam_caption(app) and "chosen" in cam_caption(app)
    assert app.radio(key="cam_rank").value is None  # outside the top 5: no shortcut is lit
    app.radio(key="cam_rank").set_value(0).run()  # a shortcut sets the class
    assert "(class 1," not in cam_caption(app)
    assert model.classes[app.selectbox(key="cam_class").value] == app.radio(key="cam_rank").options[0].split(" (")[0]


def test_choosing_another_image_resets_the_class(app):
    app.radio(key="cam_rank").set_value(3).run()
    cat = cam_caption(app)
    app.selectbox(key="cam_image").set_value(1).run()  # slot 2: the dog
    ok(app)
    assert app.radio(key="cam_rank").value == 0
    assert cam_caption(app) != cat
    assert any("German Shepherd" in c.value for c in app.caption)  # the photo's credit
    app.selectbox(key="cam_image").set_value(0).run()


def test_channel_count_slider(app):
    app.slider(key="cam_channels").set_value(9).run()
    ok(app)
    assert len(chart(app, "cam_strongest")["data"]) == 9
    app.slider(key="cam_channels").set_value(2).run()
    assert len(chart(app, "cam_strongest")["data"]) == 2


def test_window_highlight(app):
    app.radio(key="cam_window").set_value(1).run()
    ok(app)
    assert "max pooling `max(7, 9, 9, 10) = 10`" in texts(app)
    assert "average pooling `(7 + 9 + 9 + 10) / 4 = 8.75`" in texts(app)
    shapes = chart(app, "cam_pool")["layout"]["shapes"]
    assert sum(s["line"]["width"] == 5 for s in shapes) == 3
    app.radio(key="cam_window").set_value(4).run()
    assert "max pooling `max(0, 3, 0, 1) = 3`" in texts(app)
    app.radio(key="cam_window").set_value(0).run()
    assert "Window of output" not in texts(app)


def test_editing_the_matrix_changes_the_pooled_outputs(app):
    app.session_state["cam_matrix"] = {"edited_rows": {0: {"col 1": 20}, 3: {"col 4": 5}},
                                       "added_rows": [], "deleted_rows": []}
    app.run()
    ok(app)
    edited = [[20, 9, 10, 4], [9, 10, 3, 9], [6, 2, 0, 3], [2, 0, 0, 5]]
    assert pool2d(edited, "avg").output.tolist() == [[12, 6.5], [2.5, 2]]
    assert "Max pooling → `[[20, 10], [6, 5]]`, average pooling → `[[12, 6.5], [2.5, 2]]`" in texts(app)
    notes = [a["text"] for a in chart(app, "cam_pool")["layout"]["annotations"]]
    assert "12" in notes and "<b>20</b>" in notes
    app.session_state["cam_matrix"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    app.run()
    assert MAX_TEXT in texts(app)


def test_lecture_mode_has_fewer_controls_and_bigger_figures(app):
    small = chart(app, "cam_topk")["layout"]["font"]["size"]
    set_lecture(app, True)
    ok(app)
    keys = {w.key for w in app.main.get("selectbox") + app.main.get("slider")}
    assert "cam_any" not in keys and "cam_channels" not in keys and "cam_alpha" in keys
    assert chart(app, "cam_topk")["layout"]["font"]["size"] > small
    assert len(chart(app, "cam_strongest")["data"]) == 3
    assert MAX_TEXT in texts(app)
    set_lecture(app, False)
    ok(app)


def test_an_error_is_a_message_not_a_traceback(app, monkeypatch):
    import ui.cam_maps

    def broken(key, model):
        raise mixviz.ImageError("this upload is no longer in memory: please upload it again")

    monkeypatch.setattr(ui.cam_maps, "base_cam", broken)
    app.run()
    assert not app.exception
    assert any("no longer in memory" in e.value for e in app.error)
    assert MAX_TEXT in texts(app)  # the rest of the page still works
    monkeypatch.undo()
    app.run()
    ok(app)


def test_a_bug_in_one_section_is_a_short_message_and_the_rest_draws(app, monkeypatch):
    import ui.cam_maps

    def broken(model):
        raise RuntimeError("an internal detail")

    monkeypatch.setattr(ui.cam_maps, "layers", broken)
    app.run()
    assert not app.exception
    assert [e.value for e in app.error] == ["The layer table could not be drawn (a bug: the details are in the server "
                                            "log)."]
    assert cam_caption(app).startswith("CAM of") and MAX_TEXT in texts(app)  # the sections before and after it
    assert chart(app, "cam_global")["data"]
    monkeypatch.undo()
    app.run()
    ok(app)
