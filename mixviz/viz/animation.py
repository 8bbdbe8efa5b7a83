"""Animations of a sweep (mixviz.sweep: the same draws, one value moving) for slides: each frame is the mixed
image over a caption strip that says the swept value and the label, e.g. "λ = 0.70 (corrected 0.69)" over
"boat 0.70 · airplane 0.30", encoded as a GIF that loops forever or as an H.264 MP4 that browsers play.

The GIF is Pillow's (a palette per frame). The MP4 is written by the ffmpeg that the PyPI package
imageio-ffmpeg ships (a static build with libx264, for Linux, macOS and Windows), in its own process: no
FFmpeg libraries are loaded beside the ones OpenCV and torchvision bundle, and nothing needs a system ffmpeg.
"""
from __future__ import annotations

import importlib.util
import io
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..types import MixError
from .style import INPUT_COLOURS

FORMATS = ("gif", "mp4")
BACKGROUND, INK = (255, 255, 255), (25, 25, 25)
CRF = 18  # x264's constant rate factor: 18 is about visually lossless (0 lossless, 51 worst)


@lru_cache(maxsize=16)
def caption_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans at `size` px (it has λ and ·; matplotlib ships it, found without importing matplotlib),
    else Pillow's own scalable default font."""
    spec = importlib.util.find_spec("matplotlib")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _number(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else f"{value}"


def lam_text(r) -> str:
    """"λ = 0.70", with the corrected λ where it differs at that precision: "λ = 0.70 (corrected 0.69)"."""
    text = f"λ = {r.lam:.2f}"
    if r.lam_corrected is not None and f"{r.lam_corrected:.2f}" != f"{r.lam:.2f}":
        text += f" (corrected {r.lam_corrected:.2f})"
    return text


def value_text(over: str, value, r) -> str:
    """The swept value named as the app names it (λ, the parameter's name, or seed), with the frame's λ
    where the sweep moves something else and the method has one."""
    if over == "lam":
        return lam_text(r)
    text = f"{over} = {value:g}" if isinstance(value, float) else f"{over} = {value}"
    return text + (f"   {lam_text(r)}" if r.lam is not None else "")


def label_parts(label: dict) -> list[tuple[str, tuple[int, int, int]]]:
    """The label as (text, colour) pieces: each class name in its input's colour, then its weight."""
    parts: list[tuple[str, tuple[int, int, int]]] = []
    for i, (name, weight) in enumerate(label.items()):
        if i:
            parts.append(("  ·  ", INK))
        hexa = INPUT_COLOURS[i % len(INPUT_COLOURS)].lstrip("#")
        parts.append((f"{name} ", tuple(int(hexa[j:j + 2], 16) for j in (0, 2, 4))))
        parts.append((_number(float(weight)), INK))
    return parts


def _captions(sweep, labels_text: bool) -> list[list[list[tuple[str, tuple]]]]:
    """Per frame, its caption lines, each a list of (text, colour) pieces."""
    out = []
    for value, r in zip(sweep.values, sweep.results):
        lines = [[(value_text(sweep.over, value, r), INK)]]
        if labels_text:
            lines.append(label_parts(r.label))
        out.append(lines)
    return out


def _fitting_font(captions: list, width: int):
    """The largest font (at most width/26 px, at least 8) in which every caption line fits `width`."""
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    longest = max((line for lines in captions for line in lines),
                  key=lambda line: measure.textlength("".join(t for t, _ in line), font=caption_font(12)))
    text = "".join(t for t, _ in longest)
    size = max(8, round(width / 26))
    while size > 8 and measure.textlength(text, font=caption_font(size)) > width:
        size -= 1
    return caption_font(size)


def _strip(lines: list, width: int, height: int, font, pad: int, step: int) -> np.ndarray:
    """A caption strip: each line drawn piece by piece, centred."""
    strip = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(strip)
    for n, line in enumerate(lines):
        x = (width - draw.textlength("".join(t for t, _ in line), font=font)) / 2
        for text, colour in line:
            draw.text((x, pad + n * step), text, fill=colour, font=font)
            x += draw.textlength(text, font=font)
    return np.asarray(strip)


def _pixels(images: list[torch.Tensor]) -> np.ndarray:
    """N images (C, H, W) float in [0, 1] -> N×H×W×3 uint8 (rounded; one channel repeated), in one conversion."""
    a = torch.stack([im.detach().float().cpu() for im in images]).clamp_(0, 1).mul_(255).add_(0.5).to(torch.uint8)
    return np.ascontiguousarray(a.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).numpy())


def sweep_frames(sweep, labels_text: bool = True) -> list[np.ndarray]:
    """Each frame of `sweep` (a mixviz.Sweep) as an H×W×3 uint8 picture: the mixed image over a caption strip
    with the swept value and, if `labels_text`, the label. One font size for every frame (the largest in
    which every caption fits), and even sizes (H.264 in yuv420p needs them): an odd width gets one column of
    the strip's white on the right, an odd height one row more of strip."""
    if not sweep.results:
        return []
    h, w = sweep.results[0].image.shape[-2:]
    captions = _captions(sweep, labels_text)
    pad = max(3, w // 80)
    font = _fitting_font(captions, w - 2 * pad)
    step = round(font.size * 1.3) if hasattr(font, "size") else 14
    lines = len(captions[0])
    strip_h = 2 * pad + lines * step
    strip_h += (h + strip_h) % 2
    out = []
    for pixels, caption in zip(_pixels([r.image for r in sweep.results]), captions):
        frame = np.concatenate([pixels, _strip(caption, w, strip_h, font, pad, step)], axis=0)
        if w % 2:
            frame = np.concatenate([frame, np.full((frame.shape[0], 1, 3), BACKGROUND, np.uint8)], axis=1)
        out.append(frame)
    return out


def _gif(frames: list[np.ndarray], fps: float) -> bytes:
    """Pillow's GIF, looping forever: each frame with its own 256-colour palette by fast octree (Pillow's
    default median cut takes ~50x longer, 10 s for 51 frames of 384×332, for a mean error of 2.5/255 against
    3.2). GIF counts time in 1/100 s, so a frame lasts round(100/fps) hundredths (12 fps: 0.08 s)."""
    pictures = [Image.fromarray(f).quantize(256, method=Image.Quantize.FASTOCTREE) for f in frames]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], loop=0,
                     duration=max(2, round(100 / fps)) * 10)
    return buf.getvalue()


def _mp4(frames: list[np.ndarray], fps: float) -> bytes:
    """H.264 (libx264, CRF 18) in yuv420p, the moov atom first (+faststart) so a browser starts playing before
    the whole file is in, written by imageio-ffmpeg's ffmpeg into a temporary file and read back."""
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="mixviz-") as tmp:
        path = Path(tmp) / "sweep.mp4"
        writer = imageio_ffmpeg.write_frames(
            str(path), (w, h), fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
            quality=None, macro_block_size=2, ffmpeg_log_level="error",
            output_params=["-crf", str(CRF), "-preset", "medium", "-movflags", "+faststart"])
        writer.send(None)
        for f in frames:
            writer.send(np.ascontiguousarray(f))
        writer.close()
        data = path.read_bytes() if path.exists() else b""
    if not data:
        raise RuntimeError("ffmpeg wrote no video (see its messages above)")
    return data


def encode(frames: list[np.ndarray], fmt: str, fps: float = 12) -> bytes:
    """`frames` (H×W×3 uint8, one size, even for mp4) as a file's bytes: fmt "gif" (loops forever) or
    "mp4" (H.264, yuv420p: plays in browsers and slide software)."""
    if fmt not in FORMATS:
        raise MixError(f"an animation is a .gif or an .mp4, not {fmt!r}")
    if not frames:
        raise MixError("no frames to encode")
    if not fps > 0:
        raise MixError(f"fps must be positive, got {fps}")
    shapes = {f.shape for f in frames}
    if len(shapes) > 1 or frames[0].ndim != 3 or frames[0].shape[2] != 3 or frames[0].dtype != np.uint8:
        raise MixError(f"frames must be H×W×3 uint8 of one size, got {sorted(shapes)}")
    if fmt == "mp4" and (frames[0].shape[0] % 2 or frames[0].shape[1] % 2):
        raise MixError(f"H.264 needs even sizes, got {frames[0].shape[1]}×{frames[0].shape[0]}")
    return _gif(frames, fps) if fmt == "gif" else _mp4(frames, fps)


def format_of(path_or_fmt: str | Path) -> tuple[str, Path | None]:
    """("gif" | "mp4", the path to write or None) from a format name or a file name's suffix."""
    text = str(path_or_fmt)
    if text.lower() in FORMATS:
        return text.lower(), None
    fmt = Path(text).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise MixError(f"write the animation to a .gif or an .mp4 file, not {Path(text).name!r}")
    return fmt, Path(text)


def animate(method: str, images, path_or_fmt: str | Path, frames: int = 51, fps: float = 12, seed: int = 0,
            labels_text: bool = True, **params) -> bytes:
    """A sweep of `method` on `images` (mixviz.sweep with `frames`, `seed` and `params`: labels, over, values,
    lam, alpha, image_size, the method's parameters) as a GIF or MP4: `path_or_fmt` is "gif", "mp4" or a file
    name ending in one of them, which is then written. Returns the file's bytes."""
    from ..sweep import sweep

    fmt, path = format_of(path_or_fmt)
    data = encode(sweep_frames(sweep(method, images, frames=frames, seed=seed, **params), labels_text), fmt, fps)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data
