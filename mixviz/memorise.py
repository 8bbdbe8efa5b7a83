"""Memorising corrupted labels, and the gradients between training points: the mixup paper's Table 2 and
Figure 2 (Zhang, Cisse, Dauphin & Lopez-Paz, mixup: Beyond Empirical Risk Minimization, ICLR 2018), in
miniature on scikit-learn's bundled 8×8 digits.

- `corrupt_labels`: exactly round(share · n) training labels are replaced by random labels, uniform over all
  ten classes as in the paper (which follows Zhang et al., Understanding deep learning requires rethinking
  generalization, ICLR 2017, "a uniform random class"; one in ten replaced labels is then the original one),
  or uniform over the nine other classes (`mode="others"`: every replaced label is wrong).
- `train`: for each seed, two copies of one small MLP (same initial weights, same batch order), one trained by
  ERM and one with mixup as in the paper's Algorithm (Figure 1(a)) and the authors' CIFAR code: one λ ~ Beta(α, α)
  per minibatch, each example mixed with a partner from a random permutation of the batch, inputs and one-hot
  labels mixed alike, cross-entropy on the soft labels. The metrics of Table 2 are measured along the epochs.
- `between`: Figure 2 — at x = λ·x_i + (1 − λ)·x_j between random training pairs, the norm of the gradient of
  the loss with respect to the input (Figure 2(b)) and how often the prediction is neither y_i nor y_j
  (a "miss", Figure 2(a)), for the ERM and mixup models.

Nothing here imports streamlit; the figures are in mixviz.viz.theory.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Callable

import numpy as np
import torch

from .sampling import beta_quantile, make_generator
from .theory import check_alpha
from .threads import torch_threads
from .types import MixError

NUM_CLASSES = 10
METHODS = ("ERM", "mixup")             # axis 0 of every (method, seed, …) array below
CORRUPTIONS = (0.0, 0.2, 0.5)          # the shares of training labels replaced, as on the Theory page
SEEDS = (0, 1, 2)
# The paper's α for each share: Table 2's best mixup without dropout at 20 % (α = 8) and 50 % (α = 32);
# Table 2 has no 0 % row, where the paper's clean runs (Figure 1(b), CIFAR) use α = 1.
TABLE2_ALPHA = {0.0: 1.0, 0.2: 8.0, 0.5: 32.0}
MODES = ("all", "others")
PAIRS, LAMS = 500, 21                 # Figure 2: random training pairs per seed, values of λ in [0, 1]
_STREAMS = 4                          # torch generators per seed: corruption, batch order, mixing, pairs

FIT_LATEX = (r"\text{training accuracy on the corrupted labels} = \frac{\#\{i \text{ corrupted}: "
             r"\hat y_i = \tilde y_i\}}{\#\{i \text{ corrupted}\}}")
BETWEEN_LATEX = (r"x = \lambda x_i + (1 - \lambda)\, x_j, \qquad "
                 r"\big\|\nabla_x\, \ell\big(f(x),\ \lambda y_i + (1 - \lambda)\, y_j\big)\big\|_2")


def table2_alpha(share: float) -> float:
    """The paper's α for a corruption share (TABLE2_ALPHA); otherwise 8 up to 20 % and 32 above, as Table 2's rows."""
    share = float(share)
    if share in TABLE2_ALPHA:
        return TABLE2_ALPHA[share]
    return 1.0 if share == 0 else (8.0 if share <= 0.2 else 32.0)


@dataclass(frozen=True)
class Config:
    """How the small network is trained. The defaults are the page's: ERM fits every corrupted label within
    them on one CPU core in about 6 s per share (3 seeds, ERM and mixup). The paper trains a PreAct ResNet-18
    for 200 epochs by SGD; here an MLP by Adam, without weight decay."""

    hidden: int = 128          # 64 → hidden → hidden → 10, ReLU
    epochs: int = 100
    batch: int = 64
    lr: float = 3e-3           # Adam
    eval_every: int = 2        # metrics at epoch 0, every `eval_every` epochs, and at the last one
    n_train: int | None = None  # the first n examples of the training split (None: all 1198)

    def check(self) -> Config:
        for name in ("hidden", "epochs", "batch", "eval_every"):
            if int(getattr(self, name)) < 1:
                raise MixError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise MixError(f"the learning rate must be a positive number, got {self.lr}")
        if self.n_train is not None and int(self.n_train) < 2:
            raise MixError(f"n_train must be at least 2, got {self.n_train}")
        return self


CONFIG = Config()


# ---------------------------------------------------------------- data and corruption

@dataclass(frozen=True)
class Digits:
    """scikit-learn's 8×8 digits (1797 images, 64 pixels scaled to [0, 1], ten classes), split once into a
    stratified training set of 1198 and test set of 599 (train_test_split, random_state=0)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@lru_cache(maxsize=1)
def digits() -> Digits:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)  # the pixels are counts 0..16
    xtr, xte, ytr, yte = train_test_split(x, d.target.astype(np.int64), test_size=1 / 3, stratify=d.target,
                                          random_state=0)
    for a in (xtr, xte, ytr, yte):
        a.setflags(write=False)
    return Digits(xtr, ytr, xte, yte)


def _stream(seed: int, k: int) -> torch.Generator:
    """Generator k of a seed: the seed's corruption (0), batch order (1), mixing (2) and pairs (3) draw
    from separate streams, so that ERM and mixup at one seed see the same corruption and batch order."""
    return make_generator(_STREAMS * int(seed) + k)


def corrupt_labels(labels, share: float, seed: int = 0, num_classes: int = NUM_CLASSES,
                   mode: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """Replace exactly round(share · n) of `labels` by random labels, deterministic from `seed`.
    mode "all": uniform over all `num_classes` classes, the paper's "random labels" (so about 1 in
    `num_classes` keeps its class); "others": uniform over the other classes (every replaced label is wrong).
    Returns (new labels, mask of the replaced examples)."""
    labels = np.asarray(labels, dtype=np.int64)
    share = float(share)
    if not 0 <= share <= 1:
        raise MixError(f"the share of corrupted labels must be in [0, 1], got {share}")
    if mode not in MODES:
        raise MixError(f"mode must be one of {MODES}, got {mode!r}")
    n = len(labels)
    k = int(round(share * n))
    g = _stream(seed, 0)
    chosen = torch.randperm(n, generator=g)[:k].numpy()
    out = labels.copy()
    if mode == "all":
        out[chosen] = torch.randint(0, num_classes, (k,), generator=g).numpy()
    else:  # a shift of 1..K-1 classes: uniform over the K - 1 others
        out[chosen] = (labels[chosen] + torch.randint(1, num_classes, (k,), generator=g).numpy()) % num_classes
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return out, mask


# ---------------------------------------------------------------- the network

def mlp(seed: int, hidden: int = CONFIG.hidden, d_in: int = 64, num_classes: int = NUM_CLASSES) -> torch.nn.Sequential:
    """64 → hidden → hidden → 10 ReLU MLP, torch's default initialisation from `seed` alone
    (the global torch RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                                   torch.nn.ReLU(), torch.nn.Linear(hidden, num_classes))


_LINEAR = (0, 2, 4)  # the Linear layers of `mlp`


def _forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """M MLPs at once: x (M, B, 64) → logits (M, B, 10); params [W0, b0, W1, b1, W2, b2] with W (M, in, out)
    and b (M, 1, out). Written by hand with baddbmm: torch.func.vmap over functional_call does the same
    ~40 % slower per step at these sizes, and the page's budget is a few seconds."""
    for layer in range(3):
        x = torch.baddbmm(params[2 * layer + 1], x, params[2 * layer])
        if layer < 2:
            x = torch.relu(x)
    return x


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """−Σ_k ỹ_k log softmax(logits)_k per example: cross-entropy against a soft (mixed) label."""
    return -(target * torch.log_softmax(logits, dim=-1)).sum(-1)


def mixup(x: torch.Tensor, y: torch.Tensor, lam: torch.Tensor, perm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's mixup of a batch, for S models at once: x (S, B, D), one-hot or soft y (S, B, K), λ (S, 1, 1),
    perm (S, B) a permutation of each model's batch; returns λ·x + (1 − λ)·x[perm] and λ·y + (1 − λ)·y[perm].
    One λ per batch and a random permutation as the authors' CIFAR code (mixviz.mix_batch draws λ per sample and
    pairs by a roll, so it is not used here)."""
    rows = torch.arange(x.shape[0])[:, None]
    return lam * x + (1 - lam) * x[rows, perm], lam * y + (1 - lam) * y[rows, perm]


# ---------------------------------------------------------------- training

@dataclass(frozen=True)
class Memorised:
    """ERM and mixup models trained on one corruption share, one pair per seed, and their metrics.
    Arrays are indexed [method (METHODS), seed, evaluation] with evaluations at `epochs` (0: before training).

    - test_error: share of the test set misclassified (true labels);
    - fit_corrupted: training accuracy on the corrupted labels — the share of corrupted examples predicted as
      their corrupted label (NaN when none is corrupted); 1 − this is Table 2's "Training error, Corrupted";
    - true_corrupted: the share of corrupted examples predicted as their original label;
    - fit_clean: training accuracy on the uncorrupted examples (1 − Table 2's "Training error, Real");
    - loss: mean training loss per epoch [method, seed, epoch] (on the mixed batches for mixup);
    - labels, corrupted: each seed's training labels as trained and its mask of replaced labels;
    - kept: per seed, the share of replaced labels that drew their original class (what a model that predicts
      the true class scores on fit_corrupted);
    - weights: the final weights of the 2·S models, stacked as in `_forward` (model m = method·S + seed index).
    """

    corruption: float
    alpha: float
    seeds: tuple[int, ...]
    config: Config
    mode: str
    epochs: np.ndarray
    test_error: np.ndarray
    fit_corrupted: np.ndarray
    true_corrupted: np.ndarray
    fit_clean: np.ndarray
    loss: np.ndarray
    labels: np.ndarray
    corrupted: np.ndarray
    kept: np.ndarray
    weights: list[np.ndarray] = field(repr=False)
    seconds: float = 0.0

    def model(self, method: int | str, seed_index: int) -> torch.nn.Sequential:
        """The trained network `method` ("ERM"/"mixup" or 0/1) of the seed at `seed_index`, as a torch module."""
        m = (METHODS.index(method) if isinstance(method, str) else int(method)) * len(self.seeds) + int(seed_index)
        net = mlp(0, self.config.hidden)
        with torch.no_grad():
            for layer, i in enumerate(_LINEAR):
                net[i].weight.copy_(torch.tensor(self.weights[2 * layer][m]).T)
                net[i].bias.copy_(torch.tensor(self.weights[2 * layer + 1][m][0]))
        return net.eval()


def train(corruption: float, alpha: float, seeds=SEEDS, config: Config = CONFIG, mode: str = "all",
          progress: Callable[[float], None] | None = None) -> Memorised:
    """Table 2 of Zhang et al. (mixup, ICLR 2018) in miniature: for each seed, corrupt `corruption` of the digits'
    training labels (`corrupt_labels`), and train one MLP by ERM and one with mixup at `alpha` from the same initial
    weights and batch order (Adam, minibatches of `config.batch`, `config.epochs` epochs). Deterministic per seed
    on a CPU: the models are trained side by side as one batched network, on one thread. As α → 0, λ is 0 or 1 and
    each mixup batch is its ERM batch or a permutation of it, so mixup trains like ERM. `progress(fraction)` is
    called after every epoch."""
    alpha = check_alpha(alpha)
    config = config.check()
    seeds = tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise MixError(f"seeds must be distinct whole numbers >= 0, got {seeds}")
    with torch_threads(1):  # small matrices: more threads only wait for each other (mixviz.threads)
        return _train(float(corruption), alpha, seeds, config, mode, progress)


def _stacked_params(seeds, hidden: int, models: int) -> list[torch.Tensor]:
    """The MLPs' weights stacked as one batched network: model m = method·S + seed index, so ERM and mixup of a
    seed start alike."""
    n_seeds = len(seeds)
    inits = [mlp(s, hidden) for s in seeds]
    params = []
    for i in _LINEAR:
        params.append(torch.stack([inits[m % n_seeds][i].weight.detach().T for m in range(models)]).contiguous())
        params.append(torch.stack([inits[m % n_seeds][i].bias.detach()[None] for m in range(models)]).contiguous())
    for p in params:
        p.requires_grad_(True)
    return params


def _evaluate(params, data, labels, corrupted, metrics: dict, col: int) -> None:
    """Column `col` of the metrics: test error; on the corrupted examples the share predicted as their corrupted
    label ("fit") and as their true one; on the clean ones the accuracy."""
    x, x_test, y_test, y_true = data
    n_seeds = len(labels)
    models = 2 * n_seeds
    with torch.no_grad():
        pred_test = _forward(params, x_test.expand(models, -1, -1)).argmax(-1)
        pred = _forward(params, x.expand(models, -1, -1)).argmax(-1).numpy()
    metrics["test"][:, :, col] = (pred_test != y_test).float().mean(-1).reshape(2, n_seeds).numpy()
    for m in range(models):
        s = m % n_seeds
        c = corrupted[s]
        at = (m // n_seeds, s, col)
        if c.any():
            metrics["fit"][at] = np.mean(pred[m][c] == labels[s][c])
            metrics["true"][at] = np.mean(pred[m][c] == y_true[c])
        if (~c).any():
            metrics["clean"][at] = np.mean(pred[m][~c] == y_true[~c])


def _train(corruption, alpha, seeds, config, mode, progress) -> Memorised:
    start = time.perf_counter()
    data = digits()
    n = len(data.y_train) if config.n_train is None else min(int(config.n_train), len(data.y_train))
    x = torch.tensor(data.x_train[:n])
    y_true = data.y_train[:n]
    x_test, y_test = torch.tensor(data.x_test), torch.tensor(data.y_test)
    n_seeds, batch = len(seeds), int(config.batch)
    models = 2 * n_seeds
    labels, corrupted = zip(*(corrupt_labels(y_true, corruption, s, mode=mode) for s in seeds))
    labels, corrupted = np.stack(labels), np.stack(corrupted)
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels), NUM_CLASSES).float()   # (S, n, K)
    onehot = torch.cat([onehot, onehot])                                                     # (M, n, K)

    params = _stacked_params(seeds, config.hidden, models)
    opt = torch.optim.Adam(params, lr=config.lr)  # elementwise: each model's slice moves as on its own

    order_g = [_stream(s, 1) for s in seeds]
    mix_g = [_stream(s, 2) for s in seeds]
    rows = torch.arange(models)[:, None]
    steps = math.ceil(n / batch)
    evals = sorted({0, *range(config.eval_every, config.epochs + 1, config.eval_every), config.epochs})
    metrics = {k: np.full((2, n_seeds, len(evals)), np.nan) for k in ("test", "fit", "true", "clean")}
    losses = np.zeros((2, n_seeds, config.epochs))

    evaluate = partial(_evaluate, params, (x, x_test, y_test, y_true), labels, corrupted, metrics)
    evaluate(0)
    for epoch in range(config.epochs):
        order = torch.stack([torch.randperm(n, generator=g) for g in order_g])
        order = torch.cat([order, order])                                                     # (M, n)
        # mixup's draws for the epoch, per seed: λ per step, and uniforms whose argsort is each step's permutation
        lam = torch.stack([beta_quantile(alpha, torch.rand(steps, generator=g, dtype=torch.float64)) for g in mix_g])
        lam = lam.float()[:, :, None, None]                                                     # (S, steps, 1, 1)
        keys = torch.stack([torch.rand(steps, batch, generator=g) for g in mix_g])              # (S, steps, B)
        total = torch.zeros(models, dtype=torch.float64)
        for step in range(steps):
            idx = order[:, step * batch:(step + 1) * batch]
            xb, yb = x[idx], onehot[rows, idx]                                                   # (M, b, ·)
            b = idx.shape[1]
            perm = torch.argsort(keys[:, step, :b], dim=1)
            xm, ym = mixup(xb[n_seeds:], yb[n_seeds:], lam[:, step], perm)  # the mixup models' half
            xb, yb = torch.cat([xb[:n_seeds], xm]), torch.cat([yb[:n_seeds], ym])
            per_model = soft_cross_entropy(_forward(params, xb), yb).mean(-1)                     # (M,)
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()  # each model's gradient is its own mean loss's
            opt.step()
            total += per_model.detach().double() * b
        losses[:, :, epoch] = (total / n).reshape(2, n_seeds).numpy()
        if epoch + 1 in evals:
            evaluate(evals.index(epoch + 1))
        if progress is not None:
            progress((epoch + 1) / config.epochs)
    kept = np.array([np.mean(lab[c] == y_true[c]) if c.any() else np.nan for lab, c in zip(labels, corrupted)])
    weights = [p.detach().numpy().copy() for p in params]
    for a in (labels, corrupted, kept, *weights, *metrics.values(), losses):
        a.setflags(write=False)
    return Memorised(corruption, alpha, seeds, config, mode, np.asarray(evals), metrics["test"], metrics["fit"],
                     metrics["true"], metrics["clean"], losses, labels, corrupted, kept, weights,
                     time.perf_counter() - start)


# ---------------------------------------------------------------- Table 2's columns

@dataclass(frozen=True)
class Table2Row:
    """One row of Table 2 (in %), mean and standard deviation over the seeds: test error at its best epoch and
    at the last, and training error on the real (uncorrupted) and on the corrupted labels at the last epoch."""

    corruption: float
    method: str
    best: tuple[float, float]
    last: tuple[float, float]
    real: tuple[float, float]
    corrupted: tuple[float, float]


def _mean_std(v: np.ndarray) -> tuple[float, float]:
    v = 100 * np.asarray(v, dtype=np.float64)
    return (float(np.mean(v)), float(np.std(v))) if np.isfinite(v).all() else (math.nan, math.nan)


def table2(result: Memorised) -> list[Table2Row]:
    """Table 2's columns for the ERM and mixup models of `result` (NaN where there are no corrupted labels)."""
    rows = []
    for k, method in enumerate(METHODS):
        name = method if k == 0 else f"mixup (α = {result.alpha:g})"
        rows.append(Table2Row(result.corruption, name, _mean_std(result.test_error[k].min(-1)),
                              _mean_std(result.test_error[k, :, -1]), _mean_std(1 - result.fit_clean[k, :, -1]),
                              _mean_std(1 - result.fit_corrupted[k, :, -1])))
    return rows


# ---------------------------------------------------------------- Figure 2: between training points

@dataclass(frozen=True)
class Between:
    """Figure 2 of Zhang et al. on the models of a `Memorised`: at x = λ·x_i + (1 − λ)·x_j for `n_pairs` random
    pairs of distinct training examples (the same pairs for ERM and mixup at a seed), [method, seed, λ] arrays of
    - grad_norm: the mean over the pairs of ‖∇_x ℓ(f(x), λ·y_i + (1 − λ)·y_j)‖₂, ℓ the cross-entropy (Figure 2(b));
    - miss: the share of pairs whose prediction at x is neither y_i nor y_j (Figure 2(a)).
    y are the labels the models were trained on (the corrupted ones included). The paper's caption says "norm of the
    gradients of the model w.r.t. input" without naming the function; the loss at the mixed label is our reading."""

    corruption: float
    alpha: float
    lams: np.ndarray
    grad_norm: np.ndarray
    miss: np.ndarray
    n_pairs: int


def pairs(n: int, n_pairs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n_pairs` pairs (i, j) of distinct indices below `n`, uniform, deterministic from `seed`."""
    if n < 2:
        raise MixError(f"pairs need at least two training examples, got {n}")
    g = _stream(seed, 3)
    i = torch.randint(0, n, (int(n_pairs),), generator=g)
    j = (i + torch.randint(1, n, (int(n_pairs),), generator=g)) % n
    return i.numpy(), j.numpy()


def input_gradients(net: torch.nn.Module, x_i, x_j, y_i, y_j, lams, num_classes: int = NUM_CLASSES):
    """At x = λ·x_i + (1 − λ)·x_j for each pair and each λ of `lams`: the gradient of the cross-entropy
    ℓ(f(x), λ·onehot(y_i) + (1 − λ)·onehot(y_j)) with respect to x, (P, L, D), and the prediction argmax f(x),
    (P, L). Each point's loss depends on its own input only, so one backward pass of their sum gives them all."""
    x_i, x_j = torch.as_tensor(x_i, dtype=torch.float32), torch.as_tensor(x_j, dtype=torch.float32)
    lam = torch.as_tensor(np.asarray(lams, dtype=np.float32))[None, :, None]                 # (1, L, 1)
    y_i = torch.nn.functional.one_hot(torch.as_tensor(y_i), num_classes).float()[:, None]
    y_j = torch.nn.functional.one_hot(torch.as_tensor(y_j), num_classes).float()[:, None]
    x = (lam * x_i[:, None] + (1 - lam) * x_j[:, None]).detach().requires_grad_(True)        # (P, L, D)
    logits = net(x)
    loss = soft_cross_entropy(logits, lam * y_i + (1 - lam) * y_j)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return grad, logits.argmax(-1).detach()


def between(result: Memorised, n_pairs: int = PAIRS, n_lams: int = LAMS) -> Between:
    """Figure 2 of Zhang et al. (mixup, ICLR 2018) on `result`'s models: gradient norms and misses on a grid of
    `n_lams` values of λ in [0, 1] (see `Between`); a seed's pairs are drawn from that seed."""
    if int(n_pairs) < 1 or int(n_lams) < 2:
        raise MixError(f"need at least one pair and two values of λ, got {n_pairs} and {n_lams}")
    lams = np.linspace(0.0, 1.0, int(n_lams))
    n_seeds = len(result.seeds)
    norms = np.zeros((2, n_seeds, len(lams)))
    miss = np.zeros((2, n_seeds, len(lams)))
    data = digits()
    n = result.labels.shape[1]
    with torch_threads(1):
        for s, seed in enumerate(result.seeds):
            i, j = pairs(n, n_pairs, seed)
            labels = result.labels[s]
            for k in range(2):
                grad, pred = input_gradients(result.model(k, s), data.x_train[i], data.x_train[j], labels[i],
                                             labels[j], lams)
                norms[k, s] = grad.norm(dim=-1).mean(0).numpy()
                pred = pred.numpy()
                miss[k, s] = np.mean((pred != labels[i][:, None]) & (pred != labels[j][:, None]), axis=0)
    return Between(result.corruption, result.alpha, lams, norms, miss, int(n_pairs))
