"""Links that reproduce a picture, through AppTest: every control of the Mixing Lab read from the address and
written back to it, a bad value named in one message with its control at the default, and the seed and λ
that every page shares. (The browser tests open links in Chromium too: tests/e2e/test_live.py.)"""
import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import APP, label_bars, live_data, ok, switch_page

import mixviz
from ui.images import batch


def opened(link: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in link.items():
        at.query_params[k] = v
    return at.run()


def address(at) -> dict:
    return {k: at.query_params[k][0] if isinstance(at.query_params[k], list) else at.query_params[k]
            for k in at.query_params}


def warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def library(method: str, names, **kwargs):
    return mixviz.mix(method, batch(tuple(f"sample:{n}" for n in names)), labels=list(names), **kwargs)


def test_a_link_sets_every_control_and_the_address_keeps_it():
    link = {"method": "cutout", "img": "cow,dog", "slots": "2", "seed": "3", "size": "0.3", "n_holes": "2",
            "fill": "grey", "grey": "0.2", "centre": "0.25,0.75"}
    at = opened(link)
    ok(at)
    assert not at.warning
    assert at.selectbox(key="lab_method").value == "cutout" and at.number_input(key="lab_seed").value == 3
    assert at.slider(key="lab_cutout_size").value == 0.3 and at.slider(key="lab_cutout_n_holes").value == 2
    assert at.toggle(key="lab_cutout_centre_fixed").value and at.slider(key="lab_cutout_centre_x").value == 0.75
    r = library("cutout", ["cow"], seed=3, size=0.3, n_holes=2, fill="grey", grey=0.2, centre=(0.25, 0.75))
    data = live_data(at)
    assert data["mask_means"][data["index"]][0] == pytest.approx(float(r.masks[0].float().mean()), abs=1e-6)
    assert address(at) == link  # the run wrote back the same address


def test_mixup_of_boat_and_airplane_at_lambda_0_7():
    at = opened({"method": "mixup", "img": "boat,airplane", "lam": "0.7"})
    ok(at)
    assert label_bars(at) == pytest.approx({"boat": 0.7, "airplane": 0.3})
    assert at.toggle(key="lab_fix").value and at.slider(key="lab_lam").value == 0.7


def test_a_link_without_lambda_draws_it_with_its_alpha():
    at = opened({"method": "cutmix", "img": "cow,dog", "seed": "4", "alpha": "0.5"})
    ok(at)
    assert not at.toggle(key="lab_fix").value and at.slider(key="lab_alpha").value == 0.5
    r = library("cutmix", ["cow", "dog"], seed=4, alpha=0.5)
    assert label_bars(at) == pytest.approx(r.label)
    assert "lam" not in address(at) and address(at)["alpha"] == "0.5"


@pytest.mark.parametrize("link,named", [
    ({"method": "nosuch"}, "method=nosuch"),
    ({"method": "mixup", "img": "boat,unicorn"}, "unicorn"),
    ({"method": "mixup", "lam": "2"}, "lam=2"),
    ({"method": "mixup", "lam": "nan"}, "lam=nan"),
    ({"method": "mixup", "seed": "-1"}, "seed=-1"),
    ({"method": "cutout", "size": "5"}, "size=5"),
    ({"method": "cutout", "fill": "pink"}, "fill=pink"),
    ({"method": "cutmix", "centre": "0.5"}, "centre=0.5"),
    ({"method": "mixup", "slots": "3"}, "slots=3"),
    ({"method": "mixup", "colour": "red"}, "colour"),
])
def test_a_bad_value_is_named_and_its_control_starts_at_the_default(link, named):
    at = opened(link)
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning and named in warnings(at) and len(at.warning) == 1
    assert live_data(at)["values"]  # the page still draws its live picture


def test_an_uploaded_image_cannot_travel_in_a_link():
    from pathlib import Path

    at = opened({"method": "mixup", "img": "boat,airplane", "lam": "0.5"})
    assert address(at)["img"] == "boat,airplane"
    photo = (Path(mixviz.samples.PHOTOS) / "cat.jpg").read_bytes()
    at.sidebar.file_uploader(key="uploads").set_value([("mine.jpg", photo, "image/jpeg")]).run()
    ok(at)
    assert "mine" in label_bars(at)
    assert "img" not in address(at) and "uploaded image" in " ".join(c.value for c in at.caption)


def test_seed_and_lambda_are_shared_by_the_pages_and_kept_when_fix_goes_off_and_on():
    at = opened({"method": "mixup", "lam": "0.3", "seed": "7"})
    at.toggle(key="lab_fix").set_value(False).run()
    at.toggle(key="lab_fix").set_value(True).run()
    assert at.slider(key="lab_lam").value == 0.3  # λ where it was
    switch_page(at, "gallery").run()
    assert at.slider(key="gal_lam").value == 0.3 and at.number_input(key="gal_seed").value == 7
    at.slider(key="gal_lam").set_value(0.6).run()
    switch_page(at, "saliency").run()
    assert at.slider(key="sal_lam").value == 0.6
    switch_page(at, "mixing_lab").run()
    assert at.slider(key="lab_lam").value == 0.6 and at.number_input(key="lab_seed").value == 7


def test_the_live_picture_shows_the_current_value_when_the_sweep_leaves_some_out():
    at = opened({"method": "smoothmix", "sigma_min": "0.25", "sigma_max": "0.3"})
    ok(at)
    data = live_data(at)
    assert max(data["values"]) <= 0.3  # σ_min above σ_max is refused, so those frames are left out
    assert data["values"][data["index"]] == 0.25
    r = library("smoothmix", ["cat", "dog"], sigma_min=0.25, sigma_max=0.3)
    assert label_bars(at) == pytest.approx(r.label)
