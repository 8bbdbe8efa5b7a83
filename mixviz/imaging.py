"""Images in and out: validated loading, PIL/array <-> tensor, one common size for the inputs.

Common size, the one documented rule: every input is scaled to cover the first image's size
(keeping its aspect ratio, bicubic) and centre-cropped to it, so nothing is stretched.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Sequence, Union

import numpy as np
import torch
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .types import ImageError

MAX_PIXELS = 40_000_000  # 40 megapixels: larger files are refused before they are decoded
# Formats Pillow may open here: photo formats only. Others (EPS would run Ghostscript, PSD, ICO, …) are refused.
FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "BMP", "GIF", "TIFF")
READABLE = "JPEG, PNG, WebP, AVIF, BMP, GIF or TIFF"
# How those files begin (AVIF: an ISO box "ftypavif" at byte 4): one that begins so but is refused is damaged
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
ImageLike = Union[Image.Image, np.ndarray, torch.Tensor]


def load_image(source: str | os.PathLike | bytes | bytearray | io.IOBase, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """A validated 8-bit RGB PIL image from a path, bytes or a file object.

    EXIF orientation is applied; grayscale, palette, RGBA/LA (composited on white), CMYK,
    16-bit and float images are converted. Raises ImageError with a plain message for
    empty, non-image, truncated or too large files.
    """
    name = "the file"
    if isinstance(source, (str, os.PathLike)):
        name = Path(source).name
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise ImageError(f"{name}: no such file") from None
        except OSError as e:
            raise ImageError(f"{name}: cannot be read ({e.strerror or e})") from None
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read()
    if not data:
        raise ImageError(f"{name} is empty (0 bytes): please choose an image file")
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            w, h = img.size
            if w * h > max_pixels:
                raise ImageError(f"{name} is {w}×{h} pixels, more than the {max_pixels // 1_000_000} megapixels "
                                 "this tool accepts: please use a smaller image")
            if w == 0 or h == 0:
                raise ImageError(f"{name} has no pixels ({w}×{h})")
            img.load()
    except ImageError:
        raise
    except UnidentifiedImageError:
        if data.startswith(SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP") \
                or data[4:12] in (b"ftypavif", b"ftypavis"):
            raise ImageError(f"{name} starts like an image file but is damaged or cut short and cannot be "
                             "decoded") from None
        raise ImageError(f"{name} is not an image this tool can read (try {READABLE})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # Pillow's own limit, past ours
        found = re.search(r"\((\d+) pixels\)", str(e))
        size = f" ({int(found.group(1)) / 1e6:,.0f} megapixels)" if found else ""
        raise ImageError(f"{name} is too large{size}: more than the {max_pixels // 1_000_000} megapixels this tool "
                         "accepts, please use a smaller image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(f"{name} looks damaged or cut short and cannot be decoded ({e})") from None
    return to_rgb(img)


def check_shape(image: Image.Image, min_side: int = 16, max_aspect: float = 10.0, name: str = "the image") -> None:
    """Raise ImageError unless both sides have at least `min_side` pixels and the longer side is at most
    `max_aspect` times the shorter: the app's rule for a picture a mix can be seen on (CIFAR's 32×32 passes)."""
    w, h = image.size
    if min(w, h) < min_side:
        raise ImageError(f"{name} is {w}×{h} pixels: too small to show a mix (at least {min_side} pixels a side)")
    if max(w, h) > max_aspect * min(w, h):
        raise ImageError(f"{name} is {w}×{h} pixels: too long and thin to show a mix "
                         f"(its longer side at most {max_aspect:g} times its shorter)")


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB view of any PIL image: EXIF rotation applied, alpha composited on white,
    16-bit and float data scaled to 0-255 by their range."""
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not cost the picture
        pass
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if img.mode == "F":  # scaled by the range of its finite values; NaN and ±inf become black
            finite = np.isfinite(arr)
            lo, hi = (float(arr[finite].min()), float(arr[finite].max())) if finite.any() else (0.0, 0.0)
            arr = np.where(finite, (arr - lo) / (hi - lo), 0.0) if hi > lo else np.zeros_like(arr)
            top = 1.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def to_tensor(image: ImageLike) -> torch.Tensor:
    """(C, H, W) float32 in [0, 1] from a PIL image, an HxWxC / HxW uint8 or float array, or a tensor."""
    if isinstance(image, torch.Tensor):
        t = image.detach()
        if t.dim() == 2:
            t = t[None]
        if t.dim() != 3:
            raise ImageError(f"an image tensor must be (C, H, W), got shape {tuple(image.shape)}")
        if not t.is_floating_point():
            t = t.float() / 255.0
        return t.float()
    if isinstance(image, Image.Image):
        arr = np.asarray(to_rgb(image))
    elif isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise ImageError(f"an image array must be H×W×C with 1, 3 or 4 channels, got shape {arr.shape}")
        if arr.shape[2] == 4:
            arr = np.asarray(to_rgb(Image.fromarray(arr.astype(np.uint8), "RGBA")))
        elif arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
    else:
        raise ImageError(f"cannot use a {type(image).__name__} as an image (expected PIL image, array or tensor)")
    if arr.dtype == np.uint8:
        return torch.from_numpy(np.array(arr, copy=True)).permute(2, 0, 1).float() / 255.0
    if np.issubdtype(arr.dtype, np.floating):
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).permute(2, 0, 1)
    raise ImageError(f"an image array must be uint8 or float, got {arr.dtype}")


def image_size(image: ImageLike) -> tuple[int, int]:
    """(height, width) of an image without converting it."""
    if isinstance(image, Image.Image):
        return image.size[1], image.size[0]
    return tuple(image.shape[:2]) if isinstance(image, np.ndarray) else tuple(image.shape[-2:])


def to_pil(t: torch.Tensor) -> Image.Image:
    """A (C, H, W) or (H, W) tensor in [0, 1] as an 8-bit PIL image (values outside are clipped)."""
    t = t.detach().float().cpu().clamp(0, 1)
    if t.dim() == 3 and t.shape[0] == 1:
        t = t[0]
    arr = (t.numpy() * 255.0 + 0.5).astype(np.uint8)
    if arr.ndim == 3:
        return Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)), "RGB")
    return Image.fromarray(arr, "L")


def cover_crop(t: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(C, h, w) scaled (bicubic, antialiased) to cover height×width, then centre-cropped to it."""
    _, h, w = t.shape
    if (h, w) == (height, width):
        return t
    scale = max(height / h, width / w)
    nh, nw = max(height, round(h * scale)), max(width, round(w * scale))
    t = torch.nn.functional.interpolate(t[None], size=(nh, nw), mode="bicubic", antialias=True,
                                        align_corners=False)[0].clamp(0, 1)
    top, left = (nh - height) // 2, (nw - width) // 2
    return t[:, top:top + height, left:left + width]


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """`image` scaled down (never up) so its longer side is at most max_side."""
    w, h = image.size
    if max(w, h) <= max_side:
        return image
    s = max_side / max(w, h)
    return image.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.LANCZOS)


def to_batch(images: Sequence[ImageLike] | torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
    """(K, C, H, W) float in [0, 1] from K images, all brought to one size by `cover_crop`.

    The size is `size` (height, width) if given, else the first image's size.
    """
    if isinstance(images, torch.Tensor) and images.dim() == 4:
        batch = images if images.is_floating_point() else images.float() / 255.0
        if size is not None and tuple(batch.shape[2:]) != tuple(size):
            batch = torch.stack([cover_crop(t, *size) for t in batch])
        return batch.float()
    if isinstance(images, (Image.Image, np.ndarray, torch.Tensor)):
        images = [images]
    tensors = [to_tensor(im) for im in images]
    if not tensors:
        raise ImageError("no images were given")
    channels = {t.shape[0] for t in tensors}
    if len(channels) > 1:
        raise ImageError(f"the images have different numbers of channels: {sorted(channels)}")
    height, width = size if size is not None else tensors[0].shape[1:]
    return torch.stack([cover_crop(t, int(height), int(width)) for t in tensors])


@lru_cache(maxsize=8)
def _colours(cmap: str) -> torch.Tensor:
    """(256, 3) the colours of a matplotlib colormap (its own lookup table has 256 entries)."""
    from matplotlib import colormaps

    return torch.from_numpy(colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3]).float()


def heat(values: torch.Tensor, cmap: str = "jet") -> torch.Tensor:
    """(3, h, w) colours of a (h, w) map through a matplotlib colormap, scaled to its own min..max."""
    v = values.detach().float().cpu()
    span = float(v.max() - v.min())
    v = (v - v.min()) / span if span > 0 else torch.zeros_like(v)
    return _colours(cmap)[(v * 255).round().long()].permute(2, 0, 1)


def overlay(image: ImageLike, values: torch.Tensor, alpha: float = 0.5, cmap: str = "jet") -> torch.Tensor:
    """(3, H, W) the image with a map of any size laid over it: the map is resized (bilinear) to the
    image, coloured by `heat`, and blended with opacity `alpha` in [0, 1]."""
    if not 0 <= alpha <= 1:
        raise ImageError(f"overlay opacity must lie in [0, 1], got {alpha}")
    img = to_tensor(image)
    return torch.lerp(img, heat(resize_map(values, tuple(img.shape[1:])), cmap), alpha)


def resize_map(values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A (h, w) map resized (bilinear) to `size` (H, W) on the CPU, unchanged when it already has that size."""
    v = torch.as_tensor(values).detach().float().cpu()
    if tuple(v.shape) == tuple(size):
        return v
    return torch.nn.functional.interpolate(v[None, None], size=tuple(size), mode="bilinear",
                                           align_corners=False)[0, 0]


def shade(image: torch.Tensor, mask: torch.Tensor, floor: float = 0.25) -> torch.Tensor:
    """(C, H, W) the image darkened where its (H, W) mask is low, to show which of its pixels a mix used."""
    return image * (floor + (1 - floor) * mask.to(image.dtype).clamp(0, 1))
