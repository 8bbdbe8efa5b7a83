"""The maps a guided method needs for the chosen images, from a per-image cache, so that a re-roll or a slider
move reuses them instead of recomputing saliency or running the network; and the ImageNet class each class
map is for: a select per input, and the words that say where it came from. Which maps a method needs is
what it declares (Method.guide_maps, kinds from mixviz.registry.MAP_KINDS): nothing here names a method."""
from __future__ import annotations

from typing import Callable

import streamlit as st
import torch

from mixviz.registry import get, map_kind
from mixviz.types import MapNeed

from . import images, models


@st.cache_resource(max_entries=128, show_spinner=False)  # ≤ 128 × 0.6 MB; a miss costs a forward pass
def guide_map(kind: str, key: str, size: tuple[int, int], class_index: int | None = None,
              options: tuple[tuple[str, object], ...] = ()) -> torch.Tensor:
    """(H, W) one image's map of a registered kind (mixviz.registry.MAP_KINDS) at the common size, with the
    kind's `options` as (name, value) pairs; kinds that are for a class need `class_index` (part of the
    cache key)."""
    found = map_kind(kind)
    if found.per_class and class_index is None:
        raise ValueError(f"a {kind!r} map is for one class: pass class_index")
    x = images.at_size(key, size)[None]
    return found.compute(x, dict(options), [int(class_index)] if found.per_class else None,
                         models.model() if found.uses_model else None)[0]


def needs_of(method: str, params: dict | None = None) -> tuple[MapNeed, ...]:
    """The maps `method` declares for `params` (its defaults where None or where a value is missing)."""
    spec = get(method)
    return spec.impl.guide_maps({**spec.defaults(), **(params or {})})


def class_maps(method: str) -> bool:
    """True where some map of `method` is for an ImageNet class (a CAM or a loss gradient)."""
    return any(map_kind(n.kind).per_class for n in needs_of(method))


def class_free_note(method: str) -> str | None:
    """Why there is no class to choose, for a method whose maps come from the network but from no class."""
    needs = needs_of(method)
    kinds = [map_kind(n.kind) for n in needs]
    if not kinds or any(k.per_class for k in kinds) or not any(k.uses_model for k in kinds):
        return None
    about = " and ".join(k.about for k in kinds if k.uses_model)
    return f"{get(method).title}'s map is {about}: it is the same for every class, so there is no class to choose."


def maps_for(method: str, keys: tuple[str, ...], size: tuple[int, int], params: dict,
             classes: tuple[int, ...] | None = None) -> torch.Tensor | None:
    """(K, H, W) the guide maps of `method` for the images `keys` at the common `size`, or None for a
    method that needs none (it then computes nothing either). `classes`: the ImageNet class of each
    image's CAM or loss gradient (default: models.default_class, the photo's own class or an upload's top
    prediction)."""
    spec = get(method)
    config = {**spec.defaults(), **params}
    needs = spec.impl.guide_maps(config)
    if not needs:
        return None
    maps = {}
    for need in needs:
        if map_kind(need.kind).per_class:
            chosen = classes or tuple(models.default_class(key, size) for key in keys)
            maps[need.key] = torch.stack([guide_map(need.kind, key, size, c, need.options)
                                          for key, c in zip(keys, chosen)])
        else:
            maps[need.key] = torch.stack([guide_map(need.kind, key, size, None, need.options) for key in keys])
    return spec.impl.combine_maps(config, maps)


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
    `show=False`: the defaults, without widgets or the note; `side_by_side`: the selects in columns."""
    if method is not None and not class_maps(method):
        note = class_free_note(method)
        if note and show:
            st.caption(note)
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
