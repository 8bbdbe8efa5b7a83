"""Puzzle Mix checked by value: the graph cut minimises the paper's energy, transport is the optimal
assignment, the image follows the mask and the moved blocks, and the label is the mask's mean."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import mixviz
from mixviz.methods.puzzle import move_blocks, transport


def energies(z, s_a, s_b, img_a, img_b, lam, beta, gamma, eta):
    """The binary Puzzle Mix energy of masks z (N, 4, 4) (z = 1 shows A), written out from the paper on
    an 8×8 image with 4×4 blocks of 2×2 pixels: the hidden saliency, β'·Σ_borders [(z_i − z_j)² + γ·seam],
    where a seam is the mean colour difference across the border between the sources shown on each
    side, and −η/G²·Σ log prior."""
    g, b = 4, beta / (16 * 4)
    imgs = {1: img_a.double().numpy(), 0: img_b.double().numpy()}
    seam_v = {(u, d): np.array([[np.abs(imgs[u][:, 2 * r + 1, 2 * c:2 * c + 2] - imgs[d][:, 2 * r + 2, 2 * c:2 * c + 2]).mean()
                                 for c in range(g)] for r in range(g - 1)]) for u in (0, 1) for d in (0, 1)}
    seam_h = {(u, d): np.array([[np.abs(imgs[u][:, 2 * r:2 * r + 2, 2 * c + 1] - imgs[d][:, 2 * r:2 * r + 2, 2 * c + 2]).mean()
                                 for c in range(g - 1)] for r in range(g)]) for u in (0, 1) for d in (0, 1)}

    def borders(one, two, seam):
        picked = sum(seam[u, d] * (one if u else 1 - one) * (two if d else 1 - two) for u in (0, 1) for d in (0, 1))
        return ((one - two) ** 2 + gamma * picked).sum((1, 2))

    e = (z * s_b.numpy() + (1 - z) * s_a.numpy()).sum((1, 2))
    e = e - eta / g**2 * np.log(np.where(z == 1, lam, 1 - lam) + 1e-8).sum((1, 2))
    return e + b * (borders(z[:, :-1, :], z[:, 1:, :], seam_v) + borders(z[:, :, :-1], z[:, :, 1:], seam_h))


@pytest.mark.parametrize("seed,lam,beta,gamma,peaky", [(0, 0.5, 1.2, 0.5, 4), (1, 0.3, 1.2, 0.5, 4),
                                                        (2, 0.8, 1.2, 0.5, 4), (3, 0.5, 1.2, 1.0, 0.3),
                                                        (1, 0.5, 1.2, 1.0, 0.3), (4, 0.5, 0.6, 1.0, 0.3),
                                                        (5, 0.6, 3.0, 1.0, 0.05)])
def test_the_binary_cut_is_the_minimum_of_the_papers_energy(images, seed, lam, beta, gamma, peaky):
    """Peaky saliency lets blocks disagree; flat saliency and black-and-white pixels let the seams decide."""
    x = (images(2, 8, 8, seed=seed) > 0.5).float()
    g = torch.Generator().manual_seed(seed)
    maps = torch.rand(2, 8, 8, generator=g) ** peaky
    eta = 0.2
    r = mixviz.mix("puzzlemix", x, lam=lam, maps=maps, blocks=4, n_labels=2, beta=beta, gamma=gamma, eta=eta,
                   transport=False, device="cpu")
    s = F.avg_pool2d(maps[:, None], 2)[:, 0].double()
    s_a, s_b = (s[j] / s[j].sum() for j in (0, 1))
    z = r.info["block_mask"].numpy()
    assert set(np.unique(z)) <= {0.0, 1.0}
    every = ((np.arange(2**16)[:, None] >> np.arange(16)) & 1).reshape(-1, 4, 4).astype(float)
    best = energies(every, s_a, s_b, x[0], x[1], lam, beta, gamma, eta).min()
    assert energies(z[None], s_a, s_b, x[0], x[1], lam, beta, gamma, eta)[0] == pytest.approx(best, abs=2e-4)
    flipped = energies(np.abs(z[None] - np.eye(16)[:, None].reshape(16, 4, 4)), s_a, s_b, x[0], x[1], lam, beta,
                       gamma, eta)
    assert flipped.min() > best - 2e-4  # and the check is not flat: flipping a block costs


def test_uniform_saliency_without_smoothness_gives_the_priors_mode(images):
    x = images(2, 32, 32)
    flat = torch.ones(2, 32, 32)
    for lam, mode in ((0.9, 1.0), (0.5, 0.5), (0.1, 0.0), (0.6, 0.5)):  # Binomial(2, λ): λ², 2λ(1−λ), (1−λ)²
        r = mixviz.mix("puzzlemix", x, lam=lam, maps=flat, blocks=8, beta=0.0, transport=False, device="cpu")
        assert torch.all(r.info["block_mask"] == mode), lam


def test_each_image_keeps_its_salient_block_and_the_label_is_the_mask_mean(images):
    x = images(2, 64, 64, seed=4)
    maps = torch.full((2, 64, 64), 0.01)
    maps[0, 0:16, 0:16] = 1.0  # A's object in the top-left block of a 4×4 grid
    maps[1, 48:64, 32:48] = 1.0  # B's in the bottom row
    r = mixviz.mix("puzzlemix", x, lam=0.5, maps=maps, blocks=4, transport=False, device="cpu")
    z = r.info["block_mask"]
    assert z[0, 0] == 1 and z[3, 2] == 0
    share = z.repeat_interleave(16, 0).repeat_interleave(16, 1).float()
    torch.testing.assert_close(r.masks, torch.stack([share, 1 - share]))
    torch.testing.assert_close(r.image, share * x[0] + (1 - share) * x[1])
    assert float(r.weights[0]) == pytest.approx(float(z.double().mean())) == pytest.approx(r.info["lam_corrected"])
    assert float(r.weights.sum()) == pytest.approx(1.0)
    assert r.lam == pytest.approx(0.5)


def test_transport_is_the_optimal_assignment():
    rng = np.random.default_rng(0)
    for _ in range(20):
        shown = rng.random((2, 2)) < 0.5
        sal = rng.random((2, 2)) ** 3
        eps = float(rng.uniform(0, 1))
        source = transport(shown, sal, eps)
        yy, xx = np.divmod(np.arange(4), 2)

        def cost(src):  # block src[j] lands on position j
            return sum(eps * ((yy[i] - yy[j]) ** 2 + (xx[i] - xx[j]) ** 2) - sal.flat[i] * shown.flat[j]
                       for j, i in enumerate(src))
        assert sorted(source) == [0, 1, 2, 3]
        assert cost(source) == pytest.approx(min(cost(p) for p in itertools.permutations(range(4))))


def test_move_blocks_moves_whole_blocks_also_when_they_differ_by_a_pixel():
    x = torch.arange(2 * 7 * 9, dtype=torch.float32).view(1, 2, 7, 9)  # blocks: rows 0–3 | 4–6, cols 0–4 | 5–8
    moved = move_blocks(x, torch.tensor([[3, 1, 2, 0]]), 2)  # swap the top-left and bottom-right blocks
    torch.testing.assert_close(moved[..., 4:7, 5:9], x[..., 0:3, 0:4])
    torch.testing.assert_close(moved[..., 0:3, 0:4], x[..., 4:7, 5:9])
    torch.testing.assert_close(moved[..., 3, 0:4], x[..., 6, 5:9])  # the 4-row block repeats the 3-row one's last row
    torch.testing.assert_close(moved[..., 0:4, 4], moved[..., 0:4, 3])  # and its last column
    torch.testing.assert_close(moved[..., 0:4, 5:9], x[..., 0:4, 5:9])  # unmoved blocks stay


def test_transport_brings_the_hidden_salient_block_where_its_image_shows(images):
    x = images(2, 64, 64, seed=5)
    maps = torch.stack([torch.full((64, 64), 0.001), torch.full((64, 64), 0.05)])  # B has more to show elsewhere
    maps[:, 16:32, 16:32] = 1.0  # both objects in block (1, 1): only one of them can show there
    maps[0, 16:32, 16:32] = 2.0
    r = mixviz.mix("puzzlemix", x, lam=0.5, maps=maps, blocks=4, n_labels=2, device="cpu")
    z = r.info["block_mask"]
    assert z[1, 1] == 1
    src_a, src_b = r.info["source"]
    landed = src_b.index(5)  # where B's block (1, 1) went
    assert z.flatten()[landed] == 0 and r.info["moved"][1] >= 1
    ly, lx = divmod(landed, 4)
    torch.testing.assert_close(r.image[:, 16 * ly:16 * ly + 16, 16 * lx:16 * lx + 16], x[1, :, 16:32, 16:32])
    torch.testing.assert_close(r.image[:, 16:32, 16:32], x[0, :, 16:32, 16:32])


@pytest.mark.parametrize("h,w,blocks", [(1, 1, "random"), (3, 5, 4), (17, 31, 16), (48, 64, "random"), (50, 50, 8)])
def test_any_size_labels_equal_mask_means(images, h, w, blocks):
    x = images(2, h, w, seed=h)
    maps = torch.rand(2, h, w, generator=torch.Generator().manual_seed(w))
    for seed in range(3):
        r = mixviz.mix("puzzlemix", x, seed=seed, maps=maps, blocks=blocks, device="cpu")
        assert r.image.shape == (3, h, w) and 0 <= float(r.image.min()) and float(r.image.max()) <= 1
        torch.testing.assert_close(r.masks.sum(0), torch.ones(h, w))
        torch.testing.assert_close(r.weights.double(), r.masks.double().mean((1, 2)))
        again = mixviz.mix("puzzlemix", x, seed=seed, maps=maps, blocks=blocks, device="cpu")
        assert torch.equal(again.image, r.image)


def test_batch_labels_are_each_samples_pixel_shares(images):
    x = images(4, 32, 32, seed=6)
    maps = torch.rand(4, 32, 32, generator=torch.Generator().manual_seed(6)) ** 3
    xm, ym = mixviz.mix_batch("puzzlemix", x, torch.arange(4), num_classes=4, maps=maps, transport=False,
                              generator=torch.Generator().manual_seed(0))
    for i in range(4):
        a, b = x[i], x[(i - 1) % 4]
        own = (xm[i] == a).all(0).double()
        half = torch.isclose(xm[i], (a + b) / 2, atol=1e-6).all(0).double()
        partner = (xm[i] == b).all(0).double()
        torch.testing.assert_close(own + half + partner, torch.ones(32, 32, dtype=torch.float64))
        assert float(ym[i, i]) == pytest.approx(float((own + half / 2).mean()), abs=1e-6)
        assert float(ym[i].sum()) == pytest.approx(1.0)


def test_default_saliency_is_the_models_loss_gradient(images):
    from mixviz.maps.saliency import gradient_saliency

    x = images(2, 60, 80, seed=7)
    r = mixviz.mix("puzzlemix", x, seed=0, device="cpu")
    model = mixviz.load_model()
    for j in range(2):
        torch.testing.assert_close(r.info["saliency"][j], gradient_saliency(model, x[j], kind="puzzlemix").high)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_the_gpu_gives_the_cpu_mix(images):
    """With λ and the block count fixed nothing is random, so both devices must make the same cut."""
    x = images(4, 64, 48, seed=8)
    maps = torch.rand(4, 64, 48, generator=torch.Generator().manual_seed(8)) ** 3
    cpu = mixviz.mix_batch("puzzlemix", x, torch.arange(4), num_classes=4, maps=maps, blocks=8, lam=0.4)
    gpu = mixviz.mix_batch("puzzlemix", x.cuda(), torch.arange(4).cuda(), num_classes=4, maps=maps.cuda(), blocks=8,
                           lam=0.4)
    assert gpu[0].device.type == "cuda"
    torch.testing.assert_close(gpu[1].cpu(), cpu[1])
    torch.testing.assert_close(gpu[0].cpu(), cpu[0])
