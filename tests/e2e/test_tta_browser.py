"""The Test-time augmentation page in Chromium: it renders with its ten crop pictures, the averages and the evaluation
table, and no exception, on a 1400×1000 window and in lecture mode on a 1280×720 projector. Screenshots go to
tests/e2e/screenshots/tta*.png for a person to look at."""
import os
import re
from pathlib import Path

import pytest
from serve import settle

from mixviz import tta

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
SHOTS = Path(__file__).resolve().parent / "screenshots"
EXCEPTION = '[data-testid="stException"]'
SUMMARY = '[data-testid="stMain"] [data-testid="stTable"]:has-text("top-1 right")'


def crop_captions(page) -> list[str]:
    texts = page.locator('[data-testid="stMain"] [data-testid="stImageCaption"]').all_inner_texts()
    return [t for t in texts if t.split(":")[0] in tta.CROP_NAMES]


def test_the_page_renders_the_ten_crops_and_the_table(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 2800})  # the whole page in one screenshot (the main pane scrolls)
    page.goto(f"{app_url}/tta")
    settle(page, SUMMARY)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "tta.png"))
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.get_by_role("heading", name="Test-time augmentation").count() >= 1
    caps = crop_captions(page)
    assert [c.split(":")[0] for c in caps] == list(tta.CROP_NAMES), caps
    assert all(re.search(r": .+ \d+%", c) for c in caps), caps
    crops = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    assert crops.count() == 10
    assert all(crops.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(10))
    summary = page.locator(SUMMARY).inner_text()
    assert "Centre crop alone" in summary and re.search(r"\d+ / \d+", summary)
    assert "Photo by photo" in page.locator('[data-testid="stMain"]').inner_text()


def test_lecture_mode_on_a_projector(app_url, projector):
    projector.goto(f"{app_url}/tta?lecture=1")
    settle(projector, SUMMARY)
    projector.wait_for_timeout(500)
    projector.screenshot(path=str(SHOTS / "tta_lecture.png"))
    projector.screenshot(path=str(SHOTS / "tta_lecture_full.png"), full_page=True)
    assert projector.locator(EXCEPTION).count() == 0
    assert len(crop_captions(projector)) == 10
