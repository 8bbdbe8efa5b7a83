"""The Lecture page's steps: the figures of the mixing lecture ("Data Augmentation via Mixing Images – part 2",
../shared/lectures/000_*.txt) in the deck's order, each as the live picture, table or map that reproduces it
with the bundled photos; plus what the other lecture files add where a step fits (Beta(α, α) from lecture 001,
CutMix's box from lecture 002). Pure data: views/lecture.py draws a step, tests/test_lecture_steps.py checks
each step's label against the slide's, and scripts/lecture_seeds.py found the seeds kept here.

`slide` is the label as the slide prints it, (class, weight) pairs; `why` says in one sentence why ours
differs, and is there exactly when it does (by more than TOLERANCE: the slides print two decimals)."""
from __future__ import annotations

from dataclasses import dataclass

TOLERANCE = 0.005
DECK = "lecture 000, “Data Augmentation via Mixing Images – part 2”"
LECTURE_001 = "lecture 001, Ryu, “Data Augmentation”"
LECTURE_002 = "lecture 002, Park, “Modern Data Augmentation Techniques”"
LECTURE_003 = "lecture 003, the papers' abstracts"
PAIR = ("boat", "airplane")
FOUR = ("boat", "airplane", "cow", "dog")


@dataclass(frozen=True)
class Step:
    """One step. `kind`: "inputs" (the photos and the deck's formula), "mix" (the live picture of `method`),
    "layers" (Xception as Keras prints it), "pooling" (the 4×4 example), "cams" (CAMs of the deck's
    classes), "compare" (the SaliencyMix-against-SnapMix table) or "section" (another page's section, `section`).
    `lam` None: drawn from the seed; `alpha`:
    λ drawn from Beta(α, α) starting at this α, with α's slider and density on the page (None: the method's own
    draw and no slider)."""

    slug: str
    title: str
    kind: str
    method: str | None = None
    photos: tuple[str, ...] = PAIR
    lam: float | None = None
    alpha: float | None = None
    seed: int = 0
    params: tuple[tuple[str, object], ...] = ()
    slide: tuple[tuple[str, float], ...] = ()
    why: str = ""
    note: str = ""
    source: str = DECK
    section: str = ""  # kind "section": the name of another page's section the step draws (views/lecture.SECTIONS)


def _concat(slug: str, method: str, title: str, **kw) -> Step:
    return Step(slug, title, "mix", method, lam=kw.pop("lam", 0.7), slide=kw.pop("slide", (("boat", 0.7), ("airplane", 0.3))),
                **kw)


SEVEN = (("boat", 0.7), ("airplane", 0.3))

STEPS: tuple[Step, ...] = (
    Step("inputs", "Mixing two images", "inputs",
         note="Image 1 (label: boat) and Image 2 (label: airplane): the mix keeps B ⊙ x₁ of the first and "
              "(1 − B) ⊙ x₂ of the second, and its label weighs the two classes by λ."),
    Step("mixup", "Mixup", "mix", "mixup", lam=0.7, slide=SEVEN,
         note="λ ~ Beta(α, α) in training (lecture 001: α = 1 is uniform; small α keeps most mixes near one "
              "image); here λ is fixed at the slide's 0.7."),
    Step("mixup-beta", "Mixup: λ ~ Beta(α, α)", "mix", "mixup", alpha=1.0, source=LECTURE_001,
         note="Lecture 001: the density is ∝ λ^(α−1)(1 − λ)^(α−1); α → 0 draws λ near 0 or 1 (almost no mixing), "
              "α = 1 draws it uniformly, a large α near 0.5. Scrub the seed: each mark on the strip is one draw."),
    Step("sample-pairing", "SamplePairing", "mix", "sample_pairing", slide=(("boat", 1.0),),
         note="The average of the two images, labelled with the first image's class only."),
    Step("cutmix", "CutMix", "mix", "cutmix", lam=0.7, seed=2, slide=SEVEN,
         note="Lecture 002: r_x ~ Unif(0, W), r_w = W√(1 − λ), r_y ~ Unif(0, H), r_h = H√(1 − λ); the box is "
              "clipped at the border, and the label takes the share that is left (corrected λ)."),
    Step("gridmask", "GridMask", "mix", "gridmask", photos=("boat",), source=LECTURE_002,
         note="Lecture 002 ends its cut methods with GridMask (Chen et al., 2020): one image, squares deleted on a "
              "rotated grid of period d; its label stays the image's own."),
    Step("smoothmix", "SmoothMix", "mix", "smoothmix", seed=323, slide=SEVEN),
    Step("attentivemix", "AttentiveMix", "mix", "attentivemix", params=(("cells", 7),),
         slide=(("boat", 0.86), ("airplane", 0.14)),
         note="The 7 most attended of 7×7 cells: 7/49 = 0.14 of the airplane. The authors' code pastes 6 "
              "(0.88/0.12); this step sets 7, as the slide does."),
    Step("ricap", "RICAP", "mix", "ricap", photos=FOUR, seed=6389,
         slide=(("dog", 0.15), ("cow", 0.07), ("airplane", 0.52), ("boat", 0.26))),
    _concat("vertical-concat", "vertical_concat", "Vertical Concat"),
    _concat("horizontal-concat", "horizontal_concat", "Horizontal Concat"),
    _concat("mixed-concat", "mixed_concat", "Mixed Concat", lam=None, seed=3132, slide=(("boat", 0.4), ("airplane", 0.6)),
            note="The row and column splits are drawn apart, λ₁ and λ₂: one fixed λ would leave the first image "
                 "λ² + (1 − λ)² ≥ 0.5 of the picture, and the slide gives it 0.4."),
    _concat("random-2x2", "random_2x2", "Random 2x2", lam=0.5, seed=200, slide=(("boat", 0.5), ("airplane", 0.5))),
    _concat("random-column-interval", "random_column_interval", "Random Column Interval"),
    _concat("random-row-interval", "random_row_interval", "Random Row Interval"),
    _concat("random-columns", "random_columns", "Random Columns", seed=3),
    _concat("random-rows", "random_rows", "Random Rows", seed=2),
    _concat("random-pixels", "random_pixels", "Random Pixels", seed=7),
    _concat("random-elements", "random_elements", "Random Elements", seed=768),
    Step("snapmix", "SnapMix", "mix", "snapmix", seed=21822, slide=(("boat", 0.8), ("airplane", 0.0)),
         note="Heat map of Image 1 for class boat and of Image 2 for class airplane: each weight is the share "
              "of its image's CAM that the mix keeps, so the two need not sum to 1."),
    Step("xception-layers", "CAM on Xception: the layers", "layers",
         note="Xception as Keras' model.summary() prints it: the last 10×10×2048 feature map, global average "
              "pooling and one dense layer, whose weights make the CAM."),
    Step("pooling", "CAM on Xception: max and average pooling", "pooling",
         note="The deck's 4×4 example pooled 2×2 with stride 2 (the slide prints 8.75 as 8.8)."),
    Step("cams", "CAM on Xception: canoe, airliner, mountain bike", "cams"),
    Step("saliencymix", "SaliencyMix", "mix", "saliencymix", photos=("airplane", "boat"), lam=0.7,
         slide=(("boat", 0.3), ("airplane", 0.7)),
         note="The patch comes from Image 1 (boat), centred on its saliency peak, and lands on the airplane: "
              "the step passes the airplane first, as the target, so that the saliency is Image 1's."),
    Step("saliencymix-vs-snapmix", "Important patches: SaliencyMix vs SnapMix", "compare"),
    # after the deck: what the other lecture files add, each a section of its own page drawn here
    Step("ten-crops", "Test-time augmentation: ten crops", "section", source=LECTURE_001, section="tta-crops"),
    Step("ten-crops-effect", "Test-time augmentation: the effect", "section", source=LECTURE_001, section="tta-effect"),
    Step("gram", "Texture: the Gram matrix", "section", source=LECTURE_001, section="gram"),
    Step("texture-synthesis", "Texture synthesis from noise", "section", source=LECTURE_001, section="synthesis"),
    Step("style-transfer", "Neural style transfer", "section", source=LECTURE_001, section="style"),
    Step("cue-conflict", "Texture or shape? The cue conflict", "section", source=LECTURE_001, section="cue-conflict"),
    Step("corrupted-labels", "Mixup and corrupted labels", "section", source=LECTURE_002, section="memorise"),
    Step("gradients-between", "Mixup: gradients between training points", "section", source=LECTURE_002,
         section="gradients"),
    Step("not-run", "TL-Align and TransformMix", "section", source=LECTURE_003, section="not-run"),
)

BY_SLUG = {s.slug: s for s in STEPS}
# the deck's overview slides: its mixes before SnapMix, in its order (the Gallery draws them as one grid)
OVERVIEW = tuple(dict.fromkeys(s.method for s in STEPS[:list(BY_SLUG).index("snapmix")]
                               if s.kind == "mix" and s.source == DECK))


def keys_of(step: Step) -> tuple[str, ...]:
    """The step's photos as image keys (ui/images.py)."""
    return tuple(f"sample:{p}" for p in step.photos)


def mix_of(step: Step, lam: float | None = None, seed: int | None = None, params: dict | None = None):
    """The step's mix as the page makes it: its photos at the app's common size, the maps that guide the
    method for each photo's own class, and the step's λ, seed and parameters (each overridable)."""
    import mixviz

    from .images import batch
    from .maps import maps_for

    keys = keys_of(step)
    x = batch(keys)
    chosen = {**dict(step.params), **(params or {})}
    maps = maps_for(step.method, keys, tuple(x.shape[2:]), chosen)
    return mixviz.mix(step.method, x, labels=list(step.photos), seed=step.seed if seed is None else seed,
                      lam=step.lam if lam is None else lam, alpha=step.alpha, maps=maps, **chosen)


def slide_error(step: Step, label: dict) -> float:
    """The largest difference between the slide's label and `label` (a class the slide omits counts as 0)."""
    slide = dict(step.slide)
    return max(abs(float(label.get(c, 0.0)) - slide.get(c, 0.0)) for c in set(slide) | set(label))
