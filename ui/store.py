"""Cached work: images by key, the serving model, and per-image maps, so that moving a slider never
repeats a decode or a forward pass. Keys name content: "sample:cat", or "upload:<sha1 of the bytes>"."""
from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

import streamlit as st
import torch
from PIL import Image

import mixviz
from mixviz.imaging import check_shape, cover_crop, fit_within, image_size, load_image, to_tensor
from mixviz.samples import PHOTOS, samples

from mixviz.threads import CORES

from .tuning import freeze_startup_objects

MAX_SIDE = 384  # images are shown and mixed at most this many pixels on their longer side
THUMB_SIDE = 96
# Uploads, content-addressed and shared by sessions: the decoded image fitted within MAX_SIDE, never the
# file's bytes and never a file on disk. 64 of them take at most 64 × 384 × 384 × 3 bytes ≈ 28 MB.
_UPLOADS: OrderedDict[str, Image.Image] = OrderedDict()
_UPLOADS_MAX = 64
_LOCK = threading.Lock()


def add_upload(data: bytes) -> str:
    """Key of an uploaded file, decoded once by mixviz.load_image, checked to be big enough to show a mix
    (mixviz.imaging.check_shape) and kept in memory fitted within MAX_SIDE. Raises ImageError."""
    key = "upload:" + hashlib.sha1(data).hexdigest()
    if has_upload(key):
        return key
    img = load_image(data)
    check_shape(img, name="the file")
    img = fit_within(img, MAX_SIDE)
    with _LOCK:
        _UPLOADS[key] = img
        while len(_UPLOADS) > _UPLOADS_MAX:
            _UPLOADS.popitem(last=False)
    return key


def has_upload(key: str) -> bool:
    """Whether an upload is still in memory (touching it, so the most used stay)."""
    with _LOCK:
        if key in _UPLOADS:
            _UPLOADS.move_to_end(key)
            return True
    return False


def sample_path(key: str):
    """The file of a bundled photo's key, relative to the repository (for code snippets)."""
    return samples()[key.removeprefix("sample:")].path.relative_to(PHOTOS.parent.parent)


# Images, tensors and maps are cached as shared objects (st.cache_resource: no copy per rerun); the app
# only reads them, and mixviz never writes into its inputs.
@st.cache_resource(max_entries=128, show_spinner=False)
def image(key: str) -> Image.Image:
    """The image of `key`, validated by mixviz.load_image and fitted within MAX_SIDE."""
    if key.startswith("sample:"):
        return fit_within(load_image(samples()[key.removeprefix("sample:")].path), MAX_SIDE)
    with _LOCK:
        img = _UPLOADS.get(key)
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


@st.cache_resource(show_spinner="Loading the pretrained model (once per server)…")
def model():
    """The best available pretrained model (Xception, else EfficientNet-Lite0 offline), built once; its
    forward pass runs on every core, and the script run goes back to one thread after it."""
    m = mixviz.load_model()
    m.net.register_forward_pre_hook(lambda *_: torch.set_num_threads(CORES))
    m.net.register_forward_hook(lambda *_: torch.set_num_threads(1))
    freeze_startup_objects()
    return m


@st.cache_data(max_entries=256, show_spinner=False)
def top_class(key: str, size: tuple[int, int]) -> int:
    """The model's top ImageNet class for one image at the common size."""
    m = model()
    with torch.inference_mode():
        return int(m.net(m.preprocess(at_size(key, size)))[0].argmax())


def own_class(key: str) -> int | None:
    """The index in the model's classes of the ImageNet class a bundled photo shows
    (mixviz.samples.Sample.imagenet_class); None for an upload, which has no label."""
    if not key.startswith("sample:"):
        return None
    name = samples()[key.removeprefix("sample:")].imagenet_class
    classes = model().classes
    return classes.index(name) if name in classes else None


def default_class(key: str, size: tuple[int, int]) -> int:
    """The class an image's maps are for unless the user picks another: a bundled photo's own class (the
    authors' code uses the training label), else the model's top prediction at the common size."""
    own = own_class(key)
    return own if own is not None else top_class(key, size)
