"""What the CAM Explorer and Saliency pages draw for a 1280×720 projector in lecture mode, checked by value: the
short SaliencyMix vs SnapMix rows, the pooling figure's cells, and the sections another page (the Lecture) draws
through their functions. The browser's view of the same is tests/e2e/test_projector.py."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from mixviz.maps.pooling import pool2d
from mixviz.viz import map_figures as V

SEED = [[7, 9, 10, 4], [9, 10, 3, 9], [6, 2, 0, 3], [2, 0, 0, 1]]
ROWS = ["Algorithm", "Map", "Input size limits", "Classes it can see"]  # the deck's four rows, in our words


def test_short_comparison_rows_are_the_decks_four_rows_in_a_few_words():
    rows = V.comparison_rows("Xception", 299, (10, 10), short=True, classes=1000)
    assert rows == [
        {"": "Algorithm", "SaliencyMix": "Montabone & Soto saliency", "SnapMix": "Class activation map (CAM)"},
        {"": "Map", "SaliencyMix": "Statistical: no training", "SnapMix": "Learned: Xception"},
        {"": "Input size limits", "SaliencyMix": "None: any size", "SnapMix": "299×299 input, 10×10 CAM"},
        {"": "Classes it can see", "SaliencyMix": "Any: it knows no classes", "SnapMix": "Only its 1,000 trained classes"},
    ]
    lite = V.comparison_rows("EfficientNet-Lite0", 224, (7, 7), short=True)
    assert lite[2]["SnapMix"] == "224×224 input, 7×7 CAM" and lite[1]["SnapMix"] == "Learned: EfficientNet-Lite0"
    # the long rows explain the same four rows: the short table and its details line up
    long = V.comparison_rows("Xception", 299, (10, 10))
    assert [r[""] for r in long] == [r[""] for r in rows] == ROWS
    assert max(len(v) for r in rows for v in r.values()) <= 30 < min(len(r["SnapMix"]) for r in long)


def test_pooling_figure_in_lecture_mode_has_cells_wide_enough_for_8_75():
    """At 1280 px in lecture mode the page's main column is 780 px wide; the figure, as wide as that, gives each
    cell at least 2.2 times its number's font size (8.75 in 24 px is 42 px wide in Chromium)."""
    mx, av = pool2d(SEED, "max"), pool2d(SEED, "avg")
    fig = V.pooling_figure(SEED, {"max pool 2×2, stride 2": mx, "avg pool 2×2, stride 2": av}, big=True)
    layout = fig.layout
    texts = [a.text for a in layout.annotations]
    assert "8.75" in texts and "8.8" not in texts  # our exact value, not the deck's rounding
    size = next(a.font.size for a in layout.annotations if a.text == "8.75")
    (x0, x1), (y1, y0) = layout.xaxis.range, layout.yaxis.range
    m = layout.margin
    cell = min((780 - m.l - m.r) / (x1 - x0), (layout.height - m.t - m.b) / (y1 - y0))
    assert size >= 20 and cell >= 2.2 * size, (size, cell)
    assert layout.height == 378  # no taller than the cells need: the editor and the figure share a screen
    assert V.pooling_figure(SEED, {"max": mx}, big=False).layout.height == 300


@pytest.fixture(scope="module")
def model():
    import mixviz

    return mixviz.load_model()


def test_the_comparison_draws_on_any_page(model):
    """saliency.comparison() needs nothing from its page (the Lecture draws it too): the short table first, the
    long one in an expander under it."""
    def page():
        from views import saliency

        saliency.comparison()

    at = AppTest.from_function(page, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    short, long = (t.value for t in at.table)
    assert list(short.index) == list(long.index) == ROWS and list(short.columns) == ["SaliencyMix", "SnapMix"]
    size = model.recipe.size
    assert short.loc["Input size limits", "SnapMix"].startswith(f"{size}×{size} input")
    assert short.loc["Map", "SnapMix"] == f"Learned: {model.title}"
    assert "semantic percent map" in long.loc["Algorithm", "SnapMix"]
    assert [e.label for e in at.expander] == ["How they differ, in detail"]


def test_lecture_mode_draws_tables_not_canvases(model):
    """In lecture mode the layer tables are st.table (their text follows the lecture CSS), and the pooling section
    puts its figure under the editor's row, across the page."""
    def page():
        from views import cam_explorer

        cam_explorer.layer_table(True)
        cam_explorer.pooling_view(True)

    at = AppTest.from_function(page, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [d.key for d in at.dataframe] == ["cam_matrix"] and len(at.table) == 2  # the editor is the only canvas
    layers = at.table[0].value
    assert "CAM features" in " ".join(layers.iloc[:, 0].astype(str)) and list(layers.columns)[0] == "layer"
    keras = at.table[1].value
    assert keras["Param #"].iloc[-1] == "2,049,000"  # Xception's 1000-way dense layer, written as Keras does
    editor, picker = at.columns[0], at.columns[1]
    assert [d.key for d in editor.dataframe] == ["cam_matrix"] and picker.radio(key="cam_window")
    assert not any(c.get("plotly_chart") for c in at.columns)  # the figure is under the row, not in it
    notes = [a["text"] for a in json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["annotations"]]
    assert {"8.75", "6.5", "2.5", "1"} <= set(notes)


def test_a_wide_page_puts_the_pooling_figure_beside_the_editor():
    """pooling_view(True, wide=True): on a page without the sidebar (the Lecture) the figure goes beside the editor,
    so that the whole section fits a 720 px high screen."""
    def page():
        from views import cam_explorer

        cam_explorer.pooling_view(True, wide=True)

    at = AppTest.from_function(page, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    left, right = at.columns
    assert [d.key for d in left.dataframe] == ["cam_matrix"] and left.radio(key="cam_window")
    assert right.get("plotly_chart")
