"""What the Mixing Lab shows is true, through streamlit's AppTest: each input is shaded where the mix uses
its own pixels (r.used, not the output mask), the code snippet makes the page's picture and label, the
label chart reads the result's own rule, and the α slider appears only where the draw uses α, starting at
the authors' value."""
import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import mixviz
import mixviz.imaging
from apptest_helpers import label_bars, live_data, mixing_lab, ok

ROOT = Path(__file__).resolve().parent.parent


def lab(method: str, *photos: str) -> AppTest:
    return mixing_lab(method, *photos)


def snippet_result(at, tmp_path, monkeypatch):
    """Run the page's "Code that makes this picture" from the repository (its paths are relative to it)."""
    src = next(c.value for c in at.code if "mixviz.mix(" in c.value)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(src.replace("'mix.png'", repr(str(tmp_path / "mix.png"))), "snippet", "exec"), scope)
    return src, scope["r"]


@pytest.fixture
def shaded(monkeypatch):
    """The masks the page shades its inputs with, in the order it shades them."""
    seen = []
    real = mixviz.imaging.shade

    def recording(image, mask, *a, **kw):
        seen.append(mask.clone())
        return real(image, mask, *a, **kw)

    monkeypatch.setattr(mixviz.imaging, "shade", recording)
    return seen


@pytest.mark.parametrize("method, photos", [("snapmix", ("boat", "airplane")), ("random_row_interval", ("cat", "dog")),
                                            ("ricap", ()), ("resizemix", ("boat", "airplane"))])
def test_inputs_are_shaded_where_their_own_pixels_are_used(method, photos, shaded, tmp_path, monkeypatch):
    at = lab(method, *photos)
    shaded.clear()
    at.number_input(key="lab_seed").set_value(2).run()
    ok(at)
    _, r = snippet_result(at, tmp_path, monkeypatch)
    k = mixviz.METHODS[method].n_inputs
    assert len(shaded) >= k  # the page's inputs first (the panel for download shades them again)
    for j in range(k):
        assert torch.equal(shaded[j], r.used[j].to(shaded[j].dtype)), f"input {j + 1}"
    assert any(not torch.equal(r.used[j], r.masks[j]) for j in range(k))  # the old shading would differ


@pytest.mark.parametrize("method, photos, lam_fixed", [("saliencymix", ("boat", "airplane"), True),
                                                       ("snapmix", ("boat", "airplane"), False),
                                                       ("random_column_interval", ("cat", "dog"), False),
                                                       ("cutmix", ("cat", "dog"), True)])
def test_the_snippet_makes_the_pages_picture_and_label(method, photos, lam_fixed, tmp_path, monkeypatch):
    at = lab(method, *photos)
    at.number_input(key="lab_seed").set_value(3).run()
    at.toggle(key="lab_fix").set_value(lam_fixed).run()
    if lam_fixed:
        at.slider(key="lab_lam").set_value(0.62).run()
    ok(at)
    src, r = snippet_result(at, tmp_path, monkeypatch)
    assert "image_size=" in src and "fit_within" in src
    page = label_bars(at)
    assert list(page) == list(r.label)
    # float32 maps: a forward pass on another thread count may differ in the last bit
    assert list(page.values()) == pytest.approx(list(r.label.values()), abs=1e-6)
    drawn = json.loads(next(j for j in at.json).proto.body)
    for key, value in drawn.items():
        assert r.info[key] == pytest.approx(value, abs=1e-6), key
    assert (tmp_path / "mix.png").stat().st_size > 10_000


def test_alpha_slider_only_where_the_draw_uses_alpha_and_it_starts_at_the_authors_value():
    at = lab("snapmix")
    at.toggle(key="lab_fix").set_value(False).run()
    ok(at)
    assert at.slider(key="lab_alpha").value == 5.0  # SnapMix's authors use β = 5
    at.selectbox(key="lab_family").select("tiles").run()
    at.selectbox(key="lab_method").select("random_row_interval").run()
    ok(at)
    assert "lab_alpha" not in [w.key for w in at.slider]
    assert any("No α here" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 0  # no Beta density for a draw that has none
    at.selectbox(key="lab_method").select("vertical_concat").run()
    assert at.slider(key="lab_alpha").value == 1.0


def test_snapmix_explains_a_weight_above_one():
    at = lab("snapmix", "boat", "boat")
    ok(at)
    bars = label_bars(at)
    assert list(bars) == ["boat"] and bars["boat"] > 1  # 2(ρa + ρb), the authors' loss weight
    assert any("2(ρa + ρb)" in c.value for c in at.caption)


def test_splicemix_chart_follows_the_label_it_was_given():
    def title(at):
        return live_data(at)["bar_title"]

    at = lab("splicemix")
    assert "union" in title(at)
    at.selectbox(key="lab_splicemix_label").select("area").run()
    ok(at)
    assert "union" not in title(at)  # the result's rule, not the spec's: area shares (dropped cells are black)
    assert all(0 <= v < 1 for v in label_bars(at).values()) and sum(label_bars(at).values()) <= 1 + 1e-9
