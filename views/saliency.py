"""Saliency: four maps of one image side by side, each with its peak (Montabone–Soto fine-grained
saliency, spectral residual, gradient saliency, CAM), then SaliencyMix against SnapMix: how they differ,
and both run live on the first two image slots."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st
import torch

import mixviz
from mixviz.imaging import to_pil
from mixviz.maps.cam import retarget
from mixviz.viz.map_figures import box_of, comparison_rows, draw_box, map_panel
from mixviz.viz.slides import pictures_figure
from ui import cam_maps, controls
from ui.errors import errors_shown
from ui.images import batch, credit, image
from ui.maps import class_note, class_notes, class_picks, guide_map
from ui.models import model as serving_model
from ui.sidebar import Inputs, current

MIX_ALPHA = 0.5  # opacity of the maps drawn under the two methods' boxes
MAPS = {
    "fine": ("Fine-grained saliency", "Montabone & Soto (2010), OpenCV: centre–surround contrast at several scales "
             "on an integral image. No model, no class; what SaliencyMix uses."),
    "spectral": ("Spectral residual", "Hou & Zhang (CVPR 2007), OpenCV: what is left of the log spectrum after "
                 "its local average, back in the image (64×64). No model, no class."),
    "gradient": ("Gradient saliency", "Simonyan et al. (2014): |∂score/∂pixel|, the largest over the colour "
                 "channels, one backward pass through {model} for the chosen class."),
    "cam": ("CAM", "Zhou et al. (CVPR 2016): Σₖ wₖ·Fₖ of {model}'s last {grid} feature map for the chosen class, "
            "upsampled."),
}


def render() -> None:
    inputs = current()
    if inputs.lecture:
        controls.lecture_widgets()
    st.title("Saliency")
    st.caption("Where is the object? Two statistical answers that look only at the pixels, and two learned ones "
               "that ask a trained network about one class.")
    controls.model_notice()
    maps_section(inputs)
    st.header("SaliencyMix vs SnapMix")
    comparison()
    mix_section(inputs)


@st.fragment
@errors_shown("The saliency maps")
def maps_section(inputs: Inputs) -> None:
    """The four maps of one image (a fragment: its widgets rerun only this part of the page)."""
    big = inputs.lecture
    model, mid = serving_model(), cam_maps.model_id()
    row = st.columns((2, 3, 2), gap="medium")
    with row[0]:
        slot = controls.pick_slot(inputs, "sal_image")
    key = inputs.keys[slot]
    base = cam_maps.base_cam(key, mid)
    with row[1]:
        chosen = controls.class_choice("sal", key, base, label="Class (for gradient saliency and CAM)")
    with row[2]:
        alpha = st.slider("Map opacity", 0.0, 1.0, 0.6, 0.05, key="sal_alpha", help="0: the photo, 1: the map alone")
        clip = True if big else st.toggle("Clip the top 1% of gradients", value=True, key="sal_clip",
                                          help="gradient saliency is a few very bright pixels; clipping them shows "
                                               "the rest")
    picture = image(key)
    cam_result = base if chosen == base.class_index else retarget(model, base, chosen)
    grad = cam_maps.gradient(key, chosen, mid)
    values = {"fine": cam_maps.static("fine_grained", key), "spectral": cam_maps.static("spectral_residual", key),
              "gradient": grad.high, "cam": cam_result.high}
    panels = {name: map_panel(picture, v, alpha, quantile=0.99 if (name == "gradient" and clip) else None)
              for name, v in values.items()}
    grid = "×".join(map(str, cam_result.features.shape[1:]))
    learned = f"for “{cam_result.class_name}” ({class_note(key, chosen, base.class_index)}), "
    per_row = 2 if big else 4
    names = list(MAPS)
    captions = {name: f"{MAPS[name][0]}: {learned if name in ('gradient', 'cam') else ''}peak at row "
                      f"{panels[name].peak[0]}, column {panels[name].peak[1]}" for name in names}
    for start in range(0, len(names), per_row):
        for col, name in zip(st.columns(per_row), names[start:start + per_row]):
            col.image(panels[name].picture, width="stretch", caption=captions[name])
            if not big:
                col.caption(MAPS[name][1].format(model=model.title, grid=grid))
    cam_peak = panels["cam"].peak
    peaks = [{"map": MAPS[n][0], "peak row": panels[n].peak[0], "peak column": panels[n].peak[1],
              "distance to the CAM's peak (px)": round(math.dist(panels[n].peak, cam_peak), 1)} for n in names]
    if big:  # an st.table's text follows the lecture CSS (20 px); a dataframe's canvas stays at 0.875rem
        st.table(pd.DataFrame(peaks), hide_index=True)
    else:
        st.dataframe(peaks, hide_index=True, key="sal_peaks")
    st.caption(f"Gradient saliency and CAM explain “{cam_result.class_name}” (class {chosen}). Image "
               f"{picture.size[0]}×{picture.size[1]} px." + (f" Photo: {credit(key)}" if credit(key) else ""))
    controls.png_download("Download these maps as PNG", lambda: pictures_figure(
        [(captions[n], panels[n].picture) for n in names], f"Four saliency maps, their peaks marked (gradient "
        f"saliency and CAM on {model.title})", "Photo: " + credit(key) if credit(key) else "", columns=per_row),
        "mixviz_saliency.png", "sal_download")


@errors_shown("The comparison")
def comparison(details: bool = True) -> None:
    """SaliencyMix and SnapMix side by side: the lecture deck's four rows in short cells (they fit a
    projector's screen), and under them, in an expander, the same rows explained (`details`). It needs
    nothing from its page, so another page can draw it too."""
    model = serving_model()
    grid = next(r["output_shape"][1:] for r in cam_maps.layers(cam_maps.model_id()) if r["cam"])
    facts = (model.title, model.recipe.size, grid)
    with st.container(key="sal_compare"):
        st.table(pd.DataFrame(comparison_rows(*facts, short=True, classes=len(model.classes))).set_index(""))
    if details:
        with st.expander("How they differ, in detail"):
            st.table(pd.DataFrame(comparison_rows(*facts)).set_index(""))


@st.fragment
@errors_shown("SaliencyMix and SnapMix on this pair")
def mix_section(inputs: Inputs) -> None:
    """Both methods on slots 1 and 2 (a fragment: λ and the seed rerun only this part of the page)."""
    big = inputs.lecture
    keys, labels = inputs.first(2)
    st.subheader(f"Both on slot 1 ({labels[0]}) and slot 2 ({labels[1]})")
    settings = st.columns(2)
    with settings[0]:
        lam = controls.lam_slider("sal", "λ (share of the first image)", 0.6)
    if big:
        seed = 0
    else:
        with settings[1]:
            seed = controls.seed("sal", "Seed (SnapMix's box positions)", reroll=False)
    x = batch(keys)
    size = tuple(x.shape[2:])
    classes = class_picks(keys, labels, size, "sal_mix", show=not big, side_by_side=True)  # of each SPM
    notes = class_notes(keys, classes, size)
    saliency = torch.stack([guide_map("saliency", k, size, None, (("kind", "fine_grained"), ("encoding", "uint8"))) for k in keys])
    with st.spinner("Computing the semantic percent maps (once per image)…"):
        spm = torch.stack([guide_map("semantic_percent", k, size, c) for k, c in zip(keys, classes)])
    smix = mixviz.mix("saliencymix", x, labels=list(labels), seed=seed, lam=lam, maps=saliency, device="cpu")
    snap = mixviz.mix("snapmix", x, labels=list(labels), seed=seed, lam=lam, maps=spm, device="cpu")

    st.markdown("**SaliencyMix**: the box is centred on the peak of the second image's fine-grained saliency "
                "and pasted at the same place in the first; the label is the pasted area.")
    cols = st.columns((1, 1, 1, 0.8))
    box = box_of(smix.info)
    src = map_panel(x[1], saliency[1], MIX_ALPHA)
    cols[0].image(draw_box(src.picture, box), width="stretch",
                  caption=f"slot 2 ({labels[1]}): saliency, its peak {tuple(smix.info['peak'])}, the box")
    cols[1].image(draw_box(to_pil(x[0]), box), width="stretch", caption=f"slot 1 ({labels[0]}): where it lands")
    cols[2].image(draw_box(to_pil(smix.image), box), width="stretch", caption="SaliencyMix")
    with cols[3]:
        st.metric("λ drawn", f"{smix.lam:.3f}")
        st.metric("λ′ after clipping the box", f"{smix.info['lam_corrected']:.3f}")
        st.caption("label: " + ", ".join(f"{n} {v:.3f}" for n, v in smix.label.items()))

    st.markdown("**SnapMix**: random boxes; a box of the second image is resized into a box of the first, and each "
                "label weight is the share of that image's semantic percent map (its CAM) in the mix.")
    cols = st.columns((1, 1, 1, 0.8))
    box_a, box_b = box_of(snap.info), box_of(snap.info, "_src")
    target = map_panel(x[0], spm[0], MIX_ALPHA)
    source = map_panel(x[1], spm[1], MIX_ALPHA)
    cols[0].image(draw_box(target.picture, box_a), width="stretch",
                  caption=f"slot 1 ({labels[0]}): its SPM, the CAM for {notes[0]}, loses "
                          f"{1 - snap.info['rho_a']:.1%} under the box")
    cols[1].image(draw_box(source.picture, box_b), width="stretch",
                  caption=f"slot 2 ({labels[1]}): its SPM, the CAM for {notes[1]}, inside the box: "
                          f"{snap.info['rho_b']:.1%}")
    cols[2].image(draw_box(to_pil(snap.image), box_a), width="stretch", caption="SnapMix")
    with cols[3]:
        st.metric("ρa (slot 1)", f"{snap.info['rho_a']:.3f}")
        st.metric("ρb (slot 2)", f"{snap.info['rho_b']:.3f}")
        st.metric("ρa + ρb", f"{snap.info['weights_sum']:.3f}", help="SnapMix's weights need not sum to 1")
    controls.photo_credits(keys)
