"""Lecture: the figures of the mixing lecture (lecture 000, "Data Augmentation via Mixing Images – part 2") one
step at a time, sized for a 1280×720 projector: each mix live (its λ, seed or parameter scrubbed in the
browser), the maps that guided it beside it, the slide's label beside ours with the reason where they differ.
Previous and Next answer the arrow keys; every step is a link (?step=<slug>). The steps are data
(ui/lecture_steps.py); the mixes are the Mixing Lab's own sections, under their own state keys ("lec_…")."""
from __future__ import annotations

from html import escape

import streamlit as st

import mixviz
from mixviz.maps.cam import retarget
from mixviz.maps.keras_summary import summary_rows, totals, xception_layers
from mixviz.viz.charts import beta_chart
from mixviz.viz.guides import guide_views
from mixviz.viz.map_figures import map_panel
from mixviz.samples import samples
from ui import cam_maps, controls
from ui.errors import errors_shown
from ui.images import image
from ui.lecture_steps import BY_SLUG, STEPS, Step, keys_of, slide_error, TOLERANCE
from ui.models import model as serving_model
from views import cam_explorer, saliency, texture, theory, tta
from views.mixing_lab import Choice, ask, mix, projected

PREFIX = "lec"
STEP_KEY = "lec_step"
SLUGS = list(BY_SLUG)  # in the deck's order
# the deck's CAM slide: three classes, each on the photo that shows it (no bundled photo shows a bike)
CAMS = (("canoe", "boat"), ("airliner", "airplane"), ("mountain bike", None))
# projector sizing for this page whatever the sidebar's lecture toggle says: 20 px text, the page's own
# margins small (the header bar stays), captions at full size
STYLE = """<style>
html { font-size: 20px; }
[data-testid="stMainBlockContainer"] { padding: 3.2rem 1.2rem 1rem 1.2rem; }
[data-testid="stCaptionContainer"], [data-testid="stImageCaption"], [data-testid="stMain"] button p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p, [data-testid="stMain"] td, [data-testid="stMain"] th
  { font-size: 1rem; }
.mv-lec-title { font-size: 1.3rem; font-weight: 600; line-height: 1.2; }
</style>"""


def render() -> None:
    st.set_page_config(initial_sidebar_state="collapsed")  # a projector needs the width; the sidebar opens on click
    st.html(STYLE)
    step = BY_SLUG[current_slug()]
    if st.query_params.get("step") != step.slug:  # the step's link in the address bar
        st.query_params.from_dict({"step": step.slug})
    navigation(step)
    {"inputs": inputs_step, "mix": mix_step, "layers": layers_step, "pooling": pooling_step, "cams": cams_step,
     "compare": compare_step, "section": section_step}[step.kind](step)


def current_slug() -> str:
    """The step shown: the select's value (a link's ?step= sets it once, in ui/links.py), else the first."""
    ss = st.session_state
    if ss.get(STEP_KEY) not in BY_SLUG:
        ss[STEP_KEY] = SLUGS[0]
    return ss[STEP_KEY]


def _go(delta: int) -> None:
    ss = st.session_state
    ss[STEP_KEY] = SLUGS[max(0, min(len(SLUGS) - 1, SLUGS.index(ss[STEP_KEY]) + delta))]


@errors_shown("The step list")
def navigation(step: Step) -> None:
    """One row: the step's number and title, Previous and Next (← and →), the list of every step."""
    n = SLUGS.index(step.slug)
    title, back, ahead, pick = st.columns((4, 1.6, 1.6, 3), vertical_alignment="center")
    title.html(f'<div class="mv-lec-title" data-testid="mixviz-step-title">{n + 1}/{len(STEPS)} · '
               f'{escape(step.title)}</div>')
    back.button("Previous", key="lec_prev", on_click=_go, args=(-1,), shortcut="Left", disabled=n == 0,
                width="stretch", help="the step before (← key)")
    ahead.button("Next", key="lec_next", on_click=_go, args=(1,), shortcut="Right", disabled=n == len(STEPS) - 1,
                 width="stretch", help="the step after (→ key)")
    pick.selectbox("Step", SLUGS, key=STEP_KEY, label_visibility="collapsed",
                   format_func=lambda slug: f"{SLUGS.index(slug) + 1}. {BY_SLUG[slug].title}")


def _state_for(step: Step) -> None:
    """A step starts at its own λ, seed and parameters: what the scrubber set on another step is dropped."""
    ss = st.session_state
    if ss.get("_lec_owner") == step.slug:
        return
    methods = tuple(f"{PREFIX}_{name}_" for name in mixviz.METHODS)
    for key in [k for k in ss if isinstance(k, str) and (k in (f"{PREFIX}_lam", f"{PREFIX}_seed", f"{PREFIX}_live",
                                                                f"{PREFIX}_alpha")
                                                       or k.startswith((f"{PREFIX}_scrubber", f"_{PREFIX}_") + methods))]:
        del ss[key]
    ss["_lec_owner"] = step.slug


def choice_of(step: Step) -> Choice:
    """The step's method, λ, seed and parameters, with what the live picture's release changed."""
    ss = st.session_state
    spec = mixviz.METHODS[step.method]
    params = dict(step.params)
    for p in spec.params:
        if f"{PREFIX}_{spec.name}_{p.name}" in ss:
            params[p.name] = ss[f"{PREFIX}_{spec.name}_{p.name}"]
    lam = ss.get(f"{PREFIX}_lam", step.lam) if step.lam is not None else None
    alpha = ss.get(f"{PREFIX}_alpha", step.alpha) if step.alpha is not None else None
    return Choice(spec.name, spec, int(ss.get(f"{PREFIX}_seed", step.seed)), lam, alpha, 0.0, params, prefix=PREFIX)


def label_words(label: dict, digits: int = 2) -> str:
    return ", ".join(f"{name}: {float(w):.{digits}f}" for name, w in label.items())


@errors_shown("The mix")
def mix_step(step: Step) -> None:
    """The live picture (picture, masks, label; scrubbed in the browser), the maps that guided it (or α's slider
    and the Beta density) beside it, and the slide's label beside ours."""
    ss = st.session_state
    _state_for(step)
    choice = choice_of(step)
    keys, labels = keys_of(step), step.photos
    m = mix(choice, keys, labels, None)
    if m is None:
        return
    classes = m.classes and [f"{label} (“{serving_model().classes[c]}”)" for label, c in zip(labels, m.classes)]
    views = guide_views(m.r, m.x, classes=classes)
    reference = {"name": "slide", "weights": [dict(step.slide).get(str(n), 0.0) for n in m.r.label]} \
        if step.slide else None
    def beta() -> None:  # lecture 001's Beta(α, α), this seed's draw marked
        ss.setdefault(f"{PREFIX}_alpha", step.alpha)
        controls.alpha_slider(PREFIX)
        st.plotly_chart(beta_chart(choice.alpha, m.r.lam, height=260, big=True), key="lec_beta", width="stretch",
                        config={"displayModeBar": False})

    projected(choice, m, views, reference, beside=beta if step.alpha is not None else None)
    compare_label(step, m.r.label)
    if step.note:
        st.caption(step.note)
    ask(choice, m, keys, len(keys))
    controls.photo_credits(keys)


def compare_label(step: Step, label: dict) -> None:
    """The slide's label, ours, and why they differ (one sentence) or that they agree."""
    if not step.slide:
        return
    slide = f"({label_words(dict(step.slide))})"
    if slide_error(step, label) <= TOLERANCE:
        text = f"The slide's label {slide}: the same as ours."
    else:
        why = step.why or (f"its seed was found with EfficientNet-Lite0's maps, and {serving_model().title} "
                           "draws others." if mixviz.METHODS[step.method].needs == "model" else "")
        text = f"The slide's label {slide} differs from ours" + (f": {why}" if why else ".")
    st.markdown(f'<div data-testid="mixviz-slide-label">{text}</div>', unsafe_allow_html=True)


@errors_shown("The two inputs")
def inputs_step(step: Step) -> None:
    """The deck's two photos with their labels, and its formula."""
    keys = keys_of(step)
    st.latex(r"\tilde{x} = \mathbf{B} \odot x_1 + (\mathbf{1} - \mathbf{B}) \odot x_2 \qquad "
             r"\tilde{y} = \lambda y_1 + (1 - \lambda) y_2")
    for i, (col, key, name) in enumerate(zip(st.columns(len(keys)), keys, step.photos)):
        col.image(image(key), caption=f"Image {i + 1}: label {name}", width="stretch", output_format="JPEG")
    if step.note:
        st.caption(step.note)
    controls.photo_credits(keys)


@errors_shown("Xception's layers")
def layers_step(step: Step) -> None:
    """Xception as Keras' model.summary() prints it: the rows the slides show, and the whole table under them."""
    layers = xception_layers()
    rows = summary_rows(layers)
    head, tail = rows[:10], rows[-10:]
    gap = {"Layer (type)": f"… {len(rows) - 20} more layers …", "Output Shape": "", "Param #": "", "Connected to": ""}
    st.table([{**r, "Param #": f"{r['Param #']:,}"} for r in head] + [gap]
             + [{**r, "Param #": f"{r['Param #']:,}"} for r in tail])
    st.caption(" · ".join(f"{k}: {v:,}" for k, v in totals(layers).items()) + ". " + step.note)
    with st.expander(f"All {len(rows)} layers"):
        cam_explorer.table([{**r, "Param #": f"{r['Param #']:,}"} for r in rows], True, key="lec_keras_table")


@errors_shown("The pooling example")
def pooling_step(step: Step) -> None:
    if step.note:
        st.caption(step.note)
    cam_explorer.pooling_view(True, wide=True)


@errors_shown("The CAMs")
def cams_step(step: Step) -> None:
    """The CAM of each of the deck's three classes over a photo, as the CAM Explorer draws it."""
    model, mid = serving_model(), cam_maps.model_id()
    controls.model_notice()
    photos = [f"sample:{p}" for p in samples()]
    st.session_state.setdefault("lec_cam_photo", "sample:boat")
    shown = []
    for col, (name, photo) in zip(st.columns(len(CAMS)), CAMS):
        with col:
            key = f"sample:{photo}" if photo else st.selectbox(
                f"Photo for “{name}”", photos, key="lec_cam_photo", format_func=lambda k: k.removeprefix("sample:"),
                help="no bundled photo shows a mountain bike: the map shows where the network finds the most "
                     "evidence of one in the photo you pick")
            shown.append(key)
            base = cam_maps.base_cam(key, mid)
            result = retarget(model, base, model.classes.index(name))
            p = float(result.logits.softmax(0)[result.class_index])
            panel = map_panel(image(key), result.high, 0.5)
            st.image(panel.picture, width="stretch", caption=f"{name} on the {key.removeprefix('sample:')} photo "
                                                               f"(p = {p:.1%})")
    st.caption(f"CAMs from {model.title}; the deck's are Xception's. " + (step.note or ""))
    controls.photo_credits(tuple(shown))  # the picked photo's credit too


@errors_shown("SaliencyMix against SnapMix")
def compare_step(step: Step) -> None:
    saliency.comparison()
    if step.note:
        st.caption(step.note)


SECTIONS = {  # the steps after the deck: other pages' sections, drawn here as on their page in lecture mode
    "tta-crops": tta.crops_section, "tta-effect": tta.effect_section, "gram": texture.gram_section,
    "synthesis": texture.synthesis_section, "style": texture.style_section, "cue-conflict": texture.cue_conflict_section,
    "memorise": theory.memorise_section, "gradients": theory.gradients_section, "not-run": theory.not_run_section,
}


def section_step(step: Step) -> None:
    """Another page's section (its own link works too), with the lecture file it comes from."""
    st.caption(f"From {step.source}.")
    with errors_shown(step.title):
        SECTIONS[step.section](lecture=True)
