"""CAM Explorer: the serving model's top-5 on one image, the class activation map of any class over the
photo, how the CAM is built (low-resolution map, strongest channels, global average pooling to the
logit), the network's layer table, and pooling, from a 4×4 matrix to the real final feature map."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from mixviz.maps.cam import CamResult, retarget
from mixviz.maps.keras_summary import summary_rows, totals, xception_layers
from mixviz.maps.network import shape_text, total_params
from mixviz.maps.pooling import pool2d
from mixviz.viz.slides import pictures_figure
from mixviz.viz.map_figures import (channels_figure, global_pool_figure, global_pool_predictions, logit_parts, map_figure,
                                    map_panel, number, pooling_figure, strongest_channels, terms_figure,
                                    topk_figure, window_text)
from ui import cam_maps, controls
from ui.errors import errors_shown
from ui.images import credit, image
from ui.maps import class_note
from ui.models import model as serving_model
from ui.sidebar import Inputs, current

SEED_MATRIX = [[7, 9, 10, 4], [9, 10, 3, 9], [6, 2, 0, 3], [2, 0, 0, 1]]  # the lecture's 4×4 example
COLUMNS = ["col 1", "col 2", "col 3", "col 4"]
INTRO = ("Class activation mapping (Zhou et al., CVPR 2016): in a network that ends in global average pooling and one "
         "dense layer, the class score is the average of a map, Σₖ wₖ·Fₖ, and that map shows where the class is.")
LECTURE_TABLE = 480  # px: the height of a long table in lecture mode (it scrolls inside)
# plotly's bar offers one button: the chart as a PNG (twice the screen's resolution)
CHART = {"displaylogo": False, "modeBarButtons": [["toImage"]], "toImageButtonOptions": {"format": "png", "scale": 2}}


def render() -> None:
    inputs = current()
    big = inputs.lecture
    if big:
        controls.lecture_widgets()
    st.title("CAM Explorer")
    if not big:
        st.caption(INTRO)
    controls.model_notice()
    result = the_cam(inputs, big)
    if big:  # under the CAM: above it, its three lines would push the class picker off a 720 px high screen
        st.caption(INTRO)
    if result is not None:
        how_it_is_built(result, big)
    layer_table(big)
    st.header("Pooling")
    pooling_view(big)
    if result is not None:
        global_pooling(result, big)


@errors_shown("The CAM")
def the_cam(inputs: Inputs, big: bool) -> CamResult:
    """The image and class pickers, the network's top 5, and the CAM over the photo."""
    model, mid = serving_model(), cam_maps.model_id()
    top = st.columns((3, 2), gap="large")
    with top[1]:
        slot = controls.pick_slot(inputs, "cam_image")
        key = inputs.keys[slot]
        base = cam_maps.base_cam(key, mid)
        chosen = controls.class_choice("cam", key, base, horizontal=not big, label="Class (any ImageNet class)")
        st.plotly_chart(topk_figure(base.topk, chosen, big), key="cam_topk", width="stretch", config=CHART)
    result = base if chosen == base.class_index else retarget(model, base, chosen)
    prob = float(result.logits.softmax(0)[chosen])
    with top[0]:
        overlay_view(key, result, prob, class_note(key, chosen, base.class_index))
    return result


@st.fragment
@errors_shown("The CAM overlay")
def overlay_view(key: str, result: CamResult, prob: float, note: str) -> None:
    """The CAM over the photo and its opacity slider (a fragment: the slider reruns only this)."""
    alpha = st.slider("CAM opacity", 0.0, 1.0, 0.5, 0.05, key="cam_alpha", help="0: the photo, 1: the map alone")
    panel = map_panel(image(key), result.high, alpha)
    caption = (f"CAM of “{result.class_name}” (class {result.class_index}, p = {prob:.1%}; {note}) at opacity "
               f"{alpha:.2f}; peak at row {panel.peak[0]}, column {panel.peak[1]}")
    st.image(panel.picture, width="stretch", caption=caption)
    controls.photo_credits((key,))
    controls.png_download("Download this CAM as PNG", lambda: pictures_figure(
        [(caption, panel.picture)], f"CAM on {serving_model().title} (Zhou et al., CVPR 2016)",
        "Photo: " + credit(key) if credit(key) else "", columns=1), "mixviz_cam.png", "cam_download")


@errors_shown("How the CAM is built")
def how_it_is_built(result: CamResult, big: bool) -> None:
    model = serving_model()
    c, h, w = result.features.shape
    st.header("How the CAM is built")
    st.markdown(f"{model.title}'s last feature map F has **{c} channels of {h}×{w}**. The dense layer gives "
                f"class “{result.class_name}” one weight wₖ per channel; the CAM is Σₖ wₖ·Fₖ, a {h}×{w} map, "
                "upsampled to the photo above.")
    cols = st.columns(2, gap="large")
    cols[0].plotly_chart(map_figure(result.low, f"M = Σₖ wₖ·Fₖ ({h}×{w})", big, annotate=h * w <= 196),
                         key="cam_low", width="stretch", config=CHART)
    parts = logit_parts(result)
    with cols[1]:
        st.markdown("**Global average pooling to the logit**")
        st.latex(r"\begin{aligned} y_c &= \sum_k w_k \cdot \underbrace{\tfrac{1}{hw}\textstyle\sum_{i,j} "
                 r"F_k(i,j)}_{\text{GAP of channel } k} + b_c \\[6pt] "
                 r"&= \tfrac{1}{hw}\textstyle\sum_{i,j} M_c(i,j) + b_c"
                 rf" \\[6pt] &= {parts.map_mean:.3f} {'+' if parts.bias >= 0 else '-'} {abs(parts.bias):.3f} "
                 rf"= {parts.map_mean + parts.bias:.3f} \end{{aligned}}")
        st.caption(f"The network's logit for “{result.class_name}”: {parts.logit:.3f}. The {c} channel terms "
                   f"wₖ·mean(Fₖ) sum to {parts.terms_sum:.3f}, the mean of the map M; the bias is "
                   f"{parts.bias:.3f}.")
    st.markdown(f"**The strongest channels**: the maps wₖ·Fₖ that add most to “{result.class_name}” "
                "(red adds, blue subtracts); the CAM is their sum over all channels.")
    n = 3 if big else st.slider("Channels shown", 1, 12, 6, 1, key="cam_channels",
                                help="the channels k with the largest wₖ·mean(Fₖ)")
    strongest = strongest_channels(result, model, n)
    st.plotly_chart(channels_figure(result, model, strongest, big), key="cam_strongest", width="stretch",
                    config=CHART)
    with st.expander("All channel terms wₖ·mean(Fₖ)", expanded=not big):
        st.plotly_chart(terms_figure(result, 15, big), key="cam_terms", width="stretch", config=CHART)
        table([{"channel": ch.index, "wₖ": round(ch.weight, 4), "mean Fₖ": round(ch.mean, 4),
                "wₖ · mean Fₖ": round(ch.term, 4)} for ch in strongest_channels(result, model, 15)],
              big, key="cam_terms_table")


@errors_shown("The layer table")
def layer_table(big: bool) -> None:
    model = serving_model()
    st.header("Layers")
    with st.expander(f"{model.title}, layer by layer (like Keras' model.summary())", expanded=not big):
        rows = cam_maps.layers(cam_maps.model_id())
        table([{"layer": r["layer"] + ("  ← CAM features" if r["cam"] else ""), "type": r["type"],
                "output shape": shape_text(r["output_shape"]), "parameters": f"{r['params']:,}"} for r in rows],
              big, key="cam_layer_table", width="stretch", height=min(36 * (len(rows) + 1) + 3, 600))
        st.caption(f"Total parameters: {total_params(model.net):,}. Shapes are PyTorch's channels × height × width "
                   f"(Keras prints height × width × channels) for one {model.recipe.size}×{model.recipe.size} image.")
    with st.expander("Xception as Keras prints it (model.summary(), from the architecture: no weights needed)",
                     expanded=False):
        layers = xception_layers()
        rows = summary_rows(layers)
        table([{**r, "Param #": f"{r['Param #']:,}"} for r in rows] if big else rows, big, key="cam_keras_table",
              width="stretch", height=min(36 * (len(layers) + 1) + 3, 600),
              column_config={"Param #": st.column_config.NumberColumn("Param #", format="%d")})
        st.caption(" · ".join(f"{k}: {v:,}" for k, v in totals(layers).items()) + ". Keras cuts the first column "
                   "at 31 characters, counts 4 parameters per channel for BatchNormalization (γ and β, which train, "
                   "and the two moving statistics, which do not) and names the residual branches' layers "
                   "conv2d, batch_normalization and add in order.")


def table(rows: list[dict], big: bool, key: str, height: int | None = None, **kw) -> None:
    """A read-only table: an interactive st.dataframe, or in lecture mode an st.table, whose text the lecture
    CSS sets at 20 px (a dataframe draws on a canvas at 0.875rem, out of CSS's reach); a long one scrolls in
    a box that fits a 720 px high screen."""
    if big:
        st.table(pd.DataFrame(rows), hide_index=True, height=LECTURE_TABLE if len(rows) > 10 else "content")
    else:
        st.dataframe(rows, hide_index=True, key=key, height=height or "auto", **kw)


def rows_text(out) -> str:
    return "[" + ", ".join("[" + ", ".join(number(v) for v in row) + "]" for row in out) + "]"


@st.fragment
@errors_shown("The pooling illustration")
def pooling_view(big: bool, wide: bool = False) -> None:
    """The seed's matrix, editable, pooled 2×2 (a fragment: editing reruns only this). In lecture mode the
    editor and the window picker share a row and the figure takes the whole width under them: beside the
    sidebar at 1280×720 (a main column of 780 px) a column is too narrow for both the editor's four columns
    and the figure's cells for "8.75". `wide`: the section has the whole width of a 1280 px screen (a page
    without the sidebar, as the Lecture's), where the editor and the figure fit side by side in lecture mode too."""
    if big and not wide:
        left, right = st.columns((5, 4), gap="medium")
        figure_slot = st.container()
    else:
        left, figure_slot = st.columns((2, 3), gap="large")
        right = left
    with left:
        st.markdown("The seed's 4×4 matrix (edit any cell):")
        values = matrix_editor(big)
    with right:
        cells = ["all"] + [f"({r + 1}, {c + 1})" for r in range(2) for c in range(2)]
        pick = st.radio("Highlight the window of output cell", range(len(cells)), key="cam_window",
                        format_func=cells.__getitem__, horizontal=True)
    maxp, avgp = pool2d(values, "max", 2, 2), pool2d(values, "avg", 2, 2)
    selected = None if pick == 0 else divmod(pick - 1, 2)
    with figure_slot:
        st.plotly_chart(pooling_figure(values, {"max pool 2×2, stride 2": maxp, "avg pool 2×2, stride 2": avgp},
                                       selected, big), key="cam_pool", width="stretch", config=CHART)
    st.markdown(f"Max pooling → `{rows_text(maxp.output)}`, average pooling → `{rows_text(avgp.output)}`")
    if selected is not None:
        r, c = selected
        st.markdown(f"Window of output ({r + 1}, {c + 1}): "
                    f"max pooling `{window_text(values, maxp, 'max', r, c)}`, "
                    f"average pooling `{window_text(values, avgp, 'avg', r, c)}`")


# The editor draws on a canvas with streamlit's small font, 0.875rem (17.5 px in lecture mode), which no CSS
# rule reaches; zooming the element by 8/7 draws it at 20 px, the root font of lecture mode.
EDITOR_ZOOM = "<style>.st-key-cam_matrix [data-testid='stDataFrame'] { zoom: 1.142857; }</style>"


def matrix_editor(big: bool):
    """The 4×4 matrix as an editable table; its values as a float array (empty cells count as 0). Sized to
    its four columns, never wider than its column of the page."""
    if big:
        st.html(EDITOR_ZOOM)
    edited = st.data_editor(pd.DataFrame(SEED_MATRIX, columns=COLUMNS, dtype=float), key="cam_matrix",
                            hide_index=True, num_rows="fixed", width="content",
                            column_config={c: st.column_config.NumberColumn(c, format="%g") for c in COLUMNS})
    values = edited.to_numpy(dtype=float, copy=True)
    if pd.isna(values).any():
        st.warning("Empty cells count as 0.")
        values = pd.DataFrame(values).fillna(0).to_numpy(copy=True)
    return values


@errors_shown("Global pooling")
def global_pooling(result: CamResult, big: bool) -> None:
    model = serving_model()
    c, h, w = result.features.shape
    st.subheader(f"Global average vs global max pooling of the real {c}×{h}×{w} feature map")
    strongest = strongest_channels(result, model, 5 if big else 10)
    st.plotly_chart(global_pool_figure(result.features, [ch.index for ch in strongest], big), key="cam_global",
                    width="stretch", config=CHART)
    heads = global_pool_predictions(model, result.features)
    avg, mx = heads["average"][0], heads["max"][0]
    st.caption(f"Each {h}×{w} channel becomes one number: its mean (GAP, what {model.title} was trained with) or "
               f"its largest value (GMP); shown for the channels that add most to “{result.class_name}”. "
               f"Fed the GAP vector, the dense layer predicts “{avg.name}” ({avg.probability:.0%}); fed the GMP "
               f"vector instead, it would predict “{mx.name}” ({mx.probability:.0%})."
               + (" The activations end in ReLU6, so no maximum exceeds 6 and many are exactly 6."
                  if float(result.features.max()) == 6.0 else ""))
