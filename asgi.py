"""The app as a server: app.py served by `st.App`, warmed before it takes its first connection.

    streamlit run asgi.py [--server.port 8501 ...]       (what `bash run.sh app`, the image and the tests run)

Before the server listens, the lifespan below loads the serving model and runs the default page once in
Streamlit's own script check (a session with no browser): the model, the default photos' tensors and the
Mixing Lab's live sweep land in the process-wide caches (st.cache_resource). Until then nothing answers on the
port, /_stcore/health included, so a load balancer's or Kubernetes' health check sends no student to a cold
replica (deploy/), and the first student of a lecture gets the page a warm server gives.

It also makes closed sessions give their memory back once their time to reconnect is up (ui/sessions.py), and gives
every browser an anonymous id for the class polls (ui/student_id.py)."""
import asyncio
import sys
import time
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from ui.student_id import StudentCookie


@asynccontextmanager
async def warm(app: st.App):
    """Load the model, then run the default page once; refuse to serve if that page fails. While serving,
    reap the sessions whose time to reconnect is up."""
    from ui.models import model  # after Streamlit's runtime exists: its caches are the ones the sessions use
    from ui.sessions import fewer_arenas, shut_down_expired

    fewer_arenas()
    start = time.perf_counter()
    name = model().name
    loaded = time.perf_counter()
    ok, message = await app._runtime.does_script_run_without_error()  # the one door to Streamlit's own check
    if not ok:
        raise RuntimeError(f"the default page failed while the server warmed up ({message}); its traceback is above")
    print(f"mixviz warm: {name} loaded in {loaded - start:.1f} s, the default page ran in "
          f"{time.perf_counter() - loaded:.1f} s; now serving", file=sys.stderr, flush=True)
    reaper = asyncio.create_task(shut_down_expired(app._runtime))
    try:
        yield
    finally:
        reaper.cancel()


app = st.App("app.py", lifespan=warm, middleware=[Middleware(StudentCookie)])
