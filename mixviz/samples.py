"""The bundled sample photos (assets/photos) with the attribution line each must be shown with, and the
ImageNet class each one shows (assets/photos/objects.json)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PHOTOS = Path(__file__).resolve().parent.parent / "assets" / "photos"


@dataclass(frozen=True)
class Sample:
    """imagenet_class: the ImageNet-1k class the photo shows, spelled as mixviz.load_model().classes
    spells it (the label a guided method's authors would train it with), or None if none is recorded."""

    name: str
    path: Path
    attribution: str
    imagenet_class: str | None = None


def _rows(text: str):
    """Header cells and rows of each markdown table in `text`."""
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("-: "):
            yield header, cells


def _classes() -> dict[str, str]:
    """Photo name -> its ImageNet class, from assets/photos/objects.json."""
    path = PHOTOS / "objects.json"
    if not path.exists():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {name: v["class"] for name, v in entries.items() if not name.startswith("_") and "class" in v}


@lru_cache(maxsize=1)
def samples() -> dict[str, Sample]:
    """name -> Sample for every photo listed in assets/photos/SOURCES.md that is present."""
    found: dict[str, Sample] = {}
    classes = _classes()
    for header, cells in _rows((PHOTOS / "SOURCES.md").read_text(encoding="utf-8")):
        row = dict(zip(header, cells))
        file = row.get("file", "")
        credit = row.get("attribution line to show") or row.get("attribution")
        if file and credit and (PHOTOS / file).exists():
            name = Path(file).stem
            found[name] = Sample(name, PHOTOS / file, credit, classes.get(name))
    return dict(sorted(found.items()))


def resolve(name_or_path: str) -> tuple[Path, str | None]:
    """A path for a bundled sample name ("cat") or a file path, and the attribution if bundled."""
    s = samples().get(name_or_path)
    if s is not None:
        return s.path, s.attribution
    return Path(name_or_path), None
