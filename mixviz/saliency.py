"""Saliency maps: OpenCV's static saliency, fine-grained (Montabone & Soto, Image and Vision Computing
2010; what SaliencyMix uses) and spectral residual (Hou & Zhang, CVPR 2007), and gradient saliency
(Simonyan, Vedaldi & Zisserman, ICLR Workshops 2014) with the variant Puzzle Mix uses (Kim, Choo & Song,
ICML 2020)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .imaging import ImageLike, image_size, to_tensor
from .types import MixError

KINDS = ("fine_grained", "spectral_residual")


def static_saliency(image: ImageLike, kind: str = "fine_grained") -> torch.Tensor:
    """(H, W) float saliency in [0, 1] from OpenCV's cv2.saliency, on the 8-bit image."""
    if kind not in KINDS:
        raise MixError(f"saliency kind must be one of {KINDS}, got {kind!r}")
    import cv2  # loaded on first use: `import mixviz` must not load OpenCV

    rgb = (to_tensor(image).clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    maker = (cv2.saliency.StaticSaliencyFineGrained_create if kind == "fine_grained"
             else cv2.saliency.StaticSaliencySpectralResidual_create)
    ok, sal = maker().computeSaliency(bgr)
    if not ok:
        raise MixError(f"OpenCV could not compute {kind} saliency for this image")
    sal = np.asarray(sal, dtype=np.float32)
    if sal.max() > 1.0:  # some OpenCV builds return 0..255
        sal = sal / 255.0
    return torch.from_numpy(np.clip(sal, 0, 1))


GRADIENTS = ("simonyan", "puzzlemix")


@dataclass
class GradientSaliency:
    """map: the gradient's size per pixel at the network's input (S × S); high: the same map resized
    to the image; class_index: the class it explains."""

    map: torch.Tensor
    high: torch.Tensor
    class_index: int


def gradient_saliencies(model, images: list[ImageLike], classes: list[int] | None = None,
                        kind: str = "simonyan") -> list[GradientSaliency]:
    """Gradient saliency of each image for its class in `classes` (default: its top prediction), in one
    batched pass. "simonyan": max over colour channels of |∂score/∂x|; "puzzlemix": ℓ2 norm over colour
    channels of ∂loss/∂x, the cross-entropy loss of that class (the paper uses the training label)."""
    if kind not in GRADIENTS:
        raise MixError(f"gradient saliency kind must be one of {GRADIENTS}, got {kind!r}")
    with torch.enable_grad():
        x = torch.cat([model.preprocess(img) for img in images]).detach().requires_grad_(True)
        logits = model.net(x)
        c = logits.argmax(1) if classes is None else torch.as_tensor(classes, device=x.device)
        # the network is in eval mode, so each image's gradient comes from its own term alone
        target = (logits.gather(1, c[:, None]).sum() if kind == "simonyan"
                  else F.cross_entropy(logits, c, reduction="sum"))
        grad, = torch.autograd.grad(target, x)
    sal = (grad.abs().amax(1) if kind == "simonyan" else torch.linalg.vector_norm(grad, dim=1)).detach()
    out = []
    for img, s, ci in zip(images, sal, c.tolist()):
        high = F.interpolate(s[None, None], size=image_size(img), mode="bilinear", align_corners=False)[0, 0]
        out.append(GradientSaliency(s.cpu(), high.cpu(), ci))
    return out


def gradient_saliency(model, image: ImageLike, class_index: int | None = None,
                      kind: str = "simonyan") -> GradientSaliency:
    """Gradient saliency of one image (see gradient_saliencies)."""
    return gradient_saliencies(model, [image], None if class_index is None else [class_index], kind)[0]
