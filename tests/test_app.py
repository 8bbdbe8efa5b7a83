"""The app through streamlit's AppTest: the shared sidebar, the Mixing Lab and the Gallery. Every
widget is changed at least once, and the tests check what the change does to the page."""
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from apptest_helpers import label_bars, live_data, switch_page

import mixviz

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PHOTO = Path(__file__).resolve().parent.parent / "assets" / "photos" / "cat.jpg"


def fresh(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    if page:
        switch_page(at, page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def choose(at, method: str) -> None:
    at.selectbox(key="lab_family").select(mixviz.METHODS[method].family).run()
    at.selectbox(key="lab_method").select(method).run()


def ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.fixture(scope="module")
def lab():
    return fresh()


def test_every_method_renders_with_its_title(lab):
    for name, spec in mixviz.METHODS.items():
        choose(lab, name)
        ok(lab)
        assert spec.title in [h.value for h in lab.subheader]
        assert len(lab.main.image) >= spec.n_inputs  # the inputs, shaded; the mix and masks are in the live picture
        weights = label_bars(lab)
        assert len(weights) >= 1 and all(0 <= w <= 1 + 1e-9 for w in weights.values())


def test_every_parameter_widget_changes_without_error(lab):
    for name, spec in mixviz.METHODS.items():
        if not spec.params:
            continue
        choose(lab, name)
        for p in spec.params:
            key = f"lab_{name}_{p.name}"
            if p.kind == "point":  # drawn, then fixed by its toggle and moved by its two sliders
                lab.toggle(key=f"{key}_fixed").set_value(True).run()
                lab.slider(key=f"{key}_x").set_value(0.1).run()
                ok(lab)
                assert live_data(lab)["box"]["centres"][live_data(lab)["index"]][1] == pytest.approx(0.1, abs=0.01)
                lab.toggle(key=f"{key}_fixed").set_value(False).run()
            elif p.kind == "choice":
                lab.selectbox(key=key).select(next(c for c in p.choices if c != p.default)).run()
            elif p.kind == "bool":
                lab.toggle(key=key).set_value(not p.default).run()
            else:
                other = p.min if p.default != p.min else p.max
                lab.slider(key=key).set_value(int(other) if p.kind == "int" else float(other)).run()
            ok(lab)


def test_lambda_slider_sets_the_mixup_label(lab):
    choose(lab, "mixup")
    lab.toggle(key="lab_fix").set_value(True).run()
    lab.slider(key="lab_lam").set_value(0.2).run()
    ok(lab)
    assert label_bars(lab) == pytest.approx({"cat": 0.2, "dog": 0.8})
    assert "λ fixed at **0.20**" in " ".join(m.value for m in lab.markdown)
    assert len(charts(lab)) == 0  # no Beta density while λ is fixed


def test_cutmix_shows_the_corrected_lambda(lab):
    choose(lab, "cutmix")
    lab.slider(key="lab_lam").set_value(0.5).run()
    text = next(m.value for m in lab.markdown if m.value.startswith("λ fixed"))
    corrected = float(text.split("**")[-2])
    assert corrected == pytest.approx(label_bars(lab)["cat"], abs=1e-3) and corrected != 0.5
    lab.toggle(key="lab_fix").set_value(False).run()  # drawn λ: the density marks the drawn and the corrected λ
    names = {t["name"] for t in charts(lab)[0]["data"]}
    drawn = [n for n in names if n.startswith("corrected λ")]
    assert drawn and float(drawn[0].split()[-1]) == pytest.approx(label_bars(lab)["cat"], abs=1e-3)
    lab.toggle(key="lab_fix").set_value(True).run()


def test_alpha_mode_draws_lambda_and_reroll_draws_again(lab):
    choose(lab, "mixup")
    lab.toggle(key="lab_fix").set_value(False).run()
    lab.slider(key="lab_alpha").set_value(0.3).run()
    ok(lab)
    beta = charts(lab)[0]
    assert "Beta(0.3, 0.3)" in beta["layout"]["title"]["text"]
    drawn = label_bars(lab)["cat"]
    seed = lab.number_input(key="lab_seed").value
    lab.button(key="lab_reroll").click().run()
    assert lab.number_input(key="lab_seed").value == seed + 1
    lab.number_input(key="lab_seed").set_value(seed + 7).run()
    assert label_bars(lab)["cat"] != pytest.approx(drawn)
    lab.toggle(key="lab_fix").set_value(True).run()


def test_label_smoothing_spreads_epsilon(lab):
    choose(lab, "mixup")
    lab.slider(key="lab_lam").set_value(0.3).run()
    lab.slider(key="lab_eps").set_value(0.1).run()
    bars = label_bars(lab)
    assert bars["cat"] == pytest.approx(0.9 * 0.3 + 0.1 / 1000)
    assert bars["each other class"] == pytest.approx(0.1 / 1000)
    lab.slider(key="lab_eps").set_value(0.0).run()
    assert "each other class" not in label_bars(lab)


def test_snapmix_says_its_weights_need_not_sum_to_one(lab):
    choose(lab, "snapmix")
    ok(lab)
    total = sum(label_bars(lab).values())
    note = live_data(lab)["notes"][live_data(lab)["index"]]
    assert abs(total - 1) < 5e-4 or f"sum to {total:.3f}, not 1" in note
    assert "SPM of input 1" in " ".join(str(i.proto) for i in lab.main.image)  # the guiding maps are drawn


def test_network_view_toggles(lab):
    choose(lab, "cutmix")
    assert not lab.dataframe  # off by default: it costs a forward pass per change
    lab.toggle(key="lab_network").set_value(True).run()
    ok(lab)
    assert lab.dataframe and "top-5 on the mix" in " ".join(c.value for c in lab.caption)
    rows = lab.dataframe[0].value
    assert list(rows["input"]) == ["cat", "dog"] and abs(float(rows["label weight"].sum()) - 1) < 1e-6
    lab.toggle(key="lab_network").set_value(False).run()
    assert not lab.dataframe
    assert lab.get("download_button")


def test_query_parameter_opens_a_method():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["method"] = "ricap"
    at.run()
    ok(at)
    assert at.selectbox(key="lab_method").value == "ricap" and at.selectbox(key="lab_family").value == "tiles"


def test_sidebar_swap_slots_and_lecture_mode():
    at = fresh()
    assert list(label_bars(at)) == ["cat", "dog"]
    at.sidebar.button(key="swap0").click().run()
    ok(at)
    assert list(label_bars(at)) == ["dog", "cat"]
    at.sidebar.selectbox(key="slot0").select("sample:panda").run()
    assert set(label_bars(at)) == {"panda", "cat"}
    at.selectbox(key="lab_family").select("tiles").run()
    at.selectbox(key="lab_method").select("ricap").run()
    assert "koala" in label_bars(at)  # slots 3 and 4 hold the default photos while two slots are shown
    at.sidebar.radio(key="n_slots").set_value(4).run()
    at.sidebar.selectbox(key="slot3").select("sample:hen").run()
    ok(at)
    assert "hen" in label_bars(at) and "koala" not in label_bars(at)
    at.sidebar.toggle(key="lecture").set_value(True).run()
    assert not at.exception
    assert not [s for s in at.slider if s.key == "lab_eps"]  # fewer controls in lecture mode
    assert not [e for e in at.expander if "Code" in e.label]
    at.sidebar.toggle(key="lecture").set_value(False).run()
    assert [s for s in at.slider if s.key == "lab_eps"]


def test_uploads_fill_the_slots_and_bad_files_are_explained():
    at = fresh()
    buf = io.BytesIO()
    Image.open(PHOTO).resize((120, 90)).save(buf, format="PNG")
    at.sidebar.file_uploader(key="uploads").set_value([("my_photo.png", buf.getvalue(), "image/png"),
                                                       ("broken.jpg", b"\xff\xd8\xff\xe0 not a jpeg", "image/jpeg"),
                                                       ("notes.txt", b"hello", "text/plain")]).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "broken.jpg" in errors and "notes.txt" in errors  # each bad file is named, with its reason
    assert "my_photo" in label_bars(at)  # the good upload went into slot 1
    assert at.sidebar.selectbox(key="slot0").value.startswith("upload:")
    assert len(at.main.image) >= 2  # the page goes on working: the inputs, shaded
    assert "my_photo.png" in " ".join(c.value for c in at.code)  # the code snippet names the uploaded file



def test_uploads_are_decoded_once_and_kept_small(monkeypatch):
    import ui.uploads as uploads

    decoded = []
    real = uploads.load_image
    def counting(source):
        if isinstance(source, bytes):  # an upload (bundled photos come by path)
            decoded.append(len(source))
        return real(source)

    monkeypatch.setattr(uploads, "load_image", counting)
    at = fresh()
    big, thin = io.BytesIO(), io.BytesIO()
    Image.open(PHOTO).resize((1200, 900)).save(big, format="PNG")
    Image.new("RGB", (1, 400), "red").save(thin, format="PNG")
    at.sidebar.file_uploader(key="uploads").set_value([("big.png", big.getvalue(), "image/png"),
                                                       ("thin.png", thin.getvalue(), "image/png")]).run()
    at.slider(key="lab_lam").set_value(0.3).run()
    at.slider(key="lab_lam").set_value(0.7).run()
    assert not at.exception
    assert sorted(decoded) == sorted([len(big.getvalue()), len(thin.getvalue())])  # once each, not per rerun
    assert any("thin.png" in e.value and "1×400 pixels" in e.value for e in at.error)
    key = at.sidebar.selectbox(key="slot0").value
    kept = uploads._UPLOADS[key]  # the fitted picture, not the file's bytes
    assert kept.size == (uploads.MAX_SIDE, 288) and kept.mode == "RGB"

def test_gallery_shows_every_method_and_its_controls_work():
    at = fresh("gallery")
    n = len(mixviz.METHODS)
    assert len(at.main.image) >= n
    captions = " ".join(str(i.proto) for i in at.main.image)
    assert all(spec.title in captions for spec in mixviz.METHODS.values())
    at.multiselect(key="gal_families").set_value(["blend"]).run()
    assert sum(1 for s in mixviz.METHODS.values() if s.family == "blend") <= len(at.main.image) < n
    at.slider(key="gal_lam").set_value(0.3).run()
    assert "Mixup (cat 0.30, dog 0.70)" in " ".join(str(i.proto) for i in at.main.image)  # mixup's label follows λ
    at.toggle(key="gal_fix").set_value(False).run()
    assert "gal_alpha" not in [w.key for w in at.slider]  # each method's own α by default
    at.toggle(key="gal_own_alpha").set_value(False).run()  # one α for every Beta-drawn method
    at.slider(key="gal_alpha").set_value(2.0).run()
    at.button(key="gal_reroll").click().run()
    assert at.number_input(key="gal_seed").value == 1
    at.number_input(key="gal_seed").set_value(5).run()
    at.slider(key="gal_columns").set_value(3).run()
    at.multiselect(key="gal_families").set_value([]).run()
    assert any("at least one method" in i.value for i in at.info)
    ok(at)
    assert not at.get("download_button")
    at.multiselect(key="gal_families").set_value(["tiles"]).run()
    assert at.get("download_button")


def test_the_gallery_takes_methods_one_by_one_and_shows_its_inputs_and_who_uses_default_photos():
    """The lecture's slide with CutMix, SmoothMix and AttentiveMix spans two families: methods are chosen one by
    one; the inputs are shown above the grid, captions name the classes, and with two slots a four-input method
    says that its inputs 3 and 4 are the default photos."""
    from ui.images import batch

    at = fresh("gallery")
    at.toggle(key="gal_fix").set_value(True).run()
    at.slider(key="gal_lam").set_value(0.7).run()
    at.multiselect(key="gal_methods").set_value(["cutmix", "smoothmix", "attentivemix"]).run()
    ok(at)
    captions = [i.proto.imgs[0].caption for i in at.main.image]
    assert captions[:2] == ["input 1: cat", "input 2: dog"] and len(captions) == 5
    x = batch(("sample:cat", "sample:dog"))
    r = mixviz.mix("cutmix", x, labels=["cat", "dog"], seed=0, lam=0.7)
    assert captions[2] == f"CutMix (cat {r.label['cat']:.2f}, dog {r.label['dog']:.2f})"
    assert [c.split(" (")[0] for c in captions[2:]] == ["CutMix", "SmoothMix", "Attentive CutMix"]
    assert not at.info
    at.multiselect(key="gal_methods").set_value(["mixup", "ricap"]).run()
    captions = [i.proto.imgs[0].caption for i in at.main.image]
    third, fourth = captions[2].split(": ")[1], captions[3].split(": ")[1]  # the default photos of slots 3 and 4
    assert captions[:2] == ["input 1: cat", "input 2: dog"] and captions[2:4] == [f"input 3: {third}", f"input 4: {fourth}"]
    assert [i.value for i in at.info] == [f"RICAP mixes four images: inputs 3 and 4 ({third} and {fourth}) are the default "
                                          "photos, not slots of yours. Choose 4 image slots in the sidebar to pick them."]
    assert captions[5].startswith("RICAP (cat ") and f"{third} " in captions[5]
    at.multiselect(key="gal_families").set_value(["blend"]).run()  # a family sets the methods to its own
    assert at.multiselect(key="gal_methods").value == [n for n, s in mixviz.METHODS.items() if s.family == "blend"]


def test_the_gallery_png_names_lambda_and_the_classes():
    import torch

    from mixviz.viz.slides import gallery_figure

    x = torch.rand(2, 3, 24, 32)
    fig = gallery_figure(x, ["boat", "airplane"], seed=3, lam=0.7, methods=["mixup"], columns=1)
    texts = [t.get_text() for ax in fig.axes for t in (ax.title,)] + [fig._suptitle.get_text()]
    assert "Mixup\n(boat 0.70, airplane 0.30)" in texts
    assert "seed 3, λ 0.70 where a method has one" in fig._suptitle.get_text()
    assert "α = 2" in gallery_figure(x, ["a", "b"], alpha=2.0, methods=["mixup"], columns=1)._suptitle.get_text()


def test_the_photo_licences_open_in_the_app():
    at = fresh()
    at.sidebar.button(key="licences").click().run()
    ok(at)
    shown = " ".join(m.value for m in at.markdown)
    assert "Sources of the bundled sample photos" in shown and "chelsea" in shown.lower()
    assert {e.label for e in at.expander} >= {"GPL-2", "GPL-3", "LGPL-3"}



def test_the_server_runs_light_work_on_one_thread_and_the_network_on_every_core():
    import gc

    import torch

    from ui.images import image
    from ui.models import model
    from mixviz.threads import CORES

    fresh()
    assert gc.get_freeze_count() > 100_000  # the startup objects are out of every later full collection
    m = model()
    seen = []
    hook = m.net.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.inference_mode():
            m.net(m.preprocess(image("sample:cat")))
        assert seen == [CORES] and torch.get_num_threads() == 1  # every core inside, one thread after
    finally:
        hook.remove()
        torch.set_num_threads(before)
