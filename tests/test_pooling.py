"""Pooling illustrations, checked on the lecture's example and against the definitions."""
import numpy as np
import pytest
import torch

import mixviz
from mixviz.maps.pooling import global_pool, pool2d

SEED = [[7, 9, 10, 4], [9, 10, 3, 9], [6, 2, 0, 3], [2, 0, 0, 1]]


def test_lecture_example_exactly():
    assert pool2d(SEED, "max").output.tolist() == [[10, 10], [6, 3]]
    assert pool2d(SEED, "avg").output.tolist() == [[8.75, 6.5], [2.5, 1]]


def test_windows_cover_the_input_and_name_the_winner():
    p = pool2d(SEED, "max")
    assert [(w.top, w.bottom, w.left, w.right) for w in p.windows] == [(0, 2, 0, 2), (0, 2, 2, 4), (2, 4, 0, 2),
                                                                       (2, 4, 2, 4)]
    m = np.array(SEED)
    for w in p.windows:
        assert m[w.argmax] == p.output[w.row, w.col] == m[w.top:w.bottom, w.left:w.right].max()


def test_overlapping_windows_match_the_definition():
    m = np.random.default_rng(0).integers(0, 20, (5, 6))
    p = pool2d(m, "avg", size=3, stride=1)
    assert p.output.shape == (3, 4)
    for w in p.windows:
        assert p.output[w.row, w.col] == pytest.approx(m[w.top:w.bottom, w.left:w.right].mean())


@pytest.mark.parametrize("args", [([[1, 2]], "max", 3, 1), ([[1]], "median", 1, 1), ([], "max", 1, 1),
                                  ([[1, 2], [3, 4]], "max", 0, 1)])
def test_bad_input_is_explained(args):
    with pytest.raises(mixviz.MixError):
        pool2d(*args)


def test_global_pooling():
    f = torch.arange(24.0).view(2, 3, 4)
    g = global_pool(f)
    torch.testing.assert_close(g.average, torch.tensor([5.5, 17.5]))
    torch.testing.assert_close(g.maximum, torch.tensor([11.0, 23.0]))
