"""Cut-and-paste and occlusion methods: regions of one image replaced by another image or by a fill.

CutMix (Yun et al., ICCV 2019), Cutout (DeVries & Taylor, 2017), SmoothMix (Lee et al.,
CVPRW 2020), GridMask (Chen et al., 2020), FMix (Harris et al., 2020), ResizeMix (Qin et al.,
arXiv:2012.11101, 2020).
"""
from __future__ import annotations

import math

import torch

from ..registry import register
from ..sampling import centred_boxes, real
from ..types import MixError, ParamSpec
from .base import Call, OneInputMask, TwoInputMask, TwoInputPaste, band, outer

# Cutout's and GridMask's reference code masks the ImageNet-normalised tensor, so a removed pixel is the
# dataset's mean colour once the picture is mapped back to [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
FILL = ParamSpec("fill", "mean", choices=("mean", "black", "grey"),
                 help="colour of removed pixels: mean: ImageNet's mean colour (the authors mask the normalised "
                      "image, so removed pixels become the mean); black; grey: the grey level below")
GREY = ParamSpec("grey", 0.5, 0.0, 1.0, 0.05, "grey level of removed pixels when fill is grey")


def fill_colour(config: dict, channels: int) -> tuple[float, ...]:
    """The per-channel value of removed pixels for the `fill` and `grey` parameters (the mean's average on
    images that are not RGB)."""
    if config["fill"] == "black":
        return (0.0,) * channels
    if config["fill"] == "grey":
        return (float(config["grey"]),) * channels
    return IMAGENET_MEAN if channels == 3 else (sum(IMAGENET_MEAN) / 3,) * channels


def _areas_w(inside_area: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Label weights (B, 2) when input 1 covers `inside_area` pixels and input 0 the rest."""
    share1 = real(inside_area) / (height * width)
    return torch.stack([1 - share1, share1], 1)


def cutmix_box_size(lam: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """CutMix's box sides for λ: ⌊H√(1−λ)⌋ × ⌊W√(1−λ)⌋ (so the box covers 1 − λ of the image before clipping)."""
    cut = torch.sqrt(1 - lam)
    return (height * cut).floor().long(), (width * cut).floor().long()


def box_area(boxes: dict, suffix: str = "") -> torch.Tensor:
    """Per-sample pixel area of the boxes [y1, y2) × [x1, x2) (keys with `suffix`)."""
    return (boxes["y2" + suffix] - boxes["y1" + suffix]) * (boxes["x2" + suffix] - boxes["x1" + suffix])


def box_map(boxes: dict, height: int, width: int, dtype=torch.float32, out: torch.Tensor | None = None) -> torch.Tensor:
    """(B, 1, H, W) indicator of each sample's box [y1, y2) × [x1, x2), in `dtype` (written into `out` if given)."""
    rows, cols = band(height, boxes["y1"], boxes["y2"]), band(width, boxes["x1"], boxes["x2"])
    if out is None:
        return outer(rows, cols, dtype)
    return torch.mul(rows.to(dtype)[:, None, :, None], cols.to(dtype)[:, None, None, :], out=out)


def paste_or_blend(method: TwoInputMask, c: Call, boxes: dict, out: torch.Tensor) -> None:
    """Input 0 with input 1's pixels in each sample's box [y1, y2) × [x1, x2) (the same box in both). On a
    CPU a copy and one slice copy per sample (a third of the masked blend's time on floats, a fifth on
    uint8); elsewhere the masked blend, which needs the boxes on no host."""
    if out.device.type != "cpu":
        TwoInputMask.apply(method, c, out)
        return
    x0, x1 = c.xs
    out.copy_(x0)
    for i, (t, b, l, r) in enumerate(torch.stack([boxes[k] for k in ("y1", "y2", "x1", "x2")], 1).tolist()):
        if b > t and r > l:
            out[i, :, t:b, l:r] = x1[i, :, t:b, l:r]


class OneChannelMask(TwoInputMask):
    """A two-input method whose share map of input 1 (mask1) is one channel at full size. Its masks 1 − m and m
    are written into one (B, 2, H, W) tensor: the values of TwoInputMask.masks without its copies (the channel
    mean, 1 − m, the concatenation), which on 51 frames of 288 × 384 (mixviz.sweep) cost more than the mix."""

    def write_mask1(self, c: Call, out: torch.Tensor) -> None:
        """Write mask1 (B, 1, H, W) into `out`, float32."""
        out.copy_(self.mask1(c, out.dtype))

    def masks(self, c):
        masks = torch.empty(c.batch, 2, c.height, c.width, dtype=torch.float32, device=c.ctx.device)
        self.write_mask1(c, masks[:, 1:])
        torch.neg(masks[:, 1:], out=masks[:, :1]).add_(1)  # −m + 1 is 1 − m exactly
        return masks


class BoxMask(OneChannelMask):
    """Input 1 inside each sample's box [y1, y2) × [x1, x2) (in c.draws)."""

    def mask1(self, c, dtype):
        return box_map(c.draws, c.height, c.width, dtype)

    def write_mask1(self, c, out):
        box_map(c.draws, c.height, c.width, out.dtype, out)


def box_paste_weights(c: Call) -> torch.Tensor:
    """Label weights (B, 2) of a paste whose box [y1, y2) × [x1, x2) (in c.draws) holds input 1."""
    return _areas_w(box_area(c.draws), c.height, c.width)


def centre_param(what: str) -> ParamSpec:
    """The optional centre of `what` (a point (y, x) in fractions of H and W; None: drawn)."""
    return ParamSpec("centre", None, 0.0, 1.0,
                     help=f"the centre of {what} (row, column) as fractions of the height and width; "
                          "None: drawn uniformly, as the authors draw it")


def centre_pixel(fraction: float, n: int) -> int:
    """The pixel row (or column) min(⌊fraction·n⌋, n − 1) of a given centre. fraction·n is taken to 10⁻⁹ first, so
    that the centre reported for row c, c/n, lands on row c again (⌊(c/n)·n⌋ is c − 1 for some c and n)."""
    return min(math.floor(fraction * n + 1e-9), n - 1)


def fixed_centres(c: Call, cy: torch.Tensor, cx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The drawn integer centres cy, cx ((B,) or (B, n): sample b's first box in column 0), with the first box's
    replaced by the call's `centre` where one is given. The centres are drawn either way, so that every other
    draw of the call stays the same."""
    centre = c.config.get("centre")
    if centre is None:
        return cy, cx
    cy, cx = cy.clone(), cx.clone()
    first = (slice(None), 0) if cy.dim() == 2 else (slice(None),)
    cy[first] = centre_pixel(centre[0], c.height)
    cx[first] = centre_pixel(centre[1], c.width)
    return cy, cx


def box_info(y1, y2, x1, x2, height: int, width: int) -> dict:
    """The centre and the size of box [y1, y2) × [x1, x2) (before clipping) in fractions of H and W, for a UI
    that draws and moves it: "centre" given back as the method's `centre` puts the box there again."""
    return {"centre": [(y1 + y2) / 2 / height, (x1 + x2) / 2 / width],
            "box_size": [(y2 - y1) / height, (x2 - x1) / width]}


@register(
    name="cutmix", title="CutMix", family="cut", n_inputs=2, params=(centre_param("the box"),),
    paper="Yun, Han, Oh, Chun, Choe & Yoo. CutMix: Regularization Strategy to Train Strong Classifiers "
          "with Localizable Features. ICCV 2019.",
    summary="A box of the second image is pasted into the first; the box has sides W√(1−λ) and H√(1−λ) "
            "and a uniform centre (or a fixed one: the parameter centre), and is clipped at the border. The label uses "
            "the area actually pasted.",
    formula=r"\tilde x = M \odot x_A + (1-M) \odot x_B,\quad r_w = W\sqrt{1-\lambda},\ r_h = H\sqrt{1-\lambda},"
            r"\quad \lambda' = 1 - \frac{|\text{box} \cap \text{image}|}{WH},\quad \tilde y = \lambda' y_A + (1-\lambda') y_B",
)
class CutMix(BoxMask):
    """The centre is the reference's integer centre (randint(H), randint(W)); a given `centre` (y, x) fixes it at
    pixel (⌊yH⌋, ⌊xW⌋) instead, for every sample (the centre is still drawn, so the other draws stay the same)."""

    copies_pixels = True

    def draw(self, c):
        d = c.ctx
        lam = d.lam_or_beta()
        box_h, box_w = cutmix_box_size(lam, d.height, d.width)
        cy, cx = fixed_centres(c, d.randint(d.height), d.randint(d.width))
        boxes = centred_boxes(cy, cx, box_h, box_w, d.height, d.width)
        return {"lam": lam, "lam_corrected": _areas_w(box_area(boxes), d.height, d.width)[:, 0], **boxes}

    def apply(self, c, out):
        paste_or_blend(self, c, c.draws, out)

    def weights(self, c):
        """λ' = 1 − (clipped box area)/(HW) and 1 − λ'."""
        return box_paste_weights(c)

    def info(self, c):
        p = c.draws
        return {**super().info(c), **box_info(*(int(p[k + "_raw"][0]) for k in ("y1", "y2", "x1", "x2")),
                                              c.height, c.width)}


@register(
    name="cutout", title="Cutout", family="cut", n_inputs=1,
    params=(ParamSpec("size", 0.5, 0.05, 1.0, 0.05, "side of each square hole, as a fraction of the shorter image side"),
            ParamSpec("n_holes", 1, 1, 8, 1, "number of holes"),
            FILL, GREY, centre_param("the (first) hole")),
    paper="DeVries & Taylor. Improved Regularization of Convolutional Neural Networks with Cutout. arXiv:1708.04552, 2017.",
    summary="A square hole with a uniformly drawn centre (or a fixed one: the parameter centre) is cut out of the "
            "image; where it crosses the border it is clipped. The label is unchanged. The hole shows ImageNet's "
            "mean colour by default, since the authors cut it out of the normalised image (black and grey are options).",
    formula=r"\tilde x = M \odot x + (1-M)\cdot \text{fill},\quad \tilde y = y",
    uses_lam=False, label_rule="kept",
)
class Cutout(OneInputMask):
    """Hole centres are the reference's integer centres; a given `centre` fixes the first hole's (as CutMix's),
    for every sample, and the other holes are drawn as without it."""

    def draw(self, c):
        d = c.ctx
        side = max(1, round(c.config["size"] * min(d.height, d.width)))
        n = c.config["n_holes"]
        cy, cx = fixed_centres(c, d.randint(d.height, d.batch * n).view(d.batch, n),
                               d.randint(d.width, d.batch * n).view(d.batch, n))
        side_t = torch.full_like(cy, side)
        return centred_boxes(cy, cx, side_t, side_t, d.height, d.width)

    def fill(self, c):
        return fill_colour(c.config, c.ctx.channels)

    def mask0(self, c, dtype):
        holes = c.draws
        keep = 1 - box_map({k: v[:, 0] for k, v in holes.items()}, c.height, c.width, dtype)
        for i in range(1, holes["y1"].shape[1]):
            keep.mul_(1 - box_map({k: v[:, i] for k, v in holes.items()}, c.height, c.width, dtype))
        return keep

    def info(self, c):
        p = c.draws
        return {**super().info(c), **box_info(*(int(p[k + "_raw"][0, 0]) for k in ("y1", "y2", "x1", "x2")),
                                              c.height, c.width)}


@register(
    name="smoothmix", title="SmoothMix", family="cut", n_inputs=2,
    params=(ParamSpec("sigma_min", 0.25, 0.05, 1.0, 0.05, "smallest σ of the Gaussian, as a fraction of √(H·W)"),
            ParamSpec("sigma_max", 0.5, 0.05, 1.0, 0.05, "largest σ of the Gaussian, as a fraction of √(H·W)")),
    paper="Lee, Zaheer, Astrid & Lee. SmoothMix: a Simple Yet Effective Data Augmentation to Train Robust "
          "Classifiers. CVPR Workshops 2020.",
    summary="The second image is blended in through a Gaussian blob with a random centre and width, so the "
            "pasted region has soft edges instead of CutMix's sharp box. Each label weight is that image's "
            "mean share of the pixels.",
    formula=r"G(p) = e^{-\|p-c\|^2 / 2\sigma^2},\quad \tilde x = (1-G)\odot x_A + G \odot x_B,"
            r"\quad \tilde y = (1-\bar G)\, y_A + \bar G\, y_B",
    uses_lam=False,
)
class SmoothMix(OneChannelMask):
    """The Gaussian is separable, G = g_y ⊗ g_x, so its mean (the label weight of input B) is
    mean(g_y)·mean(g_x), computed exactly without building the map. Centre: uniform pixel;
    σ ~ U(sigma_min, sigma_max)·√(HW) (openmixup's U(0.25, 0.5)·H on square images)."""

    def draw(self, c):
        d = c.ctx
        lo, hi = c.config["sigma_min"], c.config["sigma_max"]
        if lo > hi:
            raise MixError(f"smoothmix: sigma_min ({lo}) must not exceed sigma_max ({hi})")
        sigma = (lo + (hi - lo) * real(d.rand(d.batch))) * math.sqrt(d.height * d.width)
        cy, cx = d.randint(d.height), d.randint(d.width)
        return {"sigma": sigma, "cy": cy, "cx": cx}

    @staticmethod
    def _profiles(sigma, cy, cx, height, width):
        ys = torch.arange(height, device=sigma.device, dtype=sigma.dtype)
        xs = torch.arange(width, device=sigma.device, dtype=sigma.dtype)
        two_s2 = (2 * sigma**2)[:, None]
        return torch.exp(-((ys - cy[:, None]) ** 2) / two_s2), torch.exp(-((xs - cx[:, None]) ** 2) / two_s2)

    def mask1(self, c, dtype):
        return outer(*self._profiles(c.draws["sigma"], c.draws["cy"], c.draws["cx"], c.height, c.width), dtype)

    def weights(self, c):
        """Input B's weight is the Gaussian's mean share, mean(g_y)·mean(g_x), exactly."""
        gy, gx = self._profiles(c.draws["sigma"], c.draws["cy"], c.draws["cx"], c.height, c.width)
        share1 = gy.mean(1) * gx.mean(1)
        return torch.stack([1 - share1, share1], 1)


@register(
    name="gridmask", title="GridMask", family="cut", n_inputs=1,
    params=(ParamSpec("d_min", 0.43, 0.05, 1.0, 0.01, "smallest grid unit d, as a fraction of the shorter side (96/224 on ImageNet)"),
            ParamSpec("d_max", 1.0, 0.05, 1.0, 0.01, "largest grid unit d, as a fraction of the shorter side"),
            ParamSpec("ratio", 0.6, 0.05, 0.95, 0.05, "r: width of the kept grid lines as a fraction of d"),
            ParamSpec("rotate", 360, 0, 360, 1, "rotation drawn uniformly from [0, rotate) degrees"),
            ParamSpec("mode", 1, choices=(0, 1), help="1: remove squares of side (1−r)d, keep the lines (paper); 0: the inverse"),
            FILL, GREY),
    paper="Chen, Liu, Zhao & Jia. GridMask Data Augmentation. arXiv:2001.04086, 2020.",
    summary="A regular grid of squares is removed from the image: unit d, kept-line ratio r, a random phase "
            "and a random rotation. The label is unchanged; ImageNet settings are d ∈ [96, 224], r = 0.6, mode 1. "
            "Removed squares show ImageNet's mean colour by default, since the authors mask the normalised image.",
    formula=r"M(u, v) = \big[(u - \delta_y) \bmod d < \lceil rd \rceil\big] \lor "
            r"\big[(v - \delta_x) \bmod d < \lceil rd \rceil\big],"
            r"\quad \tilde x = M \odot x + (1-M)\cdot \text{fill},\quad \tilde y = y",
    uses_lam=False, label_rule="kept",
)
class GridMask(OneInputMask):
    """The reference draws the grid on a larger canvas, rotates it with PIL and crops the centre;
    here each pixel is rotated about the image centre analytically, which is the same grid up to
    its random phase and needs no canvas."""

    def draw(self, c):
        d, config = c.ctx, c.config
        side = min(d.height, d.width)
        lo = max(2, round(config["d_min"] * side))
        hi = max(lo + 1, round(config["d_max"] * side))
        if config["d_min"] > config["d_max"]:
            raise MixError("gridmask: d_min must not exceed d_max")
        unit = lo + d.randint(hi - lo)
        kept = torch.ceil(real(unit) * config["ratio"]).long()  # the reference's ⌈d·r⌉
        rotate = config["rotate"]
        angle = d.randint(rotate) if rotate > 0 else torch.zeros(d.batch, dtype=torch.long, device=d.device)
        return {"d": unit, "l": kept, "delta_y": d.randint(unit), "delta_x": d.randint(unit), "angle": angle}

    def fill(self, c):
        return fill_colour(c.config, c.ctx.channels)

    def mask0(self, c, dtype):
        p, h, w, device = c.draws, c.height, c.width, c.ctx.device
        theta = torch.deg2rad(real(p["angle"]))
        cos, sin = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
        py = (torch.arange(h, device=device, dtype=theta.dtype) + 0.5 - h / 2)[None, :, None]
        px = (torch.arange(w, device=device, dtype=theta.dtype) + 0.5 - w / 2)[None, None, :]
        u = torch.floor(cos * py - sin * px + h / 2)
        v = torch.floor(sin * py + cos * px + w / 2)
        unit, kept = real(p["d"])[:, None, None], real(p["l"])[:, None, None]
        on_line = (torch.remainder(u - real(p["delta_y"])[:, None, None], unit) < kept) | (
            torch.remainder(v - real(p["delta_x"])[:, None, None], unit) < kept)
        keep = on_line if c.config["mode"] == 1 else ~on_line
        return keep[:, None].to(dtype)


def low_frequency_field(block: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """torch.fft.irfft2 of a (B, h, w//2 + 1) spectrum that is zero outside rows × cols, as two matmuls.

    block (B, len(rows), len(cols)) complex holds the spectrum at those rows and columns. The inverse
    DFT along y over the kept rows, then the real inverse DFT along x (bins 1 … ⌈w/2⌉ − 1 counted
    twice for their conjugates), costs O(B·h·w·len(cols)) instead of a full-size FFT."""
    tau = 2 * math.pi
    ys, xs = torch.arange(h, device=block.device), torch.arange(w, device=block.device)
    along_y = torch.polar(torch.full((rows.numel(), h), 1.0 / h, device=block.device),
                          tau * (rows[:, None] * ys[None] % h) / h)
    twice = (cols > 0) & (2 * cols != w)
    along_x = torch.polar((1.0 + twice.float())[:, None].expand(-1, w) / w, tau * (cols[:, None] * xs[None] % w) / w)
    t = block.transpose(1, 2).to(along_y.dtype) @ along_y  # (B, len(cols), h): inverse DFT along y
    # Re(t·e) = Re t·Re e − Im t·Im e, as one real matmul that writes the (B, h, w) map once
    stacked = torch.cat([t.real, -t.imag], 1).transpose(1, 2)
    return stacked @ torch.cat([along_x.real, along_x.imag], 0)


@register(
    name="fmix", title="FMix", family="cut", n_inputs=2,
    params=(ParamSpec("decay", 3.0, 1.0, 6.0, 0.5, "δ: decay power of the spectrum (larger = smoother, blobbier masks)"),),
    paper="Harris, Marcu, Painter, Niranjan, Prügel-Bennett & Hare. FMix: Enhancing Mixed Sample Data "
          "Augmentation. arXiv:2002.12047, 2020.",
    summary="A random low-frequency image is made by shaping complex Gaussian noise with 1/f^δ in Fourier space; "
            "its top λ·HW pixels come from the first image and the rest from the second, giving free-form masks.",
    formula=r"g = \Re\,\mathcal F^{-1}\!\Big(\frac{z}{\max(f, 1/\max(W,H))^{\delta}}\Big),\ z \sim \mathcal{CN}(0, 1),"
            r"\quad M = \big[g \ge \mathrm{top}_{\lambda WH}(g)\big],\quad \tilde y = \bar M y_A + (1-\bar M) y_B",
)
class FMix(OneChannelMask):
    """Per-sample masks. The reference sorts all HW values to keep exactly the top ⌈λHW⌉ or ⌊λHW⌋;
    sorting 64 maps of 224² costs ~200 ms on 2 cores, so on maps of more than 8192 pixels the
    threshold is the same quantile of a strided subsample of at least 2048 pixels of the (smooth,
    low-frequency) map. The label weight is the share the mask then has, exactly; it is within 0.5%
    of λ at 224², and smaller maps are thresholded on every pixel, as the reference thresholds.

    The field is the paper's isotropic one: complex Gaussian noise shaped by 1/f^δ over the 2-D frequency
    plane. The official code builds the complex spectrum as `spectrum[:, 0] + 1j*spectrum[:, 1]`, which
    indexes the frequency axis where it means the real/imaginary axis, so its masks hold at most one
    interval per row; we follow the paper's description, whose figures show free-form blobs.

    Spectral components weaker than 10⁻⁴ of the strongest are not drawn (for δ = 3 that is 97% of
    them): together they would move the map by about 0.1% of its spread. The map is then the
    inverse FFT of what is left, computed as two small matmuls (`low_frequency_field`)."""

    copies_pixels = True

    SUBSAMPLE = 2048
    WEAKEST = 1e-4

    def draw(self, c):
        d = c.ctx
        lam = d.lam_or_beta()
        h, w = d.height, d.width
        fy = torch.fft.fftfreq(h, device=d.device)[:, None]
        fx = torch.fft.rfftfreq(w, device=d.device)[None, :]
        scale = 1.0 / torch.sqrt(fx**2 + fy**2).clamp_min(1.0 / max(h, w)) ** c.config["decay"]
        kept = scale >= self.WEAKEST * scale.max()
        rows, cols = kept.any(1).nonzero()[:, 0], kept.any(0).nonzero()[:, 0]
        kept = kept[rows][:, cols]
        noise = torch.view_as_complex(d.randn(d.batch, int(kept.sum()), 2)) * scale[rows][:, cols][kept]
        block = torch.zeros(d.batch, rows.numel(), cols.numel(), dtype=noise.dtype, device=d.device)
        block[:, kept] = noise
        if d.shared:  # every sample draws the same noise (a sweep): one field, seen by each
            field = low_frequency_field(block[:1], rows, cols, h, w).expand(d.batch, h, w)
        else:
            field = low_frequency_field(block, rows, cols, h, w)
        stride = max(1, math.isqrt(h * w // self.SUBSAMPLE))
        sub = field[:, ::stride, ::stride].flatten(1).sort(1, descending=True).values
        n = sub.shape[1]
        up = d.rand(d.batch) > 0.5
        keep = torch.where(up, torch.ceil(lam * n), torch.floor(lam * n)).long()
        threshold = sub.gather(1, (keep - 1).clamp(0, n - 1)[:, None])[:, 0]
        threshold = torch.where(keep == 0, torch.full_like(threshold, float("inf")), threshold)
        from_1 = torch.empty(d.batch, 1, h, w, dtype=d.dtype, device=d.device)
        torch.lt(field[:, None], threshold.view(-1, 1, 1, 1), out=from_1)  # the top values keep image 1
        share0 = 1 - real(from_1.flatten(1).sum(1)) / (h * w)
        return {"lam": lam, "lam_corrected": share0, "mask": from_1}

    def mask1(self, c, dtype):
        return c.draws["mask"].to(dtype)

    def weights(self, c):
        """The mask's actual shares (λ' = the first image's, as `lam_corrected`)."""
        share0 = c.draws["lam_corrected"]
        return torch.stack([share0, 1 - share0], 1)


@register(
    name="resizemix", title="ResizeMix", family="cut", n_inputs=2,
    params=(ParamSpec("scale_min", 0.1, 0.05, 1.0, 0.05, "α: smallest side scale τ of the pasted image"),
            ParamSpec("scale_max", 0.8, 0.05, 1.0, 0.05, "β: largest side scale τ of the pasted image"),
            centre_param("the pasted image")),
    paper="Qin et al. ResizeMix: Mixing Data with Preserved Object Information and True Labels. arXiv:2012.11101, 2020.",
    summary="Instead of cutting a patch out of the second image, the whole second image is shrunk by τ ~ U(α, β) "
            "and pasted at a random place (or centred at a fixed one: the parameter centre, kept inside the image), "
            "so its object is always visible. The label weight is the pasted area.",
    formula=r"\tau \sim U(\alpha, \beta),\quad P = \mathrm{Resize}(x_B, \tau),\quad \tilde x = \mathrm{Paste}(P, x_A),"
            r"\quad \lambda = \frac{|P|}{WH},\quad \tilde y = (1-\lambda) y_A + \lambda y_B",
    uses_lam=False,
)
class ResizeMix(TwoInputPaste, BoxMask):
    """The patch is ⌊τH⌋ × ⌊τW⌋ (the aspect ratio kept) and lies wholly inside the image, so all of the
    second image is visible; it is resized bilinearly (F.interpolate, align_corners=False, no
    antialiasing), as in mmpretrain's ResizeMix. A given `centre` (y, x) centres the patch there, for every
    sample: its top-left corner is y1 = clamp(round(yH − ph/2), 0, H − ph) (round half to even), and the same
    for x1, so that the patch stays inside (the corner is still drawn, so the other draws stay the same)."""

    def draw(self, c):
        d = c.ctx
        lo, hi = c.config["scale_min"], c.config["scale_max"]
        if lo > hi:
            raise MixError(f"resizemix: scale_min ({lo}) must not exceed scale_max ({hi})")
        tau = lo + (hi - lo) * real(d.rand(d.batch))
        ph = (tau * d.height).floor().long().clamp_min(1)
        pw = (tau * d.width).floor().long().clamp_min(1)
        y1, x1 = d.randint(d.height - ph + 1), d.randint(d.width - pw + 1)
        centre = c.config["centre"]
        if centre is not None:
            y1 = torch.minimum(torch.round(centre[0] * d.height - real(ph) / 2).long().clamp_min(0), d.height - ph)
            x1 = torch.minimum(torch.round(centre[1] * d.width - real(pw) / 2).long().clamp_min(0), d.width - pw)
        return {"tau": tau, "y1": y1, "x1": x1, "y2": y1 + ph, "x2": x1 + pw}


    def weights(self, c):
        """The pasted area's share |P|/(HW) for the second image."""
        return box_paste_weights(c)

    def info(self, c):
        p = c.draws
        return {**super().info(c), **box_info(*(int(p[k][0]) for k in ("y1", "y2", "x1", "x2")), c.height, c.width)}

    def used(self, c, masks):
        """All of the second image (shrunk into the box); the first image outside the box."""
        return torch.cat([masks[:, :1], torch.ones_like(masks[:, 1:])], 1)

    def paste(self, c, out):
        x1, p = c.xs[1], c.draws
        boxes = torch.stack([p["y1"], p["y2"], p["x1"], p["x2"]], 1).tolist()
        for i, (top, bottom, left, right) in enumerate(boxes):
            out[i:i + 1, :, top:bottom, left:right] = torch.nn.functional.interpolate(
                x1[i:i + 1], size=(bottom - top, right - left), mode="bilinear", align_corners=False)
