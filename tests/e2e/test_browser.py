"""The real app in a real browser: streamlit serves it on a loopback port and Debian's Chromium,
driven by Playwright, visits every page, moves a slider and uploads a photo and a broken file.
Screenshots go to tests/e2e/screenshots/ (not committed) for a person to look at."""
import io
import mimetypes
import os
import re
import sys
import time
from pathlib import Path

import pytest
from corpus import corpus
from serve import rss_mb, settle

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
SHOTS = Path(__file__).resolve().parent / "screenshots"
PAGES = {  # url path -> (its title, what it must show); the first request goes straight to a page's URL
    "gallery": ("Gallery", '[data-testid="stImage"] img'),
    "": ("Mixing Lab", '[data-testid="mixviz-scrubber"][data-ready="true"]'),
    "cam_explorer": ("CAM Explorer", '[data-testid="stImage"] img'),
    "saliency": ("Saliency", '[data-testid="stImage"] img'),
    "theory": ("Theory", '[data-testid="stPlotlyChart"] .main-svg'),
}
EXCEPTION = '[data-testid="stException"]'
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'  # the Mixing Lab's live picture, its frames decoded


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_draws_without_an_exception(app_url, page, path):
    title, marker = PAGES[path]
    page.goto(f"{app_url}/{path}")
    settle(page, marker)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / f"{path or 'mixing_lab'}.png"), full_page=True)
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_role("heading", name=title).count() >= 1
    assert "Image slots" in page.locator('[data-testid="stSidebar"]').inner_text()  # the shared sidebar, always
    assert page.locator(f'[data-testid="stMain"] {marker}').count() >= 1


def label_text(page) -> str:
    """The label bars of the Mixing Lab's live picture (names and weights)."""
    return page.locator('[data-testid="mixviz-label"]').inner_text()


def test_moving_the_lambda_slider_changes_the_label(app_url, page):
    page.goto(f"{app_url}/?method=mixup&lam=0.5")
    settle(page, LIVE)
    assert "0.500" in label_text(page)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="λ").get_by_role("slider").first
    thumb.focus()
    for _ in range(10):
        thumb.press("ArrowLeft")  # λ 0.50 → 0.40, one step of 0.01 per key
    page.locator('[data-testid="mixviz-label"]').filter(has_text="0.400").wait_for(timeout=60_000)
    settle(page, LIVE)
    text = label_text(page)
    assert "0.400" in text and "0.600" in text
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "slider_moved.png"), full_page=True)


def test_uploads_a_photo_and_explains_a_broken_file(app_url, page, tmp_path):
    page.goto(f"{app_url}/?method=cutmix")
    settle(page, LIVE)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    uploader = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]')
    uploader.set_input_files([str(ROOT / "assets" / "photos" / "koala.jpg"), str(broken)])
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    # the two files upload in parallel and each one reruns the page: wait for the photo to arrive too
    page.locator('[data-testid="mixviz-label"]').filter(has_text="koala").wait_for(timeout=60_000)
    settle(page, LIVE)
    errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    assert any("broken.jpg" in e and re.search("damaged|cut short|not an image", e) for e in errors), errors
    assert "koala" in label_text(page)  # the good photo went into slot 1
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator('[data-testid="stMain"] [data-testid="stImage"] img').count() >= 2  # the inputs, shaded
    page.screenshot(path=str(SHOTS / "upload.png"), full_page=True)


@pytest.mark.parametrize("path,button", [("?method=snapmix", "Download this panel as PNG"),
                                         ("gallery", "Download the gallery as one PNG"),
                                         ("cam_explorer", "Download this CAM as PNG"),
                                         ("saliency", "Download these maps as PNG")])
def test_downloads_are_png_pictures(app_url, page, path, button):
    from PIL import Image

    page.goto(f"{app_url}/{path}")
    settle(page)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name=button).click()
    data = Path(download.value.path()).read_bytes()
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.width >= 800 and img.height >= 500
    assert page.locator(EXCEPTION).count() == 0


def test_mixing_lab_names_its_classes_and_shows_no_alpha_where_the_draw_has_none(app_url, page):
    """What the page says is true in the browser: SnapMix's maps name the class they are for and its label
    explains weights above 1; a row interval drawn as its authors draw it shows no α slider and says why."""
    page.goto(f"{app_url}/?method=snapmix")
    settle(page, LIVE)
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "the photo's ImageNet class" in text and "2(ρa + ρb)" in text
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "snapmix_classes.png"), full_page=True)
    page.goto(f"{app_url}/?method=random_row_interval&lam=0.5")
    settle(page, LIVE)
    page.get_by_text("Fix λ", exact=True).click()
    page.wait_for_function("() => document.querySelector('[data-testid=stMain]').innerText.includes('No α here')",
                           timeout=60_000)
    settle(page, LIVE)
    assert page.locator('[data-testid="stSlider"]').filter(has_text="α of Beta").count() == 0
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "interval_drawn.png"), full_page=True)


def poll(condition, what, timeout: float = 120.0) -> None:
    """Wait until `condition()` holds, checking twice a second; `what` (text, or a function giving it)
    says what was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what() if callable(what) else what}"
        time.sleep(0.5)


def usable_in_the_app(size) -> bool:
    """The app's rule (mixviz.imaging.check_shape): 16 pixels a side at least, sides at most 10:1."""
    return size is not None and min(size) >= 16 and max(size) <= 10 * min(size)


def test_a_no_mix_draw_says_so_and_the_find_box_opens_a_method_by_its_lecture_name(app_url, page):
    """Issue 13 in the browser: a Random 2×2 draw whose quadrants all come from the boat says so under the label
    and in the live picture's caption (the component's, which AppTest cannot run); typing the lectures' name
    "AttentiveMix" into the Lab's find box opens Attentive CutMix."""
    import mixviz
    from ui.images import batch

    seed = next(s for s in range(100) if mixviz.mix("random_2x2", batch(("sample:boat", "sample:airplane")),
                                                     labels=["boat", "airplane"], seed=s, lam=0.5).label["boat"] == 1)
    page.goto(f"{app_url}/?method=random_2x2&img=boat,airplane&lam=0.5&seed={seed}")
    settle(page, LIVE)
    said = "No mixing: every pixel is boat's, nothing of airplane"
    assert page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').filter(has_text=said).count() == 1
    assert page.locator('[data-testid="mixviz-scrubber"] .mv-caption').inner_text().startswith(said)
    box = page.get_by_role("textbox", name="Find a method")
    box.fill("AttentiveMix")
    box.press("Enter")
    page.locator('[data-testid="stMain"]').get_by_text("Attentive CutMix (Guided by maps)").wait_for()
    settle(page, LIVE)
    assert page.locator('[data-testid="stHeading"]').filter(has_text="Attentive CutMix").count() >= 1
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "find_attentivemix.png"), full_page=True)


def test_the_hostile_corpus_gets_clear_messages_and_the_app_keeps_working(server, page):
    """Every file of tests/corpus.py uploaded to the running app: each refused one is named once with its
    reason, every usable one can be chosen for a slot, the page keeps working, memory stays put, and nothing
    the browser receives names a path on the server."""
    url, proc = server
    page.goto(f"{url}/?method=mixup&lam=0.5")
    settle(page, LIVE)
    before = rss_mb(proc.pid)
    cases = corpus()
    refused = [c.name for c in cases if not usable_in_the_app(c.size)]
    uploader = page.locator('[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]')
    for start in range(0, len(cases), 12):  # a dozen at a time, as a user might drop a folder's worth
        uploader.set_input_files([{"name": c.name, "mimeType": mimetypes.guess_type(c.name)[0]
                                   or "application/octet-stream", "buffer": c.data} for c in cases[start:start + 12]])
        chips = page.locator('[data-testid="stFileChip"]')
        poll(lambda: chips.count() >= min(start + 12, len(cases)),
             lambda: f"files {start + 1}-{start + 12} to upload ({chips.count()} shown)")
        settle(page, LIVE)  # the reruns they started end before the next dozen
    alerts = page.locator('[data-testid="stAlertContentError"]')
    poll(lambda: all(n in " ".join(alerts.all_inner_texts()) for n in refused), "a message for every refused file")
    settle(page, LIVE)
    errors = alerts.all_inner_texts()
    for name in refused:  # each refused file is named once, with a reason a person can act on
        said = [e for e in errors if f"{name} cannot be used" in e]
        assert len(said) == 1 and re.search("empty|not an image|damaged|megapixels|too small|too long",
                                            said[0]), (name, said)
    assert len(errors) == len(refused)  # and no usable file is refused
    html = page.content()
    assert str(ROOT) not in html and "site-packages" not in html and "/tmp/" not in html
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "hostile_uploads.png"), full_page=True)

    usable = [c.name.rsplit(".", 1)[0] for c in cases if c.name not in refused]
    slot = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.get_by_role("combobox")
    chosen = slot.input_value()
    assert chosen in usable, chosen  # slot 1 holds an upload
    for name in usable:  # every usable file can be chosen for a slot, under its own name
        slot.click()
        slot.press("Control+a")
        slot.press_sequentially(name)  # typed as a person would: the list filters to it
        poll(lambda: name in page.get_by_role("option").all_inner_texts(), f"{name} among slot 1's choices")
        slot.press("Escape")
    assert slot.input_value() == chosen

    # the app keeps working: the λ slider still changes the label
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="λ").get_by_role("slider").first
    thumb.focus()
    for _ in range(5):
        thumb.press("ArrowRight")
    poll(lambda: "0.550" in label_text(page), "the label at λ = 0.55")
    settle(page, LIVE)
    assert page.locator(EXCEPTION).count() == 0
    grown = rss_mb(proc.pid) - before
    print(f"server RSS {before:.0f} MB before the corpus, grown by {grown:.0f} MB")
    assert grown < 150, f"the server grew by {grown:.0f} MB on {len(cases)} small files"


def test_soak_benchmark_runs(tmp_path):
    """bench/soak.py still runs as a user runs it (its own process: this file's browser holds an event loop):
    two sessions, no errors. Here, so that no other browser test runs beside it."""
    import json
    import subprocess

    run = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--sessions", "2", "--seconds", "40",
                          "--methods", "mixup", "cutmix", "saliencymix", "--json", str(tmp_path / "soak.json")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "sessions for" in run.stdout, run.stdout + run.stderr
    r = json.loads((tmp_path / "soak.json").read_text())
    assert r["errors"] == [] and r["actions"] >= 2 and r["actions"] == sum(m["n"] for m in r["ms"].values())
    assert 0 < r["rss_mb"]["warm"] <= r["rss_mb"]["peak"] and r["growth"] < 0.2


def test_the_soak_switches_to_every_family():
    from soak import methods

    from mixviz.registry import FAMILIES

    assert {family for _, _, family in methods()} == set(FAMILIES.values())
