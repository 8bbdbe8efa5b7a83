"""Mixing Lab: choose a method and images, move the sliders, see the mix, its masks and its label."""
import streamlit as st
from PIL import ImageOps

import mixviz
from mixviz.imaging import fit_within, load_image, to_batch, to_pil
from mixviz.render import formula_lines
from mixviz.samples import samples

MAX_SIDE = 384
DEFAULTS = ("cat", "dog", "panda", "koala")


@st.cache_data(max_entries=64, show_spinner=False)
def sample_image(name: str):
    return fit_within(load_image(samples()[name].path), MAX_SIDE)


@st.cache_data(max_entries=32, show_spinner=False)
def uploaded_image(data: bytes):
    return fit_within(load_image(data), MAX_SIDE)


st.title("Mixing Lab")
names = list(mixviz.METHODS)
asked = st.query_params.get("method", "mixup")  # ?method=cutmix links straight to a method
method = st.selectbox("Method", names, index=names.index(asked) if asked in names else 0,
                      format_func=lambda n: mixviz.METHODS[n].title)
spec = mixviz.METHODS[method]
st.caption(f"{spec.summary}  \n*{spec.paper}*")
st.latex(formula_lines(spec.formula))
if spec.needs == "model":
    model = mixviz.load_model()  # built once per process and reused
    if model.notice:
        st.info(model.notice)
    else:
        st.caption(f"Maps from {model.title} (weights: {model.source}).")

photo_names = list(samples())
cols = st.columns(spec.n_inputs)
chosen = [c.selectbox(f"Image {i + 1}", photo_names, index=photo_names.index(DEFAULTS[i]), key=f"img{i}")
          for i, c in enumerate(cols)]
uploads = st.file_uploader("…or upload your own (they replace the images above in order)",
                           type=None, accept_multiple_files=True)

images = [sample_image(name) for name in chosen]
labels = list(chosen)
for i, up in enumerate((uploads or [])[: spec.n_inputs]):
    try:
        images[i] = uploaded_image(up.getvalue())
        labels[i] = up.name.rsplit(".", 1)[0]
    except mixviz.ImageError as e:
        st.error(f"{up.name}: {e}. Image {i + 1} stays {labels[i]}.")

with st.sidebar:
    seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1)
    lam = alpha = None
    if spec.uses_lam:
        fixed = st.toggle("Fix λ", value=True)
        if fixed:
            lam = st.slider("λ", 0.0, 1.0, 0.5, 0.01)
        else:
            alpha = st.slider("α of Beta(α, α)", 0.1, 5.0, 1.0, 0.1)
    params = {}
    for p in spec.params:
        key = f"{method}.{p.name}"
        if p.kind == "choice":
            params[p.name] = st.selectbox(p.name, p.choices, index=p.choices.index(p.default), help=p.help, key=key)
        elif p.kind == "bool":
            params[p.name] = st.toggle(p.name, value=p.default, help=p.help, key=key)
        elif p.kind == "int":
            params[p.name] = st.slider(p.name, int(p.min), int(p.max), int(p.default), int(p.step or 1),
                                       help=p.help, key=key)
        else:
            params[p.name] = st.slider(p.name, float(p.min), float(p.max), float(p.default), float(p.step),
                                       help=p.help, key=key)

inputs = to_batch(images)  # the common size: each image covers the first one's size, centre-cropped
try:
    r = mixviz.mix(method, inputs, labels=labels, seed=int(seed), lam=lam, alpha=alpha or 1.0, device="cpu", **params)
except (mixviz.MixError, mixviz.ImageError) as e:
    st.error(str(e))
    st.stop()

k = len(images)
top = st.columns(k + 1)
for i in range(k):
    top[i].image(to_pil(inputs[i]), caption=f"input {i + 1}: {labels[i]}", width="stretch")
top[k].image(to_pil(r.image), caption="mixed image", width="stretch")
bottom = st.columns(k + 1)
for i in range(k):
    framed = ImageOps.expand(to_pil(r.masks[i]), border=2, fill=128)  # white mask parts stay visible on the page
    bottom[i].image(framed, caption=f"mask {i + 1}: mean {float(r.masks[i].mean()):.3f}, "
                                    f"label weight {float(r.weights[i]):.3f}", width="stretch")
with bottom[k]:
    st.bar_chart({"label weight": r.label}, horizontal=True, height=160)
    if r.lam is not None:
        st.metric("λ (fixed)" if lam is not None else "λ drawn from Beta(α, α)", f"{r.lam:.3f}")
    if "lam_corrected" in r.info:
        st.metric("λ after correction (actual share)", f"{r.info['lam_corrected']:.3f}")
with st.expander("Drawn parameters"):
    st.json({key: v for key, v in r.info.items() if key != "raw"})
st.caption("Photos: " + "; ".join(samples()[n].attribution for n in chosen if n in labels))
