"""A generated corpus of hostile and odd image files, with what `mixviz.imaging.load_image` must make of each.

Every file is built in memory (Pillow, numpy or hand-written bytes), deterministically and quickly. A case
either loads to an 8-bit RGB image of `size` (width, height), optionally with a check on its pixels, or
(`size` None) is refused with an ImageError whose message matches `match`. Used by tests/test_hostile.py
and by the browser test, which uploads the same files by `name`.
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
from PIL import Image, features

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
REFUSED = "not an image this tool can read"
DAMAGED = "damaged or cut short"
TOO_BIG = "megapixels"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    size: tuple[int, int] | None
    match: str = ""
    pixels: Callable[[np.ndarray], bool] | None = None
    why: str = ""


# ---------------------------------------------------------------- helpers

def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its correct CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, depth: int, colour: int, rows: bytes, extra: bytes = b"") -> bytes:
    """A hand-made PNG: IHDR (with correct CRC), `extra` chunks, one IDAT of the raw `rows`, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def near(colour, tol: int = 12) -> Callable[[np.ndarray], bool]:
    """Check: every pixel within `tol` of `colour`."""
    return lambda a: bool(np.abs(a.astype(int) - colour).max() <= tol)


def at(*checks) -> Callable[[np.ndarray], bool]:
    """Check: for each (row, col, colour[, tol]) the pixel there is within tol (default 20) of colour."""
    def check(a: np.ndarray) -> bool:
        for row, col, colour, *tol in checks:
            if np.abs(a[row, col].astype(int) - colour).max() > (tol[0] if tol else 20):
                return False
        return True
    return check


def same(expected: np.ndarray, tol: int = 0) -> Callable[[np.ndarray], bool]:
    """Check: the array equals `expected` (within tol)."""
    return lambda a: a.shape == expected.shape and bool(np.abs(a.astype(int) - expected).max() <= tol)


def quadrants(w: int = 48, h: int = 32) -> Image.Image:
    """w×h RGB: top-left red, top-right green, bottom-left blue, bottom-right white: its corners tell its turn."""
    arr = np.zeros((h, w, 3), np.uint8)
    arr[: h // 2, : w // 2] = RED
    arr[: h // 2, w // 2:] = GREEN
    arr[h // 2:, : w // 2] = BLUE
    arr[h // 2:, w // 2:] = WHITE
    return Image.fromarray(arr)


def corners(tl, tr, bl, br) -> Callable[[np.ndarray], bool]:
    """Check the colours near the four corners (3 pixels in) of a loaded image."""
    return lambda a: at((3, 3, tl), (3, -4, tr), (-4, 3, bl), (-4, -4, br))(a)


def noise(w: int, h: int, seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def frames(fmt: str, colours, size=(16, 12), **kw) -> bytes:
    imgs = [Image.new("RGB", size, c) for c in colours]
    return encode(imgs[0], fmt, save_all=True, append_images=imgs[1:], **kw)


def jpeg_with_app1(body: bytes) -> bytes:
    """A small JPEG with an APP1 segment holding `body` inserted right after SOI."""
    data = encode(quadrants(), "JPEG", quality=95)
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:]


def jpeg_resized_header(width: int, height: int) -> bytes:
    """A tiny real JPEG whose SOF0 frame header is rewritten to claim width×height."""
    data = bytearray(encode(Image.new("RGB", (8, 8), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_header(screen: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """A GIF with a logical screen of `screen` and one image of `frame`, whose data is a few bytes."""
    return (b"GIF89a" + struct.pack("<HH", *screen) + b"\x80\x00\x00" + bytes(RED) + bytes(BLUE)
            + b"\x2c" + struct.pack("<HHHH", 0, 0, *frame) + b"\x00"
            + b"\x02\x02\x4c\x01\x00" + b"\x3b")  # LZW min size 2, one tiny sub-block, end, trailer


def tiff_dims(width: int, height: int) -> bytes:
    """A real 8×8 TIFF whose ImageWidth/ImageLength tags are rewritten to claim width×height."""
    data = bytearray(encode(Image.new("L", (8, 8), 0), "TIFF"))
    (ifd,) = struct.unpack("<I", data[4:8])
    (count,) = struct.unpack("<H", data[ifd: ifd + 2])
    for i in range(count):
        entry = ifd + 2 + 12 * i
        (tag,) = struct.unpack("<H", data[entry: entry + 2])
        if tag in (256, 257):
            value = width if tag == 256 else height
            data[entry + 2: entry + 12] = struct.pack("<HI", 4, 1) + struct.pack("<I", value)
    return bytes(data)


def tiff_ifd_loop() -> bytes:
    """A 2-page TIFF whose second IFD points back at the first: a cycle for any reader walking pages."""
    data = bytearray(frames("TIFF", [RED, GREEN]))
    (first,) = struct.unpack("<I", data[4:8])
    ifd = first
    while True:  # find the last IFD and point its "next" at the first
        (count,) = struct.unpack("<H", data[ifd: ifd + 2])
        nxt = ifd + 2 + 12 * count
        (following,) = struct.unpack("<I", data[nxt: nxt + 4])
        if following == 0:
            data[nxt: nxt + 4] = struct.pack("<I", first)
            return bytes(data)
        ifd = following


def exif(orientation: int) -> Image.Exif:
    e = Image.Exif()
    e[0x0112] = orientation
    return e


MINIMAL_PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >> endobj
xref
0 4
0000000000 65535 f 
0000000009 00000 n 
0000000058 00000 n 
0000000115 00000 n 
trailer << /Size 4 /Root 1 0 R >>
startxref
184
%%EOF
"""

SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <rect width="64" height="64" fill="#ff0000"/>
  <circle cx="32" cy="32" r="16" fill="#0000ff"/>
</svg>
"""

HTML = b"""<!DOCTYPE html>
<html><head><title>Not an image</title></head>
<body><img src="cat.png" alt="a cat"><script>alert(1)</script></body></html>
"""

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 16 16
%%EndComments
newpath 0 0 moveto 16 0 lineto 16 16 lineto closepath 1 0 0 setrgbcolor fill
showpage
%%EOF
"""


# ---------------------------------------------------------------- the corpus

def _cases() -> list[Case]:
    cases: list[Case] = []

    def add(name, data, size, match="", pixels=None, why=""):
        cases.append(Case(name, bytes(data), size, match, pixels, why))

    q = quadrants()
    qarr = np.asarray(q)
    photo = noise(200, 150, seed=1)
    full_jpeg = encode(photo, "JPEG", quality=90)
    full_png = encode(photo, "PNG")

    # -- not images at all
    add("empty.png", b"", None, "empty", why="zero bytes")
    add("notes.txt", b"hello, this is a text file\n" * 20, None, REFUSED, why="plain text")
    add("page.html", HTML, None, REFUSED, why="an HTML page")
    add("drawing.svg", SVG, None, REFUSED, why="a real SVG (vector XML, not a raster format this tool reads)")
    add("document.pdf", MINIMAL_PDF, None, REFUSED, why="a minimal one-page PDF")
    add("random.jpg", np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(), None, REFUSED,
        why="4 KiB of random bytes named .jpg")
    add("html_named.png", HTML, None, REFUSED, why="HTML content in a file named .png")
    add("photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, None, REFUSED,
        why="an HEIC ftyp box (iPhone photo format, no reader here)")

    # -- damaged
    add("truncated.jpg", full_jpeg[: len(full_jpeg) // 2], None, DAMAGED, why="a JPEG cut off half-way")
    add("truncated.png", full_png[: len(full_png) // 2], None, DAMAGED, why="a PNG cut off half-way")
    add("soi_garbage.jpg", b"\xff\xd8" + np.random.default_rng(8).integers(0, 256, 512, dtype=np.uint8).tobytes(),
        None, f"{REFUSED}|{DAMAGED}", why="a JPEG start-of-image marker followed by garbage")
    bad_crc = bytearray(encode(q, "PNG"))
    bad_crc[29:33] = bytes(b ^ 0xFF for b in bad_crc[29:33])  # IHDR's CRC
    add("bad_crc.png", bad_crc, None, DAMAGED,
        why="a whole PNG whose IHDR chunk CRC is wrong: a damaged PNG, which the message should say")
    ztxt_bomb = zlib.compress(b"\x00" * 8_000_000, 9)
    add("ztxt_bomb.png", png(4, 4, 8, 0, (b"\x00" + b"\x80" * 4) * 4, chunk(b"zTXt", b"Comment\x00\x00" + ztxt_bomb)),
        None, DAMAGED, why="a 4×4 PNG with a zTXt chunk inflating to 8 MB (over Pillow's text limit)")
    add("gif_no_frames.gif", b"GIF89a\x10\x00\x10\x00\x00\x00\x00\x3b", None, f"{REFUSED}|{DAMAGED}",
        why="a GIF header and trailer with no image in it")

    # -- too large: refused before decoding
    add("huge_100000x100000.png", png(100_000, 100_000, 8, 2, b"\x00\x00\x00\x00"), None, TOO_BIG,
        why="a crafted PNG header claiming 100000×100000 (10 gigapixels), then a tiny IDAT")
    add("huge_8000x6000.png", png(8000, 6000, 8, 0, b"\x00\x00"), None, TOO_BIG,
        why="a crafted PNG header claiming 48 MP (over the 40 MP rule, under Pillow's bomb limit)")
    add("gif_screen_60000.gif", gif_header((60000, 60000), (1, 1)), None, TOO_BIG,
        why="a GIF whose logical screen is 60000×60000, with a 1×1 frame")
    add("gif_frame_60000.gif", gif_header((1, 1), (60000, 60000)), None, TOO_BIG,
        why="a GIF with a 1×1 logical screen and a frame claiming 60000×60000")
    add("jpeg_header_10000x5000.jpg", jpeg_resized_header(10000, 5000), None, TOO_BIG,
        why="a JPEG whose frame header claims 10000×5000 (50 MP)")
    add("tiff_header_50000x50000.tif", tiff_dims(50000, 50000), None, TOO_BIG,
        why="a TIFF whose tags claim 50000×50000")

    # -- formats Pillow knows but this tool must not open
    add("figure.eps", EPS, None, REFUSED, why="an EPS file (Pillow would run Ghostscript on it)")
    add("favicon.ico", encode(q, "ICO", sizes=[(32, 32)]), None, REFUSED, why="an ICO icon written by Pillow")
    add("paint.pcx", encode(q, "PCX"), None, REFUSED, why="a PCX image written by Pillow")
    add("sprite.tga", encode(q, "TGA"), None, REFUSED, why="a TGA image written by Pillow")
    add("frame.ppm", encode(q, "PPM"), None, REFUSED, why="a PPM image written by Pillow")
    add("layers.psd", b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 32, 48, 8, 3) + b"\x00" * 64,
        None, REFUSED, why="a PSD header (3×8-bit RGB, 48×32)")
    if features.check("jpg_2000"):
        add("scan.jp2", encode(q, "JPEG2000"), None, REFUSED, why="a JPEG 2000 image written by Pillow")

    # -- odd sizes
    add("one_pixel.png", encode(Image.new("RGB", (1, 1), (12, 34, 56)), "PNG"), (1, 1),
        pixels=near((12, 34, 56), 0), why="a 1×1 PNG")
    add("column_1x10000.png", encode(Image.new("RGB", (1, 10000), GREEN), "PNG"), (1, 10000),
        pixels=near(GREEN, 0), why="a 1×10000 PNG")
    add("row_10000x1.png", encode(Image.new("RGB", (10000, 1), BLUE), "PNG"), (10000, 1),
        pixels=near(BLUE, 0), why="a 10000×1 PNG")
    add("tiny_2x2.jpg", encode(Image.new("RGB", (2, 2), RED), "JPEG", quality=95), (2, 2), pixels=near(RED, 20),
        why="a 2×2 JPEG")
    cifar = np.asarray(noise(32, 32, seed=3))
    add("cifar_32x32.png", encode(Image.fromarray(cifar), "PNG"), (32, 32), pixels=same(cifar),
        why="a CIFAR-sized 32×32 PNG (exact pixels)")

    # -- plain good files, each with a colour check
    add("photo.jpg", full_jpeg, (200, 150), why="an ordinary 200×150 JPEG")
    add("progressive.jpg", encode(q, "JPEG", progressive=True, quality=95), (48, 32),
        pixels=corners(RED, GREEN, BLUE, WHITE), why="a progressive JPEG")
    add("grey.jpg", encode(Image.new("L", (20, 10), 90), "JPEG"), (20, 10), pixels=near((90, 90, 90), 3),
        why="a greyscale (mode L) JPEG")
    add("bmp.bmp", encode(q, "BMP"), (48, 32), pixels=same(qarr), why="a 24-bit BMP")
    add("lossless.webp", encode(q, "WEBP", lossless=True), (48, 32), pixels=same(qarr), why="a lossless WebP")
    add("lossy.webp", encode(q, "WEBP", quality=90), (48, 32), pixels=corners(RED, GREEN, BLUE, WHITE),
        why="a lossy WebP")
    if features.check("avif"):
        add("photo.avif", encode(q, "AVIF", quality=90), (48, 32), pixels=corners(RED, GREEN, BLUE, WHITE),
            why="an AVIF written by Pillow")
    add("png_named.jpg", encode(q, "PNG"), (48, 32), pixels=same(qarr),
        why="PNG content in a file named .jpg: read by its content")
    add("lzw.tif", encode(q, "TIFF", compression="tiff_lzw"), (48, 32), pixels=same(qarr), why="an LZW TIFF")
    add("deflate.tif", encode(q, "TIFF", compression="tiff_adobe_deflate"), (48, 32), pixels=same(qarr),
        why="a deflate TIFF")
    add("cmyk.tif", encode(Image.new("CMYK", (10, 10), (0, 255, 255, 0)), "TIFF"), (10, 10),
        pixels=near(RED, 12), why="a CMYK TIFF of pure red (0% cyan, 100% magenta and yellow)")

    # -- modes that need converting
    add("cmyk_cyan.jpg", encode(Image.new("CMYK", (16, 16), (255, 0, 0, 0)), "JPEG", quality=95), (16, 16),
        pixels=near((0, 255, 255), 16), why="a pure-cyan CMYK JPEG: cyan (0, 255, 255) in RGB")
    add("cmyk_black.jpg", encode(Image.new("CMYK", (16, 16), (0, 0, 0, 255)), "JPEG", quality=95), (16, 16),
        pixels=near(BLACK, 16), why="a CMYK JPEG of 100% key (black)")
    rgb16 = np.zeros((4, 6, 3), ">u2")
    rgb16[..., 0], rgb16[..., 1], rgb16[..., 2] = 65535, 32768, 256
    add("rgb16.png", png(6, 4, 16, 2, b"".join(b"\x00" + row.tobytes() for row in rgb16)), (6, 4),
        pixels=near((255, 128, 1), 1), why="a 16-bit RGB PNG: (65535, 32768, 256) scales to (255, 128, 1)")
    grey16 = np.array([[0, 16384, 32768, 65535]], ">u2").repeat(3, 0)
    add("grey16.png", png(4, 3, 16, 0, b"".join(b"\x00" + row.tobytes() for row in grey16)), (4, 3),
        pixels=lambda a: a[0, :, 0].tolist() == [0, 64, 128, 255] and bool((a == a[..., :1]).all()),
        why="a 16-bit greyscale PNG: 0, 16384, 32768, 65535 scale to 0, 64, 128, 255")
    dark16 = np.array([[0, 100, 200, 255]], ">u2").repeat(3, 0)
    add("grey16_dark.png", png(4, 3, 16, 0, b"".join(b"\x00" + row.tobytes() for row in dark16)), (4, 3),
        pixels=lambda a: int(a.max()) <= 1,
        why="a 16-bit greyscale PNG that is nearly black (values up to 255 of 65535): stays black")
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    pal.paste(1, (0, 0, 4, 8))
    add("palette_transparent.png", encode(pal, "PNG", transparency=0), (8, 8),
        pixels=at((0, 0, (10, 200, 30), 0), (7, 7, WHITE, 0)),
        why="a palette PNG whose index 0 is transparent: left half green, right half becomes white")
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:5, :, 3] = 255
    rgba[5:, :, 3] = 0
    rgba[5:, :5, 3] = 128
    add("rgba.png", encode(Image.fromarray(rgba, "RGBA"), "PNG"), (10, 10),
        pixels=at((0, 0, RED, 0), (9, 9, WHITE, 0), (9, 0, (255, 127, 127), 1)),
        why="an RGBA PNG: opaque red, fully transparent (white) and half-transparent red (pink)")
    la = np.zeros((6, 6, 2), np.uint8)
    la[..., 1] = 255
    la[3:, :, 1] = 0
    add("la.png", encode(Image.fromarray(la, "LA"), "PNG"), (6, 6), pixels=at((0, 0, BLACK, 0), (5, 5, WHITE, 0)),
        why="an LA (grey + alpha) PNG: opaque black top, transparent bottom becomes white")
    bilevel = Image.new("1", (9, 7), 0)
    bilevel.paste(1, (0, 0, 4, 7))
    add("bilevel.png", encode(bilevel, "PNG"), (9, 7), pixels=at((0, 0, WHITE, 0), (6, 8, BLACK, 0)),
        why="a mode '1' bilevel PNG: white left, black right")
    add("float32.tif", encode(Image.fromarray(np.array([[-1.0, 0.0, 1.0]] * 2, np.float32), "F"), "TIFF"), (3, 2),
        pixels=lambda a: a[0, :, 0].tolist() == [0, 128, 255], why="a float32 TIFF scaled by its range")
    nan = np.array([[0.0, 0.5, 1.0, np.nan, np.inf]] * 2, np.float32)
    add("float32_nan.tif", encode(Image.fromarray(nan, "F"), "TIFF"), (5, 2),
        pixels=lambda a: a[0, :3, 0].tolist() == [0, 128, 255],
        why="a float32 TIFF holding NaN and inf: the finite values still span black to white")
    add("lab.tif", encode(Image.new("LAB", (8, 8), (128, 128, 128)), "TIFF"), (8, 8),
        pixels=near((119, 119, 119), 20), why="a CIELab TIFF of mid grey (L=50%): a grey RGB image")

    # -- several frames: the first is used
    add("animated.gif", frames("GIF", [RED, GREEN, BLUE]), (16, 12), pixels=near(RED, 0),
        why="an animated GIF, red then green then blue: the first frame (red)")
    gif_t = Image.new("P", (8, 8), 0)
    gif_t.putpalette(list(RED) + list(BLUE) + [0] * 762)
    gif_t.paste(1, (0, 0, 8, 4))
    add("transparent.gif", encode(gif_t, "GIF", transparency=0), (8, 8), pixels=at((0, 0, BLUE, 0), (7, 7, WHITE, 0)),
        why="a GIF whose transparent index covers the bottom half: white there")
    add("multipage.tif", frames("TIFF", [GREEN, RED]), (16, 12), pixels=near(GREEN, 0),
        why="a two-page TIFF, green then red: the first page")
    add("ifd_loop.tif", tiff_ifd_loop(), (16, 12), pixels=near(RED, 0),
        why="a two-page TIFF whose last IFD points back to the first (a cycle)")
    add("animated.webp", frames("WEBP", [BLUE, RED], lossless=True), (16, 12), pixels=near(BLUE, 0),
        why="an animated WebP: the first frame")
    add("animated.png", frames("PNG", [GREEN, BLUE]), (16, 12), pixels=near(GREEN, 0),
        why="an APNG: the first frame")
    add("camera_mpo.jpg", frames("MPO", [RED, GREEN], quality=95), (16, 12), pixels=near(RED, 16),
        why="a multi-picture JPEG (MPO, as many cameras write): the first picture")

    # -- EXIF
    add("exif_rotate_6.jpg", encode(q, "JPEG", quality=95, exif=exif(6)), (32, 48),
        pixels=corners(BLUE, RED, WHITE, GREEN),
        why="EXIF orientation 6 (turn 90° clockwise): 32×48, the red corner at top right")
    add("exif_rotate_8.jpg", encode(q, "JPEG", quality=95, exif=exif(8)), (32, 48),
        pixels=corners(GREEN, WHITE, RED, BLUE),
        why="EXIF orientation 8 (turn 90° anticlockwise): 32×48, the red corner at bottom left")
    add("exif_rotate_3.jpg", encode(q, "JPEG", quality=95, exif=exif(3)), (48, 32),
        pixels=corners(WHITE, BLUE, GREEN, RED), why="EXIF orientation 3 (turn 180°): the red corner at bottom right")
    add("exif_mirror_2.png", encode(q, "PNG", exif=exif(2)), (48, 32), pixels=corners(GREEN, RED, WHITE, BLUE),
        why="a PNG with an eXIf chunk, orientation 2 (mirror left-right)")
    add("exif_bogus_9.jpg", encode(q, "JPEG", quality=95, exif=exif(9)), (48, 32),
        pixels=corners(RED, GREEN, BLUE, WHITE), why="EXIF orientation 9 (no such value): left as stored")
    add("exif_garbage.jpg", jpeg_with_app1(b"Exif\x00\x00" + np.random.default_rng(9).integers(
        0, 256, 300, dtype=np.uint8).tobytes()), (48, 32), pixels=corners(RED, GREEN, BLUE, WHITE),
        why="a JPEG whose EXIF block is random bytes: still loads, unrotated")
    add("exif_bad_offset.jpg", jpeg_with_app1(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x00" * 32), (48, 32),
        pixels=corners(RED, GREEN, BLUE, WHITE),
        why="a JPEG whose EXIF TIFF header points its IFD 2 GB away: still loads, unrotated")
    return cases


@lru_cache(maxsize=1)
def corpus() -> list[Case]:
    """Every case, built once (deterministic)."""
    return _cases()
