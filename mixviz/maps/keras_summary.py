"""Xception's `model.summary()` as Keras prints it (Chollet, CVPR 2017; keras.applications.Xception at 299×299
with its 1000-class top), from the architecture alone: no weights, no Keras. The layers, their names (the
named ones, and the residual branches' automatic conv2d, batch_normalization and add names), their order,
output shapes (None, H, W, C), parameter counts (BatchNormalization: 4 per channel, γ, β and the two moving
statistics, 2 of them trainable) and what each layer is connected to, as the lecture's slide shows them.
mixviz/maps/keras_xception.py maps the same layers to timm's for the weights."""
from __future__ import annotations

import math
from dataclasses import dataclass

NAME_WIDTH = 31  # Keras' summary truncates "name (Type)" to its first column (32 characters of a 98-character line)


@dataclass(frozen=True)
class KerasLayer:
    name: str
    kind: str
    shape: tuple  # (H, W, C), (C,) or the input's (H, W, C)
    params: int
    inputs: tuple[str, ...]
    trainable: int = -1  # -1: all of `params`

    @property
    def title(self) -> str:
        """The first column as Keras prints it: "name (Type)", cut at NAME_WIDTH characters."""
        return f"{self.name} ({self.kind})"[:NAME_WIDTH]

    @property
    def shape_text(self) -> str:
        text = "(None, " + ", ".join(map(str, self.shape)) + ")"
        return f"[{text}]" if self.kind == "InputLayer" else text

    @property
    def connected(self) -> str:
        return " ".join(f"{n}[0][0]" for n in self.inputs)


def xception_layers(size: int = 299, classes: int = 1000) -> list[KerasLayer]:
    """Keras Xception's layers in the order its summary lists them (the residual 1×1 convolution after the
    main branch's last batch norm, then the pooling, the residual's batch norm and the add)."""
    out: list[KerasLayer] = []
    shape = (size, size, 3)

    def add(name, kind, new_shape, params, inputs, trainable=-1):
        out.append(KerasLayer(name, kind, new_shape, params, tuple(inputs), trainable))
        return name, new_shape

    def conv(name, x, c, k, stride, same):
        (src, (h, w, cin)) = x
        size_out = (math.ceil(h / stride), math.ceil(w / stride)) if same else ((h - k) // stride + 1, (w - k) // stride + 1)
        return add(name, "Conv2D", (*size_out, c), k * k * cin * c, [src])

    def sep(name, x, c):
        (src, (h, w, cin)) = x
        return add(name, "SeparableConv2D", (h, w, c), 9 * cin + cin * c, [src])

    def bn(name, x):
        (src, s) = x
        return add(name, "BatchNormalization", s, 4 * s[-1], [src], trainable=2 * s[-1])

    def act(name, x):
        return add(name, "Activation", x[1], 0, [x[0]])

    def pool(name, x):
        (src, (h, w, c)) = x
        return add(name, "MaxPooling2D", (math.ceil(h / 2), math.ceil(w / 2), c), 0, [src])

    def plus(name, a, b):
        return add(name, "Add", a[1], 0, [a[0], b[0]])

    x = add("input_1", "InputLayer", shape, 0, [])
    x = act("block1_conv1_act", bn("block1_conv1_bn", conv("block1_conv1", x, 32, 3, 2, False)))
    x = act("block1_conv2_act", bn("block1_conv2_bn", conv("block1_conv2", x, 64, 3, 1, False)))
    residuals = 0
    for block, (c1, c2) in ((2, (128, 128)), (3, (256, 256)), (4, (728, 728)), (13, (728, 1024))):
        if block == 13:  # the middle flow: blocks 5 to 12, three separable convolutions each around an identity
            for k in range(5, 13):
                y = x
                for s in (1, 2, 3):
                    y = bn(f"block{k}_sepconv{s}_bn", sep(f"block{k}_sepconv{s}", act(f"block{k}_sepconv{s}_act", y), 728))
                x = plus(f"add_{k - 2}", y, x)
        suffix = f"_{residuals}" if residuals else ""
        y = x if block == 2 else act(f"block{block}_sepconv1_act", x)
        y = bn(f"block{block}_sepconv1_bn", sep(f"block{block}_sepconv1", y, c1))
        y = bn(f"block{block}_sepconv2_bn", sep(f"block{block}_sepconv2", act(f"block{block}_sepconv2_act", y), c2))
        r = conv(f"conv2d{suffix}", x, c2, 1, 2, True)
        y = pool(f"block{block}_pool", y)
        r = bn(f"batch_normalization{suffix}", r)
        x = plus(f"add{suffix if block != 13 else '_11'}", y, r)
        residuals += 1
    x = act("block14_sepconv1_act", bn("block14_sepconv1_bn", sep("block14_sepconv1", x, 1536)))
    x = act("block14_sepconv2_act", bn("block14_sepconv2_bn", sep("block14_sepconv2", x, 2048)))
    x = add("avg_pool", "GlobalAveragePooling2D", (x[1][-1],), 0, [x[0]])
    add("predictions", "Dense", (classes,), x[1][0] * classes + classes, [x[0]])
    return out


def summary_rows(layers: list[KerasLayer]) -> list[dict]:
    """The summary's table: one dict per layer with Keras' four columns."""
    return [{"Layer (type)": layer.title, "Output Shape": layer.shape_text, "Param #": layer.params,
             "Connected to": layer.connected} for layer in layers]


def totals(layers: list[KerasLayer]) -> dict[str, int]:
    """Keras' three lines under the table: total, trainable and non-trainable parameters."""
    total = sum(layer.params for layer in layers)
    trainable = sum(layer.params if layer.trainable < 0 else layer.trainable for layer in layers)
    return {"Total params": total, "Trainable params": trainable, "Non-trainable params": total - trainable}
