"""Properties every model-free method must have, on square and non-square sizes and several seeds."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mixviz

# every method that needs no model (saliency-guided ones compute their own maps)
MODEL_FREE = [n for n, s in mixviz.METHODS.items() if s.needs in ("none", "saliency")]
AREA = [n for n in MODEL_FREE if mixviz.METHODS[n].label_rule == "area"]
# Methods whose output is exactly sum_k mask_k * input_k (no moved, resized or filled pixels).
ALIGNED = ["mixup", "sample_pairing", "bc", "cutmix", "saliencymix", "smoothmix", "fmix", "vertical_concat", "horizontal_concat",
           "mixed_concat", "random_2x2", "random_rows", "random_columns", "random_pixels"]
SIZES = st.sampled_from([(32, 32), (24, 40), (40, 24), (17, 29), (1, 9)])
SEEDS = st.integers(0, 2**31 - 1)
LAMS = st.one_of(st.none(), st.floats(0, 1))
FAST = settings(max_examples=25, deadline=None)


def run(images, method, hw, seed, lam=None, device="cpu"):
    spec = mixviz.METHODS[method]
    x = images(spec.n_inputs, *hw, seed=seed % 1000, device=device)
    return x, mixviz.mix(method, x, seed=seed, lam=lam, device=device)


def test_canonical_names_registered():
    expected = {"mixup", "sample_pairing", "bc", "bc_plus", "cutmix", "cutout", "smoothmix", "gridmask", "fmix",
                "resizemix", "vertical_concat", "horizontal_concat", "mixed_concat", "random_2x2",
                "random_column_interval", "random_row_interval", "random_columns", "random_rows", "random_pixels",
                "random_elements", "ricap", "splicemix"}
    assert expected <= set(mixviz.METHODS)
    for spec in mixviz.METHODS.values():
        assert spec.n_inputs in (1, 2, 4) and spec.needs in ("none", "saliency", "model")
        assert spec.paper and spec.summary and spec.formula and spec.title and spec.family


@pytest.mark.parametrize("method", MODEL_FREE)
@FAST
@given(hw=SIZES, seed=SEEDS, lam=LAMS)
def test_ranges_and_shapes(images, method, hw, seed, lam):
    x, r = run(images, method, hw, seed, lam)
    k = mixviz.METHODS[method].n_inputs
    assert r.image.shape == x.shape[1:] and r.masks.shape == (k, *hw) and r.weights.shape == (k,)
    assert float(r.image.min()) >= 0 and float(r.image.max()) <= 1
    assert float(r.masks.min()) >= 0 and float(r.masks.max()) <= 1
    assert torch.isfinite(r.weights).all() and float(r.weights.min()) >= 0


@pytest.mark.parametrize("method", AREA)
@FAST
@given(hw=SIZES, seed=SEEDS, lam=LAMS)
def test_mask_mean_is_label_weight(images, method, hw, seed, lam):
    _, r = run(images, method, hw, seed, lam)
    means = r.masks.double().flatten(1).mean(1)
    torch.testing.assert_close(means, r.weights.double().cpu(), atol=1e-6, rtol=0)
    assert abs(float(r.weights.sum()) - 1) < 1e-9
    assert abs(sum(r.label.values()) - 1) < 1e-9


@pytest.mark.parametrize("method", MODEL_FREE)
def test_masks_cover_each_pixel_once(images, method):
    """Shares of the inputs add up to 1 in every pixel, except where a fill or a dropped cell shows."""
    _, r = run(images, method, (24, 40), 7)
    total = r.masks.sum(0)
    if method in ("cutout", "gridmask", "splicemix"):
        assert float(total.max()) <= 1 + 1e-6
    else:
        torch.testing.assert_close(total, torch.ones_like(total))


@pytest.mark.parametrize("method", ALIGNED)
@FAST
@given(hw=SIZES, seed=SEEDS, lam=LAMS)
def test_output_is_mask_weighted_sum(images, method, hw, seed, lam):
    x, r = run(images, method, hw, seed, lam)
    expected = (r.masks[:, None] * x).sum(0)
    torch.testing.assert_close(r.image, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("method", MODEL_FREE)
def test_same_seed_same_pixels_other_seed_differs(images, method):
    x = images(mixviz.METHODS[method].n_inputs, 30, 44, seed=3)
    a = mixviz.mix(method, x, seed=11)
    b = mixviz.mix(method, x, seed=11)
    assert torch.equal(a.image, b.image) and torch.equal(a.masks, b.masks)
    if method != "sample_pairing":  # the only method with nothing random
        others = [mixviz.mix(method, x, seed=s).image for s in range(12, 16)]
        assert any(not torch.equal(a.image, o) for o in others)


@pytest.mark.parametrize("method", MODEL_FREE)
@pytest.mark.parametrize("batch", [1, 3, 7])
def test_batch_pairs_each_sample_with_previous(images, method, batch):
    """Sample i of mix_batch is the method applied to x[i], x[i-1], ... with sample i's parameters,
    whether the engine reached them through slices or through gathered head samples."""
    from mixviz.methods.base import Call
    from mixviz.sampling import DrawContext

    spec = mixviz.METHODS[method]
    x = images(batch, 20, 28, seed=5)
    xm, _ = mixviz.mix_batch(method, x, generator=torch.Generator().manual_seed(9))
    ctx = DrawContext(batch, 3, 20, 28, x.device, x.dtype, torch.Generator().manual_seed(9), None, 1.0)
    c = Call(ctx, mixviz.engine.resolve_params(spec, {}))
    c.draws = spec.impl.draw(c)
    k = spec.impl.n_sources(c)
    stats = spec.impl.per_image(c, x, mixviz.engine.guide_maps(spec.impl, c.config, x, None))
    for i in range(batch):
        one = torch.empty(1, 3, 20, 28)
        sources = [torch.tensor([(i - j) % batch]) for j in range(k)]
        q = c.take([i], [x[s] for s in sources])
        q.inputs = mixviz.engine._route(stats, sources)
        spec.impl.apply(q, one)
        torch.testing.assert_close(xm[i], one[0], atol=1e-6, rtol=0)


def test_mix_is_the_batch_of_one_case(images):
    """mix draws with a CPU generator seeded by `seed` and runs the same batched code on one sample."""
    x = images(2, 20, 28, seed=5)
    r = mixviz.mix("cutmix", x, seed=9)
    box = (r.info["y1"], r.info["y2"], r.info["x1"], r.info["x2"])
    expected = x[0].clone()
    expected[:, box[0]:box[1], box[2]:box[3]] = x[1][:, box[0]:box[1], box[2]:box[3]]
    torch.testing.assert_close(r.image, expected)


@pytest.mark.parametrize("method", MODEL_FREE)
def test_mix_batch_per_sample_and_labels(images, method, device):
    spec = mixviz.METHODS[method]
    g = torch.Generator().manual_seed(0)
    x = images(8, 24, 32, device=device)
    y = torch.arange(8, device=device)
    xm, ym = mixviz.mix_batch(method, x, y, num_classes=10, generator=g)
    assert xm.shape == x.shape and ym.shape == (8, 10) and xm.device == x.device
    if method != "bc_plus":
        assert float(xm.min()) >= 0 and float(xm.max()) <= 1
    if spec.label_rule == "union":
        assert set(ym.unique().tolist()) <= {0.0, 1.0}
    elif spec.label_rule in ("kept", "first"):
        torch.testing.assert_close(ym, torch.nn.functional.one_hot(y, 10).float())
    else:
        torch.testing.assert_close(ym.sum(1), torch.ones(8, device=device))
        # sample i mixes x[i] and x[i-1]: its label mass sits on classes i and i-1 (and i-2, i-3 for 4 inputs)
        k = spec.n_inputs
        for i in range(8):
            allowed = {(i - j) % 8 for j in range(k)}
            if method in ("bc", "bc_plus"):  # BC draws a partner of another class: any other sample
                allowed = set(range(8))
                assert float(ym[i, i]) > 0 and int((ym[i] > 0).sum()) <= 2
            assert set(ym[i].nonzero().flatten().tolist()) <= allowed
    if spec.uses_lam and method not in ("sample_pairing",):
        lams = [mixviz.mix_batch(method, x[:2], generator=torch.Generator().manual_seed(s))[0] for s in range(2)]
        assert not torch.equal(lams[0], lams[1])


def test_cuda_matches_cpu_when_present(images):
    """mix draws its parameters on the CPU, so a seed gives the same picture on any device."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    for method in MODEL_FREE:
        x = images(mixviz.METHODS[method].n_inputs, 32, 48)
        a = mixviz.mix(method, x, seed=4, device="cpu")
        b = mixviz.mix(method, x, seed=4, device="cuda")
        assert b.image.device.type == "cuda"
        torch.testing.assert_close(a.image, b.image.cpu(), atol=1e-5, rtol=0)
        torch.testing.assert_close(a.weights, b.weights.cpu())


def test_device_none_picks_cuda_then_mps_then_cpu(monkeypatch):
    from mixviz.sampling import pick_device

    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")
