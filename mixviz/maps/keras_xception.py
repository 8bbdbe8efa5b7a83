"""Keras Xception weights (`xception_weights_tf_dim_ordering_tf_kernels.h5`) <-> timm `legacy_xception`.

Layer by layer: block1_conv1/2 (+_bn) -> conv1/bn1, conv2/bn2; Keras blockK (K = 2..13) -> timm
block{K-1}, its separable convs and BNs at rep.0/1 and rep.3/4 in block2 and at rep.{3S-2}/{3S-1}
in blocks 3..13; the four unnamed residual conv+BN pairs (conv2d[_n], batch_normalization[_n], in
order) -> block1/2/3/12 .skip and .skipbn; block14_sepconv1/2 -> conv3/bn3, conv4/bn4;
predictions -> fc. Kernels: depthwise (3,3,C,1) -> (C,1,3,3), others (kh,kw,I,O) -> (O,I,kh,kw),
dense (I,O) -> (O,I). Keras BatchNorm uses eps 1e-3: `models` sets that on the timm modules.
The same table writes an h5 in the Keras layout (used by the tests to check the round trip).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from ..types import MixError

SKIP_BLOCKS = (1, 2, 3, 12)
BN = (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"), ("moving_variance", "running_var"))


def weight_layers() -> list[tuple[str, str, str]]:
    """(Keras layer, timm prefix, kind) for every weighted layer; kind: conv, sep, bn or dense.
    Residual layers carry placeholder names `skip{i}` / `skipbn{i}` (resolved from the file)."""
    table = [("block1_conv1", "conv1", "conv"), ("block1_conv1_bn", "bn1", "bn"),
             ("block1_conv2", "conv2", "conv"), ("block1_conv2_bn", "bn2", "bn")]
    for k in range(2, 14):
        block = f"block{k - 1}"
        n_sep = 2 if k in (2, 3, 4, 13) else 3
        for s in range(1, n_sep + 1):
            index = (0, 3)[s - 1] if k == 2 else 3 * s - 2
            table.append((f"block{k}_sepconv{s}", f"{block}.rep.{index}", "sep"))
            table.append((f"block{k}_sepconv{s}_bn", f"{block}.rep.{index + 1}", "bn"))
    for i, b in enumerate(SKIP_BLOCKS):
        table.append((f"skip{i}", f"block{b}.skip", "conv"))
        table.append((f"skipbn{i}", f"block{b}.skipbn", "bn"))
    table += [("block14_sepconv1", "conv3", "sep"), ("block14_sepconv1_bn", "bn3", "bn"),
              ("block14_sepconv2", "conv4", "sep"), ("block14_sepconv2_bn", "bn4", "bn"),
              ("predictions", "fc", "dense")]
    return table


def _ordered(names: list[str], stem: str) -> list[str]:
    pattern = re.compile(rf"^{stem}(?:_(\d+))?$")
    found = [(int(m.group(1) or 0), n) for n in names if (m := pattern.match(n))]
    return [n for _, n in sorted(found)]


def state_dict_from_h5(path: str | Path) -> dict[str, torch.Tensor]:
    """A strict-loadable state dict for timm `legacy_xception` from a Keras Xception weights file."""
    try:
        import h5py
    except ImportError:
        raise MixError("reading Keras .h5 weights needs the package h5py") from None
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise MixError(f"{Path(path).name} is not a readable HDF5 file ({e})") from None
    with f:
        root = f["model_weights"] if "model_weights" in f else f
        names = [n.decode() if isinstance(n, bytes) else n for n in root.attrs.get("layer_names", list(root.keys()))]

        def weights(layer: str) -> dict[str, np.ndarray]:
            g = root[layer]
            wnames = [w.decode() if isinstance(w, bytes) else w for w in g.attrs.get("weight_names", [])]
            return {w.split("/")[-1].split(":")[0]: np.asarray(g[w]) for w in wnames}

        skips, skipbns = _ordered(names, "conv2d"), _ordered(names, "batch_normalization")
        if len(skips) != 4 or len(skipbns) != 4:
            raise MixError(f"{Path(path).name} does not look like Keras Xception weights "
                           f"(expected 4 residual convolutions, found {len(skips)})")
        rename = {f"skip{i}": n for i, n in enumerate(skips)} | {f"skipbn{i}": n for i, n in enumerate(skipbns)}
        sd: dict[str, torch.Tensor] = {}
        for keras, prefix, kind in weight_layers():
            layer = rename.get(keras, keras)
            if layer not in root:
                raise MixError(f"{Path(path).name} has no layer {layer!r}: not Keras Xception weights")
            w = weights(layer)
            if kind == "conv":
                sd[f"{prefix}.weight"] = torch.from_numpy(w["kernel"].transpose(3, 2, 0, 1).copy())
            elif kind == "sep":
                sd[f"{prefix}.conv1.weight"] = torch.from_numpy(w["depthwise_kernel"].transpose(2, 3, 0, 1).copy())
                sd[f"{prefix}.pointwise.weight"] = torch.from_numpy(w["pointwise_kernel"].transpose(3, 2, 0, 1).copy())
            elif kind == "bn":
                for k_name, t_name in BN:
                    sd[f"{prefix}.{t_name}"] = torch.from_numpy(w[k_name].copy())
                sd[f"{prefix}.num_batches_tracked"] = torch.tensor(0)
            else:
                sd[f"{prefix}.weight"] = torch.from_numpy(w["kernel"].T.copy())
                sd[f"{prefix}.bias"] = torch.from_numpy(w["bias"].copy())
        return sd


def state_dict_to_h5(sd: dict[str, torch.Tensor], path: str | Path) -> None:
    """Write a timm `legacy_xception` state dict as a Keras Xception weights file (Keras 2 layout)."""
    import h5py

    def arr(key):
        return sd[key].detach().cpu().numpy()

    rename = {f"skip{i}": f"conv2d_{i + 1}" for i in range(4)} | {f"skipbn{i}": f"batch_normalization_{i + 1}"
                                                                    for i in range(4)}
    with h5py.File(path, "w") as f:
        layers = []
        for keras, prefix, kind in weight_layers():
            layer = rename.get(keras, keras)
            if kind == "conv":
                data = {"kernel": arr(f"{prefix}.weight").transpose(2, 3, 1, 0)}
            elif kind == "sep":
                data = {"depthwise_kernel": arr(f"{prefix}.conv1.weight").transpose(2, 3, 0, 1),
                        "pointwise_kernel": arr(f"{prefix}.pointwise.weight").transpose(2, 3, 1, 0)}
            elif kind == "bn":
                data = {k_name: arr(f"{prefix}.{t_name}") for k_name, t_name in BN}
            else:
                data = {"kernel": arr(f"{prefix}.weight").T, "bias": arr(f"{prefix}.bias")}
            g = f.create_group(layer)
            names = [f"{layer}/{k}:0" for k in data]
            for name, value in zip(names, data.values()):
                g.create_dataset(name, data=np.ascontiguousarray(value))
            g.attrs["weight_names"] = [n.encode() for n in names]
            layers.append(layer.encode())
        f.attrs["layer_names"] = layers
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
