"""load_image on good, unusual and malformed files made in the test; the common-size rule."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

import mixviz
from mixviz.imaging import cover_crop, load_image, to_batch, to_pil, to_tensor


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def gradient(w=40, h=30) -> Image.Image:
    arr = np.zeros((h, w, 3), np.uint8)
    arr[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None]
    arr[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    return Image.fromarray(arr)


def test_rgb_jpeg_and_path(tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(encode(gradient(), "JPEG"))
    img = load_image(p)
    assert img.mode == "RGB" and img.size == (40, 30)
    assert load_image(p.read_bytes()).size == (40, 30)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img = load_image(encode(gradient(40, 30), "JPEG", exif=exif))
    assert img.size == (30, 40)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1"])
def test_other_modes_become_rgb(mode):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    img = load_image(encode(gradient().convert(mode), fmt))
    assert img.mode == "RGB" and img.size == (40, 30)


def test_rgba_is_composited_on_white():
    arr = np.zeros((10, 10, 4), np.uint8)
    arr[..., 0] = 255
    arr[:5, :, 3] = 255  # top half opaque red, bottom half transparent
    img = np.asarray(load_image(encode(Image.fromarray(arr, "RGBA"), "PNG")))
    assert tuple(img[0, 0]) == (255, 0, 0) and tuple(img[9, 9]) == (255, 255, 255)


def test_palette_with_transparency():
    img = Image.new("P", (8, 8), 0)
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    img.putpixel((0, 0), 1)
    out = np.asarray(load_image(encode(img, "PNG", transparency=0)))
    assert tuple(out[0, 0]) == (10, 200, 30) and tuple(out[5, 5]) == (255, 255, 255)


def test_sixteen_bit_grayscale_is_scaled():
    arr = np.array([[0, 32768, 65535]], dtype=np.uint16)
    img16 = Image.fromarray(arr)
    assert img16.mode == "I;16"
    out = np.asarray(load_image(encode(img16, "PNG")))
    assert out[0, :, 0].tolist() == [0, 128, 255]


def test_float_tiff_is_scaled_by_its_range():
    arr = np.array([[-1.0, 0.0, 1.0]], dtype=np.float32)
    out = np.asarray(load_image(encode(Image.fromarray(arr, "F"), "TIFF")))
    assert out[0, :, 0].tolist() == [0, 128, 255]


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert tuple(np.asarray(load_image(buf.getvalue()))[0, 0]) == (255, 0, 0)


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"hello, this is a text file\n" * 10, "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image|damaged"),
])
def test_malformed_bytes_are_refused(data, match):
    with pytest.raises(mixviz.ImageError, match=match):
        load_image(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_refused(fmt):
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8))
    data = encode(noisy, fmt)
    with pytest.raises(mixviz.ImageError, match="damaged or cut short"):
        load_image(data[: len(data) // 2])


def test_too_many_pixels_is_refused_before_decoding():
    data = encode(gradient(400, 300), "PNG")
    with pytest.raises(mixviz.ImageError, match="megapixels"):
        load_image(data, max_pixels=100_000)


def test_missing_file(tmp_path):
    with pytest.raises(mixviz.ImageError, match="no such file"):
        load_image(tmp_path / "nope.png")


def test_image_error_is_a_value_error():
    assert issubclass(mixviz.ImageError, ValueError) and issubclass(mixviz.MixError, ValueError)


def test_common_size_covers_the_first_image_and_crops_the_centre():
    first = torch.zeros(3, 30, 60)
    tall = torch.zeros(3, 100, 50)
    tall[:, 45:55] = 1.0  # a bright band through the middle
    batch = to_batch([first, tall])
    assert batch.shape == (2, 3, 30, 60)
    # the tall image is scaled to width 60 (height 120) and its middle 30 rows kept: the band stays central
    assert float(batch[1, :, 15].mean()) > 0.9 and float(batch[1, :, 0].mean()) < 0.1


def test_arrays_pil_and_tensors_round_trip():
    img = gradient()
    t = to_tensor(img)
    assert t.shape == (3, 30, 40) and float(t.max()) <= 1
    assert np.array_equal(np.asarray(to_pil(t)), np.asarray(img))
    torch.testing.assert_close(to_tensor(np.asarray(img)), t)
    with pytest.raises(mixviz.ImageError):
        to_tensor(np.zeros((4, 4, 7), np.uint8))
    assert cover_crop(t, 30, 40) is t


@pytest.mark.parametrize("size,match", [((32, 32), None), ((16, 160), None), ((160, 16), None),
                                        ((15, 100), "too small"), ((20, 201), "too long"), ((201, 20), "too long")])
def test_check_shape_is_the_apps_rule(size, match):
    from mixviz.imaging import check_shape

    img = Image.new("RGB", size)
    if match is None:
        check_shape(img)  # CIFAR's 32×32 and exactly 10:1 pass
    else:
        with pytest.raises(mixviz.ImageError, match=f"{size[0]}×{size[1]} pixels: {match}"):
            check_shape(img)
