"""Gallery: every method on the same inputs and seed, in a grid like the lecture slides."""
import io
from dataclasses import replace

import streamlit as st
import torch

import mixviz
from mixviz.imaging import to_pil
from mixviz.registry import FAMILIES
from mixviz.viz.slides import gallery_figure
from mixviz.types import MixResult
from ui import store
from ui.maps import maps_for
from ui.sidebar import credit, current

inputs = current()
ss = st.session_state
st.title("Gallery")
st.caption("Every method on the same images and seed, with its label weights (input 1, input 2, …). "
           "Four-input methods use slots 3 and 4 when you choose four slots in the sidebar, else the default photos. "
           "SnapMix, TdAttenMix and Puzzle Mix use each photo's CAM or loss gradient of its own ImageNet class (an "
           "upload's: the network's top prediction); the Mixing Lab names each class and lets you choose another.")


@st.cache_data(max_entries=8, show_spinner="Mixing every method (the guided ones compute their maps once)…")
def gallery(keys: tuple[str, ...], names: tuple[str, ...], seed: int, lam: float | None, alpha: float | None,
            methods: tuple[str, ...]) -> dict[str, MixResult]:
    """Each method's mix of the first n_inputs images, kept light: the image (8-bit, as it is shown), the
    weights and the label only: a cached gallery takes a quarter of the memory float images would."""
    x = store.batch(keys)
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


families = list(FAMILIES)
c1, c2, c3, c4 = st.columns((1, 1, 2, 2), vertical_alignment="bottom")
seed = c1.number_input("Seed", 0, 2**31 - 1, 0, 1, key="gal_seed")
c2.button("Re-roll", key="gal_reroll", icon=":material/casino:",
          on_click=lambda: ss.update(gal_seed=(ss["gal_seed"] + 1) % 2**31))
lam, alpha = None, None  # alpha None: each method draws λ as its authors do (SnapMix: Beta(5, 5))
with c3:
    if st.toggle("Fix λ", value=True, key="gal_fix"):
        lam = st.slider("λ (methods that use one)", 0.0, 1.0, 0.5, 0.01, key="gal_lam")
    elif not st.toggle("Each method's own α", value=True, key="gal_own_alpha",
                       help="on: each method draws λ as its authors' code does (Beta(1, 1) for most, Beta(5, 5) for "
                            "SnapMix; the row and column intervals, BC and TdAttenMix by their own draws); off: one α "
                            "for every method that draws λ from Beta(α, α)"):
        alpha = st.slider("α of Beta(α, α)", 0.1, 5.0, 1.0, 0.1, key="gal_alpha")
with c4:
    shown = st.multiselect("Families", families, default=families, key="gal_families")
    columns = 3 if inputs.lecture else st.slider("Columns", 2, 8, 5, 1, key="gal_columns")

methods = tuple(n for n, s in mixviz.METHODS.items() if s.family in shown)
keys, names = inputs.first(4)
if not methods:
    st.info("Choose at least one family.")
    st.stop()
try:
    results = gallery(keys, names, int(seed), lam, alpha, methods)
except (mixviz.MixError, mixviz.ImageError) as e:
    st.error(str(e))
    st.stop()

for start in range(0, len(methods), columns):
    for col, name in zip(st.columns(columns), methods[start:start + columns]):
        r = results[name]
        weights = ", ".join(f"{w:.2f}" for w in r.weights.tolist())
        col.image(to_pil(r.image.float() / 255), caption=f"{mixviz.METHODS[name].title} · {weights}", width="stretch",
                  output_format="JPEG")

credits = [credit(k) for k in keys]


def gallery_png() -> bytes:
    fig = gallery_figure(torch.empty(0), list(names), seed=int(seed), credits=credits, columns=columns,
                         results={n: replace(r, image=r.image.float() / 255) for n, r in results.items()})
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    return buf.getvalue()


st.download_button("Download the gallery as one PNG", data=gallery_png, file_name="mixviz_gallery.png",
                   mime="image/png", key="gal_download", on_click="ignore")
used = [c for c in dict.fromkeys(credits) if c]
if used:
    st.caption("Photos: " + "; ".join(used))
