"""Summers & Dinneen's concat family against their code (ceciliaresearch/MixedExample, mixed_example.py),
restated here in numpy: where λ is drawn, the row and column intervals are drawn as the reference draws
them (start uniform, end uniform between the start and the last row, source offset independent)."""
import numpy as np
import pytest
import torch
from scipy.stats import ks_2samp

import mixviz


def reference_interval_shares(n: int, draws: int, seed: int = 0) -> np.ndarray:
    """The first image's share (N − length)/N of random_row_interval / random_column_interval: the start
    is uniform in [0, N), the end uniform in [start, N), the source band uniform in [0, N − length)."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, n, draws)
    stop = rng.integers(start, n)
    return (n - (stop - start)) / n


def constant_batch(b: int, h: int, w: int) -> torch.Tensor:
    """Sample i is the constant (i + 1)/(b + 1) in every channel, so each output pixel names its source."""
    return ((torch.arange(b, dtype=torch.float32) + 1) / (b + 1)).view(b, 1, 1, 1).expand(b, 3, h, w).contiguous()


@pytest.mark.parametrize("method, axis", [("random_row_interval", 2), ("random_column_interval", 3)])
def test_drawn_interval_share_follows_the_reference(method, axis):
    n, b = 32, 4000
    shape = (n, 4) if axis == 2 else (4, n)
    x = constant_batch(b, *shape)
    out, _ = mixviz.mix_batch(method, x, generator=torch.Generator().manual_seed(0))
    ours = (out == x).all(1).flatten(1).float().mean(1).numpy()  # pixels still showing the sample itself
    ref = reference_interval_shares(n, b)
    assert ref.mean() == pytest.approx(0.76, abs=0.02)  # the figure: the first image keeps ~76%
    assert ks_2samp(ours, ref).pvalue > 1e-3
    assert abs(ours.mean() - ref.mean()) < 0.02


@pytest.mark.parametrize("method", ["random_row_interval", "random_column_interval"])
def test_fixed_lam_sets_the_band_length(method):
    x = constant_batch(2, 32, 32)
    for lam in (0.0, 0.3, 0.75, 1.0):
        r = mixviz.mix(method, x, lam=lam, seed=1)
        assert float(r.weights[0]) == pytest.approx((32 - round((1 - lam) * 32)) / 32)


@pytest.mark.parametrize("method", ["random_row_interval", "random_column_interval"])
def test_interval_label_is_the_pixel_share(method):
    x = constant_batch(64, 20, 24)
    y = torch.arange(64)
    out, ys = mixviz.mix_batch(method, x, y, num_classes=64, generator=torch.Generator().manual_seed(3))
    own = (out == x).all(1).flatten(1).double().mean(1)
    assert torch.allclose(ys[torch.arange(64), y].double(), own, atol=1e-6)


def test_interval_methods_say_their_draw_uses_no_alpha():
    for name in ("random_row_interval", "random_column_interval"):
        spec = mixviz.METHODS[name]
        assert spec.alpha is None and "uniform" in spec.lam_draw
