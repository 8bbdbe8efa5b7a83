"""Texture & style: Gram matrices of two photos and what a patch shuffle does to them, texture synthesis from
noise (Gatys, Ecker & Bethge 2015), neural style transfer (Gatys et al. 2016), and Geirhos et al.'s texture–shape
cue conflict (ICLR 2019), all on the serving model's feature maps. The maths is in mixviz.maps.texture.

The three heavy sections start on a button and run with a progress bar and a Stop button. A click on Stop (or
on any other control) asks streamlit for a new run, which stops this one at its next streamlit call (the
progress bar's update after each step); each step therefore leaves the image and the losses so far in
st.session_state, and the new run shows them. Finished results are kept for the whole server, per input."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import streamlit as st
import torch

from mixviz.imaging import to_pil, to_tensor
from mixviz.maps import texture
from mixviz.samples import samples
from mixviz.threads import torch_threads
from mixviz.viz.map_figures import topk_figure
from mixviz.viz.texture import gram_figure, loss_figure
from ui import controls
from ui.cam_maps import model_id
from ui.errors import errors_shown
from ui.images import credit, image
from ui.models import model as serving_model
from ui.sidebar import current

SIZES = (48, 64, 96, 128, 160, 192, 224, 256)
STEP_CHOICES = (10, 25, 50, 100, 150, 200, 300)
GRIDS = (2, 3, 4, 6, 8, 12, 16)
RATIOS = (1e2, 1e3, 1e4, 1e5, 1e6)    # β/α
STYLE_RATIO, CUE_RATIO = 1e4, 1e5
TEXTURE_PHOTO = "citrus"  # the bundled photo that is most nearly a texture: the default to synthesise and to style with
CUE_PAIRS = (("cat", "citrus"), ("fire_truck", "citrus"), ("cat", "panda"), ("kitten", "bee"), ("dog", "koala"))  # (shape, texture)
LIVE_EVERY = 10   # steps between two updates of the picture while it is made


@dataclass(frozen=True)
class Budget:
    """(size in px, L-BFGS steps) of each heavy section for one model: each run about 10–20 s on one core
    (README: the measurements). The optimisation runs on one thread: on a 2-core server shared with a browser and
    other sessions, two threads took from 13 to 70 s for what one thread did in 13 s."""

    texture: tuple[int, int]
    style: tuple[int, int]
    cue: tuple[int, int]


BUDGETS = {"efficientnet_lite0": Budget((224, 200), (224, 150), (224, 100)),
           "xception": Budget((128, 150), (128, 100), (128, 100))}


def power(r: float) -> str:
    """10⁴ for 1e4."""
    return "10" + str(round(math.log10(r))).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def budget(m) -> Budget:
    return BUDGETS.get(m.name, Budget((128, 100), (128, 100), (128, 100)))


def render() -> None:
    lecture = current().lecture
    if lecture:
        controls.lecture_widgets()
    st.title("Texture & style")
    st.markdown("A network's feature maps say *what* is *where*. Their Gram matrix keeps *what goes with what* and "
                "forgets *where*: that is texture. Match Gram matrices and you synthesise a texture; match them "
                "while keeping one photo's feature maps and you transfer a style; set the two against each other "
                "and you can ask a classifier which one it follows.")
    controls.model_notice()
    layers_note()
    gram_section(lecture)
    synthesis_section(lecture)
    style_section(lecture)
    cue_conflict_section(lecture)


@errors_shown("The feature layers")
def layers_note() -> None:
    m = serving_model()
    rows = [{"#": f.index, "output of": f"m.net.{f.name}", "channels N_l": f.channels, "stride": f"1/{f.stride}"}
            for f in texture.feature_layers(m)]
    with st.expander(f"The feature layers: {m.title}'s stage outputs"):
        st.markdown(f"Layer l is the output of one stage of `m.net` ({m.title} in timm), read with timm's "
                    "`forward_intermediates` at the size the image is given: the network is convolutional up to "
                    "its pooling, so M_l = width × height of the map at that size. Texture and style use every "
                    f"layer down to 1/{texture.MAX_STRIDE} of the image, as Gatys et al. used VGG-19's down to pool4.")
        st.dataframe(pd.DataFrame(rows), hide_index=True)


# ---------------------------------------------------------------- results kept for the server, partial ones per session

@dataclass
class Partial:
    """What a run has made so far (kept in st.session_state after each step): its inputs, the image, the losses."""

    params: tuple
    image: torch.Tensor
    losses: list
    steps: int
    text: str = ""


class Finished:
    """Finished results for the whole server, by their inputs (the most recent `size`)."""

    def __init__(self, size: int = 64):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, params):
        with self.lock:
            if params in self.items:
                self.items.move_to_end(params)
            return self.items.get(params)

    def put(self, params, value) -> None:
        with self.lock:
            self.items[params] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def finished() -> Finished:
    return Finished()


def run_buttons(prefix: str, label: str, done: bool) -> bool:
    """The start button (off when this input is done) and the Stop button; True when a run starts now."""
    cols = st.columns((1, 1, 2))
    go = cols[0].button(label, key=f"{prefix}_go", type="primary", disabled=done, width="stretch")
    cols[1].button("Stop", key=f"{prefix}_stop", width="stretch", icon=":material/stop_circle:",
                   help="stop after the current step and keep the picture so far")
    return go and not done


def stepper(prefix: str, params: tuple, bar, live, text: str, share: tuple[float, float] = (0.0, 1.0),
            lecture: bool = False) -> Callable[[texture.Step], None]:
    """The callback of one run: the progress bar (`share`: where this run's part of the bar starts, and how long
    it is), the picture every LIVE_EVERY steps, and the partial result in st.session_state after every step."""
    ss, losses = st.session_state, []

    def report(s: texture.Step) -> None:
        losses.append(s.loss)
        ss[f"{prefix}_partial"] = Partial(params, s.image, list(losses), s.steps, text)
        bar.progress(min(1.0, share[0] + share[1] * s.step / s.steps),
                     text=f"{text}: step {s.step} of {s.steps}, loss {s.loss:.4g}")
        if s.step % LIVE_EVERY == 0 or s.step == 1:
            live.image(to_pil(s.image), caption=f"step {s.step}", width=360 if lecture else 256)

    return report


def run(prefix: str, params: tuple, text: str, work: Callable, lecture: bool):
    """Run `work(callback)` with a progress bar, the picture as it grows and the partial result kept; store and
    return its result."""
    bar, live = st.progress(0.0, text=f"{text}…"), st.empty()
    report = stepper(prefix, params, bar, live, text, lecture=lecture)
    with torch_threads(1):
        done = work(report)
    finished().put(params, done)
    st.session_state.pop(f"{prefix}_partial", None)
    bar.empty()
    live.empty()
    return done


def show_partial(prefix: str, params: tuple, lecture: bool) -> bool:
    """A stopped run's picture and loss curve, if the last run of these inputs was stopped; True if shown."""
    p = st.session_state.get(f"{prefix}_partial")
    if p is None or p.params != params:
        return False
    left, right = st.columns((1, 2))
    left.image(to_pil(p.image), caption=f"Stopped at step {len(p.losses)} of {p.steps}", width="stretch")
    right.plotly_chart(loss_figure(p.losses, p.steps, "Loss so far", lecture), key=f"{prefix}_partial_loss")
    st.caption(f"{p.text}: stopped after {len(p.losses)} of {p.steps} steps (the Stop button, or another control "
               "was changed while it ran). Press the button to start again.")
    return True


@st.cache_resource(max_entries=32, show_spinner=False)
def photo_of(key: str) -> torch.Tensor:
    """(3, H, W) the image of a slot as the app holds it (ui.images.image); the functions crop it square."""
    return to_tensor(image(key))


def photo_picker(inputs, label: str, key: str, default: str) -> tuple[str, str]:
    """A photo from the sidebar's slots or any bundled one (`default` preselected): (image key, name)."""
    options = [f"slot:{i}" for i in range(inputs.filled)] + [f"sample:{n}" for n in samples()]
    chosen = st.session_state.get(key)
    if chosen not in options:  # a slot that was emptied, or a first run
        chosen = f"sample:{default}" if f"sample:{default}" in options else options[0]
    st.session_state[key] = chosen  # written back on every run, so a slot's new photo shows in the option's text

    def name(o: str) -> str:
        return f"slot {int(o[5:]) + 1}: {inputs.names[int(o[5:])]}" if o.startswith("slot:") else o[7:]

    choice = st.selectbox(label, options, key=key, format_func=name)
    if choice.startswith("slot:"):
        return inputs.keys[int(choice[5:])], inputs.names[int(choice[5:])]
    return choice, choice[7:]


def options_of(m) -> dict[int, str]:
    return {f.index: f.label() for f in texture.feature_layers(m)}


def short(m, layers) -> str:
    names = {f.index: f.name for f in texture.feature_layers(m)}
    return ", ".join(names[i] for i in layers)


def size_steps(prefix: str, default: tuple[int, int], cols, lecture: bool) -> tuple[int, int]:
    if lecture:
        return default
    size = cols[0].select_slider("Size (px)", SIZES, value=default[0], key=f"{prefix}_size")
    steps = cols[1].select_slider("Steps", STEP_CHOICES, value=default[1], key=f"{prefix}_steps")
    return int(size), int(steps)


# ---------------------------------------------------------------- Gram matrices and the patch shuffle

@st.cache_data(max_entries=64, show_spinner=False)
def _gram(key: str, layer: int, mid: str) -> tuple[torch.Tensor, int, int]:
    """G/M of one photo at one layer, with N and M (at the model's input size)."""
    m = serving_model()
    with torch.no_grad():
        f = texture.features(m, texture.square(photo_of(key), m.recipe.size), [layer])[layer]
    return texture.gram(f)[0] / (f.shape[2] * f.shape[3]), f.shape[1], f.shape[2] * f.shape[3]


@st.cache_data(max_entries=64, show_spinner=False)
def _shuffle(key: str, other: str, grid: int, seed: int, layer: int, mid: str):
    """The shuffled photo, its G/M at `layer`, the changes at every layer, and the other photo's Gram change."""
    m = serving_model()
    size = m.recipe.size
    shuffled, changes = texture.shuffle_change(m, photo_of(key), grid, seed, size)
    layers = [f.index for f in texture.feature_layers(m)]
    with torch.no_grad():
        mine = texture.features(m, texture.square(photo_of(key), size), layers)
        theirs = texture.features(m, texture.square(photo_of(other), size), layers)
    others = [texture.relative_change(texture.gram(theirs[i]), texture.gram(mine[i])) for i in layers]
    return shuffled, texture.gram_heat(m, shuffled, layer, size), changes, others


@errors_shown("The Gram matrices")
def gram_section(lecture: bool = False) -> None:
    inputs, m = current(), serving_model()
    st.header("The Gram matrix: what goes with what")
    st.markdown("Layer $l$ has $N_l$ feature maps over $M_l$ positions; stack them as the rows of "
                "$F^l \\in \\mathbb{R}^{N_l \\times M_l}$. The "
                "Gram matrix sums the product of two maps over every position (Gatys, Ecker & Bethge, *Texture "
                "Synthesis Using Convolutional Neural Networks*, NeurIPS 2015): which features fire together, and "
                "nothing of where.")
    st.latex(texture.GRAM_LATEX)
    names = options_of(m)
    first, second = inputs.keys[0], inputs.keys[1 if inputs.filled > 1 else 0]
    a, b = inputs.names[0], inputs.names[1 if inputs.filled > 1 else 0]
    cols = st.columns((2, 1)) if lecture else st.columns((2, 1, 1))
    layer = cols[0].selectbox("Layer", list(names), index=min(2, len(names) - 1), format_func=names.get,
                              key="tex_gram_layer")
    grid = int(cols[1].select_slider("Patches per side (shuffle)", GRIDS, value=4, key="tex_grid"))
    seed = 0 if lecture else int(cols[2].number_input("Shuffle seed", 0, 10_000, 0, key="tex_shuffle_seed"))
    mid, size = model_id(), m.recipe.size
    g1, n, positions = _gram(first, layer, mid)
    g2, _, _ = _gram(second, layer, mid)
    shuffled, gs, changes, others = _shuffle(first, second, grid, seed, layer, mid)
    st.plotly_chart(gram_figure([g1, g2, gs], [a, b, f"{a}, shuffled {grid}×{grid}"], lecture), key="tex_gram_chart")
    e_l = float(texture.layer_style_loss(g1 * positions, g2 * positions, n, positions))
    st.caption(f"$G^l/M_l$ of each photo at {names[layer]}: $N_l$ = {n} channels, $M_l$ = {positions} positions at "
               f"{size} px (divided by $M_l$ to show the mean product per position; $E_l$ uses $G^l$ itself). "
               f"$E_l$ between {a} and {b}: {e_l:.4g}.")
    st.subheader("Shuffle the patches: the texture stays")
    st.markdown(f"Cut {a} into {grid}×{grid} patches and put them back in a random order. The object falls apart "
                "and the pixels change a lot, but most positions still see the same local pattern, so the early "
                "Gram matrices barely move. Changes are relative: ‖new − old‖ / ‖old‖.")
    change = changes[layer]
    left, middle, right = st.columns((1, 1, 2))
    left.image(to_pil(texture.same_crop(texture.square(photo_of(first), size)[0], shuffled)), caption=a,
               width="stretch")
    middle.image(to_pil(shuffled), caption=f"{a}, {grid}×{grid} patches shuffled", width="stretch")
    with right:
        c1, c2, c3 = st.columns(3)
        c1.metric("Pixel change", f"{change.pixels:.1%}")
        c2.metric("Gram change", f"{change.gram:.1%}", help=f"at {names[layer]}")
        c3.metric("Gram / pixels", f"{change.ratio:.3f}")
        st.markdown(f"At {names[layer]}. Gaussian noise that changes the pixels as much ({change.noise_pixels:.1%}) "
                    f"changes this Gram matrix by **{change.noise_gram:.1%}**; the feature maps themselves changed by "
                    f"{change.features:.1%} under the shuffle.")
    table = pd.DataFrame([{"layer": names[i], "Gram change": f"{c.gram:.1%}", "Gram / pixel": f"{c.ratio:.3f}",
                           "feature maps": f"{c.features:.1%}", "Gram, noise": f"{c.noise_gram:.1%}",
                           f"Gram, {b} instead": f"{o:.1%}"} for i, c, o in zip(names, changes, others)])
    st.dataframe(table, hide_index=True)
    st.caption(f"Every layer for the same shuffle (pixel change {change.pixels:.1%}). Deeper layers look through "
               "wider windows, more of which cross a seam, so their Gram matrices move more; the noise with the same "
               f"pixel change and {b}'s Gram matrix give the scale. {credit(first)} {credit(second)}".strip())


# ---------------------------------------------------------------- texture synthesis

@errors_shown("Texture synthesis")
def synthesis_section(lecture: bool = False) -> None:
    inputs, m = current(), serving_model()
    st.header("Texture synthesis from noise")
    st.markdown("Start from uniform noise and change its pixels, by gradient descent through the network, until "
                "its Gram matrices at several layers match a photo's (Gatys, Ecker & Bethge, NeurIPS 2015). Each "
                "layer's loss is the lecture's $E_l$, with $A^l$ the photo's Gram matrix; the texture loss is their "
                "sum ($w_l = 1$).")
    st.latex(texture.STYLE_LATEX)
    names = options_of(m)
    cols = st.columns((1, 2)) if lecture else st.columns((1, 2, 1, 1))
    with cols[0]:
        key, name = photo_picker(inputs, "Photo", "tex_syn_image", TEXTURE_PHOTO)
    layers = cols[1].multiselect("Layers", list(names), default=list(texture.default_layers(m)),
                                 format_func=names.get, key="tex_syn_layers")
    size, steps = size_steps("tex_syn", budget(m).texture, cols[2:], lecture)
    if not layers:
        st.warning("Pick at least one layer.")
        return
    params = ("texture", key, tuple(sorted(layers)), size, steps, 0, model_id())
    done = finished().get(params)
    if run_buttons("tex_syn", "Synthesise", done is not None):
        done = run("tex_syn", params, f"Texture of {name}", lambda report: texture.synthesise_texture(
            m, photo_of(key), params[2], size, steps, seed=0, callback=report), lecture)
    if done is not None:
        left, middle, right = st.columns((1, 1, 2))
        left.image(to_pil(texture.square(photo_of(key), size)[0]), caption=f"{name} at {size} px",
                   width="stretch")
        middle.image(to_pil(done.image), caption="Synthesised texture", width="stretch")
        right.plotly_chart(loss_figure(done.losses, steps, "Texture loss Σ E_l by step", lecture), key="tex_syn_loss")
        st.caption(f"{done.steps} L-BFGS steps from noise at {size}×{size} px, layers {short(m, params[2])}: the "
                   f"loss fell from {done.losses[0]:.4g} to {done.loss:.4g}, {done.drop:.0f}× smaller, in "
                   f"{done.seconds:.1f} s on this server. A jump in the curve is a step that overshot; the texture shown is the "
                   f"image with the lowest loss. {credit(key)}".strip())
    elif not show_partial("tex_syn", params, lecture):
        st.info(f"Press **Synthesise**: {steps} steps at {size} px.")


# ---------------------------------------------------------------- style transfer

@errors_shown("Style transfer")
def style_section(lecture: bool = False) -> None:
    inputs, m = current(), serving_model()
    st.header("Neural style transfer")
    st.markdown("Keep one photo's feature maps $P^l$ at a deep layer (its *content*) while matching another's Gram "
                "matrices (its *style*) (Gatys, Ecker & Bethge, *Image Style Transfer Using Convolutional Neural "
                "Networks*, CVPR 2016). Only β/α matters: the larger, the more style. The lecture's slide drops the "
                "square of the content loss and on one line swaps α and β; this is the paper's form.")
    st.latex(texture.CONTENT_LATEX)
    st.latex(texture.TOTAL_LATEX)
    names = options_of(m)
    cols = st.columns(3) if lecture else st.columns(6)
    with cols[0]:
        c_slot = controls.pick_slot(inputs, "tex_st_content", "Content photo")
    with cols[1]:
        sk, s_name = photo_picker(inputs, "Style photo", "tex_st_style", TEXTURE_PHOTO)
    ratio = float(cols[2].select_slider("β/α", RATIOS, value=STYLE_RATIO, format_func=power,
                                        key="tex_st_ratio"))
    style_layers = texture.default_layers(m)
    content_layer = texture.default_content_layer(m, style_layers)
    size, steps = size_steps("tex_st", budget(m).style, cols[3:5], lecture)
    if not lecture:
        content_layer = cols[5].selectbox("Content layer", list(names), index=content_layer, format_func=names.get,
                                          key="tex_st_content_layer")
    ck = inputs.keys[c_slot]
    params = ("style", ck, sk, ratio, size, steps, int(content_layer), model_id())
    done = finished().get(params)
    if run_buttons("tex_st", "Transfer the style", done is not None):
        done = run("tex_st", params, f"{inputs.names[c_slot]} in the style of {s_name}",
                   lambda report: texture.transfer_style(m, photo_of(ck), photo_of(sk), 1.0, ratio, style_layers,
                                                         content_layer, size, steps, callback=report), lecture)
    if done is not None:
        row = st.columns((1, 1, 1, 2))
        row[0].image(to_pil(texture.square(photo_of(ck), size)[0]), caption="content", width="stretch")
        row[1].image(to_pil(texture.square(photo_of(sk), size)[0]), caption="style", width="stretch")
        row[2].image(to_pil(done.image), caption=f"Styled, β/α = {power(ratio)}", width="stretch")
        row[3].plotly_chart(loss_figure(done.losses, steps, "α L_content + β L_style by step", lecture),
                            key="tex_st_loss")
        st.caption(f"α = 1, β = {ratio:g}; content at {names[content_layer]}; style at {short(m, style_layers)}, "
                   f"each weighted 1/{len(style_layers)}. {done.steps} L-BFGS steps from the content photo (the "
                   f"paper starts from noise; its Fig. 6 shows either start works) at {size} px in {done.seconds:.1f} s. "
                   f"At the end L_content = {done.parts['content']:.4g}, L_style = {done.parts['style']:.4g}. "
                   "The content loss sums over positions and E_l does not, so the same β/α gives less style at a "
                   f"larger size. {credit(ck)} {credit(sk)}".strip())
    elif not show_partial("tex_st", params, lecture):
        st.info(f"Press **Transfer the style**: {steps} steps at {size} px.")


# ---------------------------------------------------------------- cue conflict

@errors_shown("The cue conflict")
def cue_conflict_section(lecture: bool = False) -> None:
    m = serving_model()
    st.header("Texture or shape? The cue conflict")
    st.markdown("Geirhos et al. (*ImageNet-trained CNNs are biased towards texture; increasing shape bias improves "
                "accuracy and robustness*, ICLR 2019) showed networks images whose shape says one class and whose "
                "texture another, made by style transfer: ImageNet CNNs mostly named the texture (a cat with "
                "elephant skin is an elephant). Here the same test runs on a few bundled pairs with the style "
                "transfer above, and the same network judges the result.")
    st.caption(f"These networks are not VGG. The papers made their images with VGG-19 and judged them with "
               f"ResNet-50 and others; here {m.title} makes the image *and* judges it, through fewer feature maps "
               "per layer (16–112 against VGG's 64–512), residual, batch-normalised blocks and a stride of 2 from "
               "the first layer on: its Gram matrices describe fewer, coarser patterns, and a judge that painted "
               "the picture itself may be swayed by its own features more than another network would be. "
               "Geirhos et al. counted answers among 16 coarse classes; ImageNet's 1000 have no \"cat\", so a "
               "result counts as *shape* when its top-1 is among the classes the network gives the shape photo "
               "alone (its top-5), *texture* when among the texture photo's, and *neither* otherwise.")
    size, steps = budget(m).cue
    ratio = float(st.columns((1, 2))[0].select_slider("β/α of the style transfer", RATIOS, value=CUE_RATIO,
                                   format_func=power, key="tex_cue_ratio"))
    store, mid = finished(), model_id()
    pairs = [(s, t) for s, t in CUE_PAIRS if s in samples() and t in samples()]
    keys = {pair: ("cue", *pair, ratio, size, steps, mid) for pair in pairs}
    missing = [pair for pair in pairs if store.get(keys[pair]) is None]
    label = f"Run the {len(missing)} pairs left" if missing else "All pairs are done"
    if run_buttons("tex_cue", label, not missing):
        bar, live = st.progress(0.0, text="Styling…"), st.empty()
        for i, (shape, tex) in enumerate(missing):
            report = stepper("tex_cue", keys[(shape, tex)], bar, live, f"Pair {i + 1} of {len(missing)}: {shape} "
                             f"with the texture of {tex}", (i / len(missing), 1 / len(missing)), lecture)
            with torch_threads(1):
                done = texture.cue_conflict(m, photo_of(f"sample:{shape}"), photo_of(f"sample:{tex}"),
                                            own_class(m, shape), own_class(m, tex), ratio, size, steps,
                                            callback=report)
            store.put(keys[(shape, tex)], done)
            st.session_state.pop("tex_cue_partial", None)
        bar.empty()
        live.empty()
        missing = [pair for pair in pairs if store.get(keys[pair]) is None]
    shown = [(pair, store.get(keys[pair])) for pair in pairs]
    shown = [(pair, r) for pair, r in shown if r is not None]
    for (shape, tex), r in shown:
        cue_row(shape, tex, r, lecture)
    if shown:
        count = {v: sum(r.verdict == v for _, r in shown) for v in ("shape", "texture", "both", "neither")}
        leans = sum(r.leaning == "texture" for _, r in shown)
        st.markdown(f"**{len(shown)} pairs at β/α = {power(ratio)}**: the top-1 follows the shape in {count['shape']}, "
                    f"the texture in {count['texture']}, neither in {count['neither']}"
                    + (f", both in {count['both']}" if count["both"] else "") + f". The texture photo's labelled "
                    f"class outranks the shape photo's in {leans} of {len(shown)}. Move β/α to see the balance tip.")
    for pair in missing:
        show_partial("tex_cue", keys[pair], lecture)
    if missing:
        st.info(f"Press the button: {len(missing)} pairs, {steps} steps each at {size} px, β/α = {power(ratio)}; "
                "the results are kept for everyone on this server.")


def own_class(m, name: str) -> int:
    return m.classes.index(samples()[name].imagenet_class)


def cue_row(shape: str, tex: str, r: texture.CueConflict, lecture: bool) -> None:
    st.subheader(f"{shape}'s shape, {tex}'s texture: {r.verdict}")
    cols = st.columns((1, 1, 1, 2))
    size = r.synthesis.image.shape[-1]
    cols[0].image(to_pil(texture.square(photo_of(f"sample:{shape}"), size)[0]), caption=f"shape: {shape}",
                  width="stretch")
    cols[1].image(to_pil(texture.square(photo_of(f"sample:{tex}"), size)[0]), caption=f"texture: {tex}",
                  width="stretch")
    cols[2].image(to_pil(r.synthesis.image), caption="cue conflict", width="stretch")
    cols[3].plotly_chart(topk_figure(r.topk, big=lecture), key=f"tex_cue_{shape}_{tex}")
    alone = (f"Alone, {shape} is “{r.shape_topk[0].name}” ({r.shape_topk[0].probability:.0%}) and {tex} "
             f"“{r.texture_topk[0].name}” ({r.texture_topk[0].probability:.0%}).")
    st.caption(f"{alone} On the conflict, {shape}'s class “{r.shape.name}” ranks {r.shape.rank} "
               f"({r.shape.probability:.1%}) and {tex}'s “{r.texture.name}” ranks {r.texture.rank} "
               f"({r.texture.probability:.1%}). {credit('sample:' + shape)} {credit('sample:' + tex)}")
