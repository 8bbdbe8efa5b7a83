"""Guided methods checked by value: the map decides the box, the label follows the area."""
import pytest
import torch

import mixviz
from mixviz.maps.saliency import gradient_saliency, static_saliency


def peak_map(h, w, y, x):
    m = torch.zeros(h, w)
    m[y, x] = 1.0
    return m


@pytest.mark.parametrize("peak", [(20, 30), (2, 3), (38, 58)])
def test_saliencymix_box_is_centred_on_the_source_peak(images, peak):
    a, b = images(2, 40, 60)
    maps = torch.stack([torch.rand(40, 60), peak_map(40, 60, *peak)])
    r = mixviz.mix("saliencymix", torch.stack([a, b]), lam=0.75, maps=maps)
    i = r.info
    assert i["peak"] == peak
    assert (i["y1_raw"], i["x1_raw"]) == (peak[0] - 10, peak[1] - 15)  # 20×30 box around the peak
    box = (slice(i["y1"], i["y2"]), slice(i["x1"], i["x2"]))
    torch.testing.assert_close(r.image[:, box[0], box[1]], b[:, box[0], box[1]])  # same place in both images
    area = (i["y2"] - i["y1"]) * (i["x2"] - i["x1"])
    assert float(r.masks[1].sum()) == area and r.weights[1] == pytest.approx(area / 2400)
    assert i["lam_corrected"] == pytest.approx(1 - area / 2400)


def test_saliencymix_computes_fine_grained_saliency_by_default(images):
    x = images(2, 40, 60, seed=3)
    r = mixviz.mix("saliencymix", x, lam=0.5)
    sal = static_saliency(x[1], "fine_grained")
    assert r.info["peak"] == divmod(int(sal.flatten().argmax()), 60)
    torch.testing.assert_close(r.info["saliency"], sal)


def test_saliencymix_batch_uses_each_partners_peak(images):
    x = images(4, 32, 32)
    peaks = [(5, 6), (10, 20), (25, 8), (16, 16)]
    maps = torch.stack([peak_map(32, 32, *pk) for pk in peaks])
    xm, ym = mixviz.mix_batch("saliencymix", x, torch.arange(4), num_classes=4, lam=0.84, maps=maps)
    for i in range(4):
        py, px = peaks[(i - 1) % 4]  # sample i takes its box from x[i - 1]
        assert torch.equal(xm[i, :, py, px], x[(i - 1) % 4, :, py, px])
        pasted = (xm[i] == x[(i - 1) % 4]).all(0) & (xm[i] != x[i]).any(0)
        assert float(ym[i, (i - 1) % 4]) == pytest.approx(float(pasted.float().mean()), abs=1e-6)


def test_bad_maps_are_explained(images):
    with pytest.raises(mixviz.MixError, match="one \\(H, W\\) map per image"):
        mixviz.mix("saliencymix", images(2, 10, 10), maps=torch.zeros(2, 9, 10))


@pytest.mark.parametrize("kind", ["fine_grained", "spectral_residual"])
def test_static_saliency_finds_a_bright_square(kind):
    img = torch.zeros(3, 64, 64)
    img[:, 20:30, 35:45] = 1.0
    sal = static_saliency(img, kind)
    assert sal.shape == (64, 64) and 0 <= float(sal.min()) and float(sal.max()) <= 1
    y, x = divmod(int(sal.flatten().argmax()), 64)
    assert 14 <= y <= 36 and 29 <= x <= 51


def test_gradient_saliency_is_the_autograd_gradient():
    from mixviz.maps import models as M

    torch.manual_seed(0)
    import timm

    net = timm.create_model("tf_efficientnet_lite0").eval()
    model = M.Model("t", "random", net, M.RECIPES["efficientnet_lite0"], M.imagenet_classes(), "random")
    img = torch.rand(3, 50, 70, generator=torch.Generator().manual_seed(1))
    g = gradient_saliency(model, img, class_index=3)
    x = model.preprocess(img).requires_grad_(True)
    net(x)[0, 3].backward()
    torch.testing.assert_close(g.map, x.grad[0].abs().amax(0))
    assert g.high.shape == (50, 70) and g.class_index == 3

    p = gradient_saliency(model, img, class_index=3, kind="puzzlemix")  # ℓ2 over channels of ∂CE/∂x
    x = model.preprocess(img).requires_grad_(True)
    (-torch.log_softmax(net(x)[0], 0)[3]).backward()
    torch.testing.assert_close(p.map, x.grad[0].pow(2).sum(0).sqrt())
    assert float((p.map / p.map.sum() - g.map / g.map.sum()).abs().sum()) > 0.05  # another map, not a rescaling
    with pytest.raises(mixviz.MixError, match="kind"):
        gradient_saliency(model, img, kind="smooth")


def test_attentivemix_pastes_the_top_cells_of_the_given_attention(images):
    a, b = images(2, 224, 224)
    attention = torch.zeros(7, 7)
    top = [(0, 0), (3, 4), (6, 6), (2, 2), (5, 1), (1, 5)]
    for rank, (r, c) in enumerate(top):
        attention[r, c] = 10 - rank
    maps = torch.stack([torch.rand(224, 224), attention.repeat_interleave(32, 0).repeat_interleave(32, 1)])
    res = mixviz.mix("attentivemix", torch.stack([a, b]), maps=maps, cells=6)
    expected = torch.zeros(224, 224)
    for r, c in top:
        expected[32 * r:32 * r + 32, 32 * c:32 * c + 32] = 1
    torch.testing.assert_close(res.masks[1], expected)
    torch.testing.assert_close(res.image, (1 - expected) * a + expected * b)
    assert res.weights[1] == pytest.approx(6 / 49) and res.label["image 2"] == pytest.approx(6 / 49)
    assert sorted(res.info["cells_pasted"]) == sorted(7 * r + c for r, c in top)
    grid = mixviz.mix("attentivemix", torch.stack([a, b]), maps=torch.stack([torch.rand(7, 7), attention]), cells=6)
    torch.testing.assert_close(grid.image, res.image)  # the model's own 7×7 grid serves as maps directly
    with pytest.raises(mixviz.MixError, match="one \\(H, W\\) map per image"):
        mixviz.mix("saliencymix", torch.stack([a, b]), maps=torch.rand(2, 7, 7))  # pixel maps must fit the image


def test_attentivemix_attention_is_the_models_final_feature_grid(images, monkeypatch):
    from mixviz.maps import models as M
    from mixviz.maps.guide_maps import feature_attention

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    x = images(2, 120, 160, seed=2)
    res = mixviz.mix("attentivemix", x, cells=5)
    model = M.load_model()
    with torch.inference_mode():
        fmap = model.net.forward_features(model.preprocess(x[1]))[0].sum(0)
    grid = torch.nn.functional.adaptive_avg_pool2d(fmap[None, None], 7)[0, 0]
    torch.testing.assert_close(res.info["attention"], grid)
    torch.testing.assert_close(feature_attention(x[1:])[0], fmap)
    assert sorted(res.info["cells_pasted"]) == sorted(grid.flatten().topk(5).indices.tolist())
    assert float(res.masks[1].mean()) == pytest.approx(float(res.weights[1]))


def test_attentivemix_in_a_batch_labels_the_pasted_share(images):
    x = images(4, 64, 64)
    maps = torch.rand(4, 64, 64, generator=torch.Generator().manual_seed(0))
    xm, ym = mixviz.mix_batch("attentivemix", x, torch.arange(4), num_classes=4, maps=maps, cells=3, grid=4)
    for i in range(4):
        assert float(ym[i, (i - 1) % 4]) == pytest.approx(3 / 16)
        assert float(((xm[i] == x[(i - 1) % 4]).all(0) & (xm[i] != x[i]).any(0)).float().mean()) == pytest.approx(3 / 16)


def snap_boxes(r):
    i = r.info
    return (i["y1"], i["y2"], i["x1"], i["x2"]), (i["y1_src"], i["y2_src"], i["x1_src"], i["x2_src"])


def test_snapmix_weights_are_the_semantic_masses_and_need_not_sum_to_one(images):
    import torch.nn.functional as F

    a, b = images(2, 40, 60, seed=4)
    maps = torch.rand(2, 40, 60, generator=torch.Generator().manual_seed(5)) ** 4
    found = 0
    for seed in range(8):
        r = mixviz.mix("snapmix", torch.stack([a, b]), maps=maps, seed=seed, labels=["a", "b"])
        (t, bt, l, rt), (ts, bs, ls, rs) = snap_boxes(r)
        if bt <= t or rt <= l or bs <= ts or rs <= ls:
            continue
        found += 1
        spm = maps / maps.flatten(1).sum(1)[:, None, None]
        rho_a = 1 - float(spm[0, t:bt, l:rt].sum())
        rho_b = float(spm[1, ts:bs, ls:rs].sum())
        assert r.info["rho_a"] == pytest.approx(rho_a, abs=1e-5) and r.info["rho_b"] == pytest.approx(rho_b, abs=1e-5)
        assert r.label == pytest.approx({"a": rho_a, "b": rho_b}, abs=1e-5)
        patch = F.interpolate(b[None, :, ts:bs, ls:rs], size=(bt - t, rt - l), mode="bilinear", align_corners=True)[0]
        torch.testing.assert_close(r.image[:, t:bt, l:rt], patch, atol=1e-5, rtol=0)
    assert found >= 3
    assert any(abs(float(mixviz.mix("snapmix", torch.stack([a, b]), maps=maps, seed=s).weights.sum()) - 1) > 0.01
               for s in range(8))


def test_snapmix_shared_class_gets_the_sum_and_empty_maps_fall_back_to_area(images):
    a, b = images(2, 40, 60, seed=4)
    maps = torch.rand(2, 40, 60)
    r = mixviz.mix("snapmix", torch.stack([a, b]), maps=maps, seed=1, labels=["cat", "cat"])
    # the authors' loss weights the shared class by ρ'a + ρ'b with ρ'a = ρ'b = ρa + ρb
    assert r.label["cat"] == pytest.approx(2 * (r.info["rho_a"] + r.info["rho_b"]))
    r = mixviz.mix("snapmix", torch.stack([a, b]), maps=torch.zeros(2, 40, 60), seed=1)
    (t, bt, l, rt), _ = snap_boxes(r)
    area = (bt - t) * (rt - l) / 2400
    assert r.info["rho_a"] == pytest.approx(1 - area) and r.info["rho_b"] == pytest.approx(area)


def test_snapmix_semantic_percent_maps_are_the_normalised_cam(images, monkeypatch):
    from mixviz.maps import cam as C
    from mixviz.maps import models as M
    from mixviz.maps.guide_maps import semantic_percent_maps

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    x = images(1, 90, 120, seed=6)
    model = M.load_model()
    spm = semantic_percent_maps(x, model)[0]
    c = C.cam(model, x[0])
    expected = c.high + c.bias
    expected = (expected - expected.min()) / (expected - expected.min()).sum()
    assert float(spm.min()) >= 0 and float(spm.sum()) == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(spm, expected, atol=1e-7, rtol=1e-3)


def test_snapmix_batch_soft_labels(images):
    x = images(4, 32, 48)
    maps = torch.rand(4, 32, 48, generator=torch.Generator().manual_seed(0))
    xm, ym = mixviz.mix_batch("snapmix", x, torch.arange(4), num_classes=4, maps=maps,
                              generator=torch.Generator().manual_seed(3))
    assert xm.shape == x.shape and float(ym.min()) >= 0 and float(ym.max()) <= 1  # each ρ is a share of one map
    for i in range(4):
        assert set(ym[i].nonzero().flatten().tolist()) <= {i, (i - 1) % 4}


def test_tdattenmix_moves_the_most_attended_square_to_the_least_attended_one(images):
    """On 56 × 56 pixels a token is 4 × 4; a 6-token square is 24 × 24 pixels."""
    a, b = images(2, 56, 56, seed=7)
    base = torch.ones(56, 56)
    base[28:52, 0:24] = 0.0  # the first image attends least to a 6×6-token square at token (7, 0)
    partner = torch.zeros(56, 56)
    partner[4:28, 28:52] = 1.0  # the second image attends to one 6×6-token square at token (1, 7)
    lam = 1 - 36 / 196  # a fixed λ sets the side: round(14·√(1 − λ)) = 6 tokens
    r = mixviz.mix("tdattenmix", torch.stack([a, b]), maps=torch.stack([base, partner]), lam=lam)
    i = r.info
    assert (i["tokens"], i["y1"], i["x1"], i["src_y"], i["src_x"]) == (6, 28, 0, 4, 28)
    torch.testing.assert_close(r.image[:, 28:52, 0:24], b[:, 4:28, 28:52])
    torch.testing.assert_close(r.image[:, :28], a[:, :28])
    kept = 1 - 0.0  # the base loses none of its attention; the partner brings all of its own
    expected = 0.5 * ((1 - 576 / 3136) + kept / (kept + 1.0))
    assert r.weights[0] == pytest.approx(expected) and float(r.weights.sum()) == pytest.approx(1.0)
    assert i["lam_corrected"] == pytest.approx(expected)


def test_tdattenmix_with_the_model_and_in_a_batch(images):
    x = images(3, 48, 64, seed=8)
    r = mixviz.mix("tdattenmix", x[:2], lam=0.6, balance=0.3)
    assert float(r.weights.sum()) == pytest.approx(1.0) and 0 < float(r.weights[1]) < 1
    assert float(r.masks[1].mean()) == pytest.approx(1 - r.info["area_share"])
    xm, ym = mixviz.mix_batch("tdattenmix", x, torch.arange(3), num_classes=3, maps=torch.rand(3, 48, 64),
                              generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(ym.sum(1), torch.ones(3))


def test_class_guided_methods_use_the_classes_they_are_given(images):
    """SnapMix's maps are the CAMs of each image's labelled class in the authors' code: `classes` says which."""
    from mixviz.maps.guide_maps import semantic_percent_maps

    x = images(2, 48, 64, seed=9)
    spm = semantic_percent_maps(x, classes=[3, 7])
    own = mixviz.mix("snapmix", x, seed=2, classes=[3, 7])
    given = mixviz.mix("snapmix", x, seed=2, maps=spm)
    top = mixviz.mix("snapmix", x, seed=2)
    assert own.label == pytest.approx(given.label, abs=1e-6)
    assert own.label != pytest.approx(top.label, abs=1e-6)
    with pytest.raises(mixviz.MixError, match="classes"):
        mixviz.mix("snapmix", x, classes=[3])
