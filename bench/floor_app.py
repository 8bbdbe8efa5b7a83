"""A bare Streamlit page for bench/floor.py: one slider in a fragment and FLOOR_ELEMENTS markdown lines under
it that follow its value, the garbage collector's startup objects frozen as the app freezes them
(ui/tuning.py). What a fragment rerun costs streamlit itself, with no work of the page's own."""
import os

import streamlit as st

from ui.tuning import freeze_startup_objects

N = int(os.environ.get("FLOOR_ELEMENTS", "0"))


@st.cache_resource
def _frozen() -> bool:
    freeze_startup_objects()
    return True


_frozen()
st.title("A bare fragment")


@st.fragment
def body() -> None:
    v = st.slider("value", 0, 1000, 500, key="floor_value")
    st.markdown(f"value {v}")
    for i in range(N):
        st.markdown(f"line {i}: {v}")


body()
