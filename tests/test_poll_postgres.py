"""ui/poll_store.py over a real PostgreSQL (scripts/postgres.py: Debian's server on loopback, its own cluster in a
temporary directory): a poll's round trip, one row per student, the one-second limit, two replicas' stores under
200 students, two replicas creating the schema at the same moment, and a server restart between two answers."""
import uuid

import pytest
import sqlalchemy as sa

from postgres import Postgres, available
from test_poll_store import POLL, T0, TOKEN, at_once, errors_of, verdicts
from ui.poll_store import PollStore, TooFast

WHY = available()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"no PostgreSQL server here: {WHY}")


@pytest.fixture(scope="module")
def server():
    with Postgres() as pg:
        yield pg


@pytest.fixture
def url(server):
    """A fresh, empty database for each test."""
    return server.createdb(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(url):
    s = PollStore(url, TOKEN)
    yield s
    s.dispose()


def count(url, sql="SELECT COUNT(*) FROM answers"):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).all()
    finally:
        engine.dispose()


def test_a_poll_comes_back_as_it_was_opened(store, url):
    assert store.backend == "postgresql"
    poll = store.open_poll(TOKEN, now=T0, **POLL)
    assert store.poll(poll.code.lower()) == poll and store.poll(poll.code).image == POLL["image"]
    other = PollStore(url, TOKEN)  # another replica reads the same
    assert other.poll(poll.code) == poll and other.polls(TOKEN)[0].label == POLL["label"]
    other.dispose()
    assert count(url, "SELECT version FROM mixviz_schema") == [(1,)]
    assert count(url, "SELECT data_type FROM information_schema.columns WHERE table_name = 'answers' "
                      "AND column_name = 'share0'") == [("double precision",)]


def test_answers_change_in_place_once_a_second(store, url):
    poll = store.open_poll(TOKEN, now=T0, **POLL)
    first = store.answer(poll.code, "alice", [0.2, 0.7, 0.1], 3, now=T0 + 10)
    with pytest.raises(TooFast):
        store.answer(poll.code, "alice", [0.3, 0.6, 0.1], 4, now=T0 + 10.5)
    second = store.answer(poll.code, "alice", [1 / 3, 1 / 3, 1 / 3], 5, now=T0 + 11)
    assert second.created_at == first.created_at == T0 + 10 and second.updated_at == T0 + 11
    assert store.my_answer(poll.code, "alice") == second and second.shares == (1 / 3, 1 / 3, 1 / 3)
    assert count(url, "SELECT student, share0, share3, confidence FROM answers") == [("alice", 1 / 3, None, 5)]
    r = store.results(poll.code)
    assert r.count == 1 and r.shares.tolist() == [[1 / 3, 1 / 3, 1 / 3]] and r.changed_at == T0 + 11
    store.close(poll.code, TOKEN)
    assert store.clear(poll.code, TOKEN) == 1 and count(url) == [(0,)]


def test_200_students_through_two_replicas(url):
    replicas = [PollStore(url, TOKEN) for _ in range(2)]
    poll = replicas[0].open_poll(TOKEN, now=T0, **POLL)

    def students(k):
        for i in range(25):
            replicas[k % 2].answer(poll.code, f"r{k}-s{i}", [i / 25, 1 - i / 25, 0.0], k % 5 + 1, now=T0 + i)

    assert errors_of(at_once(8, students)) == []
    assert count(url) == [(200,)] and count(url, "SELECT COUNT(DISTINCT student) FROM answers") == [(200,)]
    assert replicas[1].results(poll.code).count == 200
    # one student hammered through both replicas at the same moment: one answer taken
    outcomes = at_once(4, lambda k: replicas[k % 2].answer(poll.code, "alice", [k / 4, 1 - k / 4, 0.0], k + 1, now=T0 + 100))
    assert verdicts(outcomes) == ["ok", "too fast", "too fast", "too fast"], outcomes
    assert count(url, "SELECT COUNT(*) FROM answers WHERE student = 'alice'") == [(1,)]
    for s in replicas:
        s.dispose()


def test_two_replicas_create_the_schema_at_the_same_moment(server):
    for attempt in range(3):  # three empty databases, three races
        url = server.createdb(f"race_{attempt}_{uuid.uuid4().hex[:8]}")
        outcomes = at_once(4, lambda k: PollStore(url, TOKEN))
        made = [r for _, r in outcomes if isinstance(r, PollStore)]
        assert errors_of(outcomes) == [] and len(made) == 4
        assert count(url, "SELECT id, version FROM mixviz_schema") == [(1, 1)]
        poll = made[0].open_poll(TOKEN, **POLL)
        made[3].answer(poll.code, "alice", [0.5, 0.5, 0.0], 3)
        for s in made:
            s.dispose()


def test_a_server_restart_between_two_answers(server, store, url):
    poll = store.open_poll(TOKEN, now=T0, **POLL)
    for i in range(3):
        store.answer(poll.code, f"s{i}", [0.5, 0.5, 0.0], 3, now=T0 + i)
    with store.engine.connect() as conn:  # the pool holds a connection the restart will cut
        before = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    server.restart()
    store.answer(poll.code, "s3", [0.25, 0.75, 0.0], 4, now=T0 + 5)  # pool_pre_ping finds the dead connection first
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar() != before
    r = store.results(poll.code)
    assert r.count == 4 and r.shares[:, 0].tolist() == [0.5, 0.5, 0.5, 0.25]
    assert store.poll(poll.code) == poll
