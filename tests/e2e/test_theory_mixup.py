"""The Theory page's corrupted-label experiment in real Chromium, at the page's own size (3 corruption shares,
3 seeds, 100 epochs: about 20 s on two idle cores): the page draws with no exception and invites a Train; Train
shows a progress bar while it works, then the curves, Table 2 and the gradients between training points; a
reload shows them from the server's store without training again. Screenshots: tests/e2e/screenshots/
theory_mixup_*.png, to look at."""
import os
from pathlib import Path

import pytest
from serve import settle

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHART = '[data-testid="stPlotlyChart"]'
PROGRESS = '[data-testid="stProgress"]'
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
TRAINING_S = 300  # the wait for the figures: ~20 s on idle cores, allowing for a machine busy with other tests


def shoot(page, title: str, name: str) -> None:
    """A screenshot with the section titled `title` at the top of the view (the mouse off the page's buttons)."""
    page.get_by_role("heading", name=title).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.move(5, 995)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"theory_mixup_{name}.png"))


def test_train_shows_a_progress_bar_then_the_figures(app_url, page):
    page.goto(f"{app_url}/theory")
    settle(page, f"{CHART} .main-svg")
    assert page.locator(ERRORS).count() == 0
    assert page.get_by_text("Press Train to train the models here").count() == 1
    charts = page.locator(CHART).count()  # Beta, smoothing, the toy's two
    train = page.get_by_role("button", name="Train", exact=True).first
    train.scroll_into_view_if_needed()
    train.click()
    bar = page.locator(PROGRESS)
    bar.first.wait_for(state="visible", timeout=30_000)
    assert "Training ERM and mixup" in bar.first.inner_text()
    page.screenshot(path=str(SHOTS / "theory_mixup_training.png"))
    page.locator(f'{CHART} >> nth={charts + 1}').wait_for(timeout=TRAINING_S * 1000)  # the curves and the gradients
    settle(page, f"{CHART} .main-svg")
    assert page.locator(PROGRESS).count() == 0
    assert page.locator(ERRORS).count() == 0
    assert page.locator(CHART).count() == charts + 2
    assert page.get_by_role("button", name="Train", exact=True).count() == 0  # trained: the buttons are gone
    assert page.locator(f"{CHART} .main-svg").nth(charts).is_visible()
    table = page.locator('[data-testid="stTable"]')
    assert "Training error, corrupted" in table.inner_text() and "mixup (α = 32)" in table.inner_text()
    shoot(page, "Memorising corrupted labels", "trained")
    page.locator(f"{CHART} >> nth={charts}").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SHOTS / "theory_mixup_curves.png"))
    shoot(page, "Gradients between training points", "gradients")
    shoot(page, "Methods we can explain but not run", "not_run")

    page.reload()  # another run: the stored models, at once, no training
    settle(page, f"{CHART} .main-svg")
    page.locator(f'{CHART} >> nth={charts + 1}').wait_for(timeout=30_000)
    assert page.locator(PROGRESS).count() == 0 and page.locator(ERRORS).count() == 0
    assert page.get_by_role("button", name="Train", exact=True).count() == 0  # nothing left to train
