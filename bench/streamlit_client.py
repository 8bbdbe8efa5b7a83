"""Streamlit's own protocol, spoken as its frontend speaks it: one `Student` is one browser tab's worth of it (a
websocket session, its element tree, its widgets' states), and `timed` times one action at the server's side.
bench/classroom.py (a class at once) and tests/test_classroom.py, tests/test_warm.py and
tests/test_sessions_memory.py use it; bench/classroom.py's docstring says what each step does and why."""
from __future__ import annotations

import asyncio
import io
import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 120.0  # seconds a run may take before it counts as an error (a cold page under load takes tens)
HTTP_TIMEOUT = 60.0
PHOTOS = ROOT / "assets" / "photos"


def proto():
    """Streamlit's protobuf messages, from the installed package (imported on first use)."""
    from streamlit.proto import BackMsg_pb2, Common_pb2, ForwardMsg_pb2, WidgetStates_pb2

    return BackMsg_pb2, Common_pb2, ForwardMsg_pb2, WidgetStates_pb2


# -------------------------------------------------------------------------------------------- the protocol

def widget_key(element_id: str) -> str | None:
    """The user key at the end of a widget's id ("$$ID-<32 hex>-lab_lam" -> "lab_lam"), None without one."""
    if not element_id.startswith("$$ID-"):
        return None
    parts = element_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] else None


def element_id(kind: str | None, el) -> str | None:
    """A widget element's id ("$$ID-…"), None for other elements and blocks."""
    if el is None or kind in (None, "block"):
        return None
    wid = getattr(el, "id", None)
    return wid if isinstance(wid, str) and wid.startswith("$$ID-") else None


def initial_state(kind: str, el):
    """The WidgetState the frontend keeps for a widget element when it is drawn: the value the server set
    (set_value) or the default; None for widgets without a value (buttons, downloads, uploaders, components).
    `kind` is the element's type in Element's oneof."""
    _, _, _, ws = proto()
    s = ws.WidgetState(id=el.id)
    if kind == "checkbox":
        s.bool_value = el.value if el.set_value else el.default
    elif kind in ("selectbox", "radio"):
        if el.set_value and el.HasField("raw_value"):
            s.string_value = el.raw_value
        elif el.HasField("default") and 0 <= el.default < len(el.options):
            s.string_value = el.options[el.default]
        else:
            return None
    elif kind == "multiselect":  # the chosen options' texts
        s.string_array_value.data.extend(el.raw_values if el.set_value else [el.options[i] for i in el.default])
    elif kind == "slider" and el.type == el.Type.SELECT_SLIDER:  # its options' texts, as the frontend sends them
        if el.set_value and el.raw_value:
            s.string_array_value.data.extend(el.raw_value)
        else:
            s.string_array_value.data.extend(el.options[int(i)] for i in (el.value if el.set_value else el.default))
    elif kind == "slider":
        s.double_array_value.data.extend(el.value if el.set_value else el.default)
    elif kind == "number_input":
        value = el.value if el.set_value and el.HasField("value") else el.default if el.HasField("default") else None
        if value is None:
            return None
        if el.data_type == el.DataType.INT:
            s.int_value = int(value)
        else:
            s.double_value = value
    elif kind in ("text_input", "text_area"):
        value = el.value if el.set_value and el.HasField("value") else el.default if el.HasField("default") else None
        if value is None:
            return None
        s.string_value = value
    else:  # buttons and downloads (triggers), uploaders (their files), components, a data editor (its edits)
        return None
    return s


@dataclass
class Run:
    """One run the student asked for: when its rerun_script left, when it finished, what it cost; for an upload,
    its request for file URLs (sent, answered) and its PUT (sent, done) before it."""

    start: float
    finished: float | None = None
    urls: tuple | None = None
    extra: list = field(default_factory=list)
    status: str = ""
    messages: int = 0
    bytes: int = 0
    media: list = field(default_factory=list)  # asyncio tasks, each returning (start, end, bytes, status, URL)


@dataclass
class Action:
    kind: str
    student: int
    at: float  # seconds since the class began
    server_s: float | None = None  # first message sent -> every run finished and its media fetched
    finished_s: float | None = None  # the same up to script_finished only
    runs: int = 0
    media: int = 0
    media_kb: float = 0.0
    messages: int = 0
    kb_in: float = 0.0
    error: str | None = None
    detail: tuple = ()
    session: str = ""
    interrupted: bool = False  # its replica died under it (a class through nginx with --kill-at)
    since_lost: float | None = None  # a reconnect: seconds from the websocket's close to the page drawn again
    # per run: (rerun_script sent, script_finished, [(start, end) of each media request and PUT], an upload's
    # (file_urls_request sent, file_urls_response) or None)
    spans: list = field(default_factory=list)


class StudentError(Exception):
    pass


class Student:
    """One browser tab's worth of protocol: a websocket session, its element tree, its widgets' states."""

    def __init__(self, base: str, index: int, pool: ThreadPoolExecutor, timeout: float = RUN_TIMEOUT):
        import requests

        self.base, self.index, self.pool, self.timeout = base.rstrip("/"), index, pool, timeout
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.http = requests.Session()
        self.http.headers["User-Agent"] = "mixviz-classroom"
        # a browser sends a request again, once, when a kept-alive connection it reused turns out closed by the
        # server (uvicorn closes idle ones after 5 s, and a busy server may close one just as it is reused): so does this
        self.http.mount("http://", HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0, other=0,
                                                                 allowed_methods=frozenset({"GET", "PUT"}),
                                                                 raise_on_status=False)))
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.session_id = ""
        self.page_hash = ""  # the current page's script hash
        self.page_path = "mixing_lab"
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.query = ""
        self.tree: dict[tuple, tuple[str, object, str]] = {}  # delta path -> (type, element or block, fragment id)
        self.seen: set[tuple] = set()
        self.states: dict[str, object] = {}  # widget id -> WidgetState, in the order the frontend made them
        self.fetched: set[str] = set()  # image URLs this page has loaded
        self.component_urls: dict[str, str] = {}  # custom component id -> the sweep file it shows
        self.cache: dict[str, list] = {}  # hash -> [encoded ForwardMsg, run count when last used, fragment id]
        self.run_count, self.max_age = 0, 2
        self.run: Run | None = None
        self.done: asyncio.Future | None = None
        self.file_urls: dict[str, asyncio.Future] = {}
        self.uploaded: list = []  # UploadedFileInfo of the uploader's files
        self.closing = False
        self.busy = asyncio.Lock()  # one run at a time: an action's, or a fragment's timed rerun (run_every)
        self.auto: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, its timer)
        self.auto_reruns = 0
        self.background: list[str] = []  # errors met outside the actions (in timed reruns)
        self.chosen: str | None = None  # the method a method switch chose (the plan picks it once the family shows)
        self.texts: list[str] = []  # markdown bodies of the last runs (tests read the label line)
        self.problems: list[str] = []  # errors met in the deltas or on the socket, since the last action began
        self.lost: asyncio.Event | None = None  # set when the server closed the websocket (its replica died)
        self.lost_at = 0.0
        self.key = ""  # the affinity cookie nginx gave this tab (deploy/nginx), "" without nginx

    # ------------------------------------------------------------------ connection

    def _get(self, url: str) -> tuple[float, int, int]:
        """GET a path of the app (or a full URL): when it ended, its size, its status."""
        response = self.http.get(url if url.startswith("http") else self.base + url, timeout=HTTP_TIMEOUT)
        body = response.content
        return time.perf_counter(), len(body), response.status_code

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        loop = asyncio.get_running_loop()
        for path in ("/_stcore/health", "/_stcore/host-config"):  # the frontend's pings; they set the XSRF cookie
            _, _, code = await loop.run_in_executor(self.pool, self._get, path)
            if code != 200:
                raise StudentError(f"GET {path} answered {code}")
        xsrf = self.http.cookies.get("_streamlit_xsrf")
        split = urlsplit(self.base)
        ws_url = ("wss" if split.scheme == "https" else "ws") + f"://{split.netloc}{split.path}/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())  # nginx's affinity cookie too
        self.key = self.http.cookies.get("mixviz_affinity", "")
        self.ws = await connect(ws_url, subprotocols=["streamlit", xsrf or "PLACEHOLDER_AUTH_TOKEN"],
                                origin=f"{split.scheme}://{split.netloc}", additional_headers={"Cookie": cookie},
                                max_size=None, open_timeout=HTTP_TIMEOUT, ping_interval=None)
        self.lost = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def reconnect(self, give_up: float = 30.0) -> list[Run]:
        """What the frontend does when the server closes its websocket (behind nginx: the replica died): ping the
        server until one answers (nginx sends the tab's requests to the next replica), open a new websocket, and
        ask the new session for a whole run with every widget's state, the page and the address. (Streamlit
        1.67's page asks for that run on reconnecting because app.py has a run_every fragment; the browser's
        first retry waits about half a second, this one none.)"""
        self._stop_auto(list(self.auto))
        deadline = time.perf_counter() + give_up
        while True:
            try:
                await self.connect()
                break
            except Exception as e:  # noqa: BLE001 - refused, 502 from nginx, a websocket refused: try again
                if time.perf_counter() > deadline:
                    raise StudentError(f"no server took the page back within {give_up:.0f} s: {e}") from None
                await asyncio.sleep(0.25)
        return [await self._rerun()]

    async def close(self) -> None:
        self.closing = True
        self._stop_auto(list(self.auto))
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
        self.http.close()

    # ------------------------------------------------------------------ receiving

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        _, _, fm, _ = proto()
        try:
            async for raw in self.ws:
                msg = fm.ForwardMsg.FromString(raw)
                if self.run is not None and self.run.finished is None:
                    self.run.messages += 1
                    self.run.bytes += len(raw)
                self._handle(self._uncache(msg, raw))
        except ConnectionClosed as e:
            if not self.closing:
                self._problem(f"websocket closed: code {e.rcvd.code if e.rcvd else None}"
                              f" {e.rcvd.reason if e.rcvd else ''}".strip())
        except Exception as e:  # noqa: BLE001 - a message this client cannot read is an error to report
            self._problem(f"reading the socket: {type(e).__name__}: {e}")
        finally:
            if not self.closing:
                self.lost_at = time.perf_counter()
                self.lost.set()
                self._stop_auto(list(self.auto))
            if self.done is not None and not self.done.done():
                self.done.set_exception(StudentError("the websocket closed during a run"))
            for f in self.file_urls.values():
                if not f.done():
                    f.set_exception(StudentError("the websocket closed during an upload"))

    def _problem(self, text: str) -> None:
        self.problems.append(text)

    def _uncache(self, msg, raw: bytes):
        """The frontend's ForwardMessageCache: keep cacheable messages by hash; a `ref_hash` names one kept."""
        _, _, fm, _ = proto()
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            held = self.cache.get(msg.ref_hash)
            if held is None:
                self._problem(f"ref_hash {msg.ref_hash} not in this client's cache")
                return msg
            held[1] = self.run_count
            full = fm.ForwardMsg.FromString(held[0])
            full.metadata.CopyFrom(msg.metadata)
            return full
        if msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
            self.cache[msg.hash] = [raw, self.run_count, msg.delta.fragment_id if kind == "delta" else ""]
        return msg

    def _handle(self, msg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            ns = msg.new_session
            if ns.initialize.session_id:
                self.session_id = ns.initialize.session_id
            if ns.config.max_cached_message_age:
                self.max_age = ns.config.max_cached_message_age
            if ns.page_script_hash:
                self.page_hash = ns.page_script_hash
        elif kind == "navigation":
            nav = msg.navigation
            for p in nav.app_pages:
                self.pages[p.url_pathname or "mixing_lab"] = p.page_script_hash
            if nav.page_script_hash:
                self.page_hash = nav.page_script_hash
                self.page_path = next((k for k, v in self.pages.items() if v == nav.page_script_hash), self.page_path)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            self._problem(f"page not found: {msg.page_not_found.page_name}")
        elif kind == "delta":
            self._delta(msg)
        elif kind == "file_urls_response":
            r = msg.file_urls_response
            f = self.file_urls.pop(r.response_id, None)
            if f is not None and not f.done():
                f.set_result(r)
        elif kind == "script_finished":
            self._finished(msg)
        elif kind == "auto_rerun":
            self._auto(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            self._stop_auto(list(msg.stop_auto_rerun.fragment_ids))

    def _auto(self, fragment_id: str, interval: float) -> None:
        """A fragment with run_every: the frontend reruns it every `interval` seconds (a timer per fragment, kept
        while the interval stays the same; a page switch clears them), with is_auto_rerun."""
        held = self.auto.get(fragment_id)
        if not fragment_id or interval <= 0 or (held and held[0] == interval):
            return
        self._stop_auto([fragment_id])

        async def every() -> None:
            while not self.closing:
                await asyncio.sleep(interval)
                async with self.busy:
                    if self.closing:
                        return
                    self.problems = []
                    try:
                        await self._rerun(fragment_id=fragment_id, auto=True)
                        self.auto_reruns += 1
                    except StudentError as e:
                        self._problem(str(e))
                    self.background += [f"timed rerun of fragment {fragment_id}: {p}" for p in self.problems]
                    self.problems = []

        self.auto[fragment_id] = (interval, asyncio.get_running_loop().create_task(every()))

    def _stop_auto(self, fragment_ids: list[str]) -> None:
        for f in fragment_ids:
            held = self.auto.pop(f, None)
            if held:
                held[1].cancel()

    def _delta(self, msg) -> None:
        d = msg.delta
        path = tuple(msg.metadata.delta_path)
        what = d.WhichOneof("type")
        if what == "new_element":
            el = d.new_element
            t = el.WhichOneof("type")
            self.tree[path] = (t, getattr(el, t) if t else None, d.fragment_id)
            self.seen.add(path)
            if t is None:
                return
            sub = getattr(el, t)
            if t == "exception":
                self._problem(f"exception on the page: {sub.type}: {sub.message[:200]}")
            elif t == "alert" and sub.format == sub.Format.ERROR:
                self._problem(f"error alert: {sub.body[:200]}")
            elif t == "imgs":
                for img in sub.imgs:
                    self._image(img.url)
            elif t == "bidi_component":
                self._component(sub)
            elif t == "markdown":
                self.texts.append(sub.body)
        elif what == "add_block":
            self.tree[path] = ("block", d.add_block, d.fragment_id)
            self.seen.add(path)
        # new_transient (spinners) and the rest change nothing this client keeps

    def _image(self, url: str) -> None:
        if url and url not in self.fetched and (url.startswith("/media/") or url.startswith(self.base)):
            self.fetched.add(url)
            self._fetch(url)

    def _component(self, c) -> None:
        """The live scrubber fetches its sweep file whenever its data names another one (ui/scrubber/scrubber.js)."""
        if not c.HasField("json"):
            return
        try:
            data = json.loads(c.json)
            if isinstance(data, str):  # the app sends its data as one JSON string, which the JS parses again
                data = json.loads(data)
            url = data.get("url")
        except (ValueError, AttributeError):
            self._problem(f"component {c.component_name}: data is not JSON")
            return
        if url and self.component_urls.get(c.id) != url:
            self.component_urls[c.id] = url
            self._fetch(url)

    def _fetch(self, url: str) -> None:
        full = url if url.startswith("http") else self.base + url
        loop = asyncio.get_running_loop()
        task = loop.run_in_executor(self.pool, self._get_media, full, time.perf_counter())
        if self.run is not None:
            self.run.media.append(task)

    def _get_media(self, url: str, start: float) -> tuple[float, float, int, int, str]:
        try:
            end, size, code = self._get(url)
        except Exception as e:  # noqa: BLE001 - a failed fetch is an error of the action that asked for it
            return start, time.perf_counter(), 0, 0, f"{url}: {type(e).__name__}: {e}"
        return start, end, size, code, url

    def _finished(self, msg) -> None:
        _, _, fm, _ = proto()
        status = msg.script_finished
        name = fm.ForwardMsg.ScriptFinishedStatus.Name(status)
        if status == fm.ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            return  # another run follows: the frontend keeps its elements
        if status == fm.ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
            self._problem("the script did not compile")
        fragments = set(msg.metadata.run.fragment_ids)
        if status == fm.ForwardMsg.FINISHED_SUCCESSFULLY:
            stale = [p for p in self.tree if p not in self.seen]
        else:  # a fragment's run replaces that fragment's elements only
            stale = [p for p, (_, _, frag) in self.tree.items() if frag in fragments and p not in self.seen]
        for p in stale:
            t, el, _ = self.tree.pop(p)
            if t == "bidi_component":
                self.component_urls.pop(el.id, None)  # mounted again, it fetches its file again
        self._widgets()
        self.run_count += 1  # the frontend's cache ages its messages by runs
        for h, (_, used, frag) in list(self.cache.items()):
            if fragments and (not frag or frag not in fragments):
                continue
            if self.run_count - used > self.max_age:
                del self.cache[h]
        if self.run is not None and self.run.finished is None:
            self.run.finished, self.run.status = time.perf_counter(), name
        if self.done is not None and not self.done.done():
            self.done.set_result(name)

    def _widgets(self) -> None:
        """The widget states the frontend holds after a run: those of the widgets drawn now."""
        active = {}
        for t, el, frag in self.tree.values():
            if element_id(t, el):
                active[el.id] = (t, el, frag)
        for wid in [w for w in self.states if w not in active]:
            del self.states[wid]
        for wid, (t, el, _) in active.items():
            if t == "file_uploader":  # its state is the files this client uploaded (upload()); none at first
                if wid not in self.states:
                    self.states[wid] = proto()[3].WidgetState(id=wid)
                    self.states[wid].file_uploader_state_value.SetInParent()
                continue
            if getattr(el, "set_value", False) or wid not in self.states:
                s = initial_state(t, el)
                if s is not None:
                    self.states[wid] = s

    # ------------------------------------------------------------------ what the page shows

    def widget(self, key: str):
        """(type, element, fragment id) of the widget drawn with `key` now, or None."""
        for t, el, frag in self.tree.values():
            wid = element_id(t, el)
            if wid and widget_key(wid) == key:
                return t, el, frag
        return None

    def view(self) -> tuple:
        """What the page shows, in short: its page, its address, its label lines (the Mixing Lab's "Label: …"; on
        another page such a line can only be a stale element of the lab's fragment, which a heavily loaded run
        was once seen to leave in this tree past a page switch, so it is not part of that page's view)."""
        labels = tuple(t for t in self.markdown() if t.startswith("Label")) if self.page_path == "mixing_lab" else ()
        return self.page_path, self.query, labels

    def markdown(self) -> list[str]:
        """The markdown bodies drawn now, in delta-path order."""
        return [el.body for p, (t, el, _) in sorted(self.tree.items()) if t == "markdown"]

    # ------------------------------------------------------------------ sending

    async def _send(self, back) -> None:
        await self.ws.send(back.SerializeToString())

    def _client_state(self, cs, fragment_id: str = "", page_hash: str | None = None, page_name: str = "",
                      query: str | None = None, states=None, auto: bool = False) -> None:
        _, _, _, ws = proto()
        cs.query_string = self.query if query is None else query
        cs.page_script_hash = self.page_hash if page_hash is None else page_hash
        cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.widget_states.CopyFrom(ws.WidgetStates(widgets=list(self.states.values()) if states is None else states))
        cs.cached_message_hashes.extend(self.cache)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        ci.url, ci.is_embedded, ci.color_scheme = f"{self.base}/{page_name}", False, "light"

    async def _rerun(self, before: Run | None = None, **kw) -> Run:
        """Send a rerun_script and wait for its script_finished; the run's media are fetched meanwhile. `before`:
        what the action did before this run (an upload's file URLs and PUT)."""
        bm, _, _, _ = proto()
        back = bm.BackMsg()
        self._client_state(back.rerun_script, **kw)
        self.seen = set()
        self.run = before or Run(0.0)
        self.run.start = time.perf_counter()
        self.done = asyncio.get_running_loop().create_future()
        await self._send(back)
        try:
            await asyncio.wait_for(asyncio.shield(self.done), self.timeout)
        except asyncio.TimeoutError:
            raise StudentError(f"no script_finished within {self.timeout:.0f} s") from None
        return self.run

    async def change(self, key: str, before: Run | None = None, **value) -> Run:
        """Set the widget `key` (one WidgetState field: bool_value=…, string_value=…, double_array_value=[…],
        string_array_value=[…] (a segmented control's option texts), trigger_value=True) and rerun, as the frontend
        does when a person changes it."""
        _, _, _, ws = proto()
        found = self.widget(key)
        if found is None:
            raise StudentError(f"no widget {key!r} on this page")
        _, el, frag = found
        s = ws.WidgetState(id=el.id)
        (name, v), = value.items()
        if name in ("double_array_value", "string_array_value"):
            getattr(s, name).data.extend(v)
        else:
            setattr(s, name, v)
        if name == "trigger_value":  # sent once, then forgotten
            states = [st for wid, st in self.states.items() if wid != el.id] + [s]
            return await self._rerun(before, fragment_id=frag, states=states)
        self.states[el.id] = s
        return await self._rerun(before, fragment_id=frag)

    # ------------------------------------------------------------------ actions

    async def open(self, path: str = "", query: str = "") -> list[Run]:
        await self.connect()
        self.query = query
        return [await self._rerun(page_hash="", page_name="" if path == "mixing_lab" else path, query=query)]

    async def go(self, path: str) -> list[Run]:
        """Another page, as the sidebar's link does: the sidebar's widget states, the page's script hash."""
        target = self.pages.get(path)
        if target is None:
            raise StudentError(f"no page {path!r} in the navigation ({', '.join(self.pages)})")
        sidebar = {element_id(t, el) for p, (t, el, _) in self.tree.items() if p and p[0] == 1} - {None}
        states = [s for wid, s in self.states.items() if wid in sidebar]
        self._stop_auto(list(self.auto))  # the frontend clears its timed reruns on a page switch
        self.query = ""  # the address of the new page (a page that publishes its controls sets it again)
        return [await self._rerun(page_hash=target, states=states)]

    async def select(self, key: str, option: str) -> list[Run]:
        _, el, _ = self.widget(key) or (None, None, None)
        if el is None:
            raise StudentError(f"no widget {key!r} on this page")
        if option not in el.options:
            raise StudentError(f"{key!r} has no option {option!r}")
        return [await self.change(key, string_value=option)]

    async def method(self, family: str, title: str) -> list[Run]:
        runs = []
        if self.current("lab_family") != family:
            runs += await self.select("lab_family", family)
        if self.current("lab_method") != title:
            runs += await self.select("lab_method", title)
        return runs

    def current(self, key: str):
        """The value the frontend holds for widget `key` (string, bool, number or list), None if none."""
        found = self.widget(key)
        s = found and self.states.get(found[1].id)
        if not s:
            return None
        which = s.WhichOneof("value")
        v = getattr(s, which)
        return list(v.data) if which == "double_array_value" else v

    async def upload(self, name: str, data: bytes) -> list[Run]:
        """A photo into the sidebar's uploader, as the frontend sends it (FileUploadClient)."""
        bm, common, _, ws = proto()
        found = self.widget("uploads")
        if found is None:
            raise StudentError("no uploader on this page")
        _, el, frag = found
        start = time.perf_counter()
        request = uuid.uuid4().hex
        future = self.file_urls[request] = asyncio.get_running_loop().create_future()
        back = bm.BackMsg()
        back.file_urls_request.request_id = request
        back.file_urls_request.file_names.append(name)
        back.file_urls_request.session_id = self.session_id
        await self._send(back)
        response = await asyncio.wait_for(future, self.timeout)
        before = Run(0.0, urls=(start, time.perf_counter()))
        if response.error_msg or not response.file_urls:
            raise StudentError(f"file URLs refused: {response.error_msg}")
        urls = response.file_urls[0]
        put = time.perf_counter()
        code = await asyncio.get_running_loop().run_in_executor(self.pool, self._put, urls.upload_url, name, data)
        before.extra.append((put, time.perf_counter(), urlsplit(urls.upload_url).path))
        if code not in (200, 204):
            raise StudentError(f"upload PUT answered {code}")
        self.uploaded.append(common.UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls))
        state = ws.WidgetState(id=el.id)
        state.file_uploader_state_value.uploaded_file_info.extend(self.uploaded)
        self.states[el.id] = state
        return [await self._rerun(before, fragment_id=frag)]

    def _put(self, url: str, name: str, data: bytes) -> int:
        full = url if url.startswith("http") else self.base + url
        token = self.http.cookies.get("_streamlit_xsrf", "")
        r = self.http.put(full, files={name: (name, data, "image/jpeg")}, headers={"X-Xsrftoken": token},
                          timeout=HTTP_TIMEOUT)
        return r.status_code

    async def do(self, step: tuple) -> list[Run]:
        """One concrete action (see `Plan`): ("lam", value), ("method", family, title), ("reroll",),
        ("page", path), ("lecture", "next") or ("lecture", "step", option), ("upload", name, seed)."""
        kind = step[0]
        if kind == "lam":
            return [await self.change("lab_lam", double_array_value=[step[1]])]
        if kind == "method":
            return await self.method(step[1], step[2])
        if kind == "reroll":
            return [await self.change("lab_reroll", trigger_value=True)]
        if kind == "page":
            return await self.go(step[1])
        if kind == "lecture":
            if step[1] == "next":
                return [await self.change("lec_next", trigger_value=True)]
            return await self.select("lec_step", step[2])
        if kind == "upload":
            return await self.upload(step[1], photo(step[2]))
        raise ValueError(f"unknown action {step!r}")


def covered(intervals: list[tuple]) -> float:
    """The length of the union of intervals (start, end, anything else)."""
    total, reach = 0.0, None
    for start, end, *_ in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


async def timed(student: Student, kind: str, act, at: float, detail: tuple = ()) -> Action:
    """Run `act()` (a coroutine giving the runs it asked for) and time it: per run, the time the server had
    the action's work in hand, from the first message sent to script_finished and every media request the run
    caused (sent → last byte), their union; summed over the runs."""
    a = Action(kind, student.index, at, detail=detail)
    await student.busy.acquire()  # not while a timed fragment rerun (run_every) is running
    student.problems = []
    try:
        runs = await act()
        total, finished = 0.0, 0.0
        for r in runs:
            got = await asyncio.gather(*r.media)
            requests = [(g[0], g[1], urlsplit(g[4]).path) for g in got] + r.extra
            a.spans.append((r.start, r.finished, requests, r.urls))
            total += covered([(r.start, r.finished)] + requests + [r.urls] * bool(r.urls))
            finished += r.finished - r.start
            a.media += len(got)
            a.media_kb += sum(g[2] for g in got) / 1000
            # A run the action's next run replaced: the server drops its pictures once the next run has finished
            # (Streamlit's orphaned media), so a fetch of one that was still queued then meets 404, as a browser's
            # would, which no longer shows that picture either. Not an error; any other failure is.
            superseded = r is not runs[-1]
            bad = [f"media {g[4]} answered {g[3]}" for g in got if g[3] != 200 and not (superseded and g[3] == 404)]
            student.problems += bad
            a.messages += r.messages
            a.kb_in += r.bytes / 1000
        a.server_s, a.finished_s, a.runs = total, finished, len(runs)
    except (StudentError, asyncio.TimeoutError, OSError) as e:
        a.error = f"{type(e).__name__}: {e}"
    except Exception as e:  # noqa: BLE001 - the websocket library's errors and the like: reported, not raised
        a.error = f"{type(e).__name__}: {e}"
    finally:
        student.busy.release()
    if student.problems and a.error is None:
        a.error = "; ".join(dict.fromkeys(student.problems))
    student.problems = []
    a.session = student.session_id
    return a


def photo(seed: int) -> bytes:
    """A new upload: a random crop of a bundled photo (its bytes, and so its cache key, new for each seed)."""
    from PIL import Image

    rng = random.Random(seed)
    path = rng.choice(sorted(PHOTOS.glob("*.jpg")))
    with Image.open(path) as img:
        img = img.convert("RGB")
        w, h = img.size
        cw, ch = int(w * rng.uniform(0.6, 0.95)), int(h * rng.uniform(0.6, 0.95))
        x, y = rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
        buf = io.BytesIO()
        img.crop((x, y, x + cw, y + ch)).save(buf, format="JPEG", quality=88)
    return buf.getvalue()
