"""bench/classroom.py speaks Streamlit's own protocol to the served app: two students do every kind of action
(λ, method, re-roll, page, a lecture step, an upload) without an error, every run finishes, every media file a
run references is fetched, and the widget ids it learned from the deltas are the app's (the λ it sends is the λ
the next run draws). No timing is asserted."""
import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import classroom
import streamlit_client
from classroom import KINDS, Server, act, classroom as run_class, print_summary, summary
from streamlit_client import Student, timed

# every kind of action, each student its own order; the upload goes to the Mixing Lab's first slot
PLANS = {
    0: [("lam", 0.49), ("method", "Cut and paste", "FMix"), ("reroll",), ("upload", "student0.jpg", 11),
        ("page", "lecture"), ("lecture", "next"), ("page", "mixing_lab"), ("lam", 0.51)],
    1: [("page", "lecture"), ("lecture", "step", "3. Mixup: λ ~ Beta(α, α)"), ("page", "gallery"),
        ("page", "mixing_lab"), ("reroll",), ("method", "Tiles and concatenation", "Vertical concat"), ("lam", 0.49)],
}


@pytest.fixture(scope="module")
def server():
    with Server() as s:
        asyncio.run(classroom.warm(s.url))
        yield s


def test_two_students_do_every_kind_of_action_without_an_error(server, capsys):
    tally = asyncio.run(run_class(server.url, 2, 120, (1.0, 2.5), 0, 1.0, server.pid, plans=PLANS))  # about 20 s
    done = {a.kind for a in tally.actions}
    assert done == set(KINDS), f"not done: {set(KINDS) - done}"
    errors = [f"{a.student} {a.kind} {a.detail}: {a.error}" for a in tally.actions if a.error] + tally.errors
    assert not errors, errors
    assert len(tally.actions) == 2 + sum(len(p) for p in PLANS.values())
    for a in tally.actions:
        assert a.runs >= 1 and a.server_s is not None and all(f is not None for _, f, _, _ in a.spans), a
        assert a.session  # the session the server gave it
    assert [a.runs for a in tally.actions if a.detail[:2] == ("method", "Cut and paste")] == [2]  # family, method
    opened = [a for a in tally.actions if a.kind == "open"]
    assert all(a.media >= 3 for a in opened)  # the sidebar's thumbnails, the shaded inputs, the live picture's sweep
    upload = next(a for a in tally.actions if a.kind == "upload")
    assert upload.media >= 1 and upload.spans[0][3] is not None  # its file URLs, its PUT, the new pictures
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    # the report: every kind in the table, the server's RSS sampled
    r = summary(tally, 2, log)
    assert not r["errors"] and set(r["kinds"]) == set(KINDS) and r["samples"]
    print_summary(r, "test")
    out = capsys.readouterr().out
    assert "| lam |" in out and "| upload |" in out and "server RSS (MB)" in out


def test_the_widget_ids_it_learned_are_the_apps(server):
    """Mixup at λ 0.3 on cat and dog: the label line reads 0.300 and 0.700, and the live picture's data shows the
    frame at λ 0.3 with those weights; the method select's new id and the Re-roll trigger work too."""
    async def visit():
        with ThreadPoolExecutor(max_workers=4) as pool:
            s = Student(server.url, 0, pool)
            try:
                opened = await timed(s, "open", lambda: s.open(), 0.0)
                assert opened.error is None, opened.error
                assert s.widget("lab_lam") is not None and s.current("lab_method") == "Mixup"
                moved = await act(s, None, ("lam", 0.3), 0.0)
                assert moved.error is None, moved.error
                assert "Label: cat **0.300**, dog **0.700**" in s.markdown()
                assert s.current("lab_lam") == [0.3] and "lam=0.3" in s.query  # the address the app published
                _, live, _ = s.widget("lab_scrubber")
                data = json.loads(json.loads(live.json))
                assert data["values"][data["index"]] == 0.3
                assert data["weights"][data["index"]] == pytest.approx([0.3, 0.7])
                seed = s.current("lab_seed")
                rolled = await act(s, None, ("reroll",), 0.0)
                assert rolled.error is None and s.current("lab_seed") == seed + 1
                switched = await act(s, None, ("method", "Blending", "Between-class (BC)"), 0.0)
                assert switched.error is None and switched.runs == 1 and s.current("lab_method") == "Between-class (BC)"
                assert any(t.startswith("Label: ") for t in s.markdown())
            finally:
                await s.close()

    asyncio.run(visit())


def test_widget_keys_and_time_covered():
    assert streamlit_client.widget_key("$$ID-0593f99f057f15dd5409de37f21fb471-lab_reroll") == "lab_reroll"
    assert streamlit_client.widget_key("$$ID-0593f99f057f15dd5409de37f21fb471-a-b") == "a-b"
    assert streamlit_client.widget_key("$$ID-0593f99f057f15dd5409de37f21fb471-") is None
    assert streamlit_client.covered([(0, 1), (0.5, 2), (3, 4)]) == pytest.approx(3.0)
    assert streamlit_client.covered([(0, 2), (0.5, 1)]) == pytest.approx(2.0)


@pytest.mark.skipif(__import__("replicas").NGINX is None,
                    reason="no nginx binary: `apt-get install -y nginx` (scripts/install_system.sh does)")
def test_a_class_through_nginx_keeps_each_student_on_its_replica_and_survives_one_killed(capsys):
    """Eight students through Debian's nginx (deploy/nginx's config) in front of two replicas; the busiest replica
    is killed 12 s in. nginx's access log shows every student's requests on one replica, but for the killed
    replica's students, who move once to the other; they reconnect (as the page does) with their view (page,
    address, label) restored, and nobody meets an error. The seconds are printed, not asserted."""
    r = classroom.main(["--replicas", "2", "--kill-at", "12", "--students", "8", "--seconds", "28", "--think", "1.5",
                        "4", "--ramp", "4"])
    aff = r["affinity"]
    assert not r["errors"], r["errors"]
    assert not aff["wandered"] and not aff["unseen"], aff
    assert aff["stayed"] + aff["moved"] == 8 and sum(aff["per_replica"].values()) == 8
    back = r["reconnects"]
    assert aff["moved"] == len(back) >= 1, (aff, back)  # everyone on the killed replica, and only they
    assert all(x["error"] is None and x["since_kill"] > 0 for x in back), back
    assert r["actions"] > 8 and r["kinds"]["reconnect"]["n"] == len(back)
    out = capsys.readouterr().out
    assert "A replica was killed" in out and "stayed on their replica" in out
