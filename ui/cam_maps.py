"""Cached per-image maps for the CAM Explorer and Saliency pages. Keys name content ("sample:cat",
"upload:<sha1>"), and every function also takes the serving model's id, so a cached map is reused
by every rerun (a slider move never repeats a forward or backward pass) and never outlives its model."""
from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st

from mixviz.maps.cam import CamResult, cam
from mixviz.imaging import image_size
from mixviz.maps.network import layer_table
from mixviz.maps.saliency import GradientSaliency, gradient_saliency
from mixviz.types import ImageError, MixError

from . import store
from .maps import guide_map


def model_id() -> str:
    m = store.model()
    return f"{m.name}|{m.source}"


def size_of(key: str) -> tuple[int, int]:
    """(H, W) of the image of `key` as the app shows it."""
    return image_size(store.image(key))


@st.cache_data(max_entries=64, show_spinner="Running the network on this image…")
def base_cam(key: str, model: str) -> CamResult:
    """CAM of the top prediction, with the features and logits that any other class's CAM reuses
    (mixviz.maps.cam.retarget)."""
    return cam(store.model(), store.image(key))


@st.cache_data(max_entries=64, show_spinner="Back-propagating to the pixels…")
def gradient(key: str, class_index: int, model: str) -> GradientSaliency:
    """Simonyan et al.'s gradient saliency of `class_index` for the image of `key`."""
    return gradient_saliency(store.model(), store.image(key), class_index)


@st.cache_data(max_entries=4, show_spinner="Tracing the layers…")
def layers(model: str) -> list[dict]:
    """The model's layer table (one dummy forward pass per model)."""
    return layer_table(store.model())


def static(kind: str, key: str):
    """(H, W) OpenCV static saliency ("fine_grained" or "spectral_residual") at the image's own size,
    from ui.maps.guide_map's cache (which SaliencyMix shares)."""
    return guide_map(f"saliency:{kind}", key, size_of(key))


@contextmanager
def errors_shown(what: str):
    """Run a section of a page; a MixError or ImageError becomes an st.error with its message, and any
    other failure an st.error too (its traceback goes to the server log, never to the page)."""
    try:
        yield
    except (MixError, ImageError) as e:
        st.error(f"{what}: {e}")
    except Exception as e:  # noqa: BLE001 - a page must never show a traceback
        logging.getLogger("mixviz.app").exception("%s failed", what)
        st.error(f"{what} could not be drawn ({type(e).__name__}: {e}).")


def class_choice(prefix: str, key: str, base: CamResult, horizontal: bool = True,
                 label: str = "Class") -> int:
    """The class a page's class maps are for: a searchable select of every ImageNet class (widget
    f"{prefix}_class") that starts at the photo's own class (an upload's: the top prediction, `base`'s
    class) and starts there again when the image changes, with the network's top 5 as a radio of
    shortcuts (f"{prefix}_rank", empty while the class is outside them)."""
    ss = st.session_state
    classes = store.model().classes
    choice, rank, owner = f"{prefix}_class", f"{prefix}_rank", f"{prefix}_class_image"
    if choice not in ss or ss.get(owner) != key:
        own = store.own_class(key)
        ss[choice], ss[owner] = (base.class_index if own is None else own), key
    top = [p.index for p in base.topk]
    ss[rank] = top.index(ss[choice]) if ss[choice] in top else None

    def shortcut():
        if ss[rank] is not None:
            ss[choice] = top[ss[rank]]

    st.radio(f"The network's top {len(top)}", range(len(top)), key=rank, horizontal=horizontal, on_change=shortcut,
             format_func=lambda i: f"{base.topk[i].name} ({base.topk[i].probability:.0%})")
    return st.selectbox(label, range(len(classes)), key=choice, format_func=lambda c: f"{classes[c]} ({c})",
                        help="any ImageNet class; it starts at " + ("the photo's own class" if store.own_class(key)
                             is not None else "the network's top prediction, since an upload has no label"))


def pick_slot(inputs, key: str, label: str = "Image", on_change=None) -> int:
    """A select of the sidebar's filled slots (0-based index); a slot that was emptied falls back to 1.
    The value is written back on every run, so that the browser redraws the option's text when the slot's
    photo changed (streamlit otherwise keeps showing the old name: streamlit/streamlit#13788)."""
    chosen = st.session_state.get(key, 0)
    st.session_state[key] = chosen if chosen < inputs.filled else 0
    return st.selectbox(label, range(inputs.filled), key=key, on_change=on_change,
                        format_func=lambda i: f"slot {i + 1}: {inputs.names[i]}")
