"""Class activation maps: CAM (Zhou et al., Learning Deep Features for Discriminative Localization,
CVPR 2016) for global-average-pool + linear heads, and Grad-CAM (Selvaraju et al., ICCV 2017) for
any layer."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .imaging import ImageLike, to_tensor
from .models import Model
from .types import MixError


@dataclass
class Prediction:
    index: int
    name: str
    probability: float


@dataclass
class CamResult:
    """low: the raw (h, w) map M_c = Σ_k w_ck·F_k, before any normalisation, whose spatial mean plus the
    bias b_c is the logit; high: low upsampled (bilinear) to the image size; channel_terms: w_ck·mean(F_k),
    the share of each feature channel in the logit (they sum to logit − b_c)."""

    class_index: int
    class_name: str
    low: torch.Tensor
    high: torch.Tensor
    logits: torch.Tensor
    topk: list[Prediction]
    bias: float
    features: torch.Tensor
    channel_terms: torch.Tensor


def predictions(model: Model, logits: torch.Tensor, k: int = 5) -> list[Prediction]:
    """The top-k classes of a (num_classes,) logit vector, with softmax probabilities."""
    probs = logits.float().softmax(0)
    top = probs.topk(min(k, probs.numel()))
    return [Prediction(int(i), model.classes[int(i)], float(p)) for p, i in zip(top.values, top.indices)]


def cam(model: Model, image: ImageLike, class_index: int | None = None, k: int = 5) -> CamResult:
    """CAM of `class_index` (default: the top prediction) for `image`, with one forward pass."""
    net = model.net
    fc = model.classifier
    if not isinstance(fc, torch.nn.Linear):
        raise MixError(f"{model.title} has no linear head after global average pooling: use gradcam")
    height, width = to_tensor(image).shape[1:]
    with torch.inference_mode():
        features = net.forward_features(model.preprocess(image))
        logits = net.forward_head(features)[0]
        c = int(logits.argmax()) if class_index is None else int(class_index)
        if not 0 <= c < logits.numel():
            raise MixError(f"class index must lie in [0, {logits.numel()}), got {class_index}")
        fmap = features[0].float()
        weights = fc.weight[c].float()
        low = torch.einsum("k,khw->hw", weights, fmap)
        high = F.interpolate(low[None, None], size=(height, width), mode="bilinear", align_corners=False)[0, 0]
        bias = float(fc.bias[c]) if fc.bias is not None else 0.0
        terms = weights * fmap.mean((1, 2))
    return CamResult(c, model.classes[c], low.cpu(), high.cpu(), logits.float().cpu(), predictions(model, logits, k),
                     bias, fmap.cpu(), terms.cpu())


def gradcam(model: Model, image: ImageLike, layer: str, class_index: int | None = None) -> torch.Tensor:
    """Grad-CAM of `class_index` at the named module `layer`: ReLU(Σ_k α_k A_k), α_k the spatial mean of
    ∂y_c/∂A_k; returned (h, w) at the layer's resolution, not normalised."""
    modules = dict(model.net.named_modules())
    if layer not in modules:
        raise MixError(f"{model.title} has no layer {layer!r}")
    store = {}
    handle = modules[layer].register_forward_hook(lambda _m, _i, out: store.__setitem__("a", out))
    try:
        with torch.enable_grad():
            x = model.preprocess(image).requires_grad_(False)
            logits = model.net(x)[0]
            c = int(logits.argmax()) if class_index is None else int(class_index)
            act = store["a"]
            grad, = torch.autograd.grad(logits[c], act)
    finally:
        handle.remove()
    alpha = grad[0].mean((1, 2))
    return F.relu(torch.einsum("k,khw->hw", alpha, act[0])).detach().cpu()
