"""The registries: METHODS (canonical name -> MethodSpec, filled by the @register decorator of each method
module) and MAP_KINDS (the per-image maps guided methods are steered by, filled by the maps layer with
@register_map), so that the engine and the app find a method's maps by what it declares, never by its name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .types import MethodSpec, MixError

METHODS: dict[str, MethodSpec] = {}
# The families a MethodSpec belongs to, in the lectures' order, with the titles the app shows
FAMILIES = {"blend": "Blending", "cut": "Cut and paste", "tiles": "Tiles and concatenation",
            "guided": "Guided by maps"}


def register(**spec_fields):
    """Class decorator: instantiate the method implementation and record its MethodSpec."""

    def wrap(cls):
        impl = cls()
        spec = MethodSpec(impl=impl, **spec_fields)
        if spec.name in METHODS:
            raise RuntimeError(f"method {spec.name!r} registered twice")
        impl.spec = spec
        METHODS[spec.name] = spec
        return cls

    return wrap


def get(name: str) -> MethodSpec:
    """The MethodSpec for `name`, or MixError listing the known names."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(METHODS))
        raise MixError(f"unknown method {name!r}; known methods: {known}") from None


def find(query: str) -> list[str]:
    """The methods a name finds, best first: those whose name or title equals the query, then those that begin
    with it, then those that contain it, each group in METHODS' order. Case, spaces, hyphens, "×" for "x" and
    "+" for "plus" do not matter, so the lectures' names find theirs ("AttentiveMix": attentivemix, titled
    Attentive CutMix; "Mixed Concat"; "Random 2x2"); an empty query finds nothing."""
    want = _plain(query)
    if not want:
        return []
    ranked = []
    for name, spec in METHODS.items():
        names = [_plain(n) for n in (name, spec.title)]
        rank = 0 if want in names else 1 if any(n.startswith(want) for n in names) else 2 if any(
            want in n for n in names) else None
        if rank is not None:
            ranked.append((rank, name))
    return [name for _, name in sorted(ranked, key=lambda r: r[0])]


def _plain(name: str) -> str:
    return "".join(c for c in name.casefold().replace("×", "x").replace("+", "plus") if c.isalnum())


@dataclass(frozen=True)
class MapKind:
    """A kind of per-image map. `compute(x, options, classes, model)`: x (N, C, H, W) in [0, 1], options
    a dict, classes one class index per image (where `per_class`) or None (each image's top prediction),
    model a loaded mixviz model or None (load the best available, where `uses_model`); returns (N, H, W)
    on x's device. `about`: what the map is, in words ("the channel sum of the network's final features")."""

    name: str
    compute: Callable
    per_class: bool
    uses_model: bool
    about: str


MAP_KINDS: dict[str, MapKind] = {}


def register_map(name: str, per_class: bool, uses_model: bool, about: str):
    """Function decorator: record `compute` as the map kind `name` (see MapKind)."""

    def wrap(compute):
        if name in MAP_KINDS:
            raise RuntimeError(f"map kind {name!r} registered twice")
        MAP_KINDS[name] = MapKind(name, compute, per_class, uses_model, about)
        return compute

    return wrap


def map_kind(name: str) -> MapKind:
    """The MapKind called `name`, or MixError listing the known kinds."""
    try:
        return MAP_KINDS[name]
    except KeyError:
        raise MixError(f"unknown map kind {name!r}; known kinds: {', '.join(sorted(MAP_KINDS))}") from None
