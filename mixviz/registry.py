"""METHODS: canonical name -> MethodSpec, filled by the @register decorator of each method module."""
from __future__ import annotations

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
