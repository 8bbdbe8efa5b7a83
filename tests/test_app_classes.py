"""Which class a map is for, through streamlit's AppTest: SnapMix, TdAttenMix and Puzzle Mix use each
bundled photo's own ImageNet class (as the authors' code uses the training label), an upload's top
prediction (and the page says so), every heat map names its class, and a select changes it."""
import io
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

import mixviz
from mixviz.imaging import cover_crop, fit_within, image_size, load_image, to_tensor
from mixviz.maps.guide_maps import semantic_percent_maps
from mixviz.samples import samples
from apptest_helpers import label_bars, mixing_lab, ok, switch_page

APP = str(Path(__file__).resolve().parent.parent / "app.py")
MAX_SIDE = 384  # ui.uploads.MAX_SIDE: the page mixes the photos fitted within it


@pytest.fixture(scope="module")
def model():
    return mixviz.load_model()  # the instance ui.models.model() serves


def index(model, name: str) -> int:
    return model.classes.index(name)


def page_batch(names) -> torch.Tensor:
    """(K, 3, H, W) the photos as the Mixing Lab mixes them: fitted within MAX_SIDE, cover-cropped to the
    first one's size."""
    pictures = [fit_within(load_image(samples()[n].path), MAX_SIDE) for n in names]
    size = image_size(pictures[0])
    return torch.stack([cover_crop(to_tensor(p), *size) for p in pictures])


def lab(*photos: str, method: str = "snapmix") -> AppTest:
    return mixing_lab(method, *photos)


def image_captions(at) -> list[str]:
    return [c for img in at.main.image for c in img.captions]


def guide_captions(at, start: str) -> list[str]:
    return [c for c in image_captions(at) if c.startswith(start)]


def snapmix_label(names, classes, model) -> dict:
    x = page_batch(names)
    spm = semantic_percent_maps(x, model, classes=torch.tensor(classes))
    r = mixviz.mix("snapmix", x, labels=list(names), seed=0, lam=0.5, maps=spm,
                   **mixviz.METHODS["snapmix"].defaults())
    return r.label


def test_snapmix_maps_are_the_cams_of_each_photos_own_class(model):
    at = lab("boat", "airplane")
    canoe, airliner = index(model, "canoe"), index(model, "airliner")
    assert at.selectbox(key="lab_class0").value == canoe and at.selectbox(key="lab_class1").value == airliner
    assert label_bars(at) == pytest.approx(snapmix_label(("boat", "airplane"), [canoe, airliner], model), abs=1e-6)
    first, second = guide_captions(at, "SPM of input")
    assert "“canoe”" in first and "the photo's ImageNet class" in first
    assert "“airliner”" in second and "the photo's ImageNet class" in second

    dock = index(model, "dock")  # another class: its CAM becomes input 1's map, and its label changes
    at.selectbox(key="lab_class0").set_value(dock).run()
    ok(at)
    assert label_bars(at) == pytest.approx(snapmix_label(("boat", "airplane"), [dock, airliner], model), abs=1e-6)
    assert label_bars(at)["boat"] != pytest.approx(snapmix_label(("boat", "airplane"), [canoe, airliner],
                                                                  model)["boat"], abs=1e-4)
    first = guide_captions(at, "SPM of input")[0]
    assert "“dock”" in first and "chosen" in first and "the photo is “canoe”" in first


def test_the_own_class_is_used_where_the_network_predicts_another(model):
    """The bridge's top prediction is "pier": its map is still the CAM of "suspension bridge"."""
    names = ("bridge", "kitten")
    x = page_batch(names)
    with torch.inference_mode():
        top = [int(model.net(model.preprocess(img))[0].argmax()) for img in x]
    own = [index(model, "suspension bridge"), index(model, "tabby")]
    assert top[0] != own[0]  # what makes this pair a test
    at = lab(*names)
    assert label_bars(at) == pytest.approx(snapmix_label(names, own, model), abs=1e-6)
    assert label_bars(at) != pytest.approx(snapmix_label(names, top, model), abs=1e-4)
    assert "“suspension bridge”" in guide_captions(at, "SPM of input")[0]


def test_swapping_the_slots_moves_each_class_with_its_photo(model):
    at = lab("boat", "airplane")
    at.selectbox(key="lab_class0").set_value(index(model, "dock")).run()
    at.sidebar.button(key="swap0").click().run()
    ok(at)
    assert at.selectbox(key="lab_class0").value == index(model, "airliner")  # each photo starts at its own class
    assert at.selectbox(key="lab_class1").value == index(model, "canoe")


def test_puzzlemix_and_tdattenmix_name_the_class_of_each_map(model):
    at = lab("boat", "airplane", method="puzzlemix")
    maps = guide_captions(at, "gradient saliency of input")
    assert len(maps) == 2 and "“canoe”" in maps[0] and "“airliner”" in maps[1]
    at.selectbox(key="lab_class1").set_value(index(model, "warplane")).run()
    ok(at)
    assert "“warplane”" in guide_captions(at, "gradient saliency of input")[1]
    at.selectbox(key="lab_family").select("guided").run()
    at.selectbox(key="lab_method").select("tdattenmix").run()
    ok(at)
    maps = guide_captions(at, "attention of input")
    assert "“canoe”" in maps[0] and "“warplane”" in maps[1]  # the choice stays while the photo does


def test_attentive_cutmix_says_its_map_has_no_class():
    at = lab("boat", "airplane", method="attentivemix")
    assert not [s for s in at.selectbox if s.key and s.key.startswith("lab_class")]
    caption, = guide_captions(at, "input 2's feature attention")
    assert "no class" in caption


def test_an_upload_uses_the_top_prediction_and_says_so(model):
    at = AppTest.from_file(APP, default_timeout=180).run()
    buf = io.BytesIO()
    Image.open(samples()["kitten"].path).save(buf, format="PNG")
    at.sidebar.file_uploader(key="uploads").set_value([("my_kitten.png", buf.getvalue(), "image/png")]).run()
    at.selectbox(key="lab_family").select("guided").run()
    at.selectbox(key="lab_method").select("snapmix").run()
    ok(at)
    shown = fit_within(load_image(buf.getvalue()), MAX_SIDE)
    with torch.inference_mode():
        top = int(model.net(model.preprocess(to_tensor(shown)))[0].argmax())
    assert at.selectbox(key="lab_class0").value == top
    first = guide_captions(at, "SPM of input")[0]
    assert f"“{model.classes[top]}”" in first and "top prediction" in first and "upload" in first


def test_cam_explorer_starts_at_the_photos_own_class(model):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.sidebar.selectbox(key="slot0").select("sample:bridge").run()
    switch_page(at, "cam_explorer").run()
    ok(at)
    cam = next(c for c in image_captions(at) if c.startswith("CAM of"))
    assert "“suspension bridge”" in cam and "the photo's ImageNet class" in cam  # not the top prediction, "pier"
    pier = index(model, "pier")
    at.selectbox(key="cam_class").set_value(pier).run()
    ok(at)
    cam = next(c for c in image_captions(at) if c.startswith("CAM of"))
    assert "“pier”" in cam and "chosen" in cam


def test_saliency_page_names_the_class_of_every_learned_map(model):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.sidebar.selectbox(key="slot0").select("sample:bridge").run()
    at.sidebar.selectbox(key="slot1").select("sample:kitten").run()
    switch_page(at, "saliency").run()
    ok(at)
    captions = image_captions(at)
    cam = next(c for c in captions if c.startswith("CAM"))
    grad = next(c for c in captions if c.startswith("Gradient saliency"))
    assert "“suspension bridge”" in cam and "“suspension bridge”" in grad
    spm = [c for c in captions if "SPM" in c]
    assert "“suspension bridge”" in spm[0] and "“tabby”" in spm[1]
