"""mixviz web app: page config, navigation over views/ and the sidebar every page shares.

Each page is a function, views/<page>.render(). The pages live in views/, not "pages/": that name makes
streamlit run a page without app.py on a fresh server."""
import streamlit as st

from mixviz.threads import torch_threads
from ui import links
from ui.errors import errors_shown
from ui.sidebar import sidebar
from views import cam_explorer, gallery, mixing_lab, saliency, theory

st.set_page_config(page_title="mixviz: image-mixing augmentation", page_icon=":material/science:", layout="wide")
page = st.navigation([  # url paths as the pages had them as files: links and the browser tests open them by URL
    st.Page(mixing_lab.render, title="Mixing Lab", icon=":material/science:", url_path="mixing_lab", default=True),
    st.Page(gallery.render, title="Gallery", icon=":material/grid_view:", url_path="gallery"),
    st.Page(cam_explorer.render, title="CAM Explorer", icon=":material/local_fire_department:", url_path="cam_explorer"),
    st.Page(saliency.render, title="Saliency", icon=":material/visibility:", url_path="saliency"),
    st.Page(theory.render, title="Theory", icon=":material/functions:", url_path="theory"),
])
with torch_threads(1):  # for this run; the model's forward pass takes every core (ui/models.py)
    links.restore()  # a link's controls, before the sidebar draws its own
    st.session_state["_inputs"] = sidebar()
    links.show_problems()
    with errors_shown(page.title):  # each section has its own boundary; this one catches what a page does between them
        page.run()
