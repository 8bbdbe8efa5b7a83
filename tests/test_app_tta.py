"""The Test-time augmentation page through streamlit's AppTest: it draws without an exception or error, each of the
ten crops is captioned with its name and a real ImageNet class, the averages' tables name the photo's class, and
the evaluation's two tables agree with each other and cover every bundled photo."""
import re

import pytest
from streamlit.testing.v1 import AppTest

import mixviz
from apptest_helpers import APP, ok, switch_page
from mixviz import tta
from mixviz.samples import samples

CAPTION = re.compile(r"^(?P<crop>[a-z, -]+): (?P<cls>.+) (?P<p>\d+)%(?P<own> ✓)?$")


@pytest.fixture(scope="module")
def model():
    return mixviz.load_model()  # the instance ui.models.model() serves


@pytest.fixture(scope="module")
def at():
    at = AppTest.from_file(APP, default_timeout=240).run()
    ok(at)
    switch_page(at, "tta").run()
    ok(at)
    return at


def crop_captions(at) -> list[dict]:
    found = [CAPTION.match(c) for img in at.main.image for c in img.captions]
    return [m.groupdict() for m in found if m and m["crop"] in tta.CROP_NAMES]


def test_the_page_draws_the_ten_crops_each_captioned_with_its_name_and_a_class(at, model):
    assert at.title[0].value == "Test-time augmentation"
    caps = crop_captions(at)
    assert [c["crop"] for c in caps] == list(tta.CROP_NAMES)
    assert all(c["cls"] in model.classes for c in caps), caps
    # the captions are the network's top-1 on each crop of slot 1's photo (the cat), computed here again
    r = tta.ten_crop(model, mixviz.load_image(samples()["cat"].path))
    assert [c["cls"] for c in caps] == [model.classes[int(i)] for i in r.probs.argmax(1)]
    assert all((c["own"] is not None) == (c["cls"] == "Egyptian cat") for c in caps)


def test_the_averages_tables_and_the_formula(at, model):
    tables = [t.value for t in at.table]
    averages = [t for t in tables if list(t.columns) == ["class", "p"]]
    assert len(averages) == 3  # centre crop, softmax average, logit average
    r = tta.ten_crop(model, mixviz.load_image(samples()["cat"].path))
    for table, how in zip(averages, ("centre", "softmax", "logit")):
        assert [c.removesuffix(" ✓") for c in table["class"]] == [g.name for g in r.top(how)]
    assert any(r"\operatorname{softmax}" in x.value for x in at.latex)


def test_the_evaluation_tables_agree_and_cover_every_bundled_photo(at, model):
    tables = [t.value for t in at.table]
    summary = next(t for t in tables if "top-1 right" in t.columns)
    photos = next(t for t in tables if "class" in t.columns and len(t) > 5)
    labelled = [n for n, s in samples().items() if s.imagenet_class in model.classes]
    assert list(photos.index) == labelled and list(photos["class"]) == [samples()[n].imagenet_class for n in labelled]
    n = len(labelled)
    for how in summary.index:
        top1 = int(summary.loc[how, "top-1 right"].split(" / ")[0])
        assert summary.loc[how, "top-1 right"] == f"{top1} / {n}"
        assert top1 == sum(v == "✓" for v in photos[how])  # the counts are the ticks of the photo table
    assert any(model.title in m.value and f"{n} bundled photos" in m.value for m in at.markdown)


def test_another_photo_alexnets_square_and_lecture_mode(at, model):
    at.selectbox(key="tta_photo").select("sample:koala").run()
    ok(at)
    caps = crop_captions(at)
    assert len(caps) == 10 and any(c["own"] for c in caps)  # the koala's own class is ticked somewhere
    at.toggle(key="tta_square").set_value(True).run()
    ok(at)
    assert len(crop_captions(at)) == 10
    at.sidebar.toggle(key="lecture").set_value(True).run()
    ok(at)
    assert len(crop_captions(at)) == 10 and any("top-1 right" in t.value.columns for t in at.table)
