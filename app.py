"""mixviz web app: page config, navigation over views/ and the sidebar every page shares.

The pages live in views/, not "pages/": that name makes streamlit run a page without app.py on a fresh server."""
import streamlit as st

from ui.sidebar import sidebar
from mixviz.threads import torch_threads

st.set_page_config(page_title="mixviz: image-mixing augmentation", page_icon=":material/science:", layout="wide")
page = st.navigation([
    st.Page("views/mixing_lab.py", title="Mixing Lab", icon=":material/science:", default=True),
    st.Page("views/gallery.py", title="Gallery", icon=":material/grid_view:"),
    st.Page("views/cam_explorer.py", title="CAM Explorer", icon=":material/local_fire_department:"),
    st.Page("views/saliency.py", title="Saliency", icon=":material/visibility:"),
    st.Page("views/theory.py", title="Theory", icon=":material/functions:"),
])
with torch_threads(1):  # for this run; the model's forward pass takes every core (ui/store.py)
    st.session_state["_inputs"] = sidebar()
    page.run()
