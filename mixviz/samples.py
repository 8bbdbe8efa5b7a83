"""The bundled sample photos (assets/photos) with the attribution line each must be shown with."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PHOTOS = Path(__file__).resolve().parent.parent / "assets" / "photos"


@dataclass(frozen=True)
class Sample:
    name: str
    path: Path
    attribution: str


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


@lru_cache(maxsize=1)
def samples() -> dict[str, Sample]:
    """name -> Sample for every photo listed in assets/photos/SOURCES.md that is present."""
    found: dict[str, Sample] = {}
    for header, cells in _rows((PHOTOS / "SOURCES.md").read_text(encoding="utf-8")):
        row = dict(zip(header, cells))
        file = row.get("file", "")
        credit = row.get("attribution line to show") or row.get("attribution")
        if file and credit and (PHOTOS / file).exists():
            found[Path(file).stem] = Sample(Path(file).stem, PHOTOS / file, credit)
    return dict(sorted(found.items()))


def resolve(name_or_path: str) -> tuple[Path, str | None]:
    """A path for a bundled sample name ("cat") or a file path, and the attribution if bundled."""
    s = samples().get(name_or_path)
    if s is not None:
        return s.path, s.attribution
    return Path(name_or_path), None
