"""Each method checked by value against its paper's formula (and reference implementation)."""
import math

import pytest
import torch
import torch.nn.functional as F
from scipy import stats

import mixviz
from mixviz.sampling import DrawContext


def test_mixup_fixed_lam_is_the_lerp(images):
    a, b = images(2, 24, 40)
    r = mixviz.mix("mixup", torch.stack([a, b]), lam=0.3)
    torch.testing.assert_close(r.image, 0.3 * a + 0.7 * b)
    assert r.lam == pytest.approx(0.3)
    torch.testing.assert_close(r.weights, torch.tensor([0.3, 0.7], dtype=torch.float64))
    assert r.label == pytest.approx({"image 1": 0.3, "image 2": 0.7})


@pytest.mark.parametrize("alpha", [0.2, 0.3, 1.0, 2.0])
def test_lambda_follows_beta(alpha):
    d = DrawContext(4000, 3, 4, 4, torch.device("cpu"), torch.float32, torch.Generator().manual_seed(1), None, alpha)
    lam = d.lam_or_beta().numpy()
    assert stats.kstest(lam, stats.beta(alpha, alpha).cdf).pvalue > 1e-3


def test_mix_batch_draws_lambda_per_sample(images):
    x = images(64, 8, 8)
    xm, ym = mixviz.mix_batch("mixup", x, torch.arange(64), num_classes=64, generator=torch.Generator().manual_seed(0))
    lam = ym[torch.arange(64), torch.arange(64)]
    assert len(set(lam.round(decimals=4).tolist())) > 50
    torch.testing.assert_close(xm, lam.view(-1, 1, 1, 1) * x + (1 - lam.view(-1, 1, 1, 1)) * x.roll(1, 0))


def test_sample_pairing_averages_and_keeps_first_label(images):
    a, b = images(2, 16, 16)
    r = mixviz.mix("sample_pairing", torch.stack([a, b]), labels=["cat", "dog"])
    torch.testing.assert_close(r.image, (a + b) / 2)
    assert r.label == {"cat": 1.0, "dog": 0.0}


def test_bc_ratio_is_uniform_and_mixes_linearly(images):
    a, b = images(2, 16, 16)
    r = mixviz.mix("bc", torch.stack([a, b]), lam=0.25)
    torch.testing.assert_close(r.image, 0.25 * a + 0.75 * b)
    d = DrawContext(4000, 3, 4, 4, torch.device("cpu"), torch.float32, torch.Generator().manual_seed(2), None, 0.2)
    assert stats.kstest(d.lam_or_uniform().numpy(), "uniform").pvalue > 1e-3


@pytest.mark.parametrize("r_value", [0.1, 0.5, 0.8])
def test_bc_plus_matches_its_formula(images, r_value):
    x = images(2, 20, 30, seed=4)
    x[1] = x[1] * 0.3 + 0.2  # a quieter image: σ2 < σ1
    r = mixviz.mix("bc_plus", x, lam=r_value, labels=["a", "b"])
    x1, x2 = x[0].double(), x[1].double()
    m1, m2, s1, s2 = x1.mean(), x2.mean(), x1.std(unbiased=False), x2.std(unbiased=False)
    p = 1 / (1 + s1 / s2 * (1 - r_value) / r_value)
    raw = (p * (x1 - m1) + (1 - p) * (x2 - m2)) / math.sqrt(p**2 + (1 - p) ** 2)
    torch.testing.assert_close(r.info["raw"].double(), raw, atol=1e-5, rtol=0)
    torch.testing.assert_close(r.image.double(), (raw + r_value * m1 + (1 - r_value) * m2).clamp(0, 1), atol=1e-5, rtol=0)
    assert r.info["p"] == pytest.approx(float(p))
    assert float(p) < r_value  # the louder first image is turned down so the quieter second one is heard
    assert r.label == pytest.approx({"a": r_value, "b": 1 - r_value})


@pytest.mark.parametrize("hw", [(32, 32), (30, 90), (90, 30)])
@pytest.mark.parametrize("seed", range(6))
def test_cutmix_box_is_one_rectangle_with_corrected_lambda(images, hw, seed):
    h, w = hw
    lam = 0.75
    r = mixviz.mix("cutmix", images(2, h, w), lam=lam, seed=seed)
    pasted = r.masks[1]
    rows, cols = pasted.amax(1) > 0, pasted.amax(0) > 0
    torch.testing.assert_close(pasted, (rows[:, None] & cols[None, :]).float())  # exactly one rectangle
    i = r.info
    assert i["y2_raw"] - i["y1_raw"] == 2 * (math.floor(h * math.sqrt(1 - lam)) // 2)
    assert i["x2_raw"] - i["x1_raw"] == 2 * (math.floor(w * math.sqrt(1 - lam)) // 2)
    area = float(pasted.sum())
    assert area == (i["y2"] - i["y1"]) * (i["x2"] - i["x1"])
    assert r.weights[1] == pytest.approx(area / (h * w))
    assert i["lam_corrected"] == pytest.approx(1 - area / (h * w))
    assert i["lam_corrected"] >= lam - 1e-9  # clipping only ever shrinks the box


def test_cutmix_unclipped_box_has_the_image_aspect_ratio(images):
    found = 0
    for seed in range(40):
        r = mixviz.mix("cutmix", images(2, 40, 120), lam=0.75, seed=seed)
        i = r.info
        if i["y1_raw"] >= 0 and i["x1_raw"] >= 0 and i["y2_raw"] <= 40 and i["x2_raw"] <= 120:
            found += 1
            assert (i["y2"] - i["y1"], i["x2"] - i["x1"]) == (20, 60)
            assert r.weights[0] == pytest.approx(0.75)
    assert found > 0


def test_cutout_square_hole_with_fill_and_label_kept(images):
    x = images(1, 40, 60)
    r = mixviz.mix("cutout", x, seed=3, size=0.5, fill="grey", grey=0.25, labels=["cat"])
    hole = r.masks[0] == 0
    rows, cols = hole.any(1), hole.any(0)
    assert int(rows.sum()) <= 20 and int(cols.sum()) <= 20
    if r.info["y1_raw"][0] >= 0 and r.info["y2_raw"][0] <= 40 and r.info["x1_raw"][0] >= 0 and r.info["x2_raw"][0] <= 60:
        assert int(rows.sum()) == 20 and int(cols.sum()) == 20
    assert torch.all(r.image[:, hole] == 0.25)
    torch.testing.assert_close(r.image[:, ~hole], x[0][:, ~hole])
    assert r.label == {"cat": 1.0}


def test_smoothmix_gaussian_direction_and_weight(images):
    a, b = images(2, 30, 50, seed=6)
    r = mixviz.mix("smoothmix", torch.stack([a, b]), seed=5, labels=["a", "b"])
    cy, cx, sigma = r.info["cy"], r.info["cx"], r.info["sigma"]
    assert 0.25 * math.sqrt(1500) <= sigma <= 0.5 * math.sqrt(1500)
    yy, xx = torch.meshgrid(torch.arange(30.0), torch.arange(50.0), indexing="ij")
    g = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    torch.testing.assert_close(r.masks[1], g, atol=1e-6, rtol=0)  # the blob shows image b
    assert float(r.masks[1][cy, cx]) == pytest.approx(1.0)
    torch.testing.assert_close(r.image, (1 - g) * a + g * b, atol=1e-6, rtol=0)
    assert r.label["b"] == pytest.approx(float(g.double().mean()), abs=1e-6)


@pytest.mark.parametrize("mode", [0, 1])
def test_gridmask_grid_formula_without_rotation(images, mode):
    x = images(1, 48, 64)
    r = mixviz.mix("gridmask", x, seed=2, rotate=0, mode=mode, ratio=0.6, fill="black")
    i = r.info
    d, l_, dy, dx = i["d"], i["l"], i["delta_y"], i["delta_x"]
    assert 0.43 * 48 - 1 <= d <= 48 and l_ == math.ceil(d * 0.6)
    yy, xx = torch.meshgrid(torch.arange(48), torch.arange(64), indexing="ij")
    line = (((yy - dy) % d) < l_) | (((xx - dx) % d) < l_)
    keep = line if mode == 1 else ~line
    torch.testing.assert_close(r.masks[0], keep.float())
    torch.testing.assert_close(r.image, x[0] * keep)
    assert r.weights.tolist() == [1.0]


def test_gridmask_keeps_the_papers_ratio_on_average():
    """Mode 1 removes (1 − r)²·d² of every d² unit: keep ratio 1 − (1 − r)² (0.84 for r = 0.6)."""
    x = torch.rand(64, 3, 96, 96, generator=torch.Generator().manual_seed(0))
    xm, _ = mixviz.mix_batch("gridmask", torch.ones_like(x), generator=torch.Generator().manual_seed(1),
                             d_min=0.1, d_max=0.2, fill="black")
    assert float(xm.mean()) == pytest.approx(0.84, abs=0.03)


@pytest.mark.parametrize("lam", [0.1, 0.37, 0.5, 0.9])
@pytest.mark.parametrize("hw,tolerance", [((32, 32), 1.5 / 1024), ((64, 96), 1.5 / 6144), ((224, 224), 0.005)])
def test_fmix_mask_share_is_lambda_and_low_frequency(images, lam, hw, tolerance):
    """Top ⌈λHW⌉ or ⌊λHW⌋ pixels exactly up to 64² pixels; a subsampled quantile (within 0.5%) above."""
    h, w = hw
    r = mixviz.mix("fmix", images(2, h, w), lam=lam, seed=8)
    m = r.masks[0]
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    assert abs(float(m.mean()) - lam) <= tolerance
    assert r.info["lam_corrected"] == pytest.approx(float(m.double().mean()))
    changes = (m[:, 1:] != m[:, :-1]).float().mean()
    assert float(changes) < 0.3 * 2 * lam * (1 - lam)  # blobs: random pixels would change 2λ(1−λ) of the time


def test_resizemix_pastes_the_whole_resized_image(images):
    a, b = images(2, 40, 60, seed=2)
    r = mixviz.mix("resizemix", torch.stack([a, b]), seed=4)
    y1, y2, x1, x2 = (r.info[k] for k in ("y1", "y2", "x1", "x2"))
    tau = r.info["tau"]
    assert 0.1 <= tau <= 0.8 and (y2 - y1, x2 - x1) == (math.floor(40 * tau), math.floor(60 * tau))
    patch = F.interpolate(b[None], size=(y2 - y1, x2 - x1), mode="bilinear", align_corners=False)[0]
    torch.testing.assert_close(r.image[:, y1:y2, x1:x2], patch, atol=1e-5, rtol=0)
    outside = r.masks[0].bool()
    torch.testing.assert_close(r.image[:, outside], a[:, outside])
    assert r.weights[1] == pytest.approx((y2 - y1) * (x2 - x1) / 2400)


def test_vertical_and_horizontal_concat_split_at_lambda(images):
    a, b = images(2, 40, 50)
    r = mixviz.mix("vertical_concat", torch.stack([a, b]), lam=0.3)
    torch.testing.assert_close(r.image[:, :12], a[:, :12])
    torch.testing.assert_close(r.image[:, 12:], b[:, 12:])
    assert r.weights[0] == pytest.approx(12 / 40)
    r = mixviz.mix("horizontal_concat", torch.stack([a, b]), lam=0.3)
    torch.testing.assert_close(r.image[:, :, :15], a[:, :, :15])
    torch.testing.assert_close(r.image[:, :, 15:], b[:, :, 15:])


def test_mixed_concat_on_a_non_square_image(images):
    a, b = images(2, 30, 90)
    r = mixviz.mix("mixed_concat", torch.stack([a, b]), lam=0.3)
    assert (r.info["split_row"], r.info["split_col"]) == (9, 27)
    torch.testing.assert_close(r.image[:, :9, :27], a[:, :9, :27])
    torch.testing.assert_close(r.image[:, 9:, 27:], a[:, 9:, 27:])
    torch.testing.assert_close(r.image[:, :9, 27:], b[:, :9, 27:])
    torch.testing.assert_close(r.image[:, 9:, :27], b[:, 9:, :27])
    assert r.weights[0] == pytest.approx(0.3**2 + 0.7**2)


@pytest.mark.parametrize("seed", range(5))
def test_random_2x2_splits_in_the_middle_half(images, seed):
    r = mixviz.mix("random_2x2", images(2, 40, 64), seed=seed)
    sr, sc = r.info["split_row"], r.info["split_col"]
    assert 10 <= sr < 30 and 16 <= sc < 48
    m = r.masks[0]
    for rows in (slice(0, sr), slice(sr, 40)):
        for cols in (slice(0, sc), slice(sc, 64)):
            assert m[rows, cols].unique().numel() == 1


@pytest.mark.parametrize("method,axis", [("random_row_interval", 1), ("random_column_interval", 2)])
def test_interval_band_comes_from_the_second_image(images, method, axis):
    a, b = images(2, 40, 50)
    r = mixviz.mix(method, torch.stack([a, b]), lam=0.6, seed=3)
    n = (40, 50)[axis - 1]
    start, src, length = r.info["start"], r.info["source_start"], r.info["length"]
    assert length == round(0.4 * n)
    band = r.image.narrow(axis, start, length)
    torch.testing.assert_close(band, b.narrow(axis, src, length))
    keep = torch.ones(n, dtype=torch.bool)
    keep[start:start + length] = False
    torch.testing.assert_close(r.image.index_select(axis, keep.nonzero()[:, 0]), a.index_select(axis, keep.nonzero()[:, 0]))
    assert r.weights[0] == pytest.approx((n - length) / n)


@pytest.mark.parametrize("method,unit_dims", [("random_rows", (0, 2)), ("random_columns", (0, 1)),
                                               ("random_pixels", (0,))])
def test_random_units_are_whole_and_share_is_near_lambda(images, method, unit_dims):
    x = images(2, 300, 300)
    r = mixviz.mix(method, x, lam=0.3, seed=1)
    from_a = r.image == x[0]
    # every unit (row / column / pixel) is taken whole from one image: within a unit, all or nothing is from a
    assert torch.equal(from_a.all(dim=unit_dims), from_a.any(dim=unit_dims))
    assert float(r.weights[0]) == pytest.approx(0.3, abs=0.06)


def test_random_elements_choose_per_channel(images):
    x = images(2, 64, 64)
    r = mixviz.mix("random_elements", x, lam=0.5, seed=2)
    from_a = r.image == x[0]
    assert (from_a.any(0) & ~from_a.all(0)).any()  # some pixels mix channels of both images
    assert float(r.weights[0]) == pytest.approx(float(from_a.double().mean()), abs=1e-9)


def test_ricap_tiles_are_unresized_crops_covering_the_image(images):
    x = images(4, 40, 60, seed=1)
    for seed in range(5):
        r = mixviz.mix("ricap", x, seed=seed)
        i = r.info
        h, w = i["split_row"], i["split_col"]
        torch.testing.assert_close(r.masks.sum(0), torch.ones(40, 60))
        origins = [(0, 0), (0, w), (h, 0), (h, w)]
        for k in range(4):
            th, tw, oy, ox = i["tile_h"][k], i["tile_w"][k], i["crop_y"][k], i["crop_x"][k]
            ty, tx = origins[k]
            assert 0 <= oy <= 40 - th and 0 <= ox <= 60 - tw
            torch.testing.assert_close(r.image[:, ty:ty + th, tx:tx + tw], x[k][:, oy:oy + th, ox:ox + tw])
            assert float(r.weights[k]) == pytest.approx(th * tw / 2400)


def test_splicemix_2x2_cells_are_resized_images_with_union_label(images):
    x = images(4, 40, 60, seed=3)
    r = mixviz.mix("splicemix", x, grid="2x2", drop_prob=0.0, labels=["a", "b", "c", "d"])
    for k, (ys, xs) in enumerate([(slice(0, 20), slice(0, 30)), (slice(0, 20), slice(30, 60)),
                                  (slice(20, 40), slice(0, 30)), (slice(20, 40), slice(30, 60))]):
        cell = F.interpolate(x[k][None], size=(20, 30), mode="bilinear", align_corners=True)[0]
        torch.testing.assert_close(r.image[:, ys, xs], cell, atol=1e-5, rtol=0)
    assert r.label == {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}
    torch.testing.assert_close(r.weights, torch.full((4,), 0.25, dtype=torch.float64))


def test_splicemix_dropped_cells_are_black_and_leave_the_label(images):
    x = images(4, 40, 60, seed=3) * 0.5 + 0.25
    for seed in range(6):
        r = mixviz.mix("splicemix", x, grid="2x2", drop_prob=1.0, seed=seed, labels=["a", "b", "c", "d"])
        present = [k for k in range(4) if float(r.weights[k]) > 0]
        assert 1 <= len(present) <= 3
        assert r.label == {n: (1.0 if k in present else 0.0) for k, n in enumerate("abcd")}
        assert float(r.image.amin(0).eq(0).double().mean()) == pytest.approx(1 - sum(r.weights.tolist()))


def test_splicemix_2x3_reuses_the_four_images_in_order(images):
    r = mixviz.mix("splicemix", images(4, 40, 60), grid="2x3", drop_prob=0.0)
    torch.testing.assert_close(r.weights, torch.tensor([2, 2, 1, 1], dtype=torch.float64) / 6)


def test_splicemix_area_label_option(images):
    r = mixviz.mix("splicemix", images(4, 40, 60), grid="1x2", drop_prob=0.0, label="area", labels=list("abcd"))
    assert r.label == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.0})


def test_label_smoothing_in_mix_and_mix_batch(images):
    r = mixviz.mix("mixup", images(2, 8, 8), lam=0.7, labels=[3, 5], label_smoothing=0.1, num_classes=10)
    assert r.label == pytest.approx({3: 0.9 * 0.7 + 0.01, 5: 0.9 * 0.3 + 0.01})
    assert r.info["label_smoothing"]["each_other_class"] == pytest.approx(0.01)
    x, y = images(6, 8, 8), torch.tensor([0, 1, 2, 3, 4, 5])
    _, plain = mixviz.mix_batch("cutmix", x, y, num_classes=6, generator=torch.Generator().manual_seed(0))
    _, smooth = mixviz.mix_batch("cutmix", x, y, num_classes=6, generator=torch.Generator().manual_seed(0),
                                 label_smoothing=0.2)
    torch.testing.assert_close(smooth, 0.8 * plain + 0.2 / 6)
    with pytest.raises(mixviz.MixError, match="num_classes"):
        mixviz.mix("mixup", images(2, 8, 8), label_smoothing=0.1)


def test_mix_batch_output_buffer_is_written_and_x_kept(images):
    x = images(8, 16, 16)
    before = x.clone()
    buf = torch.empty_like(x)
    xm, _ = mixviz.mix_batch("cutmix", x, out=buf, generator=torch.Generator().manual_seed(0))
    assert xm is buf and torch.equal(x, before)
    fresh, _ = mixviz.mix_batch("cutmix", x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(fresh, buf)
    with pytest.raises(mixviz.MixError, match="share memory"):
        mixviz.mix_batch("cutmix", x, out=x)
    with pytest.raises(mixviz.MixError, match="must match"):
        mixviz.mix_batch("cutmix", x, out=torch.empty(8, 3, 16, 15))


@pytest.mark.parametrize("call,match", [
    (lambda images: mixviz.mix("nope", images(2, 8, 8)), "unknown method"),
    (lambda images: mixviz.mix("cutmix", images(3, 8, 8)), "mixes 2 images"),
    (lambda images: mixviz.mix("cutmix", images(2, 8, 8), lam=1.5), "λ"),
    (lambda images: mixviz.mix("cutmix", images(2, 8, 8), alpha=0), "alpha"),
    (lambda images: mixviz.mix("cutout", images(1, 8, 8), size=3), "size"),
    (lambda images: mixviz.mix("cutout", images(1, 8, 8), radius=3), "no parameter"),
    (lambda images: mixviz.mix("splicemix", images(4, 8, 8), grid="9x9"), "grid"),
    (lambda images: mixviz.mix_batch("mixup", (images(2, 8, 8) * 255).byte()), "float"),
    (lambda images: mixviz.mix_batch("mixup", images(2, 8, 8), torch.tensor([0, 1])), "num_classes"),
    (lambda images: mixviz.mix_batch("mixup", images(2, 8, 8), torch.tensor([0, 7]), num_classes=5), r"\[0, 5\)"),
    (lambda images: mixviz.mix_batch("mixup", images(2, 8, 8), torch.tensor([0, 1, 2]), num_classes=5), "one row per"),
])
def test_bad_calls_raise_specific_errors(images, call, match):
    with pytest.raises(mixviz.MixError, match=match):
        call(images)


@pytest.mark.parametrize("prob", [0.0, 1 / 256, 0.3, 0.5, 1.0])
def test_bernoulli_fields_are_calibrated_and_exact_at_the_ends(prob):
    d = DrawContext(1, 3, 4, 4, torch.device("cpu"), torch.float32, torch.Generator().manual_seed(0), None, 1.0)
    field = d.bernoulli(torch.tensor([prob]), 1, 1000, 1000)
    assert field.dtype == torch.float32 and set(field.unique().tolist()) <= {0.0, 1.0}
    step = round(prob * 256) / 256
    assert float(field.mean()) == pytest.approx(step, abs=0.002)
    if prob in (0.0, 1.0):
        assert float(field.mean()) == prob


@pytest.mark.parametrize("hw", [(32, 32), (24, 41), (41, 24), (7, 2)])
def test_fmix_low_frequency_field_is_the_inverse_fft(hw):
    from mixviz.methods.cut import low_frequency_field

    h, w = hw
    g = torch.Generator().manual_seed(0)
    rows = torch.tensor(sorted({0, 1, 2, h - 1, h - 2} & set(range(h))))
    cols = torch.arange(min(3, w // 2 + 1))
    if w // 2 > 3:
        cols = torch.cat([cols, torch.tensor([w // 2])])  # the Nyquist bin of an even width, or the last bin
    block = torch.complex(torch.randn(2, rows.numel(), cols.numel(), generator=g),
                          torch.randn(2, rows.numel(), cols.numel(), generator=g))
    full = torch.zeros(2, h, w // 2 + 1, dtype=torch.complex64)
    full[:, rows[:, None], cols[None, :]] = block
    torch.testing.assert_close(low_frequency_field(block, rows, cols, h, w), torch.fft.irfft2(full, s=(h, w)),
                               atol=1e-5, rtol=1e-4)


def test_lam_corrected_is_the_labels_share_wherever_it_differs_from_lam(images):
    x = images(2, 30, 40)
    assert mixviz.mix("mixup", x, lam=0.37).lam_corrected is None  # the label is λ itself
    r = mixviz.mix("vertical_concat", x, lam=0.37)  # split at round(0.37·30) = 11 rows
    assert r.lam_corrected == pytest.approx(11 / 30) and r.label_rule == "area"
    r = mixviz.mix("cutmix", x, lam=0.37, seed=2)
    assert r.lam_corrected == pytest.approx(float(r.weights[0]))


@pytest.mark.parametrize("use_out", [False, True])
def test_bc_partners_blend_by_value_and_leave_x_alone(images, use_out):
    """BC pairs each sample with one of another class, gathered straight into the output: every sample is
    r·x_i + (1 − r)·x_j for the partner j its label names, and x itself is untouched."""
    x = images(8, 12, 16, seed=4)
    before = x.clone()
    out = torch.empty_like(x) if use_out else None
    xm, ys = mixviz.mix_batch("bc", x, torch.arange(8), num_classes=8, generator=torch.Generator().manual_seed(2),
                              out=out)
    assert torch.equal(x, before)
    for i in range(8):
        r = float(ys[i, i])
        j = int(torch.cat([ys[i, :i], torch.tensor([-1.0]), ys[i, i + 1:]]).argmax())
        assert j != i and float(ys[i, j]) == pytest.approx(1 - r)
        torch.testing.assert_close(xm[i], r * x[i] + (1 - r) * x[j], atol=1e-6, rtol=0)
