"""A draw where one input takes every pixel of the mix, or where an input shows in none, is no mix: the result
says so in info["degenerate"] (issue 13: Random 2×2 can take every quadrant from the boat, label 1.00), and the
Mixing Lab shows it under the picture."""
import pytest
import torch

import mixviz

torch.manual_seed(0)
X2 = torch.rand(2, 3, 32, 48)
X4 = torch.rand(4, 3, 32, 48)


def test_a_random_2x2_draw_that_takes_every_quadrant_from_one_image_says_so():
    results = [mixviz.mix("random_2x2", X2, labels=["boat", "airplane"], seed=s, lam=0.5) for s in range(40)]
    whole = [r for r in results if bool((r.masks[0] == 1).all()) or bool((r.masks[1] == 1).all())]
    assert whole, "no degenerate draw among 40 seeds: pick others"
    for r in whole:
        taker = "boat" if bool((r.masks[0] == 1).all()) else "airplane"
        other = "airplane" if taker == "boat" else "boat"
        note = r.info["degenerate"]
        assert f"every pixel is {taker}'s" in note and f"nothing of {other}" in note
    ids = {id(r) for r in whole}
    assert all("degenerate" not in r.info for r in results if id(r) not in ids)


@pytest.mark.parametrize("lam, taker", [(1.0, "a"), (0.0, "b")])
def test_mixup_at_either_end_of_lambda_is_no_mix(lam, taker):
    r = mixviz.mix("mixup", X2, labels=["a", "b"], lam=lam)
    assert f"every pixel is {taker}'s" in r.info["degenerate"]


def test_a_real_mix_says_nothing():
    for method, x in (("mixup", X2), ("cutmix", X2), ("fmix", X2), ("ricap", X4), ("random_pixels", X2)):
        r = mixviz.mix(method, x, seed=1, lam=0.5 if mixviz.METHODS[method].uses_lam else None)
        assert "degenerate" not in r.info, method
    r = mixviz.mix("mixup", X2, lam=0.999)  # every pixel mixed, if barely
    assert "degenerate" not in r.info


def test_a_four_image_mix_that_leaves_one_image_out_names_it():
    from mixviz.engine import degenerate_note

    masks = torch.zeros(4, 32, 48)
    masks[0, :16], masks[1, 16:, :24], masks[2, 16:, 24:] = 1, 1, 1
    assert degenerate_note(masks, ["boat", "airplane", "cow", "dog"]) == "The mix shows nothing of dog."
    masks[0], masks[1:] = 1, 0
    assert degenerate_note(masks, ["boat", "airplane", "cow", "dog"]) == (
        "No mixing: every pixel is boat's, nothing of airplane, cow or dog.")


def test_one_input_methods_are_not_degenerate():
    r = mixviz.mix("cutout", X2[:1], seed=0)
    assert "degenerate" not in r.info


def test_the_lab_says_so_under_the_picture_and_the_live_frames_at_the_ends_too():
    from streamlit.testing.v1 import AppTest

    from apptest_helpers import APP, live_data, ok

    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"method": "mixup", "img": "boat,airplane", "lam": "1"})
    at.run()
    ok(at)
    said = "No mixing: every pixel is boat's, nothing of airplane."
    assert any(said in c.value for c in at.caption)
    data = live_data(at)
    assert data["values"][data["index"]] == 1.0 and data["notes"][data["index"]] == said[:-1]
    assert "every pixel is airplane's" in data["notes"][0] and not any(data["notes"][1:-1])
    at.slider(key="lab_lam").set_value(0.5).run()
    assert not any("No mixing" in c.value for c in at.caption)
