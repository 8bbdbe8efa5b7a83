"""mixviz.memorise by value: the label corruption (exact share, uniform labels), the training loop (deterministic per
seed, mixup as the paper's batch lerp, α → 0 trains like ERM), the metrics of Table 2 recomputed from the trained
models, the input gradients of Figure 2 against autograd point by point, and the figures' data."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

import mixviz
from mixviz import memorise as mm
from mixviz.types import MixError
from mixviz.viz.theory import between_figure, memorise_figure

TINY = mm.Config(hidden=32, epochs=4, batch=64, n_train=300, eval_every=2)  # 5 steps an epoch: ~0.3 s a training


@pytest.fixture(scope="module")
def trained():
    """ERM and mixup at 20 % corruption, two seeds, the tiny setting; and the same at 0 %."""
    return mm.train(0.2, 8.0, (0, 1), TINY), mm.train(0.0, 1.0, (0, 1), TINY)


# ---------------------------------------------------------------- corruption

@pytest.mark.parametrize("share", (0.0, 0.2, 1 / 3, 0.5, 1.0))
@pytest.mark.parametrize("mode", mm.MODES)
def test_the_corrupted_share_is_exactly_the_one_asked(share, mode):
    labels = np.arange(1198) % 10
    new, mask = mm.corrupt_labels(labels, share, seed=3, mode=mode)
    assert mask.sum() == round(share * len(labels))                 # the count, exactly
    np.testing.assert_array_equal(new[~mask], labels[~mask])        # the rest untouched
    assert new.min() >= 0 and new.max() < 10
    if mode == "others":
        assert (new[mask] != labels[mask]).all()                    # every replaced label is wrong
    again, mask2 = mm.corrupt_labels(labels, share, seed=3, mode=mode)
    np.testing.assert_array_equal(again, new)
    np.testing.assert_array_equal(mask2, mask)
    if 0 < share < 1:
        assert not np.array_equal(mm.corrupt_labels(labels, share, seed=4, mode=mode)[1], mask)


def test_replaced_labels_are_uniform_over_all_classes_as_the_papers():
    labels = np.arange(30_000) % 10
    new, mask = mm.corrupt_labels(labels, 0.5, seed=0, mode="all")
    counts = np.bincount(new[mask], minlength=10)
    assert stats.chisquare(counts).pvalue > 1e-3                     # uniform over the ten classes ...
    kept = np.mean(new[mask] == labels[mask])
    assert kept == pytest.approx(0.1, abs=0.01)                      # ... so one in ten keeps its class
    shift = (new[mask] - labels[mask]) % 10
    others = (mm.corrupt_labels(labels, 0.5, seed=0, mode="others")[0][mask] - labels[mask]) % 10
    assert stats.chisquare(np.bincount(others, minlength=10)[1:]).pvalue > 1e-3  # "others": uniform over nine
    assert np.bincount(shift, minlength=10)[0] > 1000 and np.bincount(others, minlength=10)[0] == 0


def test_the_trained_labels_are_the_corruption_of_the_digits(trained):
    r, clean = trained
    y = mm.digits().y_train[:TINY.n_train]
    for s, seed in enumerate(r.seeds):
        labels, mask = mm.corrupt_labels(y, 0.2, seed)
        np.testing.assert_array_equal(r.labels[s], labels)
        np.testing.assert_array_equal(r.corrupted[s], mask)
        assert r.corrupted[s].sum() == round(0.2 * TINY.n_train) == 60
        assert r.kept[s] == np.mean(labels[mask] == y[mask])
    assert not clean.corrupted.any()
    np.testing.assert_array_equal(clean.labels[0], y)


def test_the_digits_split():
    d = mm.digits()
    assert d.x_train.shape == (1198, 64) and d.x_test.shape == (599, 64)
    assert 0 <= d.x_train.min() and d.x_train.max() == 1.0
    assert np.bincount(d.y_test).min() >= 57  # stratified: about 60 of each class


# ---------------------------------------------------------------- training

def test_training_is_deterministic_per_seed(trained):
    r, _ = trained
    again = mm.train(0.2, 8.0, (0, 1), TINY)
    for a, b in zip(r.weights, again.weights):
        np.testing.assert_array_equal(a, b)
    for name in ("test_error", "fit_corrupted", "true_corrupted", "fit_clean", "loss"):
        np.testing.assert_array_equal(getattr(r, name), getattr(again, name))
    alone = mm.train(0.2, 8.0, (1,), TINY)  # a seed's models do not depend on the other seeds trained beside them
    for a, b in zip(r.weights, alone.weights):
        np.testing.assert_array_equal(a[[1, 3]], b)
    other = mm.train(0.2, 8.0, (2,), TINY)
    assert not np.allclose(other.weights[0], alone.weights[0])


def test_erm_and_mixup_start_from_the_same_network(trained):
    r, _ = trained
    start = mm.train(0.2, 8.0, (0, 1), mm.Config(hidden=32, epochs=1, n_train=300, lr=1e-12))
    for w in start.weights:  # a learning rate of 1e-12: the weights are still the initial ones
        np.testing.assert_allclose(w[:2], w[2:], atol=1e-9)
    init = mm.mlp(1, 32)
    np.testing.assert_allclose(start.weights[0][1], init[0].weight.detach().numpy().T, atol=1e-9)
    np.testing.assert_array_equal(r.test_error[:, :, 0], r.test_error[[1, 0], :, 0])  # epoch 0: the same network


def test_mixup_is_the_papers_lerp_and_agrees_with_mixviz():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 6, 64, generator=g)
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (2, 6), generator=g), 10).float()
    lam = torch.tensor([0.3, 0.8])[:, None, None]
    perm = torch.stack([torch.randperm(6, generator=g) for _ in range(2)])
    xm, ym = mm.mixup(x, y, lam, perm)
    for s in range(2):
        np.testing.assert_allclose(xm[s], lam[s] * x[s] + (1 - lam[s]) * x[s][perm[s]], rtol=1e-6)
        np.testing.assert_allclose(ym[s], lam[s] * y[s] + (1 - lam[s]) * y[s][perm[s]], rtol=1e-6)
    # with the roll pairing (partner i − 1), the project's own mixup gives the same batch and label
    roll = (torch.arange(6) - 1) % 6
    labels = y[0].argmax(1)
    xr, yr = mm.mixup(x[:1], y[:1], torch.tensor(0.3)[None, None, None], roll[None])
    ref_x, ref_y = mixviz.mix_batch("mixup", x[0].reshape(6, 1, 8, 8), labels, num_classes=10, lam=0.3)
    np.testing.assert_allclose(xr[0], ref_x.reshape(6, 64), atol=1e-6)
    np.testing.assert_allclose(yr[0], ref_y, atol=1e-6)


def test_mixup_at_alpha_to_zero_trains_like_erm():
    """As α → 0, λ ~ Beta(α, α) is 0 or 1 in float32 but for a share of draws of order α·ln(1/ε) (at α = 1e-8, none
    of 100 000 here), so a mixup batch is its ERM batch (λ = 1) or a permutation of it (λ = 0) with its labels: the
    same mean loss, summed in another order. The weights then differ only by float32 rounding, measured at ~4e-8
    here; 1e-5 allows for that 250 times over, and α = 1 differs by ~0.05."""
    alpha = 1e-8
    u = torch.rand(100_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    lam = mixviz.sampling.beta_quantile(alpha, u).float()
    assert torch.minimum(lam, 1 - lam).max() < 1e-30  # 0 or 1 (or a subnormal: nothing beside x in float32)
    assert 0.45 < (lam > 0.5).float().mean() < 0.55
    near = mm.train(0.2, alpha, (0, 1), TINY)
    far = mm.train(0.2, 1.0, (0, 1), TINY)
    for w in near.weights:
        np.testing.assert_allclose(w[2:], w[:2], atol=1e-5)
    assert max(np.abs(w[2:] - w[:2]).max() for w in far.weights) > 1e-2  # the check can fail
    for name in ("test_error", "fit_corrupted", "fit_clean"):
        np.testing.assert_allclose(getattr(near, name)[1], getattr(near, name)[0], atol=1 / 599)
    np.testing.assert_allclose(near.loss[1], near.loss[0], rtol=1e-4)


# ---------------------------------------------------------------- metrics (Table 2)

def test_metrics_follow_their_definitions(trained):
    r, clean = trained
    d = mm.digits()
    y_true = d.y_train[:TINY.n_train]
    assert r.epochs.tolist() == [0, 2, 4]
    for a in (r.test_error, r.fit_corrupted, r.true_corrupted, r.fit_clean):
        assert a.shape == (2, 2, 3)
    assert r.loss.shape == (2, 2, TINY.epochs)
    for k in range(2):
        for s in range(2):
            net = r.model(k, s)
            with torch.no_grad():
                pred = net(torch.tensor(d.x_train[:TINY.n_train])).argmax(1).numpy()
                pred_test = net(torch.tensor(d.x_test)).argmax(1).numpy()
            c = r.corrupted[s]
            # training accuracy on the corrupted labels: corrupted examples predicted as their corrupted label
            assert r.fit_corrupted[k, s, -1] == pytest.approx(np.mean(pred[c] == r.labels[s][c]), abs=1e-12)
            assert r.true_corrupted[k, s, -1] == pytest.approx(np.mean(pred[c] == y_true[c]), abs=1e-12)
            assert r.fit_clean[k, s, -1] == pytest.approx(np.mean(pred[~c] == y_true[~c]), abs=1e-12)
            assert r.test_error[k, s, -1] == pytest.approx(np.mean(pred_test != d.y_test), abs=1e-6)
    assert np.isnan(clean.fit_corrupted).all() and np.isnan(clean.kept).all()
    assert np.isfinite(clean.fit_clean).all()


def test_table2_rows(trained):
    r, clean = trained
    rows = mm.table2(r)
    assert [row.method for row in rows] == ["ERM", "mixup (α = 8)"]
    for k, row in enumerate(rows):
        best = 100 * r.test_error[k].min(-1)
        assert row.best == pytest.approx((best.mean(), best.std()))
        assert row.last[0] == pytest.approx(100 * r.test_error[k, :, -1].mean())
        assert row.real[0] == pytest.approx(100 * (1 - r.fit_clean[k, :, -1]).mean())
        assert row.corrupted[0] == pytest.approx(100 * (1 - r.fit_corrupted[k, :, -1]).mean())
    assert all(math.isnan(row.corrupted[0]) for row in mm.table2(clean))


def test_table2_alpha_is_the_papers():
    assert [mm.table2_alpha(c) for c in mm.CORRUPTIONS] == [1.0, 8.0, 32.0]
    assert mm.table2_alpha(0.8) == 32.0


# ---------------------------------------------------------------- Figure 2: gradients between training points

def test_input_gradients_equal_autograd_point_by_point(trained):
    r, _ = trained
    d = mm.digits()
    net = r.model("mixup", 1)
    i, j = mm.pairs(TINY.n_train, 5, seed=7)
    lams = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    y = r.labels[1]
    grad, pred = mm.input_gradients(net, d.x_train[i], d.x_train[j], y[i], y[j], lams)
    assert grad.shape == (5, 5, 64) and pred.shape == (5, 5)
    for p in range(5):
        for q, lam in enumerate(lams):
            x = torch.tensor(lam * d.x_train[i[p]] + (1 - lam) * d.x_train[j[p]], dtype=torch.float32, requires_grad=True)
            target = torch.zeros(10)
            target[y[i[p]]] += lam
            target[y[j[p]]] += 1 - lam
            loss = torch.nn.functional.cross_entropy(net(x[None]), target[None])  # torch's, with probabilities
            (g,) = torch.autograd.grad(loss, x)
            np.testing.assert_allclose(grad[p, q], g, rtol=1e-4, atol=1e-6)
            # and the chain rule by hand: J(x)ᵀ (softmax(f(x)) − ỹ)
            jac = torch.autograd.functional.jacobian(lambda v: net(v[None])[0], x.detach())
            by_hand = jac.T @ (torch.softmax(net(x[None])[0], 0) - target)
            np.testing.assert_allclose(grad[p, q], by_hand.detach(), rtol=1e-4, atol=1e-6)
            assert pred[p, q] == net(x[None]).argmax()


def test_between_averages_the_norms_and_counts_misses(trained):
    r, _ = trained
    b = mm.between(r, n_pairs=40, n_lams=5)
    assert b.lams.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert b.grad_norm.shape == b.miss.shape == (2, 2, 5)
    d = mm.digits()
    for s, seed in enumerate(r.seeds):
        i, j = mm.pairs(TINY.n_train, 40, seed)
        assert (i != j).all()
        y = r.labels[s]
        for k in range(2):
            grad, pred = mm.input_gradients(r.model(k, s), d.x_train[i], d.x_train[j], y[i], y[j], b.lams)
            np.testing.assert_allclose(b.grad_norm[k, s], np.linalg.norm(grad.numpy(), axis=-1).mean(0), rtol=1e-6)
            miss = [np.mean([pred[p, q] not in (y[i[p]], y[j[p]]) for p in range(40)]) for q in range(5)]
            np.testing.assert_allclose(b.miss[k, s], miss)


# ---------------------------------------------------------------- figures and bad input

def test_the_figures_draw_the_measured_numbers(trained):
    r, clean = trained
    fig = memorise_figure([clean, r])
    lines = [t for t in fig.data if t.name == "ERM" or t.name == "mixup"]
    assert len(lines) == 4  # test error, ERM and mixup, in each column
    np.testing.assert_allclose(lines[2].y, 100 * r.test_error[0].mean(0))
    np.testing.assert_allclose(lines[2].x, r.epochs)
    fits = [t for t in fig.data if t.name == "ERM: corrupted examples"]
    assert len(fits) == 1  # none at 0 %
    np.testing.assert_allclose(fits[0].y, 100 * r.fit_corrupted[0].mean(0))
    k = list(fig.data).index(fits[0])
    np.testing.assert_allclose(fig.data[k - 2].y, 100 * r.fit_corrupted[0].max(0))  # the band: max, then min
    np.testing.assert_allclose(fig.data[k - 1].y, 100 * r.fit_corrupted[0].min(0))
    b = mm.between(r, n_pairs=20, n_lams=3)
    fig = between_figure(b)
    norms = [t for t in fig.data if t.xaxis == "x2" and t.mode == "lines" and t.line.width == 2.5]
    np.testing.assert_allclose(norms[1].y, b.grad_norm[1].mean(0))
    np.testing.assert_allclose(norms[1].x, b.lams)


def test_bad_input_gets_a_clear_message():
    with pytest.raises(MixError, match="share"):
        mm.corrupt_labels([0, 1, 2], 1.5)
    with pytest.raises(MixError, match="mode"):
        mm.corrupt_labels([0, 1, 2], 0.5, mode="some")
    with pytest.raises(MixError, match="α"):
        mm.train(0.2, 0.0, config=TINY)
    with pytest.raises(MixError, match="seeds"):
        mm.train(0.2, 1.0, seeds=(), config=TINY)
    with pytest.raises(MixError, match="epochs"):
        mm.train(0.2, 1.0, config=mm.Config(epochs=0))
    with pytest.raises(MixError, match="pair"):
        mm.pairs(1, 3)
