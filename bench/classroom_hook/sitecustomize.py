"""The server's own clock for bench/classroom.py --validate: started with this folder on PYTHONPATH and
CLASSROOM_HOOK_LOG naming a file, the app's server writes a line to that file when a websocket connection
learns its session, receives a message from its page, sends a script_finished or an upload's file URLs, and
answers a request for a media file or an upload's PUT:

    <time.monotonic()> <connection> session <session id>
    <time.monotonic()> <connection> in <BackMsg type>
    <time.monotonic()> <connection> finished <ScriptFinishedStatus>
    <time.monotonic()> <connection> urls <request id>       (a file_urls_response, for an upload)
    <time.monotonic()> http <method> <path> <time.monotonic() when answered>   (a media file, an upload's PUT)

time.monotonic() is CLOCK_MONOTONIC, the clock of Chromium's DevTools timestamps on Linux, so the browser's
network events and these lines can be set side by side. Without CLASSROOM_HOOK_LOG it does nothing. (Python
imports `sitecustomize` at startup; nothing else named so is on this project's path.)"""
import os
import time


def _install(path: str) -> None:
    from starlette.websockets import WebSocket

    log = open(path, "a", buffering=1, encoding="utf-8")
    known: set[int] = set()
    send, receive = WebSocket.send_bytes, WebSocket.receive_bytes

    async def send_bytes(self, data):
        await send(self, data)
        now = time.monotonic()
        if id(self) in known and len(data) > 1000:
            return  # a delta, not a script_finished or file_urls_response: not parsed, to cost the server little
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            msg = ForwardMsg.FromString(data)
        except Exception:  # noqa: BLE001 - not ours to judge
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session" and msg.new_session.initialize.session_id:
            known.add(id(self))
            log.write(f"{now:.6f} {id(self)} session {msg.new_session.initialize.session_id}\n")
        elif kind == "script_finished":
            log.write(f"{now:.6f} {id(self)} finished {ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)}\n")
        elif kind == "file_urls_response":
            log.write(f"{now:.6f} {id(self)} urls {msg.file_urls_response.response_id}\n")

    async def receive_bytes(self):
        data = await receive(self)
        from streamlit.proto.BackMsg_pb2 import BackMsg

        try:
            kind = BackMsg.FromString(data).WhichOneof("type")
        except Exception:  # noqa: BLE001
            kind = "?"
        log.write(f"{time.monotonic():.6f} {id(self)} in {kind}\n")
        return data

    WebSocket.send_bytes, WebSocket.receive_bytes = send_bytes, receive_bytes

    from starlette.applications import Starlette

    call = Starlette.__call__

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith("/media/") or path.startswith("/_stcore/upload_file/")):
            return await call(self, scope, receive, send)
        start = time.monotonic()
        try:
            return await call(self, scope, receive, send)
        finally:
            log.write(f"{start:.6f} http {scope['method']} {path} {time.monotonic():.6f}\n")

    Starlette.__call__ = __call__


if os.environ.get("CLASSROOM_HOOK_LOG"):
    try:
        _install(os.environ["CLASSROOM_HOOK_LOG"])
    except ImportError:  # starlette missing: a server that is not this app's
        pass
