"""mixviz.theory by value: Beta(α, α) density and samples, label-smoothing bars, the toy figure."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from mixviz import theory
from mixviz.viz.theory import beta_figure, smoothing_figure, toy_figure
from mixviz.types import MixError

ALPHAS = (0.1, 0.4, 1.0, 2.0, 10.0)
TOY_STEPS = 300


def closed_form(alpha, x):
    log_b = 2 * math.lgamma(alpha) - math.lgamma(2 * alpha)
    return np.exp((alpha - 1) * (np.log(x) + np.log1p(-x)) - log_b)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_density_is_scipys_and_the_closed_form(alpha):
    x = np.linspace(0.001, 0.999, 997)
    pdf = theory.beta_pdf(alpha, x)
    np.testing.assert_allclose(pdf, stats.beta.pdf(x, alpha, alpha), rtol=1e-12)
    np.testing.assert_allclose(pdf, closed_form(alpha, x), rtol=1e-9)
    cx, cy = theory.beta_curve(alpha)
    assert cx[0] > 0 and cx[-1] < 1 and np.isfinite(cy).all()  # no infinities at the ends for the JSON
    np.testing.assert_allclose(cy, stats.beta.pdf(cx, alpha, alpha), rtol=1e-12)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_density_integrates_to_one(alpha):
    # two halves, each with its (integrable, for α < 1) singularity at an end point
    left, _ = integrate.quad(lambda t: theory.beta_pdf(alpha, t), 0, 0.5, limit=200)
    right, _ = integrate.quad(lambda t: theory.beta_pdf(alpha, t), 0.5, 1, limit=200)
    assert left + right == pytest.approx(1, abs=1e-6)
    assert left == pytest.approx(0.5, abs=1e-6)  # symmetric


def test_alpha_one_is_uniform_and_the_shape_follows_alpha():
    x, y = theory.beta_curve(1.0)
    np.testing.assert_allclose(y, 1.0, rtol=1e-12)
    small, big = theory.beta_pdf(0.1, [0.01, 0.5]), theory.beta_pdf(20.0, [0.01, 0.5])
    assert small[0] > small[1]          # α → 0: mass at the ends
    assert big[1] > 4 and big[0] < 1e-20  # large α: mass at ½
    assert theory.beta_edge_mass(1.0) == pytest.approx(0.2)
    assert theory.beta_edge_mass(0.05) > 0.8 > 0.01 > theory.beta_edge_mass(20.0)


@pytest.mark.parametrize("alpha", (0.2, 1.0, 5.0))
def test_samples_follow_beta(alpha):
    s = theory.beta_samples(alpha, 3000, seed=1)
    assert s.shape == (3000,) and s.min() >= 0 and s.max() <= 1
    assert stats.kstest(s, stats.beta(alpha, alpha).cdf).pvalue > 1e-3
    other = 5.0 if alpha < 1 else 0.2  # the test can tell distributions apart
    assert stats.kstest(s, stats.beta(other, other).cdf).pvalue < 1e-6


def test_samples_are_seeded():
    a, b, c = (theory.beta_samples(0.5, 100, seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_alpha_is_refused():
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(MixError):
            theory.beta_pdf(bad, 0.5)
        with pytest.raises(MixError):
            theory.beta_samples(bad, 10)
        with pytest.raises(MixError):
            theory.train_toy(bad, steps=1)


def test_beta_figure_histogram_and_clipped_axis():
    s = theory.beta_samples(0.1, 1000, seed=0)
    fig = beta_figure(0.1, s)
    bars, line = fig.data
    counts, edges = np.histogram(s, bins=theory.BETA_BINS, range=(0, 1), density=True)
    np.testing.assert_allclose(np.asarray(bars.y), counts)
    assert (np.asarray(bars.y) * np.diff(edges)).sum() == pytest.approx(1)
    np.testing.assert_allclose(np.asarray(line.y), theory.beta_pdf(0.1, np.asarray(line.x)))
    top = fig.layout.yaxis.range[1]
    assert top < counts.max()  # the ends are cut for α < 1 ...
    assert "∞" in fig.layout.annotations[0].text and f"{counts.max():.1f}" in fig.layout.annotations[0].text  # ... and said so
    big = beta_figure(20.0)
    assert big.layout.yaxis.range[1] > theory.beta_pdf(20.0, 0.5) and not big.layout.annotations


def test_smoothing_bars_are_the_formula():
    eps, k = 0.1, 10
    bars = theory.smoothing_bars({"cat": 1.0}, eps, k)
    assert bars.names == ["cat", "each of the other 9"] and bars.others == 9
    assert bars.target == [1.0, 0.0]
    assert bars.smoothed == [(1 - eps) * 1.0 + eps / k, eps / k]
    assert bars.smoothed[0] + 9 * bars.smoothed[1] == pytest.approx(1)
    mixed = theory.smoothing_bars({"cat": 0.7, "dog": 0.3}, 0.25, 5)
    assert mixed.smoothed == [0.75 * 0.7 + 0.05, 0.75 * 0.3 + 0.05, 0.05]
    assert theory.smoothing_bars({"cat": 0.7, "dog": 0.3}, 0.0, 2).smoothed == [0.7, 0.3]  # K = n: no "other" bar
    fig = smoothing_figure(mixed, 0.25)
    assert list(fig.data[0].y) == mixed.target and list(fig.data[1].y) == mixed.smoothed
    with pytest.raises(MixError):
        theory.smoothing_bars({"cat": 1.0}, 1.5, 10)
    with pytest.raises(MixError):
        theory.smoothing_bars({"a": 0.5, "b": 0.5}, 0.1, 1)


def test_toy_data_is_seeded_and_balanced():
    p, y = theory.toy_data(0)
    p2, y2 = theory.toy_data(0)
    np.testing.assert_array_equal(p, p2)
    assert p.shape == (theory.TOY_POINTS, 2) and y.sum() == theory.TOY_POINTS // 2
    assert not np.array_equal(p, theory.toy_data(1)[0])


@pytest.fixture(scope="module")
def toys():
    return theory.train_toy(None, seed=0, steps=TOY_STEPS), theory.train_toy(1.0, seed=0, steps=TOY_STEPS)


def test_same_seed_same_toy():
    state = torch.random.get_rng_state()
    threads = torch.get_num_threads()
    a, b = theory.train_toy(1.0, seed=5, steps=40), theory.train_toy(1.0, seed=5, steps=40)
    np.testing.assert_array_equal(a.prob, b.prob)
    assert a.accuracy == b.accuracy and a.final_loss == b.final_loss
    c = theory.train_toy(1.0, seed=6, steps=40)
    assert not np.array_equal(a.prob, c.prob)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is left alone
    assert torch.get_num_threads() == threads


def test_toy_result_shapes_and_progress():
    seen = []
    r = theory.train_toy(None, seed=0, steps=100, progress=seen.append)
    assert r.prob.shape == (theory.TOY_GRID, theory.TOY_GRID) and r.xs.shape == r.ys.shape == (theory.TOY_GRID,)
    assert ((r.prob >= 0) & (r.prob <= 1)).all()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 10
    assert r.title == "ERM" and theory.toy_title(0.5) == "mixup, α = 0.5"


def test_erm_fits_the_training_points(toys):
    erm, mixed = toys
    assert erm.accuracy >= 0.98
    assert mixed.accuracy >= 0.85
    # the grid's p(y=1|x) agrees with the training labels near the points
    ix = np.abs(erm.xs[None, :] - erm.points[:, :1]).argmin(1)
    iy = np.abs(erm.ys[None, :] - erm.points[:, 1:]).argmin(1)
    assert ((erm.prob[iy, ix] > 0.5) == erm.labels).mean() > 0.9


def test_mixup_is_less_confident_than_erm(toys):
    erm, mixed = toys
    assert theory.confidence(mixed) < theory.confidence(erm) - 0.03
    assert theory.confidence(erm) > 0.45  # ERM is sure nearly everywhere
    unsure = lambda r: float(((r.prob > 0.1) & (r.prob < 0.9)).mean())  # noqa: E731
    assert unsure(mixed) > 3 * unsure(erm)


def test_mixup_is_closer_to_linear_between_the_classes(toys):
    """Along the segment between the two class means, mixup's p(y=1|x) is nearer the straight line
    from p at one end to p at the other than ERM's (mixup trains on exactly such segments)."""
    def deviation(r):
        a, b = (r.points[r.labels == c].mean(0) for c in (0, 1))
        t = np.linspace(0, 1, 41)
        seg = a[None] + t[:, None] * (b - a)[None]
        ix = np.abs(r.xs[None, :] - seg[:, :1]).argmin(1)
        iy = np.abs(r.ys[None, :] - seg[:, 1:]).argmin(1)
        p = r.prob[iy, ix]
        return float(np.abs(p - (p[0] + t * (p[-1] - p[0]))).mean())
    erm, mixed = toys
    assert deviation(mixed) < deviation(erm)


def test_toy_figure(toys):
    erm, mixed = toys
    fig = toy_figure(mixed)
    assert fig.layout.title.text == "mixup, α = 1"
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z), mixed.prob)
    scatter = [t for t in fig.data if t.type == "scatter"]
    assert sum(len(t.x) for t in scatter) == theory.TOY_POINTS
    assert toy_figure(erm, colorbar=False).data[0].showscale is False
