"""What the app draws, checked by value: overlays, shading, the label and Beta charts, the pictures of
guiding maps, and the code snippet that reproduces a Mixing Lab picture."""
import json

import numpy as np
import pytest
import torch
from scipy import stats

import mixviz
from mixviz.viz.charts import beta_chart, label_chart
from mixviz.viz.guides import guide_views
from mixviz.imaging import heat, overlay, shade
from mixviz.viz.slides import code_snippet


def test_overlay_blends_the_resized_map_with_the_given_opacity():
    img = torch.rand(3, 20, 30)
    values = torch.zeros(2, 3)
    values[1, 2] = 1.0  # bottom-right cell hot
    assert torch.equal(overlay(img, values, 0.0), img)
    full = overlay(img, values, 1.0)
    torch.testing.assert_close(full[:, 0, 0], heat(torch.tensor([[0.0, 1.0]]))[:, 0, 0])  # coldest colour
    torch.testing.assert_close(full[:, -1, -1], heat(torch.tensor([[0.0, 1.0]]))[:, 0, 1])  # hottest colour
    torch.testing.assert_close(overlay(img, values, 0.3), 0.7 * img + 0.3 * full)
    with pytest.raises(mixviz.ImageError, match="opacity"):
        overlay(img, values, 1.5)


def test_shade_keeps_used_pixels_and_darkens_the_rest():
    img = torch.rand(3, 4, 4)
    mask = torch.zeros(4, 4)
    mask[:2] = 1
    out = shade(img, mask, floor=0.25)
    torch.testing.assert_close(out[:, :2], img[:, :2])
    torch.testing.assert_close(out[:, 2:], 0.25 * img[:, 2:])


def test_label_chart_bars_and_the_sum_warning():
    fig = json.loads(label_chart({"cat": 0.7, "dog": 0.6}).to_json())
    assert fig["data"][0]["x"] == [0.7, 0.6] and fig["data"][0]["y"] == ["cat", "dog"]
    assert "sum to 1.300, not 1" in fig["layout"]["title"]["text"]
    fig = json.loads(label_chart({"cat": 0.3, "dog": 0.7}, other=0.0001).to_json())
    assert fig["data"][0]["y"][-1] == "each other class" and "not 1" not in fig["layout"]["title"]["text"]
    assert "union" in json.loads(label_chart({"a": 1.0, "b": 1.0}, union=True).to_json())["layout"]["title"]["text"]


def test_beta_chart_is_the_density_with_lambda_marked():
    fig = beta_chart(2.0, 0.31, 0.4)
    density = fig.data[0]
    np.testing.assert_allclose(density.y, stats.beta.pdf(np.asarray(density.x), 2, 2), rtol=1e-6)
    marks = {t.name: list(t.x) for t in fig.data[1:]}
    assert marks == {"λ drawn 0.310": [0.31, 0.31], "corrected λ (label) 0.400": [0.4, 0.4]}
    assert [t.name for t in beta_chart(None, 0.5).data] == ["λ fixed 0.500"]
    spiky = beta_chart(0.1, 0.5)  # α → 0: the density is capped for the plot, not infinite
    assert np.isfinite(spiky.data[0].y).all() and max(spiky.data[0].y) <= 8.0


def test_guide_views_draw_the_chosen_box_on_the_map(images):
    x = images(2, 40, 60, seed=2)
    maps = torch.zeros(2, 40, 60)
    maps[1, 20, 30] = 1.0
    r = mixviz.mix("saliencymix", x, lam=0.75, maps=maps)
    (caption, img), = guide_views(r, x)
    arr = np.asarray(img)
    i = r.info
    assert "peak" in caption and arr.shape == (40, 60, 3)
    assert tuple(arr[i["y1"], i["x1"] + 5]) == (230, 30, 30)  # the box outline, in red
    assert tuple(arr[20, 30]) == (255, 255, 255)  # the peak's cross
    assert guide_views(mixviz.mix("mixup", x, lam=0.5), x) == []


def test_puzzlemix_views_show_both_saliency_maps_and_the_block_mask(images):
    x = images(2, 32, 32, seed=3)
    r = mixviz.mix("puzzlemix", x, lam=0.5, maps=torch.rand(2, 32, 32), blocks=4)
    views = guide_views(r, x)
    assert len(views) == 3
    mask = np.asarray(views[2][1], dtype=float) / 255
    np.testing.assert_allclose(mask[::8, ::8], r.info["block_mask"].numpy(), atol=1 / 255)


def test_code_snippet_reproduces_the_picture(tmp_path, monkeypatch):
    from mixviz.samples import samples

    paths = [str(samples()[n].path) for n in ("cat", "dog")]
    src = code_snippet("cutmix", paths, 3, 0.6, 1.0, {}, 0.1)
    expected = mixviz.mix("cutmix", [mixviz.load_image(p) for p in paths], labels=["cat", "dog"], seed=3, lam=0.6,
                          label_smoothing=0.1, num_classes=1000)
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(src, "snippet", "exec"), scope)
    assert torch.equal(scope["r"].image, expected.image) and scope["r"].label == expected.label
    assert (tmp_path / "mix.png").stat().st_size > 10_000  # and it saves the panel
    assert "alpha" not in code_snippet("gridmask", ["x.jpg"], 0, None, 0.5, {"rotate": 0}, 0.0)
    assert "rotate=0" in code_snippet("gridmask", ["x.jpg"], 0, None, 0.5, {"rotate": 0}, 0.0)


def test_network_view_uses_the_callers_classes_without_a_forward_pass_per_input(images, monkeypatch):
    from mixviz.maps import models as M
    import timm

    net = timm.create_model("tf_efficientnet_lite0").eval()
    model = M.Model("t", "random", net, M.RECIPES["efficientnet_lite0"], M.imagenet_classes(), "random")
    x = images(2, 40, 40)
    r = mixviz.mix("mixup", x, labels=["a", "b"], lam=0.3)
    calls = []
    monkeypatch.setattr(net, "forward", lambda t, _f=net.forward: calls.append(1) or _f(t))
    view = mixviz.maps.cam.network_view(model, r, x, input_classes=[7, 9])
    assert len(calls) == 1 and [v.class_index for v in view.inputs] == [7, 9]
    assert [v.label_weight for v in view.inputs] == pytest.approx([0.3, 0.7])
