"""Command line: `python -m mixviz render METHOD IMAGE... -o out.png` and `render --all`."""
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
    from .slides import gallery_figure, method_figure

    out = Path(args.output)
    inputs, labels, credits = _load(args.images, args.max_side)
    if args.all:
        fig = gallery_figure(inputs, labels, seed=args.seed, lam=args.lam, alpha=args.alpha, credits=credits)
    else:
        if args.method not in METHODS:
            raise MixError(f"unknown method {args.method!r}; known: {', '.join(METHODS)}")
        r = mix(args.method, inputs, labels=labels, seed=args.seed, lam=args.lam, alpha=args.alpha,
                device="cpu", **_params(args.param))
        fig = method_figure(r, inputs, labels, credits)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=args.dpi)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mixviz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="write a figure of one method (or --all methods) for slides")
    r.add_argument("method", nargs="?", help=f"one of: {', '.join(METHODS)}")
    r.add_argument("images", nargs="*", help=f"image files or bundled samples ({', '.join(samples())})")
    r.add_argument("--all", action="store_true", help="a gallery of every method; all positionals are images")
    r.add_argument("-o", "--output", required=True, help="output file (.png, .pdf or .svg)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--lam", type=float, default=None, help="fix λ instead of drawing it from Beta(α, α)")
    r.add_argument("--alpha", type=float, default=None,
                   help="α of Beta(α, α) when λ is drawn (default: the method's own, its authors' value)")
    r.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a method parameter")
    r.add_argument("--max-side", type=int, default=512, help="scale inputs down to this longer side first")
    r.add_argument("--dpi", type=int, default=150)
    sub.add_parser("methods", help="list the methods")
    f = sub.add_parser("fetch-weights", help="download pretrained weights into timm's cache (needs internet)")
    f.add_argument("model", choices=["xception"])
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch-weights":
            from ..maps.models import fetch_xception

            fetch_xception()
            return 0
        if args.command == "methods":
            for name, spec in METHODS.items():
                print(f"{name:24s} {spec.n_inputs} input(s)  {spec.title}")
            return 0
        if args.all and args.method:
            args.images = [args.method, *args.images]
            args.method = None
        if not args.images:
            parser.error("give at least one image (a file or a bundled sample name)")
        print(render(args))
        return 0
    except (ImageError, MixError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
