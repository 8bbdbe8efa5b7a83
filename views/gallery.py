"""Gallery: every method on the same inputs and seed, in a grid like the lecture slides."""
from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st
import torch

import mixviz
from mixviz.imaging import to_pil
from mixviz.registry import FAMILIES
from mixviz.types import MixResult
from mixviz.viz.slides import gallery_figure, label_text
from ui import controls
from ui.errors import errors_shown
from ui.images import batch, credit
from ui.jpeg import jpeg
from ui.maps import maps_for
from ui.sidebar import Inputs, current


@dataclass(frozen=True)
class Choice:
    """The seed, λ (None: drawn), α (None: each method's own), the methods shown and the grid's columns."""

    seed: int
    lam: float | None
    alpha: float | None
    methods: tuple[str, ...]
    columns: int


def render() -> None:
    inputs = current()
    st.title("Gallery")
    st.caption("Every method on the same images, seed and λ, with its label. "
               "Four-input methods use slots 3 and 4 when you choose four slots in the sidebar, else the default "
               "photos. SnapMix, TdAttenMix and Puzzle Mix use each photo's CAM or loss gradient of its own ImageNet "
               "class (an upload's: the network's top prediction); the Mixing Lab names each class and lets you "
               "choose another.")
    choice = settings(inputs)
    keys, names = inputs.first(4)
    if choice is None:
        return
    if not choice.methods:
        st.info("Choose at least one method.")
        return
    shown_inputs(choice, inputs, keys, names)
    results = grid(choice, keys, names)
    if results is not None:
        download(choice, results, keys, names)
    controls.photo_credits(keys)


@st.cache_data(max_entries=8, show_spinner="Mixing every method (the guided ones compute their maps once)…")
def gallery(keys: tuple[str, ...], names: tuple[str, ...], seed: int, lam: float | None, alpha: float | None,
            methods: tuple[str, ...]) -> dict[str, MixResult]:
    """Each method's mix of the first n_inputs images, kept light: the image (8-bit, as it is shown), the
    weights and the label only: a cached gallery takes a quarter of the memory float images would."""
    x = batch(keys)
    size = tuple(x.shape[2:])
    out = {}
    for name in methods:
        spec = mixviz.METHODS[name]
        k = spec.n_inputs
        maps = maps_for(name, keys[:k], size, spec.defaults())
        r = mixviz.mix(name, x[:k], labels=list(names[:k]), seed=seed, lam=lam, alpha=alpha, maps=maps)
        image = (r.image.cpu().clamp(0, 1) * 255 + 0.5).to(torch.uint8)
        out[name] = MixResult(name, image, torch.empty(0), r.weights.cpu(), r.label, r.lam)
    return out


@errors_shown("The gallery's controls")
def settings(inputs: Inputs) -> Choice:
    """Seed and re-roll, λ or α, the families shown and the number of columns, in one row."""
    families = list(FAMILIES)
    c1, c2, c3, c4 = st.columns((1, 1, 2, 2), vertical_alignment="bottom")
    with c1:
        seed = controls.seed("gal", beside=c2)
    lam, alpha = None, None  # alpha None: each method draws λ as its authors do (SnapMix: Beta(5, 5))
    with c3:
        if controls.fix_lam("gal"):
            lam = controls.lam_slider("gal", "λ (methods that use one)")
        elif not st.toggle("Each method's own α", value=True, key="gal_own_alpha",
                           help="on: each method draws λ as its authors' code does (Beta(1, 1) for most, Beta(5, 5) "
                                "for SnapMix; the row and column intervals, BC and TdAttenMix by their own draws); "
                                "off: one α for every method that draws λ from Beta(α, α)"):
            alpha = controls.alpha_slider("gal", 1.0)
    with c4:
        st.multiselect("Families", families, default=families, key="gal_families", format_func=FAMILIES.get,
                       on_change=_families_chosen, help="choosing families sets the methods below to theirs")
        columns = 3 if inputs.lecture else st.slider("Columns", 2, 8, 5, 1, key="gal_columns")
    ss = st.session_state
    if "gal_methods" not in ss:
        ss["gal_methods"] = list(mixviz.METHODS)
    chosen = st.multiselect("Methods", list(mixviz.METHODS), key="gal_methods", format_func=lambda n: mixviz.METHODS[n].title,
                            help="add or remove methods one by one (type a name)")
    methods = tuple(n for n in mixviz.METHODS if n in chosen)  # in the lectures' order
    return Choice(seed, lam, alpha, methods, columns)


def _families_chosen() -> None:
    """The families were chosen: the methods become theirs."""
    ss = st.session_state
    ss["gal_methods"] = [n for n, s in mixviz.METHODS.items() if s.family in ss.get("gal_families", [])]


@errors_shown("The inputs")
def shown_inputs(choice: Choice, inputs: Inputs, keys: tuple[str, ...], names: tuple[str, ...]) -> None:
    """The inputs the grid mixes, above it, and a line where a four-input method takes photos the slots do not
    show (with two slots, slots 3 and 4 hold the default photos)."""
    k = max(mixviz.METHODS[n].n_inputs for n in choice.methods)
    x = batch(keys[:k])
    for i, col in enumerate(st.columns(8)[:k]):  # thumbnails: the grid is what the page is for
        col.image(jpeg(x[i]), caption=f"input {i + 1}: {names[i]}", width="stretch", output_format="JPEG")
    if k > inputs.filled:
        four = [mixviz.METHODS[n].title for n in choice.methods if mixviz.METHODS[n].n_inputs > inputs.filled]
        who = four[0] + " mixes" if len(four) == 1 else ", ".join(four[:-1]) + f" and {four[-1]} mix"
        st.info(f"{who} four images: inputs 3 and 4 ({names[2]} and {names[3]}) are the default photos, not slots "
                "of yours. Choose 4 image slots in the sidebar to pick them.")


@errors_shown("The gallery")
def grid(choice: Choice, keys: tuple[str, ...], names: tuple[str, ...]) -> dict[str, MixResult]:
    """Every chosen method's mix with its label weights, `choice.columns` to a row."""
    results = gallery(keys, names, choice.seed, choice.lam, choice.alpha, choice.methods)
    methods, columns = choice.methods, choice.columns
    for start in range(0, len(methods), columns):
        for col, name in zip(st.columns(columns), methods[start:start + columns]):
            r = results[name]
            col.image(to_pil(r.image.float() / 255), caption=f"{mixviz.METHODS[name].title} ({label_text(r.label)})",
                      width="stretch", output_format="JPEG")
    return results


@errors_shown("The gallery's download")
def download(choice: Choice, results: dict[str, MixResult], keys: tuple[str, ...], names: tuple[str, ...]) -> None:
    def figure():
        return gallery_figure(torch.empty(0), list(names), seed=choice.seed, lam=choice.lam, alpha=choice.alpha,
                              credits=[credit(k) for k in keys], columns=choice.columns,
                              results={n: replace(r, image=r.image.float() / 255) for n, r in results.items()})

    controls.png_download("Download the gallery as one PNG", figure, "mixviz_gallery.png", "gal_download")
