"""Poll: ask the room what it sees in a mix, live (Human-in-the-Loop Mixup, Collins et al., UAI 2023: 159 people's
judgements of mixup images did not match the labels the method gives them).

    /poll                       the join box, and the lecturer's polls
    /poll?code=ABCDE            a student's page (phone-sized): the picture without its label, the shares they see
    /poll?code=ABCDE&host=1     the lecturer's page: join code and QR, the answers live, label, network, KL, controls

A poll is opened from the Mixing Lab or a lecture step ("Ask the room"), which fixes its picture, label and the
network's prediction (ui/poll.py). Answers live in the poll database (ui/poll_store.py): SQLite by default,
PostgreSQL when replicas share a class, so any replica shows every answer."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import numpy as np
import streamlit as st

from mixviz.agreement import divergences, room_summary
from mixviz.viz.charts import poll_chart, poll_histogram
from ui import poll as polls
from ui.errors import LOG
from ui.poll_store import PollError, UnknownPoll
from ui.student_id import student_id

LIVE_EVERY = 1.0     # s: the lecturer's view asks the database this often (an answer shows within 2 s)
STUDENT_EVERY = 5.0  # s: a student's page asks whether the poll closed or was revealed (a hundred students at 2 s
#                      made 43 reruns a second, nearly all a class's work: bench/classroom.py --poll)
CONFIDENCE = {1: "guessing", 2: "unsure", 3: "fairly sure", 4: "sure", 5: "certain"}
PHONE = """<style>
[data-testid="stMainBlockContainer"] { padding: 3.5rem 0.8rem 2rem 0.8rem; max-width: 34rem; }
[data-testid="stMain"] button { min-height: 3rem; font-size: 1.1rem; }
[data-testid="stSlider"] { padding: 0 0.6rem; }
</style>"""


def page() -> st.Page:
    """The Poll page, for app.py's navigation and for links and switches to it from other pages."""
    return st.Page(render, title="Poll", icon=":material/how_to_vote:", url_path=polls.PAGE)


def is_student_view() -> bool:
    """A join link (?code= without host): app.py then hides the navigation and the sidebar, as on a phone."""
    return "code" in st.query_params and "host" not in st.query_params


def render() -> None:
    code = st.query_params.get("code")
    with database("The poll"):
        if code and "host" in st.query_params:
            lecturer(code)
        elif code:
            student(code)
        else:
            lobby()


@contextmanager
def database(what: str):
    """A refused input or action (PollError) as its own message; the database not answering as one sentence;
    anything else as the app's bug message, its traceback in the server log."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except PollError as e:
        st.error(str(e), icon=":material/block:")
    except SQLAlchemyError:
        LOG.exception("%s: the poll database failed", what)
        st.error(f"{what}: the poll database did not answer. Try again in a moment; if it goes on, the server's log "
                 "says why.", icon=":material/cloud_off:")
    except Exception:  # noqa: BLE001 - a page must never show a traceback
        LOG.exception("%s failed", what)
        st.error(f"{what} could not be drawn (a bug: the details are in the server log).")


# ---------------------------------------------------------------------------------------------------- the lobby
def lobby() -> None:
    st.title("Poll")
    st.caption("A lecturer opens a poll on a mix from the Mixing Lab or a lecture step (\"Ask the room\"); the room "
               "joins with its code or QR code and says how much of each class it sees in the picture.")
    join_box()
    st.divider()
    st.subheader("For the lecturer")
    where = polls.store().backend
    st.caption(f"Answers are stored in {'PostgreSQL' if where == 'postgresql' else 'SQLite (a file on this server)'}.")
    token = polls.token_form("poll_lobby")
    if not token:
        return
    mine = polls.store().polls(token)
    if not mine:
        st.info("No poll yet. Open one from the Mixing Lab or a lecture step: \"Ask the room\" under the picture.")
    for p in mine:
        when = datetime.fromtimestamp(p.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        state = "open" if p.is_open else "closed"
        st.page_link(page(), label=f"{p.code}: {p.title} ({', '.join(p.classes)}), {when}, {state}",
                     query_params={"code": p.code, "host": "1"}, icon=":material/how_to_vote:")


def join_box() -> None:
    """A box for a poll's code (a student who typed the link wrong gets one under the message)."""
    with st.form("poll_join", border=False):
        given = st.text_input("Join a poll: its code", max_chars=8, placeholder="ABCDE", key="poll_join_code")
        if st.form_submit_button("Join", type="primary", icon=":material/login:"):
            code = given.strip().upper()
            polls.store().poll(code)  # UnknownPoll says which code is unknown
            st.query_params.from_dict({"code": code})
            st.rerun()


# --------------------------------------------------------------------------------------------------- a student
def student(code: str) -> None:
    st.html(PHONE)
    try:
        p = polls.poll(code)
    except UnknownPoll as e:
        st.error(str(e), icon=":material/block:")
        join_box()
        return
    me, from_cookie = student_id()
    st.markdown(f"#### Poll {p.code}")
    st.image(p.image, width="stretch", output_format="JPEG")
    status(code, p.is_open)
    if not p.is_open:
        return
    held = f"_poll_{code}_mine"  # this student's answer, read once per session and kept when saved (not per slider move)
    if held not in st.session_state:
        st.session_state[held] = polls.store().my_answer(code, me)
    mine = st.session_state[held]
    st.markdown("**How much of each do you see in this picture?**")
    values = []
    for k, name in enumerate(p.classes):
        start = round(100 * mine.shares[k]) if mine else 0
        values.append(st.slider(name, 0, 100, start, step=5, format="%d%%", key=f"poll_{code}_share{k}"))
    rest = 100 - sum(values)
    if rest >= 0:
        st.markdown(f"Neither, something else: **{rest}%**")
    else:
        st.warning(f"Your shares add up to {sum(values)}%: lower one so that they make 100%.")
    sure = st.segmented_control("How sure are you?", list(CONFIDENCE), format_func=CONFIDENCE.get,
                                default=mine.confidence if mine else 3, key=f"poll_{code}_sure", width="stretch")
    if st.button("Change my answer" if mine else "Send my answer", type="primary", width="stretch",
                 key=f"poll_{code}_send", icon=":material/send:", disabled=rest < 0 or sure is None):
        shares = [v / 100 for v in values] + [rest / 100]
        saved = polls.store().answer(code, me, shares, int(sure))
        st.session_state[held] = saved
        st.session_state[f"_poll_{code}_saved"] = saved.updated_at
        st.rerun()  # the button then says "Change my answer"
    saved = st.session_state.get(f"_poll_{code}_saved") or (mine.updated_at if mine else None)
    if saved:
        at = datetime.fromtimestamp(saved, timezone.utc).strftime("%H:%M:%S UTC")
        st.success(f"Your answer is saved ({at}). You can change it until the poll closes.", icon=":material/check:")
    if not from_cookie:
        st.caption("This browser gave no student cookie: a reload counts as a new student.")


@st.fragment(run_every=STUDENT_EVERY)
def status(code: str, drawn_open: bool) -> None:
    """Whether the poll is open, and after the lecturer's reveal the method's label and the room's answers. A poll
    closed or reopened since the page drew its sliders (`drawn_open`) makes the whole page draw again."""
    with database("The poll's state"):
        p = polls.poll(code)
        if p.is_open != drawn_open:
            st.rerun()
        if not p.is_open:
            st.info("This poll is closed: answers are no longer taken.", icon=":material/lock:")
        if p.revealed:
            st.markdown("**Revealed:** the method's label for this picture: "
                        + ", ".join(f"{n} **{w:.2f}**" for n, w in zip([*p.classes, "something else"], p.label) if w > 0))
            s = room_summary(polls.results(code).shares, len(p.classes) + 1)
            if s.count:
                st.markdown(f"The room ({s.count} answer{'s' if s.count != 1 else ''}) saw: "
                            + ", ".join(f"{n} **{m:.2f}**" for n, m in zip([*p.classes, "something else"], s.mean)))


# ------------------------------------------------------------------------------------------------- the lecturer
def lecturer(code: str) -> None:
    token = polls.token_form("poll_host")
    if not token:
        return
    p = polls.store().poll(code)
    left, right = st.columns((2, 3), gap="large")
    with left:
        url = polls.join_url(p.code)
        st.markdown(f"### Join: **{p.code}**")
        st.image(polls.qr_png(url), width=260, caption=url)
        st.image(p.image, width="stretch", output_format="JPEG", caption=f"{p.title}: the picture the room sees")
        st.markdown(f"[This mix in the Mixing Lab]({p.link})")
    with right:
        live(code, p.classes, p.label, p.prediction, p.topk)
        controls(p, token)


@st.fragment(run_every=LIVE_EVERY)
def live(code: str, classes, label, prediction, topk) -> None:
    """The room's answers as they arrive (any replica's: they are read from the database every LIVE_EVERY s)."""
    with database("The live answers"):
        p = polls.poll(code)  # its state, as this server's sessions share it for a second (the lecturer's own
        r = polls.store().results(code)  # actions drop that copy); the answers, as the database has them now
        s = room_summary(r.shares, len(classes) + 1)
        shown = p.revealed or st.session_state.get("poll_host_key", False)
        state = "open" if p.is_open else "closed"
        st.markdown(f"### {r.count} answer{'s' if r.count != 1 else ''} · poll {state}"
                    + (" · revealed" if p.revealed else ""))
        st.plotly_chart(poll_chart(classes, s, label if shown else None, prediction if shown else None, big=True),
                        key="poll_host_chart", width="stretch")
        if r.count == 1:
            st.caption("One answer: the interval of the room's mean needs a second.")
        if r.count > 1:
            mean = ", ".join(f"{n} {m:.2f} [{lo:.2f}, {hi:.2f}]" for n, m, lo, hi in
                             zip([*classes, "something else"], s.mean, s.low, s.high))
            st.caption(f"The room's mean share with its 95% interval: {mean}. Mean confidence "
                       f"{np.mean(r.confidence):.1f} of 5.")
        if shown and r.count:
            d = divergences(s.mean, label, prediction)
            st.markdown("KL divergences (nats): " + " · ".join(f"{k} **{v:.3f}**" for k, v in d.items()))
            st.caption("Over these classes and \"something else\", the second distribution smoothed by 1% towards "
                       "uniform so that a zero share stays finite. The network's top-5 on the mix: "
                       + ", ".join(f"{n} {q:.2f}" for n, q in topk) + ".")
        with st.expander("How the answers spread"):
            st.plotly_chart(poll_histogram(classes, s), key="poll_host_hist", width="stretch")


def controls(p, token: str) -> None:
    """Close or reopen, reveal, clear and export: each one checks the token again in the store."""
    s, code = polls.store(), p.code
    st.toggle("Show me the label and the network before the reveal", key="poll_host_key",
              help="on this screen only; if it is the projector, the room sees them too")
    cols = st.columns(4)
    if cols[0].button("Close" if p.is_open else "Reopen", key="poll_host_close", width="stretch",
                      icon=":material/lock:" if p.is_open else ":material/lock_open:"):
        s.close(code, token) if p.is_open else s.reopen(code, token)
        polls.poll.clear()
        st.rerun()
    if cols[1].button("Hide again" if p.revealed else "Reveal", key="poll_host_reveal", width="stretch",
                      icon=":material/visibility:"):
        s.reveal(code, token, not p.revealed)
        polls.poll.clear()
        st.rerun()
    if cols[2].button("Clear", key="poll_host_clear", width="stretch", icon=":material/delete:"):
        st.session_state["_poll_confirm_clear"] = code
    cols[3].download_button("CSV", data=lambda: s.export_csv(code, token), file_name=f"poll-{code}.csv",
                            mime="text/csv", key="poll_host_csv", width="stretch", icon=":material/download:",
                            on_click="ignore")
    if st.session_state.get("_poll_confirm_clear") == code:
        st.warning("Delete every answer of this poll? This cannot be undone.")
        yes, no = st.columns(2)
        if yes.button("Delete them", key="poll_host_clear_yes", type="primary"):
            n = s.clear(code, token)
            st.session_state.pop("_poll_confirm_clear")
            st.toast(f"{n} answers deleted")
            st.rerun()
        if no.button("Keep them", key="poll_host_clear_no"):
            st.session_state.pop("_poll_confirm_clear")
            st.rerun()
    st.caption(f"Opened {datetime.fromtimestamp(p.created_at, timezone.utc):%Y-%m-%d %H:%M UTC}. Students are "
               "anonymous: a random id per browser, no name. The CSV has one row per answer, with the mix's link.")

