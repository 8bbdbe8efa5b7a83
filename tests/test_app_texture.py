"""The Texture & style page through streamlit's AppTest: it draws without an exception or an error, the Gram
section's numbers are the library's measurements, the heavy sections wait for their button, and each one, run
small, shows its result, keeps it for the next run and shows a stopped run's partial result."""
import base64
import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from apptest_helpers import APP, ok, switch_page

import mixviz
from mixviz.imaging import fit_within, load_image, to_tensor
from mixviz.maps import texture
from mixviz.samples import samples
from ui.uploads import MAX_SIDE
from views import texture as page

SMALL = page.Budget((48, 10), (48, 10), (48, 10))  # the heavy sections' sizes and steps in these tests


@pytest.fixture(scope="module")
def at():
    at = AppTest.from_file(APP, default_timeout=180).run()
    switch_page(at, "texture").run()
    ok(at)
    return at


@pytest.fixture(autouse=True)
def small(monkeypatch):
    monkeypatch.setattr(page, "BUDGETS", {"efficientnet_lite0": SMALL, "xception": SMALL})


def app_photo(name: str) -> torch.Tensor:
    """A bundled photo as the app holds it (ui.images.image: fitted within MAX_SIDE)."""
    return to_tensor(fit_within(load_image(samples()[name].path), MAX_SIDE))


def arr(v):
    """A plotly JSON array: a list, or numpy's {"dtype", "bdata"(, "shape")} encoding."""
    if isinstance(v, dict):
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape([int(n) for n in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray(v)


def captions(at) -> list[str]:
    return [c for img in at.main.image for c in img.captions]


def button(at, key: str):
    return next(b for b in at.button if b.key == key)


def test_the_page_draws_and_the_heavy_sections_wait(at):
    assert [h.value for h in at.header] == ["The Gram matrix: what goes with what", "Texture synthesis from noise",
                                            "Neural style transfer", "Texture or shape? The cue conflict"]
    assert len(at.latex) >= 4
    assert not at.get("progress")
    assert not any(c in ("Synthesised texture", "cue conflict") or c.startswith("Styled") for c in captions(at))
    infos = " ".join(i.value for i in at.info)
    assert "Press **Synthesise**" in infos and "Press **Transfer the style**" in infos and "Press the button" in infos
    assert any("not VGG" in c.value for c in at.caption)


def test_the_gram_numbers_are_the_measured_ones(at):
    """The metrics are shuffle_change's for slot 1 (cat) at blocks.1, 4 × 4 patches, seed 0, 224 px, computed
    here again; the heat maps are G/M_l of cat and dog."""
    m = mixviz.load_model()
    cat = app_photo("cat")
    shuffled, changes = texture.shuffle_change(m, cat, 4, 0, m.recipe.size)
    c = changes[2]
    shown = {x.label: x.value for x in at.metric}
    assert shown["Pixel change"] == f"{c.pixels:.1%}"
    assert shown["Gram change"] == f"{c.gram:.1%}"
    assert shown["Gram / pixels"] == f"{c.ratio:.3f}"
    assert c.ratio < 0.5 < c.noise_ratio
    table = next(d.value for d in at.dataframe if "Gram / pixel" in d.value.columns)
    assert list(table["Gram change"]) == [f"{x.gram:.1%}" for x in changes]
    spec = json.loads(next(p for p in at.get("plotly_chart") if p.proto.id.endswith("tex_gram_chart")).proto.spec)
    assert len(spec["data"]) == 3
    torch.testing.assert_close(torch.tensor(np.array(arr(spec["data"][0]["z"])), dtype=torch.float32),
                               texture.gram_heat(m, cat, 2, m.recipe.size), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(torch.tensor(np.array(arr(spec["data"][2]["z"])), dtype=torch.float32),
                               texture.gram_heat(m, shuffled, 2, m.recipe.size), rtol=1e-4, atol=1e-5)


def test_changing_the_layer_and_the_grid_changes_the_numbers(at):
    at.selectbox(key="tex_gram_layer").set_value(0)
    at.select_slider(key="tex_grid").set_value(8)
    at.run()
    ok(at)
    m = mixviz.load_model()
    _, changes = texture.shuffle_change(m, app_photo("cat"), 8, 0, m.recipe.size)
    shown = {x.label: x.value for x in at.metric}
    assert shown["Pixel change"] == f"{changes[0].pixels:.1%}" and shown["Gram change"] == f"{changes[0].gram:.1%}"
    assert any(md.value.startswith("At bn1 (stem) (32 ch, 1/2).") for md in at.markdown)


def test_synthesis_runs_on_its_button_and_is_kept(at):
    at.select_slider(key="tex_syn_size").set_value(48)
    at.select_slider(key="tex_syn_steps").set_value(10)
    at.multiselect(key="tex_syn_layers").set_value([1, 2])
    at.run()
    button(at, "tex_syn_go").click().run()
    ok(at)
    assert "Synthesised texture" in captions(at)
    text = next(c.value for c in at.caption if "L-BFGS steps from noise" in c.value)
    assert text.startswith("10 L-BFGS steps from noise at 48×48 px, layers blocks.0, blocks.1")
    at.run()                                                          # the next run shows it again, kept
    assert next(c.value for c in at.caption if "L-BFGS steps from noise" in c.value) == text
    assert button(at, "tex_syn_go").disabled                         # done: nothing left to start
    assert not at.get("progress")


def test_a_stopped_run_shows_what_it_made(at):
    """What a click on Stop leaves: the partial result in the session, which the next run shows."""
    at.select_slider(key="tex_syn_steps").set_value(25)
    key = ("texture", "sample:citrus", (1, 2), 48, 25, 0, f"{mixviz.load_model().name}|{mixviz.load_model().source}")
    at.session_state["tex_syn_partial"] = page.Partial(key, torch.rand(3, 48, 48), [9.0, 5.0, 4.0], 25, "Texture of citrus")
    at.run()
    ok(at)
    assert "Stopped at step 3 of 25" in captions(at)
    assert any(c.value.startswith("Texture of citrus: stopped after 3 of 25 steps") for c in at.caption)
    assert not button(at, "tex_syn_go").disabled


def test_style_transfer_runs_on_its_button(at):
    at.select_slider(key="tex_st_size").set_value(48)
    at.select_slider(key="tex_st_steps").set_value(10)
    at.run()
    button(at, "tex_st_go").click().run()
    ok(at)
    assert "Styled, β/α = 10⁴" in captions(at)
    text = next(c.value for c in at.caption if c.value.startswith("α = 1, β = 10000"))
    assert "10 L-BFGS steps from the content photo" in text and "L_style =" in text


def test_the_cue_conflict_runs_every_pair_and_counts_them(at):
    button(at, "tex_cue_go").click().run()
    ok(at)
    n = len(page.CUE_PAIRS)
    assert captions(at).count("cue conflict") == n
    verdicts = [h.value.rsplit(": ", 1)[1] for h in at.subheader if "'s texture: " in h.value]
    assert len(verdicts) == n and set(verdicts) <= {"shape", "texture", "both", "neither"}
    summary = next(m.value for m in at.markdown if m.value.startswith(f"**{n} pairs at β/α"))
    assert f"follows the shape in {verdicts.count('shape')}, the texture in {verdicts.count('texture')}" in summary
    at.run()
    assert button(at, "tex_cue_go").disabled and captions(at).count("cue conflict") == n


def test_lecture_mode_hides_the_fine_controls(at):
    at.sidebar.toggle(key="lecture").set_value(True).run()
    ok(at)
    keys = {w.key for kind in ("select_slider", "number_input", "selectbox") for w in at.get(kind)}
    assert "tex_shuffle_seed" not in keys and "tex_syn_size" not in keys and "tex_st_content_layer" not in keys
    assert "tex_gram_layer" in keys
    at.sidebar.toggle(key="lecture").set_value(False).run()
    ok(at)
