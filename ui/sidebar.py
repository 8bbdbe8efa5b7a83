"""The sidebar every page shares: lecture mode, the image slots (bundled photos or uploads, two or
four, swappable), the device in use and the model that serves CAMs."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

import mixviz
from mixviz.imaging import READABLE
from mixviz.samples import PHOTOS, samples

from .images import contact_sheet, thumbnail
from .models import model
from .uploads import add_upload, has_upload

DEFAULTS = ("cat", "dog", "panda", "koala")


@dataclass(frozen=True)
class Inputs:
    """The four slots' image keys and names; slots past `filled` hold the default photos."""

    keys: tuple[str, ...]
    names: tuple[str, ...]
    filled: int
    lecture: bool

    def first(self, k: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.keys[:k], self.names[:k]


def _name(key: str, uploads: dict[str, str]) -> str:
    """A slot's display name: the photo's name, or the uploaded file's name (`uploads`: key -> name)."""
    if key.startswith("sample:"):
        return key.removeprefix("sample:")
    return uploads.get(key, "upload")


@st.dialog("The sample photos: sources and licences", width="large")
def _licences() -> None:
    """assets/photos/SOURCES.md, and the licence texts some photos need, shown in the app itself."""
    st.markdown((PHOTOS / "SOURCES.md").read_text(encoding="utf-8"))
    for text in sorted((PHOTOS / "licenses").glob("*")):
        with st.expander(text.name):
            st.text(text.read_text(encoding="utf-8", errors="replace"))


def _swap(i: int, j: int) -> None:
    ss = st.session_state
    ss[f"slot{i}"], ss[f"slot{j}"] = ss[f"slot{j}"], ss[f"slot{i}"]


def _uploads(filled: int) -> list[str]:
    """Keys of this session's valid uploads; new ones go into the slots in turn; bad ones are explained.
    Each file is decoded once: later reruns find its key, or its error, by the uploader's file id."""
    ss = st.session_state
    ss.setdefault("upload_names", {})
    ss.setdefault("next_slot", 0)
    seen = ss.setdefault("upload_seen", {})  # file id -> key, or the reason the file cannot be used
    files = st.file_uploader("Upload images (they fill the slots in turn)", accept_multiple_files=True,
                             key="uploads", help=f"{READABLE}; kept in memory only")
    keys = []
    for f in files or []:
        known = seen.get(f.file_id)
        if known is None or (known.startswith("upload:") and not has_upload(known)):
            try:
                known = add_upload(f.getvalue())
            except mixviz.ImageError as e:
                known = str(e)
            seen[f.file_id] = known
        if not known.startswith("upload:"):
            st.error(f"**{f.name}** cannot be used: {known}")
            continue
        keys.append(known)
        if known not in ss["upload_names"]:
            ss["upload_names"][known] = f.name.rsplit(".", 1)[0] or f.name
            ss.setdefault("upload_files", {})[known] = f.name
            ss[f"slot{ss['next_slot'] % filled}"] = known
            ss["next_slot"] += 1
    live = {f.file_id for f in files or []}
    for gone in set(seen) - live:  # removed from the uploader: forget it
        del seen[gone]
    return keys


def sidebar() -> Inputs:
    """Draw the shared sidebar and return the chosen inputs."""
    ss = st.session_state
    with st.sidebar:
        st.markdown("**mixviz** shows what image-mixing data augmentation does to pictures and labels.")
        lecture = st.toggle("Lecture mode", key="lecture", help="bigger text and figures, fewer controls")
        filled = st.radio("Image slots", (2, 4), horizontal=True, key="n_slots")
        for i, name in enumerate(DEFAULTS):
            ss.setdefault(f"slot{i}", f"sample:{name}")
        uploads = _uploads(filled)
        options = [f"sample:{n}" for n in samples()] + uploads
        for i in range(4):
            if ss[f"slot{i}"] not in options:  # an upload that was removed
                ss[f"slot{i}"] = f"sample:{DEFAULTS[i]}"
        for i in range(filled):
            thumb, pick = st.columns((1, 3), vertical_alignment="center")
            pick.selectbox(f"Slot {i + 1}", options, key=f"slot{i}",
                           format_func=partial(_name, uploads=ss["upload_names"]))  # works outside the run too
            try:
                thumb.image(thumbnail(ss[f"slot{i}"]))
            except mixviz.ImageError as e:
                pick.error(str(e))
        swaps = st.columns(filled // 2)
        for n, col in enumerate(swaps):
            col.button(f"Swap {2 * n + 1} ↔ {2 * n + 2}", on_click=_swap, args=(2 * n, 2 * n + 1),
                       key=f"swap{n}", width="stretch")
        with st.expander("Sample photos and their licences"):
            photos = samples()
            st.image(contact_sheet(tuple(photos)), width="stretch")
            st.caption("  \n".join(f"**{n}**: {s.attribution}" for n, s in photos.items()))
            if st.button("Where each photo comes from, and its licence", key="licences", width="stretch"):
                _licences()
        st.divider()
        st.caption(f"Device: **{mixviz.pick_device()}**")
        m = model()
        if m.notice:
            st.caption(f"CAMs and maps from **{m.title}**, the offline fallback: pretrained Xception is not on "
                       "this server.")
        else:
            st.caption(f"CAMs and maps from **{m.title}** (weights: {m.source}).")
    keys = tuple(ss[f"slot{i}"] for i in range(filled)) + tuple(f"sample:{n}" for n in DEFAULTS[filled:])
    # a formula wider than its column scrolls instead of being cut off; lecture mode enlarges everything
    st.html("<style>.katex-display { overflow-x: auto; overflow-y: hidden; }"
            + ("html { font-size: 20px; } .katex { font-size: 1.15em; }"
               " [data-testid='stMainBlockContainer'] { padding: 3.2rem 1.2rem 1rem 1.2rem; }"  # the width for figures;
               # captions, tables and inline code at 1rem too
               " [data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p, [data-testid='stTable'] "
               ":is(th, td), [data-testid='stMarkdownContainer'] :is(p, li) > code { font-size: 1rem; }"
               if lecture else "") + "</style>")
    return Inputs(keys, tuple(_name(k, ss["upload_names"]) for k in keys), filled, lecture)


def current() -> Inputs:
    """The inputs chosen in the sidebar on this run (app.py draws it before the page runs)."""
    return st.session_state["_inputs"]
