"""Global blends: every pixel is the same weighted sum of the inputs.

Mixup (Zhang et al., ICLR 2018), SamplePairing (Inoue, 2018), between-class learning
BC and BC+ (Tokozume, Ushiku & Harada, CVPR 2018).
"""
from __future__ import annotations

import torch

from ..registry import register
from ..sampling import real, real_dtype
from .base import Call, Draws, Method, TwoInputMask


def _as_map(lam: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Per-sample values (B,) as a (B, 1, 1, 1) map in `dtype`."""
    return lam.to(dtype).view(-1, 1, 1, 1)


def _ratio(lam: torch.Tensor) -> Draws:
    """The draws of a global blend with ratio λ."""
    return {"lam": lam}


BC_DRAW = "r is drawn from U(0, 1), as in the authors' code, so α plays no part"


def other_class_partners(c: Call, y: torch.Tensor) -> torch.Tensor:
    """(B,) for each sample, a sample of another class drawn uniformly among them (the authors redraw
    the second image until its class differs); x[i − 1] for a sample whose batch holds no other class."""
    b = y.shape[0]
    other = y[None, :] != y[:, None]  # other[i, j]: sample j may be sample i's partner
    count = other.sum(1)
    k = torch.minimum((real(c.ctx.rand(b)) * count).floor().long(), (count - 1).clamp_min(0))
    rank = other.long().cumsum(1) - 1  # rank of each candidate among sample i's candidates
    pick = (other & (rank == k[:, None])).long().argmax(1)
    neighbour = (torch.arange(b, device=y.device) - 1) % b
    return torch.where(count > 0, pick, neighbour)


@register(
    name="mixup", title="Mixup", family="blend", n_inputs=2, params=(),
    paper="Zhang, Cisse, Dauphin & Lopez-Paz. mixup: Beyond Empirical Risk Minimization. ICLR 2018.",
    summary="Every pixel is the same convex combination of the two images, and the label is the same "
            "combination of the two one-hot labels. λ is drawn from Beta(α, α) for each sample.",
    formula=r"\tilde x = \lambda x_A + (1-\lambda) x_B,\quad \tilde y = \lambda y_A + (1-\lambda) y_B,"
            r"\quad \lambda \sim \mathrm{Beta}(\alpha, \alpha)",
    label_rule="area",
)
class Mixup(TwoInputMask):
    pointwise = True

    def draw(self, c):
        return _ratio(c.ctx.lam_or_beta())

    def mask1(self, c, dtype):
        return _as_map(1 - c.draws["lam"], dtype)

    def weights(self, c):
        """λ and 1 − λ."""
        lam = c.draws["lam"]
        return torch.stack([lam, 1 - lam], 1)


@register(
    name="sample_pairing", title="SamplePairing", family="blend", n_inputs=2, params=(),
    paper="Inoue. Data Augmentation by Pairing Samples for Images Classification. arXiv:1801.02929, 2018.",
    summary="The two images are averaged pixel by pixel, but the label stays that of the first image: "
            "the second image acts as structured noise. The paper switches pairing on and off during training.",
    formula=r"\tilde x = \tfrac12 (x_A + x_B),\quad \tilde y = y_A",
    uses_lam=False, label_rule="first",
)
class SamplePairing(TwoInputMask):
    def draw(self, c):
        return {}

    def mask1(self, c, dtype):
        return torch.full((c.batch, 1, 1, 1), 0.5, dtype=dtype, device=c.ctx.device)

    def weights(self, c):
        """The first image's label only: weights 1 and 0."""
        w = torch.zeros(c.batch, 2, dtype=real_dtype(c.ctx.device), device=c.ctx.device)
        w[:, 0] = 1.0
        return w


@register(
    name="bc", title="Between-class (BC)", family="blend", n_inputs=2, params=(),
    paper="Tokozume, Ushiku & Harada. Between-class Learning for Image Classification. CVPR 2018.",
    summary="Two images of different classes are mixed with a ratio r ~ U(0, 1) and the network learns to "
            "output that ratio (KL-divergence loss). On images, BC is the plain ratio mix.",
    formula=r"\tilde x = r x_1 + (1-r) x_2,\quad \tilde y = r y_1 + (1-r) y_2,\quad r \sim U(0, 1)",
    label_rule="area", alpha=None, lam_draw=BC_DRAW,
)
class BetweenClass(Mixup):
    """Mixup's blend with the ratio drawn from U(0, 1). In `mix_batch` with labels, each sample's partner
    is drawn among the samples of other classes (`other_class_partners`); a batch of one class is paired
    as without labels, sample i with x[i − 1], since it has no other class."""

    distinct_classes = True

    def draw(self, c):
        return _ratio(c.ctx.lam_or_uniform())

    def partners(self, c, y):
        return other_class_partners(c, y)


@register(
    name="bc_plus", title="Between-class+ (BC+)", family="blend", n_inputs=2, params=(),
    paper="Tokozume, Ushiku & Harada. Between-class Learning for Image Classification. CVPR 2018.",
    summary="Images are treated as waveforms: each is made zero-mean, and the mix ratio is corrected by the "
            "images' standard deviations so the quieter image is not drowned out; the result is rescaled to "
            "keep its energy. The label still uses r.",
    formula=r"p = \frac{1}{1 + \frac{\sigma_1}{\sigma_2}\cdot\frac{1-r}{r}},\quad "
            r"\tilde x = \frac{p (x_1-\mu_1) + (1-p)(x_2-\mu_2)}{\sqrt{p^2 + (1-p)^2}},\quad "
            r"\tilde y = r y_1 + (1-r) y_2",
    label_rule="lam", alpha=None, lam_draw=BC_DRAW,
)
class BetweenClassPlus(Method):
    """BC+, paired as BC is (other classes in `mix_batch` with labels). `apply` writes the raw, zero-mean
    training input (what the paper feeds the network); `display` maps it back for viewing by adding the
    mixed mean r·μ1 + (1−r)·μ2 and clipping to [0, 1].
    μ and σ are each image's scalar mean and standard deviation over all channels and pixels."""

    distinct_classes = True
    pointwise = True

    def draw(self, c):
        return _ratio(c.ctx.lam_or_uniform())

    def partners(self, c, y):
        return other_class_partners(c, y)

    def per_image(self, c, x, maps):
        """Each image's mean and (population) standard deviation over all channels and pixels.

        From Σx and ‖x‖ in one float32 pass each (torch's pairwise sums keep them accurate):
        torch.var_mean is single-threaded and ~10x slower on CPU."""
        flat = x.flatten(1)
        n = flat.shape[1]
        mean = real(flat.sum(1)) / n
        mean_sq = real(torch.linalg.vector_norm(flat, dim=1)) ** 2 / n
        return {"mean": mean, "std": (mean_sq - mean**2).clamp_min(0).sqrt()}

    def _coefficients(self, c: Call):
        """p (the σ-corrected coefficient of the first image) and the means μ1, μ2."""
        r = c.draws["lam"]
        first, second = c.inputs
        s1, s2 = first["std"], second["std"]
        num, den = r * s2, r * s2 + (1 - r) * s1
        # 1 / (1 + σ1/σ2·(1−r)/r) written without dividing by r or σ2; flat images fall back to r.
        return torch.where(den > 0, num / den.clamp_min(1e-12), r), first["mean"], second["mean"]

    def apply(self, c, out):
        xs = c.xs
        pp, m1, m2 = self._coefficients(c)
        scale = 1 / torch.sqrt(pp**2 + (1 - pp) ** 2)
        # s·(p(x1 − μ1) + (1 − p)(x2 − μ2)) = s·lerp(x2, x1, p) − s·(p μ1 + (1 − p) μ2)
        torch.lerp(xs[1], xs[0], _as_map(pp, xs[0].dtype), out=out)
        out.mul_(_as_map(scale, out.dtype)).sub_(_as_map(scale * (pp * m1 + (1 - pp) * m2), out.dtype))

    def display(self, c, out):
        _, m1, m2 = self._coefficients(c)
        r = c.draws["lam"]
        return (out + _as_map(r * m1 + (1 - r) * m2, out.dtype)).clamp(0, 1)

    def masks(self, c):
        """Share of each input: the σ-corrected ratio p and 1 − p (before energy rescaling)."""
        pp = _as_map(self._coefficients(c)[0], torch.float32).expand(-1, 1, c.height, c.width)
        return torch.cat([pp, 1 - pp], 1)

    def weights(self, c):
        """r and 1 − r: the label uses the drawn ratio, not the corrected p."""
        lam = c.draws["lam"]
        return torch.stack([lam, 1 - lam], 1)

    def info(self, c):
        info = super().info(c)
        info["p"] = float(self._coefficients(c)[0][0])
        info["display"] = ("the raw BC+ input is zero-mean; it is shown with the mixed mean "
                           "r·μ1 + (1−r)·μ2 added back and clipped to [0, 1]")
        return info
