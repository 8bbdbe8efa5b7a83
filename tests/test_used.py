"""r.used (where each input's own pixels were used) against what the method's pixels actually depend on.

Given its drawn parameters, every method is affine in each input, so input k's pixel q is used exactly
when changing it changes the mix: each is probed with a one-hot image (one sample per pixel, the same
parameters for every sample) against the mix of all-zero inputs."""
import math

import pytest
import torch

import mixviz
from mixviz.engine import resolve_params, run
from mixviz.sampling import DrawContext, make_generator

RESIZING = {"snapmix", "resizemix", "splicemix"}  # bilinear resizing skips some pixels of a shrunk input
H, W = 16, 20


def drawn(method: str, x: torch.Tensor, seed: int, lam, maps, **params):
    """The method and the call (its draws and plan) that `mixviz.mix` makes for these arguments."""
    spec = mixviz.METHODS[method]
    values = resolve_params(spec, params)
    alpha = spec.alpha or 1.0
    ctx = DrawContext(1, 3, H, W, torch.device("cpu"), torch.float32, make_generator(seed), lam, alpha)
    sources = [slice(i, i + 1) for i in range(spec.n_inputs)]
    c, _, _ = run(spec.impl, ctx, values, x, torch.empty(1, 3, H, W), lambda c: (sources, [(slice(0, 1), sources)]), maps)
    return spec.impl, c


def probed(impl, c, k: int, n_inputs: int) -> torch.Tensor:
    """(H, W) bool: the pixels of input k whose value reaches the mix."""
    n = H * W
    zeros = torch.zeros(n, dtype=torch.long)
    xs = [torch.zeros(n, 3, H, W) for _ in range(n_inputs)]
    xs[k] = torch.eye(n).view(n, 1, H, W).expand(n, 3, H, W).contiguous()
    out, base = torch.empty(n, 3, H, W), torch.empty(n, 3, H, W)
    impl.apply(c.take(zeros, xs), out)
    impl.apply(c.take(zeros, [torch.zeros(n, 3, H, W) for _ in range(n_inputs)]), base)
    return ((out - base).abs().flatten(1).sum(1) > 0).view(H, W)


def bbox(m: torch.Tensor):
    rows, cols = m.any(1).nonzero()[:, 0], m.any(0).nonzero()[:, 0]
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


@pytest.mark.parametrize("method", sorted(mixviz.METHODS))
def test_used_is_where_the_mix_takes_each_inputs_pixels(method):
    spec = mixviz.METHODS[method]
    k = spec.n_inputs
    g = torch.Generator().manual_seed(1)
    x = torch.rand(k, 3, H, W, generator=g)
    maps = torch.rand(k, H, W, generator=g) if spec.needs != "none" else None
    for seed in range(4):
        lam = 0.6 if spec.uses_lam and seed % 2 else None
        r = mixviz.mix(method, x, seed=seed, lam=lam, maps=maps)
        impl, c = drawn(method, x, seed, lam, maps)
        assert r.used.shape == (k, H, W)
        for j in range(k):
            used, reached = r.used[j] > 0, probed(impl, c, j, k)
            if method not in RESIZING:
                assert torch.equal(used, reached), f"input {j + 1}, seed {seed}"
                continue
            assert not (reached & ~used).any()  # nothing shown dark was used
            if used.any():
                assert reached.any()
                (t, b, l, rt), (pt, pb, pl, pr) = bbox(used), bbox(reached)
                dest = r.masks[j] > 0
                tol_y = math.ceil(int(used.any(1).sum()) / max(1, int(dest.any(1).sum()))) + 1
                tol_x = math.ceil(int(used.any(0).sum()) / max(1, int(dest.any(0).sum()))) + 1
                assert pt - t <= tol_y and b - pb <= tol_y and pl - l <= tol_x and rt - pr <= tol_x


def test_used_differs_from_the_mask_where_pixels_move():
    """The lecture's example: SnapMix's patch is taken from its own box of the second image."""
    x = torch.rand(2, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    maps = torch.rand(2, 40, 48, generator=torch.Generator().manual_seed(1))
    r = mixviz.mix("snapmix", x, seed=0, maps=maps)
    i = r.info
    taken = torch.zeros(40, 48)
    taken[i["y1_src"]:i["y2_src"], i["x1_src"]:i["x2_src"]] = 1
    assert torch.equal(r.used[1], taken)
    assert not torch.equal(r.used[1], r.masks[1])


def test_puzzlemix_used_follows_the_transported_blocks():
    x = torch.rand(2, 3, H, W, generator=torch.Generator().manual_seed(5))
    maps = torch.stack([torch.full((H, W), 0.001), torch.full((H, W), 0.05)])
    maps[:, 4:8, 5:10] = 1.0  # both objects in block (1, 1): only one can show there, so B's moves
    maps[0, 4:8, 5:10] = 2.0
    r = mixviz.mix("puzzlemix", x, lam=0.5, maps=maps, blocks=4, n_labels=2, seed=0)
    assert r.info["moved"][1] >= 1 and not torch.equal(r.used, r.masks)
    impl, c = drawn("puzzlemix", x, 0, 0.5, maps, blocks=4, n_labels=2)
    for j in (0, 1):
        assert torch.equal(r.used[j] > 0, probed(impl, c, j, 2))
