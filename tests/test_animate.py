"""Animations of a sweep (mixviz.viz.animation, `python -m mixviz animate`): the frames carry the mixed pixels
and a caption that says the swept value and the label; the GIF and the MP4 decode back to those frames within
their encoders' loss, one frame per swept value; the CLI reaches the method's parameters and fails with
messages."""
from __future__ import annotations

from types import SimpleNamespace

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

import mixviz
from mixviz.viz.animation import animate, encode, format_of, label_parts, lam_text, sweep_frames, value_text

GIF_MAE, MP4_MAE = 6 / 255, 8 / 255  # palettes of 256 colours; H.264 at CRF 18 with chroma at half resolution


def fake_sweep(x, values, method="mixup", labels=("boat", "airplane")):
    """What mixviz.sweep returns, made here from one mixviz.mix per value of λ."""
    results = [mixviz.mix(method, x, labels=list(labels), lam=v, seed=0) for v in values]
    return SimpleNamespace(method=method, over="lam", values=list(values), results=results)


def photos(side: int, names=("dog", "boat")):
    """Bundled photos scaled to `side` on their longer side (codecs are judged on pictures, not on noise)."""
    from mixviz.imaging import fit_within, load_image, to_batch
    from mixviz.samples import resolve

    return to_batch([fit_within(load_image(resolve(n)[0]), side) for n in names])


def pixels(r) -> np.ndarray:
    return (r.image.clamp(0, 1) * 255 + 0.5).byte().permute(1, 2, 0).numpy()


def decoded(data: bytes, fmt: str) -> np.ndarray:
    return iio.imread(data, index=None, extension=f".{fmt}")[..., :3]


def mae(a, b) -> float:
    return float(np.abs(np.asarray(a, float) - np.asarray(b, float)).mean() / 255)


def changed(a, b) -> float:
    """The share of pixels that differ by more than any encoder's loss (40/255 in some channel)."""
    return float((np.abs(np.asarray(a, int) - np.asarray(b, int)).max(axis=-1) > 40).mean())


def test_caption_texts_name_the_swept_value_and_the_corrected_lam():
    r = SimpleNamespace(lam=0.7, lam_corrected=0.6875, label={"boat": 0.6875, "airplane": 0.3125})
    assert lam_text(r) == "λ = 0.70 (corrected 0.69)"
    assert lam_text(SimpleNamespace(lam=0.7, lam_corrected=0.7002)) == "λ = 0.70"  # equal at the shown precision
    assert lam_text(SimpleNamespace(lam=0.7, lam_corrected=None)) == "λ = 0.70"
    assert value_text("lam", 0.7, r) == "λ = 0.70 (corrected 0.69)"
    assert value_text("seed", 3, r) == "seed = 3   λ = 0.70 (corrected 0.69)"
    assert value_text("size", 0.3, SimpleNamespace(lam=None)) == "size = 0.3"
    assert value_text("n_holes", 2, SimpleNamespace(lam=None)) == "n_holes = 2"
    assert "".join(t for t, _ in label_parts(r.label)) == "boat 0.69  ·  airplane 0.31"
    colours = [c for t, c in label_parts(r.label) if t.strip() in ("boat", "airplane")]
    assert colours == [(0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e)]  # input 1 blue, input 2 orange (style.py)


def test_frames_are_the_mixed_pixels_over_a_caption_strip_of_even_size(images):
    x = images(2, 31, 45)  # odd height and width
    sweep = fake_sweep(x, [0.0, 0.3, 0.7, 1.0])
    frames = sweep_frames(sweep)
    assert len(frames) == 4 and len({f.shape for f in frames}) == 1
    h, w, c = frames[0].shape
    assert c == 3 and frames[0].dtype == np.uint8 and h % 2 == 0 and w % 2 == 0 and h > 31 and w == 46
    for f, r in zip(frames, sweep.results):
        assert np.array_equal(f[:31, :45], pixels(r))  # the mix itself, untouched
        assert (f[:, 45] == 255).all()  # the odd width padded with the strip's white
    strips = [f[31:, :45] for f in frames]
    assert all((s < 128).any() and (s == 255).mean() > 0.5 for s in strips)  # dark text on white
    assert not np.array_equal(strips[1], strips[2])  # a different λ, a different caption
    assert np.array_equal(pixels(sweep.results[0]), np.asarray(x[1].mul(255).add(0.5).byte().permute(1, 2, 0)))


def test_the_label_line_can_be_left_out(images):
    sweep = fake_sweep(images(2, 40, 60), [0.25, 0.75])
    with_label, without = sweep_frames(sweep), sweep_frames(sweep, labels_text=False)
    assert without[0].shape[0] < with_label[0].shape[0]
    assert np.array_equal(without[0][:40], with_label[0][:40])


def test_one_font_size_for_every_frame_and_long_captions_shrink_to_fit(images):
    x = images(2, 40, 120)
    short = sweep_frames(fake_sweep(x, [0.5], labels=("a", "b")))[0]
    long = sweep_frames(fake_sweep(x, [0.5], labels=("a very long class name", "another long one")))[0]
    for f in (short, long):
        strip = f[40:] < 128
        cols = np.flatnonzero(strip.any(axis=(0, 2)))
        assert cols.min() >= 1 and cols.max() <= 118  # inside the frame, with a margin
    assert long.shape[0] <= short.shape[0]  # a smaller font, so a lower strip


@pytest.mark.parametrize("fmt, limit", [("gif", GIF_MAE), ("mp4", MP4_MAE)])
def test_encoded_animation_decodes_to_the_frames(fmt, limit):
    x = photos(96)
    frames = sweep_frames(fake_sweep(x, np.linspace(0, 1, 9).tolist()))
    data = encode(frames, fmt, fps=12)
    back = decoded(data, fmt)
    assert back.shape == (9, *frames[0].shape)
    errors = [mae(b, f) for b, f in zip(back, frames)]
    assert max(errors) < limit, errors
    moved = [mae(back[i], back[i + 1]) for i in range(8)]
    assert min(moved) > 0.01, moved  # λ moved by 1/8 between frames: each frame differs from the next


def test_the_gif_loops_forever_at_the_asked_rate(images):
    frames = sweep_frames(fake_sweep(images(2, 16, 16), [0.2, 0.8]))
    gif = Image.open(__import__("io").BytesIO(encode(frames, "gif", fps=10)))
    assert gif.info["loop"] == 0 and gif.info["duration"] == 100 and gif.n_frames == 2


def test_the_mp4_is_h264_in_yuv420p_with_its_index_first(images):
    frames = sweep_frames(fake_sweep(images(2, 30, 40), [0.1, 0.5, 0.9]))
    data = encode(frames, "mp4", fps=12)
    meta = iio.immeta(data, extension=".mp4", plugin="FFMPEG")
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p") and meta["fps"] == 12
    assert meta["size"] == (frames[0].shape[1], frames[0].shape[0])  # not rounded up to a multiple of 16
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # +faststart: a browser plays it while it loads


def test_encode_refuses_what_it_cannot_write():
    frame = np.zeros((10, 12, 3), np.uint8)
    with pytest.raises(mixviz.MixError, match="gif or an .mp4"):
        encode([frame], "avi")
    with pytest.raises(mixviz.MixError, match="even sizes"):
        encode([np.zeros((11, 12, 3), np.uint8)], "mp4")
    with pytest.raises(mixviz.MixError, match="one size"):
        encode([frame, np.zeros((12, 12, 3), np.uint8)], "gif")
    with pytest.raises(mixviz.MixError, match="no frames"):
        encode([], "gif")
    assert format_of("GIF") == ("gif", None) and format_of("out/a.MP4")[0] == "mp4"
    with pytest.raises(mixviz.MixError, match="'a.png'"):
        format_of("a.png")



def test_animate_is_sweep_then_frames_then_encode(tmp_path):
    x = photos(48)
    sweep = mixviz.sweep("mixup", x, ["dog", "boat"], frames=4, seed=1)
    gif = animate("mixup", x, "gif", frames=4, seed=1, labels=["dog", "boat"])
    assert gif == encode(sweep_frames(sweep), "gif", 12)  # Pillow's GIF is deterministic: the same bytes
    out = tmp_path / "deep" / "sweep.mp4"
    data = animate("mixup", x, out, frames=4, seed=1, labels=["dog", "boat"], fps=6)
    assert out.read_bytes() == data and len(decoded(data, "mp4")) == 4

# the command line: small photos and few frames keep it fast
SMALL = ["--max-side", "64"]


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    from mixviz.viz.cli import main

    code = main(["animate", *argv])
    seen = capsys.readouterr()
    return code, seen.out, seen.err


@pytest.mark.parametrize("fmt, limit", [("gif", GIF_MAE), ("mp4", MP4_MAE)])
def test_the_cli_writes_one_frame_per_value_equal_to_the_sweeps_frames(tmp_path, capsys, fmt, limit):
    out = tmp_path / f"sweep.{fmt}"
    code, printed, _ = run_cli(capsys, "cutmix", "dog", "boat", "-o", str(out), "--frames", "7", "--seed", "3", *SMALL)
    assert code == 0
    expected = sweep_frames(mixviz.sweep("cutmix", photos(64), ["dog", "boat"], frames=7, seed=3))
    back = decoded(out.read_bytes(), fmt)
    assert len(back) == 7 and back.shape[1:] == expected[0].shape
    errors = [mae(b, e) for b, e in zip(back, expected)]
    assert max(errors) < limit, errors
    h = 48  # dog at 64 px wide: 64×48; below it, the caption
    moved = [changed(back[i, :h], back[i + 1, :h]) for i in range(6)]
    assert min(moved) > 0.01, moved  # λ moves by 1/6 from frame to frame: the box shrinks
    w, hh = expected[0].shape[1], expected[0].shape[0]
    assert printed.startswith(f"{out}: 7 frames of {w}×{hh} (λ from 0 to 1) at 12 fps, ")
    assert "Photos: German Shepherd by Hans Kemperman" in printed  # the credits to show beside it


def test_params_seed_and_over_reach_the_sweep(tmp_path, capsys):
    frames = {}
    for size in ("0.3", "0.6"):
        out = tmp_path / f"cutout_{size}.gif"
        argv = ["cutout", "cat", "-o", str(out), "--over", "seed", "--frames", "3", "--seed", "5", "--param",
                f"size={size}", *SMALL]
        assert run_cli(capsys, *argv)[0] == 0
        frames[size] = decoded(out.read_bytes(), "gif")
        expected = sweep_frames(mixviz.sweep("cutout", photos(64, ["cat"]), ["cat"], over="seed", frames=3, seed=5,
                                             size=float(size)))
        assert len(frames[size]) == 3 and max(mae(b, e) for b, e in zip(frames[size], expected)) < GIF_MAE
    x = photos(64, ["cat"])
    cat = pixels(SimpleNamespace(image=x[0]))
    holes = {size: changed(f[0, :x.shape[2], :x.shape[3]], cat) for size, f in frames.items()}
    assert holes["0.6"] > holes["0.3"] + 0.05, holes  # a bigger hole (masks: 5 % and 16 % of the photo cut out)


@pytest.mark.parametrize("argv, message", [
    (["cutmi", "dog", "boat", "-o", "x.gif"], "unknown method 'cutmi'"),
    (["cutmix", "dog", "-o", "x.gif"], "CutMix mixes 2 images; got 1"),
    (["cutmix", "dog", "boat", "-o", "x.gif", "--param", "size"], "--param takes NAME=VALUE, got 'size'"),
    (["cutout", "dog", "-o", "x.gif", "--param", "sise=0.3"], "cutout has no parameter 'sise'"),
    (["cutout", "dog", "-o", "x.gif", "--param", "frames=3"], "frames is not a method parameter (give it as --frames)"),
    (["cutmix", "dog", "boat", "-o", "x.png"], "write the animation to a .gif or an .mp4 file, not 'x.png'"),
    (["cutmix", "dog", "boat", "-o", "x.gif", "--lam", "0.6"], "λ is what this sweep moves"),
    (["cutmix", "dog", "boat", "-o", "x.gif", "--over", "width"], "cannot be swept over 'width'"),
    (["cutmix", "dog", "boat", "-o", "x.gif", "--frames", "0"], "frames must be a whole number of frames"),
    (["cutmix", "dog", "boat", "-o", "x.gif", "--fps", "0"], "fps must be positive"),
    (["cutmix", "no_such_photo", "boat", "-o", "x.gif"], "no_such_photo"),
])
def test_errors_are_one_line_messages_with_exit_code_two(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, printed, err = run_cli(capsys, *argv, *SMALL)
    assert code == 2 and printed == "" and err.startswith("error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written
