"""The maths behind the Theory page: Beta(α, α), label smoothing, ERM vs vicinal risk, and the
mixup paper's toy figure, trained live.

- Beta(α, α) is where mixup draws λ (Zhang, Cisse, Dauphin & Lopez-Paz, mixup: Beyond Empirical
  Risk Minimization, ICLR 2018): α → 0 puts all mass on {0, 1}, α = 1 is uniform, large α
  concentrates at ½.
- Label smoothing (Szegedy et al., Rethinking the Inception Architecture for Computer Vision,
  CVPR 2016) replaces a target y over K classes by (1 − ε)·y + ε/K.
- Vicinal risk minimisation (Chapelle, Weston, Bottou & Vapnik, Vicinal Risk Minimization,
  NIPS 2000) is the frame in which mixup is a choice of vicinity.
- `train_toy` redraws Figure 1(b) of the mixup paper: two small MLPs on a 2-D two-class problem,
  one trained by ERM and one with mixup, and their p(y = 1 | x) over the plane.

Its figures are in mixviz.viz.theory. Nothing here imports streamlit.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Hashable

import numpy as np
import torch
from scipy import stats

from .labels import smooth_label
from .sampling import beta_quantile, make_generator
from .threads import torch_threads
from .types import MixError

# ---------------------------------------------------------------- Beta(α, α)

BETA_GRID = 801        # points of the density curve, on the open interval (0, 1)
BETA_EDGE = 1e-3       # the curve starts and ends this far from 0 and 1, where it is infinite for α < 1
BETA_BINS = 40         # histogram bins of the samples over [0, 1]


def check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not (alpha > 0 and math.isfinite(alpha)):
        raise MixError(f"α of Beta(α, α) must be a positive number, got {alpha}")
    return alpha


def beta_pdf(alpha: float, x) -> np.ndarray:
    """The density of Beta(α, α) at `x` (scipy.stats.beta), the distribution of mixup's λ
    (Zhang et al., ICLR 2018). Infinite at 0 and 1 when α < 1."""
    return stats.beta.pdf(np.asarray(x, dtype=np.float64), check_alpha(alpha), alpha)


def beta_curve(alpha: float, n: int = BETA_GRID, edge: float = BETA_EDGE) -> tuple[np.ndarray, np.ndarray]:
    """(x, density) on `n` points of [edge, 1 − edge]: the ends are left out because for α < 1
    the density is infinite there (and JSON has no infinity)."""
    x = np.linspace(edge, 1 - edge, n)
    return x, beta_pdf(alpha, x)


def beta_samples(alpha: float, n: int, seed: int = 0) -> np.ndarray:
    """`n` draws of λ ~ Beta(α, α) from `seed`, the way mixviz draws λ for every method:
    uniforms from a seeded torch.Generator through the inverse CDF (sampling.beta_quantile)."""
    alpha = check_alpha(alpha)
    if n < 0:
        raise MixError(f"the number of samples must be >= 0, got {n}")
    u = torch.rand(int(n), generator=make_generator(seed), dtype=torch.float64)
    return beta_quantile(alpha, u).numpy()


def beta_edge_mass(alpha: float, within: float = 0.1) -> float:
    """P(λ < within or λ > 1 − within) for λ ~ Beta(α, α): how often mixup barely mixes."""
    return float(2 * stats.beta.cdf(within, check_alpha(alpha), alpha))


def beta_ymax(alpha: float) -> float:
    """Top of the density plot's y axis: room for the peak at ½ when α > 1, and a cut at 3 (or the
    density at 0.05 and 0.95, if higher) when α < 1, where the density goes to infinity at 0 and 1."""
    alpha = check_alpha(alpha)
    inner = float(np.max(beta_pdf(alpha, np.linspace(0.05, 0.95, 181))))
    return max(3.0, 1.15 * inner)


# ---------------------------------------------------------------- label smoothing

@dataclass(frozen=True)
class SmoothingBars:
    """Bars of a label before and after smoothing. The last bar stands for each of the classes the
    label does not name, when there are any (`others` of them)."""

    names: list[str]
    target: list[float]
    smoothed: list[float]
    others: int


def smoothing_bars(label: dict[Hashable, float], eps: float, num_classes: int) -> SmoothingBars:
    """Label smoothing (Szegedy et al., CVPR 2016), (1 − ε)·y + ε/K, of a {class: weight} label over
    K = `num_classes` classes (labels.smooth_label), as bars: the named classes, then one bar for
    each of the K − n others."""
    smoothed, rest = smooth_label(label, eps, num_classes)
    names = [str(k) for k in label]
    target = [float(v) for v in label.values()]
    values = [float(v) for v in smoothed.values()]
    others = num_classes - len(label)
    if others > 0:
        names.append(f"each of the other {others}")
        target.append(0.0)
        values.append(float(rest))
    return SmoothingBars(names, target, values, others)


# ---------------------------------------------------------------- ERM and vicinal risk

ERM_LATEX = r"R_\delta(f) = \frac{1}{n} \sum_{i=1}^{n} \ell\big(f(x_i),\, y_i\big)"
VRM_LATEX = (r"R_\nu(f) = \frac{1}{n} \sum_{i=1}^{n} \mathbb{E}_{(\tilde x, \tilde y) \sim \nu(\cdot \mid x_i, y_i)}"
             r"\,\ell\big(f(\tilde x),\, \tilde y\big)")
GAUSS_LATEX = r"\tilde x = x_i + \sigma \varepsilon,\ \ \varepsilon \sim \mathcal{N}(0, I), \qquad \tilde y = y_i"
MIXUP_LATEX = (r"\begin{gathered} \tilde x = \lambda x_i + (1-\lambda)\, x_j, \qquad "
               r"\tilde y = \lambda y_i + (1-\lambda)\, y_j, \\ "
               r"j \sim \mathcal{U}\{1, \dots, n\}, \qquad \lambda \sim \mathrm{Beta}(\alpha, \alpha) \end{gathered}")

# ---------------------------------------------------------------- the toy figure

TOY_STEPS = 600         # full-batch Adam steps per model on the page (under a second each on one idle core)
TOY_POINTS = 200        # training points, half per class
TOY_GRID = 100          # p(y = 1 | x) on a TOY_GRID × TOY_GRID grid
TOY_EXTENT = (-2.0, 3.0, -1.75, 2.25)   # x0, x1, y0, y1 of the grid: the data with room around it
TOY_HIDDEN = 64


@dataclass(frozen=True)
class ToyResult:
    """One trained toy model: p(y = 1 | x) on the grid (`prob[row, col]` at (xs[col], ys[row])),
    the training points and labels, and the accuracy on those points."""

    alpha: float | None
    seed: int
    steps: int
    xs: np.ndarray
    ys: np.ndarray
    prob: np.ndarray
    points: np.ndarray
    labels: np.ndarray
    accuracy: float
    final_loss: float
    seconds: float

    @property
    def title(self) -> str:
        return toy_title(self.alpha)


def toy_title(alpha: float | None) -> str:
    return "ERM" if alpha is None else f"mixup, α = {alpha:g}"


def toy_data(seed: int = 0, n: int = TOY_POINTS, noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half-moons with Gaussian noise, deterministic from `seed`:
    points (n, 2) float32 and labels (n,) in {0, 1}."""
    rng = np.random.default_rng(seed)
    half = n // 2
    t0, t1 = rng.uniform(0, np.pi, half), rng.uniform(0, np.pi, n - half)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    points = np.concatenate([upper, lower]) + rng.normal(0, noise, (n, 2))
    labels = np.concatenate([np.zeros(half), np.ones(n - half)]).astype(np.int64)
    return points.astype(np.float32), labels


def toy_grid(n: int = TOY_GRID, extent=TOY_EXTENT) -> tuple[np.ndarray, np.ndarray]:
    x0, x1, y0, y1 = extent
    return np.linspace(x0, x1, n, dtype=np.float32), np.linspace(y0, y1, n, dtype=np.float32)


def toy_model(seed: int = 0, hidden: int = TOY_HIDDEN) -> torch.nn.Module:
    """A 2 → hidden → hidden → 1 ReLU MLP whose initial weights depend on `seed` only
    (the global torch RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                                   torch.nn.ReLU(), torch.nn.Linear(hidden, 1))


def train_toy(alpha: float | None, seed: int = 0, steps: int = TOY_STEPS,
              progress: Callable[[float], None] | None = None, lr: float = 0.01) -> ToyResult:
    """Figure 1(b) of Zhang et al. (mixup, ICLR 2018), live: train a small MLP on `toy_data(seed)`
    by full-batch Adam, with plain ERM when `alpha` is None and with mixup otherwise (each step,
    each point is mixed with a random partner, λ ~ Beta(α, α) per point; inputs and labels are
    mixed alike and the loss is binary cross-entropy on the soft labels). Returns p(y = 1 | x) on
    the grid. ERM and mixup at the same seed share the data and the initial weights.
    `progress(fraction)` is called now and then during training."""
    if alpha is not None:
        alpha = check_alpha(alpha)
    steps = int(steps)
    if steps < 0:
        raise MixError(f"steps must be >= 0, got {steps}")
    with torch_threads(1):  # the toy's tensors are far too small to gain from more (mixviz.threads)
        return _train_toy(alpha, int(seed), steps, progress, lr)


def _train_toy(alpha, seed, steps, progress, lr) -> ToyResult:
    start = time.perf_counter()
    points, labels = toy_data(seed)
    x = torch.from_numpy(points)
    y = torch.from_numpy(labels).float().unsqueeze(1)
    net = toy_model(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = make_generator(seed)
    n = len(x)
    every = max(1, steps // 50)
    loss = torch.tensor(float("nan"))
    for step in range(steps):
        if alpha is None:
            xb, yb = x, y
        else:
            partner = torch.randperm(n, generator=g)
            lam = beta_quantile(alpha, torch.rand(n, 1, generator=g, dtype=torch.float64)).float()
            xb = lam * x + (1 - lam) * x[partner]
            yb = lam * y + (1 - lam) * y[partner]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None and (step + 1) % every == 0:
            progress((step + 1) / steps)
    xs, ys = toy_grid()
    gx, gy = np.meshgrid(xs, ys)
    with torch.no_grad():
        prob = torch.sigmoid(net(torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1)))).reshape(gx.shape)
        accuracy = float(((net(x) > 0).float() == y).float().mean())
    if progress is not None:
        progress(1.0)
    return ToyResult(alpha, seed, steps, xs, ys, prob.numpy().astype(np.float64), points, labels, accuracy,
                     float(loss.detach()), time.perf_counter() - start)


def confidence(result: ToyResult) -> float:
    """Mean |p(y = 1 | x) − ½| over the grid: ½ for a model that is sure everywhere, 0 for one that
    is never sure."""
    return float(np.abs(result.prob - 0.5).mean())
