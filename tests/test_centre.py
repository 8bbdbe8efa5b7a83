"""The optional centre of CutMix, Cutout and ResizeMix: a "point" parameter (row, column) in fractions of H and
W, checked by value against the box each method must then draw."""
import math

import numpy as np
import pytest
import torch

import mixviz
from mixviz.types import MixError, ParamSpec

CENTRED = ("cutmix", "cutout", "resizemix")
SIZES = [(22, 39), (23, 43), (48, 64), (31, 31)]


def _box_of(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """[y1, y2) × [x1, x2) of the one rectangle where `mask` (H, W) is 1."""
    rows = (mask > 0.5).any(1).nonzero()[:, 0]
    cols = (mask > 0.5).any(0).nonzero()[:, 0]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _cutmix_box(centre, lam, h, w):
    """The box CutMix must paste for a fixed centre: rows [cy − ⌊H√(1−λ)⌋//2, cy + ⌊H√(1−λ)⌋//2) clipped."""
    cy, cx = min(math.floor(centre[0] * h), h - 1), min(math.floor(centre[1] * w), w - 1)
    bh, bw = math.floor(h * math.sqrt(1 - lam)), math.floor(w * math.sqrt(1 - lam))
    return (max(cy - bh // 2, 0), min(cy + bh // 2, h), max(cx - bw // 2, 0), min(cx + bw // 2, w))


@pytest.mark.parametrize("method", CENTRED)
def test_centre_is_a_point_parameter_drawn_by_default(method):
    spec = mixviz.METHODS[method]
    p = spec.params[-1]
    assert p.name == "centre" and p.kind == "point" and p.default is None
    assert "centre" in spec.summary
    assert spec.defaults()["centre"] is None


def test_other_kinds_unchanged():
    assert ParamSpec("a", 1, 0, 5, 1).kind == "int"
    assert ParamSpec("a", 0.5, 0.0, 1.0, 0.1).kind == "float"
    assert ParamSpec("a", True).kind == "bool"
    assert ParamSpec("a", "x", choices=("x", "y")).kind == "choice"
    assert ParamSpec("a", None, 0.0, 1.0).kind == "point"


@pytest.mark.parametrize("value, expected", [
    (None, None), ((0.25, 0.75), (0.25, 0.75)), ([0, 1], (0.0, 1.0)), (np.array([0.5, 0.125]), (0.5, 0.125)),
    (torch.tensor([0.5, 0.25]), (0.5, 0.25)), ((np.float32(0.5), 1), (0.5, 1.0)), (("0.5", "0.25"), (0.5, 0.25)),
])
def test_point_validation_accepts_pairs_of_fractions(value, expected):
    got = mixviz.METHODS["cutmix"].param("centre").validate(value, "cutmix")
    assert got == expected
    if got is not None:
        assert type(got) is tuple and all(type(v) is float for v in got)


@pytest.mark.parametrize("value", ["0.5,0.5", "ab", b"ab", 0.5, (0.5,), (0.1, 0.2, 0.3), (float("nan"), 0.5),
                                   (0.5, float("inf")), (1.2, 0.5), (0.5, -0.01), (True, 0.5), (0.5, None),
                                   ("a", 0.5), {"y": 0.5, "x": 0.5}, [[0.5, 0.5]]])
@pytest.mark.parametrize("method", CENTRED)
def test_point_validation_rejects_what_is_not_a_pair_of_fractions(images, method, value):
    x = images(mixviz.METHODS[method].n_inputs, 16, 20)
    with pytest.raises(MixError) as e:
        mixviz.mix(method, x, centre=value)
    text = str(e.value)
    assert method in text and "'centre'" in text and "[0, 1]" in text and "(y, x)" in text


@pytest.mark.parametrize("hw", SIZES)
@pytest.mark.parametrize("centre", [(0.5, 0.5), (0.0, 0.0), (1.0, 1.0), (0.13, 0.91), (0.999, 0.001)])
def test_cutmix_box_is_centred_where_given(images, hw, centre):
    h, w = hw
    lam = 0.64
    r = mixviz.mix("cutmix", images(2, h, w), lam=lam, seed=3, centre=centre)
    y1, y2, x1, x2 = _cutmix_box(centre, lam, h, w)
    expected = torch.zeros(h, w)
    expected[y1:y2, x1:x2] = 1
    torch.testing.assert_close(r.masks[1], expected)
    area = (y2 - y1) * (x2 - x1) / (h * w)
    assert r.lam_corrected == pytest.approx(1 - area)
    assert r.info["centre"] == [min(math.floor(centre[0] * h), h - 1) / h, min(math.floor(centre[1] * w), w - 1) / w]
    assert r.info["box_size"] == [2 * (math.floor(h * 0.6) // 2) / h, 2 * (math.floor(w * 0.6) // 2) / w]


@pytest.mark.parametrize("hw", SIZES)
@pytest.mark.parametrize("centre", [(0.5, 0.5), (0.0, 1.0), (0.3, 0.7)])
def test_cutout_first_hole_is_centred_where_given_and_the_others_are_drawn_as_before(images, hw, centre):
    h, w = hw
    x = images(1, h, w)
    drawn = mixviz.mix("cutout", x, seed=5, n_holes=3, size=0.3)
    fixed = mixviz.mix("cutout", x, seed=5, n_holes=3, size=0.3, centre=centre)
    side = max(1, round(0.3 * min(h, w)))
    cy, cx = min(math.floor(centre[0] * h), h - 1), min(math.floor(centre[1] * w), w - 1)
    for key, value in (("y1_raw", cy - side // 2), ("y2_raw", cy + side // 2),
                       ("x1_raw", cx - side // 2), ("x2_raw", cx + side // 2)):
        assert fixed.info[key][0] == value
        assert fixed.info[key][1:] == drawn.info[key][1:]  # the other holes: the same draws
    keep = torch.ones(h, w)
    for i in range(3):
        keep[max(fixed.info["y1_raw"][i], 0):fixed.info["y2_raw"][i], max(fixed.info["x1_raw"][i], 0):fixed.info["x2_raw"][i]] = 0
    torch.testing.assert_close(fixed.masks[0], keep)
    assert fixed.info["centre"] == [cy / h, cx / w]
    assert fixed.info["box_size"] == [2 * (side // 2) / h, 2 * (side // 2) / w]


@pytest.mark.parametrize("hw", SIZES)
@pytest.mark.parametrize("centre", [(0.5, 0.5), (0.0, 0.0), (1.0, 0.2), (0.37, 0.61)])
def test_resizemix_patch_is_centred_where_given_and_stays_inside(images, hw, centre):
    h, w = hw
    x = images(2, h, w)
    drawn = mixviz.mix("resizemix", x, seed=7)
    r = mixviz.mix("resizemix", x, seed=7, centre=centre)
    tau = r.info["tau"]
    assert tau == drawn.info["tau"]  # the scale is drawn as before
    ph, pw = max(math.floor(tau * h), 1), max(math.floor(tau * w), 1)
    y1 = min(max(round(centre[0] * h - ph / 2), 0), h - ph)
    x1 = min(max(round(centre[1] * w - pw / 2), 0), w - pw)
    assert _box_of(r.masks[1]) == (y1, y1 + ph, x1, x1 + pw)
    patch = torch.nn.functional.interpolate(x[1:2], size=(ph, pw), mode="bilinear", align_corners=False)[0]
    torch.testing.assert_close(r.image[:, y1:y1 + ph, x1:x1 + pw], patch)
    assert r.info["centre"] == [(y1 + ph / 2) / h, (x1 + pw / 2) / w]
    assert r.info["box_size"] == [ph / h, pw / w]


@pytest.mark.parametrize("method", CENTRED)
@pytest.mark.parametrize("hw", SIZES)
def test_reported_centre_given_back_gives_the_same_picture(images, method, hw):
    x = images(mixviz.METHODS[method].n_inputs, *hw, seed=2)
    for seed in range(12):
        r = mixviz.mix(method, x, seed=seed)
        again = mixviz.mix(method, x, seed=seed, centre=r.info["centre"])
        assert torch.equal(again.image, r.image) and torch.equal(again.masks, r.masks), seed
        assert again.info["centre"] == r.info["centre"] and again.info["box_size"] == r.info["box_size"]


@pytest.mark.parametrize("hw", SIZES)
def test_cutmix_centre_alone_fixes_the_picture_for_a_fixed_lambda(images, hw):
    x = images(2, *hw, seed=4)
    r = mixviz.mix("cutmix", x, seed=1, lam=0.7)
    other = mixviz.mix("cutmix", x, seed=99, lam=0.7, centre=r.info["centre"])
    assert torch.equal(other.image, r.image)


@pytest.mark.parametrize("method", CENTRED)
def test_without_a_centre_every_draw_is_unchanged(images, method):
    """centre=None and no centre are the same call; a given centre changes the centre only."""
    x = images(mixviz.METHODS[method].n_inputs, 30, 44)
    a = mixviz.mix(method, x, seed=11)
    b = mixviz.mix(method, x, seed=11, centre=None)
    assert torch.equal(a.image, b.image) and a.info == b.info
    fixed = mixviz.mix(method, x, seed=11, centre=(0.5, 0.5))
    moving = {"y1", "y2", "x1", "x2", "y1_raw", "y2_raw", "x1_raw", "x2_raw", "centre", "lam_corrected"}
    assert {k: v for k, v in a.info.items() if k not in moving} == {k: v for k, v in fixed.info.items() if k not in moving}


@pytest.mark.parametrize("method", CENTRED)
def test_mix_batch_puts_every_sample_s_box_at_the_centre(images, method):
    b, h, w = 6, 40, 52
    x = images(b, h, w, seed=8)
    centre = (0.4, 0.6)
    kw = {"lam": 0.6} if method == "cutmix" else {"fill": "black"} if method == "cutout" else {}
    xm, _ = mixviz.mix_batch(method, x, generator=torch.Generator().manual_seed(0), centre=centre, **kw)
    cy, cx = math.floor(0.4 * h), math.floor(0.6 * w)
    sides = set()
    for i in range(b):
        changed = (xm[i] != x[i]).any(0).float()
        y1, y2, x1, x2 = _box_of(changed)
        if method == "resizemix":
            assert abs((y1 + y2) / 2 - 0.4 * h) <= 0.5 and abs((x1 + x2) / 2 - 0.6 * w) <= 0.5
            sides.add(y2 - y1)
        else:
            assert ((y1 + y2) / 2, (x1 + x2) / 2) == (cy, cx)
        torch.testing.assert_close(changed, torch.nn.functional.pad(torch.ones(y2 - y1, x2 - x1),
                                                                    (x1, w - x2, y1, h - y2)))
        if method == "cutmix":
            torch.testing.assert_close(xm[i, :, y1:y2, x1:x2], x[i - 1, :, y1:y2, x1:x2])
        if method == "cutout":
            assert not xm[i, :, y1:y2, x1:x2].any()
    if method == "resizemix":
        assert len(sides) > 1  # the scale is still drawn per sample
