"""CutMix against its authors' code (clovaai/CutMix-PyTorch, train.py: rand_bbox and the λ adjusted to
the pixel ratio), restated here: the same λ and centre give the same box and the same corrected λ."""
import numpy as np
import pytest
import torch

import mixviz


def reference_box(lam: float, cy: int, cx: int, h: int, w: int):
    """rand_bbox: cut_rat = √(1 − λ), sides int(H·cut_rat) × int(W·cut_rat), clipped around the centre;
    then λ = 1 − area / (W·H)."""
    cut = np.sqrt(1.0 - lam)
    ch, cw = int(h * cut), int(w * cut)
    y1, y2 = np.clip(cy - ch // 2, 0, h), np.clip(cy + ch // 2, 0, h)
    x1, x2 = np.clip(cx - cw // 2, 0, w), np.clip(cx + cw // 2, 0, w)
    return (int(y1), int(y2), int(x1), int(x2)), 1 - (y2 - y1) * (x2 - x1) / (w * h)


@pytest.mark.parametrize("h, w", [(32, 32), (37, 53), (224, 160)])
def test_box_and_corrected_lam_match_the_reference(h, w):
    x = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(0))
    for seed in range(200):
        r = mixviz.mix("cutmix", x, seed=seed)
        i = r.info
        cy, cx = (i["y1_raw"] + i["y2_raw"]) // 2, (i["x1_raw"] + i["x2_raw"]) // 2
        box, lam = reference_box(r.lam, cy, cx, h, w)
        assert (i["y1"], i["y2"], i["x1"], i["x2"]) == box
        assert r.lam_corrected == pytest.approx(lam, abs=1e-12)
        assert float(r.weights[0]) == pytest.approx(lam, abs=1e-12)
