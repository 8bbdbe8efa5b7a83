"""The Lecture page on a 1280×720 projector, in real Chromium: every step reached with the → key from the first,
a screenshot of each (tests/e2e/screenshots/lecture_<slug>.png, to look at), and checked by the DOM: no
exception or error, the mixed picture at least half the page's width, the picture and its label inside the
viewport, the maps that guided the mix beside it on the same screen, text at least 20 px, the label shown equal
to the library's (ui.lecture_steps.mix_of), the slide's label marked beside ours. Then ← goes back, and a step's
link opens that step on its own."""
import os
from pathlib import Path

import pytest
from serve import settle

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
SHOTS = Path(__file__).resolve().parent / "screenshots"
WIDTH, HEIGHT = 1280, 720
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'
TITLE = '[data-testid="mixviz-step-title"]'
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def inside(box: dict, what: str) -> None:
    assert box is not None, f"{what} is not drawn"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5 \
        and box["y"] + box["height"] <= HEIGHT + 0.5, f"{what} leaves the 1280×720 screen: {box}"


def shown_bars(page) -> dict:
    """{class: weight} of the live picture's label bars."""
    rows = page.locator('[data-testid="mixviz-label"] .mv-bar-row')
    return {rows.nth(i).locator(".mv-bar-name").inner_text(): float(rows.nth(i).locator(".mv-bar-text").inner_text())
            for i in range(rows.count())}


def smallest_text(page) -> float:
    """The smallest font size (px) of the visible text the page draws in its main area (the component's text,
    captions, markdown, image captions, buttons)."""
    return page.evaluate("""() => {
      const picks = ['[data-testid="stMain"] [data-testid="stCaptionContainer"]', '[data-testid="stImageCaption"]',
                     '[data-testid="stMain"] [data-testid="stMarkdownContainer"] p', '[data-testid="stMain"] button p',
                     '.mv-root figcaption', '.mv-bar-name', '.mv-bar-text', '.mv-bar-title', '.mv-value', '.mv-name',
                     '.mv-caption', '.mv-strip-caption', '.mv-hint', '.mv-bar-ref-text'];
      const sizes = [];
      const visit = (root) => {
        for (const sel of picks) for (const e of root.querySelectorAll(sel)) {
          const r = e.getBoundingClientRect();
          if (r.width > 0 && r.height > 0 && e.textContent.trim()) sizes.push(parseFloat(getComputedStyle(e).fontSize));
        }
        for (const e of root.querySelectorAll('*')) if (e.shadowRoot) visit(e.shadowRoot);
      };
      visit(document);
      return Math.min(...sizes);
    }""")


def versions(page) -> list:
    """The sweeps of the live pictures on the page, in order: while a run replaces a step, the last step's picture
    may stand beside the new one for a moment (streamlit keeps stale elements until the run ends)."""
    return page.locator('[data-testid="mixviz-scrubber"]').evaluate_all(
        "els => els.map(e => e.dataset.ready === 'true' ? e.dataset.version : null)")


def settle_step(page, step, before: str | None = None) -> None:
    """Wait for `step` drawn: its title, no script run, and its own sweep alone (not `before`, the last step's)."""
    page.locator(TITLE).filter(has_text=step.title).wait_for()
    settle(page, LIVE if step.kind == "mix" else TITLE)
    for _ in range(240):
        shown = versions(page)
        if (len(shown) == 1 and shown[0] not in (None, before)) if step.kind == "mix" else not shown:
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(600)


def check_mix_step(page, step) -> None:
    from ui.lecture_steps import mix_of, slide_error, TOLERANCE

    picture = page.locator('[data-testid="mixviz-live-image"]').bounding_box()
    inside(picture, f"{step.slug}: the mixed picture")
    assert picture["width"] >= WIDTH / 2, f"{step.slug}: the picture is {picture['width']:.0f} px wide, under half the page"
    inside(page.locator('[data-testid="mixviz-label"]').bounding_box(), f"{step.slug}: the label")
    expected = {str(k): float(v) for k, v in mix_of(step).label.items()}
    shown = shown_bars(page)
    assert shown.keys() == expected.keys(), (step.slug, shown, expected)
    assert all(abs(shown[k] - expected[k]) <= 5e-4 for k in expected), (step.slug, shown, expected)
    if step.slide:  # the slide's label marked on the bars; the words under them say the same or why not
        assert page.locator('[data-testid="mixviz-ref-mark"]').count() == len(expected)
        said = page.locator('[data-testid="mixviz-slide-label"]').inner_text()
        assert ("the same as ours" in said) == (slide_error(step, expected) <= TOLERANCE), (step.slug, said)
        if step.why:
            assert step.why[:40] in said
    images = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    for i in range(images.count()):  # the maps that guided the mix, beside it
        inside(images.nth(i).bounding_box(), f"{step.slug}: guide map {i + 1}")


def test_every_lecture_step_fits_a_projector_and_shows_the_librarys_label(app_url, projector):
    from ui.lecture_steps import STEPS

    page = projector
    page.goto(f"{app_url}/lecture")
    sizes = {}
    for n, step in enumerate(STEPS):
        before = (versions(page) or [None])[-1]
        if n:
            page.locator(TITLE).click()  # focus on the page, not on a control that takes the arrow keys itself
            page.keyboard.press("ArrowRight")
        settle_step(page, step, before)
        page.screenshot(path=str(SHOTS / f"lecture_{step.slug}.png"))
        assert page.locator(ERRORS).count() == 0, f"{step.slug}: an error on the page"
        page.wait_for_url(f"**/lecture?step={step.slug}")
        if step.kind == "mix":
            check_mix_step(page, step)
        sizes[step.slug] = smallest_text(page)
    small = {slug: size for slug, size in sizes.items() if size < 20}
    assert not small, f"text under 20 px: {small}"
    page.keyboard.press("ArrowLeft")
    settle_step(page, STEPS[-2])


def test_a_step_link_opens_that_step_and_a_bad_one_says_so(app_url, projector):
    from ui.lecture_steps import BY_SLUG

    page = projector
    page.goto(f"{app_url}/lecture?step=snapmix")
    settle_step(page, BY_SLUG["snapmix"])
    assert page.locator(TITLE).inner_text().endswith("SnapMix")
    page.goto(f"{app_url}/lecture?step=no-such-step")
    settle(page, TITLE)
    assert page.get_by_text("no such lecture step").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_mixing_lab_in_lecture_mode_shows_the_mix_its_label_and_its_maps_on_one_screen(app_url, projector):
    """Lecture mode on the Mixing Lab at 1280×720 with the sidebar open: the method's name, the picture (at least
    half of the main area's width), its label and the maps that guided it on the first screen; the controls under
    them."""
    page = projector
    page.goto(f"{app_url}/?lecture=1&method=snapmix&img=boat,airplane")
    settle(page, LIVE)
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / "lab_lecture_snapmix.png"))
    assert page.locator(ERRORS).count() == 0
    picture = page.locator('[data-testid="mixviz-live-image"]').bounding_box()
    inside(picture, "the mixed picture")
    main = page.locator('[data-testid="stMain"]').bounding_box()
    assert picture["width"] >= main["width"] / 2, (picture, main)
    inside(page.locator('[data-testid="mixviz-label"]').bounding_box(), "the label")
    maps = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    assert maps.count() >= 2
    for i in range(2):
        inside(maps.nth(i).bounding_box(), f"guide map {i + 1}")
    assert smallest_text(page) >= 20
