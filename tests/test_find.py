"""Finding a method by the names the lectures use (issue 13: nothing found "AttentiveMix"): mixviz.registry.find,
and the Mixing Lab's "Find a method" box."""
import pytest

import mixviz
from mixviz.registry import find

# the names of ../shared/lectures/000_a5bdaefaffc9e6ee.txt (the mixing lecture) and 001–003, as they are written there
LECTURE_NAMES = {
    "MixUp": "mixup", "Mixup": "mixup", "SamplePairing": "sample_pairing", "Between-Class": "bc", "CutMix": "cutmix",
    "CutOut": "cutout", "SmoothMix": "smoothmix", "GridMask": "gridmask", "AttentiveMix": "attentivemix",
    "SaliencyMix": "saliencymix", "SnapMix": "snapmix", "Puzzle Mix": "puzzlemix", "TdAttenMix": "tdattenmix",
    "RICAP": "ricap", "SpliceMix": "splicemix", "Vertical Concat": "vertical_concat",
    "Horizontal Concat": "horizontal_concat", "Mixed Concat": "mixed_concat", "Random 2x2": "random_2x2",
    "Random Row Interval": "random_row_interval", "Random Column Interval": "random_column_interval",
    "Random Rows": "random_rows", "Random Columns": "random_columns", "Random Pixels": "random_pixels",
    "Random Elements": "random_elements",
}


@pytest.mark.parametrize("name, method", LECTURE_NAMES.items())
def test_every_name_the_lectures_use_finds_its_method_first(name, method):
    assert find(name)[0] == method


def test_every_method_is_found_by_its_name_and_its_title():
    for name, spec in mixviz.METHODS.items():
        assert find(name)[0] == name and find(spec.title)[0] == name
        assert find(spec.title.upper())[0] == name


def test_a_part_of_a_name_finds_every_method_that_has_it_exact_and_prefix_first():
    assert find("concat") == ["vertical_concat", "horizontal_concat", "mixed_concat"]
    assert find("random")[:1] == ["random_2x2"] and len(find("random")) == 7
    assert find("bc") == ["bc", "bc_plus"] and find("BC+") == ["bc_plus"]
    assert find("cut")[:3] == ["cutmix", "cutout", "attentivemix"]  # Attentive CutMix contains "cut"


@pytest.mark.parametrize("query", ["", "   ", "-", "no such method"])
def test_nothing_is_found_for_an_empty_or_unknown_name(query):
    assert find(query) == []


def test_the_labs_find_box_opens_the_method_it_finds_and_says_what_it_found():
    from streamlit.testing.v1 import AppTest

    from apptest_helpers import APP, label_bars, ok
    from ui.images import batch

    at = AppTest.from_file(APP, default_timeout=180).run()
    ok(at)
    at.text_input(key="lab_find").input("AttentiveMix").run()
    ok(at)
    assert at.selectbox(key="lab_family").value == "guided" and at.selectbox(key="lab_method").value == "attentivemix"
    assert at.text_input(key="lab_find").value == ""
    assert any(c.value == "Attentive CutMix (Guided by maps)" for c in at.caption)
    at.text_input(key="lab_find").input("mixed concat").run()
    assert at.selectbox(key="lab_method").value == "mixed_concat" and at.selectbox(key="lab_family").value == "tiles"
    r = mixviz.mix("mixed_concat", batch(("sample:cat", "sample:dog")), labels=["cat", "dog"], seed=0, lam=0.5)
    assert label_bars(at) == pytest.approx(r.label)
    at.text_input(key="lab_find").input("no such method").run()
    ok(at)
    assert any(c.value == "No method is called “no such method”." for c in at.caption)
    assert at.selectbox(key="lab_method").value == "mixed_concat"  # unchanged
