"""Do the mixed labels equal the pixels? timm, torchvision, Kornia and mixviz on constant-colour images.

    python bench/label_truth.py [--batches 32] [--height 24] [--width 32] [--seed 0]

Each of the 8 images of the batch is one constant colour, its own, and each sample has its own class
(class indices 0..7, shuffled against the positions). After mixing, each output pixel is one source
colour (a cut) or a blend t·c_i + (1 − t)·c_j of two (a mixup). The colours lie in general position,
so a pixel tells exactly which sources it holds and in what share: the nearest colour, or the pair
whose segment passes through the pixel, solved for t. An output sample's true label is the mean of
those shares over its pixels; the table compares it with the label the library returned.
Deterministic (seeded); asserts nothing; a few seconds.

Columns, all measured on the pixels unless said otherwise:
- partner of sample i: the other source in output i (timm: x[B−1−i], torchvision and mixviz: x[i−1]).
- λ drawn per: "sample" when the pixel shares differ between the samples of one batch.
- drawn λ is the share of: the λ the library drew, recorded as it was drawn (timm's parameter helpers,
  torchvision's Beta and Kornia's samplers are wrapped on the instance and return their values
  unchanged); mixviz is given its λ per sample through `lam=` for this column, and draws its own for
  the others. Compared with the pixel share of the sample itself and of its partner.
- clipped boxes: boxes that touch the border and are more than 2 px shorter there than the drawn λ
  makes them (√(1 − λ) of the side; rounding the side costs at most 2 px).
- label of a clipped box: whether the label there equals the pixel share or the drawn λ.
"""

import argparse
import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

BATCH = 8
# A pixel is decoded when one colour, or one blend of two, reproduces it this closely. Not 1e-15: timm's
# per-sample mode weighs with a float32 λ and a float32 1 − λ, whose sum misses 1 by up to 6e-8.
EXACT = 1e-6
APART = 1e-4  # ...and no other pair comes within this distance, or within 100x the best pair's distance


def colours(batch: int = BATCH) -> torch.Tensor:
    """(B, 3) float64 colours in general position: no blend of two of them is a blend of two others."""
    gen = torch.Generator().manual_seed(20261)
    return 0.1 + 0.8 * torch.rand(batch, 3, generator=gen, dtype=torch.float64)


class Decoder:
    """Per-pixel shares of each source colour, for pixels that hold one or two sources."""

    def __init__(self, palette: torch.Tensor):
        self.c = palette
        pairs = torch.tensor(list(itertools.combinations(range(len(palette)), 2)))
        self.i, self.j = pairs[:, 0], pairs[:, 1]
        self.d = palette[self.i] - palette[self.j]  # (P, 3)
        self._self_check()

    def _self_check(self):
        """Every blend of every pair, t in [0.01, 0.99], decodes to that pair and that t."""
        t = torch.linspace(0.01, 0.99, 981, dtype=torch.float64)
        for p in range(len(self.i)):
            got = self.decode(self.c[self.j[p]] + t[:, None] * self.d[p])
            want = torch.zeros_like(got)
            want[:, self.i[p]], want[:, self.j[p]] = t, 1 - t
            if not torch.allclose(got, want, atol=1e-9):
                raise RuntimeError("palette is not in general position")

    def decode(self, u: torch.Tensor) -> torch.Tensor:
        """u (n, 3) pixels -> (n, B) shares of the sources; raises if ambiguous or not a blend."""
        best_pure, k = torch.cdist(u, self.c, compute_mode="donot_use_mm_for_euclid_dist").min(1)
        # For every pair (i, j): the t that brings c_j + t·(c_i − c_j) closest to the pixel, and how close.
        t = ((u[:, None, :] - self.c[self.j][None]) * self.d[None]).sum(-1) / (self.d * self.d).sum(-1)
        resid = (u[:, None, :] - (self.c[self.j][None] + t[..., None] * self.d[None])).norm(dim=-1)
        resid[(t < -1e-9) | (t > 1 + 1e-9)] = math.inf
        two, order = resid.topk(2, dim=1, largest=False)
        pure = best_pure < EXACT
        bad = ~pure & (two[:, 0] > EXACT)
        if bad.any():
            raise ValueError(f"pixel {u[bad][0].tolist()} is not a blend of one or two sources")
        ambiguous = ~pure & (two[:, 1] < APART) & (two[:, 1] < 100 * two[:, 0])
        if ambiguous.any():
            raise ValueError(f"pixel {u[ambiguous][0].tolist()} is ambiguous between two pairs of sources")
        n = torch.arange(len(u))
        p = order[:, 0]
        shares = torch.zeros(len(u), len(self.c), dtype=torch.float64)
        shares[n, self.i[p]] = t[n, p]
        shares[n, self.j[p]] = 1 - t[n, p]
        shares[pure] = 0.0
        shares[n[pure], k[pure]] = 1.0
        return shares

    def per_pixel(self, out: torch.Tensor) -> torch.Tensor:
        """out (B, 3, H, W) -> (B, H, W, B): the share of each source in each output pixel."""
        b, _, h, w = out.shape
        rows = out.detach().to(torch.float64).permute(0, 2, 3, 1).reshape(-1, 3)
        # The distinct colours, found by the first channel alone (fast), then checked on all three (exact).
        values, inverse = torch.unique(rows[:, 0], return_inverse=True)
        first = torch.empty(len(values), dtype=torch.long).scatter_(0, inverse, torch.arange(len(rows)))
        u = rows[first]
        if not torch.equal(u[inverse], rows):
            u, inverse = torch.unique(rows, dim=0, return_inverse=True)
        return self.decode(u)[inverse].view(b, h, w, len(self.c))


@dataclass
class Entry:
    library: str
    call: str
    method: str  # "mixup" or "cutmix"
    read: str  # how the returned label is turned into soft targets
    run: Callable  # run(x, y) -> (mixed x, soft targets (B, B), drawn λ (B,) or None[, the other reading])
    seed: Callable  # seed(seed): seeds the library's random numbers
    given: bool = False  # λ handed to the library (mixviz `lam=`): this run only says where λ goes


class _Recorder:
    """Stands in for a distribution on one instance: returns what it draws, unchanged, and keeps a copy."""

    def __init__(self, dist):
        self.dist, self.values = dist, []

    def sample(self, *args, **kwargs):
        v = self.dist.sample(*args, **kwargs)
        self.values.append(v.detach().clone())
        return v

    def rsample(self, *args, **kwargs):
        v = self.dist.rsample(*args, **kwargs)
        self.values.append(v.detach().clone())
        return v


def _seed_global(seed: int):
    np.random.seed(seed)  # timm
    torch.manual_seed(seed)  # torchvision, Kornia


RETURNED = "soft targets as returned"


def timm_entries(b: int) -> list[Entry]:
    from timm.data import Mixup

    entries = []
    for method, mode in itertools.product(("mixup", "cutmix"), ("batch", "elem")):
        key = f"{method}_alpha"
        m = Mixup(**{"mixup_alpha": 0.0, "cutmix_alpha": 0.0, key: 1.0}, mode=mode, label_smoothing=0.0,
                  num_classes=b)
        drawn = []
        if mode == "batch":
            def per_batch(inner=m._params_per_batch, drawn=drawn):
                lam, use_cutmix = inner()
                drawn.append(torch.full((b,), float(lam), dtype=torch.float64))
                return lam, use_cutmix
            m._params_per_batch = per_batch
        else:
            def per_elem(batch_size, inner=m._params_per_elem, drawn=drawn):
                lam, use_cutmix = inner(batch_size)
                drawn.append(torch.from_numpy(lam.astype(np.float64)))  # a copy: timm writes the corrected λ in
                return lam, use_cutmix
            m._params_per_elem = per_elem

        def run(x, y, m=m, drawn=drawn):
            xm, ym = m(x.clone(), y)  # timm mixes its input in place
            return xm, ym, drawn.pop()
        entries.append(Entry("timm", f"`Mixup({key}=1, mode=\"{mode}\")`", method, RETURNED, run, _seed_global))
    return entries


def torchvision_entries(b: int) -> list[Entry]:
    from torchvision.transforms import v2

    entries = []
    for method, cls in (("mixup", v2.MixUp), ("cutmix", v2.CutMix)):
        t = cls(alpha=1.0, num_classes=b)
        t._dist = rec = _Recorder(t._dist)

        def run(x, y, t=t, rec=rec):
            xm, ym = t(x, y)
            return xm, ym, torch.full((b,), float(rec.values.pop()), dtype=torch.float64)
        entries.append(Entry("torchvision", f"`v2.{cls.__name__}()`", method, RETURNED, run, _seed_global))
    return entries


def kornia_entries(b: int) -> list[Entry]:
    """Kornia returns (y, y_perm, λ) per sample, (B, 3) for mixup and (num_mix, B, 3) for cutmix.

    MixUp: its image is input·(1 − λ) + paired·λ and its docstring's loss is (1 − λ)·CE(y) + λ·CE(y_perm),
    so the soft target is (1 − λ)·y + λ·y_perm. CutMix returns λ = cut area / image area by default, which
    is the paired sample's share: read as MixUp's λ. With use_correct_lambda=True it returns 1 − cut area,
    "according to the CutMix paper", whose loss is λ·CE(y) + (1 − λ)·CE(y_perm): read that way.
    """
    import kornia.augmentation as K

    eye = torch.eye(b, dtype=torch.float64)

    def mixup_run(x, y, aug=K.RandomMixUpV2(p=1.0, data_keys=["input", "class"])):  # noqa: B008 (built once)  # noqa: B008 (one augmenter, built once)
        xm, lab = aug(x, y)
        lam = lab[:, 2:3]
        soft = (1 - lam) * eye[lab[:, 0].long()] + lam * eye[lab[:, 1].long()]
        return xm, soft, aug._params["mixup_lambdas"].to(torch.float64)

    entries = [Entry("Kornia", "`RandomMixUpV2()`", "mixup", "(1 − λ)·y + λ·y_perm", mixup_run, _seed_global)]
    for correct in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # its note on the default λ; users get the default
            aug = K.RandomCutMixV2(p=1.0, data_keys=["input", "class"], use_correct_lambda=correct)
        aug._param_generator.beta_sampler = rec = _Recorder(aug._param_generator.beta_sampler)

        def run(x, y, aug=aug, rec=rec, correct=correct):
            xm, lab = aug(x, y)
            lab = lab[0]  # num_mix = 1
            own = lab[:, 2:3] if correct else 1 - lab[:, 2:3]
            soft = own * eye[lab[:, 0].long()] + (1 - own) * eye[lab[:, 1].long()]
            other = (1 - own) * eye[lab[:, 0].long()] + own * eye[lab[:, 1].long()]  # the other reading
            return xm, soft, rec.values.pop().to(torch.float64), other
        if correct:
            call, read = "`RandomCutMixV2(use_correct_lambda=True)`", "λ·y + (1 − λ)·y_perm, λ = 1 − cut area"
        else:
            call, read = "`RandomCutMixV2()`", "(1 − λ)·y + λ·y_perm, λ = cut area"
        entries.append(Entry("Kornia", call, "cutmix", read, run, _seed_global))
    return entries


def mixviz_entries(b: int) -> list[Entry]:
    import mixviz

    entries = []
    for method in ("mixup", "cutmix"):
        state = {}

        def seed(s, state=state):
            state["g"] = torch.Generator().manual_seed(s)
            state["lam"] = torch.Generator().manual_seed(s + 1)

        def run_own(x, y, method=method, state=state):  # λ drawn by mixviz
            xm, ym = mixviz.mix_batch(method, x, y, num_classes=b, generator=state["g"])
            return xm, ym, None

        def run_given(x, y, method=method, state=state):  # λ ~ Beta(1, 1) per sample, handed in
            lam = torch.rand(b, generator=state["lam"], dtype=torch.float64)
            xm, ym = mixviz.mix_batch(method, x, y, num_classes=b, generator=state["g"], lam=lam)
            return xm, ym, lam
        call = f"`mix_batch(\"{method}\")`"
        entries.append(Entry("mixviz", call, method, RETURNED, run_own, seed))
        entries.append(Entry("mixviz", call, method, RETURNED, run_given, seed, given=True))
    return entries


def colour_batch(decoder: Decoder, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    b = len(decoder.c)
    x = decoder.c[:, :, None, None].expand(b, 3, height, width).contiguous()
    y = torch.randperm(b, generator=torch.Generator().manual_seed(7))  # the class of each position
    return x, y


def measure(entry: Entry, decoder: Decoder, batches: int, seed: int, height: int, width: int) -> dict:
    """Run `batches` draws of `entry` on the colour batch and compare its labels with the pixels."""
    x, y = colour_batch(decoder, height, width)
    b = len(y)
    to_class = torch.eye(b, dtype=torch.float64)[y]  # (position, class)
    idx = torch.arange(b)
    entry.seed(seed)
    err = 0.0
    other = []  # |own label weight − own pixel share| under the other reading of the label
    per_sample = False
    flip = roll = True  # every partner so far was x[B−1−i] / x[i−1]
    unmixed = total = 0
    seen = []  # per mixed sample with a known λ: (λ, own pixel share, own label weight, box or None)
    for _ in range(batches):
        xm, soft, lam, *other_soft = entry.run(x, y)
        px = decoder.per_pixel(xm)  # (B, H, W, sources)
        by_source = px.flatten(1, 2).mean(1)  # (B, sources): the pixel share of each source
        truth = by_source @ to_class  # (B, classes)
        soft = soft.to(torch.float64)
        err = max(err, float((soft - truth).abs().max()))
        own = by_source[idx, idx]  # each sample's share of itself
        label_own = soft[idx, y]
        if other_soft:
            other += (other_soft[0][idx, y] - own).abs().tolist()
        mixed = own < 1 - 1e-12
        unmixed += int((~mixed).sum())
        total += b
        if mixed.sum() > 1 and float(own[mixed].max() - own[mixed].min()) > 1e-9:
            per_sample = True
        for s in idx[mixed].tolist():
            share = by_source[s].clone()
            share[s] = -1
            flip &= int(share.argmax()) == b - 1 - s
            roll &= int(share.argmax()) == (s - 1) % b
        if lam is not None:
            lam = lam.reshape(b)
            for s in idx[mixed].tolist():
                box = _box(px[s, :, :, s]) if entry.method == "cutmix" else None
                seen.append((float(lam[s]), float(own[s]), float(label_own[s]), box))
    partner = "x[B−1−i]" if flip else "x[i−1]" if roll else "random"
    return {"err": err, "other_max": max(other, default=0.0), "other_mean": float(np.mean(other)) if other else 0.0,
            "per_sample": per_sample, "partner": partner, "unmixed": unmixed, "total": total,
            **_lam_facts(seen, height, width)}


def _box(own_map: torch.Tensor) -> tuple[int, int, bool, bool]:
    """The pasted rectangle of one sample: (height, width, touches top or bottom, touches left or right)."""
    pasted = own_map < 1 - 1e-12
    rows, cols = pasted.any(1), pasted.any(0)
    h, w = int(rows.sum()), int(cols.sum())
    if h:  # the pasted pixels, and nothing else, fill their bounding box
        r, c = rows.nonzero()[:, 0], cols.nonzero()[:, 0]
        if int(r[-1] - r[0]) + 1 != h or int(c[-1] - c[0]) + 1 != w or int(pasted.sum()) != h * w:
            raise ValueError("the pasted region is not a rectangle")
    return h, w, bool(rows[0] or rows[-1]), bool(cols[0] or cols[-1])


def _lam_facts(seen: list, height: int, width: int) -> dict:
    """Which share the drawn λ is, which boxes were clipped, and what the label says for those."""
    votes = {"sample": 0, "partner": 0}
    for lam, own, _, box in seen:  # boxes on the border may have been clipped: they do not vote
        if abs(lam - 0.5) > 0.05 and (box is None or not (box[2] or box[3])):
            votes["sample" if abs(own - lam) < abs(1 - own - lam) else "partner"] += 1
    facts = {"votes": votes, "clipped": 0, "boxes": 0, "clip_vs_pixels": 0.0, "clip_vs_lam": 0.0}
    partner = votes["partner"] > votes["sample"]
    for lam, own, label_own, box in seen:
        if box is None:
            continue
        facts["boxes"] += 1
        lam_own = 1 - lam if partner else lam
        side = math.sqrt(max(0.0, 1 - lam_own))  # the box the drawn λ asks for, before clipping
        h, w, on_h, on_w = box
        if (on_h and h < side * height - 2) or (on_w and w < side * width - 2) or \
                (h == 0 and min(side * height, side * width) > 2):
            facts["clipped"] += 1
            facts["clip_vs_pixels"] = max(facts["clip_vs_pixels"], abs(label_own - own))
            facts["clip_vs_lam"] = max(facts["clip_vs_lam"], abs(label_own - lam_own))
    return facts


def rows(batches: int = 32, seed: int = 0, height: int = 24, width: int = 32) -> list[dict]:
    """One result per library and call; mixviz's rows join its own draws and its run with λ handed in."""
    decoder = Decoder(colours())
    entries = timm_entries(BATCH) + torchvision_entries(BATCH) + kornia_entries(BATCH) + mixviz_entries(BATCH)
    results = []
    for entry in entries:
        r = {"library": entry.library, "call": entry.call, "method": entry.method, "read": entry.read,
             **measure(entry, decoder, batches, seed, height, width)}
        if entry.given:  # where λ goes, and the clipped boxes, from the given λ; the label from both runs
            mine = results[-1]
            mine.update({k: r[k] for k in ("votes", "clipped", "boxes", "clip_vs_pixels", "clip_vs_lam")})
            mine["err"] = max(mine["err"], r["err"])
            continue
        results.append(r)
    return results


def versions() -> str:
    import kornia
    import timm
    import torchvision

    import mixviz

    return (f"torch {torch.__version__}, torchvision {torchvision.__version__}, timm {timm.__version__}, "
            f"kornia {kornia.__version__}, mixviz {mixviz.__version__}")


def _share_of(votes: dict) -> str:
    if not votes["partner"]:
        return "the sample" if votes["sample"] else "—"
    if not votes["sample"]:
        return "its partner"
    return f"mixed ({votes['sample']} sample, {votes['partner']} partner)"


def _after_clip(r: dict) -> str:
    if r["method"] == "mixup":
        return "—"
    if not r["clipped"]:
        return "no box clipped"
    if r["clip_vs_pixels"] < 1e-6:
        return "its pixel share"
    if r["clip_vs_lam"] < 1e-6:
        return "the drawn λ"
    return f"neither (off by up to {r['clip_vs_pixels']:.2f})"


def table(results: list[dict]) -> str:
    lines = ["| library | call | label read as | partner of sample i | λ drawn per | drawn λ is the share of "
             "| clipped boxes | label of a clipped box | max \\|label − pixel share\\| |",
             "|---|---|---|---|---|---|---:|---|---:|"]
    for r in results:
        clipped = "—" if r["method"] == "mixup" else f"{r['clipped']} of {r['boxes']}"
        lines.append(f"| {r['library']} | {r['call']} | {r['read']} | {r['partner']} "
                     f"| {'sample' if r['per_sample'] else 'batch'} | {_share_of(r['votes'])} | {clipped} "
                     f"| {_after_clip(r)} | {r['err']:.1e} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=32, help="draws per row, each a batch of 8")
    parser.add_argument("--height", type=int, default=24)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the tensors are tiny)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = rows(args.batches, args.seed, args.height, args.width)
    print(f"{args.batches} batches of {BATCH} constant-colour float64 images, 3x{args.height}x{args.width}, "
          f"{BATCH} classes, seed {args.seed}; {versions()}")
    print()
    print(table(results))
    print()
    for r in results:
        if r["unmixed"]:
            print(f"- {r['library']} {r['call']}: {r['unmixed']} of {r['total']} outputs hold only their own "
                  f"pixels (paired with themselves, or an empty box); their labels are counted above.")
        if r["other_max"]:
            print(f"- {r['library']} {r['call']}: read the other way round, its label's weight on the sample's "
                  f"own class is off by {r['other_mean']:.2f} on average, by up to {r['other_max']:.2f}.")
    return results


if __name__ == "__main__":
    main()
