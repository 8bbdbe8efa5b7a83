"""The maps a guided method needs for the chosen images, from ui.store's per-image cache, so that a
re-roll or a slider move reuses them instead of recomputing saliency or running the network."""
from __future__ import annotations

import torch

from mixviz.methods.guided import td_attention

from . import store


def maps_for(method: str, keys: tuple[str, ...], size: tuple[int, int], params: dict) -> torch.Tensor | None:
    """(K, H, W) the guide maps of `method` for the images `keys` at the common `size`, or None for a
    method that needs none (it then computes nothing either)."""
    def stack(kind: str) -> torch.Tensor:
        return torch.stack([store.guide_map(kind, key, size) for key in keys])

    if method == "saliencymix":
        return stack(f"saliency:{params.get('saliency', 'fine_grained')}")
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
