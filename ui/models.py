"""The serving model, built once per server, and the ImageNet class each image's maps are for by default."""
from __future__ import annotations

import streamlit as st
import torch

import mixviz
from mixviz.samples import samples
from mixviz.threads import CORES

from .images import at_size
from .tuning import freeze_startup_objects


@st.cache_resource(show_spinner="Loading the pretrained model (once per server)…")
def model():
    """The best available pretrained model (Xception, else EfficientNet-Lite0 offline), built once; its
    forward pass runs on every core, and the script run goes back to one thread after it."""
    m = mixviz.load_model()
    m.net.register_forward_pre_hook(lambda *_: torch.set_num_threads(CORES))
    m.net.register_forward_hook(lambda *_: torch.set_num_threads(1))
    freeze_startup_objects()
    return m


@st.cache_data(max_entries=256, show_spinner=False)
def top_class(key: str, size: tuple[int, int]) -> int:
    """The model's top ImageNet class for one image at the common size."""
    m = model()
    with torch.inference_mode():
        return int(m.net(m.preprocess(at_size(key, size)))[0].argmax())


def own_class(key: str) -> int | None:
    """The index in the model's classes of the ImageNet class a bundled photo shows
    (mixviz.samples.Sample.imagenet_class); None for an upload, which has no label."""
    if not key.startswith("sample:"):
        return None
    name = samples()[key.removeprefix("sample:")].imagenet_class
    classes = model().classes
    return classes.index(name) if name in classes else None


def default_class(key: str, size: tuple[int, int]) -> int:
    """The class an image's maps are for unless the user picks another: a bundled photo's own class (the
    authors' code uses the training label), else the model's top prediction at the common size."""
    own = own_class(key)
    return own if own is not None else top_class(key, size)
