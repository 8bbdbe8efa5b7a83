"""Pictures of the maps that guided a mix, with what the method chose drawn on them: SaliencyMix's
peak and box, Attentive CutMix's grid cells, SnapMix's semantic percent maps and boxes, TdAttenMix's
squares, Puzzle Mix's saliency, blocks and mask."""
from __future__ import annotations

from typing import Sequence

import torch
from PIL import Image, ImageDraw

from ..imaging import overlay, to_pil
from ..methods.base import cell_bounds
from ..types import MixResult
from .style import MARK, REPLACED, TAKEN



def _rect(img: Image.Image, y1, y2, x1, x2, colour, width: int = 3) -> None:
    if y2 > y1 and x2 > x1:
        ImageDraw.Draw(img).rectangle((x1, y1, x2 - 1, y2 - 1), outline=colour, width=width)


def _cross(img: Image.Image, y, x, colour=MARK, r: int = 8) -> None:
    d = ImageDraw.Draw(img)
    d.line((x - r, y, x + r, y), fill=colour, width=3)
    d.line((x, y - r, x, y + r), fill=colour, width=3)


def _grid(img: Image.Image, g: int, colour=MARK) -> None:
    d = ImageDraw.Draw(img)
    for a, _ in cell_bounds(img.height, g)[1:]:
        d.line((0, a, img.width, a), fill=colour, width=1)
    for a, _ in cell_bounds(img.width, g)[1:]:
        d.line((a, 0, a, img.height), fill=colour, width=1)


def guide_views(r: MixResult, inputs: torch.Tensor, alpha: float = 0.5,
                classes: Sequence[str] | None = None) -> list[tuple[str, Image.Image]]:
    """(caption, picture) of each map behind `r` on its input (at the common size); [] for unguided methods.
    `classes`: per input, the words naming the ImageNet class its CAM or loss gradient is for (such as
    '“canoe” (the photo's ImageNet class)'), written into the captions of the maps that have a class."""
    i = r.info
    views = []

    def of(j: int) -> str:
        return f" for {classes[j]}" if classes else ""

    if r.method == "saliencymix":
        img = to_pil(overlay(inputs[1], i["saliency"], alpha))
        _rect(img, i["y1"], i["y2"], i["x1"], i["x2"], REPLACED)
        _cross(img, *i["peak"])
        views.append(("saliency of input 2: peak (+) and the box around it", img))
    elif r.method == "attentivemix":
        g = int(i["attention"].shape[0])
        img = to_pil(overlay(inputs[1], i["attention"], alpha))
        _grid(img, g)
        rows, cols = cell_bounds(img.height, g), cell_bounds(img.width, g)
        for cell in i["cells_pasted"]:
            (y1, y2), (x1, x2) = rows[cell // g], cols[cell % g]
            _rect(img, y1, y2, x1, x2, REPLACED)
        views.append((f"input 2's feature attention (the channel sum of its final features: no class) on a {g}×{g} "
                      f"grid: the {len(i['cells_pasted'])} cells pasted", img))
    elif r.method == "snapmix":
        a = to_pil(overlay(inputs[0], i["spm"][0], alpha))
        _rect(a, i["y1"], i["y2"], i["x1"], i["x2"], REPLACED)
        b = to_pil(overlay(inputs[1], i["spm"][1], alpha))
        _rect(b, i["y1_src"], i["y2_src"], i["x1_src"], i["x2_src"], TAKEN)
        views += [(f"SPM of input 1, its CAM{of(0)}: box replaced, ρa = {i['rho_a']:.3f}", a),
                  (f"SPM of input 2, its CAM{of(1)}: box taken, ρb = {i['rho_b']:.3f}", b)]
    elif r.method == "tdattenmix":
        a = to_pil(overlay(inputs[0], i["attention"][0], alpha))
        _rect(a, i["y1"], i["y2"], i["x1"], i["x2"], REPLACED)
        b = to_pil(overlay(inputs[1], i["attention"][1], alpha))
        _rect(b, i["src_y"], i["src_y2"], i["src_x"], i["src_x2"], TAKEN)
        views += [(f"attention of input 1 (its SPM{of(0)}, with saliency): its least attended square is replaced", a),
                  (f"attention of input 2 (its SPM{of(1)}, with saliency): its most attended square is taken", b)]
    elif r.method == "puzzlemix":
        g = i["blocks"]
        for j in (0, 1):
            img = to_pil(overlay(inputs[j], i["saliency"][j], alpha))
            _grid(img, g)
            views.append((f"gradient saliency of input {j + 1}{of(j)}, {g}×{g} blocks, {i['moved'][j]} moved", img))
        mask = i["block_mask"].repeat_interleave(8, 0).repeat_interleave(8, 1)
        views.append(("block mask: share of input 1 (white 1, grey ½, black 0)", to_pil(mask).resize(
            (inputs.shape[3], inputs.shape[2]), Image.NEAREST)))
    return views
