"""Texture and style from a pretrained classifier's feature maps: Gram matrices, texture synthesis and
neural style transfer, as lecture 4 ("Data Augmentation", ../shared/lectures/001) states them.

- Texture synthesis: Gatys, Ecker & Bethge, *Texture Synthesis Using Convolutional Neural Networks*,
  NeurIPS 2015. Layer l has N_l feature maps of M_l positions, F^l ∈ R^{N_l×M_l}; its Gram matrix
  G^l = F^l F^lᵀ keeps which features fire together and drops where. From noise x̂, an image is optimised
  until its Gram matrices match a photo's at several layers:
  E_l = 1/(4 N_l² M_l²) Σ_ij (G^l_ij − Â^l_ij)², L_style = Σ_l w_l E_l.
- Style transfer: Gatys, Ecker & Bethge, *Image Style Transfer Using Convolutional Neural Networks*,
  CVPR 2016: L_total = α L_content + β L_style, with L_content = ½ Σ_ij (F^l_ij − P^l_ij)² at one layer.
- Cue conflict: Geirhos et al., *ImageNet-trained CNNs are biased towards texture*, ICLR 2019: one photo's
  shape with another's texture, and which of the two the classifier names.

The papers used VGG-19 (with its max pools made average pools); here the network is the serving model
(`mixviz.load_model()`: Xception, or EfficientNet-Lite0 offline), and its feature layers are the stage outputs
timm's `forward_intermediates` returns (`feature_layers` names them). The Gram matrix is left unnormalised,
as in the lecture and both papers: the 1/(4 N² M²) of E_l is the only normalisation.

The optimiser is L-BFGS (torch.optim.LBFGS), as in both papers: one iteration, one forward and one backward pass
per step, without a line search, so every step costs the same and a callback sees each one (see `optimise`).
Nothing here imports streamlit.
"""
from __future__ import annotations

import inspect
import math
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from ..types import MixError

GRAM_LATEX = r"G^l = F^l {F^l}^{\top}, \qquad G^l_{ij} = \sum_{k=1}^{M_l} F^l_{ik} F^l_{jk}"
STYLE_LATEX = (r"E_l = \frac{1}{4 N_l^2 M_l^2} \sum_{i,j} \big(G^l_{ij} - A^l_{ij}\big)^2, \qquad "
               r"\mathcal{L}_{\mathrm{style}} = \sum_l w_l E_l")
CONTENT_LATEX = r"\mathcal{L}_{\mathrm{content}} = \frac{1}{2} \sum_{i,j} \big(F^l_{ij} - P^l_{ij}\big)^2"
TOTAL_LATEX = r"\mathcal{L}_{\mathrm{total}} = \alpha\, \mathcal{L}_{\mathrm{content}} + \beta\, \mathcal{L}_{\mathrm{style}}"

MAX_STRIDE = 16   # texture layers by default: every feature layer down to 1/16 of the image (Gatys 2015: pool4)
MIN_SIZE, MAX_SIZE = 32, 512


# ---------------------------------------------------------------- the network's feature layers

@dataclass(frozen=True)
class FeatureLayer:
    """One feature layer of a timm model: its position in `forward_intermediates`, the module of `net` it is the
    output of, its channels N_l and how many input pixels one of its positions steps over."""

    index: int
    name: str
    channels: int
    stride: int

    def label(self) -> str:
        return f"{self.name} ({self.channels} ch, 1/{self.stride})"


def _extra_blocks(net: torch.nn.Module) -> bool:
    """EfficientNet's forward_intermediates can return every block's output (extra_blocks); other models their
    feature_info stages only."""
    return "extra_blocks" in inspect.signature(net.forward_intermediates).parameters


def _layer_names(net: torch.nn.Module) -> list[str]:
    if _extra_blocks(net):
        return ["bn1 (stem)"] + [f"blocks.{i}" for i in range(len(net.blocks))]
    names = [f["module"] for f in net.feature_info]
    # legacy Xception: "block2.rep.0" is the ReLU that starts block 2, applied to block 1's output
    return [n.replace(".rep.0", "") + " input (ReLU)" if n.endswith(".rep.0") else n for n in names]


_LAYERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # net -> its layers


def feature_layers(model) -> list[FeatureLayer]:
    """The feature layers of `model.net` (a timm model with forward_intermediates) with their channels and
    strides, measured by one forward pass of a 64 × 64 image."""
    net = model.net
    if not hasattr(net, "forward_intermediates"):
        raise MixError(f"{model.title} has no forward_intermediates: its feature maps cannot be read here")
    if net not in _LAYERS:
        with torch.no_grad():
            maps = _intermediates(model, torch.zeros(1, 3, 64, 64), None)
        _LAYERS[net] = [FeatureLayer(i, name, f.shape[1], round(64 / f.shape[-1]))
                            for i, (name, f) in enumerate(zip(_layer_names(net), maps))]
    return _LAYERS[net]


def default_layers(model, max_stride: int = MAX_STRIDE) -> tuple[int, ...]:
    """Indices of the layers Gatys 2015 would take: every one from the first down to 1/`max_stride`."""
    return tuple(layer.index for layer in feature_layers(model) if layer.stride <= max_stride)


def normalise(model, x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] -> the network's input (its mean and std), channels-last, at the size given."""
    mean = torch.tensor(model.recipe.mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(model.recipe.std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def _intermediates(model, x: torch.Tensor, indices: Sequence[int] | None) -> list[torch.Tensor]:
    net = model.net
    kw = {"extra_blocks": True} if _extra_blocks(net) else {}
    wanted = None if indices is None else sorted(set(indices))
    return net.forward_intermediates(normalise(model, x), indices=wanted, intermediates_only=True,
                                     stop_early=wanted is not None, **kw)


def features(model, x: torch.Tensor, indices: Sequence[int]) -> dict[int, torch.Tensor]:
    """{layer index: (B, N_l, H_l, W_l) feature maps} of images `x` (B, 3, H, W) in [0, 1], any size: the network
    is fully convolutional up to its pooling, so the maps are taken at the size given (not resized to the model's
    own input size). Stops after the deepest layer asked for."""
    if x.ndim == 3:
        x = x[None]
    wanted = sorted(set(int(i) for i in indices))
    known = len(feature_layers(model))
    if not wanted or wanted[0] < 0 or wanted[-1] >= known:
        raise MixError(f"feature layers are numbered 0 to {known - 1}, got {list(indices)}")
    return dict(zip(wanted, _intermediates(model, x, wanted)))


# ---------------------------------------------------------------- the lecture's formulas

def gram(f: torch.Tensor) -> torch.Tensor:
    """G = F Fᵀ (Gatys et al. 2015) of feature maps F with N channels × M positions: `f` is (N, M), (N, H, W)
    or (B, N, H, W); the result (N, N) or (B, N, N). Unnormalised, as the lecture writes it:
    G_ij = Σ_k F_ik F_jk, a sum (not a mean) over the M positions."""
    if f.ndim == 2:
        return f @ f.T
    flat = f.flatten(-2) if f.ndim == 3 else f.flatten(2)
    return flat @ flat.transpose(-1, -2)


def layer_style_loss(g: torch.Tensor, a: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """E_l = 1/(4 N_l² M_l²) Σ_ij (G_ij − A_ij)² (Gatys et al. 2015; eq. 4 of their 2016 paper; the lecture's) between
    the Gram matrix `g` of the image being made and `a` of the photo, for N_l = `n` channels, M_l = `m` positions.
    A batch of Gram matrices (B, N, N) gives B losses."""
    return (g - a).square().sum(dim=(-1, -2)) / (4.0 * n * n * m * m)


def style_loss(maps: dict[int, torch.Tensor], targets: dict[int, torch.Tensor],
               weights: dict[int, float] | None = None) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """L_style = Σ_l w_l E_l over the layers of `targets` ({layer: Gram matrix A^l of the photo}), with
    `maps` ({layer: (B, N, H, W) feature maps of the image being made}). w_l = 1 unless given (the lecture's
    sum; Gatys 2016 weighs each of its five layers 1/5). Returns the loss and each layer's E_l."""
    parts = {}
    for i, a in targets.items():
        f = maps[i]
        n, m = f.shape[1], f.shape[2] * f.shape[3]
        parts[i] = layer_style_loss(gram(f), a, n, m)
    total = sum((1.0 if weights is None else weights[i]) * e for i, e in parts.items())
    return total, parts


def content_loss(f: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """L_content = ½ Σ_ij (F_ij − P_ij)² (Gatys et al. 2016, eq. 1) between the feature maps `f` of the image
    being made and `p` of the content photo at one layer. (The lecture's slide drops the square; the paper has it.)
    A batch (B, N, H, W) gives B losses."""
    return 0.5 * (f - p).square().flatten(1).sum(1) if f.ndim == 4 else 0.5 * (f - p).square().sum()


def total_loss(content: torch.Tensor, style: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """L_total = α L_content + β L_style (Gatys et al. 2016, eq. 7)."""
    return alpha * content + beta * style


# ---------------------------------------------------------------- the optimisation

@dataclass
class Step:
    """What a callback sees after each step: the step (1-based), the steps asked for, the loss of the image the
    step started from (what that step computed), and the image after it (3, H, W) in [0, 1]."""

    step: int
    steps: int
    loss: float
    image: torch.Tensor


@dataclass
class Synthesis:
    """The result of `synthesise_texture` or `transfer_style`: the image (3, H, W) in [0, 1] (the lowest loss
    seen), the losses L(x_0) … L(x_k) of the start and of the image after each of the k steps done (plot them
    on a log scale: they fall over orders of magnitude), whether a callback stopped it early, its wall time, and
    the loss's parts for the image returned (each layer's E_l; "content" and "style" for a style transfer)."""

    image: torch.Tensor
    losses: list[float]
    steps: int
    stopped: bool
    seconds: float
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def loss(self) -> float:
        """The loss of the image returned (the lowest seen)."""
        return min(self.losses)

    @property
    def drop(self) -> float:
        """How many times smaller the loss of the image returned is than the starting image's."""
        return self.losses[0] / max(self.loss, 1e-30)


Callback = Callable[[Step], "bool | None"]


def optimise(x0: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor], steps: int,
             callback: Callback | None = None, history: int = 50) -> tuple[torch.Tensor, list[float], bool]:
    """Minimise `loss_fn` over the pixels of `x0` (1, 3, H, W) with L-BFGS (torch.optim.LBFGS; Gatys et al.
    used L-BFGS too), one iteration per step, the pixels clamped to [0, 1] after each. Returns the image with the
    lowest loss seen, the losses [L(x_0), L(x_1), …, L(x_k)] of the image after each of the k steps done, and
    whether `callback` stopped it. `callback` is called after every step with a `Step` (the loss of the image
    the step started from, which is what that step computed, and the image after it); returning True stops.

    Why L-BFGS, and without a line search: on the texture loss (citrus, 128 px, 120 forward/backward passes)
    it reached 18.6 against 22.1 for Adam at its best learning rate of those tried (0.1; 37 at 0.03, 37 at 0.2),
    and it needs no learning rate; a strong-Wolfe line search ended at 74 for the same passes. (On a tiny run,
    64 px and 60 passes, Adam at 0.1 was a little ahead, 67 against 73.) Without a line
    search every step is one forward and one backward pass, so a step costs the same throughout and the progress
    bar moves evenly. A step can overshoot (the curve then jumps up for a step), hence the best image is kept.
    The gradient is taken for the pixels only (torch.autograd.grad), so the network's parameters never collect
    gradients and a network shared with other pages is left as it was."""
    x = x0.detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=history, tolerance_grad=0.0,
                            tolerance_change=0.0)
    losses: list[float] = []
    best = [math.inf, x0.detach()[0]]

    def closure():
        loss = loss_fn(x)
        x.grad = torch.autograd.grad(loss, x)[0].contiguous()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise MixError(f"the loss became {value} at step {len(losses) + 1}: try fewer layers or another β/α")
        losses.append(value)
        if value < best[0]:
            best[:] = [value, x.detach()[0].clone()]
        return loss

    stopped = False
    for k in range(1, steps + 1):
        opt.step(closure)
        with torch.no_grad():
            x.clamp_(0, 1)
        if callback is not None and callback(Step(k, steps, losses[-1], x.detach()[0].clone())):
            stopped = True
            break
    with torch.no_grad():
        last = float(loss_fn(x))
    losses.append(last)
    return (x.detach()[0] if last <= best[0] else best[1]), losses, stopped


def _check(size: int, steps: int) -> None:
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise MixError(f"the image size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")
    if int(steps) < 1:
        raise MixError(f"at least one step, got {steps}")


def square(image: torch.Tensor, size: int) -> torch.Tensor:
    """(1, 3, size, size): the image (3, H, W) in [0, 1] resized to cover the square and centre-cropped."""
    from ..imaging import cover_crop

    return cover_crop(image.float(), size, size)[None]


def noise(size: int, seed: int) -> torch.Tensor:
    """(1, 3, size, size) i.i.d. uniform noise in [0, 1] from `seed`: where texture synthesis starts (Gatys 2015)."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.rand(1, 3, size, size, generator=g)


def style_targets(model, photo: torch.Tensor, layers: Sequence[int]) -> dict[int, torch.Tensor]:
    """{layer: Gram matrix A^l (1, N, N)} of `photo` (1, 3, H, W) in [0, 1], fixed (no gradient)."""
    with torch.no_grad():
        return {i: gram(f) for i, f in features(model, photo, layers).items()}


def synthesise_texture(model, photo: torch.Tensor, layers: Sequence[int] | None = None, size: int = 128,
                       steps: int = 100, seed: int = 0, callback: Callback | None = None) -> Synthesis:
    """Texture synthesis (Gatys, Ecker & Bethge, NeurIPS 2015): from uniform noise, optimise an image of
    size × size so that its Gram matrices at `layers` (default: `default_layers`) match those of `photo`
    (3, H, W) in [0, 1], resized to cover the same square. L_style = Σ_l E_l (the lecture's sum, w_l = 1)."""
    _check(size, steps)
    layers = tuple(layers) if layers else default_layers(model)
    start = time.perf_counter()
    targets = style_targets(model, square(photo, size), layers)

    def loss_fn(x):
        return style_loss(features(model, x, layers), targets)[0].sum()

    image, losses, stopped = optimise(noise(size, seed), loss_fn, steps, callback)
    with torch.no_grad():
        _, parts = style_loss(features(model, image[None], layers), targets)
    names = feature_layers(model)
    return Synthesis(image, losses, len(losses) - 1, stopped, time.perf_counter() - start,
                     {names[i].name: float(e) for i, e in parts.items()})


def transfer_style(model, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0, beta: float = 1e3,
                   style_layers: Sequence[int] | None = None, content_layer: int | None = None, size: int = 128,
                   steps: int = 100, seed: int = 0, start: str = "content",
                   callback: Callback | None = None) -> Synthesis:
    """Neural style transfer (Gatys, Ecker & Bethge, CVPR 2016): optimise an image so that L_total =
    α L_content + β L_style is smallest, its feature maps at `content_layer` close to those of `content` and its
    Gram matrices at `style_layers` close to those of `style` (both (3, H, W) in [0, 1], resized to cover
    size × size). The paper starts from white noise; `start="content"` (the default here) starts from the
    content photo, which their Fig. 6 shows makes the same kind of image and which needs far fewer steps.
    The style layers are weighted w_l = 1/L, as the paper's five (conv1_1 … conv5_1) are; the content layer
    defaults to the deepest style layer's predecessor (the paper: conv4_2, one of its deeper layers)."""
    _check(size, steps)
    if not (alpha >= 0 and beta >= 0 and alpha + beta > 0 and math.isfinite(alpha) and math.isfinite(beta)):
        raise MixError(f"α and β must be non-negative and not both 0, got α = {alpha}, β = {beta}")
    if start not in ("content", "noise"):
        raise MixError(f"start from 'content' or 'noise', not {start!r}")
    style_layers = tuple(style_layers) if style_layers else default_layers(model)
    content_layer = default_content_layer(model, style_layers) if content_layer is None else int(content_layer)
    t0 = time.perf_counter()
    c, s = square(content, size), square(style, size)
    targets = style_targets(model, s, style_layers)
    with torch.no_grad():
        p = features(model, c, [content_layer])[content_layer]
    weights = {i: 1.0 / len(style_layers) for i in style_layers}
    wanted = sorted(set(style_layers) | {content_layer})

    def parts_of(x):
        maps = features(model, x, wanted)
        return content_loss(maps[content_layer], p).sum(), style_loss(maps, targets, weights)

    def loss_fn(x):
        lc, (ls, _) = parts_of(x)
        return total_loss(lc, ls.sum(), alpha, beta)

    x0 = c.clone() if start == "content" else noise(size, seed)
    image, losses, stopped = optimise(x0, loss_fn, steps, callback)
    with torch.no_grad():
        lc, (ls, per_layer) = parts_of(image[None])
    names = feature_layers(model)
    parts = {"content": float(lc), "style": float(ls.sum()), **{names[i].name: float(e) for i, e in per_layer.items()}}
    return Synthesis(image, losses, len(losses) - 1, stopped, time.perf_counter() - t0, parts)


def default_content_layer(model, style_layers: Sequence[int]) -> int:
    """The content layer when none is named: the deepest style layer but one (VGG's conv4_2 sits between
    Gatys 2016's fourth and fifth style layers)."""
    ordered = sorted(style_layers)
    return ordered[-2] if len(ordered) > 1 else ordered[0]


# ---------------------------------------------------------------- patch shuffle: texture stays, layout goes

def patch_shuffle(image: torch.Tensor, grid: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut `image` (3, H, W) into grid × grid patches and put them back in a random order (seeded, never the
    same order): the texture stays, the layout goes. H and W are first cropped (centred) to multiples of `grid`.
    Returns the shuffled image and the permutation (new position k holds old patch perm[k])."""
    if grid < 2:
        raise MixError(f"a shuffle needs at least 2 × 2 patches, got grid = {grid}")
    c, h, w = image.shape
    ph, pw = h // grid, w // grid
    if ph < 1 or pw < 1:
        raise MixError(f"a {h}×{w} image has no room for {grid}×{grid} patches")
    top, left = (h - ph * grid) // 2, (w - pw * grid) // 2
    x = image[:, top:top + ph * grid, left:left + pw * grid]
    patches = x.reshape(c, grid, ph, grid, pw).permute(1, 3, 0, 2, 4).reshape(grid * grid, c, ph, pw)
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(grid * grid, generator=g)
    while torch.equal(perm, torch.arange(grid * grid)):
        perm = torch.randperm(grid * grid, generator=g)
    out = patches[perm].reshape(grid, grid, c, ph, pw).permute(2, 0, 3, 1, 4).reshape(c, ph * grid, pw * grid)
    return out, perm


@dataclass(frozen=True)
class ShuffleChange:
    """What a patch shuffle did at one layer, each change relative to the original (‖new − old‖ / ‖old‖,
    Frobenius): to the Gram matrix (`gram`), to the pixels (`pixels`, the same at every layer), to the feature
    maps themselves (`features`), and, as a control, to the Gram matrix under Gaussian noise that changes the
    pixels as much as the shuffle did (`noise_gram`, its pixel change `noise_pixels`)."""

    layer: str
    gram: float
    pixels: float
    features: float
    noise_gram: float
    noise_pixels: float

    @property
    def ratio(self) -> float:
        """Gram change / pixel change."""
        return self.gram / self.pixels

    @property
    def noise_ratio(self) -> float:
        return self.noise_gram / self.noise_pixels


def relative_change(new: torch.Tensor, old: torch.Tensor) -> float:
    """‖new − old‖ / ‖old‖ (Frobenius)."""
    return float((new.detach().double() - old.detach().double()).norm() / old.detach().double().norm())


def shuffle_change(model, image: torch.Tensor, grid: int = 4, seed: int = 0, size: int = 224,
                   layers: Sequence[int] | None = None) -> tuple[torch.Tensor, list[ShuffleChange]]:
    """Shuffle `image` (3, H, W), resized to cover size × size, in grid × grid patches (`patch_shuffle`), and
    measure at each layer (default: all) how much its Gram matrix changed against how much the pixels did; the
    same for seeded Gaussian noise scaled to the shuffle's pixel change (then clamped to [0, 1]), which keeps
    every pixel in place but not the texture. Returns the shuffled image and one ShuffleChange per layer."""
    shuffled, _ = patch_shuffle(square(image, size)[0], grid, seed)
    x = same_crop(square(image, size)[0], shuffled)
    g = torch.Generator().manual_seed(int(seed))
    noise_ = torch.randn(x.shape, generator=g)
    noisy = (x + noise_ * ((shuffled - x).norm() / noise_.norm())).clamp(0, 1)
    layers = tuple(layers) if layers else tuple(layer.index for layer in feature_layers(model))
    with torch.no_grad():
        maps = [features(model, t, layers) for t in (x, shuffled, noisy)]
    pixels, noise_pixels = relative_change(shuffled, x), relative_change(noisy, x)
    names = feature_layers(model)
    return shuffled, [ShuffleChange(names[i].name, relative_change(gram(maps[1][i]), gram(maps[0][i])), pixels,
                                    relative_change(maps[1][i], maps[0][i]),
                                    relative_change(gram(maps[2][i]), gram(maps[0][i])), noise_pixels)
                      for i in layers]


def same_crop(x: torch.Tensor, shuffled: torch.Tensor) -> torch.Tensor:
    """`x` cropped (centred) to the shuffled image's size, as patch_shuffle crops it."""
    h, w = shuffled.shape[-2:]
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


def gram_heat(model, image: torch.Tensor, layer: int, size: int = 224) -> torch.Tensor:
    """(N, N) the Gram matrix divided by M_l (the mean over positions of F_ik F_jk: the second moments the
    lecture speaks of, comparable across image sizes) of `image` at `layer`, for a heat map."""
    with torch.no_grad():
        f = features(model, square(image, size), [layer])[layer]
    return gram(f)[0] / (f.shape[2] * f.shape[3])


# ---------------------------------------------------------------- cue conflict: shape or texture?

@dataclass(frozen=True)
class ClassScore:
    """One ImageNet class on one image: its index, name, rank among the 1000 (1 = the top) and probability."""

    index: int
    name: str
    rank: int
    probability: float


def probabilities(model, image: torch.Tensor) -> torch.Tensor:
    """(num_classes,) softmax of the network on `image` (3, H, W), brought to its own input size by
    `model.preprocess` (the whole image, resized)."""
    with torch.inference_mode():
        return model.net(model.preprocess(image))[0].float().softmax(0)


def class_score(model, probs: torch.Tensor, index: int) -> ClassScore:
    rank = int((probs > probs[index]).sum()) + 1
    return ClassScore(int(index), model.classes[int(index)], rank, float(probs[index]))


@dataclass(frozen=True)
class CueConflict:
    """Geirhos et al. (ICLR 2019)'s texture–shape cue conflict on one pair: the shape photo in the texture
    photo's style (`synthesis`); the network's top-5 on it (`topk`) and on each photo alone at the same size
    (`shape_topk`, `texture_topk`); and where the two photos' labelled classes rank on it (`shape`, `texture`).

    `verdict` stands in for Geirhos et al.'s 16 coarse classes ("cat" for every cat breed), which ImageNet's 1000
    do not have: "shape" when the top-1 on the conflict is one of the classes the network gives the shape photo
    alone (its top-5), "texture" when it is one of the texture photo's, "both" or "neither" otherwise."""

    synthesis: Synthesis
    topk: list
    shape_topk: list
    texture_topk: list
    shape: ClassScore
    texture: ClassScore

    @property
    def verdict(self) -> str:
        top = self.topk[0].index
        in_shape = top in {p.index for p in self.shape_topk}
        in_texture = top in {p.index for p in self.texture_topk}
        return "both" if in_shape and in_texture else "shape" if in_shape else "texture" if in_texture else "neither"

    @property
    def leaning(self) -> str:
        """Which of the two labelled classes the network gives the larger probability on the conflict."""
        return "shape" if self.shape.probability >= self.texture.probability else "texture"


def cue_conflict(model, shape_photo: torch.Tensor, texture_photo: torch.Tensor, shape_class: int,
                 texture_class: int, beta: float = 1e5, size: int = 224, steps: int = 100,
                 callback: Callback | None = None) -> CueConflict:
    """Put `texture_photo`'s texture on `shape_photo`'s shape by style transfer (`transfer_style`, α = 1,
    starting from the shape photo) and ask the network what it sees: its top-5 on the result and on each photo
    alone (cropped square at the same size), and the rank and probability of the photos' labelled classes
    (`shape_class`, `texture_class`) on the result."""
    from .cam import predictions

    r = transfer_style(model, shape_photo, texture_photo, alpha=1.0, beta=beta, size=size, steps=steps,
                       callback=callback)
    probs = probabilities(model, r.image)

    def top5(p):  # predictions() takes logits: log p gives back p through the softmax
        return predictions(model, p.log(), 5)

    alone = [probabilities(model, square(x, size)[0]) for x in (shape_photo, texture_photo)]
    return CueConflict(r, top5(probs), top5(alone[0]), top5(alone[1]), class_score(model, probs, shape_class),
                       class_score(model, probs, texture_class))
