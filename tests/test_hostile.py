"""Every file of the hostile corpus (tests/corpus.py) through load_image: an RGB image of the expected size
and colours, or an ImageError with a plain message; never another exception, a path, or a large allocation."""
import re
import resource
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mixviz
from mixviz.imaging import load_image

from corpus import Case, corpus

CASES = corpus()
REPO = str(Path(mixviz.__file__).resolve().parent.parent)


def by_name(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def check(case: Case, source) -> str:
    """Load `source` as `case` expects; the error message when it is refused ('' when it loads)."""
    if case.size is None:
        with pytest.raises(mixviz.ImageError, match=case.match) as err:
            load_image(source)
        return str(err.value)
    img = load_image(source)
    assert isinstance(img, Image.Image) and img.mode == "RGB"
    assert img.size == case.size
    if case.pixels is not None:
        arr = np.asarray(img)
        assert arr.dtype == np.uint8 and arr.shape == (case.size[1], case.size[0], 3)
        corners = [arr[0, 0].tolist(), arr[0, -1].tolist(), arr[-1, 0].tolist(), arr[-1, -1].tolist()]
        assert case.pixels(arr), f"{case.name}: wrong pixels, corners {corners}"
    return ""


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_load_from_bytes(case):
    """From bytes: the expected image, or an ImageError with a plain message naming no path."""
    message = check(case, case.data)
    assert REPO not in message and "/tmp" not in message and not re.search(r"/\w+/", message)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_load_from_path_matches_bytes(case, tmp_path):
    """From a file on disk: the same outcome, and a message naming the file but not its folder."""
    path = tmp_path / case.name
    path.write_bytes(case.data)
    message = check(case, path)
    if message:
        assert case.name in message and str(tmp_path) not in message and "/" not in message.replace(case.name, "")


def test_corpus_is_broad_and_well_formed():
    """Enough cases, unique safe names, small files, and every required kind present."""
    names = [c.name for c in CASES]
    assert len(CASES) >= 25 and len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+\.[a-z0-9]+", n) for n in names)
    assert all(len(c.data) < 2_000_000 for c in CASES) and sum(len(c.data) for c in CASES) < 6_000_000
    assert all(c.why and (c.size is None) == bool(c.match) for c in CASES)
    required = {
        "truncated.jpg", "truncated.png", "empty.png", "notes.txt", "page.html", "drawing.svg", "document.pdf",
        "huge_100000x100000.png", "one_pixel.png", "column_1x10000.png", "row_10000x1.png", "cmyk_cyan.jpg",
        "rgb16.png", "grey16.png", "palette_transparent.png", "rgba.png", "la.png", "animated.gif",
        "multipage.tif", "exif_rotate_6.jpg", "exif_rotate_8.jpg", "exif_rotate_3.jpg", "lossy.webp",
        "lossless.webp", "png_named.jpg", "html_named.png", "bmp.bmp", "lzw.tif", "deflate.tif", "float32.tif",
        "exif_garbage.jpg", "bad_crc.png", "figure.eps", "favicon.ico", "paint.pcx", "sprite.tga",
        "gif_screen_60000.gif", "soi_garbage.jpg", "random.jpg", "tiny_2x2.jpg", "cifar_32x32.png", "grey.jpg",
        "bilevel.png", "progressive.jpg",
    }
    assert required <= set(names), sorted(required - set(names))
    assert corpus() is CASES  # memoised


def test_corpus_is_deterministic():
    """Building it again gives the same bytes."""
    from corpus import _cases

    assert [(c.name, c.data) for c in _cases()] == [(c.name, c.data) for c in CASES]


def test_huge_header_is_refused_fast_without_allocating():
    """The 100000×100000 PNG header is refused within a second and without decoding (peak RSS grows < 50 MB)."""
    data = by_name("huge_100000x100000.png").data
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    with pytest.raises(mixviz.ImageError):
        load_image(data)
    assert time.perf_counter() - start < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000


def test_whole_corpus_keeps_memory_bounded():
    """Loading every file in turn raises the process's peak memory by under 200 MB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for case in CASES:
        try:
            load_image(case.data)
        except mixviz.ImageError:
            pass
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000
