"""Cutout (uoguelph-mlrg/Cutout) and GridMask (akuxcw/GridMask) against their authors' code, restated:
both mask the ImageNet-normalised tensor, so a removed pixel becomes the mean colour once the tensor is
mapped back; GridMask's kept lines are ⌈d·r⌉ pixels wide (imagenet_grid/utils/grid.py)."""
import math

import pytest
import torch

import mixviz

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def reference_fill(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """The reference: normalise, multiply by the mask, and (to look at it) undo the normalisation."""
    return ((x - MEAN) / STD * keep) * STD + MEAN


@pytest.mark.parametrize("method", ["cutout", "gridmask"])
def test_removed_pixels_are_the_imagenet_mean_colour(method):
    x = torch.rand(1, 3, 48, 40, generator=torch.Generator().manual_seed(0))
    for seed in range(5):
        r = mixviz.mix(method, x, seed=seed)
        keep = r.masks[0]
        assert (keep == 0).any() and (keep == 1).any()
        assert torch.allclose(r.image, reference_fill(x[0], keep), atol=1e-6)


@pytest.mark.parametrize("method", ["cutout", "gridmask"])
def test_black_and_grey_fills_stay_available(method):
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    black = mixviz.mix(method, x, seed=2, fill="black")
    grey = mixviz.mix(method, x, seed=2, fill="grey", grey=0.25)
    hole = black.masks[0] == 0
    assert hole.any()
    assert (black.image[:, hole] == 0).all()
    assert torch.allclose(grey.image[:, hole], torch.full_like(grey.image[:, hole], 0.25))


def test_fill_default_is_said_in_the_summary():
    for name in ("cutout", "gridmask"):
        assert "mean colour" in mixviz.METHODS[name].summary


def test_gridmask_line_width_is_the_ceiling_of_d_times_r():
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    checked = 0
    for ratio in (0.6, 0.5, 0.3):
        for seed in range(60):
            info = mixviz.mix("gridmask", x, seed=seed, ratio=ratio).info
            assert info["l"] == math.ceil(info["d"] * ratio)
            checked += 1
    assert checked == 180
