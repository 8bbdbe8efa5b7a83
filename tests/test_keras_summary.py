"""Xception's table as Keras' model.summary() prints it (issue 13), against the rows of the lecture's slide
(../shared/lectures/000_a5bdaefaffc9e6ee.txt, "Class Activation Map (CAM) on Xception architecture example")
and Keras' totals for keras.applications.Xception(weights="imagenet")."""
from pathlib import Path

import pytest

from mixviz.maps.keras_summary import NAME_WIDTH, summary_rows, totals, xception_layers

LECTURE = Path(__file__).resolve().parents[2] / "shared" / "lectures" / "000_a5bdaefaffc9e6ee.txt"
# the slide's rows as the lecture file has them (tab-separated); its first table closes the names Keras cut
# with a ")", its second does not: Keras cuts "name (Type)" at 31 characters and adds nothing
SLIDE = """\
input_1 (InputLayer)\t[(None, 299, 299, 3)]\t0\t
block1_conv1 (Conv2D)\t(None, 149, 149, 32)\t864\tinput_1[0][0]
block1_conv1_bn (BatchNormaliza)\t(None, 149, 149, 32)\t128\tblock1_conv1[0][0]
block1_conv1_act (Activation)\t(None, 149, 149, 32)\t0\tblock1_conv1_bn[0][0]
block1_conv2 (Conv2D)\t(None, 147, 147, 64)\t18432\tblock1_conv1_act[0][0]
block1_conv2_bn (BatchNormaliza)\t(None, 147, 147, 64)\t256\tblock1_conv2[0][0]
block1_conv2_act (Activation)\t(None, 147, 147, 64)\t0\tblock1_conv2_bn[0][0]
block2_sepconv1 (SeparableConv2)\t(None, 147, 147, 128)\t8768\tblock1_conv2_act[0][0]
block2_sepconv1_bn (BatchNormal)\t(None, 147, 147, 128)\t512\tblock2_sepconv1[0][0]
block2_sepconv2_act (Activation)\t(None, 147, 147, 128)\t0\tblock2_sepconv1_bn[0][0]
batch_normalization_3 (BatchNor\t(None, 10, 10, 1024)\t4096\tconv2d_3[0][0]
add_11 (Add)\t(None, 10, 10, 1024)\t0\tblock13_pool[0][0] batch_normalization_3[0][0]
block14_sepconv1 (SeparableConv\t(None, 10, 10, 1536)\t1582080\tadd_11[0][0]
block14_sepconv1_bn (BatchNorma\t(None, 10, 10, 1536)\t6144\tblock14_sepconv1[0][0]
block14_sepconv1_act (Activatio\t(None, 10, 10, 1536)\t0\tblock14_sepconv1_bn[0][0]
block14_sepconv2 (SeparableConv\t(None, 10, 10, 2048)\t3159552\tblock14_sepconv1_act[0][0]
block14_sepconv2_bn (BatchNorma\t(None, 10, 10, 2048)\t8192\tblock14_sepconv2[0][0]
block14_sepconv2_act (Activatio\t(None, 10, 10, 2048)\t0\tblock14_sepconv2_bn[0][0]
avg_pool (GlobalAveragePooling2\t(None, 2048)\t0\tblock14_sepconv2_act[0][0]
"""


def slide_rows() -> list[list[str]]:
    return [line.split("\t") for line in SLIDE.splitlines()]


@pytest.mark.skipif(not LECTURE.exists(), reason="the lecture files are not beside this checkout")
def test_the_rows_here_are_the_lecture_files():
    text = LECTURE.read_text(encoding="utf-8")
    assert all(line in text for line in SLIDE.splitlines())


def test_every_row_the_slide_shows_is_ours_in_the_same_order():
    ours = {r["Layer (type)"].split(" ")[0]: r for r in summary_rows(xception_layers())}
    order = list(ours)
    seen = []
    for title, shape, params, connected in slide_rows():
        r = ours[title.split(" ")[0]]
        assert r["Layer (type)"] == title.rstrip(")")[:NAME_WIDTH] or r["Layer (type)"] == title
        assert (r["Output Shape"], r["Param #"], r["Connected to"]) == (shape, int(params), connected)
        seen.append(order.index(title.split(" ")[0]))
    assert seen[:10] == list(range(10))  # the first ten rows are the table's first ten
    assert seen[10:] == list(range(seen[10], seen[10] + 9)) and seen[-1] == len(order) - 2  # then up to avg_pool


def test_the_totals_are_keras_xceptions():
    layers = xception_layers()
    assert totals(layers) == {"Total params": 22_910_480, "Trainable params": 22_855_952,
                              "Non-trainable params": 54_528}
    assert len(layers) == 134 and [layer.name for layer in layers].count("add_11") == 1
    assert sum(layer.kind == "BatchNormalization" for layer in layers) == 40  # 36 named and the 4 residual ones


def test_the_cam_explorer_shows_it_on_every_machine():
    from streamlit.testing.v1 import AppTest

    from apptest_helpers import APP, ok, switch_page

    at = switch_page(AppTest.from_file(APP, default_timeout=180).run(), "cam_explorer").run()
    ok(at)
    table = next(d.value for d in at.dataframe if "Connected to" in d.value.columns)
    assert list(table.columns) == ["Layer (type)", "Output Shape", "Param #", "Connected to"] and len(table) == 134
    assert table.iloc[2].tolist() == ["block1_conv1_bn (BatchNormaliza", "(None, 149, 149, 32)", 128, "block1_conv1[0][0]"]
    assert any("Total params: 22,910,480" in c.value for c in at.caption)
