"""The panel PNG carries what the Mixing Lab shows (issue 13: its bars were labelled "1" and "2"): the classes
on the label bars, λ and the seed in the title, a no-mix draw said, the photo credits at the foot."""
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
