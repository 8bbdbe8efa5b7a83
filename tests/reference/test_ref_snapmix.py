"""SnapMix against its authors' code (Shaoli-Huang/SnapMix, utils/mixmethod.py: snapmix), restated here:
ρa = 1 − Σ_box S_a, ρb = Σ_box' S_b; where both images share a class the reference gives both partial
labels ρa + ρb and trains with CE(y_a)·ρ'a + CE(y_b)·ρ'b, so that class carries 2(ρa + ρb). λ and λ₁
are drawn from Beta(β, β), β = 5 in most of the authors' experiments."""
import numpy as np
import pytest
import torch
from scipy.stats import beta as beta_dist
from scipy.stats import kstest

import mixviz


def spm(maps: torch.Tensor) -> torch.Tensor:
    m = maps - maps.flatten(1).amin(1)[:, None, None]
    return m / m.flatten(1).sum(1)[:, None, None]


def reference_rhos(s: torch.Tensor, info: dict) -> tuple[float, float]:
    a = s[0, info["y1"]:info["y2"], info["x1"]:info["x2"]].sum() / s[0].sum()
    b = s[1, info["y1_src"]:info["y2_src"], info["x1_src"]:info["x2_src"]].sum() / s[1].sum()
    return 1 - float(a), float(b)


def inputs(seed: int, h: int = 40, w: int = 48):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, h, w, generator=g), spm(torch.rand(2, h, w, generator=g))


def test_same_class_carries_the_weight_of_the_authors_loss():
    seen = 0
    for seed in range(40):
        x, s = inputs(seed)
        r = mixviz.mix("snapmix", x, labels=["bird", "bird"], seed=seed, maps=s)
        if r.info["y2"] <= r.info["y1"] or r.info["y2_src"] <= r.info["y1_src"]:
            continue  # an empty box: nothing pasted, label kept
        rho_a, rho_b = reference_rhos(s, r.info)
        assert r.label["bird"] == pytest.approx(2 * (rho_a + rho_b), abs=1e-6)
        seen += 1
    assert seen > 30


def test_different_classes_keep_rho_a_and_rho_b():
    x, s = inputs(7)
    r = mixviz.mix("snapmix", x, labels=["bird", "cat"], seed=3, maps=s)
    rho_a, rho_b = reference_rhos(s, r.info)
    assert r.label == pytest.approx({"bird": rho_a, "cat": rho_b}, abs=1e-6)


def test_batch_targets_carry_the_same_class_weight():
    g = torch.Generator().manual_seed(0)
    b, h, w = 6, 32, 32
    x = torch.rand(b, 3, h, w, generator=g)
    maps = spm(torch.rand(b, h, w, generator=g))
    y = torch.tensor([0, 0, 1, 1, 2, 3])  # samples 1 and 3 are mixed with a sample of their own class
    _, ys = mixviz.mix_batch("snapmix", x, y, num_classes=4, generator=torch.Generator().manual_seed(1), maps=maps)
    _, ys_other = mixviz.mix_batch("snapmix", x, torch.arange(6), num_classes=6,
                                   generator=torch.Generator().manual_seed(1), maps=maps)
    for i in (1, 3):  # same draws: the class weight is the sum of the two partial labels, twice
        rho = ys_other[i, i] + ys_other[i, i - 1]
        assert float(ys[i, y[i]]) == pytest.approx(2 * float(rho), abs=1e-6)
        assert float(ys[i].sum()) == pytest.approx(2 * float(rho), abs=1e-6)


def test_default_beta_is_five():
    spec = mixviz.METHODS["snapmix"]
    assert spec.alpha == 5.0
    x, s = inputs(0, 16, 16)
    lams = [mixviz.mix("snapmix", x, seed=seed, maps=s).lam for seed in range(300)]
    assert kstest(lams, beta_dist(5, 5).cdf).pvalue > 1e-3
    assert np.std(lams) < 0.2  # Beta(1, 1) has 0.29, Beta(5, 5) 0.15
