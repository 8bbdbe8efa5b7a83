"""mixviz.tta by value: the ten crops against slicing done here on a resize done here, the batched scores against
ten separate forward passes, the two averages against their formulas, and the evaluation's counts against a
direct loop over the bundled photos."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import mixviz
from mixviz import tta
from mixviz.maps.models import RECIPES
from mixviz.samples import samples
from mixviz.types import MixError

EVALUATED = ("cat", "citrus", "cocker_spaniels", "airplane", "koala", "lighthouse")


@pytest.fixture(scope="module")
def model():
    return mixviz.load_model()  # the serving model (EfficientNet-Lite0 offline)


@pytest.fixture(scope="module")
def cat(model):
    return tta.ten_crop(model, mixviz.load_image(samples()["cat"].path))


def resized_here(x: torch.Tensor, short: int) -> torch.Tensor:
    """Shorter side to `short`, the longer to int(short · long / short_before) (torchvision's documented rule),
    bicubic with antialiasing, clamped to [0, 1]."""
    _, h, w = x.shape
    size = (short, int(short * w / h)) if h <= w else (int(short * h / w), short)
    return torch.nn.functional.interpolate(x[None], size=size, mode="bicubic", antialias=True,
                                           align_corners=False)[0].clamp(0, 1)


def five_here(x: torch.Tensor, c: int) -> list[torch.Tensor]:
    _, h, w = x.shape
    top, left = int(round((h - c) / 2)), int(round((w - c) / 2))
    return [x[:, :c, :c], x[:, :c, w - c:], x[:, h - c:, :c], x[:, h - c:, w - c:], x[:, top:top + c, left:left + c]]


@pytest.mark.parametrize("shape", [(3, 50, 77), (3, 91, 60), (3, 40, 40), (3, 30, 45)])  # wide, tall, square, grown
def test_ten_crops_are_the_corners_and_centre_of_the_resized_image_and_of_its_mirror(shape):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(sum(shape)))
    crop, short = 24, 40
    big = resized_here(x, short)
    assert min(big.shape[1:]) == short
    want = five_here(big, crop) + five_here(torch.flip(big, dims=[-1]), crop)
    got = tta.ten_crops(x, crop, short)
    assert got.shape == (10, 3, crop, crop)
    for i, name in enumerate(tta.CROP_NAMES):
        assert torch.equal(got[i], want[i]), name
    # a mirrored corner is the mirror of the opposite corner
    assert torch.equal(got[tta.CROP_NAMES.index("flipped, top-left")], torch.flip(got[1], dims=[-1]))
    assert torch.equal(got[tta.CENTRE + 5], torch.flip(got[tta.CENTRE], dims=[-1])) == (big.shape[2] % 2 == 0)
    # AlexNet's variant: the central short×short square first, then the same ten crops of it
    square = five_here(big, short)[4]
    want = five_here(square, crop) + five_here(torch.flip(square, dims=[-1]), crop)
    assert all(torch.equal(a, b) for a, b in zip(tta.ten_crops(x, crop, short, square=True), want))


def test_a_pil_image_is_cropped_like_its_tensor():
    arr = np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8)
    from PIL import Image

    got = tta.ten_crops(Image.fromarray(arr), 32, 48)
    want = tta.ten_crops(torch.from_numpy(arr).permute(2, 0, 1).float() / 255, 32, 48)
    assert torch.equal(got, want)


def test_the_crop_and_resize_are_each_models_own():
    lite0, xception = (SimpleNamespace(recipe=RECIPES[n]) for n in ("efficientnet_lite0", "xception"))
    assert tta.crop_sizes(lite0) == (224, 256)  # 224 / 0.875: AlexNet's 224 in 256
    assert tta.crop_sizes(xception) == (299, math.floor(299 / 0.8975)) == (299, 333)


def test_the_batched_scores_are_ten_separate_forward_passes(model, cat):
    assert cat.crops.shape == (10, 3, model.recipe.size, model.recipe.size)
    mean = torch.tensor(model.recipe.mean).view(3, 1, 1)
    std = torch.tensor(model.recipe.std).view(3, 1, 1)
    with torch.inference_mode():
        one_by_one = torch.cat([model.net(((c - mean) / std)[None]).float() for c in cat.crops])
    torch.testing.assert_close(cat.logits, one_by_one, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(cat.scores("softmax"), one_by_one.softmax(1).mean(0), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(cat.scores("logit"), one_by_one.mean(0).softmax(0), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(cat.scores("centre"), one_by_one[tta.CENTRE].softmax(0), atol=1e-5, rtol=1e-4)
    best = cat.top("softmax", 5)
    assert [g.index for g in best] == one_by_one.softmax(1).mean(0).argsort(descending=True)[:5].tolist()
    assert [g.name for g in best] == [model.classes[g.index] for g in best]


def test_softmax_and_logit_averages_follow_their_formulas_and_differ():
    z = torch.randn(10, 7, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 3
    zn = z.numpy()
    p = np.exp(zn) / np.exp(zn).sum(1, keepdims=True)
    np.testing.assert_allclose(tta.softmax_average(z).numpy(), p.mean(0), rtol=1e-6)
    mean_logit = np.exp(zn.mean(0)) / np.exp(zn.mean(0)).sum()
    np.testing.assert_allclose(tta.logit_average(z).numpy(), mean_logit, rtol=1e-5)
    geometric = np.exp(np.log(p).mean(0))
    np.testing.assert_allclose(tta.logit_average(z).numpy(), geometric / geometric.sum(), rtol=1e-5)
    assert np.abs(p.mean(0) - mean_logit).max() > 0.01  # not the same average
    # class 0 leads in nine crops and one crop rules it out: each crop moves p̄ by at most a tenth, so class 0
    # keeps the lead there; in the geometric mean that one crop sinks it
    z = torch.tensor([[2.0, 1.0, 0.0]] * 10, dtype=torch.float64)
    z[0, 0] = -20.0
    assert tta.softmax_average(z).argmax() == 0 and tta.logit_average(z).argmax() == 1
    with pytest.raises(MixError, match="softmax or logit"):
        tta.averaged(z, "median")


def test_the_two_averages_differ_on_a_real_photo(cat):
    assert (cat.scores("softmax") - cat.scores("logit")).abs().max() > 1e-3


def test_the_evaluation_counts_equal_a_direct_loop(model, forward_passes):
    # wide and tall photos, and (on EfficientNet-Lite0) some whose top-1 the ten crops change; the page runs
    # the evaluation on every bundled photo (tests/test_app_tta.py)
    labelled = {n: samples()[n] for n in EVALUATED}
    ev = tta.evaluate(model, {n: (mixviz.load_image(s.path), s.imagenet_class) for n, s in labelled.items()})
    assert len(forward_passes) == 1  # every photo's ten crops in one batched pass
    assert [p.name for p in ev.photos] == list(labelled) and ev.n == len(labelled)
    crop, size = tta.crop_sizes(model)
    right = {(how, k): 0 for how in ("centre", "softmax", "logit") for k in (1, 5)}
    for i, (p, (name, s)) in enumerate(zip(ev.photos, labelled.items())):
        z = tta.crop_logits(model, tta.ten_crops(mixviz.load_image(s.path), crop, size))
        truth = model.classes.index(s.imagenet_class)
        assert p.true_index == truth and p.true_class == s.imagenet_class
        torch.testing.assert_close(ev.logits[i], z, atol=2e-4, rtol=1e-4)
        scores = {"centre": z[tta.CENTRE], "softmax": z.softmax(1).mean(0), "logit": z.mean(0)}
        for how, v in scores.items():
            order = v.argsort(descending=True).tolist()
            assert getattr(p, f"{how}_rank") == order.index(truth) + 1, (name, how)
            for k in (1, 5):
                right[how, k] += truth in order[:k]
    assert {key: ev.count(*key) for key in right} == right
    forward_passes.clear()
    again = tta.evaluate(model, {n: (mixviz.load_image(s.path), s.imagenet_class) for n, s in labelled.items()}, batch=10)
    assert len(forward_passes) == len(labelled)  # the page's way: ten crops per pass, the same numbers
    assert again.photos == ev.photos
    torch.testing.assert_close(again.logits, ev.logits, atol=2e-4, rtol=1e-4)


def test_bad_input_is_refused_with_a_message(model):
    with pytest.raises(MixError, match="must fit"):
        tta.ten_crops(torch.rand(3, 20, 20), 32, 24)
    with pytest.raises(MixError, match="not one of"):
        tta.evaluate(model, {"noise": (torch.rand(3, 40, 40), "no such class")})
    with pytest.raises(MixError, match="at least one crop"):
        tta.crop_logits(model, torch.rand(2, 3, 32, 32), batch=0)
    with pytest.raises(MixError, match="no labelled photos"):
        tta.evaluate(model, {})
