"""The Texture & style page in Chromium: it renders with the Gram matrices and the patch shuffle's numbers and no
exception; a short texture synthesis shows its progress bar while it works and the texture after; and Stop, clicked
during a longer one, ends it and leaves the picture made so far. Screenshots go to tests/e2e/screenshots/texture*.png
for a person to look at."""
import os
import re
from pathlib import Path

import pytest
from serve import settle

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
SHOTS = Path(__file__).resolve().parent / "screenshots"
EXCEPTION = '[data-testid="stException"]'
GRAM = '[data-testid="stMain"] [data-testid="stPlotlyChart"] .main-svg'
PROGRESS = '[data-testid="stMain"] [data-testid="stProgress"]'
RESULT = '[data-testid="stImageCaption"]:has-text("Synthesised texture")'
STOPPED = '[data-testid="stImageCaption"]:has-text("Stopped at step")'
SIZES = (48, 64, 96, 128, 160, 192, 224, 256)          # views.texture.SIZES
STEPS = (10, 25, 50, 100, 150, 200, 300)               # views.texture.STEP_CHOICES


def slide(page, key: str, options: tuple, start, goal) -> None:
    """Move the select slider `key` from `start` to `goal`, one option per arrow key, as a person would."""
    thumb = page.locator(f".st-key-{key}").get_by_role("slider")
    thumb.focus()
    moves = options.index(goal) - options.index(start)
    for _ in range(abs(moves)):
        thumb.press("ArrowRight" if moves > 0 else "ArrowLeft")
    page.locator(f".st-key-{key}").filter(has_text=str(goal)).wait_for()
    settle(page, GRAM)


def opened(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 3000})    # the whole page in one screenshot
    page.goto(f"{app_url}/texture")
    settle(page, GRAM)
    return page


def test_the_page_renders_the_gram_matrices(app_url, page):
    opened(page, app_url)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "texture.png"))
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.get_by_role("heading", name="Texture & style").count() >= 1
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(re.search(r"Pixel change\s+\d+\.\d%", m) for m in metrics), metrics
    assert any(re.search(r"Gram / pixels\s+\d\.\d{3}", m) for m in metrics), metrics
    assert page.locator(PROGRESS).count() == 0                   # nothing heavy runs before its button


def test_a_short_synthesis_shows_its_progress_then_the_texture(app_url, page):
    opened(page, app_url)
    slide(page, "tex_syn_size", SIZES, 224, 96)
    slide(page, "tex_syn_steps", STEPS, 200, 150)
    page.locator(".st-key-tex_syn_go button").first.click()
    page.wait_for_selector(PROGRESS, timeout=60_000)              # while it works
    page.screenshot(path=str(SHOTS / "texture_working.png"))
    page.wait_for_selector(RESULT, timeout=120_000)               # and after
    settle(page, RESULT)
    page.screenshot(path=str(SHOTS / "texture_synthesised.png"))
    assert page.locator(PROGRESS).count() == 0
    assert page.locator(EXCEPTION).count() == 0
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="L-BFGS steps from noise").inner_text()
    assert caption.startswith("150 L-BFGS steps from noise at 96×96 px"), caption
    img = page.locator('[data-testid="stImage"]').filter(has=page.locator(RESULT)).locator("img")
    assert img.evaluate("i => i.complete && i.naturalWidth > 0")


def test_stop_ends_a_synthesis_and_keeps_its_picture(app_url, page):
    opened(page, app_url)
    slide(page, "tex_syn_steps", STEPS, 200, 300)                 # 224 px, 300 steps: far longer than the click
    page.locator(".st-key-tex_syn_go button").first.click()
    page.locator(PROGRESS).filter(has_text=re.compile(r"step ([2-9]\d|\d{3}) of 300")).wait_for(timeout=90_000)
    page.locator(".st-key-tex_syn_stop button").first.click()   # the run's button (and a stale copy as it redraws)
    page.wait_for_selector(STOPPED, timeout=60_000)
    settle(page, STOPPED)
    page.screenshot(path=str(SHOTS / "texture_stopped.png"))
    shown = page.locator(STOPPED).inner_text()
    done = int(re.search(r"Stopped at step (\d+) of 300", shown).group(1))
    assert 20 <= done < 300
    assert page.locator(PROGRESS).count() == 0 and page.locator(RESULT).count() == 0
    assert page.locator(EXCEPTION).count() == 0
