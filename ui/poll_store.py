"""A live classroom poll on a mixed image (issue 15): where the answers live, with no Streamlit in it.

The lecturer opens a poll on a mix from the Mixing Lab; each student says how much of each input's class they see
(shares over the poll's classes plus "neither/something else", summing to 1) and how sure they are (1..5); the
lecturer sees the room's aggregates live and can then reveal the method's label and the network's prediction. This
is the soft-label elicitation of Collins et al., "Human-in-the-Loop Mixup" (H-Mix), UAI 2023, run in a lecture.

Storage: SQLAlchemy Core over SQLite (a file in MIXVIZ_DATA_DIR, the default) or over PostgreSQL
(MIXVIZ_DATABASE_URL, through psycopg 3) when several replicas serve one class. Two tables and a version table:
- `polls`: code (5 characters of CODE_ALPHABET, unique), link, title, and the poll's classes, label, prediction and
  top-5 as JSON (written once, read whole); the JPEG as a blob; is_open, revealed, created_at, closed_at.
- `answers`: one row per (poll, student), a unique constraint, ever. Shares are one nullable DOUBLE column per
  slot (share0..share4: MAX_CLASSES classes + "something else"; slots past len(classes)+1 stay NULL), so a row is
  plain numbers that any SQL client can average and no JSON is parsed per answer when the room's results are read.
- `mixviz_schema`: the version of this layout (SCHEMA_VERSION).
Timestamps are float epoch seconds (`now`, default time.time()) written by the replica that took the request, so
the one-answer-per-second limit holds across replicas whose clocks are synced (NTP).

Schema: SQLAlchemy's own create_all plus the version table, not Alembic. There are two tables and no migration yet;
Alembic would add a dependency and a migrations folder for a single version. The version table is enough for a later
mixviz to migrate step by step from the number it finds, and it makes this mixviz refuse a database that a newer one
made (SchemaTooNew) instead of writing into a layout it does not know. Creation runs in one transaction: on
PostgreSQL under pg_advisory_xact_lock (DDL is transactional there), so two replicas starting at once do not race
on CREATE TABLE; on SQLite under BEGIN IMMEDIATE (one writer at a time), with WAL journaling and a busy timeout so
that several processes and threads can read while one writes. Every SQLite write transaction is BEGIN IMMEDIATE:
it waits for the write lock up front instead of failing when a reader's snapshot turns into a writer's.

An answer is ONE statement: INSERT ... SELECT from the poll while it is open ... ON CONFLICT (poll, student) DO
UPDATE ... WHERE the row's updated_at + MIN_INTERVAL_S <= now, RETURNING the row (the interval is added on the row's
side: `t + 1.0` is the very sum a caller makes for "one second later", while `(t + 1.0) - 1.0` need not give t back
in floating point). No row back means the poll closed meanwhile (PollClosed) or the student answered less than a
second ago (TooFast); the database decides, so two replicas or threads cannot both take one student's answer, nor
can an answer land after close().

Lecturer actions take the token (MIXVIZ_POLL_TOKEN, compared with hmac.compare_digest); without one polls are off
for lecturers (PollsDisabled). Students' calls (poll, answer, my_answer, results) need no token: results() gives
aggregates only, never student ids; the CSV export, with ids, takes the token."""
from __future__ import annotations

import csv
import hmac
import io
import math
import numbers
import os
import secrets
import sqlite3
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy
from sqlalchemy import (JSON, Boolean, Column, Double, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table,
                        UniqueConstraint, create_engine, event, func, inspect, literal, select, text, update)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O/1/I/L: read aloud or off a projector without doubt
CODE_LENGTH = 5
SCHEMA_VERSION = 1
MIN_INTERVAL_S = 1.0  # at most one answer per second from one student
MAX_STUDENT_ID = 64  # characters
MAX_IMAGE_BYTES = 2_000_000  # the poll's JPEG
MAX_LINK = 4096
MAX_CLASSES = 4  # 2 or 4 inputs' classes, deduplicated; answers have len(classes)+1 shares, the last "something else"
MAX_CLASS_NAME = 100
MAX_TITLE = 200
MAX_TOPK = 10
SUM_TOLERANCE = 0.01
SOMETHING_ELSE = "something else"
SQLITE_BUSY_TIMEOUT_S = 30.0
_LOCK_KEY = 0x6D697876697A  # pg_advisory_xact_lock key for schema creation ("mixviz")
_SLOTS = MAX_CLASSES + 1


class PollError(ValueError):
    """The base of the poll's errors; str(e) is a sentence a student or lecturer can read."""


class PollsDisabled(PollError):
    """No lecturer token is configured."""


class Forbidden(PollError):
    """A wrong or forged lecturer token."""


class UnknownPoll(PollError):
    """No poll has that code."""


class PollClosed(PollError):
    """The poll no longer takes answers."""


class BadAnswer(PollError):
    """Shares, confidence or student id that a poll cannot take."""


class TooFast(PollError):
    """A second answer from one student within MIN_INTERVAL_S."""


class TooLarge(PollError):
    """An image, link, student id, class name or title over its limit."""


class SchemaTooNew(PollError):
    """The database was made by a newer mixviz."""


@dataclass(frozen=True)
class Poll:
    code: str
    link: str
    title: str
    classes: tuple[str, ...]
    label: tuple[float, ...]  # the method's label over classes + "something else" (len(classes)+1, sums to 1)
    prediction: tuple[float, ...]  # the network's probability of each class, + the rest as "something else"
    topk: tuple[tuple[str, float], ...]  # the network's top-5 on the mix (name, probability)
    image: bytes  # JPEG of the mix (b"" in PollStore.polls)
    is_open: bool
    revealed: bool
    created_at: float
    closed_at: float | None


@dataclass(frozen=True)
class Answer:
    student: str
    shares: tuple[float, ...]
    confidence: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Results:
    count: int
    shares: numpy.ndarray  # (count, len(classes)+1) float64, rows in answer order (created_at, then id)
    confidence: numpy.ndarray  # (count,) int
    changed_at: float  # max updated_at over the poll's answers (0.0 when none): with count, lets a live view skip redraws


metadata = MetaData()
schema_table = Table("mixviz_schema", metadata,
                     Column("id", Integer, primary_key=True, autoincrement=False),
                     Column("version", Integer, nullable=False))
polls_table = Table("polls", metadata,
                    Column("id", Integer, primary_key=True),
                    Column("code", String(CODE_LENGTH), nullable=False, unique=True),
                    Column("link", String(MAX_LINK), nullable=False),
                    Column("title", String(MAX_TITLE), nullable=False),
                    Column("classes", JSON, nullable=False),
                    Column("label", JSON, nullable=False),
                    Column("prediction", JSON, nullable=False),
                    Column("topk", JSON, nullable=False),
                    Column("image", LargeBinary, nullable=False),
                    Column("is_open", Boolean, nullable=False),
                    Column("revealed", Boolean, nullable=False),
                    Column("created_at", Double, nullable=False),
                    Column("closed_at", Double, nullable=True))
answers_table = Table("answers", metadata,
                      Column("id", Integer, primary_key=True),
                      Column("poll_id", Integer, ForeignKey("polls.id", ondelete="CASCADE"), nullable=False),
                      Column("student", String(MAX_STUDENT_ID), nullable=False),
                      *[Column(f"share{i}", Double, nullable=True) for i in range(_SLOTS)],
                      Column("confidence", Integer, nullable=False),
                      Column("created_at", Double, nullable=False),
                      Column("updated_at", Double, nullable=False),
                      UniqueConstraint("poll_id", "student", name="answers_poll_student"),
                      Index("answers_poll_order", "poll_id", "created_at", "id"))
_SHARE_COLUMNS = [answers_table.c[f"share{i}"] for i in range(_SLOTS)]
_POLL_COLUMNS = [c for c in polls_table.c if c.name != "image"]


def _normalise_url(url: str):
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):  # SQLAlchemy's default driver there is psycopg2; ours is psycopg 3
        u = u.set(drivername="postgresql+psycopg")
    return u


def _code(code) -> str:
    """The code as stored (upper case, no spaces), or UnknownPoll naming what was typed."""
    typed = code if isinstance(code, str) else repr(code)
    norm = "".join(typed.split()).upper()
    if len(norm) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in norm):
        shown = typed.strip()[:20] + ("…" if len(typed.strip()) > 20 else "")
        raise UnknownPoll(f"There is no poll with the code “{shown}”: a code is {CODE_LENGTH} letters and digits, "
                          "as the lecturer's screen shows it.")
    return norm


def _student(student) -> str:
    if not isinstance(student, str):
        raise BadAnswer("Your name or student id must be text.")
    s = student.strip()
    if not s:
        raise BadAnswer("Enter your name or student id before answering.")
    if len(s) > MAX_STUDENT_ID:
        raise TooLarge(f"Your name or student id is {len(s)} characters long; at most {MAX_STUDENT_ID} are kept.")
    if any(unicodedata.category(c).startswith("C") for c in s):
        raise BadAnswer("Your name or student id contains control characters; type it again.")
    return s


def _number(x) -> float | None:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    return float(x)


def _distribution(values, n: int, what: str, error=PollError) -> tuple[float, ...]:
    """n finite numbers in [0, 1] summing to 1 within SUM_TOLERANCE, or `error`."""
    if isinstance(values, (str, bytes)):
        raise error(f"{what} must be {n} numbers.")
    try:
        vals = [_number(v) for v in values]
    except TypeError:
        raise error(f"{what} must be {n} numbers.") from None
    if len(vals) != n:
        raise error(f"{what} must be {n} numbers (one per class and one for “{SOMETHING_ELSE}”), not {len(vals)}.")
    if any(v is None or not math.isfinite(v) for v in vals):
        raise error(f"{what} must be numbers between 0 and 1.")
    if any(v < 0.0 or v > 1.0 for v in vals):
        raise error(f"{what} must each be between 0 and 1 (0% to 100%).")
    total = math.fsum(vals)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise error(f"{what} must add up to 100%; they add up to {100 * total:.0f}%.")
    return tuple(vals)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _spreadsheet_safe(cell: str) -> str:
    """A student id a spreadsheet would run as a formula gets a leading apostrophe (OWASP's CSV injection advice)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


class PollStore:
    """The polls and their answers in one database; thread-safe (one per process is enough, several are fine)."""

    def __init__(self, url: str, token: str | None = None):
        u = _normalise_url(url)
        backend = u.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"polls are stored in SQLite or PostgreSQL, not {backend} ({u.render_as_string()})")
        self._token = (token or "").strip() or None
        if backend == "sqlite":
            if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
                Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(u, pool_pre_ping=True,
                                        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(u, pool_pre_ping=True)
        self._ensure_schema()

    @classmethod
    def from_env(cls, environ=os.environ) -> PollStore:
        """MIXVIZ_DATABASE_URL, else SQLite in MIXVIZ_DATA_DIR (default ~/.local/share/mixviz)/polls.db;
        the lecturer's token from MIXVIZ_POLL_TOKEN (unset or empty: polls are off for lecturers)."""
        url = (environ.get("MIXVIZ_DATABASE_URL") or "").strip()
        if not url:
            data = Path(environ.get("MIXVIZ_DATA_DIR") or "~/.local/share/mixviz").expanduser().resolve()
            url = f"sqlite:///{data / 'polls.db'}"
        return cls(url, environ.get("MIXVIZ_POLL_TOKEN"))

    @property
    def enabled(self) -> bool:
        return self._token is not None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    # -- transactions

    @contextmanager
    def _write(self):
        """A write transaction: on SQLite it takes the write lock at BEGIN (see _sqlite_begin)."""
        with self.engine.connect().execution_options(mixviz_write=True) as conn, conn.begin():
            yield conn

    def _ensure_schema(self) -> None:
        with self._write() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            if inspect(conn).has_table(schema_table.name):
                found = conn.execute(select(func.max(schema_table.c.version))).scalar()
                if found is not None and found > SCHEMA_VERSION:
                    raise SchemaTooNew(f"The poll database was made by a newer mixviz (schema version {found}; this one "
                                       f"knows {SCHEMA_VERSION}). Upgrade mixviz, or point MIXVIZ_DATABASE_URL or "
                                       "MIXVIZ_DATA_DIR elsewhere.")
            else:
                found = None
            metadata.create_all(conn)  # checkfirst: only what is missing
            if found is None:
                conn.execute(schema_table.insert().values(id=1, version=SCHEMA_VERSION))
            # found < SCHEMA_VERSION: a later version migrates here, one step at a time, then updates the row

    # -- lecturer

    def check_token(self, token: str) -> None:
        if self._token is None:
            raise PollsDisabled("Polls are off on this server: set MIXVIZ_POLL_TOKEN to a secret for the lecturer and "
                                "restart it.")
        given = token.strip().encode() if isinstance(token, str) else b""
        if not hmac.compare_digest(given, self._token.encode()):
            raise Forbidden("That lecturer token is not this server's.")

    def open_poll(self, token, *, link, title, classes, label, prediction, topk, image, now=None) -> Poll:
        self.check_token(token)
        link, title = self._text(link, "The link", MAX_LINK), self._text(title, "The title", MAX_TITLE)
        if isinstance(classes, str):
            raise PollError("A poll's classes are a list of class names.")
        classes = tuple(classes)
        if not 1 <= len(classes) <= MAX_CLASSES:
            raise (TooLarge if classes else PollError)(f"A poll asks about 1 to {MAX_CLASSES} classes, not {len(classes)}.")
        for c in classes:
            self._text(c, "A class name", MAX_CLASS_NAME)
            if not c.strip():
                raise PollError("A class name is empty.")
        if len(set(classes)) != len(classes):
            raise PollError(f"A poll's classes are distinct: {', '.join(classes)}.")
        n = len(classes) + 1
        label = _distribution(label, n, "The label")
        prediction = _distribution(prediction, n, "The prediction")
        topk = tuple(topk)
        if len(topk) > MAX_TOPK:
            raise TooLarge(f"A poll keeps the network's top {MAX_TOPK} at most, not {len(topk)}.")
        pairs = []
        for pair in topk:
            try:
                name, p = pair
            except (TypeError, ValueError):
                raise PollError("The network's top classes are (name, probability) pairs.") from None
            self._text(name, "A class name", MAX_CLASS_NAME)
            p = _number(p)
            if p is None or not 0.0 <= p <= 1.0:
                raise PollError(f"The network's probability of {name} is not between 0 and 1.")
            pairs.append((name, p))
        if not isinstance(image, (bytes, bytearray, memoryview)):
            raise PollError("The poll's image must be JPEG bytes.")
        image = bytes(image)
        if len(image) > MAX_IMAGE_BYTES:
            raise TooLarge(f"The poll's image is {len(image) / 1e6:.1f} MB; at most {MAX_IMAGE_BYTES / 1e6:.0f} MB.")
        now = time.time() if now is None else float(now)
        row = dict(link=link, title=title, classes=list(classes), label=list(label), prediction=list(prediction),
                   topk=[list(p) for p in pairs], image=image, is_open=True, revealed=False, created_at=now, closed_at=None)
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self._write() as conn:
                    conn.execute(polls_table.insert().values(code=code, **row))
            except IntegrityError:  # the code is taken (or, very rarely, being taken): draw another
                continue
            return Poll(code, link, title, classes, label, prediction, tuple(pairs), image, True, False, now, None)
        raise PollError("Could not find a free poll code; try again.")

    @staticmethod
    def _text(value, what: str, limit: int) -> str:
        if not isinstance(value, str):
            raise PollError(f"{what} must be text.")
        if len(value) > limit:
            raise TooLarge(f"{what} is {len(value)} characters long; at most {limit}.")
        return value

    def close(self, code, token, now=None) -> Poll:
        self.check_token(token)
        code = _code(code)
        now = time.time() if now is None else float(now)
        with self._write() as conn:
            conn.execute(update(polls_table).where(polls_table.c.code == code, polls_table.c.is_open)
                         .values(is_open=False, closed_at=now))
            return self._get(conn, code, image=True)

    def reopen(self, code, token) -> Poll:
        self.check_token(token)
        code = _code(code)
        with self._write() as conn:
            conn.execute(update(polls_table).where(polls_table.c.code == code).values(is_open=True, closed_at=None))
            return self._get(conn, code, image=True)

    def reveal(self, code, token, revealed: bool = True) -> Poll:
        self.check_token(token)
        code = _code(code)
        with self._write() as conn:
            conn.execute(update(polls_table).where(polls_table.c.code == code).values(revealed=bool(revealed)))
            return self._get(conn, code, image=True)

    def clear(self, code, token) -> int:
        """Deletes the poll's answers; returns how many there were."""
        self.check_token(token)
        code = _code(code)
        with self._write() as conn:
            poll_id = self._id(conn, code)[0]
            return conn.execute(answers_table.delete().where(answers_table.c.poll_id == poll_id)).rowcount

    def export_csv(self, code, token) -> str:
        """One row per answer, in answer order: code, link, student, answered_at and updated_at (ISO 8601 UTC),
        confidence, then "share: <class>" per class and "share: something else" (full float precision). A student id
        that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe."""
        self.check_token(token)
        code = _code(code)
        with self.engine.connect() as conn:
            poll = self._get(conn, code, image=False)
            n = len(poll.classes) + 1
            rows = conn.execute(select(answers_table.c.student, answers_table.c.created_at, answers_table.c.updated_at,
                                       answers_table.c.confidence, *_SHARE_COLUMNS[:n])
                                .join(polls_table, polls_table.c.id == answers_table.c.poll_id)
                                .where(polls_table.c.code == code)
                                .order_by(answers_table.c.created_at, answers_table.c.id)).all()
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["code", "link", "student", "answered_at", "updated_at", "confidence",
                    *[f"share: {c}" for c in poll.classes], f"share: {SOMETHING_ELSE}"])
        for r in rows:
            w.writerow([poll.code, poll.link, _spreadsheet_safe(r.student), _iso(r.created_at), _iso(r.updated_at),
                        r.confidence, *[repr(float(r[4 + i])) for i in range(n)]])
        return out.getvalue()

    def polls(self, token, limit: int = 200) -> list[Poll]:
        """The lecturer's polls, newest first, without their images (image is b"")."""
        self.check_token(token)
        with self.engine.connect() as conn:
            rows = conn.execute(select(*_POLL_COLUMNS).order_by(polls_table.c.created_at.desc(), polls_table.c.id.desc())
                                .limit(int(limit))).all()
        return [_poll(r, b"") for r in rows]

    # -- students (and anyone)

    def poll(self, code: str) -> Poll:
        code = _code(code)
        with self.engine.connect() as conn:
            return self._get(conn, code, image=True)

    def answer(self, code, student, shares, confidence, now=None) -> Answer:
        student = _student(student)
        if isinstance(confidence, bool) or not isinstance(confidence, numbers.Integral) or not 1 <= int(confidence) <= 5:
            raise BadAnswer("How sure you are is a whole number from 1 to 5.")
        confidence = int(confidence)
        code = _code(code)
        now = time.time() if now is None else float(now)
        with self.engine.connect() as conn:
            poll_id, n_classes, is_open = self._id(conn, code)
        if not is_open:
            raise PollClosed(f"Poll {code} is closed: it takes no more answers.")
        shares = _distribution(shares, n_classes + 1, "Your shares", BadAnswer)
        values = list(shares) + [None] * (_SLOTS - len(shares))
        a, p = answers_table, polls_table
        source = select(p.c.id, literal(student, String), *[literal(v, Double) for v in values],
                        literal(confidence, Integer), literal(now, Double), literal(now, Double)) \
            .where(p.c.id == poll_id, p.c.is_open)
        insert = (sqlite_dialect.insert if self.backend == "sqlite" else pg_dialect.insert)(a)
        insert = insert.from_select([a.c.poll_id, a.c.student, *_SHARE_COLUMNS, a.c.confidence, a.c.created_at,
                                     a.c.updated_at], source)
        stmt = insert.on_conflict_do_update(
            index_elements=[a.c.poll_id, a.c.student],
            set_={**{c.name: insert.excluded[c.name] for c in _SHARE_COLUMNS}, "confidence": insert.excluded.confidence,
                  "updated_at": insert.excluded.updated_at},
            where=a.c.updated_at + literal(MIN_INTERVAL_S, Double) <= insert.excluded.updated_at,
        ).returning(a.c.created_at, a.c.updated_at)
        with self._write() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                still_open = conn.execute(select(p.c.is_open).where(p.c.id == poll_id)).scalar()
        if row is None:
            if not still_open:
                raise PollClosed(f"Poll {code} is closed: it takes no more answers.")
            raise TooFast(f"You answered less than {MIN_INTERVAL_S:g} s ago: wait a moment and send it again.")
        return Answer(student, shares, confidence, float(row.created_at), float(row.updated_at))

    def my_answer(self, code, student) -> Answer | None:
        """This student's answer to the poll, or None (also for an empty student id)."""
        if isinstance(student, str) and not student.strip():
            return None
        student = _student(student)
        code = _code(code)
        with self.engine.connect() as conn:
            poll_id, n_classes, _ = self._id(conn, code)
            row = conn.execute(select(answers_table.c.confidence, answers_table.c.created_at, answers_table.c.updated_at,
                                      *_SHARE_COLUMNS[:n_classes + 1])
                               .where(answers_table.c.poll_id == poll_id, answers_table.c.student == student)).first()
        if row is None:
            return None
        return Answer(student, tuple(float(v) for v in row[3:]), int(row.confidence), float(row.created_at),
                      float(row.updated_at))

    def results(self, code) -> Results:
        """The room's answers as arrays, in answer order; no student ids."""
        code = _code(code)
        with self.engine.connect() as conn:
            poll_id, n_classes, _ = self._id(conn, code)
            rows = conn.execute(select(answers_table.c.confidence, answers_table.c.updated_at,
                                       *_SHARE_COLUMNS[:n_classes + 1])
                                .where(answers_table.c.poll_id == poll_id)
                                .order_by(answers_table.c.created_at, answers_table.c.id)).all()
        n = n_classes + 1
        shares = numpy.array([r[2:] for r in rows], dtype=numpy.float64).reshape(len(rows), n)
        confidence = numpy.array([r.confidence for r in rows], dtype=numpy.int64)
        changed = max((float(r.updated_at) for r in rows), default=0.0)
        return Results(len(rows), shares, confidence, changed)

    # -- reading polls

    @staticmethod
    def _id(conn, code: str) -> tuple[int, int, bool]:
        """(poll id, number of classes, is open) of the poll with this (normalised) code, or UnknownPoll."""
        row = conn.execute(select(polls_table.c.id, polls_table.c.classes, polls_table.c.is_open)
                           .where(polls_table.c.code == code)).first()
        if row is None:
            raise UnknownPoll(f"There is no poll with the code “{code}”: check it on the lecturer's screen.")
        return int(row.id), len(row.classes), bool(row.is_open)

    @staticmethod
    def _get(conn, code: str, image: bool) -> Poll:
        cols = [*_POLL_COLUMNS, polls_table.c.image] if image else _POLL_COLUMNS
        row = conn.execute(select(*cols).where(polls_table.c.code == code)).first()
        if row is None:
            raise UnknownPoll(f"There is no poll with the code “{code}”: check it on the lecturer's screen.")
        return _poll(row, bytes(row.image) if image else b"")


def _poll(row, image: bytes) -> Poll:
    return Poll(code=row.code, link=row.link, title=row.title, classes=tuple(row.classes),
                label=tuple(float(v) for v in row.label), prediction=tuple(float(v) for v in row.prediction),
                topk=tuple((str(n), float(p)) for n, p in row.topk), image=image, is_open=bool(row.is_open),
                revealed=bool(row.revealed), created_at=float(row.created_at),
                closed_at=None if row.closed_at is None else float(row.closed_at))


def _sqlite_connect(dbapi_connection, _record) -> None:
    # The driver's own transaction handling off (it would BEGIN lazily, before the first write only): _sqlite_begin
    # starts every transaction. WAL: readers never wait for the writer; NORMAL sync is safe with WAL (a power cut may
    # lose the last commits, never the file).
    # Switching a new file to WAL takes an exclusive lock, and SQLite answers "database is locked" at once, without
    # its busy handler, when another connection is switching it too (stores starting together): retry that.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cur.execute("PRAGMA journal_mode = WAL")  # where WAL cannot be (":memory:"), the mode stays as it is
            break
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("mixviz_write") else "BEGIN")
