"""The layer table (mixviz.maps.network) and the CAM Explorer / Saliency figures (mixviz.viz.map_figures), by value."""
import json

import numpy as np
import pytest
import timm
import torch
from PIL import Image

from mixviz.maps import cam as C
from mixviz.viz import map_figures as V
from mixviz.maps import models as M
from mixviz.maps.cam import retarget
from mixviz.imaging import load_image
from mixviz.maps.network import feature_shape, layer_table, shape_text, total_params
from mixviz.maps.pooling import pool2d
from mixviz.samples import samples

SEED = [[7, 9, 10, 4], [9, 10, 3, 9], [6, 2, 0, 3], [2, 0, 0, 1]]


@pytest.fixture(scope="module")
def lite0():
    return M._build(M.RECIPES["efficientnet_lite0"], M.lite0_state_dict(), "test", torch.device("cpu"))


@pytest.fixture(scope="module")
def xception():
    torch.manual_seed(0)
    net = timm.create_model("legacy_xception").eval()
    return M.Model("x", "random Xception", net, M.RECIPES["xception"], M.imagenet_classes(), "random")


@pytest.fixture(scope="module")
def cat():
    return load_image(samples()["cat"].path).resize((160, 120))


@pytest.fixture(scope="module")
def cat_cam(lite0, cat):
    return C.cam(lite0, cat)


# --- layer table ------------------------------------------------------------------------------------

def test_xception_layer_table_like_the_keras_summary(xception):
    rows = layer_table(xception)
    names = [r["layer"] for r in rows]
    assert names[:4] == ["input", "conv1", "bn1", "act1"]
    assert names[-2:] == ["global_pool", "fc"]
    assert sum(r["params"] for r in rows) == total_params(xception.net) == 22_855_952
    by = {r["layer"]: r for r in rows}
    assert by["input"]["output_shape"] == (3, 299, 299)
    assert by["conv1"]["output_shape"] == (32, 149, 149)
    assert by["block11"]["output_shape"] == (728, 19, 19)  # the middle flow
    assert by["block12"]["output_shape"] == (1024, 10, 10)  # the exit flow (Keras block13)
    assert by["act4"]["output_shape"] == (2048, 10, 10) and by["act4"]["cam"]
    assert [r["layer"] for r in rows if r["cam"]] == ["act4"]
    assert by["global_pool"]["output_shape"] == (2048,) and by["global_pool"]["params"] == 0
    assert by["fc"]["output_shape"] == (1000,) and by["fc"]["params"] == 2048 * 1000 + 1000
    assert by["conv1"]["params"] == 32 * 3 * 3 * 3  # no bias
    assert by["block1"]["type"] == "Block"


def test_lite0_layer_table_opens_the_stages(lite0, cat_cam):
    rows = layer_table(lite0)
    names = [r["layer"] for r in rows]
    assert names == ["input", "conv_stem", "bn1"] + [f"blocks.{i}" for i in range(7)] + [
        "conv_head", "bn2", "global_pool", "classifier"]
    assert sum(r["params"] for r in rows) == total_params(lite0.net)
    by = {r["layer"]: r for r in rows}
    assert by["bn2"]["cam"] and by["bn2"]["output_shape"] == (1280, 7, 7)
    assert by["blocks.6"]["output_shape"] == (320, 7, 7)
    assert feature_shape(lite0) == tuple(cat_cam.features.shape) == (1280, 7, 7)


def test_layer_table_at_another_size_and_of_a_bare_module():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 15 * 15, 2))
    rows = layer_table(net, size=(31, 31))
    assert [r["output_shape"] for r in rows] == [(3, 31, 31), (4, 15, 15), (4, 15, 15), (900,), (2,)]
    assert [r["params"] for r in rows] == [0, 4 * 27 + 4, 0, 0, 900 * 2 + 2]


def test_shared_and_unused_modules_are_counted_once():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Conv2d(3, 3, 1)
            self.b = self.a  # the same module twice
            self.unused = torch.nn.Linear(2, 2)
            self.scale = torch.nn.Parameter(torch.ones(1))

        def forward(self, x):
            return self.a(x) * self.scale

    net = Net()
    rows = layer_table(net, size=8)
    assert sum(r["params"] for r in rows) == total_params(net) == 12 + 6 + 1
    by = {r["layer"]: r for r in rows}
    assert by["unused"]["output_shape"] is None
    assert by["(own parameters)"]["params"] == 1


def test_shape_text():
    assert shape_text((2048, 10, 10)) == "2048 × 10 × 10"
    assert shape_text((1000,)) == "1000"
    assert shape_text(None) == "—"


# --- CAM pieces -------------------------------------------------------------------------------------

def test_retarget_equals_a_fresh_cam_of_that_class(lite0, cat, cat_cam):
    c = cat_cam.topk[3].index
    fresh = C.cam(lite0, cat, c)
    again = retarget(lite0, cat_cam, c)
    assert again.class_index == c and again.class_name == fresh.class_name
    for a, b in ((again.low, fresh.low), (again.high, fresh.high), (again.channel_terms, fresh.channel_terms)):
        assert torch.allclose(a, b, atol=1e-4)
    assert again.bias == pytest.approx(fresh.bias)
    assert retarget(lite0, cat_cam, cat_cam.class_index).low.equal(cat_cam.low)
    with pytest.raises(Exception, match="class index"):
        retarget(lite0, cat_cam, 1000)


def test_gap_of_the_cam_plus_bias_is_the_logit(lite0, cat_cam):
    parts = V.logit_parts(cat_cam)
    assert parts.map_mean + parts.bias == pytest.approx(parts.logit, abs=1e-3)
    assert parts.terms_sum == pytest.approx(parts.map_mean, abs=1e-3)
    assert parts.logit == pytest.approx(float(cat_cam.logits.max()))


def test_strongest_channels_and_their_maps(lite0, cat_cam):
    chans = V.strongest_channels(cat_cam, lite0, 6)
    terms = [ch.term for ch in chans]
    assert terms == sorted(terms, reverse=True) and terms[0] == pytest.approx(float(cat_cam.channel_terms.max()))
    for ch in chans:
        assert ch.term == pytest.approx(ch.weight * ch.mean, rel=1e-4)
        assert float(V.channel_map(cat_cam, lite0, ch.index).mean()) == pytest.approx(ch.term, rel=1e-4, abs=1e-6)
    total = sum(V.channel_map(cat_cam, lite0, k) for k in range(cat_cam.features.shape[0]))
    assert torch.allclose(total, cat_cam.low, atol=1e-3)


def test_global_pool_predictions(lite0, cat_cam):
    heads = V.global_pool_predictions(lite0, cat_cam.features, k=2)
    assert heads["average"][0].index == cat_cam.class_index
    assert heads["average"][0].probability == pytest.approx(cat_cam.topk[0].probability, abs=1e-4)
    assert len(heads["max"]) == 2


def test_figures_carry_the_numbers(lite0, cat_cam):
    fig = V.topk_figure(cat_cam.topk, cat_cam.topk[1].index)
    bar = fig.data[0]
    assert list(bar.x) == [p.probability for p in cat_cam.topk][::-1]
    assert bar.marker.color[-2] == "#d62728" and bar.marker.color.count("#d62728") == 1
    heat = V.map_figure(cat_cam.low, "M")
    assert np.allclose(heat.data[0].z, cat_cam.low.numpy())
    chans = V.strongest_channels(cat_cam, lite0, 4)
    assert len(V.channels_figure(cat_cam, lite0, chans).data) == 4
    glob = V.global_pool_figure(cat_cam.features, [c.index for c in chans])
    mean, top = glob.data
    assert mean.y[0] == pytest.approx(float(cat_cam.features[chans[0].index].mean()))
    assert top.y[0] == pytest.approx(float(cat_cam.features[chans[0].index].max()))
    assert len(V.terms_figure(cat_cam, 10).data[0].x) >= 10


# --- pooling figure ---------------------------------------------------------------------------------

def test_pooling_of_the_seed_matrix_and_its_windows():
    mx, av = pool2d(SEED, "max"), pool2d(SEED, "avg")
    assert mx.output.tolist() == [[10, 10], [6, 3]]
    assert av.output.tolist() == [[8.75, 6.5], [2.5, 1]]
    assert V.window_text(SEED, mx, "max", 0, 0) == "max(7, 9, 9, 10) = 10"
    assert V.window_text(SEED, av, "avg", 0, 0) == "(7 + 9 + 9 + 10) / 4 = 8.75"
    assert V.window_text(SEED, av, "avg", 1, 1) == "(0 + 3 + 0 + 1) / 4 = 1"
    fig = V.pooling_figure(SEED, {"max": mx, "avg": av}, selected=(0, 1))
    texts = [a.text for a in fig.layout.annotations]
    for v in ("8.75", "6.5", "2.5", "7", "<b>10</b>"):
        assert v in texts
    # window (0, 1) covers 10, 4, 3, 9: only its winner, the 10 at row 0, column 2, is bold
    assert texts.index("<b>10</b>") == 2 and texts.count("<b>10</b>") == 1 and texts[5] == "10"
    black = [s for s in fig.layout.shapes if s.line.color == "#000" and s.line.width == 5]
    assert len(black) == 3  # the selected input window and its two output cells
    assert (black[0].x0, black[0].y0, black[0].x1, black[0].y1) == (2, 0, 4, 2)


def test_number_formatting():
    assert [V.number(v) for v in (7.0, 8.75, 1 / 3, -2.0)] == ["7", "8.75", "0.333", "-2"]


# --- drawing -------------------------------------------------------------------------------------------

def test_peak_mark_and_box():
    m = torch.zeros(30, 40)
    m[7, 31] = 1
    assert V.peak(m) == (7, 31)
    img = Image.new("RGB", (40, 30), (0, 128, 0))
    marked = np.asarray(V.mark_peak(img, (7, 31)))
    assert (marked[7, 31 + 6] != (0, 128, 0)).any()  # the cross-hair's arm
    assert np.asarray(img).tolist() == np.asarray(Image.new("RGB", (40, 30), (0, 128, 0))).tolist()  # a copy
    boxed = np.asarray(V.draw_box(img, (5, 20, 10, 30), "#ffffff", width=1))
    assert boxed[5, 15].tolist() == [0, 0, 0] and boxed[6, 15].tolist() == [255, 255, 255]
    assert boxed[12, 20].tolist() == [0, 128, 0]  # inside untouched
    assert V.draw_box(img, (5, 5, 10, 30)).tobytes() == img.tobytes()  # an empty box draws nothing
    assert V.box_of({"y1": 1, "y2": 2, "x1": 3, "x2": 4, "y1_src": 5, "y2_src": 6, "x1_src": 7, "x2_src": 8},
                    "_src") == (5, 6, 7, 8)


def test_map_panel_resizes_clips_and_finds_the_peak():
    img = Image.new("RGB", (64, 48), (100, 100, 100))
    low = torch.zeros(6, 8)
    low[1, 6] = 5
    panel = V.map_panel(img, low, alpha=1.0)
    assert panel.values.shape == (48, 64) and panel.picture.size == (64, 48)
    y, x = panel.peak
    assert 8 <= y <= 15 and 48 <= x <= 55
    spiky = torch.rand(48, 64, generator=torch.Generator().manual_seed(0))
    spiky[0, 0] = 1000
    assert float(V.clipped(spiky, 0.99).max()) < 1.0
    assert V.clipped(spiky).equal(spiky)


def test_comparison_rows_name_the_model_and_its_limits():
    rows = V.comparison_rows("Xception", 299, (10, 10))
    assert [r[""] for r in rows] == ["Algorithm", "Map", "Input size limits", "Classes it can see"]
    text = json.dumps(rows, ensure_ascii=False)
    assert "299×299" in text and "10×10" in text and "Montabone" in text and "Xception" in text
