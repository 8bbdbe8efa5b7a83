"""The Gallery's one-click overview of the lecture deck (../shared/lectures/000_*.txt, "Data Augmentation via
Mixing Images – part 2"): its 16 methods in the deck's order, on boat and airplane (and cow and dog for RICAP),
at the deck's λ = 0.7, with each caption naming the classes."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from apptest_helpers import ok, switch_page

import mixviz
from ui.images import batch

APP = str(Path(__file__).resolve().parent.parent / "app.py")
# the deck's order, as its slides show them
DECK = ["mixup", "sample_pairing", "cutmix", "smoothmix", "attentivemix", "ricap", "vertical_concat",
        "horizontal_concat", "mixed_concat", "random_2x2", "random_column_interval", "random_row_interval",
        "random_columns", "random_rows", "random_pixels", "random_elements"]
PHOTOS = ["boat", "airplane", "cow", "dog"]


def gallery() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run(timeout=180)
    switch_page(at, "gallery").run(timeout=180)
    ok(at)
    return at


def grid_captions(at) -> list[str]:
    """The grid's captions (the thumbnails of the inputs above it say "input k: …")."""
    captions = [i.proto.imgs[0].caption for i in at.main.image]
    return [c for c in captions if not c.startswith("input ")]


def test_the_deck_button_shows_the_decks_sixteen_methods_in_its_order_on_its_photos_at_its_lambda():
    at = gallery()
    at.slider(key="gal_lam").set_value(0.3).run()  # somewhere else first: the button must move it
    at.multiselect(key="gal_families").set_value(["blend"]).run()
    button = at.button(key="gal_deck")
    assert "Data Augmentation via Mixing Images" in button.help
    button.click().run(timeout=180)
    ok(at)

    assert at.multiselect(key="gal_methods").value == DECK
    assert at.sidebar.radio(key="n_slots").value == 4
    assert [at.sidebar.selectbox(key=f"slot{i}").value for i in range(4)] == [f"sample:{p}" for p in PHOTOS]
    assert at.toggle(key="gal_fix").value is True
    assert at.slider(key="gal_lam").value == 0.7
    assert any("0.7" in c.value and "boat" in c.value for c in at.caption)  # says what it set

    shown = [i.proto.imgs[0].caption for i in at.main.image]
    assert shown[:4] == [f"input {k + 1}: {p}" for k, p in enumerate(PHOTOS)]
    captions = grid_captions(at)
    titles = [mixviz.METHODS[n].title for n in DECK]
    assert [c.split(" (")[0] for c in captions] == titles
    assert captions[0] == "Mixup (boat 0.70, airplane 0.30)"
    x = batch(tuple(f"sample:{p}" for p in PHOTOS))
    for name, caption in zip(DECK, captions):
        k = mixviz.METHODS[name].n_inputs
        r = mixviz.mix(name, x[:k], labels=PHOTOS[:k], seed=0, lam=0.7) if name != "attentivemix" else None
        if r is not None:  # AttentiveMix mixes by the model's maps: checked by its classes below
            assert caption == f"{mixviz.METHODS[name].title} (" + ", ".join(f"{c} {w:.2f}" for c, w in r.label.items()) + ")"
        assert "boat" in caption
        if k == 2 and name != "sample_pairing":  # SamplePairing's label is the first image's alone, as on the slide
            assert "airplane" in caption
    ricap = captions[DECK.index("ricap")]
    assert all(f"{p} " in ricap for p in PHOTOS), ricap
    assert not at.info  # RICAP's inputs 3 and 4 are slots now, not default photos


def test_methods_added_one_by_one_after_the_deck_come_last_and_the_grid_keeps_the_chosen_order():
    at = gallery()
    at.button(key="gal_deck").click().run(timeout=180)
    at.multiselect(key="gal_methods").select("fmix").run(timeout=180)
    ok(at)
    captions = grid_captions(at)
    assert [c.split(" (")[0] for c in captions] == [mixviz.METHODS[n].title for n in DECK + ["fmix"]]
    at.multiselect(key="gal_methods").set_value(["cutmix", "mixup"]).run()
    assert [c.split(" (")[0] for c in grid_captions(at)] == ["CutMix", "Mixup"]
