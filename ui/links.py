"""Links that reproduce a picture. The address holds every Mixing Lab control: `method`, `img` (the bundled
photos' names, one per slot, comma-separated), `slots` (2 or 4), `seed`, `lam` (absent when λ is drawn),
`alpha`, `eps`, `lecture` (1) and each method parameter by its own name (a centre as "y,x"); the Lecture page's
`step` (a step's slug, ui/lecture_steps.py).

`restore` reads a link once per session, before the sidebar draws, into the state the controls start from;
each bad value is named in one message and its control keeps its default. `publish` writes the controls back
into the address after each run of the Mixing Lab. Streamlit's own binding (bind="query-params") drops a bad
value silently, and a link must say what it could not use, so the reading is done here."""
from __future__ import annotations

import streamlit as st

import mixviz
from mixviz.samples import samples
from mixviz.types import MethodSpec

from .controls import SEED_MAX, shared_key
from .lecture_steps import BY_SLUG

COMMON = ("method", "img", "slots", "seed", "lam", "alpha", "eps", "lecture", "step", "code", "host")  # code, host: the Poll page
EPS_MAX = 0.3
PAGE_PATHS = ("mixing_lab", "lecture", "gallery", "cam_explorer", "saliency", "theory", "poll", "tta", "texture")  # app.py's url paths


def _number(text: str, kind=float):
    value = kind(text)
    if value != value:  # NaN
        raise ValueError
    return value


def _read_common(q: dict, ss, problems: list[str]) -> None:
    """slots, img, lecture, seed, lam, alpha, eps into the session state (bad ones named in `problems`)."""
    def bad(name: str, why: str) -> None:
        problems.append(f"`{name}={q[name]}`: {why}")

    if "slots" in q:
        if q["slots"] in ("2", "4"):
            ss["n_slots"] = int(q["slots"])
        else:
            bad("slots", "there are 2 or 4 image slots")
    if "img" in q:
        names, known = q["img"].split(","), samples()
        unknown = [n for n in names if n not in known]
        if unknown or len(names) > 4:
            bad("img", f"no bundled photo {unknown[0]!r} (the photos: {', '.join(known)})" if unknown
                else "at most 4 photos, one per slot")
        else:
            for i, name in enumerate(names):
                ss[f"slot{i}"] = f"sample:{name}"
            ss.setdefault("n_slots", 4 if len(names) > 2 else 2)
    if "lecture" in q:
        ss["lecture"] = q["lecture"] in ("1", "true")
    if "step" in q:
        if q["step"] in BY_SLUG:
            ss["lec_step"] = q["step"]
        else:
            bad("step", f"no such lecture step (the steps: {', '.join(BY_SLUG)})")
    for name, kind, lo, hi in (("seed", int, 0, SEED_MAX), ("lam", float, 0.0, 1.0), ("alpha", float, 0.1, 5.0),
                               ("eps", float, 0.0, EPS_MAX)):
        if name not in q:
            continue
        try:
            value = _number(q[name], kind)
            if not lo <= value <= hi:
                raise ValueError
        except ValueError:
            bad(name, f"{name} must be {'a whole number' if kind is int else 'a number'} in [{lo:g}, {hi:g}]")
            continue
        if name == "lam":
            ss[shared_key("lam")], ss[shared_key("fix")] = value, True
        elif name == "seed":
            ss[shared_key(name)] = value
        elif name == "alpha":
            ss["_link_alpha"] = value  # the method's α: the method is read next
        else:
            ss["lab_eps"] = value


def _read_method(q: dict, ss, problems: list[str]) -> MethodSpec | None:
    """method and its parameters into the Mixing Lab's state; a link with a method and no λ draws λ."""
    if "method" not in q:
        return None
    spec = mixviz.METHODS.get(q["method"])
    if spec is None:
        problems.append(f"`method={q['method']}`: no such method (the methods: {', '.join(mixviz.METHODS)})")
        return None
    ss["lab_family"], ss["lab_method"] = spec.family, spec.name
    if "_link_alpha" in ss:
        ss[f"lab_alpha_of_{spec.name}"] = ss.pop("_link_alpha")
    if spec.uses_lam and "lam" not in q:
        ss[shared_key("fix")] = False
    for p in spec.params:
        if p.name not in q:
            continue
        text = q[p.name]
        try:
            raw = (tuple(text.split(",")) if p.kind == "point" else {"true": True, "false": False}.get(text, text)
                   if p.kind == "bool" else text)
            if p.kind == "choice":
                raw = next((c for c in p.choices if str(c) == text), text)
            value = p.validate(raw, spec.name)
        except mixviz.MixError as e:
            problems.append(f"`{p.name}={text}`: {e}")
            continue
        key = f"lab_{spec.name}_{p.name}"
        if p.kind == "point":
            ss[f"{key}_fixed"], ss[f"{key}_y"], ss[f"{key}_x"] = True, value[0], value[1]
        else:
            ss[key] = value
    return spec


def restore() -> None:
    """Read the address into the controls' starting state, once per session (a reload is a new session)."""
    ss = st.session_state
    if ss.get("_link_read"):
        return
    ss["_link_read"] = True
    q = {k: st.query_params.get(k) for k in st.query_params}
    problems: list[str] = []
    _read_common(q, ss, problems)
    spec = _read_method(q, ss, problems)
    known = set(COMMON) | {p.name for p in (spec.params if spec else ())}
    problems += [f"`{k}`: not a control of this page" for k in q if k not in known]
    ss["_link_problems"] = problems


def show_problems() -> None:
    """The one message that names what a link could not use (once, on the run that read it)."""
    problems = st.session_state.pop("_link_problems", None)
    if problems:
        st.warning("This link has values the app cannot use; those controls start at their defaults:  \n"
                   + "  \n".join(f"- {p}" for p in problems))


def link_params(method: str, keys: tuple[str, ...], filled: int, seed: int, lam: float | None, alpha: float | None,
                eps: float, lecture: bool, params: dict) -> tuple[dict, bool]:
    """The address of this picture as query parameters, and whether an uploaded image is left out of it."""
    spec = mixviz.METHODS[method]
    photos = [k.removeprefix("sample:") if k.startswith("sample:") else None for k in keys[:filled]]
    uploads = any(p is None for p in photos[:spec.n_inputs])
    q = {"method": method, "img": None if uploads else ",".join(photos), "slots": str(filled), "seed": str(seed)}
    if lam is not None:
        q["lam"] = f"{lam:g}"
    if alpha is not None:
        q["alpha"] = f"{alpha:g}"
    if eps:
        q["eps"] = f"{eps:g}"
    if lecture:
        q["lecture"] = "1"
    for p in spec.params:
        value = params.get(p.name, p.default)
        if value != p.default:
            q[p.name] = ",".join(f"{v:.4g}" for v in value) if p.kind == "point" else str(value).lower() \
                if p.kind == "bool" else f"{value:g}" if p.kind == "float" else str(value)
    return {k: v for k, v in q.items() if v is not None}, uploads


def publish(q: dict) -> None:
    """Put `q` in the address bar (only when it changed: each write is a message to the browser)."""
    if {k: st.query_params.get(k) for k in st.query_params} != q:
        st.query_params.from_dict(q)


def page_url(path: str, q: dict) -> str:
    """The full address of the page `path` (its url path) with the query `q`, on the server this session reached."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    here = urlsplit(st.context.url or "http://localhost:8501/")
    head, _, last = here.path.rstrip("/").rpartition("/")
    base = head if last in PAGE_PATHS else here.path.rstrip("/")  # the server's base path, without this page's own
    return urlunsplit((here.scheme, here.netloc, f"{base}/{path}", urlencode(q, safe=","), ""))


def link_box(q: dict, uploads: bool) -> None:
    """The link to this picture, with streamlit's copy button, and what it cannot carry."""
    from urllib.parse import urlencode

    base = (st.context.url or "").split("?")[0]
    st.code(f"{base}?{urlencode(q, safe=',')}", language=None, wrap_lines=True)
    if uploads:
        st.caption("This picture uses an uploaded image, which a link cannot carry: the link opens the default "
                   "photos in its place.")
