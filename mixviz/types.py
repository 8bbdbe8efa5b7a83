"""Plain data types of the public API: ParamSpec, MethodSpec, MixResult, and the library's errors."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


class MixError(ValueError):
    """A mixing call was given something it cannot use (unknown method, wrong count, bad parameter)."""


class ImageError(ValueError):
    """An image file or array cannot be used; the message is meant for the person who supplied it."""


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter of a method, with the range a slider should offer.

    Its kind follows from what is given: "choice" where `choices` are; otherwise the default's type, "bool",
    "int" or "float"; and "point" where the default is None: a point (y, x) in fractions of the image's
    height and width (each in [min, max]) that the method draws itself unless one is given (CutMix's box
    centre)."""

    name: str
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    help: str = ""
    choices: tuple | None = None

    @property
    def kind(self) -> str:
        if self.choices is not None:
            return "choice"
        if self.default is None:
            return "point"
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, int):
            return "int"
        return "float"

    def validate(self, value: Any, method: str) -> Any:
        """Return `value` converted to this parameter's type, or raise MixError saying why not."""
        where = f"{method}: parameter {self.name!r}"
        if self.kind == "choice":
            if value not in self.choices:
                raise MixError(f"{where} must be one of {list(self.choices)}, got {value!r}")
            return value
        if self.kind == "point":
            return self._point(value, where)
        if self.kind == "bool":
            if not isinstance(value, (bool, int)):
                raise MixError(f"{where} must be true or false, got {value!r}")
            return bool(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MixError(f"{where} must be a number, got {value!r}") from None
        if number != number:
            raise MixError(f"{where} must be a number, got NaN")
        if self.kind == "int":
            if number != int(number):
                raise MixError(f"{where} must be a whole number, got {value!r}")
            number = int(number)
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise MixError(f"{where} must lie in [{self.min}, {self.max}], got {value!r}")
        return number

    def _point(self, value: Any, where: str) -> tuple[float, float] | None:
        """None (drawn), or `value` as a pair of floats (y, x), each finite and in [min, max]; else MixError.
        Strings, mappings, sets and true/false values are not numbers here (each element may be a number's text)."""
        if value is None:
            return None
        wrong = MixError(f"{where} must be None (drawn) or a point (y, x) of two numbers in [{self.min:g}, "
                         f"{self.max:g}], fractions of the height and width; got {value!r}")
        if isinstance(value, (str, bytes, dict, set, frozenset)) or not hasattr(value, "__iter__"):
            raise wrong
        pair = list(value)
        if len(pair) != 2 or any(v is None or _is_flag(v) for v in pair):
            raise wrong
        try:
            y, x = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise wrong from None
        if not all(math.isfinite(v) and self.min <= v <= self.max for v in (y, x)):
            raise wrong
        return (y, x)


def _is_flag(v: Any) -> bool:
    """Whether `v` is a true/false value (Python's, NumPy's or a boolean tensor's), which no point accepts."""
    return isinstance(v, (bool, np.bool_)) or getattr(v, "dtype", None) in (torch.bool, np.bool_)


@dataclass(frozen=True)
class MapNeed:
    """One per-image map a guided method is steered by: a map kind registered by the maps layer
    (mixviz.registry.MAP_KINDS: "saliency", "feature_attention", "semantic_percent", "loss_gradient") with
    its options as (name, value) pairs; `name` keys it among the method's maps (default: the kind)."""

    kind: str
    options: tuple[tuple[str, Any], ...] = ()
    name: str = ""

    @property
    def key(self) -> str:
        return self.name or self.kind


@dataclass(frozen=True)
class MethodSpec:
    """What the app and the docs need to know about a method, and the batched code that runs it.

    `label_rule` says how the label weights relate to the masks, by default (a call's MixResult says
    which rule made its label): "area" (weight of input k = mean of its mask), "lam" (weights are the
    mixing coefficients), "first" (label of the first input only), "kept" (one input, label kept),
    "union" (multi-hot union of the inputs' labels, SpliceMix), "semantic" (each weight is the share
    of that image's class activation the mix keeps, SnapMix: the weights need not sum to 1).

    `alpha`: the default α of Beta(α, α) when λ is drawn (the authors' value), or None where the
    method draws its parameters without α when λ is not fixed; `lam_draw` then says how.
    """

    name: str
    title: str
    family: str
    n_inputs: int
    params: tuple[ParamSpec, ...]
    paper: str
    summary: str
    formula: str
    needs: str = "none"
    uses_lam: bool = True
    label_rule: str = "area"
    alpha: float | None = 1.0
    lam_draw: str = ""
    impl: Any = field(default=None, repr=False, compare=False)

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


@dataclass
class MixResult:
    """One mixed picture (the batch-of-one case of a method) and everything that explains it.

    image: (C, H, W) float in [0, 1], the mixed image as shown.
    masks: (K, H, W), share of input k in each output pixel.
    used: (K, H, W), in input k's own coordinates, how much of each of its pixels the mix shows
        (where a method moves, crops or resizes an input this differs from its mask).
    weights: (K,), label weight of input k.
    label: {class name or index: weight}.
    label_rule: the rule that made `label` (see MethodSpec.label_rule).
    maps: (K, H, W) the maps that guided the mix, one per input (given or computed); None for methods
        that take none (where a method pools them to a grid, they may be coarser than the images).
    lam: the λ that was drawn (or fixed by the caller); None for methods without λ.
    lam_corrected: the λ the label uses where it differs by construction from `lam` (after clipping,
        rounding or the method's own correction); None where there is none.
    info: drawn parameters, boxes before and after clipping, corrected λ, notes.
    """

    method: str
    image: torch.Tensor
    masks: torch.Tensor
    weights: torch.Tensor
    label: dict
    lam: float | None
    info: dict = field(default_factory=dict)
    used: torch.Tensor | None = None
    label_rule: str = "area"
    lam_corrected: float | None = None
    maps: torch.Tensor | None = None



@dataclass(frozen=True)
class Sweep:
    """Frames of one picture where only one value moves (λ, a parameter, or the seed).

    method: the method's name. over: "lam", a parameter's name, or "seed". values: the λ values, parameter values
    or seeds, one per frame. results: a MixResult per frame; frame i equals mixviz.mix(...) at values[i].
    """

    method: str
    over: str
    values: tuple
    results: tuple
