"""Puzzle Mix (Kim, Choo & Song, ICML 2020): a block mask chosen by a multi-label graph cut on
gradient saliency and local image statistics, then optimal transport of salient blocks.

For each pair, the share of the first image in each of G×G blocks, z ∈ {0, 1/(n−1), …, 1}, minimises

    Σ_i z_i·s_B(i) + (1 − z_i)·s_A(i)                 the saliency the mix hides
  + β Σ_{i~j} [(z_i − z_j)² + γ·φ_ij(z_i, z_j)]       smooth labels, and no seams between unlike pixels
  − η Σ_i log Binomial(z_i·(n−1); n−1, λ)             the prior that keeps the mask's mean near λ

solved by the α-β-swap graph cut of GCO (PyPI gco-wrapper), as the authors do. φ_ij is the mean colour
difference across the border of blocks i and j for each pair of sources, split into unary terms and
an edge weight, and interpolated between sources for the in-between labels. The scales follow the
authors' code: saliency sums to 1 per image, the prior is divided by G² and β by 16G.

Transport then moves each image's blocks by the permutation that maximises the saliency it shows
minus ε·(squared block distance moved, divided by (G − 1)²). That is a linear assignment problem,
solved exactly here with scipy; the authors approximate it with a greedy loop on the GPU.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from ..registry import register
from ..sampling import real, real_dtype
from ..types import MapNeed, ParamSpec
from .base import TwoInputMask, cell_bounds, cell_index

BLOCKS = (2, 4, 8, 16)
SCALE = 10_000  # integer energies for GCO: a block's saliency (about 1/G²) resolves to 1 part in 10⁴


def _seams(a: torch.Tensor, b: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean colour difference across each block border when the upper (left) block shows `a` and the
    lower (right) one shows `b`, from cell grids (B, C, G·k, G·k): vertical (B, G−1, G), horizontal (B, G, G−1)."""
    g = a.shape[-1] // k
    vertical = (a[:, :, k - 1:-1:k, :] - b[:, :, k::k, :]).abs().mean(1).unflatten(2, (g, k)).mean(3)
    horizontal = (a[:, :, :, k - 1:-1:k] - b[:, :, :, k::k]).abs().mean(1).unflatten(1, (g, k)).mean(2)
    return vertical, horizontal


def block_costs(s: list[torch.Tensor], cells: list[torch.Tensor], beta: float, gamma: float
                ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """From the two inputs' block saliency s (B, G, G), summing to 1, and cell grids (B, C, G·k, G·k):
    the cost of showing input 0 and input 1 in each block (B, G, G), and the vertical and horizontal
    edge weights of the label smoothness (B, G−1, G) and (B, G, G−1)."""
    g = s[0].shape[-1]
    k = cells[0].shape[-1] // g
    beta = beta / (16 * g)
    bg = beta * gamma
    show = [s[1].clone(), s[0].clone()]  # showing one image hides the other's saliency
    seam = {(a, b): _seams(cells[a], cells[b], k) for a in (0, 1) for b in (0, 1)}
    for a in (0, 1):
        (va0, ha0), (va1, ha1) = seam[a, 0], seam[a, 1]
        (v0a, h0a), (v1a, h1a) = seam[0, a], seam[1, a]
        show[a][:, :-1, :] += bg * (va0 + va1) / 2  # block above a border shows a
        show[a][:, 1:, :] += bg * (v0a + v1a) / 2  # block below shows a
        show[a][:, :, :-1] += bg * (ha0 + ha1) / 2
        show[a][:, :, 1:] += bg * (h0a + h1a) / 2
    edge_v = beta + bg * (seam[0, 1][0] + seam[1, 0][0] - seam[0, 0][0] - seam[1, 1][0]) / 2
    edge_h = beta + bg * (seam[0, 1][1] + seam[1, 0][1] - seam[0, 0][1] - seam[1, 1][1]) / 2
    return show, edge_v.clamp_min(0), edge_h.clamp_min(0)  # γ ≤ 1 keeps them positive; the clamp guards the cut


def block_mask(show0: np.ndarray, show1: np.ndarray, edge_v: np.ndarray, edge_h: np.ndarray, lam: float,
               n_labels: int, eta: float) -> np.ndarray:
    """(G, G) share of input 0 per block: the α-β-swap graph cut of the energy in the module docstring."""
    import gco  # graph cuts (PyPI gco-wrapper), loaded when Puzzle Mix first cuts

    g = show0.shape[0]
    shares = np.linspace(0.0, 1.0, n_labels)
    prior = np.array([math.comb(n_labels - 1, l) * lam ** l * (1 - lam) ** (n_labels - 1 - l)
                      for l in range(n_labels)])
    prior = -eta * np.log(prior + 1e-8) / g ** 2
    unary = shares * show0[..., None] + (1 - shares) * show1[..., None] + prior
    if g == 1:
        return shares[unary.reshape(-1).argmin()].reshape(1, 1)
    big = SCALE * g ** 2
    labels = np.arange(n_labels)
    pairwise = ((labels[:, None] - labels[None, :]) ** 2).astype(np.int32)  # (z_i − z_j)²·(n − 1)²
    to_int = lambda a: np.rint(big * a).astype(np.int32)  # noqa: E731
    out = gco.cut_grid_graph(to_int(unary), pairwise, to_int(edge_v / (n_labels - 1) ** 2),
                             to_int(edge_h / (n_labels - 1) ** 2), algorithm="swap")
    return shares[out].reshape(g, g)


def transport(shown: np.ndarray, saliency: np.ndarray, eps: float) -> np.ndarray:
    """(G²,) source block of each block position: the permutation maximising the saliency shown where
    `shown` (G, G) is true minus eps·(squared block distance)/(G − 1)², exactly (linear assignment)."""
    g = shown.shape[0]
    if g == 1:
        return np.zeros(1, dtype=np.int64)
    yy, xx = np.divmod(np.arange(g * g), g)
    dist = ((yy[:, None] - yy[None, :]) ** 2 + (xx[:, None] - xx[None, :]) ** 2) / (g - 1) ** 2
    cost = eps * dist - saliency.reshape(-1, 1) * shown.reshape(1, -1)  # block i moved to position j
    rows, cols = linear_sum_assignment(cost)
    source = np.empty(g * g, dtype=np.int64)
    source[cols] = rows
    return source


def _pixel_blocks(n: int, g: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Block index of each of n pixels, offset inside its block, and each block's start and size."""
    bounds = cell_bounds(n, g)
    start = torch.tensor([a for a, _ in bounds], device=device)
    size = torch.tensor([b - a for a, b in bounds], device=device)
    block = cell_index(n, g, device)
    return block, torch.arange(n, device=device) - start[block], start, size


def block_source_index(source: torch.Tensor, g: int, h: int, w: int) -> torch.Tensor:
    """(B, H·W): the flat pixel of the same image that each pixel shows when block position j shows block
    source[:, j]; blocks span [⌈kH/G⌉, ⌈(k+1)H/G⌉) and may differ by a pixel, so the last row or column
    of a smaller source block repeats there."""
    row_block, dy, top, height = _pixel_blocks(h, g, source.device)
    col_block, dx, left, width = _pixel_blocks(w, g, source.device)
    src = source[:, row_block[:, None] * g + col_block[None, :]]  # (B, H, W)
    sr, sc = src // g, src % g
    sy = top[sr] + torch.minimum(dy[None, :, None], height[sr] - 1)
    sx = left[sc] + torch.minimum(dx[None, None, :], width[sc] - 1)
    return (sy * w + sx).flatten(1)


def move_blocks(x: torch.Tensor, source: torch.Tensor, g: int) -> torch.Tensor:
    """x (B, C, H, W) with block position j showing block source[:, j] of the same image."""
    b, c, h, w = x.shape
    index = block_source_index(source, g, h, w)[:, None].expand(b, c, -1)
    return x.flatten(2).gather(2, index).view(b, c, h, w)


@register(
    name="puzzlemix", title="Puzzle Mix", family="guided", n_inputs=2, needs="model",
    params=(ParamSpec("blocks", "random", choices=("random",) + BLOCKS,
                      help="the mask is a G×G grid of blocks (paper: G drawn from 2, 4, 8, 16 per batch)"),
            ParamSpec("n_labels", 3, 2, 4, 1, "values a block's share can take: 0, 1/(n−1), …, 1 (paper: 3)"),
            ParamSpec("beta", 1.2, 0.0, 3.0, 0.1, "β: smoothness of the mask between neighbouring blocks"),
            ParamSpec("gamma", 0.5, 0.0, 1.0, 0.05, "γ: penalty for seams between unlike pixels, relative to β"),
            ParamSpec("eta", 0.2, 0.0, 2.0, 0.05, "η: weight of the prior that keeps the mask's mean near λ"),
            ParamSpec("transport", True, help="move each image's salient blocks to where that image shows"),
            ParamSpec("t_eps", 0.8, 0.0, 4.0, 0.1, "ε: transport cost of moving a block (paper: 0.8)")),
    paper="Kim, Choo & Song. Puzzle Mix: Exploiting Saliency and Local Statistics for Optimal Mixup. ICML 2020.",
    summary="A graph cut chooses, block by block, how much of each image to show: keep what the network finds "
            "salient (gradient saliency), avoid seams, and keep the mask's mean near λ. Then each image's salient "
            "blocks are moved to where that image shows. The label is the mask's mean, not the drawn λ.",
    formula=r"z^* = \arg\min_z\ S(z) + \beta\,\Psi(z) - \eta \sum_i \log p(z_i \mid \lambda),\quad "
            r"S(z) = \sum_i z_i\, s_B(i) + (1-z_i)\, s_A(i),\quad "
            r"\Psi(z) = \sum_{i\sim j} \big[(z_i-z_j)^2 + \gamma\,\phi_{ij}(z_i, z_j)\big],\quad "
            r"\tilde x = z \odot \Pi_A^\top x_A + (1-z) \odot \Pi_B^\top x_B,\quad \lambda' = \bar z",
)
class PuzzleMix(TwoInputMask):
    """Saliency: `maps` (any non-negative maps) or `puzzle_saliency` from mixviz.load_model(). G is
    drawn once per call, as the authors draw it once per batch. Local statistics compare the cells
    of a G·k × G·k grid, k = max(1, 8 // G) cells per block side, so a cell is 1/8 of the image as in
    the authors' CIFAR setting (4 px of 32). Label weights are the exact pixel shares of the mask."""

    guide_views = ("puzzle_blocks",)

    def guide_maps(self, config):
        return (MapNeed("loss_gradient"),)

    def draw(self, c):
        """λ per sample, and the grid G once per call (a plain int: the same for every sample)."""
        d = c.ctx
        blocks = c.config["blocks"]
        if blocks == "random":
            blocks = BLOCKS[int(d.randint(len(BLOCKS), 1)[0])]
        return {"lam": d.lam_or_beta(), "blocks": min(int(blocks), d.height, d.width)}

    def per_image(self, c, x, maps):
        maps = maps.clamp_min(0).float()
        h, w = x.shape[2:]
        stats = {"saliency": maps}
        for g in ((c.config["blocks"],) if c.config["blocks"] != "random" else BLOCKS):
            g = min(g, h, w)
            unary = real(F.adaptive_avg_pool2d(maps[:, None], g)[:, 0])
            total = unary.flatten(1).sum(1)[:, None, None]
            stats[f"unary{g}"] = torch.where(total > 0, unary / total.clamp_min(1e-30), 1.0 / g ** 2)
            stats[f"cells{g}"] = real(F.adaptive_avg_pool2d(x.float(), g * max(1, 8 // g)))
        return stats

    def plan(self, c):
        p, config, g = c.draws, c.config, c.draws["blocks"]
        unary = [c.inputs[j][f"unary{g}"] for j in (0, 1)]
        show, edge_v, edge_h = block_costs(unary, [c.inputs[j][f"cells{g}"] for j in (0, 1)],
                                           config["beta"], config["gamma"])
        show = [s.cpu().numpy() for s in show]
        edge_v, edge_h, lam = edge_v.cpu().numpy(), edge_h.cpu().numpy(), p["lam"].cpu().double().numpy()
        unary = [u.cpu().numpy() for u in unary]
        shares, sources = [], [[], []]
        for i in range(lam.shape[0]):
            z = block_mask(show[0][i], show[1][i], edge_v[i], edge_h[i], float(lam[i]), config["n_labels"],
                           config["eta"])
            shares.append(z)
            for j, shown in enumerate((z > 0, z < 1)):
                sources[j].append(transport(shown, unary[j][i], config["t_eps"]) if config["transport"]
                                  else np.arange(g * g))
        device = p["lam"].device
        return {"z": torch.from_numpy(np.stack(shares)).float().to(device),
                "source0": torch.from_numpy(np.stack(sources[0])).to(device),
                "source1": torch.from_numpy(np.stack(sources[1])).to(device)}

    def _share0(self, c, dtype):
        """(B, 1, H, W) share of input 0 per pixel."""
        z, g = c.draws["z"], c.draws["blocks"]
        rows = _pixel_blocks(c.height, g, z.device)[0]
        cols = _pixel_blocks(c.width, g, z.device)[0]
        return z[:, rows][:, :, cols][:, None].to(dtype)

    def mask1(self, c, dtype):
        return 1 - self._share0(c, dtype)

    def apply(self, c, out):
        p = c.draws
        moved = [x if bool((src == torch.arange(src.shape[1], device=src.device)).all()) else
                 move_blocks(x, src, p["blocks"]) for x, src in zip(c.xs, (p["source0"], p["source1"]))]
        torch.lerp(moved[0], moved[1], self.mask1(c, c.xs[0].dtype), out=out)

    def used(self, c, masks):
        """Each image's share at the pixel it shows, carried back to where transport took that pixel from."""
        b, k, h, w = masks.shape
        out = torch.zeros(b, k, h * w, device=masks.device)
        for j, source in enumerate((c.draws["source0"], c.draws["source1"])):
            out[:, j].scatter_reduce_(1, block_source_index(source, c.draws["blocks"], h, w), masks[:, j].flatten(1),
                                      "amax")
        return out.view(b, k, h, w)

    def weights(self, c):
        """The block mask's exact pixel shares (its mean, not the drawn λ)."""
        share0 = self._share0(c, real_dtype(c.draws["z"].device)).flatten(1).mean(1)
        return torch.stack([share0, 1 - share0], 1)

    def info(self, c):
        p, g = c.draws, c.draws["blocks"]
        info = {"lam": float(p["lam"][0]), "blocks": g, "transport": c.config["transport"]}
        info["block_mask"] = p["z"][0].float()
        info["lam_corrected"] = float(self.weights(c)[0, 0])  # the mask mean, the label
        info["source"] = [p[f"source{j}"][0].tolist() for j in (0, 1)]
        info["moved"] = [sum(int(s != j) for j, s in enumerate(source)) for source in info["source"]]
        info["unary"] = [c.inputs[j][f"unary{g}"][0].float() for j in (0, 1)]
        info["saliency"] = [c.inputs[j]["saliency"][0] for j in (0, 1)]
        return info
