"""The live explorer in real Chromium: λ scrubbed in the browser with no script run until release, a CutMix box
dragged by hand, and links that open the same picture. Values are checked against mixviz itself."""
import os
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from serve import settle

import mixviz

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'
EXCEPTION = '[data-testid="stException"]'
SHOTS = Path(__file__).resolve().parent / "screenshots"


def app_images(*names: str):
    """The photos as the app mixes them (fitted, at their common size)."""
    from ui.images import batch

    return batch(tuple(f"sample:{n}" for n in names))


def open_lab(page, url: str) -> None:
    page.goto(url)
    settle(page, LIVE)


def shown_label(page) -> dict:
    """{class: weight} of the live picture's bars."""
    text = page.locator('[data-testid="mixviz-label"]').inner_text().split("\n")
    return {name: float(value) for name, value in zip(text[::2], text[1::2])}


def page_label(page) -> dict:
    """{class: weight} of the page's "Label:" line (drawn by the server after the run)."""
    line = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile("^Label: ")).inner_text()
    return {name: float(value) for name, value in
            (item.rsplit(" ", 1) for item in line.removeprefix("Label: ").split(", "))}


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def sent_frames(page) -> list:
    """Times of the messages the page sends the server over its websocket (a rerun request is one)."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.append(time.monotonic())))
    return sent


def test_dragging_lambda_swaps_frames_in_the_browser_and_release_agrees_with_the_library(app_url, page):
    sent = sent_frames(page)
    open_lab(page, f"{app_url}/?method=cutmix&img=boat,airplane&lam=0.5&seed=3")
    page.evaluate("""() => { window.mixvizScrubber.log.length = 0; window.__ran = false;
        new MutationObserver(() => { if (document.querySelector('[data-testid=stStatusWidget]')) window.__ran = true; })
          .observe(document.body, {subtree: true, childList: true}); }""")
    track = page.locator('[data-testid="mixviz-scrubber"] input[type="range"]').bounding_box()
    y = track["y"] + track["height"] / 2
    page.mouse.move(track["x"] + track["width"] / 2, y)
    before = len(sent)
    page.mouse.down()
    for to, steps in ((0.0, 20), (1.0, 40), (0.8, 8)):  # to the left end, the right end, then 0.8
        page.mouse.move(track["x"] + track["width"] * to, y, steps=steps)
    during = len(sent) - before
    ran = page.evaluate("window.__ran")
    page.mouse.up()
    log = page.evaluate("window.mixvizScrubber.log")
    assert during == 0 and not ran  # no script run, not even a message to the server, while dragging
    assert len({e["index"] for e in log}) >= 30  # the frames came one by one as the thumb moved
    # each event's frame was drawn in its own handler: at the next animation frame (whose paint follows) the
    # picture shows that frame, or the frame of a later event that came before that animation frame
    assert all(e["ok"] for e in log)
    for e in log:
        latest = max((f for f in log if f["drawn"] <= e["checked"]), key=lambda f: f["drawn"])
        assert e["shown"] == latest["index"], (e, latest)
    lam = float(page.locator('[data-testid="mixviz-live-image"]').get_attribute("data-value"))
    assert abs(lam - 0.8) < 0.03
    page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=f"λ fixed at {lam:.2f}").wait_for()
    settle(page, LIVE)
    r = mixviz.mix("cutmix", app_images("boat", "airplane"), labels=["boat", "airplane"], seed=3, lam=lam)
    want = {k: round(v, 3) for k, v in r.label.items()}
    assert shown_label(page) == want and page_label(page) == want
    assert float(query(page)["lam"]) == pytest.approx(lam)
    # the page's own λ slider moves the live picture too (two steps of 0.01: a frame of the sweep)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="λ").get_by_role("slider").first
    thumb.focus()
    thumb.press("ArrowLeft")
    thumb.press("ArrowLeft")
    page.locator(f'[data-testid="mixviz-live-image"][data-value="{round(lam - 0.02, 2):g}"]').wait_for()
    settle(page, LIVE)
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize("method", ["mixup", "random_elements"])
def test_the_live_picture_shows_the_librarys_pixels(app_url, page, method):
    """Frames read back from the canvas while the range moves (input events only: no release) against
    mixviz.mix at each frame's λ. Mixup's frames travel as JPEGs; random elements' as the first and last frame
    and the frame at which each element switches, composed in the page (JPEG frames lost their colours)."""
    import numpy as np

    open_lab(page, f"{app_url}/?method={method}&img=boat,airplane&lam=0.5&seed=2")
    x = app_images("boat", "airplane")
    for index in (0, 13, 26, 40):
        got = page.evaluate("""(i) => { const ui = window.mixvizScrubber;
            ui.range.value = String(i); ui.range.dispatchEvent(new Event("input", {bubbles: true}));
            const c = ui.canvas; const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            return {lam: Number(c.dataset.value), frame: Number(c.dataset.frame), w: c.width, h: c.height,
                    rgb: Array.from(d.filter((_, k) => k % 4 !== 3))}; }""", index)
        assert got["frame"] == index
        r = mixviz.mix(method, x, labels=["boat", "airplane"], seed=2, lam=got["lam"])
        want = (r.image.permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8).astype(float)
        shown = np.array(got["rgb"], dtype=float).reshape(got["h"], got["w"], 3)
        psnr = 10 * np.log10(255 ** 2 / ((shown - want) ** 2).mean())
        assert psnr >= 30, (index, got["lam"], psnr)
    assert page.locator(EXCEPTION).count() == 0


def test_a_cutmix_box_follows_the_pointer_and_lands_where_it_was_dropped(app_url, page):
    open_lab(page, f"{app_url}/?method=cutmix&img=boat,airplane&lam=0.7&seed=0")
    box = page.locator('[data-testid="mixviz-box"]')
    canvas = page.locator('[data-testid="mixviz-live-image"]').bounding_box()
    version = page.locator('[data-testid="mixviz-scrubber"]').get_attribute("data-version")
    start = box.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    target = (0.3, 0.25)  # (row, column) as fractions of the picture
    to = (canvas["x"] + target[1] * canvas["width"], canvas["y"] + target[0] * canvas["height"])
    page.mouse.move(*to, steps=12)
    followed = [float(v) for v in box.get_attribute("data-centre").split(",")]
    assert followed == pytest.approx(list(target), abs=0.01)  # the outline is under the pointer before the drop
    page.mouse.up()
    page.wait_for_function(f"""() => [...document.querySelectorAll('*')].some(e => e.shadowRoot &&
        e.shadowRoot.querySelector('[data-testid=mixviz-scrubber][data-ready=true]:not([data-version="{version}"])'))""")
    settle(page, LIVE)
    centre = [float(v) for v in query(page)["centre"].split(",")]
    assert centre == pytest.approx(list(target), abs=0.01)
    x = app_images("boat", "airplane")
    r = mixviz.mix("cutmix", x, labels=["boat", "airplane"], seed=0, lam=0.7, centre=tuple(centre))
    rows, cols = (r.masks[1] > 0.5).nonzero(as_tuple=True)
    h, w = x.shape[2:]
    got = ((rows.min() + rows.max() + 1) / 2 / h, (cols.min() + cols.max() + 1) / 2 / w)
    assert [float(v) for v in got] == pytest.approx(list(target), abs=0.012)  # the mask's box is where it was dropped
    assert shown_label(page) == {k: round(v, 3) for k, v in r.label.items()}
    page.screenshot(path=str(SHOTS / "box_dropped.png"), full_page=True)


@pytest.mark.parametrize("link,method,names,kwargs", [
    ("method=mixup&img=boat,airplane&lam=0.7", "mixup", ("boat", "airplane"), {"lam": 0.7}),
    ("method=cutmix&img=cow,dog&seed=4&alpha=0.5", "cutmix", ("cow", "dog"), {"seed": 4, "alpha": 0.5}),
    ("method=fmix&img=dog,boat&seed=2&lam=0.4&decay=5", "fmix", ("dog", "boat"), {"seed": 2, "lam": 0.4, "decay": 5.0}),
])
def test_a_link_opens_the_same_picture(app_url, page, link, method, names, kwargs):
    open_lab(page, f"{app_url}/?{link}")
    r = mixviz.mix(method, app_images(*names), labels=list(names), **kwargs)
    want = {k: round(v, 3) for k, v in r.label.items()}
    assert shown_label(page) == want and page_label(page) == want
    assert set(parse_qs(link)) <= set(query(page))  # the address still holds what the link said
    if link.startswith("method=mixup"):
        assert want == {"boat": 0.7, "airplane": 0.3}


def test_a_bad_link_says_what_it_cannot_use_and_the_page_works(app_url, page):
    open_lab(page, f"{app_url}/?method=cutout&img=boat,unicorn&lam=2&size=5&n_holes=2")
    warning = page.locator('[data-testid="stAlertContentWarning"]').inner_text()
    assert "img=boat,unicorn" in warning and "unicorn" in warning and "lam=2" in warning and "size=5" in warning
    assert "n_holes" not in warning  # the good values are used
    assert page.locator(EXCEPTION).count() == 0
    assert query(page)["n_holes"] == "2" and "size" not in query(page)  # bad: the default; good: kept


def test_the_lambda_sweep_downloads_as_a_gif_and_an_mp4_of_the_same_frames(app_url, page):
    import imageio.v3 as iio
    import numpy as np

    from mixviz.viz.animation import sweep_frames
    from ui.live import lam_grid

    open_lab(page, f"{app_url}/?method=mixup&img=boat,airplane&lam=0.5")
    page.get_by_role("button", name="Make the λ sweep as GIF and MP4").click()
    values = lam_grid(0.5)
    want = sweep_frames(mixviz.sweep("mixup", app_images("boat", "airplane"), ["boat", "airplane"], values=values))
    for fmt, loss in (("GIF", 6), ("MP4", 8)):
        button = page.get_by_role("button", name=f"Download the λ sweep ({fmt})")
        button.wait_for()
        with page.expect_download() as download:
            button.click()
        frames = iio.imread(download.value.path(), index=None, extension=f".{fmt.lower()}")
        assert len(frames) == len(values) == 51
        for i in (0, 35, 50):
            error = np.abs(frames[i][..., :3].astype(float) - want[i].astype(float)).mean()
            assert error < loss, (fmt, i, error)
    assert page.locator(EXCEPTION).count() == 0
