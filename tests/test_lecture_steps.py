"""The Lecture page's steps (ui/lecture_steps.py) against the deck (../shared/lectures/000_*.txt, "Data
Augmentation via Mixing Images – part 2"): the deck's order and labels, each mix step's label within the
slide's two decimals or a reason why not, and the labels by value, as the library makes them when called
directly at the step's seed (scripts/lecture_seeds.py found the seeds: a changed seed fails here)."""
import re
from pathlib import Path

import pytest
import torch

import mixviz
from mixviz.imaging import fit_within, load_image
from mixviz.maps.saliency import static_saliency
from mixviz.samples import samples
from ui.images import batch
from ui.lecture_steps import BY_SLUG, DECK, STEPS, TOLERANCE, keys_of, mix_of, slide_error
from ui.uploads import MAX_SIDE

LECTURE = Path(__file__).resolve().parents[2] / "shared" / "lectures" / "000_a5bdaefaffc9e6ee.txt"
# the deck's order: its slides, the ten concatenations as its table lists them, the CAM slides; and where they fit,
# lecture 001's Beta(α, α) after Mixup and lecture 002's GridMask after CutMix
ORDER = ["inputs", "mixup", "mixup-beta", "sample-pairing", "cutmix", "gridmask", "smoothmix", "attentivemix", "ricap",
         "vertical-concat", "horizontal-concat", "mixed-concat", "random-2x2", "random-column-interval",
         "random-row-interval", "random-columns", "random-rows", "random-pixels", "random-elements",
         "snapmix", "xception-layers", "pooling", "cams", "saliencymix", "saliencymix-vs-snapmix",
         "ten-crops", "ten-crops-effect", "gram", "texture-synthesis", "style-transfer", "cue-conflict",
         "corrupted-labels", "gradients-between", "not-run"]
# the seeds scripts/lecture_seeds.py chose, for the steps whose label depends on the seed (the others keep 0)
SEEDS = {"cutmix": 2, "smoothmix": 323, "ricap": 6389, "mixed-concat": 3132, "random-2x2": 200, "random-columns": 3,
         "random-rows": 2, "random-pixels": 7, "random-elements": 768, "snapmix": 21822}
# each mix step's label at that seed, as the library makes it (SnapMix and AttentiveMix: EfficientNet-Lite0's maps)
LABELS = {
    "mixup": {"boat": 0.7, "airplane": 0.3},
    "mixup-beta": {"boat": 0.49626, "airplane": 0.50374},  # λ ~ Beta(1, 1) at seed 0
    "gridmask": {"boat": 1.0},
    "sample-pairing": {"boat": 1.0, "airplane": 0.0},
    "cutmix": {"boat": 0.70378, "airplane": 0.29622},
    "smoothmix": {"boat": 0.69997, "airplane": 0.30003},
    "attentivemix": {"boat": 0.85617, "airplane": 0.14383},
    "ricap": {"boat": 0.25632, "airplane": 0.51868, "cow": 0.07441, "dog": 0.15059},
    "vertical-concat": {"boat": 0.7, "airplane": 0.3},
    "horizontal-concat": {"boat": 0.70052, "airplane": 0.29948},
    "mixed-concat": {"boat": 0.40004, "airplane": 0.59996},
    "random-2x2": {"boat": 0.5, "airplane": 0.5},
    "random-column-interval": {"boat": 0.70052, "airplane": 0.29948},
    "random-row-interval": {"boat": 0.7, "airplane": 0.3},
    "random-columns": {"boat": 0.70052, "airplane": 0.29948},
    "random-rows": {"boat": 0.7, "airplane": 0.3},
    "random-pixels": {"boat": 0.7, "airplane": 0.3},
    "random-elements": {"boat": 0.7, "airplane": 0.3},
    "snapmix": {"boat": 0.80136, "airplane": 0.00051},
    "saliencymix": {"airplane": 0.70223, "boat": 0.29777},
}
MIX = [s for s in STEPS if s.kind == "mix"]
SLIDES = [s for s in MIX if s.slide]  # the mixes the deck shows, with their labels


def uses_model(step) -> bool:
    return mixviz.METHODS[step.method].needs == "model"


def needs_the_seeds_model(step):
    """Skip a model-guided step unless the served model is the one its seed and label were found with."""
    if uses_model(step) and mixviz.load_model().name != "efficientnet_lite0":
        pytest.skip("the seeds and labels of model-guided steps were found with the offline EfficientNet-Lite0")


def deck_labels(text: str) -> list[tuple[str, dict]]:
    """(name, label) of each mixed picture of the deck, in its order: "Name -\\nlabel: (class:w, …)", or one
    class (weight 1) where the slide prints one; the inputs ("Image k") left out."""
    found = []
    for name, label in re.findall(r"([^\n]+?) -\s*\nlabel: (\([^)]*\)|\w+)", text):
        if name.strip().startswith("Image "):
            continue
        pairs = re.findall(r"(\w+):([\d.]+)", label)
        found.append((name.strip(), {c: float(w) for c, w in pairs} if pairs else {label: 1.0}))
    return found


def test_slugs_are_unique_and_url_safe():
    slugs = [s.slug for s in STEPS]
    assert len(set(slugs)) == len(slugs) and set(BY_SLUG) == set(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in slugs), slugs


def test_the_steps_follow_the_decks_order():
    assert [s.slug for s in STEPS] == ORDER


@pytest.mark.skipif(not LECTURE.exists(), reason="the lecture files are not beside this checkout")
def test_each_mix_steps_slide_is_the_decks_label_in_the_decks_order():
    deck = deck_labels(LECTURE.read_text(encoding="utf-8"))
    assert [(s.title, dict(s.slide)) for s in MIX if s.source == DECK] == deck
    assert all(s.slide for s in MIX if s.source == DECK) and not any(s.slide for s in MIX if s.source != DECK)


def test_every_method_exists_and_takes_the_steps_photos_and_parameters():
    for step in STEPS:
        assert (step.kind == "mix") == (step.method is not None), step.slug
        assert set(step.photos) <= set(samples()), step.slug
        if step.method is None:
            assert not step.slide and not step.why, step.slug
            continue
        spec = mixviz.METHODS[step.method]
        assert len(step.photos) == spec.n_inputs, step.slug
        assert {name for name, _ in step.params} <= {p.name for p in spec.params}, step.slug
        if step.slide and step.method != "snapmix":  # SnapMix's weights need not sum to 1
            assert sum(w for _, w in step.slide) == pytest.approx(1, abs=0.02), step.slug


@pytest.mark.parametrize("step", SLIDES, ids=[s.slug for s in SLIDES])
def test_the_label_is_the_slides_or_the_step_says_why(step):
    needs_the_seeds_model(step)
    err = slide_error(step, mix_of(step).label)
    if err > TOLERANCE:
        assert step.why.strip(), f"{step.slug}: off the slide by {err:.3f} and no why"
    else:
        assert not step.why, f"{step.slug}: within {TOLERANCE} of the slide ({err:.4f}) but says why it differs"


@pytest.mark.parametrize("step", MIX, ids=[s.slug for s in MIX])
def test_the_mix_is_the_librarys_at_the_chosen_seed(step):
    """mixviz.mix on the photos (fitted as the app fits them; the library brings them to the first one's size),
    at the seed chosen for the step, the step's λ and parameters and, for a class map, each photo's own
    ImageNet class: the same picture and label as the page's, and the label found with that seed."""
    needs_the_seeds_model(step)
    photos = [samples()[p] for p in step.photos]
    classes = {}
    if uses_model(step):
        names = mixviz.load_model().classes
        classes = {"classes": [names.index(p.imagenet_class) for p in photos]}
    direct = mixviz.mix(step.method, [fit_within(load_image(p.path), MAX_SIDE) for p in photos],
                        labels=list(step.photos), seed=SEEDS.get(step.slug, 0), lam=step.lam, alpha=step.alpha, **classes,
                        **dict(step.params))
    page = mix_of(step)
    assert torch.equal(page.image, direct.image), f"{step.slug}: the page's picture is not the library's at the chosen seed"
    assert list(page.label) == list(direct.label) == list(step.photos)
    label = {k: float(v) for k, v in direct.label.items()}
    assert {k: float(v) for k, v in page.label.items()} == pytest.approx(label, abs=1e-6)
    assert label == pytest.approx(LABELS[step.slug], abs=1e-5)


def test_attentivemix_pastes_seven_of_its_49_cells_as_the_slide_does():
    step = BY_SLUG["attentivemix"]
    needs_the_seeds_model(step)
    assert dict(step.params)["cells"] == 7 and dict(step.params).get("grid", 7) == 7
    r = mix_of(step)
    assert len(r.info["cells_pasted"]) == 7
    # 7/49 exactly where 7 divides the image; here the cells differ by a row or a column
    assert float(r.label["airplane"]) == pytest.approx(7 / 49, abs=TOLERANCE)
    assert float(r.label["boat"]) + float(r.label["airplane"]) == pytest.approx(1)


def test_sample_pairing_labels_the_first_photo_only():
    assert {k: float(v) for k, v in mix_of(BY_SLUG["sample-pairing"]).label.items()} == {"boat": 1.0, "airplane": 0.0}


def test_saliencymix_pastes_the_boats_salient_patch_onto_the_airplane():
    """The second input is the saliency source: the box is the boat's pixels, and the boat weighs its area."""
    step = BY_SLUG["saliencymix"]
    assert step.photos == ("airplane", "boat")
    r, x = mix_of(step), batch(keys_of(step))
    box = (slice(None), slice(r.info["y1"], r.info["y2"]), slice(r.info["x1"], r.info["x2"]))
    inside = torch.zeros(x.shape[2:], dtype=torch.bool)
    inside[box[1:]] = True
    image = r.image.cpu()
    assert torch.equal(image[box], x[1][box]) and torch.equal(image[:, ~inside], x[0][:, ~inside])
    saliency = static_saliency(x[1], "fine_grained")
    assert torch.equal(r.info["saliency"].cpu(), saliency)
    assert r.info["peak"] == divmod(int(saliency.flatten().argmax()), x.shape[3])
    assert float(r.label["boat"]) == pytest.approx(float(inside.float().mean()), abs=1e-6)
    assert float(r.label["boat"]) == pytest.approx(0.3, abs=TOLERANCE)


def test_every_section_step_names_a_section_the_lecture_page_draws():
    from views.lecture import SECTIONS

    sections = [s.section for s in STEPS if s.kind == "section"]
    assert sections and set(sections) <= set(SECTIONS) and len(set(sections)) == len(sections)
    assert all(s.source != DECK for s in STEPS if s.kind == "section")
