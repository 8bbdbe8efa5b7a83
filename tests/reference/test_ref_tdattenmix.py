"""TdAttenMix against its authors' code (morning12138/TdAttenMix, tdattenmix.py), restated here: the
pasted square is 3 to 10 tokens a side (int(14·0.25) … int(14·0.75), uniform) on a 14×14 token grid,
aligned to the grid; on our image a token is ⌊H/14⌋ × ⌊W/14⌋ pixels."""
import numpy as np
import pytest
import torch
from scipy.stats import chisquare

import mixviz

SIDES = list(range(3, 11))


def constant_batch(b: int, h: int, w: int) -> torch.Tensor:
    return ((torch.arange(b, dtype=torch.float32) + 1) / (b + 1)).view(b, 1, 1, 1).expand(b, 3, h, w).contiguous()


def pasted_boxes(out: torch.Tensor, x: torch.Tensor):
    """(top, left, height, width) of the region of each output that does not show its own sample."""
    for o, s in zip(out, x):
        other = (o != s).any(0)
        rows, cols = other.any(1).nonzero()[:, 0], other.any(0).nonzero()[:, 0]
        yield int(rows[0]), int(cols[0]), len(rows), len(cols)


@pytest.mark.parametrize("h, w", [(56, 56), (84, 70)])
def test_drawn_square_is_3_to_10_tokens_on_the_grid(h, w):
    b = 1600
    x = constant_batch(b, h, w)
    maps = torch.rand(b, h, w, generator=torch.Generator().manual_seed(1))
    out, _ = mixviz.mix_batch("tdattenmix", x, generator=torch.Generator().manual_seed(0), maps=maps)
    th, tw = h // 14, w // 14
    sides = []
    for top, left, height, width in pasted_boxes(out, x):
        assert top % th == 0 and left % tw == 0  # aligned to the token grid
        assert height % th == 0 and height // th == width // tw  # a square of whole tokens
        sides.append(height // th)
    counts = np.bincount(sides, minlength=11)
    assert set(sides) == set(SIDES)
    assert chisquare(counts[3:11]).pvalue > 1e-3  # uniform, as random.choice over the sizes
    area = np.array(sides) ** 2 / 196
    assert area.min() == pytest.approx(9 / 196) and area.max() == pytest.approx(100 / 196)
    assert area.mean() == pytest.approx(np.mean(np.array(SIDES) ** 2) / 196, abs=0.01)  # ≈ 0.24


def test_fixed_lam_sets_the_side_within_the_reference_range():
    x = constant_batch(2, 56, 56)
    maps = torch.rand(2, 56, 56, generator=torch.Generator().manual_seed(2))
    for lam, side in ((0.05, 10), (0.5, 10), (0.75, 7), (0.99, 3), (1.0, 3)):
        r = mixviz.mix("tdattenmix", x, lam=lam, seed=0, maps=maps)
        assert r.info["tokens"] == side
        assert r.info["y2"] - r.info["y1"] == side * 4  # pixels: tokens of 4 px
        assert side == min(10, max(3, round(14 * (1 - lam) ** 0.5)))


def test_source_square_is_the_most_attended_on_the_grid():
    """The square taken from the second image is its most attended s×s window of tokens (stride one token)
    and the square replaced in the first is its least attended one, as the reference's unfold/argmax."""
    h = w = 56
    g = torch.Generator().manual_seed(5)
    x = torch.rand(2, 3, h, w, generator=g)
    maps = torch.rand(2, h, w, generator=g)
    r = mixviz.mix("tdattenmix", x, seed=4, maps=maps)
    s = r.info["tokens"]
    tokens = maps.view(2, 14, 4, 14, 4).sum((2, 4)).double()
    windows = torch.nn.functional.unfold(tokens[:, None], s).sum(1)  # (2, positions)
    n = 14 - s + 1
    lo, hi = int(windows[0].argmin()), int(windows[1].argmax())
    assert (r.info["y1"] // 4, r.info["x1"] // 4) == divmod(lo, n)
    assert (r.info["src_y"] // 4, r.info["src_x"] // 4) == divmod(hi, n)
    total = tokens.sum((1, 2))
    kept = 1 - windows[0, lo] / total[0]
    brought = windows[1, hi] / total[1]
    lam = 0.5 * (1 - s * s / 196) + 0.5 * kept / (kept + brought)
    assert float(r.weights[0]) == pytest.approx(float(lam), abs=1e-9)


def test_summary_names_every_difference_from_the_reference():
    summary = mixviz.METHODS["tdattenmix"].summary
    for words in ("AbSViT", "per sample", "second image's attention"):
        assert words in summary
