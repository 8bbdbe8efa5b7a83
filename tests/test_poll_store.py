"""ui/poll_store.py over SQLite (a file in tmp_path): what a poll keeps, what an answer must be, who may do what,
one row per student under threads and processes' worth of stores, and a database from a newer mixviz refused."""
import csv
import io
import math
import sqlite3
import threading

import numpy
import pytest

from ui import poll_store
from ui.poll_store import (CODE_ALPHABET, MAX_IMAGE_BYTES, MAX_LINK, MAX_STUDENT_ID, BadAnswer, Forbidden, PollClosed,
                           PollError, PollsDisabled, PollStore, SchemaTooNew, TooFast, TooLarge, UnknownPoll)

TOKEN = "lecturer-secret"
T0 = 1_780_000_000.25  # a fixed "now" (2026), so that the one-second limit is tested without sleeping
IMAGE = bytes(range(256)) * 40 + b"\xff\xd9"  # every byte value (a blob, not text)
POLL = dict(link="https://mixviz.example/?method=mixup&lam=0.37&seed=4", title="Mixup, λ = 0.37",
            classes=("tabby cat", "golden retriever"), label=(0.37, 0.63, 0.0), prediction=(0.21, 0.58, 0.21),
            topk=(("golden retriever", 0.58), ("tabby cat", 0.21), ("Labrador retriever", 0.07), ("tiger cat", 0.05),
                  ("Egyptian cat", 0.02)), image=IMAGE)


def sqlite_url(path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "data" / "polls.db"  # data/ does not exist yet: the store makes it


@pytest.fixture
def store(db):
    s = PollStore(sqlite_url(db), TOKEN)
    yield s
    s.dispose()


@pytest.fixture
def poll(store):
    return store.open_poll(TOKEN, now=T0, **POLL)


def rows(db, sql="SELECT COUNT(*) FROM answers"):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_poll_comes_back_as_it_was_opened(store, poll, db):
    assert db.exists() and store.backend == "sqlite" and store.enabled
    got = store.poll(poll.code)
    assert got == poll  # every field: the dataclass compares them all
    assert got.image == IMAGE and got.label == (0.37, 0.63, 0.0) and got.prediction == (0.21, 0.58, 0.21)
    assert got.topk == POLL["topk"] and got.classes == POLL["classes"] and got.title == POLL["title"]
    assert got.is_open and not got.revealed and got.created_at == T0 and got.closed_at is None
    listed = store.polls(TOKEN)
    assert [p.code for p in listed] == [poll.code] and listed[0].image == b"" and listed[0].label == poll.label


def test_codes_use_the_alphabet_and_are_read_in_any_case(store):
    codes = {store.open_poll(TOKEN, now=T0 + i, **POLL).code for i in range(30)}
    assert len(codes) == 30
    assert all(len(c) == 5 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1IL") & set(CODE_ALPHABET)
    code = sorted(codes)[0]
    spaced = f" {code[:2].lower()} {code[2:].lower()} "
    assert store.poll(spaced).code == code
    assert [p.created_at for p in store.polls(TOKEN)] == [T0 + i for i in reversed(range(30))]  # newest first


def test_an_answer_is_changed_in_place(store, poll, db):
    first = store.answer(poll.code, "alice", [0.2, 0.7, 0.1], 3, now=T0 + 10)
    assert first.shares == (0.2, 0.7, 0.1) and first.confidence == 3 and first.created_at == first.updated_at == T0 + 10
    second = store.answer(poll.code.lower(), " alice ", (0.5, 0.5, 0.0), 5, now=T0 + 12)
    assert second.shares == (0.5, 0.5, 0.0) and second.confidence == 5
    assert second.created_at == T0 + 10 and second.updated_at == T0 + 12
    assert store.my_answer(poll.code, "alice") == second
    assert store.my_answer(poll.code, "bob") is None and store.my_answer(poll.code, "  ") is None
    assert rows(db, "SELECT student, share0, share1, share2, share3, share4, confidence FROM answers") == [
        ("alice", 0.5, 0.5, 0.0, None, None, 5)]


def test_one_answer_per_second(store, poll):
    store.answer(poll.code, "alice", [0.2, 0.7, 0.1], 3, now=T0)
    with pytest.raises(TooFast, match="less than 1 s ago"):
        store.answer(poll.code, "alice", [0.3, 0.6, 0.1], 4, now=T0 + 0.5)
    assert store.my_answer(poll.code, "alice").shares == (0.2, 0.7, 0.1)
    store.answer(poll.code, "bob", [0.3, 0.6, 0.1], 4, now=T0 + 0.5)  # another student is not limited by alice
    kept = store.answer(poll.code, "alice", [0.3, 0.6, 0.1], 4, now=T0 + 1.0)
    assert kept.updated_at == T0 + 1.0 and store.my_answer(poll.code, "alice").shares == (0.3, 0.6, 0.1)


@pytest.mark.parametrize("shares, confidence, match", [
    ([0.5, 0.52, 0.0], 3, "add up to 100%; they add up to 102%"),
    ([-0.1, 0.6, 0.5], 3, "between 0 and 1"),
    ([1.2, -0.1, -0.1], 3, "between 0 and 1"),
    ([1.2, 0.0, 0.0], 3, "between 0 and 1"),
    ([math.nan, 0.5, 0.5], 3, "between 0 and 1"),
    ([math.inf, 0.5, 0.5], 3, "between 0 and 1"),
    ([0.5, 0.5], 3, "3 numbers"),
    ([0.25, 0.25, 0.25, 0.25], 3, "3 numbers"),
    (["0.5", "0.5", "0"], 3, "between 0 and 1"),
    ("0.5", 3, "3 numbers"),
    ([0.5, 0.5, 0.0], 0, "1 to 5"),
    ([0.5, 0.5, 0.0], 6, "1 to 5"),
    ([0.5, 0.5, 0.0], "3", "1 to 5"),
    ([0.5, 0.5, 0.0], 3.0, "1 to 5"),
    ([0.5, 0.5, 0.0], True, "1 to 5"),
])
def test_bad_answers_are_refused_and_nothing_is_stored(store, poll, db, shares, confidence, match):
    with pytest.raises(BadAnswer, match=match):
        store.answer(poll.code, "alice", shares, confidence, now=T0)
    assert rows(db) == [(0,)]


def test_bad_student_ids(store, poll, db):
    for student in ("", "   ", None, 7, "al\x00ice", "bo\nb", "x\u200by"):
        with pytest.raises(BadAnswer):
            store.answer(poll.code, student, [0.5, 0.5, 0.0], 3, now=T0)
    with pytest.raises(TooLarge, match=f"at most {MAX_STUDENT_ID}"):
        store.answer(poll.code, "x" * (MAX_STUDENT_ID + 1), [0.5, 0.5, 0.0], 3, now=T0)
    assert rows(db) == [(0,)]
    store.answer(poll.code, "x" * MAX_STUDENT_ID, [0.5, 0.5, 0.0], 3, now=T0)  # the limit itself is fine
    store.answer(poll.code, "Zoë Ŝtudent 学生", numpy.array([0.5, 0.25, 0.25]), numpy.int64(2), now=T0)
    assert rows(db) == [(2,)]


def test_within_tolerance_the_shares_are_kept_as_given(store, poll):
    a = store.answer(poll.code, "alice", [0.333, 0.333, 0.333], 3, now=T0)  # 0.999: a slider's rounding
    assert a.shares == (0.333, 0.333, 0.333) and store.results(poll.code).shares.tolist() == [[0.333, 0.333, 0.333]]


def test_unknown_and_malformed_codes(store, poll):
    other = next(c for c in CODE_ALPHABET if c != poll.code[0]) + poll.code[1:]
    for code in (other, "", "ABCD", "ABCDEF", "O0O0O", 12345):
        with pytest.raises(UnknownPoll):
            store.poll(code)
        with pytest.raises(UnknownPoll):
            store.answer(code, "alice", [0.5, 0.5, 0.0], 3, now=T0)
        with pytest.raises(UnknownPoll):
            store.results(code)
    with pytest.raises(UnknownPoll, match=other):
        store.poll(other.lower())
    with pytest.raises(UnknownPoll):
        store.close(other, TOKEN)


def test_closed_polls_take_no_answers_until_reopened(store, poll, db):
    store.answer(poll.code, "alice", [0.5, 0.5, 0.0], 3, now=T0)
    closed = store.close(poll.code, TOKEN, now=T0 + 60)
    assert not closed.is_open and closed.closed_at == T0 + 60 and closed.image == IMAGE
    assert store.close(poll.code, TOKEN, now=T0 + 90).closed_at == T0 + 60  # closing again keeps the first time
    for student in ("alice", "bob"):
        with pytest.raises(PollClosed, match="closed"):
            store.answer(poll.code, student, [0.1, 0.9, 0.0], 4, now=T0 + 61)
    assert rows(db, "SELECT student, share0 FROM answers") == [("alice", 0.5)]
    reopened = store.reopen(poll.code, TOKEN)
    assert reopened.is_open and reopened.closed_at is None
    store.answer(poll.code, "bob", [0.1, 0.9, 0.0], 4, now=T0 + 62)
    assert store.results(poll.code).count == 2


def test_forged_tokens_change_nothing(store, poll, db):
    store.answer(poll.code, "alice", [0.5, 0.5, 0.0], 3, now=T0)
    before = (store.poll(poll.code), rows(db, "SELECT * FROM answers"), rows(db, "SELECT COUNT(*) FROM polls"))
    for forged in ("lecturer-secreT", "lecturer-secret2", "", None, "lecturer-secret\x00", "ä"):
        with pytest.raises(Forbidden):
            store.close(poll.code, forged)
        with pytest.raises(Forbidden):
            store.clear(poll.code, forged)
        with pytest.raises(Forbidden):
            store.reveal(poll.code, forged)
        with pytest.raises(Forbidden):
            store.export_csv(poll.code, forged)
        with pytest.raises(Forbidden):
            store.open_poll(forged, **POLL)
        with pytest.raises(Forbidden):
            store.reopen(poll.code, forged)
        with pytest.raises(Forbidden):
            store.polls(forged)
        with pytest.raises(Forbidden):
            store.close("ZZZZZ", forged)  # a forged token learns nothing about which codes exist
    assert (store.poll(poll.code), rows(db, "SELECT * FROM answers"), rows(db, "SELECT COUNT(*) FROM polls")) == before
    store.check_token(f"  {TOKEN}\n")  # pasted with spaces or a newline: still the token


def test_without_a_token_polls_are_off_for_lecturers(db, store, poll):
    off = PollStore(sqlite_url(db), None)
    assert not off.enabled and not PollStore(sqlite_url(db), "  ").enabled
    for call in (lambda: off.check_token(TOKEN), lambda: off.open_poll(TOKEN, **POLL), lambda: off.close(poll.code, TOKEN),
                 lambda: off.export_csv(poll.code, TOKEN), lambda: off.polls(TOKEN), lambda: off.check_token("")):
        with pytest.raises(PollsDisabled, match="MIXVIZ_POLL_TOKEN"):
            call()
    assert rows(db, "SELECT COUNT(*) FROM polls") == [(1,)]
    off.dispose()


def test_too_large(store, db):
    def opened(**changes):
        return store.open_poll(TOKEN, **{**POLL, **changes})

    for changes, match in [(dict(image=b"\xff" * (MAX_IMAGE_BYTES + 1)), "image is 2.0 MB"),
                           (dict(link="h" * (MAX_LINK + 1)), "link"),
                           (dict(title="t" * 201), "title"),
                           (dict(classes=("c" * 101, "dog"), label=(0.5, 0.5, 0.0)), "class name"),
                           (dict(topk=(("c" * 101, 0.5),)), "class name"),
                           (dict(classes=tuple("abcde"), label=(0.2,) * 5 + (0,), prediction=(0.2,) * 5 + (0,)), "1 to 4")]:
        with pytest.raises(TooLarge, match=match):
            opened(**changes)
    assert rows(db, "SELECT COUNT(*) FROM polls") == [(0,)]
    # the limits themselves are fine, and so are four classes and one
    opened(image=b"\xff" * MAX_IMAGE_BYTES, link="h" * MAX_LINK, title="t" * 200)
    four = opened(classes=tuple("abcd"), label=(0.25,) * 4 + (0.0,), prediction=(0.1,) * 4 + (0.6,))
    store.answer(four.code, "alice", [0.1, 0.2, 0.3, 0.4, 0.0], 2, now=T0)
    assert store.my_answer(four.code, "alice").shares == (0.1, 0.2, 0.3, 0.4, 0.0)
    one = opened(classes=("cat",), label=(1.0, 0.0), prediction=(0.9, 0.1))
    store.answer(one.code, "alice", [0.75, 0.25], 2, now=T0)
    assert rows(db, "SELECT COUNT(*) FROM polls") == [(3,)]


def test_a_poll_must_make_sense(store):
    for changes in (dict(classes=()), dict(classes=("cat", "cat")), dict(label=(0.5, 0.6, 0.0)),
                    dict(prediction=(0.5, 0.5)), dict(topk=(("cat", 1.5),)), dict(topk=("cat",)), dict(image="not bytes")):
        with pytest.raises(PollError):
            store.open_poll(TOKEN, **{**POLL, **changes})


def test_reveal(store, poll):
    assert store.reveal(poll.code, TOKEN).revealed and store.poll(poll.code).revealed
    assert not store.reveal(poll.code, TOKEN, revealed=False).revealed and not store.poll(poll.code).revealed


def test_the_csv_export_is_the_answers(store, poll):
    given = {"alice": ([0.2, 0.7, 0.1], 3, T0 + 1), "bob": ([1 / 3, 1 / 3, 1 / 3], 5, T0 + 2),
             "=HYPERLINK(\"x\")": ([0.0, 0.0, 1.0], 1, T0 + 3)}
    for student, (shares, confidence, at) in given.items():
        store.answer(poll.code, student, shares, confidence, now=at)
    store.answer(poll.code, "alice", [0.6, 0.4, 0.0], 4, now=T0 + 5)  # changed: answered_at stays T0 + 1
    given["alice"] = ([0.6, 0.4, 0.0], 4, T0 + 1)
    read = list(csv.DictReader(io.StringIO(store.export_csv(poll.code, TOKEN))))
    assert list(read[0]) == ["code", "link", "student", "answered_at", "updated_at", "confidence", "share: tabby cat",
                             "share: golden retriever", "share: something else"]
    assert [r["student"] for r in read] == ["alice", "bob", "'=HYPERLINK(\"x\")"]  # a formula is not run by a spreadsheet
    assert read[0]["answered_at"] == "2026-05-28T20:26:41.250Z" and read[0]["updated_at"] == "2026-05-28T20:26:45.250Z"
    for r, (shares, confidence, _) in zip(read, given.values()):
        assert r["code"] == poll.code and r["link"] == POLL["link"] and int(r["confidence"]) == confidence
        assert [float(r[k]) for k in list(r)[6:]] == shares  # full precision: 1/3 comes back exactly


def test_results_are_the_answers(store, poll):
    rng = numpy.random.default_rng(0)
    given = rng.dirichlet([1, 1, 1], size=12)
    for i, shares in enumerate(given):
        store.answer(poll.code, f"s{i}", shares.tolist(), int(i % 5 + 1), now=T0 + i)
    r = store.results(poll.code)
    assert r.count == 12 and r.shares.shape == (12, 3) and r.shares.dtype == numpy.float64
    numpy.testing.assert_array_equal(r.shares, given)  # in answer order, bit for bit
    numpy.testing.assert_allclose(r.shares.mean(0), given.mean(0), rtol=0, atol=1e-15)
    assert r.confidence.tolist() == [i % 5 + 1 for i in range(12)] and r.changed_at == T0 + 11
    store.answer(poll.code, "s0", [0.0, 0.0, 1.0], 2, now=T0 + 30)
    again = store.results(poll.code)
    assert again.changed_at == T0 + 30 and again.shares[0].tolist() == [0.0, 0.0, 1.0] and again.count == 12
    assert not any("s0" in str(v) for v in vars(again).values())  # no student ids in the room's view
    empty = store.results(store.open_poll(TOKEN, **POLL).code)
    assert empty.count == 0 and empty.shares.shape == (0, 3) and empty.changed_at == 0.0


def test_clear(store, poll):
    for i in range(3):
        store.answer(poll.code, f"s{i}", [0.5, 0.5, 0.0], 3, now=T0)
    other = store.open_poll(TOKEN, **POLL)
    store.answer(other.code, "s0", [0.5, 0.5, 0.0], 3, now=T0)
    assert store.clear(poll.code, TOKEN) == 3 and store.clear(poll.code, TOKEN) == 0
    assert store.results(poll.code).count == 0 and store.results(other.code).count == 1
    store.answer(poll.code, "s0", [0.1, 0.9, 0.0], 3, now=T0 + 0.1)  # a cleared answer is gone, limit included
    assert store.results(poll.code).count == 1


def test_a_newer_schema_is_refused(db, store, poll):
    store.dispose()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE mixviz_schema SET version = 2")
    with pytest.raises(SchemaTooNew, match="newer mixviz"):
        PollStore(sqlite_url(db), TOKEN)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE mixviz_schema SET version = 1")
    assert PollStore(sqlite_url(db), TOKEN).poll(poll.code) == poll


def test_a_restart_keeps_everything(db, store, poll):
    store.answer(poll.code, "alice", [0.2, 0.7, 0.1], 3, now=T0)
    store.reveal(poll.code, TOKEN)
    store.dispose()
    again = PollStore(sqlite_url(db), TOKEN)
    assert again.poll(poll.code) == store.poll(poll.code) and again.poll(poll.code).revealed
    assert again.my_answer(poll.code, "alice").shares == (0.2, 0.7, 0.1)
    assert rows(db, "SELECT version FROM mixviz_schema") == [(poll_store.SCHEMA_VERSION,)]
    with pytest.raises(TooFast):  # the limit outlives the process
        again.answer(poll.code, "alice", [0.2, 0.7, 0.1], 3, now=T0 + 0.5)
    again.dispose()


def test_from_env(tmp_path, monkeypatch):
    data = tmp_path / "mixviz-data"
    s = PollStore.from_env({"MIXVIZ_DATA_DIR": str(data), "MIXVIZ_POLL_TOKEN": "t"})
    assert s.backend == "sqlite" and s.enabled and (data / "polls.db").exists()
    s.dispose()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    s = PollStore.from_env({"MIXVIZ_POLL_TOKEN": ""})
    assert not s.enabled and (tmp_path / "home/.local/share/mixviz/polls.db").exists()
    s.dispose()
    s = PollStore.from_env({"MIXVIZ_DATABASE_URL": sqlite_url(tmp_path / "x.db")})
    assert (tmp_path / "x.db").exists()
    s.dispose()


def at_once(n: int, work) -> list:
    """`work(k)` for k in range(n) on n threads released together by a barrier: [(k, its result or the exception
    it raised)] in the order they finished (the concurrency tests here and in test_poll_postgres.py)."""
    barrier, outcomes = threading.Barrier(n), []

    def run(k):
        barrier.wait()
        try:
            outcomes.append((k, work(k)))
        except Exception as e:  # noqa: BLE001 - the caller checks
            outcomes.append((k, e))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def errors_of(outcomes: list) -> list:
    return [r for _, r in outcomes if isinstance(r, Exception)]


def verdicts(outcomes: list) -> list:
    """Each answer's outcome: "ok", "too fast" or the unexpected exception's repr, sorted."""
    return sorted("too fast" if isinstance(r, TooFast) else repr(r) if isinstance(r, Exception) else "ok"
                  for _, r in outcomes)


def test_200_students_through_8_stores_on_one_file(db, store, poll):
    stores = [PollStore(sqlite_url(db), TOKEN) for _ in range(8)]

    def replica(k):
        for i in range(25):
            stores[k].answer(poll.code, f"r{k}-s{i}", [i / 25, 1 - i / 25, 0.0], k % 5 + 1, now=T0 + i)

    outcomes = at_once(8, replica)
    for s in stores:
        s.dispose()
    assert errors_of(outcomes) == []
    assert rows(db) == [(200,)] and rows(db, "SELECT COUNT(DISTINCT student) FROM answers") == [(200,)]
    r = store.results(poll.code)
    assert r.count == 200 and math.isclose(r.shares[:, 0].mean(), sum(i / 25 for i in range(25)) / 25)


def test_one_student_hammered_from_4_threads_is_taken_once(db, store, poll):
    stores = [PollStore(sqlite_url(db), TOKEN) for _ in range(2)] + [store, store]  # separate stores and a shared one
    outcomes = at_once(4, lambda k: stores[k].answer(poll.code, "alice", [k / 4, 1 - k / 4, 0.0], k + 1, now=T0))
    assert verdicts(outcomes) == ["ok", "too fast", "too fast", "too fast"], outcomes
    winner = next(k for k, r in outcomes if not isinstance(r, Exception))
    assert rows(db, "SELECT student, share0, confidence FROM answers") == [("alice", winner / 4, winner + 1)]
    for s in stores[:2]:
        s.dispose()


def test_stores_starting_at_once_on_a_new_file(tmp_path):
    for attempt in range(3):
        db = tmp_path / f"race{attempt}.db"
        outcomes = at_once(6, lambda k: PollStore(sqlite_url(db), TOKEN))
        made = [r for _, r in outcomes if isinstance(r, PollStore)]
        assert errors_of(outcomes) == [] and len(made) == 6
        assert rows(db, "SELECT id, version FROM mixviz_schema") == [(1, 1)] and rows(db, "PRAGMA journal_mode") == [("wal",)]
        for s in made:
            s.dispose()
