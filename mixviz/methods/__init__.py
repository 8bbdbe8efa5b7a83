"""Every method module; importing them fills mixviz.METHODS."""
from . import blend, cut, guided, tiles  # noqa: F401
