"""Between-class learning against its authors' code (mil-tokyo/bc_learning_image: the training set draws a
second image until its label differs from the first's, and r ~ U(0, 1)), restated for a batch: each sample's
partner has another class, drawn uniformly among the samples of other classes."""
import numpy as np
import pytest
import torch
from scipy.stats import chisquare

import mixviz


def constant_batch(b: int) -> torch.Tensor:
    return ((torch.arange(b, dtype=torch.float64) + 1) / (b + 1)).view(b, 1, 1, 1).expand(b, 3, 4, 4).contiguous()


def partners(out: torch.Tensor, x: torch.Tensor, ys: torch.Tensor, y: torch.Tensor) -> list[int]:
    """The partner j of each sample i, from out_i = r·x_i + (1 − r)·x_j with r the label's weight of y_i."""
    found = []
    for i in range(len(x)):
        r = float(ys[i, y[i]])
        value = (out[i, 0, 0, 0] - r * x[i, 0, 0, 0]) / (1 - r)
        found.append(int((x[:, 0, 0, 0] - value).abs().argmin()))
    return found


@pytest.mark.parametrize("method", ["bc", "bc_plus"])
def test_partners_have_another_class(method):
    y = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    x = constant_batch(len(y))
    for seed in range(20):
        _, ys = mixviz.mix_batch(method, x.float(), y, num_classes=4, generator=torch.Generator().manual_seed(seed))
        assert ((ys > 0).sum(1) == 2).all()  # two classes in every target: never a same-class pair
        assert torch.allclose(ys.sum(1), torch.ones(len(y)), atol=1e-6)


def test_partner_is_uniform_among_the_other_classes():
    y = torch.tensor([0, 1, 1, 2, 2, 2])
    x = constant_batch(6)
    counts = np.zeros(6)
    for seed in range(600):
        out, ys = mixviz.mix_batch("bc", x, y, num_classes=3, generator=torch.Generator().manual_seed(seed))
        j = partners(out, x, ys, y)
        assert all(y[k] != y[p] for k, p in enumerate(j))
        counts[j[0]] += 1
    assert counts[0] == 0 and chisquare(counts[1:]).pvalue > 1e-3


def test_a_batch_of_one_class_falls_back_to_the_neighbour():
    y = torch.zeros(5, dtype=torch.long)
    x = constant_batch(5)
    out, ys = mixviz.mix_batch("bc", x, y, num_classes=2, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ys[:, 0], torch.ones(5, dtype=ys.dtype))
    r = mixviz.mix_batch("bc", x, generator=torch.Generator().manual_seed(0))[0]
    assert torch.allclose(out, r)  # as without labels: sample i with x[i − 1]
