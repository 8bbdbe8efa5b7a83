"""Mixing Lab: choose a method, move λ and its parameters, see the mix, the masks, the label, the maps
that guided it and what a pretrained network makes of it."""
import io

import streamlit as st
from PIL import ImageOps

import mixviz
from mixviz.maps.cam import network_view
from mixviz.viz.charts import beta_chart, label_chart
from mixviz.viz.guides import guide_views
from mixviz.imaging import shade, to_pil
from mixviz.labels import smooth_label
from mixviz.registry import FAMILIES
from mixviz.viz.slides import code_snippet, formula_lines, lam_caption, method_figure
from ui import store
from ui.maps import class_notes, class_picks, maps_for
from ui.params import param_widgets
from ui.sidebar import credit, current

NUM_CLASSES = 1000  # label smoothing spreads ε over the ImageNet classes the models know

inputs = current()
ss = st.session_state


def framed(mask):
    """A mask as a picture with a grey frame, so that its white parts stand out from the page."""
    return ImageOps.expand(to_pil(mask), border=2, fill=128)

st.title("Mixing Lab")

asked = st.query_params.get("method")  # a link such as ?method=cutmix opens that method
if asked in mixviz.METHODS and ss.get("lab_asked") != asked:
    ss["lab_family"], ss["lab_method"], ss["lab_asked"] = mixviz.METHODS[asked].family, asked, asked

controls, view = st.columns((1, 3), gap="large")
with controls:
    family = st.selectbox("Family", list(FAMILIES), format_func=FAMILIES.get, key="lab_family")
    names = [n for n, s in mixviz.METHODS.items() if s.family == family]
    if ss.get("lab_method") not in names:
        ss["lab_method"] = names[0]
    method = st.selectbox("Method", names, format_func=lambda n: mixviz.METHODS[n].title, key="lab_method")
    spec = mixviz.METHODS[method]
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, 1, key="lab_seed")
    st.button("Re-roll", key="lab_reroll", icon=":material/casino:", width="stretch",
              on_click=lambda: ss.update(lab_seed=(ss["lab_seed"] + 1) % 2**31))
    lam, alpha = None, None  # alpha None: the method's own default (its authors' α)
    if spec.uses_lam:
        drawn_as = ("draw λ from Beta(α, α) with the seed" if spec.alpha is not None
                    else f"draw with the seed as the authors do: {spec.lam_draw}")
        if st.toggle("Fix λ", value=True, key="lab_fix", help=f"off: {drawn_as}"):
            lam = st.slider("λ", 0.0, 1.0, 0.5, 0.01, key="lab_lam")
        elif spec.alpha is None:
            st.caption(f"No α here: {spec.lam_draw}.")
        else:
            kept = f"lab_alpha_of_{method}"  # each method's α starts at its authors' value and is kept per method
            if ss.get("lab_alpha_method") != method or "lab_alpha" not in ss:
                ss["lab_alpha"], ss["lab_alpha_method"] = ss.get(kept, float(spec.alpha)), method
            alpha = ss[kept] = st.slider("α of Beta(α, α)", 0.1, 5.0, step=0.1, key="lab_alpha",
                                         help=f"{spec.title}'s authors use α = {spec.alpha:g}")
    eps = 0.0 if inputs.lecture else st.slider("Label smoothing ε", 0.0, 0.3, 0.0, 0.01, key="lab_eps",
                                               help=f"(1 − ε)·y + ε/K over K = {NUM_CLASSES} classes")
    if spec.params:
        with st.expander("Method parameters", expanded=not inputs.lecture):
            params = param_widgets(spec, prefix="lab")
    else:
        params = {}

k = spec.n_inputs
keys, labels = inputs.first(k)
try:
    x = store.batch(keys)
    size = tuple(x.shape[2:])
    with controls:  # the ImageNet class of each input's CAM or loss gradient (for methods whose maps have one)
        classes = class_picks(keys, labels, size, "lab", method=method)
    with st.spinner("Computing the maps that guide this method (once per image)…"):
        maps = maps_for(method, keys, size, params, classes)
    r = mixviz.mix(method, x, labels=list(labels), seed=int(seed), lam=lam, alpha=alpha, maps=maps, **params)
except (mixviz.MixError, mixviz.ImageError) as e:
    view.error(str(e))
    st.stop()

with view:
    st.subheader(spec.title)
    st.caption(f"{spec.summary}  \n*{spec.paper}*")
    st.latex(formula_lines(spec.formula))
    if k > inputs.filled:
        st.info(f"{spec.title} mixes {k} images: slots 3 and 4 hold the default photos. Choose 4 image slots in "
                "the sidebar to pick them.")
    if spec.needs == "model" and store.model().notice:
        st.info(store.model().notice)
    if "note" in r.info:
        st.warning(r.info["note"])
    top = st.columns([1] * k + [2])
    for i in range(k):
        top[i].image(to_pil(shade(x[i], r.used[i])), caption=f"input {i + 1}: {labels[i]} (dark: not used)",
                     width="stretch", output_format="JPEG")
    lams = lam_caption(r)
    top[k].image(to_pil(r.image), caption=f"mixed image ({lams})" if lams else "mixed image", width="stretch",
                 output_format="JPEG")
    bottom = st.columns([1] * k + [2])
    for i in range(k):
        bottom[i].image(framed(r.masks[i]), caption=f"mask {i + 1}: mean {float(r.masks[i].mean()):.3f}",
                        width="stretch", output_format="JPEG")
    with bottom[k]:
        label, other = (smooth_label(r.label, eps, NUM_CLASSES) if eps else (r.label, None))
        st.plotly_chart(label_chart(label, other, union=r.label_rule == "union"), key="lab_label_chart",
                        width="stretch")
        if r.label_rule == "semantic":
            st.caption("Each weight is the share of that image's class activation that the mix keeps, so the two "
                       "need not sum to 1. Where both images share a class, the authors give each partial label "
                       "ρa + ρb and add the two losses, so that class carries 2(ρa + ρb), which can exceed 1.")
        corrected = r.lam_corrected
        if spec.uses_lam and lam is None and spec.alpha is not None:
            st.plotly_chart(beta_chart(alpha, r.lam, corrected), key="lab_beta_chart", width="stretch")
        elif spec.uses_lam and lam is not None:
            st.markdown(f"λ fixed at **{lam:.2f}**" + (f"; corrected λ (the label's share) **{corrected:.3f}**"
                                                        if corrected is not None else ""))

    views = guide_views(r, x, classes=classes and class_notes(keys, classes, size))
    if views:
        st.markdown("**The maps that guided this mix**")
        for col, (caption, img) in zip(st.columns(len(views)), views):
            col.image(img, caption=caption, width="stretch", output_format="JPEG")

    if st.toggle("What the network sees", value=False, key="lab_network",
                 help="the pretrained model's prediction on the mixed image next to the label the method assigned "
                      "(one forward pass per change: 20–200 ms, by model)"):
        model = store.model()
        seen = network_view(model, r, x, input_classes=classes or [store.default_class(key, size) for key in keys])
        rows = [{"input": str(v.label), "stands for class": v.class_name, "label weight": round(v.label_weight, 3),
                 "network's probability": round(v.predicted, 3)} for v in seen.inputs]
        st.dataframe(rows, hide_index=True)
        st.caption(f"{model.title}'s top-5 on the mix: "
                   + ", ".join(f"{p.name} {p.probability:.2f}" for p in seen.topk)
                   + f". KL(label ‖ prediction) = {seen.divergence:.2f} nats: the larger, the more the picture and "
                     "its label disagree.")

    credits = [credit(key) for key in keys]
    paths = [str(store.sample_path(key)) if key.startswith("sample:") else ss["upload_files"][key] for key in keys]

    def panel_png() -> bytes:
        fig = method_figure(r, x.cpu(), list(labels), credits)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150)
        return buf.getvalue()

    st.download_button("Download this panel as PNG", data=panel_png, file_name=f"{method}.png", mime="image/png",
                       key="lab_download", on_click="ignore")
    if not inputs.lecture:
        with st.expander("Code that makes this picture"):
            st.code(code_snippet(method, paths, int(seed), lam, alpha, params, eps, NUM_CLASSES, image_size=size,
                                 max_side=store.MAX_SIDE, classes=classes), language="python")
        with st.expander("Drawn parameters"):
            st.json({key: v for key, v in r.info.items() if isinstance(v, (int, float, str, bool, list, tuple))
                     and not (isinstance(v, list) and v and not isinstance(v[0], (int, float)))})
    shown = [c for c in credits if c]
    if shown:
        st.caption("Photos: " + "; ".join(dict.fromkeys(shown)))
