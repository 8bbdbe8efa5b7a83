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
from ui.lecture_steps import DECK, FOUR, OVERVIEW
from ui.maps import maps_for
from ui.sidebar import Inputs, current

# The overview of lecture 000 (ui/lecture_steps.py): its methods in the order its slides show them, on its photos
# (RICAP takes all four), at its λ
DECK_METHODS, DECK_PHOTOS = OVERVIEW, FOUR
DECK_LAM = 0.7


@dataclass(frozen=True)
class Choice:
    """The seed, λ (None: drawn), α (None: each method's own), the methods shown (in the order chosen) and the
    grid's columns."""

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
    deck_button()
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


def deck_button() -> None:
    """One click to the deck's overview: its methods in its order, its photos in the four slots, λ fixed at its
    value; a caption on the next run says what the click set."""
    st.button("The lecture deck's overview", key="gal_deck", icon=":material/slideshow:", on_click=_deck_chosen,
              help=f"the mixing methods of {DECK}, in the deck's order, on its photos ({', '.join(DECK_PHOTOS)}) "
                   f"with λ = {DECK_LAM}; the seed stays as it is")
    note = st.session_state.pop("gal_deck_note", None)
    if note:
        st.caption(note)


def _deck_chosen() -> None:
    """The deck's overview was asked for: set the methods, the sidebar's slots and λ (the Gallery's widgets and
    the value every page shares) before the page is drawn again."""
    ss = st.session_state
    ss["gal_methods"] = list(DECK_METHODS)
    ss["gal_families"] = [f for f in FAMILIES if any(mixviz.METHODS[n].family == f for n in DECK_METHODS)]
    ss["n_slots"] = len(DECK_PHOTOS)
    for i, photo in enumerate(DECK_PHOTOS):
        ss[f"slot{i}"] = f"sample:{photo}"
    ss["gal_fix"] = ss[controls.shared_key("fix")] = True
    ss["gal_lam"] = ss[controls.shared_key("lam")] = DECK_LAM
    ss["gal_deck_note"] = (f"Set: the deck's {len(DECK_METHODS)} methods in its order, slots 1–4 to "
                           f"{', '.join(DECK_PHOTOS)} (RICAP mixes all four), λ fixed at {DECK_LAM}.")


@errors_shown("The gallery's controls")
def settings(inputs: Inputs) -> Choice:
    """Seed and re-roll, λ or α, the families shown and the number of columns, in one row."""
    families = list(FAMILIES)
    ss = st.session_state
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
        ss.setdefault("gal_families", families)  # (not default=: the deck's button sets it too)
        st.multiselect("Families", families, key="gal_families", format_func=FAMILIES.get,
                       on_change=_families_chosen, help="choosing families sets the methods below to theirs")
        columns = 3 if inputs.lecture else st.slider("Columns", 2, 8, 5, 1, key="gal_columns")
    if "gal_methods" not in ss:
        ss["gal_methods"] = list(mixviz.METHODS)
    chosen = st.multiselect("Methods", list(mixviz.METHODS), key="gal_methods", format_func=lambda n: mixviz.METHODS[n].title,
                            help="add or remove methods one by one (type a name); the grid shows them in this order: "
                                 "the families' and the deck's in the lectures' order, one you add at the end")
    methods = tuple(chosen)  # in the order chosen, as the box above lists them
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
