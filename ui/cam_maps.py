"""Cached per-image maps for the CAM Explorer and Saliency pages. Keys name content ("sample:cat",
"upload:<sha1>"), and every function also takes the serving model's id, so a cached map is reused
by every rerun (a slider move never repeats a forward or backward pass) and never outlives its model."""
from __future__ import annotations

import streamlit as st

from mixviz.maps.cam import CamResult, cam
from mixviz.imaging import image_size
from mixviz.maps.network import layer_table
from mixviz.maps.saliency import GradientSaliency, gradient_saliency

from .images import image
from .maps import guide_map
from .models import model as serving_model


def model_id() -> str:
    m = serving_model()
    return f"{m.name}|{m.source}"


def size_of(key: str) -> tuple[int, int]:
    """(H, W) of the image of `key` as the app shows it."""
    return image_size(image(key))


@st.cache_data(max_entries=64, show_spinner="Running the network on this image…")
def base_cam(key: str, model: str) -> CamResult:
    """CAM of the top prediction, with the features and logits that any other class's CAM reuses
    (mixviz.maps.cam.retarget)."""
    return cam(serving_model(), image(key))


@st.cache_data(max_entries=64, show_spinner="Back-propagating to the pixels…")
def gradient(key: str, class_index: int, model: str) -> GradientSaliency:
    """Simonyan et al.'s gradient saliency of `class_index` for the image of `key`."""
    return gradient_saliency(serving_model(), image(key), class_index)


@st.cache_data(max_entries=4, show_spinner="Tracing the layers…")
def layers(model: str) -> list[dict]:
    """The model's layer table (one dummy forward pass per model)."""
    return layer_table(serving_model())


def static(kind: str, key: str):
    """(H, W) OpenCV static saliency ("fine_grained" or "spectral_residual") at the image's own size,
    from ui.maps.guide_map's cache (which SaliencyMix shares)."""
    return guide_map("saliency", key, size_of(key), None, (("kind", kind), ("encoding", "uint8")))
