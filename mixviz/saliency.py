"""Saliency maps: OpenCV's static saliency, fine-grained (Montabone & Soto, Image and Vision Computing
2010; what SaliencyMix uses) and spectral residual (Hou & Zhang, CVPR 2007), and gradient saliency
(Simonyan, Vedaldi & Zisserman, ICLR Workshops 2014)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
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


@dataclass
class GradientSaliency:
    """map: max over colour channels of |∂score/∂x| at the network's input (S × S);
    high: the same map resized to the image; class_index: the score it explains."""

    map: torch.Tensor
    high: torch.Tensor
    class_index: int


def gradient_saliency(model, image: ImageLike, class_index: int | None = None) -> GradientSaliency:
    """Vanilla gradient saliency of `class_index` (default: the top prediction)."""
    height, width = image_size(image)
    with torch.enable_grad():
        x = model.preprocess(image).detach().requires_grad_(True)
        logits = model.net(x)[0]
        c = int(logits.argmax()) if class_index is None else int(class_index)
        grad, = torch.autograd.grad(logits[c], x)
    sal = grad[0].abs().amax(0).detach()
    high = F.interpolate(sal[None, None], size=(height, width), mode="bilinear", align_corners=False)[0, 0]
    return GradientSaliency(sal.cpu(), high.cpu(), c)
