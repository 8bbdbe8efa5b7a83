"""Uploads: each file decoded once, checked, fitted within MAX_SIDE and kept in memory under a key that names
its content ("upload:<sha1 of the bytes>"), shared by sessions; never the file's bytes, never a file on disk."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from PIL import Image

from mixviz.imaging import check_shape, fit_within, load_image

MAX_SIDE = 384  # images are shown and mixed at most this many pixels on their longer side
# 64 uploads take at most 64 × 384 × 384 × 3 bytes ≈ 28 MB.
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


def uploaded(key: str) -> Image.Image | None:
    """The fitted picture of an upload's key, or None once it has left memory."""
    with _LOCK:
        return _UPLOADS.get(key)
