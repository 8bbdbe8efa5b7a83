"""Test-time augmentation: AlexNet's ten crops (the four corners and the centre, and their mirror images) of one
photo with the serving model's answer on each and the two ways to average them, then the measured effect of
ten-crop testing on every bundled photo. The maths is in mixviz.tta."""
from __future__ import annotations

import io

import pandas as pd
import streamlit as st

import mixviz
from mixviz import tta
from mixviz.imaging import to_pil
from mixviz.samples import samples
from ui import cam_maps, controls
from ui.errors import errors_shown
from ui.images import credit, image
from ui.models import model as serving_model
from ui.models import own_class
from ui.sidebar import current

HOW = {"centre": "Centre crop alone", "softmax": "Ten crops: mean of the softmaxes (AlexNet)",
       "logit": "Ten crops: softmax of the mean logit"}
# crops per forward pass in the evaluation: one photo's ten. All 210 in one pass raised a process's peak memory from
# 1.0 to 4.0 GB (EfficientNet-Lite0 on the CPU), over deploy/'s 3 GiB per replica; ten at a time, to 1.3 GB
PAGE_BATCH = 10
FORMULA = (r"\bar p = \frac{1}{10}\sum_{i=1}^{10} \operatorname{softmax}(z_i)"
           r"\qquad\qquad \tilde p = \operatorname{softmax}\Big(\frac{1}{10}\sum_{i=1}^{10} z_i\Big)"
           r" \;\propto\; \prod_{i=1}^{10} p_i^{1/10}")


def render() -> None:
    lecture = current().lecture
    if lecture:
        controls.lecture_widgets()
    st.title("Test-time augmentation")
    if not lecture:  # a projector's screen is for the crops
        st.markdown("Augmentation is not only for training: at test time a network can look at several transformed "
                    "copies of one image and average its answers. AlexNet (Krizhevsky, Sutskever & Hinton, NIPS 2012) "
                    "classified each test image from ten crops, and ResNet (He, Zhang, Ren & Sun, CVPR 2016) reports "
                    "its comparisons with the same *standard 10-crop testing*.")
    controls.model_notice()
    crops_section(lecture)
    effect_section(lecture)


def photo(key: str):
    """A bundled photo at its full size (as the evaluation below reads it); an upload as the app keeps it."""
    if key.startswith("sample:"):
        return mixviz.load_image(samples()[key.removeprefix("sample:")].path)
    return image(key)


@st.cache_resource(max_entries=32, show_spinner="Ten crops through the network…")
def ten_crop(key: str, model_id: str, square: bool) -> tta.TenCrop:
    """The ten crops of one image and the serving model's logits on them (shared and read-only)."""
    return tta.ten_crop(serving_model(), photo(key), square)


@st.cache_data(max_entries=32, show_spinner=False)
def crop_pictures(key: str, model_id: str, square: bool) -> list[bytes]:
    """The ten crops as PNG bytes, encoded once."""
    out = []
    for c in ten_crop(key, model_id, square).crops:
        buf = io.BytesIO()
        to_pil(c).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


@st.cache_data(max_entries=4, show_spinner=False)
def evaluation(model_id: str) -> tta.Evaluation:
    """Ten-crop testing against the centre crop on every bundled photo, once per model."""
    return tta.evaluate(serving_model(), batch=PAGE_BATCH)


def guesses_table(guesses: list[tta.Guess], true: int | None) -> pd.DataFrame:
    return pd.DataFrame([{"class": g.name + (" ✓" if g.index == true else ""), "p": f"{g.p:.1%}"} for g in guesses],
                        index=range(1, len(guesses) + 1))


def photo_options(inputs) -> list[str]:
    """The sidebar's filled slots first (slot 1 is the default), then every bundled photo."""
    return list(dict.fromkeys(list(inputs.keys[:inputs.filled]) + [f"sample:{n}" for n in samples()]))


@errors_shown("The ten crops")
def crops_section(lecture: bool = False) -> None:
    inputs = current()
    m = serving_model()
    crop, size = tta.crop_sizes(m)
    options = photo_options(inputs)
    names = dict(zip(inputs.keys, inputs.names))
    if st.session_state.get("tta_photo") not in options:
        st.session_state["tta_photo"] = options[0]
    if lecture:  # one line of text beside the photo's select, so that both rows of crops fit a 1280×720 screen
        words, pick = st.columns((3, 1), vertical_alignment="bottom")
        words.markdown(f"**Ten crops** of {crop}×{crop} px from the photo resized to {size} px on its shorter side: "
                       "four corners and the centre, and the same of its mirror image (AlexNet, NIPS 2012).")
    else:
        st.header("Ten crops of one photo")
        st.markdown(f"The photo's shorter side is resized to **{size} px**; the network sees the four **{crop}×{crop}** "
                    "corners and the centre, and the same five crops of the photo's mirror image. AlexNet did this at "
                    f"256 and 224 px; {m.title} takes {crop} px, and {size} px is the resize timm evaluates its weights "
                    f"with ({crop}/{size} = {crop / size:.3f}" + ("" if size * 7 == crop * 8 else ", AlexNet's 224/256 = 0.875")
                    + "). Elsewhere the app squashes the whole photo to the network's input size.")
        pick, toggle = st.columns((2, 1), vertical_alignment="bottom")
    key = pick.selectbox("Photo", options, key="tta_photo", format_func=lambda k: names.get(k, k.removeprefix("sample:")))
    square = False
    if not lecture:
        square = toggle.toggle("Central square first (AlexNet)", key="tta_square",
                               help=f"AlexNet kept the central {size}×{size} square of the resized photo before "
                                    "cropping; torchvision's and timm's ten crops take the corners of the whole "
                                    "resized photo")
    mid = cam_maps.model_id()
    result = ten_crop(key, mid, square)
    pictures = crop_pictures(key, mid, square)
    true = own_class(key)
    for row in (range(0, 5), range(5, 10)):
        for col, i in zip(st.columns(5), row):
            g = result.crop_top(i, 1)[0]
            col.image(pictures[i], width=190 if lecture else "stretch",  # lecture: both rows on a 720 px screen
                      caption=f"{tta.CROP_NAMES[i]}: {g.name} {g.p:.0%}" + (" ✓" if g.index == true else ""))
    st.caption(f"Top: the crops of the photo; bottom: of its mirror image. Under each crop, {m.title}'s top-1 "
               "and its probability" + (f"; ✓ marks the photo's own class, “{m.classes[true]}”." if true is not None
                                        else ".") + (f" Photo: {credit(key)}" if credit(key) else ""))
    if not lecture:
        with st.expander("The top 5 of each crop"):
            st.table(pd.DataFrame({tta.CROP_NAMES[i]: [f"{g.name} {g.p:.1%}" for g in result.crop_top(i)]
                                   for i in range(10)}, index=range(1, 6)).T)
    st.subheader("Averaging the ten answers")
    for col, how in zip(st.columns(3), HOW):
        col.markdown(f"**{HOW[how]}**")
        col.table(guesses_table(result.top(how), true))
        if true is not None:
            col.caption(f"“{m.classes[true]}” ranks {tta.rank(result.scores(how), true)}.")
    st.latex(FORMULA)
    st.markdown("zᵢ are the logits of crop i and pᵢ = softmax(zᵢ). AlexNet averaged the softmax outputs of the ten "
                "patches, p̄. ResNet says only that it adopts the standard 10-crop testing, citing AlexNet; it names "
                "neither the scale of the crops nor whether probabilities or raw scores are averaged. The mean "
                "logit gives p̃, the normalised geometric mean of the ten probabilities. In p̄ no crop moves a class by "
                "more than a tenth; in p̃ one crop that rules a class out (a very low logit) can sink it.")


@errors_shown("The effect on the bundled photos")
def effect_section(lecture: bool = False) -> None:
    m = serving_model()
    st.header("Does it help? Every bundled photo")
    with st.spinner(f"Ten crops of every bundled photo through {m.title}, one photo per forward pass…"):
        ev = evaluation(cam_maps.model_id())
    n = ev.n
    st.table(pd.DataFrame([{"": HOW[h], "top-1 right": f"{ev.count(h, 1)} / {n}", "top-5 right": f"{ev.count(h, 5)} / {n}"}
                           for h in HOW]).set_index(""))
    fixed = [p.name for p in ev.photos if p.right("softmax") and not p.right("centre")]
    broken = [p.name for p in ev.photos if p.right("centre") and not p.right("softmax")]
    st.markdown(f"Measured now with **{m.title}** (weights: {m.source}) on the {n} bundled photos, each labelled "
                f"with its ImageNet class: crops of {ev.crop} px from the photo resized to {ev.resize} px on its "
                f"shorter side. AlexNet's average of ten crops puts the true class on top for {len(fixed)} "
                f"photo{'s' if len(fixed) != 1 else ''} the centre crop gets wrong ({', '.join(fixed) or 'none'}) and "
                f"loses it for {len(broken)} the centre crop gets right ({', '.join(broken) or 'none'}). {n} photos are "
                f"far too few to measure an accuracy: one photo is {100 / n:.0f} points.")

    def mark(p: tta.PhotoOutcome, how: str) -> str:
        r = getattr(p, f"{how}_rank")
        return "✓" if r == 1 else f"✗ (rank {r})"

    rows = [{"photo": p.name, "class": p.true_class, **{HOW[h]: mark(p, h) for h in HOW}} for p in ev.photos]
    if lecture:
        with st.expander("Photo by photo: is the true class the top-1?"):
            st.table(pd.DataFrame(rows).set_index("photo"))
    else:
        st.markdown("**Photo by photo**: is the photo's class the top-1? (Else where it ranks.)")
        st.table(pd.DataFrame(rows).set_index("photo"))
