"""An anonymous id per browser, for one answer per student per poll (views/poll.py): a random cookie, nothing else.

`StudentCookie` (an ASGI middleware, installed by asgi.py) gives every browser that has none a `mixviz_student`
cookie on its first page load: 22 random URL-safe characters, HttpOnly, for a year. The page's websocket then
carries it, and `student_id()` reads it from `st.context.cookies`. No name, address or login is ever asked or
stored; the id only ties a browser's answers together, so that changing an answer replaces it.

A server without the middleware (`streamlit run app.py`, AppTest) has no such cookie: the id is then drawn once
per session and kept in its state, which makes a reload a new student; the page says so."""
from __future__ import annotations

import re
import secrets

COOKIE = "mixviz_student"
MAX_AGE = 365 * 24 * 3600
_VALID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_id() -> str:
    return secrets.token_urlsafe(16)


class StudentCookie:
    """ASGI middleware: an HTTP response to a request without a valid `mixviz_student` cookie sets one."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _valid(_cookie(scope)):
            return await self.app(scope, receive, send)
        header = (f"{COOKIE}={new_id()}; Max-Age={MAX_AGE}; Path=/; HttpOnly; SameSite=Lax").encode()

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header)]}
            await send(message)

        return await self.app(scope, receive, send_with_cookie)


def _cookie(scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == COOKIE:
                    return val
    return None


def _valid(value) -> bool:
    return isinstance(value, str) and _VALID.fullmatch(value) is not None  # AppTest's context gives a mock


def student_id() -> tuple[str, bool]:
    """This browser's id, and whether it comes from the browser's cookie (False: this session's own id)."""
    import streamlit as st

    try:
        cookie = st.context.cookies.get(COOKIE)
    except Exception:  # no request behind this run (AppTest)
        cookie = None
    if _valid(cookie):
        return cookie, True
    return st.session_state.setdefault("_student_id", new_id()), False
