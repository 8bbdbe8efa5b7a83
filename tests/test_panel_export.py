"""The panel PNG carries what the Mixing Lab shows (issue 13: its bars were labelled "1" and "2"): the classes
on the label bars, λ and the seed in the title, a no-mix draw said, the photo credits at the foot."""
import numpy as np
import torch

import mixviz
from mixviz.viz.slides import method_figure

torch.manual_seed(0)
X = torch.rand(2, 3, 24, 32)


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]


def test_the_bars_are_named_by_the_classes_and_the_title_gives_lambda_and_the_seed():
    r = mixviz.mix("cutmix", X, labels=["boat", "airplane"], seed=3, lam=0.7)
    fig = method_figure(r, X, ["boat", "airplane"], credits=["Boat: someone, CC BY"], seed=3)
    bars = fig.axes[-1]
    assert [t.get_text() for t in bars.get_xticklabels()] == ["boat", "airplane"]
    title = fig._suptitle.get_text()
    assert title.startswith("CutMix   (λ = 0.700") and title.endswith("seed 3)")
    assert any("Photos: Boat: someone, CC BY" in t for t in texts(fig))
    assert [f"{w:.3f}" for w in r.weights.tolist()] == [t for t in texts(bars) if t[:2] in ("0.", "1.")][:2]


def test_a_draw_that_is_no_mix_says_so_in_the_title():
    r = mixviz.mix("mixup", X, labels=["boat", "airplane"], lam=1.0)
    title = method_figure(r, X, ["boat", "airplane"], seed=0)._suptitle.get_text()
    assert title.splitlines()[-1] == "No mixing: every pixel is boat's, nothing of airplane."


def test_a_guided_methods_panel_has_its_maps_with_the_box_and_the_peak():
    """SaliencyMix's panel shows the saliency of input 2 with its peak and box, as the page does."""
    from mixviz.viz.guides import guide_views

    r = mixviz.mix("saliencymix", X, labels=["boat", "airplane"], seed=1, lam=0.6)
    views = guide_views(r, X)
    fig = method_figure(r, X, ["boat", "airplane"], seed=1, guides=views)
    shown = [ax for ax in fig.axes if ax.get_title().replace("\n", " ") in [c for c, _ in views]]
    assert [ax.get_title().replace("\n", " ") for ax in shown] == [c for c, _ in views] and views
    for ax, (_, picture) in zip(shown, views):  # the very pictures the page shows
        assert (ax.get_images()[0].get_array() == np.asarray(picture)).all()
    assert len(method_figure(r, X, ["boat", "airplane"]).axes) == 2 * 3  # no guides given: two rows


def test_the_pictures_figure_shows_the_pages_pictures_with_their_captions():
    from PIL import Image

    from mixviz.viz.slides import pictures_figure

    views = [(f"map {i}", Image.fromarray((np.random.rand(20, 30, 3) * 255).astype(np.uint8))) for i in range(5)]
    fig = pictures_figure(views, "Four saliency maps", "Photo: someone", columns=4)
    drawn = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in drawn] == [c for c, _ in views] and len(fig.axes) == 8  # two rows of 4
    long = "Gradient saliency: for “Egyptian cat” (the photo's ImageNet class), peak at row 116, column 266"
    titles = [ax.get_title() for ax in pictures_figure([(long, views[0][1])] * 4, "t").axes]
    assert all(t.replace("\n", " ") == long and all(len(line) <= 44 for line in t.splitlines()) for t in titles)
    assert all((ax.get_images()[0].get_array() == np.asarray(p)).all() for ax, (_, p) in zip(drawn, views))
    assert fig._suptitle.get_text() == "Four saliency maps" and any("Photo: someone" in t for t in texts(fig))


def test_the_cam_and_saliency_pages_offer_their_png_and_plotlys_own():
    from streamlit.testing.v1 import AppTest

    from apptest_helpers import APP, ok, switch_page

    at = AppTest.from_file(APP, default_timeout=180).run()
    for page, label in (("cam_explorer", "Download this CAM as PNG"), ("saliency", "Download these maps as PNG")):
        switch_page(at, page).run()
        ok(at)
        assert label in [b.proto.label for b in at.get("download_button")]  # the browser test downloads them
    switch_page(at, "cam_explorer").run()
    configs = [c.proto.config for c in at.get("plotly_chart")]
    assert configs and all('"toImage"' in c and '"displaylogo": false' in c for c in configs)
