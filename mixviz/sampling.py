"""Seeded random draws shared by every method: devices, generators, Beta(α, α), boxes.

Parameters are drawn through a `DrawContext` (one per call, per batch) and applied separately, as in
Kornia's mix augmentations: the app can then show the λ that was drawn, the box before
clipping and the λ after correction, and a seed reproduces a picture exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import betaincinv

from .types import MixError


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """`device` if given, else the first of cuda, mps, cpu that this machine has."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch.Generator on `device`, seeded with `seed`."""
    return torch.Generator(device=device).manual_seed(int(seed))


def real_dtype(device: str | torch.device) -> torch.dtype:
    """The dtype of parameter maths: float64, or float32 on Apple's MPS, which has no float64."""
    return torch.float32 if torch.device(device).type == "mps" else torch.float64


def real(t: torch.Tensor) -> torch.Tensor:
    """`t` in its device's parameter dtype (see real_dtype)."""
    return t.to(real_dtype(t.device))


def beta_quantile(alpha: float, u: torch.Tensor) -> torch.Tensor:
    """Beta(α, α) samples from uniforms `u` by the inverse CDF (torch's Beta takes no generator)."""
    values = betaincinv(alpha, alpha, u.detach().cpu().double().numpy())
    return torch.from_numpy(np.asarray(values, dtype=np.float64))


@dataclass
class DrawContext:
    """Where and how one call draws its per-sample values (the method's configuration travels apart, in
    mixviz.methods.base.Call.config).

    Small per-sample values are drawn on the generator's device and moved to `device`,
    so a seed gives the same parameters whichever device mixes the pixels.

    `shared`: every sample gets the draws of one sample (mixviz.sweep: frames that differ only in λ, which comes
    as a per-sample tensor). A draw whose leading size N is a multiple of the batch B draws N/B values once, the
    values a call on a batch of one consumes from the generator, and tiles them B times; other draws (one value
    per call, as Puzzle Mix's grid) are drawn as they are. So sample i of a shared call draws what a batch-of-one
    call with the same seed draws, as long as a method's draw shapes do not depend on λ.
    """

    batch: int
    channels: int
    height: int
    width: int
    device: torch.device
    dtype: torch.dtype
    generator: torch.Generator | None
    lam: float | torch.Tensor | None
    alpha: float
    shared: bool = False

    @property
    def gen_device(self) -> torch.device:
        return self.generator.device if self.generator is not None else self.device

    def to_device(self, t: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """`t` on the pixels' device. Host-to-device copies are issued non-blocking (the source is staged
        before the call returns), so a CPU generator feeding a CUDA batch never waits for the GPU."""
        return t.to(self.device, dtype, non_blocking=t.device != self.device)

    def _tiled(self, draw, shape: tuple[int, ...]) -> torch.Tensor:
        """draw(shape), or, in shared mode where shape[0] is a multiple of the batch B, draw(shape[0] / B, …) once
        and tiled B times along the first dimension (see the class docstring)."""
        b = self.batch
        if not self.shared or b == 1 or not shape or shape[0] % b:
            return draw(shape)
        one = draw((shape[0] // b, *shape[1:]))
        return one.repeat(b, *([1] * (len(shape) - 1)))

    def _uniform(self, shape: tuple[int, ...]) -> torch.Tensor:
        """U[0, 1) of `shape`, on the generator's device (tiled in shared mode)."""
        return self._tiled(lambda s: torch.rand(*s, generator=self.generator, device=self.gen_device), shape)

    def rand(self, *shape: int) -> torch.Tensor:
        """U[0, 1) of `shape`, on the pixels' device."""
        return self.to_device(self._uniform(shape))

    def _bytes(self, shape: tuple[int, ...]) -> torch.Tensor:
        """Uniform bytes of `shape` on the pixels' device, eight per 64-bit draw."""
        n = math.prod(shape)
        words = torch.randint(-2**63, 2**63 - 1, ((n + 7) // 8,), dtype=torch.int64, generator=self.generator,
                              device=self.gen_device)
        return self.to_device(words.view(torch.uint8)[:n].view(shape))

    def bernoulli(self, prob: torch.Tensor, *shape: int) -> torch.Tensor:
        """Float 0/1 field of `shape` (first dimension B), 1 with probability round(256·prob[b])/256.

        Drawn as bytes, eight per 64-bit draw (eight times fewer generator calls than torch.rand,
        whose per-element cost dominates per-pixel fields on a CPU), and compared straight into a
        float tensor of the pixels' dtype: no bool field and no conversion pass. Methods that use
        it label with the share actually drawn, so the 1/256 step never reaches a label."""
        bits = self._tiled(self._bytes, shape)
        # P(bits >= t) = 1 - t / 256 = round(256·prob) / 256 for t = 256 - round(256·prob)
        threshold = (256 - torch.round(real(prob) * 256)).view(-1, *([1] * (len(shape) - 1)))
        # 256 needs more than a byte; on a GPU int16 always, rather than wait for the check
        dtype = torch.int16 if self.device.type != "cpu" or bool((threshold > 255).any()) else torch.uint8
        field = torch.empty(shape, dtype=self.dtype, device=self.device)
        return torch.ge(bits, threshold.to(dtype), out=field)

    def randn(self, *shape: int) -> torch.Tensor:
        """Standard normal of `shape`, on the pixels' device."""
        return self.to_device(self._tiled(lambda s: torch.randn(*s, generator=self.generator, device=self.gen_device),
                                          shape))

    def randint(self, high: torch.Tensor | int, n: int | None = None) -> torch.Tensor:
        """Integers uniform in [0, high) per sample (high may differ per sample; high >= 1)."""
        n = self.batch if n is None else n
        u = real(self.rand(n))
        if isinstance(high, torch.Tensor):
            return torch.minimum((u * high).floor().long(), high.long() - 1)
        return (u * high).floor().long().clamp_(max=int(high) - 1)

    def beta(self, alpha: float, n: int | None = None) -> torch.Tensor:
        """Beta(α, α) per sample, float64 (float32 on MPS) on the pixels' device."""
        if not alpha > 0:
            raise MixError(f"alpha must be > 0 for Beta(α, α), got {alpha}")
        u = self._uniform((self.batch if n is None else n,))
        return self.to_device(beta_quantile(alpha, u), real_dtype(self.device))

    def lam_or_beta(self) -> torch.Tensor:
        """λ per sample: the caller's fixed λ, else Beta(α, α) (shape (B,), see real_dtype)."""
        if self.lam is not None:
            if not isinstance(self.lam, torch.Tensor):  # a number: checked on the host, then a fill
                if not 0 <= self.lam <= 1:
                    raise MixError(f"λ must lie in [0, 1], got {self.lam}")
                return torch.full((self.batch,), float(self.lam), dtype=real_dtype(self.device), device=self.device)
            lam = self.to_device(self.lam, real_dtype(self.device))
            if lam.device.type == "cpu" and bool(((lam < 0) | (lam > 1)).any()):  # on a GPU this check would wait
                raise MixError(f"λ must lie in [0, 1], got {self.lam}")
            return lam.expand(self.batch).clone() if lam.dim() == 0 else lam.reshape(self.batch)
        return self.beta(self.alpha)

    def lam_or_uniform(self) -> torch.Tensor:
        """λ per sample: the caller's fixed λ, else U(0, 1) (between-class learning's r)."""
        if self.lam is not None:
            return self.lam_or_beta()
        return real(self.rand(self.batch))


def centred_boxes(cy, cx, box_h, box_w, height: int, width: int) -> dict[str, torch.Tensor]:
    """Boxes around integer centres as the CutMix and Cutout reference code draws them.

    Rows [cy - box_h//2, cy + box_h//2) and columns likewise, first unclipped, then clipped
    to the image. Returns y1, y2, x1, x2 (clipped) and the same with suffix `_raw`.
    """
    y1r, y2r = cy - box_h // 2, cy + box_h // 2
    x1r, x2r = cx - box_w // 2, cx + box_w // 2
    return {
        "y1_raw": y1r, "y2_raw": y2r, "x1_raw": x1r, "x2_raw": x2r,
        "y1": y1r.clamp(0, height), "y2": y2r.clamp(0, height),
        "x1": x1r.clamp(0, width), "x2": x2r.clamp(0, width),
    }
