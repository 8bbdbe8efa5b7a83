"""The Poll page and "Ask the room" through AppTest, on the embedded SQLite default: a poll opened from the Mixing
Lab fixes the Mixing Lab's own label and the network's prediction; a student's answer is stored once and changed in
place; bad shares, unknown codes, closed polls and forged tokens get a message and change nothing. (The live
fragments' timed reruns and the browser's cookie are tested in Chromium: tests/e2e/test_poll.py.)"""
import time

import pytest
from apptest_helpers import APP, ok, switch_page
from streamlit.testing.v1 import AppTest

from mixviz.agreement import kl
from ui import poll as polls
from ui.poll_store import PollStore

TOKEN = "lecture-secret"


def forget_polls() -> None:
    """Drop the app's cached store and its one-second copies, so that the next run reads the environment anew."""
    for cached in (polls.store, polls.poll, polls.results):
        cached.clear()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """Polls on: a token and a fresh SQLite file; the app's cached store is dropped so that it reads them."""
    monkeypatch.setenv("MIXVIZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MIXVIZ_POLL_TOKEN", TOKEN)
    monkeypatch.delenv("MIXVIZ_DATABASE_URL", raising=False)
    forget_polls()
    s = PollStore(f"sqlite:///{tmp_path}/polls.db", TOKEN)
    yield s
    s.dispose()
    forget_polls()


def lab(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def opened(store, query=None) -> tuple[AppTest, str]:
    """A poll opened from the Mixing Lab as a lecturer does: the token, then the button."""
    at = lab(query or {"method": "mixup", "img": "boat,airplane", "lam": "0.7", "seed": "3"})
    ok(at)
    at.text_input(key="lab_poll_token").input(TOKEN).run()
    at.button(key="lab_poll_open").click().run()
    ok(at)
    [p] = store.polls(TOKEN)
    return at, p.code


def student(code: str) -> AppTest:
    """A student's page, as /poll?code=… opens it (AppTest routes by page hash, not by the address's path)."""
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.query_params["code"] = code  # after the first run, which put the Mixing Lab's own address there
    return switch_page(at, "poll").run()


def test_a_poll_opened_from_the_mixing_lab_fixes_its_picture_label_and_prediction(store):
    at, code = opened(store)
    p = store.poll(code)
    assert p.title == "Mixup" and p.classes == ("boat", "airplane")
    assert p.label == pytest.approx((0.7, 0.3, 0.0))  # mixup at λ = 0.7: the Mixing Lab's own label
    assert "method=mixup" in p.link and "lam=0.7" in p.link and "img=boat%2Cairplane" in p.link.replace(",", "%2C")
    assert p.image[:2] == b"\xff\xd8" and len(p.image) > 10_000  # the mix as JPEG
    assert sum(p.prediction) == pytest.approx(1.0) and all(0 <= v <= 1 for v in p.prediction)
    assert len(p.topk) == 5 and p.topk[0][1] >= p.topk[-1][1]
    assert p.is_open and not p.revealed
    # the lecturer's page took over: the join code, the QR code, the live count
    assert any(f"Join: **{code}**" in m.value for m in at.markdown)
    assert any("0 answers" in m.value for m in at.markdown)


def test_the_network_part_is_the_mixing_labs_network_view(store):
    """The poll's prediction is the probability the serving model gives each input's class on the mix, as the
    Mixing Lab's "What the network sees" table shows it."""
    at, code = opened(store)
    lab_at = lab({"method": "mixup", "img": "boat,airplane", "lam": "0.7", "seed": "3"})
    lab_at.toggle(key="lab_network").set_value(True).run()
    rows = lab_at.dataframe[0].value
    p = store.poll(code)
    assert p.prediction[:2] == pytest.approx(tuple(rows["network's probability"]), abs=5e-4)


def test_a_student_answers_once_and_changes_it_in_place(store):
    _, code = opened(store)
    at = student(code)
    ok(at)
    assert not at.sidebar.selectbox  # no image slots on a student's page
    assert any("How much of each" in m.value for m in at.markdown)
    assert not any("0.70" in m.value for m in at.markdown)  # the label is not shown before the reveal
    at.slider(key=f"poll_{code}_share0").set_value(60).run()
    at.slider(key=f"poll_{code}_share1").set_value(30).run()
    assert any("**10%**" in m.value for m in at.markdown)  # the rest is "something else"
    at.button(key=f"poll_{code}_send").click().run()
    ok(at)
    assert any("Your answer is saved" in s.value for s in at.success)
    r = store.results(code)
    assert r.count == 1 and r.shares[0].tolist() == pytest.approx([0.6, 0.3, 0.1]) and r.confidence.tolist() == [3]
    assert at.button(key=f"poll_{code}_send").label == "Change my answer"
    time.sleep(1.05)  # one answer a second
    at.slider(key=f"poll_{code}_share0").set_value(50).run()
    at.button(key=f"poll_{code}_send").click().run()
    r = store.results(code)
    assert r.count == 1 and r.shares[0].tolist() == pytest.approx([0.5, 0.3, 0.2])


def test_shares_over_100_percent_cannot_be_sent(store):
    _, code = opened(store)
    at = student(code)
    at.slider(key=f"poll_{code}_share0").set_value(80).run()
    at.slider(key=f"poll_{code}_share1").set_value(40).run()
    assert any("add up to 120%" in w.value for w in at.warning)
    assert at.button(key=f"poll_{code}_send").disabled
    assert store.results(code).count == 0


def test_too_fast_is_a_message_and_keeps_the_first_answer(store):
    _, code = opened(store)
    at = student(code)
    at.slider(key=f"poll_{code}_share0").set_value(70).run()
    at.button(key=f"poll_{code}_send").click().run()
    at.slider(key=f"poll_{code}_share0").set_value(20).run()
    at.button(key=f"poll_{code}_send").click().run()
    assert any("less than 1 s ago" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.exception
    assert store.results(code).shares[0].tolist() == pytest.approx([0.7, 0.0, 0.3])


def test_an_unknown_code_is_named(store):
    at = student("ZZZZZ")
    assert not at.exception
    assert any("ZZZZZ" in e.value for e in at.error)


def test_a_closed_poll_takes_no_answer_and_the_reveal_shows_the_label(store):
    _, code = opened(store)
    store.close(code, TOKEN)
    polls.poll.clear()
    at = student(code)
    ok(at)
    assert any("closed" in i.value for i in at.info)
    assert not at.button  # no send button
    store.reopen(code, TOKEN)
    store.reveal(code, TOKEN)
    polls.poll.clear()
    at = student(code)
    assert any("Revealed" in m.value and "boat **0.70**" in m.value for m in at.markdown)


def test_the_lecturer_page_needs_the_token_and_a_forged_one_changes_nothing(store):
    _, code = opened(store)
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.query_params["code"] = code
    at.query_params["host"] = "1"
    switch_page(at, "poll").run()
    assert not any(b.key == "poll_host_close" for b in at.button)
    at.text_input(key="poll_host_token").input("not-the-token").run()
    assert not at.exception
    assert at.error and not any(b.key == "poll_host_close" for b in at.button)
    assert store.poll(code).is_open
    at.text_input(key="poll_host_token").input(TOKEN).run()
    ok(at)
    at.button(key="poll_host_close").click().run()
    assert not store.poll(code).is_open
    at.button(key="poll_host_reveal").click().run()
    assert store.poll(code).revealed


def test_the_lecturers_view_shows_the_room_against_label_and_network(store):
    _, code = opened(store)
    shares = [(0.6, 0.3, 0.1), (0.4, 0.4, 0.2), (0.7, 0.3, 0.0)]
    for i, s in enumerate(shares):
        store.answer(code, f"student-number-{i:04d}", s, 4)
    store.reveal(code, TOKEN)
    polls.poll.clear()  # the server's one-second copy of the poll's state, made while it was opened
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.query_params["code"] = code
    at.query_params["host"] = "1"
    switch_page(at, "poll").run()
    at.text_input(key="poll_host_token").input(TOKEN).run()
    ok(at)
    assert any("3 answers" in m.value for m in at.markdown)
    mean = [sum(s[k] for s in shares) / 3 for k in range(3)]
    caption = " ".join(c.value for c in at.caption)
    assert f"boat {mean[0]:.2f}" in caption and f"airplane {mean[1]:.2f}" in caption
    p = store.poll(code)
    kls = next(m.value for m in at.markdown if m.value.startswith("KL divergences"))
    assert f"room ‖ label **{kl(mean, p.label):.3f}**" in kls
    assert f"label ‖ network **{kl(p.label, p.prediction):.3f}**" in kls


def test_without_a_token_configured_the_page_says_how_to_enable_polls(tmp_path, monkeypatch):
    monkeypatch.setenv("MIXVIZ_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MIXVIZ_POLL_TOKEN", raising=False)
    monkeypatch.delenv("MIXVIZ_DATABASE_URL", raising=False)
    forget_polls()
    try:
        at = lab({"method": "mixup"})
        ok(at)
        assert any("MIXVIZ_POLL_TOKEN" in i.value for i in at.info)
        switch_page(at, "poll").run()
        ok(at)
        assert any("MIXVIZ_POLL_TOKEN" in i.value for i in at.info)
    finally:
        forget_polls()
