"""mixviz: image-mixing data augmentation, batched in PyTorch, explained picture by picture.

    import mixviz
    r = mixviz.mix("cutmix", [img_a, img_b], seed=0)          # one explained picture
    xm, ym = mixviz.mix_batch("cutmix", x, y, num_classes=1000)  # a training batch
    s = mixviz.sweep("cutmix", [img_a, img_b], frames=51)      # the same draws, λ from 0 to 1
"""
from . import methods  # noqa: F401  (registers every method)
from .maps import cam, pooling, saliency  # noqa: F401  (public: mixviz.cam, mixviz.pooling, mixviz.saliency)
from .maps import guide_maps  # noqa: F401  (registers the map kinds guided methods declare)
from .imaging import load_image
from .engine import mix, mix_batch
from .sweep import sweep
from .maps.models import load_model
from .registry import METHODS
from .sampling import pick_device
from .types import ImageError, MethodSpec, MixError, MixResult, ParamSpec, Sweep

__all__ = ["METHODS", "mix", "mix_batch", "sweep", "load_image", "load_model", "pick_device", "ImageError", "MixError",
           "MethodSpec", "MixResult", "ParamSpec", "Sweep"]
__version__ = "0.1.0"
from .mixer import MixCollate, Mixer  # noqa: E402
__all__ += ["Mixer", "MixCollate"]
