"""Saliency maps: OpenCV's static saliency, fine-grained (Montabone & Soto, Image and Vision Computing
2010; what SaliencyMix uses) and spectral residual (Hou & Zhang, CVPR 2007), and gradient saliency
(Simonyan, Vedaldi & Zisserman, ICLR Workshops 2014) with the variant Puzzle Mix uses (Kim, Choo & Song,
ICML 2020)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..imaging import ImageLike, image_size, to_tensor
from ..methods.guided import ENCODINGS, KINDS  # noqa: F401  (the choices of SaliencyMix's parameters)
from ..types import MixError

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def static_saliency(image: ImageLike, kind: str = "fine_grained", encoding: str = "uint8",
                    mean: tuple[float, float, float] = IMAGENET_MEAN,
                    std: tuple[float, float, float] = IMAGENET_STD) -> torch.Tensor:
    """(H, W) float saliency in [0, 1] from OpenCV's cv2.saliency.

    encoding says what OpenCV is given:
    - "uint8" (default): the image rounded to 8 bits, in OpenCV's BGR order; the detector's grey image is
      then the image's luminance, and its map is what the SaliencyMix paper's figures show.
    - "imagenet_float": what the SaliencyMix authors' code passes (afm-shahab-uddin/SaliencyMix,
      saliency_bbox): the tensor normalised by `mean` and `std` in float32 (torchvision's Normalize:
      subtract, then divide), H×W×C in RGB order, values about -2.1..2.6. OpenCV's fine-grained detector
      (opencv_contrib staticSaliencyFineGrained.cpp, unchanged in 4.x and 5.0) keeps such an image in
      float for its grey image and integral image, but reads every centre pixel with
      gray.at<uchar>(y, x): byte x of row y's float32 values, not a pixel. Its map is byte noise with the
      image's outline faintly in it; its maximum is reached at 2-204 pixels spread over the image (2-4
      for "uint8"), and the first of them in raster order, the authors' peak, lies within 20 rows of
      the top in 17 of the 21 bundled photos at 384 px, and on the object in 3 of the 12 photos with an
      object box (the "uint8" peak: 10 of 12). Measured with OpenCV 5.0; tests/reference/test_saliencymix.py
      checks it. Use it to reproduce the authors' boxes exactly.
    """
    if kind not in KINDS:
        raise MixError(f"saliency kind must be one of {KINDS}, got {kind!r}")
    if encoding not in ENCODINGS:
        raise MixError(f"saliency encoding must be one of {ENCODINGS}, got {encoding!r}")
    import cv2  # loaded on first use: `import mixviz` must not load OpenCV

    x = to_tensor(image).detach().cpu()
    if encoding == "uint8":
        rgb = (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        array = np.ascontiguousarray(rgb[:, :, ::-1])
    else:  # the same float32 operations as torchvision's Normalize, so every byte OpenCV reads is the same
        m = torch.as_tensor(mean, dtype=torch.float32)[:, None, None]
        s = torch.as_tensor(std, dtype=torch.float32)[:, None, None]
        array = np.ascontiguousarray(((x - m) / s).permute(1, 2, 0).numpy())
    maker = (cv2.saliency.StaticSaliencyFineGrained_create if kind == "fine_grained"
             else cv2.saliency.StaticSaliencySpectralResidual_create)
    ok, sal = maker().computeSaliency(array)
    if not ok:
        raise MixError(f"OpenCV could not compute {kind} saliency for this image")
    sal = np.asarray(sal, dtype=np.float32)
    if sal.max() > 1.0:  # OpenCV before 3.4.3 returned the fine-grained map as 0..255
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
