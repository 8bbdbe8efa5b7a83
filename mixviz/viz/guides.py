"""Pictures of the maps that guided a mix, with what the method chose drawn on them: SaliencyMix's
peak and box, Attentive CutMix's grid cells, SnapMix's semantic percent maps and boxes, TdAttenMix's
squares, Puzzle Mix's saliency, blocks and mask, and any method's guide maps as they are.

Each picture is a view registered here by name (GUIDE_VIEWS); a method names the views that explain it
(Method.guide_views), so `guide_views` never names a method."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from PIL import Image, ImageDraw

from ..imaging import overlay, to_pil
from ..methods.base import cell_bounds
from ..registry import get
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


View = Callable[..., list[tuple[str, Image.Image]]]
GUIDE_VIEWS: dict[str, View] = {}


def guide_view(name: str):
    """Function decorator: register a view `f(r, inputs, alpha, of) -> [(caption, picture)]`, where
    `of(j)` gives the words " for <class>" for input j's class map (or "")."""
    def wrap(f: View) -> View:
        if name in GUIDE_VIEWS:
            raise RuntimeError(f"guide view {name!r} registered twice")
        GUIDE_VIEWS[name] = f
        return f
    return wrap


def guide_views(r: MixResult, inputs: torch.Tensor, alpha: float = 0.5,
                classes: Sequence[str] | None = None) -> list[tuple[str, Image.Image]]:
    """(caption, picture) of each map behind `r` on its input (at the common size): the views its method
    names (Method.guide_views); [] for unguided methods. `classes`: per input, the words naming the
    ImageNet class its CAM or loss gradient is for (such as '“canoe” (the photo's ImageNet class)'),
    written into the captions of the maps that have a class."""
    def of(j: int) -> str:
        return f" for {classes[j]}" if classes else ""

    views = []
    for name in get(r.method).impl.guide_views:
        if name not in GUIDE_VIEWS:
            raise KeyError(f"{r.method} names the guide view {name!r}, which is not registered "
                           f"(known: {', '.join(sorted(GUIDE_VIEWS))})")
        views += GUIDE_VIEWS[name](r, inputs, alpha, of)
    return views


@guide_view("maps")
def _maps(r, inputs, alpha, of):
    """Each input's guide map as it is (r.maps), for any guided method."""
    if r.maps is None:
        return []
    return [(f"guide map of input {j + 1}{of(j)}", to_pil(overlay(inputs[j], r.maps[j], alpha)))
            for j in range(min(len(r.maps), len(inputs)))]


@guide_view("saliency_peak")
def _saliency_peak(r, inputs, alpha, of):
    i = r.info
    img = to_pil(overlay(inputs[1], i["saliency"], alpha))
    _rect(img, i["y1"], i["y2"], i["x1"], i["x2"], REPLACED)
    _cross(img, *i["peak"])
    return [("saliency of input 2: peak (+) and the box around it", img)]


@guide_view("attention_cells")
def _attention_cells(r, inputs, alpha, of):
    i = r.info
    g = int(i["attention"].shape[0])
    img = to_pil(overlay(inputs[1], i["attention"], alpha))
    _grid(img, g)
    rows, cols = cell_bounds(img.height, g), cell_bounds(img.width, g)
    for cell in i["cells_pasted"]:
        (y1, y2), (x1, x2) = rows[cell // g], cols[cell % g]
        _rect(img, y1, y2, x1, x2, REPLACED)
    return [(f"input 2's feature attention (the channel sum of its final features: no class) on a {g}×{g} "
             f"grid: the {len(i['cells_pasted'])} cells pasted", img)]


def _replaced_and_taken(inputs, maps, replaced, taken, alpha, captions) -> list[tuple[str, Image.Image]]:
    """Input 1 on its map with the box it loses (y1, y2, x1, x2) in red, input 2 on its map with the box it
    gives in green: the two pictures of a paste between boxes (SnapMix, TdAttenMix)."""
    pictures = []
    for j, (box, colour) in enumerate(((replaced, REPLACED), (taken, TAKEN))):
        img = to_pil(overlay(inputs[j], maps[j], alpha))
        _rect(img, *box, colour)
        pictures.append((captions[j], img))
    return pictures


@guide_view("semantic_boxes")
def _semantic_boxes(r, inputs, alpha, of):
    i = r.info
    return _replaced_and_taken(inputs, i["spm"], (i["y1"], i["y2"], i["x1"], i["x2"]),
                               (i["y1_src"], i["y2_src"], i["x1_src"], i["x2_src"]), alpha,
                               (f"SPM of input 1, its CAM{of(0)}: box replaced, ρa = {i['rho_a']:.3f}",
                                f"SPM of input 2, its CAM{of(1)}: box taken, ρb = {i['rho_b']:.3f}"))


@guide_view("attention_squares")
def _attention_squares(r, inputs, alpha, of):
    i = r.info
    return _replaced_and_taken(inputs, i["attention"], (i["y1"], i["y2"], i["x1"], i["x2"]),
                               (i["src_y"], i["src_y2"], i["src_x"], i["src_x2"]), alpha,
                               (f"attention of input 1 (its SPM{of(0)}, with saliency): its least attended square "
                                "is replaced",
                                f"attention of input 2 (its SPM{of(1)}, with saliency): its most attended square "
                                "is taken"))


@guide_view("puzzle_blocks")
def _puzzle_blocks(r, inputs, alpha, of):
    i = r.info
    g = i["blocks"]
    views = []
    for j in (0, 1):
        img = to_pil(overlay(inputs[j], i["saliency"][j], alpha))
        _grid(img, g)
        views.append((f"gradient saliency of input {j + 1}{of(j)}, {g}×{g} blocks, {i['moved'][j]} moved", img))
    mask = i["block_mask"].repeat_interleave(8, 0).repeat_interleave(8, 1)
    views.append(("block mask: share of input 1 (white 1, grey ½, black 0)", to_pil(mask).resize(
        (inputs.shape[3], inputs.shape[2]), Image.NEAREST)))
    return views
