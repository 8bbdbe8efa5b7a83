"""mixviz.maps.texture against the lecture's formulas (lecture 4, ../shared/lectures/001) and Gatys et al.'s papers,
each checked by an independent computation: the Gram matrix by einsum and by loops, E_l, the content loss and
α L_content + β L_style by hand on small tensors; then on the real offline network (EfficientNet-Lite0): the
feature layers are the modules they are named after, a patch shuffle leaves the early Gram matrices nearly as they
were, texture synthesis brings its loss down tenfold, and a callback can stop it."""
import math

import pytest
import torch

import mixviz
from mixviz.imaging import load_image, to_tensor
from mixviz.maps import texture
from mixviz.samples import samples


@pytest.fixture(scope="module")
def model():
    return mixviz.load_model("efficientnet_lite0")


def photo(name: str) -> torch.Tensor:
    return to_tensor(load_image(samples()[name].path))


# ---------------------------------------------------------------- the formulas, by hand

def test_gram_is_f_times_f_transposed():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(2, 5, 3, 4, generator=g, dtype=torch.float64)          # B, N, H, W
    flat = f.reshape(2, 5, 12)
    torch.testing.assert_close(texture.gram(f), torch.einsum("bik,bjk->bij", flat, flat))
    loops = [[sum(float(flat[0, i, k] * flat[0, j, k]) for k in range(12)) for j in range(5)] for i in range(5)]
    torch.testing.assert_close(texture.gram(flat[0]), torch.tensor(loops, dtype=torch.float64))   # (N, M)
    torch.testing.assert_close(texture.gram(f[1]), texture.gram(f)[1])                           # (N, H, W)
    assert torch.allclose(texture.gram(f), texture.gram(f).transpose(1, 2))


def test_gram_forgets_where():
    """G_ij = Σ_k F_ik F_jk sums over positions k, so any reordering of the positions leaves it unchanged
    ("location information averaged out", the lecture), while the maps themselves change."""
    g = torch.Generator().manual_seed(1)
    f = torch.randn(6, 20, generator=g, dtype=torch.float64)
    perm = torch.randperm(20, generator=g)
    torch.testing.assert_close(texture.gram(f[:, perm]), texture.gram(f))
    assert not torch.allclose(f[:, perm], f)


def test_style_loss_is_the_lecture_formula():
    """E_l = 1/(4 N_l² M_l²) Σ_ij (G_ij − A_ij)², summed over the layers (the lecture's L_style)."""
    g = torch.Generator().manual_seed(2)
    n, h, w = 3, 2, 2                                      # N_l = 3, M_l = 4
    f = torch.randn(1, n, h, w, generator=g, dtype=torch.float64)
    a = torch.randn(1, n, n, generator=g, dtype=torch.float64)
    G = texture.gram(f)[0]
    by_hand = sum(float(G[i, j] - a[0, i, j]) ** 2 for i in range(n) for j in range(n)) / (4 * n**2 * (h * w) ** 2)
    assert float(texture.layer_style_loss(texture.gram(f), a, n, h * w)) == pytest.approx(by_hand, rel=1e-12)
    # two layers: the sum of their E_l, each with its own N_l and M_l; and weighted
    f2 = torch.randn(1, 2, 3, 1, generator=g, dtype=torch.float64)
    a2 = torch.randn(1, 2, 2, generator=g, dtype=torch.float64)
    G2 = texture.gram(f2)[0]
    e2 = sum(float(G2[i, j] - a2[0, i, j]) ** 2 for i in range(2) for j in range(2)) / (4 * 2**2 * 3**2)
    total, parts = texture.style_loss({0: f, 5: f2}, {0: a, 5: a2})
    assert float(total) == pytest.approx(by_hand + e2, rel=1e-12)
    assert float(parts[5]) == pytest.approx(e2, rel=1e-12)
    weighted, _ = texture.style_loss({0: f, 5: f2}, {0: a, 5: a2}, {0: 0.25, 5: 3.0})
    assert float(weighted) == pytest.approx(0.25 * by_hand + 3.0 * e2, rel=1e-12)


def test_content_loss_and_total_loss():
    """L_content = ½ Σ (F − P)² (Gatys 2016, eq. 1), L_total = α L_content + β L_style (eq. 7)."""
    g = torch.Generator().manual_seed(3)
    f, p = torch.randn(1, 2, 3, 3, generator=g, dtype=torch.float64), torch.randn(1, 2, 3, 3, generator=g,
                                                                                   dtype=torch.float64)
    by_hand = 0.5 * sum(float(f[0, c, i, j] - p[0, c, i, j]) ** 2 for c in range(2) for i in range(3) for j in range(3))
    assert float(texture.content_loss(f, p)[0]) == pytest.approx(by_hand, rel=1e-12)
    assert float(texture.total_loss(torch.tensor(2.0), torch.tensor(5.0), alpha=3.0, beta=0.1)) == pytest.approx(6.5)


# ---------------------------------------------------------------- the network's layers

def test_feature_layers_are_the_modules_they_are_named_after(model):
    """features() of "blocks.1" is what m.net.blocks[1] outputs in the network's own forward pass (a hook), and
    each layer's channels and stride are those of that output."""
    layers = texture.feature_layers(model)
    assert [f.name for f in layers] == ["bn1 (stem)"] + [f"blocks.{i}" for i in range(7)]
    x = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(4))
    seen = {}
    hooks = [model.net.bn1.register_forward_hook(lambda _m, _i, o: seen.__setitem__(0, o))]
    hooks += [model.net.blocks[i].register_forward_hook(lambda _m, _i, o, k=i + 1: seen.__setitem__(k, o))
              for i in range(7)]
    try:
        with torch.no_grad():
            model.net(texture.normalise(model, x))
            ours = texture.features(model, x, range(8))
    finally:
        for h in hooks:
            h.remove()
    for layer in layers:
        torch.testing.assert_close(ours[layer.index], seen[layer.index])
        assert ours[layer.index].shape[1] == layer.channels
        assert 96 // ours[layer.index].shape[-1] == layer.stride
    assert texture.default_layers(model) == tuple(f.index for f in layers if f.stride <= 16)
    with pytest.raises(mixviz.MixError, match="numbered 0 to 7"):
        texture.features(model, x, [8])


# ---------------------------------------------------------------- patch shuffle

def test_patch_shuffle_moves_whole_patches():
    x = torch.rand(3, 13, 10, generator=torch.Generator().manual_seed(5))
    out, perm = texture.patch_shuffle(x, 3, seed=7)
    assert out.shape == (3, 12, 9)                                   # cropped (centred) to multiples of 3
    crop = x[:, :12, :9]
    assert sorted(perm.tolist()) == list(range(9)) and perm.tolist() != list(range(9))
    for k, src in enumerate(perm.tolist()):                          # new patch k is old patch perm[k]
        r, c, sr, sc = k // 3, k % 3, src // 3, src % 3
        torch.testing.assert_close(out[:, 4 * r:4 * r + 4, 3 * c:3 * c + 3], crop[:, 4 * sr:4 * sr + 4, 3 * sc:3 * sc + 3])
    again, _ = texture.patch_shuffle(x, 3, seed=7)
    assert torch.equal(out, again)
    with pytest.raises(mixviz.MixError, match="at least 2"):
        texture.patch_shuffle(x, 1)


def test_a_patch_shuffle_changes_the_gram_matrix_far_less_than_the_pixels(model):
    """The cat at 128 px in 4 × 4 patches of 32 px. At the layers whose receptive field is small against a patch
    (the stem, blocks.0 and blocks.1: 3, 7 and 19 px), a position sees the same pattern after the shuffle unless
    its window crosses a seam, and the Gram matrix sums over positions, so it moves by a fraction of what the
    pixels do: under a quarter where the window is at most a quarter of a patch (stem, blocks.0: measured 0.02
    and 0.23), under a half at blocks.1 (0.46). The controls: the feature maps themselves move by more than the
    pixels (they keep where), and Gaussian noise that changes the pixels as much moves the Gram matrix at least
    five times more than the shuffle (measured 20×, 15×, 8×)."""
    _, changes = texture.shuffle_change(model, photo("cat"), grid=4, seed=0, size=128, layers=[0, 1, 2])
    for c, bound in zip(changes, (0.25, 0.25, 0.5)):
        assert c.ratio < bound, c
        assert c.gram < c.noise_gram / 5, c
        assert c.features > c.pixels and c.gram < c.features / 2, c
        assert abs(c.noise_pixels - c.pixels) < 0.1 * c.pixels        # the control changes the pixels as much
    deep = texture.shuffle_change(model, photo("cat"), grid=4, seed=0, size=128, layers=[2, 5])[1]
    assert deep[1].gram > deep[0].gram                                  # deeper, wider windows: more seams seen


# ---------------------------------------------------------------- synthesis and style transfer

def test_texture_synthesis_loss_falls_tenfold(model):
    """From noise, 30 L-BFGS steps at 64 px on two layers: the texture loss falls by more than an order of
    magnitude, the same seed gives the same run, and the loss reported for the image returned is E_l summed
    over its layers, recomputed here by einsum."""
    layers = (1, 2)
    r = texture.synthesise_texture(model, photo("citrus"), layers, size=64, steps=30, seed=0)
    assert r.steps == 30 and len(r.losses) == 31 and not r.stopped
    assert r.loss < r.losses[0] / 10, r.losses
    again = texture.synthesise_texture(model, photo("citrus"), layers, size=64, steps=30, seed=0)
    assert again.losses == r.losses and torch.equal(again.image, r.image)
    with torch.no_grad():
        mine = texture.features(model, r.image[None], layers)
        theirs = texture.features(model, texture.square(photo("citrus"), 64), layers)
    total = 0.0
    for i in layers:
        a, b = mine[i][0].flatten(1).double(), theirs[i][0].flatten(1).double()
        n, m = a.shape
        total += float((torch.einsum("ik,jk->ij", a, a) - torch.einsum("ik,jk->ij", b, b)).square().sum()) / (4 * n * n * m * m)
    assert r.loss == pytest.approx(total, rel=1e-3)
    assert sum(r.parts.values()) == pytest.approx(total, rel=1e-3)
    assert r.image.min() >= 0 and r.image.max() <= 1


def test_a_callback_sees_every_step_and_can_stop(model):
    seen = []

    def callback(s):
        seen.append((s.step, s.steps, s.loss))
        return s.step == 3

    r = texture.synthesise_texture(model, photo("koala"), (1,), size=48, steps=20, callback=callback)
    assert r.stopped and r.steps == 3 and [s[0] for s in seen] == [1, 2, 3] and seen[0][1] == 20
    assert [s[2] for s in seen] == r.losses[:3]                       # each step's loss, as the result keeps it


def test_style_transfer_loss_is_alpha_content_plus_beta_style(model):
    """The first loss of a run from noise is α L_content + β L_style of the noise, both computed here from the
    feature maps: the style layers weighted 1/L, as the paper weights its five."""
    content, style = photo("cat"), photo("citrus")
    x0 = texture.noise(48, seed=3)
    layers, c_layer = (1, 2), 3
    with torch.no_grad():
        fx = texture.features(model, x0, (1, 2, 3))
        fc = texture.features(model, texture.square(content, 48), (3,))
        fs = texture.features(model, texture.square(style, 48), layers)
    lc = 0.5 * float((fx[3] - fc[3]).double().square().sum())
    ls = 0.0
    for i in layers:
        n, m = fx[i].shape[1], fx[i].shape[2] * fx[i].shape[3]
        gx, gs = texture.gram(fx[i].double()), texture.gram(fs[i].double())
        ls += float((gx - gs).square().sum()) / (4 * n * n * m * m) / len(layers)
    for alpha, beta in ((1.0, 100.0), (2.5, 0.0), (0.0, 7.0)):
        r = texture.transfer_style(model, content, style, alpha, beta, layers, c_layer, size=48, steps=1, seed=3,
                                   start="noise")
        assert r.losses[0] == pytest.approx(alpha * lc + beta * ls, rel=1e-4)
    with pytest.raises(mixviz.MixError, match="not both 0"):
        texture.transfer_style(model, content, style, 0.0, 0.0, size=48, steps=1)
    with pytest.raises(mixviz.MixError, match="between"):
        texture.transfer_style(model, content, style, size=8, steps=1)


def test_style_transfer_from_the_content_photo_moves_towards_the_style(model):
    """Starting from the content photo (L_content = 0), the steps trade content for style: L_style falls."""
    content, style = photo("cat"), photo("citrus")
    r = texture.transfer_style(model, content, style, 1.0, 1e4, (1, 2), 3, size=64, steps=15)
    start = texture.transfer_style(model, content, style, 0.0, 1.0, (1, 2), 3, size=64, steps=1)
    assert r.parts["style"] < start.losses[0] / 3                     # the content photo's own L_style, β = 1
    assert r.parts["content"] > 0


def test_cue_conflict_ranks_the_two_classes(model):
    """The ranks, probabilities and top-5 lists the cue conflict reports are those of the network's softmax on the
    result and on each photo alone, and its verdict follows from them as its docstring says."""
    cat, citrus = model.classes.index("Egyptian cat"), model.classes.index("orange")
    r = texture.cue_conflict(model, photo("cat"), photo("citrus"), cat, citrus, beta=1e4, size=64, steps=2)
    probs = texture.probabilities(model, r.synthesis.image)
    order = probs.argsort(descending=True).tolist()
    assert [p.index for p in r.topk] == order[:5]
    assert r.shape.rank == order.index(cat) + 1 and r.texture.rank == order.index(citrus) + 1
    assert r.shape.probability == pytest.approx(float(probs[cat]))
    assert math.isclose(sum(probs.tolist()), 1, rel_tol=1e-4)
    alone = texture.probabilities(model, texture.square(photo("citrus"), 64)[0])
    assert [p.index for p in r.texture_topk] == alone.argsort(descending=True)[:5].tolist()
    shape_set, texture_set = {p.index for p in r.shape_topk}, {p.index for p in r.texture_topk}
    expected = {(True, False): "shape", (False, True): "texture", (True, True): "both", (False, False): "neither"}
    assert r.verdict == expected[(order[0] in shape_set, order[0] in texture_set)]


def test_xception_layers_are_the_relus_of_its_blocks():
    """Where Xception's weights resolve it serves the page: its layers (timm's feature_info, no extra blocks) are
    act2 and the ReLU of block 1, 2 and 11's outputs (the ReLU that starts the next block), then act4; checked
    against hooks on an untrained legacy_xception (the architecture alone: no weights are needed for this)."""
    import timm

    from mixviz.maps.models import RECIPES, Model

    net = timm.create_model("legacy_xception", pretrained=False).eval()
    m = Model("xception", "Xception", net, RECIPES["xception"], [str(i) for i in range(1000)], "untrained")
    layers = texture.feature_layers(m)
    assert [f.name for f in layers] == ["act2", "block2 input (ReLU)", "block3 input (ReLU)", "block12 input (ReLU)",
                                        "act4"]
    assert [f.channels for f in layers] == [64, 128, 256, 728, 2048] and texture.default_layers(m) == (0, 1, 2, 3)
    seen = {}
    hooks = [net.act2.register_forward_hook(lambda _m, _i, o: seen.__setitem__(0, o))]
    hooks += [getattr(net, f"block{b}").register_forward_hook(lambda _m, _i, o, k=k: seen.__setitem__(k, o.relu()))
              for k, b in ((1, 1), (2, 2), (3, 11))]
    x = torch.rand(1, 3, 72, 72, generator=torch.Generator().manual_seed(6))
    try:
        with torch.no_grad():
            net(texture.normalise(m, x))
            ours = texture.features(m, x, (0, 1, 2, 3))
    finally:
        for h in hooks:
            h.remove()
    for k in range(4):
        torch.testing.assert_close(ours[k], seen[k])
