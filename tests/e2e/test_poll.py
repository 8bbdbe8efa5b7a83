"""The class poll (issue 15) in real Chromium, against one server with its own poll database and lecturer token: the
lecturer opens a poll from the Mixing Lab, three students (each its own browser context, so its own cookie and
anonymous id; one a 390×844 phone) answer, the lecturer's live view counts them and shows their mean without a
reload, the reveal reaches the students' pages by itself, a wrong token gets no controls, close and reopen hold,
the phone page fits the phone, the CSV has the answers, an unknown code says so. What the pages show is checked
against the poll database itself (ui.poll_store). The tests share one poll (the module's `answered`) and leave it
open; each one asks for it, so one test alone, or the tests in another order, still works. A student's page follows
a close, a reopen or a reveal by itself (its status fragment asks every views.poll.STUDENT_EVERY s).
Screenshots: tests/e2e/screenshots/poll_*.png."""
import csv
import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from serve import free_port, serve, settle, stop

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(os.environ.get("MIXVIZ_SKIP_BROWSER")),
                                                   reason="MIXVIZ_SKIP_BROWSER is set (the caller's choice)")]
SHOTS = Path(__file__).resolve().parent / "screenshots"
TOKEN = "lecture-secret"
LAB = "/?method=mixup&img=boat,airplane&lam=0.7&seed=3"
LABEL = {"boat": 0.70, "airplane": 0.30}  # mixup's label at λ = 0.7
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'
EXCEPTION = '[data-testid="stException"]'
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESK = {"viewport": {"width": 1400, "height": 1000}}
STATE_TTL = 1.1  # s: ui/poll.py's STATE_TTL (the server's sessions share a poll's state this long), and a little
# (boat %, airplane %, confidence): "something else" is the rest; the first one is the phone
ANSWERS = [(60, 30, "sure"), (40, 40, "unsure"), (70, 30, "certain")]
CHANGED = (50, 50, "fairly sure")  # the phone's second answer
CONFIDENCE = {"guessing": 1, "unsure": 2, "fairly sure": 3, "sure": 4, "certain": 5}  # views/poll.py's, reversed


@pytest.fixture(scope="module")
def poll_server(tmp_path_factory):
    """The app with polls on (MIXVIZ_POLL_TOKEN) and its poll database in a fresh folder: (url, folder)."""
    data = tmp_path_factory.mktemp("polls")
    SHOTS.mkdir(exist_ok=True)
    with open(SHOTS.parent / "server.log", "ab") as log:
        port = free_port()
        proc = serve(port, log=log, env={"MIXVIZ_POLL_TOKEN": TOKEN, "MIXVIZ_DATA_DIR": str(data),
                                         "MIXVIZ_DATABASE_URL": "", "MIXVIZ_PUBLIC_URL": ""})
        yield f"http://127.0.0.1:{port}", data
        stop(proc)


@pytest.fixture(scope="module")
def db(poll_server):
    """The poll database the server writes, read by the test (the token only for the CSV's student ids)."""
    from ui.poll_store import PollStore

    s = PollStore(f"sqlite:///{poll_server[1]}/polls.db", TOKEN)
    yield s
    s.dispose()


class Room:
    """The browser contexts of one lecture: the lecturer's page and the students' pages, kept across the tests."""

    def __init__(self, browser, url):
        self.browser, self.url, self.contexts = browser, url, []
        self.code = self.host = None
        self.students = []
        self.answers = []  # what each student sent last, as shares (boat, airplane, something else)

    def page(self, **options):
        context = self.browser.new_context(accept_downloads=True, **options)
        self.contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        return pg

    def close(self):
        for c in self.contexts:
            c.close()


@pytest.fixture(scope="module")
def room(browser, poll_server):
    r = Room(browser, poll_server[0])
    yield r
    r.close()


def no_exception(*pages) -> None:
    for pg in pages:
        assert pg.locator(EXCEPTION).count() == 0, f"an exception on {pg.url}"


def phone_shot(pg, name: str) -> None:
    """A screenshot of the whole phone page: the page scrolls inside stMain, which a full-page shot does not follow,
    so the viewport grows to the page's height for the shot."""
    height = pg.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    pg.set_viewport_size({"width": 390, "height": max(844, height)})
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(SHOTS / name))
    pg.set_viewport_size({"width": 390, "height": 844})


def shares(boat: int, airplane: int) -> tuple:
    return boat / 100, airplane / 100, (100 - boat - airplane) / 100


def heading(pg) -> str:
    """The lecturer's live line: "N answers · poll open"."""
    return pg.locator('[data-testid="stMain"] h3').filter(has_text=" · poll ").inner_text()


def mean_caption(values) -> list[str]:
    """How the lecturer's caption writes the room's mean share of each class ("boat 0.57 [")."""
    mean = np.mean(values, axis=0)
    return [f"{n} {m:.2f} [" for n, m in zip(["boat", "airplane", "something else"], mean)]


def wait_for(condition, what, timeout: float = 10.0) -> float:
    """Wait until `condition()` holds; returns the seconds it took."""
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < timeout, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.1)
    return time.monotonic() - t0


def open_poll(room: Room) -> None:
    """The lecturer's way: the Mixing Lab's "Ask the room" box, the token, "Open a poll on this picture"."""
    host = room.page(**DESK)
    host.goto(room.url + LAB)
    settle(host, LIVE)
    host.get_by_text("Ask the room: a live poll on this picture").click()
    box = host.get_by_role("textbox", name="Lecturer's token")
    box.fill(TOKEN)
    box.press("Enter")
    host.get_by_role("button", name="Open a poll on this picture").click()
    host.wait_for_url("**/poll?*host=1*")
    settle(host, '[data-testid="stPlotlyChart"]')
    room.host, room.code = host, host.locator("h3", has_text="Join:").inner_text().split()[-1]


def move(pg, k: int, by: int, rest: int) -> None:
    """Move the k-th share slider by `by` steps of 5% with the keyboard, and wait for the page to count the rest."""
    thumb = pg.get_by_role("slider").nth(k)
    thumb.focus()
    for _ in range(abs(by)):
        thumb.press("ArrowRight" if by > 0 else "ArrowLeft")
    pg.get_by_text(f"Neither, something else: {rest}%").wait_for(timeout=20_000)
    settle(pg)


def answer(pg, boat: int, airplane: int, sure: str, before=(0, 0)) -> None:
    move(pg, 0, (boat - before[0]) // 5, 100 - boat - before[1])
    move(pg, 1, (airplane - before[1]) // 5, 100 - boat - airplane)
    pick = pg.get_by_role("radio", name=sure, exact=True)  # a segmented control: a second click unpicks
    if pick.get_attribute("aria-checked") != "true":
        pick.click()
        pg.locator('[role="radio"][aria-checked="true"]', has_text=sure).wait_for()
        settle(pg)
    was = pg.locator('[data-testid="stAlertContentSuccess"]').all_inner_texts()
    pg.get_by_role("button", name="Change my answer" if before != (0, 0) else "Send my answer").click()
    pg.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="Your answer is saved").wait_for()
    if was:  # a change: the saved time moves on
        wait_for(lambda: pg.locator('[data-testid="stAlertContentSuccess"]').all_inner_texts() != was, "the new time")
    settle(pg)


@pytest.fixture(scope="module")
def answered(room, db):
    """The poll, opened in the browser, and the three students' first answers (each from its own context)."""
    open_poll(room)
    room.host.screenshot(path=str(SHOTS / "poll_lecturer_opened.png"), full_page=True)
    assert "0 answers · poll open" in heading(room.host)
    for i, (boat, airplane, sure) in enumerate(ANSWERS):
        pg = room.page(**(PHONE if i == 0 else DESK))
        pg.goto(f"{room.url}/poll?code={room.code}")
        settle(pg)
        if i == 0:
            phone_shot(pg, "poll_phone_before.png")
        answer(pg, boat, airplane, sure)
        room.students.append(pg)
        if i == 0:
            room.answered_first = time.monotonic()
        room.answers.append(shares(boat, airplane))
    return room


def db_shares(db, code) -> list:
    """The shares of every answer in the database, sorted (results() keeps no student ids)."""
    return sorted(tuple(round(v, 6) for v in row) for row in db.results(code).shares)


def expected(values) -> list:
    return sorted(tuple(round(v, 6) for v in row) for row in values)


def caption(host) -> str:
    return host.locator('[data-testid="stCaptionContainer"]').filter(has_text="The room's mean share").inner_text()


def shows_mean(host, values, confidence) -> bool:
    try:
        text = caption(host)
    except Exception:  # noqa: BLE001 - the fragment is redrawing it this very moment
        return False
    return all(m in text for m in mean_caption(values)) and f"Mean confidence {np.mean(confidence):.1f} of 5" in text


def test_students_answer_and_the_lecturer_sees_them_live(answered, db):
    room, host = answered, answered.host
    assert len(room.code) == 5 and "poll?code=" in host.url and "host=1" in host.url
    assert host.locator('[data-testid="stMain"] [data-testid="stImage"] img').count() >= 2  # the QR and the picture
    took = wait_for(lambda: heading(host).startswith("3 answers"), "3 answers on the lecturer's page", 5)
    print(f"\nthe lecturer's page counted the third answer {took:.1f} s after it was saved (no reload)")
    confidence = [CONFIDENCE[sure] for _, _, sure in ANSWERS]
    wait_for(lambda: shows_mean(host, room.answers, confidence), "the room's mean in the caption", 5)
    assert db.results(room.code).count == 3
    assert db_shares(db, room.code) == expected(room.answers)
    assert sorted(db.results(room.code).confidence.tolist()) == sorted(confidence)
    host.screenshot(path=str(SHOTS / "poll_lecturer_answers.png"), full_page=True)

    # the phone changes its answer (more than a second after its first: one answer per second per student)
    phone = room.students[0]
    time.sleep(max(0.0, room.answered_first + 1.2 - time.monotonic()))
    answer(phone, *CHANGED, before=ANSWERS[0][:2])
    room.answers[0] = shares(*CHANGED[:2])
    confidence[0] = CONFIDENCE[CHANGED[2]]
    assert db.results(room.code).count == 3
    assert db_shares(db, room.code) == expected(room.answers)
    wait_for(lambda: shows_mean(host, room.answers, confidence), "the changed mean on the lecturer's page", 5)
    assert heading(host).startswith("3 answers")
    no_exception(host, *room.students)


def test_the_reveal_reaches_every_student_without_a_reload(answered, db):
    room, host = answered, answered.host
    if db.poll(room.code).revealed:  # run twice on one poll: hide it first
        host.get_by_role("button", name="Hide again").click()
        settle(host, '[data-testid="stPlotlyChart"]')
    host.get_by_role("button", name="Reveal", exact=True).click()
    t0 = time.monotonic()
    label = ", ".join(f"{n} {w:.2f}" for n, w in LABEL.items())
    for pg in room.students:
        pg.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Revealed").filter(has_text=label) \
            .wait_for(timeout=max(100, 10_000 - 1000 * (time.monotonic() - t0)))
    print(f"\nevery student page showed the label {time.monotonic() - t0:.1f} s after the reveal (no reload)")
    assert db.poll(room.code).revealed
    settle(host, '[data-testid="stPlotlyChart"]')
    wait_for(lambda: "revealed" in heading(host), "the lecturer's page saying revealed", 5)
    host.get_by_text("KL divergences (nats)").wait_for(timeout=5_000)
    phone_shot(room.students[0], "poll_phone_revealed.png")
    host.screenshot(path=str(SHOTS / "poll_lecturer_revealed.png"), full_page=True)
    no_exception(host, *room.students)


def test_a_wrong_token_gets_an_error_and_no_controls(answered, db):
    room = answered
    before = db.poll(room.code), db_shares(db, room.code)
    forger = room.page(**DESK)
    forger.goto(f"{room.url}/poll?code={room.code}&host=1")
    settle(forger, '[data-testid="stTextInput"]')
    box = forger.get_by_role("textbox", name="Lecturer's token")
    box.fill("lecture-secreT")
    box.press("Enter")
    forger.locator('[data-testid="stAlertContentError"]').filter(has_text="not this server's").wait_for(timeout=20_000)
    settle(forger, '[data-testid="stAlertContentError"]')
    for name in ("Close", "Reopen", "Reveal", "Hide again", "Clear", "CSV"):
        assert forger.get_by_role("button", name=name, exact=True).count() == 0, name
    assert forger.locator('[data-testid="stPlotlyChart"]').count() == 0  # nor the answers
    assert "Join:" not in forger.locator('[data-testid="stMain"]').inner_text()
    forger.screenshot(path=str(SHOTS / "poll_wrong_token.png"))
    after = db.poll(room.code), db_shares(db, room.code)
    assert (after[0].is_open, after[0].revealed, after[0].closed_at, after[1]) == \
        (before[0].is_open, before[0].revealed, before[0].closed_at, before[1])
    no_exception(forger)


def send_button(pg):
    return pg.get_by_role("button", name="Send my answer").or_(pg.get_by_role("button", name="Change my answer"))


def test_close_stops_answers_and_reopen_takes_them_again(answered, db):
    room, host = answered, answered.host
    phone = room.students[0]
    host.get_by_role("button", name="Close", exact=True).click()
    phone.get_by_text("This poll is closed").wait_for(timeout=10_000)
    assert not db.poll(room.code).is_open and db.poll(room.code).closed_at is not None
    wait_for(lambda: "poll closed" in heading(host), "the lecturer's page saying closed", 5)
    settle(phone)
    before = db_shares(db, room.code)
    if send_button(phone).count():  # drawn before the close (see the test below): a click on it sends nothing
        try:
            send_button(phone).click(timeout=5_000)
        except PlaywrightTimeout:  # it went meanwhile, as the page redrew
            pass
        wait_for(lambda: send_button(phone).count() == 0, "the page to drop the send button", 20)
        settle(phone)
        assert phone.get_by_text("This poll is closed").count() == 1
    assert db_shares(db, room.code) == before
    phone.reload()
    settle(phone)
    phone.get_by_text("This poll is closed").wait_for()
    assert send_button(phone).count() == 0 and phone.get_by_role("slider").count() == 0
    phone_shot(phone, "poll_phone_closed.png")
    assert db.results(room.code).count == 3
    no_exception(host, phone)

    settle(host, '[data-testid="stPlotlyChart"]')
    host.get_by_role("button", name="Reopen").click()
    wait_for(lambda: db.poll(room.code).is_open, "the poll to reopen in the database", 10)
    assert db.poll(room.code).closed_at is None
    host.get_by_role("button", name="Close", exact=True).wait_for(timeout=10_000)
    time.sleep(STATE_TTL)
    phone.reload()
    settle(phone)
    send_button(phone).wait_for()
    assert phone.get_by_text("This poll is closed").count() == 0
    no_exception(host, phone)


def test_closing_takes_the_send_button_away_without_a_reload(answered, db):
    room = answered
    student = room.students[1]
    settle(student)
    send_button(student).wait_for()
    try:
        db.close(room.code, TOKEN)  # what the lecturer's Close does (above)
        student.get_by_text("This poll is closed").wait_for(timeout=10_000)
        wait_for(lambda: send_button(student).count() == 0 and student.get_by_role("slider").count() == 0,
                 "the send button and the sliders to go", 3)
    finally:
        db.reopen(room.code, TOKEN)
        time.sleep(STATE_TTL)  # open again for every session of the server, for the tests after this one
        no_exception(student)


def test_reopening_brings_the_send_button_back_without_a_reload(answered, db):
    room = answered
    student = room.students[2]
    try:
        db.close(room.code, TOKEN)
        time.sleep(STATE_TTL)
        student.reload()
        settle(student)
        student.get_by_text("This poll is closed").wait_for(timeout=10_000)
        assert send_button(student).count() == 0
        db.reopen(room.code, TOKEN)
        wait_for(lambda: student.get_by_text("This poll is closed").count() == 0, "the fragment to see the reopen", 10)
        wait_for(lambda: send_button(student).count() == 1, "the send button to come back", 3)
    finally:
        db.reopen(room.code, TOKEN)
        time.sleep(STATE_TTL)  # open again for every session of the server, for the tests after this one
        no_exception(student)


def test_the_student_page_fits_a_phone(answered):
    room = answered
    pg = room.page(**PHONE)  # a new student who has not answered
    pg.goto(f"{room.url}/poll?code={room.code}")
    settle(pg)
    send = pg.get_by_role("button", name="Send my answer")
    send.wait_for()
    assert pg.evaluate("document.scrollingElement.scrollWidth") <= 390 + 1
    main = pg.evaluate("(e => [e.scrollWidth, e.clientWidth])(document.querySelector('[data-testid=stMain]'))")
    assert main[0] <= main[1] + 1, f"the page scrolls sideways inside stMain: {main}"  # stMain is what scrolls
    right = pg.evaluate("""() => Math.max(...[...document.querySelectorAll('[data-testid=stMain] *')]
                             .map(e => e.getBoundingClientRect()).filter(r => r.width > 0).map(r => r.right))""")
    assert right <= 390 + 0.5, f"something reaches {right} px on a 390 px screen"
    assert send.bounding_box()["height"] >= 44
    box = pg.locator('[data-testid="stMain"] [data-testid="stImage"] img').first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 0.5 and box["width"] >= 300, box
    for slider in pg.get_by_role("slider").all():
        b = slider.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= 390 + 0.5, b
    for what in ('[data-testid="stSidebar"]', '[data-testid="stSidebarNav"]', '[data-testid="stSidebarCollapsedControl"]',
                 '[data-testid="stExpandSidebarButton"]', '[data-testid="stTopNavLinkContainer"]'):
        assert pg.locator(what).filter(visible=True).count() == 0, what
    text = pg.locator("body").inner_text()
    assert "Mixing Lab" not in text and "Gallery" not in text  # no page navigation
    phone_shot(pg, "poll_phone_new_student.png")
    no_exception(pg)


def test_the_csv_has_every_answer_with_the_polls_link(answered):
    room, host = answered, answered.host
    settle(host, '[data-testid="stPlotlyChart"]')
    with host.expect_download(timeout=30_000) as download:
        host.get_by_role("button", name="CSV").click()
    assert download.value.suggested_filename == f"poll-{room.code}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    head, data = rows[0], rows[1:]
    assert head[:6] == ["code", "link", "student", "answered_at", "updated_at", "confidence"]
    assert head[6:] == ["share: boat", "share: airplane", "share: something else"]
    assert len(data) == 3
    assert sorted(tuple(round(float(v), 6) for v in r[6:]) for r in data) == expected(room.answers)
    assert all(r[0] == room.code and "method=mixup" in r[1] for r in data)
    assert len({r[2] for r in data}) == 3  # three browsers, three anonymous ids
    no_exception(host)


def test_an_unknown_code_says_so(room):
    pg = room.page(**PHONE)
    for code in ("ZZZZZ", "abc"):
        pg.goto(f"{room.url}/poll?code={code}")
        settle(pg, '[data-testid="stAlertContentError"]')
        error = pg.locator('[data-testid="stAlertContentError"]').inner_text()
        assert f"“{code}”" in error and "no poll" in error, error
        assert pg.get_by_role("slider").count() == 0
        no_exception(pg)
    pg.screenshot(path=str(SHOTS / "poll_unknown_code.png"))
