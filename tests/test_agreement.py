"""mixviz.agreement: the room's summary and the KL divergences a poll shows, against scipy's own formulas."""
import numpy as np
import pytest
from scipy import stats

from mixviz.agreement import SMOOTHING, divergences, kl, room_summary


def test_kl_is_scipy_entropy_against_the_smoothed_q():
    p, q = np.array([0.6, 0.3, 0.1]), np.array([0.7, 0.3, 0.0])
    smoothed = (1 - SMOOTHING) * q + SMOOTHING / 3
    assert kl(p, q) == pytest.approx(stats.entropy(p, smoothed), rel=1e-12)
    assert kl(p, p, smoothing=0) == pytest.approx(0, abs=1e-15)
    assert np.isfinite(kl([0.2, 0.2, 0.6], [1, 0, 0]))  # a label with nothing on "something else"


def test_kl_normalises_and_refuses_what_is_no_distribution():
    assert kl([2, 1, 1], [1, 1, 2]) == pytest.approx(kl([0.5, 0.25, 0.25], [0.25, 0.25, 0.5]))
    for p, q in (([0.5, 0.5], [0.3, 0.3, 0.4]), ([-0.1, 1.1], [0.5, 0.5]), ([0, 0], [0.5, 0.5])):
        with pytest.raises(ValueError):
            kl(p, q)


def test_divergences_name_their_pairs():
    room, label, net = [0.5, 0.3, 0.2], [0.7, 0.3, 0.0], [0.2, 0.1, 0.7]
    d = divergences(room, label, net)
    assert d == {"room ‖ label": kl(room, label), "room ‖ network": kl(room, net), "label ‖ network": kl(label, net)}


def test_the_room_mean_and_its_interval_are_students_t():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.2, 0.8, 40)
    shares = np.stack([a, (1 - a) * 0.8, (1 - a) * 0.2], 1)
    s = room_summary(shares, 3)
    assert s.count == 40
    np.testing.assert_allclose(s.mean, shares.mean(0))
    for k in range(3):
        lo, hi = stats.t.interval(0.95, 39, loc=shares[:, k].mean(), scale=stats.sem(shares[:, k]))
        assert (s.low[k], s.high[k]) == pytest.approx((max(lo, 0), min(hi, 1)))
    assert s.counts.sum(1).tolist() == [40, 40, 40]
    assert s.counts[0, :2].sum() == 0 and s.counts[0, 2:8].sum() == 40  # a in [0.2, 0.8)


def test_few_answers():
    s = room_summary(np.zeros((0, 3)), 3)
    assert s.count == 0 and np.isnan(s.mean).all() and s.counts.sum() == 0
    one = room_summary([[1.0, 0.0, 0.0]], 3)
    assert one.count == 1 and one.mean.tolist() == [1, 0, 0] and one.low.tolist() == one.high.tolist() == [1, 0, 0]
    assert one.counts[0, -1] == 1  # a share of exactly 1 is in the last bin


def test_over_classes_merges_repeated_classes_and_leaves_the_rest_to_something_else():
    from mixviz.agreement import over_classes

    assert over_classes(["canoe", "airliner"], [0.7, 0.3]) == (("canoe", "airliner"), (0.7, 0.3, 0.0))
    classes, w = over_classes(["canoe", "ox", "canoe", "dog"], [0.1, 0.2, 0.3, 0.4])
    assert classes == ("canoe", "ox", "dog") and w == pytest.approx((0.4, 0.2, 0.4, 0.0))
    assert over_classes(["a", "b"], [0.3, 0.2])[1] == pytest.approx((0.3, 0.2, 0.5))  # SnapMix: less than 1
    assert over_classes(["a", "b"], [1.0, 1.0])[1] == pytest.approx((0.5, 0.5, 0.0))  # a multi-hot union
    with pytest.raises(ValueError):
        over_classes(["a", "b"], [0.5, float("nan")])
