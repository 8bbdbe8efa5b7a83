"""Class activation maps: CAM (Zhou et al., Learning Deep Features for Discriminative Localization,
CVPR 2016) for global-average-pool + linear heads, and Grad-CAM (Selvaraju et al., ICCV 2017) for
any layer."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ..imaging import ImageLike, image_size
from .models import Model
from ..types import MixError


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
    height, width = image_size(image)
    with torch.inference_mode():
        features = net.forward_features(model.preprocess(image))
        logits = net.forward_head(features)[0]
        c = int(logits.argmax()) if class_index is None else int(class_index)
        if not 0 <= c < logits.numel():
            raise MixError(f"class index must lie in [0, {logits.numel()}), got {class_index}")
        fmap = features[0].float()
        low, high, bias, terms = _class_map(fc, fmap, c, (height, width))
    return CamResult(c, model.classes[c], low.cpu(), high.cpu(), logits.float().cpu(), predictions(model, logits, k),
                     bias, fmap.cpu(), terms.cpu())


def _class_map(fc: torch.nn.Linear, fmap: torch.Tensor, c: int, size: tuple[int, int]):
    """Class c's map Σ_k w_ck·F_k of a (C, h, w) feature map, upsampled (bilinear) to `size`, its bias,
    and the channel terms w_ck·mean(F_k)."""
    weights = fc.weight[c].detach().float().to(fmap.device)
    low = torch.einsum("k,khw->hw", weights, fmap)
    high = F.interpolate(low[None, None], size=tuple(size), mode="bilinear", align_corners=False)[0, 0]
    bias = float(fc.bias[c]) if fc.bias is not None else 0.0
    return low, high, bias, weights * fmap.mean((1, 2))


def retarget(model: Model, result: CamResult, class_index: int) -> CamResult:
    """The CAM of another class from a CamResult's own features and logits: no new forward pass."""
    c = int(class_index)
    n = result.logits.numel()
    if not 0 <= c < n:
        raise MixError(f"class index must lie in [0, {n}), got {class_index}")
    with torch.inference_mode():
        low, high, bias, terms = _class_map(model.classifier, result.features, c, tuple(result.high.shape))
    return replace(result, class_index=c, class_name=model.classes[c], low=low, high=high, bias=bias,
                   channel_terms=terms)


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


@dataclass
class InputView:
    label: object  # the input's label in the MixResult
    class_index: int  # the ImageNet class that stands for it
    class_name: str
    label_weight: float  # its share of the method's label (normalised to sum 1)
    predicted: float  # the network's probability for that class on the mixed image


@dataclass
class NetworkView:
    """What the network predicts for a mixed image next to the label the method assigned.

    divergence: KL(label ‖ prediction) over the ImageNet classes, in nats; 0 when the network's
    probabilities match the label's shares exactly (the image-label inconsistency that H-Mix and
    TdAttenMix discuss makes it large)."""

    topk: list[Prediction]
    inputs: list[InputView]
    divergence: float


def network_view(model: Model, result, inputs, k: int = 5, input_classes: list[int] | None = None) -> NetworkView:
    """The model's top-k on `result.image` and, per input, its label weight against the predicted
    probability of its class. An input's class is its label when that is an ImageNet class name or
    index, else `input_classes[i]` when given (a caller's cached prediction), else the network's top
    prediction on the input image itself."""
    with torch.inference_mode():
        logits = model.net(model.preprocess(result.image.cpu()))[0].float().cpu()
    probs = logits.softmax(0)
    weights = result.weights.cpu().double()
    weights = weights / weights.sum().clamp_min(1e-12)
    names = list(result.label) if len(result.label) == len(inputs) else [f"image {i + 1}" for i in range(len(inputs))]
    views, target = [], torch.zeros_like(probs, dtype=torch.float64)
    for i, img in enumerate(inputs):
        label = names[i] if i < len(names) else i
        if isinstance(label, int) and 0 <= label < len(model.classes):
            c = label
        elif isinstance(label, str) and label in model.classes:
            c = model.classes.index(label)
        elif input_classes is not None:
            c = int(input_classes[i])
        else:
            with torch.inference_mode():
                c = int(model.net(model.preprocess(img.cpu()))[0].argmax())
        target[c] += float(weights[i])
        views.append(InputView(label, c, model.classes[c], float(weights[i]), float(probs[c])))
    mass = target > 0
    kl = float((target[mass] * (target[mass] / probs.double()[mass].clamp_min(1e-12)).log()).sum())
    return NetworkView(predictions(model, logits, k), views, kl)
