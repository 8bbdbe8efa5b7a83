"""The app's one error boundary (ui/errors.py), through streamlit's AppTest: a MixError or ImageError is
its own message, anything else a short message that names no detail while the traceback goes to the
server log, and either way the sections after the failed one and st.stop behave as without it."""
import logging

from streamlit.testing.v1 import AppTest


def page():
    import streamlit as st

    import mixviz
    from ui.errors import errors_shown

    st.sidebar.write("sidebar")

    @errors_shown("The refused section")
    def refused():
        st.write("before")
        raise mixviz.ImageError("this photo is too small")

    @errors_shown("The buggy section")
    def buggy():
        raise RuntimeError("secret detail in /srv/app")

    assert refused() is None
    buggy()
    with errors_shown("The last section"):
        st.write("after")
    if st.session_state.get("stop"):
        with errors_shown("A stopping section"):
            st.stop()
        st.write("not reached")


def test_errors_become_messages_and_the_rest_of_the_page_goes_on(caplog):
    at = AppTest.from_function(page, default_timeout=60)
    with caplog.at_level(logging.ERROR, logger="mixviz.app"):
        at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The refused section: this photo is too small",
        "The buggy section could not be drawn (a bug: the details are in the server log)."]
    assert [m.value for m in at.main.markdown] == ["before", "after"] and at.sidebar.markdown[0].value == "sidebar"
    logged = [r for r in caplog.records if r.name == "mixviz.app"]
    assert len(logged) == 1 and "The buggy section failed" in logged[0].getMessage()
    assert "secret detail" in caplog.text  # with its traceback, in the log only


def test_st_stop_passes_through_the_boundary():
    at = AppTest.from_function(page, default_timeout=60)
    at.session_state["stop"] = True
    at.run()
    assert not at.exception
    assert "not reached" not in [m.value for m in at.main.markdown] and len(at.error) == 2
