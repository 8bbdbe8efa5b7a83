"""Methods guided by saliency or by a model's maps. Each declares the maps it needs (`guide_maps`, kinds the
maps layer registers in mixviz.registry.MAP_KINDS) and the pictures that explain it (`guide_views`). The
maps are inputs: a caller computes them once per image (and caches them) and re-rolls the mix for free;
without them the engine computes them from the declared kinds.

SaliencyMix (Uddin et al., ICLR 2021), Attentive CutMix (Walawalkar et al., ICASSP 2020), SnapMix
(Huang et al., AAAI 2021), TdAttenMix (Wang, Gu & Lu, AAAI 2025; our variant, see its docstring).
"""
from __future__ import annotations

import torch

from ..registry import register
from ..sampling import centred_boxes, real
from ..types import MapNeed, ParamSpec
from .base import TwoInputMask, TwoInputPaste, cell_index
from .cut import _areas_w, box_area, box_map, cutmix_box_size, paste_or_blend

# OpenCV's static saliency detectors, and what the fine-grained one is given (mixviz.maps.saliency)
KINDS = ("fine_grained", "spectral_residual")
ENCODINGS = ("uint8", "imagenet_float")


@register(
    name="saliencymix", title="SaliencyMix", family="guided", n_inputs=2, needs="saliency",
    params=(ParamSpec("saliency", "fine_grained", choices=KINDS,
                      help="OpenCV static saliency of the source image (the paper: fine-grained)"),
            ParamSpec("saliency_input", "uint8", choices=ENCODINGS,
                      help="what OpenCV is given: the 8-bit image (the paper's figures) or, as the authors' code, "
                           "the ImageNet-normalised float tensor, whose bytes OpenCV's fine-grained detector reads "
                           "as pixels")),
    paper="Uddin, Monira, Shin, Chung & Bae. SaliencyMix: A Saliency Guided Data Augmentation Strategy for Better "
          "Regularization. ICLR 2021.",
    summary="Like CutMix, but the box is centred on the most salient pixel of the second image, so the patch carries "
            "its object; it is pasted at the same place in the first image and λ is corrected by the clipped area. "
            "We compute the saliency on the 8-bit image, as the paper's figures show it; the authors' code hands "
            "OpenCV the ImageNet-normalised float tensor, whose bytes OpenCV's fine-grained detector reads as "
            "pixels, so their peak comes from byte noise and lands on the object in 3 of our 12 photos with object "
            "boxes (ours: 10): choose saliency_input = imagenet_float for the authors' boxes exactly. Each sample "
            "gets its own box (the authors draw one box per batch).",
    formula=r"(c_y, c_x) = \arg\max S(x_B),\quad \text{box} = W\sqrt{1-\lambda} \times H\sqrt{1-\lambda} \text{ at } "
            r"(c_y, c_x),\quad \lambda' = 1 - \frac{|\text{box} \cap \text{image}|}{WH}",
)
class SaliencyMix(TwoInputMask):
    """One box per sample, centred on its own source's saliency peak (the reference draws one box per
    batch from one image's saliency).

    The default feeds OpenCV the 8-bit image; `saliency_input="imagenet_float"` feeds what the authors'
    `saliency_bbox` feeds (normalised float32, RGB, H×W×C), on which OpenCV ≥ 3.4.3 reads each centre
    pixel as a byte of the floats; its maximum is reached at 2–204 scattered pixels and the first in
    reading order wins, so the authors' peak sits within 20 rows of the top in 17 of 21 bundled photos
    (see mixviz.maps.saliency.static_saliency and tests/reference/test_saliencymix.py). The paper's accuracies
    were obtained with that peak."""

    copies_pixels = True

    guide_views = ("saliency_peak",)

    def guide_maps(self, config):
        return (MapNeed("saliency", (("kind", config["saliency"]), ("encoding", config["saliency_input"]))),)

    def draw(self, c):
        d = c.ctx
        lam = d.lam_or_beta()
        box_h, box_w = cutmix_box_size(lam, d.height, d.width)
        return {"lam": lam, "box_h": box_h, "box_w": box_w}

    def per_image(self, c, x, maps):
        peak = maps.flatten(1).argmax(1)
        return {"saliency": maps, "peak_y": peak // maps.shape[2], "peak_x": peak % maps.shape[2]}

    def _boxes(self, c):
        source = c.inputs[1]
        return centred_boxes(source["peak_y"], source["peak_x"], c.draws["box_h"], c.draws["box_w"], c.height, c.width)

    def mask1(self, c, dtype):
        return box_map(self._boxes(c), c.height, c.width, dtype)

    def apply(self, c, out):
        paste_or_blend(self, c, self._boxes(c), out)

    def weights(self, c):
        """λ' = 1 − (clipped box area)/(HW) and 1 − λ'."""
        return _areas_w(box_area(self._boxes(c)), c.height, c.width)

    def info(self, c):
        info = super().info(c)
        info.update({key: int(v[0]) for key, v in self._boxes(c).items()})
        info["peak"] = (int(c.inputs[1]["peak_y"][0]), int(c.inputs[1]["peak_x"][0]))
        info["lam_corrected"] = float(self.weights(c)[0, 0])
        info["saliency"] = c.inputs[1]["saliency"][0]
        return info


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

    copies_pixels = True

    maps_any_size = True
    guide_views = ("attention_cells",)

    def guide_maps(self, config):
        return (MapNeed("feature_attention"),)

    def draw(self, c):
        return {}

    def per_image(self, c, x, maps):
        g = c.config["grid"]
        grid = torch.nn.functional.adaptive_avg_pool2d(maps[:, None].float(), g)[:, 0]
        top = grid.flatten(1).topk(min(c.config["cells"], g * g), dim=1).indices
        chosen = torch.zeros(x.shape[0], g * g, dtype=torch.bool, device=x.device)
        chosen.scatter_(1, top, True)
        return {"attention": grid, "chosen": chosen}

    def mask1(self, c, dtype):
        h, w, g = c.height, c.width, c.config["grid"]
        chosen = c.inputs[1]["chosen"]
        cell = cell_index(h, g, chosen.device)[:, None] * g + cell_index(w, g, chosen.device)[None, :]
        return chosen[:, cell.flatten()].view(-1, 1, h, w).to(dtype)

    def weights(self, c):
        """The pasted share of the pixels (N/G² where G divides the image)."""
        share1 = real(self.mask1(c, torch.float32).flatten(1)).mean(1)
        return torch.stack([1 - share1, share1], 1)

    def info(self, c):
        info = super().info(c)
        info["attention"] = c.inputs[1]["attention"][0]
        info["cells_pasted"] = [int(i) for i in c.inputs[1]["chosen"][0].nonzero()[:, 0]]
        return info


def _box_mass(maps: torch.Tensor, boxes: dict, suffix: str = "") -> torch.Tensor:
    """Per-sample sum of maps (B, H, W) inside box [y1, y2) × [x1, x2) (keys with `suffix`)."""
    inside = box_map({k: boxes[k + suffix] for k in ("y1", "y2", "x1", "x2")}, *maps.shape[1:], maps.dtype)[:, 0]
    return (maps * inside).flatten(1).sum(1)


@register(
    name="snapmix", title="SnapMix", family="guided", n_inputs=2, needs="model", params=(),
    paper="Huang, Wang & Tao. SnapMix: Semantically Proportional Mixing for Augmenting Fine-grained Data. AAAI 2021.",
    summary="A box of the second image is resized into an independent box of the first; each label weight is the "
            "share of that image's class activation (its semantic percent map) that ends up in the mix, so the "
            "two weights need not sum to 1. Where both images share a class, that class carries 2(ρa + ρb), the "
            "weight the authors' loss gives it, which can exceed 1. β = 5, the authors' value.",
    formula=r"\rho_a = 1 - \sum_{\text{box}_a} S_a,\quad \rho_b = \sum_{\text{box}_b} S_b,\quad "
            r"S = \frac{\mathrm{CAM} - \min \mathrm{CAM}}{\sum (\mathrm{CAM} - \min \mathrm{CAM})},\quad "
            r"\tilde y = \rho_a y_A + \rho_b y_B",
    label_rule="semantic", alpha=5.0,
)
class SnapMix(TwoInputPaste):
    """Boxes as CutMix draws them, from λ (target, in the first image) and an independent λ₁ (source, in
    the second). Maps: `maps` (semantic percent maps, or any non-negative maps, normalised here) or the
    CAM of each image's top prediction from mixviz.load_model(); the paper uses each image's labelled
    class (pass `maps` made with `semantic_percent_maps(x, classes=...)`). Where both images share a
    class the authors set both partial labels to ρa + ρb and train with CE(y_a)·ρ'a + CE(y_b)·ρ'b, so
    that class's loss weight is 2(ρa + ρb): the label carries that weight, in `mix` and in `mix_batch`
    targets (`class_weights`), and may exceed 1. Where a map is empty the weights fall back to area
    ratios, and where a box is empty nothing is pasted (weights 1 and 0)."""

    guide_views = ("semantic_boxes",)

    def guide_maps(self, config):
        return (MapNeed("semantic_percent"),)

    def draw(self, c):
        d = c.ctx
        out = {}
        for suffix, lam in (("", d.lam_or_beta()), ("_src", d.beta(d.alpha) if d.lam is None else d.lam_or_beta())):
            bh, bw = cutmix_box_size(lam, d.height, d.width)
            boxes = centred_boxes(d.randint(d.height), d.randint(d.width), bh, bw, d.height, d.width)
            out.update({k + suffix: v for k, v in boxes.items() if not k.endswith("_raw")})
            out["lam" + suffix] = lam
        return out

    def per_image(self, c, x, maps):
        maps = maps.clamp_min(0)
        return {"spm": maps / maps.flatten(1).sum(1).clamp_min(1e-12)[:, None, None]}

    def _active(self, c, dtype):
        p = c.draws
        return ((box_area(p) > 0) & (box_area(p, "_src") > 0)).to(dtype).view(-1, 1, 1, 1)

    def mask1(self, c, dtype):
        return box_map(c.draws, c.height, c.width, dtype) * self._active(c, dtype)

    def used(self, c, masks):
        """The first image outside its box; the second image inside its own, independent box."""
        source = {k: c.draws[k + "_src"] for k in ("y1", "y2", "x1", "x2")}
        taken = box_map(source, c.height, c.width, masks.dtype) * self._active(c, masks.dtype)
        return torch.cat([masks[:, :1], taken], 1)

    def class_weights(self, c, weights, same):
        both = weights.sum(1, keepdim=True).expand_as(weights)
        return torch.where(same[:, None], both, weights)

    def paste(self, c, out):
        x1, p = c.xs[1], c.draws
        keys = ("y1", "y2", "x1", "x2", "y1_src", "y2_src", "x1_src", "x2_src")
        for i, (t, b, l, r, ts, bs, ls, rs) in enumerate(torch.stack([p[k] for k in keys], 1).tolist()):
            if b > t and r > l and bs > ts and rs > ls:
                out[i:i + 1, :, t:b, l:r] = torch.nn.functional.interpolate(
                    x1[i:i + 1, :, ts:bs, ls:rs], size=(b - t, r - l), mode="bilinear", align_corners=True)

    def weights(self, c):
        """ρa = 1 − (input A's SPM under its box), ρb = (input B's SPM in the box taken)."""
        p = c.draws
        first, second = c.inputs[0]["spm"], c.inputs[1]["spm"]
        rho_a = 1 - _box_mass(first, p)
        rho_b = _box_mass(second, p, "_src")
        area = real(box_area(p)) / (c.height * c.width)
        defined = (first.flatten(1).sum(1) > 0) & (second.flatten(1).sum(1) > 0)
        rho_a = torch.where(defined, real(rho_a), 1 - area)
        rho_b = torch.where(defined, real(rho_b), area)
        active = (box_area(p) > 0) & (box_area(p, "_src") > 0)
        return torch.stack([torch.where(active, rho_a, 1.0), torch.where(active, rho_b, 0.0)], 1)

    def info(self, c):
        info = super().info(c)
        w = self.weights(c)[0]
        info.update({"rho_a": float(w[0]), "rho_b": float(w[1]), "weights_sum": float(w.sum()),
                     "spm": [c.inputs[j]["spm"][0] for j in range(2)]})
        return info


def td_attention(spm: torch.Tensor, saliency: torch.Tensor, balance: float) -> torch.Tensor:
    """TdAttenMix's attention in our variant: balance·SPM + (1 − balance)·saliency, both (N, H, W)
    maps normalised to sum 1 per image first."""
    def unit(m):
        return m / m.flatten(1).sum(1).clamp_min(1e-12)[:, None, None]
    return balance * unit(spm) + (1 - balance) * unit(saliency)


def _window_sums(integral: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
    """(B, H, W) attention mass of the side×side square whose top-left corner is each pixel, from the
    integral images (B, H + 1, W + 1); +nan where the square would leave the image."""
    b, h1, w1 = integral.shape
    h, w = h1 - 1, w1 - 1
    ys = torch.arange(h, device=integral.device)[None]
    xs = torch.arange(w, device=integral.device)[None]
    y2, x2 = (ys + side[:, None]).clamp(max=h), (xs + side[:, None]).clamp(max=w)
    bi = torch.arange(b, device=integral.device)[:, None, None]
    sums = (integral[bi, y2[:, :, None], x2[:, None, :]] - integral[bi, ys[:, :, None], x2[:, None, :]]
            - integral[bi, y2[:, :, None], xs[:, None, :]] + integral[bi, ys[:, :, None], xs[:, None, :]])
    valid = (ys <= h - side[:, None])[:, :, None] & (xs <= w - side[:, None])[:, None, :]
    return torch.where(valid, sums, torch.full_like(sums, float("nan")))


TOKENS = 14  # the reference's token grid: ViT-B/16 at 224 px
SIDES = (int(TOKENS * 0.25), int(TOKENS * 0.75))  # squares of 3 to 10 tokens, the reference's sizes


def token_grid(height: int, width: int) -> tuple[int, int, int, int]:
    """(rows, columns, token height, token width) of the token grid on an image: 14 × 14 tokens of
    ⌊H/14⌋ × ⌊W/14⌋ pixels from the top-left corner (what unfold with stride = patch covers), fewer on
    images under 14 pixels a side."""
    th, tw = max(1, height // TOKENS), max(1, width // TOKENS)
    return min(TOKENS, height // th), min(TOKENS, width // tw), th, tw


@register(
    name="tdattenmix", title="TdAttenMix (our variant)", family="guided", n_inputs=2, needs="model",
    params=(ParamSpec("balance", 0.5, 0.0, 1.0, 0.05,
                      "share of top-down attention (the class CAM) against bottom-up attention (saliency)"),
            ParamSpec("saliency", "fine_grained", choices=KINDS, help="bottom-up attention: OpenCV static saliency")),
    paper="Wang, Gu & Lu. TdAttenMix: Top-Down Attention Guided Mixup. AAAI 2025.",
    summary="The second image's most attended square is pasted onto the first image's least attended square, and "
            "λ averages the area share with the attention share. As in the authors' code the square is 3 to 10 "
            "tokens a side (uniform) on a 14×14 token grid, aligned to it; a fixed λ sets the side within that "
            "range. Our variant differs in three ways: the paper's attention needs a pretrained AbSViT checkpoint "
            "we cannot ship, so top-down is the CAM of the image's class and bottom-up is static saliency; each "
            "sample draws its own square (the authors draw one per batch); and the attention share uses the "
            "second image's attention over the square it gives, per sample (the authors' code sums the first "
            "image's map at those grid positions, over the whole batch).",
    formula=r"A = \beta\,\mathrm{CAM} + (1-\beta)\,S,\quad s \sim U\{3..10\}\ \text{tokens of}\ \tfrac{H}{14}\times"
            r"\tfrac{W}{14},\quad \text{box}_B = \arg\max_{s\times s} A_B,\ \text{box}_A = \arg\min_{s\times s} A_A,"
            r"\quad \lambda' = \tfrac12\Big(1 - \tfrac{s^2}{196} + \tfrac{1 - A_A(\text{box}_A)}{1 - A_A(\text{box}_A) + "
            r"A_B(\text{box}_B)}\Big)",
    alpha=None,
    lam_draw="the square's side is drawn uniformly from 3 to 10 tokens, as in the authors' code, so α plays no part",
)
class TdAttenMix(TwoInputPaste):
    """Attention maps: `maps` (any non-negative maps; normalised to sum 1 here) or, per image, the mix
    `balance`·SPM + (1 − balance)·saliency of two sum-1 maps (SPM: SnapMix's semantic percent map). The
    square is s × s tokens (`token_grid`), s ~ U{3, …, 10} as the reference's random.choice, or, for a
    fixed λ, round(14·√(1 − λ)) within that range; its corners lie on the token grid, and it is placed by
    the attention summed over each window of s × s tokens (stride one token), as the reference's unfold.
    The attention share of the first image is what it keeps of its attention over that plus what the
    pasted square brings of the second's; label weights are λ' (with the square's pixel area) and 1 − λ'."""

    copies_pixels = True

    guide_views = ("attention_squares",)

    def guide_maps(self, config):
        return (MapNeed("semantic_percent", name="spm"),
                MapNeed("saliency", (("kind", config["saliency"]), ("encoding", "uint8")), name="saliency"))

    def combine_maps(self, config, maps):
        return td_attention(maps["spm"], maps["saliency"], config["balance"])

    def draw(self, c):
        d = c.ctx
        ny, nx, th, tw = token_grid(d.height, d.width)
        top = min(SIDES[1], ny, nx)
        if d.lam is None:  # no λ is drawn: λ is then the area the first image keeps, the authors' lam1
            tokens = (SIDES[0] + d.randint(SIDES[1] - SIDES[0] + 1)).clamp(max=top)
            lam = 1 - real(tokens * th * tokens * tw) / (d.height * d.width)
        else:
            lam = d.lam_or_beta()
            tokens = torch.round(TOKENS * torch.sqrt(1 - lam)).long().clamp(min(SIDES[0], top), top)
        return {"lam": lam, "tokens": tokens}

    def per_image(self, c, x, maps):
        attention = real(maps.clamp_min(0))
        attention = attention / attention.flatten(1).sum(1).clamp_min(1e-12)[:, None, None]
        ny, nx, th, tw = token_grid(*x.shape[2:])
        grid = attention[:, :ny * th, :nx * tw].unflatten(1, (ny, th)).unflatten(3, (nx, tw)).sum((2, 4))
        integral = torch.nn.functional.pad(grid.cumsum(1).cumsum(2), (1, 0, 1, 0))
        return {"attention": attention, "integral": integral}

    def plan(self, c):
        """Corners of the first image's least and the second's most attended squares, and their masses."""
        tokens = c.draws["tokens"]
        th, tw = token_grid(c.height, c.width)[2:]
        low = _window_sums(c.inputs[0]["integral"], tokens)
        high = _window_sums(c.inputs[1]["integral"], tokens)
        nx = low.shape[2]
        a_at = torch.nan_to_num(low, nan=float("inf")).flatten(1).argmin(1)
        b_at = torch.nan_to_num(high, nan=float("-inf")).flatten(1).argmax(1)
        y1, x1, src_y, src_x = a_at // nx * th, a_at % nx * tw, b_at // nx * th, b_at % nx * tw
        return {"y1": y1, "x1": x1, "y2": y1 + tokens * th, "x2": x1 + tokens * tw,
                "src_y": src_y, "src_x": src_x, "src_y2": src_y + tokens * th, "src_x2": src_x + tokens * tw,
                "mass_a": low.flatten(1).gather(1, a_at[:, None])[:, 0],
                "mass_b": high.flatten(1).gather(1, b_at[:, None])[:, 0]}

    def mask1(self, c, dtype):
        return box_map(c.draws, c.height, c.width, dtype)

    def used(self, c, masks):
        """The first image outside its square; the second image inside the square it gives."""
        p = c.draws
        source = {"y1": p["src_y"], "y2": p["src_y2"], "x1": p["src_x"], "x2": p["src_x2"]}
        return torch.cat([masks[:, :1], box_map(source, c.height, c.width, masks.dtype)], 1)

    def paste(self, c, out):
        x1, p = c.xs[1], c.draws
        rows = torch.stack([p[k] for k in ("y1", "y2", "x1", "x2", "src_y", "src_x")], 1).tolist()
        for i, (y, y2, x, x2, sy, sx) in enumerate(rows):
            out[i, :, y:y2, x:x2] = x1[i, :, sy:sy + y2 - y, sx:sx + x2 - x]

    def weights(self, c):
        """λ' (the mean of the area share and the attention share) and 1 − λ'."""
        p = c.draws
        area1 = real(box_area(p)) / (c.height * c.width)
        kept, brought = 1 - p["mass_a"], p["mass_b"]
        total = kept + brought
        attention0 = torch.where(total > 0, kept / total.clamp_min(1e-12), 1 - area1)
        w0 = 0.5 * ((1 - area1) + attention0)
        return torch.stack([w0, 1 - w0], 1)

    def info(self, c):
        info = super().info(c)
        info["area_share"] = 1 - float(box_area(c.draws)[0]) / (c.height * c.width)
        info["lam_corrected"] = float(self.weights(c)[0, 0])
        info["attention"] = [c.inputs[j]["attention"][0] for j in range(2)]
        return info
