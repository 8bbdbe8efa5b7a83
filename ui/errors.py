"""The app's one error boundary. Every section of every page runs inside `errors_shown(what)`, as a
decorator on the section's function or as a `with` block: a MixError or ImageError (a refused input, a
method's limits: their messages are written for the user) becomes an st.error with its text; any other
exception is a bug, and becomes a short st.error that says so, while its traceback goes to the server log
(logger "mixviz.app"), never to the page. Either way the rest of the page goes on: the sidebar, drawn
before the page, and the sections after the failed one. st.stop and st.rerun pass through (they are no
Exception)."""
from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st

from mixviz.types import ImageError, MixError

LOG = logging.getLogger("mixviz.app")


@contextmanager
def errors_shown(what: str):
    """Run a section of a page, named `what` ("The CAM overlay") in its messages. Also a decorator:
    `@errors_shown("The gallery")` on a section's function (which then returns None when it failed)."""
    try:
        yield
    except (MixError, ImageError) as e:
        st.error(f"{what}: {e}")
    except Exception:  # noqa: BLE001 - a page must never show a traceback
        LOG.exception("%s failed", what)
        st.error(f"{what} could not be drawn (a bug: the details are in the server log).")
