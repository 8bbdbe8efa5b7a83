"""bench/classroom.py --poll (bench/classroom_poll.py) on a small class: a real PostgreSQL, two replicas behind
Debian's nginx (deploy/nginx's config), a lecturer who opens the poll from the Mixing Lab and watches it live, twelve
students who answer through the Streamlit protocol, and the busiest replica killed while they answer. Nothing is
lost or stored twice, every acknowledged answer has its row, every student of the killed replica comes back (and
keeps its anonymous id: a page that had its answer saved shows it saved again), no page or server log shows an
error, and every answer reaches the lecturer's count. The seconds are printed, not asserted."""
import pytest

import classroom
import postgres
from replicas import NGINX

pytestmark = [
    pytest.mark.skipif(NGINX is None, reason="no nginx binary: `apt-get install -y nginx` (scripts/install_system.sh does)"),
    pytest.mark.skipif(postgres.available() is not None, reason=f"no PostgreSQL server here: {postgres.available()}"),
]
STUDENTS = 12


def test_a_class_poll_loses_nothing_and_stores_nothing_twice_when_a_replica_dies(capsys):
    r = classroom.main(["--poll", str(STUDENTS), "--replicas", "2", "--kill-at", "7", "--within", "14",
                        "--arrive", "2", "--seed", "1"])
    assert not r["errors"], r["errors"]
    assert r["opened"] == STUDENTS
    # 0 lost, 0 duplicated: one row per acknowledged answer, each its student's
    assert r["acknowledged"] == r["rows"] == r["students_in_rows"] == STUDENTS, r
    assert not r["lost"] and not r["strays"] and r["duplicated"] == 0, r
    assert r["too_fast"] == 0  # nobody sends twice within a second: a page that comes back saved is not answered again
    # the kill: every student of the killed replica moved once to the other and was drawn again there
    assert r["killed"] is not None and r["killed_at"] is not None
    assert r["killed_students"] and not r["not_back"], r["reconnects"]
    aff = r["affinity"]
    assert not aff["wandered"] and not aff["unseen"], aff
    assert aff["moved"] == len(r["killed_students"]) and aff["stayed"] + aff["moved"] == STUDENTS, aff
    students_back = {x["who"] for x in r["reconnects"] if x["who"] >= 0 and x["error"] is None}
    assert students_back == set(r["killed_students"]), (students_back, r["killed_students"])
    # the lecturer's page counted every answer
    assert r["lecturer_final"] == STUDENTS and r["visible_from_click"]["n"] == STUDENTS and not r["never_visible"]
    out = capsys.readouterr().out
    assert "A class poll" in out and "rows in PostgreSQL" in out and "The kill:" in out
