"""Every method module; importing them fills mixviz.METHODS."""
from . import blend, cut, guided, puzzle, tiles  # noqa: F401
