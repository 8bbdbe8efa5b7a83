"""Methods guided by saliency or by a model's maps. The maps are inputs: a caller computes them once
per image (and caches them) and re-rolls the mix for free; without them the method computes its own.

SaliencyMix (Uddin, Monira, Shin, Chung & Bae, ICLR 2021).
"""
from __future__ import annotations

import torch

from ..registry import register
from ..sampling import centred_boxes
from ..saliency import KINDS, static_saliency
from ..types import ParamSpec
from .base import TwoInputMask
from .cut import _areas_w, box_map


@register(
    name="saliencymix", title="SaliencyMix", family="guided", n_inputs=2, needs="saliency",
    params=(ParamSpec("saliency", "fine_grained", choices=KINDS,
                      help="OpenCV static saliency of the source image (the paper: fine-grained)"),),
    paper="Uddin, Monira, Shin, Chung & Bae. SaliencyMix: A Saliency Guided Data Augmentation Strategy for Better "
          "Regularization. ICLR 2021.",
    summary="Like CutMix, but the box is centred on the most salient pixel of the second image, so the patch carries "
            "its object; it is pasted at the same place in the first image and λ is corrected by the clipped area.",
    formula=r"(c_y, c_x) = \arg\max S(x_B),\quad \text{box} = W\sqrt{1-\lambda} \times H\sqrt{1-\lambda} \text{ at } "
            r"(c_y, c_x),\quad \lambda' = 1 - \frac{|\text{box} \cap \text{image}|}{WH}",
)
class SaliencyMix(TwoInputMask):
    """One box per sample, centred on its own source's saliency peak (the reference draws one box per
    batch from one image's saliency)."""

    def draw(self, d):
        lam = d.lam_or_beta()
        cut = torch.sqrt(1 - lam)
        return {"lam": lam, "box_h": (d.height * cut).floor().long(), "box_w": (d.width * cut).floor().long()}

    def per_image(self, x, params, maps=None):
        if maps is None:
            maps = torch.stack([static_saliency(img.cpu(), params["saliency"]) for img in x]).to(x.device)
        peak = maps.flatten(1).argmax(1)
        return {"saliency": maps, "peak_y": peak // maps.shape[2], "peak_x": peak % maps.shape[2]}

    def _boxes(self, p, height, width):
        source = p["_inputs"][1]
        return centred_boxes(source["peak_y"], source["peak_x"], p["box_h"], p["box_w"], height, width)

    def mask1(self, p, like):
        return box_map(self._boxes(p, *like.shape[2:]), like)

    def weights_for(self, p, k, height, width):
        b = self._boxes(p, height, width)
        return _areas_w((b["y2"] - b["y1"]) * (b["x2"] - b["x1"]), height, width)

    def info(self, p, xs):
        info = super().info(p, xs)
        h, w = xs[0].shape[2:]
        info.update({key: int(v[0]) for key, v in self._boxes(p, h, w).items()})
        info["peak"] = (int(p["_inputs"][1]["peak_y"][0]), int(p["_inputs"][1]["peak_x"][0]))
        info["lam_corrected"] = float(self.weights_for(p, 2, h, w)[0, 0])
        info["saliency"] = p["_inputs"][1]["saliency"][0]
        return info
