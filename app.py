"""mixviz web app: page config, navigation over views/ and the sidebar every page shares.

Each page is a function, views/<page>.render(). The pages live in views/, not "pages/": that name makes
streamlit run a page without app.py on a fresh server."""
import os

# Before torch is imported (it reads this at its first allocation): tensors of 2 MB and more on transparent huge
# pages, one page fault per 2 MB instead of 512. A λ sweep writes about 60 MB of fresh frames, and on these
# machines its page faults cost more than its arithmetic (bench/live.py: mixup's sweep 58 → 24 ms).
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import streamlit as st  # noqa: E402

from mixviz.threads import torch_threads  # noqa: E402
from ui import links  # noqa: E402
from ui.errors import errors_shown  # noqa: E402
from ui.sidebar import sidebar  # noqa: E402
from views import cam_explorer, gallery, lecture, mixing_lab, poll, saliency, theory  # noqa: E402
from views import tta  # noqa: E402
from views import texture  # noqa: E402

RECONNECT_RUN_EVERY = 600  # seconds


@st.fragment(run_every=RECONNECT_RUN_EVERY)
def rerun_on_reconnect() -> None:
    """Draws nothing and runs every ten minutes; being on the page makes the page ask for a whole script run when
    it reconnects its websocket (Streamlit 1.67's page does so only for a page with a `run_every` fragment, or a
    run in progress). Behind nginx (deploy/), a replica's death moves its students to another replica, into a new
    session there: with this their view comes back from the address at once, not on their next reload
    (tests/e2e/test_replicas.py)."""


student = poll.is_student_view()  # a join link, likely on a phone: the poll alone, no navigation, no sidebar
st.set_page_config(page_title="mixviz: image-mixing augmentation", page_icon=":material/science:",
                   layout="centered" if student else "wide",
                   # only a student's page sets the sidebar here: a page that sets its own (the Lecture page's closed
                   # sidebar) must not meet an "auto" the browser may already have applied when its own arrives
                   **({"initial_sidebar_state": "collapsed"} if student else {}))
page = st.navigation([  # url paths as the pages had them as files: links and the browser tests open them by URL
    st.Page(mixing_lab.render, title="Mixing Lab", icon=":material/science:", url_path="mixing_lab", default=True),
    st.Page(lecture.render, title="Lecture", icon=":material/co_present:", url_path="lecture"),
    st.Page(gallery.render, title="Gallery", icon=":material/grid_view:", url_path="gallery"),
    st.Page(cam_explorer.render, title="CAM Explorer", icon=":material/local_fire_department:", url_path="cam_explorer"),
    st.Page(saliency.render, title="Saliency", icon=":material/visibility:", url_path="saliency"),
    st.Page(theory.render, title="Theory", icon=":material/functions:", url_path="theory"),
    st.Page(texture.render, title="Texture & style", icon=":material/texture:", url_path="texture"),
    st.Page(tta.render, title="Test-time augmentation", icon=":material/crop:", url_path="tta"),
    poll.page(),
], position="hidden" if student else "sidebar")
if student and page.url_path == poll.page().url_path:
    with errors_shown(page.title):
        page.run()
    st.stop()
with torch_threads(1):  # for this run; the model's forward pass takes every core (ui/models.py)
    links.restore()  # a link's controls, before the sidebar draws its own
    st.session_state["_inputs"] = sidebar()
    with st.sidebar:
        rerun_on_reconnect()
    links.show_problems()
    with errors_shown(page.title):  # each section has its own boundary; this one catches what a page does between them
        page.run()
