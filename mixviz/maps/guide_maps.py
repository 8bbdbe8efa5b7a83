"""The per-image maps guided methods are steered by, registered as map kinds (mixviz.registry.MAP_KINDS)
so that the engine and the app compute what a method declares (Method.guide_maps) without naming it:

- "saliency": OpenCV static saliency (SaliencyMix; TdAttenMix's bottom-up attention);
- "feature_attention": the channel sum of a network's final features (Attentive CutMix), for no class;
- "semantic_percent": SnapMix's semantic percent map, the CAM of a class normalised to sum 1 (SnapMix;
  TdAttenMix's top-down attention);
- "loss_gradient": the ℓ2 norm over colours of the gradient of a class's loss (Puzzle Mix).
"""
from __future__ import annotations

import torch

from ..registry import register_map
from .saliency import gradient_saliencies, static_saliency


def feature_attention(x: torch.Tensor, model=None) -> torch.Tensor:
    """(N, h, w) attention of each image of x: the channel sum of the model's final feature map
    (the grid its global pooling sees; 7×7 for EfficientNet-Lite0 at 224, 10×10 for Xception at 299)."""
    from .models import load_model

    model = model or load_model()
    with torch.inference_mode():
        maps = [model.net.forward_features(model.preprocess(img.cpu()))[0].float().sum(0) for img in x]
    return torch.stack(maps).to(x.device)



def semantic_percent_maps(x: torch.Tensor, model=None, classes: torch.Tensor | None = None) -> torch.Tensor:
    """SnapMix's semantic percent maps (N, H, W): the CAM (with bias) of each image's class on its
    ReLU'd final features, resized to the image, shifted to be non-negative and normalised to sum 1.
    `classes` default to each image's top prediction."""
    from .models import load_model

    model = model or load_model()
    fc = model.classifier
    maps = []
    with torch.inference_mode():
        for i, img in enumerate(x):
            fmap = torch.relu(model.net.forward_features(model.preprocess(img.cpu()))[0].float())
            logits = fc(fmap.mean((1, 2)))
            c = int(logits.argmax()) if classes is None else int(classes[i])
            cam = torch.einsum("k,khw->hw", fc.weight[c].float(), fmap) + (fc.bias[c] if fc.bias is not None else 0)
            maps.append(torch.nn.functional.interpolate(cam[None, None], size=tuple(x.shape[2:]), mode="bilinear",
                                                        align_corners=False)[0, 0])
    spm = torch.stack(maps)
    spm = spm - spm.flatten(1).amin(1)[:, None, None]
    return (spm / spm.flatten(1).sum(1)[:, None, None]).to(x.device)


def puzzle_saliency(x: torch.Tensor, model=None, chunk: int = 16, classes: list[int] | None = None) -> torch.Tensor:
    """(N, H, W) Puzzle Mix saliency of each image of x: the ℓ2 norm over colour channels of the
    gradient of the cross-entropy loss of each image's class in `classes` (the paper: the training
    label; default: the model's top class), `chunk` images per backward pass. A training loop that has
    its own gradients passes `maps`."""
    from .models import load_model

    model = model or load_model()
    images = list(x.cpu())
    classes = None if classes is None else [int(c) for c in classes]
    maps = [g.high for i in range(0, len(images), chunk)
            for g in gradient_saliencies(model, images[i:i + chunk], kind="puzzlemix",
                                         classes=None if classes is None else classes[i:i + chunk])]
    return torch.stack(maps).to(x.device)


@register_map("saliency", per_class=False, uses_model=False, about="OpenCV's static saliency of the image")
def _saliency(x, options, classes=None, model=None):
    """options: kind (fine_grained, spectral_residual) and encoding (uint8, imagenet_float)."""
    kind, encoding = options.get("kind", "fine_grained"), options.get("encoding", "uint8")
    return torch.stack([static_saliency(img.cpu(), kind, encoding=encoding) for img in x]).to(x.device)


@register_map("feature_attention", per_class=False, uses_model=True,
              about="the channel sum of the network's final features")
def _feature_attention(x, options, classes=None, model=None):
    return feature_attention(x, model)


@register_map("semantic_percent", per_class=True, uses_model=True,
              about="the CAM of the image's class, shifted to be non-negative and normalised to sum 1")
def _semantic_percent(x, options, classes=None, model=None):
    return semantic_percent_maps(x, model, classes=None if classes is None else torch.tensor(classes))


@register_map("loss_gradient", per_class=True, uses_model=True,
              about="the ℓ2 norm over colours of the gradient of the class's loss")
def _loss_gradient(x, options, classes=None, model=None):
    return puzzle_saliency(x, model, classes=classes)
