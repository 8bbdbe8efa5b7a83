"""Test-time augmentation by ten crops: AlexNet's test recipe, which the ResNet paper calls "the standard
10-crop testing".

Krizhevsky, Sutskever & Hinton, *ImageNet Classification with Deep Convolutional Neural Networks*, NIPS 2012:
images are rescaled so that the shorter side is 256 and the central 256×256 square is kept; at test time the
network "makes a prediction by extracting five 224×224 patches (the four corner patches and the center patch)
as well as their horizontal reflections (hence ten patches in all), and averaging the predictions made by the
network's softmax layer on the ten patches": the **softmax average**.

He, Zhang, Ren & Sun, *Deep Residual Learning for Image Recognition*, CVPR 2016, write only "for comparison
studies we adopt the standard 10-crop testing [21]", citing AlexNet: they name neither the scale of those
crops nor whether probabilities or raw scores are averaged. (Their best results instead average "the
scores" of the fully convolutional network over several scales, which is not done here.) The logit average
is given next to the softmax average because it is the other common choice; its softmax is the normalised
geometric mean of the ten crops' probabilities.

The crops come from torchvision (`transforms.v2.functional.resize` and `ten_crop`), as a user would make
them: the shorter side resized to R (bicubic, antialiased, clamped to [0, 1]: the filter Model.preprocess
uses), then the four corners and the centre of the whole resized image, then the same five of its
horizontal flip. `square=True` first keeps the central R×R square, as AlexNet did. For the serving model
the crop is its own input size S and R = floor(S / crop_pct), with the crop_pct timm gives its pretrained
weights (timm evaluates them so): 224 in 256 for EfficientNet-Lite0 (crop_pct 0.875, AlexNet's ratio) and
299 in 333 for Xception (0.8975). Each crop is normalised as Model.preprocess normalises. The rest of the
app feeds the network the whole image squashed to S×S instead (Model.preprocess, as Keras' load_img does).
Nothing here imports streamlit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from .imaging import ImageLike, load_image, to_tensor
from .types import MixError

CROP_NAMES = ("top-left", "top-right", "bottom-left", "bottom-right", "centre",
              "flipped, top-left", "flipped, top-right", "flipped, bottom-left", "flipped, bottom-right",
              "flipped, centre")  # torchvision's order; "flipped, top-left" is the top-left crop of the mirrored image
CENTRE = CROP_NAMES.index("centre")
AVERAGES = ("softmax", "logit")


def crop_sizes(model) -> tuple[int, int]:
    """(crop, resize) for a mixviz Model: its input size S and floor(S / crop_pct) from timm's pretrained config
    of its architecture (timm's own evaluation transform computes the resize so)."""
    import timm

    crop = int(model.recipe.size)
    pct = timm.models.get_pretrained_cfg(model.recipe.timm_name).crop_pct
    return crop, int(math.floor(crop / pct))


def resized(image: ImageLike, resize: int, square: bool = False) -> torch.Tensor:
    """(3, H', W') in [0, 1]: the image with its shorter side resized to `resize` (bicubic, antialiased; the
    longer side int(resize · long / short), torchvision's rule), and with `square` the central resize² square."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as F

    t = to_tensor(image)
    if t.shape[0] != 3:
        t = t[:1].expand(3, -1, -1) if t.shape[0] == 1 else t[:3]
    t = F.resize(t, [int(resize)], interpolation=InterpolationMode.BICUBIC, antialias=True).clamp(0, 1)
    return F.center_crop(t, [int(resize), int(resize)]) if square else t


def ten_crops(image: ImageLike, crop: int, resize: int, square: bool = False) -> torch.Tensor:
    """(10, 3, crop, crop) in [0, 1]: torchvision's ten_crop of the resized image, in CROP_NAMES' order (four
    corners, centre; then the same of the horizontal flip)."""
    from torchvision.transforms.v2 import functional as F

    if resize < crop:
        raise MixError(f"the crop ({crop} px) must fit in the resized image (shorter side {resize} px)")
    return torch.stack(F.ten_crop(resized(image, resize, square), [int(crop), int(crop)]))


def normalise(model, crops: torch.Tensor) -> torch.Tensor:
    """(N, 3, S, S) crops in [0, 1] as the network's input: Model.preprocess's mean and std, channels last."""
    mean = torch.tensor(model.recipe.mean, device=model.device).view(1, 3, 1, 1)
    std = torch.tensor(model.recipe.std, device=model.device).view(1, 3, 1, 1)
    return ((crops.to(model.device) - mean) / std).contiguous(memory_format=torch.channels_last)


def crop_logits(model, crops: torch.Tensor, batch: int | None = None) -> torch.Tensor:
    """(N, K) float32 logits of N crops: one batched forward pass, or passes of `batch` crops each (a network's
    activations grow with the batch: EfficientNet-Lite0 takes about 14 MB per 224 px crop on the CPU)."""
    step = len(crops) if batch is None else int(batch)
    if step < 1:
        raise MixError(f"a forward pass takes at least one crop, not {batch}")
    with torch.inference_mode():
        return torch.cat([model.net(normalise(model, crops[i:i + step])).float().cpu()
                          for i in range(0, len(crops), step)])


def softmax_average(logits: torch.Tensor) -> torch.Tensor:
    """p̄ = (1/n) Σᵢ softmax(zᵢ) over the crops (dim −2 of (…, n, K)): AlexNet's average."""
    return logits.float().softmax(-1).mean(-2)


def logit_average(logits: torch.Tensor) -> torch.Tensor:
    """softmax(z̄), z̄ = (1/n) Σᵢ zᵢ over the crops (dim −2): ranks the classes as z̄ does, and equals the
    normalised geometric mean of the crops' probabilities, Πᵢ pᵢ^(1/n) / Σ_c Πᵢ pᵢ,c^(1/n)."""
    return logits.float().mean(-2).softmax(-1)


def averaged(logits: torch.Tensor, how: str) -> torch.Tensor:
    if how not in AVERAGES:
        raise MixError(f"average the ten crops' {' or '.join(AVERAGES)} scores, not {how!r}")
    return softmax_average(logits) if how == "softmax" else logit_average(logits)


@dataclass(frozen=True)
class Guess:
    index: int
    name: str
    p: float


def top(probs: torch.Tensor, classes: Sequence[str], k: int = 5) -> list[Guess]:
    """The k most probable classes of a (K,) probability vector, most probable first."""
    p, i = probs.topk(k)
    return [Guess(int(c), classes[int(c)], float(v)) for v, c in zip(p, i)]


def rank(scores: torch.Tensor, index: int) -> int:
    """1-based rank of class `index` in (K,) scores: 1 + the number of classes scored strictly higher."""
    return 1 + int((scores > scores[index]).sum())


@dataclass(frozen=True)
class TenCrop:
    """One image's ten crops and the network's scores on them. crops: (10, 3, S, S) in [0, 1]; logits: (10, K)."""

    crops: torch.Tensor
    logits: torch.Tensor
    classes: list[str]
    crop: int
    resize: int
    square: bool

    @property
    def probs(self) -> torch.Tensor:
        """(10, K) each crop's softmax."""
        return self.logits.softmax(-1)

    def scores(self, how: str) -> torch.Tensor:
        """(K,) probabilities: "centre" (the centre crop alone), "softmax" or "logit" (the two averages)."""
        return self.probs[CENTRE] if how == "centre" else averaged(self.logits, how)

    def top(self, how: str, k: int = 5) -> list[Guess]:
        return top(self.scores(how), self.classes, k)

    def crop_top(self, i: int, k: int = 5) -> list[Guess]:
        return top(self.probs[i], self.classes, k)


def ten_crop(model, image: ImageLike, square: bool = False) -> TenCrop:
    """The ten crops of `image` at the model's sizes (crop_sizes) and its logits on them, in one forward pass."""
    crop, size = crop_sizes(model)
    crops = ten_crops(image, crop, size, square)
    return TenCrop(crops, crop_logits(model, crops), list(model.classes), crop, size, square)


# ---------------------------------------------------------------- the effect on the bundled photos

@dataclass(frozen=True)
class PhotoOutcome:
    """Where the photo's true class ranks (1 = top-1) with the centre crop alone and with either average."""

    name: str
    true_class: str
    true_index: int
    centre_rank: int
    softmax_rank: int
    logit_rank: int

    def right(self, how: str, k: int = 1) -> bool:
        return getattr(self, f"{how}_rank") <= k


@dataclass(frozen=True)
class Evaluation:
    """Ten-crop testing against the centre crop on labelled photos. logits: (N, 10, K), photo by photo."""

    model: str
    crop: int
    resize: int
    photos: tuple[PhotoOutcome, ...]
    logits: torch.Tensor

    @property
    def n(self) -> int:
        return len(self.photos)

    def count(self, how: str, k: int = 1) -> int:
        """How many photos have their true class in the top k with `how` ("centre", "softmax", "logit")."""
        return sum(p.right(how, k) for p in self.photos)


def evaluate(model, photos: dict[str, tuple[ImageLike, str]] | None = None, square: bool = False,
             batch: int | None = None) -> Evaluation:
    """Top-1/top-5 of the centre crop against the ten-crop averages on `photos` (name -> (image, ImageNet class
    as model.classes spells it)); by default every bundled photo (mixviz.samples) whose class the model has.
    All photos' ten crops go through the network in one batched forward pass, or in passes of `batch` crops
    where memory is short."""
    if photos is None:
        from .samples import samples

        photos = {n: (load_image(s.path), s.imagenet_class) for n, s in samples().items()
                  if s.imagenet_class in model.classes}
    if not photos:
        raise MixError("no labelled photos to evaluate ten-crop testing on")
    unknown = [c for _, c in photos.values() if c not in model.classes]
    if unknown:
        raise MixError(f"{unknown[0]!r} is not one of {model.title}'s classes")
    crop, size = crop_sizes(model)
    crops = torch.cat([ten_crops(img, crop, size, square) for img, _ in photos.values()])
    logits = crop_logits(model, crops, batch).view(len(photos), 10, -1)
    rows = []
    for (name, (_, cls)), z in zip(photos.items(), logits):
        i = model.classes.index(cls)
        rows.append(PhotoOutcome(name, cls, i, rank(z[CENTRE], i), rank(softmax_average(z), i), rank(z.mean(0), i)))
    return Evaluation(model.title, crop, size, tuple(rows), logits)
