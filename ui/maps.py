"""The maps a guided method needs for the chosen images, from ui.store's per-image cache, so that a
re-roll or a slider move reuses them instead of recomputing saliency or running the network; and the
ImageNet class each class map is for: a select per input, and the words that say where it came from."""
from __future__ import annotations

from typing import Callable

import streamlit as st
import torch

from mixviz.maps.saliency import static_saliency
from mixviz.methods.guided import feature_attention, semantic_percent_maps, td_attention
from mixviz.methods.puzzle import puzzle_saliency

from . import images, models

CLASS_MAPS = ("snapmix", "tdattenmix", "puzzlemix")  # their maps are one ImageNet class's CAM or loss gradient
CLASS_FREE = {"attentivemix": "Attentive CutMix's map is the channel sum of the network's final features: "
                              "it is the same for every class, so there is no class to choose."}


@st.cache_resource(max_entries=128, show_spinner=False)  # ≤ 128 × 0.6 MB; a miss costs a forward pass
def guide_map(kind: str, key: str, size: tuple[int, int], class_index: int | None = None) -> torch.Tensor:
    """(H, W) one image's map at the common size: "saliency:<opencv kind>[:<input encoding>]" (the 8-bit
    image by default, see mixviz.maps.saliency.static_saliency), "attention" (the model's
    final feature grid, the same for every class), and, for the ImageNet class `class_index` (part of the
    cache key, required), "spm" (SnapMix's semantic percent map: that class's CAM) or "puzzle" (the
    gradient of that class's loss)."""
    x = images.at_size(key, size)[None]
    if kind.startswith("saliency:"):
        opencv_kind, _, encoding = kind.removeprefix("saliency:").partition(":")
        return static_saliency(x[0], opencv_kind, encoding=encoding or "uint8")
    if kind == "attention":
        return feature_attention(x, models.model())[0]
    if kind in ("spm", "puzzle"):
        if class_index is None:
            raise ValueError(f"a {kind!r} map is for one class: pass class_index")
        if kind == "spm":
            return semantic_percent_maps(x, models.model(), classes=torch.tensor([int(class_index)]))[0]
        return puzzle_saliency(x, models.model(), classes=[int(class_index)])[0]
    raise ValueError(f"unknown map kind {kind!r}")


def maps_for(method: str, keys: tuple[str, ...], size: tuple[int, int], params: dict,
             classes: tuple[int, ...] | None = None) -> torch.Tensor | None:
    """(K, H, W) the guide maps of `method` for the images `keys` at the common `size`, or None for a
    method that needs none (it then computes nothing either). `classes`: the ImageNet class of each
    image's CAM or loss gradient (default: models.default_class, the photo's own class or an upload's top
    prediction)."""
    def stack(kind: str) -> torch.Tensor:
        if kind in ("spm", "puzzle"):
            chosen = classes or tuple(models.default_class(key, size) for key in keys)
            return torch.stack([guide_map(kind, key, size, c) for key, c in zip(keys, chosen)])
        return torch.stack([guide_map(kind, key, size) for key in keys])

    if method == "saliencymix":
        return stack(f"saliency:{params.get('saliency', 'fine_grained')}:{params.get('saliency_input', 'uint8')}")
    if method == "attentivemix":
        return stack("attention")
    if method == "snapmix":
        return stack("spm")
    if method == "puzzlemix":
        return stack("puzzle")
    if method == "tdattenmix":
        saliency = stack(f"saliency:{params.get('saliency', 'fine_grained')}")
        return td_attention(stack("spm"), saliency, float(params.get("balance", 0.5)))
    return None


def class_note(key: str, class_index: int, top: int | Callable[[], int]) -> str:
    """Where a map's class comes from, in words: the photo's own class, an upload's top prediction, or a
    choice (and then what the default was). `top`: the network's top class, or a function that gives it
    (called only when needed: it may cost a forward pass)."""
    classes = models.model().classes
    own = models.own_class(key)
    if class_index == own:
        return "the photo's ImageNet class"
    top = top() if callable(top) else top
    if own is None and class_index == top:
        return "the network's top prediction: an upload has no label"
    parts = ["chosen"] + (["the network's top prediction"] if class_index == top else [])
    parts.append(f"the photo is “{classes[own]}”" if own is not None
                 else f"the network's top prediction is “{classes[top]}”")
    return ", ".join(parts[:-1]) + "; " + parts[-1]


def class_notes(keys: tuple[str, ...], classes: tuple[int, ...], size: tuple[int, int]) -> list[str]:
    """Per image, “class” (where it comes from), for the captions under its map."""
    names = models.model().classes
    return [f"“{names[c]}” ({class_note(key, c, lambda key=key: models.top_class(key, size))})"
            for key, c in zip(keys, classes)]


def class_picks(keys: tuple[str, ...], labels: tuple[str, ...], size: tuple[int, int], prefix: str,
                method: str | None = None, show: bool = True, side_by_side: bool = False) -> tuple[int, ...] | None:
    """The ImageNet class of each image's map: a searchable select per input (key f"{prefix}_class{i}")
    that starts at models.default_class and starts there again when the slot's image changes. With
    `method`, only for a method whose maps are for a class (None otherwise; a class-free map says so).
    `show=False`: the defaults, without widgets; `side_by_side`: the selects in columns."""
    if method is not None and method not in CLASS_MAPS:
        if method in CLASS_FREE:
            st.caption(CLASS_FREE[method])
        return None
    ss = st.session_state
    names = models.model().classes
    chosen = []
    places = st.columns(len(keys)) if show and side_by_side else [st] * len(keys)
    for i, (key, label, place) in enumerate(zip(keys, labels, places)):
        widget, owner = f"{prefix}_class{i}", f"{prefix}_class{i}_image"
        if not show:
            chosen.append(models.default_class(key, size))
            continue
        if widget not in ss or ss.get(owner) != key:
            ss[widget], ss[owner] = models.default_class(key, size), key
        own = models.own_class(key)
        chosen.append(place.selectbox(
            f"Class of input {i + 1}'s map ({label})", range(len(names)), key=widget,
            format_func=lambda c: f"{names[c]} ({c})",
            help="the ImageNet class whose CAM or loss gradient guides the mix; it starts at "
                 + ("the photo's own class, as the authors' code uses the training label" if own is not None
                    else "the network's top prediction, since an upload has no label")))
    return tuple(chosen)
