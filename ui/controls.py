"""The controls several pages show, one function each, so that they look, read and behave the same
everywhere: the seed and its re-roll, the fix-λ toggle, the λ and α sliders, a PNG download, the photo
credits, the model notice, the image-slot select and the class select of a class map. Widget keys are
built from the page's prefix ("lab", "gal", "sal", "theory"): f"{prefix}_seed", f"{prefix}_lam", …"""
from __future__ import annotations

import io
from typing import Callable

import streamlit as st

from mixviz.maps.cam import CamResult

from . import models
from .images import credit

SEED_MAX = 2**31 - 1


def shared_key(name: str) -> str:
    """Where the state every page shares is kept ("seed", "lam", "fix"): one seed and one λ for the Mixing Lab,
    the Gallery and the Saliency page, kept while their widgets are not drawn (another page, λ drawn)."""
    return f"shared_{name}"


def _shared(key: str, name: str, default) -> None:
    """Start widget `key` at the shared value (or `default`) when the widget is new on this run."""
    ss = st.session_state
    if key not in ss:
        ss[key] = ss.get(shared_key(name), default)


def seed(prefix: str, label: str = "Seed", *, reroll: bool = True, beside=None, max_value: int = SEED_MAX,
         share: bool = True) -> int:
    """A seed (key f"{prefix}_seed", 0 at first; with `share`, the seed every page shares) and, with `reroll`, a
    Re-roll button (f"{prefix}_reroll") that adds one: under the seed across the column, or in `beside`."""
    ss = st.session_state
    key = f"{prefix}_seed"
    if share:
        _shared(key, "seed", 0)
    value = st.number_input(label, 0, max_value, "min", 1, key=key)
    if reroll:
        place = beside if beside is not None else st
        place.button("Re-roll", key=f"{prefix}_reroll", icon=":material/casino:",
                     width="content" if beside is not None else "stretch",
                     on_click=lambda: ss.update({key: (ss[key] + 1) % (max_value + 1)}))
    if share:
        ss[shared_key("seed")] = int(value)
    return int(value)


def fix_lam(prefix: str, help: str | None = None) -> bool:
    """The "Fix λ" toggle (key f"{prefix}_fix", on at first, shared by every page): off, λ is drawn with the
    seed; on again, λ is where it was."""
    key = f"{prefix}_fix"
    _shared(key, "fix", True)
    fixed = st.toggle("Fix λ", key=key, help=help)
    st.session_state[shared_key("fix")] = fixed
    return fixed


def lam_slider(prefix: str, label: str = "λ", value: float = 0.5) -> float:
    """λ from 0 to 1 in steps of 0.01 (key f"{prefix}_lam"), the λ every page shares (`value` before any)."""
    key = f"{prefix}_lam"
    _shared(key, "lam", value)
    lam = st.slider(label, 0.0, 1.0, step=0.01, key=key)
    st.session_state[shared_key("lam")] = lam
    return lam


def alpha_slider(prefix: str, value: float | None = None, help: str | None = None) -> float:
    """α of Beta(α, α) from 0.1 to 5 (key f"{prefix}_alpha"). `value` None: the page sets it in the
    session state (the Mixing Lab starts each method at its authors' α)."""
    start = {} if value is None else {"value": value}
    return st.slider("α of Beta(α, α)", 0.1, 5.0, step=0.1, key=f"{prefix}_alpha", help=help, **start)


def lecture_widgets() -> None:
    """Lecture mode on a page whose widgets have room: their labels, options and values at 1rem (20 px), not
    streamlit's 0.875rem (not app-wide: some narrow buttons, the Gallery's Re-roll, would cut their text)."""
    st.html("<style>[data-testid='stMain'] :is([data-testid='stMarkdownContainer'] p, input), "
            "[data-testid='stSelectboxVirtualDropdown'] [role='option'] { font-size: 1rem; }</style>")


def png_download(label: str, figure: Callable, file_name: str, key: str) -> None:
    """A button that downloads `figure()` (a matplotlib Figure, drawn only when the button is pressed) as a
    150-dpi PNG; pressing it does not rerun the page."""
    def png() -> bytes:
        buf = io.BytesIO()
        figure().savefig(buf, format="png", dpi=150)
        return buf.getvalue()

    st.download_button(label, data=png, file_name=file_name, mime="image/png", key=key, on_click="ignore")


def photo_credits(keys: tuple[str, ...] | list[str]) -> None:
    """The attribution of every bundled photo among `keys`, each once, in one caption (none for uploads)."""
    shown = [c for c in dict.fromkeys(credit(k) for k in keys) if c]
    if shown:
        st.caption(("Photo: " if len(keys) == 1 else "Photos: ") + "; ".join(shown))


def model_notice() -> None:
    """The serving model's notice (why pretrained Xception is not here), when it has one: one line on the page
    (a projector has no room for a paragraph on every model page), the whole notice in its tooltip."""
    m = models.model()
    if m.notice:
        st.caption(f":material/info: Maps from {m.title}: no Xception weights on this server", help=m.notice)


def pick_slot(inputs, key: str, label: str = "Image", on_change=None) -> int:
    """A select of the sidebar's filled slots (0-based index); a slot that was emptied falls back to 1.
    The value is written back on every run, so that the browser redraws the option's text when the slot's
    photo changed (streamlit otherwise keeps showing the old name: streamlit/streamlit#13788)."""
    chosen = st.session_state.get(key, 0)
    st.session_state[key] = chosen if chosen < inputs.filled else 0
    return st.selectbox(label, range(inputs.filled), key=key, on_change=on_change,
                        format_func=lambda i: f"slot {i + 1}: {inputs.names[i]}")


def class_choice(prefix: str, key: str, base: CamResult, horizontal: bool = True, label: str = "Class") -> int:
    """The class a page's class maps are for: a searchable select of every ImageNet class (widget
    f"{prefix}_class") that starts at the photo's own class (an upload's: the top prediction, `base`'s
    class) and starts there again when the image changes, with the network's top 5 as a radio of
    shortcuts (f"{prefix}_rank", empty while the class is outside them)."""
    ss = st.session_state
    classes = models.model().classes
    own = models.own_class(key)
    choice, rank, owner = f"{prefix}_class", f"{prefix}_rank", f"{prefix}_class_image"
    if choice not in ss or ss.get(owner) != key:
        ss[choice], ss[owner] = (base.class_index if own is None else own), key
    top = [p.index for p in base.topk]
    ss[rank] = top.index(ss[choice]) if ss[choice] in top else None

    def shortcut():
        if ss[rank] is not None:
            ss[choice] = top[ss[rank]]

    st.radio(f"The network's top {len(top)}", range(len(top)), key=rank, horizontal=horizontal, on_change=shortcut,
             format_func=lambda i: f"{base.topk[i].name} ({base.topk[i].probability:.0%})")
    return st.selectbox(label, range(len(classes)), key=choice, format_func=lambda c: f"{classes[c]} ({c})",
                        help="any ImageNet class; it starts at " + ("the photo's own class" if own is not None
                             else "the network's top prediction, since an upload has no label"))
