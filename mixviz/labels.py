"""Soft labels: one-hot targets, mixed targets, label smoothing (Szegedy et al., CVPR 2016)."""
from __future__ import annotations

from typing import Hashable

import torch

from .types import MixError


def one_hot(y: torch.Tensor, num_classes: int | None, dtype=torch.float32) -> torch.Tensor:
    """(B, N) float targets from class indices (B,) or from already soft targets (B, N)."""
    if y.dim() == 2:
        if num_classes is not None and y.shape[1] != num_classes:
            raise MixError(f"targets have {y.shape[1]} columns but num_classes is {num_classes}")
        return y.to(dtype)
    if y.dim() != 1:
        raise MixError(f"labels must be class indices (B,) or soft targets (B, N), got shape {tuple(y.shape)}")
    if num_classes is None:
        raise MixError("num_classes is needed to turn class indices into targets")
    # checked on the host for CPU labels; on a GPU, one_hot's scatter asserts on the device instead of waiting
    if y.device.type == "cpu" and y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise MixError(f"class indices must lie in [0, {num_classes}), got {int(y.min())}..{int(y.max())}")
    return torch.nn.functional.one_hot(y.long(), num_classes).to(dtype)


def smooth(targets: torch.Tensor, eps: float) -> torch.Tensor:
    """Label smoothing (Szegedy et al., Rethinking the Inception Architecture, CVPR 2016):
    (1 − ε)·y + ε/K over the K columns of `targets`."""
    check_eps(eps)
    if eps == 0:
        return targets
    return targets * (1 - eps) + eps / targets.shape[-1]


def check_eps(eps: float) -> None:
    if not 0 <= eps <= 1:
        raise MixError(f"label smoothing ε must lie in [0, 1], got {eps}")


def smooth_label(label: dict[Hashable, float], eps: float, num_classes: int) -> tuple[dict[Hashable, float], float]:
    """Label smoothing of a {class: weight} label over `num_classes` classes.

    Returns the named classes' smoothed weights and the weight ε/K that every other class gets.
    """
    check_eps(eps)
    if num_classes < len(label):
        raise MixError(f"num_classes ({num_classes}) is smaller than the {len(label)} classes in the label")
    return {k: (1 - eps) * v + eps / num_classes for k, v in label.items()}, eps / num_classes


def label_dict(names: list[Hashable], weights: list[float], union: bool = False) -> dict[Hashable, float]:
    """{class: weight}, adding the weights of inputs that share a class; with `union`, every class
    of an input with a positive weight gets 1 (multi-hot)."""
    out: dict[Hashable, float] = {}
    for name, w in zip(names, weights):
        if union:
            if w > 0:
                out[name] = 1.0
            else:
                out.setdefault(name, 0.0)
        else:
            out[name] = out.get(name, 0.0) + float(w)
    return out
