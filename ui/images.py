"""Images and tensors by key ("sample:cat", or an upload's "upload:<sha1>"), cached so that a rerun never
decodes or resizes again: the fitted picture, its thumbnail, the bundled photos' contact sheet, the
tensors at the common size of a mix, and the attribution a bundled photo is shown with."""
from __future__ import annotations

import io

import streamlit as st
import torch
from PIL import Image

import mixviz
from mixviz.imaging import cover_crop, fit_within, image_size, load_image, to_tensor
from mixviz.samples import PHOTOS, samples

from .uploads import MAX_SIDE, uploaded

THUMB_SIDE = 96


def sample_path(key: str):
    """The file of a bundled photo's key, relative to the repository (for code snippets)."""
    return samples()[key.removeprefix("sample:")].path.relative_to(PHOTOS.parent.parent)


def credit(key: str) -> str:
    """The attribution line a bundled photo must be shown with ('' for uploads)."""
    s = samples().get(key.removeprefix("sample:")) if key.startswith("sample:") else None
    return s.attribution if s else ""


# Images, tensors and maps are cached as shared objects (st.cache_resource: no copy per rerun); the app
# only reads them, and mixviz never writes into its inputs.
@st.cache_resource(max_entries=128, show_spinner=False)
def image(key: str) -> Image.Image:
    """The image of `key`, validated by mixviz.load_image and fitted within MAX_SIDE."""
    if key.startswith("sample:"):
        return fit_within(load_image(samples()[key.removeprefix("sample:")].path), MAX_SIDE)
    img = uploaded(key)
    if img is None:
        raise mixviz.ImageError("this upload is no longer in memory: please upload it again")
    return img


@st.cache_data(max_entries=128, show_spinner=False)
def thumbnail(key: str) -> bytes:
    """A small JPEG of the image: bytes, so the page sends it without encoding it again on every rerun."""
    buf = io.BytesIO()
    fit_within(image(key), THUMB_SIDE).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


@st.cache_data(max_entries=2, show_spinner=False)
def contact_sheet(names: tuple[str, ...], columns: int = 3) -> bytes:
    """One JPEG of the bundled photos' thumbnails with their names: a single picture to send per rerun."""
    from PIL import ImageDraw

    cell_w, cell_h = THUMB_SIDE + 8, THUMB_SIDE + 22
    rows = -(-len(names) // columns)
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(names):
        x, y = (i % columns) * cell_w, (i // columns) * cell_h
        thumb = fit_within(image(f"sample:{name}"), THUMB_SIDE)
        sheet.paste(thumb, (x + (cell_w - thumb.width) // 2, y + (THUMB_SIDE - thumb.height) // 2))
        draw.text((x + 4, y + THUMB_SIDE + 4), name, fill="black")
    buf = io.BytesIO()
    sheet.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


@st.cache_resource(max_entries=64, show_spinner=False)  # ≤ 64 × 1.8 MB; a miss costs one resize
def at_size(key: str, size: tuple[int, int]) -> torch.Tensor:
    """(3, H, W) the image covering `size` and centre-cropped, as mixviz.imaging.to_batch makes it."""
    return cover_crop(to_tensor(image(key)), *size)


def batch(keys: tuple[str, ...]) -> torch.Tensor:
    """(K, 3, H, W) the images at the first one's size (the common size of mixviz.mix)."""
    size = image_size(image(keys[0]))
    return torch.stack([at_size(k, size) for k in keys])
