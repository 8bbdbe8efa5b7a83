"""How the live picture's sweep travels (ui/frames.py): decoded as the browser decodes it (ui/scrubber/scrubber.js),
every frame must be the library's frame within JPEG's loss; hard-mask sweeps go exactly as two pictures and a
switch map, and every model-free method's file fits the budget."""
import io
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

import mixviz
from ui import frames
from ui.live import lam_grid, sweep_file, target_of

torch.manual_seed(0)
X = torch.rand(2, 3, 48, 64)  # noise photos: the hardest case for JPEG


def decoded(blob: bytes, layout: dict, n: int) -> list[np.ndarray]:
    """The frames (H, W, 3) uint8 as the component makes them from the file."""
    def part(p):
        return blob[p[0]:p[0] + p[1]]

    def picture(p):
        return np.asarray(Image.open(io.BytesIO(part(p))).convert("RGB"))

    if layout["kind"] == "jpeg":
        return [picture(p) for p in layout["frames"]]
    first, last = picture(layout["first"]), picture(layout["last"])
    h, w, _ = first.shape
    at = np.frombuffer(zlib.decompress(part(layout["at"])), np.uint8).reshape(layout["channels"], h, w)
    at = np.broadcast_to(at.transpose(1, 2, 0), first.shape)
    return [np.where(i >= at, last, first) for i in range(n)]


def u8(t: torch.Tensor) -> np.ndarray:
    return (t.permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = ((a.astype(float) - b.astype(float)) ** 2).mean()
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def lam_sweep(method: str, x=X, **kw):
    return mixviz.sweep(method, x, ["a", "b"], over="lam", values=lam_grid(0.5), seed=1, **kw)


@pytest.mark.parametrize("method", ["cutmix", "fmix", "random_pixels", "random_elements", "random_rows",
                                    "vertical_concat"])
def test_hard_mask_sweeps_are_two_pictures_and_a_switch_map_exactly(method):
    s = lam_sweep(method)
    images = [r.image for r in s.results]
    at = frames.switches(images)
    assert at is not None
    first, last = images[0], images[-1]
    for i, image in enumerate(images):  # every frame, element by element, is the first or the last picture's
        torch.testing.assert_close(image, torch.where(at.expand_as(first) <= i, last, first), rtol=0, atol=0)
    assert at.shape[0] == (3 if method == "random_elements" else 1)  # each channel its own draw only there


def test_blends_and_sweeps_that_go_back_are_sent_as_jpeg_frames():
    assert frames.switches([r.image for r in lam_sweep("mixup").results]) is None
    a, b = X[0], X[1]
    assert frames.switches([a, b, a, b]) is None  # leaves the last picture's value again: not one switch
    assert frames.switches([a, b]) is None  # too short to be worth it
    mixed = a.clone()
    mixed[:, :10] = b[:, :10]
    assert frames.switches([a, mixed, b]) is not None
    mixed[0, 0, 0] = 0.123  # one element neither picture has
    assert frames.switches([a, mixed, b]) is None


def app_photos():
    from ui.images import batch

    return batch(("sample:boat", "sample:airplane"))


@pytest.mark.parametrize("method", ["mixup", "cutmix", "random_pixels", "random_elements"])
def test_the_file_decodes_to_the_librarys_frames_within_jpeg_loss(method):
    """The app's photos. Random elements take each element from either photo, making colours no photo has:
    as JPEG frames (4:2:0 chroma) they kept 12 dB; the switch file shows them (above 35 dB)."""
    s = lam_sweep(method, app_photos())
    blob, layout = frames.encode(s.results)
    shown = decoded(blob, layout, len(s.results))
    assert min(psnr(u8(r.image), d) for r, d in zip(s.results, shown)) >= 30
    assert layout["kind"] == ("jpeg" if method == "mixup" else "switch")
    sheet = np.asarray(Image.open(io.BytesIO(blob[slice(layout["mask_sheet"][0], sum(layout["mask_sheet"]))])))
    h, w = layout["mask_size"]
    assert sheet.shape == (h * len(s.results), w * 2)
    for i, r in enumerate(s.results):  # row i: frame i's masks, input by input, as `small` makes them
        want = (frames.small(r.masks).permute(1, 0, 2).reshape(h, -1).numpy() * 255)
        assert np.abs(sheet[i * h:(i + 1) * h].astype(float) - want).mean() < 8  # JPEG of a sheet of grey noise (random pixels)


def test_small_is_the_block_mean_of_the_masks():
    m = torch.rand(2, 240, 385)
    got = frames.small(m)
    want = torch.nn.functional.avg_pool2d(m[None], 3)[0]
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    tiny = torch.rand(1, 2, 1000)  # fewer rows than the block: all rows in one
    torch.testing.assert_close(frames.small(tiny), torch.nn.functional.avg_pool2d(tiny[None], (2, 7))[0],
                               atol=1e-6, rtol=0)


def test_every_model_free_methods_file_fits_the_budget_at_the_apps_size():
    from ui.images import batch
    from ui.sidebar import DEFAULTS

    for name, spec in mixviz.METHODS.items():
        if spec.needs != "none":
            continue
        names = (("boat", "airplane") + tuple(DEFAULTS[2:]))[:spec.n_inputs]
        keys = tuple(f"sample:{n}" for n in names)
        x = batch(keys)
        lam = 0.5 if spec.uses_lam else None
        t = target_of(spec, lam, 0, {})
        blob, header = sweep_file(name, (keys, tuple(x.shape[2:])), x, names, t.over, t.values, 0, lam, None, (),
                                  None, None)
        assert len(blob) <= frames.BUDGET, (name, len(blob))
        assert len(header["layout"]["frames" if header["layout"]["kind"] == "jpeg" else "at"]) > 0


@pytest.mark.parametrize("c", [3, 1])
def test_the_encoder_gives_the_jpeg_pillow_makes_of_the_rounded_picture(c):
    """The frames' JPEGs (OpenCV, BGR) are the very bytes Pillow makes of the picture as u8 rounds it, at the
    same quality: the colours are not swapped, the values not shifted."""
    pictures = [X[0, :c], X[1, :c].flip(1)]
    for quality in frames.QUALITIES:
        encoder = frames.Encoder(quality)
        for p in pictures:
            buf = io.BytesIO()
            a = u8(p)
            Image.fromarray(a[..., 0] if c == 1 else a).save(buf, format="JPEG", quality=quality)
            assert encoder(p) == buf.getvalue()


def test_in_runs_keeps_the_order_and_gives_each_run_its_own_encoder(monkeypatch):
    """in_runs on the thread pool: the same list as one pass, in order, whatever the number of runs."""
    pictures = [torch.rand(3, 24, 32) for _ in range(7)]
    one = frames.Encoder(60)
    expected = [one(p) for p in pictures]
    for cores in (1, 2, 3, 7, 9):
        monkeypatch.setattr(frames, "CORES", cores)
        made = []

        def make():
            made.append(frames.Encoder(60))
            return made[-1]

        assert frames.in_runs(make, pictures) == expected
        assert len(made) == min(cores, len(pictures)) and len({id(m) for m in made}) == len(made)
