"""Static figures for slides (matplotlib, PNG/PDF/SVG): one method explained, or a gallery of all.

The figures are `matplotlib.figure.Figure` objects, never pyplot's: drawing one neither chooses nor
switches matplotlib's backend (a notebook keeps its inline figures), nothing is registered with pyplot, so
nothing needs closing (a figure is freed with its last reference), and `fig.savefig(...)` writes PNG, PDF or
SVG with matplotlib's own canvases. matplotlib itself is imported when the first figure is drawn.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import torch

from ..imaging import shade
from ..engine import mix
from ..registry import METHODS, get
from ..types import MixResult
from .style import INPUT_COLOURS

if TYPE_CHECKING:
    from matplotlib.figure import Figure



def _figure(**kw) -> Figure:
    """A new figure outside pyplot (see the module docstring)."""
    from matplotlib.figure import Figure

    return Figure(**kw)


def _show(ax, t: torch.Tensor, title: str, cmap=None):
    ax.axis("on")
    arr = t.detach().float().cpu().clamp(0, 1)
    ax.imshow(arr.permute(1, 2, 0).numpy() if arr.dim() == 3 else arr.numpy(), cmap=cmap, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def formula_lines(latex: str) -> str:
    """A method's formula with each `\\quad`-separated clause on its own line (KaTeX `gathered`), so
    long formulas wrap instead of running off a page or a slide."""
    clauses = [c.strip().rstrip(",").strip() for c in latex.split(r"\quad") if c.strip()]
    return r"\begin{gathered}" + r" \\ ".join(clauses) + r"\end{gathered}"


def lam_caption(r: MixResult) -> str:
    """'λ drawn 0.62 → 0.60 after clipping' style caption of the λ values in a result."""
    parts = []
    if r.lam is not None:
        parts.append(f"λ = {r.lam:.3f}")
    corrected = r.info.get("lam_corrected")
    if corrected is not None and r.lam is not None and abs(corrected - r.lam) > 5e-4:
        parts.append(f"corrected λ = {corrected:.3f}")
    return ", ".join(parts)


def method_figure(r: MixResult, inputs: torch.Tensor, names: Sequence[str], credits: Sequence[str] = (),
                  seed: int | None = None, guides: Sequence[tuple[str, Any]] = ()) -> Figure:
    """Inputs, each input's mask, the mixed image and the label weights of one result, the bars named by the
    inputs' classes; the title gives λ (and corrected λ) and `seed` where given, and says when the draw is no
    mix; the foot the paper and the photos' credits. `guides`: (caption, picture) of the maps that guided the
    mix, in a third row (mixviz.viz.guides.guide_views: with their boxes, cells and peaks)."""
    spec = get(r.method)
    k = inputs.shape[0]
    columns = max(k + 1, len(guides))
    fig = _figure(figsize=(2.6 * columns, 5.6 + (2.8 if guides else 0)))
    axes = fig.subplots(3 if guides else 2, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (caption, picture) in zip(axes[2] if guides else (), guides):
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(textwrap.fill(caption, 34), fontsize=8)  # a 2.6-inch column at 8 pt
    for i in range(k):
        if r.used is not None:  # each input darkened where the mix does not use its own pixels
            _show(axes[0, i], shade(inputs[i], r.used[i].to(inputs.device)),
                  f"input {i + 1}: {names[i]} (dark: not used)")
        else:
            _show(axes[0, i], inputs[i], f"input {i + 1}: {names[i]}")
        _show(axes[1, i], r.masks[i], f"mask {i + 1} (mean {float(r.masks[i].mean()):.3f})", cmap="gray")
    _show(axes[0, k], r.image, "mixed")
    ax = axes[1, k]
    ax.axis("on")
    weights = r.weights.detach().cpu().tolist()
    ax.bar(range(k), weights, color=INPUT_COLOURS[:k])
    ax.set_xticks(range(k), [str(n) for n in names[:k]], fontsize=8)
    ax.set_ylim(0, 1.05)
    total = sum(weights)
    ax.set_title("label weights" + (f" (sum {total:.3f})" if abs(total - 1) > 5e-4 else ""), fontsize=9)
    for i, w in enumerate(weights):
        ax.text(i, min(w, 0.93) + 0.02, f"{w:.3f}", ha="center", fontsize=8)
    subtitle = ", ".join(part for part in (lam_caption(r), f"seed {seed}" if seed is not None else "") if part)
    title = f"{spec.title}" + (f"   ({subtitle})" if subtitle else "")
    if "degenerate" in r.info:
        title += "\n" + r.info["degenerate"]
    fig.suptitle(title, fontsize=12)
    foot = spec.paper
    if credits:
        foot += "\nPhotos: " + "; ".join(c for c in credits if c)
    fig.text(0.01, 0.005, foot, fontsize=6, va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return fig


def pictures_figure(views: Sequence[tuple[str, Any]], title: str, foot: str = "", columns: int = 4) -> Figure:
    """Pictures with their captions in a grid of `columns`, a title above and a foot below (the photos'
    credits): the CAM Explorer's and the Saliency page's exports, the pictures as the page shows them."""
    columns = max(1, min(columns, len(views)))
    rows = max(1, math.ceil(len(views) / columns))
    cell = 7.0 if columns == 1 else 3.4  # inches: one picture alone is shown large
    aspect = _aspect(views[0][1]) if views else 1.0
    fig = _figure(figsize=(cell * columns, (cell * aspect + 0.7) * rows + 0.9))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (caption, picture) in zip(axes.flat, views):
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(textwrap.fill(caption, int(cell * 13)), fontsize=8)  # about 13 characters an inch at 8 pt
    fig.suptitle(title, fontsize=11)
    if foot:
        fig.text(0.01, 0.005, foot, fontsize=6, va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.05 if foot else 0, 1, 0.94))
    return fig


def _aspect(picture) -> float:
    """Height over width of a PIL image or an (H, W[, C]) array."""
    if hasattr(picture, "size") and isinstance(picture.size, tuple):
        w, h = picture.size
    else:
        h, w = picture.shape[:2]
    return h / w


def label_text(label: dict) -> str:
    """A label as the slides write it: "boat 0.70, airplane 0.30"."""
    return ", ".join(f"{name} {w:.2f}" for name, w in label.items())


def gallery_figure(inputs: torch.Tensor, names: Sequence[str], seed: int = 0, lam: float | None = None,
                   alpha: float | None = None, methods: Sequence[str] | None = None, credits: Sequence[str] = (),
                   columns: int = 6, results: dict[str, MixResult] | None = None) -> Figure:
    """Every method (default: all of them) on the same inputs, reused in order where a method takes more
    images than were given. Model-guided methods use mixviz.load_model(). `results` (method -> MixResult)
    are drawn as they are instead of being mixed again (the app passes what it already shows)."""
    chosen = list(results or methods or METHODS)
    rows = math.ceil(len(chosen) / columns)
    fig = _figure(figsize=(2.3 * columns, 2.6 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, name in zip(axes.flat, chosen):
        spec = METHODS[name]
        if results is not None:
            r = results[name]
        else:
            idx = [i % inputs.shape[0] for i in range(spec.n_inputs)]
            r = mix(name, inputs[idx], labels=[names[i % len(names)] for i in idx] if names else None, seed=seed,
                    lam=lam, alpha=alpha, device="cpu")
        _show(ax, r.image, f"{spec.title}\n({label_text(r.label)})")
    drawn = (f"λ {lam:.2f} where a method has one" if lam is not None else
             f"λ drawn with α = {alpha:g}" if alpha is not None else "λ drawn as each method's authors draw it")
    fig.suptitle(f"Mixing methods on the same inputs ({', '.join(names)}), seed {seed}, {drawn}", fontsize=12)
    if credits:
        fig.text(0.01, 0.005, "Photos: " + "; ".join(c for c in credits if c), fontsize=6, wrap=True)
    fig.tight_layout(rect=(0, 0.03, 1, 0.96))
    return fig


def code_snippet(method: str, images: Sequence[str], seed: int, lam: float | None, alpha: float | None,
                 params: dict, label_smoothing: float = 0.0, num_classes: int = 1000,
                 image_size: tuple[int, int] | None = None, max_side: int | None = None,
                 classes: Sequence[int] | None = None) -> str:
    """Python that reproduces a Mixing Lab picture with mixviz (`images`: file paths): the images fitted
    within `max_side` pixels and mixed at `image_size`, as the page does, with the class of each image's
    map (`classes`) for the methods guided by one. alpha=None: the method's own default α."""
    spec = get(method)
    changed = {k: v for k, v in params.items() if v != spec.param(k).default}
    args = [repr(method), "images", "labels=labels", f"seed={seed}"]
    if spec.uses_lam:
        if lam is not None:
            args.append(f"lam={lam!r}")
        elif alpha is not None and spec.alpha is not None and alpha != spec.alpha:
            args.append(f"alpha={alpha!r}")
    if image_size is not None:
        args.append(f"image_size={tuple(int(v) for v in image_size)!r}")
    if classes is not None:
        args.append(f"classes={[int(c) for c in classes]!r}")
    if label_smoothing:
        args += [f"label_smoothing={label_smoothing!r}", f"num_classes={num_classes}"]
    args += [f"{k}={v!r}" for k, v in changed.items()]
    load = "mixviz.load_image({!r})" if max_side is None else f"fit_within(mixviz.load_image({{!r}}), {max_side})"
    loads = ", ".join(load.format(i) for i in images)
    return "\n".join([
        "import mixviz",
        *(["from mixviz.imaging import fit_within"] if max_side is not None else []),
        "from mixviz.viz.slides import method_figure",
        "",
        f"images = [{loads}]",
        f"labels = {[Path(i).stem for i in images]!r}",
        f"r = mixviz.mix({', '.join(args)})",
        "print(r.label, r.lam_corrected)",
        "method_figure(r, mixviz.imaging.to_batch(images, r.image.shape[1:]), labels).savefig('mix.png')",
    ])
