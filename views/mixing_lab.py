"""Mixing Lab: choose a method, move λ and its parameters, see the mix, the masks, the label, the maps
that guided it and what a pretrained network makes of it."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, TypeVar

import streamlit as st
import torch

import mixviz
from mixviz import imaging  # imaging.shade looked up per call: tests record the masks it shades with
from mixviz.labels import smooth_label
from mixviz.maps.cam import network_view
from mixviz.registry import FAMILIES, find
from mixviz.threads import torch_threads
from mixviz.types import MethodSpec, MixResult
from mixviz.viz.charts import beta_chart
from mixviz.viz.guides import guide_views
from mixviz.viz.slides import code_snippet, formula_lines, method_figure
from ui import controls
from ui.errors import errors_shown
from ui.images import batch, credit, sample_path
from ui.jpeg import jpeg
from ui import poll as polls
from ui.links import link_box, link_params, page_url, publish
from ui.live import animations, prepared, released, scrubber, target_of as live_target
from ui.maps import class_notes, class_picks, maps_for, needs_of
from ui.models import default_class, model
from ui.params import param_widgets
from ui.sidebar import Inputs, current
from ui.uploads import MAX_SIDE
from views.poll import page as poll_page

NUM_CLASSES = 1000  # label smoothing spreads ε over the ImageNet classes the models know
T = TypeVar("T")


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
    prefix: str = "lab"  # the page's state keys: f"{prefix}_lam", f"{prefix}_scrubber", … (the Lecture page has its own)


@dataclass(frozen=True)
class Mixed:
    """The inputs as the method saw them, the class of each input's map (None: the method has no class
    map), the maps that guided it (None: none) and the result."""

    keys: tuple[str, ...]
    labels: tuple[str, ...]
    x: torch.Tensor
    size: tuple[int, int]
    classes: tuple[int, ...] | None
    maps: torch.Tensor | None
    r: MixResult


def render() -> None:
    if current().lecture:  # on a projector the first screen is the picture's (lab_body), and no text under 20 px
        controls.lecture_widgets()
    else:
        st.title("Mixing Lab")
    lab()


def _kept(name: str, key: tuple, make: Callable[[], T]) -> T:
    """`make()`, kept in the session under `name` for the next run: a run with the same `key` gets the value
    the last run got without calling `make`, so without st.cache_*'s lookup (which hashes every argument and
    reads the function's signature: about 1 ms a call). Only for a value that `key` names exactly: the hashed
    arguments of a cached function (its unhashed `_x`, `_maps` are named by them), as plain Python values;
    they are compared by repr, so 1, 1.0 and True, or 0.0 and -0.0, are different keys."""
    ss, key = st.session_state, repr(key)
    held = ss.get(name)
    if held is not None and held[0] == key:
        return held[1]
    value = make()
    ss[name] = (key, value)
    return value


@st.fragment
def lab() -> None:
    """The controls and everything they change, as one fragment: a control reruns this, not the sidebar (and
    app.py's torch_threads(1) does not wrap a fragment's own reruns: this does)."""
    with torch_threads(1):
        lab_body(current())


def lab_body(inputs: Inputs) -> None:
    # lecture mode: the method's name and the live picture first, across the page, so that a 1280×720 projector
    # shows the mix and its label without scrolling; the controls and the other sections under them
    first = st.container() if inputs.lecture else None
    left, view = st.columns((1, 3), gap="large")
    with left:
        choice = method_controls(inputs)
    if choice is None:
        return
    keys, labels = inputs.first(choice.spec.n_inputs)
    mixed = None
    with view:
        header(choice, inputs)
        mixed = mix(choice, keys, labels, left)
        if mixed is not None:
            if first is None:
                live(choice, mixed)
            else:
                with first:
                    st.subheader(choice.spec.title)
                    projected(choice, mixed, _guide_views(mixed))
            pictures(choice, mixed)
            if first is None:
                guides(mixed)
            network(mixed)
            export(choice, mixed, inputs)
            animation(choice, mixed)
        controls.photo_credits(keys)
    with left:
        share(choice, inputs)
        if mixed is not None:
            ask(choice, mixed, inputs.keys, inputs.filled)


@errors_shown("The controls")
def method_controls(inputs: Inputs) -> Choice:
    """Family, method, seed, λ or α, label smoothing and the method's parameters."""
    ss = st.session_state
    st.text_input("Find a method", key="lab_find", on_change=_found, placeholder="AttentiveMix, Mixed Concat, …",
                  help="by its name or a part of it, as the lectures and papers write it")
    if "lab_found" in ss:
        st.caption(ss.pop("lab_found"))
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


def _found() -> None:
    """The find box was filled in: its first method becomes the family's and the method's choice; the box is
    emptied, and a line under it says what it found (or that it found nothing)."""
    ss = st.session_state
    query = ss.get("lab_find", "").strip()
    names = find(query)
    ss["lab_find"] = ""
    if not query:
        return
    if not names:
        ss["lab_found"] = f"No method is called “{query}”."
        return
    spec = mixviz.METHODS[names[0]]
    ss["lab_family"], ss["lab_method"] = spec.family, spec.name
    others = ", ".join(mixviz.METHODS[n].title for n in names[1:6]) + (", …" if len(names) > 6 else "")
    ss["lab_found"] = f"{spec.title} ({FAMILIES[spec.family]})" + (f"; also: {others}" if others else "")


@errors_shown("The method's description")
def header(choice: Choice, inputs: Inputs) -> None:
    spec = choice.spec
    if not inputs.lecture:  # in lecture mode the title is above the live picture (lab_body)
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
    """The inputs at their common size, the class of each input's map (a select under the controls in `left`;
    None: each photo's own class, no select), the maps that guide the method (cached per image) and the mix."""
    x = _kept(f"_{choice.prefix}_kept_batch", keys, lambda: batch(keys))  # the same tensor every run: keys name their pictures
    size = tuple(x.shape[2:])
    if left is None:
        classes = class_picks(keys, labels, size, choice.prefix, method=choice.method, show=False)
    else:
        with left:  # the ImageNet class of each input's CAM or loss gradient (for methods whose maps have one)
            classes = class_picks(keys, labels, size, choice.prefix, method=choice.method)
    maps = None  # a method that declares no maps needs no spinner (maps_for would compute nothing)
    if needs_of(choice.method, choice.params):
        with st.spinner("Computing the maps that guide this method (once per image)…"):
            maps = maps_for(choice.method, keys, size, choice.params, classes)
    r = mixviz.mix(choice.method, x, labels=list(labels), seed=choice.seed, lam=choice.lam, alpha=choice.alpha,
                   maps=maps, **choice.params)
    return Mixed(keys, labels, x, size, classes, maps, r)


@errors_shown("The live picture")
def live(choice: Choice, m: Mixed, big: bool = False, reference: dict | None = None) -> None:
    """The mix, its masks and label bars under a control that scrubs λ (or the seed, or the first parameter)
    in the browser; released, the value is the page's, and the sections below follow it. `big`: sized for a
    projector (the picture three quarters of the component, text at 1rem); `reference`: another label marked on
    the bars (ui.live.scrubber)."""
    spec, pre = choice.spec, choice.prefix
    target = live_target(spec, choice.lam, choice.seed, choice.params)
    # the sweep has every value of what it sweeps: that value is not part of its cache key (a release to a new
    # value finds the same file)
    over, params = target.over, {k: v for k, v in choice.params.items() if k != target.over}
    # prepared's hashed arguments (m.x and m.maps are named by the keys, the size, the method, its parameters
    # and the classes): a release to a value of the same sweep keeps them all, and skips the cache's lookup
    images, seed = (m.keys, m.size), target.values[0] if over == "seed" else choice.seed
    lam, fixed = None if over == "lam" else choice.lam, tuple(sorted(params.items()))

    def sweep() -> tuple[bytes, dict]:
        with st.spinner("Preparing the live picture (once per change of method, images, seed or parameters)…"):
            return prepared(choice.method, images, m.x, m.labels, over, target.values, seed, lam, choice.alpha, fixed,
                            m.maps, m.classes)

    blob, header = _kept(f"_{pre}_kept_sweep", (choice.method, images, m.labels, over, target.values, seed, lam,
                                             choice.alpha, fixed, m.classes), sweep)
    key = {"lam": f"{pre}_lam", "seed": f"{pre}_seed"}.get(target.over, f"{pre}_{choice.method}_{target.over}")
    values = tuple(header["values"])  # the sweep leaves out values the method refuses (SmoothMix's σ_min > σ_max)
    st.session_state[f"{pre}_live"] = {"version": header["version"], "values": values, "key": key,
                                       "method": choice.method}
    smoothing = {"eps": choice.eps, "classes": NUM_CLASSES} if choice.eps else None
    index = values.index(target.current) if target.current in values else 0
    scrubber(blob, header, index, f"{pre}_scrubber", partial(_released, pre), partial(_dropped, pre), smoothing, big,
             reference)
    if m.r.label_rule == "semantic":
        st.caption("Each weight is the share of that image's class activation that the mix keeps, so the two "
                   "need not sum to 1. Where both images share a class, the authors give each partial label "
                   "ρa + ρb and add the two losses, so that class carries 2(ρa + ρb), which can exceed 1.")


def projected(choice: Choice, m: Mixed, views: list, reference: dict | None = None, beside=None) -> None:
    """The live picture sized for a projector (text at 20 px, the picture as high as the screen allows) with the
    maps that guided it, `views` ((caption, picture) pairs), and what `beside()` draws in a narrow column beside
    it, so that a 1280×720 screen shows them together. `reference`: another label marked on the bars."""
    if not views and beside is None:
        live(choice, m, big=True, reference=reference)
        return
    main, side = st.columns((4, 1), gap="small")
    with main:
        live(choice, m, big=True, reference=reference)
    with side:
        for caption, picture in views:
            st.image(picture, caption=caption, width="stretch", output_format="JPEG")
        if beside is not None:
            beside()


def _released(prefix: str) -> None:
    """The scrubber was released: its value becomes the control's (only a value of the sweep on the page)."""
    ss = st.session_state
    got, shown = (ss.get(f"{prefix}_scrubber") or {}).get("value"), ss.get(f"{prefix}_live")
    if isinstance(got, dict) and shown and got.get("version") == shown["version"] and got.get("value") in shown["values"]:
        ss[shown["key"]] = got["value"]
        released(f"{prefix}_scrubber", shown["version"], shown["values"].index(got["value"]))


def _dropped(prefix: str) -> None:
    """A box was dropped on the live picture: its centre becomes the method's centre parameter."""
    ss = st.session_state
    got, shown = (ss.get(f"{prefix}_scrubber") or {}).get("centre"), ss.get(f"{prefix}_live")
    if not (isinstance(got, dict) and shown and got.get("version") == shown["version"]):
        return
    spec = mixviz.METHODS[shown["method"]]
    try:
        y, x = spec.param("centre").validate(tuple(got.get("centre") or ()), spec.name)
    except (mixviz.MixError, KeyError, TypeError):
        return
    key = f"{prefix}_{spec.name}_centre"
    ss[f"{key}_fixed"], ss[f"{key}_y"], ss[f"{key}_x"] = True, round(y, 3), round(x, 3)


@errors_shown("The inputs and λ")
def pictures(choice: Choice, m: Mixed) -> None:
    """Each input shaded where the mix uses its pixels, and λ: fixed (with the corrected λ) or drawn."""
    spec, r, x, k = choice.spec, m.r, m.x, len(m.keys)
    if "note" in r.info:
        st.warning(r.info["note"])
    top = st.columns([1] * k + [2])
    for i in range(k):  # JPEG bytes made here (ui/jpeg.py: the bytes st.image would make of to_pil, in a third of the time)
        top[i].image(jpeg(imaging.shade(x[i], r.used[i])), caption=f"input {i + 1}: {m.labels[i]} (dark: not used)",
                     width="stretch", output_format="JPEG")
    with top[k]:
        corrected, lam = r.lam_corrected, choice.lam
        if spec.uses_lam and lam is None and spec.alpha is not None:
            st.plotly_chart(beta_chart(choice.alpha, r.lam, corrected), key="lab_beta_chart", width="stretch")
        elif spec.uses_lam and lam is not None:
            st.markdown(f"λ fixed at **{lam:.2f}**" + (f"; corrected λ (the label's share) **{corrected:.3f}**"
                                                        if corrected is not None else ""))
        label = smooth_label(r.label, choice.eps, NUM_CLASSES)[0] if choice.eps else r.label
        st.markdown("Label: " + ", ".join(f"{name} **{w:.3f}**" for name, w in label.items()))
        if "degenerate" in r.info:  # a draw that is no mix of its inputs (mixviz.engine.degenerate_note)
            st.caption(f":material/info: {r.info['degenerate']}")


@errors_shown("The link")
def share(choice: Choice, inputs: Inputs) -> None:
    """The address holds every control (ui/links.py); the link box copies it."""
    q, uploads = link_params(choice.method, inputs.keys, inputs.filled, choice.seed, choice.lam, choice.alpha,
                             choice.eps, inputs.lecture, choice.params)
    publish(q)
    with st.expander("Copy link", icon=":material/link:"):
        link_box(q, uploads)


@errors_shown("Ask the room")
def ask(choice: Choice, m: Mixed, keys: tuple[str, ...], filled: int) -> None:
    """A live poll on this picture (views/poll.py), its link the Mixing Lab's for this picture (`keys`: the
    slots' images, `filled` of them chosen); once opened, the lecturer's page takes over."""
    q, _ = link_params(choice.method, keys, filled, choice.seed, choice.lam, choice.alpha, choice.eps, False,
                       choice.params)
    code = polls.ask_the_room(lambda: polls.snapshot(m.r, m.x, m.keys, m.labels, m.classes, page_url("mixing_lab", q),
                                                     choice.spec.title), key=f"{choice.prefix}_poll")
    if code:
        st.switch_page(poll_page(), query_params={"code": code, "host": "1"})


def _guide_views(m: Mixed) -> list:
    """The maps that guided the mix, on their inputs, with their boxes and peaks, captioned with their classes."""
    return guide_views(m.r, m.x, classes=m.classes and class_notes(m.keys, m.classes, m.size))


@errors_shown("The maps that guided this mix")
def guides(m: Mixed) -> None:
    views = _guide_views(m)
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
    controls.png_download("Download this panel as PNG",
                          lambda: method_figure(m.r, m.x.cpu(), list(m.labels), credits, seed=choice.seed,
                                                guides=_guide_views(m)), f"{choice.method}.png", "lab_download")
    if inputs.lecture:
        return
    paths = [str(sample_path(key)) if key.startswith("sample:") else ss["upload_files"][key] for key in m.keys]
    with st.expander("Code that makes this picture"):
        st.code(code_snippet(choice.method, paths, choice.seed, choice.lam, choice.alpha, choice.params, choice.eps,
                             NUM_CLASSES, image_size=m.size, max_side=MAX_SIDE, classes=m.classes), language="python")
    with st.expander("Drawn parameters"):
        st.json({key: v for key, v in m.r.info.items() if isinstance(v, (int, float, str, bool, list, tuple))
                 and not (isinstance(v, list) and v and not isinstance(v[0], (int, float)))})


@errors_shown("The animation")
def animation(choice: Choice, m: Mixed) -> None:
    """The live picture's sweep as a GIF and an MP4 for slides, made on request (with its progress shown)."""
    ss = st.session_state
    target = live_target(choice.spec, choice.lam, choice.seed, choice.params)
    what = "λ" if target.over == "lam" else target.over
    made = ss.get("lab_animation")
    key = (ss.get("lab_live") or {}).get("version")
    if st.button(f"Make the {what} sweep as GIF and MP4", key="lab_animate", icon=":material/movie:"):
        with st.status(f"Making the {what} sweep…") as status:
            files = animations(choice.method, m.x, m.labels, target, choice.seed, choice.lam, choice.alpha,
                               choice.params, m.maps, m.classes, lambda text: status.update(label=text))
            status.update(label=f"{len(target.values)} frames: GIF {len(files['gif']) / 1e6:.1f} MB, "
                                f"MP4 {len(files['mp4']) / 1e6:.1f} MB", state="complete")
        made = ss["lab_animation"] = (key, files)
    if made and made[0] == key:
        gif, mp4 = st.columns(2)
        gif.download_button(f"Download the {what} sweep (GIF)", made[1]["gif"], f"{choice.method}_sweep.gif",
                            "image/gif", key="lab_gif", on_click="ignore")
        mp4.download_button(f"Download the {what} sweep (MP4)", made[1]["mp4"], f"{choice.method}_sweep.mp4",
                            "video/mp4", key="lab_mp4", on_click="ignore")
