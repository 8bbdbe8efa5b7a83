"""Command line: `python -m mixviz render METHOD IMAGE... -o out.png`, `render --all`, and
`animate METHOD IMAGE... -o sweep.gif|sweep.mp4` (a sweep of λ, a parameter or the seed, for slides)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..imaging import fit_within, load_image, to_batch
from ..registry import METHODS
from ..samples import resolve, samples
from ..types import ImageError, MixError


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _params(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise MixError(f"--param takes NAME=VALUE, got {pair!r}")
        out[key.strip()] = _value(value.strip())
    return out


def _load(names: list[str], max_side: int):
    images, labels, credits = [], [], []
    for name in names:
        path, credit = resolve(name)
        images.append(fit_within(load_image(path), max_side))
        labels.append(Path(name).stem)
        credits.append(credit or "")
    return to_batch(images), labels, credits


def render(args) -> Path:
    from ..engine import mix
    from .guides import guide_views
    from .slides import gallery_figure, method_figure

    out = Path(args.output)
    inputs, labels, credits = _load(args.images, args.max_side)
    if args.all:
        fig = gallery_figure(inputs, labels, seed=args.seed, lam=args.lam, alpha=args.alpha, credits=credits)
    else:
        r = mix(_method(args.method), inputs, labels=labels, seed=args.seed, lam=args.lam, alpha=args.alpha,
                device="cpu", **_params(args.param))
        fig = method_figure(r, inputs, labels, credits, seed=args.seed, guides=guide_views(r, inputs))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=args.dpi)
    return out


# what `animate` passes to mixviz.sweep by its own name: a --param of one of these names would collide
OWN_OPTIONS = ("over", "frames", "fps", "seed", "lam", "alpha")
NOT_PARAMS = ("labels", "values", "device", "image_size", "maps", "classes", "labels_text", *OWN_OPTIONS)


def _method(name: str) -> str:
    if name not in METHODS:
        raise MixError(f"unknown method {name!r}; known: {', '.join(METHODS)}")
    return name


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def animate(args) -> str:
    """Write the sweep's GIF or MP4; returns what to print: the path, the frames and their size, the file's size
    and the photo credits to show beside it."""
    from ..sweep import sweep
    from .animation import encode, format_of, sweep_frames

    fmt, out = format_of(args.output)  # a bad suffix fails before anything is computed
    spec = METHODS[_method(args.method)]
    params = _params(args.param)
    for key in params:
        if key in NOT_PARAMS:
            raise MixError(f"--param {key}=…: {key} is not a method parameter"
                           + (f" (give it as --{key})" if key in OWN_OPTIONS else ""))
    if args.lam is not None and (args.over or ("lam" if spec.uses_lam else None)) == "lam":
        raise MixError("--lam fixes λ, but λ is what this sweep moves: add --over seed or --over PARAM")
    inputs, labels, credits = _load(args.images, args.max_side)
    s = sweep(spec.name, inputs, labels, over=args.over, frames=args.frames, seed=args.seed, lam=args.lam,
              alpha=args.alpha, device="cpu", **params)
    frames = sweep_frames(s)
    data = encode(frames, fmt, args.fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    h, w = frames[0].shape[:2]
    over = "λ" if s.over == "lam" else s.over
    credits = [c for c in credits if c]
    return (f"{out}: {len(frames)} frames of {w}×{h} ({over} from {s.values[0]:g} to {s.values[-1]:g}) at "
            f"{args.fps:g} fps, {_size(len(data))}" + ("\nPhotos: " + "; ".join(credits) if credits else ""))


def _mixing_options(p: argparse.ArgumentParser, max_side: int) -> None:
    """The options render and animate share: seed, λ, α, the method's parameters, the inputs' size."""
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lam", type=float, default=None, help="fix λ instead of drawing it from Beta(α, α)")
    p.add_argument("--alpha", type=float, default=None,
                   help="α of Beta(α, α) when λ is drawn (default: the method's own, its authors' value)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a method parameter")
    p.add_argument("--max-side", type=int, default=max_side, help="scale inputs down to this longer side first")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mixviz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    images_help = f"image files or bundled samples ({', '.join(samples())})"
    r = sub.add_parser("render", help="write a figure of one method (or --all methods) for slides")
    r.add_argument("method", nargs="?", help=f"one of: {', '.join(METHODS)}")
    r.add_argument("images", nargs="*", help=images_help)
    r.add_argument("--all", action="store_true", help="a gallery of every method; all positionals are images")
    r.add_argument("-o", "--output", required=True, help="output file (.png, .pdf or .svg)")
    _mixing_options(r, 512)
    r.add_argument("--dpi", type=int, default=150)
    a = sub.add_parser("animate", help="write a GIF or MP4 of one method as λ (or a parameter, or the seed) moves")
    a.add_argument("method", help=f"one of: {', '.join(METHODS)}")
    a.add_argument("images", nargs="+", help=images_help)
    a.add_argument("-o", "--output", required=True, help="output file: .gif (loops) or .mp4 (H.264)")
    a.add_argument("--over", default=None, metavar="lam|seed|PARAM",
                   help="what moves (default: λ from 0 to 1 where the method has one, else its first numeric parameter, "
                        "else the seed)")
    a.add_argument("--frames", type=int, default=51, help="number of frames, one per value")
    a.add_argument("--fps", type=float, default=12, help="frames per second")
    _mixing_options(a, 384)
    sub.add_parser("methods", help="list the methods")
    f = sub.add_parser("fetch-weights", help="download pretrained weights into timm's cache (needs internet)")
    f.add_argument("model", choices=["xception"])
    return parser


def _run(args, parser: argparse.ArgumentParser) -> int:
    if args.command == "fetch-weights":
        from ..maps.models import fetch_xception

        fetch_xception()
    elif args.command == "methods":
        for name, spec in METHODS.items():
            print(f"{name:24s} {spec.n_inputs} input(s)  {spec.title}")
    elif args.command == "animate":
        print(animate(args))
    else:
        if args.all and args.method:
            args.images = [args.method, *args.images]
            args.method = None
        if not args.images:
            parser.error("give at least one image (a file or a bundled sample name)")
        print(render(args))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _run(args, parser)
    except (ImageError, MixError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
