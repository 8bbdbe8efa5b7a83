"""uint8 batches: methods that only copy pixels (Method.copies_pixels) mix them as they are, and every output
pixel and label is what the float batch x / 255 gets from the same generator, rounded; the others refuse
uint8 with a message, and Mixer converts for them."""
import pytest
import torch

import mixviz

COPYING = [m for m, s in mixviz.METHODS.items() if s.impl.copies_pixels]
BLENDING = [m for m, s in mixviz.METHODS.items() if not s.impl.copies_pixels and s.needs == "none"]


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(8, 3, 40, 48, generator=g) * 255).round().to(torch.uint8)


def test_the_pixel_copying_methods_are_the_hard_masks_and_pastes():
    assert {"cutmix", "cutout", "gridmask", "fmix", "ricap", "random_pixels", "vertical_concat"} <= set(COPYING)
    assert not {"mixup", "smoothmix", "resizemix", "snapmix", "splicemix", "puzzlemix", "bc_plus"} & set(COPYING)


@pytest.mark.parametrize("method", COPYING)
@pytest.mark.parametrize("lam", [None, 0.6])
def test_uint8_mixes_as_the_float_batch_rounded(method, lam):
    spec = mixviz.METHODS[method]
    if lam is not None and not spec.uses_lam:
        pytest.skip("no λ")
    x, y = batch(), torch.arange(8) % 4
    maps = torch.rand(8, 40, 48, generator=torch.Generator().manual_seed(1)) if spec.needs != "none" else None
    a, ya = mixviz.mix_batch(method, x, y, num_classes=4, generator=torch.Generator().manual_seed(3), lam=lam, maps=maps)
    b, yb = mixviz.mix_batch(method, x.float() / 255, y, num_classes=4, generator=torch.Generator().manual_seed(3),
                             lam=lam, maps=maps)
    assert a.dtype == torch.uint8
    assert torch.equal(a, (b * 255).round().to(torch.uint8))
    torch.testing.assert_close(ya, yb, rtol=0, atol=0)
    assert not torch.equal(a, x)  # it did mix


@pytest.mark.parametrize("method", BLENDING)
def test_blending_methods_refuse_uint8_with_a_message(method):
    with pytest.raises(mixviz.MixError, match="float"):
        mixviz.mix_batch(method, batch())


def test_the_mixer_takes_uint8_natively_or_through_floats():
    x, y = batch(), torch.arange(8) % 4
    native, yn = mixviz.Mixer("cutmix", num_classes=4, seed=5)(x, y)
    ref, yr = mixviz.mix_batch("cutmix", x, y, num_classes=4, generator=torch.Generator().manual_seed(5))
    assert torch.equal(native, ref) and torch.equal(yn, yr)
    blended, _ = mixviz.Mixer("mixup", num_classes=4, seed=5)(x, y)
    exact, _ = mixviz.mix_batch("mixup", x.float() / 255, y, num_classes=4, generator=torch.Generator().manual_seed(5))
    assert blended.dtype == torch.uint8 and torch.equal(blended, (exact * 255).round().clamp(0, 255).to(torch.uint8))
