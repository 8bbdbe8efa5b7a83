"""Methods guided by saliency or by a model's maps. The maps are inputs: a caller computes them once
per image (and caches them) and re-rolls the mix for free; without them the method computes its own.

SaliencyMix (Uddin, Monira, Shin, Chung & Bae, ICLR 2021); Attentive CutMix (Walawalkar et al., ICASSP 2020).
"""
from __future__ import annotations

import torch

from ..registry import register
from ..sampling import centred_boxes
from ..saliency import KINDS, static_saliency
from ..types import ParamSpec
from .base import TwoInputMask, cell_bounds
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


def feature_attention(x: torch.Tensor, model=None) -> torch.Tensor:
    """(N, h, w) attention of each image of x: the channel sum of the model's final feature map
    (the grid its global pooling sees; 7×7 for EfficientNet-Lite0 at 224, 10×10 for Xception at 299)."""
    from ..models import load_model

    model = model or load_model()
    with torch.inference_mode():
        maps = [model.net.forward_features(model.preprocess(img.cpu()))[0].float().sum(0) for img in x]
    return torch.stack(maps).to(x.device)


@register(
    name="attentivemix", title="Attentive CutMix", family="guided", n_inputs=2, needs="model",
    params=(ParamSpec("cells", 6, 1, 49, 1, "N: how many of the most attended grid cells are pasted (paper: 6 of 49)"),
            ParamSpec("grid", 7, 2, 16, 1, "the attention grid is G×G (paper: ResNet-50's 7×7 at 224 px)")),
    paper="Walawalkar, Shen, Liu & Savvides. Attentive CutMix: An Enhanced Data Augmentation Approach for Deep "
          "Learning Based Image Classification. ICASSP 2020.",
    summary="A pretrained network's final feature map (summed over channels) tells where it looks in the second "
            "image; its N most attended cells of a G×G grid are pasted at the same places in the first image. "
            "The label is the pasted share, N/G² when G divides the image.",
    formula=r"A = \sum_k F_k(x_B)\ \text{on a } G\times G \text{ grid},\quad M = \bigcup \mathrm{top}_N(A),"
            r"\quad \tilde x = (1-M)\odot x_A + M\odot x_B,\quad \lambda = 1 - \bar M",
    uses_lam=False,
)
class AttentiveMix(TwoInputMask):
    """Attention comes from `maps` (any size, average-pooled to the grid) or from the best available
    pretrained model (mixviz.load_model()). Grid cells span [⌈kH/G⌉, ⌈(k+1)H/G⌉)."""

    def draw(self, d):
        return {"_cells": d.params["cells"], "_grid": d.params["grid"]}

    def per_image(self, x, params, maps=None):
        attention = feature_attention(x) if maps is None else maps
        g = params["grid"]
        grid = torch.nn.functional.adaptive_avg_pool2d(attention[:, None].float(), g)[:, 0]
        top = grid.flatten(1).topk(min(params["cells"], g * g), dim=1).indices
        chosen = torch.zeros(x.shape[0], g * g, dtype=torch.bool, device=x.device)
        chosen.scatter_(1, top, True)
        return {"attention": grid, "chosen": chosen}

    def mask1(self, p, like):
        h, w = like.shape[2:]
        g = p["_grid"]
        row_cell = torch.cat([torch.full((b - a,), k) for k, (a, b) in enumerate(cell_bounds(h, g))])
        col_cell = torch.cat([torch.full((b - a,), k) for k, (a, b) in enumerate(cell_bounds(w, g))])
        cell = (row_cell[:, None] * g + col_cell[None, :]).to(like.device)
        chosen = p["_inputs"][1]["chosen"]
        return chosen[:, cell.flatten()].view(-1, 1, h, w).to(like.dtype)

    def weights_for(self, p, k, height, width):
        like = torch.empty(1, 1, height, width, device=p["_inputs"][1]["chosen"].device)
        share1 = self.mask1(p, like).flatten(1).double().mean(1)
        return torch.stack([1 - share1, share1], 1)

    def info(self, p, xs):
        info = super().info(p, xs)
        info["attention"] = p["_inputs"][1]["attention"][0]
        info["cells_pasted"] = [int(i) for i in p["_inputs"][1]["chosen"][0].nonzero()[:, 0]]
        return info
