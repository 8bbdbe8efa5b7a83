"""The CAM Explorer and Saliency pages on a 1280×720 projector in lecture mode (?lecture=1), in real Chromium,
checked by the DOM: the pooled numbers do not overlap, the matrix editor shows its four columns, the class
picker is on the first screen and works, the SaliencyMix vs SnapMix table is short, and no text is under
20 px. Screenshots go to tests/e2e/screenshots/projector_*.png for a person to look at."""
import os
import re
from pathlib import Path

import pytest
from serve import settle

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
SHOTS = Path(__file__).resolve().parent / "screenshots"
EXCEPTION = '[data-testid="stException"]'
WIDTH, HEIGHT = 1280, 720
POOL_SVG = '.st-key-cam_pool .main-svg'
MIN_PX = 20  # lecture mode's root font

# Text of the main area drawn under MIN_PX: every visible text node's font size times the zoom it is drawn at,
# and the canvas of a dataframe or data editor (its font from the grid's CSS variable, times the element's zoom).
# KaTeX's sub- and superscripts are smaller by design (the formula's own size is 1.15em), and so are left out.
SMALL_TEXT = """(minPx) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const zoom = e => { let z = 1; for (let x = e; x; x = x.parentElement) z *= parseFloat(getComputedStyle(x).zoom) || 1; return z; };
  const small = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement, text = n.textContent.trim();
    if (!text || e.closest('svg, .katex') || !e.getClientRects().length) continue;
    const px = parseFloat(getComputedStyle(e).fontSize) * zoom(e);
    if (px < minPx - 0.01) small.push([text.slice(0, 40), px, e.closest('[data-testid]')?.dataset.testid]);
  }
  for (const e of main.querySelectorAll('input')) {
    const px = parseFloat(getComputedStyle(e).fontSize) * zoom(e);
    if (e.getClientRects().length && px < minPx - 0.01) small.push(['input ' + e.value, px, 'input']);
  }
  for (const e of main.querySelectorAll('[data-testid="stDataFrame"]')) {
    const grid = e.querySelector('[style*="--gdg-base-font-style"]');
    const m = grid && getComputedStyle(grid).getPropertyValue('--gdg-base-font-style').match(/([\\d.]+)px/);
    const px = m ? parseFloat(m[1]) * zoom(e) : 0;
    if (e.getClientRects().length && px < minPx - 0.01) small.push(['dataframe canvas', px, 'stDataFrame']);
  }
  return small;
}"""

FONT_SIZES = """(selector) => [...document.querySelectorAll(selector)].filter(e => e.getClientRects().length)
  .map(e => [e.innerText.slice(0, 40), parseFloat(getComputedStyle(e).fontSize)])"""

BOX = "e => { const b = e.getBoundingClientRect(); return {x: b.x, y: b.y, width: b.width, height: b.height}; }"


def open_page(page, url: str, marker: str) -> None:
    page.goto(url)
    settle(page, marker)
    page.wait_for_timeout(1000)  # plotly and the grid draw after the run ends
    settle(page, marker)
    assert page.locator(EXCEPTION).count() == 0
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == f"{MIN_PX}px"  # lecture mode is on


def show(page, selector: str, shot: str) -> None:
    """Scroll the main area so that the heading above `selector` is at the top, and take a screenshot."""
    page.locator(selector).first.evaluate("""e => {
        const above = [...document.querySelectorAll('[data-testid="stMain"] h2, [data-testid="stMain"] h3')]
            .filter(h => h.getBoundingClientRect().top <= e.getBoundingClientRect().top).pop();
        (above || e).scrollIntoView({block: 'start'}); }""")
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / shot))


def overlaps(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def inside(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (a["x"] >= b["x"] - slack and a["y"] >= b["y"] - slack and a["x"] + a["width"] <= b["x"] + b["width"] + slack
            and a["y"] + a["height"] <= b["y"] + b["height"] + slack)


def test_cam_explorer_on_a_projector(app_url, projector):
    page = projector
    open_page(page, f"{app_url}/cam_explorer?lecture=1", POOL_SVG)
    page.screenshot(path=str(SHOTS / "projector_cam_top.png"))

    # the "any ImageNet class" picker is whole on the first screen, its value not cut off
    picker = page.locator('.st-key-cam_class')
    box = picker.evaluate(BOX)
    assert inside(box, {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT}), box
    value = picker.get_by_role("combobox")
    assert value.input_value() == "Egyptian cat (285)"
    assert value.evaluate("e => e.scrollWidth <= e.clientWidth")

    # the pooling figure: every number, the pooled outputs' above all, in its own box (8.75 stays 8.75)
    show(page, '.st-key-cam_matrix', "projector_cam_pooling.png")
    notes = page.locator(f'{POOL_SVG} g.annotation').evaluate_all(
        "gs => gs.map(g => { const t = g.querySelector('text'); const b = t.getBoundingClientRect();"
        " return {text: t.textContent, x: b.x, y: b.y, width: b.width, height: b.height}; })")
    arrow = next(n for n in notes if n["text"] == "→")
    pooled = [n for n in notes if re.fullmatch(r"[\d.]+", n["text"]) and n["x"] > arrow["x"]]
    assert sorted(n["text"] for n in pooled) == sorted(["10", "10", "6", "3", "8.75", "6.5", "2.5", "1"]), pooled
    numbers = [n for n in notes if re.fullmatch(r"[\d.]+", n["text"])]
    assert len(numbers) == 16 + 8
    for i, a in enumerate(numbers):
        for b in numbers[i + 1:]:
            assert not overlaps(a, b), (a, b)
    eight, six = (next(n for n in pooled if n["text"] == t) for t in ("8.75", "6.5"))
    assert six["x"] - (eight["x"] + eight["width"]) >= 8, (eight, six)  # a clear gap between the two, not a touch

    # the matrix editor: its four columns all inside its box (the grid does not scroll sideways), in its column,
    # at 20 px
    editor = page.locator('.st-key-cam_matrix [data-testid="stDataFrame"]')
    headers = editor.locator('[role="columnheader"]').all_inner_texts()
    assert [h.strip() for h in headers] == ["col 1", "col 2", "col 3", "col 4"], headers
    grid = editor.evaluate("e => { const s = e.querySelector('.dvn-scroller'); return [s.scrollWidth, s.clientWidth]; }")
    assert grid[0] <= grid[1], f"the grid is {grid[0]} px wide in a box of {grid[1]} px"
    column = editor.evaluate("e => { const b = e.closest('[data-testid=\"stColumn\"]').getBoundingClientRect();"
                             " return {x: b.x, y: b.y, width: b.width, height: b.height}; }")
    assert inside(editor.evaluate(BOX), column), (editor.evaluate(BOX), column)

    # the editor still edits when zoomed: a new top-left value reaches the pooled outputs
    ebox = editor.evaluate(BOX)
    row = ebox["height"] / 5  # a header and four rows of the same height
    page.mouse.dblclick(ebox["x"] + ebox["width"] / 8, ebox["y"] + 1.5 * row)
    page.wait_for_function("() => document.activeElement?.classList.contains('gdg-input')", timeout=10_000)
    assert page.evaluate("document.activeElement.value") == "7"  # the cell at row 1, column 1
    page.keyboard.press("Control+a")
    page.keyboard.type("20")
    page.wait_for_timeout(500)  # Enter at once after the keys, with or without the zoom, may close the editor unsaved
    page.keyboard.press("Enter")
    page.locator('[data-testid="stMain"]').get_by_text("[[20, 10], [6, 3]]").wait_for(timeout=60_000)
    settle(page, POOL_SVG)
    assert page.locator(EXCEPTION).count() == 0

    # captions, image captions, tables (the expanders opened), labels: nothing under 20 px
    for summary in page.locator('[data-testid="stMain"] [data-testid="stExpander"] summary').all():
        summary.click()
    page.wait_for_timeout(1500)
    settle(page, POOL_SVG)
    captions = page.evaluate(FONT_SIZES, '[data-testid="stMain"] [data-testid="stCaptionContainer"]')
    assert len(captions) >= 4 and all(px >= MIN_PX for _, px in captions), captions
    image_captions = page.evaluate(FONT_SIZES, '[data-testid="stMain"] [data-testid="stImageCaption"]')
    assert image_captions and all(px >= MIN_PX for _, px in image_captions), image_captions
    cells = page.evaluate(FONT_SIZES, '[data-testid="stMain"] [data-testid="stTable"] :is(td, th)')
    assert len(cells) > 20 and all(px >= MIN_PX for _, px in cells), cells[:5]
    assert page.evaluate(SMALL_TEXT, MIN_PX) == []
    page.get_by_role("heading", name="Layers").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / "projector_cam_layers.png"))

    # and the picker works: typing a class and Enter draws its CAM
    page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    value = page.locator('.st-key-cam_class').get_by_role("combobox")
    value.click()
    options = page.evaluate(FONT_SIZES, '[data-testid="stSelectboxVirtualDropdown"] [role="option"]')
    assert options and all(px >= MIN_PX for _, px in options), options
    value.press_sequentially("koala")
    value.press("Enter")
    page.locator('[data-testid="stImageCaption"]').filter(has_text="CAM of “koala”").wait_for(timeout=60_000)
    settle(page, POOL_SVG)
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "projector_cam_koala.png"))


def test_saliency_on_a_projector(app_url, projector):
    page = projector
    open_page(page, f"{app_url}/saliency?lecture=1", '[data-testid="stImage"] img')
    page.screenshot(path=str(SHOTS / "projector_saliency_top.png"))

    # the comparison: the deck's four rows in short cells, short enough for the screen; the reasons below it
    table = page.locator('.st-key-sal_compare [data-testid="stTable"]')
    show(page, '.st-key-sal_compare', "projector_saliency_comparison.png")
    height = table.evaluate("e => e.getBoundingClientRect().height")
    assert height <= 360, f"the comparison is {height:.0f} px tall"
    rows = table.locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[0].strip() for r in rows] == ["Algorithm", "Map", "Input size limits", "Classes it can see"]
    assert "Montabone & Soto" in rows[0] and re.search(r"\d+×\d+ input, \d+×\d+ CAM", rows[2]), rows
    cells = table.evaluate("t => [...t.querySelectorAll('td, th')].map(c => parseFloat(getComputedStyle(c).fontSize))")
    assert cells and min(cells) >= MIN_PX, cells
    details = page.locator('[data-testid="stMain"] [data-testid="stExpander"]').filter(has_text="How they differ")
    details.locator("summary").click()
    details.locator('[data-testid="stTable"]').filter(has_text="semantic percent map").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "projector_saliency_details.png"))

    # captions, image captions, the peaks table, labels: nothing under 20 px
    captions = page.evaluate(FONT_SIZES, '[data-testid="stMain"] [data-testid="stCaptionContainer"]')
    assert len(captions) >= 8 and all(px >= MIN_PX for _, px in captions), captions
    image_captions = page.evaluate(FONT_SIZES, '[data-testid="stMain"] [data-testid="stImageCaption"]')
    assert len(image_captions) >= 4 and all(px >= MIN_PX for _, px in image_captions), image_captions
    assert page.evaluate(SMALL_TEXT, MIN_PX) == []
    assert page.locator(EXCEPTION).count() == 0
