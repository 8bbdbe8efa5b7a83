"""A guided method is found by what it declares, never by its name: a throwaway method and a throwaway map
kind, registered only in a fixture here, are mixed by the library, and the Mixing Lab and the Gallery show
its maps and its guide pictures with no other change to the code."""
import pytest
import torch

import mixviz
from apptest_helpers import APP, mixing_lab, ok, switch_page
from mixviz.methods.guided import SaliencyMix
from mixviz.registry import MAP_KINDS, METHODS, register, register_map
from mixviz.types import MapNeed
from streamlit.testing.v1 import AppTest

NAME, KIND = "probe_guided", "probe_corner"


def corner_map(h: int, w: int) -> torch.Tensor:
    """(H, W) brightest at pixel (3H/4, W/4), falling off linearly: a map no real kind makes."""
    ys, xs = torch.arange(h)[:, None].float(), torch.arange(w)[None].float()
    return 1.0 / (1.0 + (ys - 3 * h // 4).abs() + (xs - w // 4).abs())


@pytest.fixture
def probe():
    """Registers the map kind `probe_corner` and the method `probe_guided` (SaliencyMix's box, centred on
    the peak of a probe_corner map, explained by the generic "maps" view and SaliencyMix's peak view);
    counts the maps computed (the app's per-image map cache starts empty); unregisters both afterwards."""
    from ui.maps import guide_map

    guide_map.clear()
    computed = []

    @register_map(KIND, per_class=False, uses_model=False, about="the probe's corner map")
    def _corner(x, options, classes=None, model=None):
        computed.append(x.shape[0])
        return corner_map(*x.shape[2:])[None].expand(x.shape[0], -1, -1).clone().to(x.device)

    @register(name=NAME, title="Probe guided (test)", family="guided", n_inputs=2, needs="saliency", params=(),
              paper="A test.", summary="SaliencyMix's box around the peak of the probe's corner map.",
              formula=r"\tilde x = M \odot x_A + (1 - M) \odot x_B")
    class ProbeGuided(SaliencyMix):
        guide_views = ("maps", "saliency_peak")

        def guide_maps(self, config):
            return (MapNeed(KIND),)

    yield computed
    del METHODS[NAME], MAP_KINDS[KIND]


def test_the_library_computes_the_declared_maps(probe):
    x = torch.rand(2, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    r = mixviz.mix(NAME, x, lam=0.75, seed=0)
    assert probe == [2]  # one map per image, computed through the registered kind
    assert r.info["peak"] == (30, 12)  # the corner map's peak, (3H/4, W/4)
    torch.testing.assert_close(r.maps[1], corner_map(40, 48))
    box_h, box_w = int(40 * 0.5), int(48 * 0.5)  # CutMix's box for λ = 0.75: H√(1−λ) × W√(1−λ)
    assert (r.info["y1"], r.info["y2"], r.info["x1"], r.info["x2"]) == (30 - box_h // 2, 40, 0, 12 + box_w // 2)
    xm, _ = mixviz.mix_batch(NAME, x, lam=0.75)
    torch.testing.assert_close(xm[0], r.image)  # sample 0 is x[0] with x[−1] = x[1] pasted, as in mix
    assert not torch.equal(xm[0], x[0])


def test_the_mixing_lab_shows_its_maps_and_guide_pictures(probe):
    at = mixing_lab(NAME, "cat", "dog")
    ok(at)
    captions = [c for img in at.main.image for c in img.captions]
    assert "guide map of input 1" in captions and "guide map of input 2" in captions
    assert "saliency of input 2: peak (+) and the box around it" in captions
    assert probe == [1, 1]  # one map per photo, through the app's per-image cache
    markdown = " ".join(m.value for m in at.markdown)
    assert "The maps that guided this mix" in markdown
    at.button(key="lab_reroll").click().run()
    ok(at)
    assert probe == [1, 1]  # a re-roll reuses the cached maps


def test_the_gallery_mixes_it_with_its_maps(probe):
    at = AppTest.from_file(APP, default_timeout=180).run()
    switch_page(at, "gallery").run()
    ok(at)
    titles = [c for img in at.main.image for c in img.captions]
    assert any(t.startswith("Probe guided (test) (") for t in titles), titles
    assert probe == [1, 1]  # its maps, one per photo, through the app's per-image cache


def test_every_declared_map_kind_and_view_is_registered_and_needs_agrees():
    """What each method declares resolves: its map kinds and guide views are registered, and its spec's
    `needs` (what the app tells a user: nothing, saliency, a pretrained model) says what those kinds use."""
    from mixviz.registry import map_kind
    from mixviz.viz.guides import GUIDE_VIEWS

    for name, spec in METHODS.items():
        kinds = [map_kind(n.kind) for n in spec.impl.guide_maps(spec.defaults())]
        assert set(spec.impl.guide_views) <= set(GUIDE_VIEWS), name
        expected = "model" if any(k.uses_model for k in kinds) else "saliency" if kinds else "none"
        assert spec.needs == expected, name
        assert bool(kinds) == bool(spec.impl.guide_views), name  # a guided method explains itself
