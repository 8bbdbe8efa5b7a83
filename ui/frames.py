"""How a sweep's pictures travel to the live scrubber (ui/live.py): one file of parts, each at an (offset,
length), described by a layout the header carries.

Two ways, chosen per sweep:
- "switch", exact: where every frame takes each pixel (each element, per channel) from the first frame or the
  last one, and each element switches from first to last once as the value moves (hard masks that grow or
  shrink with λ: CutMix, FMix, the concat methods, random pixels; a Cutout hole growing with its size), the
  file holds the first and last frames (JPEG, quality 90) and, per element, the frame at which it switches
  (uint8, deflated; one channel where all channels switch together). The browser composes frame i as
  `i >= at ? last : first`. JPEG frames of such sweeps cost much and show little: random pixels are noise to
  JPEG (about 35 KB a frame at quality 40, and 4:2:0 chroma loses random elements' colours, 12 dB PSNR).
- "jpeg": otherwise (blends, seeds): one JPEG per frame, quality 80, dropping to 60 or 40 where a sweep of
  noisy pictures would pass BUDGET.
Either way the masks go as one JPEG sheet (row i: frame i's masks, input by input) at most MASK_SIDE a side."""
from __future__ import annotations

import zlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import torch

from mixviz.threads import CORES

MASK_SIDE = 160  # masks travel at most this many pixels on their longer side (they are shown small)
QUALITIES = (80, 60, 40)  # JPEG qualities, tried in turn until the file is within BUDGET
ENDS_QUALITY = 90  # the first and last frames of a "switch" file: every frame is made of their pixels
BUDGET = 1_400_000  # bytes of frames and masks per sweep (the header adds a few kilobytes)


_POOL = ThreadPoolExecutor(max_workers=CORES, thread_name_prefix="mixviz-jpeg")


class Encoder:
    """Pictures (C, H, W) float in [0, 1] to JPEG files at `quality` (OpenCV's libjpeg-turbo: the bytes Pillow
    makes at the same quality, 15% sooner), through two buffers reused for every picture of a size (on these
    machines the page faults of fresh tensors cost more than the arithmetic; the one temporary is the colour
    picture flipped to OpenCV's BGR). One Encoder per thread: the buffers are its own."""

    def __init__(self, quality: int):
        self.quality, self.buffers = quality, {}

    def __call__(self, pixels: torch.Tensor) -> bytes:
        c, h, w = pixels.shape
        if (c, h, w) not in self.buffers:
            self.buffers[c, h, w] = (torch.empty(h, w, c), torch.empty(h, w, c, dtype=torch.uint8))
        real, out = self.buffers[c, h, w]
        torch.mul((pixels.flip(0) if c == 3 else pixels).permute(1, 2, 0), 255, out=real)  # RGB to OpenCV's BGR
        out.copy_(real.add_(0.5).clamp_(0, 255))  # float to uint8 truncates: rounded by the 0.5
        ok, buf = cv2.imencode(".jpg", out.numpy(), [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError("OpenCV could not encode the picture as JPEG")
        return buf.tobytes()


def _spans(n: int) -> list[slice]:
    """min(CORES, n) (at least one) consecutive slices that cover range(n), as even as they can be."""
    runs = max(1, min(CORES, n))
    return [slice(n * i // runs, n * (i + 1) // runs) for i in range(runs)]


def in_runs(make, items: list) -> list:
    """[make()(item) for item in items], in order, in CORES runs of consecutive items on a thread pool, each run
    with a `make()` of its own (an Encoder: its buffers are not shared). libjpeg, OpenCV's resize and torch's
    copies let go of the GIL: a sweep's frames and masks in about half the time on 2 cores (a sweep is made
    once per change of method, images, seed or parameters)."""
    def run(span: slice) -> list:
        one = make()
        return [one(item) for item in items[span]]

    spans = _spans(len(items))
    if len(spans) == 1:
        return run(spans[0])
    return [out for part in _POOL.map(run, spans) for out in part]


def small(masks: torch.Tensor) -> torch.Tensor:
    """(K, H, W) masks at most about MASK_SIDE a side, each pixel the mean of an f×f block (a random-pixel mask
    becomes a grey of its density, which compresses: as single pixels it would be megabytes of noise); the last
    H mod f rows and W mod f columns are left out. OpenCV's area resize: the block means, twice as fast as
    torch's avg_pool2d here."""
    k, h, w = masks.shape
    f = max(1, -(-max(h, w) // MASK_SIDE))
    a = masks.detach().cpu().float().numpy()
    out = np.empty((k, max(1, h // f), max(1, w // f)), dtype=np.float32)
    for j in range(k):
        m = a[j, :out.shape[1] * f if h >= f else h, :out.shape[2] * f if w >= f else w]
        out[j] = cv2.resize(m, (out.shape[2], out.shape[1]), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(out)


def switches(images: list[torch.Tensor]) -> torch.Tensor | None:
    """(C or 1, H, W) uint8: the frame at which each element of the pictures switches from the first picture's
    value to the last one's (len(images) where it never does), such that picture i equals, element by
    element and exactly, `last if i >= at else first`; None where no such map exists (a blend, a
    non-monotone sweep, fewer than 3 pictures). One channel where every channel that changes switches at
    the same frame. Bands of rows are checked on the thread pool (torch lets go of the GIL)."""
    n = len(images)
    if n < 3 or n > 255:
        return None
    images = [image.cpu() for image in images]
    first, last, middle = images[0], images[-1], images[n // 2]
    if not ((middle == first) | (middle == last)).all():  # a blend: found at the cost of one frame
        return None
    parts = list(_POOL.map(lambda rows: _switch_band([image[:, rows] for image in images]), _spans(first.shape[1])))
    if any(part is None for part in parts):
        return None
    at = torch.cat(parts, dim=1)
    changes = first != last
    pixel = torch.where(changes, at, 0).amax(0, keepdim=True)  # elements that never change may take any frame
    if first.shape[0] > 1 and not (changes & (at != pixel)).any():
        return pixel.contiguous()
    return at.contiguous()


def _switch_band(images: list[torch.Tensor]) -> torch.Tensor | None:
    """switches' map for one band of rows, before the channels are joined; None where there is none."""
    n, first, last = len(images), images[0], images[-1]
    shape = first.shape
    switched, count = torch.zeros(shape, dtype=torch.bool), torch.zeros(shape, dtype=torch.uint8)
    as_first, as_last = torch.empty(shape, dtype=torch.bool), torch.empty(shape, dtype=torch.bool)
    for image in images[1:]:
        torch.eq(image, first, out=as_first)
        torch.eq(image, last, out=as_last)
        torch.logical_or(switched, as_first.logical_not_(), out=switched)  # it has left the first picture's value
        if torch.logical_and(switched, as_last.logical_not_(), out=as_last).any():  # ... and not for the last's
            return None
        count += switched
    return n - count  # an element that switched at frame k was counted in frames k … n − 1


def encode(results) -> tuple[bytes, dict]:
    """The file of a sweep's MixResults and its layout: {"kind": "switch" | "jpeg", "mime", the parts' (offset,
    length) ("first", "last", "at", "channels" or "frames"), "mask_sheet", "mask_size", "quality"}."""
    at = switches([r.image for r in results])
    if at is not None:
        return _switch_file(results, at)
    return _jpeg_file(results)


class _File:
    """The parts of a file, each remembered as [offset, length]."""

    def __init__(self):
        self.parts, self.at = [], 0

    def add(self, blob: bytes) -> list[int]:
        self.parts.append(blob)
        self.at += len(blob)
        return [self.at - len(blob), len(blob)]

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def _sheet(results) -> torch.Tensor:
    """(1, N·h, K·w): row i holds frame i's masks, input by input, each as `small` makes it."""
    sheet = None
    for i, m in enumerate(in_runs(lambda: small, [r.masks for r in results])):
        k, h, w = m.shape
        if sheet is None:
            sheet = torch.empty(len(results) * h, k * w)
        sheet[i * h:(i + 1) * h].view(h, k, w).copy_(m.permute(1, 0, 2))
    return sheet[None]


def _mask_size(results, sheet: torch.Tensor) -> list[int]:
    """(h, w) of one mask in the sheet."""
    return [sheet.shape[1] // len(results), sheet.shape[2] // len(results[0].masks)]


def _switch_file(results, at: torch.Tensor) -> tuple[bytes, dict]:
    """The "switch" file: first and last frames, the switch map, the mask sheet at the best quality that fits."""
    f = _File()
    ends = Encoder(ENDS_QUALITY)
    layout = {"kind": "switch", "mime": "image/jpeg", "first": f.add(ends(results[0].image.cpu())),
              "last": f.add(ends(results[-1].image.cpu())), "at": f.add(zlib.compress(at.numpy().tobytes(), 6)),
              "channels": int(at.shape[0])}
    sheet = _sheet(results)
    for quality in QUALITIES:
        masks = Encoder(quality)(sheet)
        if f.at + len(masks) <= BUDGET:
            break
    layout.update(mask_sheet=f.add(masks), mask_size=_mask_size(results, sheet), quality=quality)
    return f.bytes(), layout


def _jpeg_file(results) -> tuple[bytes, dict]:
    """One JPEG per frame and the mask sheet, at the highest of QUALITIES whose file should fit BUDGET."""
    quality = _quality(results)
    f = _File()
    frames = [f.add(blob) for blob in in_runs(lambda: Encoder(quality), [r.image.cpu() for r in results])]
    sheet = _sheet(results)
    layout = {"kind": "jpeg", "mime": "image/jpeg", "frames": frames, "mask_sheet": f.add(Encoder(quality)(sheet)),
              "mask_size": _mask_size(results, sheet), "quality": quality}
    return f.bytes(), layout


def _quality(results) -> int:
    """The highest of QUALITIES at which the JPEG file should stay within BUDGET, judged from its middle frame
    and masks (the noisiest frame of a λ sweep: as many pixels from each image), so the file is encoded once."""
    middle = results[len(results) // 2]
    m = small(middle.masks)
    row = m.permute(1, 0, 2).reshape(1, m.shape[1], -1)  # the frame's row of the mask sheet
    for quality in QUALITIES:
        jpeg = Encoder(quality)
        frame = len(jpeg(middle.image.cpu())) + len(jpeg(row.contiguous()))
        if frame * len(results) <= BUDGET:
            return quality
    return QUALITIES[-1]
