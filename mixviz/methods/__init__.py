"""Every method module; importing them fills mixviz.METHODS."""
from . import blend, cut, tiles  # noqa: F401
