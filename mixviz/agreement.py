"""What a room sees in a mix against the label the method gave it and a network's prediction: the comparison of
Human-in-the-Loop Mixup (Collins et al., UAI 2023; its H-Mix data), where 159 people said how much of each class
they saw in mixup images and their answers did not match the labels.

Every distribution here is over the mix's classes plus "something else" (the last slot). An answer is a row of
shares summing to 1; the room's distribution is the mean of its rows."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMOOTHING = 0.01  # KL(p ‖ q) smooths q as (1 − s)·q + s/K: a label puts 0 on "something else", where people may not
BINS = 10         # the histograms' bins over [0, 1]


@dataclass(frozen=True)
class RoomSummary:
    """The room's answers: per slot the mean share and a 95% interval of that mean (Student's t; `low` = `high`
    = the mean for fewer than two answers, where no spread can be told), and the histogram of the shares
    (`counts[k, b]` answers gave slot k a share in bin b of `edges`)."""

    count: int
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    counts: np.ndarray
    edges: np.ndarray


def room_summary(shares: np.ndarray, slots: int, level: float = 0.95) -> RoomSummary:
    """Summarise `shares` (n answers × `slots`), n may be 0."""
    from scipy import stats

    x = np.asarray(shares, dtype=np.float64).reshape(-1, slots)
    n = len(x)
    edges = np.linspace(0.0, 1.0, BINS + 1)
    counts = np.stack([np.histogram(x[:, k], bins=edges)[0] for k in range(slots)]) if n else np.zeros((slots, BINS), int)
    if n == 0:
        empty = np.full(slots, np.nan)
        return RoomSummary(0, empty, empty, empty, counts, edges)
    mean = x.mean(axis=0)
    if n < 2:
        return RoomSummary(n, mean, mean.copy(), mean.copy(), counts, edges)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(axis=0, ddof=1) / np.sqrt(n)
    return RoomSummary(n, mean, np.clip(mean - half, 0.0, 1.0), np.clip(mean + half, 0.0, 1.0), counts, edges)


def kl(p, q, smoothing: float = SMOOTHING) -> float:
    """KL(p ‖ q) in nats, both normalised, q smoothed towards uniform by `smoothing` so that it is finite."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1 or p.min() < 0 or q.min() < 0 or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError(f"KL needs two non-negative distributions of one length, got {p} and {q}")
    p, q = p / p.sum(), q / q.sum()
    q = (1 - smoothing) * q + smoothing / len(q)
    mass = p > 0
    return float((p[mass] * np.log(p[mass] / q[mass])).sum())


def divergences(room, label, prediction, smoothing: float = SMOOTHING) -> dict[str, float]:
    """The three comparisons a poll shows: the room against the label and against the network, the label
    against the network (KL(label ‖ prediction), as the Mixing Lab's "What the network sees" reports it)."""
    return {"room ‖ label": kl(room, label, smoothing), "room ‖ network": kl(room, prediction, smoothing),
            "label ‖ network": kl(label, prediction, smoothing)}


def over_classes(names, weights) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The classes a poll asks about (the inputs' class names, each once, in input order) and a per-input weight
    summed onto them, plus "something else" last: what is left of 1. Weights that sum to more than 1 (SnapMix can,
    a multi-hot SpliceMix label does) are scaled to sum to 1, and nothing is left for "something else"."""
    classes: list[str] = []
    totals: list[float] = []
    for name, w in zip(names, weights):
        w = float(w)
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"a weight must be a finite non-negative number, got {w}")
        if name in classes:
            totals[classes.index(name)] += w
        else:
            classes.append(str(name))
            totals.append(w)
    total = sum(totals)
    scaled = [t / total for t in totals] if total > 1 else totals
    return tuple(classes), tuple(scaled) + (max(0.0, 1.0 - sum(scaled)),)
