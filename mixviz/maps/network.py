"""A network's layers the way Keras' `model.summary()` lists them: layer, output shape, parameters.

The shapes come from one forward pass of a dummy input at the model's input size, with a forward hook
on each listed module. The rows are the network's top-level children in the order they run, with
plain containers (nn.Sequential, e.g. EfficientNet's stages) opened one level, so a table stays
readable (about 25 rows for Xception instead of Keras' 130). Shapes are PyTorch's (C, H, W), without
the batch dimension; Keras would print (None, H, W, C).
"""
from __future__ import annotations

import torch

from .models import Model

INPUT = "input"


def _listed(net: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """The modules a table shows: top-level children, plain containers opened one level."""
    out = []
    for name, child in net.named_children():
        if isinstance(child, (torch.nn.Sequential, torch.nn.ModuleList)) and len(child) > 0:
            out.extend((f"{name}.{sub}", m) for sub, m in child.named_children())
        else:
            out.append((name, child))
    return out


def total_params(net: torch.nn.Module) -> int:
    """Number of parameters of `net` (every parameter counted once)."""
    return sum(p.numel() for p in net.parameters())


def _output_shapes(net: torch.nn.Module, listed: list[tuple[str, torch.nn.Module]], height: int,
                   width: int) -> tuple[list[str], dict[str, tuple[int, ...]]]:
    """The listed modules in the order one forward pass of a zero image runs them, and each one's first
    output shape without the batch dimension (forward hooks, removed afterwards)."""
    param = next(net.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    order: list[str] = []
    shapes: dict[str, tuple[int, ...]] = {}

    def hook(name):
        def record(_module, _inputs, output):
            if name in shapes:  # a module used twice keeps its first output
                return
            t = output[0] if isinstance(output, (tuple, list)) else output
            if isinstance(t, torch.Tensor):
                shapes[name] = tuple(t.shape[1:])
                order.append(name)
        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in listed]
    try:
        x = torch.zeros(1, 3, height, width, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
        was_training = net.training
        net.eval()
        with torch.inference_mode():
            net(x)
        net.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return order, shapes


def layer_table(model: Model | torch.nn.Module, size: int | tuple[int, int] | None = None) -> list[dict]:
    """Rows {"layer", "type", "output_shape", "params", "cam"} for the network of `model`, in the
    order the layers run, with a first "input" row.

    output_shape: the module's output without the batch dimension, a tuple such as (2048, 10, 10),
    or None for a module the forward pass did not use; params: the parameters the module owns
    (shared parameters are counted at their first row, so the column sums to `total_params`);
    cam: whether this is the layer whose output is the CAM feature map (the model recipe's
    `cam_layer`). `size`: input (H, W) or side; default the model's input size (299 for Xception).
    """
    net = model.net if isinstance(model, Model) else model
    cam_layer = model.recipe.cam_layer if isinstance(model, Model) else None
    if size is None:
        size = model.recipe.size if isinstance(model, Model) else 224
    height, width = (size, size) if isinstance(size, int) else size
    order, shapes = _output_shapes(net, _listed(net), height, width)
    listed = _listed(net)

    seen: set[int] = set()

    def owned(m: torch.nn.Module) -> int:
        n = 0
        for p in m.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                n += p.numel()
        return n

    modules = dict(listed)
    rows = [{"layer": INPUT, "type": "Input", "output_shape": (3, height, width), "params": 0, "cam": False}]
    for name in order + [n for n, _ in listed if n not in shapes]:
        m = modules[name]
        rows.append({"layer": name, "type": type(m).__name__, "output_shape": shapes.get(name),
                     "params": owned(m), "cam": name == cam_layer})
    rest = sum(p.numel() for p in net.parameters() if id(p) not in seen)  # parameters held by the net itself
    if rest:
        rows.append({"layer": "(own parameters)", "type": type(net).__name__, "output_shape": None, "params": rest,
                     "cam": False})
    return rows


def shape_text(shape: tuple[int, ...] | None) -> str:
    """'2048 × 10 × 10' for a (C, H, W) shape, '—' for None."""
    return "—" if shape is None else " × ".join(str(s) for s in shape)


def feature_shape(model: Model) -> tuple[int, ...]:
    """(C, h, w) of the CAM feature map at the model's input size, from the layer table."""
    for row in layer_table(model):
        if row["cam"]:
            return row["output_shape"]
    raise KeyError(model.recipe.cam_layer)
