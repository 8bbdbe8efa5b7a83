"""Find, once, the seeds the Lecture page's steps keep (ui/lecture_steps.py). A mix step is searched when its
label depends on the seed (its labels at seeds 0…PROBE−1 are not all the same); the search makes the step's
mix exactly as the page does (lecture_steps.mix_of) at every seed in 0…N−1, at the step's λ and parameters,
and reports the seed whose label is closest to the slide's (slide_error: the largest difference of one
class's weight; ties go to the smallest seed). Steps whose label does not depend on the seed are listed
with their one label. The chosen seeds are then written into the steps by hand.

    .venv/bin/python scripts/lecture_seeds.py [N] [slug …]   (slugs: all mix steps; about 5 minutes)

N: the seeds searched per step, by default 5000, or DEPTH's where the slide's label is a rare draw. The same
N gives the same table on any machine with the same model (the draws are seeded; one thread): the model-guided
steps' maps come from mixviz.load_model(), the offline EfficientNet-Lite0 where Xception's weights are absent."""
from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never ask the network for weights
os.environ.setdefault("MPLBACKEND", "Agg")

PROBE = 16  # seeds that tell whether a label depends on the seed
N = 5000
# the slide's label is a rare draw: RICAP's tiles (0.78 of the height by 1/3 of the width, about 1 seed in
# 40 000 at the authors' β = 0.3) and SnapMix's boxes; searches of 100 000 and 40 000 seeds found nothing
# nearer than the seeds below these depths
DEPTH = {"ricap": 10_000, "snapmix": 25_000}


def label_of(result) -> dict:
    return {k: round(float(v), 3) for k, v in result.label.items()}


def depends_on_seed(step) -> bool:
    """True where the step's label differs between two of the seeds 0…PROBE−1."""
    from ui.lecture_steps import mix_of

    return len({tuple(sorted(label_of(mix_of(step, seed=s)).items())) for s in range(PROBE)}) > 1


def best_seed(step, n: int) -> tuple[int, float, dict]:
    """The seed in range(n) whose label is nearest the slide's, its error and its label."""
    from ui.lecture_steps import mix_of, slide_error

    best = None
    for seed in range(n):
        r = mix_of(step, seed=seed)
        err = slide_error(step, r.label)
        if best is None or err < best[1]:
            best = (seed, err, r)
    return best[0], best[1], label_of(best[2])


def main() -> None:
    warnings.filterwarnings("ignore")  # streamlit's caches warn outside a running app
    logging.disable(logging.WARNING)
    import torch

    torch.set_num_threads(1)  # small images: one thread is faster, and the same everywhere
    from ui.lecture_steps import BY_SLUG, STEPS, TOLERANCE, mix_of, slide_error

    n = int(sys.argv[1]) if len(sys.argv) > 1 else None
    slugs = sys.argv[2:] or [s.slug for s in STEPS if s.kind == "mix"]
    import mixviz

    print(f"tolerance {TOLERANCE}; model {mixviz.load_model().name}; '-': the label does not depend on the seed; "
          f"s: seconds")
    print(f"{'step':24s} {'kept':>5s} {'error':>6s} {'N':>6s} {'best':>5s} {'error':>6s} {'s':>4s}  label (at the best seed)")
    for slug in slugs:
        step = BY_SLUG[slug]
        start = time.perf_counter()
        kept = mix_of(step)
        kept_err = slide_error(step, kept.label)
        if depends_on_seed(step):
            depth = n or DEPTH.get(slug, N)
            seed, err, label = best_seed(step, depth)
            best = f"{depth:6d} {seed:5d} {err:6.3f}"
        else:
            label, best = label_of(kept), f"{'-':>6s} {'-':>5s} {'-':>6s}"
        took = time.perf_counter() - start
        print(f"{slug:24s} {step.seed:5d} {kept_err:6.3f} {best} {took:4.0f}  {label}", flush=True)


if __name__ == "__main__":
    main()
