"""The glue of the class polls (views/poll.py): the store, the lecturer's token, the join link and its QR code,
and a poll's snapshot of the mix on screen (the picture, the method's label and the network's prediction, fixed
when the poll opens so that every replica shows the same)."""
from __future__ import annotations

import io
import os
from urllib.parse import urlencode

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from mixviz.agreement import over_classes
from mixviz.maps.cam import network_view

from .errors import LOG
from .jpeg import jpeg
from .links import page_url
from .models import default_class, model
from .poll_store import PollError, PollStore

PAGE = "poll"  # the Poll page's url path (app.py)
TOKEN_KEY = "_poll_token"  # the lecturer's token, once accepted, in this session only
STATE_TTL = 1.0  # seconds a poll's state is shared by the sessions of one server (students ask every 2 s)
TOKEN_SECRET = "mixviz_poll_token"  # the token's name in .streamlit/secrets.toml, where the environment has none
ENABLE = ("Polls are off on this server: no lecturer token is set. Set the environment variable `MIXVIZ_POLL_TOKEN` "
          f"(or `{TOKEN_SECRET}` in `.streamlit/secrets.toml`) to a secret of your choice and restart the app; "
          "then type that secret here to open, close, reveal, clear and export polls.")


def _configured_token() -> str | None:
    token = os.environ.get("MIXVIZ_POLL_TOKEN")
    if token:
        return token
    try:
        return st.secrets.get(TOKEN_SECRET) or None
    except Exception:  # no secrets file: streamlit raises rather than return nothing
        return None


@st.cache_resource(show_spinner=False)
def store() -> PollStore:
    """The one store of this server process (MIXVIZ_DATABASE_URL, else SQLite in MIXVIZ_DATA_DIR)."""
    env = dict(os.environ)
    token = _configured_token()
    if token:
        env["MIXVIZ_POLL_TOKEN"] = token
    return PollStore.from_env(env)


@st.cache_data(ttl=STATE_TTL, max_entries=64, show_spinner=False)
def poll(code: str):
    """The poll `code` as the store has it, shared by this server's sessions for STATE_TTL seconds."""
    return store().poll(code)


@st.cache_data(ttl=STATE_TTL, max_entries=64, show_spinner=False)
def results(code: str):
    return store().results(code)


def token() -> str | None:
    """The lecturer's token if this session gave one that the store accepted."""
    return st.session_state.get(TOKEN_KEY)


def token_form(key: str) -> str | None:
    """The lecturer's token: asked for once per session and checked; None until it is right."""
    if token() and f"{key}_token" not in st.session_state:
        # the field is drawn again holding the accepted token, so that a page moved to another replica (its session
        # new there) sends it back with its widgets and the lecturer's page comes back live, not asking for it
        st.session_state[f"{key}_token"] = token()
    if not _configured_token():  # said before the database is opened: a server without polls never creates one
        st.info(ENABLE, icon=":material/lock:")
        return None
    s = store()
    given = st.text_input("Lecturer's token", type="password", key=f"{key}_token",
                          help="the secret set in MIXVIZ_POLL_TOKEN on the server; kept in this browser tab only")
    if given and given == token():
        return given
    if given:
        try:
            s.check_token(given)
        except PollError as e:
            st.error(str(e), icon=":material/block:")
            return None
        st.session_state[TOKEN_KEY] = given
        return given
    return None


def join_url(code: str) -> str:
    """The address a student opens: this server's Poll page with the code. MIXVIZ_PUBLIC_URL, where set, is the
    address students reach the app at (for a server behind a proxy that rewrites the host)."""
    public = os.environ.get("MIXVIZ_PUBLIC_URL")
    if public:
        return f"{public.rstrip('/')}/{PAGE}?{urlencode({'code': code})}"
    return page_url(PAGE, {"code": code})


@st.cache_data(max_entries=32, show_spinner=False)
def qr_png(url: str) -> bytes:
    """The QR code of `url` as a PNG (segno: pure Python, ISO/IEC 18004)."""
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=10, border=2)
    return buf.getvalue()


def snapshot(r, x, keys, names, classes, link: str, title: str) -> dict:
    """What a poll fixes of the mix `r` of `x`: the picture, the classes it asks about, the method's label over
    them and the network's probability of each (the arguments of PollStore.open_poll, but the token). A bundled
    photo's class is its name (boat, airplane, …); an upload's is the ImageNet class the network sees in it."""
    net = model()
    seen = network_view(net, r, x, input_classes=classes or [default_class(key, tuple(x.shape[2:])) for key in keys])
    shown = [name if key.startswith("sample:") else v.class_name for key, name, v in zip(keys, names, seen.inputs)]
    poll_classes, label = over_classes(shown, r.weights.cpu().tolist())
    prediction, counted = [0.0] * len(poll_classes), set()
    for name, v in zip(shown, seen.inputs):
        if v.class_index not in counted:  # two inputs that stand for one ImageNet class count its probability once
            counted.add(v.class_index)
            prediction[poll_classes.index(name)] += v.predicted
    prediction.append(max(0.0, 1.0 - sum(prediction)))
    return dict(link=link, title=title, classes=poll_classes, label=label, prediction=tuple(prediction),
                topk=tuple((p.name, float(p.probability)) for p in seen.topk), image=jpeg(r.image))


def ask_the_room(make_snapshot, key: str) -> str | None:
    """The lecturer's "ask the room" box under a mix: the token, then a button that opens a poll on the picture
    (`make_snapshot()` gives it). Returns the new poll's code on the run that opened it."""
    with st.expander("Ask the room: a live poll on this picture", icon=":material/how_to_vote:"):
        st.caption("Students see this picture on their phones, without its label, and say how much of each class "
                   "they see; you see their answers beside the method's label and the network's prediction "
                   "(Human-in-the-Loop Mixup, Collins et al., UAI 2023).")
        try:
            given = token_form(key)
        except (PollError, SQLAlchemyError, OSError) as e:  # a data directory not writable, a database not answering
            LOG.warning("the poll database cannot be opened: %s", e)
            st.warning(f"Polls are unavailable: the poll database cannot be opened ({type(e).__name__}; the server's "
                       "log says more). Check MIXVIZ_DATA_DIR or MIXVIZ_DATABASE_URL.", icon=":material/cloud_off:")
            return None
        if not given:
            return None
        if st.button("Open a poll on this picture", key=f"{key}_open", type="primary", icon=":material/how_to_vote:"):
            try:
                return store().open_poll(given, **make_snapshot()).code
            except PollError as e:
                st.error(str(e))
            except SQLAlchemyError as e:
                LOG.warning("the poll database failed: %s", e)
                st.error("The poll database did not answer: try again in a moment.", icon=":material/cloud_off:")
    return None
