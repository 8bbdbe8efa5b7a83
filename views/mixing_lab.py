"""Mixing Lab: choose a method, move λ and its parameters, see the mix, the masks, the label, the maps
that guided it and what a pretrained network makes of it."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch
from PIL import ImageOps

import mixviz
from mixviz import imaging  # imaging.shade looked up per call: tests record the masks it shades with
from mixviz.imaging import to_pil
from mixviz.labels import smooth_label
from mixviz.maps.cam import network_view
from mixviz.registry import FAMILIES
from mixviz.types import MethodSpec, MixResult
from mixviz.viz.charts import beta_chart, label_chart
from mixviz.viz.guides import guide_views
from mixviz.viz.slides import code_snippet, formula_lines, lam_caption, method_figure
from ui import controls
from ui.errors import errors_shown
from ui.images import batch, credit, sample_path
from ui.maps import class_notes, class_picks, maps_for
from ui.models import default_class, model
from ui.params import param_widgets
from ui.sidebar import Inputs, current
from ui.uploads import MAX_SIDE

NUM_CLASSES = 1000  # label smoothing spreads ε over the ImageNet classes the models know


@dataclass(frozen=True)
class Choice:
    """What the controls chose: the method, its seed, λ (None: drawn), α (None: the method's own), the
    label smoothing ε and the method's parameters."""

    method: str
    spec: MethodSpec
    seed: int
    lam: float | None
    alpha: float | None
    eps: float
    params: dict


@dataclass(frozen=True)
class Mixed:
    """The inputs as the method saw them, the class of each input's map (None: the method has no class
    map) and the result."""

    keys: tuple[str, ...]
    labels: tuple[str, ...]
    x: torch.Tensor
    size: tuple[int, int]
    classes: tuple[int, ...] | None
    r: MixResult


def render() -> None:
    inputs = current()
    st.title("Mixing Lab")
    open_linked_method()
    left, view = st.columns((1, 3), gap="large")
    with left:
        choice = method_controls(inputs)
    if choice is None:
        return
    keys, labels = inputs.first(choice.spec.n_inputs)
    with view:
        header(choice, inputs)
        mixed = mix(choice, keys, labels, left)
        if mixed is not None:
            pictures(choice, mixed)
            guides(mixed)
            network(mixed)
            export(choice, mixed, inputs)
        controls.photo_credits(keys)


def framed(mask):
    """A mask as a picture with a grey frame, so that its white parts stand out from the page."""
    return ImageOps.expand(to_pil(mask), border=2, fill=128)


def open_linked_method() -> None:
    """A link such as ?method=cutmix opens that method (once: the user's choices win afterwards)."""
    ss = st.session_state
    asked = st.query_params.get("method")
    if asked in mixviz.METHODS and ss.get("lab_asked") != asked:
        ss["lab_family"], ss["lab_method"], ss["lab_asked"] = mixviz.METHODS[asked].family, asked, asked


@errors_shown("The controls")
def method_controls(inputs: Inputs) -> Choice:
    """Family, method, seed, λ or α, label smoothing and the method's parameters."""
    ss = st.session_state
    family = st.selectbox("Family", list(FAMILIES), format_func=FAMILIES.get, key="lab_family")
    names = [n for n, s in mixviz.METHODS.items() if s.family == family]
    if ss.get("lab_method") not in names:
        ss["lab_method"] = names[0]
    method = st.selectbox("Method", names, format_func=lambda n: mixviz.METHODS[n].title, key="lab_method")
    spec = mixviz.METHODS[method]
    seed = controls.seed("lab")
    lam, alpha = None, None  # alpha None: the method's own default (its authors' α)
    if spec.uses_lam:
        drawn_as = ("draw λ from Beta(α, α) with the seed" if spec.alpha is not None
                    else f"draw with the seed as the authors do: {spec.lam_draw}")
        if controls.fix_lam("lab", help=f"off: {drawn_as}"):
            lam = controls.lam_slider("lab")
        elif spec.alpha is None:
            st.caption(f"No α here: {spec.lam_draw}.")
        else:
            kept = f"lab_alpha_of_{method}"  # each method's α starts at its authors' value and is kept per method
            if ss.get("lab_alpha_method") != method or "lab_alpha" not in ss:
                ss["lab_alpha"], ss["lab_alpha_method"] = ss.get(kept, float(spec.alpha)), method
            alpha = ss[kept] = controls.alpha_slider("lab", help=f"{spec.title}'s authors use α = {spec.alpha:g}")
    eps = 0.0 if inputs.lecture else st.slider("Label smoothing ε", 0.0, 0.3, 0.0, 0.01, key="lab_eps",
                                               help=f"(1 − ε)·y + ε/K over K = {NUM_CLASSES} classes")
    params = {}
    if spec.params:
        with st.expander("Method parameters", expanded=not inputs.lecture):
            params = param_widgets(spec, prefix="lab")
    return Choice(method, spec, seed, lam, alpha, eps, params)


@errors_shown("The method's description")
def header(choice: Choice, inputs: Inputs) -> None:
    spec = choice.spec
    st.subheader(spec.title)
    st.caption(f"{spec.summary}  \n*{spec.paper}*")
    st.latex(formula_lines(spec.formula))
    if spec.n_inputs > inputs.filled:
        st.info(f"{spec.title} mixes {spec.n_inputs} images: slots 3 and 4 hold the default photos. Choose 4 image "
                "slots in the sidebar to pick them.")
    if spec.needs == "model":
        controls.model_notice()


@errors_shown("The mix")
def mix(choice: Choice, keys: tuple[str, ...], labels: tuple[str, ...], left) -> Mixed:
    """The inputs at their common size, the class of each input's map (a select under the controls), the
    maps that guide the method (cached per image) and the mix."""
    x = batch(keys)
    size = tuple(x.shape[2:])
    with left:  # the ImageNet class of each input's CAM or loss gradient (for methods whose maps have one)
        classes = class_picks(keys, labels, size, "lab", method=choice.method)
    with st.spinner("Computing the maps that guide this method (once per image)…"):
        maps = maps_for(choice.method, keys, size, choice.params, classes)
    r = mixviz.mix(choice.method, x, labels=list(labels), seed=choice.seed, lam=choice.lam, alpha=choice.alpha,
                   maps=maps, **choice.params)
    return Mixed(keys, labels, x, size, classes, r)


@errors_shown("The mixed image")
def pictures(choice: Choice, m: Mixed) -> None:
    """Each input shaded where the mix uses its pixels, the mix, the masks, the label and λ."""
    spec, r, x, k = choice.spec, m.r, m.x, len(m.keys)
    if "note" in r.info:
        st.warning(r.info["note"])
    top = st.columns([1] * k + [2])
    for i in range(k):
        top[i].image(to_pil(imaging.shade(x[i], r.used[i])), caption=f"input {i + 1}: {m.labels[i]} (dark: not used)",
                     width="stretch", output_format="JPEG")
    lams = lam_caption(r)
    top[k].image(to_pil(r.image), caption=f"mixed image ({lams})" if lams else "mixed image", width="stretch",
                 output_format="JPEG")
    bottom = st.columns([1] * k + [2])
    for i in range(k):
        bottom[i].image(framed(r.masks[i]), caption=f"mask {i + 1}: mean {float(r.masks[i].mean()):.3f}",
                        width="stretch", output_format="JPEG")
    with bottom[k]:
        label, other = (smooth_label(r.label, choice.eps, NUM_CLASSES) if choice.eps else (r.label, None))
        st.plotly_chart(label_chart(label, other, union=r.label_rule == "union"), key="lab_label_chart",
                        width="stretch")
        if r.label_rule == "semantic":
            st.caption("Each weight is the share of that image's class activation that the mix keeps, so the two "
                       "need not sum to 1. Where both images share a class, the authors give each partial label "
                       "ρa + ρb and add the two losses, so that class carries 2(ρa + ρb), which can exceed 1.")
        corrected, lam = r.lam_corrected, choice.lam
        if spec.uses_lam and lam is None and spec.alpha is not None:
            st.plotly_chart(beta_chart(choice.alpha, r.lam, corrected), key="lab_beta_chart", width="stretch")
        elif spec.uses_lam and lam is not None:
            st.markdown(f"λ fixed at **{lam:.2f}**" + (f"; corrected λ (the label's share) **{corrected:.3f}**"
                                                        if corrected is not None else ""))


@errors_shown("The maps that guided this mix")
def guides(m: Mixed) -> None:
    views = guide_views(m.r, m.x, classes=m.classes and class_notes(m.keys, m.classes, m.size))
    if views:
        st.markdown("**The maps that guided this mix**")
        for col, (caption, img) in zip(st.columns(len(views)), views):
            col.image(img, caption=caption, width="stretch", output_format="JPEG")


@errors_shown("What the network sees")
def network(m: Mixed) -> None:
    """The pretrained model's prediction on the mix next to the label the method assigned (on request)."""
    if not st.toggle("What the network sees", value=False, key="lab_network",
                     help="the pretrained model's prediction on the mixed image next to the label the method assigned "
                          "(one forward pass per change: 20–200 ms, by model)"):
        return
    net = model()
    seen = network_view(net, m.r, m.x, input_classes=m.classes or [default_class(key, m.size) for key in m.keys])
    rows = [{"input": str(v.label), "stands for class": v.class_name, "label weight": round(v.label_weight, 3),
             "network's probability": round(v.predicted, 3)} for v in seen.inputs]
    st.dataframe(rows, hide_index=True)
    st.caption(f"{net.title}'s top-5 on the mix: "
               + ", ".join(f"{p.name} {p.probability:.2f}" for p in seen.topk)
               + f". KL(label ‖ prediction) = {seen.divergence:.2f} nats: the larger, the more the picture and "
                 "its label disagree.")


@errors_shown("The download and the code")
def export(choice: Choice, m: Mixed, inputs: Inputs) -> None:
    """The panel as a PNG, the code that makes this picture, the drawn parameters."""
    ss = st.session_state
    credits = [credit(key) for key in m.keys]
    controls.png_download("Download this panel as PNG", lambda: method_figure(m.r, m.x.cpu(), list(m.labels), credits),
                          f"{choice.method}.png", "lab_download")
    if inputs.lecture:
        return
    paths = [str(sample_path(key)) if key.startswith("sample:") else ss["upload_files"][key] for key in m.keys]
    with st.expander("Code that makes this picture"):
        st.code(code_snippet(choice.method, paths, choice.seed, choice.lam, choice.alpha, choice.params, choice.eps,
                             NUM_CLASSES, image_size=m.size, max_side=MAX_SIDE, classes=m.classes), language="python")
    with st.expander("Drawn parameters"):
        st.json({key: v for key, v in m.r.info.items() if isinstance(v, (int, float, str, bool, list, tuple))
                 and not (isinstance(v, list) and v and not isinstance(v[0], (int, float)))})
